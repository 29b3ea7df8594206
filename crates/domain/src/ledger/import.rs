//! Importing a whole upload (a workbook with a sheet per kind, or one CSV)
//! into a hospital's ledger at once: every table read, every reference
//! checked on the ledger as the whole import would leave it, so a segment
//! and the assets in it can arrive in the same file.

use super::cells::{ColumnMapping, RowRejection, read_rows, upsert};
use super::{
    Asset, Backup, ExternalConnection, InvestigationEntry, Ledger, LedgerKey, LedgerRecord, Link,
    RecordKind, Segment, StructureRole,
};
use serde::Serialize;
use std::collections::HashMap;

/// One table of an upload, assigned to a record kind.
#[derive(Debug, Clone)]
pub struct TableInput<'a> {
    /// The sheet's name (or the file's) as the user knows it.
    pub name: String,
    pub kind: RecordKind,
    pub mapping: ColumnMapping,
    pub rows: &'a [(u32, Vec<String>)],
}

/// What the import does with one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TablePlan {
    pub name: String,
    pub kind: RecordKind,
    /// Rows that will be imported (new, updated or unchanged).
    pub accepted: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: Vec<RowRejection>,
}

impl TablePlan {
    pub fn rejected_rows(&self) -> usize {
        let mut rows: Vec<u32> = self.rejected.iter().map(|r| r.row).collect();
        rows.sort_unstable();
        rows.dedup();
        rows.len()
    }
}

/// What importing an upload would do; `incoming` holds the accepted records.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LedgerImportPlan {
    pub incoming: Ledger,
    pub tables: Vec<TablePlan>,
}

impl LedgerImportPlan {
    pub fn rejected_rows(&self) -> usize {
        self.tables.iter().map(TablePlan::rejected_rows).sum()
    }

    /// Records that would be created or changed.
    pub fn changes(&self) -> usize {
        self.tables.iter().map(|t| t.created + t.updated).sum()
    }
}

/// Where an incoming record came from.
#[derive(Debug, Clone, Copy)]
struct Origin {
    table: usize,
    row: u32,
}

fn read_into<R: LedgerRecord>(
    index: usize,
    input: &TableInput,
    incoming: &mut Ledger,
    origins: &mut HashMap<(RecordKind, LedgerKey), Origin>,
    rejected: &mut [Vec<RowRejection>],
) {
    let (accepted, bad) = read_rows::<R>(&input.mapping, input.rows);
    rejected[index].extend(bad);
    let key_field = R::COLUMNS[0].field;
    for (row, record) in accepted {
        let id = (R::KIND, record.key().clone());
        if let Some(first) = origins.get(&id) {
            rejected[index].push(RowRejection {
                row,
                column: input.mapping.column_of(key_field),
                field: key_field,
                reason: format!(
                    "key `{}` is also in row {} of another table of this upload",
                    record.key(),
                    first.row
                ),
            });
            continue;
        }
        origins.insert(id, Origin { table: index, row });
        R::table_mut(incoming).push(record);
    }
}

fn merged(current: &Ledger, incoming: &Ledger) -> Ledger {
    let mut after = current.clone();
    upsert(&mut after.assets, incoming.assets.clone());
    upsert(&mut after.segments, incoming.segments.clone());
    upsert(&mut after.links, incoming.links.clone());
    upsert(&mut after.connections, incoming.connections.clone());
    upsert(&mut after.investigations, incoming.investigations.clone());
    upsert(&mut after.backups, incoming.backups.clone());
    upsert(&mut after.roles, incoming.roles.clone());
    after
}

fn remove(incoming: &mut Ledger, kind: RecordKind, key: &LedgerKey) {
    fn drop_key<R: LedgerRecord>(ledger: &mut Ledger, key: &LedgerKey) {
        R::table_mut(ledger).retain(|r| r.key() != key);
    }
    match kind {
        RecordKind::Asset => drop_key::<Asset>(incoming, key),
        RecordKind::Segment => drop_key::<Segment>(incoming, key),
        RecordKind::Link => drop_key::<Link>(incoming, key),
        RecordKind::Connection => drop_key::<ExternalConnection>(incoming, key),
        RecordKind::Investigation => drop_key::<InvestigationEntry>(incoming, key),
        RecordKind::Backup => drop_key::<Backup>(incoming, key),
        RecordKind::Role => drop_key::<StructureRole>(incoming, key),
    }
}

/// Counts created, updated and unchanged records of one kind and table.
fn count<R: LedgerRecord + PartialEq>(
    current: &Ledger,
    incoming: &Ledger,
    table: usize,
    origins: &HashMap<(RecordKind, LedgerKey), Origin>,
) -> (usize, usize, usize) {
    let before: HashMap<&LedgerKey, &R> = R::table(current).iter().map(|r| (r.key(), r)).collect();
    let mut counts = (0, 0, 0);
    for r in R::table(incoming) {
        if origins
            .get(&(R::KIND, r.key().clone()))
            .is_none_or(|o| o.table != table)
        {
            continue;
        }
        match before.get(r.key()) {
            None => counts.0 += 1,
            Some(old) if *old == r => counts.2 += 1,
            Some(_) => counts.1 += 1,
        }
    }
    counts
}

/// Reads every table and checks the whole upload against `current`. A row
/// whose reference does not resolve is rejected, and so, in turn, is any
/// row that pointed at it.
pub fn plan_ledger_import(inputs: &[TableInput], current: &Ledger) -> LedgerImportPlan {
    let mut incoming = Ledger::default();
    let mut origins = HashMap::new();
    let mut rejected: Vec<Vec<RowRejection>> = vec![Vec::new(); inputs.len()];
    for (index, input) in inputs.iter().enumerate() {
        let read = match input.kind {
            RecordKind::Asset => read_into::<Asset>,
            RecordKind::Segment => read_into::<Segment>,
            RecordKind::Link => read_into::<Link>,
            RecordKind::Connection => read_into::<ExternalConnection>,
            RecordKind::Investigation => read_into::<InvestigationEntry>,
            RecordKind::Backup => read_into::<Backup>,
            RecordKind::Role => read_into::<StructureRole>,
        };
        read(index, input, &mut incoming, &mut origins, &mut rejected);
    }
    // Each pass rejects the rows whose references fail; removing them can
    // break rows that pointed at them, so repeat until nothing changes.
    loop {
        let after = merged(current, &incoming);
        let mut removed = false;
        for p in after.reference_problems() {
            let Some(origin) = origins.remove(&(p.kind, p.key.clone())) else {
                continue;
            };
            rejected[origin.table].push(RowRejection {
                row: origin.row,
                column: inputs[origin.table].mapping.column_of(p.field),
                field: p.field,
                reason: p.reason,
            });
            remove(&mut incoming, p.kind, &p.key);
            removed = true;
        }
        if !removed {
            break;
        }
    }
    let tables = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let count = match input.kind {
                RecordKind::Asset => count::<Asset>,
                RecordKind::Segment => count::<Segment>,
                RecordKind::Link => count::<Link>,
                RecordKind::Connection => count::<ExternalConnection>,
                RecordKind::Investigation => count::<InvestigationEntry>,
                RecordKind::Backup => count::<Backup>,
                RecordKind::Role => count::<StructureRole>,
            };
            let (created, updated, unchanged) = count(current, &incoming, index, &origins);
            let mut table_rejected = std::mem::take(&mut rejected[index]);
            table_rejected.sort_by_key(|r| (r.row, r.column));
            TablePlan {
                name: input.name.clone(),
                kind: input.kind,
                accepted: created + updated + unchanged,
                created,
                updated,
                unchanged,
                rejected: table_rejected,
            }
        })
        .collect();
    LedgerImportPlan { incoming, tables }
}
