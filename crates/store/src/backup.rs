//! What a backup needs from the database: a consistent copy (SQLite's
//! `VACUUM INTO`), and an inventory (schema version, rows per table, every
//! stored file with its recomputed SHA-256) taken from one snapshot.

use crate::db::{Backend, Store, redact_url};
use crate::{Result, StoreError};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, Connection};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// One stored file as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub id: i64,
    pub name: String,
    /// The size of the bytes stored.
    pub size_bytes: i64,
    /// SHA-256 of the bytes stored, recomputed now.
    pub sha256: String,
    /// SHA-256 recorded when the file was stored.
    pub recorded_sha256: String,
}

/// What a database holds, from one consistent snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub schema_version: i64,
    /// Rows per table (every base table of the schema).
    pub tables: BTreeMap<String, i64>,
    pub files: Vec<FileDigest>,
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hex SHA-256 of a file's contents, read in pieces.
pub fn sha256_of_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

impl Store {
    /// Writes a consistent copy of the SQLite database to `target` (which
    /// must not exist), while others go on reading and writing.
    pub async fn vacuum_into(&self, target: &Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "VACUUM INTO is for SQLite only".to_string(),
            ));
        }
        let target = target.to_str().ok_or_else(|| {
            StoreError::Conflict(format!("{} is not a UTF-8 path", target.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The inventory of this database, read in one transaction.
    pub async fn inventory(&self) -> Result<Inventory> {
        self.inventory_with(|_, _| Ok(())).await
    }

    /// The inventory, handing each stored file's bytes to `each_file` as it
    /// goes (all from the same snapshot: a repeatable-read transaction on
    /// PostgreSQL, a read transaction on SQLite).
    pub async fn inventory_with<F>(&self, each_file: F) -> Result<Inventory>
    where
        F: FnMut(&FileDigest, &[u8]) -> std::io::Result<()>,
    {
        let mut conn = self.pool.acquire().await?;
        inventory_on(&mut conn, self.backend(), each_file).await
    }
}

/// The inventory of a SQLite database file that nothing else uses (a copy
/// made by `VACUUM INTO`, or one being restored). The file is switched to
/// rollback-journal mode, so that it is complete on its own, and its
/// integrity is checked first.
pub async fn sqlite_file_inventory<F>(path: &Path, each_file: F) -> Result<Inventory>
where
    F: FnMut(&FileDigest, &[u8]) -> std::io::Result<()>,
{
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rw", path.display());
    let mut conn = AnyConnection::connect(&url)
        .await
        .map_err(|e| StoreError::Unreachable(format!("{}: {e}", redact_url(&url))))?;
    let outcome = async {
        sqlx::query("PRAGMA journal_mode = DELETE")
            .execute(&mut conn)
            .await?;
        let check: String = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(&mut conn)
            .await?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                column: "database",
                value: format!("{}: {check}", path.display()),
            });
        }
        inventory_on(&mut conn, Backend::Sqlite, each_file).await
    }
    .await;
    let _ = conn.close().await;
    outcome
}

async fn inventory_on<F>(
    conn: &mut AnyConnection,
    backend: Backend,
    each_file: F,
) -> Result<Inventory>
where
    F: FnMut(&FileDigest, &[u8]) -> std::io::Result<()>,
{
    let begin = match backend {
        Backend::Sqlite => "BEGIN",
        Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    };
    sqlx::query(begin).execute(&mut *conn).await?;
    let outcome = read_inventory(conn, backend, each_file).await;
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    sqlx::query(end).execute(&mut *conn).await?;
    outcome
}

async fn read_inventory<F>(
    conn: &mut AnyConnection,
    backend: Backend,
    mut each_file: F,
) -> Result<Inventory>
where
    F: FnMut(&FileDigest, &[u8]) -> std::io::Result<()>,
{
    let schema_version: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(&mut *conn)
            .await?;
    let names_sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    let names: Vec<String> = sqlx::query_scalar(names_sql).fetch_all(&mut *conn).await?;
    let mut tables = BTreeMap::new();
    for name in names {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {quoted}")))
            .fetch_one(&mut *conn)
            .await?;
        tables.insert(name, rows);
    }
    let listed: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, sha256 FROM files ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    let mut files = Vec::with_capacity(listed.len());
    for (id, name, recorded_sha256) in listed {
        // One file at a time: only one file's bytes are held at once.
        let data: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT data FROM file_blobs WHERE file_id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        // Files kept in a bucket (MAMORI_S3_BUCKET) are backed up with the
        // bucket, not here: this copy is of the database alone.
        let data = data.ok_or_else(|| StoreError::Corrupt {
            column: "file_blobs.data",
            value: format!("file {id} ({name}) has no bytes in the database; with files in object storage, back up the bucket and the database (pg_dump) instead"),
        })?;
        let digest = FileDigest {
            id,
            name,
            size_bytes: data.len() as i64,
            sha256: sha256_hex(&data),
            recorded_sha256,
        };
        each_file(&digest, &data).map_err(|e| {
            StoreError::Conflict(format!("file {} ({}): {e}", digest.id, digest.name))
        })?;
        files.push(digest);
    }
    Ok(Inventory {
        schema_version,
        tables,
        files,
    })
}
