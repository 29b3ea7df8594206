//! Network segments and the links between assets.

use super::cells::{Column, Input, key_text};
use super::{CellProblem, Cells, LedgerKey, RecordKind, RowRecord, labelled_enum, ledger_table};
use serde::{Deserialize, Serialize};

labelled_enum!(
    /// What a segment is for.
    SegmentKind, "segment_kind" {
        InternalLan => ("internal-lan", "院内LAN", "hospital LAN"),
        Clinical => ("clinical", "医療系", "clinical"),
        Administrative => ("administrative", "事務系", "administrative"),
        Dmz => ("dmz", "DMZ", "DMZ"),
        Maintenance => ("maintenance", "保守用", "maintenance"),
        Guest => ("guest", "来訪者用", "guest"),
        Other => ("other", "その他", "other"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub key: LedgerKey,
    pub name: String,
    pub kind: SegmentKind,
    /// Address range or VLAN, as the hospital writes it.
    pub address_range: String,
    /// The asset that routes this segment to the others or outside.
    pub gateway: Option<LedgerKey>,
    pub notes: String,
}

ledger_table!(Segment, Segment, segments);

const SEGMENT_COLUMNS: &[Column] = &[
    Column::required("key", "セグメント番号", "segment key"),
    Column::required("name", "名称", "name"),
    Column::required("kind", "種別", "kind").input(Input::Choice(SegmentKind::CHOICES)),
    Column::new(
        "address_range",
        "アドレス範囲・VLAN",
        "address range or VLAN",
    ),
    Column::new("gateway", "ゲートウェイ", "gateway").input(Input::Reference(RecordKind::Asset)),
    Column::new("notes", "備考", "notes").input(Input::Multiline),
];

impl RowRecord for Segment {
    const COLUMNS: &'static [Column] = SEGMENT_COLUMNS;

    fn key(&self) -> &LedgerKey {
        &self.key
    }

    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>> {
        let mut r = cells.reader();
        let key = r.key("key");
        let name = r.required("name", 200);
        let kind = r.choice("kind", SegmentKind::from_text, None);
        let address_range = r.note("address_range", 200);
        let gateway = r.optional_key("gateway");
        let notes = r.note("notes", 4000);
        r.finish(|| {
            Some(Segment {
                key: key?,
                name,
                kind: kind?,
                address_range,
                gateway,
                notes,
            })
        })
    }

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.key.to_string(),
            self.name.clone(),
            self.kind.ja().into(),
            self.address_range.clone(),
            key_text(&self.gateway),
            self.notes.clone(),
        ]
    }
}

labelled_enum!(
    /// How two assets are joined.
    LinkMedium, "medium" {
        Wired => ("wired", "有線", "wired"),
        Wireless => ("wireless", "無線", "wireless"),
        Vpn => ("vpn", "VPN", "VPN"),
        Other => ("other", "その他", "other"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub key: LedgerKey,
    pub from: LedgerKey,
    pub to: LedgerKey,
    pub medium: LinkMedium,
    pub label: String,
    pub notes: String,
}

ledger_table!(Link, Link, links);

const LINK_COLUMNS: &[Column] = &[
    Column::required("key", "接続番号", "link key"),
    Column::required("from", "接続元", "from").input(Input::Reference(RecordKind::Asset)),
    Column::required("to", "接続先", "to").input(Input::Reference(RecordKind::Asset)),
    Column::new("medium", "媒体", "medium").input(Input::Choice(LinkMedium::CHOICES)),
    Column::new("label", "表示名", "label"),
    Column::new("notes", "備考", "notes").input(Input::Multiline),
];

impl RowRecord for Link {
    const COLUMNS: &'static [Column] = LINK_COLUMNS;

    fn key(&self) -> &LedgerKey {
        &self.key
    }

    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>> {
        let mut r = cells.reader();
        let key = r.key("key");
        let from = r.key("from");
        let to = r.key("to");
        let medium = r.choice("medium", LinkMedium::from_text, Some(LinkMedium::Wired));
        let label = r.note("label", 200);
        let notes = r.note("notes", 4000);
        r.finish(|| {
            Some(Link {
                key: key?,
                from: from?,
                to: to?,
                medium: medium?,
                label,
                notes,
            })
        })
    }

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.key.to_string(),
            self.from.to_string(),
            self.to.to_string(),
            self.medium.ja().into(),
            self.label.clone(),
            self.notes.clone(),
        ]
    }
}
