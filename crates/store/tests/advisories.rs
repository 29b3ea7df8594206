//! Advisories as stored, on SQLite and (when configured) PostgreSQL: a
//! record imported twice changes nothing, a changed one replaces it, every
//! alias finds it, and only the operator or the secretariat imports.

use mamori_advisories::{Advisory, Source};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use mamori_store::{AdvisoryImportSummary, AuditContext, StoreError};

fn jvn() -> Advisory {
    let mut a = Advisory::new("JVNDB-2024-001234", Source::Jvn);
    a.title = "FortiOS における境界外書き込みの脆弱性".into();
    a.aliases.insert("CVE-2024-21762".into());
    a
}

#[tokio::test]
async fn advisories_import_once_update_when_changed_and_are_found_by_alias() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let op = AuditContext::operator("test");
        let nvd = Advisory::new("CVE-2024-21762", Source::Nvd);
        let first = s
            .import_advisories(&op, &[nvd.clone(), jvn()], "batch-1")
            .await
            .unwrap();
        assert_eq!(
            first,
            AdvisoryImportSummary {
                new: 2,
                updated: 0,
                unchanged: 0
            }
        );
        let again = s
            .import_advisories(&op, &[nvd.clone(), jvn()], "batch-1")
            .await
            .unwrap();
        assert_eq!(
            again,
            AdvisoryImportSummary {
                new: 0,
                updated: 0,
                unchanged: 2
            }
        );
        let mut changed = jvn();
        changed.description = "更新".into();
        let third = s
            .import_advisories(&op, &[changed], "batch-2")
            .await
            .unwrap();
        assert_eq!(third.updated, 1);
        let found = s.advisories_by_alias("CVE-2024-21762").await.unwrap();
        let ids: Vec<&str> = found.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["JVNDB-2024-001234", "CVE-2024-21762"]);
        assert_eq!(found[0].description, "更新");
        assert_eq!(s.advisories().await.unwrap().len(), 2);

        let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
        let account = testing::add_account(s, company, "a@example.jp", Role::Admin).await;
        let ctx = AuditContext::for_actor(account.actor(), account.email.clone(), None);
        assert!(matches!(
            s.import_advisories(&ctx, &[jvn()], "x").await,
            Err(StoreError::Forbidden(_))
        ));
        db
    })
    .await;
}

fn asset(key: &str, version: &str) -> mamori_domain::ledger::Asset {
    use mamori_domain::ledger::{Cells, RowRecord};
    let cpe = format!("cpe:2.3:o:fortinet:fortios:{version}:*:*:*:*:*:*:*");
    let map: std::collections::BTreeMap<String, String> = [
        ("key", key),
        ("kind", "VPN装置"),
        ("name", "保守用VPN"),
        ("vendor", "Fortinet"),
        ("product", "FortiGate"),
        ("version", version),
        ("cpes", cpe.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    mamori_domain::ledger::Asset::from_cells(&Cells::from_map::<mamori_domain::ledger::Asset>(&map))
        .expect("a valid asset")
}

async fn ledger_with(
    s: &mamori_store::Store,
    company: &AuditContext,
    hospital: mamori_domain::OrgId,
    version: &str,
) {
    use mamori_domain::policy::{Access, HospitalData};
    let g = s
        .authorize(company, hospital, HospitalData::Ledger, Access::Write)
        .await
        .expect("ledger grant");
    let ledger = mamori_domain::ledger::Ledger {
        assets: vec![asset("FW-01", version)],
        ..Default::default()
    };
    s.import_ledger(company, &g, &ledger, mamori_store::ChangeSource::Import)
        .await
        .expect("ledger");
}

#[tokio::test]
async fn a_rematch_records_the_affected_assets_keeps_their_state_and_withdraws_what_no_longer_holds()
 {
    use mamori_domain::engagement::EngagementState;
    testing::each_backend(|db| async move {
        let s = &db.store;
        let op = AuditContext::operator("test");
        let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
        let surveyor = testing::add_account(s, company, "a@example.jp", Role::Member).await;
        let ctx = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        let programme = testing::add_programme(s, "令和8年度 調査").await;
        let lake = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
        let hill = testing::add_org(s, OrgKind::Hospital, "丘の上病院").await;
        for h in [lake, hill] {
            testing::add_engagement(s, programme, h, company, EngagementState::Surveying).await;
        }
        ledger_with(s, &ctx, lake, "7.0.12").await;
        ledger_with(s, &ctx, hill, "7.0.14").await;
        // The real NVD record of CVE-2024-21762 (fixture of the advisories crate).
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../advisories/tests/fixtures/nvd/CVE-2024-21762.json"
        ))
        .expect("fixture");
        let parsed = mamori_advisories::nvd::parse_nvd(&bytes, "CVE-2024-21762.json");
        s.import_advisories(&op, &parsed.advisories, "CVE-2024-21762.json")
            .await
            .unwrap();

        let first = s.rematch_advisories(&op).await.unwrap();
        assert_eq!((first.advisories, first.assets, first.new), (1, 2, 1));
        let matches = s.advisory_matches(&op).await.unwrap();
        assert_eq!(matches.len(), 1);
        assert_eq!(
            matches[0].hospital_id, lake,
            "7.0.14 is just outside the range"
        );
        assert_eq!(
            (
                matches[0].method.as_str(),
                matches[0].confidence.as_str(),
                matches[0].state.as_str()
            ),
            ("cpe-range", "high", "unconfirmed")
        );
        // The hospital's staff triages its case; the state survives a re-match.
        use mamori_domain::policy::{Access, HospitalData};
        use mamori_domain::triage::TriageState;
        let staff = testing::add_account(s, lake, "it@lake.example.jp", Role::Member).await;
        let staff = AuditContext::for_actor(staff.actor(), staff.email.clone(), None);
        let write = |who: AuditContext, h| async move {
            s.authorize(&who, h, HospitalData::Matches, Access::Write)
                .await
                .expect("matches grant")
        };
        let id = matches[0].id;
        let g = write(staff.clone(), lake).await;
        let err = s
            .triage_match(&staff, &g, id, TriageState::NotAffected, " ")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("reason"), "{err}");
        let g = write(staff.clone(), lake).await;
        let err = s
            .triage_match(&staff, &g, id, TriageState::Resolved, "")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("allowed: affected, not-affected"),
            "{err}"
        );
        for (to, note) in [
            (TriageState::Affected, ""),
            (TriageState::InProgress, "保守業者に更新を依頼"),
        ] {
            let g = write(staff.clone(), lake).await;
            s.triage_match(&staff, &g, id, to, note).await.unwrap();
        }
        // Another hospital's staff does not reach it.
        let other = testing::add_account(s, hill, "it@hill.example.jp", Role::Member).await;
        let other = AuditContext::for_actor(other.actor(), other.email.clone(), None);
        let g = write(other.clone(), hill).await;
        assert!(matches!(
            s.triage_match(&other, &g, id, TriageState::Affected, "")
                .await,
            Err(StoreError::NotFound { .. })
        ));
        let g = s
            .authorize(&other, hill, HospitalData::Matches, Access::Read)
            .await
            .unwrap();
        assert!(s.hospital_matches(&other, &g).await.unwrap().is_empty());
        let again = s.rematch_advisories(&op).await.unwrap();
        assert_eq!((again.new, again.kept, again.withdrawn), (0, 1, 0));
        let g = s
            .authorize(&staff, lake, HospitalData::Matches, Access::Read)
            .await
            .unwrap();
        let mine = s.hospital_matches(&staff, &g).await.unwrap();
        assert_eq!(mine[0].state, "in-progress");
        // The hospital updates its FortiGate: the match is withdrawn, not lost.
        ledger_with(s, &ctx, lake, "7.0.14").await;
        let after = s.rematch_advisories(&op).await.unwrap();
        assert_eq!((after.new, after.kept, after.withdrawn), (0, 0, 1));
        let matches = s.advisory_matches(&op).await.unwrap();
        assert_eq!(matches[0].state, "withdrawn");
        // Only the operator or the secretariat runs it.
        assert!(s.rematch_advisories(&ctx).await.is_err());
        db
    })
    .await;
}
