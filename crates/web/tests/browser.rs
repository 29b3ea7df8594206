//! End-to-end in headless Chromium through ChromeDriver, as people use the
//! pages: a secretariat logs in (with and without the second factor), reads
//! Japanese pages, creates a hospital and a person, and finds both in the
//! audit log; a person sets up the second factor and logs in with it; an
//! engagement is walked from candidate to reported by the roles that own
//! each step and its report downloaded; a hospital answers the checklist on
//! a phone and the surveyor reconciles it in the hearing; a ledger workbook
//! is imported, walked and drawn; a deliverable is submitted, commented on
//! and approved; a week of labour is reported; an advisory is triaged. The
//! newer journeys run on every backend (SQLite, and PostgreSQL when
//! `MAMORI_TEST_DATABASE_URL` names a server).
//!
//! Needs `chromedriver` and `chromium` (`scripts/install-browser`); without
//! them the test says so and passes. `MAMORI_SCREENSHOT_DIR=docs` also saves
//! screenshots of the pages it visits.

mod common;

use common::{PASSWORD, TestApp};
use fantoccini::elements::Form;
use fantoccini::{Client, ClientBuilder, Locator};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::{AuditContext, AuditFilter, Letterhead, credentials, testing};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_program(env: &str, candidates: &[&str]) -> Option<String> {
    if let Ok(path) = std::env::var(env) {
        return Some(path);
    }
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

async fn start_browser() -> Option<(Driver, Client)> {
    let Some(chromedriver) = find_program(
        "MAMORI_CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/local/bin/chromedriver"],
    ) else {
        eprintln!(
            "note: chromedriver not found: browser tests were not run (./scripts/install-browser)"
        );
        return None;
    };
    let chromium = find_program(
        "MAMORI_CHROMIUM",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let mut options = serde_json::json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,860", "--lang=ja"]
    });
    if let Some(binary) = chromium {
        options["binary"] = serde_json::Value::String(binary);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..50 {
        let connected =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
        if let Ok(client) = connected {
            return Some((driver, client));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not answer on {url}");
}

async fn screenshot(client: &Client, name: &str) {
    if let Ok(dir) = std::env::var("MAMORI_SCREENSHOT_DIR") {
        let png = client.screenshot().await.expect("screenshot");
        std::fs::write(std::path::Path::new(&dir).join(name), png).expect("write screenshot");
    }
}

/// Waits until the text of `css` contains every one of `needles` (the page
/// after a submit arrives asynchronously), and fails with what it saw.
async fn expect_text(client: &Client, css: &str, needles: &[&str]) {
    let mut seen = String::new();
    for _ in 0..50 {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if needles.iter().all(|n| text.contains(n)) {
                return;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {needles:?} in `{css}`, saw `{seen}`");
}

/// Waits until the page's heading starts with `expected` (a submitted form
/// navigates asynchronously), and fails with what it saw instead.
async fn expect_heading(client: &Client, expected: &str) {
    let mut seen = String::new();
    for _ in 0..50 {
        if let Ok(h1) = client.find(Locator::Css("h1")).await
            && let Ok(text) = h1.text().await
        {
            if text.starts_with(expected) {
                return;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected heading `{expected}`, saw `{seen}`");
}

async fn log_in(client: &Client, base: &str, email: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    let form = client
        .form(Locator::Css("form[action='/login']"))
        .await
        .unwrap();
    form.set_by_name("email", email).await.unwrap();
    form.set_by_name("password", PASSWORD).await.unwrap();
    form.submit().await.unwrap();
}

/// How long a wait for the browser may take before the test fails (CI
/// machines are small).
const PATIENCE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

/// Marks the current document, so that [`wait_for_new_page`] can tell the
/// page a submit leads to from the one it was made on.
async fn mark_page(client: &Client) {
    client
        .execute("window.mamoriStale = true;", vec![])
        .await
        .expect("mark page");
}

/// Waits until a document other than the marked one has loaded.
async fn wait_for_new_page(client: &Client) {
    let started = std::time::Instant::now();
    while started.elapsed() < PATIENCE {
        if let Ok(serde_json::Value::Bool(true)) = client
            .execute(
                "return window.mamoriStale !== true && document.readyState === 'complete';",
                vec![],
            )
            .await
        {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("no new page after {PATIENCE:?}");
}

/// The visible text of `css` on the current page, or `""`.
async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until `css` matches an element and returns it; fails with the
/// page's error (or main text) otherwise.
async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    let started = std::time::Instant::now();
    while started.elapsed() < PATIENCE {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            return element;
        }
        tokio::time::sleep(POLL).await;
    }
    let url = client.current_url().await.map(|u| u.to_string());
    panic!("`{css}` not on {url:?}: {}", text_of(client, "main").await);
}

/// Clicks `css` (an option of a select, or a button).
async fn click(client: &Client, css: &str) {
    wait_for(client, css).await.click().await.unwrap();
}

/// Submits `form` on an engagement page and waits for the page it leads to,
/// which must carry the notice `done` (the form was accepted); a refusal is
/// reported with the message the page shows.
async fn submit_and_wait(client: &Client, form: &Form, done: &str) {
    mark_page(client).await;
    form.submit().await.unwrap();
    wait_for_new_page(client).await;
    let url = client.current_url().await.unwrap().to_string();
    assert!(
        url.contains(&format!("done={done}")),
        "expected `done={done}` after the submit, got {url}: {}",
        match text_of(client, "p.error").await {
            e if e.is_empty() => text_of(client, "main").await,
            e => e,
        }
    );
}

/// Logs in and waits until the login form has gone.
async fn log_in_and_wait(client: &Client, base: &str, email: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    wait_for(client, "form[action='/login']").await;
    mark_page(client).await;
    log_in(client, base, email).await;
    wait_for_new_page(client).await;
    wait_for(client, "form[action='/logout'] button").await;
}

/// Logs out with the header's button and waits for the login page.
async fn log_out_and_wait(client: &Client) {
    mark_page(client).await;
    click(client, "form[action='/logout'] button").await;
    wait_for_new_page(client).await;
    wait_for(client, "form[action='/login']").await;
}

/// Opens the engagement page and waits for its state badge.
async fn open_engagement(client: &Client, url: &str) {
    client.goto(url).await.unwrap();
    wait_for(client, "p.engagement-head .state").await;
}

/// Takes one step with the engagement page's form, as a person does: picks
/// the next state, writes a note, submits, and checks the badge shows it.
async fn take_step(client: &Client, to: &str, label: &str) {
    click(
        client,
        &format!("form[action$='/transition'] select[name='to'] option[value='{to}']"),
    )
    .await;
    let form = client
        .form(Locator::Css("form[action$='/transition']"))
        .await
        .unwrap();
    form.set_by_name("note", &format!("{to} のメモ"))
        .await
        .unwrap();
    submit_and_wait(client, &form, "transitioned").await;
    let badge = wait_for(client, &format!("p.engagement-head .state.state-{to}")).await;
    assert_eq!(badge.text().await.unwrap(), label, "{to}");
}

/// Issues an agreement of `kind` and records its signature (with the
/// signed scan, when one is given) through the engagement page's forms.
async fn issue_and_sign(client: &Client, kind: &str, valid_until: &str, scan: Option<&str>) {
    let signed_before = client
        .find_all(Locator::Css("article.agreement.in-force"))
        .await
        .unwrap()
        .len();
    click(
        client,
        &format!("form[action$='/agreements'] select[name='kind'] option[value='{kind}']"),
    )
    .await;
    let form = client
        .form(Locator::Css("form[action$='/agreements']"))
        .await
        .unwrap();
    form.set_by_name("valid_from", "2026-11-02").await.unwrap();
    form.set_by_name("valid_until", valid_until).await.unwrap();
    submit_and_wait(client, &form, "agreement_issued").await;
    let sign = "article.agreement:has(.badge.warn) form[action$='/sign']";
    wait_for(client, sign).await;
    if let Some(path) = scan {
        wait_for(client, &format!("{sign} input[name='scan']"))
            .await
            .send_keys(path)
            .await
            .unwrap();
    }
    let form = client.form(Locator::Css(sign)).await.unwrap();
    submit_and_wait(client, &form, "agreement_signed").await;
    let signed = client
        .find_all(Locator::Css("article.agreement.in-force"))
        .await
        .unwrap()
        .len();
    assert_eq!(signed, signed_before + 1, "{kind} in force");
}

/// Scrolls `element` to the middle of the window and clicks it, as a thumb
/// does on a phone (nothing sticky covers it then).
async fn tap(client: &Client, element: &fantoccini::elements::Element) {
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(element).unwrap()],
        )
        .await
        .unwrap();
    element.click().await.unwrap();
}

/// Fails when the page is wider than the window (the reader would have to
/// scroll sideways), naming the elements that stick out.
async fn assert_no_horizontal_overflow(client: &Client, what: &str) {
    let measured = client
        .execute(
            "const inner = window.innerWidth;
             const wide = Array.from(document.querySelectorAll('body *'))
               .filter(e => e.getBoundingClientRect().right > inner + 1)
               .slice(0, 8)
               .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                         + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
             return [document.documentElement.scrollWidth, inner, wide];",
            vec![],
        )
        .await
        .expect("measure the page");
    let width = measured[0].as_u64().unwrap();
    let inner = measured[1].as_u64().unwrap();
    assert!(
        width <= inner,
        "{what}: the page is {width}px wide in a {inner}px window: {}",
        measured[2]
    );
}

/// What a download link gives when fetched from inside the page, with the
/// page's cookies, as a click on it would.
struct Fetched {
    status: u64,
    content_type: String,
    size: u64,
    head: Vec<u8>,
}

async fn fetch_in_page(client: &Client, href: &str) -> Fetched {
    let fetched = client
        .execute_async(
            "const [href, done] = arguments;
             fetch(href, {credentials: 'same-origin'})
               .then(r => r.arrayBuffer().then(b => {
                 const bytes = new Uint8Array(b);
                 done({status: r.status, type: r.headers.get('content-type') || '',
                       size: bytes.length, head: Array.from(bytes.slice(0, 8))});
               }))
               .catch(e => done({error: String(e)}));",
            vec![serde_json::Value::String(href.to_string())],
        )
        .await
        .expect("fetch in the page");
    assert!(fetched.get("error").is_none(), "{href}: {fetched}");
    Fetched {
        status: fetched["status"].as_u64().unwrap(),
        content_type: fetched["type"].as_str().unwrap().to_string(),
        size: fetched["size"].as_u64().unwrap(),
        head: fetched["head"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect(),
    }
}

/// A few organisations and engagements, so the pages look like a programme.
async fn seed(app: &TestApp) {
    let programme = testing::add_programme(app.store(), "令和8年度 病院調査（デモ）").await;
    let a = app
        .org(OrgKind::SurveyCompany, "山陰システム調査（デモ）")
        .await;
    let b = app
        .org(OrgKind::SurveyCompany, "瀬戸内セキュリティサービス（デモ）")
        .await;
    for (name, company, state) in [
        ("松江北病院（デモ）", a, EngagementState::Surveying),
        ("出雲中央病院（デモ）", a, EngagementState::PledgeIssued),
        ("倉敷みなと病院（デモ）", b, EngagementState::Contracted),
        ("米子記念病院（デモ）", b, EngagementState::Accepted),
    ] {
        let h = app.org(OrgKind::Hospital, name).await;
        testing::add_engagement(app.store(), programme, h, company, state).await;
    }
}

#[tokio::test]
async fn secretariat_in_a_real_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(testing::sqlite().await).await;
    let base = app.url("");
    let sec = app.org(OrgKind::Secretariat, "研究事務局（デモ）").await;
    app.account(sec, "sec@example.jp", Role::Admin).await;
    let with_totp = app.account(sec, "totp@example.jp", Role::Member).await;
    let ctx = AuditContext::for_actor(with_totp.actor(), with_totp.email.clone(), None);
    let enrolment = app
        .store()
        .begin_totp_enrolment(&ctx, &with_totp)
        .await
        .unwrap();
    let now = (mamori_store::now_ms() / 1000) as u64;
    app.store()
        .confirm_totp(
            &ctx,
            &with_totp,
            &credentials::totp_code(&enrolment.secret, now).unwrap(),
        )
        .await
        .unwrap()
        .expect("totp on");
    seed(&app).await;

    // Without a second factor.
    client.goto(&format!("{base}/login")).await.unwrap();
    expect_heading(&client, "ログイン").await;
    screenshot(&client, "login.png").await;
    log_in(&client, &base, "sec@example.jp").await;
    expect_heading(&client, "研究事務局ダッシュボード").await;
    screenshot(&client, "screenshot.png").await;

    // Create a hospital through the form.
    client.goto(&format!("{base}/organisations")).await.unwrap();
    let form = client
        .form(Locator::Css("form[action='/organisations']"))
        .await
        .unwrap();
    client
        .find(Locator::Css("select[name='kind'] option[value='hospital']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.set_by_name("name", "安来ブラウザ病院").await.unwrap();
    client
        .find(Locator::Css("select[name='prefecture'] option[value='32']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.set_by_name("beds", "99").await.unwrap();
    client
        .find(Locator::Css(
            "select[name='founder'] option[value='medical-corporation']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css(
            "select[name='route'] option[value='company-referral']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.submit().await.unwrap();
    expect_heading(&client, "安来ブラウザ病院").await;
    expect_text(
        &client,
        "main",
        &["島根県", "医療法人", "組織を登録しました"],
    )
    .await;

    // Add a person to it; the initial password is shown once.
    let form = client
        .form(Locator::Css("form[action$='/accounts']"))
        .await
        .unwrap();
    form.set_by_name("display_name", "安来 一郎").await.unwrap();
    form.set_by_name("email", "ichiro@example.jp")
        .await
        .unwrap();
    form.submit().await.unwrap();
    expect_text(
        &client,
        "main",
        &["ichiro@example.jp", "この画面でのみ表示"],
    )
    .await;

    // The audit log shows both.
    client.goto(&format!("{base}/audit")).await.unwrap();
    expect_text(
        &client,
        "table.audit",
        &["組織登録", "利用者追加", "ichiro@example.jp"],
    )
    .await;
    screenshot(&client, "audit.png").await;

    // Log out, then in again with the second factor.
    client
        .find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expect_heading(&client, "ログイン").await;
    log_in(&client, &base, "totp@example.jp").await;
    expect_heading(&client, "二要素認証").await;
    let form = client
        .form(Locator::Css("form[action='/login/second-factor']"))
        .await
        .unwrap();
    form.set_by_name(
        "code",
        &credentials::totp_code(&enrolment.secret, now + 30).unwrap(),
    )
    .await
    .unwrap();
    form.submit().await.unwrap();
    expect_heading(&client, "研究事務局ダッシュボード").await;

    client.close().await.unwrap();
    app.db.finish().await;
}

#[tokio::test]
async fn engagement_walked_from_candidate_to_reported_in_a_real_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(testing::sqlite().await).await;
    let store = app.store();
    store.clock().set_today(time::macros::date!(2026 - 11 - 02));
    let base = app.url("");

    // The operator sets up the parties, the programme and the candidate.
    let secretariat = app.org(OrgKind::Secretariat, "研究事務局（デモ）").await;
    let supervisor = app.org(OrgKind::Supervisor, "みなと監査（デモ）").await;
    let company = app
        .org(OrgKind::SurveyCompany, "山陰システム調査（デモ）")
        .await;
    let hospital = app.org(OrgKind::Hospital, "松江北病院（デモ）").await;
    app.account(secretariat, "sec@example.jp", Role::Admin)
        .await;
    let sup_account = app
        .account(supervisor, "sup@example.jp", Role::Member)
        .await;
    let co_account = app.account(company, "co@example.jp", Role::Admin).await;
    app.account(hospital, "it@example.jp", Role::Member).await;
    let op = AuditContext::operator("test");
    for (org, address, representative) in [
        (
            secretariat,
            "〒370-0000 群馬県高崎市見本町1-2-3",
            "理事長 佐藤 一郎",
        ),
        (
            company,
            "〒690-0000 島根県松江市見本9-8-7",
            "代表取締役 田中 次郎",
        ),
    ] {
        store
            .set_letterhead(
                &op,
                org,
                &Letterhead {
                    address: address.into(),
                    representative: representative.into(),
                    contact_email: String::new(),
                },
            )
            .await
            .unwrap();
    }
    let programme = testing::add_programme(store, "令和8年度 病院調査（デモ）").await;
    let e = testing::add_engagement(
        store,
        programme,
        hospital,
        company,
        EngagementState::Candidate,
    )
    .await;
    let e_url = app.url(&format!("/engagements/{}", e.id));
    let scans = tempfile::tempdir().unwrap();
    let pledge_scan = scans.path().join("pledge-signed.pdf");
    std::fs::write(&pledge_scan, b"%PDF-1.4\n% signed pledge\n%%EOF\n").unwrap();

    // The secretariat: intent, the pledge, the company confirmed, the NDA.
    log_in_and_wait(&client, &base, "sec@example.jp").await;
    open_engagement(&client, &e_url).await;
    expect_heading(&client, "松江北病院（デモ）").await;
    take_step(&client, "intent-confirmed", "意向確認済み").await;
    issue_and_sign(
        &client,
        "pledge",
        "2027-03-31",
        Some(pledge_scan.to_str().unwrap()),
    )
    .await;
    expect_text(&client, "#agreements", &["署名済みの写し"]).await;
    take_step(&client, "pledge-issued", "誓約書発行済み").await;
    let form = client
        .form(Locator::Css("form[action$='/confirm-company']"))
        .await
        .unwrap();
    submit_and_wait(&client, &form, "company_confirmed").await;
    issue_and_sign(&client, "nda", "2027-03-31", None).await;
    log_out_and_wait(&client).await;

    // The company estimates.
    log_in_and_wait(&client, &base, "co@example.jp").await;
    open_engagement(&client, &e_url).await;
    wait_for(&client, "form[action$='/estimates']").await;
    let form = client
        .form(Locator::Css("form[action$='/estimates']"))
        .await
        .unwrap();
    for (field, value) in [
        ("labour_hours", "240"),
        ("labour_cost_yen", "2,400,000"),
        ("trips", "3"),
        ("travel_yen", "90,000"),
        ("consumables_yen", "10000"),
        ("note", "ヒヤリング2回・巡回2回"),
    ] {
        form.set_by_name(field, value).await.unwrap();
    }
    submit_and_wait(&client, &form, "estimate_submitted").await;
    expect_text(&client, "#estimates", &["¥2,500,000"]).await;
    log_out_and_wait(&client).await;

    // The secretariat orders and contracts.
    log_in_and_wait(&client, &base, "sec@example.jp").await;
    open_engagement(&client, &e_url).await;
    wait_for(
        &client,
        "form[action$='/orders'] select[name='estimate_id'] option",
    )
    .await;
    let form = client
        .form(Locator::Css("form[action$='/orders']"))
        .await
        .unwrap();
    form.set_by_name("order_number", "PO-2026-001")
        .await
        .unwrap();
    submit_and_wait(&client, &form, "order_issued").await;
    expect_text(&client, "#orders", &["PO-2026-001"]).await;
    take_step(&client, "contracted", "契約済み（NDA・発注）").await;
    log_out_and_wait(&client).await;

    // The company surveys.
    log_in_and_wait(&client, &base, "co@example.jp").await;
    open_engagement(&client, &e_url).await;
    take_step(&client, "scheduling", "日程調整中").await;
    take_step(&client, "surveying", "調査中").await;
    take_step(&client, "interim-review", "中間確認").await;
    log_out_and_wait(&client).await;

    // The supervisor reviews.
    log_in_and_wait(&client, &base, "sup@example.jp").await;
    open_engagement(&client, &e_url).await;
    take_step(&client, "reporting", "報告書作成中").await;
    log_out_and_wait(&client).await;

    // ① to ⑦ approved (the deliverables have their own tests); the company
    // submits, and is offered no step it does not own.
    let walked = store.engagement_detail(&op, e.id).await.unwrap().engagement;
    testing::approve_all_deliverables(store, &walked, &co_account, &sup_account).await;
    log_in_and_wait(&client, &base, "co@example.jp").await;
    open_engagement(&client, &e_url).await;
    take_step(&client, "submitted", "提出済み").await;
    open_engagement(&client, &e_url).await;
    wait_for(&client, "p.engagement-head .state.state-submitted").await;
    for css in [
        "option[value='accepted']",
        "form[action$='/agreements']",
        "form[action$='/orders']",
    ] {
        assert!(
            client.find_all(Locator::Css(css)).await.unwrap().is_empty(),
            "the company is offered `{css}`"
        );
    }
    log_out_and_wait(&client).await;

    // The secretariat accepts and reports.
    log_in_and_wait(&client, &base, "sec@example.jp").await;
    open_engagement(&client, &e_url).await;
    take_step(&client, "accepted", "検収済み").await;
    take_step(&client, "reported", "報告済み").await;

    let history = client
        .find_all(Locator::Css("#transition table tbody tr"))
        .await
        .unwrap();
    assert_eq!(history.len(), 10, "history steps");
    expect_text(
        &client,
        "#transition table",
        &["報告済み", "reported のメモ"],
    )
    .await;
    // The top of the page (heading, state, gates) makes the better picture.
    let _ = client.execute("window.scrollTo(0, 0)", Vec::new()).await;
    screenshot(&client, "engagement.png").await;
    // The delivered report: its release with the files to download.
    client
        .goto(&format!("{e_url}/report"))
        .await
        .expect("report page");
    wait_for(&client, "#release-1").await;
    expect_text(
        &client,
        "#releases",
        &["第1版", "PDF（日本語）", "PDF（英語）"],
    )
    .await;
    expect_text(&client, "#approvals", &["⑦", "承認済"]).await;
    let _ = client
        .execute(
            "document.getElementById('approvals').scrollIntoView()",
            Vec::new(),
        )
        .await;
    screenshot(&client, "report.png").await;
    // Every file of the release downloads: each link fetched from inside
    // the page, with its cookies, as a click on it would be.
    let links = client
        .find_all(Locator::Css("#release-1 a[download]"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for link in &links {
        let label = link.text().await.unwrap();
        let href = link.attr("href").await.unwrap().expect("a download href");
        let got = fetch_in_page(&client, &href).await;
        assert_eq!(got.status, 200, "{label}: {href}");
        if label.starts_with("PDF") {
            assert_eq!(got.content_type, "application/pdf", "{label}");
            assert!(got.head.starts_with(b"%PDF-"), "{label}: {:?}", got.head);
            assert!(got.size > 20_000, "{label}: {} bytes", got.size);
        } else if label.starts_with("Excel") {
            assert_eq!(
                got.content_type,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "{label}"
            );
            assert!(got.head.starts_with(b"PK"), "{label}: {:?}", got.head);
            assert!(got.size > 5_000, "{label}: {} bytes", got.size);
        } else {
            assert!(got.size > 500, "{label}: {} bytes", got.size);
        }
        seen.push(label);
    }
    for expected in ["PDF（日本語）", "PDF（英語）", "Excel（日本語）"] {
        assert!(seen.iter().any(|l| l == expected), "{expected} in {seen:?}");
    }
    // The hospital it was delivered to downloads its report too.
    log_out_and_wait(&client).await;
    log_in_and_wait(&client, &base, "it@example.jp").await;
    client
        .goto(&format!("{e_url}/report"))
        .await
        .expect("report page");
    let pdf = wait_for(&client, "#release-1 a[download][href$='/pdf?lang=ja']")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("the Japanese PDF");
    let got = fetch_in_page(&client, &pdf).await;
    assert_eq!(got.status, 200, "the hospital's download");
    assert_eq!(got.content_type, "application/pdf");
    assert!(got.head.starts_with(b"%PDF-"), "{:?}", got.head);
    let transitioned = store
        .audit_page(
            None,
            &AuditFilter {
                action: Some("engagement.transitioned".into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .records
        .len();
    assert_eq!(transitioned, 10, "engagement.transitioned records");

    client.close().await.unwrap();
    app.db.finish().await;
}

/// One sheet of the surveyed ledger: its kind, its header row and its data
/// rows, cells separated by `|`.
type SurveyedSheet = (
    mamori_domain::ledger::RecordKind,
    &'static str,
    &'static [&'static str],
);

/// A small ledger as a surveyor uploads it: segments, a vendor's VPN,
/// folded terminals, a CT and its maintenance line, one connection the
/// administrator did not know of.
fn surveyed_sheets() -> [SurveyedSheet; 4] {
    use mamori_domain::ledger::RecordKind;
    [
        (
            RecordKind::Segment,
            "セグメント番号|名称|種別",
            &["MED|医療系LAN|医療系", "MNT|保守用|保守用"],
        ),
        (
            RecordKind::Asset,
            "資産番号|種別|名称|メーカー|型番|台数|設置場所|ネットワークセグメント|所有者|リモート保守",
            &[
                "VPN-01|VPN装置|保守用VPN|Fortinet|60F|1|サーバ室|MNT|ベンダー|常時接続",
                "SW-01|スイッチ|コアスイッチ|アライドテレシス|x930|1|サーバ室|MED|病院|なし",
                "PC-2F|端末|2階病棟端末|NEC|Mate|40|2階病棟|MED|病院|なし",
                "PC-3F|端末|3階病棟端末|NEC|Mate|40|3階病棟|MED|病院|なし",
                "CT-01|医療機器|CT装置|しおかぜ|ONE|1|CT室|MED|病院|常時接続",
            ],
        ),
        (
            RecordKind::Link,
            "接続番号|接続元|接続先",
            &["L1|VPN-01|SW-01", "L2|SW-01|PC-2F", "L3|SW-01|CT-01"],
        ),
        (
            RecordKind::Connection,
            "接続番号|分類|接続先|接続方法|境界機器|接続形態|管理者の把握",
            &[
                "EX-1|ネットワーク保守|電子カルテ保守センター|インターネットVPN|VPN-01|常時接続|はい",
                "EX-2|CT・MRI等検査機器の保守|CTリモートサービス|IP-VPN|CT-01|常時接続|いいえ",
            ],
        ),
    ]
}

fn cells_of(line: &str) -> Vec<String> {
    line.split('|').map(str::to_string).collect()
}

/// [`surveyed_sheets`] read as the import reads them.
fn surveyed_ledger() -> mamori_domain::ledger::Ledger {
    use mamori_domain::ledger::{ColumnMapping, Ledger, TableInput, plan_ledger_import};
    let sheets = surveyed_sheets();
    let bodies: Vec<Vec<(u32, Vec<String>)>> = sheets
        .iter()
        .map(|(_, _, rows)| {
            rows.iter()
                .enumerate()
                .map(|(i, r)| (i as u32 + 2, cells_of(r)))
                .collect()
        })
        .collect();
    let inputs: Vec<TableInput> = sheets
        .iter()
        .zip(bodies.iter())
        .map(|((kind, header, _), rows)| TableInput {
            name: kind.ja().into(),
            kind: *kind,
            mapping: ColumnMapping::infer(&cells_of(header), kind.columns()),
            rows,
        })
        .collect();
    let plan = plan_ledger_import(&inputs, &Ledger::default());
    assert_eq!(plan.rejected_rows(), 0, "{:?}", plan.tables);
    plan.incoming
}

/// [`surveyed_sheets`] as the Excel workbook a surveyor brings: one sheet
/// per kind, named as the import recognises it.
fn surveyed_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (kind, header, rows) in surveyed_sheets() {
        let sheet = book.add_worksheet();
        sheet.set_name(kind.ja()).unwrap();
        for (r, line) in std::iter::once(header)
            .chain(rows.iter().copied())
            .enumerate()
        {
            for (c, value) in line.split('|').enumerate() {
                sheet.write_string(r as u32, c as u16, value).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn a_surveyor_imports_the_ledger_walks_the_wards_and_reads_the_network_in_a_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    let files = tempfile::tempdir().unwrap();
    let workbook = files.path().join("台帳_湖畔市立総合病院.xlsx");
    std::fs::write(&workbook, surveyed_workbook()).unwrap();
    for db in testing::all().await {
        eprintln!("-- on {}", db.label);
        let app = TestApp::start(db).await;
        let base = app.url("");
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "湖畔市立総合病院").await;
        let company = app
            .org(OrgKind::SurveyCompany, "あおば情報セキュリティ")
            .await;
        app.account(company, "co@example.jp", Role::Member).await;
        let programme = testing::add_programme(store, "令和8年度 調査").await;
        testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let h = hospital.0;
        client.set_window_size(1280, 860).await.unwrap();
        log_in_and_wait(&client, &base, "co@example.jp").await;

        // The workbook goes in through the upload form: a preview first,
        // which changes nothing, then the import.
        client
            .goto(&format!("{base}/hospitals/{h}/ledger"))
            .await
            .unwrap();
        expect_text(&client, ".tiles", &["0"]).await;
        mark_page(&client).await;
        click(&client, "a[href$='/ledger/import']").await;
        wait_for_new_page(&client).await;
        expect_heading(&client, "CSV・Excelから取り込み").await;
        wait_for(
            &client,
            "form[enctype='multipart/form-data'] input[type='file']",
        )
        .await
        .send_keys(workbook.to_str().unwrap())
        .await
        .unwrap();
        mark_page(&client).await;
        click(&client, "button[name='action'][value='preview']").await;
        wait_for_new_page(&client).await;
        expect_text(
            &client,
            "form[enctype='multipart/form-data']",
            &[
                "台帳_湖畔市立総合病院.xlsx",
                "資産 → 資産",
                "外部接続 → 外部接続",
            ],
        )
        .await;
        let tables = client
            .find_all(Locator::Css("section.import-table"))
            .await
            .unwrap();
        assert_eq!(tables.len(), 4, "one table per sheet");
        expect_text(
            &client,
            "section.import-table:has(input[value='asset'])",
            &["5", "追加 5"],
        )
        .await;
        assert!(
            client
                .find_all(Locator::Css("table.rejected"))
                .await
                .unwrap()
                .is_empty(),
            "rows refused: {}",
            text_of(&client, "main").await
        );
        assert_eq!(
            app.db.count("SELECT COUNT(*) FROM ledger_records").await,
            0,
            "the preview wrote nothing"
        );
        let _ = client
            .execute(
                "document.querySelector('section.import-table').scrollIntoView()",
                Vec::new(),
            )
            .await;
        screenshot(&client, "ledger-import.png").await;
        mark_page(&client).await;
        click(&client, "button[name='action'][value='import']").await;
        wait_for_new_page(&client).await;
        let url = client.current_url().await.unwrap().to_string();
        assert!(
            url.contains("done=ledger_imported"),
            "{url}: {}",
            text_of(&client, "main").await
        );
        expect_text(&client, "p.notice", &["台帳に取り込みました"]).await;
        // The imported assets are listed in the ledger.
        mark_page(&client).await;
        click(&client, ".tiles a[href$='/ledger/asset']").await;
        wait_for_new_page(&client).await;
        for (key, name) in [
            ("VPN-01", "保守用VPN"),
            ("SW-01", "コアスイッチ"),
            ("PC-2F", "2階病棟端末"),
            ("PC-3F", "3階病棟端末"),
            ("CT-01", "CT装置"),
        ] {
            expect_text(
                &client,
                &format!("table.ledger tr[id='{key}']"),
                &[key, name],
            )
            .await;
        }
        let rows = client
            .find_all(Locator::Css("table.ledger tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 5, "assets listed");

        // On a tablet in the wards: the devices by location, one confirmed.
        client.set_window_size(820, 1180).await.unwrap();
        client
            .goto(&format!("{base}/hospitals/{h}/ledger/walk"))
            .await
            .unwrap();
        expect_heading(&client, "院内巡回").await;
        expect_text(&client, "main", &["2階病棟", "CT室", "保守用VPN", "0 / 5"]).await;
        mark_page(&client).await;
        click(&client, "li#CT-01 form[action$='/confirm'] button").await;
        wait_for_new_page(&client).await;
        expect_text(&client, "p.notice", &["確認済み"]).await;
        expect_text(&client, "main", &["1 / 5"]).await;
        wait_for(&client, "li#CT-01.seen").await;
        screenshot(&client, "walk.png").await;

        // The overview points out the connection nobody knew of.
        client.set_window_size(1400, 1000).await.unwrap();
        client
            .goto(&format!("{base}/hospitals/{h}/ledger"))
            .await
            .unwrap();
        expect_text(&client, "ul.highlights", &["CTリモートサービス"]).await;
        // The network overview, drawn from the ledger in the page: every
        // imported asset is a labelled node.
        mark_page(&client).await;
        click(&client, "a[href$='/ledger/network']").await;
        wait_for_new_page(&client).await;
        expect_heading(&client, "ネットワーク概要図").await;
        let drawn = wait_for(&client, ".diagram svg")
            .await
            .text()
            .await
            .unwrap();
        for needle in [
            "医療系LAN",
            "保守用",
            "保守用VPN",
            "コアスイッチ",
            "CT装置",
            "×80",
            "CTリモートサービス",
            "電子カルテ保守センター",
        ] {
            assert!(
                drawn.contains(needle),
                "{needle} not in the drawing: {drawn}"
            );
        }
        screenshot(&client, "ledger-network.png").await;
        client.delete_all_cookies().await.unwrap();
        app.db.finish().await;
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_company_books_and_reports_its_week_in_a_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(testing::sqlite().await).await;
    let base = app.url("");
    let store = app.store();
    store.clock().set_today(time::macros::date!(2026 - 12 - 07));
    let hospital = app.org(OrgKind::Hospital, "湖畔市立総合病院").await;
    let company = app
        .org(OrgKind::SurveyCompany, "あおば情報セキュリティ")
        .await;
    let supervisor = app.org(OrgKind::Supervisor, "みなと監査").await;
    app.account(company, "co@example.jp", Role::Member).await;
    app.account(supervisor, "sup@example.jp", Role::Member)
        .await;
    let programme = testing::add_programme(store, "令和8年度 調査").await;
    let e = testing::add_engagement(
        store,
        programme,
        hospital,
        company,
        EngagementState::Surveying,
    )
    .await;
    store.clock().set_today(time::macros::date!(2026 - 12 - 10));
    let labour = format!("{base}/engagements/{}/labour", e.id);

    log_in_and_wait(&client, &base, "co@example.jp").await;
    for (row, day, hours) in [("1", "2026-12-08", "6"), ("17", "2026-12-09", "2.5")] {
        client.goto(&labour).await.unwrap();
        wait_for(&client, "form.labour-entry").await;
        click(
            &client,
            &format!("form.labour-entry select[name='row'] option[value='{row}']"),
        )
        .await;
        let form = client
            .form(Locator::Css("form.labour-entry"))
            .await
            .unwrap();
        form.set_by_name("person", "鈴木 一郎").await.unwrap();
        form.set_by_name("worked_on", day).await.unwrap();
        form.set_by_name("hours", hours).await.unwrap();
        submit_and_wait(&client, &form, "labour_recorded").await;
    }
    expect_text(&client, "#summary .actual", &["8.50"]).await;
    let form = client
        .form(Locator::Css("#week-2026-12-07 form.week-step"))
        .await
        .unwrap();
    mark_page(&client).await;
    form.submit_with(Locator::Css("button[value='submit']"))
        .await
        .unwrap();
    wait_for_new_page(&client).await;
    expect_text(&client, "#week-2026-12-07", &["報告済"]).await;
    log_out_and_wait(&client).await;

    // The supervisor sees the week in the roll-up and acknowledges it.
    log_in_and_wait(&client, &base, "sup@example.jp").await;
    client.goto(&format!("{base}/labour")).await.unwrap();
    expect_text(
        &client,
        "table.labour-rollup",
        &["湖畔市立総合病院", "8.50"],
    )
    .await;
    client.goto(&labour).await.unwrap();
    let form = client
        .form(Locator::Css("#week-2026-12-07 form.week-step"))
        .await
        .unwrap();
    mark_page(&client).await;
    form.submit_with(Locator::Css("button[value='acknowledge']"))
        .await
        .unwrap();
    wait_for_new_page(&client).await;
    expect_text(&client, "#week-2026-12-07", &["確認済（確定）"]).await;
    let _ = client
        .execute(
            "document.getElementById('summary').scrollIntoView()",
            Vec::new(),
        )
        .await;
    screenshot(&client, "labour.png").await;
    client.close().await.unwrap();
    app.db.finish().await;
}

#[tokio::test]
async fn a_hospital_answers_an_advisory_in_a_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(testing::sqlite().await).await;
    let base = app.url("");
    let store = app.store();
    let hospital = app.org(OrgKind::Hospital, "湖畔市立総合病院").await;
    let company = app
        .org(OrgKind::SurveyCompany, "あおば情報セキュリティ")
        .await;
    let secretariat = app.org(OrgKind::Secretariat, "研究事務局").await;
    let surveyor = app.account(company, "co@example.jp", Role::Member).await;
    app.account(hospital, "it@example.jp", Role::Member).await;
    let programme = testing::add_programme(store, "令和8年度 調査").await;
    testing::add_engagement(
        store,
        programme,
        hospital,
        company,
        EngagementState::Surveying,
    )
    .await;
    let survey = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
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
    let analyst = app
        .account(secretariat, "analyst@example.jp", Role::Member)
        .await;
    let analyst = AuditContext::for_actor(analyst.actor(), analyst.email.clone(), None);
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../advisories/tests/fixtures/nvd/CVE-2024-21762.json"
    ))
    .unwrap();
    let parsed = mamori_advisories::nvd::parse_nvd(&bytes, "CVE-2024-21762.json");
    let imported = store
        .import_advisories(&analyst, &parsed.advisories, "CVE-2024-21762.json")
        .await
        .unwrap();
    store
        .match_advisories(&analyst, Some(&imported.changed))
        .await
        .unwrap();

    // The hospital's administrator follows the notification to the case.
    log_in_and_wait(&client, &base, "it@example.jp").await;
    client.goto(&format!("{base}/notifications")).await.unwrap();
    expect_text(&client, "main", &["脆弱性情報のお知らせ"]).await;
    client.goto(&format!("{base}/advisories")).await.unwrap();
    wait_for(&client, "table.cases").await;
    expect_text(
        &client,
        "table.cases",
        &["CVE-2024-21762", "FW-01", "悪用あり", "未確認"],
    )
    .await;
    let form = client.form(Locator::Css("form.triage")).await.unwrap();
    form.set_by_name("note", "保守ベンダーAに確認を依頼")
        .await
        .unwrap();
    submit_and_wait(&client, &form, "adv_step").await;
    expect_text(&client, "table.cases", &["影響あり"]).await;
    let _ = client
        .execute("document.querySelector('h1').scrollIntoView()", Vec::new())
        .await;
    screenshot(&client, "advisories.png").await;
    // 影響なし needs a reason: refused with the message, nothing changed.
    let case = "table.cases tr.case";
    click(
        &client,
        &format!("{case} form.triage select[name='state'] option[value='not-affected']"),
    )
    .await;
    let form = client
        .form(Locator::Css(&format!("{case} form.triage")))
        .await
        .unwrap();
    mark_page(&client).await;
    form.submit().await.unwrap();
    wait_for_new_page(&client).await;
    expect_text(&client, "p.error", &["理由が必要"]).await;
    expect_text(&client, &format!("{case} td.state"), &["影響あり"]).await;
    // The work goes on to 対応中 and 対応済, each step on the page.
    for (state, label, note) in [
        ("in-progress", "対応中", "FortiOS 7.0.14 への更新を手配"),
        ("resolved", "対応済", "7.0.14 に更新済み（保守ベンダーA）"),
    ] {
        click(
            &client,
            &format!("{case} form.triage select[name='state'] option[value='{state}']"),
        )
        .await;
        let form = client
            .form(Locator::Css(&format!("{case} form.triage")))
            .await
            .unwrap();
        form.set_by_name("note", note).await.unwrap();
        submit_and_wait(&client, &form, "adv_step").await;
        expect_text(&client, &format!("{case} td.state"), &[label]).await;
    }
    click(&client, "table.cases tr.history summary").await;
    expect_text(
        &client,
        "table.cases tr.history",
        &["対応中", "対応済", "7.0.14 に更新済み"],
    )
    .await;
    client
        .goto(&format!(
            "{base}/hospitals/{}/advisories/notices/1",
            hospital.0
        ))
        .await
        .unwrap();
    expect_text(
        &client,
        "article.notice",
        &["通知 第1号", "保守ベンダーA", "CVE-2024-21762"],
    )
    .await;
    log_out_and_wait(&client).await;

    // The secretariat sees the case closed, without the hospital's name.
    log_in_and_wait(&client, &base, "analyst@example.jp").await;
    client.goto(&format!("{base}/advisories")).await.unwrap();
    let row = "table.responses tr[data-advisory='CVE-2024-21762']";
    wait_for(&client, row).await;
    let cells: Vec<String> = {
        let mut texts = Vec::new();
        for td in client
            .find_all(Locator::Css(&format!("{row} td")))
            .await
            .unwrap()
        {
            texts.push(td.text().await.unwrap());
        }
        texts
    };
    // 医療機関, 完了, 影響なし, 未完了: one hospital, closed.
    assert_eq!(&cells[3..7], ["1", "1", "0", "0"], "{cells:?}");
    assert!(
        !text_of(&client, "#responses")
            .await
            .contains("湖畔市立総合病院"),
        "the hospital is named"
    );
    screenshot(&client, "alert-triage.png").await;
    client.close().await.unwrap();
    app.db.finish().await;
}

/// A code for `secret` that is not good at `unix_seconds` (nor a step
/// either side), for the refusal.
fn wrong_totp_code(secret: &str, unix_seconds: u64) -> String {
    let good: Vec<String> = [unix_seconds - 30, unix_seconds, unix_seconds + 30]
        .iter()
        .map(|t| credentials::totp_code(secret, *t).unwrap())
        .collect();
    (1..)
        .map(|hour| credentials::totp_code(secret, unix_seconds - hour * 3600).unwrap())
        .find(|code| !good.contains(code))
        .unwrap()
}

#[tokio::test]
async fn a_person_turns_on_the_second_factor_and_logs_in_with_it_in_a_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    for db in testing::all().await {
        eprintln!("-- on {}", db.label);
        let app = TestApp::start(db).await;
        let base = app.url("");
        let sec = app.org(OrgKind::Secretariat, "研究事務局（デモ）").await;
        app.account(sec, "mfa@example.jp", Role::Member).await;
        let now = || (mamori_store::now_ms() / 1000) as u64;

        // The account page offers the second factor; setting it up shows
        // the QR code and the key to type in.
        log_in_and_wait(&client, &base, "mfa@example.jp").await;
        client.goto(&format!("{base}/account")).await.unwrap();
        expect_heading(&client, "マイアカウント").await;
        mark_page(&client).await;
        click(&client, "form[action='/account/totp/begin'] button").await;
        wait_for_new_page(&client).await;
        wait_for(&client, "#totp .qr svg").await;
        let secret: String = wait_for(&client, "#totp code.secret-key")
            .await
            .text()
            .await
            .unwrap()
            .split_whitespace()
            .collect();
        assert!(secret.len() >= 16, "the key shown: {secret}");
        screenshot(&client, "totp.png").await;

        // A wrong code does not turn it on.
        let form = client
            .form(Locator::Css("form[action='/account/totp/confirm']"))
            .await
            .unwrap();
        form.set_by_name("code", &wrong_totp_code(&secret, now()))
            .await
            .unwrap();
        mark_page(&client).await;
        form.submit().await.unwrap();
        wait_for_new_page(&client).await;
        expect_text(&client, "p.error", &["コードが正しくない"]).await;
        wait_for(&client, "form[action='/account/totp/confirm']").await;

        // The code the authenticator shows does.
        let enrolled_at = now();
        let form = client
            .form(Locator::Css("form[action='/account/totp/confirm']"))
            .await
            .unwrap();
        form.set_by_name(
            "code",
            &credentials::totp_code(&secret, enrolled_at).unwrap(),
        )
        .await
        .unwrap();
        mark_page(&client).await;
        form.submit().await.unwrap();
        wait_for_new_page(&client).await;
        expect_text(&client, "#totp", &["二要素認証は有効です"]).await;
        let codes = client
            .find_all(Locator::Css("#totp ul.codes li"))
            .await
            .unwrap();
        assert_eq!(codes.len(), 10, "recovery codes shown once");
        log_out_and_wait(&client).await;

        // The password alone is not enough any more.
        mark_page(&client).await;
        log_in(&client, &base, "mfa@example.jp").await;
        wait_for_new_page(&client).await;
        expect_heading(&client, "二要素認証").await;
        assert!(
            client
                .find_all(Locator::Css("form[action='/logout']"))
                .await
                .unwrap()
                .is_empty(),
            "signed in before the second factor"
        );
        // A wrong code, and the code already used to turn it on, are refused.
        for refused in [
            wrong_totp_code(&secret, now()),
            credentials::totp_code(&secret, enrolled_at).unwrap(),
        ] {
            let form = client
                .form(Locator::Css("form[action='/login/second-factor']"))
                .await
                .unwrap();
            form.set_by_name("code", &refused).await.unwrap();
            mark_page(&client).await;
            form.submit().await.unwrap();
            wait_for_new_page(&client).await;
            expect_heading(&client, "二要素認証").await;
            expect_text(
                &client,
                "p.error",
                &["コードが正しくないか、すでに使用されています"],
            )
            .await;
        }
        // The next code lets the person in.
        let form = client
            .form(Locator::Css("form[action='/login/second-factor']"))
            .await
            .unwrap();
        form.set_by_name(
            "code",
            &credentials::totp_code(&secret, enrolled_at + 30).unwrap(),
        )
        .await
        .unwrap();
        mark_page(&client).await;
        form.submit().await.unwrap();
        wait_for_new_page(&client).await;
        expect_heading(&client, "研究事務局ダッシュボード").await;
        wait_for(&client, "form[action='/logout'] button").await;
        client.delete_all_cookies().await.unwrap();
        app.db.finish().await;
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_hospital_answers_the_checklist_on_a_phone_and_the_surveyor_reconciles_it_in_a_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    const UNCLEAR: &str = "MDS/SDSが何かわからない";
    for db in testing::all().await {
        eprintln!("-- on {}", db.label);
        let app = TestApp::start(db).await;
        let base = app.url("");
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "湖畔市立総合病院").await;
        let company = app
            .org(OrgKind::SurveyCompany, "あおば情報セキュリティ")
            .await;
        app.account(company, "co@example.jp", Role::Member).await;
        app.account(hospital, "it@example.jp", Role::Member).await;
        let programme = testing::add_programme(store, "令和8年度 調査").await;
        testing::set_checklist(store, programme, "mhlw-r6").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let checklist = format!("{base}/engagements/{}/checklist", e.id);

        // The surveyor lists the hospital's system administrator.
        client.set_window_size(1280, 860).await.unwrap();
        log_in_and_wait(&client, &base, "co@example.jp").await;
        client.goto(&checklist).await.unwrap();
        let add = "form[action$='/checklist/respondents']";
        click(
            &client,
            &format!("{add} select[name='role'] option[value='administrator']"),
        )
        .await;
        let form = client.form(Locator::Css(add)).await.unwrap();
        form.set_by_name("name", "情報 花子").await.unwrap();
        submit_and_wait(&client, &form, "saved").await;
        expect_text(&client, "#respondents table", &["情報 花子", "回答中"]).await;
        log_out_and_wait(&client).await;

        // She answers on her phone: every answer saves as she taps it.
        client.set_window_size(390, 844).await.unwrap();
        log_in_and_wait(&client, &base, "it@example.jp").await;
        client.goto(&checklist).await.unwrap();
        mark_page(&client).await;
        click(&client, "#respondents table a[href*='/respondents/']").await;
        wait_for_new_page(&client).await;
        expect_text(&client, "h1", &["湖畔市立総合病院"]).await;
        let own = client.current_url().await.unwrap().to_string();
        let cells = client.find_all(Locator::Css("form.answer")).await.unwrap();
        assert!(cells.len() >= 18, "{} answer cells", cells.len());
        assert_no_horizontal_overflow(&client, "the checklist on a phone").await;
        for (n, cell) in cells.iter().enumerate() {
            let value = if n == 3 {
                // Typed first: the tap below saves the note with the answer.
                let note = cell
                    .find(Locator::Css("textarea[name='not_understood']"))
                    .await
                    .unwrap();
                tap(&client, &note).await;
                note.send_keys(UNCLEAR).await.unwrap();
                "unknown"
            } else {
                "yes"
            };
            let choice = cell
                .find(Locator::Css(&format!(
                    "input[name='value'][value='{value}']"
                )))
                .await
                .unwrap();
            tap(&client, &choice).await;
        }
        let started = std::time::Instant::now();
        loop {
            let saved = client
                .find_all(Locator::Css("form.answer .save-status.saved"))
                .await
                .unwrap()
                .len();
            let refused = text_of(&client, "form.answer .save-status.refused").await;
            assert!(refused.is_empty(), "an answer was refused: {refused}");
            if saved == cells.len() {
                break;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "{saved} of {} answers saved",
                cells.len()
            );
            tokio::time::sleep(POLL).await;
        }
        expect_text(&client, "form.answer .save-status.saved", &["保存しました"]).await;

        // The answers are kept: the page read afresh shows them.
        client.goto(&own).await.unwrap();
        let total = cells.len();
        expect_text(
            &client,
            "p.completion",
            &[format!("{total}/{total}").as_str()],
        )
        .await;
        let yes = client
            .find_all(Locator::Css("form.answer input[value='yes']:checked"))
            .await
            .unwrap();
        assert_eq!(yes.len(), total - 1, "はい kept");
        let unknown = client
            .find_all(Locator::Css("form.answer input[value='unknown']:checked"))
            .await
            .unwrap();
        assert_eq!(unknown.len(), 1, "不明 kept");
        let note = client
            .find_all(Locator::Css("form.answer textarea[name='not_understood']"))
            .await
            .unwrap()[3]
            .prop("value")
            .await
            .unwrap();
        assert_eq!(note.as_deref(), Some(UNCLEAR));
        assert_no_horizontal_overflow(&client, "the answered checklist on a phone").await;
        let _ = client
            .execute(
                "document.querySelectorAll('form.answer')[3].closest('article').scrollIntoView()",
                Vec::new(),
            )
            .await;
        screenshot(&client, "checklist-phone.png").await;
        // And handed in.
        let submit = wait_for(&client, "form[action$='/submit'] button").await;
        mark_page(&client).await;
        tap(&client, &submit).await;
        wait_for_new_page(&client).await;
        expect_text(&client, "p.completion", &["提出済み"]).await;
        assert!(
            client
                .find_all(Locator::Css("form.answer fieldset:not([disabled])"))
                .await
                .unwrap()
                .is_empty(),
            "submitted answers are still editable"
        );
        log_out_and_wait(&client).await;

        // The surveyor holds the hearing and reconciles the self-assessment:
        // one answer was not true, one is left for the next visit.
        client.set_window_size(1280, 860).await.unwrap();
        log_in_and_wait(&client, &base, "co@example.jp").await;
        client.goto(&checklist).await.unwrap();
        expect_text(&client, "#respondents table", &["情報 花子", "提出済み"]).await;
        let record = "form[action$='/checklist/hearings']";
        let form = client.form(Locator::Css(record)).await.unwrap();
        let minutes = wait_for(&client, &format!("{record} input[name='minutes']")).await;
        minutes.clear().await.unwrap();
        minutes.send_keys("90").await.unwrap();
        form.set_by_name("notes", "第1回ヒアリング（システム管理者）")
            .await
            .unwrap();
        submit_and_wait(&client, &form, "hearing_recorded").await;
        expect_heading(&client, "ヒヤリング").await;
        let sheet = "section[id^='respondent-']";
        expect_text(&client, sheet, &["情報 花子", UNCLEAR]).await;
        let rows = client
            .find_all(Locator::Css(&format!("{sheet} table.reconcile tbody tr")))
            .await
            .unwrap();
        assert_eq!(rows.len(), total, "one row per answer");
        // The first answer was はい; it is not so.
        rows[0]
            .find(Locator::Css("select option[value='no']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        rows[0]
            .find(Locator::Css("input[name^='note:']"))
            .await
            .unwrap()
            .send_keys("実際には未実施")
            .await
            .unwrap();
        // The second is confirmed as answered.
        rows[1]
            .find(Locator::Css("select option[value='yes']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The one she did not understand stays open.
        tap(
            &client,
            &rows[3]
                .find(Locator::Css("input[type='checkbox'][name^='open:']"))
                .await
                .unwrap(),
        )
        .await;
        let form = client
            .form(Locator::Css(&format!("{sheet} form")))
            .await
            .unwrap();
        submit_and_wait(&client, &form, "answers_confirmed").await;
        expect_text(&client, "p.notice", &["確認結果を記録しました"]).await;
        // The reconciliation is on the page: the difference marked, the
        // answers and note kept, the open item counted.
        expect_text(&client, &format!("{sheet} > p"), &["食い違い: 1"]).await;
        let rows = client
            .find_all(Locator::Css(&format!("{sheet} table.reconcile tbody tr")))
            .await
            .unwrap();
        assert_eq!(
            rows[0]
                .attr("class")
                .await
                .unwrap()
                .as_deref()
                .map(str::trim),
            Some("differs"),
            "the corrected answer is marked"
        );
        let confirmed = |row: usize| {
            let row = rows[row].clone();
            async move {
                row.find(Locator::Css("select"))
                    .await
                    .unwrap()
                    .prop("value")
                    .await
                    .unwrap()
                    .unwrap_or_default()
            }
        };
        assert_eq!(confirmed(0).await, "no");
        assert_eq!(confirmed(1).await, "yes");
        assert_eq!(
            rows[0]
                .find(Locator::Css("input[name^='note:']"))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("実際には未実施")
        );
        assert!(
            rows[3]
                .attr("class")
                .await
                .unwrap()
                .unwrap_or_default()
                .contains("open"),
            "the open item is marked"
        );
        let _ = client
            .execute(
                "document.querySelector('table.reconcile').scrollIntoView()",
                Vec::new(),
            )
            .await;
        screenshot(&client, "reconcile.png").await;
        client.goto(&checklist).await.unwrap();
        expect_text(&client, "#hearings", &["次回に持ち越す確認事項: 1"]).await;
        client.delete_all_cookies().await.unwrap();
        app.db.finish().await;
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_deliverable_is_submitted_commented_on_and_approved_in_a_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    const COMMENT: &str =
        "CTリモートサービスは管理者が把握していません。契約の有無を確認してください。";
    for db in testing::all().await {
        eprintln!("-- on {}", db.label);
        let app = TestApp::start(db).await;
        let base = app.url("");
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "湖畔市立総合病院").await;
        let company = app
            .org(OrgKind::SurveyCompany, "あおば情報セキュリティ")
            .await;
        let supervisor = app.org(OrgKind::Supervisor, "みなと監査").await;
        let surveyor = app.account(company, "co@example.jp", Role::Member).await;
        app.account(supervisor, "sup@example.jp", Role::Member)
            .await;
        let programme = testing::add_programme(store, "令和8年度 調査").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let ctx = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        let grant = store
            .authorize(&ctx, hospital, HospitalData::Ledger, Access::Write)
            .await
            .unwrap();
        store
            .import_ledger(
                &ctx,
                &grant,
                &surveyed_ledger(),
                mamori_store::ChangeSource::Import,
            )
            .await
            .unwrap();
        let deliverables = format!("{base}/engagements/{}/deliverables", e.id);
        let line = "section#connections";
        client.set_window_size(1280, 1000).await.unwrap();

        // The company submits ⑤, the external connections.
        log_in_and_wait(&client, &base, "co@example.jp").await;
        client.goto(&deliverables).await.unwrap();
        expect_text(&client, line, &["⑤", "まだ提出されていません"]).await;
        let form = client
            .form(Locator::Css(&format!("{line} form[action$='/submit']")))
            .await
            .unwrap();
        submit_and_wait(&client, &form, "deliverable_submitted").await;
        expect_text(
            &client,
            &format!("{line} h2 .badge.state-submitted"),
            &["提出済"],
        )
        .await;
        wait_for(
            &client,
            &format!("{line} a[href$='/connections/versions/1']"),
        )
        .await;
        log_out_and_wait(&client).await;

        // The supervisor comments on the connection nobody knew of.
        log_in_and_wait(&client, &base, "sup@example.jp").await;
        client.goto(&deliverables).await.unwrap();
        let open = format!("{line} form.new-thread");
        click(
            &client,
            &format!("{open} select[name='row_key'] option[value='EX-2']"),
        )
        .await;
        let form = client.form(Locator::Css(&open)).await.unwrap();
        form.set_by_name("text", COMMENT).await.unwrap();
        submit_and_wait(&client, &form, "thread_opened").await;
        expect_text(
            &client,
            &format!("{line} article.thread"),
            &["未解決", "EX-2", COMMENT],
        )
        .await;
        log_out_and_wait(&client).await;

        // The company answers in the thread.
        log_in_and_wait(&client, &base, "co@example.jp").await;
        client.goto(&deliverables).await.unwrap();
        let thread = format!("{line} article.thread form");
        let form = client.form(Locator::Css(&thread)).await.unwrap();
        form.set_by_name(
            "text",
            "CTベンダーとの保守契約を確認し、台帳に追記しました。",
        )
        .await
        .unwrap();
        mark_page(&client).await;
        form.submit_with(Locator::Css("button[value='reply']"))
            .await
            .unwrap();
        wait_for_new_page(&client).await;
        expect_text(
            &client,
            &format!("{line} article.thread"),
            &["返信", "保守契約を確認し"],
        )
        .await;
        log_out_and_wait(&client).await;

        // The supervisor resolves the thread and approves ⑤.
        log_in_and_wait(&client, &base, "sup@example.jp").await;
        client.goto(&deliverables).await.unwrap();
        let form = client.form(Locator::Css(&thread)).await.unwrap();
        mark_page(&client).await;
        form.submit_with(Locator::Css("button[value='resolve']"))
            .await
            .unwrap();
        wait_for_new_page(&client).await;
        expect_text(&client, &format!("{line} article.thread"), &["解決済"]).await;
        let review = format!("{line} form[action$='/review']");
        let form = client.form(Locator::Css(&review)).await.unwrap();
        form.set_by_name("note", "確認しました。").await.unwrap();
        mark_page(&client).await;
        form.submit_with(Locator::Css("button[value='approve']"))
            .await
            .unwrap();
        wait_for_new_page(&client).await;
        let url = client.current_url().await.unwrap().to_string();
        assert!(
            url.contains("done=deliverable_reviewed"),
            "{url}: {}",
            text_of(&client, "main").await
        );
        expect_text(
            &client,
            &format!("{line} h2 .badge.state-approved"),
            &["承認済"],
        )
        .await;
        expect_text(&client, &format!("{line} table"), &["確認しました。"]).await;
        let _ = client
            .execute(
                "document.getElementById('connections').scrollIntoView()",
                Vec::new(),
            )
            .await;
        screenshot(&client, "deliverable-review.png").await;
        log_out_and_wait(&client).await;

        // The company sees it approved, with nothing more to submit.
        log_in_and_wait(&client, &base, "co@example.jp").await;
        client.goto(&deliverables).await.unwrap();
        expect_text(
            &client,
            &format!("{line} h2 .badge.state-approved"),
            &["承認済"],
        )
        .await;
        client.delete_all_cookies().await.unwrap();
        app.db.finish().await;
    }
    client.close().await.unwrap();
}
