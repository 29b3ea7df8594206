//! The hospital ledger (資産管理台帳) as stored: each record whole as JSON
//! under the key the hospital chose, a version per change, soft deletion,
//! the walk-through confirmation, and the history of every change (who,
//! when, before and after, and whether it came from a form, the API, an
//! import or the walk-through), from which the ledger as it stood at any
//! moment is rebuilt. The shared device catalogue the assets point to is
//! the secretariat's and kept the same way.
//!
//! Every function on a hospital's ledger takes a [`HospitalGrant`] for
//! [`HospitalData::Ledger`], asks the policy again inside its transaction
//! and appends its audit record (reads too) in that transaction. Every
//! write first takes the ledger's head row, so writers of one ledger go one
//! after another and references are checked on the ledger the write really
//! changes.

mod catalogue;
mod history;
mod photos;
mod uploads;
mod write;

pub use catalogue::StoredDeviceModel;
pub use history::{HistoryFilter, LedgerChange};
pub use mamori_domain::ledger::{ChangeAction, ChangeSource};
pub use photos::{LedgerPhoto, MAX_PHOTO_CAPTION_CHARS};

use crate::audit::AuditContext;
use crate::db::Tx;
use crate::{Result, Store, StoreError};
use mamori_domain::ledger::{
    AnyRecord, Asset, Backup, CellProblem, ExternalConnection, InvestigationEntry, Ledger,
    LedgerKey, LedgerRecord, Link, RecordKind, ReferenceProblem, Segment, StructureRole,
};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, DomainError, OrgId};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The bookkeeping of one stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordMeta {
    pub id: i64,
    /// 1 when created, one more with every change (deletion and restoring
    /// included; a confirmation does not change it).
    pub version: i64,
    pub updated_at_ms: i64,
    pub updated_by: Option<AccountId>,
    /// When the record was last seen on the walk-through as recorded;
    /// cleared when its content changes.
    pub confirmed_at_ms: Option<i64>,
    pub confirmed_by: Option<AccountId>,
}

/// A hospital's ledger with the bookkeeping of each live record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLedger {
    /// Live records in the order they were first written, with the
    /// catalogue's model keys.
    pub ledger: Ledger,
    pub meta: BTreeMap<(RecordKind, LedgerKey), RecordMeta>,
    /// Where the ledger stood when it was read.
    pub revision: LedgerRevision,
}

/// Where a hospital's ledger stands: every change bumps the revision, and
/// the moment tells a ledger made anew after an erasure (whose revisions
/// start again) from the one before. Equal values mean equal ledgers, so
/// what is drawn from a ledger may be kept under it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LedgerRevision {
    pub revision: i64,
    pub changed_at_ms: i64,
}

async fn revision_of(tx: &mut Tx, hospital: OrgId) -> Result<LedgerRevision> {
    let head: Option<(i64, i64)> =
        sqlx::query_as("SELECT revision, updated_at FROM ledger_heads WHERE hospital_id = $1")
            .bind(hospital.0)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(head
        .map(|(revision, changed_at_ms)| LedgerRevision {
            revision,
            changed_at_ms,
        })
        .unwrap_or_default())
}

/// One page of one table of a hospital's ledger: the live records of the
/// kind in the order they were first written, with how many live records
/// each kind has (the tabs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerTablePage {
    pub counts: BTreeMap<RecordKind, usize>,
    pub records: Vec<(AnyRecord, RecordMeta)>,
    /// Live records of the kind in all.
    pub total: usize,
}

impl StoredLedger {
    pub fn meta_of(&self, kind: RecordKind, key: &LedgerKey) -> Option<&RecordMeta> {
        self.meta.get(&(kind, key.clone()))
    }
}

/// What an import did. A deleted key imported again counts as created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
    /// Identical to what was stored: not written at all.
    pub unchanged: usize,
}

pub(crate) use crate::hospital::{recheck, require};

/// Takes the ledger's head row (and bumps its revision): from here until
/// commit no other writer changes this hospital's ledger.
async fn lock_ledger(tx: &mut Tx, hospital: OrgId, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_heads (hospital_id, revision, updated_at) VALUES ($1, 1, $2)
         ON CONFLICT (hospital_id) DO UPDATE SET revision = ledger_heads.revision + 1, updated_at = excluded.updated_at",
    )
    .bind(hospital.0)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One stored row, parsed.
#[derive(Debug, Clone)]
struct Stored {
    kind: RecordKind,
    key: LedgerKey,
    body: Value,
    deleted: bool,
    meta: RecordMeta,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    kind: String,
    record_key: String,
    body: String,
    version: i64,
    updated_at: i64,
    updated_by: Option<i64>,
    deleted_at: Option<i64>,
    confirmed_at: Option<i64>,
    confirmed_by: Option<i64>,
}

const RECORD_SELECT: &str = "SELECT id, kind, record_key, body, version, updated_at, updated_by, deleted_at, confirmed_at, confirmed_by FROM ledger_records";

fn corrupt_json(column: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
    move |err| StoreError::Corrupt {
        column,
        value: err.to_string(),
    }
}

fn parse_kind(text: &str) -> Result<RecordKind> {
    RecordKind::parse(text).map_err(crate::error::corrupt("ledger_records.kind"))
}

fn parse_key(column: &'static str, text: &str) -> Result<LedgerKey> {
    LedgerKey::parse(text).map_err(crate::error::corrupt(column))
}

fn parse_body(column: &'static str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(corrupt_json(column))
}

impl TryFrom<RecordRow> for Stored {
    type Error = StoreError;

    fn try_from(r: RecordRow) -> Result<Stored> {
        Ok(Stored {
            kind: parse_kind(&r.kind)?,
            key: parse_key("ledger_records.record_key", &r.record_key)?,
            body: parse_body("ledger_records.body", &r.body)?,
            deleted: r.deleted_at.is_some(),
            meta: RecordMeta {
                id: r.id,
                version: r.version,
                updated_at_ms: r.updated_at,
                updated_by: r.updated_by.map(AccountId),
                confirmed_at_ms: r.confirmed_at,
                confirmed_by: r.confirmed_by.map(AccountId),
            },
        })
    }
}

/// Every row of a hospital's ledger, deleted ones too, oldest first.
async fn records_of(tx: &mut Tx, hospital: OrgId) -> Result<Vec<Stored>> {
    let rows: Vec<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{RECORD_SELECT} WHERE hospital_id = $1 ORDER BY id"
    )))
    .bind(hospital.0)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(Stored::try_from).collect()
}

/// One row of a hospital's ledger, deleted or not.
async fn record_of(
    tx: &mut Tx,
    hospital: OrgId,
    kind: RecordKind,
    key: &LedgerKey,
) -> Result<Option<Stored>> {
    let row: Option<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{RECORD_SELECT} WHERE hospital_id = $1 AND kind = $2 AND record_key = $3"
    )))
    .bind(hospital.0)
    .bind(kind.slug())
    .bind(key.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(Stored::try_from).transpose()
}

fn not_found(kind: RecordKind, key: &LedgerKey) -> StoreError {
    StoreError::NotFound {
        what: "ledger record",
        key: format!("{kind} {key}"),
    }
}

/// The keys of the catalogue's live models.
async fn catalogue_keys(tx: &mut Tx) -> Result<BTreeSet<LedgerKey>> {
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT model_key FROM device_models WHERE deleted_at IS NULL")
            .fetch_all(&mut **tx)
            .await?;
    keys.iter()
        .map(|k| parse_key("device_models.model_key", k))
        .collect()
}

/// Holds the catalogue rows of `models` until commit, so a model cannot be
/// deleted while an asset that points to it is being written; a model
/// deleted meanwhile leaves `catalogue`.
async fn lock_models(
    tx: &mut Tx,
    models: BTreeSet<LedgerKey>,
    catalogue: &mut BTreeSet<LedgerKey>,
) -> Result<()> {
    for model in models {
        let held = sqlx::query(
            "UPDATE device_models SET version = version WHERE model_key = $1 AND deleted_at IS NULL",
        )
        .bind(model.as_str())
        .execute(&mut **tx)
        .await?;
        if held.rows_affected() == 0 {
            catalogue.remove(&model);
        }
    }
    Ok(())
}

/// The catalogue model an asset's body points to.
fn model_ref(kind: RecordKind, body: &Value) -> Option<&str> {
    if kind != RecordKind::Asset {
        return None;
    }
    body.get("model_ref").and_then(Value::as_str)
}

fn push<R: LedgerRecord>(ledger: &mut Ledger, body: &Value) -> Result<()> {
    let record: R =
        serde_json::from_value(body.clone()).map_err(corrupt_json("ledger_records.body"))?;
    R::table_mut(ledger).push(record);
    Ok(())
}

/// Appends a stored body to its table of `ledger`.
fn push_record(ledger: &mut Ledger, kind: RecordKind, body: &Value) -> Result<()> {
    match kind {
        RecordKind::Asset => push::<Asset>(ledger, body),
        RecordKind::Segment => push::<Segment>(ledger, body),
        RecordKind::Link => push::<Link>(ledger, body),
        RecordKind::Connection => push::<ExternalConnection>(ledger, body),
        RecordKind::Investigation => push::<InvestigationEntry>(ledger, body),
        RecordKind::Backup => push::<Backup>(ledger, body),
        RecordKind::Role => push::<StructureRole>(ledger, body),
    }
}

fn any<R: LedgerRecord>(body: &str, wrap: fn(R) -> AnyRecord) -> Result<AnyRecord> {
    serde_json::from_str::<R>(body)
        .map(wrap)
        .map_err(corrupt_json("ledger_records.body"))
}

/// A stored body as the record of its kind, straight from its text.
fn any_record(kind: RecordKind, body: &str) -> Result<AnyRecord> {
    match kind {
        RecordKind::Asset => any(body, AnyRecord::Asset),
        RecordKind::Segment => any(body, AnyRecord::Segment),
        RecordKind::Link => any(body, AnyRecord::Link),
        RecordKind::Connection => any(body, AnyRecord::Connection),
        RecordKind::Investigation => any(body, AnyRecord::Investigation),
        RecordKind::Backup => any(body, AnyRecord::Backup),
        RecordKind::Role => any(body, AnyRecord::Role),
    }
}

fn remove<R: LedgerRecord>(ledger: &mut Ledger, key: &LedgerKey) {
    R::table_mut(ledger).retain(|r| r.key() != key);
}

fn remove_record(ledger: &mut Ledger, kind: RecordKind, key: &LedgerKey) {
    match kind {
        RecordKind::Asset => remove::<Asset>(ledger, key),
        RecordKind::Segment => remove::<Segment>(ledger, key),
        RecordKind::Link => remove::<Link>(ledger, key),
        RecordKind::Connection => remove::<ExternalConnection>(ledger, key),
        RecordKind::Investigation => remove::<InvestigationEntry>(ledger, key),
        RecordKind::Backup => remove::<Backup>(ledger, key),
        RecordKind::Role => remove::<StructureRole>(ledger, key),
    }
}

/// The live records as a ledger, in the order they were first written.
fn ledger_of(records: &[Stored], catalogue_keys: BTreeSet<LedgerKey>) -> Result<Ledger> {
    let mut ledger = Ledger {
        catalogue_keys,
        ..Ledger::default()
    };
    for r in records.iter().filter(|r| !r.deleted) {
        push_record(&mut ledger, r.kind, &r.body)?;
    }
    Ok(ledger)
}

/// The hospital's live ledger as the transaction sees it (no policy, no
/// audit): what a deliverable is built from.
pub(crate) async fn ledger_in(tx: &mut Tx, hospital: OrgId) -> Result<Ledger> {
    let records = records_of(tx, hospital).await?;
    let catalogue = catalogue_keys(tx).await?;
    ledger_of(&records, catalogue)
}

/// The reference problems `after` has that `before` did not.
fn new_problems(before: &Ledger, after: &Ledger) -> Vec<ReferenceProblem> {
    let old = before.reference_problems();
    after
        .reference_problems()
        .into_iter()
        .filter(|p| !old.contains(p))
        .collect()
}

/// One refusal naming every problem: the field of the first, and each
/// problem with its record and field in the message.
fn refused(problems: Vec<(RecordKind, LedgerKey, &'static str, String)>) -> StoreError {
    let Some((kind, key, field, reason)) = problems.first() else {
        return DomainError::invalid("record", "refused").into();
    };
    let mut text = format!("{kind} {key}: {reason}");
    for (kind, key, field, reason) in &problems[1..] {
        text.push_str(&format!("; {kind} {key}: {field}: {reason}"));
    }
    DomainError::invalid(field, text).into()
}

fn cell_problems(
    kind: RecordKind,
    key: &LedgerKey,
    problems: Vec<CellProblem>,
) -> impl Iterator<Item = (RecordKind, LedgerKey, &'static str, String)> {
    let key = key.clone();
    problems
        .into_iter()
        .map(move |p| (kind, key.clone(), p.field, p.reason))
}

fn reference_refusal(problems: Vec<ReferenceProblem>) -> StoreError {
    refused(
        problems
            .into_iter()
            .map(|p| (p.kind, p.key, p.field, p.reason))
            .collect(),
    )
}

fn to_body<R: Serialize>(record: &R) -> Result<Value> {
    serde_json::to_value(record).map_err(|e| StoreError::Corrupt {
        column: "ledger_records.body",
        value: e.to_string(),
    })
}

/// A stale `expected` version is a conflict naming both versions.
fn check_version(
    kind: RecordKind,
    key: &LedgerKey,
    existing: Option<&Stored>,
    expected: Option<i64>,
) -> Result<()> {
    match (expected, existing) {
        (None, _) => Ok(()),
        // Version 0: a new record, so no live record may hold the key.
        (Some(0), None) => Ok(()),
        (Some(0), Some(e)) if e.deleted => Ok(()),
        (Some(0), Some(e)) => Err(StoreError::Conflict(format!(
            "{kind} {key} already exists (version {}); choose another key or edit that record",
            e.meta.version
        ))),
        (Some(v), Some(e)) if e.meta.version == v => Ok(()),
        (Some(v), Some(e)) => Err(StoreError::Conflict(format!(
            "{kind} {key} is at version {}, but the change was made to version {v}; reload and try again",
            e.meta.version
        ))),
        (Some(v), None) => Err(StoreError::Conflict(format!(
            "{kind} {key} does not exist, but the change was made to version {v}; reload and try again"
        ))),
    }
}

impl Store {
    /// The hospital's live ledger with each record's bookkeeping and the
    /// catalogue's model keys; the read is audited.
    pub async fn ledger(&self, ctx: &AuditContext, grant: &HospitalGrant) -> Result<StoredLedger> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let revision = revision_of(&mut tx, hospital).await?;
        let records = records_of(&mut tx, hospital).await?;
        let catalogue = catalogue_keys(&mut tx).await?;
        let ledger = ledger_of(&records, catalogue)?;
        let meta: BTreeMap<_, _> = records
            .into_iter()
            .filter(|r| !r.deleted)
            .map(|r| ((r.kind, r.key), r.meta))
            .collect();
        self.finish_read(
            tx,
            ctx,
            format!("ledger:{hospital}"),
            Some(hospital),
            format!("ledger ({} records)", meta.len()),
        )
        .await?;
        Ok(StoredLedger {
            ledger,
            meta,
            revision,
        })
    }

    /// Where the hospital's ledger stands, without reading it: enough to
    /// hand out what was drawn from that revision before. Audited as a read
    /// of the ledger for `purpose`, since that is what the caller shows.
    pub async fn ledger_revision(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        purpose: &str,
    ) -> Result<LedgerRevision> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let revision = revision_of(&mut tx, hospital).await?;
        self.finish_read(
            tx,
            ctx,
            format!("ledger:{hospital}"),
            Some(hospital),
            format!("ledger {purpose} (revision {})", revision.revision),
        )
        .await?;
        Ok(revision)
    }

    /// One page of one table of the hospital's ledger, without reading the
    /// rest of it; the read is audited like [`Store::ledger`].
    pub async fn ledger_table(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        kind: RecordKind,
        paging: crate::Paging,
    ) -> Result<LedgerTablePage> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let counted: Vec<(String, i64)> = sqlx::query_as(
            "SELECT kind, COUNT(*) FROM ledger_records WHERE hospital_id = $1 AND deleted_at IS NULL GROUP BY kind",
        )
        .bind(hospital.0)
        .fetch_all(&mut *tx)
        .await?;
        let mut counts = BTreeMap::new();
        for (k, n) in counted {
            counts.insert(parse_kind(&k)?, usize::try_from(n).unwrap_or(0));
        }
        let total = counts.get(&kind).copied().unwrap_or(0);
        // Numbers of ours, never user text.
        let rows: Vec<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RECORD_SELECT} WHERE hospital_id = $1 AND kind = $2 AND deleted_at IS NULL ORDER BY id LIMIT {} OFFSET {}",
            paging.limit, paging.offset
        )))
        .bind(hospital.0)
        .bind(kind.slug())
        .fetch_all(&mut *tx)
        .await?;
        let records = rows
            .into_iter()
            .map(|r| {
                Ok((
                    any_record(kind, &r.body)?,
                    RecordMeta {
                        id: r.id,
                        version: r.version,
                        updated_at_ms: r.updated_at,
                        updated_by: r.updated_by.map(AccountId),
                        confirmed_at_ms: r.confirmed_at,
                        confirmed_by: r.confirmed_by.map(AccountId),
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let detail = if records.is_empty() {
            format!("ledger {kind} (none of {total} records)")
        } else {
            format!(
                "ledger {kind} ({}–{} of {total} records)",
                paging.offset + 1,
                paging.offset + records.len()
            )
        };
        self.finish_read(
            tx,
            ctx,
            format!("ledger:{hospital}"),
            Some(hospital),
            detail,
        )
        .await?;
        Ok(LedgerTablePage {
            counts,
            records,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use mamori_domain::engagement::EngagementState;
    use mamori_domain::organisation::{OrgKind, Role};

    #[tokio::test]
    async fn a_ledger_table_is_read_a_page_at_a_time() {
        testing::each_backend(|db| async move {
            let s = &db.store;
            let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
            let account = testing::add_account(s, company, "a@example.jp", Role::Member).await;
            // Hospital data needs a person: the contracted company's surveyor.
            let operator = AuditContext::for_actor(account.actor(), account.email.clone(), None);
            let hospital = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
            let programme = testing::add_programme(s, "令和8年度 調査").await;
            testing::add_engagement(s, programme, hospital, company, EngagementState::Surveying)
                .await;
            let write = s
                .authorize(&operator, hospital, HospitalData::Ledger, Access::Write)
                .await
                .unwrap();
            let ledger = testing::complete_ledger();
            s.import_ledger(&operator, &write, &ledger, crate::ChangeSource::Import)
                .await
                .unwrap();
            let grant = s
                .authorize(&operator, hospital, HospitalData::Ledger, Access::Read)
                .await
                .unwrap();
            let whole = s.ledger(&operator, &grant).await.unwrap();
            let assets = whole.ledger.records(RecordKind::Asset);
            assert!(assets.len() >= 3, "the fixture has a few assets");
            let mut seen = Vec::new();
            for page in 1..=assets.len() {
                let t = s
                    .ledger_table(
                        &operator,
                        &grant,
                        RecordKind::Asset,
                        crate::Paging::page(page, 2),
                    )
                    .await
                    .unwrap();
                assert_eq!(t.total, assets.len());
                for k in RecordKind::ALL {
                    assert_eq!(
                        t.counts.get(k).copied().unwrap_or(0),
                        whole.ledger.count(*k),
                        "{k}"
                    );
                }
                for (r, meta) in t.records {
                    assert_eq!(Some(&meta), whole.meta_of(RecordKind::Asset, r.key()));
                    seen.push(r);
                }
            }
            assert_eq!(seen, assets, "the pages are the table, in order, once");
            db
        })
        .await;
    }
}
