//! The supervisor's review through the pages and the API, on every
//! backend: a thread anchored to a ⑤ connection row, the company's reply,
//! the supervisor's resolve; a deep dive that becomes overdue; the review
//! queue with ages and the interim-review milestone, which drops an
//! engagement once reviewed; and the hospital refused the talk.

mod common;

use common::{Browser, PASSWORD, TestApp, api};
use mamori_domain::OrgId;
use mamori_domain::engagement::EngagementState;
use mamori_domain::ledger::{Cells, ExternalConnection, Ledger, RowRecord};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::testing;
use mamori_store::{Account, AuditContext, ChangeSource, Store};
use serde_json::json;
use std::collections::BTreeMap;

const NOTE: &str = "この接続先の詳細を確認してください";
const DAY_MS: i64 = 86_400_000;

async fn signed_in(app: &TestApp, org: OrgId, email: &str) -> (Account, Browser) {
    let account = app.account(org, email, Role::Admin).await;
    let b = app.browser();
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "login {email}: {}", page.body);
    (account, b)
}

async fn import_connection(store: &Store, company: &Account, hospital: OrgId) {
    let map: BTreeMap<String, String> = [
        ("key", "C-1"),
        ("category", "ネットワーク保守"),
        ("counterpart", "保守ベンダー"),
        ("method", "インターネットVPN"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let ledger = Ledger {
        connections: vec![
            ExternalConnection::from_cells(&Cells::from_map::<ExternalConnection>(&map))
                .expect("valid connection"),
        ],
        ..Ledger::default()
    };
    let ctx = AuditContext::for_actor(company.actor(), company.email.clone(), None);
    let g = store
        .authorize(&ctx, hospital, HospitalData::Ledger, Access::Write)
        .await
        .expect("ledger grant");
    store
        .import_ledger(&ctx, &g, &ledger, ChangeSource::Import)
        .await
        .expect("imported");
}

#[tokio::test]
async fn threads_deep_dives_and_the_review_queue_through_the_pages_and_the_api() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let supervisor_org = app.org(OrgKind::Supervisor, "監督企業").await;
        let programme = testing::add_programme(store, "令和8年度 病院調査").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let eid = e.id.0;
        let base = format!("/engagements/{eid}/deliverables");
        let api_base = format!("/api/v1/engagements/{eid}");
        let (surveyor_account, surveyor) = signed_in(&app, company, "surveyor@example.jp").await;
        let (supervisor_account, supervisor) =
            signed_in(&app, supervisor_org, "sup@example.jp").await;
        let (staff_account, staff) = signed_in(&app, hospital, "staff@example.jp").await;
        let company_token = app.token(&surveyor_account).await;
        let supervisor_token = app.token(&supervisor_account).await;
        let staff_token = app.token(&staff_account).await;
        let get = reqwest::Method::GET;
        let post = reqwest::Method::POST;
        import_connection(store, &surveyor_account, hospital).await;
        let done = surveyor
            .submit(&base, &format!("{base}/connections/submit"), &[])
            .await;
        assert_eq!(done.status, 303, "{label}: {}", done.body);

        // The supervisor's page offers a thread on a row of version 1.
        let page = supervisor.get(&base).await;
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(page.body.contains(&format!("{base}/connections/threads")));
        assert!(page.body.contains("<option value=\"C-1\">"), "{label}");
        assert!(page.body.contains("href=\"/review\""), "{label}: nav");
        // A row that is not in the version is refused by name; nothing kept.
        let refused = supervisor
            .submit(
                &base,
                &format!("{base}/connections/threads"),
                &[("row_key", "C-9"), ("version", "1"), ("text", NOTE)],
            )
            .await;
        assert_eq!(refused.status, 422, "{label}: {}", refused.body);
        assert!(refused.body.contains("C-9"), "{label}");
        let opened = supervisor
            .submit(
                &base,
                &format!("{base}/connections/threads"),
                &[("row_key", "C-1"), ("version", "1"), ("text", NOTE)],
            )
            .await;
        assert_eq!(opened.status, 303, "{label}: {}", opened.body);
        assert!(
            opened
                .location
                .as_deref()
                .is_some_and(|l| l.contains("done=thread_opened#connections"))
        );

        // The company sees it, cannot open one, and replies.
        let page = surveyor.get(&base).await;
        assert!(page.body.contains(NOTE), "{label}");
        assert!(!page.body.contains(&format!("{base}/connections/threads\"")));
        let (status, body) = api(
            &app,
            &company_token,
            get.clone(),
            &format!("{api_base}/threads"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        let thread = body["threads"][0]["id"].as_i64().unwrap();
        assert_eq!(body["threads"][0]["row_key"], "C-1", "{label}: {body}");
        let replied = surveyor
            .submit(
                &base,
                &format!("/engagements/{eid}/threads/{thread}"),
                &[
                    ("kind", "connections"),
                    ("action", "reply"),
                    ("text", "VPN装置の型番を追記しました"),
                ],
            )
            .await;
        assert_eq!(replied.status, 303, "{label}: {}", replied.body);
        // The company's resolve without a text is refused (API).
        let (status, body) = api(
            &app,
            &company_token,
            post.clone(),
            &format!("{api_base}/threads/{thread}/resolve"),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        // The supervisor resolves on the page.
        let resolved = supervisor
            .submit(
                &base,
                &format!("/engagements/{eid}/threads/{thread}"),
                &[("kind", "connections"), ("action", "resolve"), ("text", "")],
            )
            .await;
        assert_eq!(resolved.status, 303, "{label}: {}", resolved.body);
        let page = supervisor.get(&base).await;
        assert!(page.body.contains("解決済"), "{label}");
        assert!(page.body.contains("VPN装置の型番を追記しました"));
        // Replying to a resolved thread: 409 naming what is next.
        let (status, body) = api(
            &app,
            &company_token,
            post.clone(),
            &format!("{api_base}/threads/{thread}/reply"),
            Some(json!({"text": "x"})),
        )
        .await;
        assert_eq!(status, 409, "{label}: {body}");
        assert!(body.to_string().contains("allowed next: reopen"), "{label}");

        // A deep dive through the API: a past due date is refused.
        let today = store.today();
        let (status, body) = api(
            &app,
            &supervisor_token,
            post.clone(),
            &format!("{api_base}/deep-dives"),
            Some(
                json!({"kind": "connections", "row_key": "C-1", "text": "設定を確認",
                "due": (today - time::Duration::days(1)).to_string()}),
            ),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        let (status, body) = api(
            &app,
            &supervisor_token,
            post.clone(),
            &format!("{api_base}/deep-dives"),
            Some(json!({"kind": "connections", "row_key": "C-1", "text": "VPN装置の設定を確認してください",
                "due": (today + time::Duration::days(7)).to_string()})),
        )
        .await;
        assert_eq!(status, 201, "{label}: {body}");
        let dive = body["id"].as_i64().unwrap();
        let answered = surveyor
            .submit(
                &base,
                &format!("/engagements/{eid}/deep-dives/{dive}"),
                &[
                    ("kind", "connections"),
                    ("action", "answer"),
                    ("text", "FortiGate 60F"),
                ],
            )
            .await;
        assert_eq!(answered.status, 303, "{label}: {}", answered.body);

        // Three days waiting, the deep dive past due, the milestone near.
        let db = &app.db;
        db.execute_raw(&format!(
            "UPDATE deliverable_versions SET submitted_at = {}",
            store.clock().now_ms() - 3 * DAY_MS
        ))
        .await
        .unwrap();
        db.execute_raw(&format!(
            "UPDATE deep_dives SET due_on = '{}'",
            today - time::Duration::days(2)
        ))
        .await
        .unwrap();
        db.execute_raw(&format!(
            "UPDATE programme_milestones SET due_on = '{}' WHERE kind = 'interim-review'",
            today + time::Duration::days(5)
        ))
        .await
        .unwrap();
        let page = supervisor.get("/review").await;
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(page.body.contains("出雲みなと病院"), "{label}");
        assert!(page.body.contains("しまね情報調査"), "{label}");
        assert!(page.body.contains("3日"), "{label}: {}", page.body);
        assert!(page.body.contains("期限超過 2日"), "{label}: {}", page.body);
        assert!(page.body.contains("未レビューの調査"), "{label}");
        assert!(page.body.contains("role=\"alert\""), "{label}: warning");
        let (status, q) = api(
            &app,
            &supervisor_token,
            get.clone(),
            "/api/v1/review-queue",
            None,
        )
        .await;
        assert_eq!(status, 200, "{label}: {q}");
        assert_eq!(q["submitted"][0]["age_days"], 3, "{label}: {q}");
        assert_eq!(q["submitted"][0]["kind"], "connections", "{label}: {q}");
        assert_eq!(q["deep_dives"][0]["overdue_days"], 2, "{label}: {q}");
        assert_eq!(q["interim"][0]["warning"], true, "{label}: {q}");
        assert_eq!(
            q["interim"][0]["unreviewed"][0]["engagement_id"], eid,
            "{label}: {q}"
        );

        // A review by the supervisor drops the engagement from "not yet reviewed".
        let (status, body) = api(
            &app,
            &supervisor_token,
            post.clone(),
            &format!("{api_base}/deliverables/connections/review"),
            Some(json!({"action": "request-changes", "note": NOTE})),
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        let (_, q) = api(
            &app,
            &supervisor_token,
            get.clone(),
            "/api/v1/review-queue",
            None,
        )
        .await;
        assert!(
            q["submitted"].as_array().unwrap().is_empty(),
            "{label}: {q}"
        );
        assert!(q["interim"][0]["unreviewed"].as_array().unwrap().is_empty());
        assert_eq!(q["interim"][0]["warning"], false, "{label}: {q}");
        let page = supervisor.get("/review").await;
        assert!(!page.body.contains("未レビューの調査"), "{label}");

        // The company has no queue and no nav entry.
        assert_eq!(surveyor.get("/review").await.status, 403, "{label}");
        let (status, _) = api(
            &app,
            &company_token,
            get.clone(),
            "/api/v1/review-queue",
            None,
        )
        .await;
        assert_eq!(status, 403, "{label}");
        assert!(!surveyor.get(&base).await.body.contains("href=\"/review\""));

        // The hospital is refused the threads, before and after delivery.
        let (status, _) = api(
            &app,
            &staff_token,
            get.clone(),
            &format!("{api_base}/threads"),
            None,
        )
        .await;
        assert!(status == 403 || status == 404, "{label}: {status}");
        db.execute_raw(&format!(
            "UPDATE engagements SET state = 'reported' WHERE id = {eid}"
        ))
        .await
        .unwrap();
        for path in [
            format!("{api_base}/threads"),
            format!("{api_base}/deep-dives"),
        ] {
            let (status, body) = api(&app, &staff_token, get.clone(), &path, None).await;
            assert_eq!(status, 403, "{label} {path}: {body}");
        }
        let page = staff.get(&base).await;
        assert_eq!(page.status, 200, "{label}: delivered deliverables");
        assert!(
            !page.body.contains("VPN装置の型番を追記しました")
                && !page.body.contains("FortiGate 60F"),
            "{label}: no talk for the hospital"
        );

        let (status, doc) = api(&app, &company_token, get, "/api/v1/openapi.json", None).await;
        assert_eq!(status, 200, "{label}");
        for path in [
            "/api/v1/engagements/{id}/threads",
            "/api/v1/engagements/{id}/threads/{thread}/{action}",
            "/api/v1/engagements/{id}/deep-dives",
            "/api/v1/engagements/{id}/deep-dives/{dive}/{action}",
            "/api/v1/review-queue",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} not in OpenAPI");
        }
        app.db.finish().await;
    }
}
