//! Appending to and reading the hash-chained audit log.

use crate::db::{Backend, Tx, Val, begin_write_on, insert_rows};
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

impl Store {
    /// Ends a read begun with [`Store::begin_read`]: the read is recorded in
    /// the audit log before the data is handed out. The read transaction
    /// ends first, so no reader holds the log's head while it reads; the
    /// record then goes through the shared [`ReadRecorder`].
    pub(crate) async fn finish_read(
        &self,
        tx: Tx,
        ctx: &AuditContext,
        target: impl Into<String>,
        hospital: Option<OrgId>,
        detail: impl Into<String>,
    ) -> Result<()> {
        tx.commit().await?;
        let entry = AuditEntry {
            action: AuditAction::HospitalDataRead,
            target: target.into(),
            hospital,
            detail: detail.into(),
        };
        self.read_recorder.record(ctx, vec![entry]).await
    }
}

/// Records of reads waiting for the recorder's next transaction.
struct PendingReads {
    ctx: AuditContext,
    entries: Vec<AuditEntry>,
    done: tokio::sync::oneshot::Sender<std::result::Result<(), String>>,
}

/// Group commit for read records. Every page view appends to the one hash
/// chain, and each append holds the chain's head until its transaction
/// commits; one transaction per request capped a busy server at the
/// database's commit rate. Here the requests waiting at the same moment
/// share one transaction, and each still waits until its records are
/// committed before it hands data out.
#[derive(Clone)]
pub(crate) struct ReadRecorder {
    queue: tokio::sync::mpsc::UnboundedSender<PendingReads>,
}

/// Requests one recorder transaction takes at most.
const READS_PER_COMMIT: usize = 256;

impl ReadRecorder {
    /// Starts the recorder's task on the current runtime; it writes with
    /// `writer` (SQLite's writer connection, or the pool) and ends when the
    /// last store clone is dropped.
    pub(crate) fn start(writer: sqlx::AnyPool, backend: Backend) -> Self {
        let (queue, mut pending) = tokio::sync::mpsc::unbounded_channel::<PendingReads>();
        tokio::spawn(async move {
            while let Some(first) = pending.recv().await {
                let mut batch = vec![first];
                while batch.len() < READS_PER_COMMIT {
                    match pending.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let mut waiting = Vec::with_capacity(batch.len());
                let mut records = Vec::new();
                for reads in batch {
                    records.extend(reads.entries.into_iter().map(|e| (reads.ctx.clone(), e)));
                    waiting.push(reads.done);
                }
                let outcome = commit_records(&writer, backend, records)
                    .await
                    .map_err(|e| e.to_string());
                for done in waiting {
                    // A requester that went away needs no answer.
                    let _ = done.send(outcome.clone());
                }
            }
        });
        Self { queue }
    }

    /// Appends `entries` and returns once they are committed.
    pub(crate) async fn record(&self, ctx: &AuditContext, entries: Vec<AuditEntry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (done, committed) = tokio::sync::oneshot::channel();
        let pending = PendingReads {
            ctx: ctx.clone(),
            entries,
            done,
        };
        if self.queue.send(pending).is_err() {
            return Err(StoreError::AuditLog("the read recorder has stopped".into()));
        }
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::AuditLog(message)),
            Err(_) => Err(StoreError::AuditLog("the read recorder has stopped".into())),
        }
    }
}

async fn commit_records(
    writer: &sqlx::AnyPool,
    backend: Backend,
    records: Vec<(AuditContext, AuditEntry)>,
) -> Result<()> {
    let mut tx = begin_write_on(writer, backend).await?;
    append_records(&mut tx, records).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn append(
    tx: &mut Tx,
    ctx: &AuditContext,
    action: AuditAction,
    target: impl Into<String>,
    hospital: Option<OrgId>,
    detail: impl Into<String>,
) -> Result<i64> {
    let entry = AuditEntry {
        action,
        target: target.into(),
        hospital,
        detail: detail.into(),
    };
    append_all(tx, ctx, vec![entry]).await
}

/// One record to append, before it has a place in the chain.
pub(crate) struct AuditEntry {
    pub action: AuditAction,
    pub target: String,
    pub hospital: Option<OrgId>,
    pub detail: String,
}

impl AuditEntry {
    pub(crate) fn hospital_read(target: String, hospital: OrgId, detail: &str) -> Self {
        Self {
            action: AuditAction::HospitalDataRead,
            target,
            hospital: Some(hospital),
            detail: detail.to_string(),
        }
    }
}

/// Appends `entries` in order and returns the last sequence number (0 when
/// there are none). The head is moved once for the whole batch and the
/// records go in multi-row inserts: a page listing fifty hospitals costs
/// three statements under the head lock, not a hundred and fifty.
pub(crate) async fn append_all(
    tx: &mut Tx,
    ctx: &AuditContext,
    entries: Vec<AuditEntry>,
) -> Result<i64> {
    let records = entries.into_iter().map(|e| (ctx.clone(), e)).collect();
    append_records(tx, records).await
}

/// Appends records, each with its own actor, in order: the head row is
/// bumped once (which serialises appenders on PostgreSQL by its row lock,
/// as SQLite's write lock already does) and the rows are inserted many per
/// statement.
async fn append_records(tx: &mut Tx, records: Vec<(AuditContext, AuditEntry)>) -> Result<i64> {
    if records.is_empty() {
        return Ok(0);
    }
    let count = records.len() as i64;
    let head = sqlx::query(
        "UPDATE audit_head SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq, last_hash",
    )
    .bind(count)
    .fetch_one(&mut **tx)
    .await?;
    let last_seq: i64 = head.try_get("last_seq")?;
    let mut prev_hash: String = head.try_get("last_hash")?;
    let occurred_at_ms = now_ms();
    let mut rows = Vec::with_capacity(records.len());
    for (seq, (ctx, entry)) in (last_seq - count + 1..).zip(records) {
        let content = AuditContent {
            occurred_at_ms,
            actor_account: ctx.actor.map(|a| a.account),
            actor_label: ctx.actor_label,
            actor_org: ctx.actor.map(|a| a.org),
            action: entry.action.slug().to_string(),
            target: entry.target,
            hospital: entry.hospital,
            client_addr: ctx.client_addr,
            detail: entry.detail,
        };
        let hash = chain_hash(&prev_hash, seq, &content);
        rows.push(vec![
            Val::Int(seq),
            Val::Int(content.occurred_at_ms),
            Val::OptInt(content.actor_account.map(|a| a.0)),
            Val::Text(content.actor_label),
            Val::OptInt(content.actor_org.map(|o| o.0)),
            Val::Text(content.action),
            Val::Text(content.target),
            Val::OptInt(content.hospital.map(|h| h.0)),
            Val::OptText(content.client_addr),
            Val::Text(content.detail),
            Val::Text(std::mem::replace(&mut prev_hash, hash.clone())),
            Val::Text(hash),
        ]);
    }
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(&mut **tx)
        .await?;
    insert_rows(tx, "audit_events", &AUDIT_COLUMN_LIST, rows).await?;
    Ok(last_seq)
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

const AUDIT_COLUMN_LIST: [&str; 12] = [
    "seq",
    "occurred_at",
    "actor_account",
    "actor_label",
    "actor_org",
    "action",
    "target",
    "hospital",
    "client_addr",
    "detail",
    "prev_hash",
    "hash",
];

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
        let entries = reads
            .iter()
            .map(|(target, hospital)| AuditEntry::hospital_read(target.clone(), *hospital, detail))
            .collect();
        self.read_recorder.record(ctx, entries).await
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
            "SELECT {} FROM audit_events {where_clause} ORDER BY seq DESC LIMIT ${}",
            AUDIT_COLUMN_LIST.join(", "),
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
                "SELECT {} FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 1000",
                AUDIT_COLUMN_LIST.join(", ")
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
