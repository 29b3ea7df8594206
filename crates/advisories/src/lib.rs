//! Advisories (seed 資料1 基本構想 ② 脆弱性への対応): what a published
//! vulnerability says is affected, in one model whatever its source —
//! NVD CVE API 2.0, CVE JSON 5 (with CISA-ADP), CSAF 2.0, JVN (VULDEF,
//! JVNRSS) and the CISA KEV catalogue — and the parsers that read them.
//!
//! Pure: parsers take readers and give values; nothing here touches the
//! network, the disk or a database. A malformed record is rejected with
//! where it is (JSON path or XML line) and why; the other records of the
//! same file still come through.

pub mod csaf;
pub mod cve5;
mod error;
pub mod inventory;
pub mod jvn;
pub mod kev;
pub mod matcher;
mod model;
pub mod notice;
pub mod nvd;
pub mod version;

pub use error::{AdvisoryError, Rejected};
pub use inventory::Inventory;
pub use matcher::{
    Confidence, InventoryItem, ItemMatch, Method, PreparedAdvisory, canonical_vendor, match_item,
};
pub use model::{
    Advisory, Bound, Configuration, CpeMatch, Cvss, KevFlag, Node, Operator, ParseOutcome,
    ProductStatement, ProductStatus, Reference, Remediation, Source, VersionRange, VersionSpec,
};
