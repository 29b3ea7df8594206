//! Returning and erasing a hospital's data (資料3 第5条), through the real
//! server over the seeded demo, on SQLite and PostgreSQL: the archive holds
//! every row and file of the hospital; an erasure that names a stale
//! archive, or mistypes the name, deletes nothing; the erasure deletes
//! exactly what was archived and nothing of any other hospital; the
//! programme's records stay; published statistics read the same; the
//! audit chain still verifies and records the erasure.

use mamori::demo::{self, emails, names};
use mamori_store::testing;
use mamori_store::{AuditContext, Store};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

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

/// Rows per table, all hospitals together.
async fn table_counts(store: &Store) -> BTreeMap<String, i64> {
    store.inventory().await.expect("inventory").tables
}

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).expect("entry");
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("entry bytes");
            (entry.name().expect("entry name").to_string(), data)
        })
        .collect()
}

struct Api {
    client: reqwest::Client,
    url: String,
}

impl Api {
    async fn post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }
    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
    async fn archive(&self, hospital: i64, token: &str) -> (Value, BTreeMap<String, Vec<u8>>) {
        let response = self
            .post(
                &format!("/api/v1/hospitals/{hospital}/data-return/archive"),
                token,
                Value::Null,
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/zip"
        );
        let entries = unzip(&response.bytes().await.expect("archive bytes"));
        let manifest = serde_json::from_slice(&entries["manifest.json"]).expect("manifest");
        (manifest, entries)
    }
    async fn erase(&self, hospital: i64, token: &str, body: Value) -> (u16, Value) {
        let response = self
            .post(
                &format!("/api/v1/hospitals/{hospital}/data-return/erase"),
                token,
                body,
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn rows_of(manifest: &Value, fate: &str) -> BTreeMap<String, i64> {
    manifest["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter(|t| t["after_return"] == fate)
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["rows"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hospital_gets_its_data_back_and_then_it_is_erased() {
    testing::each_backend(|db| async move {
        let store = db.store.clone();
        let seeded = demo::seed_demo(&store).await.expect("demo");
        let hospital = seeded
            .organisation(names::HOSPITAL_B_REPORTED)
            .expect("the reported hospital")
            .id
            .0;
        let api = Api {
            client: reqwest::Client::new(),
            url: serve(store.clone()).await,
        };
        let secretariat = token(&store, emails::SECRETARIAT_ADMIN).await;
        let staff = token(&store, emails::HOSPITAL_REPORTED_STAFF).await;
        let company = token(&store, emails::SURVEYOR_B).await;
        let statistics_before = store.public_statistics().await.expect("statistics");
        let public_page_before = api
            .client
            .get(format!("{}/public/statistics/1", api.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();

        // Only the secretariat returns or erases.
        for who in [&staff, &company] {
            let refused = api
                .post(
                    &format!("/api/v1/hospitals/{hospital}/data-return/archive"),
                    who,
                    Value::Null,
                )
                .await;
            assert_eq!(refused.status(), 403);
            let (status, _) = api.get(&format!("/api/v1/hospitals/{hospital}/data-returns"), who).await;
            assert_eq!(status, 403);
        }

        // The archive: every table and file of the hospital, files intact.
        let (stale, _) = api.archive(hospital, &secretariat).await;
        let counts_before = table_counts(&store).await;
        let (manifest, entries) = api.archive(hospital, &secretariat).await;
        assert_eq!(manifest["digest"], stale["digest"], "same data, same digest");
        let deleted = rows_of(&manifest, "deleted");
        let kept = rows_of(&manifest, "kept");
        for table in ["ledger_records", "checklist_answers", "deliverables", "report_releases", "report_files", "findings"] {
            assert!(deleted[table] > 0, "the demo's reported hospital has {table}");
        }
        for table in ["engagements", "agreements", "organisations"] {
            assert!(kept[table] > 0, "{table} archived and kept");
        }
        let accounts: Value = serde_json::from_slice(&entries["data/kept/accounts.json"]).unwrap();
        assert!(!accounts.to_string().contains("password"), "no password hash leaves");
        let ledger: Value =
            serde_json::from_slice(&entries["data/deleted/ledger_records.json"]).unwrap();
        assert!(ledger[0]["body"].is_object(), "ledger bodies are embedded as JSON");
        let files = manifest["files"].as_array().expect("files");
        assert!(files.iter().any(|f| f["held_by"] == "report_files"));
        for file in files {
            let bytes = &entries[file["path"].as_str().unwrap()];
            assert_eq!(
                hex::encode(Sha256::digest(bytes)),
                file["sha256"].as_str().unwrap(),
                "{}",
                file["path"]
            );
        }
        assert!(String::from_utf8_lossy(&entries["README.txt"]).contains(names::HOSPITAL_B_REPORTED));

        // The data changes after the first archive: that archive no longer
        // covers it, so naming it deletes nothing.
        let (status, _) = api
            .get(&format!("/api/v1/hospitals/{hospital}/facility-profile"), &staff)
            .await;
        assert_eq!(status, 200);
        let changed = api
            .client
            .put(format!("{}/api/v1/hospitals/{hospital}/facility-profile", api.url))
            .bearer_auth(&staff)
            .json(&json!({"it_staff_count": 4, "it_staff_skills": "", "ehr_vendor": "追記後", "maintenance_outsourcing": "", "notes": ""}))
            .send()
            .await
            .unwrap();
        assert!(changed.status().is_success(), "{}", changed.text().await.unwrap());
        let counts_changed = table_counts(&store).await;
        let reason = "2026-11-20 付け 病院長名の書面による返却・削除の依頼";
        let (status, body) = api
            .erase(hospital, &secretariat, json!({"digest": manifest["digest"], "confirm_name": names::HOSPITAL_B_REPORTED, "reason": reason}))
            .await;
        assert_eq!(status, 409, "{body}");
        // Neither does a mistyped name, a missing reason or an unknown digest.
        let (fresh, entries) = api.archive(hospital, &secretariat).await;
        assert_ne!(fresh["digest"], manifest["digest"]);
        let facility: Value =
            serde_json::from_slice(&entries["data/deleted/facility_profiles.json"]).unwrap();
        assert_eq!(facility[0]["ehr_vendor"], "追記後");
        for (body, expected) in [
            (json!({"digest": fresh["digest"], "confirm_name": "国立みどり", "reason": reason}), 422),
            (json!({"digest": fresh["digest"], "confirm_name": names::HOSPITAL_B_REPORTED, "reason": " "}), 422),
            (json!({"digest": "0".repeat(64), "confirm_name": names::HOSPITAL_B_REPORTED, "reason": reason}), 409),
        ] {
            let (status, answer) = api.erase(hospital, &secretariat, body).await;
            assert_eq!(status, expected, "{answer}");
        }
        let (status, _) = api
            .erase(hospital, &company, json!({"digest": fresh["digest"], "confirm_name": names::HOSPITAL_B_REPORTED, "reason": reason}))
            .await;
        assert_eq!(status, 403);
        let mut counts_refused = table_counts(&store).await;
        counts_refused.remove("hospital_data_returns");
        counts_refused.remove("audit_events");
        counts_refused.remove("sessions");
        let mut counts_expected = counts_changed.clone();
        counts_expected.remove("hospital_data_returns");
        counts_expected.remove("audit_events");
        counts_expected.remove("sessions");
        assert_eq!(counts_refused, counts_expected, "refusals delete nothing");

        // The erasure.
        let deleted = rows_of(&fresh, "deleted");
        let deleted_files = fresh["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["after_return"] == "deleted")
            .count() as i64;
        let (status, summary) = api
            .erase(hospital, &secretariat, json!({"digest": fresh["digest"], "confirm_name": format!(" {} ", names::HOSPITAL_B_REPORTED), "reason": reason}))
            .await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["deleted_files"], deleted_files);
        let counts_after = table_counts(&store).await;
        for (table, rows) in &deleted {
            assert_eq!(
                counts_after[table],
                counts_changed[table] - rows,
                "{table}: exactly the archived rows are gone, other hospitals keep theirs"
            );
        }
        assert_eq!(counts_after["files"], counts_changed["files"] - deleted_files);
        assert_eq!(counts_after["file_blobs"], counts_changed["file_blobs"] - deleted_files);
        for table in ["engagements", "agreements", "estimates", "orders", "payments", "labour_entries", "statistics_releases", "organisations", "accounts"] {
            assert_eq!(counts_after[table], counts_before[table], "{table} is kept");
        }
        assert!(counts_after["ledger_records"] > 0, "other hospitals keep their ledgers");

        // What the hospital and the secretariat see afterwards.
        let (status, ledger) = api.get(&format!("/api/v1/hospitals/{hospital}/ledger"), &staff).await;
        assert_eq!(status, 200);
        assert_eq!(ledger["ledger"]["assets"].as_array().map(Vec::len), Some(0), "{ledger}");
        let (_, returns) = api.get(&format!("/api/v1/hospitals/{hospital}/data-returns"), &secretariat).await;
        let actions: Vec<&str> = returns["returns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["erased", "exported", "exported", "exported"]);
        assert_eq!(returns["returns"][0]["reason"], reason);
        assert_eq!(returns["returns"][0]["digest"], fresh["digest"]);

        // Published statistics read the same; the audit chain holds and says what happened.
        assert_eq!(store.public_statistics().await.expect("statistics"), statistics_before);
        let public_page_after = api
            .client
            .get(format!("{}/public/statistics/1", api.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(public_page_after, public_page_before);
        assert!(store.verify_audit_chain().await.expect("audit").is_ok());
        let erased = store
            .audit_page(
                None,
                &mamori_store::AuditFilter {
                    actor_account: None,
                    action: Some("hospital-data.erased".into()),
                    hospital: Some(mamori_domain::OrgId(hospital)),
                    from_ms: None,
                    until_ms: None,
                    before_seq: None,
                    limit: 10,
                },
            )
            .await
            .expect("audit");
        assert_eq!(erased.records.len(), 1);
        assert!(erased.records[0].content.detail.contains(reason));

        // A second erasure of the same archive finds nothing to match.
        let (status, _) = api
            .erase(hospital, &secretariat, json!({"digest": fresh["digest"], "confirm_name": names::HOSPITAL_B_REPORTED, "reason": reason}))
            .await;
        assert_eq!(status, 409);
        db
    })
    .await;
}
