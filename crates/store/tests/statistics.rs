//! Statistics releases on SQLite and (when configured) PostgreSQL: tables
//! across the surveyed hospitals, protected by the disclosure rules; a
//! draft shows its drafter every suppressed cell and why; a second person
//! publishes it; readers other than the secretariat never see a reason.

use mamori_domain::aggregates::{ReleaseAudience, ReleaseState};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_domain::statistics::{PublishedCell, Suppression};
use mamori_store::{AuditContext, StoreError, testing};

#[tokio::test]
async fn a_release_is_protected_drafted_by_one_and_published_by_another() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
        let surveyor = testing::add_account(s, company, "a@example.jp", Role::Member).await;
        let survey = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        let programme = testing::add_programme(s, "令和8年度 調査").await;
        // Six surveyed hospitals with a ledger, one more only recruited.
        for n in 0..7 {
            let h = testing::add_org(s, OrgKind::Hospital, &format!("病院{n}")).await;
            let state = if n < 6 {
                EngagementState::Surveying
            } else {
                EngagementState::IntentConfirmed
            };
            testing::add_engagement(s, programme, h, company, state).await;
            if n < 6 {
                let g = s
                    .authorize(&survey, h, HospitalData::Ledger, Access::Write)
                    .await
                    .unwrap();
                let mut ledger = testing::complete_ledger();
                // Two of the six keep an offline copy: not everyone, not no one.
                ledger.backups[0].offline_copy = Some(n < 2);
                s.import_ledger(&survey, &g, &ledger, mamori_store::ChangeSource::Import)
                    .await
                    .unwrap();
            }
        }
        let secretariat = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
        let first = testing::add_account(s, secretariat, "one@example.jp", Role::Member).await;
        let first = AuditContext::for_actor(first.actor(), first.email.clone(), None);
        let second = testing::add_account(s, secretariat, "two@example.jp", Role::Member).await;
        let second = AuditContext::for_actor(second.actor(), second.email.clone(), None);

        let err = s
            .draft_statistics(&first, Some(programme), ReleaseAudience::Public, 2, "令和8年度 調査結果")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("k"), "{err}");
        assert!(matches!(
            s.draft_statistics(&survey, None, ReleaseAudience::Public, 5, "x").await,
            Err(StoreError::Forbidden(_))
        ));
        let draft = s
            .draft_statistics(&first, Some(programme), ReleaseAudience::Public, 5, "令和8年度 調査結果")
            .await
            .unwrap();
        assert_eq!((draft.hospitals, draft.state, draft.k), (6, ReleaseState::Draft, 5));
        let connections = draft.tables.iter().find(|t| t.id == "connections").unwrap();
        // Network maintenance: one connection at each of the six hospitals.
        assert_eq!(
            connections.cells[1][0],
            PublishedCell::Value {
                value: 6.0,
                hospitals: 6
            }
        );
        // All six hospitals fall in one bed-size class: the other classes are empty,
        // and the offline-copy share (2 of 6) is published as a share.
        let backups = draft.tables.iter().find(|t| t.id == "backup-practice").unwrap();
        let shown: Vec<&PublishedCell> = backups.cells[0].iter().filter(|c| !matches!(c, PublishedCell::Value { hospitals: 0, .. })).collect();
        assert_eq!(shown.len(), 1);
        assert!(matches!(shown[0], PublishedCell::Value { value, hospitals: 6 } if (*value - 2.0 / 6.0).abs() < 1e-9));
        // Every hospital has the same restore practice: the share would pin it on all of them.
        let restore_row = &backups.row_totals[2];
        assert_eq!(restore_row, &PublishedCell::Suppressed(Suppression::Uniform));
        assert!(!draft.tables.iter().all(|t| t.suppressed().is_empty()));

        // The drafter cannot publish; a second person does; the release is then frozen.
        let err = s
            .decide_statistics(&first, draft.id, ReleaseState::Published)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("second person"), "{err}");
        assert!(s.public_statistics().await.unwrap().is_empty());
        let published = s
            .decide_statistics(&second, draft.id, ReleaseState::Published)
            .await
            .unwrap();
        assert_eq!(published.state, ReleaseState::Published);
        assert!(s
            .decide_statistics(&second, draft.id, ReleaseState::Discarded)
            .await
            .is_err());
        let public = s.public_statistics().await.unwrap();
        assert_eq!(public.len(), 1);
        // Readers get no reason: the count behind a suppressed cell is itself a disclosure.
        let text = serde_json::to_string(&public[0].tables).unwrap();
        assert!(text.contains("withheld") && !text.contains("too-few") && !text.contains("uniform"), "{text}");
        for n in 0..7 {
            assert!(!text.contains(&format!("病院{n}")), "no hospital named");
        }
        let ministry_org = testing::add_org(s, OrgKind::Ministry, "医療政策省").await;
        let ministry = testing::add_account(s, ministry_org, "m@example.jp", Role::Member).await;
        let ministry = AuditContext::for_actor(ministry.actor(), ministry.email.clone(), None);
        let seen = s.statistics_releases(&ministry).await.unwrap();
        assert_eq!(seen.len(), 1);
        assert!(serde_json::to_string(&seen[0].tables).unwrap().contains("withheld"));
        assert!(s.statistics_releases(&survey).await.is_err());
        db
    })
    .await;
}
