//! Saving, deleting, importing and confirming ledger records.

use super::{
    ChangeAction, ChangeSource, ImportOutcome, RecordMeta, Stored, catalogue_keys, cell_problems,
    check_version, ledger_of, lock_ledger, lock_models, model_ref, new_problems, not_found,
    recheck, record_of, records_of, reference_refusal, refused, remove_record, require, to_body,
};
use crate::audit::{AuditContext, append};
use crate::db::Tx;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::ledger::{
    Asset, Backup, ExternalConnection, InvestigationEntry, Ledger, LedgerKey, LedgerRecord, Link,
    RecordKind, Segment, StructureRole, upsert,
};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, OrgId};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// Who changes what, when, from where.
struct Writer {
    hospital: OrgId,
    actor: Option<AccountId>,
    source: ChangeSource,
    now: i64,
}

fn body_text(body: &Value) -> String {
    body.to_string()
}

/// Appends one row to the record's history.
#[allow(clippy::too_many_arguments)]
async fn history_row(
    tx: &mut Tx,
    w: &Writer,
    record_id: i64,
    kind: RecordKind,
    key: &LedgerKey,
    version: i64,
    action: ChangeAction,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_history (record_id, hospital_id, kind, record_key, version, action, before_body, after_body, source, actor_id, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(record_id)
    .bind(w.hospital.0)
    .bind(kind.slug())
    .bind(key.as_str())
    .bind(version)
    .bind(action.slug())
    .bind(before.map(body_text))
    .bind(after.map(body_text))
    .bind(w.source.slug())
    .bind(w.actor.map(|a| a.0))
    .bind(w.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps `ledger_cpes` in step with an asset: its CPE names while it is
/// live, none once it is deleted.
async fn refresh_cpes(
    tx: &mut Tx,
    hospital: OrgId,
    record_id: i64,
    asset: Option<&Value>,
) -> Result<()> {
    sqlx::query("DELETE FROM ledger_cpes WHERE record_id = $1")
        .bind(record_id)
        .execute(&mut **tx)
        .await?;
    let Some(body) = asset else {
        return Ok(());
    };
    let asset: Asset = serde_json::from_value(body.clone()).map_err(|e| StoreError::Corrupt {
        column: "ledger_records.body",
        value: e.to_string(),
    })?;
    let mut seen = BTreeSet::new();
    for name in asset.cpe_names() {
        let cpe = name.to_string();
        if !seen.insert(cpe.clone()) {
            continue;
        }
        let (vendor, product) = name.vendor_product_key();
        sqlx::query(
            "INSERT INTO ledger_cpes (record_id, hospital_id, cpe, vendor, product) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(record_id)
        .bind(hospital.0)
        .bind(&cpe)
        .bind(&vendor)
        .bind(&product)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Writes one record that differs from what is stored (or is new, or was
/// deleted), with its history row; the caller checked versions and
/// references and audits.
async fn write_record(
    tx: &mut Tx,
    w: &Writer,
    existing: Option<&Stored>,
    kind: RecordKind,
    key: &LedgerKey,
    body: &Value,
) -> Result<(ChangeAction, RecordMeta)> {
    let text = body_text(body);
    let model = model_ref(kind, body);
    let (action, id, version, before) = match existing {
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO ledger_records (hospital_id, kind, record_key, body, model_ref, version, created_at, created_by, updated_at, updated_by)
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $6, $7) RETURNING id",
            )
            .bind(w.hospital.0)
            .bind(kind.slug())
            .bind(key.as_str())
            .bind(&text)
            .bind(model)
            .bind(w.now)
            .bind(w.actor.map(|a| a.0))
            .fetch_one(&mut **tx)
            .await
            .map_err(StoreError::on_unique("ledger record", &format!("{kind} {key}")))?;
            (ChangeAction::Created, id, 1, None)
        }
        Some(e) => {
            let version = e.meta.version + 1;
            // Content changed: an earlier confirmation no longer holds.
            let changed = sqlx::query(
                "UPDATE ledger_records SET body = $1, model_ref = $2, version = $3, updated_at = $4, updated_by = $5,
                   deleted_at = NULL, confirmed_at = NULL, confirmed_by = NULL
                 WHERE id = $6 AND version = $7",
            )
            .bind(&text)
            .bind(model)
            .bind(version)
            .bind(w.now)
            .bind(w.actor.map(|a| a.0))
            .bind(e.meta.id)
            .bind(e.meta.version)
            .execute(&mut **tx)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!(
                    "{kind} {key} changed meanwhile; reload and try again"
                )));
            }
            if e.deleted {
                (ChangeAction::Restored, e.meta.id, version, None)
            } else {
                (ChangeAction::Updated, e.meta.id, version, Some(&e.body))
            }
        }
    };
    history_row(tx, w, id, kind, key, version, action, before, Some(body)).await?;
    if kind == RecordKind::Asset {
        refresh_cpes(tx, w.hospital, id, Some(body)).await?;
    }
    Ok((
        action,
        RecordMeta {
            id,
            version,
            updated_at_ms: w.now,
            updated_by: w.actor,
            confirmed_at_ms: None,
            confirmed_by: None,
        },
    ))
}

/// The catalogue models the written bodies point to.
fn models_of<'a>(kind: RecordKind, bodies: impl Iterator<Item = &'a Value>) -> BTreeSet<LedgerKey> {
    bodies
        .filter_map(|b| model_ref(kind, b))
        .filter_map(|m| LedgerKey::parse(m).ok())
        .collect()
}

/// Checks every incoming record of one kind by the row rules; keys given
/// twice are problems.
fn check_all<R: LedgerRecord>(
    incoming: &Ledger,
    checked: &mut Ledger,
    problems: &mut Vec<(RecordKind, LedgerKey, &'static str, String)>,
) {
    let mut keys = BTreeSet::new();
    for record in R::table(incoming) {
        match record.checked() {
            Ok(r) => {
                if !keys.insert(r.key().clone()) {
                    problems.push((
                        R::KIND,
                        r.key().clone(),
                        "key",
                        "appears more than once in this import".to_string(),
                    ));
                }
                R::table_mut(checked).push(r);
            }
            Err(p) => problems.extend(cell_problems(R::KIND, record.key(), p)),
        }
    }
}

/// Writes the records of one kind that differ from what is stored.
async fn write_all<R: LedgerRecord + PartialEq>(
    tx: &mut Tx,
    w: &Writer,
    before: &Ledger,
    checked: &Ledger,
    existing: &HashMap<(RecordKind, &LedgerKey), &Stored>,
) -> Result<ImportOutcome> {
    let stored: HashMap<&LedgerKey, &R> = R::table(before).iter().map(|r| (r.key(), r)).collect();
    let mut outcome = ImportOutcome::default();
    for record in R::table(checked) {
        if stored.get(record.key()).is_some_and(|b| *b == record) {
            outcome.unchanged += 1;
            continue;
        }
        let body = to_body(record)?;
        let existing = existing.get(&(R::KIND, record.key())).copied();
        let (action, _) = write_record(tx, w, existing, R::KIND, record.key(), &body).await?;
        match action {
            ChangeAction::Updated => outcome.updated += 1,
            _ => outcome.created += 1,
        }
    }
    Ok(outcome)
}

impl Store {
    /// Saves one record: normalised by the same rules as a spreadsheet row,
    /// its references checked on the ledger as the save leaves it, refused
    /// if `expected_version` is not the stored one (`Some(0)`: a new record,
    /// refused if the key is taken by a live record). Identical content
    /// changes nothing (no new version, no history row); a deleted key is
    /// restored. History and audit in the same transaction.
    pub async fn save_ledger_record<R: LedgerRecord>(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        record: &R,
        expected_version: Option<i64>,
        source: ChangeSource,
    ) -> Result<RecordMeta> {
        require(grant, ctx, HospitalData::Ledger, Access::Write)?;
        let kind = R::KIND;
        let record = record
            .checked()
            .map_err(|problems| refused(cell_problems(kind, record.key(), problems).collect()))?;
        let key = record.key().clone();
        let body = to_body(&record)?;
        let w = Writer {
            hospital: grant.hospital(),
            actor: Some(grant.actor().account),
            source,
            now: now_ms(),
        };
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        lock_ledger(&mut tx, w.hospital, w.now).await?;
        let records = records_of(&mut tx, w.hospital).await?;
        let existing = records.iter().find(|r| r.kind == kind && r.key == key);
        check_version(kind, &key, existing, expected_version)?;
        let target = |id: i64| format!("ledger-record:{id}");
        if let Some(e) = existing
            && !e.deleted
            && e.body == body
        {
            append(
                &mut tx,
                ctx,
                AuditAction::LedgerRecordSaved,
                target(e.meta.id),
                Some(w.hospital),
                format!(
                    "kind={kind} key={key} version={} unchanged source={source}",
                    e.meta.version
                ),
            )
            .await?;
            tx.commit().await?;
            return Ok(e.meta.clone());
        }
        let mut catalogue = catalogue_keys(&mut tx).await?;
        lock_models(
            &mut tx,
            models_of(kind, std::iter::once(&body)),
            &mut catalogue,
        )
        .await?;
        let before = ledger_of(&records, catalogue)?;
        let mut after = before.clone();
        upsert(R::table_mut(&mut after), vec![record]);
        let problems = new_problems(&before, &after);
        if !problems.is_empty() {
            return Err(reference_refusal(problems));
        }
        let (action, meta) = write_record(&mut tx, &w, existing, kind, &key, &body).await?;
        append(
            &mut tx,
            ctx,
            AuditAction::LedgerRecordSaved,
            target(meta.id),
            Some(w.hospital),
            format!(
                "kind={kind} key={key} version={} {action} source={source}",
                meta.version
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(meta)
    }

    /// Deletes a record softly (its history keeps it); refused, naming the
    /// records that point at it, while the ledger would be left with a
    /// reference that does not resolve.
    pub async fn delete_ledger_record(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        kind: RecordKind,
        key: &LedgerKey,
        expected_version: Option<i64>,
        source: ChangeSource,
    ) -> Result<RecordMeta> {
        require(grant, ctx, HospitalData::Ledger, Access::Write)?;
        let w = Writer {
            hospital: grant.hospital(),
            actor: Some(grant.actor().account),
            source,
            now: now_ms(),
        };
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        lock_ledger(&mut tx, w.hospital, w.now).await?;
        let records = records_of(&mut tx, w.hospital).await?;
        let Some(existing) = records
            .iter()
            .find(|r| r.kind == kind && &r.key == key && !r.deleted)
        else {
            return Err(not_found(kind, key));
        };
        check_version(kind, key, Some(existing), expected_version)?;
        let before = ledger_of(&records, catalogue_keys(&mut tx).await?)?;
        let mut after = before.clone();
        remove_record(&mut after, kind, key);
        let problems = new_problems(&before, &after);
        if !problems.is_empty() {
            let users: Vec<String> = problems
                .iter()
                .map(|p| format!("{} {} ({})", p.kind, p.key, p.field))
                .collect();
            return Err(StoreError::Conflict(format!(
                "{kind} {key} is still referred to by {}",
                users.join(", ")
            )));
        }
        let version = existing.meta.version + 1;
        let changed = sqlx::query(
            "UPDATE ledger_records SET deleted_at = $1, version = $2, updated_at = $1, updated_by = $3,
               confirmed_at = NULL, confirmed_by = NULL
             WHERE id = $4 AND version = $5 AND deleted_at IS NULL",
        )
        .bind(w.now)
        .bind(version)
        .bind(w.actor.map(|a| a.0))
        .bind(existing.meta.id)
        .bind(existing.meta.version)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "{kind} {key} changed meanwhile; reload and try again"
            )));
        }
        history_row(
            &mut tx,
            &w,
            existing.meta.id,
            kind,
            key,
            version,
            ChangeAction::Deleted,
            Some(&existing.body),
            None,
        )
        .await?;
        if kind == RecordKind::Asset {
            refresh_cpes(&mut tx, w.hospital, existing.meta.id, None).await?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::LedgerRecordDeleted,
            format!("ledger-record:{}", existing.meta.id),
            Some(w.hospital),
            format!("kind={kind} key={key} version={version} source={source}"),
        )
        .await?;
        tx.commit().await?;
        Ok(RecordMeta {
            id: existing.meta.id,
            version,
            updated_at_ms: w.now,
            updated_by: w.actor,
            confirmed_at_ms: None,
            confirmed_by: None,
        })
    }

    /// Imports records of one kind; see [`Store::import_ledger`].
    pub async fn import_ledger_records<R: LedgerRecord + PartialEq>(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        records: Vec<R>,
        source: ChangeSource,
    ) -> Result<ImportOutcome> {
        let mut incoming = Ledger::default();
        *R::table_mut(&mut incoming) = records;
        self.import_ledger(ctx, grant, &incoming, source).await
    }

    /// Imports records of every kind at once (a workbook with a sheet per
    /// kind), all or nothing, in one transaction: every record checked,
    /// references checked on the ledger as the whole import leaves it (a
    /// segment and the assets in it may come together), records identical
    /// to what is stored not written (importing the same file again changes
    /// nothing). One audit record with the counts.
    pub async fn import_ledger(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        incoming: &Ledger,
        source: ChangeSource,
    ) -> Result<ImportOutcome> {
        require(grant, ctx, HospitalData::Ledger, Access::Write)?;
        let mut problems = Vec::new();
        let mut checked = Ledger::default();
        check_all::<Asset>(incoming, &mut checked, &mut problems);
        check_all::<Segment>(incoming, &mut checked, &mut problems);
        check_all::<Link>(incoming, &mut checked, &mut problems);
        check_all::<ExternalConnection>(incoming, &mut checked, &mut problems);
        check_all::<InvestigationEntry>(incoming, &mut checked, &mut problems);
        check_all::<Backup>(incoming, &mut checked, &mut problems);
        check_all::<StructureRole>(incoming, &mut checked, &mut problems);
        if !problems.is_empty() {
            return Err(refused(problems));
        }
        let asset_bodies = checked
            .assets
            .iter()
            .map(to_body)
            .collect::<Result<Vec<_>>>()?;
        let w = Writer {
            hospital: grant.hospital(),
            actor: Some(grant.actor().account),
            source,
            now: now_ms(),
        };
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        lock_ledger(&mut tx, w.hospital, w.now).await?;
        let stored = records_of(&mut tx, w.hospital).await?;
        let mut catalogue = catalogue_keys(&mut tx).await?;
        lock_models(
            &mut tx,
            models_of(RecordKind::Asset, asset_bodies.iter()),
            &mut catalogue,
        )
        .await?;
        let before = ledger_of(&stored, catalogue)?;
        let mut after = before.clone();
        upsert(&mut after.assets, checked.assets.clone());
        upsert(&mut after.segments, checked.segments.clone());
        upsert(&mut after.links, checked.links.clone());
        upsert(&mut after.connections, checked.connections.clone());
        upsert(&mut after.investigations, checked.investigations.clone());
        upsert(&mut after.backups, checked.backups.clone());
        upsert(&mut after.roles, checked.roles.clone());
        let problems = new_problems(&before, &after);
        if !problems.is_empty() {
            return Err(reference_refusal(problems));
        }
        let existing: HashMap<(RecordKind, &LedgerKey), &Stored> =
            stored.iter().map(|s| ((s.kind, &s.key), s)).collect();
        let mut outcome = ImportOutcome::default();
        let mut kinds = Vec::new();
        for kind in RecordKind::ALL {
            let counted = match kind {
                RecordKind::Asset => {
                    write_all::<Asset>(&mut tx, &w, &before, &checked, &existing).await?
                }
                RecordKind::Segment => {
                    write_all::<Segment>(&mut tx, &w, &before, &checked, &existing).await?
                }
                RecordKind::Link => {
                    write_all::<Link>(&mut tx, &w, &before, &checked, &existing).await?
                }
                RecordKind::Connection => {
                    write_all::<ExternalConnection>(&mut tx, &w, &before, &checked, &existing)
                        .await?
                }
                RecordKind::Investigation => {
                    write_all::<InvestigationEntry>(&mut tx, &w, &before, &checked, &existing)
                        .await?
                }
                RecordKind::Backup => {
                    write_all::<Backup>(&mut tx, &w, &before, &checked, &existing).await?
                }
                RecordKind::Role => {
                    write_all::<StructureRole>(&mut tx, &w, &before, &checked, &existing).await?
                }
            };
            if counted != ImportOutcome::default() {
                kinds.push(format!(
                    "{kind}:{}/{}/{}",
                    counted.created, counted.updated, counted.unchanged
                ));
            }
            outcome.created += counted.created;
            outcome.updated += counted.updated;
            outcome.unchanged += counted.unchanged;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::LedgerImported,
            format!("ledger:{}", w.hospital),
            Some(w.hospital),
            format!(
                "created={} updated={} unchanged={} kinds={} source={source}",
                outcome.created,
                outcome.updated,
                outcome.unchanged,
                kinds.join(",")
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records that the record was seen on the walk-through as recorded.
    /// The content and version stay; a `confirmed` history row keeps what
    /// was confirmed.
    pub async fn confirm_ledger_record(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        kind: RecordKind,
        key: &LedgerKey,
    ) -> Result<RecordMeta> {
        require(grant, ctx, HospitalData::Ledger, Access::Write)?;
        let w = Writer {
            hospital: grant.hospital(),
            actor: Some(grant.actor().account),
            source: ChangeSource::WalkThrough,
            now: now_ms(),
        };
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        lock_ledger(&mut tx, w.hospital, w.now).await?;
        let existing = match record_of(&mut tx, w.hospital, kind, key).await? {
            Some(r) if !r.deleted => r,
            _ => return Err(not_found(kind, key)),
        };
        sqlx::query("UPDATE ledger_records SET confirmed_at = $1, confirmed_by = $2 WHERE id = $3")
            .bind(w.now)
            .bind(w.actor.map(|a| a.0))
            .bind(existing.meta.id)
            .execute(&mut *tx)
            .await?;
        history_row(
            &mut tx,
            &w,
            existing.meta.id,
            kind,
            key,
            existing.meta.version,
            ChangeAction::Confirmed,
            None,
            Some(&existing.body),
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::LedgerRecordConfirmed,
            format!("ledger-record:{}", existing.meta.id),
            Some(w.hospital),
            format!("kind={kind} key={key} version={}", existing.meta.version),
        )
        .await?;
        tx.commit().await?;
        Ok(RecordMeta {
            confirmed_at_ms: Some(w.now),
            confirmed_by: w.actor,
            ..existing.meta
        })
    }
}
