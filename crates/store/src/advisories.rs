//! Advisories as stored: each record whole (JSON) under its source and id,
//! with every id it is known by. Importing the same record again changes
//! nothing; a changed record replaces the stored one. Imports are the
//! operator's or the secretariat's, one audit record per batch.

use crate::audit::{AuditContext, append};
use crate::{Result, Store, StoreError, now_ms};
use mamori_advisories::Advisory;
use mamori_domain::audit::AuditAction;
use mamori_domain::policy::may_register_organisations;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AdvisoryImportSummary {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Store {
    /// Stores a batch of advisories in one transaction; `from` names the
    /// file for the audit record.
    pub async fn import_advisories(
        &self,
        ctx: &AuditContext,
        advisories: &[Advisory],
        from: &str,
    ) -> Result<AdvisoryImportSummary> {
        ctx.require("import advisories", may_register_organisations)?;
        let mut summary = AdvisoryImportSummary::default();
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        for a in advisories {
            let content = serde_json::to_string(a)
                .map_err(|e| StoreError::Conflict(format!("{}: {e}", a.id)))?;
            let sha = hex::encode(Sha256::digest(content.as_bytes()));
            let existing: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, content_sha256 FROM advisories WHERE source = $1 AND external_id = $2",
            )
            .bind(a.source.slug())
            .bind(&a.id)
            .fetch_optional(&mut *tx)
            .await?;
            let id = match existing {
                Some((_, old)) if old == sha => {
                    summary.unchanged += 1;
                    continue;
                }
                Some((id, _)) => {
                    sqlx::query("UPDATE advisories SET content = $1, content_sha256 = $2, updated_at = $3 WHERE id = $4")
                        .bind(&content)
                        .bind(&sha)
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM advisory_aliases WHERE advisory_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    summary.updated += 1;
                    id
                }
                None => {
                    summary.new += 1;
                    sqlx::query_scalar("INSERT INTO advisories (source, external_id, content, content_sha256, imported_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
                        .bind(a.source.slug())
                        .bind(&a.id)
                        .bind(&content)
                        .bind(&sha)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?
                }
            };
            let mut aliases: Vec<&str> = a.aliases.iter().map(String::as_str).collect();
            aliases.push(&a.id);
            aliases.sort_unstable();
            aliases.dedup();
            for alias in aliases {
                sqlx::query("INSERT INTO advisory_aliases (advisory_id, alias) VALUES ($1, $2)")
                    .bind(id)
                    .bind(alias)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        append(
            &mut tx,
            ctx,
            AuditAction::AdvisoriesImported,
            format!("advisories:{from}"),
            None,
            format!(
                "{} new, {} updated, {} unchanged",
                summary.new, summary.updated, summary.unchanged
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Every stored advisory (for matching); rejected ones included.
    pub async fn advisories(&self) -> Result<Vec<Advisory>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT content FROM advisories ORDER BY source, external_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|c| {
                serde_json::from_str(c).map_err(|e| StoreError::Corrupt {
                    column: "advisories.content",
                    value: e.to_string(),
                })
            })
            .collect()
    }

    /// The advisories known by `alias` (a CVE id finds its JVN and CSAF
    /// records too).
    pub async fn advisories_by_alias(&self, alias: &str) -> Result<Vec<Advisory>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT a.content FROM advisories a JOIN advisory_aliases x ON x.advisory_id = a.id WHERE x.alias = $1 ORDER BY a.source, a.external_id",
        )
        .bind(alias)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|c| {
                serde_json::from_str(c).map_err(|e| StoreError::Corrupt {
                    column: "advisories.content",
                    value: e.to_string(),
                })
            })
            .collect()
    }
}
