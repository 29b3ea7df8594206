//! Checking that every reference in a ledger resolves, in time linear in the
//! ledger: once over a whole ledger ([`Ledger::reference_problems`]), and
//! pass after pass while an import refuses rows, where only the records
//! that pointed at a refused one are looked at again.

use super::{
    Asset, AssetKind, Backup, ExternalConnection, InvestigationEntry, Ledger, LedgerKey,
    LedgerRecord, Link, RecordKind, ReferenceProblem, Segment, StructureRole,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A record's place: its kind's table and its position there.
pub(super) type Place = (RecordKind, usize);

/// What a table holds at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// The record of the ledger being checked.
    Merged,
    /// The current ledger's record at that position, the import's version
    /// having been refused.
    Current,
    /// Nothing: the import's new record was refused.
    Nothing,
}

/// One table of the ledger being checked.
struct Table<'a, R> {
    merged: &'a [R],
    current: &'a [R],
    holds: Vec<Holds>,
    /// Every position of each key, in table order.
    by_key: HashMap<&'a LedgerKey, Vec<usize>>,
}

impl<'a, R: LedgerRecord> Table<'a, R> {
    fn new(merged: &'a [R], current: &'a [R]) -> Self {
        let mut by_key: HashMap<&LedgerKey, Vec<usize>> = HashMap::with_capacity(merged.len());
        for (p, r) in merged.iter().enumerate() {
            by_key.entry(r.key()).or_default().push(p);
        }
        Table {
            merged,
            current,
            holds: vec![Holds::Merged; merged.len()],
            by_key,
        }
    }

    fn get(&self, p: usize) -> Option<&'a R> {
        match self.holds[p] {
            Holds::Merged => Some(&self.merged[p]),
            Holds::Current => Some(&self.current[p]),
            Holds::Nothing => None,
        }
    }

    fn places(&self, key: &LedgerKey) -> &[usize] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// The last record with this key (as a map collected from the table
    /// keeps it).
    fn last(&self, key: &LedgerKey) -> Option<&'a R> {
        self.places(key).iter().rev().find_map(|&p| self.get(p))
    }

    fn has(&self, key: &LedgerKey) -> bool {
        self.last(key).is_some()
    }
}

/// A ledger's tables as reference checks see them.
pub(super) struct Check<'a> {
    assets: Table<'a, Asset>,
    segments: Table<'a, Segment>,
    links: Table<'a, Link>,
    connections: Table<'a, ExternalConnection>,
    investigations: Table<'a, InvestigationEntry>,
    backups: Table<'a, Backup>,
    roles: Table<'a, StructureRole>,
    catalogue: &'a BTreeSet<LedgerKey>,
}

impl<'a> Check<'a> {
    /// Checks `ledger`; `current`, if given, holds the record each position
    /// goes back to when [`Check::refuse`] refuses the one in `ledger`.
    pub(super) fn new(ledger: &'a Ledger, current: Option<&'a Ledger>) -> Self {
        fn of<'a, R: LedgerRecord>(
            ledger: &'a Ledger,
            current: Option<&'a Ledger>,
        ) -> Table<'a, R> {
            Table::new(R::table(ledger), current.map_or(&[], |c| R::table(c)))
        }
        Check {
            assets: of(ledger, current),
            segments: of(ledger, current),
            links: of(ledger, current),
            connections: of(ledger, current),
            investigations: of(ledger, current),
            backups: of(ledger, current),
            roles: of(ledger, current),
            catalogue: &ledger.catalogue_keys,
        }
    }

    /// Every problem of the ledger, in the order of its tables and records.
    pub(super) fn all(&self) -> Vec<ReferenceProblem> {
        let roles = (0..self.roles.merged.len()).filter_map(|p| self.roles.get(p));
        let cycles = self.cycles_from(roles.map(|r| &r.key));
        let mut problems = Vec::new();
        for kind in RecordKind::ALL {
            for p in 0..self.len(*kind) {
                self.problems_at((*kind, p), &cycles, &mut problems);
            }
        }
        problems
    }

    fn len(&self, kind: RecordKind) -> usize {
        match kind {
            RecordKind::Asset => self.assets.merged.len(),
            RecordKind::Segment => self.segments.merged.len(),
            RecordKind::Link => self.links.merged.len(),
            RecordKind::Connection => self.connections.merged.len(),
            RecordKind::Investigation => self.investigations.merged.len(),
            RecordKind::Backup => self.backups.merged.len(),
            RecordKind::Role => self.roles.merged.len(),
        }
    }

    /// For every key, the places of the records that point at it, as the
    /// ledger being checked has them.
    pub(super) fn referrers(&self) -> HashMap<(RecordKind, &'a LedgerKey), Vec<Place>> {
        let mut index: HashMap<(RecordKind, &LedgerKey), Vec<Place>> = HashMap::new();
        let mut add = |to: RecordKind, key: Option<&'a LedgerKey>, from: Place| {
            if let Some(key) = key {
                index.entry((to, key)).or_default().push(from);
            }
        };
        use RecordKind::*;
        for (p, r) in self.assets.merged.iter().enumerate() {
            add(Segment, r.segment.as_ref(), (Asset, p));
            add(Asset, r.system.as_ref(), (Asset, p));
        }
        for (p, r) in self.segments.merged.iter().enumerate() {
            add(Asset, r.gateway.as_ref(), (Segment, p));
        }
        for (p, r) in self.links.merged.iter().enumerate() {
            add(Asset, Some(&r.from), (Link, p));
            add(Asset, Some(&r.to), (Link, p));
        }
        for (p, r) in self.connections.merged.iter().enumerate() {
            add(Asset, r.boundary_device.as_ref(), (Connection, p));
        }
        for (p, r) in self.investigations.merged.iter().enumerate() {
            add(Connection, Some(&r.connection), (Investigation, p));
        }
        for (p, r) in self.backups.merged.iter().enumerate() {
            add(Asset, Some(&r.system), (Backup, p));
        }
        for (p, r) in self.roles.merged.iter().enumerate() {
            add(Role, r.reports_to.as_ref(), (Role, p));
        }
        index
    }

    /// The key of the record the ledger being checked has at `place`.
    pub(super) fn key_at(&self, (kind, p): Place) -> &'a LedgerKey {
        match kind {
            RecordKind::Asset => &self.assets.merged[p].key,
            RecordKind::Segment => &self.segments.merged[p].key,
            RecordKind::Link => &self.links.merged[p].key,
            RecordKind::Connection => &self.connections.merged[p].key,
            RecordKind::Investigation => &self.investigations.merged[p].key,
            RecordKind::Backup => &self.backups.merged[p].key,
            RecordKind::Role => &self.roles.merged[p].key,
        }
    }

    /// The places of the roles with this key.
    pub(super) fn role_places(&self, key: &LedgerKey) -> impl Iterator<Item = Place> + '_ {
        self.roles
            .places(key)
            .iter()
            .map(|&p| (RecordKind::Role, p))
    }

    /// Refuses the record at `place`: the current ledger's record at that
    /// position comes back (true), or there is none and the place empties.
    pub(super) fn refuse(&mut self, (kind, p): Place) -> bool {
        fn set<R>(table: &mut Table<R>, p: usize) -> bool {
            let back = p < table.current.len();
            table.holds[p] = if back { Holds::Current } else { Holds::Nothing };
            back
        }
        match kind {
            RecordKind::Asset => set(&mut self.assets, p),
            RecordKind::Segment => set(&mut self.segments, p),
            RecordKind::Link => set(&mut self.links, p),
            RecordKind::Connection => set(&mut self.connections, p),
            RecordKind::Investigation => set(&mut self.investigations, p),
            RecordKind::Backup => set(&mut self.backups, p),
            RecordKind::Role => set(&mut self.roles, p),
        }
    }

    /// The role `key` reports to (the last role of that key that reports
    /// to someone, as a map collected from the table keeps it).
    fn superior(&self, key: &LedgerKey) -> Option<&'a LedgerKey> {
        self.roles
            .places(key)
            .iter()
            .rev()
            .find_map(|&p| self.roles.get(p).and_then(|r| r.reports_to.as_ref()))
    }

    /// The roles on the reporting circles reachable upwards from `starts`;
    /// every role is walked at most once per call.
    pub(super) fn cycles_from(
        &self,
        starts: impl IntoIterator<Item = &'a LedgerKey>,
    ) -> HashSet<&'a LedgerKey> {
        let mut walk_of: HashMap<&LedgerKey, usize> = HashMap::new();
        let mut on_cycle = HashSet::new();
        let mut path = Vec::new();
        for (walk, start) in starts.into_iter().enumerate() {
            path.clear();
            let mut at = start;
            loop {
                if let Some(&seen) = walk_of.get(at) {
                    if seen == walk
                        && let Some(from) = path.iter().position(|k| *k == at)
                    {
                        on_cycle.extend(path[from..].iter().copied());
                    }
                    break;
                }
                walk_of.insert(at, walk);
                path.push(at);
                match self.superior(at) {
                    Some(next) => at = next,
                    None => break,
                }
            }
        }
        on_cycle
    }

    /// Whether walking up from `up` comes back to `key` (for a role whose
    /// own line is not the one its key's map entry keeps).
    fn walks_back(&self, up: &LedgerKey, key: &LedgerKey) -> bool {
        let mut seen = HashSet::new();
        let mut at = up;
        while seen.insert(at) {
            if at == key {
                return true;
            }
            match self.superior(at) {
                Some(next) => at = next,
                None => break,
            }
        }
        false
    }

    /// The problems of the record at `place`, in the order of its fields;
    /// `cycles` holds the roles known to be on a reporting circle.
    pub(super) fn problems_at(
        &self,
        (kind, p): Place,
        cycles: &HashSet<&'a LedgerKey>,
        out: &mut Vec<ReferenceProblem>,
    ) {
        let mut problem = |key: &LedgerKey, field, reason: String| {
            out.push(ReferenceProblem {
                kind,
                key: key.clone(),
                field,
                reason,
            })
        };
        let missing = |what: &str, key: &LedgerKey| format!("no {what} `{key}` in the ledger");
        match kind {
            RecordKind::Asset => {
                let Some(a) = self.assets.get(p) else { return };
                if let Some(m) = &a.model_ref
                    && !self.catalogue.contains(m)
                {
                    problem(
                        &a.key,
                        "model_ref",
                        format!("no model `{m}` in the device catalogue"),
                    );
                }
                if let Some(s) = &a.segment
                    && !self.segments.has(s)
                {
                    problem(&a.key, "segment", missing("segment", s));
                }
                if let Some(s) = &a.system {
                    match self.assets.last(s) {
                        None => problem(&a.key, "system", missing("asset", s)),
                        Some(sys) if sys.kind != AssetKind::System => problem(
                            &a.key,
                            "system",
                            format!("`{s}` is a {}, not a system", sys.kind),
                        ),
                        Some(_) if s == &a.key => {
                            problem(&a.key, "system", "an asset cannot be part of itself".into())
                        }
                        Some(_) => {}
                    }
                }
            }
            RecordKind::Segment => {
                let Some(s) = self.segments.get(p) else {
                    return;
                };
                if let Some(g) = &s.gateway
                    && !self.assets.has(g)
                {
                    problem(&s.key, "gateway", missing("asset", g));
                }
            }
            RecordKind::Link => {
                let Some(l) = self.links.get(p) else { return };
                for (field, end) in [("from", &l.from), ("to", &l.to)] {
                    if !self.assets.has(end) {
                        problem(&l.key, field, missing("asset", end));
                    }
                }
                if l.from == l.to {
                    problem(&l.key, "to", "a link joins two different assets".into());
                }
            }
            RecordKind::Connection => {
                let Some(c) = self.connections.get(p) else {
                    return;
                };
                if let Some(d) = &c.boundary_device
                    && !self.assets.has(d)
                {
                    problem(&c.key, "boundary_device", missing("asset", d));
                }
            }
            RecordKind::Investigation => {
                let Some(i) = self.investigations.get(p) else {
                    return;
                };
                if !self.connections.has(&i.connection) {
                    problem(&i.key, "connection", missing("connection", &i.connection));
                }
            }
            RecordKind::Backup => {
                let Some(b) = self.backups.get(p) else { return };
                if !self.assets.has(&b.system) {
                    problem(&b.key, "system", missing("asset", &b.system));
                }
            }
            RecordKind::Role => {
                let Some(r) = self.roles.get(p) else { return };
                let Some(up) = &r.reports_to else { return };
                if !self.roles.has(up) {
                    problem(&r.key, "reports_to", missing("role", up));
                    return;
                }
                let circle = if self.superior(&r.key) == Some(up) {
                    cycles.contains(&r.key)
                } else {
                    self.walks_back(up, &r.key)
                };
                if circle {
                    problem(
                        &r.key,
                        "reports_to",
                        "the reporting lines go round in a circle".into(),
                    );
                }
            }
        }
    }
}
