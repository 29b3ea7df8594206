//! Every ledger at once, indexed for advisories. Hospitals hold the same
//! models at the same versions again and again (a FortiGate 60F on 7.0.12
//! in hundreds of wards), so each distinct item is matched once and the
//! match fans out to every asset that holds it. An advisory reaches only
//! the items sharing a CPE vendor:product or a vendor name with it.

use crate::matcher::{InventoryItem, ItemMatch, PreparedAdvisory, canonical_vendor};
use crate::{Advisory, ProductStatus};
use mamori_domain::cpe::CpeName;
use std::collections::HashMap;

/// Distinct items, who holds each, and the index into them.
#[derive(Debug)]
pub struct Inventory<K> {
    items: Vec<InventoryItem>,
    holders: Vec<Vec<K>>,
    /// Items equal but for their model (a Windows build on twelve PC
    /// models) share a group: an advisory naming no model number gives
    /// them all the same match, so it is worked out once per group.
    group: Vec<u32>,
    by_signature: HashMap<String, u32>,
    by_group_signature: HashMap<String, u32>,
    by_cpe: HashMap<String, Vec<u32>>,
    by_vendor: HashMap<String, Vec<u32>>,
}

impl<K> Default for Inventory<K> {
    fn default() -> Self {
        Inventory {
            items: Vec::new(),
            holders: Vec::new(),
            group: Vec::new(),
            by_signature: HashMap::new(),
            by_group_signature: HashMap::new(),
            by_cpe: HashMap::new(),
            by_vendor: HashMap::new(),
        }
    }
}

/// `vendor:product` of a CPE name, the key both sides are indexed by.
pub fn cpe_key(name: &CpeName) -> String {
    format!(
        "{}:{}",
        name.vendor().unquoted().unwrap_or_default(),
        name.product().unquoted().unwrap_or_default()
    )
}

/// What makes two items the same for matching.
fn signature(item: &InventoryItem) -> String {
    let mut s = model_blind_signature(item);
    s.push_str(item.model.trim());
    s.push('\u{1f}');
    s
}

/// What makes two items the same for an advisory naming no model number:
/// `match_item` reads the model only to compare it with model numbers.
fn model_blind_signature(item: &InventoryItem) -> String {
    let mut s = String::new();
    for c in &item.cpes {
        s.push_str(&c.to_string());
        s.push('\u{1f}');
    }
    for part in [&item.vendor, &item.product, &item.version] {
        s.push_str(part.trim());
        s.push('\u{1f}');
    }
    s
}

/// The keys an advisory reaches items by: the CPE vendor:product of its
/// vulnerable criteria and of its affected statements, and the canonical
/// vendor of its statements.
pub fn reach(advisory: &Advisory) -> (Vec<String>, Vec<String>) {
    let key = |c: &str| CpeName::parse_lenient(c).ok().map(|n| cpe_key(&n));
    let mut cpes: Vec<String> = advisory
        .configurations
        .iter()
        .flat_map(|c| &c.nodes)
        .flat_map(|n| &n.matches)
        .filter(|m| m.vulnerable)
        .filter_map(|m| key(&m.criteria))
        .collect();
    let statements = advisory.products.iter().filter(|p| {
        matches!(
            p.status,
            ProductStatus::Affected | ProductStatus::UnderInvestigation
        )
    });
    cpes.extend(
        statements
            .clone()
            .flat_map(|p| &p.cpes)
            .filter_map(|c| key(c)),
    );
    cpes.sort_unstable();
    cpes.dedup();
    let mut vendors: Vec<String> = statements
        .map(|p| canonical_vendor(&p.vendor))
        .filter(|v| !v.is_empty())
        .collect();
    vendors.sort_unstable();
    vendors.dedup();
    (cpes, vendors)
}

impl<K> Inventory<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one holder of `item` (an asset of a hospital).
    pub fn add(&mut self, holder: K, item: InventoryItem) {
        let sig = signature(&item);
        if let Some(&i) = self.by_signature.get(&sig) {
            self.holders[i as usize].push(holder);
            return;
        }
        let i = self.items.len() as u32;
        let mut keys: Vec<String> = item.cpes.iter().map(cpe_key).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            self.by_cpe.entry(k).or_default().push(i);
        }
        let vendor = canonical_vendor(&item.vendor);
        if !vendor.is_empty() {
            self.by_vendor.entry(vendor).or_default().push(i);
        }
        let groups = self.by_group_signature.len() as u32;
        let group = *self
            .by_group_signature
            .entry(model_blind_signature(&item))
            .or_insert(groups);
        self.group.push(group);
        self.by_signature.insert(sig, i);
        self.items.push(item);
        self.holders.push(vec![holder]);
    }

    /// How many distinct items (each matched once).
    pub fn distinct_items(&self) -> usize {
        self.items.len()
    }

    /// How many holders in all.
    pub fn holders(&self) -> usize {
        self.holders.iter().map(Vec::len).sum()
    }

    /// The items the advisory may affect, through the index.
    fn candidates(&self, advisory: &Advisory) -> Vec<u32> {
        let (cpes, vendors) = reach(advisory);
        let mut out: Vec<u32> = cpes
            .iter()
            .filter_map(|k| self.by_cpe.get(k))
            .chain(vendors.iter().filter_map(|v| self.by_vendor.get(v)))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every holder the advisory affects, with how: one match per distinct
    /// item, shared by its holders.
    pub fn matches(&self, advisory: &Advisory) -> Vec<(&[K], ItemMatch)> {
        let candidates = self.candidates(advisory);
        let prepared = PreparedAdvisory::new(advisory);
        let model_blind = advisory.products.iter().all(|p| p.model_numbers.is_empty());
        if !model_blind {
            return candidates
                .into_iter()
                .filter_map(|i| {
                    prepared
                        .match_item(&self.items[i as usize])
                        .map(|m| (self.holders[i as usize].as_slice(), m))
                })
                .collect();
        }
        // Items of a group share their CPEs and vendor, so they are all
        // candidates or none: the first one met decides for the group.
        let mut decided: HashMap<u32, Option<ItemMatch>> = HashMap::new();
        candidates
            .into_iter()
            .filter_map(|i| {
                decided
                    .entry(self.group[i as usize])
                    .or_insert_with(|| prepared.match_item(&self.items[i as usize]))
                    .clone()
                    .map(|m| (self.holders[i as usize].as_slice(), m))
            })
            .collect()
    }

    /// How many groups of items differing only in their model.
    pub fn model_groups(&self) -> usize {
        self.by_group_signature.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CpeMatch, Node, Operator, Source, VersionRange};

    fn fortios(version: &str) -> InventoryItem {
        InventoryItem {
            cpes: vec![
                CpeName::parse(&format!(
                    "cpe:2.3:o:fortinet:fortios:{version}:*:*:*:*:*:*:*"
                ))
                .unwrap(),
            ],
            vendor: "Fortinet".into(),
            product: "FortiGate".into(),
            version: version.into(),
            model: "60F".into(),
        }
    }

    fn advisory_below(end: &str) -> Advisory {
        let mut a = Advisory::new("CVE-TEST-1", Source::Nvd);
        a.configurations = vec![crate::Configuration {
            operator: Operator::Or,
            negate: false,
            nodes: vec![Node {
                operator: Operator::Or,
                negate: false,
                matches: vec![CpeMatch {
                    vulnerable: true,
                    criteria: "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*".into(),
                    range: VersionRange {
                        end: Some(crate::Bound {
                            version: end.into(),
                            inclusive: false,
                        }),
                        ..VersionRange::default()
                    },
                }],
            }],
        }];
        a
    }

    #[test]
    fn the_same_item_is_matched_once_and_fans_out_to_every_holder() {
        let mut inv = Inventory::new();
        for hospital in 0..50 {
            inv.add((hospital, "VPN-01"), fortios("7.0.12"));
            inv.add((hospital, "FW-01"), fortios("7.2.8"));
        }
        inv.add(
            (99, "PC-01"),
            InventoryItem {
                vendor: "NEC".into(),
                product: "Mate".into(),
                ..InventoryItem::default()
            },
        );
        assert_eq!(inv.distinct_items(), 3);
        assert_eq!(inv.holders(), 101);
        let found = inv.matches(&advisory_below("7.0.14"));
        assert_eq!(found.len(), 1, "only 7.0.12 is below 7.0.14");
        assert_eq!(found[0].0.len(), 50);
        assert!(found[0].0.iter().all(|h| h.1 == "VPN-01"));
        // An advisory for another vendor's product reaches nothing.
        let mut other = advisory_below("9.9");
        other.configurations[0].nodes[0].matches[0].criteria =
            "cpe:2.3:a:ivanti:connect_secure:*:*:*:*:*:*:*:*".into();
        assert!(inv.matches(&other).is_empty());
        assert!(inv.candidates(&other).is_empty());
    }

    #[test]
    fn items_differing_only_in_model_share_a_match_unless_a_model_is_named() {
        let mut inv = Inventory::new();
        for (h, model) in ["60F", "100F", "200F"].into_iter().enumerate() {
            inv.add(
                (h, "FW"),
                InventoryItem {
                    model: model.into(),
                    ..fortios("7.0.12")
                },
            );
        }
        assert_eq!((inv.distinct_items(), inv.model_groups()), (3, 1));
        let found = inv.matches(&advisory_below("7.0.14"));
        assert_eq!(found.len(), 3, "every model of the group: {found:?}");
        // A statement naming one model number tells the models apart.
        let mut named = Advisory::new("CSAF-TEST-1", Source::Csaf);
        named.products.push(crate::ProductStatement {
            vendor: "Fortinet".into(),
            product: "Other".into(),
            cpes: Vec::new(),
            versions: vec![crate::VersionSpec::All],
            status: ProductStatus::Affected,
            model_numbers: vec!["100F".into()],
            skus: Vec::new(),
            serial_numbers: Vec::new(),
            purls: Vec::new(),
            product_id: None,
        });
        let found = inv.matches(&named);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, &[(1, "FW")]);
    }
}
