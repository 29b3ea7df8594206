//! The hospital's ledger (資産管理台帳): systems and their parts, the shared
//! device catalogue they point to, network segments and links, external
//! connections with their investigation log, backup status and the
//! management structure (seed 資料1 基本構想 and §3.3, 成果物 ④⑤⑥⑦).
//!
//! Every record has a key the hospital chooses (資産番号 and the like), so a
//! spreadsheet can be imported again and update what it imported before, and
//! records point at each other by key rather than by database id.

mod asset;
mod backup;
mod catalogue;
mod cells;
mod connection;
mod diagram;
mod evidence;
mod import;
mod network;
mod structure;

pub use asset::{Asset, AssetKind, Owner, RemoteMaintenance};
pub use backup::Backup;
pub use catalogue::DeviceModel;
pub use cells::{
    CellProblem, CellReader, Cells, Choice, Column, ColumnMapping, ImportPlan, Input, LedgerRecord,
    RowRecord, RowRejection, plan_import, read_rows, upsert,
};
pub use connection::{
    Availability, ConnectionCategory, ConnectionMethod, ExternalConnection, InvestigationEntry,
    InvestigationSource,
};
pub use diagram::{
    DiagramEdge, DiagramExternal, DiagramGroup, DiagramNode, NetworkView, OrgEdge, OrgNode,
    OrgView, network_view, org_view,
};
pub use evidence::{Evidence, evidence_for};
pub use import::{LedgerImportPlan, TableInput, TablePlan, plan_ledger_import};
pub use network::{Link, LinkMedium, Segment, SegmentKind};
pub use structure::{StructureRole, StructureRoleKind};

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Declares an enum with a slug (for files and URLs) and the Japanese and
/// English labels people read and type in spreadsheets.
macro_rules! labelled_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident => ($slug:literal, $ja:literal, $en:literal)),+ $(,)? }) => {
        $crate::organisation::slug_enum!($(#[$doc])* $name, $field { $($(#[$vmeta])* $variant => $slug),+ });

        impl $name {
            /// Every value with its labels, for forms.
            pub const CHOICES: &'static [$crate::ledger::Choice] = &[
                $($crate::ledger::Choice { slug: $slug, ja: $ja, en: $en }),+
            ];

            pub fn ja(self) -> &'static str {
                match self { $($name::$variant => $ja),+ }
            }

            pub fn en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            /// The label in the reader's language (`ja` unless `en`).
            pub fn label(self, language: &str) -> &'static str {
                if language == "en" { self.en() } else { self.ja() }
            }

            /// Reads a slug, a Japanese label or an English label (any case).
            pub fn from_text(value: &str) -> Result<Self, $crate::DomainError> {
                let wanted = $crate::ledger::fold_label(value);
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| {
                        $crate::ledger::fold_label(v.slug()) == wanted
                            || $crate::ledger::fold_label(v.ja()) == wanted
                            || $crate::ledger::fold_label(v.en()) == wanted
                    })
                    .ok_or_else(|| $crate::DomainError::UnknownValue {
                        field: $field,
                        value: value.trim().to_string(),
                        valid: Self::ALL.iter().map(|v| v.ja()).collect::<Vec<_>>().join("、"),
                    })
            }
        }
    };
}
pub(crate) use labelled_enum;

labelled_enum!(
    /// The kinds of ledger record; one table (and one workbook sheet) each.
    RecordKind, "record_kind" {
        Asset => ("asset", "資産", "assets"),
        Segment => ("segment", "セグメント", "segments"),
        Link => ("link", "機器間接続", "links"),
        Connection => ("connection", "外部接続", "external connections"),
        Investigation => ("investigation", "外部接続調査履歴", "investigation log"),
        Backup => ("backup", "バックアップ", "backups"),
        Role => ("role", "管理体制", "management structure"),
    }
);

/// Makes a record kind one table of [`Ledger`].
macro_rules! ledger_table {
    ($ty:ty, $kind:ident, $field:ident) => {
        impl $crate::ledger::LedgerRecord for $ty {
            const KIND: $crate::ledger::RecordKind = $crate::ledger::RecordKind::$kind;

            fn table(ledger: &$crate::ledger::Ledger) -> &Vec<Self> {
                &ledger.$field
            }

            fn table_mut(ledger: &mut $crate::ledger::Ledger) -> &mut Vec<Self> {
                &mut ledger.$field
            }
        }
    };
}
pub(crate) use ledger_table;

/// Labels compare without case, spaces, full-width forms or middle dots, so
/// `ＶＰＮ装置`, `vpn gateway` and `VPN-gateway` are the same word.
pub(crate) fn fold_label(value: &str) -> String {
    value
        .trim()
        .chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                other => other,
            };
            match c {
                ' ' | '\u{3000}' | '-' | '_' | '・' | '･' => None,
                other => Some(other.to_lowercase().next().unwrap_or(other)),
            }
        })
        .collect()
}

crate::organisation::slug_enum!(
    /// Where a change to the ledger came from.
    ChangeSource, "source" {
        Form => "form",
        Api => "api",
        Import => "import",
        /// Recorded on the walk-through (院内巡回), e.g. a confirmation.
        WalkThrough => "walk-through",
    }
);

crate::organisation::slug_enum!(
    /// What a change did to a record.
    ChangeAction, "action" {
        Created => "created",
        Updated => "updated",
        Deleted => "deleted",
        /// A deleted key written again.
        Restored => "restored",
        /// Seen on the walk-through, as recorded.
        Confirmed => "confirmed",
    }
);

/// A record's key inside one hospital's ledger (資産番号, 接続番号, …).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LedgerKey(String);

pub const MAX_KEY_CHARS: usize = 64;

impl LedgerKey {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(DomainError::invalid("key", "must not be empty"));
        }
        if value.chars().count() > MAX_KEY_CHARS {
            return Err(DomainError::invalid(
                "key",
                format!("longer than {MAX_KEY_CHARS} characters"),
            ));
        }
        if value.chars().any(|c| c.is_control() || c == '/') {
            return Err(DomainError::invalid(
                "key",
                "contains `/` or control characters",
            ));
        }
        Ok(LedgerKey(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LedgerKey {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        LedgerKey::parse(&value)
    }
}

impl From<LedgerKey> for String {
    fn from(key: LedgerKey) -> String {
        key.0
    }
}

impl std::fmt::Display for LedgerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One hospital's whole ledger at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub assets: Vec<Asset>,
    pub segments: Vec<Segment>,
    pub links: Vec<Link>,
    pub connections: Vec<ExternalConnection>,
    pub investigations: Vec<InvestigationEntry>,
    pub backups: Vec<Backup>,
    pub roles: Vec<StructureRole>,
    /// The shared catalogue's model keys, for checking `model_ref`; the
    /// catalogue itself is not the hospital's.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub catalogue_keys: BTreeSet<LedgerKey>,
}

/// A reference from one record to a key that does not resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceProblem {
    pub kind: RecordKind,
    pub key: LedgerKey,
    pub field: &'static str,
    pub reason: String,
}

impl std::fmt::Display for ReferenceProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}: {}",
            self.kind, self.key, self.field, self.reason
        )
    }
}

impl Ledger {
    pub fn asset(&self, key: &LedgerKey) -> Option<&Asset> {
        self.assets.iter().find(|a| &a.key == key)
    }

    pub fn keys(&self, kind: RecordKind) -> BTreeSet<&LedgerKey> {
        match kind {
            RecordKind::Asset => self.assets.iter().map(|r| &r.key).collect(),
            RecordKind::Segment => self.segments.iter().map(|r| &r.key).collect(),
            RecordKind::Link => self.links.iter().map(|r| &r.key).collect(),
            RecordKind::Connection => self.connections.iter().map(|r| &r.key).collect(),
            RecordKind::Investigation => self.investigations.iter().map(|r| &r.key).collect(),
            RecordKind::Backup => self.backups.iter().map(|r| &r.key).collect(),
            RecordKind::Role => self.roles.iter().map(|r| &r.key).collect(),
        }
    }

    /// Every reference that does not resolve: a segment, system, boundary
    /// device or superior that is not in the ledger, a link to itself, a
    /// reporting line that goes round in a circle.
    pub fn reference_problems(&self) -> Vec<ReferenceProblem> {
        let assets: HashMap<&LedgerKey, &Asset> = self.assets.iter().map(|a| (&a.key, a)).collect();
        let segments = self.keys(RecordKind::Segment);
        let connections = self.keys(RecordKind::Connection);
        let roles = self.keys(RecordKind::Role);
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
        for a in &self.assets {
            if let Some(m) = &a.model_ref
                && !self.catalogue_keys.contains(m)
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
        for s in &self.segments {
            if let Some(g) = &s.gateway
                && !assets.contains_key(g)
            {
                problem(RecordKind::Segment, &s.key, "gateway", missing("asset", g));
            }
        }
        for l in &self.links {
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
        for c in &self.connections {
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
        for i in &self.investigations {
            if !connections.contains(&i.connection) {
                problem(
                    RecordKind::Investigation,
                    &i.key,
                    "connection",
                    missing("connection", &i.connection),
                );
            }
        }
        for b in &self.backups {
            if !assets.contains_key(&b.system) {
                problem(
                    RecordKind::Backup,
                    &b.key,
                    "system",
                    missing("asset", &b.system),
                );
            }
        }
        let superiors: BTreeMap<&LedgerKey, &LedgerKey> = self
            .roles
            .iter()
            .filter_map(|r| r.reports_to.as_ref().map(|s| (&r.key, s)))
            .collect();
        for r in &self.roles {
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
}

impl RecordKind {
    /// The columns of this kind's table.
    pub fn columns(self) -> &'static [Column] {
        match self {
            RecordKind::Asset => Asset::COLUMNS,
            RecordKind::Segment => Segment::COLUMNS,
            RecordKind::Link => Link::COLUMNS,
            RecordKind::Connection => ExternalConnection::COLUMNS,
            RecordKind::Investigation => InvestigationEntry::COLUMNS,
            RecordKind::Backup => Backup::COLUMNS,
            RecordKind::Role => StructureRole::COLUMNS,
        }
    }
}

/// A record of any kind, for code that handles every kind alike (a form,
/// an API call naming the kind in its path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AnyRecord {
    Asset(Asset),
    Segment(Segment),
    Link(Link),
    Connection(ExternalConnection),
    Investigation(InvestigationEntry),
    Backup(Backup),
    Role(StructureRole),
}

impl AnyRecord {
    pub fn kind(&self) -> RecordKind {
        match self {
            AnyRecord::Asset(_) => RecordKind::Asset,
            AnyRecord::Segment(_) => RecordKind::Segment,
            AnyRecord::Link(_) => RecordKind::Link,
            AnyRecord::Connection(_) => RecordKind::Connection,
            AnyRecord::Investigation(_) => RecordKind::Investigation,
            AnyRecord::Backup(_) => RecordKind::Backup,
            AnyRecord::Role(_) => RecordKind::Role,
        }
    }

    pub fn key(&self) -> &LedgerKey {
        match self {
            AnyRecord::Asset(r) => &r.key,
            AnyRecord::Segment(r) => &r.key,
            AnyRecord::Link(r) => &r.key,
            AnyRecord::Connection(r) => &r.key,
            AnyRecord::Investigation(r) => &r.key,
            AnyRecord::Backup(r) => &r.key,
            AnyRecord::Role(r) => &r.key,
        }
    }

    /// Reads a record of `kind` from a row's text.
    pub fn from_cells(kind: RecordKind, cells: &Cells) -> Result<AnyRecord, Vec<CellProblem>> {
        Ok(match kind {
            RecordKind::Asset => AnyRecord::Asset(Asset::from_cells(cells)?),
            RecordKind::Segment => AnyRecord::Segment(Segment::from_cells(cells)?),
            RecordKind::Link => AnyRecord::Link(Link::from_cells(cells)?),
            RecordKind::Connection => AnyRecord::Connection(ExternalConnection::from_cells(cells)?),
            RecordKind::Investigation => {
                AnyRecord::Investigation(InvestigationEntry::from_cells(cells)?)
            }
            RecordKind::Backup => AnyRecord::Backup(Backup::from_cells(cells)?),
            RecordKind::Role => AnyRecord::Role(StructureRole::from_cells(cells)?),
        })
    }

    /// Reads a record of `kind` from a form or JSON object of field texts.
    pub fn from_map(
        kind: RecordKind,
        map: &BTreeMap<String, String>,
    ) -> Result<AnyRecord, Vec<CellProblem>> {
        let cells = Cells::from_pairs(
            kind.columns()
                .iter()
                .filter_map(|c| map.get(c.field).map(|v| (c.field, v.as_str()))),
        );
        AnyRecord::from_cells(kind, &cells)
    }

    pub fn to_cells(&self) -> Vec<String> {
        match self {
            AnyRecord::Asset(r) => r.to_cells(),
            AnyRecord::Segment(r) => r.to_cells(),
            AnyRecord::Link(r) => r.to_cells(),
            AnyRecord::Connection(r) => r.to_cells(),
            AnyRecord::Investigation(r) => r.to_cells(),
            AnyRecord::Backup(r) => r.to_cells(),
            AnyRecord::Role(r) => r.to_cells(),
        }
    }
}

impl Ledger {
    /// Every record of one kind, in ledger order.
    pub fn records(&self, kind: RecordKind) -> Vec<AnyRecord> {
        match kind {
            RecordKind::Asset => self.assets.iter().cloned().map(AnyRecord::Asset).collect(),
            RecordKind::Segment => self
                .segments
                .iter()
                .cloned()
                .map(AnyRecord::Segment)
                .collect(),
            RecordKind::Link => self.links.iter().cloned().map(AnyRecord::Link).collect(),
            RecordKind::Connection => self
                .connections
                .iter()
                .cloned()
                .map(AnyRecord::Connection)
                .collect(),
            RecordKind::Investigation => self
                .investigations
                .iter()
                .cloned()
                .map(AnyRecord::Investigation)
                .collect(),
            RecordKind::Backup => self
                .backups
                .iter()
                .cloned()
                .map(AnyRecord::Backup)
                .collect(),
            RecordKind::Role => self.roles.iter().cloned().map(AnyRecord::Role).collect(),
        }
    }

    pub fn record(&self, kind: RecordKind, key: &LedgerKey) -> Option<AnyRecord> {
        self.records(kind).into_iter().find(|r| r.key() == key)
    }

    pub fn count(&self, kind: RecordKind) -> usize {
        self.keys(kind).len()
    }
}

#[cfg(test)]
mod tests;
