//! The server's watched folder for advisory files (issue 8 item 5).
//!
//! An operator (or a download script) puts files in the folder; each look
//! takes the files settled there (not subfolders, not dotfiles, not
//! modified in the last two seconds, so a half-copied file waits), imports
//! them as `mamori advisories import` does, matches the new and updated
//! advisories once, and moves each file on:
//!
//! - `done/<stamp>-<name>`, with `<stamp>-<name>.report.txt` beside it when
//!   some of its records were refused;
//! - `failed/<stamp>-<name>` with `<stamp>-<name>.error.txt` giving the
//!   reason, when nothing of it could be used.
//!
//! Several servers may watch one folder: a file is claimed by renaming it
//! into `processing/` first (atomic); a failed rename means another server
//! took it.

use crate::advisories::{FileImport, import_file, match_changed, match_line};
use crate::cli::AdvisoryFormat;
use indicatif::ProgressBar;
use mamori_store::{AuditContext, Store};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A file modified more recently than this may still be being copied.
const SETTLE: Duration = Duration::from_secs(2);
const DONE: &str = "done";
const FAILED: &str = "failed";
const PROCESSING: &str = "processing";

/// The watched folder.
#[derive(Debug, Clone)]
pub struct Inbox {
    dir: PathBuf,
}

/// A file this server took.
struct Claimed {
    /// The name it was put there under.
    name: String,
    /// `<stamp>-<name>`: its name in processing/, done/ and failed/.
    stamped: OsString,
    original: OsString,
}

impl Inbox {
    /// Checks that `dir` is a folder and makes its `done/`, `failed/` and
    /// `processing/` subfolders, so that a wrong setting fails at start.
    pub fn open(dir: &Path) -> Result<Inbox, String> {
        let shown = dir.display();
        let meta = std::fs::metadata(dir).map_err(|e| format!("{shown}: {e}"))?;
        if !meta.is_dir() {
            return Err(format!("{shown} is not a folder"));
        }
        for sub in [DONE, FAILED, PROCESSING] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("{}: {e}", dir.join(sub).display()))?;
        }
        Ok(Inbox {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One look at the folder; returns how many files were taken.
    pub async fn sweep(&self, store: &Store) -> usize {
        let inbox = self.clone();
        let claimed = match tokio::task::spawn_blocking(move || inbox.claim()).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "advisory inbox: looking at the folder failed");
                return 0;
            }
        };
        if claimed.is_empty() {
            return 0;
        }
        let taken = claimed.len();
        let ctx = AuditContext::operator("advisory inbox");
        let bar = ProgressBar::hidden();
        let mut imported = Vec::new();
        let mut changed = Vec::new();
        for file in claimed {
            let path = self.dir.join(PROCESSING).join(&file.stamped);
            let location = self.dir.join(&file.name).display().to_string();
            match import_file(store, &ctx, &path, &location, AdvisoryFormat::Auto, &bar).await {
                Ok(got) => {
                    changed.extend(got.changed.iter().copied());
                    imported.push((file, got));
                }
                Err(e) => {
                    // The database failed, not the file: try again next time.
                    tracing::warn!(file = %file.name, error = %e, "advisory inbox: import failed; the file is put back");
                    self.put_back(&file);
                }
            }
        }
        let matched = match match_changed(store, &ctx, changed).await {
            Ok(summary) => {
                tracing::info!(
                    new = summary.new,
                    to_confirm = summary.to_confirm,
                    notices = summary.notices,
                    withdrawn = summary.withdrawn,
                    "advisory inbox: matched"
                );
                match_line(&summary)
            }
            Err(e) => {
                tracing::warn!(error = %e, "advisory inbox: matching failed; run `mamori advisories rematch`");
                format!(
                    "照合に失敗しました / matching failed: {e} (run `mamori advisories rematch`)"
                )
            }
        };
        for (file, got) in imported {
            self.file_away(&file, &got, &matched);
        }
        taken
    }

    /// Renames the settled files into processing/; those another server
    /// renamed first are left to it.
    fn claim(&self) -> Vec<Claimed> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "advisory inbox: cannot read the folder");
                return Vec::new();
            }
        };
        let mut names: Vec<OsString> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
            .filter(|entry| entry.metadata().is_ok_and(|m| settled(&m)))
            .map(|entry| entry.file_name())
            .collect();
        names.sort();
        let mut claimed = Vec::new();
        for original in names {
            let name = original.to_string_lossy().into_owned();
            let mut stamped = OsString::from(format!("{}-", stamp()));
            stamped.push(&original);
            let to = self.dir.join(PROCESSING).join(&stamped);
            match std::fs::rename(self.dir.join(&original), &to) {
                Ok(()) => claimed.push(Claimed {
                    name,
                    stamped,
                    original,
                }),
                Err(e) => {
                    tracing::debug!(file = %name, error = %e, "advisory inbox: taken by another server")
                }
            }
        }
        claimed
    }

    /// Returns a file the database could not take to the folder.
    fn put_back(&self, file: &Claimed) {
        let back = self.dir.join(&file.original);
        if back.exists() {
            tracing::warn!(file = %file.name, "advisory inbox: a new file of that name arrived; this one stays in processing/");
            return;
        }
        if let Err(e) = std::fs::rename(self.dir.join(PROCESSING).join(&file.stamped), &back) {
            tracing::warn!(file = %file.name, error = %e, "advisory inbox: cannot put the file back");
        }
    }

    /// Moves an imported file to done/ (with a report of its refused
    /// records) or, when nothing of it could be used, to failed/ with the
    /// reason.
    fn file_away(&self, file: &Claimed, got: &FileImport, matched: &str) {
        let from = self.dir.join(PROCESSING).join(&file.stamped);
        let (folder, note_suffix) = if got.unreadable() {
            (FAILED, ".error.txt")
        } else {
            (DONE, ".report.txt")
        };
        let to = self.dir.join(folder).join(&file.stamped);
        if let Err(e) = std::fs::rename(&from, &to) {
            tracing::warn!(file = %file.name, to = %to.display(), error = %e, "advisory inbox: cannot move the file");
            return;
        }
        let mut note_name = file.stamped.clone();
        note_name.push(note_suffix);
        let note_path = self.dir.join(folder).join(note_name);
        if got.unreadable() {
            let mut text = format!(
                "{}\n読み込めませんでした（何も保存していません）/ not read (nothing of it stored):\n",
                file.name
            );
            for r in &got.rejected {
                let _ = writeln!(text, "  {}: {}", r.location, r.reason);
            }
            write_note(&note_path, &text);
            tracing::warn!(
                file = %file.name,
                reason = %got.rejected.first().map(|r| r.reason.as_str()).unwrap_or(""),
                "advisory inbox: file not readable, moved to failed/"
            );
            return;
        }
        if !got.rejected.is_empty() {
            let mut text = format!(
                "{}\n読み込んだ記録 / records read: {}\n新規 / new: {}\n更新 / updated: {}\n変更なし / unchanged: {}\n{matched}\n不採用の記録（保存していません）/ rejected records (not stored): {}\n",
                file.name,
                got.records,
                got.new,
                got.updated,
                got.unchanged,
                got.rejected.len()
            );
            for r in &got.rejected {
                let _ = writeln!(text, "  {}: {}", r.location, r.reason);
            }
            write_note(&note_path, &text);
        }
        tracing::info!(
            file = %file.name,
            records = got.records,
            new = got.new,
            updated = got.updated,
            unchanged = got.unchanged,
            rejected = got.rejected.len(),
            "advisory inbox: file imported, moved to done/"
        );
    }
}

fn write_note(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        tracing::warn!(file = %path.display(), error = %e, "advisory inbox: cannot write the note");
    }
}

/// Not modified in the last two seconds. A time in the future by more
/// than a minute is a wrong clock, not a copy in progress.
fn settled(meta: &std::fs::Metadata) -> bool {
    match meta.modified().map(|m| m.elapsed()) {
        Ok(Ok(age)) => age >= SETTLE,
        Ok(Err(ahead)) => ahead.duration() > Duration::from_secs(60),
        // No modification time on this file system: nothing to wait for.
        Err(_) => true,
    }
}

/// Now in Japan, `YYYYMMDD-HHMMSS-mmm`, so that the moved files sort by
/// when they were taken.
fn stamp() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+9));
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}-{:03}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// Runs [`Inbox::sweep`] at once and then every `every`, until the process
/// ends.
pub fn spawn(store: Store, inbox: Inbox, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let taken = inbox.sweep(&store).await;
            if taken > 0 {
                tracing::info!(files = taken, "advisory inbox: files taken");
            }
        }
    });
}
