//! Findings and report releases as stored: the company proposes and edits
//! findings, the supervisor accepts or rejects them; a release freezes the
//! approved deliverables and accepted findings with their files; the
//! lifecycle's report steps refuse while a deliverable is not approved
//! (naming each) and record acceptance and delivery on the release; the
//! hospital and the ministry see a report only once delivered, and every
//! download is audited. Run on SQLite and (when configured) PostgreSQL.

use mamori_domain::audit::AuditAction;
use mamori_domain::deliverable::{
    AffectedKind, AffectedRef, DeliverableKind, FindingStatus, FindingStep, ReportFile,
    ReviewAction, Severity,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{DomainError, OrgId};
use mamori_store::testing::{self, TestDb};
use mamori_store::{
    Account, AuditContext, AuditFilter, Engagement, FindingDraft, RenderedFile, Store, StoreError,
};
use time::macros::date;

struct World {
    hospital: OrgId,
    engagement: Engagement,
    company: Account,
    supervisor: Account,
    secretariat: Account,
    staff: Account,
    ministry: Account,
}

fn ctx(account: &Account) -> AuditContext {
    AuditContext::for_actor(account.actor(), account.email.clone(), None)
}

async fn world(db: &TestDb) -> World {
    let s = &db.store;
    s.clock().set_today(date!(2027 - 02 - 10));
    let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
    let supervisor = testing::add_org(s, OrgKind::Supervisor, "監督企業").await;
    let secretariat = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
    let ministry = testing::add_org(s, OrgKind::Ministry, "厚生労働省").await;
    let hospital = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
    let programme = testing::add_programme(s, "令和8年度 調査").await;
    let engagement =
        testing::add_engagement(s, programme, hospital, company, EngagementState::Reporting).await;
    World {
        hospital,
        engagement,
        company: testing::add_account(s, company, "a@example.jp", Role::Member).await,
        supervisor: testing::add_account(s, supervisor, "sup@example.jp", Role::Member).await,
        secretariat: testing::add_account(s, secretariat, "sec@example.jp", Role::Member).await,
        staff: testing::add_account(s, hospital, "h@example.jp", Role::Member).await,
        ministry: testing::add_account(s, ministry, "m@example.go.jp", Role::Member).await,
    }
}

async fn grant(s: &Store, who: &Account, hospital: OrgId, access: Access) -> HospitalGrant {
    s.authorize(&ctx(who), hospital, HospitalData::Deliverables, access)
        .await
        .expect("deliverables grant")
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

fn draft(title: &str) -> FindingDraft {
    FindingDraft {
        severity: Severity::High,
        title: title.to_string(),
        detail: "保守用VPNの認証が共有IDのみ".to_string(),
        affected: vec![AffectedRef::new(AffectedKind::Connection, "C-1")],
        recommendation: "多要素認証を導入する".to_string(),
    }
}

/// Files as the web layer would render them (contents do not matter here).
fn files() -> Vec<RenderedFile> {
    vec![
        RenderedFile {
            language: "ja".into(),
            file: ReportFile::Pdf,
            name: "報告書.pdf".into(),
            data: b"%PDF-1.7 report".to_vec(),
        },
        RenderedFile {
            language: "ja".into(),
            file: ReportFile::Workbook,
            name: "報告書.xlsx".into(),
            data: b"PK workbook".to_vec(),
        },
    ]
}

#[tokio::test]
async fn findings_are_proposed_by_the_company_and_decided_by_the_supervisor() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        let e = w.engagement.id;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let first = s
            .propose_finding(&ctx(&w.company), &g, e, &draft("保守回線の認証"))
            .await
            .unwrap();
        assert_eq!(first.finding.number, 1);
        assert_eq!(first.finding.status, FindingStatus::Proposed);
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let second = s
            .propose_finding(&ctx(&w.company), &g, e, &draft("バックアップの世代"))
            .await
            .unwrap();
        assert_eq!(second.finding.number, 2);
        // Bad input changes nothing.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let mut empty = draft("");
        empty.recommendation = String::new();
        assert!(matches!(
            s.propose_finding(&ctx(&w.company), &g, e, &empty).await,
            Err(StoreError::Invalid(DomainError::Invalid { .. }))
        ));
        // The company edits its proposal; the supervisor edits and accepts.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let mut edited = draft("保守回線の認証が弱い");
        edited.severity = Severity::Critical;
        s.edit_finding(&ctx(&w.company), &g, e, 1, &edited, "")
            .await
            .unwrap();
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        let accepted = s
            .review_finding(&ctx(&w.supervisor), &g, e, 1, FindingStep::Accept, "妥当")
            .await
            .unwrap();
        assert_eq!(accepted.finding.status, FindingStatus::Accepted);
        assert_eq!(accepted.finding.severity, Severity::Critical);
        let steps: Vec<&str> = accepted.steps.iter().map(|s| s.step.as_str()).collect();
        assert_eq!(steps, ["propose", "edit", "accept"]);
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        s.review_finding(&ctx(&w.supervisor), &g, e, 2, FindingStep::Reject, "重複")
            .await
            .unwrap();
        // The company cannot edit a decided finding, nor decide one.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .edit_finding(&ctx(&w.company), &g, e, 1, &draft("変更"), "")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(text) if text.contains("allowed: none")),
            "{err:?}"
        );
        assert!(
            s.authorize(
                &ctx(&w.company),
                w.hospital,
                HospitalData::Deliverables,
                Access::Review
            )
            .await
            .is_err()
        );
        // The supervisor reopens the rejected one: allowed next are named.
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        let err = s
            .review_finding(&ctx(&w.supervisor), &g, e, 2, FindingStep::Accept, "")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(text) if text.contains("edit, reopen")),
            "{err:?}"
        );
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        let all = s.findings(&ctx(&w.company), &g, e).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].finding.title, "保守回線の認証が弱い");
        // The hospital sees nothing before delivery.
        assert!(
            s.authorize(
                &ctx(&w.staff),
                w.hospital,
                HospitalData::Deliverables,
                Access::Read
            )
            .await
            .is_err()
        );
        assert_eq!(audited(s, AuditAction::FindingRecorded).await, 3);
        assert_eq!(audited(s, AuditAction::FindingReviewed).await, 2);
        db
    })
    .await;
}

#[tokio::test]
async fn a_report_is_released_accepted_and_delivered_only_when_all_seven_are_approved() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        let e = w.engagement.id;
        // Nothing approved: the draft names all seven.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s.report_draft(&ctx(&w.company), &g, e).await.unwrap_err();
        let StoreError::Conflict(reason) = &err else {
            panic!("expected the list of deliverables, got {err:?}");
        };
        for kind in DeliverableKind::ALL {
            assert!(reason.contains(kind.ja()), "{kind}: {reason}");
        }
        // Submitting the report without a package is refused too.
        assert!(
            s.transition(&ctx(&w.company), e, EngagementState::Submitted, None, "")
                .await
                .is_err()
        );

        testing::approve_all_deliverables(s, &w.engagement, &w.company, &w.supervisor).await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        s.propose_finding(&ctx(&w.company), &g, e, &draft("保守回線の認証"))
            .await
            .unwrap();
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        s.review_finding(&ctx(&w.supervisor), &g, e, 1, FindingStep::Accept, "")
            .await
            .unwrap();
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let report = s.report_draft(&ctx(&w.company), &g, e).await.unwrap();
        assert_eq!(report.release, 1);
        assert_eq!(report.hospital, "湖畔病院");
        assert_eq!(report.recipient, "湖畔病院 御中");
        assert_eq!(report.deliverables.len(), 7);
        assert_eq!(report.findings.len(), 1);
        // A Japanese PDF and workbook are required.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        assert!(matches!(
            s.release_report(&ctx(&w.company), &g, e, &report, &files()[1..])
                .await,
            Err(StoreError::Invalid(_))
        ));
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let release = s
            .release_report(&ctx(&w.company), &g, e, &report, &files())
            .await
            .unwrap();
        assert_eq!(release.number, 1);
        assert_eq!(release.versions, vec![1; 7]);
        assert!(release.file(ReportFile::Pdf, "ja").is_some());
        // The same content again is a duplicate number: refused.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        assert!(
            s.release_report(&ctx(&w.company), &g, e, &report, &files())
                .await
                .is_err()
        );

        s.transition(&ctx(&w.company), e, EngagementState::Submitted, None, "")
            .await
            .unwrap();
        // The supervisor reopens ⑤ meanwhile: acceptance names it.
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        s.review_deliverable(
            &ctx(&w.supervisor),
            &g,
            e,
            DeliverableKind::Connections,
            ReviewAction::Reopen,
            "再確認",
        )
        .await
        .unwrap();
        let err = s
            .transition(&ctx(&w.secretariat), e, EngagementState::Accepted, None, "")
            .await
            .unwrap_err();
        let StoreError::Conflict(reason) = &err else {
            panic!("expected the list, got {err:?}");
        };
        assert!(reason.contains("⑤外部接続先一覧"), "{reason}");
        assert!(!reason.contains('④'), "{reason}");
        // The company resubmits ⑤ and the supervisor approves version 2:
        // release 1 is now older than the approved set.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        s.submit_deliverable(&ctx(&w.company), &g, e, DeliverableKind::Connections)
            .await
            .unwrap();
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        s.review_deliverable(
            &ctx(&w.supervisor),
            &g,
            e,
            DeliverableKind::Connections,
            ReviewAction::Approve,
            "",
        )
        .await
        .unwrap();
        let err = s
            .transition(&ctx(&w.secretariat), e, EngagementState::Accepted, None, "")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(text) if text.contains("after release 1")),
            "{err:?}"
        );
        // Sent back; the company releases again and submits.
        s.transition(
            &ctx(&w.secretariat),
            e,
            EngagementState::Reporting,
            None,
            "差し戻し",
        )
        .await
        .unwrap();
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let report = s.report_draft(&ctx(&w.company), &g, e).await.unwrap();
        assert_eq!(report.release, 2);
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let release = s
            .release_report(&ctx(&w.company), &g, e, &report, &files())
            .await
            .unwrap();
        assert_eq!(release.versions, vec![1, 1, 1, 1, 2, 1, 1]);
        s.transition(&ctx(&w.company), e, EngagementState::Submitted, None, "")
            .await
            .unwrap();
        s.transition(&ctx(&w.secretariat), e, EngagementState::Accepted, None, "")
            .await
            .unwrap();
        // Accepted, not delivered: the hospital reads nothing yet.
        assert!(
            s.authorize(
                &ctx(&w.staff),
                w.hospital,
                HospitalData::Deliverables,
                Access::Read
            )
            .await
            .is_err()
        );
        s.transition(&ctx(&w.secretariat), e, EngagementState::Reported, None, "")
            .await
            .unwrap();

        for reader in [&w.staff, &w.ministry] {
            let g = grant(s, reader, w.hospital, Access::Read).await;
            let releases = s.report_releases(&ctx(reader), &g, e).await.unwrap();
            // Release 1 was never delivered: only release 2 is theirs.
            assert_eq!(releases.len(), 1, "{}", reader.email);
            assert_eq!(releases[0].number, 2);
            assert!(releases[0].accepted_at_ms.is_some());
            assert!(releases[0].delivered_at_ms.is_some());
            assert_eq!(releases[0].delivered_by, Some(w.secretariat.id));
            let g = grant(s, reader, w.hospital, Access::Read).await;
            let (file, bytes) = s
                .release_file(&ctx(reader), &g, e, 2, ReportFile::Pdf, "ja")
                .await
                .unwrap();
            assert_eq!(file.name, "報告書.pdf");
            assert!(bytes.starts_with(b"%PDF-"));
            // The hospital sees the accepted findings only.
            let g = grant(s, reader, w.hospital, Access::Read).await;
            let findings = s.findings(&ctx(reader), &g, e).await.unwrap();
            assert!(
                findings
                    .iter()
                    .all(|f| f.finding.status == FindingStatus::Accepted)
            );
            let g = grant(s, reader, w.hospital, Access::Read).await;
            let content = s.release_content(&ctx(reader), &g, e, 2).await.unwrap();
            let g = grant(s, reader, w.hospital, Access::Read).await;
            assert!(s.release_content(&ctx(reader), &g, e, 1).await.is_err());
            assert_eq!(content, report);
        }
        let downloads = s
            .audit_page(
                None,
                &AuditFilter {
                    action: Some(AuditAction::ReportDownloaded.slug().to_string()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .records;
        assert_eq!(downloads.len(), 2);
        let by: Vec<_> = downloads
            .iter()
            .map(|r| r.content.actor_label.clone())
            .collect();
        assert!(
            by.contains(&w.staff.email) && by.contains(&w.ministry.email),
            "{by:?}"
        );
        assert_eq!(audited(s, AuditAction::ReportReleased).await, 2);
        db
    })
    .await;
}
