use crate::secret_key::SecretKey;
use crate::{Result, StoreError};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store: a connection pool and the backend it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    /// SQLite: the one connection write transactions take, so that writers
    /// queue here in turn rather than poll SQLite's lock (its busy handler
    /// sleeps up to 100 ms between tries, which under load left some
    /// requests waiting for seconds). `None` on PostgreSQL.
    writer: Option<AnyPool>,
    backend: Backend,
    clock: Clock,
    /// Seals TOTP secrets; without it they are stored as they are.
    secret_key: Option<Arc<SecretKey>>,
    /// Where file bytes go: the database, or a bucket.
    pub(crate) blobs: crate::blobs::Blobs,
    /// Appends the records of reads, many requests per transaction.
    pub(crate) read_recorder: crate::audit::ReadRecorder,
    /// Write transactions begun here: what is kept from a read goes stale
    /// when it moves.
    write_generation: Arc<std::sync::atomic::AtomicU64>,
    pub(crate) engagement_scan:
        Arc<tokio::sync::Mutex<Option<Arc<crate::engagements::EngagementScan>>>>,
}

/// The calendar the lifecycle runs on: deadlines, NDA validity, overdue
/// flags. The system clock, unless a test or a demo fixes the day.
#[derive(Clone, Default)]
pub struct Clock {
    /// Epoch ms of a fixed "now"; 0 means the system clock.
    fixed_ms: Arc<AtomicI64>,
}

/// Japan Standard Time: every calendar day in Mamori is a day in Japan.
pub const JST: time::UtcOffset = match time::UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => time::UtcOffset::UTC,
};

impl Clock {
    pub fn now_ms(&self) -> i64 {
        match self.fixed_ms.load(Ordering::Relaxed) {
            0 => now_ms(),
            fixed => fixed,
        }
    }

    /// Today in Japan.
    pub fn today(&self) -> time::Date {
        day_of_ms(self.now_ms())
    }

    /// Fixes the clock at noon (JST) of `day`, for tests and demos.
    pub fn set_today(&self, day: time::Date) {
        let noon = day.with_hms(12, 0, 0).map(|t| t.assume_offset(JST));
        if let Ok(noon) = noon {
            let ms = (noon.unix_timestamp_nanos() / 1_000_000) as i64;
            self.fixed_ms.store(ms, Ordering::Relaxed);
        }
    }

    /// Back to the system clock.
    pub fn use_system(&self) {
        self.fixed_ms.store(0, Ordering::Relaxed);
    }
}

pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Milliseconds since the Unix epoch, the one time format stored.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Store {
    /// Opens (creating if needed) the SQLite database `mamori.db` in `data_dir`.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unreachable(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join("mamori.db");
        Self::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    /// Connects to `sqlite://…` or `postgres://…` and checks that it answers.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Backend::Sqlite,
            Some("postgres") | Some("postgresql") => Backend::Postgres,
            _ => {
                return Err(StoreError::BadUrl(format!(
                    "`{}` is neither sqlite:// nor postgres://",
                    redact_url(url)
                )));
            }
        };
        if backend == Backend::Postgres {
            url::Url::parse(url)
                .map_err(|e| StoreError::BadUrl(format!("{}: {e}", redact_url(url))))?;
        }
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(format!("{}: {e}", redact_url(url))))?;
        // One direct connection first: a refused or misconfigured server is
        // reported with its real cause at once, not as a pool timeout.
        let probe = tokio::time::timeout(
            Duration::from_secs(5),
            AnyConnection::connect_with(&options),
        )
        .await
        .map_err(|_| StoreError::Unreachable(format!("{}: no answer within 5 s", redact_url(url))))?
        .map_err(|e| StoreError::Unreachable(format!("{}: {e}", redact_url(url))))?;
        let _ = probe.close().await;
        let pool = match backend {
            Backend::Sqlite => sqlite_pool_options(8, Duration::from_secs(5)),
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5)),
        }
        .connect_with(options.clone())
        .await
        .map_err(|e| StoreError::Unreachable(format!("{}: {e}", redact_url(url))))?;
        let writer = match backend {
            // Waiting here replaces SQLite's busy timeout: as long.
            Backend::Sqlite => Some(
                sqlite_pool_options(1, Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|e| StoreError::Unreachable(format!("{}: {e}", redact_url(url))))?,
            ),
            Backend::Postgres => None,
        };
        let read_recorder =
            crate::audit::ReadRecorder::start(writer.clone().unwrap_or(pool.clone()), backend);
        let store = Store {
            pool,
            writer,
            read_recorder,
            write_generation: Default::default(),
            engagement_scan: Default::default(),
            backend,
            clock: Clock::default(),
            secret_key: None,
            blobs: Default::default(),
        };
        store
            .ping()
            .await
            .map_err(|e| StoreError::Unreachable(e.to_string()))?;
        Ok(store)
    }

    /// This store with the configuration's secret key: TOTP secrets are
    /// sealed with it from now on.
    pub fn with_secret_key(mut self, key: SecretKey) -> Store {
        self.secret_key = Some(Arc::new(key));
        self
    }

    pub(crate) fn secret_key(&self) -> Option<&SecretKey> {
        self.secret_key.as_deref()
    }

    pub(crate) fn write_generation(&self) -> u64 {
        self.write_generation.load(Ordering::Relaxed)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers when the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers never deadlock on upgrade.
    pub(crate) async fn begin_write(&self) -> Result<Tx> {
        self.write_generation.fetch_add(1, Ordering::Relaxed);
        begin_write_on(self.writer.as_ref().unwrap_or(&self.pool), self.backend).await
    }

    /// A transaction that reads a hospital's data, ended by
    /// [`Store::finish_read`]. On SQLite it does not take the write lock, so
    /// readers go on while one writer writes.
    pub(crate) async fn begin_read(&self) -> Result<Tx> {
        Ok(self.pool.begin().await?)
    }

    /// The lifecycle's calendar, shared by every clone of this store.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Today in Japan, by the store's clock.
    pub fn today(&self) -> time::Date {
        self.clock.today()
    }

    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// A write transaction on `pool` (see [`Store::begin_write`]).
pub(crate) async fn begin_write_on(pool: &AnyPool, backend: Backend) -> Result<Tx> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// A SQLite pool of `max` connections: WAL lets readers go on while one
/// writer writes; the busy timeout makes a second writer wait instead of
/// failing.
fn sqlite_pool_options(max: u32, acquire: Duration) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(acquire)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                // 16 MiB of pages per connection (the default is 2 MiB): a
                // national database is gigabytes, and list pages read the
                // same index pages again and again.
                conn.execute("PRAGMA cache_size = -16384").await?;
                Ok(())
            })
        })
}

/// A URL with its password replaced, safe to print.
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparseable: hide whatever sits between the user name and the host.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                let userinfo = &url[start + 3..at];
                let user = userinfo.split(':').next().unwrap_or("");
                format!("{}{user}:***{}", &url[..start + 3], &url[at..])
            }
            _ => url.to_string(),
        },
    }
}

/// Calendar days are stored as ISO text (YYYY-MM-DD), which sorts and
/// compares the same in both databases.
/// The day of an instant (epoch ms), in Japan.
pub(crate) fn day_of_ms(ms: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| t.to_offset(JST).date())
        .unwrap_or(time::Date::MIN)
}

pub(crate) fn iso_day(day: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

pub(crate) fn parse_iso_day(column: &'static str, text: &str) -> crate::Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format).map_err(|_| StoreError::Corrupt {
        column,
        value: text.to_string(),
    })
}

pub(crate) fn parse_optional_day(
    column: &'static str,
    text: Option<String>,
) -> crate::Result<Option<time::Date>> {
    text.map(|t| parse_iso_day(column, &t)).transpose()
}

/// Flags are stored as 0/1 integers: the one representation both databases
/// read back through the same driver.
/// `ids` as an SQL list: numbers only, never input text.
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn malformed_urls_name_the_setting() {
        for url in ["mysql://x", "nonsense", "postgres://user:secret@[::1"] {
            let err = Store::connect(url).await.err().expect("refused");
            let message = err.to_string();
            assert!(message.starts_with("DATABASE_URL"), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_database_says_so() {
        let err = Store::connect("postgres://nobody@127.0.0.1:1/none")
            .await
            .err()
            .expect("refused");
        assert!(matches!(err, StoreError::Unreachable(_)), "{err}");
    }
}

/// Binds per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 30_000;

/// One value of a row to insert.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Real(f64),
}

/// Inserts `rows` with multi-row `INSERT … VALUES` statements.
pub(crate) async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Val>>,
) -> Result<()> {
    let per = (MAX_BINDS / columns.len()).clamp(1, 2_000);
    // SQLite looks `$n` up among the statement's names, which grows with
    // the square of the placeholders (a second for 2,000 rows); plain `?`
    // is taken in order.
    let positional = tx.backend_name() == "SQLite";
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0usize;
        for (i, row) in chunk.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(StoreError::Corrupt {
                    column: "bulk insert",
                    value: format!(
                        "{table}: {} values for {} columns",
                        row.len(),
                        columns.len()
                    ),
                });
            }
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..row.len() {
                n += 1;
                let separator = if j == 0 { "" } else { ", " };
                let _ = if positional {
                    write!(sql, "{separator}?")
                } else {
                    write!(sql, "{separator}${n}")
                };
            }
            sql.push(')');
        }
        // Only fixed table and column names and placeholders are formatted in.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for value in row {
                query = match value {
                    Val::Int(v) => query.bind(v),
                    Val::OptInt(v) => query.bind(v),
                    Val::Text(v) => query.bind(v),
                    Val::OptText(v) => query.bind(v),
                    Val::Real(v) => query.bind(v),
                };
            }
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
