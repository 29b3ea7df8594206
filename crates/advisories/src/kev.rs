//! The CISA Known Exploited Vulnerabilities catalogue, as JSON
//! (`known_exploited_vulnerabilities.json`) or CSV.
//!
//! KEV has no CPE and no versions: each entry becomes one advisory whose
//! single product statement covers every version of the vendor's product,
//! and the matcher joins on the CVE id. A bad entry is rejected with its
//! path; the others come through.

use serde_json::{Map, Value};
use time::Date;

use crate::{
    Advisory, KevFlag, ParseOutcome, ProductStatement, ProductStatus, Reference, Rejected,
    Remediation, Source, VersionSpec,
};

/// One catalogue entry, whichever file it came from.
#[derive(Default)]
struct Entry {
    cve_id: String,
    vendor: String,
    product: String,
    name: String,
    date_added: String,
    description: String,
    required_action: String,
    due_date: String,
    ransomware: String,
    notes: String,
}

/// Reads the JSON catalogue.
pub fn parse_kev(bytes: &[u8], location: &str) -> ParseOutcome {
    let mut outcome = ParseOutcome::default();
    let root: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            outcome.rejected.push(Rejected::new(
                format!("{location}: line {} column {}", e.line(), e.column()),
                format!("not JSON: {e}"),
            ));
            return outcome;
        }
    };
    let entries = match root.get("vulnerabilities").and_then(Value::as_array) {
        Some(a) => a,
        None => {
            outcome.rejected.push(Rejected::new(
                format!("{location}: $.vulnerabilities"),
                "expected an array of entries",
            ));
            return outcome;
        }
    };
    for (i, v) in entries.iter().enumerate() {
        let path = format!("{location}: $.vulnerabilities[{i}]");
        let result = match v.as_object() {
            Some(obj) => {
                json_entry(obj, &path).and_then(|e| build(e, |field| format!("{path}.{field}")))
            }
            None => Err(Rejected::new(path.clone(), "expected an object")),
        };
        match result {
            Ok(a) => outcome.advisories.push(a),
            Err(r) => outcome.rejected.push(r),
        }
    }
    outcome
}

fn json_entry(obj: &Map<String, Value>, path: &str) -> Result<Entry, Rejected> {
    let field = |key: &str| -> Result<String, Rejected> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            Some(_) => Err(Rejected::new(format!("{path}.{key}"), "expected a string")),
        }
    };
    Ok(Entry {
        cve_id: field("cveID")?,
        vendor: field("vendorProject")?,
        product: field("product")?,
        name: field("vulnerabilityName")?,
        date_added: field("dateAdded")?,
        description: field("shortDescription")?,
        required_action: field("requiredAction")?,
        due_date: field("dueDate")?,
        ransomware: field("knownRansomwareCampaignUse")?,
        notes: field("notes")?,
    })
}

/// Reads the CSV catalogue (same columns as the JSON, header first).
pub fn parse_kev_csv(bytes: &[u8], location: &str) -> ParseOutcome {
    let mut outcome = ParseOutcome::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            outcome
                .rejected
                .push(Rejected::new(format!("{location}: line 1"), e.to_string()));
            return outcome;
        }
    };
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let Some(cve_col) = column("cveID") else {
        outcome.rejected.push(Rejected::new(
            format!("{location}: line 1"),
            "no cveID column",
        ));
        return outcome;
    };
    let cols = [
        column("vendorProject"),
        column("product"),
        column("vulnerabilityName"),
        column("dateAdded"),
        column("shortDescription"),
        column("requiredAction"),
        column("dueDate"),
        column("knownRansomwareCampaignUse"),
        column("notes"),
    ];
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                outcome.rejected.push(Rejected::new(
                    format!("{location}: line {line}"),
                    e.to_string(),
                ));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let [
            vendor,
            product,
            name,
            added,
            desc,
            action,
            due,
            ransom,
            notes,
        ] = cols;
        let entry = Entry {
            cve_id: get(Some(cve_col)),
            vendor: get(vendor),
            product: get(product),
            name: get(name),
            date_added: get(added),
            description: get(desc),
            required_action: get(action),
            due_date: get(due),
            ransomware: get(ransom),
            notes: get(notes),
        };
        match build(entry, |field| {
            format!("{location}: line {line}, column {field}")
        }) {
            Ok(a) => outcome.advisories.push(a),
            Err(r) => outcome.rejected.push(r),
        }
    }
    outcome
}

fn build(e: Entry, at: impl Fn(&str) -> String) -> Result<Advisory, Rejected> {
    if e.cve_id.is_empty() {
        return Err(Rejected::new(at("cveID"), "missing CVE id"));
    }
    if !e.cve_id.starts_with("CVE-") {
        return Err(Rejected::new(
            at("cveID"),
            format!("not a CVE id: {:?}", e.cve_id),
        ));
    }
    let date = |text: &str, field: &str| -> Result<Option<Date>, Rejected> {
        if text.is_empty() {
            return Ok(None);
        }
        Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map(Some)
        .map_err(|err| Rejected::new(at(field), format!("not a date: {text:?} ({err})")))
    };
    let date_added = date(&e.date_added, "dateAdded")?;
    let due_date = date(&e.due_date, "dueDate")?;

    let mut a = Advisory::new(e.cve_id, Source::Kev);
    a.title = e.name;
    a.description = e.description;
    a.language = "en".to_string();
    a.kev = Some(KevFlag {
        date_added,
        due_date,
        required_action: e.required_action.clone(),
        ransomware: e.ransomware.eq_ignore_ascii_case("Known"),
    });
    a.products.push(ProductStatement {
        vendor: e.vendor,
        product: e.product,
        cpes: Vec::new(),
        versions: vec![VersionSpec::All],
        status: ProductStatus::Affected,
        model_numbers: Vec::new(),
        skus: Vec::new(),
        serial_numbers: Vec::new(),
        purls: Vec::new(),
        product_id: None,
    });
    if !e.required_action.is_empty() {
        a.remediations.push(Remediation {
            category: "required-action".to_string(),
            text: e.required_action,
            url: None,
            product_ids: Vec::new(),
        });
    }
    // `notes` is URLs separated by " ; " (sometimes ", " or prose first).
    for word in e.notes.split([' ', ';', ',']) {
        let url = word.trim();
        if (url.starts_with("https://") || url.starts_with("http://"))
            && !a.references.iter().any(|r| r.url == url)
        {
            a.references.push(Reference {
                url: url.to_string(),
                name: String::new(),
            });
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/kev/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn find<'a>(out: &'a ParseOutcome, id: &str) -> &'a Advisory {
        out.advisories.iter().find(|a| a.id == id).unwrap()
    }

    fn check_real_entries(out: &ParseOutcome) {
        let forti = find(out, "CVE-2024-21762");
        assert_eq!(forti.source, Source::Kev);
        assert_eq!(
            forti.title,
            "Fortinet FortiOS Out-of-Bound Write Vulnerability"
        );
        let kev = forti.kev.as_ref().unwrap();
        assert_eq!(kev.date_added, Some(date!(2024 - 02 - 09)));
        assert_eq!(kev.due_date, Some(date!(2024 - 02 - 16)));
        assert!(kev.ransomware);
        assert_eq!(
            kev.required_action,
            "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable."
        );
        assert_eq!(forti.products.len(), 1);
        let p = &forti.products[0];
        assert_eq!(
            (p.vendor.as_str(), p.product.as_str()),
            ("Fortinet", "FortiOS")
        );
        assert_eq!(p.status, ProductStatus::Affected);
        assert_eq!(p.versions, vec![VersionSpec::All]);
        assert_eq!(forti.remediations[0].category, "required-action");
        assert_eq!(
            forti
                .references
                .iter()
                .map(|r| r.url.as_str())
                .collect::<Vec<_>>(),
            vec![
                "https://fortiguard.fortinet.com/psirt/FG-IR-24-015",
                "https://nvd.nist.gov/vuln/detail/CVE-2024-21762"
            ]
        );

        let ivanti = find(out, "CVE-2023-46805");
        let kev = ivanti.kev.as_ref().unwrap();
        assert!(!kev.ransomware);
        assert_eq!(kev.due_date, Some(date!(2024 - 01 - 22)));
        assert_eq!(ivanti.products[0].vendor, "Ivanti");
        assert_eq!(
            ivanti.products[0].product,
            "Connect Secure and Policy Secure"
        );

        let citrix = find(out, "CVE-2023-4966");
        assert!(citrix.kev.as_ref().unwrap().ransomware);
        assert_eq!(
            citrix.kev.as_ref().unwrap().due_date,
            Some(date!(2023 - 11 - 08))
        );
    }

    #[test]
    fn kev_json_real_entries() {
        let out = parse_kev(&fixture("kev-cut.json"), "kev-cut.json");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.advisories.len(), 5);
        check_real_entries(&out);
    }

    #[test]
    fn kev_csv_real_entries() {
        let out = parse_kev_csv(&fixture("kev-cut.csv"), "kev-cut.csv");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.advisories.len(), 5);
        check_real_entries(&out);
        // JSON and CSV say the same thing.
        let json = parse_kev(&fixture("kev-cut.json"), "kev-cut.json");
        for a in &json.advisories {
            assert_eq!(Some(a), out.advisories.iter().find(|b| b.id == a.id));
        }
    }

    #[test]
    fn kev_bad_entries_rejected_others_kept() {
        let out = parse_kev(&fixture("malformed-kev-cut.json"), "malformed-kev-cut.json");
        let locations: Vec<_> = out.rejected.iter().map(|r| r.location.as_str()).collect();
        assert_eq!(
            locations,
            vec![
                "malformed-kev-cut.json: $.vulnerabilities[1].cveID",
                "malformed-kev-cut.json: $.vulnerabilities[2].dueDate",
            ]
        );
        assert_eq!(out.advisories.len(), 3);
        check_real_entries_without_ivanti(&out);
    }

    fn check_real_entries_without_ivanti(out: &ParseOutcome) {
        assert!(find(out, "CVE-2024-21762").kev.as_ref().unwrap().ransomware);
        assert!(find(out, "CVE-2023-4966").kev.as_ref().unwrap().ransomware);
        assert!(out.advisories.iter().all(|a| a.id != "CVE-2024-21887"));
    }

    #[test]
    fn kev_not_a_catalogue() {
        let out = parse_kev(b"{\"count\": 0}", "x.json");
        assert!(out.advisories.is_empty());
        assert_eq!(out.rejected[0].location, "x.json: $.vulnerabilities");
        let out = parse_kev(b"[", "x.json");
        assert!(out.rejected[0].location.starts_with("x.json: line 1"));
    }
}
