//! Appending to and reading the hash-chained audit log.

use crate::db::{Backend, Tx};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::{
    AuditAction, AuditContent, AuditRecord, ChainBreak, ChainVerifier, chain_hash,
};
use mamori_domain::policy::{Actor, AuditScope, audit_scope};
use mamori_domain::{AccountId, OrgId};
use sqlx::{AssertSqlSafe, Row};

/// Who is acting and from where; passed to every operation that writes.
/// `actor: None` is the operator at the command line, who has the database
/// itself in hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub actor: Option<Actor>,
    pub actor_label: String,
    pub client_addr: Option<String>,
}

impl AuditContext {
    pub fn operator(label: impl Into<String>) -> Self {
        Self {
            actor: None,
            actor_label: label.into(),
            client_addr: None,
        }
    }

    pub fn for_actor(actor: Actor, label: impl Into<String>, client_addr: Option<String>) -> Self {
        Self {
            actor: Some(actor),
            actor_label: label.into(),
            client_addr,
        }
    }

    /// Refuses unless the operator acts, or the policy allows the actor.
    pub(crate) fn require(
        &self,
        what: &'static str,
        allowed: impl FnOnce(&Actor) -> bool,
    ) -> Result<()> {
        match &self.actor {
            None => Ok(()),
            Some(actor) if allowed(actor) => Ok(()),
            Some(_) => Err(StoreError::Forbidden(what)),
        }
    }
}

/// Appends one record in the caller's transaction. The head row is bumped
/// first, which serialises appenders on PostgreSQL (row lock) as SQLite's
/// write lock already does.
impl Store {
    /// Ends a read begun with [`Store::begin_read`]: the read is recorded in
    /// the audit log before the data is handed out. On SQLite the record is
    /// appended in a short write transaction of its own once the read is
    /// over, so no reader holds the write lock while it reads; on
    /// PostgreSQL it goes in the read's own transaction.
    pub(crate) async fn finish_read(
        &self,
        mut tx: Tx,
        ctx: &AuditContext,
        target: impl Into<String>,
        hospital: Option<OrgId>,
        detail: impl Into<String>,
    ) -> Result<()> {
        let action = AuditAction::HospitalDataRead;
        match self.backend() {
            Backend::Postgres => {
                append(&mut tx, ctx, action, target, hospital, detail).await?;
                tx.commit().await?;
            }
            Backend::Sqlite => {
                tx.commit().await?;
                let mut write = self.begin_write().await?;
                append(&mut write, ctx, action, target, hospital, detail).await?;
                write.commit().await?;
            }
        }
        Ok(())
    }
}

pub(crate) async fn append(
    tx: &mut Tx,
    ctx: &AuditContext,
    action: AuditAction,
    target: impl Into<String>,
    hospital: Option<OrgId>,
    detail: impl Into<String>,
) -> Result<i64> {
    let head = sqlx::query(
        "UPDATE audit_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq, last_hash",
    )
    .fetch_one(&mut **tx)
    .await?;
    let seq: i64 = head.try_get("last_seq")?;
    let prev_hash: String = head.try_get("last_hash")?;
    let content = AuditContent {
        occurred_at_ms: now_ms(),
        actor_account: ctx.actor.map(|a| a.account),
        actor_label: ctx.actor_label.clone(),
        actor_org: ctx.actor.map(|a| a.org),
        action: action.slug().to_string(),
        target: target.into(),
        hospital,
        client_addr: ctx.client_addr.clone(),
        detail: detail.into(),
    };
    let hash = chain_hash(&prev_hash, seq, &content);
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_events (seq, occurred_at, actor_account, actor_label, actor_org, action, target, hospital, client_addr, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(seq)
    .bind(content.occurred_at_ms)
    .bind(content.actor_account.map(|a| a.0))
    .bind(&content.actor_label)
    .bind(content.actor_org.map(|o| o.0))
    .bind(&content.action)
    .bind(&content.target)
    .bind(content.hospital.map(|h| h.0))
    .bind(&content.client_addr)
    .bind(&content.detail)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// Appends a record about an account (its sessions, password, factors).
pub(crate) async fn audit_account(
    tx: &mut Tx,
    ctx: &AuditContext,
    action: AuditAction,
    account: AccountId,
    detail: impl Into<String>,
) -> Result<i64> {
    append(tx, ctx, action, format!("account:{account}"), None, detail).await
}

/// What to show of the log. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_account: Option<AccountId>,
    pub action: Option<String>,
    pub hospital: Option<OrgId>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Only records older than this sequence number (paging backwards).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// Pass as `before_seq` for the next page; `None` on the last page.
    pub next_before: Option<i64>,
}

const AUDIT_COLUMNS: &str = "seq, occurred_at, actor_account, actor_label, actor_org, action, target, hospital, client_addr, detail, prev_hash, hash";

fn record_from_row(row: &sqlx::any::AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        content: AuditContent {
            occurred_at_ms: row.try_get("occurred_at")?,
            actor_account: row
                .try_get::<Option<i64>, _>("actor_account")?
                .map(AccountId),
            actor_label: row.try_get("actor_label")?,
            actor_org: row.try_get::<Option<i64>, _>("actor_org")?.map(OrgId),
            action: row.try_get("action")?,
            target: row.try_get("target")?,
            hospital: row.try_get::<Option<i64>, _>("hospital")?.map(OrgId),
            client_addr: row.try_get("client_addr")?,
            detail: row.try_get("detail")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

impl Store {
    /// Records something that changes no other table (a failed login, a
    /// refused access, an export) in its own transaction.
    pub async fn record_event(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        target: impl Into<String>,
        hospital: Option<OrgId>,
        detail: impl Into<String>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let seq = append(&mut tx, ctx, action, target, hospital, detail).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Records that the actor read these hospitals' data (one record per
    /// hospital, so each hospital can see who looked at it), in one transaction.
    pub(crate) async fn record_hospital_reads(
        &self,
        ctx: &AuditContext,
        reads: &[(String, OrgId)],
        detail: &str,
    ) -> Result<()> {
        if reads.is_empty() || ctx.actor.is_none() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (target, hospital) in reads {
            append(
                &mut tx,
                ctx,
                AuditAction::HospitalDataRead,
                target.clone(),
                Some(*hospital),
                detail,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Reads the log as `viewer` may see it: the secretariat everything,
    /// others their own actions, the ministry and vendors nothing.
    pub async fn audit_page(
        &self,
        viewer: Option<&Actor>,
        filter: &AuditFilter,
    ) -> Result<AuditPage> {
        let mut filter = filter.clone();
        if let Some(actor) = viewer {
            match audit_scope(actor) {
                Some(AuditScope::Everything) => {}
                Some(AuditScope::OwnActions) => filter.actor_account = Some(actor.account),
                None => return Err(StoreError::Forbidden("audit log")),
            }
        }
        let limit = filter.limit.clamp(1, 10_000);
        enum Value {
            Int(i64),
            Text(String),
        }
        // Each condition once: its column test and the value bound to it.
        let conditions: Vec<(&str, Value)> = [
            filter
                .actor_account
                .map(|a| ("actor_account =", Value::Int(a.0))),
            filter.action.clone().map(|a| ("action =", Value::Text(a))),
            filter.hospital.map(|h| ("hospital =", Value::Int(h.0))),
            filter.from_ms.map(|t| ("occurred_at >=", Value::Int(t))),
            filter.until_ms.map(|t| ("occurred_at <", Value::Int(t))),
            filter.before_seq.map(|q| ("seq <", Value::Int(q))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            let tests: Vec<String> = conditions
                .iter()
                .enumerate()
                .map(|(n, (test, _))| format!("{test} ${}", n + 1))
                .collect();
            format!("WHERE {}", tests.join(" AND "))
        };
        // Only placeholders and fixed column names are formatted in; values are bound.
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events {where_clause} ORDER BY seq DESC LIMIT ${}",
            conditions.len() + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (_, value) in conditions {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
            };
        }
        let rows = query.bind(limit + 1).fetch_all(&self.pool).await?;
        let mut records = rows
            .iter()
            .map(record_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_before = if records.len() as i64 > limit {
            records.truncate(limit as usize);
            records.last().map(|r| r.seq)
        } else {
            None
        };
        Ok(AuditPage {
            records,
            next_before,
        })
    }

    /// Walks the chain up to the head as it is now, in batches, and checks
    /// every link. `Ok` carries the number of records checked; `Err` names
    /// the first broken one. Records appended during the walk are left for
    /// the next run.
    pub async fn verify_audit_chain(&self) -> Result<Result<i64, ChainBreak>> {
        let head: i64 = sqlx::query_scalar("SELECT last_seq FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        loop {
            let sql = format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 1000"
            );
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(after)
                .bind(head)
                .fetch_all(&self.pool)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let record = record_from_row(row)?;
                if let Err(broken) = verifier.check(&record) {
                    return Ok(Err(broken));
                }
                after = record.seq;
            }
        }
        Ok(verifier.finish(head))
    }
}
