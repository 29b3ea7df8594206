//! One advisory model for every source. Product statements keep what the
//! source says (CPE strings as given, version texts as given) so the
//! matcher can decide with the source's own semantics, and nothing is lost
//! when a normalisation improves later.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::Date;

use crate::Rejected;

/// Where an advisory was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Nvd,
    Cve5,
    Csaf,
    Jvn,
    Kev,
}

impl Source {
    pub fn slug(self) -> &'static str {
        match self {
            Source::Nvd => "nvd",
            Source::Cve5 => "cve5",
            Source::Csaf => "csaf",
            Source::Jvn => "jvn",
            Source::Kev => "kev",
        }
    }
}

/// A CVSS score as the source gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// `2.0`, `3.0`, `3.1`, `4.0`.
    pub version: String,
    pub base_score: f64,
    pub vector: String,
    /// `CRITICAL`, `HIGH`, … when given.
    #[serde(default)]
    pub severity: String,
}

/// CISA's Known Exploited Vulnerabilities entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevFlag {
    pub date_added: Option<Date>,
    pub due_date: Option<Date>,
    #[serde(default)]
    pub required_action: String,
    /// `knownRansomwareCampaignUse == "Known"`.
    #[serde(default)]
    pub ransomware: bool,
}

/// How to fix or mitigate, as the source words it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// CSAF categories (`vendor_fix`, `mitigation`, `workaround`, …) or
    /// `required-action` (KEV) / `solution` (JVN).
    pub category: String,
    pub text: String,
    #[serde(default)]
    pub url: Option<String>,
    /// CSAF product ids it applies to (empty: all).
    #[serde(default)]
    pub product_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub url: String,
    #[serde(default)]
    pub name: String,
}

/// One end of a version range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    pub version: String,
    pub inclusive: bool,
}

/// `start ≤/< v ≤/< end`; a missing end is open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRange {
    #[serde(default)]
    pub start: Option<Bound>,
    #[serde(default)]
    pub end: Option<Bound>,
}

impl VersionRange {
    pub fn is_empty(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    And,
    Or,
}

/// One NVD `cpeMatch`: a CPE 2.3 criterion as written, whether it is the
/// vulnerable part or a platform, and its version range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpeMatch {
    pub vulnerable: bool,
    pub criteria: String,
    #[serde(default)]
    pub range: VersionRange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub operator: Operator,
    #[serde(default)]
    pub negate: bool,
    pub matches: Vec<CpeMatch>,
}

/// One NVD configuration: its nodes joined by `operator` (AND: the usual
/// firmware + hardware platform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    pub operator: Operator,
    #[serde(default)]
    pub negate: bool,
    pub nodes: Vec<Node>,
}

/// What a product-level statement says about its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum VersionSpec {
    /// Every version.
    All,
    Exact {
        version: String,
    },
    Range {
        range: VersionRange,
    },
    /// Free text the parser could not read (kept for the analyst).
    Text {
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProductStatus {
    Affected,
    NotAffected,
    Fixed,
    UnderInvestigation,
}

/// A product-level statement (CVE 5 `affected`, a CSAF product with its
/// status, a JVN `AffectedItem`, a KEV vendor/product).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductStatement {
    /// As the source writes it ("Fortinet", "フォーティネット", "fortinet").
    pub vendor: String,
    pub product: String,
    /// CPE 2.3 formatted strings or 2.2 URIs, as given.
    #[serde(default)]
    pub cpes: Vec<String>,
    #[serde(default)]
    pub versions: Vec<VersionSpec>,
    pub status: ProductStatus,
    #[serde(default)]
    pub model_numbers: Vec<String>,
    #[serde(default)]
    pub skus: Vec<String>,
    #[serde(default)]
    pub serial_numbers: Vec<String>,
    #[serde(default)]
    pub purls: Vec<String>,
    /// The CSAF product id, to join remediations.
    #[serde(default)]
    pub product_id: Option<String>,
}

/// One advisory from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// CVE id (NVD, CVE 5, KEV), CSAF `tracking.id`, JVNDB id.
    pub id: String,
    pub source: Source,
    /// Every other id it is known by (CVE ids, JVNDB, vendor ids).
    #[serde(default)]
    pub aliases: BTreeSet<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// `ja` or `en`.
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub published: Option<Date>,
    #[serde(default)]
    pub modified: Option<Date>,
    /// The highest-version primary score.
    #[serde(default)]
    pub cvss: Option<Cvss>,
    #[serde(default)]
    pub kev: Option<KevFlag>,
    /// NVD `Rejected`, CVE 5 `REJECTED`: kept, never matched.
    #[serde(default)]
    pub rejected: bool,
    #[serde(default)]
    pub configurations: Vec<Configuration>,
    #[serde(default)]
    pub products: Vec<ProductStatement>,
    #[serde(default)]
    pub remediations: Vec<Remediation>,
    #[serde(default)]
    pub references: Vec<Reference>,
}

impl Advisory {
    pub fn new(id: impl Into<String>, source: Source) -> Advisory {
        Advisory {
            id: id.into(),
            source,
            aliases: BTreeSet::new(),
            title: String::new(),
            description: String::new(),
            language: String::new(),
            published: None,
            modified: None,
            cvss: None,
            kev: None,
            rejected: false,
            configurations: Vec::new(),
            products: Vec::new(),
            remediations: Vec::new(),
            references: Vec::new(),
        }
    }

    /// The CVE ids it covers: its id if a CVE id, and its CVE aliases.
    pub fn cve_ids(&self) -> Vec<&str> {
        std::iter::once(self.id.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .filter(|id| id.starts_with("CVE-"))
            .collect()
    }
}

/// What one file gave: the advisories read and the records rejected.
#[derive(Debug, Default)]
pub struct ParseOutcome {
    pub advisories: Vec<Advisory>,
    pub rejected: Vec<Rejected>,
}
