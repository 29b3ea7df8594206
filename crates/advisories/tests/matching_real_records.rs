//! The matcher on real records (fixtures copied from the shared advisory
//! data, see fixtures/SOURCES.md), with expectations checked by hand
//! against the records: in a range and just outside it, an exact Ivanti
//! release in the update field, firmware on its hardware platform, a CSAF
//! range by vendor and product names, and another product of the vendor.

use mamori_advisories::csaf::parse_csaf;
use mamori_advisories::nvd::parse_nvd;
use mamori_advisories::version::{scheme_for, split_update};
use mamori_advisories::{Advisory, Confidence, InventoryItem, Method, match_item};
use mamori_domain::cpe::CpeName;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn one(outcome: mamori_advisories::ParseOutcome) -> Advisory {
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    assert_eq!(outcome.advisories.len(), 1);
    outcome.advisories.into_iter().next().unwrap()
}

fn cpes(cpes: &[&str]) -> InventoryItem {
    InventoryItem {
        cpes: cpes.iter().map(|c| CpeName::parse(c).unwrap()).collect(),
        ..InventoryItem::default()
    }
}

#[test]
fn fortigate_firmware_in_cve_2024_21762s_ranges_and_just_outside() {
    let a = one(parse_nvd(
        &fixture("nvd/CVE-2024-21762.json"),
        "CVE-2024-21762.json",
    ));
    assert!(a.kev.is_some(), "the record carries CISA's KEV fields");
    for (version, affected) in [
        ("7.0.12", true),
        ("7.0.13", true),
        ("7.0.14", false),
        ("7.2.6", true),
        ("7.2.7", false),
        ("7.4.2", true),
        ("7.4.3", false),
        ("6.2.15", true),
        ("6.2.16", false),
    ] {
        let asset = cpes(&[&format!(
            "cpe:2.3:o:fortinet:fortios:{version}:*:*:*:*:*:*:*"
        )]);
        let found = match_item(&a, &asset);
        assert_eq!(found.is_some(), affected, "FortiOS {version}: {found:?}");
        if let Some(m) = found {
            assert_eq!(
                (m.method, m.confidence),
                (Method::CpeRange, Confidence::High)
            );
        }
    }
    // FortiAnalyzer is Fortinet's too, and not in the record.
    assert!(
        match_item(
            &a,
            &cpes(&["cpe:2.3:a:fortinet:fortianalyzer:7.0.12:*:*:*:*:*:*:*"])
        )
        .is_none()
    );
}

#[test]
fn ivanti_connect_secure_releases_of_cve_2023_46805() {
    let a = one(parse_nvd(
        &fixture("nvd/CVE-2023-46805.json"),
        "CVE-2023-46805.json",
    ));
    let asset = |release: &str| {
        let (version, update) = split_update(scheme_for("ivanti", "connect_secure"), release);
        cpes(&[&format!(
            "cpe:2.3:a:ivanti:connect_secure:{version}:{}:*:*:*:*:*:*",
            update.unwrap_or_else(|| "-".into())
        )])
    };
    let hit = match_item(&a, &asset("22.4R2.1")).expect("22.4R2.1 is listed");
    assert_eq!(hit.method, Method::CpeExact);
    assert!(match_item(&a, &asset("9.1R11.4")).is_some());
    assert!(match_item(&a, &asset("22.7R2.9")).is_none(), "not listed");
}

#[test]
fn ge_firmware_needs_its_platform_in_cve_2020_25175() {
    let a = one(parse_nvd(
        &fixture("nvd/CVE-2020-25175.excerpt.json"),
        "CVE-2020-25175.excerpt.json",
    ));
    // The first AND configuration of the record: firmware and hardware.
    let config = a
        .configurations
        .iter()
        .find(|c| c.nodes.len() == 2)
        .expect("an AND configuration");
    let firmware = &config
        .nodes
        .iter()
        .flat_map(|n| &n.matches)
        .find(|m| m.vulnerable)
        .unwrap()
        .criteria;
    let hardware = &config
        .nodes
        .iter()
        .flat_map(|n| &n.matches)
        .find(|m| !m.vulnerable)
        .unwrap()
        .criteria;
    let both = match_item(&a, &cpes(&[firmware, hardware])).expect("firmware on its hardware");
    assert_eq!(both.confidence, Confidence::High);
    let alone = match_item(&a, &cpes(&[firmware])).expect("the firmware alone");
    assert_eq!(alone.confidence, Confidence::Medium, "{}", alone.note);
}

#[test]
fn philips_vue_products_of_icsma_21_187_01_by_name_and_range() {
    let outcome = parse_csaf(
        &fixture("csaf/icsma-21-187-01.json"),
        "icsma-21-187-01.json",
    );
    let a = outcome.advisories.into_iter().next().expect("the advisory");
    let named = |product: &str, version: &str| InventoryItem {
        vendor: "Philips".into(),
        product: product.into(),
        version: version.into(),
        ..InventoryItem::default()
    };
    // `<= 12.2.1.5` for Vue Motion.
    let hit = match_item(&a, &named("Vue Motion", "12.2.1.5")).expect("the last affected");
    assert_eq!(
        (hit.method, hit.confidence),
        (Method::NameVersion, Confidence::Medium)
    );
    assert!(
        match_item(&a, &named("Vue Motion", "12.2.1.6")).is_none(),
        "just after"
    );
    // `<= 12.2.x.x` for Vue PACS.
    assert!(match_item(&a, &named("Vue PACS", "12.2.8.400")).is_some());
    assert!(match_item(&a, &named("Vue PACS", "12.3.0")).is_none());
    // Another vendor's product of the same name.
    let other = InventoryItem {
        vendor: "Canon".into(),
        ..named("Vue PACS", "12.2.8.400")
    };
    assert!(match_item(&a, &other).is_none());
}
