//! Does an advisory affect an inventory item (an asset of a ledger, or a
//! model of the device catalogue)? NVD configurations are evaluated with
//! the CPE standard's name matching (ANY, NA, wildcards; NISTIR 7696),
//! their version ranges with the vendor's version scheme, and their AND
//! semantics (vulnerable firmware on a given hardware platform); product
//! statements (CVE 5, CSAF, JVN, KEV) by CPE when both sides have one, else
//! by vendor and product names through an alias table, or by model number.
//! A statement that the item is known not to be affected wins.
//!
//! Every match says how it was found and how sure it is: by CPE with an
//! exact version or a range, by name with a version, or by vendor and
//! product only — the last waits for an analyst before a hospital is told.

use crate::version::{compare, in_range, scheme_for, split_update};
use crate::{
    Advisory, Configuration, CpeMatch, Operator, ProductStatement, ProductStatus, VersionSpec,
};
use mamori_domain::cpe::{Attribute, AttributeRelation, CpeName, CpeValue, compare_values};
use serde::Serialize;
use std::cmp::Ordering;

/// One thing that may be affected: its CPEs (the software or firmware,
/// and the hardware platform when known) and its names as recorded.
#[derive(Debug, Clone, Default)]
pub struct InventoryItem {
    pub cpes: Vec<CpeName>,
    pub vendor: String,
    pub product: String,
    pub version: String,
    pub model: String,
}

/// How a match was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// A CPE criterion naming the item's exact version.
    CpeExact,
    /// A CPE criterion with a version range holding the item's version.
    CpeRange,
    /// A CPE criterion for every version of the product.
    CpeAllVersions,
    /// Vendor and product names, with a version or range that holds.
    NameVersion,
    /// A CSAF model number.
    ModelNumber,
    /// Vendor and product names only (no version to compare).
    VendorProduct,
}

impl Method {
    pub fn slug(self) -> &'static str {
        match self {
            Method::CpeExact => "cpe-exact",
            Method::CpeRange => "cpe-range",
            Method::CpeAllVersions => "cpe-all-versions",
            Method::NameVersion => "name-version",
            Method::ModelNumber => "model-number",
            Method::VendorProduct => "vendor-product",
        }
    }
}

/// How sure a match is; `Low` waits for an analyst's confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// A match of one advisory to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemMatch {
    pub method: Method,
    pub confidence: Confidence,
    /// The criterion or statement that matched, as the source wrote it.
    pub criterion: String,
    /// Why the confidence is lower, when it is.
    pub note: String,
}

impl Confidence {
    pub fn slug(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl ItemMatch {
    pub fn needs_confirmation(&self) -> bool {
        self.confidence == Confidence::Low
    }
}

/// Vendor names that stand for the same vendor across sources.
const VENDOR_ALIASES: &[(&str, &[&str])] = &[
    (
        "gehealthcare",
        &[
            "gehealthcare",
            "gehealthcare",
            "generalelectricge",
            "ge",
            "gehealthcaresystems",
        ],
    ),
    (
        "siemens-healthineers",
        &["siemenshealthineers", "siemenshealthineerssiemens"],
    ),
    ("paloaltonetworks", &["paloaltonetworks"]),
    ("d-link", &["dlink"]),
    ("fortinet", &["fortinet", "フォーティネット"]),
    ("ivanti", &["ivanti", "pulsesecure"]),
    ("canon", &["canon", "キヤノン"]),
    ("nec", &["nec", "日本電気", "necコーポレーション"]),
    ("hitachi", &["hitachi", "日立", "日立製作所"]),
    ("cisco", &["cisco", "シスコ", "ciscosystems"]),
    ("microsoft", &["microsoft", "マイクロソフト"]),
    ("johnson_controls", &["johnsoncontrols"]),
    (
        "philips",
        &["philips", "koninklijkephilips", "フィリップス"],
    ),
    ("yamaha", &["yamaha", "ヤマハ"]),
];

/// Lower case, without spaces, punctuation and company suffixes.
fn fold_name(text: &str) -> String {
    let mut t = text.trim().to_lowercase();
    for suffix in [
        "co., ltd.",
        "co.,ltd.",
        "corporation",
        "corp.",
        "inc.",
        "inc",
        "ltd.",
        "株式会社",
        "n.v.",
        "b.v.",
        "gmbh",
        "ag",
        "llc",
    ] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.to_string();
        }
        if let Some(rest) = t.strip_prefix(suffix) {
            t = rest.to_string();
        }
    }
    t.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The vendor's canonical name (its NVD CPE vendor where there is one).
pub fn canonical_vendor(name: &str) -> String {
    let folded = fold_name(name);
    VENDOR_ALIASES
        .iter()
        .find(|(_, names)| names.contains(&folded.as_str()))
        .map_or(folded, |(canonical, _)| fold_name(canonical))
}

fn covers(relation: AttributeRelation) -> bool {
    matches!(
        relation,
        AttributeRelation::Superset | AttributeRelation::Equal
    )
}

/// The item's version for a CPE criterion's vendor and product: the CPE's
/// own version, else the recorded version (split into version and update
/// the vendor's way).
fn item_version<'a>(item: &'a InventoryItem, cpe: &'a CpeName) -> Option<String> {
    match cpe.version() {
        CpeValue::Value(_) => cpe.version().unquoted(),
        _ if !item.version.trim().is_empty() => Some(item.version.trim().to_string()),
        _ => None,
    }
}

/// Whether one cpeMatch holds for one of the item's CPEs, and how.
fn cpe_match(m: &CpeMatch, item: &InventoryItem) -> Option<(Method, Confidence, String)> {
    let criterion = CpeName::parse_lenient(&m.criteria).ok()?;
    let vendor = criterion.vendor().unquoted().unwrap_or_default();
    let product = criterion.product().unquoted().unwrap_or_default();
    let scheme = scheme_for(&vendor, &product);
    for cpe in &item.cpes {
        // Everything but version (and update when a range decides) must cover.
        let ranged = !m.range.is_empty();
        let others_cover = Attribute::ALL.iter().all(|&a| {
            a == Attribute::Version
                || (ranged && a == Attribute::Update)
                || covers(compare_values(criterion.get(a), cpe.get(a)))
        });
        if !others_cover {
            continue;
        }
        if ranged {
            let Some(version) = item_version(item, cpe) else {
                return Some((
                    Method::VendorProduct,
                    Confidence::Low,
                    "the item's version is not recorded".to_string(),
                ));
            };
            // A range names versions; an update written into the CPE (PAN-OS
            // h3) belongs after the version.
            let full = match cpe.update().unquoted() {
                Some(update) => format!("{version}-{update}"),
                None => version,
            };
            match in_range(scheme, &full, &m.range) {
                Some(true) => return Some((Method::CpeRange, Confidence::High, String::new())),
                Some(false) => continue,
                None => {
                    return Some((
                        Method::VendorProduct,
                        Confidence::Low,
                        format!("version {full} cannot be ordered against the range"),
                    ));
                }
            }
        }
        match (criterion.version(), cpe.version()) {
            (CpeValue::Any, CpeValue::Any) | (CpeValue::Value(_), CpeValue::Any) => {
                return Some((
                    Method::VendorProduct,
                    Confidence::Low,
                    "the item's version is not recorded".to_string(),
                ));
            }
            (CpeValue::Any, _) => {
                return Some((Method::CpeAllVersions, Confidence::High, String::new()));
            }
            (CpeValue::Value(_), CpeValue::Value(_)) => {
                let (Some(a), Some(b)) = (criterion.version().unquoted(), cpe.version().unquoted())
                else {
                    continue;
                };
                if covers(compare_values(criterion.version(), cpe.version()))
                    || compare(scheme, &a, &b) == Some(Ordering::Equal)
                {
                    return Some((Method::CpeExact, Confidence::High, String::new()));
                }
            }
            (crit, target) => {
                if covers(compare_values(crit, target)) {
                    return Some((Method::CpeExact, Confidence::High, String::new()));
                }
            }
        }
    }
    None
}

/// Evaluates one configuration: nodes joined by its operator, each node's
/// matches by the node's; at least one vulnerable criterion must hold.
/// A platform node the item has no CPE for leaves the match at Medium.
fn configuration_match(c: &Configuration, item: &InventoryItem) -> Option<ItemMatch> {
    let mut vulnerable_hit: Option<(Method, Confidence, String, String)> = None;
    let mut platform_unknown = false;
    let mut node_results = Vec::new();
    for node in &c.nodes {
        let results: Vec<Option<(Method, Confidence, String)>> =
            node.matches.iter().map(|m| cpe_match(m, item)).collect();
        let held = match node.operator {
            Operator::Or => results.iter().any(Option::is_some),
            Operator::And => results.iter().all(Option::is_some),
        } != node.negate;
        let all_platform = node.matches.iter().all(|m| !m.vulnerable);
        if held {
            for (m, r) in node.matches.iter().zip(&results) {
                if let (true, Some((method, confidence, note))) = (m.vulnerable, r)
                    && vulnerable_hit.as_ref().is_none_or(|h| *confidence > h.1)
                {
                    vulnerable_hit = Some((*method, *confidence, note.clone(), m.criteria.clone()));
                }
            }
        } else if all_platform && !has_platform_cpe(node.matches.as_slice(), item) {
            platform_unknown = true;
            node_results.push(true);
            continue;
        }
        node_results.push(held);
    }
    let held = match c.operator {
        Operator::Or => node_results.iter().any(|h| *h),
        Operator::And => node_results.iter().all(|h| *h),
    } != c.negate;
    let (method, mut confidence, mut note, criterion) = vulnerable_hit.filter(|_| held)?;
    if platform_unknown && c.operator == Operator::And {
        confidence = confidence.min(Confidence::Medium);
        note = "the hardware platform is not recorded for this item".to_string();
    }
    Some(ItemMatch {
        method,
        confidence,
        criterion,
        note,
    })
}

/// Whether the item has a CPE of the same part and vendor as the platform
/// criteria (else the platform is unknown rather than different).
fn has_platform_cpe(matches: &[CpeMatch], item: &InventoryItem) -> bool {
    matches.iter().any(|m| {
        CpeName::parse_lenient(&m.criteria).is_ok_and(|crit| {
            item.cpes.iter().any(|c| {
                covers(compare_values(crit.part(), c.part()))
                    && covers(compare_values(crit.vendor(), c.vendor()))
            })
        })
    })
}

/// Whether a version spec holds the item's version: `Some(true)` yes,
/// `Some(false)` no, `None` unknown (free text, no item version).
fn spec_holds(spec: &VersionSpec, scheme: crate::version::Scheme, version: &str) -> Option<bool> {
    if version.trim().is_empty() {
        return match spec {
            VersionSpec::All => Some(true),
            _ => None,
        };
    }
    match spec {
        VersionSpec::All => Some(true),
        VersionSpec::Exact { version: v } => {
            compare(scheme, version, v).map(|o| o == Ordering::Equal)
        }
        VersionSpec::Range { range } => in_range(scheme, version, range),
        VersionSpec::Text { .. } => None,
    }
}

/// A product statement with its names folded and CPEs parsed once per
/// advisory, not once per item it is held against.
struct PreparedStatement<'a> {
    statement: &'a ProductStatement,
    vendor: String,
    /// The product name folded, without the vendor's name in front.
    product: String,
    cpes: Vec<CpeName>,
    models: Vec<String>,
    scheme: crate::version::Scheme,
}

/// The product name folded, with the vendor's name in front removed
/// ("Fortinet FortiGate" and "FortiGate" are the same product).
fn product_key(product: &str, vendor: &str) -> String {
    let p = fold_name(product);
    p.strip_prefix(vendor).map(str::to_string).unwrap_or(p)
}

/// An advisory ready to be held against many items.
pub struct PreparedAdvisory<'a> {
    advisory: &'a Advisory,
    statements: Vec<PreparedStatement<'a>>,
}

/// How a prepared statement relates to the item: `None` when it names
/// another product; else whether its versions hold (`None`: unknown), how
/// it was matched, and the statement as text.
fn statement_match(
    p: &PreparedStatement<'_>,
    item: &InventoryItem,
    item_vendor: &str,
    item_product: &str,
    item_model: &str,
) -> Option<(Option<bool>, Method, bool, String)> {
    let s = p.statement;
    let by_cpe = p.cpes.iter().find(|crit| {
        item.cpes.iter().any(|c| {
            covers(compare_values(crit.part(), c.part()))
                && covers(compare_values(crit.vendor(), c.vendor()))
                && covers(compare_values(crit.product(), c.product()))
        })
    });
    let by_name = !p.vendor.is_empty()
        && p.vendor == item_vendor
        && !p.product.is_empty()
        && p.product == item_product;
    let by_model = !item_model.is_empty() && p.models.iter().any(|m| m == item_model);
    if by_cpe.is_none() && !by_name && !by_model {
        return None;
    }
    let scheme = p.scheme;
    let version = by_cpe
        .and_then(|_| item.cpes.first())
        .and_then(|c| c.version().unquoted())
        .unwrap_or_else(|| split_update(scheme, &item.version).0);
    let holds = if s.versions.is_empty() {
        None
    } else {
        let results: Vec<Option<bool>> = s
            .versions
            .iter()
            .map(|v| spec_holds(v, scheme, &version))
            .collect();
        if results.contains(&Some(true)) {
            Some(true)
        } else if results.iter().all(|r| *r == Some(false)) {
            Some(false)
        } else {
            None
        }
    };
    let method = if by_model && !by_name && by_cpe.is_none() {
        Method::ModelNumber
    } else {
        Method::NameVersion
    };
    Some((
        holds,
        method,
        by_cpe.is_some(),
        format!("{} {}", s.vendor.trim(), s.product.trim()),
    ))
}

impl<'a> PreparedAdvisory<'a> {
    pub fn new(advisory: &'a Advisory) -> Self {
        let statements = advisory
            .products
            .iter()
            .map(|s| {
                let vendor = canonical_vendor(&s.vendor);
                PreparedStatement {
                    product: product_key(&s.product, &vendor),
                    cpes: s
                        .cpes
                        .iter()
                        .filter_map(|c| CpeName::parse_lenient(c).ok())
                        .collect(),
                    models: s
                        .model_numbers
                        .iter()
                        .map(|m| fold_name(m))
                        .filter(|m| !m.is_empty())
                        .collect(),
                    scheme: scheme_for(&s.vendor, &s.product),
                    vendor,
                    statement: s,
                }
            })
            .collect();
        PreparedAdvisory {
            advisory,
            statements,
        }
    }

    /// Whether the advisory affects `item`, and how; `None` when it does
    /// not (or is rejected, or says the item is not affected).
    pub fn match_item(&self, item: &InventoryItem) -> Option<ItemMatch> {
        let advisory = self.advisory;
        if advisory.rejected {
            return None;
        }
        let item_vendor = canonical_vendor(&item.vendor);
        let item_product = product_key(&item.product, &item_vendor);
        let item_model = fold_name(&item.model);
        let relate = |p: &PreparedStatement<'_>| {
            statement_match(p, item, &item_vendor, &item_product, &item_model)
        };
        // A statement that this version is not affected (or fixed) settles it.
        for p in &self.statements {
            if matches!(
                p.statement.status,
                ProductStatus::NotAffected | ProductStatus::Fixed
            ) && let Some((Some(true), ..)) = relate(p)
            {
                return None;
            }
        }
        let mut best: Option<ItemMatch> = advisory
            .configurations
            .iter()
            .filter_map(|c| configuration_match(c, item))
            .max_by_key(|m| m.confidence);
        for p in &self.statements {
            let s = p.statement;
            if !matches!(
                s.status,
                ProductStatus::Affected | ProductStatus::UnderInvestigation
            ) {
                continue;
            }
            let Some((holds, method, by_cpe, criterion)) = relate(p) else {
                continue;
            };
            let found = match holds {
                Some(false) => continue,
                // "All versions" from a name only is vendor/product knowledge.
                Some(true)
                    if s.status == ProductStatus::Affected
                        && s.versions.iter().all(|v| *v == VersionSpec::All) =>
                {
                    ItemMatch {
                        method: Method::VendorProduct,
                        confidence: if by_cpe {
                            Confidence::Medium
                        } else {
                            Confidence::Low
                        },
                        criterion,
                        note: "the advisory names no version".to_string(),
                    }
                }
                Some(true) if s.status == ProductStatus::Affected => ItemMatch {
                    method,
                    confidence: if by_cpe {
                        Confidence::High
                    } else {
                        Confidence::Medium
                    },
                    criterion,
                    note: String::new(),
                },
                _ => ItemMatch {
                    method: Method::VendorProduct,
                    confidence: Confidence::Low,
                    criterion,
                    note: if s.status == ProductStatus::UnderInvestigation {
                        "the vendor is still investigating".to_string()
                    } else {
                        "the affected versions could not be compared".to_string()
                    },
                },
            };
            if best
                .as_ref()
                .is_none_or(|b| found.confidence > b.confidence)
            {
                best = Some(found);
            }
        }
        best
    }
}

/// Whether `advisory` affects `item`, and how; `None` when it does not (or
/// is rejected, or says the item is not affected). To hold one advisory
/// against many items, prepare it once ([`PreparedAdvisory`]).
pub fn match_item(advisory: &Advisory, item: &InventoryItem) -> Option<ItemMatch> {
    PreparedAdvisory::new(advisory).match_item(item)
}

#[cfg(test)]
mod tests;
