//! Statistics through the pages, the public page and the API, on every
//! backend: a draft shows its drafter each suppressed cell and why; k below
//! 3 is refused naming k; the drafter cannot publish, a second member does;
//! the public page works without login and names no hospital; exports
//! download; the ministry reads the release without reasons.

mod common;

use common::{PASSWORD, TestApp};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::{AuditContext, testing};
use serde_json::{Value, json};

#[tokio::test]
async fn statistics_are_drafted_checked_published_by_a_second_person_and_read_without_login() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let company = app.org(OrgKind::SurveyCompany, "調査A社").await;
        let surveyor = app.account(company, "s@a.example.jp", Role::Member).await;
        let survey = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        let programme = testing::add_programme(store, "令和8年度 調査").await;
        for n in 0..6 {
            let h = app.org(OrgKind::Hospital, &format!("さくら{n}病院")).await;
            testing::add_engagement(store, programme, h, company, EngagementState::Surveying).await;
            let g = store
                .authorize(&survey, h, HospitalData::Ledger, Access::Write)
                .await
                .unwrap();
            let mut ledger = testing::complete_ledger();
            ledger.backups[0].offline_copy = Some(n % 3 == 0);
            store
                .import_ledger(&survey, &g, &ledger, mamori_store::ChangeSource::Import)
                .await
                .unwrap();
        }
        let secretariat = app.org(OrgKind::Secretariat, "事務局").await;
        let one = app
            .account(secretariat, "one@example.jp", Role::Member)
            .await;
        let two = app
            .account(secretariat, "two@example.jp", Role::Member)
            .await;

        let b = app.browser();
        b.login(&one.email, PASSWORD).await;
        let refused = b
            .submit(
                "/statistics",
                "/statistics",
                &[
                    ("title", "集計"),
                    ("audience", "public"),
                    ("k", "2"),
                    ("programme", ""),
                ],
            )
            .await;
        assert_eq!(refused.status, 422, "{label}");
        assert!(
            refused.body.contains("k は 3 以上"),
            "{label}: {}",
            refused.body
        );
        let drafted = b
            .submit(
                "/statistics",
                "/statistics",
                &[
                    ("title", "令和8年度 集計結果"),
                    ("audience", "public"),
                    ("k", "5"),
                    ("programme", ""),
                ],
            )
            .await;
        assert_eq!(drafted.status, 303, "{label}: {}", drafted.body);
        let at = drafted.location.clone().unwrap();
        let path = at.split('?').next().unwrap().to_string();
        let page = b.get(&path).await;
        assert!(
            page.body.contains("秘匿したセル") && page.body.contains("<svg"),
            "{label}"
        );
        assert!(
            page.body.contains("suppressed-cell")
                && page.body.contains("全施設が同じ回答のため秘匿"),
            "{label}: the drafter sees each suppressed cell and why"
        );
        let own = b
            .submit(
                &path,
                &format!("{path}/decision"),
                &[("decision", "published")],
            )
            .await;
        assert_eq!(own.status, 422, "{label}");
        assert!(own.body.contains("別の人"), "{label}: {}", own.body);
        let b2 = app.browser();
        b2.login(&two.email, PASSWORD).await;
        let published = b2
            .submit(
                &path,
                &format!("{path}/decision"),
                &[("decision", "published")],
            )
            .await;
        assert_eq!(published.status, 303, "{label}: {}", published.body);

        // Anyone, without logging in.
        let anon = app.browser();
        let list = anon.get("/public/statistics").await;
        assert_eq!(list.status, 200, "{label}");
        assert!(list.body.contains("令和8年度 集計結果"), "{label}");
        let public = anon.get("/public/statistics/1").await;
        assert_eq!(public.status, 200, "{label}");
        assert!(
            public.body.contains("<svg") && public.body.contains("秘匿"),
            "{label}"
        );
        assert!(
            !public.body.contains("秘匿したセル") && !public.body.contains("全施設が同じ回答"),
            "{label}: no reasons in public"
        );
        let hospitals: Vec<String> = store
            .all_organisations()
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o.kind == OrgKind::Hospital)
            .map(|o| o.name)
            .collect();
        for name in &hospitals {
            assert!(
                !public.body.contains(name.as_str()),
                "{label}: {name} on the public page"
            );
        }
        assert!(!public.body.contains("one@example.jp") && !public.body.contains("two@example.jp"));
        let (status, _, csv) = anon.bytes("/public/statistics/1/export/csv").await;
        assert_eq!(status, 200, "{label}");
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.contains("令和8年度 集計結果"), "{label}");
        for name in &hospitals {
            assert!(!csv.contains(name.as_str()), "{label}");
        }
        let (status, _, xlsx) = anon.bytes("/public/statistics/1/export/xlsx").await;
        assert_eq!((status, &xlsx[..2]), (200, &b"PK"[..]), "{label}");
        let (status, _, pdf) = anon.bytes("/public/statistics/1/export/pdf").await;
        assert_eq!((status, &pdf[..4]), (200, &b"%PDF"[..]), "{label}");
        assert_eq!(
            anon.get("/public/statistics/99").await.status,
            404,
            "{label}"
        );

        // The ministry over the API: published, reasons withheld; a company is refused.
        let ministry = app.org(OrgKind::Ministry, "医療政策省").await;
        let m = app.account(ministry, "m@example.jp", Role::Member).await;
        let client = reqwest::Client::new();
        let response = client
            .get(app.url("/api/v1/statistics"))
            .bearer_auth(app.token(&m).await)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{label}");
        let body: Value = response.json().await.unwrap();
        let text = body.to_string();
        assert!(
            text.contains("withheld") && !text.contains("too-few"),
            "{label}: {text}"
        );
        let response = client
            .post(app.url("/api/v1/statistics"))
            .bearer_auth(app.token(&surveyor).await)
            .json(&json!({"audience": "public", "title": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{label}");
        let response = client
            .post(app.url("/api/v1/statistics"))
            .bearer_auth(app.token(&one).await)
            .json(&json!({"audience": "ministry", "title": "x", "k": 2}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{label}");
        let audit = b.get("/audit?action=statistics.published").await;
        assert!(audit.body.contains("statistics:1"), "{label}");
    }
}
