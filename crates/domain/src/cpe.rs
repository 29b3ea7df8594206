//! CPE names: reading, canonical form and matching.
//!
//! The parts of the CPE 2.3 standard Mamori needs to tie a hospital's assets
//! to published vulnerabilities:
//!
//! - NISTIR 7695 "CPE Naming 2.3": the well-formed name (WFN) with its eleven
//!   attributes, read from the formatted string binding `cpe:2.3:…` (§6.2) or
//!   from the CPE 2.2 URI binding `cpe:/…` (§6.1), both into one [`CpeName`].
//! - NISTIR 7696 "CPE Name Matching": attribute comparison and name
//!   comparison ([`compare_values`], [`compare`], [`is_match`]).
//!
//! Every attribute is ANY (`*`), NA (`-`) or a value. A value is kept in its
//! canonical formatted-string form: lower case; letters, digits, `.`, `-` and
//! `_` unquoted; every other printable character quoted with a backslash
//! (`15.2\(4\)m`); unquoted `*` and `?` only as wildcards at the start or
//! end. A value that is just a literal hyphen is written `\-` so that it
//! stays apart from NA. Two names are the same name exactly when their
//! canonical strings are equal.
//!
//! Version ranges are not handled here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::error::DomainError;

/// The eleven attributes of a well-formed name, in binding order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    Part,
    Vendor,
    Product,
    Version,
    Update,
    Edition,
    Language,
    SwEdition,
    TargetSw,
    TargetHw,
    Other,
}

impl Attribute {
    /// All attributes in the order of the formatted string binding.
    pub const ALL: [Attribute; 11] = [
        Attribute::Part,
        Attribute::Vendor,
        Attribute::Product,
        Attribute::Version,
        Attribute::Update,
        Attribute::Edition,
        Attribute::Language,
        Attribute::SwEdition,
        Attribute::TargetSw,
        Attribute::TargetHw,
        Attribute::Other,
    ];

    /// The attribute's name in the standard (`sw_edition`, `target_hw`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Attribute::Part => "part",
            Attribute::Vendor => "vendor",
            Attribute::Product => "product",
            Attribute::Version => "version",
            Attribute::Update => "update",
            Attribute::Edition => "edition",
            Attribute::Language => "language",
            Attribute::SwEdition => "sw_edition",
            Attribute::TargetSw => "target_sw",
            Attribute::TargetHw => "target_hw",
            Attribute::Other => "other",
        }
    }

    /// 1-based position after the `cpe:2.3:` prefix (part is 1, other is 11);
    /// the number error messages use.
    pub const fn position(self) -> usize {
        self as usize + 1
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One attribute of a name: ANY, NA, or a value in canonical
/// formatted-string form (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CpeValue {
    /// `*`: any value.
    Any,
    /// `-`: not applicable.
    Na,
    /// A value, e.g. `fortios`, `15.2\(4\)m`, `8.*` (`*` a wildcard).
    Value(String),
}

impl CpeValue {
    /// The formatted-string text: `*`, `-` or the value.
    pub fn as_str(&self) -> &str {
        match self {
            CpeValue::Any => "*",
            CpeValue::Na => "-",
            CpeValue::Value(v) => v,
        }
    }

    /// The value, if this is neither ANY nor NA.
    pub fn value(&self) -> Option<&str> {
        match self {
            CpeValue::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_any(&self) -> bool {
        matches!(self, CpeValue::Any)
    }

    pub fn is_na(&self) -> bool {
        matches!(self, CpeValue::Na)
    }

    /// Whether the value holds an unquoted `*` or `?` wildcard.
    pub fn has_wildcards(&self) -> bool {
        match self {
            CpeValue::Value(v) => tokens(v).iter().any(|t| !matches!(t, Tok::Lit(_))),
            _ => false,
        }
    }

    /// The value with its quoting removed (`15.2\(4\)m` → `15.2(4)m`), for
    /// showing to people and for comparing versions. Wildcards stay as they
    /// are, so check [`CpeValue::has_wildcards`] first where that matters.
    pub fn unquoted(&self) -> Option<String> {
        self.value().map(|v| {
            tokens(v)
                .into_iter()
                .map(|t| match t {
                    Tok::Lit(c) => c,
                    Tok::Star => '*',
                    Tok::Quest => '?',
                })
                .collect()
        })
    }

    /// A value from plain text as people write it (`Internet Explorer`,
    /// `15.2(4)M`): trimmed, lower-cased, runs of whitespace turned into `_`
    /// as the standard recommends, every other character taken literally
    /// (so `*` and `?` are not wildcards).
    pub fn literal(attribute: Attribute, text: &str) -> Result<CpeValue, CpeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CpeError::EmptyComponent { attribute });
        }
        let mut quoted = String::with_capacity(text.len() * 2);
        let mut in_space = false;
        for c in text.chars() {
            if c.is_whitespace() {
                if !in_space {
                    quoted.push('_');
                }
                in_space = true;
                continue;
            }
            in_space = false;
            check_char(attribute, c)?;
            if !is_unreserved(c) {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        if quoted == "-" {
            quoted = "\\-".to_string();
        }
        parse_fs_component(attribute, &quoted)
    }
}

impl fmt::Display for CpeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a text is not a CPE name. Every message names the component and the
/// reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CpeError {
    #[error("the CPE name is empty")]
    Empty,
    #[error(
        "`{found}` is not a CPE name: it must start with `cpe:2.3:` (formatted string) or `cpe:/` (CPE 2.2 URI)"
    )]
    Prefix { found: String },
    #[error(
        "{found} components, expected 13 (`cpe`, `2.3` and 11 attributes; a literal `:` is written `\\:`)"
    )]
    ComponentCount { found: usize },
    #[error("{found} components after `cpe:/`, a CPE 2.2 URI has at most 7 (part to language)")]
    UriComponentCount { found: usize },
    #[error("unknown part `{found}` (valid: a, o, h, * or -)")]
    UnknownPart { found: String },
    #[error("component {} ({attribute}) is empty", .attribute.position())]
    EmptyComponent { attribute: Attribute },
    #[error("unquoted `{ch}` in {attribute} (write `\\{ch}`)")]
    Unquoted { attribute: Attribute, ch: char },
    #[error("whitespace in {attribute} (CPE names use `_` for spaces)")]
    Whitespace { attribute: Attribute },
    #[error(
        "character `{}` (U+{:04X}) in {attribute}: CPE names are printable ASCII",
        .ch.escape_debug(),
        u32::from(*.ch)
    )]
    Character { attribute: Attribute, ch: char },
    #[error("`\\` at the end of {attribute} quotes nothing")]
    DanglingEscape { attribute: Attribute },
    #[error("`\\{ch}` in {attribute}: only punctuation is quoted (write `{ch}`)")]
    QuotedAlphanumeric { attribute: Attribute, ch: char },
    #[error(
        "wildcard `{ch}` in the middle of {attribute}: unquoted `*` and `?` may only start or end a value (write `\\{ch}` for a literal one)"
    )]
    MisplacedWildcard { attribute: Attribute, ch: char },
    #[error(
        "wildcards `{run}` in {attribute}: a value may start or end with a single `*` or with `?`s, not `{run}`"
    )]
    WildcardRun { attribute: Attribute, run: String },
    #[error("{attribute} `{found}` is only wildcards (use `*` for any value)")]
    OnlyWildcards { attribute: Attribute, found: String },
    #[error(
        "language `{found}` is not a language tag (2 or 3 letters, optionally `-` and a 2-letter or 3-digit region, e.g. `en-us`)"
    )]
    LanguageTag { found: String },
    #[error("`{found}` in {attribute} is not a valid percent-encoding")]
    PercentEncoding { attribute: Attribute, found: String },
    #[error("`{ch}` in {attribute} must be percent-encoded in a CPE 2.2 URI")]
    UriUnencoded { attribute: Attribute, ch: char },
    #[error(
        "`~` in {attribute}: in a CPE 2.2 URI only a packed edition (`~edition~sw_edition~target_sw~target_hw~other`) contains `~`"
    )]
    Tilde { attribute: Attribute },
    #[error(
        "packed edition `{found}` has {fields} fields, expected 5 (`~edition~sw_edition~target_sw~target_hw~other`)"
    )]
    PackedEdition { found: String, fields: usize },
}

impl CpeError {
    /// The message, for [`DomainError::invalid`] and for people.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// The attribute the error is about, when it is about one.
    pub fn attribute(&self) -> Option<Attribute> {
        match self {
            CpeError::Empty
            | CpeError::Prefix { .. }
            | CpeError::ComponentCount { .. }
            | CpeError::UriComponentCount { .. } => None,
            CpeError::UnknownPart { .. } => Some(Attribute::Part),
            CpeError::LanguageTag { .. } => Some(Attribute::Language),
            CpeError::PackedEdition { .. } => Some(Attribute::Edition),
            CpeError::EmptyComponent { attribute }
            | CpeError::Unquoted { attribute, .. }
            | CpeError::Whitespace { attribute }
            | CpeError::Character { attribute, .. }
            | CpeError::DanglingEscape { attribute }
            | CpeError::QuotedAlphanumeric { attribute, .. }
            | CpeError::MisplacedWildcard { attribute, .. }
            | CpeError::WildcardRun { attribute, .. }
            | CpeError::OnlyWildcards { attribute, .. }
            | CpeError::PercentEncoding { attribute, .. }
            | CpeError::UriUnencoded { attribute, .. }
            | CpeError::Tilde { attribute } => Some(*attribute),
        }
    }
}

impl From<CpeError> for DomainError {
    fn from(err: CpeError) -> Self {
        DomainError::invalid("cpe", err.reason())
    }
}

/// A CPE well-formed name: eleven attributes, each ANY, NA or a canonical
/// value. Made by [`CpeName::parse`] (or from ANY everywhere with
/// [`CpeName::default`] and [`CpeName::with`]), so every value in it is
/// well formed and canonical.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CpeName {
    values: [CpeValue; 11],
}

impl Default for CpeName {
    /// `cpe:2.3:*:*:*:*:*:*:*:*:*:*:*`, ANY everywhere.
    fn default() -> Self {
        CpeName {
            values: std::array::from_fn(|_| CpeValue::Any),
        }
    }
}

impl CpeName {
    /// Reads a formatted string (`cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*`)
    /// or a CPE 2.2 URI (`cpe:/o:cisco:ios:15.2%284%29m`). Surrounding
    /// whitespace is ignored; letters are lower-cased.
    ///
    /// Beyond the strict grammar, `\-`, `\.` and `\_` (the quoting a
    /// well-formed name uses) are accepted in a formatted string, and any
    /// `%xx` encoding a printable character in a URI; both are written back
    /// in canonical form.
    pub fn parse(input: &str) -> Result<CpeName, CpeError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(CpeError::Empty);
        }
        if starts_with_ignore_case(s, "cpe:2.3:") {
            parse_formatted(s)
        } else if starts_with_ignore_case(s, "cpe:/") {
            parse_uri(&s["cpe:/".len()..])
        } else {
            let mut found: String = s.chars().take(24).collect();
            if found.len() < s.len() {
                found.push('…');
            }
            Err(CpeError::Prefix { found })
        }
    }

    /// Reads a name as people type it: a formatted string whose punctuation
    /// is not quoted (`cisco:ios:12.4(18a)`, as inventories and vendor
    /// sheets write it) has it quoted, and spaces inside a value become `_`
    /// (`hdb_client 2.0`); then [`CpeName::parse`] decides. A name that
    /// parses strictly reads the same either way.
    pub fn parse_lenient(input: &str) -> Result<CpeName, CpeError> {
        let s = input.trim();
        if !starts_with_ignore_case(s, "cpe:2.3:") {
            return CpeName::parse(s);
        }
        let body = &s["cpe:2.3:".len()..];
        let mut out = String::from("cpe:2.3:");
        let mut component = String::new();
        let mut chars = body.chars().peekable();
        let flush = |component: &mut String, out: &mut String| {
            // Wildcards only at the ends of a value; elsewhere quoted.
            let n = component.chars().count();
            for (i, c) in component.chars().enumerate() {
                match c {
                    '*' | '?' if i == 0 || i + 1 == n => out.push(c),
                    c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') => out.push(c),
                    c if c.is_whitespace() => out.push('_'),
                    '\\' => out.push(c),
                    c if c.is_ascii_punctuation() => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            component.clear();
        };
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    // An existing quote keeps its character whatever it is.
                    flush(&mut component, &mut out);
                    out.push('\\');
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
                ':' => {
                    flush(&mut component, &mut out);
                    out.push(':');
                }
                c => component.push(c),
            }
        }
        flush(&mut component, &mut out);
        CpeName::parse(&out)
    }

    /// The canonical formatted string, e.g.
    /// `cpe:2.3:o:cisco:ios:15.2\(4\)m:*:*:*:*:*:*:*`. Same as `to_string()`.
    pub fn to_formatted_string(&self) -> String {
        self.to_string()
    }

    /// The CPE 2.2 URI binding (NISTIR 7695 §6.1.2): punctuation
    /// percent-encoded, wildcards as `%01` (`?`) and `%02` (`*`), the five
    /// attributes 2.2 lacks packed into the edition with `~`, trailing
    /// empty components dropped. Reads back with [`CpeName::parse`] to an
    /// equal name.
    pub fn to_uri_string(&self) -> String {
        let v = &self.values;
        let packed = v[Attribute::SwEdition.index()..]
            .iter()
            .any(|value| !value.is_any());
        let mut components: Vec<String> = v[..Attribute::Edition.index()]
            .iter()
            .map(bind_uri_value)
            .collect();
        if packed {
            let mut edition = String::new();
            for attribute in [
                Attribute::Edition,
                Attribute::SwEdition,
                Attribute::TargetSw,
                Attribute::TargetHw,
                Attribute::Other,
            ] {
                edition.push('~');
                edition.push_str(&bind_uri_value(self.get(attribute)));
            }
            components.push(edition);
        } else {
            components.push(bind_uri_value(self.edition()));
        }
        components.push(bind_uri_value(self.language()));
        while components.last().is_some_and(String::is_empty) {
            components.pop();
        }
        format!("cpe:/{}", components.join(":"))
    }

    /// The same name with one attribute replaced. A [`CpeValue::Value`] is
    /// read as formatted-string text for that attribute (so `Value("8.*")`
    /// has a wildcard and `Value("8.\\*")` a literal star), checked and made
    /// canonical; use [`CpeValue::literal`] for plain text.
    pub fn with(mut self, attribute: Attribute, value: CpeValue) -> Result<CpeName, CpeError> {
        let value = match value {
            CpeValue::Value(text) => parse_fs_component(attribute, &text)?,
            logical => logical,
        };
        self.values[attribute.index()] = value;
        Ok(self)
    }

    /// The attribute's value.
    pub fn get(&self, attribute: Attribute) -> &CpeValue {
        &self.values[attribute.index()]
    }

    /// All eleven values in binding order (see [`Attribute::ALL`]).
    pub fn values(&self) -> &[CpeValue; 11] {
        &self.values
    }

    /// `a` (application), `o` (operating system), `h` (hardware), ANY or NA.
    pub fn part(&self) -> &CpeValue {
        self.get(Attribute::Part)
    }

    pub fn vendor(&self) -> &CpeValue {
        self.get(Attribute::Vendor)
    }

    pub fn product(&self) -> &CpeValue {
        self.get(Attribute::Product)
    }

    pub fn version(&self) -> &CpeValue {
        self.get(Attribute::Version)
    }

    pub fn update(&self) -> &CpeValue {
        self.get(Attribute::Update)
    }

    pub fn edition(&self) -> &CpeValue {
        self.get(Attribute::Edition)
    }

    pub fn language(&self) -> &CpeValue {
        self.get(Attribute::Language)
    }

    pub fn sw_edition(&self) -> &CpeValue {
        self.get(Attribute::SwEdition)
    }

    pub fn target_sw(&self) -> &CpeValue {
        self.get(Attribute::TargetSw)
    }

    pub fn target_hw(&self) -> &CpeValue {
        self.get(Attribute::TargetHw)
    }

    pub fn other(&self) -> &CpeValue {
        self.get(Attribute::Other)
    }

    /// `(vendor, product)` in canonical formatted-string form, for indexing
    /// names and advisories. ANY is `*` and NA is `-`; a key holding `*`, `-`
    /// or a wildcard ([`CpeValue::has_wildcards`]) stands for more than one
    /// vendor or product and cannot be looked up by equality alone.
    pub fn vendor_product_key(&self) -> (String, String) {
        (
            self.vendor().as_str().to_string(),
            self.product().as_str().to_string(),
        )
    }
}

impl fmt::Display for CpeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cpe:2.3")?;
        for value in &self.values {
            write!(f, ":{value}")?;
        }
        Ok(())
    }
}

impl FromStr for CpeName {
    type Err = CpeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CpeName::parse(s)
    }
}

impl Serialize for CpeName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CpeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CpeName::parse(&text).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Reading

/// One logical character of a value: a literal character (quoted or not) or
/// an unquoted wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    Quest,
}

/// Characters written unquoted in a formatted string (the ABNF's
/// `unreserved`, lower-cased).
fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// Refuses whitespace, control characters and anything beyond ASCII.
fn check_char(attribute: Attribute, c: char) -> Result<(), CpeError> {
    if c.is_whitespace() {
        Err(CpeError::Whitespace { attribute })
    } else if !c.is_ascii() || c.is_ascii_control() {
        Err(CpeError::Character { attribute, ch: c })
    } else {
        Ok(())
    }
}

/// Splits a formatted string at the colons that are not quoted.
fn split_formatted(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut parts = Vec::with_capacity(13);
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // Skip the quoted character. Multi-byte characters are refused
            // later; their continuation bytes are never `:` or `\`.
            b'\\' => i += 2,
            b':' => {
                parts.push(&s[start..i]);
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    parts.push(&s[start.min(s.len())..]);
    parts
}

fn parse_formatted(s: &str) -> Result<CpeName, CpeError> {
    let parts = split_formatted(s);
    if parts.len() != 13 {
        return Err(CpeError::ComponentCount { found: parts.len() });
    }
    let mut name = CpeName::default();
    for (attribute, raw) in Attribute::ALL.into_iter().zip(&parts[2..]) {
        name.values[attribute.index()] = parse_fs_component(attribute, raw)?;
    }
    Ok(name)
}

/// One component of a formatted string, for the given attribute.
fn parse_fs_component(attribute: Attribute, raw: &str) -> Result<CpeValue, CpeError> {
    match raw {
        "" => return Err(CpeError::EmptyComponent { attribute }),
        "*" => return Ok(CpeValue::Any),
        "-" => return Ok(CpeValue::Na),
        _ => {}
    }
    if attribute == Attribute::Part {
        return parse_part(raw);
    }
    let toks = scan_formatted(attribute, raw)?;
    if attribute == Attribute::Language {
        return language_value(&toks, raw);
    }
    build_value(attribute, &toks)
}

fn parse_part(raw: &str) -> Result<CpeValue, CpeError> {
    match raw.to_ascii_lowercase().as_str() {
        p @ ("a" | "o" | "h") => Ok(CpeValue::Value(p.to_string())),
        _ => Err(CpeError::UnknownPart {
            found: raw.to_string(),
        }),
    }
}

/// The characters of a formatted-string value as logical characters,
/// checking the ABNF's character rules on the way.
fn scan_formatted(attribute: Attribute, raw: &str) -> Result<Vec<Tok>, CpeError> {
    let mut toks = Vec::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(q) = chars.next() else {
                    return Err(CpeError::DanglingEscape { attribute });
                };
                check_char(attribute, q)?;
                if q.is_ascii_alphanumeric() {
                    return Err(CpeError::QuotedAlphanumeric { attribute, ch: q });
                }
                toks.push(Tok::Lit(q));
            }
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::Quest),
            c if is_unreserved(c) => toks.push(Tok::Lit(c.to_ascii_lowercase())),
            c => {
                check_char(attribute, c)?;
                return Err(CpeError::Unquoted { attribute, ch: c });
            }
        }
    }
    Ok(toks)
}

/// A language value: a tag `ll[-rr]` / `lll[-rr]` / `ll-ddd`, no wildcards.
fn language_value(toks: &[Tok], raw: &str) -> Result<CpeValue, CpeError> {
    let mut tag = String::with_capacity(toks.len());
    for t in toks {
        match t {
            Tok::Lit(c) => tag.push(c.to_ascii_lowercase()),
            _ => {
                return Err(CpeError::LanguageTag {
                    found: raw.to_string(),
                });
            }
        }
    }
    if is_language_tag(&tag) {
        Ok(CpeValue::Value(tag))
    } else {
        Err(CpeError::LanguageTag {
            found: raw.to_string(),
        })
    }
}

fn is_language_tag(tag: &str) -> bool {
    let (language, region) = match tag.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (tag, None),
    };
    let language_ok =
        (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok = match region {
        None => true,
        Some(r) => {
            (r.len() == 2 && r.bytes().all(|b| b.is_ascii_lowercase()))
                || (r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()))
        }
    };
    language_ok && region_ok
}

fn render(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::Quest => '?',
        })
        .collect()
}

/// Checks where the wildcards are and writes the canonical value: an
/// optional leading run (`*` or `?`s), at least one literal character, an
/// optional trailing run.
fn build_value(attribute: Attribute, toks: &[Tok]) -> Result<CpeValue, CpeError> {
    let is_lit = |t: &Tok| matches!(t, Tok::Lit(_));
    let (Some(first), Some(last)) = (toks.iter().position(is_lit), toks.iter().rposition(is_lit))
    else {
        if toks == [Tok::Star] {
            return Ok(CpeValue::Any);
        }
        return Err(CpeError::OnlyWildcards {
            attribute,
            found: render(toks),
        });
    };
    let (prefix, rest) = toks.split_at(first);
    let (middle, suffix) = rest.split_at(last - first + 1);
    if let Some(wildcard) = middle.iter().find(|t| !is_lit(t)) {
        let ch = if *wildcard == Tok::Star { '*' } else { '?' };
        return Err(CpeError::MisplacedWildcard { attribute, ch });
    }
    for run in [prefix, suffix] {
        let well_formed =
            run.is_empty() || run == [Tok::Star] || run.iter().all(|t| *t == Tok::Quest);
        if !well_formed {
            return Err(CpeError::WildcardRun {
                attribute,
                run: render(run),
            });
        }
    }
    let mut out = render(prefix);
    if prefix.is_empty() && suffix.is_empty() && middle == [Tok::Lit('-')] {
        // A literal hyphen alone; `-` would read back as NA.
        out.push_str("\\-");
    } else {
        for t in middle {
            if let Tok::Lit(c) = t {
                if !is_unreserved(*c) {
                    out.push('\\');
                }
                out.push(*c);
            }
        }
    }
    out.push_str(&render(suffix));
    Ok(CpeValue::Value(out))
}

/// The logical characters of a canonical value.
fn tokens(value: &str) -> Vec<Tok> {
    let mut toks = Vec::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            '*' => Tok::Star,
            '?' => Tok::Quest,
            c => Tok::Lit(c),
        });
    }
    toks
}

// ---------------------------------------------------------------------------
// CPE 2.2 URIs (NISTIR 7695 §6.1)

fn parse_uri(rest: &str) -> Result<CpeName, CpeError> {
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() > 7 {
        return Err(CpeError::UriComponentCount { found: parts.len() });
    }
    let mut name = CpeName::default();
    for (attribute, raw) in Attribute::ALL.into_iter().zip(parts) {
        if attribute == Attribute::Edition && raw.starts_with('~') {
            unpack_edition(&mut name, raw)?;
        } else {
            name.values[attribute.index()] = parse_uri_component(attribute, raw)?;
        }
    }
    Ok(name)
}

/// `~edition~sw_edition~target_sw~target_hw~other`.
fn unpack_edition(name: &mut CpeName, raw: &str) -> Result<(), CpeError> {
    let fields: Vec<&str> = raw[1..].split('~').collect();
    if fields.len() != 5 {
        return Err(CpeError::PackedEdition {
            found: raw.to_string(),
            fields: fields.len(),
        });
    }
    let attributes = [
        Attribute::Edition,
        Attribute::SwEdition,
        Attribute::TargetSw,
        Attribute::TargetHw,
        Attribute::Other,
    ];
    for (attribute, field) in attributes.into_iter().zip(fields) {
        name.values[attribute.index()] = parse_uri_component(attribute, field)?;
    }
    Ok(())
}

fn parse_uri_component(attribute: Attribute, raw: &str) -> Result<CpeValue, CpeError> {
    match raw {
        "" => return Ok(CpeValue::Any),
        "-" => return Ok(CpeValue::Na),
        _ => {}
    }
    if attribute == Attribute::Part {
        return parse_part(raw);
    }
    let toks = decode_uri(attribute, raw)?;
    if attribute == Attribute::Language {
        return language_value(&toks, raw);
    }
    build_value(attribute, &toks)
}

fn decode_uri(attribute: Attribute, raw: &str) -> Result<Vec<Tok>, CpeError> {
    let mut toks = Vec::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => {
                let digits: String = chars.by_ref().take(2).collect();
                let byte = (digits.len() == 2 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| u8::from_str_radix(&digits, 16).ok())
                    .flatten();
                let found = || format!("%{digits}");
                match byte {
                    Some(0x01) => toks.push(Tok::Quest),
                    Some(0x02) => toks.push(Tok::Star),
                    Some(b) if char::from(b).is_ascii_whitespace() => {
                        return Err(CpeError::Whitespace { attribute });
                    }
                    Some(b @ 0x21..=0x7e) => {
                        toks.push(Tok::Lit(char::from(b).to_ascii_lowercase()))
                    }
                    _ => {
                        return Err(CpeError::PercentEncoding {
                            attribute,
                            found: found(),
                        });
                    }
                }
            }
            '~' => return Err(CpeError::Tilde { attribute }),
            c if is_unreserved(c) => toks.push(Tok::Lit(c.to_ascii_lowercase())),
            c => {
                check_char(attribute, c)?;
                return Err(CpeError::UriUnencoded { attribute, ch: c });
            }
        }
    }
    Ok(toks)
}

fn bind_uri_value(value: &CpeValue) -> String {
    let CpeValue::Value(v) = value else {
        return if value.is_na() { "-" } else { "" }.to_string();
    };
    let toks = tokens(v);
    if toks == [Tok::Lit('-')] {
        return "%2d".to_string();
    }
    let mut out = String::with_capacity(v.len() * 3);
    for t in toks {
        match t {
            Tok::Star => out.push_str("%02"),
            Tok::Quest => out.push_str("%01"),
            Tok::Lit(c) if is_unreserved(c) => out.push(c),
            Tok::Lit(c) => out.push_str(&format!("%{:02x}", u32::from(c))),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Matching (NISTIR 7696)

/// How a source attribute value relates to a target one (NISTIR 7696 §6.1,
/// table 6-2): is the set of values the source stands for a superset of,
/// equal to, a subset of, or disjoint from the target's?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeRelation {
    Superset,
    Subset,
    Equal,
    Disjoint,
    /// The target value holds wildcards, which the standard leaves undefined.
    Undefined,
}

/// How a source name relates to a target name (NISTIR 7696 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameRelation {
    /// Every attribute is SUPERSET or EQUAL, and at least one SUPERSET: the
    /// source names everything the target does, and more.
    Superset,
    /// Every attribute is SUBSET or EQUAL, and at least one SUBSET.
    Subset,
    /// Every attribute is EQUAL.
    Equal,
    /// Some attribute is DISJOINT: no product is named by both.
    Disjoint,
    /// None of the above: some attribute is UNDEFINED (the target has
    /// wildcards), or the source is wider in some attributes and narrower in
    /// others.
    Undefined,
}

/// Compares one attribute value of a source name with the same attribute of
/// a target name, following NISTIR 7696's attribute comparison.
///
/// An unquoted `*` at the start or end of a source value matches any run of
/// characters; `n` unquoted `?` there match up to `n` characters, as the
/// standard's `compareStrings` does (so `sp?` matches `sp1` and `sp`, not
/// `sp10`).
pub fn compare_values(source: &CpeValue, target: &CpeValue) -> AttributeRelation {
    if target.has_wildcards() {
        return AttributeRelation::Undefined;
    }
    if source == target {
        return AttributeRelation::Equal;
    }
    match (source, target) {
        (CpeValue::Any, _) => AttributeRelation::Superset,
        (_, CpeValue::Any) => AttributeRelation::Subset,
        (CpeValue::Na, _) | (_, CpeValue::Na) => AttributeRelation::Disjoint,
        (CpeValue::Value(s), CpeValue::Value(t)) => {
            if source.has_wildcards() && wildcard_match(&tokens(s), &tokens(t)) {
                AttributeRelation::Superset
            } else {
                AttributeRelation::Disjoint
            }
        }
    }
}

/// Whether the source pattern (wildcards at its ends) matches the target's
/// literal characters.
fn wildcard_match(source: &[Tok], target: &[Tok]) -> bool {
    let is_lit = |t: &Tok| matches!(t, Tok::Lit(_));
    let first = source.iter().position(is_lit).unwrap_or(source.len());
    let last = source.iter().rposition(is_lit).map_or(first, |i| i + 1);
    let (prefix, core, suffix) = (&source[..first], &source[first..last], &source[last..]);
    // How many target characters a run of wildcards may cover; None is any.
    let allowance = |run: &[Tok]| (!run.contains(&Tok::Star)).then_some(run.len());
    let (before, after) = (allowance(prefix), allowance(suffix));
    let core: Vec<char> = core
        .iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::Quest => '?',
        })
        .collect();
    let target: Vec<char> = target
        .iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::Quest => '?',
        })
        .collect();
    if core.len() > target.len() {
        return false;
    }
    (0..=target.len() - core.len()).any(|i| {
        let rest = target.len() - i - core.len();
        target[i..i + core.len()] == core[..]
            && before.is_none_or(|n| i <= n)
            && after.is_none_or(|n| rest <= n)
    })
}

/// Compares every attribute of `source` with the same attribute of `target`.
pub fn compare_attributes(source: &CpeName, target: &CpeName) -> [AttributeRelation; 11] {
    std::array::from_fn(|i| compare_values(&source.values[i], &target.values[i]))
}

/// Compares two names (NISTIR 7696 §6.2). DISJOINT wins over everything
/// else, as in the standard's `CPE_DISJOINT`.
pub fn compare(source: &CpeName, target: &CpeName) -> NameRelation {
    let relations = compare_attributes(source, target);
    let all = |allowed: &[AttributeRelation]| relations.iter().all(|r| allowed.contains(r));
    if relations.contains(&AttributeRelation::Disjoint) {
        NameRelation::Disjoint
    } else if relations.contains(&AttributeRelation::Undefined) {
        NameRelation::Undefined
    } else if all(&[AttributeRelation::Equal]) {
        NameRelation::Equal
    } else if all(&[AttributeRelation::Superset, AttributeRelation::Equal]) {
        NameRelation::Superset
    } else if all(&[AttributeRelation::Subset, AttributeRelation::Equal]) {
        NameRelation::Subset
    } else {
        NameRelation::Undefined
    }
}

/// Whether `source` (e.g. an advisory's affected-product name) names
/// `target` (e.g. an asset's name): every attribute SUPERSET or EQUAL.
pub fn is_match(source: &CpeName, target: &CpeName) -> bool {
    matches!(
        compare(source, target),
        NameRelation::Superset | NameRelation::Equal
    )
}

#[cfg(test)]
mod tests;
