//! Advisories as stored: each record whole (JSON) under its source and id,
//! with every id it is known by. Importing the same record again changes
//! nothing; a changed record replaces the stored one. Imports are the
//! operator's or the secretariat's, one audit record per batch.

use crate::audit::{AuditContext, append};
use crate::hospital::{recheck, require};
use crate::{Result, Store, StoreError, now_ms};
use mamori_advisories::Advisory;
use mamori_domain::audit::AuditAction;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant, may_register_organisations};
use mamori_domain::triage::{TriageState, check_triage_step};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AdvisoryImportSummary {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

async fn matches_in<'e, E>(
    conn: E,
    hospital: Option<mamori_domain::OrgId>,
) -> Result<Vec<AdvisoryMatch>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    type Row = (
        i64,
        String,
        String,
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT m.id, a.external_id, a.source, m.hospital_id, m.asset_key, m.method, m.confidence, m.criterion, m.note, m.state
         FROM advisory_matches m JOIN advisories a ON a.id = m.advisory_id
         WHERE $1 = 0 OR m.hospital_id = $1 ORDER BY m.hospital_id, m.asset_key, a.external_id",
    )
    .bind(hospital.map_or(0, |h| h.0))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AdvisoryMatch {
            id: r.0,
            advisory: r.1,
            source: r.2,
            hospital_id: mamori_domain::OrgId(r.3),
            asset: r.4,
            method: r.5,
            confidence: r.6,
            criterion: r.7,
            note: r.8,
            state: r.9,
        })
        .collect())
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

/// What a full re-match did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RematchSummary {
    pub advisories: usize,
    pub assets: usize,
    /// Matches found now that were not recorded before.
    pub new: usize,
    /// Matches recorded before and found again.
    pub kept: usize,
    /// Matches recorded before and no longer found: marked withdrawn.
    pub withdrawn: usize,
}

/// One stored match of an advisory to an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdvisoryMatch {
    pub id: i64,
    pub advisory: String,
    pub source: String,
    pub hospital_id: mamori_domain::OrgId,
    pub asset: String,
    pub method: String,
    pub confidence: String,
    pub criterion: String,
    pub note: String,
    pub state: String,
}

struct Asset {
    hospital: i64,
    key: String,
    item: mamori_advisories::InventoryItem,
    /// `vendor:product` of its CPEs, and its canonical vendor name.
    cpe_keys: Vec<String>,
    vendor: String,
}

/// The keys an advisory can reach assets by: CPE vendor:product of its
/// criteria and statements, and canonical vendor names of statements.
fn reach(a: &Advisory) -> (Vec<String>, Vec<String>) {
    use mamori_domain::cpe::CpeName;
    let key = |c: &str| {
        CpeName::parse_lenient(c).ok().map(|n| {
            format!(
                "{}:{}",
                n.vendor().unquoted().unwrap_or_default(),
                n.product().unquoted().unwrap_or_default()
            )
        })
    };
    let mut cpes: Vec<String> = a
        .configurations
        .iter()
        .flat_map(|c| &c.nodes)
        .flat_map(|n| &n.matches)
        .filter(|m| m.vulnerable)
        .filter_map(|m| key(&m.criteria))
        .collect();
    cpes.extend(
        a.products
            .iter()
            .flat_map(|p| &p.cpes)
            .filter_map(|c| key(c)),
    );
    let vendors = a
        .products
        .iter()
        .map(|p| mamori_advisories::canonical_vendor(&p.vendor))
        .filter(|v| !v.is_empty())
        .collect();
    (cpes, vendors)
}

impl Store {
    /// Matches every stored advisory against every asset of every ledger
    /// and records the matches: new ones as unconfirmed, ones found again
    /// keep their state, ones no longer found are marked withdrawn (never
    /// deleted). Each advisory reaches only the assets sharing a CPE
    /// vendor:product or a vendor name with it, not the whole ledger.
    pub async fn rematch_advisories(&self, ctx: &AuditContext) -> Result<RematchSummary> {
        ctx.require("match advisories", may_register_organisations)?;
        let advisories: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, content FROM advisories ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT hospital_id, record_key, body FROM ledger_records WHERE kind = 'asset' AND deleted_at IS NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut assets = Vec::with_capacity(rows.len());
        for (hospital, key, body) in rows {
            let asset: mamori_domain::ledger::Asset =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    column: "ledger_records.body",
                    value: e.to_string(),
                })?;
            let cpes = asset.cpe_names();
            let cpe_keys = cpes
                .iter()
                .map(|n| {
                    format!(
                        "{}:{}",
                        n.vendor().unquoted().unwrap_or_default(),
                        n.product().unquoted().unwrap_or_default()
                    )
                })
                .collect();
            assets.push(Asset {
                hospital,
                key,
                vendor: mamori_advisories::canonical_vendor(&asset.vendor),
                cpe_keys,
                item: mamori_advisories::InventoryItem {
                    cpes,
                    vendor: asset.vendor.clone(),
                    product: asset.product.clone(),
                    version: asset.version.clone(),
                    model: asset.model.clone(),
                },
            });
        }
        // The index: which assets each CPE vendor:product and vendor name reaches.
        let mut by_cpe: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        let mut by_vendor: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        for (i, a) in assets.iter().enumerate() {
            for k in &a.cpe_keys {
                by_cpe.entry(k.as_str()).or_default().push(i);
            }
            if !a.vendor.is_empty() {
                by_vendor.entry(a.vendor.as_str()).or_default().push(i);
            }
        }
        let mut found: Vec<(i64, i64, String, mamori_advisories::ItemMatch)> = Vec::new();
        for (id, content) in &advisories {
            let advisory: Advisory =
                serde_json::from_str(content).map_err(|e| StoreError::Corrupt {
                    column: "advisories.content",
                    value: e.to_string(),
                })?;
            let (cpes, vendors) = reach(&advisory);
            let mut candidates: Vec<usize> = cpes
                .iter()
                .filter_map(|k| by_cpe.get(k.as_str()))
                .chain(vendors.iter().filter_map(|v| by_vendor.get(v.as_str())))
                .flatten()
                .copied()
                .collect();
            candidates.sort_unstable();
            candidates.dedup();
            for i in candidates {
                let asset = &assets[i];
                if let Some(m) = mamori_advisories::match_item(&advisory, &asset.item) {
                    found.push((*id, asset.hospital, asset.key.clone(), m));
                }
            }
        }
        let mut summary = RematchSummary {
            advisories: advisories.len(),
            assets: assets.len(),
            ..RematchSummary::default()
        };
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let before: Vec<(i64, i64, i64, String, String)> = sqlx::query_as(
            "SELECT id, advisory_id, hospital_id, asset_key, state FROM advisory_matches",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut seen = std::collections::HashSet::new();
        // Looked up by (advisory, hospital, asset): a national ledger holds many.
        let recorded: std::collections::HashMap<_, _> = before
            .iter()
            .map(|b| ((b.1, b.2, b.3.as_str()), b))
            .collect();
        for (advisory, hospital, asset, m) in &found {
            let existing = recorded.get(&(*advisory, *hospital, asset.as_str()));
            match existing {
                Some(b) => {
                    seen.insert(b.0);
                    summary.kept += 1;
                    sqlx::query("UPDATE advisory_matches SET method = $1, confidence = $2, criterion = $3, note = $4, state = CASE WHEN state = 'withdrawn' THEN 'unconfirmed' ELSE state END, updated_at = $5 WHERE id = $6")
                        .bind(m.method.slug())
                        .bind(m.confidence.slug())
                        .bind(&m.criterion)
                        .bind(&m.note)
                        .bind(now)
                        .bind(b.0)
                        .execute(&mut *tx)
                        .await?;
                }
                None => {
                    summary.new += 1;
                    sqlx::query("INSERT INTO advisory_matches (advisory_id, hospital_id, asset_key, method, confidence, criterion, note, state, found_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'unconfirmed', $8, $8)")
                        .bind(advisory)
                        .bind(hospital)
                        .bind(asset)
                        .bind(m.method.slug())
                        .bind(m.confidence.slug())
                        .bind(&m.criterion)
                        .bind(&m.note)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        for b in before
            .iter()
            .filter(|b| !seen.contains(&b.0) && b.4 != "withdrawn")
        {
            summary.withdrawn += 1;
            sqlx::query(
                "UPDATE advisory_matches SET state = 'withdrawn', updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(b.0)
            .execute(&mut *tx)
            .await?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::AdvisoriesMatched,
            "advisories:rematch".to_string(),
            None,
            format!(
                "{} advisories × {} assets: {} new, {} kept, {} withdrawn",
                summary.advisories, summary.assets, summary.new, summary.kept, summary.withdrawn
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// The recorded matches of every hospital (the operator's and the
    /// secretariat's view; per-hospital access comes with the triage pages).
    pub async fn advisory_matches(&self, ctx: &AuditContext) -> Result<Vec<AdvisoryMatch>> {
        ctx.require("read advisory matches", may_register_organisations)?;
        matches_in(&self.pool, None).await
    }

    /// One hospital's matches (its staff, the secretariat), audited.
    pub async fn hospital_matches(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
    ) -> Result<Vec<AdvisoryMatch>> {
        require(grant, ctx, HospitalData::Matches, Access::Read)?;
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let out = matches_in(&mut *tx, Some(grant.hospital())).await?;
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataRead,
            format!("matches:{}", grant.hospital()),
            Some(grant.hospital()),
            "advisory matches",
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A triage step on one of the hospital's matches: 影響あり, 影響なし
    /// (with a reason), 対応中, 対応済; refused naming the allowed steps.
    pub async fn triage_match(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        match_id: i64,
        to: TriageState,
        note: &str,
    ) -> Result<AdvisoryMatch> {
        require(grant, ctx, HospitalData::Matches, Access::Write)?;
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT hospital_id, state FROM advisory_matches WHERE id = $1")
                .bind(match_id)
                .fetch_optional(&mut *tx)
                .await?;
        // Another hospital's match is as good as absent.
        let Some((_, state)) = row.filter(|(h, _)| *h == grant.hospital().0) else {
            return Err(StoreError::NotFound {
                what: "advisory match",
                key: match_id.to_string(),
            });
        };
        let from =
            TriageState::parse(&state).map_err(crate::error::corrupt("advisory_matches.state"))?;
        let note = check_triage_step(from, to, note)?;
        let now = now_ms();
        sqlx::query("UPDATE advisory_matches SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(to.slug())
            .bind(now)
            .bind(match_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO advisory_match_steps (match_id, from_state, to_state, note, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(match_id)
            .bind(from.slug())
            .bind(to.slug())
            .bind(&note)
            .bind(grant.actor().account.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::AdvisoryMatchTriaged,
            format!("match:{match_id}"),
            Some(grant.hospital()),
            format!("{} → {}", from.slug(), to.slug()),
        )
        .await?;
        let out = matches_in(&mut *tx, Some(grant.hospital()))
            .await?
            .into_iter()
            .find(|m| m.id == match_id)
            .ok_or(StoreError::Conflict(format!("match {match_id} vanished")))?;
        tx.commit().await?;
        Ok(out)
    }
}
