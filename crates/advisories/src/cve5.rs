//! CVE JSON 5.x records (cvelistV5, cisagov/vulnrichment): one record per
//! file, or a JSON array of records.
//!
//! Product statements come from the CNA's `affected[]` and from every ADP
//! container's (CISA-ADP adds CPEs and lowercase CPE-style names there).
//! The source's version texts are kept as given; `versionType` and
//! `changes[]` are not carried (the model has no place for them).

use serde_json::{Map, Value};

use crate::nvd::{
    Path, as_obj, cvss_data, english_text, get_arr, get_date, get_obj, get_str, is_cve_id, reject,
};
use crate::{
    Advisory, Bound, Cvss, KevFlag, ParseOutcome, ProductStatement, ProductStatus, Reference,
    Rejected, Source, VersionRange, VersionSpec,
};

/// Reads one CVE 5 record, or an array of them, from `bytes`.
pub fn parse_cve5(bytes: &[u8], location: &str) -> ParseOutcome {
    let mut outcome = ParseOutcome::default();
    let document: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(e) => {
            outcome.rejected.push(Rejected::new(
                format!("{location}: line {} column {}", e.line(), e.column()),
                format!("not a readable CVE JSON 5 file: {e}"),
            ));
            return outcome;
        }
    };
    let mut push = |record: Result<Advisory, Rejected>| match record {
        Ok(advisory) => outcome.advisories.push(advisory),
        Err(rejected) => outcome.rejected.push(rejected),
    };
    match &document {
        Value::Array(records) => {
            for (i, record) in records.iter().enumerate() {
                push(map_record(record, location, &Path::Index(&Path::Root, i)));
            }
        }
        record => push(map_record(record, location, &Path::Root)),
    }
    outcome
}

fn map_record(record: &Value, file: &str, at: &Path) -> Result<Advisory, Rejected> {
    let record = as_obj(record, file, at)?;
    let meta_at = Path::Key(at, "cveMetadata");
    let Some(meta) = get_obj(record, "cveMetadata", file, at)? else {
        return Err(reject(file, &meta_at, "missing"));
    };
    let id = match get_str(meta, "cveId", file, &meta_at)? {
        Some(id) if is_cve_id(id) => id,
        Some(id) => {
            return Err(reject(
                file,
                &Path::Key(&meta_at, "cveId"),
                format!("not a CVE id: {id:?}"),
            ));
        }
        None => return Err(reject(file, &Path::Key(&meta_at, "cveId"), "missing")),
    };
    let mut advisory = Advisory::new(id, Source::Cve5);
    advisory.rejected = get_str(meta, "state", file, &meta_at)?
        .is_some_and(|state| state.eq_ignore_ascii_case("rejected"));
    advisory.published = get_date(meta, "datePublished", file, &meta_at)?;
    advisory.modified = get_date(meta, "dateUpdated", file, &meta_at)?;

    let containers_at = Path::Key(at, "containers");
    let Some(containers) = get_obj(record, "containers", file, at)? else {
        return Err(reject(file, &containers_at, "missing"));
    };
    let cna_at = Path::Key(&containers_at, "cna");
    let Some(cna) = get_obj(containers, "cna", file, &containers_at)? else {
        return Err(reject(file, &cna_at, "missing"));
    };
    if let Some(title) = get_str(cna, "title", file, &cna_at)? {
        advisory.title = title.to_owned();
    }
    // A rejected record says why in `rejectedReasons` instead.
    let text = match english_text(cna, "descriptions", file, &cna_at)? {
        Some(text) => Some(text),
        None => english_text(cna, "rejectedReasons", file, &cna_at)?,
    };
    if let Some(text) = text {
        advisory.description = text.to_owned();
        advisory.language = "en".to_owned();
    }

    let mut best_cvss: Option<(usize, Cvss)> = None;
    read_container(cna, file, &cna_at, &mut advisory, &mut best_cvss)?;
    let adps_at = Path::Key(&containers_at, "adp");
    for (i, adp) in get_arr(containers, "adp", file, &containers_at)?
        .iter()
        .enumerate()
    {
        let adp_at = Path::Index(&adps_at, i);
        let adp = as_obj(adp, file, &adp_at)?;
        read_container(adp, file, &adp_at, &mut advisory, &mut best_cvss)?;
    }
    advisory.cvss = best_cvss.map(|(_, cvss)| cvss);
    Ok(advisory)
}

/// The CVSS keys of a CVE 5 `metrics[]` entry, best first.
const CVSS_KEYS: [(&str, &str); 4] = [
    ("cvssV4_0", "4.0"),
    ("cvssV3_1", "3.1"),
    ("cvssV3_0", "3.0"),
    ("cvssV2_0", "2.0"),
];

/// What a CNA or ADP container adds: product statements, references,
/// CVSS (the highest version wins; at equal version the CNA, read first,
/// wins) and the KEV flag (CISA-ADP `other.type == "kev"`).
fn read_container(
    container: &Map<String, Value>,
    file: &str,
    at: &Path,
    advisory: &mut Advisory,
    best_cvss: &mut Option<(usize, Cvss)>,
) -> Result<(), Rejected> {
    let affected_at = Path::Key(at, "affected");
    for (i, entry) in get_arr(container, "affected", file, at)?.iter().enumerate() {
        let entry_at = Path::Index(&affected_at, i);
        advisory
            .products
            .extend(map_affected(entry, file, &entry_at)?);
    }

    let refs_at = Path::Key(at, "references");
    for (i, reference) in get_arr(container, "references", file, at)?
        .iter()
        .enumerate()
    {
        let ref_at = Path::Index(&refs_at, i);
        let reference = as_obj(reference, file, &ref_at)?;
        let Some(url) = get_str(reference, "url", file, &ref_at)? else {
            return Err(reject(file, &Path::Key(&ref_at, "url"), "missing"));
        };
        // The CNA and ADPs often list the same links.
        if advisory.references.iter().any(|r| r.url == url) {
            continue;
        }
        advisory.references.push(Reference {
            url: url.to_owned(),
            name: get_str(reference, "name", file, &ref_at)?
                .unwrap_or_default()
                .to_owned(),
        });
    }

    let metrics_at = Path::Key(at, "metrics");
    for (i, metric) in get_arr(container, "metrics", file, at)?.iter().enumerate() {
        let metric_at = Path::Index(&metrics_at, i);
        let metric = as_obj(metric, file, &metric_at)?;
        for (rank, (key, version)) in CVSS_KEYS.iter().enumerate() {
            let Some(data) = get_obj(metric, key, file, &metric_at)? else {
                continue;
            };
            if best_cvss.as_ref().is_some_and(|(best, _)| *best <= rank) {
                continue;
            }
            let cvss = cvss_data(data, version, file, &Path::Key(&metric_at, key))?;
            *best_cvss = Some((rank, cvss));
        }
        let other_at = Path::Key(&metric_at, "other");
        let Some(other) = get_obj(metric, "other", file, &metric_at)? else {
            continue;
        };
        if get_str(other, "type", file, &other_at)? == Some("kev") {
            let content_at = Path::Key(&other_at, "content");
            let date_added = match get_obj(other, "content", file, &other_at)? {
                Some(content) => get_date(content, "dateAdded", file, &content_at)?,
                None => None,
            };
            // The ADP gives the date only; due date and action are KEV's.
            advisory.kev.get_or_insert(KevFlag {
                date_added,
                due_date: None,
                required_action: String::new(),
                ransomware: false,
            });
        }
    }
    Ok(())
}

/// One `affected[]` entry: a statement for the affected versions and,
/// when some versions are listed as unaffected, one for those.
fn map_affected(entry: &Value, file: &str, at: &Path) -> Result<Vec<ProductStatement>, Rejected> {
    let entry = as_obj(entry, file, at)?;
    let vendor = get_str(entry, "vendor", file, at)?.unwrap_or_default();
    // Package ecosystems name `packageName` instead of `product`.
    let product = match get_str(entry, "product", file, at)? {
        Some(product) => product,
        None => get_str(entry, "packageName", file, at)?.unwrap_or_default(),
    };
    let cpes_at = Path::Key(at, "cpes");
    let mut cpes = Vec::new();
    for (i, cpe) in get_arr(entry, "cpes", file, at)?.iter().enumerate() {
        match cpe {
            Value::String(cpe) => cpes.push(cpe.clone()),
            _ => {
                return Err(reject(file, &Path::Index(&cpes_at, i), "expected a string"));
            }
        }
    }

    let mut affected = Vec::new();
    let mut unaffected = Vec::new();
    let versions_at = Path::Key(at, "versions");
    for (i, version) in get_arr(entry, "versions", file, at)?.iter().enumerate() {
        let version_at = Path::Index(&versions_at, i);
        let version = as_obj(version, file, &version_at)?;
        let status = get_str(version, "status", file, &version_at)?.unwrap_or_default();
        let spec = version_spec(version, file, &version_at)?;
        match status {
            "affected" => affected.push(spec),
            "unaffected" => unaffected.push(spec),
            // `unknown` says nothing a matcher can use.
            _ => {}
        }
    }
    if affected.is_empty() && get_str(entry, "defaultStatus", file, at)? == Some("affected") {
        affected.push(VersionSpec::All);
    }

    let statement = |versions: Vec<VersionSpec>, status: ProductStatus| ProductStatement {
        vendor: vendor.to_owned(),
        product: product.to_owned(),
        cpes: cpes.clone(),
        versions,
        status,
        model_numbers: Vec::new(),
        skus: Vec::new(),
        serial_numbers: Vec::new(),
        purls: Vec::new(),
        product_id: None,
    };
    let mut statements = Vec::new();
    if !affected.is_empty() {
        statements.push(statement(affected, ProductStatus::Affected));
    }
    if !unaffected.is_empty() {
        statements.push(statement(unaffected, ProductStatus::NotAffected));
    }
    Ok(statements)
}

/// `version` alone is one version; with `lessThan`/`lessThanOrEqual` it
/// starts a range, where "0" and "*" mean "from the first version".
fn version_spec(
    version: &Map<String, Value>,
    file: &str,
    at: &Path,
) -> Result<VersionSpec, Rejected> {
    let Some(start) = get_str(version, "version", file, at)? else {
        return Err(reject(file, &Path::Key(at, "version"), "missing"));
    };
    let start = start.trim();
    let end = match get_str(version, "lessThan", file, at)? {
        Some(end) => Some((end.trim(), false)),
        None => get_str(version, "lessThanOrEqual", file, at)?.map(|end| (end.trim(), true)),
    };
    let Some((end, inclusive)) = end else {
        return Ok(VersionSpec::Exact {
            version: start.to_owned(),
        });
    };
    let open = |v: &str| v.is_empty() || v == "*";
    Ok(VersionSpec::Range {
        range: VersionRange {
            start: (!open(start) && start != "0").then(|| Bound {
                version: start.to_owned(),
                inclusive: true,
            }),
            end: (!open(end)).then(|| Bound {
                version: end.to_owned(),
                inclusive,
            }),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/cve5/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn single(name: &str) -> Advisory {
        let outcome = parse_cve5(&fixture(name), name);
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        assert_eq!(outcome.advisories.len(), 1);
        outcome.advisories.into_iter().next().unwrap()
    }

    fn bound(version: &str, inclusive: bool) -> Option<Bound> {
        Some(Bound {
            version: version.to_owned(),
            inclusive,
        })
    }

    #[test]
    fn cisa_adp_cpes_and_less_than_range() {
        let a = single("CVE-2024-36130.json");
        assert_eq!(a.id, "CVE-2024-36130");
        assert_eq!(a.source, Source::Cve5);
        assert!(!a.rejected);
        assert_eq!(a.published, Some(date!(2024 - 08 - 07)));
        assert_eq!(a.modified, Some(date!(2024 - 10 - 24)));
        assert!(a.description.contains("EPMM prior to 12.1.0.1"));
        assert_eq!(a.language, "en");
        let cvss = a.cvss.as_ref().unwrap();
        assert_eq!((cvss.version.as_str(), cvss.base_score), ("3.0", 9.8));
        assert_eq!(cvss.severity, "CRITICAL");
        assert!(a.kev.is_none());
        assert_eq!(a.references.len(), 1);

        assert_eq!(a.products.len(), 2);
        // The CNA's own words, as given (its range is empty as written).
        let cna = &a.products[0];
        assert_eq!(
            (cna.vendor.as_str(), cna.product.as_str()),
            ("Ivanti", "EPMM")
        );
        assert!(cna.cpes.is_empty());
        assert_eq!(cna.status, ProductStatus::Affected);
        // CISA-ADP: CPE-style names, a CPE and "0" ≤ v < 12.1.0.1.
        let adp = &a.products[1];
        assert_eq!(
            (adp.vendor.as_str(), adp.product.as_str()),
            ("ivanti", "endpoint_manager_mobile")
        );
        assert_eq!(
            adp.cpes,
            ["cpe:2.3:a:ivanti:endpoint_manager_mobile:*:*:*:*:*:*:*:*"]
        );
        assert_eq!(adp.status, ProductStatus::Affected);
        assert_eq!(
            adp.versions,
            [VersionSpec::Range {
                range: VersionRange {
                    start: None,
                    end: bound("12.1.0.1", false),
                }
            }]
        );
    }

    #[test]
    fn kev_from_the_cisa_adp_metric() {
        let a = single("CVE-2024-47575.json");
        let kev = a.kev.as_ref().unwrap();
        assert_eq!(kev.date_added, Some(date!(2024 - 10 - 23)));
        assert_eq!(kev.due_date, None);
        let cvss = a.cvss.as_ref().unwrap();
        assert_eq!((cvss.version.as_str(), cvss.base_score), ("3.1", 9.8));

        let fortimanager = a
            .products
            .iter()
            .find(|p| p.vendor == "Fortinet" && p.product == "FortiManager")
            .unwrap();
        assert_eq!(fortimanager.cpes.len(), 55);
        assert_eq!(
            fortimanager.versions[0],
            VersionSpec::Exact {
                version: "7.6.0".to_owned()
            }
        );
        assert_eq!(
            fortimanager.versions[1],
            VersionSpec::Range {
                range: VersionRange {
                    start: bound("7.4.0", true),
                    end: bound("7.4.4", true),
                }
            }
        );
        assert_eq!(fortimanager.versions.len(), 6);
    }

    #[test]
    fn rejected_record_is_kept_and_flagged() {
        let a = single("CVE-2024-4542.json");
        assert!(a.rejected);
        assert!(a.products.is_empty());
        assert!(a.description.starts_with("** REJECT **"));
    }

    #[test]
    fn unaffected_default_status_and_arrays() {
        let records = serde_json::json!([
            {
                "cveMetadata": {"cveId": "CVE-2024-0001", "state": "PUBLISHED"},
                "containers": {"cna": {
                    "title": "A title",
                    "descriptions": [{"lang": "fr", "value": "non"}, {"lang": "en-US", "value": "yes"}],
                    "affected": [
                        {"vendor": "Acme", "product": "Pump", "defaultStatus": "affected",
                         "versions": [{"version": "2.0", "status": "unaffected", "lessThan": "*"},
                                      {"version": "1.5", "status": "unknown"}]},
                        {"vendor": "Acme", "product": "Monitor",
                         "versions": [{"version": "*", "status": "affected", "lessThanOrEqual": "3.1"}]},
                        {"vendor": "Acme", "product": "Nothing", "defaultStatus": "unaffected"}
                    ],
                    "metrics": [{"cvssV3_1": {"version": "3.1", "baseScore": 5.0, "vectorString": "v31"}}]
                },
                "adp": [{"providerMetadata": {"shortName": "CISA-ADP"},
                         "metrics": [{"cvssV4_0": {"version": "4.0", "baseScore": 6.9, "vectorString": "v40"}}]}]}
            },
            {"cveMetadata": {"cveId": "CVE-2024-0002"}, "containers": {"cna": {"affected": "x"}}},
            {"cveMetadata": {"cveId": "nope"}, "containers": {"cna": {}}}
        ]);
        let outcome = parse_cve5(records.to_string().as_bytes(), "a.json");
        assert_eq!(outcome.advisories.len(), 1);
        let a = &outcome.advisories[0];
        assert_eq!(
            (a.title.as_str(), a.description.as_str()),
            ("A title", "yes")
        );
        assert_eq!(a.cvss.as_ref().unwrap().version, "4.0");
        let summary: Vec<(&str, ProductStatus, &[VersionSpec])> = a
            .products
            .iter()
            .map(|p| (p.product.as_str(), p.status, p.versions.as_slice()))
            .collect();
        assert_eq!(
            summary,
            [
                ("Pump", ProductStatus::Affected, &[VersionSpec::All][..]),
                (
                    "Pump",
                    ProductStatus::NotAffected,
                    &[VersionSpec::Range {
                        range: VersionRange {
                            start: bound("2.0", true),
                            end: None,
                        }
                    }][..]
                ),
                (
                    "Monitor",
                    ProductStatus::Affected,
                    &[VersionSpec::Range {
                        range: VersionRange {
                            start: None,
                            end: bound("3.1", true),
                        }
                    }][..]
                ),
            ]
        );
        let locations: Vec<&str> = outcome
            .rejected
            .iter()
            .map(|r| r.location.as_str())
            .collect();
        assert_eq!(
            locations,
            [
                "a.json: $[1].containers.cna.affected",
                "a.json: $[2].cveMetadata.cveId"
            ]
        );
    }

    #[test]
    fn not_json_is_one_rejection() {
        let outcome = parse_cve5(b"{\"cveMetadata\": ", "bad.json");
        assert!(outcome.advisories.is_empty());
        assert_eq!(outcome.rejected.len(), 1);
        assert!(outcome.rejected[0].location.starts_with("bad.json: line 1"));
    }
}
