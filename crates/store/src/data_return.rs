//! Returning a hospital's information and then destroying it (資料3 第5条):
//! the archive is read in one transaction, and the erasure reads it again
//! inside its own and deletes only if it is exactly what was handed over.
//! What is deleted and what is kept is the rule in
//! [`mamori_domain::data_return`].

use crate::audit::{AuditContext, append};
use crate::db::{Tx, id_list};
use crate::organisations::kind_of;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::data_return::{
    AfterReturn, ArchiveContents, ArchivedFile, ArchivedTable, ReturnSummary, confirms_hospital,
};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::may_return_hospital_data;
use mamori_domain::{AccountId, DomainError, OrgId, validate};
use serde::Serialize;
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{AssertSqlSafe, Column, Row, ValueRef};
use std::collections::BTreeSet;

/// One table's rows that concern hospital `$1`.
struct TablePlan {
    name: &'static str,
    after_return: AfterReturn,
    /// Columns to archive (never password hashes or second-factor secrets).
    columns: &'static str,
    filter: &'static str,
    order_by: &'static str,
    /// Columns naming a stored file.
    file_columns: &'static [&'static str],
}

macro_rules! of_engagements {
    ($inner:literal) => {
        concat!(
            "IN (SELECT id FROM ",
            $inner,
            " WHERE engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1))"
        )
    };
}

const fn deleted(
    name: &'static str,
    filter: &'static str,
    order_by: &'static str,
    file_columns: &'static [&'static str],
) -> TablePlan {
    TablePlan {
        name,
        after_return: AfterReturn::Deleted,
        columns: "*",
        filter,
        order_by,
        file_columns,
    }
}

const fn kept(
    name: &'static str,
    columns: &'static str,
    filter: &'static str,
    order_by: &'static str,
    file_columns: &'static [&'static str],
) -> TablePlan {
    TablePlan {
        name,
        after_return: AfterReturn::Kept,
        columns,
        filter,
        order_by,
        file_columns,
    }
}

/// Every table holding something about a hospital. Deleted tables come
/// children first: that is the order they are deleted in.
const PLAN: &[TablePlan] = &[
    deleted(
        "advisory_match_steps",
        "match_id IN (SELECT id FROM advisory_matches WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    deleted("advisory_matches", "hospital_id = $1", "id", &[]),
    deleted("advisory_notices", "hospital_id = $1", "id", &[]),
    deleted("ledger_cpes", "hospital_id = $1", "record_id, cpe", &[]),
    deleted("ledger_photos", "hospital_id = $1", "id", &["file_id"]),
    deleted("ledger_uploads", "hospital_id = $1", "id", &["file_id"]),
    deleted("ledger_history", "hospital_id = $1", "id", &[]),
    deleted("ledger_records", "hospital_id = $1", "id", &[]),
    deleted("ledger_heads", "hospital_id = $1", "hospital_id", &[]),
    deleted("facility_profiles", "hospital_id = $1", "hospital_id", &[]),
    deleted(
        "checklist_confirmations",
        concat!("hearing_id ", of_engagements!("hearings")),
        "id",
        &[],
    ),
    deleted(
        "hearing_participants",
        concat!("hearing_id ", of_engagements!("hearings")),
        "hearing_id, ordinal",
        &[],
    ),
    deleted(
        "checklist_answers",
        concat!("respondent_id ", of_engagements!("checklist_respondents")),
        "id",
        &[],
    ),
    deleted(
        "material_requests",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &["file_id"],
    ),
    deleted(
        "hearings",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    deleted(
        "checklist_respondents",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    deleted(
        "vendor_inquiries",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &["file_id"],
    ),
    deleted(
        "deliverable_reviews",
        concat!("deliverable_id ", of_engagements!("deliverables")),
        "id",
        &[],
    ),
    deleted(
        "deliverable_versions",
        concat!("deliverable_id ", of_engagements!("deliverables")),
        "id",
        &[],
    ),
    deleted(
        "deliverables",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    deleted(
        "review_comments",
        concat!("thread_id ", of_engagements!("review_threads")),
        "id",
        &[],
    ),
    deleted(
        "review_threads",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    deleted(
        "deep_dive_steps",
        concat!("deep_dive_id ", of_engagements!("deep_dives")),
        "id",
        &[],
    ),
    deleted(
        "deep_dives",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    deleted(
        "finding_steps",
        concat!("finding_id ", of_engagements!("findings")),
        "id",
        &[],
    ),
    deleted(
        "findings",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    deleted(
        "report_files",
        concat!("release_id ", of_engagements!("report_releases")),
        "id",
        &["file_id"],
    ),
    deleted(
        "report_releases",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    kept("organisations", "*", "id = $1", "id", &[]),
    kept(
        "accounts",
        "id, org_id, email, display_name, role, language, disabled, created_at, updated_at",
        "org_id = $1",
        "id",
        &[],
    ),
    kept("engagements", "*", "hospital_id = $1", "id", &[]),
    kept(
        "engagement_transitions",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    kept(
        "agreements",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &["scan_file_id", "document_file_id"],
    ),
    kept(
        "generated_documents",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &["file_id"],
    ),
    kept(
        "estimates",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    kept(
        "orders",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    kept(
        "payments",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    kept(
        "labour_plans",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    kept(
        "labour_entries",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    kept(
        "labour_weeks",
        "*",
        "engagement_id IN (SELECT id FROM engagements WHERE hospital_id = $1)",
        "id",
        &[],
    ),
    kept(
        "labour_week_steps",
        "*",
        concat!("week_id ", of_engagements!("labour_weeks")),
        "id",
        &[],
    ),
];

/// One archive handed over or one erasure, as the secretariat's screen lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataReturnRecord {
    pub id: i64,
    /// `exported` or `erased`.
    pub action: String,
    pub digest: String,
    pub summary: ReturnSummary,
    pub reason: String,
    pub at_ms: i64,
    pub by: Option<AccountId>,
    pub by_name: Option<String>,
}

impl Store {
    /// Everything about one hospital, for the archive handed back to it;
    /// recorded (with its digest) so that the erasure can refer to it.
    pub async fn export_hospital_data(
        &self,
        ctx: &AuditContext,
        hospital: OrgId,
    ) -> Result<ArchiveContents> {
        ctx.require("return a hospital's data", may_return_hospital_data)?;
        let mut tx = self.begin_write().await?;
        let contents = read_contents(self, &mut tx, hospital).await?;
        let digest = contents.digest();
        let summary = contents.summary();
        record_return(&mut tx, ctx, hospital, "exported", &digest, &summary, "").await?;
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataExported,
            format!("hospital:{}", hospital.0),
            Some(hospital),
            format!(
                "digest {digest}: {} rows and {} files to delete, {} rows and {} files kept",
                summary.deleted_row_total(),
                summary.deleted_files,
                summary.kept_row_total(),
                summary.kept_files
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(contents)
    }

    /// Deletes the hospital's information handed over in the archive whose
    /// digest is `digest`, after the name was typed as confirmation. Refused,
    /// with nothing deleted, if the data changed since that archive.
    pub async fn erase_hospital_data(
        &self,
        ctx: &AuditContext,
        hospital: OrgId,
        digest: &str,
        typed_name: &str,
        reason: &str,
    ) -> Result<ReturnSummary> {
        ctx.require("erase a hospital's data", may_return_hospital_data)?;
        let reason = validate::note("reason", reason, 2000)?;
        if reason.trim().is_empty() {
            return Err(DomainError::invalid(
                "reason",
                "say on whose request and when (e.g. the hospital's letter of 2026-11-20)",
            )
            .into());
        }
        let mut tx = self.begin_write().await?;
        let contents = read_contents(self, &mut tx, hospital).await?;
        if !confirms_hospital(&contents.hospital_name, typed_name) {
            return Err(DomainError::invalid(
                "confirm_name",
                "type the hospital's name exactly as shown to confirm",
            )
            .into());
        }
        let handed_over: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM hospital_data_returns WHERE hospital_id = $1 AND action = 'exported' AND digest = $2",
        )
        .bind(hospital.0)
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?;
        if handed_over.is_none() {
            return Err(StoreError::Conflict(
                "no archive with this digest was made for this hospital: make the archive first"
                    .to_string(),
            ));
        }
        if contents.digest() != digest {
            return Err(StoreError::Conflict(
                "the hospital's data changed since that archive was made: make a new archive and hand it over first"
                    .to_string(),
            ));
        }
        let summary = contents.summary();
        for table in PLAN
            .iter()
            .filter(|t| t.after_return == AfterReturn::Deleted)
        {
            let sql = format!("DELETE FROM {} WHERE {}", table.name, table.filter);
            let done = sqlx::query(AssertSqlSafe(sql))
                .bind(hospital.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let expected = summary.deleted_rows.get(table.name).copied().unwrap_or(0);
            // A row written after the archive was read must not go unreturned.
            if done != expected as u64 {
                return Err(StoreError::Conflict(format!(
                    "{} changed while erasing ({done} rows, {expected} archived): nothing was deleted; make a new archive",
                    table.name
                )));
            }
        }
        let files: Vec<i64> = contents
            .files
            .iter()
            .filter(|f| f.after_return == AfterReturn::Deleted)
            .map(|f| f.id)
            .collect();
        for chunk in files.chunks(500) {
            let list = id_list(chunk);
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM file_blobs WHERE file_id IN ({list})"
            )))
            .execute(&mut *tx)
            .await?;
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM files WHERE id IN ({list})"
            )))
            .execute(&mut *tx)
            .await?;
        }
        record_return(&mut tx, ctx, hospital, "erased", digest, &summary, &reason).await?;
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataErased,
            format!("hospital:{}", hospital.0),
            Some(hospital),
            format!(
                "digest {digest}: {} rows in {} tables and {} files ({} bytes) deleted; reason: {reason}",
                summary.deleted_row_total(),
                summary.deleted_rows.values().filter(|n| **n > 0).count(),
                summary.deleted_files,
                summary.deleted_file_bytes
            ),
        )
        .await?;
        tx.commit().await?;
        // A bucket's objects go once nothing names them; the rows are gone
        // already, so a failure here leaves only unnamed bytes behind.
        let erased_digests: Vec<String> = contents
            .files
            .iter()
            .filter(|f| f.after_return == AfterReturn::Deleted)
            .map(|f| f.sha256.clone())
            .collect();
        if let Err(e) = self.delete_unreferenced_blobs(&erased_digests).await {
            tracing::warn!(hospital = hospital.0, error = %e, "erased files' objects not removed from the bucket");
        }
        Ok(summary)
    }

    /// The archives handed over and the erasures done for one hospital, newest first.
    pub async fn hospital_data_returns(
        &self,
        ctx: &AuditContext,
        hospital: OrgId,
    ) -> Result<Vec<DataReturnRecord>> {
        ctx.require("see a hospital's data returns", may_return_hospital_data)?;
        let rows: Vec<ReturnRow> =
            sqlx::query_as(
                "SELECT r.id, r.action, r.digest, r.summary, r.reason, r.at, r.by_account, a.display_name
                 FROM hospital_data_returns r LEFT JOIN accounts a ON a.id = r.by_account
                 WHERE r.hospital_id = $1 ORDER BY r.id DESC",
            )
            .bind(hospital.0)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(
                |(id, action, digest, summary, reason, at_ms, by, by_name)| {
                    Ok(DataReturnRecord {
                        id,
                        action,
                        digest,
                        summary: serde_json::from_str(&summary).map_err(|_| {
                            StoreError::Corrupt {
                                column: "hospital_data_returns.summary",
                                value: summary.clone(),
                            }
                        })?,
                        reason,
                        at_ms,
                        by: by.map(AccountId),
                        by_name,
                    })
                },
            )
            .collect()
    }
}

type ReturnRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

async fn record_return(
    tx: &mut Tx,
    ctx: &AuditContext,
    hospital: OrgId,
    action: &str,
    digest: &str,
    summary: &ReturnSummary,
    reason: &str,
) -> Result<()> {
    let summary = serde_json::to_string(summary).map_err(|e| StoreError::Corrupt {
        column: "hospital_data_returns.summary",
        value: e.to_string(),
    })?;
    sqlx::query(
        "INSERT INTO hospital_data_returns (hospital_id, action, digest, summary, reason, at, by_account) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(hospital.0)
    .bind(action)
    .bind(digest)
    .bind(summary)
    .bind(reason)
    .bind(now_ms())
    .bind(ctx.actor.map(|a| a.account.0))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Reads every planned table and the files they name, in the caller's transaction.
async fn read_contents(store: &Store, tx: &mut Tx, hospital: OrgId) -> Result<ArchiveContents> {
    let not_found = || StoreError::NotFound {
        what: "hospital",
        key: hospital.0.to_string(),
    };
    if kind_of(&mut *tx, hospital).await? != Some(OrgKind::Hospital) {
        return Err(not_found());
    }
    let hospital_name: String = sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
        .bind(hospital.0)
        .fetch_one(&mut **tx)
        .await?;
    let mut tables = Vec::with_capacity(PLAN.len());
    let mut file_refs: Vec<(i64, &'static str, AfterReturn)> = Vec::new();
    for plan in PLAN {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {}",
            plan.columns, plan.name, plan.filter, plan.order_by
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(hospital.0)
            .fetch_all(&mut **tx)
            .await?;
        let mut archived = Vec::with_capacity(rows.len());
        for row in &rows {
            let value = row_json(row, plan.name)?;
            for column in plan.file_columns {
                if let Some(id) = value.get(*column).and_then(serde_json::Value::as_i64) {
                    file_refs.push((id, plan.name, plan.after_return));
                }
            }
            archived.push(value);
        }
        tables.push(ArchivedTable {
            name: plan.name.to_string(),
            after_return: plan.after_return,
            rows: archived,
        });
    }
    let mut seen = BTreeSet::new();
    file_refs.retain(|(id, _, _)| seen.insert(*id));
    file_refs.sort_by_key(|(id, _, _)| *id);
    let mut files = Vec::with_capacity(file_refs.len());
    for (id, held_by, after_return) in file_refs {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT name, content_type, sha256 FROM files WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        let bytes = match &row {
            Some((_, _, sha256)) => store.read_blob(tx, id, sha256).await?,
            None => None,
        };
        let (Some((name, content_type, sha256)), Some(bytes)) = (row, bytes) else {
            return Err(StoreError::Corrupt {
                column: "files.id",
                value: format!("{held_by} names file {id}, which is missing"),
            });
        };
        files.push(ArchivedFile {
            id,
            name,
            content_type,
            sha256,
            held_by: held_by.to_string(),
            after_return,
            bytes,
        });
    }
    Ok(ArchiveContents {
        hospital_id: hospital.0,
        hospital_name,
        tables,
        files,
    })
}

/// A row as a JSON object, whatever the backend; text holding a JSON
/// object or array is embedded as JSON so the hospital can read it.
fn row_json(row: &AnyRow, table: &str) -> Result<serde_json::Value> {
    let mut object = serde_json::Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(index)?;
        let value = if raw.is_null() {
            serde_json::Value::Null
        } else {
            match raw.type_info().kind() {
                AnyTypeInfoKind::Null => serde_json::Value::Null,
                AnyTypeInfoKind::Bool => serde_json::Value::Bool(row.try_get::<bool, _>(index)?),
                AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
                    serde_json::Value::from(row.try_get::<i64, _>(index)?)
                }
                AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
                    serde_json::Value::from(row.try_get::<f64, _>(index)?)
                }
                AnyTypeInfoKind::Text => {
                    let text: String = row.try_get(index)?;
                    embedded_json(&text).unwrap_or(serde_json::Value::String(text))
                }
                AnyTypeInfoKind::Blob => {
                    return Err(StoreError::Corrupt {
                        column: "data_return",
                        value: format!(
                            "{table}.{} holds bytes outside the files table",
                            column.name()
                        ),
                    });
                }
            }
        };
        object.insert(column.name().to_string(), value);
    }
    Ok(serde_json::Value::Object(object))
}

fn embedded_json(text: &str) -> Option<serde_json::Value> {
    if !(text.starts_with('{') || text.starts_with('[')) {
        return None;
    }
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deleted_table_comes_before_the_tables_it_refers_to() {
        let position = |name: &str| PLAN.iter().position(|t| t.name == name).unwrap();
        for (child, parent) in [
            ("advisory_match_steps", "advisory_matches"),
            ("ledger_cpes", "ledger_records"),
            ("ledger_photos", "ledger_records"),
            ("ledger_history", "ledger_records"),
            ("checklist_confirmations", "hearings"),
            ("checklist_confirmations", "checklist_respondents"),
            ("hearing_participants", "hearings"),
            ("checklist_answers", "checklist_respondents"),
            ("material_requests", "hearings"),
            ("deliverable_reviews", "deliverables"),
            ("deliverable_versions", "deliverables"),
            ("review_comments", "review_threads"),
            ("deep_dive_steps", "deep_dives"),
            ("finding_steps", "findings"),
            ("report_files", "report_releases"),
        ] {
            assert!(
                position(child) < position(parent),
                "{child} before {parent}"
            );
        }
    }

    #[test]
    fn no_secret_of_an_account_is_archived() {
        let accounts = PLAN.iter().find(|t| t.name == "accounts").unwrap();
        assert!(!accounts.columns.contains("password"));
        assert!(!accounts.columns.contains("totp"));
        assert!(
            PLAN.iter()
                .all(|t| t.name != "sessions" && t.name != "api_tokens")
        );
    }
}
