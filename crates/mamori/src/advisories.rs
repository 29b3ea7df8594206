//! `mamori advisories import` and `mamori advisories match`: advisory
//! files into the store (offline: files an operator downloaded), and the
//! stored advisories against an inventory CSV.
//!
//! Files are read on a blocking thread and handed over in batches, so an
//! NVD yearly feed is streamed record by record and never held whole.

use crate::cli::{
    AdvisoriesImportArgs, AdvisoriesMatchArgs, AdvisoryFormat, DatabaseArgs, MatchFormat,
};
use crate::run::{CliError, Location, open, operator};
use indicatif::{ProgressBar, ProgressStyle};
use mamori_advisories::{
    Advisory, InventoryItem, ItemMatch, Rejected, csaf, cve5, jvn, kev, match_item, nvd,
};
use mamori_domain::cpe::CpeName;
use mamori_domain::organisation::OrgKind;
use mamori_domain::triage::MatchReview;
use mamori_store::{AdvisoryMatch, AuditContext, MatchQuery, RematchSummary, Store, StoreError};
use serde_json::Value;
use std::borrow::Cow;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use time::Date;
use tokio::sync::mpsc;

/// Records per store transaction: large enough to be quick, small enough
/// that a yearly feed is never in memory as a whole.
const BATCH: usize = 500;
/// JSON files up to this size are read whole and recognised by their
/// structure; larger ones by their first bytes (and streamed if NVD).
const WHOLE_JSON_LIMIT: u64 = 64 * 1024 * 1024;
/// How much of a file is looked at to recognise it.
const HEAD: usize = 64 * 1024;

// ---------------------------------------------------------------- import

/// What the reading thread hands to the importing side.
enum Message {
    Records(Vec<Advisory>),
    Rejected(Rejected),
}

#[derive(Default)]
struct Totals {
    files: usize,
    files_read: usize,
    records: usize,
    new: usize,
    updated: usize,
    unchanged: usize,
    rejected: Vec<Rejected>,
    failed_files: Vec<String>,
}

pub async fn import(db: &DatabaseArgs, args: AdvisoriesImportArgs) -> Result<(), CliError> {
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for path in &args.paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut files, &mut missing),
            Ok(_) => files.push(path.clone()),
            Err(e) => missing.push(Rejected::new(
                path.display().to_string(),
                format!("cannot read: {e}"),
            )),
        }
    }
    if files.is_empty() && missing.is_empty() {
        return Err(CliError::Usage(
            "取り込むファイルがありません / no files in the folders given".into(),
        ));
    }
    let (store, _) = open(&Location::from_args(db)).await?;
    let ctx = operator();
    let mut totals = Totals {
        files: files.len() + missing.len(),
        ..Totals::default()
    };
    for rejected in missing {
        totals.failed_files.push(rejected.location.clone());
        totals.rejected.push(rejected);
    }

    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(total_bytes);

    // Every file's new and updated advisories, matched once at the end.
    let mut changed = Vec::new();
    for file in &files {
        let location = file.display().to_string();
        bar.set_message(location.clone());
        let got = match import_file(&store, &ctx, file, &location, args.format, &bar).await {
            Ok(got) => got,
            Err(e) => {
                // The database, not the file, failed: stop here.
                bar.finish_and_clear();
                store.close().await;
                return Err(CliError::Store(e));
            }
        };
        totals.new += got.new;
        totals.updated += got.updated;
        totals.unchanged += got.unchanged;
        totals.records += got.records;
        if got.unreadable() {
            totals.failed_files.push(location);
        } else {
            totals.files_read += 1;
        }
        totals.rejected.extend(got.rejected);
        changed.extend(got.changed);
    }
    bar.finish_and_clear();
    let matched = if args.no_match {
        None
    } else {
        Some(match_changed(&store, &ctx, changed).await)
    };
    store.close().await;
    print_import_summary(&totals);
    match matched {
        None => println!(
            "照合はしていません（--no-match）/ not matched (--no-match): run `mamori advisories rematch` later"
        ),
        Some(Ok(summary)) => println!("{}", match_line(&summary)),
        Some(Err(e)) => return Err(CliError::Store(e)),
    }
    if totals.files_read == 0 {
        return Err(CliError::Failed {
            japanese: "どのファイルも読み込めませんでした",
            detail: format!(
                "no file could be read ({} failed: {})",
                totals.failed_files.len(),
                totals.failed_files.join(", ")
            ),
        });
    }
    Ok(())
}

/// What one imported file gave.
#[derive(Debug, Default)]
pub struct FileImport {
    /// Records read and stored (new, updated or unchanged).
    pub records: usize,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Records (or the whole file) refused, with where and why.
    pub rejected: Vec<Rejected>,
    /// Stored ids of the new and updated advisories: what to match.
    pub changed: Vec<i64>,
}

impl FileImport {
    /// Nothing of the file could be used: it is not an advisory file, or
    /// every record in it was refused.
    pub fn unreadable(&self) -> bool {
        self.records == 0 && !self.rejected.is_empty()
    }
}

/// Reads one advisory file and stores its records in batches: the one
/// code path of `mamori advisories import` and the server's watched
/// folder. `location` names the file in rejections and the audit log.
/// Only a database failure is an error; a bad file is told in
/// [`FileImport::rejected`].
pub async fn import_file(
    store: &Store,
    ctx: &AuditContext,
    path: &Path,
    location: &str,
    format: AdvisoryFormat,
    bar: &ProgressBar,
) -> Result<FileImport, StoreError> {
    let (tx, mut rx) = mpsc::channel::<Message>(2);
    let reader_bar = bar.clone();
    let reader_path = path.to_path_buf();
    let reader_location = location.to_string();
    let reading = tokio::task::spawn_blocking(move || {
        read_file(&reader_path, &reader_location, format, &reader_bar, &tx);
    });
    let mut got = FileImport::default();
    let mut outcome = Ok(());
    while let Some(message) = rx.recv().await {
        match message {
            Message::Records(batch) => match store.import_advisories(ctx, &batch, location).await {
                Ok(summary) => {
                    got.records += batch.len();
                    got.new += summary.new;
                    got.updated += summary.updated;
                    got.unchanged += summary.unchanged;
                    got.changed.extend(summary.changed);
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            },
            Message::Rejected(r) => got.rejected.push(r),
        }
    }
    // Dropping the receiver ends the reader early after a store error.
    drop(rx);
    let _ = reading.await;
    outcome.map(|()| got)
}

/// Matches the advisories `changed` names against every ledger (nothing
/// to do when it is empty) and notifies the hospitals with new cases.
pub async fn match_changed(
    store: &Store,
    ctx: &AuditContext,
    mut changed: Vec<i64>,
) -> Result<RematchSummary, StoreError> {
    changed.sort_unstable();
    changed.dedup();
    if changed.is_empty() {
        return Ok(RematchSummary::default());
    }
    store.match_advisories(ctx, Some(&changed)).await
}

/// The one line an import ends with: what matching found.
pub fn match_line(s: &RematchSummary) -> String {
    format!(
        "照合 / matching: 新規の案件 {} 件、うち分析者の確認待ち {} 件、通知 {} 件、解消 {} 件 / {} new cases, {} awaiting an analyst's confirmation, {} notices sent, {} withdrawn",
        s.new, s.to_confirm, s.notices, s.withdrawn, s.new, s.to_confirm, s.notices, s.withdrawn
    )
}

/// Files under `dir`, recursively, in name order. Unreadable folders are
/// reported, not fatal.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<Rejected>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(Rejected::new(
                dir.display().to_string(),
                format!("cannot read the folder: {e}"),
            ));
            return;
        }
    };
    let mut paths: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .map(|entry| {
            // Symbolic links to folders are not followed (no loops).
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            (entry.path(), is_dir)
        })
        .collect();
    paths.sort();
    for (path, is_dir) in paths {
        if is_dir {
            walk(&path, files, problems);
        } else {
            files.push(path);
        }
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    // Scripts and logs get the summary only.
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{bar:30}] {bytes}/{total_bytes} {wide_msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Counts the bytes read into the progress bar.
struct Counted<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// The format a file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Nvd,
    Cve5,
    Csaf,
    Jvn,
    Kev,
    KevCsv,
}

/// Reads one file and sends its records in batches; runs on a blocking
/// thread. Every failure becomes a `Rejected` naming the file.
fn read_file(
    path: &Path,
    location: &str,
    format: AdvisoryFormat,
    bar: &ProgressBar,
    tx: &mpsc::Sender<Message>,
) {
    let location = location.to_string();
    let reject = |reason: String| {
        let _ = tx.blocking_send(Message::Rejected(Rejected::new(location.clone(), reason)));
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return reject(format!("cannot read: {e}")),
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::with_capacity(
        HEAD,
        Counted {
            inner: file,
            bar: bar.clone(),
        },
    );
    let head = match reader.fill_buf() {
        Ok(head) => head.to_vec(),
        Err(e) => return reject(format!("cannot read: {e}")),
    };
    let gzipped = head.starts_with(&[0x1f, 0x8b]);
    let named_gz = location.to_ascii_lowercase().ends_with(".gz");

    // Streamed: gzip (always NVD feeds) and JSON too large to hold whole.
    let stream_nvd = match format {
        AdvisoryFormat::Nvd => true,
        AdvisoryFormat::Auto if gzipped || named_gz => true,
        AdvisoryFormat::Auto if size > WHOLE_JSON_LIMIT && looks_like_json(&head) => {
            match sniff_json(&head) {
                Some(Kind::Nvd) => true,
                Some(_) => false,
                None => return reject(unknown_format(&head)),
            }
        }
        _ => false,
    };
    if stream_nvd {
        let mut batch = Vec::with_capacity(BATCH);
        nvd::read_nvd(reader, &location, &mut |record| match record {
            Ok(advisory) => {
                batch.push(advisory);
                if batch.len() >= BATCH {
                    let _ = tx.blocking_send(Message::Records(std::mem::take(&mut batch)));
                }
            }
            Err(rejected) => {
                let _ = tx.blocking_send(Message::Rejected(rejected));
            }
        });
        if !batch.is_empty() {
            let _ = tx.blocking_send(Message::Records(batch));
        }
        return;
    }

    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    if let Err(e) = reader.read_to_end(&mut bytes) {
        return reject(format!("cannot read: {e}"));
    }
    let kind = match format {
        AdvisoryFormat::Auto => match detect(&bytes) {
            Some(kind) => kind,
            None => return reject(unknown_format(&bytes)),
        },
        AdvisoryFormat::Nvd => Kind::Nvd,
        AdvisoryFormat::Cve5 => Kind::Cve5,
        AdvisoryFormat::Csaf => Kind::Csaf,
        AdvisoryFormat::Jvn => Kind::Jvn,
        AdvisoryFormat::Kev if looks_like_json(&bytes) => Kind::Kev,
        AdvisoryFormat::Kev => Kind::KevCsv,
    };
    let outcome = match kind {
        Kind::Nvd => nvd::parse_nvd(&bytes, &location),
        Kind::Cve5 => cve5::parse_cve5(&bytes, &location),
        Kind::Csaf => csaf::parse_csaf(&bytes, &location),
        Kind::Jvn => jvn::parse_jvn(&bytes, &location),
        Kind::Kev => kev::parse_kev(&bytes, &location),
        Kind::KevCsv => kev::parse_kev_csv(&bytes, &location),
    };
    drop(bytes);
    for rejected in outcome.rejected {
        let _ = tx.blocking_send(Message::Rejected(rejected));
    }
    let mut advisories = outcome.advisories;
    while !advisories.is_empty() {
        let rest = advisories.split_off(advisories.len().min(BATCH));
        let _ = tx.blocking_send(Message::Records(advisories));
        advisories = rest;
    }
}

fn unknown_format(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(&head[..head.len().min(40)]);
    let start: String = text.chars().filter(|c| !c.is_control()).take(30).collect();
    format!(
        "unknown format (not NVD, CVE 5, CSAF, JVN or KEV; starts with `{start}`); name it with --format"
    )
}

/// The text without a UTF-8 byte order mark and leading white space.
fn trimmed_start(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

fn looks_like_json(bytes: &[u8]) -> bool {
    matches!(trimmed_start(bytes).first(), Some(b'{') | Some(b'['))
}

/// Recognises a whole file by its structure; a JSON file that does not
/// parse is recognised by its first bytes, so that the parser can say
/// where it breaks.
fn detect(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(Kind::Nvd);
    }
    let start = trimmed_start(bytes);
    if start.first() == Some(&b'<') {
        let head = String::from_utf8_lossy(&start[..start.len().min(HEAD)]);
        return (head.starts_with("<?xml")
            || head.starts_with("<rdf:RDF")
            || head.contains("VULDEF-Document")
            || head.contains("<rdf:RDF"))
        .then_some(Kind::Jvn);
    }
    if looks_like_json(start) {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        return match serde_json::from_slice::<Value>(body) {
            Ok(value) => json_kind(&value),
            Err(_) => sniff_json(&start[..start.len().min(HEAD)]),
        };
    }
    // A KEV CSV: `cveID` among the header's fields.
    let first_line = start.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let header = String::from_utf8_lossy(first_line);
    if header
        .split(',')
        .any(|field| field.trim().trim_matches('"') == "cveID")
    {
        return Some(Kind::KevCsv);
    }
    None
}

fn json_kind(value: &Value) -> Option<Kind> {
    if value.get("cveMetadata").is_some_and(Value::is_object) {
        return Some(Kind::Cve5);
    }
    if value
        .get("document")
        .and_then(|d| d.get("csaf_version"))
        .is_some()
    {
        return Some(Kind::Csaf);
    }
    let entries = value.get("vulnerabilities").and_then(Value::as_array);
    let any_entry_has = |key: &str| entries.is_some_and(|a| a.iter().any(|v| v.get(key).is_some()));
    if value.get("catalogVersion").is_some() && (any_entry_has("cveID") || entries.is_some()) {
        return Some(Kind::Kev);
    }
    if any_entry_has("cve") || value.get("cve").is_some_and(Value::is_object) {
        return Some(Kind::Nvd);
    }
    // An NVD page with no records this time is still an NVD page.
    if entries.is_some() && value.get("format").and_then(Value::as_str) == Some("NVD_CVE") {
        return Some(Kind::Nvd);
    }
    // A bare NVD `cve` object: the record itself.
    let id_is_cve = value
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|id| id.starts_with("CVE-"));
    if id_is_cve
        && (value.get("sourceIdentifier").is_some()
            || value.get("vulnStatus").is_some()
            || value.get("descriptions").is_some())
    {
        return Some(Kind::Nvd);
    }
    None
}

/// Recognises JSON by markers in its first bytes (a file too large to
/// hold, or one that breaks off).
fn sniff_json(head: &[u8]) -> Option<Kind> {
    let text = String::from_utf8_lossy(head);
    if text.contains("\"cveMetadata\"") {
        Some(Kind::Cve5)
    } else if text.contains("\"csaf_version\"") {
        Some(Kind::Csaf)
    } else if text.contains("\"catalogVersion\"") {
        Some(Kind::Kev)
    } else if text.contains("\"vulnerabilities\"")
        || text.contains("\"cve\"")
        || text.contains("\"vulnStatus\"")
    {
        Some(Kind::Nvd)
    } else {
        None
    }
}

fn print_import_summary(t: &Totals) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "読み込んだファイル / files read: {} / {}",
        t.files_read, t.files
    );
    let _ = writeln!(out, "読み込んだ記録 / records read: {}", t.records);
    let _ = writeln!(out, "新規 / new: {}", t.new);
    let _ = writeln!(out, "更新 / updated: {}", t.updated);
    let _ = writeln!(out, "変更なし / unchanged: {}", t.unchanged);
    let _ = writeln!(out, "不採用 / rejected: {}", t.rejected.len());
    if !t.rejected.is_empty() {
        let _ = writeln!(
            out,
            "不採用の記録とファイル（何も保存していません）/ rejected records and files (nothing of them stored):"
        );
        for r in &t.rejected {
            let _ = writeln!(out, "  {}: {}", r.location, r.reason);
        }
    }
    if !t.failed_files.is_empty() {
        let _ = writeln!(out, "読めなかったファイル / files not read:");
        for f in &t.failed_files {
            let _ = writeln!(out, "  {f}");
        }
    }
}

// ----------------------------------------------------------------- match

/// One usable row of the inventory.
struct Row {
    hospital: String,
    asset: String,
    item: InventoryItem,
}

/// Matches every stored advisory against every ledger and prints what changed.
pub async fn rematch(db: &DatabaseArgs) -> Result<(), CliError> {
    let (store, _) = open(&Location::from_args(db)).await?;
    let s = store.rematch_advisories(&operator()).await?;
    println!(
        "照合しました: 脆弱性情報 {} 件 × 資産 {} 件、新規 {}、継続 {}、解消 {}",
        s.advisories, s.assets, s.new, s.kept, s.withdrawn
    );
    println!(
        "matched: {} advisories × {} assets, {} new, {} kept, {} withdrawn",
        s.advisories, s.assets, s.new, s.kept, s.withdrawn
    );
    Ok(())
}

/// `mamori advisories match`: with `--inventory`, the stored advisories
/// against that CSV; without, the matches recorded against the hospitals'
/// ledgers.
pub async fn match_command(db: &DatabaseArgs, args: AdvisoriesMatchArgs) -> Result<(), CliError> {
    match args.inventory.clone() {
        Some(inventory) => match_inventory(db, &inventory, args).await,
        None => recorded_matches(db, args).await,
    }
}

/// The matches recorded in the database, narrowed by hospital and day.
async fn recorded_matches(db: &DatabaseArgs, args: AdvisoriesMatchArgs) -> Result<(), CliError> {
    let since = match args.since.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(jst_midnight_ms(parse_date(text)?)),
        _ => None,
    };
    let hospital = match args.hospital.as_deref().map(str::trim) {
        Some("") => return Err(CliError::Usage("--hospital: must not be empty".into())),
        other => other.map(str::to_string),
    };
    let (store, _) = open(&Location::from_args(db)).await?;
    let found = read_recorded(&store, hospital.as_deref(), since).await;
    store.close().await;
    let matches = found?;
    let written = match args.format {
        MatchFormat::Table => write_recorded_table(&matches),
        MatchFormat::Json => write_recorded_json(&matches),
        MatchFormat::Csv => write_recorded_csv(&matches),
    };
    written.map_err(|e| CliError::Io(format!("standard output: {e}")))?;
    eprintln!(
        "記録された一致 {} 件 / {} recorded matches",
        matches.len(),
        matches.len()
    );
    Ok(())
}

async fn read_recorded(
    store: &Store,
    hospital: Option<&str>,
    since_ms: Option<i64>,
) -> Result<Vec<AdvisoryMatch>, CliError> {
    let hospital = match hospital {
        None => None,
        Some(key) => match store.find_organisation(key).await {
            Ok(org) if org.kind == OrgKind::Hospital => Some(org.id),
            Ok(org) => {
                return Err(CliError::Failed {
                    japanese: "病院ではありません",
                    detail: format!(
                        "--hospital: `{key}` is {} {}, not a hospital",
                        org.kind, org.name
                    ),
                });
            }
            Err(StoreError::NotFound { .. }) => {
                return Err(CliError::Failed {
                    japanese: "その病院は登録されていません",
                    detail: format!(
                        "--hospital: no hospital `{key}` is registered (give its id or its exact name)"
                    ),
                });
            }
            Err(e) => return Err(CliError::Store(e)),
        },
    };
    let query = MatchQuery {
        hospital,
        since_ms,
        ..MatchQuery::default()
    };
    Ok(store.advisory_matches(&operator(), &query).await?)
}

/// Midnight of `day` in Japan, in epoch milliseconds.
fn jst_midnight_ms(day: Date) -> i64 {
    let at = day.midnight().assume_offset(time::macros::offset!(+9));
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

async fn match_inventory(
    db: &DatabaseArgs,
    inventory: &Path,
    args: AdvisoriesMatchArgs,
) -> Result<(), CliError> {
    let since = match args.since.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(parse_date(text)?),
        _ => None,
    };
    let (mut rows, problems) = read_inventory(inventory)?;
    // `--hospital` keeps that hospital's rows of the inventory.
    if let Some(hospital) = args.hospital.as_deref().map(str::trim) {
        rows.retain(|row| row.hospital == hospital);
    }
    for problem in &problems {
        eprintln!("警告: 在庫の行を飛ばしました / skipped: {problem}");
    }
    let (store, _) = open(&Location::from_args(db)).await?;
    let stored = store.advisories().await;
    store.close().await;
    let advisories: Vec<Advisory> = stored?
        .into_iter()
        .filter(|a| since.is_none_or(|d| is_since(a, d)))
        .collect();

    let mut matches = Vec::new();
    for row in &rows {
        for advisory in &advisories {
            if let Some(m) = match_item(advisory, &row.item) {
                matches.push((row, advisory, m));
            }
        }
    }
    let written = match args.format {
        MatchFormat::Table => write_table(&matches),
        MatchFormat::Json => write_json(&matches),
        MatchFormat::Csv => write_csv(&matches),
    };
    written.map_err(|e| CliError::Io(format!("standard output: {e}")))?;
    eprintln!(
        "一致 {} 件（機器 {} 行 × 脆弱性情報 {} 件）/ {} matches ({} inventory rows × {} advisories)",
        matches.len(),
        rows.len(),
        advisories.len(),
        matches.len(),
        rows.len(),
        advisories.len()
    );
    Ok(())
}

fn parse_date(text: &str) -> Result<Date, CliError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .map_err(|e| CliError::Usage(format!("--since: `{text}` is not a date YYYY-MM-DD: {e}")))
}

/// Published or modified on or after `since`; undated advisories are left
/// out, as nothing says they are recent.
fn is_since(advisory: &Advisory, since: Date) -> bool {
    [advisory.modified, advisory.published]
        .into_iter()
        .flatten()
        .any(|d| d >= since)
}

/// The inventory's usable rows and the problems of the others
/// (`row N (line L): …`). A file that cannot be read at all is an error.
fn read_inventory(path: &Path) -> Result<(Vec<Row>, Vec<String>), CliError> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Usage(format!("--inventory {shown}: cannot read: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        CliError::Usage(format!(
            "--inventory {shown}: not UTF-8 (save it as UTF-8): {e}"
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| CliError::Usage(format!("--inventory {shown}: header: {e}")))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(hospital), Some(asset)) = (column("hospital"), column("asset")) else {
        return Err(CliError::Usage(format!(
            "--inventory {shown}: the header must name the columns hospital and asset (and cpe, or vendor and product)"
        )));
    };
    let cpe = column("cpe");
    let (vendor, product, version, model) = (
        column("vendor"),
        column("product"),
        column("version"),
        column("model"),
    );
    if cpe.is_none() && (vendor.is_none() || product.is_none()) {
        return Err(CliError::Usage(format!(
            "--inventory {shown}: the header must name a cpe column, or vendor and product columns"
        )));
    }

    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let number = index + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(number + 1, |p| p.line() as usize);
                problems.push(format!("row {number} (line {line}): {e}"));
                continue;
            }
        };
        let line = record.position().map_or(number + 1, |p| p.line() as usize);
        let cell = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let at = format!("row {number} (line {line})");
        // Several CPEs (firmware and hardware) are separated by spaces.
        let mut cpes = Vec::new();
        let mut bad = None;
        for text in cell(cpe).split_whitespace() {
            match CpeName::parse_lenient(text) {
                Ok(name) => cpes.push(name),
                Err(e) => {
                    bad = Some(e.reason());
                    break;
                }
            }
        }
        if let Some(reason) = bad {
            problems.push(format!("{at}: cpe: {reason}"));
            continue;
        }
        let item = InventoryItem {
            cpes,
            vendor: cell(vendor),
            product: cell(product),
            version: cell(version),
            model: cell(model),
        };
        if item.cpes.is_empty() && (item.vendor.is_empty() || item.product.is_empty()) {
            problems.push(format!("{at}: neither a cpe nor vendor and product"));
            continue;
        }
        let asset_name = cell(Some(asset));
        if asset_name.is_empty() {
            problems.push(format!("{at}: asset: empty"));
            continue;
        }
        rows.push(Row {
            hospital: cell(Some(hospital)),
            asset: asset_name,
            item,
        });
    }
    Ok((rows, problems))
}

type Found<'a> = (&'a Row, &'a Advisory, ItemMatch);

/// A serde value's kebab-case name (method, confidence).
fn slug<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn cves(advisory: &Advisory) -> Vec<String> {
    advisory.cve_ids().into_iter().map(str::to_string).collect()
}

/// The first CVE ids, for a table that stays readable (JSON and CSV
/// carry them all).
fn short_cves(advisory: &Advisory) -> String {
    short_cve_list(&cves(advisory))
}

/// Display width: East Asian wide characters take two columns.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

fn write_table(matches: &[Found<'_>]) -> std::io::Result<()> {
    let header = [
        "病院 hospital",
        "機器 asset",
        "脆弱性情報 advisory",
        "CVE",
        "方法 method",
        "確度 confidence",
        "要確認 needs confirmation",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.map(str::to_string).to_vec()];
    for (row, advisory, m) in matches {
        lines.push(vec![
            row.hospital.clone(),
            row.asset.clone(),
            advisory.id.clone(),
            short_cves(advisory),
            slug(&m.method),
            slug(&m.confidence),
            yes_no(m.needs_confirmation()),
        ]);
    }
    print_table(&lines)
}

fn yes_no(needs_confirmation: bool) -> String {
    if needs_confirmation {
        "要確認 / yes".to_string()
    } else {
        "- / no".to_string()
    }
}

/// Prints rows in aligned columns; the first row is the header.
fn print_table(lines: &[Vec<String>]) -> std::io::Result<()> {
    let columns = lines.first().map_or(0, Vec::len);
    let mut widths = vec![0usize; columns];
    for line in lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = std::io::stdout().lock();
    for line in lines {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate() {
            text.push_str(cell);
            if i + 1 < line.len() {
                text.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    if lines.len() <= 1 {
        writeln!(out, "一致なし / no matches")?;
    }
    Ok(())
}

/// Waits for an analyst before the hospital is told.
fn awaits_analyst(m: &AdvisoryMatch) -> bool {
    m.review == MatchReview::Pending.slug()
}

/// The table's CVE cell: the first ids only.
fn short_cve_list(ids: &[String]) -> String {
    if ids.len() <= 3 {
        return ids.join(" ");
    }
    format!(
        "{} 他 {} / +{} more",
        ids[..3].join(" "),
        ids.len() - 3,
        ids.len() - 3
    )
}

/// `KEV` (known exploited) with its due date, or `-`.
fn kev_cell(m: &AdvisoryMatch) -> String {
    match m.kev_due.as_deref() {
        None => "-".to_string(),
        Some("") => "KEV".to_string(),
        Some(due) => format!("KEV {due}"),
    }
}

fn write_recorded_table(matches: &[AdvisoryMatch]) -> std::io::Result<()> {
    let header = [
        "病院 hospital",
        "機器 asset",
        "脆弱性情報 advisory",
        "CVE",
        "方法 method",
        "確度 confidence",
        "要確認 needs confirmation",
        "状態 state",
        "確認 review",
        "期限 due",
        "KEV",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.map(str::to_string).to_vec()];
    for m in matches {
        lines.push(vec![
            m.hospital.clone(),
            m.asset.clone(),
            m.advisory.clone(),
            short_cve_list(&m.cve_ids),
            m.method.clone(),
            m.confidence.clone(),
            yes_no(awaits_analyst(m)),
            m.state.clone(),
            m.review.clone(),
            m.due_on.clone().unwrap_or_else(|| "-".to_string()),
            kev_cell(m),
        ]);
    }
    print_table(&lines)
}

fn write_recorded_json(matches: &[AdvisoryMatch]) -> std::io::Result<()> {
    let array: Vec<Value> = matches
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id,
                "hospital": m.hospital,
                "hospital_id": m.hospital_id.0,
                "asset": m.asset,
                "advisory": m.advisory,
                "source": m.source,
                "title": m.title,
                "cves": m.cve_ids,
                "cvss": m.cvss,
                "method": m.method,
                "confidence": m.confidence,
                "needs_confirmation": awaits_analyst(m),
                "criterion": m.criterion,
                "note": m.note,
                "state": m.state,
                "review": m.review,
                "due_on": m.due_on,
                "kev": m.kev_due.is_some(),
                "kev_due": m.kev_due.as_deref().filter(|d| !d.is_empty()),
                "notice_id": m.notice_id,
                "escalated": m.escalated,
                "found_at_ms": m.found_at_ms,
            })
        })
        .collect();
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &array)?;
    writeln!(out)
}

fn write_recorded_csv(matches: &[AdvisoryMatch]) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
    writer.write_record([
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
        "state",
        "review",
        "due_on",
        "kev",
        "kev_due",
    ])?;
    for m in matches {
        let cve_list = m.cve_ids.join(" ");
        let needs = if awaits_analyst(m) { "true" } else { "false" };
        let kev = if m.kev_due.is_some() { "true" } else { "false" };
        writer.write_record([
            protect(&m.hospital).as_ref(),
            protect(&m.asset).as_ref(),
            protect(&m.advisory).as_ref(),
            protect(&m.source).as_ref(),
            protect(&cve_list).as_ref(),
            m.method.as_str(),
            m.confidence.as_str(),
            needs,
            protect(&m.criterion).as_ref(),
            protect(&m.note).as_ref(),
            m.state.as_str(),
            m.review.as_str(),
            m.due_on.as_deref().unwrap_or(""),
            kev,
            m.kev_due.as_deref().unwrap_or(""),
        ])?;
    }
    writer.flush()
}

fn write_json(matches: &[Found<'_>]) -> std::io::Result<()> {
    let array: Vec<Value> = matches
        .iter()
        .map(|(row, advisory, m)| {
            serde_json::json!({
                "hospital": row.hospital,
                "asset": row.asset,
                "advisory": advisory.id,
                "source": advisory.source.slug(),
                "cves": cves(advisory),
                "method": slug(&m.method),
                "confidence": slug(&m.confidence),
                "needs_confirmation": m.needs_confirmation(),
                "criterion": m.criterion,
                "note": m.note,
            })
        })
        .collect();
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &array)?;
    writeln!(out)
}

/// A cell a spreadsheet would run as a formula is written as text.
fn protect(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

fn write_csv(matches: &[Found<'_>]) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
    writer.write_record([
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
    ])?;
    for (row, advisory, m) in matches {
        let cve_list = cves(advisory).join(" ");
        let method = slug(&m.method);
        let confidence = slug(&m.confidence);
        let needs = if m.needs_confirmation() {
            "true"
        } else {
            "false"
        };
        writer.write_record([
            protect(&row.hospital).as_ref(),
            protect(&row.asset).as_ref(),
            protect(&advisory.id).as_ref(),
            advisory.source.slug(),
            protect(&cve_list).as_ref(),
            method.as_str(),
            confidence.as_str(),
            needs,
            protect(&m.criterion).as_ref(),
            protect(&m.note).as_ref(),
        ])?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_structure() {
        assert_eq!(detect(br#"{"cveMetadata":{}}"#), Some(Kind::Cve5));
        assert_eq!(
            detect(br#"{"document":{"csaf_version":"2.0"}}"#),
            Some(Kind::Csaf)
        );
        assert_eq!(
            detect(br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-1"}]}"#),
            Some(Kind::Kev)
        );
        assert_eq!(
            detect(br#"{"vulnerabilities":[{"cve":{"id":"CVE-1"}}]}"#),
            Some(Kind::Nvd)
        );
        assert_eq!(
            detect(br#"{"id":"CVE-2024-1","vulnStatus":"Analyzed"}"#),
            Some(Kind::Nvd)
        );
        assert_eq!(
            detect(b"\xEF\xBB\xBF<?xml version=\"1.0\"?>"),
            Some(Kind::Jvn)
        );
        assert_eq!(detect(b"cveID,vendorProject\n"), Some(Kind::KevCsv));
        assert_eq!(detect(b"Apache License"), None);
        assert_eq!(detect(br#"{"other":1}"#), None);
    }

    #[test]
    fn formulas_are_protected() {
        assert_eq!(protect("=1+1"), "'=1+1");
        assert_eq!(protect("-x"), "'-x");
        assert_eq!(protect("CVE-1"), "CVE-1");
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(width("病院"), 4);
        assert_eq!(width("ab"), 2);
    }
}
