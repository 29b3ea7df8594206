//! Vulnerability response through the pages and the JSON API, on every
//! backend: the hospital's staff see their case and its notice, triage it
//! (a 影響なし without a reason is refused naming the field, a step that is
//! not allowed names the allowed ones), every step is audited; the
//! secretariat's analyst confirms a match found by product name only and
//! that hospital is told; the ministry sees "N hospitals, M closed"; a
//! company sees no case.

mod common;

use common::{PASSWORD, TestApp, api};
use mamori_advisories::{Advisory, ProductStatement, ProductStatus, Source, VersionSpec};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::{AuditContext, testing};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_hospital_triages_its_case_an_analyst_confirms_the_unsure_and_the_ministry_counts() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let lake = app.org(OrgKind::Hospital, "湖畔病院").await;
        let hill = app.org(OrgKind::Hospital, "丘の上病院").await;
        let company = app.org(OrgKind::SurveyCompany, "調査A社").await;
        let secretariat = app.org(OrgKind::Secretariat, "事務局").await;
        let ministry = app.org(OrgKind::Ministry, "医療政策省").await;
        let programme = testing::add_programme(store, "令和8年度 調査").await;
        for h in [lake, hill] {
            testing::add_engagement(store, programme, h, company, EngagementState::Surveying).await;
        }
        let surveyor = app.account(company, "s@a.example.jp", Role::Member).await;
        let survey = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        for (h, version) in [(lake, "7.0.12"), (hill, "7.0.14")] {
            let g = store
                .authorize(&survey, h, HospitalData::Ledger, Access::Write)
                .await
                .unwrap();
            store
                .import_ledger(
                    &survey,
                    &g,
                    &testing::ledger_with_fortigate(version),
                    mamori_store::ChangeSource::Import,
                )
                .await
                .unwrap();
        }
        let analyst = app
            .account(secretariat, "analyst@example.jp", Role::Member)
            .await;
        let analyst_ctx = AuditContext::for_actor(analyst.actor(), analyst.email.clone(), None);
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../advisories/tests/fixtures/nvd/CVE-2024-21762.json"
        ))
        .unwrap();
        let mut batch = mamori_advisories::nvd::parse_nvd(&bytes, "CVE-2024-21762.json").advisories;
        let mut vague = Advisory::new("JVNVU#00000001", Source::Jvn);
        vague.title = "FortiGate に複数の脆弱性".into();
        vague.products.push(ProductStatement {
            vendor: "フォーティネット".into(),
            product: "FortiGate".into(),
            cpes: Vec::new(),
            versions: vec![VersionSpec::All],
            status: ProductStatus::Affected,
            model_numbers: Vec::new(),
            skus: Vec::new(),
            serial_numbers: Vec::new(),
            purls: Vec::new(),
            product_id: None,
        });
        batch.push(vague);
        let imported = store
            .import_advisories(&analyst_ctx, &batch, "test")
            .await
            .unwrap();
        let summary = store
            .match_advisories(&analyst_ctx, Some(&imported.changed))
            .await
            .unwrap();
        assert_eq!(
            (summary.new, summary.to_confirm, summary.notices),
            (3, 2, 1),
            "{label}"
        );

        // The hospital's staff, in the browser.
        let staff = app.account(lake, "it@lake.example.jp", Role::Member).await;
        let b = app.browser();
        b.login(&staff.email, PASSWORD).await;
        let page = b.get(&format!("/hospitals/{}/advisories", lake.0)).await;
        assert_eq!(page.status, 200, "{label}");
        assert!(
            page.body.contains("CVE-2024-21762") && page.body.contains("FW-01"),
            "{label}"
        );
        assert!(
            !page.body.contains("JVNVU#00000001"),
            "{label}: waits for an analyst"
        );
        assert!(page.body.contains("悪用あり"), "{label}: KEV shown");
        let notice = b
            .get(&format!("/hospitals/{}/advisories/notices/1", lake.0))
            .await;
        assert_eq!(notice.status, 200, "{label}");
        assert!(
            notice.body.contains("通知 第1号")
                && notice.body.contains("保守ベンダーA")
                && notice.body.contains("対策"),
            "{label}: {}",
            notice.body
        );
        let (_, cases) = api(
            &app,
            &app.token(&staff).await,
            Method::GET,
            &format!("/api/v1/hospitals/{}/advisory-matches", lake.0),
            None,
        )
        .await;
        let case = cases["matches"][0]["id"].as_i64().expect("a case");
        let step_path = format!("/hospitals/{}/advisories/{case}/step", lake.0);
        let from = format!("/hospitals/{}/advisories", lake.0);
        let refused = b
            .submit(
                &from,
                &step_path,
                &[("state", "not-affected"), ("note", " ")],
            )
            .await;
        assert_eq!(refused.status, 422, "{label}");
        assert!(refused.body.contains("理由"), "{label}: {}", refused.body);
        let done = b
            .submit(
                &from,
                &step_path,
                &[("state", "affected"), ("note", ""), ("due", "")],
            )
            .await;
        assert_eq!(done.status, 303, "{label}: {}", done.body);
        let page = b.get(&from).await;
        assert!(page.body.contains("影響あり"), "{label}");

        // The same through the API, with a new due date.
        let token = app.token(&staff).await;
        let steps = format!("/api/v1/hospitals/{}/advisory-matches/{case}/steps", lake.0);
        let (status, body) = api(
            &app,
            &token,
            Method::POST,
            &steps,
            Some(json!({"state": "unconfirmed"})),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("allowed: in-progress"),
            "{label}: {body}"
        );
        let (status, body) = api(
            &app,
            &token,
            Method::POST,
            &steps,
            Some(json!({"state": "in-progress", "note": "保守ベンダーに更新を依頼", "due_on": "2026-12-15"})),
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["due_on"], "2026-12-15", "{label}");
        let (status, body) = api(
            &app,
            &token,
            Method::POST,
            &steps,
            Some(json!({"state": "resolved", "note": "7.0.14 に更新"})),
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        let (_, history) = api(&app, &token, Method::GET, &steps, None).await;
        assert_eq!(
            history["steps"].as_array().map(Vec::len),
            Some(3),
            "{label}"
        );

        // A company sees no case; another hospital's staff neither.
        let (status, _) = api(
            &app,
            &app.token(&surveyor).await,
            Method::POST,
            &steps,
            Some(json!({"state": "in-progress"})),
        )
        .await;
        assert_eq!(status, 403, "{label}");

        // The analyst confirms the vague statement for 丘の上病院, dismisses 湖畔's.
        let a = app.browser();
        a.login(&analyst.email, PASSWORD).await;
        let queue = a.get("/advisories").await;
        assert_eq!(queue.status, 200, "{label}");
        assert!(
            queue.body.contains("JVNVU#00000001") && queue.body.contains("丘の上病院"),
            "{label}"
        );
        let analyst_token = app.token(&analyst).await;
        let (_, pending) = api(
            &app,
            &analyst_token,
            Method::GET,
            "/api/v1/advisory-matches?review=pending",
            None,
        )
        .await;
        let pending = pending["matches"].as_array().cloned().unwrap_or_default();
        assert_eq!(pending.len(), 2, "{label}");
        let id_for = |h: i64| {
            pending
                .iter()
                .find(|m| m["hospital_id"] == h)
                .and_then(|m| m["id"].as_i64())
                .unwrap()
        };
        let confirmed = a
            .submit(
                "/advisories",
                &format!("/advisories/matches/{}/review", id_for(hill.0)),
                &[("decision", "confirmed")],
            )
            .await;
        assert_eq!(confirmed.status, 303, "{label}: {}", confirmed.body);
        let (status, body) = api(
            &app,
            &analyst_token,
            Method::POST,
            &format!("/api/v1/advisory-matches/{}/review", id_for(lake.0)),
            Some(json!({"decision": "dismissed"})),
        )
        .await;
        assert_eq!(status, 422, "{label}: a dismissal needs a reason: {body}");
        let (status, _) = api(
            &app,
            &analyst_token,
            Method::POST,
            &format!("/api/v1/advisory-matches/{}/review", id_for(lake.0)),
            Some(json!({"decision": "dismissed", "note": "CVE-2024-21762 と同一"})),
        )
        .await;
        assert_eq!(status, 200, "{label}");
        let hill_staff = app.account(hill, "it@hill.example.jp", Role::Member).await;
        let (_, notices) = api(
            &app,
            &app.token(&hill_staff).await,
            Method::GET,
            &format!("/api/v1/hospitals/{}/advisory-notices", hill.0),
            None,
        )
        .await;
        assert_eq!(
            notices["notices"][0]["notice"]["advisories"][0]["id"], "JVNVU#00000001",
            "{label}"
        );

        // The ministry: counts only.
        let m = app.account(ministry, "m@example.jp", Role::Member).await;
        let mb = app.browser();
        mb.login(&m.email, PASSWORD).await;
        let overview = mb.get("/advisories").await;
        assert_eq!(overview.status, 200, "{label}");
        assert!(
            overview.body.contains("1医療機関が該当、1医療機関が完了"),
            "{label}: {}",
            overview.body
        );
        assert!(
            !overview.body.contains("湖畔病院") && !overview.body.contains("analyst-queue"),
            "{label}"
        );
        let (status, _) = api(
            &app,
            &app.token(&m).await,
            Method::GET,
            "/api/v1/advisory-matches",
            None,
        )
        .await;
        assert_eq!(
            status, 403,
            "{label}: the ministry never lists hospitals' cases"
        );

        // Every step is in the audit log.
        let audit = a.get("/audit?action=advisories.match-triaged").await;
        assert_eq!(audit.body.matches("<tr").count() - 1, 3, "{label}");
        let reviewed = a.get("/audit?action=advisories.match-reviewed").await;
        assert_eq!(reviewed.body.matches("<tr").count() - 1, 2, "{label}");
        // The OpenAPI document lists the operations.
        let spec = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            spec.contains("/api/v1/hospitals/{id}/advisory-matches/{case}/steps")
                && spec.contains("/api/v1/advisories/responses"),
            "{label}"
        );
    }
}
