//! The lifecycle through `/api/v1`, on every backend: the whole path by the
//! owning roles, refusals that name what is allowed, and the survey-data
//! gate that closes again when the NDA is revoked.

mod common;

use common::TestApp;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Caller<'a> {
    app: &'a TestApp,
    account: mamori_store::Account,
    token: String,
    http: reqwest::Client,
}

impl Caller<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
}

async fn caller<'a>(app: &'a TestApp, org: mamori_domain::OrgId, email: &str) -> Caller<'a> {
    let account = app.account(org, email, Role::Admin).await;
    Caller {
        app,
        token: app.token(&account).await,
        account,
        http: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn the_whole_path_by_api_with_refusals_and_the_nda_gate() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app
            .org(OrgKind::SurveyCompany, "しまね情報調査株式会社")
            .await;
        let sec = caller(
            &app,
            app.org(OrgKind::Secretariat, "研究事務局").await,
            "sec@example.jp",
        )
        .await;
        let sup = caller(
            &app,
            app.org(OrgKind::Supervisor, "監督企業").await,
            "sup@example.jp",
        )
        .await;
        let com = caller(&app, company, "com@example.jp").await;
        let hos = caller(&app, hospital, "hos@example.jp").await;

        // A programme with the seed's schedule; the company may not create one.
        let (status, _) = com
            .post(
                "/api/v1/programmes",
                json!({"name": "x", "fiscal_year": 2026}),
            )
            .await;
        assert_eq!(status, 403, "{label}");
        let (status, programme) = sec
            .post("/api/v1/programmes", json!({"name": "令和8年度 病院調査", "fiscal_year": 2026, "checklist_versions": ["令和6年度版"]}))
            .await;
        assert_eq!(status, 201, "{label}: {programme}");
        let pid = programme["id"].as_i64().unwrap();
        assert_eq!(programme["labour_cap_yen"], 3_000_000);
        let (_, detail) = sec.get(&format!("/api/v1/programmes/{pid}")).await;
        assert_eq!(detail["milestones"].as_array().unwrap().len(), 7, "{label}");
        assert_eq!(detail["milestones"][3]["due"], "2027-01-15");
        let (status, _) = sec
            .post(
                &format!("/api/v1/programmes/{pid}/companies"),
                json!({"company_id": company.0, "invited_on": "2026-10-01"}),
            )
            .await;
        assert_eq!(status, 204, "{label}");
        let (status, _) = com
            .put(&format!("/api/v1/programmes/{pid}/companies/{}", company.0), json!({"contact_name": "窓口 太郎", "contact_email": "madoguchi@example.jp", "meeting_on": "2026-10-05"}))
            .await;
        assert_eq!(status, 204, "{label}");
        let (status, _) = sec
            .post(
                &format!("/api/v1/programmes/{pid}/kickoffs"),
                json!({"held_on": "2026-10-10", "attendees": "全社"}),
            )
            .await;
        assert_eq!(status, 201, "{label}");
        // The library: a procedure document with its file, readable by the company.
        let file = json!({"name": "各病院調査等手順_第1.1版.txt", "content_base64": "5omL6aCG"});
        let (status, doc) = sec
            .post(
                &format!("/api/v1/programmes/{pid}/documents"),
                json!({"title": "各病院調査等手順", "version": "第1.1版", "issued_on": "2022-11-21", "file": file}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {doc}");
        let path = format!("/api/v1/programmes/{pid}/documents/{}/file", doc["id"]);
        let (status, text) = com.get(&path).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(text, "手順");

        // The candidate, from a hospital association's intent survey.
        let (status, e) = sec
            .post("/api/v1/engagements", json!({
                "programme_id": pid, "hospital_id": hospital.0, "company_id": company.0,
                "source": "hospital-association", "source_detail": "会員意向調査",
                "contact_department": "医療情報部", "contact_title": "部長", "contact_name": "出雲 花子",
                "proposed_company": "しまね情報調査"
            }))
            .await;
        assert_eq!(status, 201, "{label}: {e}");
        let id = e["id"].as_i64().unwrap();
        let step = |to: &'static str| json!({"to": to, "note": format!("{to} のメモ")});

        // Wrong role: 403 with what the company may do (nothing yet).
        let (status, refused) = com
            .post(
                &format!("/api/v1/engagements/{id}/transitions"),
                step("intent-confirmed"),
            )
            .await;
        assert_eq!(status, 403, "{label}: {refused}");
        assert_eq!(refused["allowed"], json!([]));
        // Not a step: 409 naming the allowed ones.
        let (status, refused) = sec
            .post(
                &format!("/api/v1/engagements/{id}/transitions"),
                step("surveying"),
            )
            .await;
        assert_eq!(status, 409, "{label}");
        assert_eq!(
            refused["allowed"],
            json!(["intent-confirmed", "declined", "withdrawn"])
        );
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("Allowed next"),
            "{refused}"
        );
        let (status, _) = sec
            .post(
                &format!("/api/v1/engagements/{id}/transitions"),
                step("intent-confirmed"),
            )
            .await;
        assert_eq!(status, 200, "{label}");

        // The pledge; a backwards validity is refused by field.
        let (status, bad) = sec
            .post(
                &format!("/api/v1/engagements/{id}/agreements"),
                json!({"kind": "pledge", "valid_from": "2026-12-01", "valid_until": "2026-11-01"}),
            )
            .await;
        assert_eq!(status, 400);
        assert!(
            bad["message"].as_str().unwrap().starts_with("valid_until"),
            "{bad}"
        );
        let today = app.store().today();
        let in_a_year = today + time::Duration::days(365);
        let (status, pledge) = sec
            .post(&format!("/api/v1/engagements/{id}/agreements"), json!({"kind": "pledge", "valid_from": today.to_string(), "valid_until": in_a_year.to_string()}))
            .await;
        assert_eq!(status, 201, "{label}: {pledge}");
        let (status, _) = sec
            .post(
                &format!("/api/v1/engagements/{id}/transitions"),
                step("pledge-issued"),
            )
            .await;
        assert_eq!(status, 200, "{label}");
        // Contract waits for confirmation, NDA and order: 409 naming them.
        let (status, refused) = sec
            .post(
                &format!("/api/v1/engagements/{id}/transitions"),
                step("contracted"),
            )
            .await;
        assert_eq!(status, 409);
        assert_eq!(
            refused["missing"],
            json!(["company-confirmed", "nda-in-force", "order-issued"])
        );
        let (status, _) = sec
            .post(
                &format!("/api/v1/engagements/{id}/company-confirmation"),
                json!({"on": today.to_string()}),
            )
            .await;
        assert_eq!(status, 200);
        let (_, nda) = sec
            .post(&format!("/api/v1/engagements/{id}/agreements"), json!({"kind": "nda", "valid_from": today.to_string(), "valid_until": in_a_year.to_string()}))
            .await;
        let nda_id = nda["id"].as_i64().unwrap();
        let tomorrow = today + time::Duration::days(1);
        let (status, bad) = sec
            .post(
                &format!("/api/v1/agreements/{nda_id}/signature"),
                json!({"signed_on": tomorrow.to_string()}),
            )
            .await;
        assert_eq!(status, 400);
        assert!(
            bad["message"].as_str().unwrap().starts_with("signed_on"),
            "{bad}"
        );
        let scan = json!({"name": "nda-signed.pdf", "content_base64": "JVBERi0xLjQKJSVFT0YK"});
        let (status, signed) = sec
            .post(
                &format!("/api/v1/agreements/{nda_id}/signature"),
                json!({"signed_on": today.to_string(), "scan": scan}),
            )
            .await;
        assert_eq!(status, 200, "{label}: {signed}");
        assert_eq!(signed["in_force"], true);
        let wrong_type = json!({"signed_on": today.to_string(), "scan": {"name": "virus.exe", "content_base64": "TVo="}});
        let (status, bad) = sec
            .post(
                &format!("/api/v1/agreements/{nda_id}/signature"),
                wrong_type,
            )
            .await;
        assert_eq!(status, 400);
        assert!(bad["message"].as_str().unwrap().contains(".exe"), "{bad}");

        // The estimate: over the cap refused with both amounts.
        let (status, bad) = com
            .post(
                &format!("/api/v1/engagements/{id}/estimates"),
                json!({"labour_hours": 320, "labour_cost_yen": 3_200_000}),
            )
            .await;
        assert_eq!(status, 400);
        let message = bad["message"].as_str().unwrap();
        assert!(
            message.contains("¥3,200,000") && message.contains("¥3,000,000"),
            "{message}"
        );
        let (status, estimate) = com
            .post(&format!("/api/v1/engagements/{id}/estimates"), json!({"labour_hours": 200, "labour_cost_yen": 2_000_000, "trips": 3, "travel_yen": 60_000, "consumables_yen": 5_000}))
            .await;
        assert_eq!(status, 201, "{label}: {estimate}");
        // The company cannot order itself.
        let order = json!({"estimate_id": estimate["id"], "order_number": "PO-001", "issued_on": today.to_string()});
        assert_eq!(
            com.post(&format!("/api/v1/engagements/{id}/orders"), order.clone())
                .await
                .0,
            403
        );
        let (status, order) = sec
            .post(&format!("/api/v1/engagements/{id}/orders"), order)
            .await;
        assert_eq!(status, 201, "{label}: {order}");
        assert_eq!(order["amount_yen"], 2_065_000);

        // Before the contract step, the company sees no survey data.
        let profile = format!("/api/v1/hospitals/{}/facility-profile", hospital.0);
        assert_eq!(com.get(&profile).await.0, 403, "{label}");
        let (status, _) = sec
            .post(
                &format!("/api/v1/engagements/{id}/transitions"),
                step("contracted"),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(com.get(&profile).await.0, 200, "{label}");
        assert_eq!(
            com.put(&profile, json!({"ehr_vendor": "テスト"})).await.0,
            204
        );

        // The company submits ① to ⑦ and the supervisor approves them all,
        // without which the report is not submitted.
        let engagement = app
            .store()
            .engagement_detail(
                &mamori_store::AuditContext::operator("test"),
                mamori_domain::EngagementId(id),
            )
            .await
            .unwrap()
            .engagement;
        testing::approve_all_deliverables(app.store(), &engagement, &com.account, &sup.account)
            .await;
        // The rest of the path, each by its owner.
        for (who, to) in [
            (&com, "scheduling"),
            (&com, "surveying"),
            (&com, "interim-review"),
            (&sup, "reporting"),
            (&com, "submitted"),
            (&sec, "accepted"),
            (&sec, "reported"),
        ] {
            let (status, body) = who
                .post(&format!("/api/v1/engagements/{id}/transitions"), step(to))
                .await;
            assert_eq!(status, 200, "{label}: {to} {body}");
        }
        let (_, detail) = sec.get(&format!("/api/v1/engagements/{id}")).await;
        assert_eq!(detail["engagement"]["state"], "reported");
        assert_eq!(
            detail["transitions"].as_array().unwrap().len(),
            10,
            "{label}"
        );
        assert_eq!(detail["transitions"][9]["note"], "reported のメモ");
        // The hospital sees its engagement and pledge, not the contract.
        let (status, own) = hos.get(&format!("/api/v1/engagements/{id}")).await;
        assert_eq!(status, 200, "{label}");
        assert!(own["orders"].is_null() && own["estimates"].is_null());
        assert!(
            own["agreements"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["kind"] == "pledge")
        );

        // The NDA revoked: the gate closes again for the company.
        let (status, _) = sec
            .post(
                &format!("/api/v1/agreements/{nda_id}/revocation"),
                json!({"reason": "病院の要請"}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(com.get(&profile).await.0, 403, "{label}: gate closed");
        // Honoraria at the programme's rate, and the list for the secretariat.
        let (status, paid) = sec
            .post(&format!("/api/v1/engagements/{id}/payments"), json!({"kind": "honorarium", "person": "出雲 花子", "hours": 1.5, "paid_for_on": today.to_string()}))
            .await;
        assert_eq!(status, 201, "{label}: {paid}");
        assert_eq!(paid["amount_yen"], 7_500);
        let (_, list) = sec.get(&format!("/api/v1/programmes/{pid}/payments")).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(
            com.get(&format!("/api/v1/programmes/{pid}/payments"))
                .await
                .0,
            403
        );
        // Every step is in the audit log.
        let audit = app
            .store()
            .audit_page(
                None,
                &mamori_store::AuditFilter {
                    action: Some("engagement.transitioned".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(audit.records.len(), 10, "{label}");
        // Notifications reached the company; the outbox is the secretariat's.
        let (_, notes) = com.get("/api/v1/notifications").await;
        assert!(!notes.as_array().unwrap().is_empty(), "{label}");
        assert_eq!(com.get("/api/v1/outbox").await.0, 403);
        let (status, outbox) = sec.get("/api/v1/outbox").await;
        assert_eq!(status, 200);
        assert!(
            outbox
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["to_address"] == "com@example.jp")
        );
        // The OpenAPI document lists the lifecycle.
        let (_, doc) = sec.get("/api/v1/openapi.json").await;
        for path in [
            "/api/v1/engagements/{id}/transitions",
            "/api/v1/programmes",
            "/api/v1/agreements/{id}/signature",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path}");
        }
    }
}

/// Letters through the API: the NDA, the pledge and the request letter are
/// Japanese PDFs whose text holds the filled-in names and dates; an edited
/// template is versioned and used; a broken one is refused naming the field.
#[tokio::test]
async fn letters_are_pdfs_with_the_parties_and_dates_filled_in() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        app.store()
            .clock()
            .set_today(time::macros::date!(2026 - 11 - 20));
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app
            .org(OrgKind::SurveyCompany, "しまね情報調査株式会社")
            .await;
        let sec_org = app.org(OrgKind::Secretariat, "医療情報安全研究機構").await;
        let sec = caller(&app, sec_org, "sec@example.jp").await;
        let com = caller(&app, company, "com@example.jp").await;
        let (status, _) = sec
            .put(&format!("/api/v1/organisations/{}/letterhead", sec_org.0), json!({"address": "東京都千代田区架空町1-2-3", "representative": "理事長 青木 守", "contact_email": "office@example.jp"}))
            .await;
        assert_eq!(status, 204, "{label}");
        let programme = testing::add_programme(app.store(), "令和8年度 病院調査").await;
        let e = testing::add_engagement(
            app.store(),
            programme,
            hospital,
            company,
            mamori_domain::engagement::EngagementState::IntentConfirmed,
        )
        .await;
        let id = e.id.0;
        let (status, _) = sec
            .put(
                &format!("/api/v1/organisations/{}/letterhead", company.0),
                json!({"address": "島根県松江市架空町4-5", "representative": "代表取締役 松本 誠"}),
            )
            .await;
        assert_eq!(status, 204, "{label}");
        let (status, _) = sec
            .put(&format!("/api/v1/engagements/{id}/candidate"), json!({"source": "hospital-association", "source_detail": "一般社団法人日本病院会", "director_name": "岡田 修", "contact_department": "医療情報部", "contact_title": "部長", "contact_name": "出雲 花子"}))
            .await;
        assert_eq!(status, 200, "{label}");
        // No NDA yet: the NDA letter cannot be made, and says why.
        let (status, refused) = sec
            .post(
                &format!("/api/v1/engagements/{id}/letters"),
                json!({"kind": "nda"}),
            )
            .await;
        assert_eq!(status, 409, "{label}: {refused}");
        assert!(
            refused["message"].as_str().unwrap().contains("No NDA"),
            "{refused}"
        );
        sec.post(
            &format!("/api/v1/engagements/{id}/agreements"),
            json!({"kind": "nda", "valid_from": "2026-11-20", "valid_until": "2027-03-31"}),
        )
        .await;
        let (status, letter) = sec
            .post(
                &format!("/api/v1/engagements/{id}/letters"),
                json!({"kind": "nda"}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {letter}");
        // The company may not generate letters.
        assert_eq!(
            com.post(
                &format!("/api/v1/engagements/{id}/letters"),
                json!({"kind": "nda"})
            )
            .await
            .0,
            403
        );
        let pdf = sec
            .http
            .get(app.url(letter["download"].as_str().unwrap()))
            .bearer_auth(&sec.token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdf_extract::extract_text_from_mem(&pdf)
            .expect("text")
            .replace(char::is_whitespace, "");
        for expected in [
            "秘密保持契約書",
            "出雲みなと病院",
            "しまね情報調査株式会社",
            "医療情報安全研究機構",
            "2026年11月20日",
            "2027年3月31日",
            "理事長青木守",
            "代表取締役松本誠",
        ] {
            assert!(text.contains(expected), "{label}: {expected} not in {text}");
        }
        // The company reads its NDA letter; the hospital-side pledge is not its business.
        assert_eq!(
            com.get(letter["download"].as_str().unwrap()).await.0,
            200,
            "{label}"
        );

        // An edited request-letter template: saved as version 1 and used.
        let (_, current) = sec.get("/api/v1/letter-templates/request-letter").await;
        assert_eq!(current["version"], 0);
        let edited = format!(
            "{}\n追記：本状は改訂版です。",
            current["body"].as_str().unwrap()
        );
        let (status, saved) = sec
            .put(
                "/api/v1/letter-templates/request-letter",
                json!({"body": edited}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {saved}");
        assert_eq!(saved["version"], 1);
        let (status, bad) = sec
            .put(
                "/api/v1/letter-templates/request-letter",
                json!({"body": "{{ hospital.nickname }}"}),
            )
            .await;
        assert_eq!(status, 400, "{label}");
        assert!(
            bad["message"]
                .as_str()
                .unwrap()
                .contains("hospital.nickname"),
            "{bad}"
        );
        assert_eq!(
            com.put(
                "/api/v1/letter-templates/request-letter",
                json!({"body": edited})
            )
            .await
            .0,
            403
        );
        let (status, letter) = sec
            .post(
                &format!("/api/v1/engagements/{id}/letters"),
                json!({"kind": "request-letter"}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {letter}");
        assert_eq!(letter["template_version"], 1);
        let pdf = sec
            .http
            .get(app.url(letter["download"].as_str().unwrap()))
            .bearer_auth(&sec.token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let text = pdf_extract::extract_text_from_mem(&pdf)
            .expect("text")
            .replace(char::is_whitespace, "");
        for expected in [
            "出雲みなと病院",
            "岡田修",
            "医療情報部",
            "出雲花子",
            "研究代表者出雲太郎",
            "本状は改訂版です",
        ] {
            assert!(text.contains(expected), "{label}: {expected} not in {text}");
        }
        // The payment list and the timeline are there for the secretariat.
        let xlsx = sec
            .http
            .get(app.url(&format!("/api/v1/programmes/{}/payments.xlsx", programme.0)))
            .bearer_auth(&sec.token)
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), 200);
        let svg = sec
            .http
            .get(app.url("/api/v1/engagements/timeline.svg"))
            .bearer_auth(&sec.token)
            .send()
            .await
            .unwrap();
        assert_eq!(svg.status(), 200);
        assert!(svg.text().await.unwrap().contains("出雲みなと病院"));
    }
}
