//! `mamori advisories import` and `mamori advisories match` as operators
//! run them: the real binary on the advisories crate's fixtures, on a
//! temporary data directory (SQLite) and, when `MAMORI_TEST_DATABASE_URL`
//! is set, on a fresh PostgreSQL schema.

use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::testing;
use mamori_store::{AuditContext, Store};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod support;

use support::{BIN, Target, targets};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn on(target: &Target, args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    for var in ["DATABASE_URL", "MAMORI_DATA_DIR"] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .args(args)
        .args(target.args());
    let output = cmd.output().expect("mamori ran");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn fixtures(kind: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../advisories/tests/fixtures")
        .join(kind)
        .display()
        .to_string()
}

/// The number after `label:` on the summary line that starts with it.
fn count(text: &str, label: &str) -> usize {
    let line = text
        .lines()
        .find(|l| l.contains(&format!("/ {label}:")))
        .unwrap_or_else(|| panic!("no `{label}` line in\n{text}"));
    line.rsplit(": ")
        .next()
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count on `{line}`"))
}

const INVENTORY: &str = "\u{feff}hospital,asset,cpe,vendor,product,version,model
架空市民病院,FortiGate 本館,cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*,,,,
架空市民病院,FortiGate 別館,cpe:2.3:o:fortinet:fortios:7.0.14:*:*:*:*:*:*:*,,,,
架空市民病院,PACS 閲覧,,Philips,Vue Motion,12.2.1.5,
架空市民病院,壊れた CPE,cpe:2.3:o:fortinet,,,,
架空市民病院,名前なし,,,,1.0,
";

#[tokio::test(flavor = "multi_thread")]
async fn import_fixtures_then_match_an_inventory() {
    let folders: Vec<String> = ["nvd", "csaf", "kev", "jvn"]
        .iter()
        .map(|k| fixtures(k))
        .collect();
    let work = tempfile::tempdir().expect("temp dir");
    let inventory: PathBuf = work.path().join("inventory.csv");
    std::fs::write(&inventory, INVENTORY).expect("write inventory");
    let inventory = inventory.display().to_string();

    for target in targets().await {
        let label = target.label();
        let mut args = vec!["advisories", "import"];
        args.extend(folders.iter().map(String::as_str));
        let first = on(&target, &args);
        assert_eq!(first.code, 0, "{label}: {first:?}");
        let out = &first.stdout;
        let new = count(out, "new");
        assert!(new > 10, "{label}: {first:?}");
        let records = count(out, "records read");
        // Some records come in two files (an NVD page and the single
        // record, KEV JSON and CSV): the second copy is unchanged or updated.
        assert_eq!(
            count(out, "updated") + count(out, "unchanged") + new,
            records,
            "{label}: {first:?}"
        );
        assert!(count(out, "rejected") >= 4, "{label}: {first:?}");
        // Each malformed fixture is named with where it breaks.
        for expected in [
            "page-with-malformed.json: $.vulnerabilities[",
            "CVE-2024-2652.malformed-id.json: $",
            "malformed-siemens-ssa-426509.json: $",
            "malformed-kev-cut.json: $.vulnerabilities[",
            "LICENSE.vuls-data-update.Apache-2.0.txt: unknown format",
        ] {
            assert!(out.contains(expected), "{label}: `{expected}` in {first:?}");
        }

        let second = on(&target, &args);
        assert_eq!(second.code, 0, "{label}: {second:?}");
        assert_eq!(count(&second.stdout, "new"), 0, "{label}: {second:?}");
        assert_eq!(count(&second.stdout, "records read"), records);
        // Only a record whose two files differ is replaced again.
        let updated = count(&second.stdout, "updated");
        assert!(updated <= 2, "{label}: {second:?}");
        assert_eq!(
            count(&second.stdout, "unchanged") + updated,
            records,
            "{label}: {second:?}"
        );

        // JSON: the matches as objects.
        let json = on(
            &target,
            &[
                "advisories",
                "match",
                "--inventory",
                &inventory,
                "--format",
                "json",
            ],
        );
        assert_eq!(json.code, 0, "{label}: {json:?}");
        assert!(
            json.stderr.contains("row 4 (line 5): cpe:"),
            "{label}: {json:?}"
        );
        assert!(json.stderr.contains("row 5 (line 6)"), "{label}: {json:?}");
        let matches: Vec<Value> = serde_json::from_str(&json.stdout).expect("a JSON array");
        let found = |asset: &str, advisory: &str| {
            matches
                .iter()
                .find(|m| m["asset"] == asset && m["advisory"] == advisory)
        };
        let fortigate = found("FortiGate 本館", "CVE-2024-21762")
            .unwrap_or_else(|| panic!("{label}: FortiOS 7.0.12 in {json:?}"));
        assert_eq!(fortigate["source"], "nvd");
        assert_eq!(fortigate["method"], "cpe-range");
        assert_eq!(fortigate["confidence"], "high");
        assert_eq!(fortigate["needs_confirmation"], false);
        assert_eq!(fortigate["hospital"], "架空市民病院");
        assert_eq!(fortigate["cves"], serde_json::json!(["CVE-2024-21762"]));
        // 7.0.14 is the first fixed build: NVD's range does not hold it.
        assert!(
            !matches.iter().any(|m| m["asset"] == "FortiGate 別館"
                && m["source"] == "nvd"
                && m["advisory"] == "CVE-2024-21762"),
            "{label}: {json:?}"
        );
        let pacs = matches
            .iter()
            .find(|m| {
                m["asset"] == "PACS 閲覧"
                    && m["advisory"]
                        .as_str()
                        .is_some_and(|a| a.eq_ignore_ascii_case("ICSMA-21-187-01"))
            })
            .unwrap_or_else(|| panic!("{label}: Vue Motion in {json:?}"));
        assert_eq!(pacs["source"], "csaf");
        for m in &matches {
            for key in [
                "hospital",
                "asset",
                "advisory",
                "source",
                "cves",
                "method",
                "confidence",
                "needs_confirmation",
                "criterion",
                "note",
            ] {
                assert!(m.get(key).is_some(), "{label}: {key} in {m}");
            }
        }

        // CSV: a header, then one line per match.
        let csv = on(
            &target,
            &[
                "advisories",
                "match",
                "--inventory",
                &inventory,
                "--format",
                "csv",
            ],
        );
        assert_eq!(csv.code, 0, "{label}: {csv:?}");
        let mut lines = csv.stdout.lines();
        assert_eq!(
            lines.next(),
            Some(
                "hospital,asset,advisory,source,cves,method,confidence,needs_confirmation,criterion,note"
            ),
            "{label}: {csv:?}"
        );
        assert_eq!(lines.count(), matches.len(), "{label}: {csv:?}");

        // The table names the columns and the match.
        let table = on(&target, &["advisories", "match", "--inventory", &inventory]);
        assert_eq!(table.code, 0, "{label}: {table:?}");
        assert!(table.stdout.contains("hospital"), "{label}: {table:?}");
        assert!(
            table
                .stdout
                .lines()
                .any(|l| l.contains("FortiGate 本館") && l.contains("cpe-range")),
            "{label}: {table:?}"
        );

        // Since a date after every fixture: nothing to match.
        let later = on(
            &target,
            &[
                "advisories",
                "match",
                "--inventory",
                &inventory,
                "--format",
                "json",
                "--since",
                "2099-01-01",
            ],
        );
        assert_eq!(later.code, 0, "{label}: {later:?}");
        assert_eq!(later.stdout.trim(), "[]", "{label}: {later:?}");
        target.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_file_failing_is_an_error_and_no_ledger_has_no_matches() {
    let work = tempfile::tempdir().expect("temp dir");
    let junk = work.path().join("notes.txt");
    std::fs::write(&junk, "not an advisory\n").expect("write");
    let junk = junk.display().to_string();
    let missing = work.path().join("missing.json").display().to_string();
    for target in targets().await {
        let label = target.label();
        let failed = on(&target, &["advisories", "import", &junk, &missing]);
        assert_ne!(failed.code, 0, "{label}: {failed:?}");
        assert!(
            failed.stdout.contains("notes.txt: unknown format"),
            "{label}: {failed:?}"
        );
        assert!(
            failed.stdout.contains("missing.json: cannot read"),
            "{label}: {failed:?}"
        );
        assert!(failed.stderr.contains("エラー:"), "{label}: {failed:?}");
        assert!(
            failed.stderr.contains("no file could be read"),
            "{label}: {failed:?}"
        );

        // A re-match on a database without ledgers matches nothing.
        let rematch = on(&target, &["advisories", "rematch"]);
        assert_eq!(rematch.code, 0, "{label}: {rematch:?}");
        assert!(
            rematch.stdout.contains("0 assets, 0 new"),
            "{label}: {rematch:?}"
        );

        // Without --inventory: the recorded matches, none here.
        let recorded = on(&target, &["advisories", "match"]);
        assert_eq!(recorded.code, 0, "{label}: {recorded:?}");
        assert!(
            recorded.stdout.contains("no matches"),
            "{label}: {recorded:?}"
        );

        let bad_date = on(
            &target,
            &[
                "advisories",
                "match",
                "--inventory",
                &junk,
                "--since",
                "yesterday",
            ],
        );
        assert_eq!(bad_date.code, 2, "{label}: {bad_date:?}");
        assert!(bad_date.stderr.contains("--since"), "{label}: {bad_date:?}");
        target.finish().await;
    }
}

fn nvd_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../advisories/tests/fixtures/nvd/CVE-2024-21762.json")
}

/// 湖畔病院, surveyed by 調査A社, with a ledger holding a FortiGate on
/// FortiOS 7.0.12 (in the range of CVE-2024-21762).
async fn hospital_with_a_fortigate(store: &Store) -> mamori_domain::OrgId {
    use mamori_domain::ledger::{Asset, Cells, Ledger, RowRecord};
    let company = testing::add_org(store, OrgKind::SurveyCompany, "調査A社").await;
    let surveyor = testing::add_account(store, company, "a@example.jp", Role::Member).await;
    let ctx = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
    let programme = testing::add_programme(store, "令和8年度 調査").await;
    let lake = testing::add_org(store, OrgKind::Hospital, "湖畔病院").await;
    testing::add_engagement(store, programme, lake, company, EngagementState::Surveying).await;
    let map: std::collections::BTreeMap<String, String> = [
        ("key", "FW-01"),
        ("kind", "VPN装置"),
        ("name", "保守用VPN"),
        ("vendor", "Fortinet"),
        ("product", "FortiGate"),
        ("version", "7.0.12"),
        ("cpes", "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let asset = Asset::from_cells(&Cells::from_map::<Asset>(&map)).expect("a valid asset");
    let grant = store
        .authorize(&ctx, lake, HospitalData::Ledger, Access::Write)
        .await
        .expect("ledger grant");
    let ledger = Ledger {
        assets: vec![asset],
        ..Default::default()
    };
    store
        .import_ledger(&ctx, &grant, &ledger, mamori_store::ChangeSource::Import)
        .await
        .expect("ledger");
    lake
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_matches_the_ledgers_and_match_reads_the_recorded_cases() {
    let fixture = nvd_fixture().display().to_string();
    for target in targets().await {
        let label = target.label();
        let store = target.store().await;
        store.migrate().await.expect("migrate");
        let lake = hospital_with_a_fortigate(&store).await;
        if matches!(target, Target::DataDir(_)) {
            store.close().await;
        }

        let import = on(&target, &["advisories", "import", &fixture]);
        assert_eq!(import.code, 0, "{label}: {import:?}");
        assert!(
            import
                .stdout
                .contains("/ 1 new cases, 0 awaiting an analyst's confirmation"),
            "{label}: {import:?}"
        );
        assert!(
            import.stdout.contains("分析者の確認待ち"),
            "{label}: {import:?}"
        );

        // Imported again: nothing changed, nothing to match.
        let again = on(&target, &["advisories", "import", &fixture]);
        assert_eq!(again.code, 0, "{label}: {again:?}");
        assert!(again.stdout.contains("/ 0 new cases"), "{label}: {again:?}");
        let unmatched = on(&target, &["advisories", "import", "--no-match", &fixture]);
        assert_eq!(unmatched.code, 0, "{label}: {unmatched:?}");
        assert!(
            unmatched.stdout.contains("not matched (--no-match)"),
            "{label}: {unmatched:?}"
        );

        let json = on(
            &target,
            &[
                "advisories",
                "match",
                "--hospital",
                "湖畔病院",
                "--format",
                "json",
            ],
        );
        assert_eq!(json.code, 0, "{label}: {json:?}");
        let matches: Vec<Value> = serde_json::from_str(&json.stdout).expect("a JSON array");
        assert_eq!(matches.len(), 1, "{label}: {json:?}");
        let m = &matches[0];
        assert_eq!(m["hospital"], "湖畔病院", "{label}: {m}");
        assert_eq!(m["advisory"], "CVE-2024-21762", "{label}: {m}");
        assert_eq!(
            m["cves"],
            serde_json::json!(["CVE-2024-21762"]),
            "{label}: {m}"
        );
        assert_eq!(m["method"], "cpe-range", "{label}: {m}");
        assert_eq!(m["confidence"], "high", "{label}: {m}");
        assert_eq!(m["needs_confirmation"], false, "{label}: {m}");
        for key in ["asset", "state", "review", "due_on", "kev", "source"] {
            assert!(m.get(key).is_some(), "{label}: {key} in {m}");
        }

        // By id too; the table names the columns.
        let by_id = on(
            &target,
            &["advisories", "match", "--hospital", &lake.to_string()],
        );
        assert_eq!(by_id.code, 0, "{label}: {by_id:?}");
        assert!(by_id.stdout.contains("state"), "{label}: {by_id:?}");
        assert!(
            by_id
                .stdout
                .lines()
                .any(|l| l.contains("湖畔病院") && l.contains("CVE-2024-21762")),
            "{label}: {by_id:?}"
        );
        let csv = on(&target, &["advisories", "match", "--format", "csv"]);
        assert_eq!(csv.code, 0, "{label}: {csv:?}");
        assert_eq!(csv.stdout.lines().count(), 2, "{label}: {csv:?}");

        let unknown = on(&target, &["advisories", "match", "--hospital", "不明病院"]);
        assert_ne!(unknown.code, 0, "{label}: {unknown:?}");
        assert!(unknown.stderr.contains("不明病院"), "{label}: {unknown:?}");
        let company = on(&target, &["advisories", "match", "--hospital", "調査A社"]);
        assert_ne!(company.code, 0, "{label}: {company:?}");
        assert!(
            company.stderr.contains("not a hospital"),
            "{label}: {company:?}"
        );

        let later = on(
            &target,
            &[
                "advisories",
                "match",
                "--since",
                "2099-01-01",
                "--format",
                "json",
            ],
        );
        assert_eq!(later.code, 0, "{label}: {later:?}");
        assert_eq!(later.stdout.trim(), "[]", "{label}: {later:?}");
        let earlier = on(
            &target,
            &[
                "advisories",
                "match",
                "--since",
                "2000-01-01",
                "--format",
                "json",
            ],
        );
        let earlier_matches: Vec<Value> =
            serde_json::from_str(&earlier.stdout).expect("a JSON array");
        assert_eq!(earlier_matches.len(), 1, "{label}: {earlier:?}");
        let bad = on(&target, &["advisories", "match", "--since", "2024-13-01"]);
        assert_eq!(bad.code, 2, "{label}: {bad:?}");
        assert!(
            bad.stderr.contains("--since: `2024-13-01`"),
            "{label}: {bad:?}"
        );
        target.finish().await;
    }
}

/// `mamori serve`, killed when the test ends however it ends.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    fn start(target: &Target, inbox: &Path) -> Server {
        let mut cmd = Command::new(BIN);
        for var in ["DATABASE_URL", "MAMORI_DATA_DIR", "MAMORI_SMTP_URL"] {
            cmd.env_remove(var);
        }
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--advisory-inbox"])
            .arg(inbox)
            .args(target.args())
            .env("MAMORI_ADVISORY_INBOX_EVERY_SECS", "1")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start mamori serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for the "listening on" line.
    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let listening = line.contains("http://");
                    self.seen.push(line);
                    if listening {
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!("server exited with {status}: {:?}", self.seen);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("server closed its output: {:?}", self.seen)
                }
            }
        }
        panic!("server did not start: {:?}", self.seen);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The names in `dir` (files only), sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_imports_the_files_put_in_its_advisory_inbox() {
    let work = tempfile::tempdir().expect("temp dir");
    let inventory = work.path().join("inventory.csv");
    std::fs::write(&inventory, INVENTORY).expect("write inventory");
    let inventory = inventory.display().to_string();
    for target in targets().await {
        let label = target.label();
        let inbox = tempfile::tempdir().expect("inbox");
        let dir = inbox.path();
        let mut server = Server::start(&target, dir);
        server.wait_until_listening();
        std::fs::copy(nvd_fixture(), dir.join("CVE-2024-21762.json")).expect("copy the fixture");
        std::fs::write(dir.join("garbage.txt"), "not an advisory\n").expect("write");
        std::fs::write(dir.join(".partial.json"), "{").expect("write");

        let deadline = Instant::now() + Duration::from_secs(20);
        let (done, failed) = loop {
            let done = names(&dir.join("done"));
            let failed = names(&dir.join("failed"));
            let finished = done.iter().any(|n| n.ends_with("-CVE-2024-21762.json"))
                && failed.iter().any(|n| n.ends_with("-garbage.txt.error.txt"));
            if finished {
                break (done, failed);
            }
            assert!(
                Instant::now() < deadline,
                "{label}: inbox not processed: done {done:?}, failed {failed:?}, left {:?}",
                names(dir)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(
            done.len(),
            1,
            "{label}: no report for a good file: {done:?}"
        );
        assert_eq!(failed.len(), 2, "{label}: {failed:?}");
        assert!(
            failed.iter().any(|n| n.ends_with("-garbage.txt")),
            "{label}: {failed:?}"
        );
        let error = failed
            .iter()
            .find(|n| n.ends_with(".error.txt"))
            .map(|n| std::fs::read_to_string(dir.join("failed").join(n)).expect("read"))
            .unwrap_or_default();
        assert!(error.contains("unknown format"), "{label}: {error}");
        assert_eq!(names(dir), [".partial.json"], "{label}: dotfiles stay");
        assert!(names(&dir.join("processing")).is_empty(), "{label}");

        // The advisory is stored: the inventory's FortiGate matches it.
        let json = on(
            &target,
            &[
                "advisories",
                "match",
                "--inventory",
                &inventory,
                "--format",
                "json",
            ],
        );
        assert_eq!(json.code, 0, "{label}: {json:?}");
        let matches: Vec<Value> = serde_json::from_str(&json.stdout).expect("a JSON array");
        assert!(
            matches
                .iter()
                .any(|m| m["asset"] == "FortiGate 本館" && m["advisory"] == "CVE-2024-21762"),
            "{label}: {json:?}"
        );
        drop(server);
        target.finish().await;
    }
}
