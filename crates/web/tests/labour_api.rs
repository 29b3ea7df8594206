//! Labour hours through the JSON API, on every backend: the company plans
//! and books hours (refused when negative, in the future, over 24 hours a
//! day or in a locked week, each naming why), reports its week, the
//! supervisor acknowledges it; the roll-up shows the hours to the
//! supervisor and the secretariat, the secretariat sets the rate; another
//! company and the hospital see nothing; the OpenAPI document lists it all.

mod common;

use common::{TestApp, api};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use reqwest::Method;
use serde_json::{Value, json};
use time::macros::date;

fn message(body: &Value) -> String {
    body["message"].as_str().unwrap_or_default().to_string()
}

/// The engagements a roll-up lists, by id.
fn rolled_up(body: &Value) -> Vec<i64> {
    body["engagements"]
        .as_array()
        .expect("a list of engagements")
        .iter()
        .filter_map(|e| e["engagement"].as_i64())
        .collect()
}

fn entry(day: &str, hours: Value) -> Value {
    json!({"row": 1, "person": "鈴木", "worked_on": day, "hours": hours, "note": "現地調査"})
}

#[tokio::test]
async fn labour_hours_are_booked_reported_locked_and_rolled_up() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        // Contracted on Monday 2026-12-07.
        store.clock().set_today(date!(2026 - 12 - 07));
        let hospital = app.org(OrgKind::Hospital, "湖畔病院").await;
        let company = app.org(OrgKind::SurveyCompany, "調査A社").await;
        let other = app.org(OrgKind::SurveyCompany, "調査B社").await;
        let supervisor = app.org(OrgKind::Supervisor, "監督企業").await;
        let secretariat = app.org(OrgKind::Secretariat, "事務局").await;
        let programme = testing::add_programme(store, "令和8年度 調査").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let eid = e.id.0;
        let co = app
            .token(&app.account(company, "a@example.jp", Role::Member).await)
            .await;
        let other_co = app
            .token(&app.account(other, "b@example.jp", Role::Member).await)
            .await;
        let sup = app
            .token(
                &app.account(supervisor, "sup@example.jp", Role::Member)
                    .await,
            )
            .await;
        let sec = app
            .token(
                &app.account(secretariat, "sec@example.jp", Role::Member)
                    .await,
            )
            .await;
        let staff = app
            .token(&app.account(hospital, "h@example.jp", Role::Member).await)
            .await;
        store.clock().set_today(date!(2026 - 12 - 10));
        let base = format!("/api/v1/engagements/{eid}/labour");

        // The default plan with the sheet's rows to label it.
        let (status, labour) = api(&app, &co, Method::GET, &base, None).await;
        assert_eq!(status, 200, "{label}: {labour}");
        assert_eq!(labour["plan"]["hours"].as_array().map(Vec::len), Some(17));
        let rows = labour["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), 17, "{label}");
        assert_eq!(rows[0]["number"], 1, "{label}");
        assert!(rows[0]["item_ja"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(rows[0]["activity"].is_string(), "{label}: {}", rows[0]);

        // The plan, row by row; a wrong length or a negative row is refused.
        let (status, saved) = api(
            &app,
            &co,
            Method::PUT,
            &format!("{base}/plan"),
            Some(json!({"rows": [{"row": 15, "hours": 8}]})),
        )
        .await;
        assert_eq!(status, 200, "{label}: {saved}");
        assert_eq!(saved["plan"]["hours"][14], 8.0, "{label}");
        let (status, body) = api(
            &app,
            &co,
            Method::PUT,
            &format!("{base}/plan"),
            Some(json!({"hours": [1, 2, 3]})),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(message(&body).contains("17"), "{label}: {body}");
        let (status, body) = api(
            &app,
            &co,
            Method::PUT,
            &format!("{base}/plan"),
            Some(json!({"rows": [{"row": 3, "hours": -4}]})),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(message(&body).contains("negative"), "{label}: {body}");
        let (status, _) = api(
            &app,
            &sup,
            Method::PUT,
            &format!("{base}/plan"),
            Some(json!({"rows": []})),
        )
        .await;
        assert_eq!(status, 403, "{label}: the supervisor does not plan");

        // Hours booked; bad input refused with its reason.
        let (status, booked) = api(
            &app,
            &co,
            Method::POST,
            &format!("{base}/entries"),
            Some(entry("2026-12-08", json!(7.5))),
        )
        .await;
        assert_eq!(status, 201, "{label}: {booked}");
        assert_eq!(booked["hours"], 7.5, "{label}");
        assert_eq!(booked["worked_on"], "2026-12-08", "{label}");
        assert!(booked["id"].as_i64().is_some(), "{label}: {booked}");
        let (status, body) = api(
            &app,
            &co,
            Method::POST,
            &format!("{base}/entries"),
            Some(entry("2026-12-08", json!(-1))),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(message(&body).contains("negative"), "{label}: {body}");
        let (status, body) = api(
            &app,
            &co,
            Method::POST,
            &format!("{base}/entries"),
            Some(entry("2026-12-11", json!(1))),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(message(&body).contains("future"), "{label}: {body}");
        let (status, body) = api(
            &app,
            &co,
            Method::POST,
            &format!("{base}/entries"),
            Some(entry("2026-12-08", json!(17))),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(message(&body).contains("24"), "{label}: {body}");
        for bad in [
            json!({"row": 1, "worked_on": "2026-12-08", "hours": 1}),
            entry("2026-12-08", json!(1.255)),
            entry("8 Dec", json!(1)),
        ] {
            let (status, body) = api(
                &app,
                &co,
                Method::POST,
                &format!("{base}/entries"),
                Some(bad),
            )
            .await;
            assert_eq!(status, 400, "{label}: {body}");
        }

        // One booked by mistake and removed; removing it again is 404.
        let (status, mistake) = api(
            &app,
            &co,
            Method::POST,
            &format!("{base}/entries"),
            Some(entry("2026-12-09", json!(2))),
        )
        .await;
        assert_eq!(status, 201, "{label}: {mistake}");
        let gone = format!("{base}/entries/{}", mistake["id"]);
        let (status, body) = api(&app, &co, Method::DELETE, &gone, None).await;
        assert_eq!(status, 204, "{label}: {body}");
        let (status, _) = api(&app, &co, Method::DELETE, &gone, None).await;
        assert_eq!(status, 404, "{label}");

        // The week: not the supervisor's to acknowledge before it is
        // reported; the company reports it (no body), the supervisor
        // acknowledges it, and its hours are locked.
        let week = format!("{base}/weeks/2026-12-07");
        let (status, body) = api(
            &app,
            &sup,
            Method::POST,
            &format!("{week}/acknowledge"),
            None,
        )
        .await;
        assert_eq!(status, 409, "{label}: {body}");
        let (status, body) = api(
            &app,
            &co,
            Method::POST,
            &format!("{base}/weeks/2026-12-14/submit"),
            None,
        )
        .await;
        assert_eq!(status, 422, "{label}: a week to come: {body}");
        let (status, body) = api(&app, &co, Method::POST, &format!("{week}/bogus"), None).await;
        assert_eq!(status, 422, "{label}: {body}");
        let (status, body) = api(&app, &co, Method::POST, &format!("{week}/submit"), None).await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["weeks"][0]["state"], "submitted", "{label}: {body}");
        let (status, _) = api(
            &app,
            &co,
            Method::POST,
            &format!("{week}/acknowledge"),
            None,
        )
        .await;
        assert_eq!(status, 403, "{label}: the company does not acknowledge");
        let (status, body) = api(
            &app,
            &sup,
            Method::POST,
            &format!("{week}/acknowledge"),
            Some(json!({"note": "確認しました"})),
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["weeks"][0]["week"], "2026-12-07", "{label}: {body}");
        assert_eq!(body["weeks"][0]["state"], "acknowledged", "{label}: {body}");
        let (status, body) = api(
            &app,
            &co,
            Method::POST,
            &format!("{base}/entries"),
            Some(entry("2026-12-09", json!(1))),
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(message(&body).contains("locked"), "{label}: {body}");
        let (status, body) = api(
            &app,
            &co,
            Method::DELETE,
            &format!("{base}/entries/{}", booked["id"]),
            None,
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(message(&body).contains("locked"), "{label}: {body}");

        // The secretariat sets the rate; no one else may.
        let rate = format!(
            "/api/v1/programmes/{}/labour-rates/{}",
            programme.0, company.0
        );
        let (status, body) = api(
            &app,
            &sec,
            Method::PUT,
            &rate,
            Some(json!({"rate_yen": 12000})),
        )
        .await;
        assert_eq!(status, 204, "{label}: {body}");
        let (status, body) =
            api(&app, &sec, Method::PUT, &rate, Some(json!({"rate_yen": 0}))).await;
        assert_eq!(status, 422, "{label}: {body}");
        let (status, _) = api(
            &app,
            &co,
            Method::PUT,
            &rate,
            Some(json!({"rate_yen": 99000})),
        )
        .await;
        assert_eq!(status, 403, "{label}: the company does not set its rate");

        // The roll-up: the supervisor's and the secretariat's show the hours.
        for token in [&sup, &sec, &co] {
            let (status, body) = api(&app, token, Method::GET, "/api/v1/labour/rollup", None).await;
            assert_eq!(status, 200, "{label}: {body}");
            assert_eq!(rolled_up(&body), vec![eid], "{label}: {body}");
            let row = &body["engagements"][0];
            assert_eq!(row["summary"]["actual"], 7.5, "{label}: {row}");
            assert_eq!(row["rate_yen"], 12000, "{label}: {row}");
        }

        // Another company and the hospital: refused, and an empty roll-up.
        for token in [&other_co, &staff] {
            let (status, body) = api(&app, token, Method::GET, &base, None).await;
            assert_eq!(status, 403, "{label}: {body}");
            let (status, body) = api(
                &app,
                token,
                Method::POST,
                &format!("{base}/entries"),
                Some(entry("2026-12-10", json!(1))),
            )
            .await;
            assert_eq!(status, 403, "{label}: {body}");
            let (status, body) = api(&app, token, Method::GET, "/api/v1/labour/rollup", None).await;
            assert_eq!(status, 200, "{label}: {body}");
            assert!(rolled_up(&body).is_empty(), "{label}: {body}");
        }

        let (status, doc) = api(&app, &co, Method::GET, "/api/v1/openapi.json", None).await;
        assert_eq!(status, 200, "{label}");
        for path in [
            "/api/v1/engagements/{id}/labour",
            "/api/v1/engagements/{id}/labour/plan",
            "/api/v1/engagements/{id}/labour/entries",
            "/api/v1/engagements/{id}/labour/entries/{entry}",
            "/api/v1/engagements/{id}/labour/weeks/{week}/{step}",
            "/api/v1/labour/rollup",
            "/api/v1/programmes/{id}/labour-rates/{company}",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} not in OpenAPI");
        }
        assert!(
            doc["components"]["schemas"].get("EntryBody").is_some(),
            "{label}: the entry body is described"
        );
        app.db.finish().await;
    }
}
