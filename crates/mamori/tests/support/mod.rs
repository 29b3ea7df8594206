//! Running the real `mamori` binary in the tests of this crate: where its
//! commands point (a data directory or a PostgreSQL schema), and as a server.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mamori");

/// Where a test's commands point.
pub enum Target {
    DataDir(tempfile::TempDir),
    Url(mamori_store::testing::TestDb),
}

impl Target {
    pub fn label(&self) -> &'static str {
        match self {
            Target::DataDir(_) => "data-dir",
            Target::Url(db) => db.label,
        }
    }

    pub fn data_dir(&self) -> Option<std::path::PathBuf> {
        match self {
            Target::DataDir(dir) => Some(dir.path().join("data")),
            Target::Url(_) => None,
        }
    }

    /// The options that point the binary here.
    pub fn args(&self) -> Vec<String> {
        match self {
            Target::DataDir(dir) => vec![
                "--data-dir".into(),
                dir.path().join("data").display().to_string(),
            ],
            Target::Url(db) => vec!["--database-url".into(), db.url.clone()],
        }
    }

    /// The same database, opened in the test (the binary opens its own).
    pub async fn store(&self) -> mamori_store::Store {
        match self {
            Target::DataDir(dir) => mamori_store::Store::open_data_dir(&dir.path().join("data"))
                .await
                .expect("open the data directory"),
            Target::Url(db) => db.store.clone(),
        }
    }

    pub async fn finish(self) {
        if let Target::Url(db) = self {
            db.finish().await;
        }
    }
}

/// A temporary data directory, and PostgreSQL when configured.
pub async fn targets() -> Vec<Target> {
    let mut targets = vec![Target::DataDir(tempfile::tempdir().expect("temp dir"))];
    if let Some(pg) = mamori_store::testing::postgres().await {
        targets.push(Target::Url(pg));
    }
    targets
}

/// A child process that is killed (SIGKILL) and reaped however the test ends.
pub struct Killed(pub Child);

impl Killed {
    /// SIGKILL (what `Child::kill` sends on Unix), then reap.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A running `mamori serve`, the URL it printed and what it said before.
pub struct Server {
    pub process: Killed,
    pub url: String,
    pub said: Vec<String>,
}

/// Starts `cmd` (a `mamori serve …`) and waits for the URL it prints.
pub fn start(mut cmd: Command, label: &str) -> Server {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut process = Killed(cmd.spawn().expect("start mamori serve"));
    let stdout = process.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    // Keeps reading to the end so the server never blocks on its output.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some(at) = line.find("http://") {
                    let url = line[at..].split_whitespace().next().unwrap_or_default();
                    let url = url.trim_end_matches('/').to_string();
                    // The lines printed right after the address (settings).
                    while let Ok(more) = rx.recv_timeout(Duration::from_millis(300)) {
                        seen.push(more);
                    }
                    return Server {
                        process,
                        url,
                        said: seen,
                    };
                }
                seen.push(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = process.0.try_wait() {
                    panic!("{label}: server exited with {status}: {seen:?}");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{label}: server closed its output: {seen:?}");
            }
        }
    }
    panic!("{label}: server did not say where it listens: {seen:?}");
}
