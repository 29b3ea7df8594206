//! Crash safety: `mamori serve` is killed with SIGKILL while API clients
//! write and `mamori advisories import` runs on the same database, then
//! started again. The database must open, every write the server
//! acknowledged must be there, the import must hold whole batches only, and
//! `mamori audit verify` must pass. On a SQLite data directory and, when
//! `MAMORI_TEST_DATABASE_URL` is set, on a fresh PostgreSQL schema.

mod support;

use mamori_store::AuditFilter;
use mamori_store::testing;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{BIN, Killed, Server, Target};

/// Records per import transaction (`BATCH` in `src/advisories.rs`).
const BATCH: usize = 500;
/// Records in each round's import file: a whole number of batches.
const RECORDS: usize = 80 * BATCH;
/// API clients writing at once.
const WRITERS: usize = 8;
/// When, after the load starts, the server and the import are killed.
const KILL_AFTER_MS: [u64; 3] = [300, 1000, 2000];

/// The binary on `target`, with none of the operator's settings leaking in.
fn mamori(target: &Target, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "DATABASE_URL",
        "MAMORI_DATA_DIR",
        "MAMORI_LISTEN",
        "MAMORI_TLS",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .args(target.args())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

/// Runs a command to its end: exit code, standard output and error.
fn run(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("run mamori");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let code = out.status.code().unwrap_or(-1);
    (code, text(&out.stdout), text(&out.stderr))
}

/// Starts `mamori serve --demo` and waits for the URL it prints.
fn serve(target: &Target) -> Server {
    let mut cmd = mamori(target, &["serve", "--demo", "--listen", "127.0.0.1:0"]);
    cmd.env("RUST_LOG", "info");
    support::start(cmd, target.label())
}

async fn healthz(client: &reqwest::Client, url: &str) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.get(format!("{url}/healthz")).send().await {
            Ok(r) if r.status().is_success() || Instant::now() > deadline => {
                return r.status().as_u16();
            }
            Err(e) if Instant::now() > deadline => panic!("healthz: {e}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The catalogue's model keys, as the API lists them.
async fn catalogue(client: &reqwest::Client, url: &str, token: &str) -> Vec<Value> {
    let response = client
        .get(format!("{url}/api/v1/catalogue"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /api/v1/catalogue");
    assert_eq!(response.status().as_u16(), 200, "GET /api/v1/catalogue");
    let models: Vec<Value> = response.json().await.expect("catalogue JSON");
    models.into_iter().map(|m| m["model"].clone()).collect()
}

/// The NVD id of record `n` of round `round`.
fn cve(round: usize, n: usize) -> String {
    format!("CVE-2099-{round}{n:05}")
}

/// An NVD API page of `RECORDS` synthetic advisories for `round`.
fn write_nvd_page(dir: &Path, round: usize) -> PathBuf {
    let vulnerabilities: Vec<Value> = (0..RECORDS)
        .map(|n| {
            json!({"cve": {
                "id": cve(round, n),
                "sourceIdentifier": "crash-test@mamori.example",
                "published": "2024-01-01T00:00:00.000",
                "lastModified": "2024-01-02T00:00:00.000",
                "vulnStatus": "Analyzed",
                "descriptions": [{"lang": "en", "value": format!("Synthetic crash-test advisory {n} of round {round}.")}],
                "metrics": {},
                "references": [{"url": format!("https://crash.mamori.example/{round}/{n}"), "source": "crash-test"}]
            }})
        })
        .collect();
    let page = json!({
        "resultsPerPage": RECORDS, "startIndex": 0, "totalResults": RECORDS,
        "format": "NVD_CVE", "version": "2.0", "timestamp": "2024-01-02T00:00:00.000",
        "vulnerabilities": vulnerabilities,
    });
    let path = dir.join(format!("crash-round-{round}.json"));
    std::fs::write(&path, serde_json::to_vec(&page).expect("page JSON")).expect("write page");
    path
}

/// What one writer saw: the keys the server acknowledged, any answer that
/// was not a success, and when and how the connection failed.
#[derive(Default)]
struct Written {
    acknowledged: Vec<String>,
    refused: Vec<String>,
    cut: Option<(Instant, String)>,
}

/// Saves catalogue models with unique keys until the server stops answering.
async fn writer(url: String, token: String, template: Value, round: usize, w: usize) -> Written {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut written = Written::default();
    for n in 0.. {
        let key = format!("CRASH-{round}-{w}-{n}");
        let mut model = template.clone();
        model["key"] = json!(key);
        model["model"] = json!(key);
        let sent = client
            .put(format!("{url}/api/v1/catalogue/{key}"))
            .bearer_auth(&token)
            .json(&model)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => written.acknowledged.push(key),
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                written.refused.push(format!("{key}: {status} {body}"));
            }
            // Killed: the connection is refused or cut.
            Err(e) => {
                written.cut = Some((Instant::now(), format!("{key}: {e}")));
                break;
            }
        }
    }
    written
}

/// One round: load, SIGKILL after `delay`, restart, check.
struct Round {
    acknowledged: usize,
    batches: usize,
    import: &'static str,
}

#[allow(clippy::too_many_arguments)]
async fn crash_round(
    target: &Target,
    server: &mut Server,
    token: &str,
    template: &Value,
    dir: &Path,
    round: usize,
    delay: Duration,
) -> Round {
    let label = target.label();
    let file = write_nvd_page(dir, round);
    let url = server.url.clone();

    // `--format nvd` streams the file: batches are stored while it is read.
    let path = file.display().to_string();
    let log_path = dir.join(format!("import-{label}-{round}.log"));
    let log = std::fs::File::create(&log_path).expect("import log");
    let mut import = Killed(
        mamori(
            target,
            &[
                "advisories",
                "import",
                "--no-match",
                "--format",
                "nvd",
                &path,
            ],
        )
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the import"),
    );
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (url, token, template) = (url.clone(), token.to_string(), template.clone());
            tokio::spawn(writer(url, token, template, round, w))
        })
        .collect();

    tokio::time::sleep(delay).await;
    let import_exit = import.0.try_wait().expect("import status");
    let killed_at = Instant::now();
    server.process.kill();
    import.kill();

    let mut acknowledged = BTreeSet::new();
    let mut refused = Vec::new();
    for w in writers {
        let written = w.await.expect("writer task");
        acknowledged.extend(written.acknowledged);
        refused.extend(written.refused);
        match written.cut {
            Some((at, _)) if at >= killed_at => {}
            Some((_, error)) => refused.push(format!("cut before the kill: {error}")),
            None => refused.push("a writer stopped without an error".into()),
        }
    }
    assert!(
        refused.is_empty(),
        "{label}, round {round}: the server refused writes before it was killed: {refused:?}"
    );

    // The database opens: the server starts and answers.
    *server = serve(target);
    let client = reqwest::Client::new();
    assert_eq!(
        healthz(&client, &server.url).await,
        200,
        "{label}, round {round}"
    );

    // Every acknowledged write is there.
    let present: BTreeSet<String> = catalogue(&client, &server.url, token)
        .await
        .iter()
        .filter_map(|m| m["key"].as_str().map(str::to_string))
        .collect();
    let lost: Vec<_> = acknowledged.difference(&present).collect();
    assert!(
        lost.is_empty(),
        "{label}, round {round}: {} of {} acknowledged writes lost after the crash: {lost:?}",
        lost.len(),
        acknowledged.len()
    );

    // The import holds whole batches, in file order, each with its audit record.
    let store = target.store().await;
    let prefix = format!("CVE-2099-{round}");
    let mut stored: Vec<String> = store
        .advisories()
        .await
        .expect("stored advisories")
        .into_iter()
        .map(|a| a.id)
        .filter(|id| id.starts_with(&prefix))
        .collect();
    stored.sort();
    let expected: Vec<String> = (0..stored.len()).map(|n| cve(round, n)).collect();
    assert_eq!(
        stored.len() % BATCH,
        0,
        "{label}, round {round}: {} advisories stored, not whole batches of {BATCH}",
        stored.len()
    );
    assert!(
        stored == expected,
        "{label}, round {round}: the stored advisories are not the file's first records"
    );
    let filter = AuditFilter {
        action: Some("advisories.imported".into()),
        limit: 10_000,
        ..AuditFilter::default()
    };
    let target_name = format!("advisories:{}", file.display());
    let audited: Vec<String> = store
        .audit_page(None, &filter)
        .await
        .expect("audit records")
        .records
        .into_iter()
        .filter(|r| r.content.target == target_name)
        .map(|r| r.content.detail)
        .collect();
    let batches = stored.len() / BATCH;
    assert_eq!(
        audited.len(),
        batches,
        "{label}, round {round}: {batches} batches stored, audited: {audited:?}"
    );
    assert!(
        audited
            .iter()
            .all(|d| d == &format!("{BATCH} new, 0 updated, 0 unchanged")),
        "{label}, round {round}: {audited:?}"
    );
    if let Target::DataDir(_) = target {
        store.close().await;
    }
    let import = match import_exit {
        Some(status) => {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            assert!(
                status.success(),
                "{label}, round {round}: import {status}: {log}"
            );
            assert_eq!(stored.len(), RECORDS, "{label}, round {round}");
            "finished before the kill"
        }
        None if batches == 0 => "killed before its first batch",
        None => "killed mid-way",
    };

    // The audit chain is intact.
    let (code, out, err) = run(mamori(target, &["audit", "verify"]));
    assert_eq!(code, 0, "{label}, round {round}: audit verify: {out}{err}");

    Round {
        acknowledged: acknowledged.len(),
        batches,
        import,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_writes_and_an_import_loses_nothing_acknowledged() {
    let mut targets = vec![Target::DataDir(tempfile::tempdir().expect("temp dir"))];
    match testing::postgres().await {
        Some(pg) => targets.push(Target::Url(pg)),
        None => eprintln!(
            "note: {} is not set: crash safety on PostgreSQL was not tested",
            testing::TEST_DATABASE_ENV
        ),
    }
    let files = tempfile::tempdir().expect("temp dir");
    for target in targets {
        let label = target.label();
        let mut server = serve(&target);
        let client = reqwest::Client::new();
        assert_eq!(healthz(&client, &server.url).await, 200, "{label}");

        let (code, out, err) = run(mamori(
            &target,
            &[
                "token",
                "create",
                "--email",
                "secretariat@demo.mamori.example",
            ],
        ));
        assert_eq!(code, 0, "{label}: token create: {out}{err}");
        let token = out.lines().last().expect("the token").trim().to_string();
        let template = catalogue(&client, &server.url, &token)
            .await
            .into_iter()
            .next()
            .expect("the demo catalogue has a model");

        let mut acknowledged = 0;
        for (i, ms) in KILL_AFTER_MS.iter().enumerate() {
            let round = i + 1;
            let delay = Duration::from_millis(*ms);
            let dir = files.path();
            let r = crash_round(&target, &mut server, &token, &template, dir, round, delay).await;
            println!(
                "crash safety: {label}: kill {round} after {ms} ms: {} acknowledged writes present, import {} ({} of {} batches)",
                r.acknowledged,
                r.import,
                r.batches,
                RECORDS / BATCH
            );
            acknowledged += r.acknowledged;
        }
        drop(server);
        println!(
            "crash safety: {label}: {} kills survived, {acknowledged} acknowledged writes all present, import batches whole",
            KILL_AFTER_MS.len(),
        );
        if let Target::Url(db) = target {
            db.finish().await;
        }
    }
}
