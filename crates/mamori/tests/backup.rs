//! `mamori backup` and `mamori restore`, run for real: a demo data
//! directory is backed up while its store is still open (as a running
//! server would hold it), restored into a new directory and compared with
//! the original; refusals leave everything as it was.

use mamori::demo;
use mamori_store::Store;
use mamori_store::backup::{Inventory, sha256_hex};
use mamori_store::testing;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mamori");

/// The binary with none of the operator's settings leaking in.
fn mamori(args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    for var in ["DATABASE_URL", "MAMORI_DATA_DIR"] {
        cmd.env_remove(var);
    }
    let output = cmd
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("mamori ran");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
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

fn text(path: &Path) -> String {
    path.display().to_string()
}

/// Every entry of a zip archive, by name.
fn entries(archive: &Path) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(archive).expect("archive");
    let mut zip = zip::ZipArchive::new(file).expect("a zip archive");
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).expect("entry");
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read entry");
            (entry.name().expect("entry name").to_string(), data)
        })
        .collect()
}

fn write_entries(archive: &Path, entries: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(archive).expect("create archive");
    let mut zip = zip::ZipWriter::new(file);
    for (name, data) in entries {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .expect("start entry");
        zip.write_all(data).expect("write entry");
    }
    zip.finish().expect("finish archive");
}

fn entry<'a>(entries: &'a mut [(String, Vec<u8>)], name: &str) -> &'a mut Vec<u8> {
    &mut entries
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} in the archive"))
        .1
}

/// The names in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Replaces every occurrence of `needle` in `haystack` by same-length bytes.
fn scribble(haystack: &mut [u8], needle: &[u8]) -> usize {
    let mut hits = 0;
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if haystack[i..i + needle.len()] == *needle {
            for byte in &mut haystack[i..i + needle.len()] {
                *byte = b'#';
            }
            hits += 1;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    hits
}

async fn inventory_of(dir: &Path) -> Inventory {
    let store = Store::open_data_dir(dir).await.expect("open data dir");
    let inventory = store.inventory().await.expect("inventory");
    store.close().await;
    inventory
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restores_into_an_empty_directory_as_it_was() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let store = Store::open_data_dir(&data).await.expect("open");
    store.migrate().await.expect("migrate");
    demo::seed_demo(&store).await.expect("demo");
    // Any command that opens the data directory makes its secret key
    // (which seals TOTP secrets), readable by its owner only.
    let opened = mamori(&["audit", "verify", "--data-dir", &text(&data)]);
    assert_eq!(opened.code, 0, "{opened:?}");
    let key = std::fs::read(data.join("secret.key")).expect("secret.key made");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Online: the store stays open, as a running server would hold it.
    let archive = root.path().join("mamori-backup.zip");
    let backup = mamori(&["backup", &text(&archive), "--data-dir", &text(&data)]);
    assert_eq!(backup.code, 0, "{backup:?}");
    assert!(backup.stdout.contains("バックアップ"), "{backup:?}");
    assert!(backup.stdout.contains("backup written to"), "{backup:?}");
    let original = store.inventory().await.expect("inventory");
    store.close().await;
    assert!(
        !original.files.is_empty(),
        "the demo stores at least one file"
    );
    assert!(original.tables.len() > 10, "{:?}", original.tables);

    // The archive: manifest and database.
    let packed = entries(&archive);
    let names: Vec<&str> = packed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["manifest.json", "secret.key", "mamori.db"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&packed[0].1).expect("manifest is JSON");
    assert_eq!(manifest["secret_key"], true);
    assert_eq!(packed[1].1, key);
    assert_eq!(manifest["backend"], "sqlite");
    assert_eq!(manifest["mamori_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["schema_version"], original.schema_version);
    assert!(manifest["created_at"].as_str().is_some(), "{manifest}");
    assert_eq!(manifest["database"]["sha256"], sha256_hex(&packed[2].1));
    for (table, rows) in &original.tables {
        assert_eq!(manifest["tables"][table], *rows, "{table}");
    }
    let listed = manifest["files"].as_array().expect("files");
    assert_eq!(listed.len(), original.files.len());
    for (file, listed) in original.files.iter().zip(listed) {
        assert_eq!(listed["id"], file.id);
        assert_eq!(listed["sha256"], file.sha256);
    }

    // An existing archive is not overwritten without --force.
    let before = std::fs::read(&archive).expect("archive bytes");
    let again = mamori(&["backup", &text(&archive), "--data-dir", &text(&data)]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("--force"), "{again:?}");
    assert!(again.stderr.contains(&text(&archive)), "{again:?}");
    assert_eq!(std::fs::read(&archive).expect("archive bytes"), before);
    let forced = mamori(&[
        "backup",
        &text(&archive),
        "--force",
        "--data-dir",
        &text(&data),
    ]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(
        !listing(root.path()).iter().any(|n| n.contains(".partial")),
        "{:?}",
        listing(root.path())
    );

    // Restore into a new directory and compare.
    let restored = root.path().join("restored");
    let restore = mamori(&["restore", &text(&archive), "--data-dir", &text(&restored)]);
    assert_eq!(restore.code, 0, "{restore:?}");
    let mut lines = restore.stdout.lines();
    assert!(
        lines.next().unwrap_or("").contains("復元しました"),
        "{restore:?}"
    );
    assert!(
        lines.next().unwrap_or("").starts_with("restored"),
        "{restore:?}"
    );
    let copy = inventory_of(&restored).await;
    assert_eq!(copy.schema_version, original.schema_version);
    assert_eq!(copy.tables, original.tables, "row counts of every table");
    assert_eq!(copy.files, original.files, "every stored file's SHA-256");
    for file in &copy.files {
        assert_eq!(file.sha256, file.recorded_sha256, "file {}", file.id);
    }
    assert_eq!(
        std::fs::read(restored.join("secret.key")).expect("the key is restored"),
        key
    );
    let verify = mamori(&["audit", "verify", "--data-dir", &text(&restored)]);
    assert_eq!(verify.code, 0, "{verify:?}");
    assert!(verify.stdout.starts_with("OK"), "{verify:?}");

    // Not into a directory that holds anything: nothing changes.
    let busy = root.path().join("busy");
    std::fs::create_dir(&busy).expect("mkdir");
    std::fs::write(busy.join("notes.txt"), b"keep me").expect("write");
    let refused = mamori(&["restore", &text(&archive), "--data-dir", &text(&busy)]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains(&text(&busy)), "{refused:?}");
    assert!(refused.stderr.contains("not empty"), "{refused:?}");
    assert_eq!(listing(&busy), ["notes.txt"]);
    assert_eq!(
        std::fs::read(busy.join("notes.txt")).expect("read"),
        b"keep me"
    );
    // The restored directory is not empty any more either.
    let twice = mamori(&["restore", &text(&archive), "--data-dir", &text(&restored)]);
    assert_eq!(twice.code, 1, "{twice:?}");

    // A changed database copy is refused, naming it; nothing is left behind.
    let mut tampered = entries(&archive);
    let db = entry(&mut tampered, "mamori.db");
    let middle = db.len() / 2;
    db[middle] ^= 0xff;
    let bad = root.path().join("tampered.zip");
    write_entries(&bad, &tampered);
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let refused = mamori(&["restore", &text(&bad), "--data-dir", &text(&empty)]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("mamori.db"), "{refused:?}");
    assert!(refused.stderr.contains("SHA-256"), "{refused:?}");
    assert!(listing(&empty).is_empty(), "{:?}", listing(&empty));
    let absent = root.path().join("new").join("data");
    let refused = mamori(&["restore", &text(&bad), "--data-dir", &text(&absent)]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        !root.path().join("new").exists(),
        "created parents are removed"
    );

    // One stored file's bytes changed inside a copy whose own checksum was
    // brought up to date: refused, naming the file.
    let mut tampered = entries(&archive);
    let file = &original.files[0];
    let db = entry(&mut tampered, "mamori.db");
    let demo_text = "調査協力施設の役割".as_bytes();
    assert!(scribble(db, demo_text) > 0, "the demo document's text");
    let new_sha = sha256_hex(db);
    let manifest = entry(&mut tampered, "manifest.json");
    let mut json: serde_json::Value = serde_json::from_slice(manifest).expect("json");
    json["database"]["sha256"] = new_sha.into();
    *manifest = serde_json::to_vec(&json).expect("json");
    write_entries(&bad, &tampered);
    let refused = mamori(&["restore", &text(&bad), "--data-dir", &text(&empty)]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains(&format!("file {} ({})", file.id, file.name)),
        "{refused:?}"
    );
    assert!(listing(&empty).is_empty(), "{:?}", listing(&empty));
    assert!(
        !listing(root.path())
            .iter()
            .any(|n| n.contains(".restoring")),
        "{:?}",
        listing(root.path())
    );

    // A manifest with a wrong row count: refused, naming the table.
    let mut tampered = entries(&archive);
    let manifest = entry(&mut tampered, "manifest.json");
    let mut json: serde_json::Value = serde_json::from_slice(manifest).expect("json");
    let rows = json["tables"]["organisations"].as_i64().expect("count");
    json["tables"]["organisations"] = (rows + 1).into();
    *manifest = serde_json::to_vec(&json).expect("json");
    write_entries(&bad, &tampered);
    let refused = mamori(&["restore", &text(&bad), "--data-dir", &text(&empty)]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("table organisations"),
        "{refused:?}"
    );
    assert!(listing(&empty).is_empty(), "{:?}", listing(&empty));

    // No restoring into PostgreSQL.
    let refused = mamori(&[
        "restore",
        &text(&archive),
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
    ]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("pg_restore"), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_to_back_up_is_said_so() {
    let root = tempfile::tempdir().expect("temp dir");
    let archive: PathBuf = root.path().join("b.zip");
    let run = mamori(&[
        "backup",
        &text(&archive),
        "--data-dir",
        &text(&root.path().join("none")),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("mamori.db"), "{run:?}");
    assert!(!archive.exists());
    assert!(!root.path().join("none").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_backup_holds_the_files_and_says_how_to_dump_the_database() {
    let Some(pg) = testing::postgres().await else {
        return;
    };
    demo::seed_demo(&pg.store).await.expect("demo");
    let original = pg.store.inventory().await.expect("inventory");
    let root = tempfile::tempdir().expect("temp dir");
    let archive = root.path().join("pg.zip");
    let run = mamori(&["backup", &text(&archive), "--database-url", &pg.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("pg_dump --format=custom"), "{run:?}");
    assert!(run.stdout.contains("--schema=t_"), "{run:?}");
    let database = url::Url::parse(&pg.url)
        .expect("url")
        .path()
        .trim_start_matches('/')
        .to_string();
    let command = run
        .stdout
        .lines()
        .find(|l| l.contains("pg_dump --format"))
        .unwrap_or("");
    assert!(command.trim_end().ends_with(&database), "{run:?}");
    let packed = entries(&archive);
    let (_, manifest) = packed
        .iter()
        .find(|(n, _)| n == "manifest.json")
        .expect("manifest");
    let manifest: serde_json::Value = serde_json::from_slice(manifest).expect("json");
    assert_eq!(manifest["backend"], "postgres");
    assert!(manifest["database"].is_null());
    assert_eq!(
        manifest["tables"]["organisations"],
        original.tables["organisations"]
    );
    let listed = manifest["files"].as_array().expect("files");
    assert_eq!(listed.len(), original.files.len());
    assert!(!listed.is_empty());
    for listed in listed {
        let name = listed["entry"].as_str().expect("entry");
        let (_, data) = packed
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} in the archive"));
        assert_eq!(listed["sha256"], sha256_hex(data), "{name}");
    }
    // Such an archive is not restored into a data directory.
    let refused = mamori(&[
        "restore",
        &text(&archive),
        "--data-dir",
        &text(&root.path().join("data")),
    ]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("pg_restore"), "{refused:?}");
    assert!(!root.path().join("data").exists());
    pg.finish().await;
}
