//! `mamori advisories import` and `mamori advisories match` as operators
//! run them: the real binary on the advisories crate's fixtures, on a
//! temporary data directory (SQLite) and, when `MAMORI_TEST_DATABASE_URL`
//! is set, on a fresh PostgreSQL schema.

use mamori_store::testing::{self, TestDb};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mamori");

enum Target {
    DataDir(tempfile::TempDir),
    Url(TestDb),
}

impl Target {
    fn label(&self) -> &'static str {
        match self {
            Target::DataDir(_) => "data-dir",
            Target::Url(db) => db.label,
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Target::DataDir(dir) => vec![
                "--data-dir".into(),
                dir.path().join("data").display().to_string(),
            ],
            Target::Url(db) => vec!["--database-url".into(), db.url.clone()],
        }
    }

    async fn finish(self) {
        if let Target::Url(db) = self {
            db.finish().await;
        }
    }
}

async fn targets() -> Vec<Target> {
    let mut targets = vec![Target::DataDir(tempfile::tempdir().expect("temp dir"))];
    if let Some(pg) = testing::postgres().await {
        targets.push(Target::Url(pg));
    }
    targets
}

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
async fn every_file_failing_is_an_error_and_stored_ledgers_come_later() {
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

        let no_inventory = on(&target, &["advisories", "match"]);
        assert_ne!(no_inventory.code, 0, "{label}: {no_inventory:?}");
        assert!(
            no_inventory
                .stderr
                .contains("matching stored ledgers comes later"),
            "{label}: {no_inventory:?}"
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
