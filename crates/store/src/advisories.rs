//! Advisories as stored: each record whole (JSON) under its source and id,
//! with every id it is known by. Importing the same record again changes
//! nothing; a changed record replaces the stored one. Imports are the
//! operator's or the secretariat's, one audit record per batch.

use crate::audit::{AuditContext, append};
use crate::db::id_list;
use crate::hospital::{recheck, require};
use crate::{Result, Store, StoreError, now_ms};
use mamori_advisories::Advisory;
use mamori_domain::audit::AuditAction;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant, may_register_organisations};
use mamori_domain::triage::{MatchReview, TriageState, check_triage_step};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AdvisoryImportSummary {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// The stored ids of the new and updated advisories: what to match.
    #[serde(skip)]
    pub changed: Vec<i64>,
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
                    summary.changed.push(id);
                    id
                }
                None => {
                    summary.new += 1;
                    let id: i64 = sqlx::query_scalar("INSERT INTO advisories (source, external_id, content, content_sha256, imported_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
                        .bind(a.source.slug())
                        .bind(&a.id)
                        .bind(&content)
                        .bind(&sha)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                    summary.changed.push(id);
                    id
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

/// What a re-match did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RematchSummary {
    pub advisories: usize,
    pub assets: usize,
    /// Distinct items matched (assets sharing model, version and CPEs count once).
    pub distinct_items: usize,
    /// Matches found now that were not recorded before.
    pub new: usize,
    /// New matches waiting for an analyst before the hospital is told.
    pub to_confirm: usize,
    /// Matches recorded before and found again.
    pub kept: usize,
    /// Matches recorded before and no longer found: marked withdrawn.
    pub withdrawn: usize,
    /// Notices sent to hospitals.
    pub notices: usize,
}

/// One stored match of an advisory to an asset: a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryMatch {
    pub id: i64,
    pub advisory_id: i64,
    pub advisory: String,
    pub source: String,
    pub title: String,
    pub cve_ids: Vec<String>,
    pub cvss: Option<f64>,
    /// Known exploited (CISA KEV): its due date, or `""` when it has none.
    pub kev_due: Option<String>,
    pub hospital_id: mamori_domain::OrgId,
    pub hospital: String,
    pub asset: String,
    pub method: String,
    pub confidence: String,
    pub criterion: String,
    pub note: String,
    pub state: String,
    /// `MatchReview` slug: whether the hospital is told.
    pub review: String,
    pub review_note: String,
    /// ISO day.
    pub due_on: Option<String>,
    pub notice_id: Option<i64>,
    pub escalated: bool,
    pub found_at_ms: i64,
}

/// Which recorded matches to read.
#[derive(Debug, Clone, Default)]
pub struct MatchQuery {
    pub hospital: Option<mamori_domain::OrgId>,
    /// Found at or after (epoch ms).
    pub since_ms: Option<i64>,
    /// `MatchReview` slug.
    pub review: Option<String>,
    /// Only cases shown to the hospital.
    pub visible_only: bool,
    pub escalated_only: bool,
    pub id: Option<i64>,
}

/// An advisory as cases show it, with the KEV entry of one of its CVE ids.
pub(crate) struct Facts {
    pub advisory: Advisory,
    pub kev: Option<mamori_advisories::KevFlag>,
}

fn parse_advisory(content: &str) -> Result<Advisory> {
    serde_json::from_str(content).map_err(|e| StoreError::Corrupt {
        column: "advisories.content",
        value: e.to_string(),
    })
}

/// The advisories of `ids`, each with its KEV entry (its own, or the KEV
/// record sharing one of its CVE ids).
pub(crate) async fn advisory_facts(
    conn: &mut sqlx::AnyConnection,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Facts>> {
    let mut out = std::collections::HashMap::new();
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(500) {
        let list = id_list(chunk);
        let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, content FROM advisories WHERE id IN ({list})"
        )))
        .fetch_all(&mut *conn)
        .await?;
        for (id, content) in rows {
            let advisory = parse_advisory(&content)?;
            let kev = advisory.kev.clone();
            out.insert(id, Facts { advisory, kev });
        }
        let kev_rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT x.advisory_id, k.content FROM advisory_aliases x
             JOIN advisory_aliases y ON y.alias = x.alias
             JOIN advisories k ON k.id = y.advisory_id
             WHERE k.source = 'kev' AND x.alias LIKE 'CVE-%' AND x.advisory_id IN ({list})"
        )))
        .fetch_all(&mut *conn)
        .await?;
        for (id, content) in kev_rows {
            if let Some(f) = out.get_mut(&id)
                && f.kev.is_none()
            {
                f.kev = parse_advisory(&content)?.kev;
            }
        }
    }
    Ok(out)
}

type MatchRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
);

pub(crate) async fn matches_in(
    conn: &mut sqlx::AnyConnection,
    q: &MatchQuery,
) -> Result<Vec<AdvisoryMatch>> {
    let rows: Vec<MatchRow> = sqlx::query_as(
        "SELECT m.id, m.advisory_id, m.hospital_id, o.name, m.asset_key, m.method, m.confidence, m.criterion, m.note, m.state,
                m.review, m.review_note, m.due_on, m.notice_id, m.escalated_at, m.found_at
         FROM advisory_matches m JOIN organisations o ON o.id = m.hospital_id
         WHERE ($1 = 0 OR m.hospital_id = $1) AND m.found_at >= $2 AND ($3 = '' OR m.review = $3)
           AND ($4 = 0 OR m.review IN ('not-needed', 'confirmed')) AND ($5 = 0 OR m.escalated_at IS NOT NULL)
           AND ($6 = 0 OR m.id = $6)
         ORDER BY m.hospital_id, m.asset_key, m.advisory_id",
    )
    .bind(q.hospital.map_or(0, |h| h.0))
    .bind(q.since_ms.unwrap_or(0))
    .bind(q.review.clone().unwrap_or_default())
    .bind(i64::from(q.visible_only))
    .bind(i64::from(q.escalated_only))
    .bind(q.id.unwrap_or(0))
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let facts = advisory_facts(conn, &ids).await?;
    rows.into_iter()
        .map(|r| {
            let f = facts.get(&r.1).ok_or(StoreError::Corrupt {
                column: "advisory_matches.advisory_id",
                value: r.1.to_string(),
            })?;
            let a = &f.advisory;
            let mut cve_ids: Vec<String> = a
                .aliases
                .iter()
                .chain(std::iter::once(&a.id))
                .filter(|i| i.starts_with("CVE-"))
                .cloned()
                .collect();
            cve_ids.sort();
            cve_ids.dedup();
            Ok(AdvisoryMatch {
                id: r.0,
                advisory_id: r.1,
                advisory: a.id.clone(),
                source: a.source.slug().to_string(),
                title: a.title.clone(),
                cve_ids,
                cvss: a.cvss.as_ref().map(|c| c.base_score),
                kev_due: f
                    .kev
                    .as_ref()
                    .map(|k| k.due_date.map(crate::db::iso_day).unwrap_or_default()),
                hospital_id: mamori_domain::OrgId(r.2),
                hospital: r.3,
                asset: r.4,
                method: r.5,
                confidence: r.6,
                criterion: r.7,
                note: r.8,
                state: r.9,
                review: r.10,
                review_note: r.11,
                due_on: r.12,
                notice_id: r.13,
                escalated: r.14.is_some(),
                found_at_ms: r.15,
            })
        })
        .collect()
}

/// What an asset offers the matcher: its own CPEs and names, and those of
/// the catalogue model it is an instance of (the hardware platform).
fn inventory_item(
    asset: &mamori_domain::ledger::Asset,
    model: Option<&mamori_domain::ledger::DeviceModel>,
) -> mamori_advisories::InventoryItem {
    let mut cpes = asset.cpe_names();
    let or = |own: &str, theirs: Option<&str>| {
        if own.trim().is_empty() {
            theirs.unwrap_or_default().to_string()
        } else {
            own.to_string()
        }
    };
    if let Some(m) = model {
        for c in m.cpe_names() {
            if !cpes.contains(&c) {
                cpes.push(c);
            }
        }
    }
    mamori_advisories::InventoryItem {
        cpes,
        vendor: or(&asset.vendor, model.map(|m| m.vendor.as_str())),
        product: or(&asset.product, model.map(|m| m.product.as_str())),
        version: asset.version.clone(),
        model: or(&asset.model, model.map(|m| m.model.as_str())),
    }
}

/// One match found now.
struct Found {
    advisory: i64,
    hospital: i64,
    asset: String,
    found: mamori_advisories::ItemMatch,
    due_on: time::Date,
}

impl Store {
    /// Matches every stored advisory against every ledger: see
    /// [`Store::match_advisories`].
    pub async fn rematch_advisories(&self, ctx: &AuditContext) -> Result<RematchSummary> {
        self.match_advisories(ctx, None).await
    }

    /// Matches the advisories `only` names (all when `None`: after a
    /// catalogue change) against every asset of every ledger and records
    /// the matches: new ones unconfirmed (those found by vendor and product
    /// only wait for an analyst), ones found again keep their state, ones no
    /// longer found are marked withdrawn (never deleted). Each distinct
    /// item is matched once and fans out to its assets; an advisory reaches
    /// only the items sharing a CPE vendor:product or vendor name with it.
    /// A KEV record whose CVE another source describes only lends it its
    /// exploited flag. Then notices go to the hospitals with new cases.
    pub async fn match_advisories(
        &self,
        ctx: &AuditContext,
        only: Option<&[i64]>,
    ) -> Result<RematchSummary> {
        ctx.require("match advisories", may_register_organisations)?;
        let today = self.today();
        let mut conn = self.pool.acquire().await?;
        let advisories: Vec<(i64, String)> = match only {
            None => {
                sqlx::query_as("SELECT id, content FROM advisories ORDER BY id")
                    .fetch_all(&mut *conn)
                    .await?
            }
            Some(ids) => {
                let mut out = Vec::new();
                for chunk in ids.chunks(500) {
                    let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT id, content FROM advisories WHERE id IN ({}) ORDER BY id",
                        id_list(chunk)
                    )))
                    .fetch_all(&mut *conn)
                    .await?;
                    out.extend(rows);
                }
                out
            }
        };
        let described: std::collections::HashSet<String> = sqlx::query_scalar(
            "SELECT DISTINCT x.alias FROM advisory_aliases x JOIN advisories a ON a.id = x.advisory_id
             WHERE a.source <> 'kev' AND x.alias LIKE 'CVE-%'",
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        let mut kev_by_cve: std::collections::HashMap<String, mamori_advisories::KevFlag> =
            Default::default();
        let kev_rows: Vec<String> =
            sqlx::query_scalar("SELECT content FROM advisories WHERE source = 'kev'")
                .fetch_all(&mut *conn)
                .await?;
        for content in kev_rows {
            let a = parse_advisory(&content)?;
            if let Some(k) = a.kev {
                kev_by_cve.insert(a.id, k);
            }
        }
        let models: std::collections::HashMap<String, mamori_domain::ledger::DeviceModel> =
            sqlx::query_as::<_, (String, String)>(
                "SELECT model_key, body FROM device_models WHERE deleted_at IS NULL",
            )
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(k, body)| {
                serde_json::from_str(&body)
                    .map(|m| (k, m))
                    .map_err(|e| StoreError::Corrupt {
                        column: "device_models.body",
                        value: e.to_string(),
                    })
            })
            .collect::<Result<_>>()?;
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT hospital_id, record_key, body FROM ledger_records WHERE kind = 'asset' AND deleted_at IS NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let mut inventory = mamori_advisories::Inventory::new();
        let asset_count = rows.len();
        for (hospital, key, body) in rows {
            let asset: mamori_domain::ledger::Asset =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    column: "ledger_records.body",
                    value: e.to_string(),
                })?;
            let model = asset
                .model_ref
                .as_ref()
                .and_then(|k| models.get(&k.to_string()));
            inventory.add((hospital, key), inventory_item(&asset, model));
        }
        let mut found: Vec<Found> = Vec::new();
        for (id, content) in &advisories {
            let advisory = parse_advisory(content)?;
            if advisory.source == mamori_advisories::Source::Kev && described.contains(&advisory.id)
            {
                continue;
            }
            let kev = advisory.kev.as_ref().or_else(|| {
                advisory
                    .aliases
                    .iter()
                    .chain(std::iter::once(&advisory.id))
                    .find_map(|a| kev_by_cve.get(a))
            });
            let due_on = mamori_advisories::notice::default_due(today, advisory.cvss.as_ref(), kev);
            for (holders, m) in inventory.matches(&advisory) {
                for (hospital, key) in holders {
                    found.push(Found {
                        advisory: *id,
                        hospital: *hospital,
                        asset: key.clone(),
                        found: m.clone(),
                        due_on,
                    });
                }
            }
        }
        let mut summary = RematchSummary {
            advisories: advisories.len(),
            assets: asset_count,
            distinct_items: inventory.distinct_items(),
            ..RematchSummary::default()
        };
        drop(inventory);
        let considered: std::collections::HashSet<i64> =
            advisories.iter().map(|(id, _)| *id).collect();
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
        for f in &found {
            let m = &f.found;
            match recorded.get(&(f.advisory, f.hospital, f.asset.as_str())) {
                Some(b) => {
                    seen.insert(b.0);
                    summary.kept += 1;
                    // A match that became sure needs no analyst; one that became
                    // unsure before anyone was told waits for one.
                    sqlx::query(
                        "UPDATE advisory_matches SET method = $1, confidence = $2, criterion = $3, note = $4,
                           state = CASE WHEN state = 'withdrawn' THEN 'unconfirmed' ELSE state END,
                           review = CASE WHEN review = 'pending' AND $2 <> 'low' THEN 'not-needed'
                                         WHEN review = 'not-needed' AND $2 = 'low' AND notice_id IS NULL THEN 'pending'
                                         ELSE review END,
                           updated_at = $5 WHERE id = $6",
                    )
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
                    let review = if m.needs_confirmation() {
                        summary.to_confirm += 1;
                        MatchReview::Pending
                    } else {
                        MatchReview::NotNeeded
                    };
                    sqlx::query("INSERT INTO advisory_matches (advisory_id, hospital_id, asset_key, method, confidence, criterion, note, state, review, due_on, found_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'unconfirmed', $8, $9, $10, $10)")
                        .bind(f.advisory)
                        .bind(f.hospital)
                        .bind(&f.asset)
                        .bind(m.method.slug())
                        .bind(m.confidence.slug())
                        .bind(&m.criterion)
                        .bind(&m.note)
                        .bind(review.slug())
                        .bind(crate::db::iso_day(f.due_on))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        for b in before
            .iter()
            .filter(|b| considered.contains(&b.1) && !seen.contains(&b.0) && b.4 != "withdrawn")
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
            if only.is_some() {
                "advisories:match".to_string()
            } else {
                "advisories:rematch".to_string()
            },
            None,
            format!(
                "{} advisories × {} assets ({} distinct): {} new ({} to confirm), {} kept, {} withdrawn",
                summary.advisories,
                summary.assets,
                summary.distinct_items,
                summary.new,
                summary.to_confirm,
                summary.kept,
                summary.withdrawn
            ),
        )
        .await?;
        tx.commit().await?;
        summary.notices = self.issue_notices(ctx).await?;
        Ok(summary)
    }

    /// A catalogue model lends its assets CPEs and names, so a change to
    /// it changes what they match: every stored advisory is matched again.
    pub(crate) async fn rematch_after_catalogue_change(&self, ctx: &AuditContext) -> Result<()> {
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM advisories")
            .fetch_one(&self.pool)
            .await?;
        if stored > 0 {
            self.rematch_advisories(ctx).await?;
        }
        Ok(())
    }

    /// The recorded matches of every hospital (the operator's and the
    /// secretariat's view), as `q` narrows them.
    pub async fn advisory_matches(
        &self,
        ctx: &AuditContext,
        q: &MatchQuery,
    ) -> Result<Vec<AdvisoryMatch>> {
        ctx.require("read advisory matches", may_register_organisations)?;
        let mut conn = self.pool.acquire().await?;
        matches_in(&mut conn, q).await
    }

    /// One hospital's cases, those it has been told of (its staff, the
    /// secretariat), audited.
    pub async fn hospital_matches(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
    ) -> Result<Vec<AdvisoryMatch>> {
        require(grant, ctx, HospitalData::Matches, Access::Read)?;
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let out = matches_in(
            &mut tx,
            &MatchQuery {
                hospital: Some(grant.hospital()),
                visible_only: true,
                ..MatchQuery::default()
            },
        )
        .await?;
        self.finish_read(
            tx,
            ctx,
            format!("matches:{}", grant.hospital()),
            Some(grant.hospital()),
            "advisory matches",
        )
        .await?;
        Ok(out)
    }

    /// A triage step on one of the hospital's cases: 影響あり, 影響なし
    /// (with a reason), 対応中, 対応済, optionally with a new due date;
    /// refused naming the allowed steps.
    pub async fn triage_match(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        match_id: i64,
        to: TriageState,
        note: &str,
        due_on: Option<time::Date>,
    ) -> Result<AdvisoryMatch> {
        require(grant, ctx, HospitalData::Matches, Access::Write)?;
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT hospital_id, state, review FROM advisory_matches WHERE id = $1")
                .bind(match_id)
                .fetch_optional(&mut *tx)
                .await?;
        // Another hospital's case, or one it has not been told of, is as good as absent.
        let Some((_, state, _)) = row.filter(|(h, _, review)| {
            *h == grant.hospital().0
                && MatchReview::parse(review).is_ok_and(MatchReview::is_visible)
        }) else {
            return Err(StoreError::NotFound {
                what: "advisory match",
                key: match_id.to_string(),
            });
        };
        let from =
            TriageState::parse(&state).map_err(crate::error::corrupt("advisory_matches.state"))?;
        let note = check_triage_step(from, to, note)?;
        let due = due_on.map(crate::db::iso_day);
        let now = now_ms();
        sqlx::query(
            "UPDATE advisory_matches SET state = $1, due_on = COALESCE($2, due_on), updated_at = $3 WHERE id = $4",
        )
        .bind(to.slug())
        .bind(&due)
        .bind(now)
        .bind(match_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO advisory_match_steps (match_id, from_state, to_state, note, actor_id, at, due_on) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(match_id)
            .bind(from.slug())
            .bind(to.slug())
            .bind(&note)
            .bind(grant.actor().account.0)
            .bind(now)
            .bind(&due)
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
        let out = matches_in(
            &mut tx,
            &MatchQuery {
                id: Some(match_id),
                ..MatchQuery::default()
            },
        )
        .await?
        .pop()
        .ok_or(StoreError::Conflict(format!("match {match_id} vanished")))?;
        tx.commit().await?;
        Ok(out)
    }
}
