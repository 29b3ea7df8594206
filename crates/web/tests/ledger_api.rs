//! The hospital ledger over the JSON API with a bearer token, on every
//! backend: records read and written with versions (an identical PUT
//! changes nothing, a stale one is a conflict, a bad field is named, a body
//! for another key is not taken), deleted with their history kept; CSV
//! imports planned, refused all or nothing, imported without the rejected
//! rows and again without a change; the history newest first; the network
//! and structure views; the catalogue kept by the secretariat alone; the
//! OpenAPI description; and the policy's refusals, each audited.

mod common;

use common::TestApp;
use mamori_domain::OrgId;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const HOSPITAL: &str = "出雲みなと病院";

struct Caller<'a> {
    app: &'a TestApp,
    token: String,
    http: reqwest::Client,
}

impl Caller<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<reqwest::Body>,
        json_body: Option<Value>,
    ) -> (StatusCode, Value, String) {
        let mut request = self
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = json_body {
            request = request.json(&b);
        }
        if let Some(b) = body {
            request = request
                .header("content-type", "application/octet-stream")
                .body(b);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone())),
            text,
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.call(Method::GET, path, None, None).await;
        (s, v)
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self.call(Method::PUT, path, None, Some(body)).await;
        (s, v)
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.call(Method::DELETE, path, None, None).await;
        (s, v)
    }

    async fn upload(&self, path: &str, data: Vec<u8>) -> (StatusCode, Value) {
        let (s, v, _) = self.call(Method::POST, path, Some(data.into()), None).await;
        (s, v)
    }
}

async fn caller<'a>(app: &'a TestApp, org: OrgId, email: &str) -> Caller<'a> {
    let account = app.account(org, email, Role::Admin).await;
    Caller {
        app,
        token: app.token(&account).await,
        http: reqwest::Client::new(),
    }
}

/// A hospital with a company surveying it under contract.
struct World {
    hospital: OrgId,
    company: OrgId,
    programme: mamori_domain::ProgrammeId,
    api: String,
}

async fn world(app: &TestApp) -> World {
    let store = app.store();
    let hospital = app.org(OrgKind::Hospital, HOSPITAL).await;
    let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
    let programme = testing::add_programme(store, "令和8年度 病院調査").await;
    testing::add_engagement(
        store,
        programme,
        hospital,
        company,
        EngagementState::Surveying,
    )
    .await;
    World {
        hospital,
        company,
        programme,
        api: format!("/api/v1/hospitals/{}/ledger", hospital.0),
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.count(sql).await
}

const RECORDS: &str = "SELECT COUNT(*) FROM ledger_records";
const HISTORY: &str = "SELECT COUNT(*) FROM ledger_history";
const DENIED: &str = "SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied'";

fn segment(key: &str, name: &str) -> Value {
    json!({
        "key": key, "name": name, "kind": "internal-lan", "address_range": "10.0.1.0/24",
        "gateway": null, "notes": ""
    })
}

/// An asset with every field, as GET returns one.
fn asset(key: &str, kind: &str, name: &str, segment: Option<&str>) -> Value {
    json!({
        "key": key, "kind": kind, "name": name, "system": null, "model_ref": null,
        "vendor": "Fortinet", "product": "FortiGate", "model": "60F", "version": "7.0.12",
        "os": "", "serial_number": "", "cpes": [], "quantity": 1, "location": "サーバ室",
        "segment": segment, "address": "", "owner": "hospital", "managing_department": "",
        "maintenance_vendor": "", "remote_maintenance": "none", "remote_method": "",
        "end_of_support": null, "internet_exposed": null, "notes": ""
    })
}

fn role(key: &str, kind: &str, title: &str, reports_to: Option<&str>, order: Option<u32>) -> Value {
    json!({
        "key": key, "kind": kind, "title": title, "person": "", "organisation": "",
        "business_phone": "", "business_email": "", "reports_to": reports_to,
        "responsibilities": "", "incident_order": order, "notes": ""
    })
}

/// A request: method, path, JSON body, raw body.
type Attempt = (Method, String, Option<Value>, Option<Vec<u8>>);

/// The fields `problems` of a 422 names.
fn problem_fields(body: &Value) -> BTreeSet<String> {
    body["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems in {body}"))
        .iter()
        .map(|p| p["field"].as_str().unwrap().to_string())
        .collect()
}

// --- records ------------------------------------------------------------------------

#[tokio::test]
async fn records_are_written_with_versions_and_every_refusal_names_its_reason() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app).await;
        let api = w.api.as_str();
        let surveyor = caller(&app, w.company, "surveyor@example.jp").await;

        let (status, meta) = surveyor
            .put(
                &format!("{api}/segment/S-SRV"),
                segment("S-SRV", "サーバセグメント"),
            )
            .await;
        assert_eq!(status, 200, "{label}: {meta}");
        assert_eq!(
            (
                meta["kind"].as_str(),
                meta["key"].as_str(),
                meta["version"].as_i64()
            ),
            (Some("segment"), Some("S-SRV"), Some(1)),
            "{label}"
        );
        let fw = asset("FW-01", "firewall", "境界ファイアウォール", Some("S-SRV"));
        let (status, meta) = surveyor
            .put(&format!("{api}/asset/FW-01"), fw.clone())
            .await;
        assert_eq!(status, 200, "{label}: {meta}");
        assert_eq!(meta["version"], 1, "{label}");

        // Read back: the whole ledger, one kind, one record.
        let (status, whole) = surveyor.get(api).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(whole["ledger"]["assets"][0]["key"], "FW-01", "{label}");
        assert_eq!(whole["ledger"]["segments"][0]["key"], "S-SRV", "{label}");
        assert_eq!(whole["meta"].as_array().unwrap().len(), 2, "{label}");
        let (status, list) = surveyor.get(&format!("{api}/asset")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(list, json!([fw]), "{label}: the shape PUT took");
        let (status, one) = surveyor.get(&format!("{api}/asset/FW-01")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(one["record"], fw, "{label}");
        assert_eq!(one["meta"]["version"], 1, "{label}");
        for missing in [format!("{api}/asset/FW-99"), format!("{api}/toaster")] {
            assert_eq!(surveyor.get(&missing).await.0, 404, "{label}: {missing}");
        }

        // The same record again changes nothing.
        let history_before = count(&app, HISTORY).await;
        let (status, meta) = surveyor
            .put(&format!("{api}/asset/FW-01"), fw.clone())
            .await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(meta["version"], 1, "{label}");
        assert_eq!(count(&app, HISTORY).await, history_before, "{label}");

        // A change made to the version it was read at.
        let mut newer = fw.clone();
        newer["version"] = json!("7.2.8");
        let (status, meta) = surveyor
            .put(&format!("{api}/asset/FW-01?version=1"), newer.clone())
            .await;
        assert_eq!(status, 200, "{label}: {meta}");
        assert_eq!(meta["version"], 2, "{label}");

        // One made to an older version is a conflict, and changes nothing.
        let mut stale = fw.clone();
        stale["version"] = json!("7.4.1");
        let (status, body) = surveyor
            .put(&format!("{api}/asset/FW-01?version=1"), stale)
            .await;
        assert_eq!(status, 409, "{label}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("version 2"),
            "{label}"
        );
        let (_, one) = surveyor.get(&format!("{api}/asset/FW-01")).await;
        assert_eq!(one["record"]["version"], "7.2.8", "{label}");
        assert_eq!(one["meta"]["version"], 2, "{label}");

        // Content the rules refuse: every field named, nothing written.
        let history_before = count(&app, HISTORY).await;
        let mut bad = newer.clone();
        bad["cpes"] = json!(["not-a-cpe"]);
        bad["quantity"] = json!(0);
        bad["name"] = json!("");
        let (status, body) = surveyor.put(&format!("{api}/asset/FW-01"), bad).await;
        assert_eq!(status, 422, "{label}: {body}");
        assert_eq!(
            problem_fields(&body),
            ["cpes", "name", "quantity"]
                .into_iter()
                .map(String::from)
                .collect(),
            "{label}: {body}"
        );
        let mut dangling = newer.clone();
        dangling["segment"] = json!("S-NONE");
        let (status, body) = surveyor.put(&format!("{api}/asset/FW-01"), dangling).await;
        assert_eq!(status, 422, "{label}: {body}");
        assert_eq!(body["problems"][0]["field"], "segment", "{label}");
        assert!(
            body["message"].as_str().unwrap().contains("S-NONE"),
            "{label}"
        );
        assert_eq!(count(&app, HISTORY).await, history_before, "{label}");

        // Not a record of the kind, or for another key: 400.
        let mut not_a_kind = newer.clone();
        not_a_kind["kind"] = json!("toaster");
        let (status, body) = surveyor
            .put(&format!("{api}/asset/FW-01"), not_a_kind)
            .await;
        assert_eq!(status, 400, "{label}: {body}");
        let (status, body) = surveyor
            .put(
                &format!("{api}/asset/FW-02"),
                asset("FW-01", "firewall", "別の鍵", Some("S-SRV")),
            )
            .await;
        assert_eq!(status, 400, "{label}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("FW-02"),
            "{label}"
        );
        assert_eq!(surveyor.get(&format!("{api}/asset/FW-02")).await.0, 404);
        assert_eq!(count(&app, HISTORY).await, history_before, "{label}");

        // Deleting: not while pointed at, not from an older version.
        let (status, body) = surveyor.delete(&format!("{api}/segment/S-SRV")).await;
        assert_eq!(status, 409, "{label}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("FW-01"),
            "{label}"
        );
        let (status, _) = surveyor
            .delete(&format!("{api}/asset/FW-01?version=1"))
            .await;
        assert_eq!(status, 409, "{label}");
        let (status, _) = surveyor
            .delete(&format!("{api}/asset/FW-01?version=2"))
            .await;
        assert_eq!(status, 204, "{label}");
        assert_eq!(surveyor.get(&format!("{api}/asset/FW-01")).await.0, 404);
        assert_eq!(
            surveyor.delete(&format!("{api}/asset/FW-01")).await.0,
            404,
            "{label}"
        );
        let (status, _) = surveyor.delete(&format!("{api}/segment/S-SRV")).await;
        assert_eq!(status, 204, "{label}: no longer pointed at");

        // The history, newest first, keeps the deleted records.
        let (status, history) = surveyor.get(&format!("{api}/history")).await;
        assert_eq!(status, 200, "{label}");
        let changes = history.as_array().unwrap();
        let ids: Vec<i64> = changes.iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|p| p[0] > p[1]), "{label}: {ids:?}");
        let line: Vec<(&str, &str, &str)> = changes
            .iter()
            .map(|c| {
                (
                    c["kind"].as_str().unwrap(),
                    c["key"].as_str().unwrap(),
                    c["action"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            line,
            vec![
                ("segment", "S-SRV", "deleted"),
                ("asset", "FW-01", "deleted"),
                ("asset", "FW-01", "updated"),
                ("asset", "FW-01", "created"),
                ("segment", "S-SRV", "created"),
            ],
            "{label}"
        );
        assert!(changes.iter().all(|c| c["source"] == "api"), "{label}");
        let updated = &changes[2];
        assert_eq!(updated["before"]["version"], "7.0.12", "{label}");
        assert_eq!(updated["after"]["version"], "7.2.8", "{label}");
        assert_eq!(updated["actor_name"], "surveyor@example.jp さん", "{label}");
        let (_, filtered) = surveyor
            .get(&format!("{api}/history?kind=segment&key=S-SRV"))
            .await;
        assert_eq!(filtered.as_array().unwrap().len(), 2, "{label}");

        // One page of a kind, with how many the kind has in X-Total-Count;
        // deleted records are in neither.
        let mut written = Vec::new();
        for key in ["PC-01", "PC-02", "PC-03"] {
            let pc = asset(key, "terminal", "電子カルテ端末", None);
            assert_eq!(
                surveyor
                    .put(&format!("{api}/asset/{key}"), pc.clone())
                    .await
                    .0,
                200,
                "{label}"
            );
            written.push(pc);
        }
        let page = |query: &str| {
            surveyor
                .http
                .get(app.url(&format!("{api}/asset{query}")))
                .bearer_auth(&surveyor.token)
                .send()
        };
        let response = page("?limit=1&offset=1").await.expect("page");
        assert_eq!(response.status(), 200, "{label}");
        assert_eq!(response.headers()["x-total-count"], "3", "{label}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body, json!([written[1]]), "{label}");
        let response = page("").await.expect("all");
        assert_eq!(response.headers()["x-total-count"], "3", "{label}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body, json!(written), "{label}");
        app.db.finish().await;
    }
}

// --- imports --------------------------------------------------------------------------

#[tokio::test]
async fn csv_imports_are_planned_refused_whole_skipped_and_repeated_without_change() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app).await;
        let api = w.api.as_str();
        let surveyor = caller(&app, w.company, "surveyor@example.jp").await;
        for (key, name) in [("S-SRV", "サーバセグメント"), ("S-CLN", "外来セグメント")]
        {
            let (status, _) = surveyor
                .put(&format!("{api}/segment/{key}"), segment(key, name))
                .await;
            assert_eq!(status, 200, "{label}");
        }
        let csv = "資産番号,種別,名称,設置場所,ネットワークセグメント,CPE,サポート終了日\n\
                   SV-02,サーバ,PACSサーバ,サーバ室,S-SRV,,2030-03-31\n\
                   XX-01,トースター,謎の機器,,S-SRV,,\n\
                   XX-02,端末,病棟端末,,S-NONE,,\n\
                   XX-03,サーバ,古いサーバ,,S-SRV,not-a-cpe,31/03/2026\n\
                   PC-02,端末,病棟端末,3階病棟,S-CLN,,\n"
            .as_bytes()
            .to_vec();
        let import = format!("{api}/import?kind=asset");
        let (records, history) = (count(&app, RECORDS).await, count(&app, HISTORY).await);

        // A dry run plans and writes nothing.
        let (status, plan) = surveyor
            .upload(&format!("{import}&dry_run=true"), csv.clone())
            .await;
        assert_eq!(status, 200, "{label}: {plan}");
        assert_eq!(plan["imported"], false, "{label}");
        let table = &plan["tables"][0];
        assert_eq!(
            (&table["kind"], &table["created"], &table["updated"]),
            (&json!("asset"), &json!(2), &json!(0)),
            "{label}: {table}"
        );
        let rejected: Vec<(i64, i64, &str)> = table["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["row"].as_i64().unwrap(),
                    r["column"].as_i64().unwrap(),
                    r["field"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rejected,
            vec![
                (3, 1, "kind"),
                (4, 4, "segment"),
                (5, 5, "cpes"),
                (5, 6, "end_of_support")
            ],
            "{label}"
        );
        assert!(
            table["rejected"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("トースター"),
            "{label}"
        );
        assert_eq!(count(&app, RECORDS).await, records, "{label}");

        // Rejected rows refuse the whole file.
        let (status, plan) = surveyor.upload(&import, csv.clone()).await;
        assert_eq!(status, 422, "{label}: {plan}");
        assert_eq!(plan["imported"], false, "{label}");
        assert_eq!(count(&app, RECORDS).await, records, "{label}");
        assert_eq!(count(&app, HISTORY).await, history, "{label}");

        // Unless they are left out.
        let skip = format!("{import}&skip_rejected=true");
        let (status, plan) = surveyor.upload(&skip, csv.clone()).await;
        assert_eq!(status, 200, "{label}: {plan}");
        assert_eq!(plan["imported"], true, "{label}");
        assert_eq!(count(&app, RECORDS).await, records + 2, "{label}");
        let (_, assets) = surveyor.get(&format!("{api}/asset")).await;
        let keys: BTreeSet<&str> = assets
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["PC-02", "SV-02"].into_iter().collect(), "{label}");
        let (_, history_list) = surveyor.get(&format!("{api}/history?kind=asset")).await;
        assert!(
            history_list
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["source"] == "import" || c["source"] == "api"),
            "{label}"
        );

        // The same file again: all unchanged, no history.
        let history = count(&app, HISTORY).await;
        let (status, plan) = surveyor.upload(&skip, csv.clone()).await;
        assert_eq!(status, 200, "{label}: {plan}");
        let table = &plan["tables"][0];
        assert_eq!(
            (&table["created"], &table["updated"], &table["unchanged"]),
            (&json!(0), &json!(0), &json!(2)),
            "{label}: {table}"
        );
        assert_eq!(count(&app, HISTORY).await, history, "{label}");

        // Not a table, or a table of no known kind.
        let (status, body) = surveyor
            .upload(&import, b"%PDF-1.7\n%%EOF\n".to_vec())
            .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(body["message"].as_str().unwrap().contains("PDF"), "{label}");
        let (status, body) = surveyor.upload(&format!("{api}/import"), csv.clone()).await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("kind"),
            "{label}: {body}"
        );
        assert_eq!(count(&app, HISTORY).await, history, "{label}");
        app.db.finish().await;
    }
}

// --- views and the catalogue -------------------------------------------------------------

#[tokio::test]
async fn network_and_structure_views_and_the_catalogue_kept_by_the_secretariat() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app).await;
        let api = w.api.as_str();
        let surveyor = caller(&app, w.company, "surveyor@example.jp").await;
        let staff = caller(&app, w.hospital, "staff@example.jp").await;
        let secretariat_org = app.org(OrgKind::Secretariat, "日本遠隔医療協会").await;
        let secretariat = caller(&app, secretariat_org, "office@example.jp").await;

        let mut pc1 = asset("PC-01", "terminal", "外来端末", Some("S-SRV"));
        pc1["quantity"] = json!(20);
        let mut pc2 = asset("PC-02", "terminal", "外来端末", Some("S-SRV"));
        pc2["quantity"] = json!(10);
        for (path, body) in [
            ("segment/S-SRV", segment("S-SRV", "サーバセグメント")),
            (
                "asset/FW-01",
                asset("FW-01", "firewall", "境界ファイアウォール", Some("S-SRV")),
            ),
            ("asset/PC-01", pc1),
            ("asset/PC-02", pc2),
            (
                "link/L-01",
                json!({"key": "L-01", "from": "FW-01", "to": "PC-01", "medium": "wired", "label": "", "notes": ""}),
            ),
            (
                "connection/C-01",
                json!({
                    "key": "C-01", "category": "network-maintenance", "counterpart": "保守ベンダーA",
                    "purpose": "", "method": "internet-vpn", "method_detail": "FortiGate SSL-VPN",
                    "boundary_device": "FW-01", "availability": "always-on", "session_approver": "",
                    "logged": null, "known_to_administrator": false, "notes": ""
                }),
            ),
            ("role/R-1", role("R-1", "executive", "院長", None, None)),
            (
                "role/R-2",
                role(
                    "R-2",
                    "system-administrator",
                    "情報システム室長",
                    Some("R-1"),
                    Some(1),
                ),
            ),
        ] {
            let (status, body) = surveyor.put(&format!("{api}/{path}"), body).await;
            assert_eq!(status, 200, "{label}: {path}: {body}");
        }

        let (status, network) = surveyor.get(&format!("{api}/network")).await;
        assert_eq!(status, 200, "{label}");
        let ids = |list: &Value| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids(&network["groups"]), vec!["s:S-SRV"], "{label}");
        assert_eq!(
            ids(&network["nodes"]),
            vec!["a:FW-01", "a:PC-01"],
            "{label}: identical terminals fold into one box"
        );
        assert_eq!(network["nodes"][1]["count"], 30, "{label}");
        assert_eq!(
            network["edges"],
            json!([{"from": "a:FW-01", "to": "a:PC-01", "label": "", "medium": "wired"}]),
            "{label}"
        );
        assert_eq!(ids(&network["externals"]), vec!["x:C-01"], "{label}");
        assert_eq!(network["externals"][0]["via"], "a:FW-01", "{label}");
        let (status, structure) = surveyor.get(&format!("{api}/structure")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(ids(&structure["nodes"]), vec!["r:R-1", "r:R-2"], "{label}");
        assert_eq!(
            structure["edges"],
            json!([{"superior": "r:R-1", "subordinate": "r:R-2"}]),
            "{label}"
        );
        assert_eq!(structure["incident_chain"], json!(["r:R-2"]), "{label}");

        // The catalogue: the secretariat writes it, everyone engaged reads it.
        let model = json!({
            "key": "FG-60F", "kind": "firewall", "vendor": "Fortinet", "product": "FortiGate",
            "model": "60F", "cpes": ["cpe:2.3:h:fortinet:fortigate_60f:-:*:*:*:*:*:*:*"],
            "disclosure": "", "end_of_support": null, "notes": ""
        });
        let models = "SELECT COUNT(*) FROM device_models";
        for (who, c) in [("surveyor", &surveyor), ("staff", &staff)] {
            let (status, body) = c.put("/api/v1/catalogue/FG-60F", model.clone()).await;
            assert_eq!(status, 403, "{label}: {who}: {body}");
            let mut bad = model.clone();
            bad["vendor"] = json!("");
            let (status, body) = c.put("/api/v1/catalogue/FG-60F", bad).await;
            assert_eq!(
                status, 403,
                "{label}: {who} is refused before the content: {body}"
            );
        }
        assert_eq!(count(&app, models).await, 0, "{label}");
        let (status, body) = secretariat
            .put("/api/v1/catalogue/FG-60F", model.clone())
            .await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["version"], 1, "{label}");
        let (status, body) = secretariat
            .put("/api/v1/catalogue/FG-61F", model.clone())
            .await;
        assert_eq!(status, 400, "{label}: the key is the path's: {body}");
        let mut renamed = model.clone();
        renamed["notes"] = json!("保守契約あり");
        let (status, body) = secretariat
            .put("/api/v1/catalogue/FG-60F?version=7", renamed)
            .await;
        assert_eq!(status, 409, "{label}: {body}");
        let (status, list) = surveyor.get("/api/v1/catalogue").await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(list[0]["model"]["key"], "FG-60F", "{label}");

        // Assets point at models that exist; a model in use stays.
        let mut fw = asset("FW-01", "firewall", "境界ファイアウォール", Some("S-SRV"));
        fw["model_ref"] = json!("NO-SUCH-MODEL");
        let (status, body) = surveyor
            .put(&format!("{api}/asset/FW-01"), fw.clone())
            .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert_eq!(body["problems"][0]["field"], "model_ref", "{label}");
        fw["model_ref"] = json!("FG-60F");
        let (status, body) = surveyor.put(&format!("{api}/asset/FW-01"), fw).await;
        assert_eq!(status, 200, "{label}: {body}");
        let (status, _) = surveyor.delete("/api/v1/catalogue/FG-60F").await;
        assert_eq!(status, 403, "{label}");
        let (status, body) = secretariat.delete("/api/v1/catalogue/FG-60F").await;
        assert_eq!(status, 409, "{label}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("in use"),
            "{label}"
        );
        let (_, list) = surveyor.get("/api/v1/catalogue").await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{label}");
        app.db.finish().await;
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_ledger() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let response = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
        assert_eq!(response.status(), 200, "{label}");
        let doc: Value = response.json().await.unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for (path, methods) in [
            ("/api/v1/hospitals/{id}/ledger", &["get"][..]),
            ("/api/v1/hospitals/{id}/ledger/{kind}", &["get"]),
            (
                "/api/v1/hospitals/{id}/ledger/{kind}/{key}",
                &["get", "put", "delete"],
            ),
            ("/api/v1/hospitals/{id}/ledger/import", &["post"]),
            ("/api/v1/hospitals/{id}/ledger/history", &["get"]),
            ("/api/v1/hospitals/{id}/ledger/network", &["get"]),
            ("/api/v1/hospitals/{id}/ledger/structure", &["get"]),
            ("/api/v1/catalogue", &["get"]),
            ("/api/v1/catalogue/{key}", &["put", "delete"]),
        ] {
            let item = paths
                .get(path)
                .unwrap_or_else(|| panic!("{label}: {path} not described"));
            for method in methods {
                let operation = &item[*method];
                assert!(operation.is_object(), "{label}: {method} {path}");
                assert!(
                    operation["responses"]["403"].is_object(),
                    "{label}: {method} {path} says when the policy refuses"
                );
            }
        }
        // What the server answers is what the document says.
        let record = &paths["/api/v1/hospitals/{id}/ledger/{kind}/{key}"];
        for status in ["200", "400", "409", "422"] {
            assert!(
                record["put"]["responses"][status].is_object(),
                "{label}: PUT {status}"
            );
        }
        assert!(
            record["delete"]["responses"]["409"]["description"]
                .as_str()
                .unwrap()
                .contains("point at it"),
            "{label}: a record still pointed at is a conflict"
        );
        assert!(
            paths["/api/v1/catalogue/{key}"]["delete"]["responses"]["409"]["description"]
                .as_str()
                .unwrap()
                .contains("point at it"),
            "{label}: a model in use is a conflict"
        );
        app.db.finish().await;
    }
}

// --- the policy -----------------------------------------------------------------------------

#[tokio::test]
async fn the_policy_refuses_with_403_and_every_refusal_is_audited() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let w = world(&app).await;
        let api = w.api.clone();
        let surveyor = caller(&app, w.company, "surveyor@example.jp").await;
        let (status, _) = surveyor
            .put(
                &format!("{api}/segment/S-SRV"),
                segment("S-SRV", "サーバセグメント"),
            )
            .await;
        assert_eq!(status, 200, "{label}");
        let fw = asset("FW-01", "firewall", "境界ファイアウォール", Some("S-SRV"));
        let (status, _) = surveyor
            .put(&format!("{api}/asset/FW-01"), fw.clone())
            .await;
        assert_eq!(status, 200, "{label}");

        let secretariat_org = app.org(OrgKind::Secretariat, "日本遠隔医療協会").await;
        let supervisor_org = app.org(OrgKind::Supervisor, "セコム山陰").await;
        let ministry_org = app.org(OrgKind::Ministry, "厚生労働省").await;
        let other_hospital = app.org(OrgKind::Hospital, "石見やまびこ病院").await;
        let unrelated = app.org(OrgKind::SurveyCompany, "いずも情報サービス").await;
        let not_yet = app.org(OrgKind::SurveyCompany, "まつえシステム監査").await;
        testing::add_engagement(
            store,
            w.programme,
            w.hospital,
            not_yet,
            EngagementState::IntentConfirmed,
        )
        .await;
        let accepted_hospital = app.org(OrgKind::Hospital, "隠岐うみかぜ病院").await;
        testing::add_engagement(
            store,
            w.programme,
            accepted_hospital,
            w.company,
            EngagementState::Accepted,
        )
        .await;

        let staff = caller(&app, w.hospital, "staff@example.jp").await;
        let secretariat = caller(&app, secretariat_org, "office@example.jp").await;
        let supervisor = caller(&app, supervisor_org, "supervisor@example.jp").await;
        let ministry = caller(&app, ministry_org, "ministry@example.jp").await;
        let stranger = caller(&app, other_hospital, "other@example.jp").await;
        let outsider = caller(&app, unrelated, "outsider@example.jp").await;
        let pending = caller(&app, not_yet, "pending@example.jp").await;

        let reads = [
            api.clone(),
            format!("{api}/asset"),
            format!("{api}/asset/FW-01"),
            format!("{api}/history"),
            format!("{api}/network"),
            format!("{api}/structure"),
        ];
        for (who, c) in [
            ("staff", &staff),
            ("secretariat", &secretariat),
            ("supervisor", &supervisor),
        ] {
            for path in &reads {
                let (status, body) = c.get(path).await;
                assert_eq!(status, 200, "{label}: {who} {path}: {body}");
            }
        }
        // The hospital's own staff writes.
        let mut printer = asset("PR-01", "other", "受付プリンタ", Some("S-SRV"));
        printer["vendor"] = json!("");
        let (status, body) = staff.put(&format!("{api}/asset/PR-01"), printer).await;
        assert_eq!(status, 200, "{label}: {body}");

        let csv = "資産番号,種別,名称\nZZ-01,サーバ,追加サーバ\n"
            .as_bytes()
            .to_vec();
        let written = async || {
            (
                count(&app, RECORDS).await,
                count(&app, HISTORY).await,
                count(&app, "SELECT COUNT(*) FROM ledger_uploads").await,
            )
        };
        let secrets = [
            HOSPITAL,
            "境界ファイアウォール",
            "サーバセグメント",
            "FW-01",
        ];
        for (who, c, reads_too) in [
            ("secretariat", &secretariat, false),
            ("supervisor", &supervisor, false),
            ("another hospital", &stranger, true),
            ("an unrelated company", &outsider, true),
            ("a company not yet contracted", &pending, true),
            ("the ministry before acceptance", &ministry, true),
        ] {
            let before = written().await;
            let mut attempts: Vec<Attempt> = vec![
                (
                    Method::PUT,
                    format!("{api}/asset/FW-01"),
                    Some(fw.clone()),
                    None,
                ),
                (
                    Method::PUT,
                    format!("{api}/asset/ZZ-01"),
                    Some(json!({"key": "ZZ-01"})),
                    None,
                ),
                (Method::DELETE, format!("{api}/asset/FW-01"), None, None),
                (
                    Method::POST,
                    format!("{api}/import?kind=asset"),
                    None,
                    Some(csv.clone()),
                ),
                (
                    Method::POST,
                    format!("{api}/import?kind=asset&dry_run=true"),
                    None,
                    Some(csv.clone()),
                ),
            ];
            if reads_too {
                attempts.extend(
                    reads
                        .iter()
                        .map(|path| (Method::GET, path.clone(), None, None)),
                );
            }
            for (method, path, json_body, data) in attempts {
                let audited = count(&app, DENIED).await;
                let (status, _, text) = c
                    .call(method.clone(), &path, data.map(Into::into), json_body)
                    .await;
                assert_eq!(status, 403, "{label}: {who} {method} {path}: {text}");
                for secret in secrets {
                    assert!(
                        !text.contains(secret),
                        "{label}: {who} {method} {path} shows {secret}"
                    );
                }
                assert!(
                    count(&app, DENIED).await > audited,
                    "{label}: {who} {method} {path} is not audited"
                );
            }
            assert_eq!(written().await, before, "{label}: {who} wrote something");
        }

        // The ministry reads a ledger once that hospital's report is accepted.
        let (status, body) = ministry
            .get(&format!("/api/v1/hospitals/{}/ledger", accepted_hospital.0))
            .await;
        assert_eq!(status, 200, "{label}: {body}");
        let (status, _) = ministry
            .put(
                &format!(
                    "/api/v1/hospitals/{}/ledger/asset/FW-01",
                    accepted_hospital.0
                ),
                fw.clone(),
            )
            .await;
        assert_eq!(status, 403, "{label}: but does not write it");
        app.db.finish().await;
    }
}

#[tokio::test]
async fn the_ledger_as_it_stood_at_the_end_of_a_day() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app).await;
        let api = w.api.as_str();
        let surveyor = caller(&app, w.company, "surveyor@example.jp").await;
        let (status, _) = surveyor
            .put(&format!("{api}/segment/S-1"), segment("S-1", "医療系"))
            .await;
        assert_eq!(status, 200, "{label}");
        // Days in Japan time, as the history's moments are read.
        let today = time::OffsetDateTime::now_utc()
            .to_offset(time::macros::offset!(+9))
            .date();
        let (status, before) = surveyor
            .get(&format!("{api}?as_of={}", today.previous_day().unwrap()))
            .await;
        assert_eq!(status, 200, "{label}: {before}");
        assert_eq!(before["ledger"]["segments"], json!([]), "{label}");
        let (status, now) = surveyor.get(&format!("{api}?as_of={today}")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(now["ledger"]["segments"][0]["key"], "S-1", "{label}");
        let (status, _) = surveyor.get(&format!("{api}?as_of=27/11/2026")).await;
        assert_eq!(status, 400, "{label}");
    }
}
