//! One set of versioned migrations for both databases. Each migration is a
//! SQL file written once; a handful of type tokens are replaced per backend.

use crate::db::{Backend, Store};
use crate::{Result, StoreError, now_ms};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../migrations/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "lifecycle",
        sql: include_str!("../migrations/0002_lifecycle.sql"),
    },
    Migration {
        version: 3,
        name: "checklists",
        sql: include_str!("../migrations/0003_checklists.sql"),
    },
    Migration {
        version: 4,
        name: "ledger",
        sql: include_str!("../migrations/0004_ledger.sql"),
    },
    Migration {
        version: 5,
        name: "deliverables",
        sql: include_str!("../migrations/0005_deliverables.sql"),
    },
    Migration {
        version: 6,
        name: "review",
        sql: include_str!("../migrations/0006_review.sql"),
    },
    Migration {
        version: 7,
        name: "report",
        sql: include_str!("../migrations/0007_report.sql"),
    },
    Migration {
        version: 8,
        name: "labour",
        sql: include_str!("../migrations/0008_labour.sql"),
    },
    Migration {
        version: 9,
        name: "advisories",
        sql: include_str!("../migrations/0009_advisories.sql"),
    },
    Migration {
        version: 10,
        name: "advisory-matches",
        sql: include_str!("../migrations/0010_advisory_matches.sql"),
    },
    Migration {
        version: 11,
        name: "match-triage",
        sql: include_str!("../migrations/0011_match_triage.sql"),
    },
    Migration {
        version: 12,
        name: "advisory-response",
        sql: include_str!("../migrations/0012_advisory_response.sql"),
    },
    Migration {
        version: 13,
        name: "statistics",
        sql: include_str!("../migrations/0013_statistics.sql"),
    },
    Migration {
        version: 14,
        name: "data-returns",
        sql: include_str!("../migrations/0014_data_returns.sql"),
    },
    Migration {
        version: 15,
        name: "background-jobs",
        sql: include_str!("../migrations/0015_background_jobs.sql"),
    },
    Migration {
        version: 16,
        name: "list-indexes",
        sql: include_str!("../migrations/0016_list_indexes.sql"),
    },
];

/// The schema version that holds the checklist tables.
const CHECKLIST_SCHEMA: i64 = 3;

/// What `migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: Vec<(i64, &'static str)>,
    pub current: i64,
}

/// Keeps the lines meant for `backend` (sections opened by `--@sqlite`,
/// `--@postgres`, `--@both`) and replaces the type tokens.
fn render(sql: &str, backend: Backend) -> String {
    let (id, int, real, blob, own) = match backend {
        Backend::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "INTEGER",
            "REAL",
            "BLOB",
            "--@sqlite",
        ),
        Backend::Postgres => (
            "BIGSERIAL PRIMARY KEY",
            "BIGINT",
            "DOUBLE PRECISION",
            "BYTEA",
            "--@postgres",
        ),
    };
    let mut keep = true;
    let mut out = String::with_capacity(sql.len());
    for line in sql.lines() {
        let marker = line.trim();
        if marker.starts_with("--@") {
            keep = marker == own || marker == "--@both";
            continue;
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.replace("{id}", id)
        .replace("{int}", int)
        .replace("{real}", real)
        .replace("{blob}", blob)
        .replace("{text}", "TEXT")
}

/// Splits a migration into statements at semicolons that end a line, after
/// dropping `--` comment lines.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        if line.trim_start().starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

impl Store {
    /// Applies every migration not yet applied, each in its own transaction.
    /// On PostgreSQL an advisory lock keeps two starting instances apart.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        self.migrate_until(i64::MAX).await
    }

    /// Applies migrations up to `version` only (upgrade tests start from an
    /// older schema this way).
    pub(crate) async fn migrate_until(&self, version: i64) -> Result<MigrationReport> {
        let mut conn = self.pool.acquire().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_lock(72390417)")
                .execute(&mut *conn)
                .await?;
        }
        let mut result = self.migrate_locked(&mut conn, version).await;
        // The shipped checklists come with the schema, still under the lock
        // so that two starting instances do not both install them.
        if let Ok(report) = &result
            && report.current >= CHECKLIST_SCHEMA
            && let Err(err) = self.install_builtin_frameworks().await
        {
            result = Err(err);
        }
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_unlock(72390417)")
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    async fn migrate_locked(
        &self,
        conn: &mut sqlx::AnyConnection,
        until: i64,
    ) -> Result<MigrationReport> {
        let create = match self.backend() {
            Backend::Sqlite => {
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            }
            Backend::Postgres => {
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            }
        };
        sqlx::query(create).execute(&mut *conn).await?;
        let applied =
            sqlx::query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
                .fetch_all(&mut *conn)
                .await?;
        let known = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
        let mut done = std::collections::BTreeMap::new();
        for row in &applied {
            let version: i64 = row.try_get("version")?;
            let sum: String = row.try_get("checksum")?;
            let name: String = row.try_get("name")?;
            if version > known {
                return Err(StoreError::SchemaTooNew {
                    found: version,
                    known,
                });
            }
            done.insert(version, (name, sum));
        }
        let mut report = MigrationReport {
            applied: Vec::new(),
            current: 0,
        };
        for migration in MIGRATIONS.iter().filter(|m| m.version <= until) {
            if let Some((name, sum)) = done.get(&migration.version) {
                if *sum != checksum(migration.sql) {
                    return Err(StoreError::MigrationChanged {
                        version: migration.version,
                        name: name.clone(),
                    });
                }
                report.current = migration.version;
                continue;
            }
            let begin = match self.backend() {
                Backend::Sqlite => "BEGIN IMMEDIATE",
                Backend::Postgres => "BEGIN",
            };
            sqlx::query(begin).execute(&mut *conn).await?;
            // Another process may have applied it while we waited for the lock.
            let already: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(migration.version)
                    .fetch_optional(&mut *conn)
                    .await?;
            if already.is_some() {
                sqlx::query("ROLLBACK").execute(&mut *conn).await?;
                report.current = migration.version;
                continue;
            }
            let outcome = async {
                for statement in statements(&render(migration.sql, self.backend())) {
                    sqlx::query(AssertSqlSafe(statement)).execute(&mut *conn).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                    .bind(migration.version)
                    .bind(migration.name)
                    .bind(checksum(migration.sql))
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await?;
                Ok::<_, sqlx::Error>(())
            }
            .await;
            match outcome {
                Ok(()) => {
                    sqlx::query("COMMIT").execute(&mut *conn).await?;
                }
                Err(err) => {
                    sqlx::query("ROLLBACK").execute(&mut *conn).await?;
                    return Err(err.into());
                }
            }
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "migration applied"
            );
            report.applied.push((migration.version, migration.name));
            report.current = migration.version;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_line_ending_semicolons() {
        let sql = "-- comment\nCREATE TABLE a (x {int});\nINSERT INTO a\nVALUES (1);\n";
        let parts = statements(&render(sql, Backend::Postgres));
        assert_eq!(parts.len(), 2);
        assert!(parts[0].contains("BIGINT"));
        assert!(parts[1].contains("VALUES (1);"));
    }

    #[test]
    fn backend_sections_keep_only_their_lines() {
        let sql = "A;\n--@sqlite\nS;\n--@postgres\nP;\n--@both\nB;\n";
        assert_eq!(render(sql, Backend::Sqlite), "A;\nS;\nB;\n");
        assert_eq!(render(sql, Backend::Postgres), "A;\nP;\nB;\n");
    }

    #[test]
    fn every_token_is_replaced() {
        for migration in MIGRATIONS {
            for backend in [Backend::Sqlite, Backend::Postgres] {
                let sql = render(migration.sql, backend);
                assert!(!sql.contains('{'), "{} on {backend:?}", migration.name);
            }
        }
    }
}
