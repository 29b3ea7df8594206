//! A corpus of hostile strings driven through the real HTTP interface, on
//! every backend: stored through forms and API bodies (ledger records, the
//! device catalogue, checklist respondents and answers, review threads and
//! replies, labour entries, findings, advisory triage notes, statistics
//! titles, an organisation's name), then read back on every page that
//! shows them (escaped, never markup, never a template), in every CSV and
//! Excel export (no formula, the text kept, CSV cells defused by the rule
//! of `crates/documents/src/sheet_text.rs`), in every PDF (no action or
//! script); hostile uploads (traversal names, wrong types, oversize
//! bodies) and hostile JSON bodies (deep nesting, huge strings, wrong
//! types, unknown fields) are refused with a message and store nothing.

mod common;

use common::{Browser, PASSWORD, Page, TestApp, Upload, api};
use mamori_domain::OrgId;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::{Account, AuditContext, testing};
use reqwest::Method;
use serde_json::{Value, json};

/// The corpus. The 1 MB string is [`big`].
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "</textarea><svg onload=alert(1)>",
    "{{7*7}}",
    "M{{7*7}}M",
    "{% raw %}",
    "=HYPERLINK(\"http://evil\",\"x\")",
    "+SUM(1,1)",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=cmd|' /C calc'!A0",
    "＝1+1",
    "'; DROP TABLE accounts; --",
    "../../etc/passwd",
    "nul\u{0}byte",
    "\u{202E}gpj.exe",
    "\u{FFFF}",
    "👩\u{200D}💻",
];

/// The hospital's own name: a formula and a script at once.
const HOSPITAL: &str = "=HYPERLINK(\"http://evil\",\"x\")<script>alert(1)</script>病院";

/// A 1 MB string.
fn big() -> String {
    format!("<script>alert(1)</script>{}", "A".repeat(1024 * 1024))
}

/// What must never reach a page or an SVG as markup.
const RAW: &[&str] = &[
    "<script>alert(1)",
    "<img src=x onerror",
    "<svg onload",
    "href=\"javascript:alert",
    "src=\"javascript:alert",
    "M49M",
];

/// The product's rule (`crates/documents/src/sheet_text.rs`,
/// `looks_like_formula`): text a spreadsheet would take for a formula.
fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠'])
}

/// The corpus strings that look like formulas.
fn formulas() -> Vec<&'static str> {
    HOSTILE
        .iter()
        .copied()
        .filter(|s| looks_like_formula(s))
        .collect()
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

// --- checks -------------------------------------------------------------------

/// A page showing stored hostile text: answered, under the CSP, and no
/// payload left as markup or evaluated as a template.
fn assert_inert(label: &str, path: &str, page: &Page) {
    assert_eq!(page.status, 200, "{label}: {path}: {}", excerpt(&page.body));
    let csp = page
        .headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{label}: {path}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{label}: {path}: {csp}"
    );
    assert_no_markup(label, path, &page.body);
}

fn assert_no_markup(label: &str, path: &str, body: &str) {
    for raw in RAW {
        if let Some(at) = body.find(raw) {
            panic!(
                "{label}: {path}: `{raw}` left unescaped: …{}…",
                &body[at.saturating_sub(200)..(at + 200).min(body.len())]
            );
        }
    }
}

/// Whether `escaped` (written with `&lt;` `&gt;`) is on the page, whichever
/// character references the template engine used.
fn shown(body: &str, escaped: &str) -> bool {
    body.replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#x3c;", "&lt;")
        .replace("&#x3e;", "&gt;")
        .contains(escaped)
}

fn excerpt(body: &str) -> &str {
    let mut end = body.len().min(2000);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    &body[..end]
}

/// A refusal of a JSON API call: 400, 413 or 422 with a message.
fn assert_refused(label: &str, what: &str, status: u16, body: &Value) {
    assert!(
        matches!(status, 400 | 413 | 422),
        "{label}: {what}: {status} {}",
        excerpt(&body.to_string())
    );
    let message = body["message"]
        .as_str()
        .or(body.as_str())
        .unwrap_or_default();
    assert!(!message.trim().is_empty(), "{label}: {what}: {body}");
}

/// Every cell of every sheet: no formula anywhere, and the text cells.
fn xlsx_texts(label: &str, path: &str, bytes: &[u8]) -> Vec<String> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .unwrap_or_else(|e| panic!("{label}: {path}: not a workbook: {e}"));
    let mut texts = Vec::new();
    for name in book.sheet_names() {
        let formulas = book.worksheet_formula(&name).unwrap();
        // The product's own totals (SUBTOTAL over a range) are the only
        // formulas allowed: nothing a user typed.
        let found: Vec<&String> = formulas
            .used_cells()
            .map(|(_, _, f)| f)
            .filter(|f| {
                !(f.starts_with("SUBTOTAL(") || f.starts_with("SUM("))
                    || !f
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "(),:".contains(c))
            })
            .collect();
        assert!(
            found.is_empty(),
            "{label}: {path}: sheet {name} carries formulas {found:?}"
        );
        let range = book.worksheet_range(&name).unwrap();
        for (_, _, cell) in range.used_cells() {
            if let calamine::Data::String(s) = cell {
                texts.push(s.clone());
            }
        }
    }
    texts
}

/// Every field of a CSV export: none looks like a formula.
fn csv_fields(label: &str, path: &str, bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut fields = Vec::new();
    for record in reader.records() {
        let record = record.unwrap_or_else(|e| panic!("{label}: {path}: not CSV: {e}"));
        for field in record.iter() {
            assert!(
                !looks_like_formula(field),
                "{label}: {path}: the cell {field:?} is not defused"
            );
            fields.push(field.to_string());
        }
    }
    fields
}

/// A PDF with no script and no action.
fn assert_plain_pdf(label: &str, path: &str, bytes: &[u8]) {
    assert!(bytes.starts_with(b"%PDF"), "{label}: {path}: not a PDF");
    for needle in [&b"/JavaScript"[..], b"/OpenAction", b"/Launch", b"/AA"] {
        let found = bytes.windows(needle.len()).position(|w| w == needle);
        let whole = found.is_some_and(|at| {
            bytes
                .get(at + needle.len())
                .is_none_or(|b| !b.is_ascii_alphanumeric())
        });
        assert!(
            !whole,
            "{label}: {path}: {}",
            String::from_utf8_lossy(needle)
        );
    }
    let js = bytes
        .windows(3)
        .enumerate()
        .any(|(at, w)| w == b"/JS" && bytes.get(at + 3).is_none_or(|b| !b.is_ascii_alphanumeric()));
    assert!(!js, "{label}: {path}: /JS");
}

// --- the world ---------------------------------------------------------------

async fn signed_in(app: &TestApp, org: OrgId, email: &str) -> (Account, Browser, String) {
    let account = app.account(org, email, Role::Admin).await;
    let b = app.browser();
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "login {email}: {}", page.body);
    let token = app.token(&account).await;
    (account, b, token)
}

struct Person {
    browser: Browser,
    token: String,
}

/// A hospital whose name is hostile, its company surveying it, the
/// supervisor, the secretariat; every hostile string stored where each of
/// them can type it.
struct World {
    hospital: OrgId,
    programme: i64,
    eid: i64,
    statistics: Vec<i64>,
    company: Person,
    staff: Person,
    supervisor: Person,
    secretariat: Person,
    /// Paths of single ledger records holding the corpus.
    records: Vec<String>,
    respondent: i64,
}

async fn world(app: &TestApp, label: &str) -> World {
    let store = app.store();
    let hospital = app.org(OrgKind::Hospital, HOSPITAL).await;
    let company_org = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
    let supervisor_org = app.org(OrgKind::Supervisor, "監督企業").await;
    let secretariat_org = app.org(OrgKind::Secretariat, "事務局").await;
    let programme = testing::add_programme(store, "令和8年度 病院調査").await;
    let e = testing::add_engagement(
        store,
        programme,
        hospital,
        company_org,
        EngagementState::Surveying,
    )
    .await;
    let eid = e.id.0;
    let (co_account, co, co_token) = signed_in(app, company_org, "co@example.jp").await;
    let (_, staff, staff_token) = signed_in(app, hospital, "staff@example.jp").await;
    let (_, sup, sup_token) = signed_in(app, supervisor_org, "sup@example.jp").await;
    let (_, sec, sec_token) = signed_in(app, secretariat_org, "sec@example.jp").await;
    let h = hospital.0;
    let big = big();

    // The ledger: the FortiGate the advisory reaches, then one asset per
    // hostile string in every text field, and a connection.
    let survey = AuditContext::for_actor(co_account.actor(), co_account.email.clone(), None);
    let g = store
        .authorize(&survey, hospital, HospitalData::Ledger, Access::Write)
        .await
        .unwrap();
    store
        .import_ledger(
            &survey,
            &g,
            &testing::ledger_with_fortigate("7.0.12"),
            mamori_store::ChangeSource::Import,
        )
        .await
        .unwrap();
    let mut records = Vec::new();
    for (i, s) in HOSTILE.iter().enumerate() {
        let key = format!("HX-{i:02}");
        let body = asset_body(&key, s);
        let path = format!("/api/v1/hospitals/{h}/ledger/asset/{key}");
        let (status, answer) = api(app, &co_token, Method::PUT, &path, Some(body)).await;
        if status == 200 {
            records.push(format!("/hospitals/{h}/ledger/asset/{key}"));
        } else {
            // A field the rules refuse, named: only then is it not stored.
            assert_refused(label, &format!("asset {s:?}"), status, &answer);
            let (_, left) = api(app, &co_token, Method::GET, &path, None).await;
            assert!(
                left.get("name").is_none(),
                "{label}: {s:?} half stored: {left}"
            );
        }
    }
    assert!(
        records.len() >= HOSTILE.len() - 3,
        "{label}: only {} of the corpus stored as assets",
        records.len()
    );
    // The big string: refused whole (too large), nothing stored.
    let path = format!("/api/v1/hospitals/{h}/ledger/asset/HX-BIG");
    let (status, answer) = api(
        app,
        &co_token,
        Method::PUT,
        &path,
        Some(json!({"key": "HX-BIG", "kind": "server", "name": "big", "notes": big})),
    )
    .await;
    if status != 200 {
        assert_refused(label, "a 1 MB note", status, &answer);
    }
    let (status, answer) = api(
        app,
        &co_token,
        Method::PUT,
        &format!("/api/v1/hospitals/{h}/ledger/connection/C-9"),
        Some(json!({
            "key": "C-9", "category": "network-maintenance", "counterpart": HOSTILE[0],
            "purpose": HOSTILE[1], "method": "internet-vpn", "method_detail": HOSTILE[7],
            "boundary_device": "FW-01", "availability": "always-on", "session_approver": HOSTILE[3],
            "logged": null, "known_to_administrator": false, "notes": HOSTILE[5]
        })),
    )
    .await;
    assert_eq!(status, 200, "{label}: connection: {answer}");
    records.push(format!("/hospitals/{h}/ledger/connection/C-9"));

    // The device catalogue (the secretariat keeps it).
    for (i, s) in HOSTILE.iter().enumerate().take(8) {
        let (status, answer) = api(
            app,
            &sec_token,
            Method::PUT,
            &format!("/api/v1/catalogue/HM-{i}"),
            Some(json!({
                "key": format!("HM-{i}"), "kind": "firewall", "vendor": s, "product": s,
                "model": s, "cpes": [], "disclosure": s, "end_of_support": null, "notes": s
            })),
        )
        .await;
        if !(200..300).contains(&status) {
            assert_refused(label, &format!("model {s:?}"), status, &answer);
        }
    }

    // Labour: one entry per string, in the note and as the person.
    for (i, s) in HOSTILE.iter().enumerate() {
        let (status, answer) = api(
            app,
            &co_token,
            Method::POST,
            &format!("/api/v1/engagements/{eid}/labour/entries"),
            Some(json!({
                "row": 1 + (i % 17), "person": if i % 2 == 0 { *s } else { "鈴木 一郎" },
                "worked_on": store.today().to_string(), "hours": 0.25, "note": s
            })),
        )
        .await;
        if status != 201 {
            assert_refused(label, &format!("labour {s:?}"), status, &answer);
        }
    }
    let (status, answer) = api(
        app,
        &co_token,
        Method::POST,
        &format!("/api/v1/engagements/{eid}/labour/entries"),
        Some(json!({"row": 1, "person": "x", "worked_on": store.today().to_string(), "hours": 0.25, "note": big})),
    )
    .await;
    assert_refused(label, "a 1 MB labour note", status, &answer);

    // The checklist: a respondent named by a payload, each answer's
    // 分からない点 a payload.
    let framework_id = testing::set_checklist(store, programme, "mhlw-r6").await.id;
    let (status, respondent) = api(
        app,
        &co_token,
        Method::POST,
        &format!("/api/v1/engagements/{eid}/checklist/respondents"),
        Some(json!({"form_key": "hospital", "role": "administrator", "name": HOSTILE[1]})),
    )
    .await;
    assert_eq!(status, 201, "{label}: {respondent}");
    let rid = respondent["id"].as_i64().unwrap();
    let (_, framework) = api(
        app,
        &sec_token,
        Method::GET,
        &format!("/api/v1/checklists/{framework_id}"),
        None,
    )
    .await;
    let cells = checklist_cells(&framework["framework"], "hospital");
    assert!(!cells.is_empty(), "{label}: no cells");
    for (s, (item, scope)) in HOSTILE.iter().zip(cells.iter().cycle()) {
        let (status, answer) = api(
            app,
            &co_token,
            Method::PUT,
            &format!("/api/v1/engagements/{eid}/checklist/respondents/{rid}/answers"),
            Some(
                json!({"answers": [{"framework_id": framework_id, "item": item, "scope": scope,
                "value": "yes", "checked_on": store.today().to_string(), "not_understood": s}]}),
            ),
        )
        .await;
        if !(200..300).contains(&status) {
            assert_refused(label, &format!("answer {s:?}"), status, &answer);
        }
    }

    // Review: ⑤ submitted, a thread per string, the company's replies.
    let deliverables = format!("/engagements/{eid}/deliverables");
    let done = co
        .submit(
            &deliverables,
            &format!("{deliverables}/connections/submit"),
            &[],
        )
        .await;
    assert_eq!(done.status, 303, "{label}: {}", excerpt(&done.body));
    for s in HOSTILE {
        let (status, answer) = api(
            app,
            &sup_token,
            Method::POST,
            &format!("/api/v1/engagements/{eid}/threads"),
            Some(json!({"kind": "connections", "row_key": "C-9", "text": s})),
        )
        .await;
        if !(200..300).contains(&status) {
            assert_refused(label, &format!("thread {s:?}"), status, &answer);
            continue;
        }
        let thread = answer["id"]
            .as_i64()
            .or(answer["thread"]["id"].as_i64())
            .unwrap_or_else(|| panic!("{label}: {answer}"));
        let (status, answer) = api(
            app,
            &co_token,
            Method::POST,
            &format!("/api/v1/engagements/{eid}/threads/{thread}/reply"),
            Some(json!({"text": s})),
        )
        .await;
        assert!(
            (200..300).contains(&status),
            "{label}: reply {s:?}: {status} {answer}"
        );
    }

    // Findings.
    for s in HOSTILE.iter().take(8) {
        let (status, answer) = api(
            app,
            &co_token,
            Method::POST,
            &format!("/api/v1/engagements/{eid}/findings"),
            Some(
                json!({"severity": "high", "title": s, "detail": s, "recommendation": s,
                "affected": [{"kind": "connection", "key": "C-9"}]}),
            ),
        )
        .await;
        if status != 201 {
            assert_refused(label, &format!("finding {s:?}"), status, &answer);
        }
    }

    // Advisories: the real CVE-2024-21762 reaches the FortiGate; the
    // hospital's staff triage it with every string as the note.
    let analyst = app
        .account(secretariat_org, "analyst@example.jp", Role::Member)
        .await;
    let analyst_ctx = AuditContext::for_actor(analyst.actor(), analyst.email.clone(), None);
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../advisories/tests/fixtures/nvd/CVE-2024-21762.json"
    ))
    .unwrap();
    let batch = mamori_advisories::nvd::parse_nvd(&bytes, "CVE-2024-21762.json").advisories;
    let imported = store
        .import_advisories(&analyst_ctx, &batch, "test")
        .await
        .unwrap();
    store
        .match_advisories(&analyst_ctx, Some(&imported.changed))
        .await
        .unwrap();
    let (_, cases) = api(
        app,
        &staff_token,
        Method::GET,
        &format!("/api/v1/hospitals/{h}/advisory-matches"),
        None,
    )
    .await;
    let case = cases["matches"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{label}: no case: {cases}"));
    let steps = format!("/api/v1/hospitals/{h}/advisory-matches/{case}/steps");
    let mut noted = 0;
    for s in HOSTILE {
        for state in ["affected", "in-progress", "not-affected"] {
            let (status, answer) = api(
                app,
                &staff_token,
                Method::POST,
                &steps,
                Some(json!({"state": state, "note": s})),
            )
            .await;
            if status == 200 {
                noted += 1;
                break;
            }
            assert_refused(label, &format!("triage {state} {s:?}"), status, &answer);
        }
    }
    assert!(noted >= 3, "{label}: {noted} triage notes");

    // Statistics: a draft titled by each string.
    let mut statistics = Vec::new();
    for s in HOSTILE.iter().take(8) {
        let (status, answer) = api(
            app,
            &sec_token,
            Method::POST,
            "/api/v1/statistics",
            Some(json!({"audience": "ministry", "title": s})),
        )
        .await;
        if status == 201 {
            statistics.push(
                answer["id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{label}: {answer}")),
            );
        } else {
            assert_refused(label, &format!("statistics {s:?}"), status, &answer);
        }
    }
    assert!(!statistics.is_empty(), "{label}: no statistics draft");

    World {
        hospital,
        programme: programme.0,
        eid,
        statistics,
        company: Person {
            browser: co,
            token: co_token,
        },
        staff: Person {
            browser: staff,
            token: staff_token,
        },
        supervisor: Person {
            browser: sup,
            token: sup_token,
        },
        secretariat: Person {
            browser: sec,
            token: sec_token,
        },
        records,
        respondent: rid,
    }
}

/// An asset with `s` in every text field.
fn asset_body(key: &str, s: &str) -> Value {
    json!({
        "key": key, "kind": "server", "name": s, "system": null, "model_ref": null,
        "vendor": s, "product": s, "model": s, "version": "1.0",
        "os": s, "serial_number": s, "cpes": [], "quantity": 1, "location": s,
        "segment": "SEG-1", "address": "", "owner": "hospital", "managing_department": s,
        "maintenance_vendor": s, "remote_maintenance": "none", "remote_method": s,
        "end_of_support": null, "internet_exposed": null, "notes": s
    })
}

/// (item number, scope) of every cell of a form of the framework JSON.
fn checklist_cells(framework: &Value, form: &str) -> Vec<(String, String)> {
    let form = framework["forms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == form)
        .expect("the form");
    let mut cells = Vec::new();
    for section in form["sections"].as_array().unwrap() {
        for item in section["items"].as_array().unwrap() {
            for cell in item["cells"].as_array().unwrap() {
                cells.push((
                    item["number"].as_str().unwrap().to_string(),
                    cell["scope"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    cells
}

// --- 1. pages ----------------------------------------------------------------

#[tokio::test]
async fn hostile_text_is_inert_on_every_page_that_shows_it() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app, label).await;
        let h = w.hospital.0;
        let eid = w.eid;
        let rid = w.respondent;
        let ledger = format!("/hospitals/{h}/ledger");
        let mut pages: Vec<(&Browser, String)> = Vec::new();
        let co = &w.company.browser;
        for path in [
            "/dashboard".to_string(),
            "/engagements".to_string(),
            format!("/engagements/{eid}"),
            ledger.clone(),
            format!("{ledger}/asset"),
            format!("{ledger}/connection"),
            format!("{ledger}/history"),
            format!("{ledger}/walk"),
            format!("{ledger}/network"),
            format!("{ledger}/structure"),
            format!("{ledger}/import"),
            format!("/engagements/{eid}/labour"),
            format!("/engagements/{eid}/checklist"),
            format!("/engagements/{eid}/checklist/respondents/{rid}"),
            format!("/engagements/{eid}/deliverables"),
            format!("/engagements/{eid}/report"),
            "/notifications".to_string(),
            "/catalogue".to_string(),
        ] {
            pages.push((co, path));
        }
        for path in &w.records {
            pages.push((co, path.clone()));
        }
        let staff = &w.staff.browser;
        for path in [
            format!("/hospitals/{h}"),
            format!("/hospitals/{h}/advisories"),
            format!("/hospitals/{h}/advisories/notices/1"),
            ledger.clone(),
        ] {
            pages.push((staff, path));
        }
        let sup = &w.supervisor.browser;
        for path in [
            "/review".to_string(),
            "/labour".to_string(),
            format!("/engagements/{eid}/deliverables"),
            format!("/engagements/{eid}/report"),
            "/advisories".to_string(),
        ] {
            pages.push((sup, path));
        }
        let sec = &w.secretariat.browser;
        for path in [
            "/organisations".to_string(),
            format!("/organisations/{h}"),
            "/statistics".to_string(),
            "/audit".to_string(),
            "/advisories".to_string(),
            "/labour".to_string(),
            format!("/programmes/{}", w.programme),
            "/catalogue".to_string(),
            "/catalogue/HM-0".to_string(),
            "/catalogue/HM-1".to_string(),
        ] {
            pages.push((sec, path));
        }
        for id in &w.statistics {
            pages.push((sec, format!("/statistics/{id}")));
        }
        for (b, path) in &pages {
            let page = b.get(path).await;
            assert_inert(label, path, &page);
        }
        // The payloads are shown, escaped, where they were typed.
        let asset = co.get(&format!("{ledger}/asset")).await;
        assert!(
            shown(&asset.body, "&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{label}: the escaped payload is not on the asset table"
        );
        assert!(shown(&asset.body, "M{{7*7}}M"), "{label}: template text");
        let labour = co.get(&format!("/engagements/{eid}/labour")).await;
        assert!(
            shown(&labour.body, "&lt;/textarea&gt;&lt;svg onload=alert(1)&gt;"),
            "{label}: labour note"
        );
        let talk = sup.get(&format!("/engagements/{eid}/deliverables")).await;
        assert!(
            shown(&talk.body, "&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{label}: review comment"
        );
        let cases = staff.get(&format!("/hospitals/{h}/advisories")).await;
        assert!(
            shown(&cases.body, "&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{label}: triage note"
        );
        let orgs = sec.get("/organisations").await;
        assert!(
            shown(&orgs.body, "&lt;script&gt;alert(1)&lt;/script&gt;病院"),
            "{label}: organisation name"
        );
        // SVG drawings carry the names as text, never as elements.
        for path in [
            format!("{ledger}/network?format=svg"),
            format!("{ledger}/structure?format=svg"),
            "/engagements/timeline.svg".to_string(),
        ] {
            let (status, _, bytes) = co.bytes(&path).await;
            assert_eq!(status, 200, "{label}: {path}");
            assert_no_markup(label, &path, &String::from_utf8_lossy(&bytes));
        }
        // The JSON API hands the text back as it was stored.
        let (status, record) = api(
            &app,
            &w.company.token,
            Method::GET,
            &format!("/api/v1/hospitals/{h}/ledger/asset/HX-00"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{label}: {record}");
        assert!(
            record.to_string().contains(&json!(HOSTILE[0]).to_string()),
            "{label}: {record}"
        );
        app.db.finish().await;
    }
}

// --- 2. CSV and Excel exports -------------------------------------------------

#[tokio::test]
async fn every_csv_and_excel_export_defuses_formulas_and_keeps_the_text() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app, label).await;
        let h = w.hospital.0;
        let eid = w.eid;
        let co = &w.company.browser;
        let sup = &w.supervisor.browser;
        let sec = &w.secretariat.browser;
        let formulas = formulas();
        let mut workbooks: Vec<(&Browser, String)> = vec![
            (co, format!("/hospitals/{h}/ledger.xlsx")),
            (co, format!("/engagements/{eid}/labour.xlsx")),
            (co, format!("/engagements/{eid}/checklist.xlsx")),
            (sup, "/labour/rollup.xlsx".to_string()),
            (sec, "/labour/rollup.xlsx".to_string()),
            (sec, format!("/programmes/{}/payments.xlsx", w.programme)),
        ];
        for id in &w.statistics {
            workbooks.push((sec, format!("/statistics/{id}/export/xlsx")));
        }
        for (b, path) in &workbooks {
            let (status, headers, bytes) = b.bytes(path).await;
            assert_eq!(status, 200, "{label}: {path}");
            assert_eq!(headers["content-type"], XLSX, "{label}: {path}");
            let texts = xlsx_texts(label, path, &bytes);
            assert!(!texts.is_empty(), "{label}: {path}: empty");
        }
        // The text is kept, as typed: in the ledger workbook every formula
        // of the corpus, in the labour sheet and checklist the notes.
        for (b, path, wanted) in [
            (co, format!("/hospitals/{h}/ledger.xlsx"), formulas.clone()),
            (
                co,
                format!("/engagements/{eid}/labour.xlsx"),
                vec![HOSPITAL],
            ),
            (sec, "/labour/rollup.xlsx".to_string(), vec![HOSPITAL]),
            (
                co,
                format!("/engagements/{eid}/checklist.xlsx"),
                formulas.clone(),
            ),
        ] {
            let (_, _, bytes) = b.bytes(&path).await;
            let texts = xlsx_texts(label, &path, &bytes);
            for f in wanted {
                assert!(
                    texts.iter().any(|t| t.contains(f.trim())),
                    "{label}: {path}: {f:?} lost"
                );
            }
        }
        // The API's workbooks.
        for path in [
            format!("/api/v1/engagements/{eid}/checklist.xlsx"),
            format!("/api/v1/programmes/{}/payments.xlsx", w.programme),
        ] {
            let token = if path.contains("payments") {
                &w.secretariat.token
            } else {
                &w.company.token
            };
            let response = reqwest::Client::new()
                .get(app.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{label}: {path}");
            let bytes = response.bytes().await.unwrap();
            xlsx_texts(label, &path, &bytes);
        }

        // CSV: every cell defused by the product's rule, the text kept
        // behind the apostrophe.
        let mut csvs: Vec<(&Browser, String, Vec<String>)> = vec![
            (
                co,
                format!("/hospitals/{h}/ledger/asset?format=csv"),
                formulas.iter().map(|f| format!("'{}", f.trim())).collect(),
            ),
            (
                co,
                format!("/hospitals/{h}/ledger/connection?format=csv"),
                vec![format!("'{}", HOSTILE[7])],
            ),
            (
                sec,
                "/catalogue?format=csv".to_string(),
                vec![format!("'{}", HOSTILE[7])],
            ),
            (
                sup,
                "/labour/rollup.csv".to_string(),
                vec![format!("'{HOSPITAL}")],
            ),
            (
                sec,
                "/labour/rollup.csv".to_string(),
                vec![format!("'{HOSPITAL}")],
            ),
            (sec, "/audit.csv".to_string(), Vec::new()),
        ];
        for id in &w.statistics {
            csvs.push((sec, format!("/statistics/{id}/export/csv"), Vec::new()));
        }
        for (b, path, wanted) in &csvs {
            let (status, headers, bytes) = b.bytes(path).await;
            assert_eq!(status, 200, "{label}: {path}");
            assert!(
                headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/csv"),
                "{label}: {path}"
            );
            let fields = csv_fields(label, path, &bytes);
            for f in wanted {
                assert!(
                    fields.iter().any(|field| field.contains(f.as_str())),
                    "{label}: {path}: {f:?} lost"
                );
            }
        }
        app.db.finish().await;
    }
}

// --- 3. PDFs ------------------------------------------------------------------

#[tokio::test]
async fn every_pdf_with_hostile_text_is_a_plain_pdf() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app, label).await;
        let h = w.hospital.0;
        let eid = w.eid;
        let co = &w.company.browser;
        let sec = &w.secretariat.browser;
        let mut pdfs: Vec<(&Browser, String)> = vec![
            (co, format!("/engagements/{eid}/checklist.pdf")),
            (co, format!("/hospitals/{h}/ledger/network?format=pdf")),
            (co, format!("/hospitals/{h}/ledger/structure?format=pdf")),
        ];
        for id in &w.statistics {
            pdfs.push((sec, format!("/statistics/{id}/export/pdf")));
        }
        for (b, path) in &pdfs {
            let (status, headers, bytes) = b.bytes(path).await;
            assert_eq!(status, 200, "{label}: {path}");
            assert_eq!(
                headers["content-type"], "application/pdf",
                "{label}: {path}"
            );
            assert_plain_pdf(label, path, &bytes);
        }
        app.db.finish().await;
    }
}

// --- 4. uploads ---------------------------------------------------------------

#[tokio::test]
async fn hostile_uploads_are_refused_or_named_safely_and_store_nothing_else() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let secretariat_org = app.org(OrgKind::Secretariat, "事務局").await;
        let programme = testing::add_programme(store, "令和8年度 病院調査").await;
        testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let (co_account, co, _) = signed_in(&app, company, "co@example.jp").await;
        let (_, sec, _) = signed_in(&app, secretariat_org, "sec@example.jp").await;
        let survey = AuditContext::for_actor(co_account.actor(), co_account.email.clone(), None);
        let g = store
            .authorize(&survey, hospital, HospitalData::Ledger, Access::Write)
            .await
            .unwrap();
        store
            .import_ledger(
                &survey,
                &g,
                &testing::complete_ledger(),
                mamori_store::ChangeSource::Import,
            )
            .await
            .unwrap();
        let h = hospital.0;
        let record = format!("/hospitals/{h}/ledger/asset/SV-01");
        let count = async |sql: &str| app.db.count(sql).await;
        let photos = "SELECT COUNT(*) FROM ledger_photos";
        let files = "SELECT COUNT(*) FROM files";

        // Traversal and control characters in a photo's name: kept as the
        // last component only, without control characters.
        for name in [
            "../../x.png",
            "..\\..\\x.png",
            "/etc/passwd.png",
            "C:\\Windows\\x.png",
            "a\u{0}b.png",
            "a\nb.png",
            "<script>alert(1)</script>.png",
        ] {
            let before = count(photos).await;
            let done = co
                .upload(
                    &record,
                    &format!("{record}/photos"),
                    &[("caption", HOSTILE[1])],
                    Some(Upload {
                        field: "photo",
                        name,
                        data: PNG.to_vec(),
                        mime: "image/png",
                    }),
                )
                .await;
            if done.status == 303 {
                assert_eq!(count(photos).await, before + 1, "{label}: {name:?}");
            } else {
                assert!(
                    matches!(done.status, 400 | 422),
                    "{label}: {name:?}: {}",
                    done.status
                );
                assert_eq!(count(photos).await, before, "{label}: {name:?}");
            }
        }
        let outside = "SELECT COUNT(*) FROM files WHERE replace(name, '/', '') <> name \
            OR replace(name, '\\', '') <> name OR name LIKE '..%'";
        assert_eq!(
            count(outside).await,
            0,
            "{label}: a stored name leads outside"
        );
        let page = co.get(&record).await;
        assert_inert(label, &record, &page);
        assert!(!page.body.contains("../"), "{label}: a traversal shown");

        // Wrong types: refused with a message, nothing stored.
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF".to_vec();
        let html = b"<html><script>alert(1)</script></html>".to_vec();
        for (name, data, mime) in [
            ("photo.png", exe.clone(), "image/png"),
            ("photo.jpg", html.clone(), "image/jpeg"),
        ] {
            let before = count(photos).await;
            let refused = co
                .upload(
                    &record,
                    &format!("{record}/photos"),
                    &[],
                    Some(Upload {
                        field: "photo",
                        name,
                        data,
                        mime,
                    }),
                )
                .await;
            assert_eq!(refused.status, 422, "{label}: {name}: {}", refused.status);
            assert!(refused.body.contains(name), "{label}: names {name}");
            assert_eq!(count(photos).await, before, "{label}: {name}");
        }
        // A real PNG named .exe is kept as a photo named for what it is.
        let done = co
            .upload(
                &record,
                &format!("{record}/photos"),
                &[],
                Some(Upload {
                    field: "photo",
                    name: "photo.exe",
                    data: PNG.to_vec(),
                    mime: "application/octet-stream",
                }),
            )
            .await;
        assert_eq!(done.status, 303, "{label}: {}", excerpt(&done.body));
        assert_eq!(
            count("SELECT COUNT(*) FROM files WHERE name = 'photo.exe.png'").await,
            1,
            "{label}"
        );
        // A PNG renamed .xlsx as a ledger import: refused naming the file.
        let uploads = "SELECT COUNT(*) FROM ledger_uploads";
        let import = format!("/hospitals/{h}/ledger/import");
        let before = (
            count(uploads).await,
            count("SELECT COUNT(*) FROM ledger_records").await,
        );
        let refused = co
            .upload(
                &import,
                &import,
                &[],
                Some(Upload {
                    field: "file",
                    name: "../../ledger.xlsx",
                    data: PNG.to_vec(),
                    mime: XLSX,
                }),
            )
            .await;
        assert_eq!(refused.status, 422, "{label}: {}", excerpt(&refused.body));
        assert!(refused.body.contains("ledger.xlsx"), "{label}");
        assert_inert(
            label,
            &import,
            &Page {
                status: 200,
                ..refused
            },
        );
        assert_eq!(
            (
                count(uploads).await,
                count("SELECT COUNT(*) FROM ledger_records").await
            ),
            before,
            "{label}"
        );

        // Files kept as they are (the programme's documents): a name is
        // its last component; a type is what the bytes are.
        let programme_page = format!("/programmes/{}", programme.0);
        let documents = format!("/programmes/{}/documents", programme.0);
        for (name, data, mime) in [
            ("report.xlsx", PNG.to_vec(), XLSX),
            ("photo.png", html.clone(), "image/png"),
            ("scan.jpg", exe.clone(), "image/jpeg"),
            ("form.pdf", html.clone(), "application/pdf"),
            ("tool.exe", exe.clone(), "application/octet-stream"),
        ] {
            let before = count(files).await;
            let refused = sec
                .upload(
                    &programme_page,
                    &documents,
                    &[("title", "様式"), ("version", "1"), ("issued_on", "")],
                    Some(Upload {
                        field: "file",
                        name,
                        data,
                        mime,
                    }),
                )
                .await;
            assert_eq!(
                refused.status,
                422,
                "{label}: {name}: {}",
                excerpt(&refused.body)
            );
            assert!(refused.body.contains(name), "{label}: names {name}");
            assert_eq!(count(files).await, before, "{label}: {name} stored");
        }
        for name in ["../../etc/passwd.pdf", "..\\..\\boot.pdf", "/etc/a\nb.pdf"] {
            let done = sec
                .upload(
                    &programme_page,
                    &documents,
                    &[("title", "様式"), ("version", "1"), ("issued_on", "")],
                    Some(Upload {
                        field: "file",
                        name,
                        data: b"%PDF-1.4\n%%EOF\n".to_vec(),
                        mime: "application/pdf",
                    }),
                )
                .await;
            // A newline breaks the part's headers: the upload is refused
            // as unreadable, naming the field; otherwise the name is kept
            // as its last component.
            if name.contains('\n') && done.status != 303 {
                assert_eq!(done.status, 400, "{label}: {name:?}");
                assert!(
                    done.body.contains("file: "),
                    "{label}: {}",
                    excerpt(&done.body)
                );
            } else {
                assert_eq!(
                    done.status,
                    303,
                    "{label}: {name:?}: {}",
                    excerpt(&done.body)
                );
            }
        }
        assert_eq!(
            count(outside).await,
            0,
            "{label}: a stored name leads outside"
        );
        let page = sec.get(&programme_page).await;
        assert_inert(label, &programme_page, &page);
        assert!(page.body.contains("passwd.pdf"), "{label}: the name kept");
        assert!(
            !page.body.contains("../") && !page.body.contains("..\\"),
            "{label}: a traversal shown"
        );

        // Oversize: a body beyond the upload limit is 413, nothing stored.
        let before = (count(photos).await, count(files).await);
        let mut huge = PNG.to_vec();
        huge.resize(mamori_web::session::UPLOAD_LIMIT + 1024, 0);
        let too_big = co
            .upload(
                &record,
                &format!("{record}/photos"),
                &[],
                Some(Upload {
                    field: "photo",
                    name: "huge.png",
                    data: huge,
                    mime: "image/png",
                }),
            )
            .await;
        assert_eq!(too_big.status, 413, "{label}");
        // And a form beyond the form limit.
        let long = "x".repeat(mamori_web::session::FORM_LIMIT + 1024);
        let too_big = co
            .submit(
                &record,
                &format!("/hospitals/{h}/ledger/asset"),
                &[("key", "BIG-1"), ("name", &long)],
            )
            .await;
        assert_eq!(too_big.status, 413, "{label}");
        assert_eq!((count(photos).await, count(files).await), before, "{label}");
        assert_eq!(
            count("SELECT COUNT(*) FROM ledger_records WHERE record_key = 'BIG-1'").await,
            0,
            "{label}"
        );
        app.db.finish().await;
    }
}

// --- 5. JSON bodies -----------------------------------------------------------

/// A raw body to the API: status and body (JSON, or the text as a string).
async fn raw(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn hostile_json_bodies_are_refused_with_a_reason_and_write_nothing() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let secretariat_org = app.org(OrgKind::Secretariat, "事務局").await;
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
        let h = hospital.0;
        let (_, _, co) = signed_in(&app, company, "co@example.jp").await;
        let (_, _, sec) = signed_in(&app, secretariat_org, "sec@example.jp").await;
        let (_, _, sup) = signed_in(&app, supervisor_org, "sup@example.jp").await;
        let today = store.today().to_string();
        let tables = [
            "ledger_records",
            "ledger_history",
            "labour_entries",
            "statistics_releases",
            "review_threads",
            "review_comments",
            "findings",
            "checklist_respondents",
            "device_models",
        ];
        let snapshot = async || {
            let mut counts = Vec::new();
            for t in tables {
                counts.push(app.db.count(&format!("SELECT COUNT(*) FROM {t}")).await);
            }
            counts
        };
        let before = snapshot().await;

        let nested = "[".repeat(100_000).into_bytes();
        let deep_object = "{\"a\":".repeat(50_000).into_bytes();
        let huge = serde_json::to_vec(&json!({"key": "A-1", "name": "x".repeat(2 * 1024 * 1024)}))
            .unwrap();
        let not_json = b"<script>alert(1)</script>".to_vec();
        let endpoints: Vec<(&str, Method, String)> = vec![
            (
                &co,
                Method::PUT,
                format!("/api/v1/hospitals/{h}/ledger/asset/A-1"),
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/labour/entries"),
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/findings"),
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/checklist/respondents"),
            ),
            (
                &sup,
                Method::POST,
                format!("/api/v1/engagements/{eid}/threads"),
            ),
            (&sec, Method::POST, "/api/v1/statistics".to_string()),
            (&sec, Method::PUT, "/api/v1/catalogue/M-1".to_string()),
        ];
        for (token, method, path) in &endpoints {
            for (what, body) in [
                ("100k nested arrays", nested.clone()),
                ("50k nested objects", deep_object.clone()),
                ("a 2 MB string", huge.clone()),
                ("not JSON", not_json.clone()),
                ("an empty body", Vec::new()),
            ] {
                let (status, answer) = raw(&app, token, method.clone(), path, body).await;
                assert_refused(label, &format!("{method} {path}: {what}"), status, &answer);
            }
        }
        // Wrong types and unknown fields, endpoint by endpoint.
        let cases: Vec<(&str, Method, String, Value, &str)> = vec![
            (
                &co,
                Method::PUT,
                format!("/api/v1/hospitals/{h}/ledger/asset/A-1"),
                json!({"key": "A-1", "kind": "server", "name": ["x"]}),
                "name",
            ),
            (
                &co,
                Method::PUT,
                format!("/api/v1/hospitals/{h}/ledger/asset/A-1"),
                json!({"key": "A-1", "kind": "server", "name": "x", "quantity": "many"}),
                "quantity",
            ),
            (
                &co,
                Method::PUT,
                format!("/api/v1/hospitals/{h}/ledger/asset/A-1"),
                {
                    let mut full = asset_body("A-1", "x");
                    full["admin"] = json!(true);
                    full["segment"] = Value::Null;
                    full
                },
                "admin",
            ),
            (
                &co,
                Method::PUT,
                format!("/api/v1/hospitals/{h}/ledger/asset/A-1"),
                json!([1, 2, 3]),
                "asset",
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/labour/entries"),
                json!({"row": "one", "person": "x", "worked_on": today, "hours": 1}),
                "row",
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/labour/entries"),
                json!({"row": 1, "person": "x", "worked_on": today, "hours": {"h": 1}}),
                "hours",
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/labour/entries"),
                json!({"row": 1, "person": "x", "worked_on": "yesterday", "hours": 1}),
                "worked_on",
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/labour/entries"),
                json!({"row": 1, "person": "x", "worked_on": today, "hours": 1, "approved": true}),
                "approved",
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/findings"),
                json!({"severity": 5, "title": "x", "recommendation": "y"}),
                "severity",
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/findings"),
                json!({"severity": "high", "title": "x", "recommendation": "y", "accepted": true}),
                "accepted",
            ),
            (
                &co,
                Method::POST,
                format!("/api/v1/engagements/{eid}/checklist/respondents"),
                json!({"form_key": "hospital", "role": "administrator", "name": 7}),
                "name",
            ),
            (
                &sup,
                Method::POST,
                format!("/api/v1/engagements/{eid}/threads"),
                json!({"kind": "connections", "text": null}),
                "text",
            ),
            (
                &sup,
                Method::POST,
                format!("/api/v1/engagements/{eid}/threads"),
                json!({"kind": "connections", "text": "x", "resolved": true}),
                "resolved",
            ),
            (
                &sec,
                Method::POST,
                "/api/v1/statistics".to_string(),
                json!({"audience": "ministry", "title": "x", "k": "five"}),
                "k",
            ),
            (
                &sec,
                Method::POST,
                "/api/v1/statistics".to_string(),
                json!({"audience": "ministry", "title": "x", "published": true}),
                "published",
            ),
            (
                &sec,
                Method::PUT,
                "/api/v1/catalogue/M-1".to_string(),
                json!({"key": "M-1", "kind": "firewall", "vendor": "x", "product": "y", "cpes": "not a list"}),
                "cpes",
            ),
        ];
        for (token, method, path, body, field) in cases {
            let (status, answer) =
                api(&app, token, method.clone(), &path, Some(body.clone())).await;
            let what = format!("{method} {path} {body}");
            assert_refused(label, &what, status, &answer);
            let message = answer["message"]
                .as_str()
                .or(answer.as_str())
                .unwrap_or_default();
            assert!(
                message.contains(field),
                "{label}: {what}: the message does not name `{field}`: {message}"
            );
        }
        assert_eq!(
            snapshot().await,
            before,
            "{label}: a refused body wrote something"
        );
        app.db.finish().await;
    }
}
