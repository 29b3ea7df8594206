//! Advisories as stored, on SQLite and (when configured) PostgreSQL: a
//! record imported twice changes nothing, a changed one replaces it, every
//! alias finds it, and only the operator or the secretariat imports.

use mamori_advisories::{Advisory, Source};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use mamori_store::{AuditContext, MatchQuery, StoreError};

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
        assert_eq!((first.new, first.updated, first.unchanged), (2, 0, 0));
        assert_eq!(first.changed.len(), 2, "both are to be matched");
        let again = s
            .import_advisories(&op, &[nvd.clone(), jvn()], "batch-1")
            .await
            .unwrap();
        assert_eq!((again.new, again.updated, again.unchanged), (0, 0, 2));
        assert!(again.changed.is_empty(), "nothing to match again");
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
        let matches = s
            .advisory_matches(&op, &MatchQuery::default())
            .await
            .unwrap();
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
            .triage_match(&staff, &g, id, TriageState::NotAffected, " ", None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("reason"), "{err}");
        let g = write(staff.clone(), lake).await;
        let err = s
            .triage_match(&staff, &g, id, TriageState::Resolved, "", None)
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
            s.triage_match(&staff, &g, id, to, note, None)
                .await
                .unwrap();
        }
        // Another hospital's staff does not reach it.
        let other = testing::add_account(s, hill, "it@hill.example.jp", Role::Member).await;
        let other = AuditContext::for_actor(other.actor(), other.email.clone(), None);
        let g = write(other.clone(), hill).await;
        assert!(matches!(
            s.triage_match(&other, &g, id, TriageState::Affected, "", None)
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
        let matches = s
            .advisory_matches(&op, &MatchQuery::default())
            .await
            .unwrap();
        assert_eq!(matches[0].state, "withdrawn");
        // Only the operator or the secretariat runs it.
        assert!(s.rematch_advisories(&ctx).await.is_err());
        db
    })
    .await;
}

/// A ledger whose asset is maintained by a vendor the management
/// structure names, so the notice can address it.
async fn ledger_with_contacts(
    s: &mamori_store::Store,
    company: &AuditContext,
    hospital: mamori_domain::OrgId,
    version: &str,
) {
    use mamori_domain::ledger::{Cells, RowRecord, StructureRole};
    use mamori_domain::policy::{Access, HospitalData};
    let mut vpn = asset("VPN-01", version);
    vpn.maintenance_vendor = "つばさ医療システム".into();
    let role = |cells: &[(&str, &str)]| {
        let map: std::collections::BTreeMap<String, String> = cells
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StructureRole::from_cells(&Cells::from_map::<StructureRole>(&map)).expect("a valid role")
    };
    let ledger = mamori_domain::ledger::Ledger {
        assets: vec![vpn],
        roles: vec![
            role(&[
                ("key", "R-01"),
                ("kind", "システム管理者"),
                ("title", "情報システム室長"),
                ("organisation", "情報システム室"),
                ("business_email", "it-office@lake.example.jp"),
            ]),
            role(&[
                ("key", "R-02"),
                ("kind", "ベンダー"),
                ("title", "電子カルテ保守"),
                ("organisation", "つばさ医療システム株式会社"),
                ("business_email", "support@tsubasa.example.jp"),
            ]),
        ],
        ..Default::default()
    };
    let g = s
        .authorize(company, hospital, HospitalData::Ledger, Access::Write)
        .await
        .expect("ledger grant");
    s.import_ledger(company, &g, &ledger, mamori_store::ChangeSource::Import)
        .await
        .expect("ledger");
}

#[tokio::test]
async fn hospitals_are_told_only_of_sure_cases_an_analyst_confirms_the_rest_and_untouched_cases_escalate()
 {
    use mamori_advisories::{KevFlag, ProductStatement, ProductStatus, VersionSpec};
    use mamori_domain::engagement::EngagementState;
    let statement = |vendor: &str, product: &str| ProductStatement {
        vendor: vendor.into(),
        product: product.into(),
        cpes: Vec::new(),
        versions: vec![VersionSpec::All],
        status: ProductStatus::Affected,
        model_numbers: Vec::new(),
        skus: Vec::new(),
        serial_numbers: Vec::new(),
        purls: Vec::new(),
        product_id: None,
    };
    use mamori_domain::policy::{Access, HospitalData};
    use mamori_domain::triage::{MatchReview, TriageState};
    use time::macros::date;
    testing::each_backend(|db| async move {
        let s = &db.store;
        s.clock().set_today(date!(2026 - 11 - 02));
        let op = AuditContext::operator("test");
        let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
        let surveyor = testing::add_account(s, company, "a@example.jp", Role::Member).await;
        let survey = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        let programme = testing::add_programme(s, "令和8年度 調査").await;
        let lake = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
        let hill = testing::add_org(s, OrgKind::Hospital, "丘の上病院").await;
        for h in [lake, hill] {
            testing::add_engagement(s, programme, h, company, EngagementState::Surveying).await;
        }
        ledger_with_contacts(s, &survey, lake, "7.0.12").await;
        ledger_with(s, &survey, hill, "7.0.14").await;
        let secretariat_org = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
        let analyst = testing::add_account(s, secretariat_org, "analyst@example.jp", Role::Member).await;
        let analyst = AuditContext::for_actor(analyst.actor(), analyst.email.clone(), None);
        let ministry_org = testing::add_org(s, OrgKind::Ministry, "医療政策省").await;
        let ministry = testing::add_account(s, ministry_org, "m@example.jp", Role::Member).await;
        let ministry = AuditContext::for_actor(ministry.actor(), ministry.email.clone(), None);
        let lake_staff = testing::add_account(s, lake, "it@lake.example.jp", Role::Member).await;
        let lake_ctx = AuditContext::for_actor(lake_staff.actor(), lake_staff.email.clone(), None);
        let hill_staff = testing::add_account(s, hill, "it@hill.example.jp", Role::Member).await;
        let hill_ctx = AuditContext::for_actor(hill_staff.actor(), hill_staff.email.clone(), None);

        // The real NVD record, KEV's entry for the same CVE, and a vendor
        // statement naming FortiGate without versions (sure of nothing).
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../advisories/tests/fixtures/nvd/CVE-2024-21762.json"
        ))
        .expect("fixture");
        let mut batch = mamori_advisories::nvd::parse_nvd(&bytes, "CVE-2024-21762.json").advisories;
        let mut kev = Advisory::new("CVE-2024-21762", Source::Kev);
        kev.kev = Some(KevFlag {
            date_added: Some(date!(2024 - 02 - 09)),
            due_date: Some(date!(2026 - 11 - 20)),
            required_action: "Apply mitigations per vendor instructions".into(),
            ransomware: true,
        });
        kev.products.push(statement("Fortinet", "FortiOS"));
        let mut vague = Advisory::new("JVNVU#00000001", Source::Jvn);
        vague.title = "FortiGate に複数の脆弱性".into();
        vague.products.push(statement("フォーティネット", "FortiGate"));
        batch.push(kev);
        batch.push(vague);
        let imported = s.import_advisories(&op, &batch, "batch").await.unwrap();
        let summary = s.match_advisories(&op, Some(&imported.changed)).await.unwrap();
        assert_eq!(
            (summary.new, summary.to_confirm, summary.notices),
            (3, 2, 1),
            "the NVD range for 湖畔 (told at once), the vague statement for both (waiting); KEV only lends its flag"
        );

        let read = |who: AuditContext, h| async move {
            s.authorize(&who, h, HospitalData::Matches, Access::Read)
                .await
                .expect("read grant")
        };
        let g = read(lake_ctx.clone(), lake).await;
        let cases = s.hospital_matches(&lake_ctx, &g).await.unwrap();
        assert_eq!(cases.len(), 1, "{cases:?}");
        assert_eq!(cases[0].advisory, "CVE-2024-21762");
        assert_eq!(
            cases[0].kev_due.as_deref(),
            Some("2024-02-16"),
            "NVD's own KEV date"
        );
        assert_eq!(
            cases[0].due_on.as_deref(),
            Some("2026-11-02"),
            "KEV's date has passed: due now, not in 14 days"
        );
        let g = read(lake_ctx.clone(), lake).await;
        let notices = s.hospital_notices(&lake_ctx, &g).await.unwrap();
        assert_eq!(notices.len(), 1);
        let n = &notices[0].notice;
        assert_eq!((notices[0].number, n.hospital.as_str()), (1, "湖畔病院"));
        assert!(n.advisories[0].kev.is_some());
        assert_eq!(n.advisories[0].assets[0].key, "VPN-01");
        let emails: Vec<&str> = n.recipients.iter().map(|r| r.email.as_str()).collect();
        assert_eq!(emails, ["it-office@lake.example.jp", "support@tsubasa.example.jp"]);
        let told = s.notifications_for(lake_staff.id, 10).await.unwrap();
        assert!(told.iter().any(|t| t.kind == mamori_store::NotificationKind::AdvisoryNotice));
        let g = read(hill_ctx.clone(), hill).await;
        assert!(s.hospital_matches(&hill_ctx, &g).await.unwrap().is_empty());

        // The analyst works the queue: only the secretariat may.
        let pending = s
            .advisory_matches(
                &analyst,
                &MatchQuery {
                    review: Some("pending".into()),
                    ..MatchQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(pending.len(), 2);
        assert!(matches!(
            s.review_match(&survey, pending[0].id, MatchReview::Confirmed, "").await,
            Err(StoreError::Forbidden(_))
        ));
        let hill_case = pending.iter().find(|p| p.hospital_id == hill).unwrap();
        let lake_case = pending.iter().find(|p| p.hospital_id == lake).unwrap();
        let err = s
            .review_match(&analyst, lake_case.id, MatchReview::Dismissed, " ")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("reason"), "{err}");
        s.review_match(&analyst, lake_case.id, MatchReview::Dismissed, "CVE-2024-21762 と同一")
            .await
            .unwrap();
        let confirmed = s
            .review_match(&analyst, hill_case.id, MatchReview::Confirmed, "")
            .await
            .unwrap();
        assert_eq!(confirmed.review, "confirmed");
        assert!(confirmed.notice_id.is_some(), "丘の上病院 is told at once");
        let g = read(hill_ctx.clone(), hill).await;
        assert_eq!(s.hospital_matches(&hill_ctx, &g).await.unwrap().len(), 1);

        // The secretariat and the ministry follow the counts; a hospital may not.
        let responses = s.advisory_responses(&ministry).await.unwrap();
        let nvd = responses.iter().find(|r| r.advisory == "CVE-2024-21762").unwrap();
        assert_eq!((nvd.hospitals, nvd.closed, nvd.kev), (1, 0, true));
        assert!(s.advisory_responses(&lake_ctx).await.is_err());

        // A week later nobody at either hospital has looked: both escalate, once.
        s.clock().set_today(date!(2026 - 11 - 10));
        assert_eq!(s.escalate_cases().await.unwrap(), 2);
        assert_eq!(s.escalate_cases().await.unwrap(), 0);
        let escalated = s
            .advisory_matches(
                &analyst,
                &MatchQuery {
                    escalated_only: true,
                    ..MatchQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(escalated.len(), 2);

        // 湖畔 closes its case, moving the due date on the way.
        let id = cases[0].id;
        for (to, note, due) in [
            (TriageState::Affected, "", None),
            (TriageState::InProgress, "保守業者に更新を依頼", Some(date!(2026 - 11 - 30))),
            (TriageState::Resolved, "7.0.14 に更新", None),
        ] {
            let g = s
                .authorize(&lake_ctx, lake, HospitalData::Matches, Access::Write)
                .await
                .unwrap();
            let m = s.triage_match(&lake_ctx, &g, id, to, note, due).await.unwrap();
            assert_eq!(m.due_on.as_deref(), Some(if due.is_some() || to == TriageState::Resolved { "2026-11-30" } else { "2026-11-02" }));
        }
        let g = read(lake_ctx.clone(), lake).await;
        let steps = s.match_steps(&lake_ctx, &g, id).await.unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[1].due_on.as_deref(), Some("2026-11-30"));
        let responses = s.advisory_responses(&analyst).await.unwrap();
        let nvd = responses.iter().find(|r| r.advisory == "CVE-2024-21762").unwrap();
        assert_eq!((nvd.hospitals, nvd.closed), (1, 1));
        db
    })
    .await;
}

#[tokio::test]
async fn a_catalogue_correction_matches_every_advisory_again() {
    use mamori_advisories::{ProductStatement, ProductStatus, VersionRange, VersionSpec};
    use mamori_domain::engagement::EngagementState;
    use mamori_domain::ledger::{Asset, Cells, DeviceModel, RowRecord};
    use mamori_domain::policy::{Access, HospitalData};
    testing::each_backend(|db| async move {
        let s = &db.store;
        let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
        let surveyor = testing::add_account(s, company, "a@example.jp", Role::Member).await;
        let survey = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        let secretariat_org = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
        let analyst =
            testing::add_account(s, secretariat_org, "analyst@example.jp", Role::Member).await;
        let analyst = AuditContext::for_actor(analyst.actor(), analyst.email.clone(), None);
        let programme = testing::add_programme(s, "令和8年度 調査").await;
        let lake = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
        testing::add_engagement(s, programme, lake, company, EngagementState::Surveying).await;
        let cells = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let model = |product: &str| {
            DeviceModel::from_cells(&Cells::from_map::<DeviceModel>(&cells(&[
                ("key", "fortinet-60f"),
                ("kind", "VPN装置"),
                ("vendor", "Fortinet"),
                ("product", product),
                ("model", "60F"),
            ])))
            .expect("a valid model")
        };
        // The secretariat first files the model under the wrong product.
        s.save_device_model(&analyst, &model("FortiWiFi"), None)
            .await
            .unwrap();
        // The surveyor records only the model and its firmware.
        let asset = Asset::from_cells(&Cells::from_map::<Asset>(&cells(&[
            ("key", "VPN-01"),
            ("kind", "VPN装置"),
            ("name", "保守用VPN"),
            ("model_ref", "fortinet-60f"),
            ("version", "7.0.12"),
        ])))
        .expect("a valid asset");
        let g = s
            .authorize(&survey, lake, HospitalData::Ledger, Access::Write)
            .await
            .unwrap();
        let ledger = mamori_domain::ledger::Ledger {
            assets: vec![asset],
            ..Default::default()
        };
        s.import_ledger(&survey, &g, &ledger, mamori_store::ChangeSource::Import)
            .await
            .unwrap();
        let mut advisory = Advisory::new("JVNVU#00000002", Source::Jvn);
        advisory.products.push(ProductStatement {
            vendor: "フォーティネット".into(),
            product: "FortiGate".into(),
            cpes: Vec::new(),
            versions: vec![VersionSpec::Range {
                range: VersionRange {
                    start: None,
                    end: Some(mamori_advisories::Bound {
                        version: "7.0.14".into(),
                        inclusive: false,
                    }),
                },
            }],
            status: ProductStatus::Affected,
            model_numbers: Vec::new(),
            skus: Vec::new(),
            serial_numbers: Vec::new(),
            purls: Vec::new(),
            product_id: None,
        });
        let imported = s
            .import_advisories(&analyst, &[advisory], "jvn")
            .await
            .unwrap();
        let first = s
            .match_advisories(&analyst, Some(&imported.changed))
            .await
            .unwrap();
        assert_eq!(first.new, 0, "a FortiWiFi is not a FortiGate");
        // Correcting the catalogue matches again by itself: the asset takes the model's names.
        s.save_device_model(&analyst, &model("FortiGate"), Some(1))
            .await
            .unwrap();
        let found = s
            .advisory_matches(&analyst, &MatchQuery::default())
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (
                found[0].asset.as_str(),
                found[0].method.as_str(),
                found[0].confidence.as_str()
            ),
            ("VPN-01", "name-version", "medium")
        );
        assert!(found[0].notice_id.is_some(), "the hospital is told");
        db
    })
    .await;
}
