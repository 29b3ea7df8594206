//! `mamori backup FILE` and `mamori restore FILE`.
//!
//! A backup is one zip archive: `manifest.json` (versions, time, rows per
//! table, every stored file's SHA-256) and, for SQLite, `mamori.db`, a
//! consistent copy made with `VACUUM INTO` while the server may be running.
//! Stored files live in the database (`files`, `file_blobs`), so the copy
//! holds them; the manifest lists them so that a restore can check each one.
//! For PostgreSQL the archive holds the stored files (`files/<id>/<name>`)
//! and the manifest, and the database itself is dumped with `pg_dump`.
//!
//! A restore goes into an empty or absent data directory only, through a
//! staging directory beside it: nothing is left behind unless every check
//! passed.

use crate::cli::{BackupArgs, DatabaseArgs, RestoreArgs};
use crate::run::{CliError, Location, SECRET_KEY_FILE};
use mamori_store::backup::{self as store_backup, FileDigest, Inventory};
use mamori_store::{Backend, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;

/// The manifest's name in the archive.
pub const MANIFEST: &str = "manifest.json";
/// The SQLite database's name in the archive (and in the data directory).
pub const DATABASE_ENTRY: &str = "mamori.db";
const FORMAT: &str = "mamori-backup";
const FORMAT_VERSION: u32 = 1;

/// What `manifest.json` says about the backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub mamori_version: String,
    pub schema_version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The database copy in the archive (SQLite only).
    pub database: Option<ArchivedDatabase>,
    /// Rows per table.
    pub tables: BTreeMap<String, i64>,
    /// Every stored file.
    pub files: Vec<ManifestFile>,
    /// Whether the data directory's `secret.key` (which seals TOTP
    /// secrets) is in the archive; without it, restored accounts would
    /// have to enrol their second factor again.
    #[serde(default)]
    pub secret_key: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchivedDatabase {
    pub entry: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    pub id: i64,
    pub name: String,
    pub bytes: i64,
    pub sha256: String,
    /// Where the file's bytes are in the archive when they are there
    /// themselves (PostgreSQL); absent when they are inside `mamori.db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
}

fn failed(japanese: &'static str, detail: String) -> CliError {
    CliError::Failed { japanese, detail }
}

/// A directory that is removed again unless kept.
struct Staging {
    path: Option<PathBuf>,
}

impl Staging {
    fn create(path: PathBuf) -> Result<Staging, CliError> {
        // A leftover of an interrupted run with the same process id.
        if path.exists() {
            let _ = std::fs::remove_dir_all(&path);
        }
        std::fs::create_dir(&path).map_err(|e| {
            failed(
                "作業用ディレクトリを作れません",
                format!("cannot create {}: {e}", path.display()),
            )
        })?;
        Ok(Staging { path: Some(path) })
    }

    fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// The directory stays; the caller has moved it or its contents.
    fn keep(mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// `dir`'s parent, `.` for a bare name.
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mamori".to_string())
}

fn io_error(what: &Path, err: impl std::fmt::Display) -> CliError {
    CliError::Io(format!("{}: {err}", what.display()))
}

/// The stored file's place in a PostgreSQL backup.
fn file_entry(file: &FileDigest) -> String {
    let name: String = file
        .name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = match name.trim() {
        "" | "." | ".." => "file".to_string(),
        name => name.to_string(),
    };
    format!("files/{}/{name}", file.id)
}

fn manifest_for(
    backend: Backend,
    inventory: &Inventory,
    database: Option<ArchivedDatabase>,
) -> Manifest {
    let created_at = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let with_entries = backend == Backend::Postgres;
    Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        mamori_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: inventory.schema_version,
        created_at,
        backend: match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .to_string(),
        database,
        tables: inventory.tables.clone(),
        files: inventory
            .files
            .iter()
            .map(|f| ManifestFile {
                id: f.id,
                name: f.name.clone(),
                bytes: f.size_bytes,
                sha256: f.sha256.clone(),
                entry: with_entries.then(|| file_entry(f)),
            })
            .collect(),
        secret_key: false,
    }
}

fn zip_options() -> SimpleFileOptions {
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    // Entries carry the time of the backup (UTC), not zip's 1980 default.
    let now = time::OffsetDateTime::now_utc();
    match zip::DateTime::from_date_and_time(
        u16::try_from(now.year()).unwrap_or(1980),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
    ) {
        Ok(stamp) => options.last_modified_time(stamp),
        Err(_) => options,
    }
}

fn write_manifest<W: Write + std::io::Seek>(
    zip: &mut zip::ZipWriter<W>,
    manifest: &Manifest,
) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| e.to_string())?;
    zip.start_file(MANIFEST, zip_options())
        .map_err(|e| e.to_string())?;
    zip.write_all(&json).map_err(|e| e.to_string())
}

fn finish_zip(zip: zip::ZipWriter<BufWriter<File>>) -> Result<(), String> {
    let writer = zip.finish().map_err(|e| e.to_string())?;
    let file = writer.into_inner().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())
}

/// `mamori backup FILE`.
pub async fn backup(db: &DatabaseArgs, args: BackupArgs) -> Result<(), CliError> {
    let target = args.file;
    if target.as_os_str().is_empty() {
        return Err(CliError::Usage("FILE: must not be empty".into()));
    }
    if target.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is a directory; name the archive file to write",
            target.display()
        )));
    }
    if target.exists() && !args.force {
        return Err(failed(
            "バックアップ先のファイルがすでにあります（上書きするには --force）",
            format!(
                "{} already exists; nothing was written (use --force to overwrite it)",
                target.display()
            ),
        ));
    }
    let parent = parent_of(&target);
    if !parent.is_dir() {
        return Err(failed(
            "バックアップ先のフォルダがありません",
            format!("{}: no such directory", parent.display()),
        ));
    }
    let location = Location::from_args(db);
    if let Location::DataDir(dir) = &location
        && !dir.join(DATABASE_ENTRY).is_file()
    {
        return Err(failed(
            "データベースが見つかりません",
            format!(
                "{}: no database here, nothing to back up (MAMORI_DATA_DIR / --data-dir)",
                dir.join(DATABASE_ENTRY).display()
            ),
        ));
    }
    // No migration: a backup is what one takes before upgrading.
    let setting = location.setting();
    let opened = match &location {
        Location::Url(url) => Store::connect(url).await,
        Location::DataDir(dir) => Store::open_data_dir(dir).await,
    };
    let store = opened.map_err(|source| CliError::Database { setting, source })?;
    let staging = Staging::create(parent.join(format!(
        ".{}.partial-{}",
        file_name_of(&target),
        std::process::id()
    )));
    let staging = match staging {
        Ok(staging) => staging,
        Err(err) => {
            store.close().await;
            return Err(err);
        }
    };
    let archive = staging.path().join("archive.zip");
    let written = match store.backend() {
        Backend::Sqlite => {
            let key = match &location {
                Location::DataDir(dir) => Some(dir.join(SECRET_KEY_FILE)).filter(|k| k.is_file()),
                Location::Url(_) => None,
            };
            write_sqlite_backup(&store, staging.path(), &archive, key.as_deref()).await
        }
        Backend::Postgres => write_postgres_backup(&store, &archive).await,
    };
    store.close().await;
    let manifest = written?;
    if target.exists() && !args.force {
        return Err(failed(
            "バックアップ先のファイルがすでにあります（上書きするには --force）",
            format!(
                "{} appeared while the backup was written; nothing was written",
                target.display()
            ),
        ));
    }
    std::fs::rename(&archive, &target).map_err(|e| io_error(&target, e))?;
    drop(staging);
    let size = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    let rows: i64 = manifest.tables.values().sum();
    println!(
        "バックアップを書き出しました: {}（スキーマ版 {}、{} 表・{} 行、保存ファイル {} 件）",
        target.display(),
        manifest.schema_version,
        manifest.tables.len(),
        rows,
        manifest.files.len()
    );
    println!(
        "backup written to {}: schema version {}, {} tables with {} rows, {} stored files, {} bytes",
        target.display(),
        manifest.schema_version,
        manifest.tables.len(),
        rows,
        manifest.files.len(),
        size
    );
    if let Location::Url(url) = &location
        && manifest.backend == "postgres"
    {
        let command = pg_dump_command(url, &target.with_extension("dump"));
        println!(
            "このアーカイブには保存ファイルとマニフェストだけが入っています。データベース本体は pg_dump で別に保存してください（手順は README）:"
        );
        println!(
            "the archive holds the stored files and the manifest only: dump the database itself with pg_dump (see the README):"
        );
        println!("  {command}");
    }
    Ok(())
}

async fn write_sqlite_backup(
    store: &Store,
    staging: &Path,
    archive: &Path,
    secret_key: Option<&Path>,
) -> Result<Manifest, CliError> {
    let snapshot = staging.join(DATABASE_ENTRY);
    store.vacuum_into(&snapshot).await.map_err(|e| {
        failed(
            "データベースの複製に失敗しました",
            format!("VACUUM INTO {}: {e}", snapshot.display()),
        )
    })?;
    // Counts and checksums come from the copy, so they describe exactly
    // what is archived even while the server goes on writing.
    let inventory = store_backup::sqlite_file_inventory(&snapshot, |_, _| Ok(()))
        .await
        .map_err(|e| failed("データベースの複製を読めません", e.to_string()))?;
    let sha256 = store_backup::sha256_of_file(&snapshot).map_err(|e| io_error(&snapshot, e))?;
    let bytes = std::fs::metadata(&snapshot)
        .map_err(|e| io_error(&snapshot, e))?
        .len();
    let mut manifest = manifest_for(
        Backend::Sqlite,
        &inventory,
        Some(ArchivedDatabase {
            entry: DATABASE_ENTRY.to_string(),
            bytes,
            sha256,
        }),
    );
    let key = match secret_key {
        Some(path) => Some(std::fs::read(path).map_err(|e| io_error(path, e))?),
        None => None,
    };
    manifest.secret_key = key.is_some();
    let written = (|| -> Result<(), String> {
        let file = File::create(archive).map_err(|e| e.to_string())?;
        let mut zip = zip::ZipWriter::new(BufWriter::new(file));
        write_manifest(&mut zip, &manifest)?;
        if let Some(key) = &key {
            zip.start_file(SECRET_KEY_FILE, zip_options())
                .map_err(|e| e.to_string())?;
            zip.write_all(key).map_err(|e| e.to_string())?;
        }
        zip.start_file(DATABASE_ENTRY, zip_options().large_file(true))
            .map_err(|e| e.to_string())?;
        let mut copy = File::open(&snapshot).map_err(|e| e.to_string())?;
        std::io::copy(&mut copy, &mut zip).map_err(|e| e.to_string())?;
        finish_zip(zip)
    })();
    written.map_err(|e| io_error(archive, e))?;
    Ok(manifest)
}

async fn write_postgres_backup(store: &Store, archive: &Path) -> Result<Manifest, CliError> {
    let file = File::create(archive).map_err(|e| io_error(archive, e))?;
    let mut zip = zip::ZipWriter::new(BufWriter::new(file));
    // Files, counts and checksums come from one repeatable-read snapshot.
    let inventory = store
        .inventory_with(|digest, data| {
            zip.start_file(file_entry(digest), zip_options())
                .map_err(std::io::Error::other)?;
            zip.write_all(data)
        })
        .await
        .map_err(|e| failed("バックアップに失敗しました", e.to_string()))?;
    let manifest = manifest_for(Backend::Postgres, &inventory, None);
    write_manifest(&mut zip, &manifest).map_err(|e| io_error(archive, e))?;
    finish_zip(zip).map_err(|e| io_error(archive, e))?;
    Ok(manifest)
}

/// A value for a POSIX shell: as is when plain, else in single quotes.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// The `pg_dump` command for the database `url` names, password masked.
pub fn pg_dump_command(url: &str, dump: &Path) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return format!(
            "pg_dump --format=custom --file={} <database>",
            shell_word(&dump.display().to_string())
        );
    };
    let mut words = Vec::new();
    if parsed.password().is_some() {
        words.push("PGPASSWORD=***".to_string());
    }
    words.push("pg_dump".to_string());
    words.push("--format=custom".to_string());
    if let Some(host) = parsed.host_str() {
        words.push(format!("--host={}", shell_word(host)));
    }
    words.push(format!("--port={}", parsed.port().unwrap_or(5432)));
    if !parsed.username().is_empty() {
        words.push(format!("--username={}", shell_word(parsed.username())));
    }
    // A schema chosen with `options=-c search_path=…` is the one to dump.
    for (key, value) in parsed.query_pairs() {
        if key == "options"
            && let Some(rest) = value.split("search_path=").nth(1)
        {
            let schema = rest.split([' ', ',']).next().unwrap_or("");
            if !schema.is_empty() {
                words.push(format!("--schema={}", shell_word(schema)));
            }
        }
    }
    words.push(format!(
        "--file={}",
        shell_word(&dump.display().to_string())
    ));
    let database = parsed.path().trim_start_matches('/');
    if !database.is_empty() {
        words.push(shell_word(database));
    }
    words.join(" ")
}

/// `Ok` when `dir` is absent or an empty directory.
fn check_empty(dir: &Path) -> Result<(), CliError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                Err(failed(
                    "復元先のデータ用ディレクトリが空ではありません。何も変更していません",
                    format!(
                        "{} is not empty: restore only into an empty or absent data directory (nothing was changed)",
                        dir.display()
                    ),
                ))
            } else {
                Ok(())
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => Err(failed(
            "復元先がディレクトリではありません",
            format!("{} exists and is not a directory", dir.display()),
        )),
        Err(e) => Err(io_error(dir, e)),
    }
}

fn read_manifest(file: &Path) -> Result<(zip::ZipArchive<File>, Manifest), CliError> {
    let not_a_backup = |detail: String| failed("Mamori のバックアップとして読めません", detail);
    let archive = File::open(file).map_err(|e| io_error(file, e))?;
    let mut zip = zip::ZipArchive::new(archive)
        .map_err(|e| not_a_backup(format!("{}: not a zip archive: {e}", file.display())))?;
    let manifest: Manifest = {
        let entry = zip
            .by_name(MANIFEST)
            .map_err(|e| not_a_backup(format!("{}: {MANIFEST}: {e}", file.display())))?;
        serde_json::from_reader(entry)
            .map_err(|e| not_a_backup(format!("{}: {MANIFEST}: {e}", file.display())))?
    };
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(not_a_backup(format!(
            "{}: {MANIFEST} is {} version {}, expected {FORMAT} version {FORMAT_VERSION}",
            file.display(),
            manifest.format,
            manifest.format_version
        )));
    }
    Ok((zip, manifest))
}

/// Every difference between the manifest and the restored database.
fn differences(manifest: &Manifest, restored: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    if manifest.schema_version != restored.schema_version {
        out.push(format!(
            "schema version {} in the database, {} in the manifest",
            restored.schema_version, manifest.schema_version
        ));
    }
    for (table, &expected) in &manifest.tables {
        match restored.tables.get(table) {
            None => out.push(format!("table {table}: missing from the database")),
            Some(&rows) if rows != expected => out.push(format!(
                "table {table}: {rows} rows in the database, {expected} in the manifest"
            )),
            Some(_) => {}
        }
    }
    for table in restored.tables.keys() {
        if !manifest.tables.contains_key(table) {
            out.push(format!("table {table}: not in the manifest"));
        }
    }
    let by_id: BTreeMap<i64, &FileDigest> = restored.files.iter().map(|f| (f.id, f)).collect();
    for expected in &manifest.files {
        let label = format!("file {} ({})", expected.id, expected.name);
        match by_id.get(&expected.id) {
            None => out.push(format!("{label}: missing from the database")),
            Some(found) if found.sha256 != expected.sha256 => out.push(format!(
                "{label}: SHA-256 {} does not match the manifest's {}",
                found.sha256, expected.sha256
            )),
            Some(found) if found.sha256 != found.recorded_sha256 => out.push(format!(
                "{label}: SHA-256 {} does not match the one recorded when it was stored ({})",
                found.sha256, found.recorded_sha256
            )),
            Some(_) => {}
        }
    }
    let listed: std::collections::BTreeSet<i64> = manifest.files.iter().map(|f| f.id).collect();
    for found in &restored.files {
        if !listed.contains(&found.id) {
            out.push(format!(
                "file {} ({}): not in the manifest",
                found.id, found.name
            ));
        }
    }
    out
}

/// `mamori restore FILE --data-dir DIR`.
pub async fn restore(db: &DatabaseArgs, args: RestoreArgs) -> Result<(), CliError> {
    let dir = match Location::from_args(db) {
        Location::Url(_) => {
            return Err(failed(
                "PostgreSQL への復元には対応していません。データベースは pg_restore で戻してください",
                "restore into a database URL is not supported: restore a PostgreSQL database with pg_restore from its pg_dump file (see the README); `mamori restore` restores SQLite backups into --data-dir only".to_string(),
            ));
        }
        Location::DataDir(dir) => dir,
    };
    check_empty(&dir)?;
    let (mut zip, manifest) = read_manifest(&args.file)?;
    let Some(database) = manifest.database.clone() else {
        return Err(failed(
            "このバックアップにはデータベースが入っていません（PostgreSQL）。pg_restore で戻してください",
            format!(
                "{} is a {} backup without a database: restore the database with pg_restore from its pg_dump file; the stored files are in the archive under files/",
                args.file.display(),
                manifest.backend
            ),
        ));
    };
    // The data directory's parent, created if need be, and removed again
    // (from the first directory created on) when the restore fails.
    let parent = parent_of(&dir);
    let first_created = parent
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
        .last()
        .map(Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(|e| io_error(&parent, e))?;
    let outcome = restore_into(&mut zip, &manifest, &database, &args.file, &dir, &parent).await;
    if outcome.is_err()
        && let Some(created) = first_created
    {
        let _ = std::fs::remove_dir_all(created);
    }
    let rows = outcome?;
    println!(
        "バックアップを復元しました: {}（スキーマ版 {}、{} 表・{} 行、保存ファイル {} 件を検証済み）",
        dir.display(),
        manifest.schema_version,
        manifest.tables.len(),
        rows,
        manifest.files.len()
    );
    println!(
        "restored {} into {}: schema version {}, {} tables with {} rows and {} stored files verified against the manifest (backup made {} by Mamori {})",
        args.file.display(),
        dir.display(),
        manifest.schema_version,
        manifest.tables.len(),
        rows,
        manifest.files.len(),
        manifest.created_at,
        manifest.mamori_version
    );
    Ok(())
}

/// Unpacks and checks in a staging directory, then moves it into place.
/// Returns the number of rows restored.
async fn restore_into(
    zip: &mut zip::ZipArchive<File>,
    manifest: &Manifest,
    database: &ArchivedDatabase,
    archive: &Path,
    dir: &Path,
    parent: &Path,
) -> Result<i64, CliError> {
    let damaged = |detail: String| {
        failed(
            "バックアップが壊れているか、変更されています。何も復元していません",
            detail,
        )
    };
    let staging = Staging::create(parent.join(format!(
        ".{}.restoring-{}",
        file_name_of(dir),
        std::process::id()
    )))?;
    let staged = staging.path().join(DATABASE_ENTRY);
    {
        let mut entry = zip
            .by_name(&database.entry)
            .map_err(|e| damaged(format!("{}: {}: {e}", archive.display(), database.entry)))?;
        let mut out = File::create(&staged).map_err(|e| io_error(&staged, e))?;
        std::io::copy(&mut entry, &mut out)
            .map_err(|e| damaged(format!("{}: {}: {e}", archive.display(), database.entry)))?;
        out.sync_all().map_err(|e| io_error(&staged, e))?;
    }
    let sha256 = store_backup::sha256_of_file(&staged).map_err(|e| io_error(&staged, e))?;
    if sha256 != database.sha256 {
        return Err(damaged(format!(
            "{}: {}: SHA-256 {sha256} does not match the manifest's {}",
            archive.display(),
            database.entry,
            database.sha256
        )));
    }
    let restored = store_backup::sqlite_file_inventory(&staged, |_, _| Ok(()))
        .await
        .map_err(|e| damaged(format!("{}: {}: {e}", archive.display(), database.entry)))?;
    let problems = differences(manifest, &restored);
    if !problems.is_empty() {
        return Err(damaged(format!(
            "{}: {}",
            archive.display(),
            problems.join("; ")
        )));
    }
    if manifest.secret_key {
        let key = staging.path().join(SECRET_KEY_FILE);
        let mut entry = zip
            .by_name(SECRET_KEY_FILE)
            .map_err(|e| damaged(format!("{}: {SECRET_KEY_FILE}: {e}", archive.display())))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut out = options.open(&key).map_err(|e| io_error(&key, e))?;
        std::io::copy(&mut entry, &mut out)
            .map_err(|e| damaged(format!("{}: {SECRET_KEY_FILE}: {e}", archive.display())))?;
        out.sync_all().map_err(|e| io_error(&key, e))?;
    }
    // An empty directory gives way to the checked one.
    if dir.exists() {
        std::fs::remove_dir(dir).map_err(|e| io_error(dir, e))?;
    }
    let staged_dir = staging.keep();
    if let Err(e) = std::fs::rename(&staged_dir, dir) {
        let _ = std::fs::remove_dir_all(&staged_dir);
        return Err(io_error(dir, e));
    }
    Ok(restored.tables.values().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pg_dump_command_names_the_database_and_hides_the_password() {
        let command = pg_dump_command(
            "postgres://mamori:s3cret@db.example:6543/mamori_prod?options=-c%20search_path%3Dt_x",
            Path::new("/backups/mamori.dump"),
        );
        assert_eq!(
            command,
            "PGPASSWORD=*** pg_dump --format=custom --host=db.example --port=6543 --username=mamori --schema=t_x --file=/backups/mamori.dump mamori_prod"
        );
        assert!(!command.contains("s3cret"));
    }

    #[test]
    fn archive_names_of_stored_files_stay_in_their_folder() {
        let digest = FileDigest {
            id: 7,
            name: "../a/b:c.pdf".into(),
            size_bytes: 1,
            sha256: String::new(),
            recorded_sha256: String::new(),
        };
        assert_eq!(file_entry(&digest), "files/7/.._a_b_c.pdf");
    }
}
