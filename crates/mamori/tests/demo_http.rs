//! The seeded demo through HTTP, on SQLite and PostgreSQL. Advisories, as
//! each hospital and as the secretariat and the ministry: the hospitals
//! with a vulnerable FortiGate (湖畔), Ivanti gateway and Philips PACS
//! (白浜) have their notices; the hospital whose FortiGate is not known to
//! be affected (みどり) and every hospital without a ledger have none.
//! Statistics: a public release with charts, readable without login,
//! naming no hospital.

use mamori::demo::{self, emails};
use mamori_domain::organisation::OrgKind;
use mamori_store::testing;
use mamori_store::{AuditContext, Store};
use serde_json::Value;

async fn serve(store: Store) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = mamori_web::serve(store, listener, mamori_web::WebConfig::default()).await;
    });
    url
}

async fn token(store: &Store, email: &str) -> String {
    let account = store.account_by_email(email).await.expect("demo account");
    let ctx = AuditContext::for_actor(account.actor(), account.email.clone(), None);
    store
        .create_api_token(&ctx, account.id, "test")
        .await
        .expect("token")
        .0
}

async fn get(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn advisories_of(notices: &Value) -> Vec<String> {
    let mut ids: Vec<String> = notices["notices"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|n| {
            n["notice"]["advisories"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_hospitals_with_vulnerable_devices_get_notices_and_no_other_hospital_does() {
    testing::each_backend(|db| async move {
        let store = db.store.clone();
        demo::seed_demo(&store).await.expect("demo");
        let url = serve(store.clone()).await;
        let hospitals: Vec<(String, i64)> = store
            .all_organisations()
            .await
            .expect("organisations")
            .into_iter()
            .filter(|o| o.kind == OrgKind::Hospital)
            .map(|o| (o.name, o.id.0))
            .collect();
        let id = |name: &str| {
            hospitals
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, id)| *id)
                .expect("demo hospital")
        };

        // Each hospital's own staff.
        let lake = id(demo::names::HOSPITAL_A_SURVEYING);
        let staff = token(&store, emails::HOSPITAL_STAFF).await;
        let (status, notices) = get(
            &format!("{url}/api/v1/hospitals/{lake}/advisory-notices"),
            &staff,
        )
        .await;
        assert_eq!(status, 200, "{notices}");
        assert_eq!(advisories_of(&notices), ["CVE-2024-21762"]);
        let notice = &notices["notices"][0]["notice"];
        let assets: Vec<&str> = notice["advisories"][0]["assets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["key"].as_str())
            .collect();
        assert_eq!(assets, ["VPN-01"], "the FortiGate on 7.2.8 is not affected");
        assert!(
            notice["advisories"][0]["kev"].is_object(),
            "known exploited"
        );
        assert!(
            notice["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["email"] == "support@tsubasa-med.example.jp"),
            "the VPN's maintenance vendor is addressed: {notice}"
        );

        let shirahama = id(demo::names::HOSPITAL_A_INTERIM);
        let staff_c = token(&store, emails::HOSPITAL_INTERIM_STAFF).await;
        let (status, notices) = get(
            &format!("{url}/api/v1/hospitals/{shirahama}/advisory-notices"),
            &staff_c,
        )
        .await;
        assert_eq!(status, 200, "{notices}");
        assert_eq!(
            advisories_of(&notices),
            ["CVE-2023-46805", "ICSMA-21-187-01"]
        );
        let (_, cases) = get(
            &format!("{url}/api/v1/hospitals/{shirahama}/advisory-matches"),
            &staff_c,
        )
        .await;
        let mut seen: Vec<(&str, &str)> = cases["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["asset"].as_str().unwrap(), m["method"].as_str().unwrap()))
            .collect();
        seen.sort();
        assert_eq!(seen, [("PACS-01", "name-version"), ("VPN-02", "cpe-exact")]);
        // One hospital's staff cannot read another's cases.
        let (status, _) = get(
            &format!("{url}/api/v1/hospitals/{lake}/advisory-matches"),
            &staff_c,
        )
        .await;
        assert_eq!(status, 403);

        let midori = id(demo::names::HOSPITAL_B_REPORTED);
        let staff_b = token(&store, emails::HOSPITAL_REPORTED_STAFF).await;
        let (status, notices) = get(
            &format!("{url}/api/v1/hospitals/{midori}/advisory-notices"),
            &staff_b,
        )
        .await;
        assert_eq!(status, 200);
        assert!(advisories_of(&notices).is_empty(), "{notices}");

        // Every other hospital, as the secretariat sees it: nothing.
        let secretariat = token(&store, emails::SECRETARIAT_ADMIN).await;
        for (name, hospital) in &hospitals {
            let (status, notices) = get(
                &format!("{url}/api/v1/hospitals/{hospital}/advisory-notices"),
                &secretariat,
            )
            .await;
            assert_eq!(status, 200, "{name}: {notices}");
            let expected = if *hospital == lake || *hospital == shirahama {
                1
            } else {
                0
            };
            assert_eq!(
                notices["notices"].as_array().map_or(0, Vec::len),
                expected,
                "{name}"
            );
        }

        // The ministry sees the counts, no hospital named.
        let ministry = token(&store, emails::MINISTRY).await;
        let (status, responses) =
            get(&format!("{url}/api/v1/advisories/responses"), &ministry).await;
        assert_eq!(status, 200, "{responses}");
        let fortios = responses["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["advisory"] == "CVE-2024-21762")
            .expect("FortiOS");
        assert_eq!(
            (fortios["hospitals"].as_i64(), fortios["closed"].as_i64()),
            (Some(1), Some(0))
        );
        assert!(!responses.to_string().contains("湖畔"), "{responses}");
        db
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_publishes_statistics_with_charts_that_name_no_hospital() {
    testing::each_backend(|db| async move {
        let store = db.store.clone();
        demo::seed_demo(&store).await.expect("demo");
        let url = serve(store.clone()).await;
        let client = reqwest::Client::new();
        let list = client
            .get(format!("{url}/public/statistics"))
            .send()
            .await
            .expect("public list");
        assert_eq!(list.status(), 200);
        let list = list.text().await.unwrap();
        assert!(list.contains("集計結果"), "{list}");
        let page = client
            .get(format!("{url}/public/statistics/1"))
            .send()
            .await
            .expect("public release")
            .text()
            .await
            .unwrap();
        assert!(page.matches("<svg").count() >= 5, "charts");
        assert!(page.contains("class=\"bar\""), "bars with values");
        for o in store.all_organisations().await.expect("organisations") {
            if o.kind == OrgKind::Hospital {
                assert!(!page.contains(&o.name), "{} on the public page", o.name);
            }
        }
        let releases = store.public_statistics().await.expect("releases");
        assert_eq!(
            releases[0].hospitals, 6,
            "the six hospitals surveyed so far"
        );
        db
    })
    .await;
}
