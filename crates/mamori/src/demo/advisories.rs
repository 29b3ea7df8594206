//! The advisories the demo's secretariat has imported: real records
//! (NVD, CSAF, CISA KEV; sources in crates/advisories/tests/fixtures/SOURCES.md)
//! that reach the demo ledgers — the FortiGate VPN at 湖畔市立総合病院, the
//! Ivanti gateway and the Philips PACS at 白浜記念病院 — and not the
//! FortiGates already updated. Matching them sends each hospital its
//! notice, as an import by an operator would.

use mamori_advisories::{Advisory, ParseOutcome, csaf, kev, nvd};
use mamori_store::{AuditContext, RematchSummary, Store, StoreError};

type Parser = fn(&[u8], &str) -> ParseOutcome;

/// The demo feed: file name, parser, bytes.
const FEED: &[(&str, Parser, &[u8])] = &[
    (
        "CVE-2024-21762.json",
        nvd::parse_nvd,
        include_bytes!("../../../advisories/tests/fixtures/nvd/CVE-2024-21762.json"),
    ),
    (
        "CVE-2023-46805.json",
        nvd::parse_nvd,
        include_bytes!("../../../advisories/tests/fixtures/nvd/CVE-2023-46805.json"),
    ),
    (
        "icsma-21-187-01.json",
        csaf::parse_csaf,
        include_bytes!("../../../advisories/tests/fixtures/csaf/icsma-21-187-01.json"),
    ),
    (
        "known_exploited_vulnerabilities.json",
        kev::parse_kev,
        include_bytes!("../../../advisories/tests/fixtures/kev/kev-cut.json"),
    ),
];

/// Every record of the demo feed, parsed.
pub fn demo_feed() -> Vec<Advisory> {
    FEED.iter()
        .flat_map(|(name, parse, bytes)| parse(bytes, name).advisories)
        .collect()
}

/// Imports the feed as the secretariat and matches it against every
/// ledger: the hospitals it reaches receive their notices.
pub async fn seed_advisories(
    store: &Store,
    secretariat: &AuditContext,
) -> Result<RematchSummary, StoreError> {
    let imported = store
        .import_advisories(secretariat, &demo_feed(), "demo feed")
        .await?;
    store
        .match_advisories(secretariat, Some(&imported.changed))
        .await
}
