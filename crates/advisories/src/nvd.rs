//! NVD CVE API 2.0: API pages, yearly/modified feeds (plain or gzipped)
//! and bare `cve` objects.
//!
//! The reader streams: the `vulnerabilities` array is walked one element
//! at a time and each record goes to the sink as soon as it is read, so a
//! 300 MB feed never sits in memory as a whole. Only one record at a time
//! is held (as a `serde_json::Value`, so a malformed record can be
//! rejected with its JSON path while the stream carries on).

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use time::Date;

use crate::{
    Advisory, Bound, Configuration, CpeMatch, Cvss, KevFlag, Node, Operator, ParseOutcome,
    Reference, Rejected, Source, VersionRange,
};

/// Reads an NVD page, feed or bare `cve` object from `reader` — gzipped
/// or not, detected by the magic bytes — and hands every record to `sink`
/// as soon as it is read. A record that cannot be mapped is an `Err` with
/// its JSON path; a file that is not JSON (or breaks off) gives one `Err`
/// with the position, after the records read before the break.
pub fn read_nvd<R: Read>(
    reader: R,
    location: &str,
    sink: &mut dyn FnMut(Result<Advisory, Rejected>),
) {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let gzipped = match buffered.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            sink(Err(Rejected::new(location, format!("cannot read: {e}"))));
            return;
        }
    };
    if gzipped {
        // Multi-member: some tools write feeds as concatenated gzip members.
        let inflated = flate2::bufread::MultiGzDecoder::new(buffered);
        read_json(
            BufReader::with_capacity(64 * 1024, inflated),
            location,
            sink,
        );
    } else {
        read_json(buffered, location, sink);
    }
}

/// Like [`read_nvd`] for a reader known to be gzipped.
pub fn read_nvd_gz<R: Read>(
    reader: R,
    location: &str,
    sink: &mut dyn FnMut(Result<Advisory, Rejected>),
) {
    let inflated = flate2::read::MultiGzDecoder::new(reader);
    read_json(
        BufReader::with_capacity(64 * 1024, inflated),
        location,
        sink,
    );
}

/// Reads a whole NVD file held in memory (gzipped or not).
pub fn parse_nvd(bytes: &[u8], location: &str) -> ParseOutcome {
    let mut outcome = ParseOutcome::default();
    read_nvd(bytes, location, &mut |record| match record {
        Ok(advisory) => outcome.advisories.push(advisory),
        Err(rejected) => outcome.rejected.push(rejected),
    });
    outcome
}

/// The most JSON text one record may take (for a bare `cve` object, the
/// whole file). The largest NVD records are a few MB; the stream holds one
/// record whole, so without a limit a gzip bomb inside one string would
/// become gigabytes in memory.
pub const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// Counts the bytes read since the current record began.
struct RecordLimit<'a, R> {
    inner: R,
    since_record: &'a Cell<u64>,
    records: &'a Cell<usize>,
}

impl<R: Read> Read for RecordLimit<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_record.get() > MAX_RECORD_BYTES {
            return Err(io::Error::other(format!(
                "record {} is larger than {} MB; refused",
                self.records.get() + 1,
                MAX_RECORD_BYTES >> 20
            )));
        }
        let read = self.inner.read(buf)?;
        self.since_record
            .set(self.since_record.get().saturating_add(read as u64));
        Ok(read)
    }
}

fn read_json<R: Read>(reader: R, location: &str, sink: &mut dyn FnMut(Result<Advisory, Rejected>)) {
    let since_record = Cell::new(0);
    let records = Cell::new(0);
    let limited = RecordLimit {
        inner: reader,
        since_record: &since_record,
        records: &records,
    };
    let mut de =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(64 * 1024, limited));
    let result = Document {
        location,
        sink: &mut *sink,
        since_record: &since_record,
        records: &records,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Err(e) = result {
        // An I/O error (a damaged gzip stream, a record too large) has no
        // position in the JSON text.
        let at = if e.is_io() {
            location.to_owned()
        } else {
            format!("{location}: line {} column {}", e.line(), e.column())
        };
        sink(Err(Rejected::new(
            at,
            format!("not a readable NVD JSON file: {e}"),
        )));
    }
}

/// The top level: a page/feed wrapper, a bare `cve` object, or (leniently)
/// an array of either.
struct Document<'a> {
    location: &'a str,
    sink: &'a mut dyn FnMut(Result<Advisory, Rejected>),
    since_record: &'a Cell<u64>,
    records: &'a Cell<usize>,
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an NVD CVE API 2.0 page, feed or cve object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Keys other than `vulnerabilities` are small (page counters) or,
        // for a bare cve object, the record itself.
        let mut rest = Map::new();
        let mut paged = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "vulnerabilities" {
                map.next_value_seed(Vulnerabilities {
                    location: self.location,
                    sink: &mut *self.sink,
                    since_record: self.since_record,
                    records: self.records,
                })?;
                paged = true;
            } else {
                let value: Value = map.next_value()?;
                rest.insert(key, value);
            }
        }
        if paged {
            return Ok(());
        }
        let root = Path::Root;
        if rest.contains_key("id")
            || rest.contains_key("configurations")
            || rest.contains_key("descriptions")
        {
            (self.sink)(map_cve(&rest, self.location, &root));
        } else {
            (self.sink)(Err(reject(
                self.location,
                &root,
                "neither an NVD page (`vulnerabilities`) nor a cve object (`id`)",
            )));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while let Some(item) = seq.next_element::<Value>()? {
            let at = Path::Index(&Path::Root, index);
            let record = match item.as_object() {
                Some(obj) if obj.contains_key("cve") => map_item(obj, self.location, &at),
                Some(obj) => map_cve(obj, self.location, &at),
                None => Err(reject(self.location, &at, "expected an object")),
            };
            (self.sink)(record);
            index += 1;
            self.records.set(index);
            self.since_record.set(0);
        }
        Ok(())
    }
}

/// The `vulnerabilities` array, one element at a time.
struct Vulnerabilities<'a> {
    location: &'a str,
    sink: &'a mut dyn FnMut(Result<Advisory, Rejected>),
    since_record: &'a Cell<u64>,
    records: &'a Cell<usize>,
}

impl<'de> DeserializeSeed<'de> for Vulnerabilities<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Vulnerabilities<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of {\"cve\": {...}}")
    }

    // `"vulnerabilities": null` is an empty page.
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let list = Path::Key(&Path::Root, "vulnerabilities");
        let mut index = 0usize;
        while let Some(item) = seq.next_element::<Value>()? {
            let at = Path::Index(&list, index);
            let record = match item.as_object() {
                Some(obj) => map_item(obj, self.location, &at),
                None => Err(reject(self.location, &at, "expected an object")),
            };
            (self.sink)(record);
            index += 1;
            self.records.set(index);
            self.since_record.set(0);
        }
        Ok(())
    }
}

fn map_item(item: &Map<String, Value>, file: &str, at: &Path) -> Result<Advisory, Rejected> {
    let cve_at = Path::Key(at, "cve");
    match item.get("cve") {
        Some(Value::Object(cve)) => map_cve(cve, file, &cve_at),
        Some(_) => Err(reject(file, &cve_at, "expected an object")),
        None => Err(reject(file, &cve_at, "missing")),
    }
}

/// Maps one `cve` object.
fn map_cve(cve: &Map<String, Value>, file: &str, at: &Path) -> Result<Advisory, Rejected> {
    let id = match get_str(cve, "id", file, at)? {
        Some(id) if is_cve_id(id) => id,
        Some(id) => {
            return Err(reject(
                file,
                &Path::Key(at, "id"),
                format!("not a CVE id: {id:?}"),
            ));
        }
        None => return Err(reject(file, &Path::Key(at, "id"), "missing")),
    };
    let mut advisory = Advisory::new(id, Source::Nvd);
    advisory.rejected = get_str(cve, "vulnStatus", file, at)?
        .is_some_and(|status| status.eq_ignore_ascii_case("rejected"));
    advisory.published = get_date(cve, "published", file, at)?;
    advisory.modified = get_date(cve, "lastModified", file, at)?;
    if let Some(text) = english_text(cve, "descriptions", file, at)? {
        advisory.description = text.to_owned();
        advisory.language = "en".to_owned();
    }
    // NVD has no title; CISA's KEV name is the closest thing to one.
    if let Some(name) = get_str(cve, "cisaVulnerabilityName", file, at)? {
        advisory.title = name.to_owned();
    }
    advisory.cvss = nvd_cvss(cve, file, at)?;
    advisory.kev = nvd_kev(cve, file, at)?;

    let refs_at = Path::Key(at, "references");
    for (i, reference) in get_arr(cve, "references", file, at)?.iter().enumerate() {
        let ref_at = Path::Index(&refs_at, i);
        let reference = as_obj(reference, file, &ref_at)?;
        match get_str(reference, "url", file, &ref_at)? {
            Some(url) => advisory.references.push(Reference {
                url: url.to_owned(),
                name: String::new(),
            }),
            None => return Err(reject(file, &Path::Key(&ref_at, "url"), "missing")),
        }
    }

    let configs_at = Path::Key(at, "configurations");
    for (i, config) in get_arr(cve, "configurations", file, at)?.iter().enumerate() {
        let config_at = Path::Index(&configs_at, i);
        advisory
            .configurations
            .push(map_configuration(config, file, &config_at)?);
    }
    Ok(advisory)
}

fn map_configuration(config: &Value, file: &str, at: &Path) -> Result<Configuration, Rejected> {
    let config = as_obj(config, file, at)?;
    let operator = get_operator(config, file, at)?;
    let negate = get_bool(config, "negate", file, at)?.unwrap_or(false);
    let nodes_at = Path::Key(at, "nodes");
    let mut nodes = Vec::new();
    for (i, node) in get_arr(config, "nodes", file, at)?.iter().enumerate() {
        let node_at = Path::Index(&nodes_at, i);
        let node = as_obj(node, file, &node_at)?;
        let matches_at = Path::Key(&node_at, "cpeMatch");
        let mut matches = Vec::new();
        for (j, m) in get_arr(node, "cpeMatch", file, &node_at)?
            .iter()
            .enumerate()
        {
            matches.push(map_cpe_match(m, file, &Path::Index(&matches_at, j))?);
        }
        nodes.push(Node {
            operator: get_operator(node, file, &node_at)?,
            negate: get_bool(node, "negate", file, &node_at)?.unwrap_or(false),
            matches,
        });
    }
    Ok(Configuration {
        operator,
        negate,
        nodes,
    })
}

fn map_cpe_match(m: &Value, file: &str, at: &Path) -> Result<CpeMatch, Rejected> {
    let m = as_obj(m, file, at)?;
    let Some(criteria) = get_str(m, "criteria", file, at)? else {
        return Err(reject(file, &Path::Key(at, "criteria"), "missing"));
    };
    let Some(vulnerable) = get_bool(m, "vulnerable", file, at)? else {
        return Err(reject(file, &Path::Key(at, "vulnerable"), "missing"));
    };
    let bound = |including: &str, excluding: &str| -> Result<Option<Bound>, Rejected> {
        if let Some(v) = clean(get_str(m, including, file, at)?) {
            return Ok(Some(Bound {
                version: v.to_owned(),
                inclusive: true,
            }));
        }
        Ok(clean(get_str(m, excluding, file, at)?).map(|v| Bound {
            version: v.to_owned(),
            inclusive: false,
        }))
    };
    Ok(CpeMatch {
        vulnerable,
        criteria: criteria.to_owned(),
        range: VersionRange {
            start: bound("versionStartIncluding", "versionStartExcluding")?,
            end: bound("versionEndIncluding", "versionEndExcluding")?,
        },
    })
}

/// Some records carry stray whitespace in versions (" 5.10.35").
fn clean(version: Option<&str>) -> Option<&str> {
    version.map(str::trim).filter(|v| !v.is_empty())
}

/// `operator` absent or empty means OR (NVD omits it on single-node
/// configurations; some mirrors write "").
fn get_operator(obj: &Map<String, Value>, file: &str, at: &Path) -> Result<Operator, Rejected> {
    match get_str(obj, "operator", file, at)? {
        None | Some("") => Ok(Operator::Or),
        Some(op) if op.eq_ignore_ascii_case("or") => Ok(Operator::Or),
        Some(op) if op.eq_ignore_ascii_case("and") => Ok(Operator::And),
        Some(op) => Err(reject(
            file,
            &Path::Key(at, "operator"),
            format!("unknown operator {op:?}"),
        )),
    }
}

/// The Primary (NVD's own) score of the highest CVSS version that has
/// one; failing that, the highest-version score of any source.
fn nvd_cvss(cve: &Map<String, Value>, file: &str, at: &Path) -> Result<Option<Cvss>, Rejected> {
    const KEYS: [(&str, &str); 4] = [
        ("cvssMetricV40", "4.0"),
        ("cvssMetricV31", "3.1"),
        ("cvssMetricV30", "3.0"),
        ("cvssMetricV2", "2.0"),
    ];
    let Some(metrics) = get_obj(cve, "metrics", file, at)? else {
        return Ok(None);
    };
    let metrics_at = Path::Key(at, "metrics");
    let mut fallback = None;
    for (key, version) in KEYS {
        let list_at = Path::Key(&metrics_at, key);
        for (i, metric) in get_arr(metrics, key, file, &metrics_at)?.iter().enumerate() {
            let metric_at = Path::Index(&list_at, i);
            let metric = as_obj(metric, file, &metric_at)?;
            let primary = get_str(metric, "type", file, &metric_at)? == Some("Primary");
            if !primary && fallback.is_some() {
                continue;
            }
            let Some(data) = get_obj(metric, "cvssData", file, &metric_at)? else {
                continue;
            };
            let data_at = Path::Key(&metric_at, "cvssData");
            let mut cvss = cvss_data(data, version, file, &data_at)?;
            // CVSS 2 keeps its severity beside cvssData, not inside it.
            if cvss.severity.is_empty()
                && let Some(severity) = get_str(metric, "baseSeverity", file, &metric_at)?
            {
                cvss.severity = severity.to_owned();
            }
            if primary {
                return Ok(Some(cvss));
            }
            fallback = Some(cvss);
        }
    }
    Ok(fallback)
}

/// A `cvssData` (NVD) or `cvssV3_1` &c. (CVE 5) object.
pub(crate) fn cvss_data(
    data: &Map<String, Value>,
    version: &str,
    file: &str,
    at: &Path,
) -> Result<Cvss, Rejected> {
    let Some(base_score) = get_f64(data, "baseScore", file, at)? else {
        return Err(reject(file, &Path::Key(at, "baseScore"), "missing"));
    };
    Ok(Cvss {
        version: get_str(data, "version", file, at)?
            .unwrap_or(version)
            .to_owned(),
        base_score,
        vector: get_str(data, "vectorString", file, at)?
            .unwrap_or_default()
            .to_owned(),
        severity: get_str(data, "baseSeverity", file, at)?
            .unwrap_or_default()
            .to_owned(),
    })
}

fn nvd_kev(cve: &Map<String, Value>, file: &str, at: &Path) -> Result<Option<KevFlag>, Rejected> {
    let date_added = get_date(cve, "cisaExploitAdd", file, at)?;
    let due_date = get_date(cve, "cisaActionDue", file, at)?;
    let action = get_str(cve, "cisaRequiredAction", file, at)?;
    if date_added.is_none() && due_date.is_none() && action.is_none() {
        return Ok(None);
    }
    Ok(Some(KevFlag {
        date_added,
        due_date,
        required_action: action.unwrap_or_default().to_owned(),
        // NVD does not carry KEV's ransomware column.
        ransomware: false,
    }))
}

// ---------------------------------------------------------------------
// JSON helpers shared with `cve5`: typed field access that rejects with
// the JSON path. `null` counts as absent.

/// A JSON path built on the stack as the mapper descends; only turned
/// into text when a record is rejected.
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Path::Root => f.write_str("$"),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

pub(crate) fn reject(file: &str, at: &Path, reason: impl Into<String>) -> Rejected {
    Rejected::new(format!("{file}: {at}"), reason)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(file: &str, at: &Path, expected: &str, got: &Value) -> Rejected {
    reject(
        file,
        at,
        format!("expected {expected}, found {}", type_name(got)),
    )
}

pub(crate) fn as_obj<'v>(
    value: &'v Value,
    file: &str,
    at: &Path,
) -> Result<&'v Map<String, Value>, Rejected> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(file, at, "an object", value))
}

pub(crate) fn get_str<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    file: &str,
    at: &Path,
) -> Result<Option<&'v str>, Rejected> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(file, &Path::Key(at, key), "a string", other)),
    }
}

pub(crate) fn get_bool(
    obj: &Map<String, Value>,
    key: &str,
    file: &str,
    at: &Path,
) -> Result<Option<bool>, Rejected> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong_type(file, &Path::Key(at, key), "a boolean", other)),
    }
}

pub(crate) fn get_f64(
    obj: &Map<String, Value>,
    key: &str,
    file: &str,
    at: &Path,
) -> Result<Option<f64>, Rejected> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(wrong_type(file, &Path::Key(at, key), "a number", other)),
    }
}

pub(crate) fn get_arr<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    file: &str,
    at: &Path,
) -> Result<&'v [Value], Rejected> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong_type(file, &Path::Key(at, key), "an array", other)),
    }
}

pub(crate) fn get_obj<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    file: &str,
    at: &Path,
) -> Result<Option<&'v Map<String, Value>>, Rejected> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(wrong_type(file, &Path::Key(at, key), "an object", other)),
    }
}

/// The date part of an ISO 8601 timestamp (`2024-02-09T09:15:08.087`,
/// `2024-10-23T15:03:48.798Z`, `2024-02-09`).
pub(crate) fn get_date(
    obj: &Map<String, Value>,
    key: &str,
    file: &str,
    at: &Path,
) -> Result<Option<Date>, Rejected> {
    // An empty timestamp (seen in derived data) says nothing; not an error.
    let Some(text) = get_str(obj, key, file, at)?.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    text.get(..10)
        .and_then(|day| Date::parse(day, format).ok())
        .map(Some)
        .ok_or_else(|| reject(file, &Path::Key(at, key), format!("not a date: {text:?}")))
}

/// The English entry of a `[{lang, value}]` list (`en`, `en-US`, …).
pub(crate) fn english_text<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    file: &str,
    at: &Path,
) -> Result<Option<&'v str>, Rejected> {
    let list_at = Path::Key(at, key);
    for (i, entry) in get_arr(obj, key, file, at)?.iter().enumerate() {
        let entry_at = Path::Index(&list_at, i);
        let entry = as_obj(entry, file, &entry_at)?;
        let lang = get_str(entry, "lang", file, &entry_at)?.unwrap_or_default();
        if lang == "en" || lang.starts_with("en-") || lang.starts_with("en_") {
            return get_str(entry, "value", file, &entry_at);
        }
    }
    Ok(None)
}

/// `CVE-YYYY-NNNN…`: four-digit year, at least four digits after.
pub(crate) fn is_cve_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && number.len() >= 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use time::macros::date;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/nvd/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn single(name: &str) -> Advisory {
        let outcome = parse_nvd(&fixture(name), name);
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
    fn fortios_ranges_kev_and_cvss() {
        let a = single("CVE-2024-21762.json");
        assert_eq!(a.id, "CVE-2024-21762");
        assert_eq!(a.source, Source::Nvd);
        assert!(!a.rejected);
        assert_eq!(a.language, "en");
        assert!(a.description.contains("FortiOS"), "{}", a.description);
        assert_eq!(a.published, Some(date!(2024 - 02 - 09)));
        assert_eq!(a.modified, Some(date!(2024 - 11 - 21)));
        assert_eq!(a.title, "Fortinet FortiOS Out-of-Bound Write Vulnerability");

        let cvss = a.cvss.as_ref().unwrap();
        assert_eq!(cvss.version, "3.1");
        assert_eq!(cvss.base_score, 9.8);
        assert_eq!(cvss.severity, "CRITICAL");
        assert_eq!(cvss.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");

        let kev = a.kev.as_ref().unwrap();
        assert_eq!(kev.date_added, Some(date!(2024 - 02 - 09)));
        assert_eq!(kev.due_date, Some(date!(2024 - 02 - 16)));
        assert!(kev.required_action.starts_with("Apply mitigations"));

        assert_eq!(a.configurations.len(), 1);
        assert_eq!(a.configurations[0].operator, Operator::Or);
        let fortios: Vec<&CpeMatch> = a
            .configurations
            .iter()
            .flat_map(|c| &c.nodes)
            .flat_map(|n| &n.matches)
            .filter(|m| m.criteria.starts_with("cpe:2.3:o:fortinet:fortios:*:"))
            .collect();
        let ranges: Vec<(&str, &str)> = fortios
            .iter()
            .map(|m| {
                let start = m.range.start.as_ref().unwrap();
                let end = m.range.end.as_ref().unwrap();
                assert!(start.inclusive && !end.inclusive && m.vulnerable);
                (start.version.as_str(), end.version.as_str())
            })
            .collect();
        assert_eq!(
            ranges,
            [
                ("6.0.0", "6.2.16"),
                ("6.4.0", "6.4.15"),
                ("7.0.0", "7.0.14"),
                ("7.2.0", "7.2.7"),
                ("7.4.0", "7.4.3"),
            ]
        );
        assert!(fortios.iter().any(|m| m.range
            == VersionRange {
                start: bound("7.0.0", true),
                end: bound("7.0.14", false),
            }));
        assert!(
            a.references
                .iter()
                .any(|r| r.url == "https://fortiguard.com/psirt/FG-IR-24-015")
        );
    }

    #[test]
    fn ivanti_exact_cpes_keep_the_update_field() {
        let a = single("CVE-2023-46805.json");
        let matches: Vec<&CpeMatch> = a
            .configurations
            .iter()
            .flat_map(|c| &c.nodes)
            .flat_map(|n| &n.matches)
            .collect();
        assert_eq!(matches.len(), 81);
        let m = matches
            .iter()
            .find(|m| m.criteria == "cpe:2.3:a:ivanti:connect_secure:22.4:r2.1:*:*:*:*:*:*")
            .unwrap();
        assert!(m.vulnerable);
        assert!(m.range.is_empty());
        // NVD's Primary 3.1 beats the CNA's Secondary 3.0.
        let cvss = a.cvss.unwrap();
        assert_eq!(cvss.version, "3.1");
        assert!(cvss.vector.starts_with("CVSS:3.1/"));
        assert!(a.kev.is_some());
    }

    #[test]
    fn gehealthcare_and_configuration_with_platform() {
        let a = single("CVE-2020-25175.excerpt.json");
        assert_eq!(a.configurations.len(), 24);
        let c = &a.configurations[0];
        assert_eq!(c.operator, Operator::And);
        assert!(!c.negate);
        assert_eq!(c.nodes.len(), 2);
        let firmware = &c.nodes[0].matches[0];
        assert!(firmware.vulnerable);
        assert_eq!(
            firmware.criteria,
            "cpe:2.3:o:gehealthcare:3.0t_signa_hdxt_firmware:-:*:*:*:*:*:*:*"
        );
        let platform = &c.nodes[1].matches[0];
        assert!(!platform.vulnerable);
        assert!(platform.criteria.starts_with("cpe:2.3:h:gehealthcare:"));
        assert!(
            a.configurations
                .iter()
                .all(|c| c.operator == Operator::And && c.nodes.len() == 2)
        );
    }

    #[test]
    fn gzipped_feed_is_detected_and_streamed() {
        let bytes = fixture("nvdcve-2.0-2021.json.gz");
        assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
        let outcome = parse_nvd(&bytes, "nvdcve-2.0-2021.json.gz");
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        let ids: Vec<&str> = outcome.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2021-3002", "CVE-2021-23814", "CVE-2021-44228"]);
        let log4shell = &outcome.advisories[2];
        assert_eq!(log4shell.configurations.len(), 20);
        assert_eq!(
            log4shell.kev.as_ref().unwrap().date_added,
            Some(date!(2021 - 12 - 10))
        );
        assert_eq!(log4shell.cvss.as_ref().unwrap().base_score, 10.0);

        // The explicit gzip reader gives the same.
        let mut ids = Vec::new();
        read_nvd_gz(&bytes[..], "feed", &mut |r| ids.push(r.unwrap().id));
        assert_eq!(ids.len(), 3);
    }

    #[test]
    fn api_page_records_come_one_by_one() {
        let mut seen = Vec::new();
        read_nvd(
            &fixture("api-page-3-items.json")[..],
            "page.json",
            &mut |r| seen.push(r.unwrap().id),
        );
        assert_eq!(seen, ["CVE-2023-47488", "CVE-2023-47489", "CVE-2023-47613"]);
    }

    #[test]
    fn malformed_records_are_rejected_with_their_path_and_the_rest_come_through() {
        let outcome = parse_nvd(
            &fixture("page-with-malformed.json"),
            "page-with-malformed.json",
        );
        let ids: Vec<&str> = outcome.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "CVE-2023-47488",
                "CVE-2023-47489",
                "CVE-2023-47613",
                "CVE-2024-2652"
            ]
        );
        assert!(outcome.advisories[3].rejected);
        assert!(!outcome.advisories[0].rejected);
        let locations: Vec<&str> = outcome
            .rejected
            .iter()
            .map(|r| r.location.as_str())
            .collect();
        assert_eq!(
            locations,
            [
                "page-with-malformed.json: $.vulnerabilities[1].cve.id",
                "page-with-malformed.json: $.vulnerabilities[3].cve.configurations",
            ]
        );
        assert!(outcome.rejected[0].reason.contains("CVE-2024/../../x-0001"));
        assert!(outcome.rejected[1].reason.contains("expected an array"));
    }

    #[test]
    fn bare_records_rejected_and_malformed() {
        let a = single("CVE-2024-2652.rejected.json");
        assert!(a.rejected);
        assert!(a.configurations.is_empty());
        assert!(a.description.starts_with("Rejected reason"));

        let outcome = parse_nvd(&fixture("CVE-2024-2652.malformed-id.json"), "m.json");
        assert!(outcome.advisories.is_empty());
        assert_eq!(outcome.rejected.len(), 1);
        assert_eq!(outcome.rejected[0].location, "m.json: $.id");
    }

    #[test]
    fn not_json_is_one_rejection_with_the_position() {
        let outcome = parse_nvd(b"<html>nope</html>", "x.json");
        assert!(outcome.advisories.is_empty());
        assert_eq!(outcome.rejected.len(), 1);
        assert_eq!(outcome.rejected[0].location, "x.json: line 1 column 1");

        // A page broken off after its first record: that record still
        // comes, then the file is rejected where it breaks.
        let page = fixture("api-page-3-items.json");
        let text = String::from_utf8(page).unwrap();
        let cut = text.find("CVE-2023-47489").unwrap();
        let outcome = parse_nvd(&text.as_bytes()[..cut], "cut.json");
        assert_eq!(outcome.advisories.len(), 1);
        assert_eq!(outcome.rejected.len(), 1);
        assert!(outcome.rejected[0].location.starts_with("cut.json: line "));

        let outcome = parse_nvd(b"{\"resultsPerPage\": 0}", "empty.json");
        assert_eq!(outcome.rejected.len(), 1);
        let outcome = parse_nvd(b"{\"vulnerabilities\": []}", "empty.json");
        assert!(outcome.rejected.is_empty() && outcome.advisories.is_empty());
    }

    #[test]
    fn cvss_prefers_primary_of_the_highest_version() {
        let cve = serde_json::json!({
            "id": "CVE-2024-0001",
            "vulnStatus": "Analyzed",
            "metrics": {
                "cvssMetricV40": [{"type": "Secondary", "cvssData": {"version": "4.0", "baseScore": 9.3, "vectorString": "CVSS:4.0/x", "baseSeverity": "CRITICAL"}}],
                "cvssMetricV31": [
                    {"type": "Secondary", "cvssData": {"version": "3.1", "baseScore": 9.0, "vectorString": "a"}},
                    {"type": "Primary", "cvssData": {"version": "3.1", "baseScore": 7.5, "vectorString": "b", "baseSeverity": "HIGH"}}
                ],
                "cvssMetricV2": [{"type": "Primary", "baseSeverity": "MEDIUM", "cvssData": {"version": "2.0", "baseScore": 5.0, "vectorString": "c"}}]
            },
            "configurations": [{"nodes": [{"operator": "", "negate": true, "cpeMatch": [
                {"vulnerable": true, "criteria": "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*",
                 "versionStartExcluding": "5.8", "versionEndIncluding": " 5.10.35"}]}]}]
        });
        let outcome = parse_nvd(cve.to_string().as_bytes(), "x");
        let a = &outcome.advisories[0];
        let cvss = a.cvss.as_ref().unwrap();
        assert_eq!((cvss.version.as_str(), cvss.base_score), ("3.1", 7.5));
        let node = &a.configurations[0].nodes[0];
        assert_eq!(node.operator, Operator::Or);
        assert!(node.negate);
        assert_eq!(
            node.matches[0].range,
            VersionRange {
                start: bound("5.8", false),
                end: bound("5.10.35", true),
            }
        );

        let only_v2 = serde_json::json!({"id": "CVE-2010-0001", "metrics": {"cvssMetricV2": [
            {"type": "Primary", "baseSeverity": "MEDIUM", "cvssData": {"version": "2.0", "baseScore": 5.0, "vectorString": "c"}}]}});
        let a = &parse_nvd(only_v2.to_string().as_bytes(), "x").advisories[0];
        assert_eq!(a.cvss.as_ref().unwrap().severity, "MEDIUM");
    }

    /// A reader that writes a page of `total` small records as it is read,
    /// and counts how many records it has produced so far.
    struct GeneratedPage {
        total: usize,
        next: usize,
        produced: Rc<Cell<usize>>,
        buffer: Vec<u8>,
        offset: usize,
        started: bool,
        finished: bool,
    }

    impl GeneratedPage {
        fn refill(&mut self) {
            self.buffer.clear();
            self.offset = 0;
            if !self.started {
                self.started = true;
                self.buffer.extend_from_slice(
                    br#"{"resultsPerPage":0,"format":"NVD_CVE","version":"2.0","vulnerabilities":["#,
                );
            }
            if self.next < self.total {
                let comma = if self.next > 0 { "," } else { "" };
                let record = format!(
                    r#"{comma}{{"cve":{{"id":"CVE-2099-{:05}","vulnStatus":"Analyzed","published":"2099-01-01T00:00:00.000","descriptions":[{{"lang":"en","value":"generated"}}],"configurations":[{{"nodes":[{{"operator":"OR","cpeMatch":[{{"vulnerable":true,"criteria":"cpe:2.3:a:acme:widget:*:*:*:*:*:*:*:*","versionEndExcluding":"1.{}"}}]}}]}}]}}}}"#,
                    self.next + 10000,
                    self.next
                );
                self.buffer.extend_from_slice(record.as_bytes());
                self.next += 1;
                self.produced.set(self.next);
            } else if !self.finished {
                self.buffer.extend_from_slice(b"]}");
                self.finished = true;
            }
        }
    }

    impl Read for GeneratedPage {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.offset == self.buffer.len() {
                self.refill();
            }
            let n = out.len().min(self.buffer.len() - self.offset);
            out[..n].copy_from_slice(&self.buffer[self.offset..self.offset + n]);
            self.offset += n;
            Ok(n)
        }
    }

    #[test]
    fn twenty_thousand_records_stream_through() {
        const TOTAL: usize = 20_000;
        let produced = Rc::new(Cell::new(0));
        let page = GeneratedPage {
            total: TOTAL,
            next: 0,
            produced: Rc::clone(&produced),
            buffer: Vec::new(),
            offset: 0,
            started: false,
            finished: false,
        };
        let mut count = 0usize;
        let mut produced_at_first = None;
        read_nvd(page, "generated", &mut |record| {
            let advisory = record.unwrap();
            if count == 0 {
                produced_at_first = Some(produced.get());
            }
            assert_eq!(advisory.id, format!("CVE-2099-{:05}", count + 10000));
            count += 1;
        });
        assert_eq!(count, TOTAL);
        // The first record reached the sink long before the page was
        // written out: nothing waited for the whole array.
        assert!(produced_at_first.unwrap() < TOTAL / 10);
    }
}
