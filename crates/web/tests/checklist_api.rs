//! Checklists through the real router, on every backend: the shipped
//! frameworks with their unverified wordings flagged, the import of an
//! official workbook (a preview stores nothing; rejected rows are listed
//! and refuse the import unless skipped), a programme's framework and its
//! own items, the self-assessment, hearing, request and inquiry flow of a
//! contracted engagement over the API, and who may read an engagement's
//! checklist.

mod common;

use common::{Browser, PASSWORD, Page, TestApp, Upload};
use mamori_domain::OrgId;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use reqwest::StatusCode;
use serde_json::{Value, json};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

struct Caller<'a> {
    app: &'a TestApp,
    token: String,
    http: reqwest::Client,
}

impl Caller<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, String) {
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
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone())),
            text,
        )
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.send(reqwest::Method::GET, path, None).await;
        (s, v)
    }
    async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let (s, _, t) = self.send(reqwest::Method::GET, path, None).await;
        (s, t)
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self.send(reqwest::Method::POST, path, Some(body)).await;
        (s, v)
    }
    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self.send(reqwest::Method::PUT, path, Some(body)).await;
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

/// A browser signed in as a new administrator of `org`.
async fn browser(app: &TestApp, org: OrgId, email: &str) -> Browser {
    app.account(org, email, Role::Admin).await;
    let b = app.browser();
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "login {email}: {}", page.body);
    b
}

/// The `<article>` of one item on a framework page.
fn item_block<'a>(page: &'a Page, form: &str, anchor: &str) -> &'a str {
    let marker = format!("id=\"item-{form}-{anchor}\"");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} not on the page"));
    let end = page.body[start..]
        .find("</article>")
        .map(|e| start + e)
        .unwrap_or(page.body.len());
    &page.body[start..end]
}

fn id_of(list: &Value, key: &str) -> i64 {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"] == key)
        .max_by_key(|f| f["version"].as_i64())
        .unwrap_or_else(|| panic!("{key} not listed"))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn shipped_frameworks_are_listed_and_unverified_wordings_flagged() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let hos = caller(&app, hospital, "hos@example.jp").await;

        let (status, list) = hos.get("/api/v1/checklists").await;
        assert_eq!(status, 200, "{label}: {list}");
        for key in ["mhlw-r5", "mhlw-r6", "mhlw-r7", "mhlw-kokoroe-2023"] {
            let f = list
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["key"] == key)
                .unwrap_or_else(|| panic!("{label}: {key} not listed in {list}"));
            assert!(f["unverified"].is_u64(), "{label}: {f}");
            assert!(!f["forms"].as_array().unwrap().is_empty(), "{label}: {f}");
        }
        let r5 = id_of(&list, "mhlw-r5");
        let (status, detail) = hos.get(&format!("/api/v1/checklists/{r5}")).await;
        assert_eq!(status, 200, "{label}");
        let unverified = detail["unverified_items"].as_array().unwrap();
        assert!(!unverified.is_empty(), "{label}: R5 has unverified items");
        assert_eq!(
            detail["unverified"].as_u64(),
            Some(unverified.len() as u64),
            "{label}"
        );
        assert!(
            unverified.contains(&json!(["hospital", "2-(9)"])),
            "{label}: {unverified:?}"
        );
        assert_eq!(detail["framework"]["key"], "mhlw-r5");
        assert_eq!(hos.get("/api/v1/checklists/999999").await.0, 404);

        // The pages: the list, and R5 item by item.
        let b = browser(&app, hospital, "hos-page@example.jp").await;
        let page = b.get("/checklists").await;
        assert_eq!(page.status, 200, "{label}");
        assert!(page.body.contains("href=\"/checklists\""), "nav entry");
        for key in ["mhlw-r5", "mhlw-r6", "mhlw-r7", "mhlw-kokoroe-2023"] {
            assert!(page.body.contains(key), "{label}: {key}");
        }
        assert!(
            !page.body.contains("/checklists/import"),
            "import is the secretariat's"
        );
        let page = b.get(&format!("/checklists/{r5}")).await;
        assert_eq!(page.status, 200, "{label}");
        // 2-(9) is inferred: flagged with its provenance; 1-(1) is verbatim.
        let inferred = item_block(&page, "hospital", "2--9-");
        assert!(inferred.contains("文言未確認"), "{label}: {inferred}");
        assert!(inferred.contains("推定"), "{label}: {inferred}");
        let verbatim = item_block(&page, "hospital", "1--1-");
        assert!(!verbatim.contains("文言未確認"), "{label}: {verbatim}");
        assert!(verbatim.contains("医療情報システム安全管理責任者を設置している。"));
        // The JSON download is the domain's format.
        let (status, headers, bytes) = b.bytes(&format!("/checklists/{r5}.json")).await;
        assert_eq!(status, 200, "{label}");
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .contains("mhlw-r5-v"),
            "{headers:?}"
        );
        let framework: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(framework["key"], "mhlw-r5");
        assert_eq!(b.get("/checklists/none").await.status, 404);
        // A hospital may not import.
        assert_eq!(b.get("/checklists/import").await.status, 403, "{label}");
    }
}

/// An official-looking workbook: one form on 医療機関確認用 with a header
/// row, two good items (one split by device), and three bad rows.
fn workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("医療機関確認用").unwrap();
    let rows: [[&str; 5]; 7] = [
        ["番号", "確認項目", "対象", "目標年度", "備考"],
        [
            "1-(1)",
            "医療情報システム安全管理責任者を設置している。",
            "",
            "令和6年度",
            "",
        ],
        ["1-(2)", "", "", "", ""],
        [
            "1-(3)",
            "台帳管理を行っている。",
            "サーバ",
            "R6",
            "※台帳の様式は問わない",
        ],
        ["1-(3)", "", "端末PC", "2024", ""],
        ["1-(4)", "アクセスログを管理している。", "冷蔵庫", "", ""],
        [
            "1-(5)",
            "セキュリティパッチを適用している。",
            "",
            "来年度",
            "",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r as u32, c as u16, *text).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn import_fields<'a>(action: &'a str, sheet: &'a str, skip: bool) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("action", action),
        ("key", "test-r8"),
        (
            "title_ja",
            "医療機関におけるサイバーセキュリティ対策チェックリスト",
        ),
        ("edition_ja", "令和8年度版（試行）"),
        ("fiscal_year", "2026"),
        ("answer_style", "yes-no-dated"),
        ("sheet_1", sheet),
        ("form_key_1", "hospital"),
        ("audience_1", "hospital"),
        ("form_title_1", "医療機関確認用"),
        ("first_row_1", "2"),
        ("number_1", "A"),
        ("text_1", "B"),
        ("scope_1", "C"),
        ("required_fy_1", "D"),
        ("note_1", "E"),
        ("sheet_2", ""),
        ("sheet_3", ""),
    ];
    if skip {
        fields.push(("skip_rejected", "1"));
    }
    fields
}

fn xlsx_upload(data: Vec<u8>) -> Upload<'static> {
    Upload {
        field: "file",
        name: "checklist_r8.xlsx",
        data,
        mime: XLSX,
    }
}

#[tokio::test]
async fn an_official_workbook_is_previewed_refused_for_bad_rows_and_imported_without_them() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let secretariat = app.org(OrgKind::Secretariat, "研究事務局").await;
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let sec = browser(&app, secretariat, "sec@example.jp").await;
        let frameworks = || app.db.count("SELECT COUNT(*) FROM checklist_frameworks");
        let before = frameworks().await;
        assert!(before >= 4, "{label}: the shipped editions are installed");

        let form = sec.get("/checklists/import").await;
        assert_eq!(form.status, 200, "{label}");
        assert!(form.body.contains("プレビュー（取込しない）"));
        assert!(form.body.contains("不正な行を除いて取込"));

        // The preview: every row read, every bad row named, nothing stored.
        let page = sec
            .upload(
                "/checklists/import",
                "/checklists/import",
                &import_fields("preview", "医療機関確認用", false),
                Some(xlsx_upload(workbook())),
            )
            .await;
        assert_eq!(page.status, 422, "{label}: {}", page.body);
        for (row, column) in [(3, "B"), (6, "C"), (7, "D")] {
            let line = format!("<tr><td>医療機関確認用</td><td>{row}</td><td>{column}</td>");
            assert!(
                page.body.contains(&line),
                "{label}: {line} in {}",
                page.body
            );
        }
        assert!(page.body.contains("冷蔵庫"), "the reason quotes the value");
        assert!(page.body.contains("台帳管理を行っている。"), "preview rows");
        assert!(page.body.contains("何も保存していません"));
        assert_eq!(
            frameworks().await,
            before,
            "{label}: a preview stores nothing"
        );

        // The import with bad rows is refused with the same list.
        let page = sec
            .upload(
                "/checklists/import",
                "/checklists/import",
                &import_fields("import", "医療機関確認用", false),
                Some(xlsx_upload(workbook())),
            )
            .await;
        assert_eq!(page.status, 422, "{label}");
        assert!(
            page.body
                .contains("<td>医療機関確認用</td><td>6</td><td>C</td>")
        );
        assert!(
            page.body.contains("3 行"),
            "{label}: the count of refused rows"
        );
        assert_eq!(
            frameworks().await,
            before,
            "{label}: refused, nothing stored"
        );

        // Refused files name the file or the sheet.
        let page = sec
            .upload(
                "/checklists/import",
                "/checklists/import",
                &import_fields("preview", "医療機関確認用", false),
                Some(Upload {
                    field: "file",
                    name: "memo.xlsx",
                    data: b"this is not a workbook".to_vec(),
                    mime: XLSX,
                }),
            )
            .await;
        assert_eq!(page.status, 422, "{label}");
        assert!(page.body.contains("memo.xlsx"), "{label}: {}", page.body);
        assert!(page.body.contains(".xlsx"));
        let page = sec
            .upload(
                "/checklists/import",
                "/checklists/import",
                &import_fields("preview", "存在しないシート", false),
                Some(xlsx_upload(workbook())),
            )
            .await;
        assert_eq!(page.status, 422, "{label}");
        assert!(
            page.body.contains("存在しないシート"),
            "{label}: {}",
            page.body
        );
        assert!(
            page.body.contains("医療機関確認用"),
            "the sheets there are named"
        );
        let page = sec
            .upload(
                "/checklists/import",
                "/checklists/import",
                &import_fields("preview", "医療機関確認用", false),
                None,
            )
            .await;
        assert_eq!(page.status, 422, "{label}: no file");
        assert_eq!(frameworks().await, before, "{label}");

        // Without the bad rows: stored as version 1 of its key.
        let page = sec
            .upload(
                "/checklists/import",
                "/checklists/import",
                &import_fields("import", "医療機関確認用", true),
                Some(xlsx_upload(workbook())),
            )
            .await;
        assert_eq!(page.status, 303, "{label}: {}", page.body);
        let location = page.location.unwrap();
        assert!(location.ends_with("?done=framework_imported"), "{location}");
        assert_eq!(frameworks().await, before + 1, "{label}");
        let shown = sec.get(&location).await;
        assert_eq!(shown.status, 200, "{label}");
        assert!(shown.body.contains("チェックリストを取り込みました。"));
        let split = item_block(&shown, "hospital", "1--3-");
        assert!(
            split.contains("サーバ") && split.contains("端末PC"),
            "{split}"
        );
        assert!(split.contains("令和6年度中"), "{split}");
        assert!(
            !split.contains("文言未確認"),
            "imported wording is the official one"
        );
        assert!(!shown.body.contains("冷蔵庫"), "the bad row was left out");

        // Others may not import, by page or by API.
        let hos = browser(&app, hospital, "hos@example.jp").await;
        let page = hos
            .upload(
                "/checklists",
                "/checklists/import",
                &import_fields("preview", "医療機関確認用", false),
                Some(xlsx_upload(workbook())),
            )
            .await;
        assert_eq!(page.status, 403, "{label}");
        let com = caller(&app, company, "com@example.jp").await;
        let api_sec = caller(&app, secretariat, "sec-api@example.jp").await;
        let (_, list) = api_sec.get("/api/v1/checklists").await;
        let r6 = id_of(&list, "mhlw-r6");
        let (_, framework) = api_sec.get(&format!("/api/v1/checklists/{r6}")).await;
        let mut framework = framework["framework"].clone();
        framework["key"] = json!("r6-local");
        assert_eq!(
            com.post("/api/v1/checklists", framework.clone()).await.0,
            403,
            "{label}"
        );
        assert_eq!(frameworks().await, before + 1, "{label}");
        let (status, created) = api_sec.post("/api/v1/checklists", framework).await;
        assert_eq!(status, 201, "{label}: {created}");
        assert_eq!(created["key"], "r6-local");
        assert_eq!(created["origin"], "imported");
        let (status, bad) = api_sec
            .post(
                "/api/v1/checklists",
                json!({"key": "empty", "title_ja": "空", "edition_ja": "版", "answer_style": "circle", "forms": []}),
            )
            .await;
        assert_eq!(status, 422, "{label}: {bad}");
        assert!(bad["message"].as_str().unwrap().contains("forms"), "{bad}");
        assert_eq!(frameworks().await, before + 2, "{label}");
    }
}

/// Every answerable cell of a form of a framework JSON, as (item, scope).
fn cells(framework: &Value, form: &str) -> Vec<(String, String)> {
    let form = framework["forms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == form)
        .unwrap();
    let mut out = Vec::new();
    for section in form["sections"].as_array().unwrap() {
        for item in section["items"].as_array().unwrap() {
            for cell in item["cells"].as_array().unwrap() {
                out.push((
                    item["number"].as_str().unwrap().to_string(),
                    cell["scope"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn a_contracted_engagement_answers_confirms_and_requests_and_only_its_parties_read_it() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let today = store.today();
        let tomorrow = today + time::Duration::days(1);
        let secretariat = app.org(OrgKind::Secretariat, "研究事務局").await;
        let supervisor = app.org(OrgKind::Supervisor, "監督企業").await;
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let other_hospital = app.org(OrgKind::Hospital, "石見やまびこ病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let other_company = app.org(OrgKind::SurveyCompany, "山陰ネット診断").await;
        let pending_company = app.org(OrgKind::SurveyCompany, "隠岐システム監査").await;
        let ministry = app.org(OrgKind::Ministry, "厚生労働省 担当室").await;
        let programme = testing::add_programme(store, "令和8年度 病院調査").await;
        let later = testing::add_programme(store, "令和9年度 病院調査").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        // The same hospital with a company whose contract is not yet in force.
        let pending = testing::add_engagement(
            store,
            later,
            hospital,
            pending_company,
            EngagementState::PledgeIssued,
        )
        .await;
        let eid = e.id.0;
        let pid = programme.0;

        let sec = caller(&app, secretariat, "sec@example.jp").await;
        let sup = caller(&app, supervisor, "sup@example.jp").await;
        let com = caller(&app, company, "com@example.jp").await;
        let hos = caller(&app, hospital, "hos@example.jp").await;
        let other_hos = caller(&app, other_hospital, "other-hos@example.jp").await;
        let other_com = caller(&app, other_company, "other-com@example.jp").await;
        let pending_com = caller(&app, pending_company, "pending@example.jp").await;
        let min = caller(&app, ministry, "min@example.jp").await;

        // No framework yet: nobody can answer.
        let (status, refused) = hos
            .post(
                &format!("/api/v1/engagements/{eid}/checklist/respondents"),
                json!({"form_key": "hospital", "role": "administrator", "name": "情報 太郎"}),
            )
            .await;
        assert_eq!(status, 422, "{label}: {refused}");

        // The secretariat sets R6 for the programme; nobody else may.
        let (_, list) = sec.get("/api/v1/checklists").await;
        let r6 = id_of(&list, "mhlw-r6");
        let set = json!({"framework_id": r6});
        let path = format!("/api/v1/programmes/{pid}/checklist");
        assert_eq!(com.put(&path, set.clone()).await.0, 403, "{label}");
        assert_eq!(hos.put(&path, set.clone()).await.0, 403, "{label}");
        let (status, body) = sec.put(&path, set).await;
        assert_eq!(status, 204, "{label}: {body}");
        let (status, _) = sec.put(&path, json!({"framework_id": 999_999})).await;
        assert_eq!(status, 404, "{label}");
        // Its own supply-chain item, asked in the hospital form only.
        let items = format!("/api/v1/programmes/{pid}/checklist/items");
        let item = json!({"text_ja": "委託先（サプライチェーン）のセキュリティ対策を契約で確認している。", "text_en": "Contracts confirm the security of suppliers.", "scope": "organisation", "forms": ["hospital"]});
        assert_eq!(com.post(&items, item.clone()).await.0, 403, "{label}");
        let (status, supplement) = sec.post(&items, item).await;
        assert_eq!(status, 201, "{label}: {supplement}");
        assert_eq!(supplement["item_number"], "P-1");
        assert_eq!(supplement["origin"], "programme");
        let supplement_id = supplement["id"].as_i64().unwrap();
        let (status, bad) = sec
            .post(
                &items,
                json!({"text_ja": "x", "scope": "organisation", "forms": ["no-such-form"]}),
            )
            .await;
        assert_eq!(status, 422, "{label}: {bad}");
        assert!(bad["message"].as_str().unwrap().contains("no-such-form"));

        // The hospital's administrator answers the hospital form.
        let (status, respondent) = hos
            .post(
                &format!("/api/v1/engagements/{eid}/checklist/respondents"),
                json!({"form_key": "hospital", "role": "administrator", "name": "情報 太郎"}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {respondent}");
        let rid = respondent["id"].as_i64().unwrap();
        let answers = format!("/api/v1/engagements/{eid}/checklist/respondents/{rid}/answers");
        let submit = format!("/api/v1/engagements/{eid}/checklist/respondents/{rid}/submit");
        // Submitting now names every gap.
        let (status, gaps) = hos.post(&submit, json!({})).await;
        assert_eq!(status, 422, "{label}: {gaps}");
        assert!(gaps["gaps"].as_array().unwrap().len() > 5, "{gaps}");
        let (_, framework) = sec.get(&format!("/api/v1/checklists/{r6}")).await;
        let cells = cells(&framework["framework"], "hospital");
        let unclear = "「接続元制限」が何を指すのか分かりませんでした";
        let all: Vec<Value> = cells
            .iter()
            .map(|(item, scope)| {
                json!({"framework_id": r6, "item": item, "scope": scope, "value": "yes",
                       "checked_on": today.to_string(),
                       "not_understood": if cells[1].0 == *item { unclear } else { "" }})
            })
            .collect();
        // One refused answer refuses them all, naming the item.
        let mut bad = all.clone();
        bad[2]["checked_on"] = json!(tomorrow.to_string());
        let (status, refused) = hos.put(&answers, json!({"answers": bad})).await;
        assert_eq!(status, 422, "{label}: {refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains(cells[2].0.as_str()),
            "{refused}"
        );
        let (_, sheet) = hos
            .get(&format!("/api/v1/engagements/{eid}/checklist"))
            .await;
        assert_eq!(
            sheet["respondents"][0]["completion"]["answered"], 0,
            "{label}: nothing saved"
        );
        let mut mixed = all.clone();
        mixed.push(json!({"framework_id": supplement_id, "item": "P-1", "scope": "organisation", "value": "yes"}));
        assert_eq!(hos.put(&answers, json!({"answers": mixed})).await.0, 422);
        let (status, saved) = hos.put(&answers, json!({"answers": all})).await;
        assert_eq!(status, 200, "{label}: {saved}");
        assert_eq!(saved["saved"].as_u64(), Some(cells.len() as u64));
        // The programme item is still open.
        let (status, gaps) = hos.post(&submit, json!({})).await;
        assert_eq!(status, 422, "{label}: {gaps}");
        assert!(gaps["message"].as_str().unwrap().contains("P-1"), "{gaps}");
        let (status, _) = hos
            .put(
                &answers,
                json!({"answers": [{"framework_id": supplement_id, "item": "P-1", "scope": "organisation", "value": "no", "target_on": "2027-03-31"}]}),
            )
            .await;
        assert_eq!(status, 200, "{label}");
        let (status, submitted) = hos.post(&submit, json!({})).await;
        assert_eq!(status, 200, "{label}: {submitted}");
        assert!(submitted["submitted_at_ms"].is_i64());
        // Submitted answers are fixed for the hospital; submitting twice conflicts.
        assert_eq!(hos.post(&submit, json!({})).await.0, 403, "{label}");
        assert_eq!(sec.post(&submit, json!({})).await.0, 409, "{label}");
        // A respondent of another engagement is not found here.
        let (status, _) = hos
            .post(
                &format!(
                    "/api/v1/engagements/{}/checklist/respondents/{rid}/submit",
                    pending.id.0
                ),
                json!({}),
            )
            .await;
        assert!(matches!(status.as_u16(), 403 | 404), "{label}: {status}");

        // The hearing, the surveyor's confirmations, a request, an inquiry.
        let hearing = json!({"held_on": today.to_string(), "participants": [{"respondent_id": rid, "minutes": 120}, {"name": "保守ベンダー 技術者", "minutes": 30}], "notes": "第1回"});
        let hearings = format!("/api/v1/engagements/{eid}/hearings");
        assert_eq!(hos.post(&hearings, hearing.clone()).await.0, 403, "{label}");
        let (status, h) = com.post(&hearings, hearing).await;
        assert_eq!(status, 201, "{label}: {h}");
        let hid = h["id"].as_i64().unwrap();
        let (first_item, first_scope) = &cells[1];
        let confirmations = json!({"respondent_id": rid, "confirmations": [
            {"framework_id": r6, "item": first_item, "scope": first_scope, "value": "no", "note": "実際は未実施"},
            {"framework_id": supplement_id, "item": "P-1", "scope": "organisation", "open": true}
        ]});
        let (status, stored) = com
            .post(
                &format!("/api/v1/engagements/{eid}/hearings/{hid}/confirmations"),
                confirmations.clone(),
            )
            .await;
        assert_eq!(status, 201, "{label}: {stored}");
        assert_eq!(stored["stored"], 2);
        assert_eq!(
            com.post(
                &format!("/api/v1/engagements/{eid}/hearings/999999/confirmations"),
                confirmations
            )
            .await
            .0,
            404
        );
        let (_, listed) = sup.get(&hearings).await;
        assert_eq!(listed.as_array().unwrap().len(), 1, "{label}");

        let requests = format!("/api/v1/engagements/{eid}/requests");
        let (status, request) = com
            .post(
                &requests,
                json!({"hearing_id": hid, "subject": "ネットワーク構成図", "party": "hospital", "requested_on": today.to_string()}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {request}");
        assert_eq!(
            request["due_on"],
            (today + time::Duration::days(7)).to_string(),
            "the one-week rule"
        );
        assert_eq!(request["status"], "requested");
        let (status, bad) = com
            .post(
                &requests,
                json!({"subject": "保守契約書", "party": "vendor", "requested_on": today.to_string()}),
            )
            .await;
        assert_eq!(
            status, 422,
            "{label}: a vendor request names the vendor: {bad}"
        );
        let request_id = request["id"].as_i64().unwrap();
        let file = json!({"name": "network.pdf", "content_base64": "JVBERi0xLjQKJSVFT0YK"});
        let (status, received) = hos
            .post(
                &format!("{requests}/{request_id}/received"),
                json!({"received_on": today.to_string(), "file": file}),
            )
            .await;
        assert_eq!(status, 200, "{label}: {received}");
        assert_eq!(received["status"], "received");
        assert_eq!(
            hos.post(
                &format!("{requests}/999999/received"),
                json!({"received_on": today.to_string()})
            )
            .await
            .0,
            404
        );

        let inquiries = format!("/api/v1/engagements/{eid}/inquiries");
        let (status, inquiry) = com
            .post(
                &inquiries,
                json!({"vendor_name": "出雲メディカルシステムズ", "question": "VPN装置のファームウェアの版を教えてください。",
                       "consent_given_by": "医療情報部 部長", "consent_on": today.to_string(), "requested_on": today.to_string()}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {inquiry}");
        assert!(
            inquiry["link"].as_str().unwrap().contains("/v/"),
            "{inquiry}"
        );
        let (_, listed) = com.get(&inquiries).await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(
            !listed
                .to_string()
                .contains(inquiry["link"].as_str().unwrap()),
            "the link is shown once"
        );

        // The workbook of the answers.
        let xlsx = com
            .http
            .get(app.url(&format!("/api/v1/engagements/{eid}/checklist.xlsx")))
            .bearer_auth(&com.token)
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), 200, "{label}");
        assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));

        // Progress for the programme, with what was not understood.
        let (status, progress) = sec
            .get(&format!("/api/v1/programmes/{pid}/checklist/progress"))
            .await;
        assert_eq!(status, 200, "{label}: {progress}");
        assert_eq!(progress["engagements"][0]["submitted"], 1);
        assert_eq!(progress["engagements"][0]["completion"]["percent"], 100);
        let nu = &progress["not_understood"][0];
        assert_eq!(nu["item_number"], cells[1].0.as_str());
        assert_eq!(nu["hospitals"], 1);
        assert_eq!(nu["notes"][0], unclear);

        // Who reads the engagement's checklist: its parties.
        let checklist = format!("/api/v1/engagements/{eid}/checklist");
        for (who, name) in [
            (&com, "company"),
            (&sup, "supervisor"),
            (&sec, "secretariat"),
            (&hos, "hospital"),
        ] {
            let (status, body) = who.get_text(&checklist).await;
            assert_eq!(status, 200, "{label}: {name}: {body}");
            assert!(body.contains(unclear), "{label}: {name}");
        }
        // Nobody else: refused, and nothing of the answers in the refusal.
        for (who, name) in [
            (&other_hos, "another hospital"),
            (&other_com, "another company"),
            (&pending_com, "a company not yet contracted"),
            (&min, "the ministry before acceptance"),
        ] {
            for path in [
                checklist.clone(),
                hearings.clone(),
                requests.clone(),
                inquiries.clone(),
                format!("/api/v1/engagements/{eid}/checklist.xlsx"),
            ] {
                let (status, body) = who.get_text(&path).await;
                assert!(
                    matches!(status.as_u16(), 403 | 404),
                    "{label}: {name} {path}: {status} {body}"
                );
                for secret in [unclear, "情報 太郎", "ネットワーク構成図", "VPN装置"]
                {
                    assert!(
                        !body.contains(secret),
                        "{label}: {name} {path} shows {secret}"
                    );
                }
            }
            let (status, body) = who
                .get_text(&format!("/api/v1/programmes/{pid}/checklist/progress"))
                .await;
            if status == 200 {
                assert!(!body.contains(unclear), "{label}: {name}: {body}");
                assert!(!body.contains("出雲みなと病院"), "{label}: {name}: {body}");
            }
        }
        // The company not yet contracted cannot read its own engagement's either.
        let (status, _) = pending_com
            .get_text(&format!("/api/v1/engagements/{}/checklist", pending.id.0))
            .await;
        assert_eq!(status, 403, "{label}");

        // The programme's checklist page: framework, own item, progress.
        let b = browser(&app, secretariat, "sec-page@example.jp").await;
        let page = b.get(&format!("/programmes/{pid}/checklist")).await;
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        for expected in [
            "令和6年度版",
            "委託先（サプライチェーン）のセキュリティ対策を契約で確認している。",
            "P-1",
            "出雲みなと病院",
            &format!("/engagements/{eid}/checklist"),
            unclear,
        ] {
            assert!(page.body.contains(expected), "{label}: {expected}");
        }
        let programme_page = b.get(&format!("/programmes/{pid}")).await;
        assert!(
            programme_page
                .body
                .contains(&format!("/programmes/{pid}/checklist"))
        );
        let engagement_page = b.get(&format!("/engagements/{eid}")).await;
        assert!(
            engagement_page
                .body
                .contains(&format!("/engagements/{eid}/checklist"))
        );
        // Once answered, the framework can no longer change: the refusal is shown.
        let (_, list) = sec.get("/api/v1/checklists").await;
        let r7 = id_of(&list, "mhlw-r7");
        let page = b
            .submit(
                &format!("/programmes/{pid}/checklist"),
                &format!("/programmes/{pid}/checklist/framework"),
                &[("framework", &r7.to_string())],
            )
            .await;
        assert_eq!(page.status, 422, "{label}: {}", page.body);
        assert!(
            page.body.contains("情報 太郎"),
            "{label}: names who answered"
        );
        let page = b
            .submit(
                &format!("/programmes/{pid}/checklist"),
                &format!("/programmes/{pid}/checklist/items"),
                &[
                    ("text_ja", "外部記憶媒体の持込みを制限している。"),
                    ("scope", "whole-system"),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{label}: {}", page.body);
        let page = b.get(page.location.as_deref().unwrap()).await;
        assert!(page.body.contains("外部記憶媒体の持込みを制限している。"));
        assert!(page.body.contains("追加項目を加えました。"));
        // Another hospital's staff sees no hospital on the programme page.
        let ob = browser(&app, other_hospital, "other-page@example.jp").await;
        let page = ob.get(&format!("/programmes/{pid}/checklist")).await;
        if page.status == 200 {
            assert!(!page.body.contains(unclear), "{label}");
            assert!(!page.body.contains("出雲みなと病院"), "{label}");
        }
        // The OpenAPI document lists the checklist routes.
        let (_, doc) = sec.get("/api/v1/openapi.json").await;
        for path in [
            "/api/v1/checklists",
            "/api/v1/checklists/{id}",
            "/api/v1/programmes/{id}/checklist",
            "/api/v1/programmes/{id}/checklist/progress",
            "/api/v1/programmes/{id}/checklist/items",
            "/api/v1/engagements/{id}/checklist",
            "/api/v1/engagements/{id}/checklist/respondents",
            "/api/v1/engagements/{id}/checklist/respondents/{rid}/answers",
            "/api/v1/engagements/{id}/checklist/respondents/{rid}/submit",
            "/api/v1/engagements/{id}/checklist.xlsx",
            "/api/v1/engagements/{id}/hearings",
            "/api/v1/engagements/{id}/hearings/{hid}/confirmations",
            "/api/v1/engagements/{id}/requests",
            "/api/v1/engagements/{id}/requests/{rid}/received",
            "/api/v1/engagements/{id}/inquiries",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} not in OpenAPI");
        }
    }
}
