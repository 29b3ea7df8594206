//! The supervisor's review talk as stored: a thread anchored to a row of
//! ⑤, replied to, resolved and reopened; deep dives with a due date that
//! become overdue; the review queue with ages and the interim-review
//! milestone; and who is refused. Run on SQLite and (when configured)
//! PostgreSQL.

use mamori_domain::audit::AuditAction;
use mamori_domain::deliverable::{
    DeepDiveAction, DeepDiveState, DeliverableKind, ReviewAction, ThreadAction, ThreadState,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::ledger::{Cells, ExternalConnection, Ledger, RowRecord};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{DomainError, EngagementId, OrgId};
use mamori_store::testing::{self, TestDb};
use mamori_store::{Anchor, AuditContext, AuditFilter, ChangeSource, Store, StoreError};
use std::collections::BTreeMap;
use time::macros::date;

const NOTE: &str = "この接続先の詳細を確認してください";

struct World {
    hospital: OrgId,
    engagement: EngagementId,
    company: AuditContext,
    supervisor: AuditContext,
    secretariat: AuditContext,
    staff: AuditContext,
}

fn ctx(account: &mamori_store::Account) -> AuditContext {
    AuditContext::for_actor(account.actor(), account.email.clone(), None)
}

async fn world(db: &TestDb) -> World {
    let s = &db.store;
    s.clock().set_today(date!(2026 - 12 - 01));
    let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
    let supervisor = testing::add_org(s, OrgKind::Supervisor, "監督企業").await;
    let secretariat = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
    let hospital = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
    let company_account = testing::add_account(s, company, "a@example.jp", Role::Member).await;
    let supervisor_account =
        testing::add_account(s, supervisor, "sup@example.jp", Role::Member).await;
    let secretariat_account =
        testing::add_account(s, secretariat, "sec@example.jp", Role::Member).await;
    let staff = testing::add_account(s, hospital, "h@example.jp", Role::Member).await;
    let programme = testing::add_programme(s, "令和8年度 調査").await;
    let e =
        testing::add_engagement(s, programme, hospital, company, EngagementState::Surveying).await;
    let w = World {
        hospital,
        engagement: e.id,
        company: ctx(&company_account),
        supervisor: ctx(&supervisor_account),
        secretariat: ctx(&secretariat_account),
        staff: ctx(&staff),
    };
    import_connections(s, &w).await;
    w
}

async fn grant(s: &Store, ctx: &AuditContext, hospital: OrgId, access: Access) -> HospitalGrant {
    s.authorize(ctx, hospital, HospitalData::Deliverables, access)
        .await
        .expect("deliverables grant")
}

async fn import_connections(s: &Store, w: &World) {
    let map: BTreeMap<String, String> = [
        ("key", "C-1"),
        ("category", "ネットワーク保守"),
        ("counterpart", "保守ベンダー"),
        ("method", "インターネットVPN"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let connection = ExternalConnection::from_cells(&Cells::from_map::<ExternalConnection>(&map))
        .expect("valid connection");
    let ledger = Ledger {
        connections: vec![connection],
        ..Ledger::default()
    };
    let g = s
        .authorize(&w.company, w.hospital, HospitalData::Ledger, Access::Write)
        .await
        .expect("ledger grant");
    s.import_ledger(&w.company, &g, &ledger, ChangeSource::Import)
        .await
        .expect("imported");
    let g = grant(s, &w.company, w.hospital, Access::Write).await;
    s.submit_deliverable(&w.company, &g, w.engagement, DeliverableKind::Connections)
        .await
        .expect("⑤ submitted");
}

fn connection_row() -> Anchor {
    Anchor {
        kind: Some(DeliverableKind::Connections),
        row_key: "C-1".into(),
        version: Some(1),
    }
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
async fn a_thread_on_a_connection_row_is_replied_to_resolved_and_reopened() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;

        // A row that is not in version 1 is refused, naming it; nothing written.
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let err = s
            .open_review_thread(
                &w.supervisor,
                &g,
                w.engagement,
                &Anchor {
                    row_key: "C-9".into(),
                    ..connection_row()
                },
                NOTE,
            )
            .await
            .expect_err("no such row");
        assert!(
            matches!(&err, StoreError::Invalid(DomainError::Invalid { field: "row", reason }) if reason.contains("C-9")),
            "{err:?}"
        );
        // An empty first comment is refused.
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        assert!(matches!(
            s.open_review_thread(&w.supervisor, &g, w.engagement, &connection_row(), "  ")
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(db.count("SELECT COUNT(*) FROM review_threads").await, 0);

        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let t = s
            .open_review_thread(&w.supervisor, &g, w.engagement, &connection_row(), NOTE)
            .await
            .expect("opened");
        assert_eq!(t.state, ThreadState::Open);
        assert_eq!(t.row_key.as_deref(), Some("C-1"));
        assert_eq!(t.version, Some(1));
        assert_eq!(t.comments[0].text, NOTE);

        // The company may not open a thread; it replies with its write access.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .open_review_thread(&w.company, &g, w.engagement, &connection_row(), "x")
            .await
            .expect_err("company does not open");
        assert!(conflict(&err).contains("open is done by supervisor"), "{err}");
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let t = s
            .review_thread_step(
                &w.company,
                &g,
                w.engagement,
                t.id,
                ThreadAction::Reply,
                "VPN装置の型番を追記しました",
            )
            .await
            .expect("replied");
        assert_eq!(t.comments.len(), 2);
        // The company resolves only with a reply.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        assert!(matches!(
            s.review_thread_step(&w.company, &g, w.engagement, t.id, ThreadAction::Resolve, "")
                .await,
            Err(StoreError::Invalid(_))
        ));
        // A text over 4,000 characters is refused.
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let err = s
            .review_thread_step(
                &w.supervisor,
                &g,
                w.engagement,
                t.id,
                ThreadAction::Reply,
                &"あ".repeat(4_001),
            )
            .await
            .expect_err("too long");
        assert!(err.to_string().contains("longer than 4000"), "{err}");

        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let t = s
            .review_thread_step(&w.supervisor, &g, w.engagement, t.id, ThreadAction::Resolve, "")
            .await
            .expect("resolved");
        assert_eq!(t.state, ThreadState::Resolved);
        // Replying to a resolved thread names what is allowed next.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .review_thread_step(&w.company, &g, w.engagement, t.id, ThreadAction::Reply, "x")
            .await
            .expect_err("resolved");
        assert!(conflict(&err).contains("allowed next: reopen"), "{err}");
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let t = s
            .review_thread_step(
                &w.supervisor,
                &g,
                w.engagement,
                t.id,
                ThreadAction::Reopen,
                "再確認",
            )
            .await
            .expect("reopened");
        assert_eq!(t.state, ThreadState::Open);
        assert_eq!(
            t.comments.iter().map(|c| c.action).collect::<Vec<_>>(),
            vec![
                ThreadAction::Open,
                ThreadAction::Reply,
                ThreadAction::Resolve,
                ThreadAction::Reopen
            ]
        );
        assert_eq!(audited(s, AuditAction::ReviewThreadOpened).await, 1);
        assert_eq!(audited(s, AuditAction::ReviewCommented).await, 1);
        assert_eq!(audited(s, AuditAction::ReviewThreadResolved).await, 1);
        assert_eq!(audited(s, AuditAction::ReviewThreadReopened).await, 1);

        // The secretariat reads the threads but takes no step.
        let g = grant(s, &w.secretariat, w.hospital, Access::Read).await;
        let threads = s
            .review_threads(&w.secretariat, &g, w.engagement)
            .await
            .unwrap();
        assert_eq!(threads.len(), 1);
        assert!(
            s.authorize(
                &w.secretariat,
                w.hospital,
                HospitalData::Deliverables,
                Access::Comment
            )
            .await
            .is_err()
        );
        db
    })
    .await;
}

#[tokio::test]
async fn the_hospital_is_refused_the_threads_even_after_delivery() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        s.open_review_thread(&w.supervisor, &g, w.engagement, &connection_row(), NOTE)
            .await
            .expect("opened");
        // Before delivery the policy refuses the hospital outright.
        assert!(matches!(
            s.authorize(
                &w.staff,
                w.hospital,
                HospitalData::Deliverables,
                Access::Read
            )
            .await,
            Err(StoreError::Denied(_))
        ));
        // Once the report is delivered it reads deliverables, never the talk.
        db.execute_raw(&format!(
            "UPDATE engagements SET state = 'reported' WHERE id = {}",
            w.engagement.0
        ))
        .await
        .unwrap();
        let denied_before = audited(s, AuditAction::AccessDenied).await;
        let g = grant(s, &w.staff, w.hospital, Access::Read).await;
        assert!(matches!(
            s.review_threads(&w.staff, &g, w.engagement).await,
            Err(StoreError::Forbidden(_))
        ));
        let g = grant(s, &w.staff, w.hospital, Access::Read).await;
        assert!(matches!(
            s.deep_dives(&w.staff, &g, w.engagement).await,
            Err(StoreError::Forbidden(_))
        ));
        assert_eq!(
            audited(s, AuditAction::AccessDenied).await,
            denied_before + 2
        );
        // Nor does it see the queue.
        assert!(matches!(
            s.review_queue(&w.staff).await,
            Err(StoreError::Forbidden(_))
        ));
        db
    })
    .await;
}

#[tokio::test]
async fn deep_dives_the_queue_with_ages_and_the_interim_milestone() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        // The submission of ⑤ was at 2026-12-01 (JST morning).
        db.execute_raw("UPDATE deliverable_versions SET submitted_at = 1796083200000")
            .await
            .unwrap();

        // A due date before today is refused.
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let err = s
            .request_deep_dive(
                &w.supervisor,
                &g,
                w.engagement,
                &connection_row(),
                date!(2026 - 11 - 30),
                "VPN装置の設定を確認してください",
            )
            .await
            .expect_err("past due");
        assert!(
            matches!(
                &err,
                StoreError::Invalid(DomainError::Invalid { field: "due", .. })
            ),
            "{err:?}"
        );
        assert_eq!(db.count("SELECT COUNT(*) FROM deep_dives").await, 0);

        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let d = s
            .request_deep_dive(
                &w.supervisor,
                &g,
                w.engagement,
                &connection_row(),
                date!(2026 - 12 - 05),
                "VPN装置の設定を確認してください",
            )
            .await
            .expect("requested");
        assert_eq!(d.state, DeepDiveState::Requested);
        assert_eq!(d.overdue_days, None);

        // The supervisor cannot answer; the refusal names its own steps.
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let err = s
            .deep_dive_step(
                &w.supervisor,
                &g,
                w.engagement,
                d.id,
                DeepDiveAction::Answer,
                "x",
            )
            .await
            .expect_err("company's step");
        assert!(conflict(&err).contains("you may: close"), "{err}");
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let d = s
            .deep_dive_step(
                &w.company,
                &g,
                w.engagement,
                d.id,
                DeepDiveAction::Answer,
                "FortiGate 60F、FortiOS 7.0.12",
            )
            .await
            .expect("answered");
        assert_eq!(d.state, DeepDiveState::Answered);
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        let d = s
            .deep_dive_step(
                &w.supervisor,
                &g,
                w.engagement,
                d.id,
                DeepDiveAction::SendBack,
                "ファームウェアの更新日も",
            )
            .await
            .expect("sent back");
        assert_eq!(d.state, DeepDiveState::Requested);
        assert_eq!(d.steps.len(), 3);

        // Ten days later: the deliverable has waited 10 days, the deep
        // dive is 6 days overdue and the milestone (2027-01-15) is 35 days off.
        s.clock().set_today(date!(2026 - 12 - 11));
        let q = s.review_queue(&w.supervisor).await.unwrap();
        assert_eq!(q.submitted.len(), 1);
        assert_eq!(q.submitted[0].kind, DeliverableKind::Connections);
        assert_eq!(q.submitted[0].age_days, 10);
        assert_eq!(q.submitted[0].hospital_name, "湖畔病院");
        assert_eq!(q.submitted[0].company_name, "調査A社");
        assert_eq!(q.deep_dives.len(), 1);
        assert_eq!(q.deep_dives[0].deep_dive.overdue_days, Some(6));
        assert_eq!(q.interim.len(), 1);
        assert_eq!(q.interim[0].due, Some(date!(2027 - 01 - 15)));
        assert!(!q.interim[0].warning);
        assert_eq!(q.interim[0].unreviewed.len(), 1);
        assert_eq!(q.interim[0].unreviewed[0].engagement_id, w.engagement);

        // Within 14 days of the milestone: the warning shows.
        s.clock().set_today(date!(2027 - 01 - 05));
        let q = s.review_queue(&w.secretariat).await.unwrap();
        assert!(q.interim[0].warning);
        assert_eq!(q.interim[0].days_left, Some(10));

        // A review by the supervisor drops the engagement from the list,
        // and the deliverable from the queue.
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        s.review_deliverable(
            &w.supervisor,
            &g,
            w.engagement,
            DeliverableKind::Connections,
            ReviewAction::RequestChanges,
            NOTE,
        )
        .await
        .unwrap();
        let q = s.review_queue(&w.supervisor).await.unwrap();
        assert!(q.submitted.is_empty());
        assert!(q.interim[0].unreviewed.is_empty());
        assert!(!q.interim[0].warning);

        // Closed deep dives leave the queue.
        let g = grant(s, &w.supervisor, w.hospital, Access::Comment).await;
        s.deep_dive_step(
            &w.supervisor,
            &g,
            w.engagement,
            d.id,
            DeepDiveAction::Close,
            "",
        )
        .await
        .expect("withdrawn");
        let q = s.review_queue(&w.supervisor).await.unwrap();
        assert!(q.deep_dives.is_empty());
        assert_eq!(audited(s, AuditAction::DeepDiveRequested).await, 1);
        assert_eq!(audited(s, AuditAction::DeepDiveAnswered).await, 1);
        assert_eq!(audited(s, AuditAction::DeepDiveSentBack).await, 1);
        assert_eq!(audited(s, AuditAction::DeepDiveClosed).await, 1);

        // The company does not see the queue.
        assert!(matches!(
            s.review_queue(&w.company).await,
            Err(StoreError::Forbidden(_))
        ));
        db
    })
    .await;
}
