//! Hand-checked cases modelled on real records (README of the shared
//! vulnerability data, §3): the CPE criteria and ranges are those NVD, CISA
//! and Philips published.

use super::*;
use crate::{Bound, Node, VersionRange};

fn cpe(text: &str) -> CpeName {
    CpeName::parse(text).unwrap()
}

fn item(cpes: &[&str]) -> InventoryItem {
    InventoryItem {
        cpes: cpes.iter().map(|c| cpe(c)).collect(),
        ..InventoryItem::default()
    }
}

fn range(start: Option<(&str, bool)>, end: Option<(&str, bool)>) -> VersionRange {
    let bound = |b: Option<(&str, bool)>| {
        b.map(|(v, inclusive)| Bound {
            version: v.to_string(),
            inclusive,
        })
    };
    VersionRange {
        start: bound(start),
        end: bound(end),
    }
}

fn cpe_match(criteria: &str, vulnerable: bool, range: VersionRange) -> CpeMatch {
    CpeMatch {
        vulnerable,
        criteria: criteria.to_string(),
        range,
    }
}

fn nvd(id: &str, configurations: Vec<Configuration>) -> Advisory {
    let mut a = Advisory::new(id, crate::Source::Nvd);
    a.configurations = configurations;
    a
}

fn or_node(matches: Vec<CpeMatch>) -> Node {
    Node {
        operator: Operator::Or,
        negate: false,
        matches,
    }
}

/// CVE-2024-21762: FortiOS, one range per branch.
fn fortios() -> Advisory {
    let fortios = "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*";
    nvd(
        "CVE-2024-21762",
        vec![Configuration {
            operator: Operator::Or,
            negate: false,
            nodes: vec![or_node(vec![
                cpe_match(
                    fortios,
                    true,
                    range(Some(("6.0.0", true)), Some(("6.2.16", false))),
                ),
                cpe_match(
                    fortios,
                    true,
                    range(Some(("7.0.0", true)), Some(("7.0.14", false))),
                ),
                cpe_match(
                    fortios,
                    true,
                    range(Some(("7.2.0", true)), Some(("7.2.7", false))),
                ),
            ])],
        }],
    )
}

#[test]
fn a_fortios_in_a_range_matches_and_the_first_fixed_release_does_not() {
    let a = fortios();
    let hit = match_item(
        &a,
        &item(&["cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"]),
    )
    .unwrap();
    assert_eq!(
        (hit.method, hit.confidence),
        (Method::CpeRange, Confidence::High)
    );
    assert!(!hit.needs_confirmation());
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:o:fortinet:fortios:7.0.14:*:*:*:*:*:*:*"])
        )
        .is_none()
    );
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:o:fortinet:fortios:6.4.15:*:*:*:*:*:*:*"])
        )
        .is_none()
    );
    // Another product of the same vendor.
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:a:fortinet:fortiproxy:7.0.12:*:*:*:*:*:*:*"])
        )
        .is_none()
    );
    // A FortiOS whose version is unknown waits for an analyst.
    let unknown = match_item(&a, &item(&["cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*"])).unwrap();
    assert_eq!(unknown.confidence, Confidence::Low);
    assert!(unknown.needs_confirmation());
}

#[test]
fn ivanti_releases_sit_in_the_update_field() {
    let a = nvd(
        "CVE-2023-46805",
        vec![Configuration {
            operator: Operator::Or,
            negate: false,
            nodes: vec![or_node(vec![
                cpe_match(
                    "cpe:2.3:a:ivanti:connect_secure:22.4:r2.1:*:*:*:*:*:*",
                    true,
                    VersionRange::default(),
                ),
                cpe_match(
                    "cpe:2.3:a:ivanti:connect_secure:9.1:r11.4:*:*:*:*:*:*",
                    true,
                    VersionRange::default(),
                ),
            ])],
        }],
    );
    // An inventory's "22.4R2.1" split the vendor's way.
    let (version, update) = split_update(scheme_for("ivanti", "connect_secure"), "22.4R2.1");
    let asset = format!(
        "cpe:2.3:a:ivanti:connect_secure:{version}:{}:*:*:*:*:*:*",
        update.unwrap()
    );
    let hit = match_item(&a, &item(&[&asset])).unwrap();
    assert_eq!(
        (hit.method, hit.confidence),
        (Method::CpeExact, Confidence::High)
    );
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:a:ivanti:connect_secure:22.4:r2.2:*:*:*:*:*:*"])
        )
        .is_none()
    );
}

#[test]
fn na_is_not_any() {
    // GE HealthCare: the release is in the product name, the version is NA.
    let a = nvd(
        "CVE-2020-25175",
        vec![Configuration {
            operator: Operator::Or,
            negate: false,
            nodes: vec![or_node(vec![cpe_match(
                "cpe:2.3:o:gehealthcare:logiq_7_bt04_firmware:-:*:*:*:*:*:*:*",
                true,
                VersionRange::default(),
            )])],
        }],
    );
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:o:gehealthcare:logiq_7_bt04_firmware:-:*:*:*:*:*:*:*"])
        )
        .is_some()
    );
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:o:gehealthcare:logiq_7_bt04_firmware:1.0:*:*:*:*:*:*:*"])
        )
        .is_none()
    );
}

#[test]
fn firmware_on_a_platform_needs_both_and_an_unknown_platform_lowers_confidence() {
    let a = nvd(
        "CVE-2020-25175",
        vec![Configuration {
            operator: Operator::And,
            negate: false,
            nodes: vec![
                or_node(vec![cpe_match(
                    "cpe:2.3:o:gehealthcare:logiq_7_bt04_firmware:-:*:*:*:*:*:*:*",
                    true,
                    VersionRange::default(),
                )]),
                or_node(vec![cpe_match(
                    "cpe:2.3:h:gehealthcare:logiq_7_bt04:-:*:*:*:*:*:*:*",
                    false,
                    VersionRange::default(),
                )]),
            ],
        }],
    );
    let firmware = "cpe:2.3:o:gehealthcare:logiq_7_bt04_firmware:-:*:*:*:*:*:*:*";
    let both = match_item(
        &a,
        &item(&[
            firmware,
            "cpe:2.3:h:gehealthcare:logiq_7_bt04:-:*:*:*:*:*:*:*",
        ]),
    )
    .unwrap();
    assert_eq!(both.confidence, Confidence::High);
    let alone = match_item(&a, &item(&[firmware])).unwrap();
    assert_eq!(alone.confidence, Confidence::Medium, "{}", alone.note);
    assert!(
        match_item(
            &a,
            &item(&[firmware, "cpe:2.3:h:gehealthcare:logiq_9:-:*:*:*:*:*:*:*"])
        )
        .is_none()
    );
    // The hardware alone is a platform, not the vulnerable part.
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:h:gehealthcare:logiq_7_bt04:-:*:*:*:*:*:*:*"])
        )
        .is_none()
    );
}

#[test]
fn a_pan_os_hotfix_is_after_the_end_of_its_range() {
    let a = nvd(
        "CVE-2024-3382",
        vec![Configuration {
            operator: Operator::Or,
            negate: false,
            nodes: vec![or_node(vec![cpe_match(
                "cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*",
                true,
                range(Some(("11.1.0", true)), Some(("11.1.2", false))),
            )])],
        }],
    );
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:o:paloaltonetworks:pan-os:11.1.2:h3:*:*:*:*:*:*"])
        )
        .is_none()
    );
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:o:paloaltonetworks:pan-os:11.1.1:h1:*:*:*:*:*:*"])
        )
        .is_some()
    );
}

#[test]
fn a_rejected_advisory_matches_nothing() {
    let mut a = fortios();
    a.rejected = true;
    assert!(
        match_item(
            &a,
            &item(&["cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"])
        )
        .is_none()
    );
}

fn named(vendor: &str, product: &str, version: &str) -> InventoryItem {
    InventoryItem {
        vendor: vendor.into(),
        product: product.into(),
        version: version.into(),
        ..InventoryItem::default()
    }
}

fn statement(
    vendor: &str,
    product: &str,
    versions: Vec<VersionSpec>,
    status: ProductStatus,
) -> ProductStatement {
    ProductStatement {
        vendor: vendor.into(),
        product: product.into(),
        cpes: Vec::new(),
        versions,
        status,
        model_numbers: Vec::new(),
        skus: Vec::new(),
        serial_numbers: Vec::new(),
        purls: Vec::new(),
        product_id: None,
    }
}

#[test]
fn a_csaf_statement_matches_by_name_and_range_and_known_not_affected_wins() {
    // ICSMA-24-200-01: Philips Vue PACS < 12.2.8.410.
    let mut a = Advisory::new("ICSMA-24-200-01", crate::Source::Csaf);
    a.products = vec![
        statement(
            "Philips ",
            "Vue PACS",
            vec![VersionSpec::Range {
                range: range(None, Some(("12.2.8.410", false))),
            }],
            ProductStatus::Affected,
        ),
        statement(
            "Philips",
            "Vue Motion",
            vec![VersionSpec::All],
            ProductStatus::NotAffected,
        ),
        statement(
            "Philips",
            "Vue Motion",
            vec![VersionSpec::All],
            ProductStatus::Affected,
        ),
    ];
    let hit = match_item(
        &a,
        &named("Koninklijke Philips N.V.", "Vue PACS", "12.2.8.300"),
    )
    .unwrap();
    assert_eq!(
        (hit.method, hit.confidence),
        (Method::NameVersion, Confidence::Medium)
    );
    assert!(
        match_item(&a, &named("Philips", "Vue PACS", "12.2.8.410")).is_none(),
        "just outside"
    );
    assert!(
        match_item(&a, &named("Philips", "Vue Motion", "1.0")).is_none(),
        "known not affected"
    );
    // No version recorded: vendor/product only, for an analyst.
    let low = match_item(&a, &named("フィリップス", "vue_pacs", "")).unwrap();
    assert_eq!(low.confidence, Confidence::Low);
    // Another vendor's product of the same name does not match.
    assert!(match_item(&a, &named("Canon", "Vue PACS", "12.0")).is_none());
}

#[test]
fn model_numbers_and_vendor_aliases() {
    let mut a = Advisory::new("ICSMA-20-049-01", crate::Source::Csaf);
    let mut s = statement(
        "GE Healthcare",
        "CARESCAPE Telemetry Server",
        vec![VersionSpec::All],
        ProductStatus::Affected,
    );
    s.model_numbers = vec!["2016122-001".into()];
    a.products = vec![s];
    let by_model = InventoryItem {
        vendor: "GE".into(),
        product: "テレメトリーサーバ".into(),
        model: "2016122-001".into(),
        ..InventoryItem::default()
    };
    let hit = match_item(&a, &by_model).unwrap();
    assert_eq!(
        hit.confidence,
        Confidence::Low,
        "all versions, found by model"
    );
    assert_eq!(
        canonical_vendor("General Electric (GE)"),
        canonical_vendor("gehealthcare")
    );
    assert_eq!(canonical_vendor("フォーティネット"), "fortinet");
    assert_eq!(
        canonical_vendor("Palo Alto Networks, Inc."),
        "paloaltonetworks"
    );
}
