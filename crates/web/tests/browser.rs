//! End-to-end in headless Chromium through ChromeDriver: a secretariat logs
//! in (with and without the second factor), reads Japanese pages, creates a
//! hospital and a person, and finds both in the audit log.
//!
//! Needs `chromedriver` and `chromium` (`scripts/install-browser`); without
//! them the test says so and passes. `MAMORI_SCREENSHOT_DIR=docs` also saves
//! screenshots of the pages it visits.

mod common;

use common::{PASSWORD, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::{AuditContext, credentials, testing};
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
