//! The shared device catalogue: one entry per model (vendor, product, CPE
//! candidates, MDS/SDS, end of support), kept by the secretariat and read
//! by everyone who keeps or reads a ledger. Not any hospital's data; its
//! changes are audited and kept in its history like a ledger's.

use super::{ChangeAction, ImportOutcome, parse_body, parse_key, to_body};
use crate::audit::{AuditContext, append};
use crate::db::Tx;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::ledger::{DeviceModel, LedgerKey, RowRecord};
use mamori_domain::policy::{may_edit_catalogue, may_read_catalogue};
use mamori_domain::{AccountId, DomainError};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A catalogue model with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDeviceModel {
    pub id: i64,
    pub model: DeviceModel,
    pub version: i64,
    pub updated_at_ms: i64,
    pub updated_by: Option<AccountId>,
}

type ModelRow = (i64, String, String, i64, i64, Option<i64>, Option<i64>);

const MODEL_SELECT: &str =
    "SELECT id, model_key, body, version, updated_at, updated_by, deleted_at FROM device_models";

/// A stored model row, deleted ones too.
struct Row {
    stored: StoredDeviceModel,
    body: Value,
    deleted: bool,
}

fn row(r: ModelRow) -> Result<Row> {
    let body = parse_body("device_models.body", &r.2)?;
    let model: DeviceModel =
        serde_json::from_value(body.clone()).map_err(|e| StoreError::Corrupt {
            column: "device_models.body",
            value: e.to_string(),
        })?;
    parse_key("device_models.model_key", &r.1)?;
    Ok(Row {
        stored: StoredDeviceModel {
            id: r.0,
            model,
            version: r.3,
            updated_at_ms: r.4,
            updated_by: r.5.map(AccountId),
        },
        body,
        deleted: r.6.is_some(),
    })
}

async fn model_row(tx: &mut Tx, key: &LedgerKey) -> Result<Option<Row>> {
    let r: Option<ModelRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{MODEL_SELECT} WHERE model_key = $1"
    )))
    .bind(key.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    r.map(row).transpose()
}

fn not_found(key: &LedgerKey) -> StoreError {
    StoreError::NotFound {
        what: "device model",
        key: key.to_string(),
    }
}

fn refused_model(key: &LedgerKey, problems: Vec<mamori_domain::ledger::CellProblem>) -> StoreError {
    let mut text = String::new();
    for (n, p) in problems.iter().enumerate() {
        if n == 0 {
            text = format!("model {key}: {}", p.reason);
        } else {
            text.push_str(&format!("; {}: {}", p.field, p.reason));
        }
    }
    let field = problems.first().map_or("model", |p| p.field);
    DomainError::invalid(field, text).into()
}

#[allow(clippy::too_many_arguments)]
async fn history_row(
    tx: &mut Tx,
    model_id: i64,
    key: &LedgerKey,
    version: i64,
    action: ChangeAction,
    before: Option<&Value>,
    after: Option<&Value>,
    actor: Option<AccountId>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO device_model_history (model_id, model_key, version, action, before_body, after_body, actor_id, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(model_id)
    .bind(key.as_str())
    .bind(version)
    .bind(action.slug())
    .bind(before.map(Value::to_string))
    .bind(after.map(Value::to_string))
    .bind(actor.map(|a| a.0))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes a model that is new, changed or deleted before; `None` when it
/// is identical to the live one (nothing written).
async fn write_model(
    tx: &mut Tx,
    model: &DeviceModel,
    expected_version: Option<i64>,
    actor: Option<AccountId>,
    now: i64,
) -> Result<Option<(ChangeAction, StoredDeviceModel)>> {
    let body = to_body(model)?;
    let key = &model.key;
    let existing = model_row(tx, key).await?;
    match (expected_version, &existing) {
        (Some(v), Some(e)) if e.stored.version != v => {
            return Err(StoreError::Conflict(format!(
                "model {key} is at version {}, but the change was made to version {v}; reload and try again",
                e.stored.version
            )));
        }
        (Some(v), None) => {
            return Err(StoreError::Conflict(format!(
                "model {key} does not exist, but the change was made to version {v}; reload and try again"
            )));
        }
        _ => {}
    }
    let (action, id, version, before) = match &existing {
        Some(e) if !e.deleted && e.body == body => return Ok(None),
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO device_models (model_key, body, version, created_at, created_by, updated_at, updated_by)
                 VALUES ($1, $2, 1, $3, $4, $3, $4) RETURNING id",
            )
            .bind(key.as_str())
            .bind(body.to_string())
            .bind(now)
            .bind(actor.map(|a| a.0))
            .fetch_one(&mut **tx)
            .await
            .map_err(StoreError::on_unique("device model", key.as_str()))?;
            (ChangeAction::Created, id, 1, None)
        }
        Some(e) => {
            let version = e.stored.version + 1;
            let changed = sqlx::query(
                "UPDATE device_models SET body = $1, version = $2, updated_at = $3, updated_by = $4, deleted_at = NULL
                 WHERE id = $5 AND version = $6",
            )
            .bind(body.to_string())
            .bind(version)
            .bind(now)
            .bind(actor.map(|a| a.0))
            .bind(e.stored.id)
            .bind(e.stored.version)
            .execute(&mut **tx)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!(
                    "model {key} changed meanwhile; reload and try again"
                )));
            }
            if e.deleted {
                (ChangeAction::Restored, e.stored.id, version, None)
            } else {
                (ChangeAction::Updated, e.stored.id, version, Some(&e.body))
            }
        }
    };
    history_row(
        tx,
        id,
        key,
        version,
        action,
        before,
        Some(&body),
        actor,
        now,
    )
    .await?;
    Ok(Some((
        action,
        StoredDeviceModel {
            id,
            model: model.clone(),
            version,
            updated_at_ms: now,
            updated_by: actor,
        },
    )))
}

impl Store {
    /// The catalogue's live models, by key.
    pub async fn device_models(&self, ctx: &AuditContext) -> Result<Vec<StoredDeviceModel>> {
        ctx.require("device catalogue", may_read_catalogue)?;
        let rows: Vec<ModelRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MODEL_SELECT} WHERE deleted_at IS NULL ORDER BY model_key"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| row(r).map(|r| r.stored)).collect()
    }

    /// One live model of the catalogue.
    pub async fn device_model(
        &self,
        ctx: &AuditContext,
        key: &LedgerKey,
    ) -> Result<StoredDeviceModel> {
        ctx.require("device catalogue", may_read_catalogue)?;
        let r: Option<ModelRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MODEL_SELECT} WHERE model_key = $1 AND deleted_at IS NULL"
        )))
        .bind(key.as_str())
        .fetch_optional(&self.pool)
        .await?;
        match r {
            Some(r) => Ok(row(r)?.stored),
            None => Err(not_found(key)),
        }
    }

    /// Saves one model (the secretariat only): normalised like a
    /// spreadsheet row, refused if `expected_version` is stale; identical
    /// content changes nothing; a deleted key is restored. Audited.
    pub async fn save_device_model(
        &self,
        ctx: &AuditContext,
        model: &DeviceModel,
        expected_version: Option<i64>,
    ) -> Result<StoredDeviceModel> {
        ctx.require("device catalogue", may_edit_catalogue)?;
        let model = model
            .checked()
            .map_err(|problems| refused_model(&model.key, problems))?;
        let actor = ctx.actor.map(|a| a.account);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let Some((action, stored)) =
            write_model(&mut tx, &model, expected_version, actor, now).await?
        else {
            let existing = model_row(&mut tx, &model.key)
                .await?
                .ok_or_else(|| not_found(&model.key))?;
            return Ok(existing.stored);
        };
        append(
            &mut tx,
            ctx,
            AuditAction::CatalogueModelSaved,
            format!("device-model:{}", stored.id),
            None,
            format!("key={} version={} {action}", model.key, stored.version),
        )
        .await?;
        tx.commit().await?;
        self.rematch_after_catalogue_change(ctx).await?;
        Ok(stored)
    }

    /// Imports models (the secretariat only), all or nothing; models
    /// identical to the stored ones are not written, so importing the same
    /// file again changes nothing. One audit record with the counts.
    pub async fn import_device_models(
        &self,
        ctx: &AuditContext,
        models: Vec<DeviceModel>,
    ) -> Result<ImportOutcome> {
        ctx.require("device catalogue", may_edit_catalogue)?;
        let mut checked = Vec::with_capacity(models.len());
        let mut keys = BTreeSet::new();
        for model in &models {
            let m = model
                .checked()
                .map_err(|problems| refused_model(&model.key, problems))?;
            if !keys.insert(m.key.clone()) {
                return Err(DomainError::invalid(
                    "key",
                    format!("model {}: appears more than once in this import", m.key),
                )
                .into());
            }
            checked.push(m);
        }
        let actor = ctx.actor.map(|a| a.account);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut outcome = ImportOutcome::default();
        for model in &checked {
            match write_model(&mut tx, model, None, actor, now).await? {
                None => outcome.unchanged += 1,
                Some((ChangeAction::Updated, _)) => outcome.updated += 1,
                Some(_) => outcome.created += 1,
            }
        }
        append(
            &mut tx,
            ctx,
            AuditAction::CatalogueImported,
            "device-models",
            None,
            format!(
                "created={} updated={} unchanged={}",
                outcome.created, outcome.updated, outcome.unchanged
            ),
        )
        .await?;
        tx.commit().await?;
        if outcome.created + outcome.updated > 0 {
            self.rematch_after_catalogue_change(ctx).await?;
        }
        Ok(outcome)
    }

    /// Deletes a model softly (the secretariat only); refused while a live
    /// asset of any hospital points to it, saying how many.
    pub async fn delete_device_model(&self, ctx: &AuditContext, key: &LedgerKey) -> Result<()> {
        ctx.require("device catalogue", may_edit_catalogue)?;
        let actor = ctx.actor.map(|a| a.account);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let existing = match model_row(&mut tx, key).await? {
            Some(r) if !r.deleted => r,
            _ => return Err(not_found(key)),
        };
        let version = existing.stored.version + 1;
        // Deleting first holds the row: an asset being written with this
        // model waits, then finds it gone; one written before is counted.
        let changed = sqlx::query(
            "UPDATE device_models SET deleted_at = $1, version = $2, updated_at = $1, updated_by = $3
             WHERE id = $4 AND version = $5 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(version)
        .bind(actor.map(|a| a.0))
        .bind(existing.stored.id)
        .bind(existing.stored.version)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "model {key} changed meanwhile; reload and try again"
            )));
        }
        let (assets, hospitals): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(DISTINCT hospital_id) FROM ledger_records
             WHERE kind = 'asset' AND model_ref = $1 AND deleted_at IS NULL",
        )
        .bind(key.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if assets > 0 {
            return Err(StoreError::Conflict(format!(
                "model {key} is used by {assets} asset(s) in {hospitals} hospital(s); it cannot be deleted while in use"
            )));
        }
        history_row(
            &mut tx,
            existing.stored.id,
            key,
            version,
            ChangeAction::Deleted,
            Some(&existing.body),
            None,
            actor,
            now,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::CatalogueModelDeleted,
            format!("device-model:{}", existing.stored.id),
            None,
            format!("key={key} version={version}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many live assets (of all hospitals) point to each model; the
    /// secretariat's, for deciding what may go.
    pub async fn models_in_use(&self, ctx: &AuditContext) -> Result<BTreeMap<LedgerKey, usize>> {
        ctx.require("device catalogue usage", may_edit_catalogue)?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT model_ref, COUNT(*) FROM ledger_records
             WHERE kind = 'asset' AND model_ref IS NOT NULL AND deleted_at IS NULL
             GROUP BY model_ref",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(key, n)| {
                Ok((
                    parse_key("ledger_records.model_ref", &key)?,
                    usize::try_from(n).unwrap_or(0),
                ))
            })
            .collect()
    }
}
