//! The history of a ledger: every change newest first, and the ledger as it
//! stood at any moment, rebuilt from that history.

use super::{
    ChangeAction, ChangeSource, parse_body, parse_key, parse_kind, push_record, recheck, require,
};
use crate::audit::AuditContext;
use crate::db::Tx;
use crate::{Result, Store};
use mamori_domain::AccountId;
use mamori_domain::ledger::{Ledger, LedgerKey, RecordKind};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// Which changes to show; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    pub kind: Option<RecordKind>,
    pub key: Option<LedgerKey>,
}

/// One change to one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerChange {
    pub id: i64,
    pub record_id: i64,
    pub kind: RecordKind,
    pub key: LedgerKey,
    /// The record's version after the change.
    pub version: i64,
    pub action: ChangeAction,
    /// The record before the change (none when it was created or restored).
    pub before: Option<Value>,
    /// The record after the change (none when it was deleted); for a
    /// confirmation, what was confirmed.
    pub after: Option<Value>,
    pub source: ChangeSource,
    pub actor: Option<AccountId>,
    pub actor_name: Option<String>,
    pub at_ms: i64,
}

type ChangeRow = (
    i64,
    i64,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    i64,
);

fn change(row: ChangeRow) -> Result<LedgerChange> {
    let body = |text: Option<String>| {
        text.map(|t| parse_body("ledger_history.body", &t))
            .transpose()
    };
    Ok(LedgerChange {
        id: row.0,
        record_id: row.1,
        kind: parse_kind(&row.2)?,
        key: parse_key("ledger_history.record_key", &row.3)?,
        version: row.4,
        action: ChangeAction::parse(&row.5)
            .map_err(crate::error::corrupt("ledger_history.action"))?,
        before: body(row.6)?,
        after: body(row.7)?,
        source: ChangeSource::parse(&row.8)
            .map_err(crate::error::corrupt("ledger_history.source"))?,
        actor: row.9.map(AccountId),
        actor_name: row.10,
        at_ms: row.11,
    })
}

/// The catalogue's model keys as they stood at `at_ms`.
async fn catalogue_keys_as_of(tx: &mut Tx, at_ms: i64) -> Result<BTreeSet<LedgerKey>> {
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT h.model_key FROM device_model_history h
         WHERE h.changed_at <= $1 AND h.action <> 'deleted'
           AND h.id = (SELECT MAX(l.id) FROM device_model_history l WHERE l.model_id = h.model_id AND l.changed_at <= $1)",
    )
    .bind(at_ms)
    .fetch_all(&mut **tx)
    .await?;
    keys.iter()
        .map(|k| parse_key("device_model_history.model_key", k))
        .collect()
}

impl Store {
    /// The changes to the hospital's ledger, newest first, at most `limit`
    /// (1–10,000); the read is audited.
    pub async fn ledger_history(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        filter: &HistoryFilter,
        limit: i64,
    ) -> Result<Vec<LedgerChange>> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let limit = limit.clamp(1, 10_000);
        let mut conditions = vec!["h.hospital_id = $1".to_string()];
        if filter.kind.is_some() {
            conditions.push(format!("h.kind = ${}", conditions.len() + 1));
        }
        if filter.key.is_some() {
            conditions.push(format!("h.record_key = ${}", conditions.len() + 1));
        }
        // Only placeholders are formatted in; values are bound.
        let sql = format!(
            "SELECT h.id, h.record_id, h.kind, h.record_key, h.version, h.action, h.before_body, h.after_body, h.source, h.actor_id, a.display_name, h.changed_at
             FROM ledger_history h LEFT JOIN accounts a ON a.id = h.actor_id
             WHERE {} ORDER BY h.id DESC LIMIT ${}",
            conditions.join(" AND "),
            conditions.len() + 1
        );
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let mut query = sqlx::query_as::<_, ChangeRow>(sqlx::AssertSqlSafe(sql)).bind(hospital.0);
        if let Some(kind) = filter.kind {
            query = query.bind(kind.slug());
        }
        if let Some(key) = &filter.key {
            query = query.bind(key.as_str().to_string());
        }
        let rows = query.bind(limit).fetch_all(&mut *tx).await?;
        let changes = rows.into_iter().map(change).collect::<Result<Vec<_>>>()?;
        let scope = match (&filter.kind, &filter.key) {
            (Some(kind), Some(key)) => format!(" of {kind} {key}"),
            (Some(kind), None) => format!(" of {kind}"),
            (None, Some(key)) => format!(" of {key}"),
            (None, None) => String::new(),
        };
        self.finish_read(
            tx,
            ctx,
            format!("ledger:{hospital}"),
            Some(hospital),
            format!("ledger history{scope} ({} changes)", changes.len()),
        )
        .await?;
        Ok(changes)
    }

    /// The ledger as it stood at `at_ms` (epoch ms), rebuilt from its
    /// history: what was known when. The read is audited.
    pub async fn ledger_as_of(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        at_ms: i64,
    ) -> Result<Ledger> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        // Per record, its last change up to then (confirmations change
        // nothing); a deletion has no body after it.
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT h.kind, h.after_body FROM ledger_history h
             WHERE h.hospital_id = $1 AND h.changed_at <= $2 AND h.action <> 'confirmed'
               AND h.id = (SELECT MAX(l.id) FROM ledger_history l
                           WHERE l.record_id = h.record_id AND l.changed_at <= $2 AND l.action <> 'confirmed')
             ORDER BY h.record_id",
        )
        .bind(hospital.0)
        .bind(at_ms)
        .fetch_all(&mut *tx)
        .await?;
        let mut ledger = Ledger {
            catalogue_keys: catalogue_keys_as_of(&mut tx, at_ms).await?,
            ..Ledger::default()
        };
        for (kind, after) in rows {
            if let Some(after) = after {
                push_record(
                    &mut ledger,
                    parse_kind(&kind)?,
                    &parse_body("ledger_history.after_body", &after)?,
                )?;
            }
        }
        self.finish_read(
            tx,
            ctx,
            format!("ledger:{hospital}"),
            Some(hospital),
            format!("ledger as of {at_ms}"),
        )
        .await?;
        Ok(ledger)
    }
}
