//! The web application through HTTP: pages, forms, CSRF, headers, API.

mod common;

use common::{Browser, PASSWORD, TestApp};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::{credentials, testing};

#[tokio::test]
async fn secretariat_logs_in_creates_a_hospital_and_a_user_and_the_audit_log_shows_it() {
    let app = TestApp::start(testing::sqlite().await).await;
    let sec = app.org(OrgKind::Secretariat, "研究事務局").await;
    app.account(sec, "sec@example.jp", Role::Admin).await;
    let b = app.browser();

    let login = b.get("/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("<html lang=\"ja\">"));
    assert!(login.body.contains("ログイン"));
    let done = b.login("sec@example.jp", PASSWORD).await;
    assert_eq!(done.location.as_deref(), Some("/dashboard"));
    let dashboard = b.get("/dashboard").await;
    assert!(
        dashboard.body.contains("研究事務局ダッシュボード"),
        "{}",
        dashboard.body
    );

    let created = b
        .submit(
            "/organisations",
            "/organisations",
            &[
                ("kind", "hospital"),
                ("name", "松江テスト病院"),
                ("prefecture", "32"),
                ("beds", "350"),
                ("founder", "public"),
                ("route", "open-call"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let hospital_page = created.location.unwrap();
    let page = b.get(&hospital_page).await;
    assert!(
        page.body.contains("松江テスト病院")
            && page.body.contains("島根県")
            && page.body.contains("350")
    );

    let id = hospital_page
        .trim_start_matches("/organisations/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let added = b
        .submit(
            &format!("/organisations/{id}"),
            &format!("/organisations/{id}/accounts"),
            &[
                ("display_name", "山田 花子"),
                ("email", "hanako@example.jp"),
                ("role", "admin"),
                ("language", "ja"),
            ],
        )
        .await;
    assert_eq!(added.status, 200);
    assert!(added.body.contains("hanako@example.jp") && added.body.contains("この画面でのみ表示"));

    let audit = b.get("/audit").await;
    assert!(
        audit.body.contains("組織登録")
            && audit.body.contains("利用者追加")
            && audit.body.contains("ログイン成功"),
        "{}",
        audit.body
    );
    let filtered = b.get("/audit?action=account.created").await;
    assert!(
        filtered.body.contains("hanako@example.jp")
            && !filtered.body.contains("<td>ログイン成功</td>")
    );
    let in_range = b.get("/audit?from=2000-01-01&until=2100-12-31").await;
    assert!(in_range.body.contains("<td>組織登録</td>"));
    let future = b.get("/audit?from=2100-01-01").await;
    assert!(future.body.contains("該当する記録はありません"));
    let bad_date = b.get("/audit?from=01/02/2026").await;
    assert_eq!(bad_date.status, 400);
    assert!(bad_date.body.contains("YYYY-MM-DD"));
    let csv = b.get("/audit.csv?action=organisation.created").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(csv.body.contains("松江テスト病院") && csv.body.contains("organisation.created"));
    assert!(app.store().verify_audit_chain().await.unwrap().is_ok());
}

#[tokio::test]
async fn second_factor_login_with_totp_and_recovery_code() {
    let app = TestApp::start(testing::sqlite().await).await;
    let sec = app.org(OrgKind::Secretariat, "研究事務局").await;
    app.account(sec, "sec@example.jp", Role::Admin).await;
    let b = app.browser();
    b.login("sec@example.jp", PASSWORD).await;
    assert_eq!(
        b.submit("/account", "/account/totp/begin", &[])
            .await
            .status,
        303
    );
    let account = b.get("/account").await;
    assert!(account.body.contains("<svg"), "QR code drawn inline");
    let marker = "class=\"secret-key\">";
    let start = account.body.find(marker).unwrap() + marker.len();
    let secret = account.body[start..].split('<').next().unwrap().to_string();
    let now = (mamori_store::now_ms() / 1000) as u64;
    let wrong = b
        .submit("/account", "/account/totp/confirm", &[("code", "123456x")])
        .await;
    assert_eq!(wrong.status, 422);
    let confirmed = b
        .submit(
            "/account",
            "/account/totp/confirm",
            &[("code", &credentials::totp_code(&secret, now).unwrap())],
        )
        .await;
    assert_eq!(confirmed.status, 200);
    let codes: Vec<String> = confirmed
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);

    // A new browser: password first, then the code.
    let b2 = app.browser();
    let step1 = b2.login("sec@example.jp", PASSWORD).await;
    assert_eq!(step1.location.as_deref(), Some("/login/second-factor"));
    assert_eq!(
        b2.get("/dashboard").await.location.as_deref(),
        Some("/login/second-factor")
    );
    let bad = b2
        .submit(
            "/login/second-factor",
            "/login/second-factor",
            &[("code", "000000")],
        )
        .await;
    assert_eq!(bad.status, 401);
    let next_code = credentials::totp_code(&secret, now + 30).unwrap();
    let ok = b2
        .submit(
            "/login/second-factor",
            "/login/second-factor",
            &[("code", &next_code)],
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/dashboard"));
    assert_eq!(b2.get("/dashboard").await.status, 200);

    let b3 = app.browser();
    b3.login("sec@example.jp", PASSWORD).await;
    let ok = b3
        .submit(
            "/login/second-factor",
            "/login/second-factor",
            &[("code", &codes[3])],
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/dashboard"));

    // Log out everywhere ends every session.
    b3.submit("/account", "/account/logout-everywhere", &[])
        .await;
    assert_eq!(
        b2.get("/dashboard").await.location.as_deref(),
        Some("/login")
    );
    assert_eq!(
        b.get("/dashboard").await.location.as_deref(),
        Some("/login")
    );
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::start(testing::sqlite().await).await;
    let sec = app.org(OrgKind::Secretariat, "研究事務局").await;
    app.account(sec, "sec@example.jp", Role::Admin).await;
    let b = app.browser();
    // Login itself needs the token.
    let no_token = b
        .post(
            "/login",
            &[("email", "sec@example.jp"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(no_token.status, 403);
    b.login("sec@example.jp", PASSWORD).await;
    let before = app.store().all_organisations().await.unwrap().len();
    let missing = b
        .post(
            "/organisations",
            &[("kind", "vendor"), ("name", "偽ベンダー")],
        )
        .await;
    assert_eq!(missing.status, 403);
    assert!(missing.body.contains("フォームの有効期限"));
    let wrong = b
        .post(
            "/organisations",
            &[
                ("csrf", "forged-token-forged-token"),
                ("kind", "vendor"),
                ("name", "偽ベンダー"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(app.store().all_organisations().await.unwrap().len(), before);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::start(testing::sqlite().await).await;
    let sec = app.org(OrgKind::Secretariat, "研究事務局").await;
    app.account(sec, "sec@example.jp", Role::Admin).await;
    let b = app.browser();
    let unknown = b.login("nobody@example.jp", PASSWORD).await;
    let wrong = b.login("sec@example.jp", "not the password").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    let message = "メールアドレスまたはパスワードが正しくありません";
    assert!(unknown.body.contains(message) && wrong.body.contains(message));
    for _ in 0..4 {
        b.login("sec@example.jp", "not the password").await;
    }
    // Locked now: still the same message (a stranger learns nothing), but
    // the audit log knows.
    let locked = b.login("sec@example.jp", PASSWORD).await;
    assert!(locked.body.contains(message), "{}", locked.body);
    let lockouts = app
        .store()
        .audit_page(
            None,
            &mamori_store::AuditFilter {
                action: Some("login.locked-out".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(lockouts.records.len(), 1);
}

#[tokio::test]
async fn pages_carry_security_headers_and_errors_hide_internals() {
    let app = TestApp::start(testing::sqlite().await).await;
    let b = app.browser();
    let login = b.get("/login").await;
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert_eq!(login.headers["referrer-policy"], "no-referrer");
    assert!(
        login.headers.get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );
    let cookie = login.headers["set-cookie"].to_str().unwrap().to_lowercase();
    assert!(cookie.contains("httponly") && cookie.contains("samesite=lax"));
    assert!(!login.body.contains("<script>"), "no inline script");
    // The framework's own refusals come back as our Japanese page too.
    b.login("nobody@example.jp", "x").await;
    let sec = app.org(OrgKind::Secretariat, "事務局").await;
    app.account(sec, "sec@example.jp", Role::Admin).await;
    b.login("sec@example.jp", PASSWORD).await;
    let bad_path = b.get("/organisations/not-a-number").await;
    assert_eq!(bad_path.status, 400);
    assert!(
        bad_path.body.contains("入力内容に誤りがあります"),
        "{}",
        bad_path.body
    );
    let missing_field = b
        .submit("/organisations", "/organisations", &[("kind", "vendor")])
        .await;
    assert!(
        missing_field.body.contains("入力内容に誤りがあります")
            && missing_field.body.contains("name"),
        "{}",
        missing_field.body
    );
    let missing = b.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("ページが見つかりません"));
    assert_eq!(b.get("/healthz").await.status, 200);
    assert_eq!(b.get("/static/mamori.css").await.status, 200);
    assert_eq!(
        app.browser().get("/dashboard").await.location.as_deref(),
        Some("/login")
    );
}

#[tokio::test]
async fn english_is_a_per_person_preference() {
    let app = TestApp::start(testing::sqlite().await).await;
    let company = app.org(OrgKind::SurveyCompany, "調査A社").await;
    app.account(company, "a@example.jp", Role::Member).await;
    let b = app.browser();
    b.login("a@example.jp", PASSWORD).await;
    assert!(
        b.get("/dashboard")
            .await
            .body
            .contains("調査担当企業ダッシュボード")
    );
    b.submit("/account", "/account/language", &[("language", "en")])
        .await;
    let english = b.get("/dashboard").await;
    assert!(
        english.body.contains("Survey company dashboard")
            && english.body.contains("<html lang=\"en\">")
    );
    // Someone else still sees Japanese.
    let other = app.browser();
    assert!(other.get("/login").await.body.contains("ログイン"));
}

#[tokio::test]
async fn api_me_tokens_and_openapi() {
    let app = TestApp::start(testing::sqlite().await).await;
    let hospital = app.org(OrgKind::Hospital, "出雲テスト病院").await;
    let staff = app
        .account(hospital, "staff@example.jp", Role::Member)
        .await;
    let token = app.token(&staff).await;
    let client = reqwest::Client::new();
    let me: serde_json::Value = client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"]["email"], "staff@example.jp");
    assert_eq!(me["organisation"]["kind"], "hospital");
    assert_eq!(me["organisation"]["prefecture"], 32);
    assert_eq!(me["role"], "hospital-staff");
    let anonymous = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let forged = client
        .get(app.url("/api/v1/me"))
        .bearer_auth("mamori_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let spec: serde_json::Value = client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec["paths"]["/api/v1/me"]["get"].is_object());
    assert!(spec["paths"]["/api/v1/hospitals/{id}/facility-profile"]["put"].is_object());
    // Hospital staff write their own facility profile through the API.
    let put = client
        .put(app.url(&format!("/api/v1/hospitals/{hospital}/facility-profile")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"it_staff_count": 3, "ehr_vendor": "テストベンダー"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let bad = client
        .put(app.url(&format!("/api/v1/hospitals/{hospital}/facility-profile")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"it_staff_count": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let got: serde_json::Value = client
        .get(app.url(&format!("/api/v1/hospitals/{hospital}/facility-profile")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["ehr_vendor"], "テストベンダー");
    assert_eq!(got["it_staff_count"], 3);
}

/// The rule, through both interfaces and on every backend: a
/// surveyor of company A cannot read or write data of a hospital surveyed by
/// company B, nor of one whose engagement is not yet contracted.
#[tokio::test]
async fn surveyors_reach_only_their_own_contracted_hospitals() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let company_a = app.org(OrgKind::SurveyCompany, "調査A社").await;
        let company_b = app.org(OrgKind::SurveyCompany, "調査B社").await;
        let of_b = app.org(OrgKind::Hospital, "B社担当病院").await;
        let pending = app.org(OrgKind::Hospital, "A社契約前病院").await;
        let contracted = app.org(OrgKind::Hospital, "A社契約済病院").await;
        let programme = testing::add_programme(app.store(), "令和8年度調査").await;
        for (hospital, company, state) in [
            (of_b, company_b, EngagementState::Surveying),
            (pending, company_a, EngagementState::PledgeIssued),
            (contracted, company_a, EngagementState::Contracted),
        ] {
            testing::add_engagement(app.store(), programme, hospital, company, state).await;
        }
        let surveyor = app.account(company_a, "a@example.jp", Role::Admin).await;
        let token = app.token(&surveyor).await;
        let b: Browser = app.browser();
        b.login("a@example.jp", PASSWORD).await;
        let api = reqwest::Client::new();
        let body = serde_json::json!({"ehr_vendor": "改竄"});

        for (hospital, page_status) in [(of_b, 403), (pending, 200)] {
            let page = b.get(&format!("/hospitals/{hospital}")).await;
            assert_eq!(page.status, page_status, "{label}: page of {hospital}");
            assert!(
                !page.body.contains("name=\"it_staff_count\""),
                "{label}: no profile form"
            );
            let csrf = b.get("/account").await.csrf();
            let post = b
                .post(
                    &format!("/hospitals/{hospital}/facility-profile"),
                    &[("csrf", &csrf), ("ehr_vendor", "改竄")],
                )
                .await;
            assert_eq!(post.status, 403, "{label}: form write to {hospital}");
            let url = app.url(&format!("/api/v1/hospitals/{hospital}/facility-profile"));
            assert_eq!(
                api.get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .status(),
                403,
                "{label}: api read {hospital}"
            );
            assert_eq!(
                api.put(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status(),
                403,
                "{label}: api write {hospital}"
            );
        }
        // The contracted hospital is open to company A.
        let page = b.get(&format!("/hospitals/{contracted}")).await;
        assert!(page.body.contains("name=\"it_staff_count\""), "{label}");
        let saved = b
            .submit(
                &format!("/hospitals/{contracted}"),
                &format!("/hospitals/{contracted}/facility-profile"),
                &[("it_staff_count", "2"), ("ehr_vendor", "正規ベンダー")],
            )
            .await;
        assert_eq!(saved.status, 303, "{label}");
        let url = app.url(&format!("/api/v1/hospitals/{contracted}/facility-profile"));
        let got: serde_json::Value = api
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["ehr_vendor"], "正規ベンダー", "{label}");
        // The engagements list shows A's two, never B's.
        let list: serde_json::Value = api
            .get(app.url("/api/v1/engagements"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: Vec<_> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["hospital_name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names.len(), 2, "{label}: {names:?}");
        assert!(!names.iter().any(|n| n == "B社担当病院"));
        // Refusals are in the audit log.
        let denied = app
            .store()
            .audit_page(
                None,
                &mamori_store::AuditFilter {
                    action: Some("access.denied".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            denied.records.len() >= 6,
            "{label}: {}",
            denied.records.len()
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn behind_tls_cookies_are_secure_and_hsts_is_sent() {
    let config = mamori_web::WebConfig {
        tls: true,
        trust_forwarded_for: true,
        ..Default::default()
    };
    let app = TestApp::start_with(testing::sqlite().await, config).await;
    let sec = app.org(OrgKind::Secretariat, "研究事務局").await;
    app.account(sec, "sec@example.jp", Role::Admin).await;
    let b = app.browser();
    let login = b.get("/login").await;
    assert!(
        login.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    assert!(
        login.headers["set-cookie"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("secure")
    );
    // Behind a trusted proxy the audit log records the forwarded client address.
    let csrf = login.csrf();
    let response = b
        .client
        .post(app.url("/login"))
        .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
        .header("cookie", format!("mamori_presession={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "sec@example.jp"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let log = app
        .store()
        .audit_page(
            None,
            &mamori_store::AuditFilter {
                action: Some("login.succeeded".into()),
                limit: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        log.records[0].content.client_addr.as_deref(),
        Some("203.0.113.7")
    );
}
