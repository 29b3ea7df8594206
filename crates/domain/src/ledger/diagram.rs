//! What the network overview (成果物 ⑥) and the management structure chart
//! (成果物 ⑦) show, worked out from the ledger; drawing them (SVG, PDF,
//! draw.io, Mermaid) is the documents crate's job. Identical terminals of a
//! segment fold into one box with a count, so 300 assets stay readable.

use super::{
    Asset, AssetKind, Availability, ConnectionCategory, ConnectionMethod, Ledger, LedgerKey,
    LinkMedium, Owner, RemoteMaintenance, SegmentKind, StructureRoleKind,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// A segment drawn as a group of boxes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagramGroup {
    pub id: String,
    pub title: String,
    /// `None`: the assets whose segment is not recorded.
    pub kind: Option<SegmentKind>,
    pub address_range: String,
}

/// One box: an asset, or identical terminals folded into one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagramNode {
    pub id: String,
    pub group: String,
    pub kind: AssetKind,
    pub title: String,
    /// Vendor, product, model and version in one line.
    pub detail: String,
    /// The system the asset belongs to, by name.
    pub system: String,
    /// Units this box stands for.
    pub count: u32,
    pub keys: Vec<LedgerKey>,
    pub vendor_owned: bool,
    pub remote_maintenance: RemoteMaintenance,
    pub internet_exposed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagramEdge {
    pub from: String,
    pub to: String,
    pub label: String,
    pub medium: LinkMedium,
}

/// An external connection, drawn outside the hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagramExternal {
    pub id: String,
    pub key: LedgerKey,
    pub category: ConnectionCategory,
    pub counterpart: String,
    pub method: ConnectionMethod,
    pub method_detail: String,
    pub availability: Availability,
    pub known_to_administrator: Option<bool>,
    /// The box of the boundary device, if recorded.
    pub via: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkView {
    pub groups: Vec<DiagramGroup>,
    pub nodes: Vec<DiagramNode>,
    pub edges: Vec<DiagramEdge>,
    pub externals: Vec<DiagramExternal>,
}

pub const UNASSIGNED_GROUP: &str = "s:";

fn asset_detail(a: &Asset) -> String {
    [&a.vendor, &a.product, &a.model, &a.version]
        .into_iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What makes two terminals one box: segment, vendor/product/model/OS,
/// system and owner.
type FoldIdentity<'a> = (
    Option<&'a LedgerKey>,
    [&'a str; 4],
    Option<&'a LedgerKey>,
    Owner,
);

/// Terminals that differ only in key, serial, address and location look the
/// same on a diagram.
fn fold_identity(a: &Asset) -> Option<FoldIdentity<'_>> {
    (a.kind == AssetKind::Terminal).then_some((
        a.segment.as_ref(),
        [&a.vendor, &a.product, &a.model, &a.os],
        a.system.as_ref(),
        a.owner,
    ))
}

/// The network overview: segments as groups, devices as boxes (systems are
/// not boxes: they name their parts), links, and external connections at
/// their boundary devices.
pub fn network_view(ledger: &Ledger) -> NetworkView {
    let system_names: HashMap<&LedgerKey, &str> = ledger
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::System)
        .map(|a| (&a.key, a.name.as_str()))
        .collect();
    let known_segments: BTreeSet<&LedgerKey> = ledger.segments.iter().map(|s| &s.key).collect();
    let group_of = |a: &Asset| match &a.segment {
        Some(s) if known_segments.contains(s) => format!("s:{s}"),
        _ => UNASSIGNED_GROUP.to_string(),
    };
    let mut view = NetworkView::default();
    // Which box each asset ended up in.
    let mut box_of: HashMap<&LedgerKey, String> = HashMap::new();
    let mut folded: HashMap<_, usize> = HashMap::new();
    for a in ledger.assets.iter().filter(|a| a.kind != AssetKind::System) {
        if let Some(identity) = fold_identity(a)
            && let Some(&index) = folded.get(&identity)
        {
            let node: &mut DiagramNode = &mut view.nodes[index];
            node.count += a.quantity;
            node.keys.push(a.key.clone());
            node.internet_exposed |= a.internet_exposed == Some(true);
            box_of.insert(&a.key, node.id.clone());
            continue;
        }
        let id = format!("a:{}", a.key);
        if let Some(identity) = fold_identity(a) {
            folded.insert(identity, view.nodes.len());
        }
        box_of.insert(&a.key, id.clone());
        view.nodes.push(DiagramNode {
            id,
            group: group_of(a),
            kind: a.kind,
            title: a.name.clone(),
            detail: asset_detail(a),
            system: a
                .system
                .as_ref()
                .and_then(|s| system_names.get(s))
                .map(|s| s.to_string())
                .unwrap_or_default(),
            count: a.quantity,
            keys: vec![a.key.clone()],
            vendor_owned: a.owner == Owner::Vendor,
            remote_maintenance: a.remote_maintenance,
            internet_exposed: a.internet_exposed == Some(true),
        });
    }
    let used_groups: BTreeSet<&str> = view.nodes.iter().map(|n| n.group.as_str()).collect();
    for s in &ledger.segments {
        view.groups.push(DiagramGroup {
            id: format!("s:{}", s.key),
            title: s.name.clone(),
            kind: Some(s.kind),
            address_range: s.address_range.clone(),
        });
    }
    if used_groups.contains(UNASSIGNED_GROUP) {
        view.groups.push(DiagramGroup {
            id: UNASSIGNED_GROUP.to_string(),
            title: "セグメント未登録".into(),
            kind: None,
            address_range: String::new(),
        });
    }
    let mut seen_edges = BTreeSet::new();
    for l in &ledger.links {
        let (Some(from), Some(to)) = (box_of.get(&l.from), box_of.get(&l.to)) else {
            continue;
        };
        // Folding can turn several links into one, or a link into a loop.
        let pair = if from <= to {
            (from.clone(), to.clone())
        } else {
            (to.clone(), from.clone())
        };
        if from == to || !seen_edges.insert(pair) {
            continue;
        }
        view.edges.push(DiagramEdge {
            from: from.clone(),
            to: to.clone(),
            label: l.label.clone(),
            medium: l.medium,
        });
    }
    for c in &ledger.connections {
        view.externals.push(DiagramExternal {
            id: format!("x:{}", c.key),
            key: c.key.clone(),
            category: c.category,
            counterpart: c.counterpart.clone(),
            method: c.method,
            method_detail: c.method_detail.clone(),
            availability: c.availability,
            known_to_administrator: c.known_to_administrator,
            via: c
                .boundary_device
                .as_ref()
                .and_then(|d| box_of.get(d))
                .cloned(),
        });
    }
    view
}

/// One box of the management structure chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgNode {
    pub id: String,
    pub key: LedgerKey,
    pub kind: StructureRoleKind,
    pub title: String,
    pub person: String,
    pub organisation: String,
    pub business_phone: String,
    pub business_email: String,
    pub responsibilities: String,
    pub incident_order: Option<u32>,
    pub outside: bool,
}

/// A reporting line, drawn from the superior down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgEdge {
    pub superior: String,
    pub subordinate: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub nodes: Vec<OrgNode>,
    pub edges: Vec<OrgEdge>,
    /// The incident contact chain, first called first.
    pub incident_chain: Vec<String>,
}

impl OrgView {
    /// Boxes without a superior, the tops of the chart.
    pub fn roots(&self) -> Vec<&OrgNode> {
        let subordinates: BTreeSet<&str> =
            self.edges.iter().map(|e| e.subordinate.as_str()).collect();
        self.nodes
            .iter()
            .filter(|n| !subordinates.contains(n.id.as_str()))
            .collect()
    }

    pub fn children(&self, id: &str) -> Vec<&OrgNode> {
        self.edges
            .iter()
            .filter(|e| e.superior == id)
            .filter_map(|e| self.nodes.iter().find(|n| n.id == e.subordinate))
            .collect()
    }
}

/// The management structure: roles, reporting lines (a line into a circle
/// or to a missing role is left out) and the incident contact chain.
pub fn org_view(ledger: &Ledger) -> OrgView {
    let bad: BTreeSet<LedgerKey> = ledger
        .reference_problems()
        .into_iter()
        .filter(|p| p.kind == super::RecordKind::Role)
        .map(|p| p.key)
        .collect();
    let mut view = OrgView::default();
    for r in &ledger.roles {
        view.nodes.push(OrgNode {
            id: format!("r:{}", r.key),
            key: r.key.clone(),
            kind: r.kind,
            title: r.title.clone(),
            person: r.person.clone(),
            organisation: r.organisation.clone(),
            business_phone: r.business_phone.clone(),
            business_email: r.business_email.clone(),
            responsibilities: r.responsibilities.clone(),
            incident_order: r.incident_order,
            outside: r.is_outside(),
        });
        if let Some(up) = &r.reports_to
            && !bad.contains(&r.key)
        {
            view.edges.push(OrgEdge {
                superior: format!("r:{up}"),
                subordinate: format!("r:{}", r.key),
            });
        }
    }
    let mut chain: Vec<_> = ledger
        .roles
        .iter()
        .filter_map(|r| r.incident_order.map(|o| (o, format!("r:{}", r.key))))
        .collect();
    chain.sort();
    view.incident_chain = chain.into_iter().map(|(_, id)| id).collect();
    view
}
