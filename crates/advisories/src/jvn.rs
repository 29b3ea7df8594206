//! JVN iPedia XML: VULDEF 3.2 detail documents (`jvndb_detail_*.rdf`,
//! `getVulnDetailInfo`) and JVNRSS 3.2 overview lists (`jvndb*.rdf`,
//! `getVulnOverviewList`), read with a streaming `quick-xml` reader.
//!
//! Elements are matched on local names only, so the namespace prefixes a
//! feed happens to use do not matter. Documents with a DOCTYPE are refused
//! outright: JVN never ships one, and a DTD is the way in for entity
//! expansion and external-entity tricks.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use time::{Date, Month};

use crate::{
    Advisory, Bound, Cvss, ParseOutcome, ProductStatement, ProductStatus, Reference, Rejected,
    Remediation, Source, VersionRange, VersionSpec,
};

/// Which JVN document a file is, from its root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vuldef,
    Rss,
}

/// Reads a VULDEF 3.2 or JVNRSS 3.2 document. A DOCTYPE or a malformed
/// document gives a file-level [`Rejected`] with its line (entries completed
/// before a syntax error are kept); an entry without an id is rejected on
/// its own and the others still come through.
pub fn parse_jvn(bytes: &[u8], location: &str) -> ParseOutcome {
    let mut parser = Parser::new(bytes, location);
    if let Err(rejected) = parser.run() {
        if rejected.reason.starts_with(DTD_REFUSED) {
            // Nothing from a document with a DTD is trusted.
            parser.out.advisories.clear();
            parser.out.rejected.clear();
        }
        parser.out.rejected.push(rejected);
    }
    parser.out
}

const DTD_REFUSED: &str = "DTDs and external entities are refused";

/// Counts lines incrementally so that positions reported in order cost
/// one pass over the input in total.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lines {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    /// The 1-based line of byte offset `at`.
    fn line_at(&mut self, at: u64) -> usize {
        let at = usize::try_from(at)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if at < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.pos..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.pos = at;
        self.line
    }
}

/// What one `AffectedItem` or `sec:cpe` is being assembled into.
#[derive(Default)]
struct ItemDraft {
    vendor: String,
    product: String,
    cpes: Vec<String>,
    versions: Vec<VersionSpec>,
}

impl ItemDraft {
    fn finish(self) -> ProductStatement {
        ProductStatement {
            vendor: self.vendor,
            product: self.product,
            cpes: self.cpes,
            versions: self.versions,
            status: ProductStatus::Affected,
            model_numbers: Vec::new(),
            skus: Vec::new(),
            serial_numbers: Vec::new(),
            purls: Vec::new(),
            product_id: None,
        }
    }
}

#[derive(Default)]
struct CvssDraft {
    version: String,
    base: String,
    vector: String,
    severity: String,
}

impl CvssDraft {
    fn finish(self) -> Option<Cvss> {
        let base_score = self.base.trim().parse::<f64>().ok()?;
        Some(Cvss {
            version: self.version.trim().to_string(),
            base_score,
            vector: self.vector.trim().to_string(),
            severity: self.severity.trim().to_ascii_uppercase(),
        })
    }
}

#[derive(Default)]
struct RelatedDraft {
    kind: String,
    name: String,
    id: String,
    url: String,
}

/// One `Vulinfo` or `item` being read.
struct EntryDraft {
    line: usize,
    adv: Advisory,
    cvss: Vec<Cvss>,
    item: Option<ItemDraft>,
    score: Option<CvssDraft>,
    related: Option<RelatedDraft>,
}

impl EntryDraft {
    fn new(line: usize, language: &str) -> Self {
        let mut adv = Advisory::new(String::new(), Source::Jvn);
        adv.language = language.to_string();
        EntryDraft {
            line,
            adv,
            cvss: Vec::new(),
            item: None,
            score: None,
            related: None,
        }
    }

    fn add_reference(&mut self, url: &str, name: String) {
        let url = url.trim();
        if !url.is_empty() && !self.adv.references.iter().any(|r| r.url == url) {
            self.adv.references.push(Reference {
                url: url.to_string(),
                name,
            });
        }
    }

    fn finish(mut self, location: &str) -> Result<Advisory, Rejected> {
        let id = self.adv.id.trim().to_string();
        if id.is_empty() {
            return Err(Rejected::new(
                format!("{location} line {}", self.line),
                "entry without an identifier (VulinfoID / sec:identifier)",
            ));
        }
        self.adv.aliases.remove(&id);
        self.adv.id = id;
        // The model keeps the highest-version score; JVN lists 2.0 and 3.x.
        self.adv.cvss = self
            .cvss
            .into_iter()
            .max_by(|a, b| version_key(&a.version).cmp(&version_key(&b.version)));
        Ok(self.adv)
    }
}

/// `"3.1"` → `(3, 1)` for choosing the newest CVSS version.
fn version_key(v: &str) -> (u32, u32) {
    let mut parts = v.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    lines: Lines<'a>,
    location: &'a str,
    kind: Option<Kind>,
    language: String,
    /// Local names of the open elements.
    stack: Vec<String>,
    /// Text of the innermost element read so far.
    text: String,
    /// Where the event being handled starts.
    before: u64,
    entry: Option<EntryDraft>,
    out: ParseOutcome,
}

impl<'a> Parser<'a> {
    fn new(bytes: &'a [u8], location: &'a str) -> Self {
        Parser {
            reader: Reader::from_reader(bytes),
            lines: Lines::new(bytes),
            location,
            kind: None,
            language: "ja".to_string(),
            stack: Vec::new(),
            text: String::new(),
            before: 0,
            entry: None,
            out: ParseOutcome::default(),
        }
    }

    fn at_line(&self, line: usize, reason: impl Into<String>) -> Rejected {
        Rejected::new(format!("{} line {line}", self.location), reason)
    }

    fn here(&mut self) -> usize {
        let pos = self.reader.buffer_position();
        self.lines.line_at(pos)
    }

    fn run(&mut self) -> Result<(), Rejected> {
        loop {
            self.before = self.reader.buffer_position();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(err) => {
                    let line = self.lines.line_at(self.reader.error_position());
                    return Err(self.at_line(line, format!("malformed XML: {err}")));
                }
            };
            match event {
                Event::DocType(_) => {
                    let line = self.lines.line_at(self.before);
                    return Err(self.at_line(line, DTD_REFUSED));
                }
                Event::Start(start) => self.open(&start, false)?,
                Event::Empty(start) => self.open(&start, true)?,
                Event::End(_) => self.close()?,
                Event::Text(text) => self.text.push_str(&text.xml10_content()),
                Event::CData(data) => self.text.push_str(&data.xml10_content()),
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        Ok(None) => quick_xml::escape::resolve_predefined_entity(&reference)
                            .map(str::to_string),
                        Err(_) => None,
                    };
                    match resolved {
                        Some(s) => self.text.push_str(&s),
                        None => {
                            let line = self.here();
                            return Err(self.at_line(
                                line,
                                format!("malformed XML: undeclared entity &{};", &*reference),
                            ));
                        }
                    }
                }
                Event::Eof => {
                    if let Some(open) = self.stack.last() {
                        let reason =
                            format!("malformed XML: document ends inside <{open}> (truncated?)");
                        let line = self.here();
                        return Err(self.at_line(line, reason));
                    }
                    if self.kind.is_none() {
                        let line = self.here();
                        return Err(self.at_line(line, "empty document: no root element"));
                    }
                    return Ok(());
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
    }

    fn open(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<(), Rejected> {
        let name = start.local_name().as_ref().to_string();
        self.text.clear();
        if self.stack.is_empty() {
            self.root(start, &name)?;
        }
        let parent = self.stack.last().map(String::as_str).unwrap_or("");
        let line = self.lines.line_at(self.before);
        match (self.kind, parent, name.as_str()) {
            (Some(Kind::Vuldef), "VULDEF-Document", "Vulinfo") => {
                let lang = attr(start, "lang").unwrap_or_else(|| self.language.clone());
                self.entry = Some(EntryDraft::new(line, &lang));
            }
            (Some(Kind::Rss), "RDF", "item") => {
                let lang = attr(start, "lang").unwrap_or_else(|| self.language.clone());
                self.entry = Some(EntryDraft::new(line, &lang));
            }
            (Some(Kind::Vuldef), "Affected", "AffectedItem") => {
                if let Some(entry) = self.entry.as_mut() {
                    entry.item = Some(ItemDraft::default());
                }
            }
            (Some(Kind::Vuldef), "Impact", "Cvss") => {
                if let Some(entry) = self.entry.as_mut() {
                    entry.score = Some(CvssDraft {
                        version: attr(start, "version").unwrap_or_default(),
                        ..CvssDraft::default()
                    });
                }
            }
            (Some(Kind::Vuldef), "Related", "RelatedItem") => {
                if let Some(entry) = self.entry.as_mut() {
                    entry.related = Some(RelatedDraft {
                        kind: attr(start, "type").unwrap_or_default(),
                        ..RelatedDraft::default()
                    });
                }
            }
            (Some(Kind::Rss), "item", "cvss") => {
                if let Some(entry) = self.entry.as_mut() {
                    let draft = CvssDraft {
                        version: attr(start, "version").unwrap_or_default(),
                        base: attr(start, "score").unwrap_or_default(),
                        vector: attr(start, "vector").unwrap_or_default(),
                        severity: attr(start, "severity").unwrap_or_default(),
                    };
                    entry.cvss.extend(draft.finish());
                }
            }
            (Some(Kind::Rss), "item", "cpe") => {
                if let Some(entry) = self.entry.as_mut() {
                    entry.item = Some(ItemDraft {
                        vendor: attr(start, "vendor").unwrap_or_default(),
                        product: attr(start, "product").unwrap_or_default(),
                        ..ItemDraft::default()
                    });
                }
            }
            (Some(Kind::Rss), "item", "references") => {
                if let Some(entry) = self.entry.as_mut() {
                    entry.related = Some(RelatedDraft {
                        kind: attr(start, "source").unwrap_or_default(),
                        id: attr(start, "id").unwrap_or_default(),
                        ..RelatedDraft::default()
                    });
                }
            }
            _ => {}
        }
        self.stack.push(name);
        if empty {
            self.close()?;
        }
        Ok(())
    }

    /// Learns the document kind and its language from the root element.
    fn root(&mut self, start: &BytesStart<'_>, name: &str) -> Result<(), Rejected> {
        self.kind = match name {
            "VULDEF-Document" => Some(Kind::Vuldef),
            "RDF" => Some(Kind::Rss),
            other => {
                let line = self.here();
                return Err(self.at_line(
                    line,
                    format!("<{other}> is neither a JVN VULDEF nor a JVNRSS document"),
                ));
            }
        };
        if let Some(lang) = attr(start, "lang").filter(|l| !l.is_empty()) {
            self.language = lang;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), Rejected> {
        let Some(name) = self.stack.pop() else {
            let line = self.here();
            return Err(self.at_line(line, "malformed XML: unexpected closing tag"));
        };
        let text = std::mem::take(&mut self.text);
        let text = text.trim();
        let parent = self.stack.last().map(String::as_str).unwrap_or("");
        let Some(kind) = self.kind else {
            return Ok(());
        };
        let Some(entry) = self.entry.as_mut() else {
            return Ok(());
        };
        match (kind, parent, name.as_str()) {
            (Kind::Vuldef, "Vulinfo", "VulinfoID") | (Kind::Rss, "item", "identifier") => {
                entry.adv.id = text.to_string();
            }
            (Kind::Vuldef, "VulinfoData", "Title") | (Kind::Rss, "item", "title") => {
                entry.adv.title = text.to_string();
            }
            (Kind::Vuldef, "VulinfoDescription", "Overview")
            | (Kind::Rss, "item", "description") => {
                entry.adv.description = text.to_string();
            }
            (Kind::Vuldef, "VulinfoData", "DateFirstPublished") | (Kind::Rss, "item", "issued") => {
                entry.adv.published = date_part(text);
            }
            (Kind::Vuldef, "VulinfoData", "DateLastUpdated") | (Kind::Rss, "item", "modified") => {
                entry.adv.modified = date_part(text);
            }
            (Kind::Vuldef, "AffectedItem", field) => {
                if let Some(item) = entry.item.as_mut() {
                    match field {
                        "Name" => item.vendor = text.to_string(),
                        "ProductName" => item.product = text.to_string(),
                        "Cpe" if !text.is_empty() => item.cpes.push(text.to_string()),
                        // An empty VersionNumber says nothing: leave versions unknown.
                        "VersionNumber" if !text.is_empty() => {
                            item.versions.push(version_spec_ja(text))
                        }
                        _ => {}
                    }
                }
            }
            (Kind::Vuldef, "Affected", "AffectedItem") => {
                if let Some(item) = entry.item.take() {
                    entry.adv.products.push(item.finish());
                }
            }
            (Kind::Vuldef, "Cvss", field) => {
                if let Some(score) = entry.score.as_mut() {
                    match field {
                        "Base" => score.base = text.to_string(),
                        "Vector" => score.vector = text.to_string(),
                        "Severity" => score.severity = text.to_string(),
                        _ => {}
                    }
                }
            }
            (Kind::Vuldef, "Impact", "Cvss") => {
                if let Some(score) = entry.score.take() {
                    entry.cvss.extend(score.finish());
                }
            }
            (Kind::Vuldef, "SolutionItem", "Description") if !text.is_empty() => {
                entry.adv.remediations.push(Remediation {
                    category: "solution".to_string(),
                    text: text.to_string(),
                    url: None,
                    product_ids: Vec::new(),
                });
            }
            (Kind::Vuldef, "RelatedItem", field) => {
                if let Some(related) = entry.related.as_mut() {
                    match field {
                        "Name" => related.name = text.to_string(),
                        "VulinfoID" => related.id = text.to_string(),
                        "URL" => related.url = text.to_string(),
                        _ => {}
                    }
                }
            }
            (Kind::Vuldef, "Related", "RelatedItem") => {
                if let Some(related) = entry.related.take() {
                    // CWE links classify, they do not describe this advisory.
                    if related.kind != "cwe" {
                        if looks_like_id(&related.id) {
                            entry.adv.aliases.insert(related.id.clone());
                        }
                        let name = match (related.name.is_empty(), related.id.is_empty()) {
                            (_, true) => related.name,
                            (true, false) => related.id,
                            (false, false) => format!("{}: {}", related.name, related.id),
                        };
                        entry.add_reference(&related.url, name);
                    }
                }
            }
            (Kind::Rss, "item", "link") => {
                entry.add_reference(text, "JVN iPedia".to_string());
            }
            (Kind::Rss, "item", "references") => {
                if let Some(related) = entry.related.take() {
                    // CWE links classify, they do not describe this advisory.
                    if related.id.starts_with("CWE-") {
                        return Ok(());
                    }
                    let is_cve_source = related.kind == "CVE" || related.kind == "NVD";
                    if is_cve_source && related.id.starts_with("CVE-") {
                        entry.adv.aliases.insert(related.id.clone());
                    }
                    let name = if related.kind.is_empty() {
                        related.id
                    } else {
                        format!("{}: {}", related.kind, related.id)
                    };
                    entry.add_reference(text, name);
                }
            }
            (Kind::Rss, "item", "cpe") => {
                if let Some(mut item) = entry.item.take() {
                    if !text.is_empty() {
                        item.versions.push(match cpe22_version(text) {
                            Some(version) => VersionSpec::Exact { version },
                            None => VersionSpec::All,
                        });
                        item.cpes.push(text.to_string());
                    }
                    entry.adv.products.push(item.finish());
                }
            }
            (Kind::Vuldef, "VULDEF-Document", "Vulinfo") | (Kind::Rss, "RDF", "item") => {
                if let Some(entry) = self.entry.take() {
                    match entry.finish(self.location) {
                        Ok(adv) => self.out.advisories.push(adv),
                        Err(rejected) => self.out.rejected.push(rejected),
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// An attribute's value by local name (so `xml:lang` is `lang`). Attribute
/// errors are ignored: real feeds carry junk such as `retCd= 0` on elements
/// this parser never needs.
fn attr(start: &BytesStart<'_>, local: &str) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
        .map(|v| v.trim().to_string())
}

/// The calendar date of `2022-12-15T12:04:51+09:00` as written (JST).
fn date_part(text: &str) -> Option<Date> {
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let year = parts.next()?.parse::<i32>().ok()?;
    let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse::<u8>().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// A `RelatedItem` VulinfoID worth keeping as an alias: a short ASCII
/// token (CVE-…, JVN#…, vendor ids), not the document titles vendors put
/// there.
fn looks_like_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_graphic())
        && id.bytes().any(|b| b.is_ascii_digit())
        && !id.starts_with("CWE-")
}

/// The version field of a CPE 2.2 URI (`cpe:/a:vendor:product:1.2`), if it
/// names one.
fn cpe22_version(uri: &str) -> Option<String> {
    let rest = uri.trim().strip_prefix("cpe:/")?;
    let version = rest.split(':').nth(3)?;
    match version {
        "" | "-" | "*" => None,
        v => Some(v.to_string()),
    }
}

/// Full-width ASCII (`０-９`, `Ａ-ｚ`, `（`…) to ASCII, ideographic and
/// other spaces to one ASCII space, trimmed.
fn normalise_ja(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Something we dare treat as a version: ASCII, with a digit in every
/// word (`v6 R4`, `2.0-beta9`), and no qualifier such as `core 2.0` or
/// `for NetApp 5.8 (Build 1299)`, which stay text for the analyst.
fn version_token(s: &str) -> Option<String> {
    let s = s.trim();
    let words: Vec<&str> = s.split(' ').collect();
    let ok = !s.is_empty()
        && words.len() <= 3
        && s.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        && !s.contains(['(', ')', ',', ';', '[', ']'])
        && words.iter().all(|w| w.chars().any(|c| c.is_ascii_digit()));
    ok.then(|| s.to_string())
}

fn strip_any<'s>(s: &'s str, suffixes: &[&str]) -> Option<&'s str> {
    suffixes
        .iter()
        .find_map(|suffix| s.strip_suffix(suffix))
        .map(str::trim_end)
}

const EXCLUSIVE_END: &[&str] = &["より前", "未満"];
const INCLUSIVE_END: &[&str] = &[
    "およびそれ以前",
    "及びそれ以前",
    "とそれ以前",
    "以前",
    "まで",
    "以下",
];
const INCLUSIVE_START: &[&str] = &["以降", "以上"];

/// An upper bound clause: `7.3.7 より前` (exclusive), `1.05およびそれ以前`
/// (inclusive).
fn upper_bound(s: &str) -> Option<Bound> {
    if let Some(v) = strip_any(s, EXCLUSIVE_END).and_then(version_token) {
        return Some(Bound {
            version: v,
            inclusive: false,
        });
    }
    strip_any(s, INCLUSIVE_END)
        .and_then(version_token)
        .map(|v| Bound {
            version: v,
            inclusive: true,
        })
}

/// Reads a JVN `VersionNumber` text (Japanese) into a [`VersionSpec`]; what
/// it cannot read is kept whole as [`VersionSpec::Text`] (an empty text
/// gives an empty `Text`: callers treat it as "unknown").
pub fn version_spec_ja(text: &str) -> VersionSpec {
    let unread = || VersionSpec::Text {
        text: text.to_string(),
    };
    let s = normalise_ja(text);
    if s.is_empty() {
        return unread();
    }
    if matches!(
        s.as_str(),
        "全てのバージョン" | "すべてのバージョン" | "全バージョン" | "全て" | "すべて"
    ) {
        return VersionSpec::All;
    }
    // `…のバージョン` / `…バージョン` add nothing to the clause.
    let core = strip_any(&s, &["の各バージョン", "のバージョン", "バージョン"])
        .unwrap_or(&s)
        .trim();
    // `ファームウェアバージョン 1.05…` names the field, not a component.
    let core = ["ファームウェアバージョン", "バージョン"]
        .iter()
        .find_map(|prefix| core.strip_prefix(prefix))
        .unwrap_or(core)
        .trim();
    let range = |start: Option<Bound>, end: Option<Bound>| VersionSpec::Range {
        range: VersionRange { start, end },
    };

    // `A から B より前` / `A から B 未満` / `A から B まで` / `A から B`
    if let Some((low, high)) = core.split_once("から") {
        let Some(start) = version_token(low) else {
            return unread();
        };
        let start = Some(Bound {
            version: start,
            inclusive: true,
        });
        let high = high.trim();
        if let Some(end) = upper_bound(high) {
            return range(start, Some(end));
        }
        return match version_token(high) {
            Some(v) => range(
                start,
                Some(Bound {
                    version: v,
                    inclusive: true,
                }),
            ),
            None => unread(),
        };
    }
    // `A 以上 B 未満` / `A 以降 B より前`
    for marker in INCLUSIVE_START {
        if let Some((low, high)) = core.split_once(marker) {
            let high = high.trim();
            if high.is_empty() {
                break;
            }
            return match (version_token(low), upper_bound(high)) {
                (Some(v), Some(end)) => range(
                    Some(Bound {
                        version: v,
                        inclusive: true,
                    }),
                    Some(end),
                ),
                _ => unread(),
            };
        }
    }
    if let Some(end) = upper_bound(core) {
        return range(None, Some(end));
    }
    if let Some(v) = strip_any(core, INCLUSIVE_START).and_then(version_token) {
        return range(
            Some(Bound {
                version: v,
                inclusive: true,
            }),
            None,
        );
    }
    match version_token(core) {
        Some(version) => VersionSpec::Exact { version },
        None => unread(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(v: &str, inclusive: bool) -> VersionSpec {
        VersionSpec::Range {
            range: VersionRange {
                start: None,
                end: Some(Bound {
                    version: v.to_string(),
                    inclusive,
                }),
            },
        }
    }

    fn text(t: &str) -> VersionSpec {
        VersionSpec::Text {
            text: t.to_string(),
        }
    }

    #[test]
    fn jvn_version_texts_from_the_readme() {
        assert_eq!(version_spec_ja("5.16.3 未満"), end("5.16.3", false));
        assert_eq!(
            version_spec_ja("7.3.7 より前のバージョン"),
            end("7.3.7", false)
        );
        assert_eq!(
            version_spec_ja("2.13.0 から 2.15.0 より前のバージョン"),
            VersionSpec::Range {
                range: VersionRange {
                    start: Some(Bound {
                        version: "2.13.0".into(),
                        inclusive: true
                    }),
                    end: Some(Bound {
                        version: "2.15.0".into(),
                        inclusive: false
                    }),
                }
            }
        );
        assert_eq!(version_spec_ja("1.05およびそれ以前"), end("1.05", true));
        assert_eq!(
            version_spec_ja("ファームウェアバージョン 1.05およびそれ以前"),
            end("1.05", true)
        );
        assert_eq!(
            version_spec_ja("v6 R4 およびそれ以前のバージョン"),
            end("v6 R4", true)
        );
        // Component prefix and platform qualifier: not guessed at.
        let core = "core 2.0-beta9 から 2.12.1 より前のバージョン";
        assert_eq!(version_spec_ja(core), text(core));
        let netapp = "for NetApp 5.8 (Build 1299) 未満";
        assert_eq!(version_spec_ja(netapp), text(netapp));
        let per_cve = "Ver.1.2.4より前のバージョン（CVE-2025-0354、CVE-2025-0355）";
        assert_eq!(version_spec_ja(per_cve), text(per_cve));
        assert_eq!(version_spec_ja(""), text(""));
        assert_eq!(version_spec_ja("(複数の製品)"), text("(複数の製品)"));
    }

    #[test]
    fn jvn_version_texts_other_shapes() {
        assert_eq!(
            version_spec_ja("3.0 以降"),
            VersionSpec::Range {
                range: VersionRange {
                    start: Some(Bound {
                        version: "3.0".into(),
                        inclusive: true
                    }),
                    end: None,
                }
            }
        );
        assert_eq!(
            version_spec_ja("4.2.1"),
            VersionSpec::Exact {
                version: "4.2.1".into()
            }
        );
        assert_eq!(version_spec_ja("全てのバージョン"), VersionSpec::All);
        assert_eq!(version_spec_ja("すべてのバージョン"), VersionSpec::All);
        // Full-width digits and the ideographic space.
        assert_eq!(
            version_spec_ja("５．１６．３\u{3000}未満"),
            end("5.16.3", false)
        );
        assert_eq!(
            version_spec_ja("Ver.1.2.4より前のバージョン"),
            end("Ver.1.2.4", false)
        );
    }

    const DETAIL_ONE: &[u8] =
        include_bytes!("../tests/fixtures/jvn/getVulnDetailInfo_hnd_JVNDB-2022-000097.xml");
    const DETAIL_FEED: &[u8] = include_bytes!("../tests/fixtures/jvn/jvndb_detail_2022.rdf");
    const RSS_HND: &[u8] = include_bytes!("../tests/fixtures/jvn/dataFeed_jvndb_rss_hnd.xml");
    const RSS_FEED: &[u8] = include_bytes!("../tests/fixtures/jvn/jvndb_2022.rdf");

    fn date(y: i32, m: Month, d: u8) -> Option<Date> {
        Date::from_calendar_date(y, m, d).ok()
    }

    /// 1-based line of the first occurrence of `needle`.
    fn line_of(doc: &str, needle: &str) -> usize {
        let at = doc.find(needle).expect("needle in fixture");
        doc[..at].matches('\n').count() + 1
    }

    fn as_str(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).expect("fixture is UTF-8")
    }

    #[test]
    fn jvn_vuldef_detail_hnd() {
        let out = parse_jvn(DETAIL_ONE, "detail.xml");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.advisories.len(), 1);
        let adv = &out.advisories[0];
        assert_eq!(adv.id, "JVNDB-2022-000097");
        assert_eq!(adv.source, Source::Jvn);
        assert_eq!(adv.language, "ja");
        assert_eq!(adv.title, "電子入札コアシステムにおける複数の脆弱性");
        assert!(
            adv.description
                .starts_with("一般財団法人日本建設情報総合センター")
        );
        // `&lt;ul&gt;` comes out as markup text, not as an entity.
        assert!(adv.description.contains("<ul><li>"));
        let aliases: Vec<&str> = adv.aliases.iter().map(String::as_str).collect();
        assert_eq!(
            aliases,
            [
                "CVE-2022-41993",
                "CVE-2022-46287",
                "CVE-2022-46288",
                "JVN#96321933"
            ]
        );
        assert_eq!(
            adv.cve_ids(),
            ["CVE-2022-41993", "CVE-2022-46287", "CVE-2022-46288"]
        );
        assert_eq!(adv.published, date(2022, Month::December, 15));
        assert_eq!(adv.modified, date(2024, Month::May, 29));

        assert_eq!(adv.products.len(), 1);
        let p = &adv.products[0];
        assert_eq!(p.vendor, "一般財団法人日本建設情報総合センター");
        assert_eq!(p.product, "電子入札コアシステム");
        assert_eq!(p.cpes, ["cpe:/a:jacic:electronic_bidding_core_system"]);
        assert_eq!(p.versions, [end("v6 R4", true)]);
        assert_eq!(p.status, ProductStatus::Affected);

        let cvss = adv.cvss.as_ref().expect("cvss");
        assert_eq!(cvss.version, "3.0");
        assert_eq!(cvss.base_score, 6.1);
        assert_eq!(cvss.vector, "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N");
        assert_eq!(cvss.severity, "MEDIUM");

        assert_eq!(adv.remediations.len(), 1);
        assert_eq!(adv.remediations[0].category, "solution");
        assert!(adv.remediations[0].text.starts_with("[パッチを適用する]"));
        let urls: Vec<&str> = adv.references.iter().map(|r| r.url.as_str()).collect();
        assert!(
            urls.contains(&"https://www.cals.jacic.or.jp/coreconso/pdf/coreconsoinfo20221215.pdf")
        );
        assert!(urls.contains(&"https://jvn.jp/jp/JVN96321933/index.html"));
        // CWE pages are not references of the advisory.
        assert!(!urls.iter().any(|u| u.contains("/cwe/")));
        assert_eq!(urls.len(), 8);
    }

    #[test]
    fn jvn_vuldef_feed_two_entries() {
        let out = parse_jvn(DETAIL_FEED, "jvndb_detail_2022.rdf");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let ids: Vec<&str> = out.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["JVNDB-2022-000001", "JVNDB-2022-000002"]);

        // Canon: "(複数の製品)", no CPE, empty VersionNumber → versions unknown.
        let canon = &out.advisories[0];
        assert_eq!(canon.products.len(), 1);
        assert_eq!(canon.products[0].vendor, "キヤノン");
        assert_eq!(canon.products[0].product, "(複数の製品)");
        assert!(canon.products[0].cpes.is_empty());
        assert!(canon.products[0].versions.is_empty());
        assert_eq!(canon.cve_ids(), ["CVE-2021-20877"]);
        // The vendor's page title is not an alias.
        assert_eq!(canon.aliases.len(), 2);

        let qsm = &out.advisories[1];
        assert_eq!(
            qsm.title,
            "WordPress 用プラグイン Quiz And Survey Master における複数の脆弱性"
        );
        assert_eq!(qsm.products[0].vendor, "ExpressTech");
        assert_eq!(
            qsm.products[0].cpes,
            ["cpe:/a:expresstech:quiz_and_survey_master"]
        );
        assert_eq!(qsm.products[0].versions, [end("7.3.7", false)]);
        assert_eq!(
            qsm.cve_ids(),
            ["CVE-2022-0180", "CVE-2022-0181", "CVE-2022-0182"]
        );
        let cvss = qsm.cvss.as_ref().expect("cvss");
        assert_eq!((cvss.version.as_str(), cvss.base_score), ("3.0", 5.4));
        assert_eq!(qsm.published, date(2022, Month::January, 12));
    }

    #[test]
    fn jvn_rss_hnd_list() {
        let out = parse_jvn(RSS_HND, "rss.xml");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let ids: Vec<&str> = out.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "JVNDB-2023-028579",
                "JVNDB-2023-028578",
                "JVNDB-2023-028577",
                "JVNDB-2023-028576"
            ]
        );
        let first = &out.advisories[0];
        assert_eq!(first.title, "Contiki-NG における再帰制御に関する脆弱性");
        assert_eq!(first.language, "ja");
        let aliases: Vec<&str> = first.aliases.iter().map(String::as_str).collect();
        assert_eq!(aliases, ["CVE-2023-29001"]);
        assert_eq!(first.products.len(), 1);
        assert_eq!(first.products[0].vendor, "Contiki-NG");
        assert_eq!(first.products[0].product, "Contiki-NG");
        assert_eq!(first.products[0].cpes, ["cpe:/o:contiki-ng:contiki-ng"]);
        assert_eq!(first.products[0].versions, [VersionSpec::All]);
        let cvss = first.cvss.as_ref().expect("cvss");
        assert_eq!(cvss.base_score, 7.5);
        assert_eq!(cvss.severity, "HIGH");
        assert_eq!(cvss.vector, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H");
        assert_eq!(first.published, date(2025, Month::April, 11));
        assert_eq!(first.modified, date(2025, Month::April, 11));
        let urls: Vec<&str> = first.references.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls[0],
            "https://jvndb.jvn.jp/ja/contents/2023/JVNDB-2023-028579.html"
        );
        // Reference URLs wrapped onto a new line are trimmed; CWE links left out.
        assert!(urls.contains(&"https://github.com/contiki-ng/contiki-ng/pull/2264"));
        assert!(!urls.iter().any(|u| u.contains("cwe")));
        // A CPE split over lines in the source is trimmed too.
        assert_eq!(
            out.advisories[1].products[0].cpes,
            ["cpe:/a:lg:simple_editor"]
        );
        assert_eq!(
            out.advisories[2].cvss.as_ref().map(|c| c.base_score),
            Some(9.8)
        );
    }

    #[test]
    fn jvn_rss_feed_prefers_cvss3_and_reads_cve_aliases() {
        let out = parse_jvn(RSS_FEED, "jvndb_2022.rdf");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.advisories.len(), 3);
        let android = &out.advisories[0];
        assert_eq!(android.id, "JVNDB-2021-018345");
        let cvss = android.cvss.as_ref().expect("cvss");
        assert_eq!((cvss.version.as_str(), cvss.base_score), ("3.0", 7.8));
        assert_eq!(android.products[0].cpes, ["cpe:/o:google:android"]);
        // `&#13;` resolved, then trimmed.
        assert_eq!(
            android.description,
            "Android には、不特定の脆弱性が存在します。"
        );
        let canon = &out.advisories[1];
        assert!(canon.products.is_empty());
        let aliases: Vec<&str> = canon.aliases.iter().map(String::as_str).collect();
        assert_eq!(aliases, ["CVE-2021-20877"]);
        assert_eq!(out.advisories[2].cve_ids(), ["CVE-2022-25027"]);
    }

    #[test]
    fn jvn_rss_cpe_with_version_is_exact() {
        let doc = as_str(RSS_FEED).replace(
            "cpe:/o:google:android</sec:cpe>",
            "cpe:/o:google:android:12.0</sec:cpe>",
        );
        let out = parse_jvn(doc.as_bytes(), "x.rdf");
        assert_eq!(
            out.advisories[0].products[0].versions,
            [VersionSpec::Exact {
                version: "12.0".into()
            }]
        );
    }

    #[test]
    fn jvn_doctype_with_entity_is_refused() {
        let doc = as_str(DETAIL_FEED)
            .replacen(
                "?>",
                "?>\n<!DOCTYPE VULDEF-Document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
                1,
            )
            .replacen("<Title>", "<Title>&xxe;", 1);
        let out = parse_jvn(doc.as_bytes(), "evil.rdf");
        assert!(out.advisories.is_empty());
        assert_eq!(
            out.rejected,
            [Rejected::new("evil.rdf line 2", DTD_REFUSED)]
        );
    }

    #[test]
    fn jvn_truncated_document_is_rejected_with_its_line() {
        let full = as_str(DETAIL_FEED);
        // Cut inside the second Vulinfo, in the middle of its Title.
        let cut = full
            .find("Quiz And Survey Master における")
            .expect("fixture");
        let truncated = &full[..cut];
        let out = parse_jvn(truncated.as_bytes(), "cut.rdf");
        // The complete first entry still comes through.
        let ids: Vec<&str> = out.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["JVNDB-2022-000001"]);
        assert_eq!(out.rejected.len(), 1);
        let line = line_of(full, "Quiz And Survey Master における");
        assert_eq!(out.rejected[0].location, format!("cut.rdf line {line}"));
        assert!(out.rejected[0].reason.contains("truncated"));

        // Cut inside a tag: quick-xml's own syntax error, same line.
        let cut = full.find("<Title>WordPress").expect("fixture") + 4;
        let out = parse_jvn(&full.as_bytes()[..cut], "cut.rdf");
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].location, format!("cut.rdf line {line}"));
    }

    #[test]
    fn jvn_mismatched_tag_is_rejected_with_its_line() {
        let doc = as_str(DETAIL_FEED).replacen("</ProductName>", "</Product>", 1);
        let out = parse_jvn(doc.as_bytes(), "bad.rdf");
        assert!(out.advisories.is_empty());
        let line = line_of(&doc, "</Product>");
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].location, format!("bad.rdf line {line}"));
        assert!(out.rejected[0].reason.starts_with("malformed XML"));
    }

    #[test]
    fn jvn_entry_without_id_is_rejected_alone() {
        let doc = as_str(DETAIL_FEED).replacen("<VulinfoID>JVNDB-2022-000001</VulinfoID>", "", 1);
        let out = parse_jvn(doc.as_bytes(), "noid.rdf");
        let ids: Vec<&str> = out.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["JVNDB-2022-000002"]);
        let line = line_of(&doc, "<Vulinfo>");
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].location, format!("noid.rdf line {line}"));

        let doc =
            as_str(RSS_HND).replacen("<sec:identifier>JVNDB-2023-028578</sec:identifier>", "", 1);
        let out = parse_jvn(doc.as_bytes(), "noid.xml");
        assert_eq!(out.advisories.len(), 3);
        assert_eq!(out.rejected.len(), 1);
    }

    #[test]
    fn jvn_other_documents_are_rejected() {
        let out = parse_jvn(b"<?xml version=\"1.0\"?>\n<feed/>", "atom.xml");
        assert!(out.advisories.is_empty());
        assert_eq!(out.rejected[0].location, "atom.xml line 2");
        let out = parse_jvn(b"", "empty.xml");
        assert_eq!(out.rejected.len(), 1);
        let out = parse_jvn(
            "<VULDEF-Document><Vulinfo><VulinfoID>&nope;</VulinfoID></Vulinfo></VULDEF-Document>"
                .as_bytes(),
            "ent.xml",
        );
        assert!(out.advisories.is_empty());
        assert!(out.rejected[0].reason.contains("undeclared entity"));
    }
}
