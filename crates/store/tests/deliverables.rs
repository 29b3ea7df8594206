//! The deliverables of an engagement as stored: submission freezes a
//! version built from the ledger, incomplete content is refused naming what
//! is missing, the supervisor's review, differences between versions, and
//! who may do what. Run on SQLite and (when configured) PostgreSQL.

use mamori_domain::audit::AuditAction;
use mamori_domain::checklist::{Answer, AnswerValue, CellKey, RespondentRole};
use mamori_domain::deliverable::{ContentChange, DeliverableKind, DeliverableState, ReviewAction};
use mamori_domain::engagement::EngagementState;
use mamori_domain::ledger::{Asset, Backup, Cells, Ledger, RowRecord};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{DomainError, EngagementId, OrgId};
use mamori_store::testing::{self, TestDb};
use mamori_store::{AuditContext, AuditFilter, ChangeSource, NewRespondent, Store, StoreError};
use std::collections::BTreeMap;
use time::macros::date;

struct World {
    programme: mamori_domain::ProgrammeId,
    hospital: OrgId,
    engagement: EngagementId,
    /// The survey company with a contracted engagement of `hospital`.
    company: AuditContext,
    /// A survey company with no engagement of `hospital`.
    stranger: AuditContext,
    supervisor: AuditContext,
    staff: AuditContext,
}

fn ctx(account: &mamori_store::Account) -> AuditContext {
    AuditContext::for_actor(account.actor(), account.email.clone(), None)
}

async fn world(db: &TestDb) -> World {
    let s = &db.store;
    s.clock().set_today(date!(2026 - 12 - 01));
    let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
    let stranger = testing::add_org(s, OrgKind::SurveyCompany, "調査C社").await;
    let supervisor = testing::add_org(s, OrgKind::Supervisor, "監督企業").await;
    let hospital = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
    let company_account = testing::add_account(s, company, "a@example.jp", Role::Member).await;
    let stranger_account = testing::add_account(s, stranger, "c@example.jp", Role::Member).await;
    let supervisor_account =
        testing::add_account(s, supervisor, "sup@example.jp", Role::Member).await;
    let staff = testing::add_account(s, hospital, "h@example.jp", Role::Member).await;
    let programme = testing::add_programme(s, "令和8年度 調査").await;
    let e =
        testing::add_engagement(s, programme, hospital, company, EngagementState::Surveying).await;
    World {
        programme,
        hospital,
        engagement: e.id,
        company: ctx(&company_account),
        stranger: ctx(&stranger_account),
        supervisor: ctx(&supervisor_account),
        staff: ctx(&staff),
    }
}

async fn grant(s: &Store, ctx: &AuditContext, hospital: OrgId, access: Access) -> HospitalGrant {
    s.authorize(ctx, hospital, HospitalData::Deliverables, access)
        .await
        .expect("deliverables grant")
}

fn record<R: RowRecord>(pairs: &[(&str, &str)]) -> R {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    R::from_cells(&Cells::from_map::<R>(&map)).expect("valid test record")
}

fn ledger(generations: &str) -> Ledger {
    Ledger {
        assets: vec![record::<Asset>(&[
            ("key", "SYS-EHR"),
            ("kind", "システム"),
            ("name", "電子カルテ"),
        ])],
        backups: vec![record::<Backup>(&[
            ("key", "B-1"),
            ("system", "SYS-EHR"),
            ("generations", generations),
            ("offline_copy", "はい"),
        ])],
        ..Ledger::default()
    }
}

async fn import(s: &Store, w: &World, l: &Ledger) {
    let g = s
        .authorize(&w.company, w.hospital, HospitalData::Ledger, Access::Write)
        .await
        .expect("ledger grant");
    s.import_ledger(&w.company, &g, l, ChangeSource::Import)
        .await
        .expect("imported");
}

async fn audited(s: &Store, action: AuditAction) -> usize {
    s.audit_page(
        None,
        &AuditFilter {
            action: Some(action.slug().to_string()),
            limit: 1000,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .records
    .len()
}

fn conflict(err: &StoreError) -> &str {
    match err {
        StoreError::Conflict(text) => text,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn a_deliverable_is_submitted_reviewed_resubmitted_and_approved_with_frozen_versions() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        import(s, &w, &ledger("7")).await;

        // All seven show, untouched as draft without a version.
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        let all = s.deliverables(&w.company, &g, w.engagement).await.unwrap();
        assert_eq!(all.len(), 7);
        assert!(
            all.iter()
                .all(|d| d.state == DeliverableState::Draft && d.version.is_none())
        );

        // ④ from the ledger: version 1 frozen.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let d = s
            .submit_deliverable(&w.company, &g, w.engagement, DeliverableKind::Backups)
            .await
            .expect("submitted");
        assert_eq!(d.state, DeliverableState::Submitted);
        assert_eq!(d.version, Some(1));
        assert_eq!(d.submitted_by, Some(w.company.actor.unwrap().account));
        assert!(d.submitted_at_ms.is_some());
        assert_eq!(d.reviews.len(), 1);
        assert_eq!(d.reviews[0].action, ReviewAction::Submit);
        assert_eq!(audited(s, AuditAction::DeliverableSubmitted).await, 1);

        // The supervisor asks for changes.
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        let d = s
            .review_deliverable(
                &w.supervisor,
                &g,
                w.engagement,
                DeliverableKind::Backups,
                ReviewAction::RequestChanges,
                "世代数を確認してください",
            )
            .await
            .expect("changes requested");
        assert_eq!(d.state, DeliverableState::ChangesRequested);
        assert_eq!(d.reviews[1].note, "世代数を確認してください");
        // Approving now is not a step: the refusal names what is next.
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        let err = s
            .review_deliverable(
                &w.supervisor,
                &g,
                w.engagement,
                DeliverableKind::Backups,
                ReviewAction::Approve,
                "",
            )
            .await
            .expect_err("not a step");
        assert!(conflict(&err).contains("allowed next: submit"), "{err}");

        // The company changes the ledger and submits again: version 2.
        import(s, &w, &ledger("14")).await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let d = s
            .submit_deliverable(&w.company, &g, w.engagement, DeliverableKind::Backups)
            .await
            .expect("resubmitted");
        assert_eq!((d.state, d.version), (DeliverableState::Submitted, Some(2)));

        let g = grant(s, &w.supervisor, w.hospital, Access::Read).await;
        let changes = s
            .deliverable_diff(
                &w.supervisor,
                &g,
                w.engagement,
                DeliverableKind::Backups,
                1,
                2,
            )
            .await
            .unwrap();
        assert!(
            changes.iter().any(|c| matches!(
                c,
                ContentChange::CellChanged { key, before, after, .. }
                    if key == "B-1" && before == "7" && after == "14"
            )),
            "{changes:?}"
        );

        // The supervisor may not submit; the refusal names what it may do.
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        let err = s
            .review_deliverable(
                &w.supervisor,
                &g,
                w.engagement,
                DeliverableKind::Backups,
                ReviewAction::Submit,
                "",
            )
            .await
            .expect_err("not the supervisor's step");
        let text = conflict(&err);
        assert!(text.contains("request-changes, approve"), "{text}");

        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        let d = s
            .review_deliverable(
                &w.supervisor,
                &g,
                w.engagement,
                DeliverableKind::Backups,
                ReviewAction::Approve,
                "",
            )
            .await
            .expect("approved");
        assert_eq!((d.state, d.version), (DeliverableState::Approved, Some(2)));
        assert_eq!(
            d.reviews.iter().map(|r| r.action).collect::<Vec<_>>(),
            vec![
                ReviewAction::Submit,
                ReviewAction::RequestChanges,
                ReviewAction::Submit,
                ReviewAction::Approve
            ]
        );
        assert_eq!(audited(s, AuditAction::DeliverableReviewed).await, 2);

        // A later ledger change leaves version 2 as it was submitted.
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        let v2 = s
            .deliverable_version(&w.company, &g, w.engagement, DeliverableKind::Backups, 2)
            .await
            .unwrap();
        import(s, &w, &ledger("30")).await;
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        let again = s
            .deliverable_version(&w.company, &g, w.engagement, DeliverableKind::Backups, 2)
            .await
            .unwrap();
        assert_eq!(v2, again);
        let table = &again.tables[0];
        assert_eq!(table.cell("B-1", "世代数"), Some("14"), "{table:?}");
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        assert!(matches!(
            s.deliverable_version(&w.company, &g, w.engagement, DeliverableKind::Backups, 3)
                .await,
            Err(StoreError::NotFound { .. })
        ));
        db
    })
    .await;
}

#[tokio::test]
async fn an_incomplete_submission_is_refused_naming_what_is_missing_and_nothing_is_written() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        import(s, &w, &ledger("7")).await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .submit_deliverable(&w.company, &g, w.engagement, DeliverableKind::Structure)
            .await
            .expect_err("no roles");
        match &err {
            StoreError::Invalid(DomainError::Invalid { field, reason }) => {
                assert_eq!(*field, "deliverable");
                assert!(reason.contains("required parts are missing"), "{reason}");
                assert!(reason.contains("structure"), "{reason}");
            }
            other => panic!("expected a refused deliverable, got {other:?}"),
        }
        // ① without any respondent is refused the same way.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        assert!(matches!(
            s.submit_deliverable(
                &w.company,
                &g,
                w.engagement,
                DeliverableKind::ChecklistExecutive
            )
            .await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(db.count("SELECT COUNT(*) FROM deliverables").await, 0);
        assert_eq!(
            db.count("SELECT COUNT(*) FROM deliverable_versions").await,
            0
        );
        assert_eq!(
            db.count("SELECT COUNT(*) FROM deliverable_reviews").await,
            0
        );
        assert_eq!(audited(s, AuditAction::DeliverableSubmitted).await, 0);
        db
    })
    .await;
}

#[tokio::test]
async fn the_hospital_and_an_unrelated_company_are_refused_and_the_company_does_not_review() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        import(s, &w, &ledger("7")).await;
        // Before delivery the hospital sees nothing; it never writes.
        for access in [Access::Read, Access::Write, Access::Review] {
            assert!(matches!(
                s.authorize(&w.staff, w.hospital, HospitalData::Deliverables, access)
                    .await,
                Err(StoreError::Denied(_))
            ));
        }
        // A company with no engagement of the hospital is refused.
        for access in [Access::Read, Access::Write] {
            assert!(matches!(
                s.authorize(&w.stranger, w.hospital, HospitalData::Deliverables, access)
                    .await,
                Err(StoreError::Denied(_))
            ));
        }
        // The company submits but does not review its own work.
        assert!(matches!(
            s.authorize(
                &w.company,
                w.hospital,
                HospitalData::Deliverables,
                Access::Review
            )
            .await,
            Err(StoreError::Denied(_))
        ));
        // A grant for another access does not stretch to submitting.
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        assert!(matches!(
            s.submit_deliverable(&w.company, &g, w.engagement, DeliverableKind::Backups)
                .await,
            Err(StoreError::Forbidden(_))
        ));
        // The supervisor reads, but does not submit.
        let g = grant(s, &w.supervisor, w.hospital, Access::Read).await;
        assert_eq!(
            s.deliverables(&w.supervisor, &g, w.engagement)
                .await
                .unwrap()
                .len(),
            7
        );
        assert!(
            s.authorize(
                &w.supervisor,
                w.hospital,
                HospitalData::Deliverables,
                Access::Write
            )
            .await
            .is_err()
        );
        assert_eq!(db.count("SELECT COUNT(*) FROM deliverables").await, 0);
        db
    })
    .await;
}

#[tokio::test]
async fn a_checklist_deliverable_shows_its_audiences_answers_once_every_cell_is_answered() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        let framework = testing::set_checklist(s, w.programme, "mhlw-r6").await;
        let form = framework.framework.form("hospital").cloned().unwrap();
        let add = |role: RespondentRole, name: &'static str| {
            let ctx = w.company.clone();
            async move {
                s.add_respondent(
                    &ctx,
                    w.engagement,
                    &NewRespondent {
                        form_key: "hospital".into(),
                        role,
                        name: name.into(),
                        account: None,
                    },
                )
                .await
                .expect("respondent")
            }
        };
        let admin = add(RespondentRole::Administrator, "情報システム室長").await;
        // A director answering nothing belongs to ①, not ②.
        add(RespondentRole::Director, "院長").await;
        let cells: Vec<CellKey> = form
            .cells()
            .map(|(item, cell)| CellKey::new(item.number.clone(), cell.scope))
            .collect();
        let yes = Answer {
            value: AnswerValue::Yes,
            checked_on: Some(date!(2026 - 11 - 30)),
            target_on: None,
            not_understood: String::new(),
        };
        s.save_answer(&w.company, admin.id, framework.id, &cells[0], &yes)
            .await
            .unwrap();
        // Half answered: refused naming the unanswered cells.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .submit_deliverable(
                &w.company,
                &g,
                w.engagement,
                DeliverableKind::ChecklistAdministrator,
            )
            .await
            .expect_err("unanswered cells");
        let StoreError::Invalid(DomainError::Invalid { reason, .. }) = &err else {
            panic!("expected a refused deliverable, got {err:?}");
        };
        assert!(reason.contains("未回答"), "{reason}");
        assert!(reason.contains(&cells[1].item), "{reason}");
        for key in &cells[1..] {
            s.save_answer(&w.company, admin.id, framework.id, key, &yes)
                .await
                .unwrap();
        }
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let d = s
            .submit_deliverable(
                &w.company,
                &g,
                w.engagement,
                DeliverableKind::ChecklistAdministrator,
            )
            .await
            .expect("submitted");
        assert_eq!(d.version, Some(1));
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        let content = s
            .deliverable_version(
                &w.company,
                &g,
                w.engagement,
                DeliverableKind::ChecklistAdministrator,
                1,
            )
            .await
            .unwrap();
        assert_eq!(content.tables.len(), 1, "only the administrator");
        assert_eq!(content.tables[0].rows.len(), cells.len());
        // ① has its director, who answered nothing.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        assert!(matches!(
            s.submit_deliverable(
                &w.company,
                &g,
                w.engagement,
                DeliverableKind::ChecklistExecutive
            )
            .await,
            Err(StoreError::Invalid(_))
        ));
        db
    })
    .await;
}
