//! Several instances (issue 11 item 1): two `mamori serve` processes on one
//! PostgreSQL schema and one S3-compatible bucket (a local moto server,
//! `scripts/install-s3-server`). A session opened on one instance serves on
//! the other, a file uploaded through one is downloaded through the other
//! and lives in the bucket (not the database), and the deadline check runs
//! once per period between them, not once per instance.
//!
//! Skipped, with a note, without PostgreSQL (`MAMORI_TEST_DATABASE_URL`) or
//! without the S3 server (`MAMORI_TEST_S3_SERVER`, or the path the install
//! script uses).

mod support;

use mamori::demo::{DEMO_PASSWORD, emails};
use mamori_store::testing::{self, TestDb};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{BIN, Killed, Server};

const BUCKET: &str = "mamori-scale-out";
/// The deadline check's period in this test.
const CHECK_EVERY_SECS: u64 = 1;

fn s3_server_program() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("MAMORI_TEST_S3_SERVER")
        && !path.trim().is_empty()
    {
        return Some(PathBuf::from(path.trim()));
    }
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home).join(".cache/mamori-s3-server/bin/moto_server");
    path.exists().then_some(path)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The local S3 server, with an empty bucket.
async fn start_s3(program: &PathBuf) -> (Killed, String) {
    let port = free_port();
    let process = Killed(
        Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the S3 server"),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // moto takes requests without signatures: the bucket is made directly.
        match client.put(format!("{endpoint}/{BUCKET}")).send().await {
            Ok(r) if r.status().is_success() => break,
            Ok(r) if Instant::now() > deadline => panic!("create bucket: {}", r.status()),
            Err(e) if Instant::now() > deadline => panic!("S3 server did not answer: {e}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    (process, endpoint)
}

/// The object names in the bucket.
async fn bucket_keys(endpoint: &str) -> Vec<String> {
    let listing = reqwest::get(format!("{endpoint}/{BUCKET}?list-type=2&max-keys=1000"))
        .await
        .expect("list the bucket")
        .text()
        .await
        .expect("listing");
    listing
        .split("<Key>")
        .skip(1)
        .filter_map(|part| part.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

fn instance(db: &TestDb, endpoint: &str, demo: bool, label: &str) -> Server {
    let mut cmd = Command::new(BIN);
    for var in [
        "MAMORI_DATA_DIR",
        "MAMORI_LISTEN",
        "MAMORI_TLS",
        "AWS_PROFILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(demo.then_some("--demo"))
        .env("DATABASE_URL", &db.url)
        .env("MAMORI_SECRET_KEY", "11".repeat(32))
        .env("MAMORI_S3_BUCKET", BUCKET)
        .env("MAMORI_S3_ENDPOINT", endpoint)
        .env("MAMORI_S3_REGION", "ap-northeast-1")
        .env("MAMORI_S3_PREFIX", "test")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env(
            "MAMORI_DEADLINE_CHECK_SECONDS",
            CHECK_EVERY_SECS.to_string(),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    support::start(cmd, label)
}

/// The value of the first `name="csrf"` field of a page.
fn csrf(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a form with a csrf field") + marker.len();
    let end = page[start..].find('"').expect("end of the csrf value") + start;
    page[start..end].to_string()
}

/// A request to `base` carrying the session cookie by hand, so that the
/// same cookie can be sent to either instance.
async fn get(client: &reqwest::Client, base: &str, path: &str, cookie: &str) -> (u16, String) {
    let response = client
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_files_and_background_jobs() {
    if !cfg!(feature = "s3") {
        eprintln!(
            "scale-out test skipped: built without the `s3` feature (cargo test -p mamori --features s3 --test scale_out)"
        );
        return;
    }
    // This test's own HTTP client takes TLS from the same provider as the binary.
    #[cfg(feature = "s3")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(program) = s3_server_program() else {
        eprintln!(
            "scale-out test skipped: no S3 server (run ./scripts/install-s3-server or set MAMORI_TEST_S3_SERVER)"
        );
        return;
    };
    let Some(db) = testing::postgres().await else {
        eprintln!(
            "scale-out test skipped: several instances need PostgreSQL (MAMORI_TEST_DATABASE_URL)"
        );
        return;
    };
    let (_s3, endpoint) = start_s3(&program).await;

    // Instance A seeds the demo (its files go to the bucket); B joins.
    let a = instance(&db, &endpoint, true, "instance A");
    let b = instance(&db, &endpoint, false, "instance B");
    let deadline_runs =
        || db.count("SELECT COALESCE(MAX(runs), 0) FROM background_jobs WHERE name = 'deadlines'");
    let (started, runs_before) = (Instant::now(), deadline_runs().await);
    for server in [&a, &b] {
        assert!(
            server
                .said
                .iter()
                .any(|line| line.contains(&format!("s3://{BUCKET}/test/"))),
            "the server names its bucket: {:?}",
            server.said
        );
    }
    let in_database = db.count("SELECT COUNT(*) FROM file_blobs").await;
    let files = db.count("SELECT COUNT(*) FROM files").await;
    assert!(files > 0, "the demo stores files");
    assert_eq!(in_database, 0, "no file bytes in the database");
    let keys = bucket_keys(&endpoint).await;
    assert!(
        keys.iter().all(|k| k.starts_with("test/files/")) && !keys.is_empty(),
        "{keys:?}"
    );

    // Log in on A; the cookie serves on B.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = client
        .get(format!("{}/login", a.url))
        .send()
        .await
        .expect("login page");
    let pre_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let token = csrf(&login.text().await.expect("login page"));
    let logged_in = client
        .post(format!("{}/login", a.url))
        .header("cookie", &pre_cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("email", emails::SECRETARIAT_ADMIN),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .expect("log in");
    assert_eq!(logged_in.status().as_u16(), 303, "login redirects");
    // The cookies a browser would now hold: the login page's, then the
    // login's (a later one of the same name wins, an emptied one goes).
    let mut jar = std::collections::BTreeMap::new();
    let set = logged_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_string)
        .collect::<Vec<_>>();
    for pair in pre_cookie.split("; ").map(str::to_string).chain(set) {
        if let Some((name, value)) = pair.split_once('=') {
            if value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
    }
    let cookie = jar
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    assert!(!cookie.is_empty(), "a session cookie");
    let (status, programmes) = get(&client, &b.url, "/programmes", &cookie).await;
    assert_eq!(status, 200, "the session opened on A serves on B");
    let programme = programmes
        .split("href=\"/programmes/")
        .nth(1)
        .and_then(|rest| rest.split(['"', '/']).next())
        .expect("a programme link")
        .to_string();

    // Upload through A, download through B.
    let page = format!("/programmes/{programme}");
    let (status, body) = get(&client, &a.url, &page, &cookie).await;
    assert_eq!(status, 200);
    let data = format!("%PDF-1.4\n% scale-out test {}\n%%EOF\n", std::process::id()).into_bytes();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf(&body))
        .text("title", "複数インスタンス試験（デモ）")
        .text("version", "第1版")
        .text("issued_on", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(data.clone())
                .file_name("scale-out.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let uploaded = client
        .post(format!("{}{page}/documents", a.url))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status().as_u16(), 303, "upload accepted");
    let (_, on_b) = get(&client, &b.url, &page, &cookie).await;
    let link = on_b
        .split("<a href=\"")
        .filter_map(|part| part.split_once("\">"))
        .find(|(href, text)| href.contains("/documents/") && text.starts_with("scale-out.pdf"))
        .map(|(href, _)| href)
        .map(|href| href.replace("&#x2f;", "/"))
        .expect("the uploaded document is listed on B");
    let downloaded = client
        .get(format!("{}{link}", b.url))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("download");
    assert_eq!(downloaded.status().as_u16(), 200);
    let bytes = downloaded.bytes().await.expect("bytes");
    assert_eq!(bytes.as_ref(), data.as_slice(), "B serves A's upload");
    let sha = hex::encode(Sha256::digest(&data));
    assert!(
        bucket_keys(&endpoint)
            .await
            .contains(&format!("test/files/{sha}")),
        "the upload is in the bucket"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM file_blobs").await, 0);

    // The deadline check ran once per period between the two, not once
    // per instance: both check every second, so twice the periods would
    // mean each ran every period.
    let window = Duration::from_secs(4);
    if let Some(rest) = window.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let runs = deadline_runs().await - runs_before;
    let periods = (elapsed / CHECK_EVERY_SECS as f64).ceil() as i64 + 1;
    assert!(
        runs >= 2 && runs <= periods,
        "deadline check ran {runs} times in {elapsed:.1} s (at most {periods} periods)"
    );

    // With A gone, B goes on serving the same session.
    drop(a);
    let (status, _) = get(&client, &b.url, &page, &cookie).await;
    assert_eq!(status, 200, "B serves the session after A stopped");
    drop(b);
    db.finish().await;
}
