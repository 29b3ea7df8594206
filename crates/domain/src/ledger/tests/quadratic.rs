//! The import planner and reference check as they were before they were
//! made linear (quadratic in a chain of references), kept to check that the
//! linear ones give the same plans, rejections and messages.

use super::super::cells::{RowRejection, read_rows};
use super::super::{
    Asset, AssetKind, Backup, ExternalConnection, InvestigationEntry, Ledger, LedgerImportPlan,
    LedgerKey, LedgerRecord, Link, RecordKind, ReferenceProblem, RowRecord, Segment, StructureRole,
    TableInput, TablePlan,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `upsert` as it was: a linear search per record.
fn upsert<R: RowRecord>(into: &mut Vec<R>, records: Vec<R>) {
    for r in records {
        match into.iter_mut().find(|e| e.key() == r.key()) {
            Some(slot) => *slot = r,
            None => into.push(r),
        }
    }
}

pub(super) fn reference_problems(ledger: &Ledger) -> Vec<ReferenceProblem> {
    let this = ledger;
    let assets: HashMap<&LedgerKey, &Asset> = this.assets.iter().map(|a| (&a.key, a)).collect();
    let segments = this.keys(RecordKind::Segment);
    let connections = this.keys(RecordKind::Connection);
    let roles = this.keys(RecordKind::Role);
    let mut problems = Vec::new();
    let mut problem = |kind, key: &LedgerKey, field, reason: String| {
        problems.push(ReferenceProblem {
            kind,
            key: key.clone(),
            field,
            reason,
        })
    };
    let missing = |what: &str, key: &LedgerKey| format!("no {what} `{key}` in the ledger");
    for a in &this.assets {
        if let Some(m) = &a.model_ref
            && !this.catalogue_keys.contains(m)
        {
            problem(
                RecordKind::Asset,
                &a.key,
                "model_ref",
                format!("no model `{m}` in the device catalogue"),
            );
        }
        if let Some(s) = &a.segment
            && !segments.contains(s)
        {
            problem(RecordKind::Asset, &a.key, "segment", missing("segment", s));
        }
        if let Some(s) = &a.system {
            match assets.get(s) {
                None => problem(RecordKind::Asset, &a.key, "system", missing("asset", s)),
                Some(sys) if sys.kind != AssetKind::System => problem(
                    RecordKind::Asset,
                    &a.key,
                    "system",
                    format!("`{s}` is a {}, not a system", sys.kind),
                ),
                Some(_) if s == &a.key => problem(
                    RecordKind::Asset,
                    &a.key,
                    "system",
                    "an asset cannot be part of itself".into(),
                ),
                Some(_) => {}
            }
        }
    }
    for s in &this.segments {
        if let Some(g) = &s.gateway
            && !assets.contains_key(g)
        {
            problem(RecordKind::Segment, &s.key, "gateway", missing("asset", g));
        }
    }
    for l in &this.links {
        for (field, end) in [("from", &l.from), ("to", &l.to)] {
            if !assets.contains_key(end) {
                problem(RecordKind::Link, &l.key, field, missing("asset", end));
            }
        }
        if l.from == l.to {
            problem(
                RecordKind::Link,
                &l.key,
                "to",
                "a link joins two different assets".into(),
            );
        }
    }
    for c in &this.connections {
        if let Some(d) = &c.boundary_device
            && !assets.contains_key(d)
        {
            problem(
                RecordKind::Connection,
                &c.key,
                "boundary_device",
                missing("asset", d),
            );
        }
    }
    for i in &this.investigations {
        if !connections.contains(&i.connection) {
            problem(
                RecordKind::Investigation,
                &i.key,
                "connection",
                missing("connection", &i.connection),
            );
        }
    }
    for b in &this.backups {
        if !assets.contains_key(&b.system) {
            problem(
                RecordKind::Backup,
                &b.key,
                "system",
                missing("asset", &b.system),
            );
        }
    }
    let superiors: BTreeMap<&LedgerKey, &LedgerKey> = this
        .roles
        .iter()
        .filter_map(|r| r.reports_to.as_ref().map(|s| (&r.key, s)))
        .collect();
    for r in &this.roles {
        let Some(up) = &r.reports_to else { continue };
        if !roles.contains(up) {
            problem(RecordKind::Role, &r.key, "reports_to", missing("role", up));
            continue;
        }
        // Walk upwards; coming back to ourselves is a circle.
        let mut seen = BTreeSet::new();
        let mut at = up;
        while seen.insert(at) {
            if at == &r.key {
                problem(
                    RecordKind::Role,
                    &r.key,
                    "reports_to",
                    "the reporting lines go round in a circle".into(),
                );
                break;
            }
            match superiors.get(at) {
                Some(next) => at = next,
                None => break,
            }
        }
    }
    problems
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
pub(super) fn plan_ledger_import(inputs: &[TableInput], current: &Ledger) -> LedgerImportPlan {
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
        for p in reference_problems(&after) {
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
