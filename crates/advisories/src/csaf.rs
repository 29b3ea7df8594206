//! CSAF 2.0 documents (`csaf_security_advisory`, `csaf_vex`, `csaf_base`,
//! and vendor profiles such as Fortinet's "Fortinet PSIRT Advisories").
//!
//! The document is read as a `serde_json::Value` and walked by hand so that
//! every rejection can name the JSON path of the offending field. A field
//! of the wrong type rejects the whole document (half a product tree would
//! silently drop `known_not_affected` statements); a product id that is
//! referenced but never defined only rejects that reference.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};
use time::Date;

use crate::{
    Advisory, Bound, Cvss, ParseOutcome, ProductStatement, ProductStatus, Reference, Rejected,
    Remediation, Source, VersionRange, VersionSpec,
};

/// Reads one CSAF document: one advisory, plus the references it could not
/// resolve. A document that cannot be read gives no advisory and one
/// rejection.
pub fn parse_csaf(bytes: &[u8], location: &str) -> ParseOutcome {
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
    let mut reader = Reader {
        location,
        soft: Vec::new(),
    };
    match reader.document(&root) {
        Ok(advisory) => outcome.advisories.push(advisory),
        Err(rejected) => outcome.rejected.push(rejected),
    }
    outcome.rejected.append(&mut reader.soft);
    outcome
}

/// What the product tree says about one product id.
#[derive(Debug, Clone, Default)]
struct ProductInfo {
    vendor: String,
    product: String,
    versions: Vec<VersionSpec>,
    cpes: Vec<String>,
    purls: Vec<String>,
    model_numbers: Vec<String>,
    skus: Vec<String>,
    serial_numbers: Vec<String>,
}

struct Reader<'a> {
    location: &'a str,
    /// Problems that do not stop the document (undefined ids, bad dates).
    soft: Vec<Rejected>,
}

type Res<T> = Result<T, Rejected>;

impl Reader<'_> {
    fn reject(&self, path: &str, reason: impl Into<String>) -> Rejected {
        Rejected::new(format!("{}: {path}", self.location), reason)
    }

    fn object<'v>(&self, v: &'v Value, path: &str) -> Res<&'v Map<String, Value>> {
        v.as_object()
            .ok_or_else(|| self.reject(path, format!("expected an object, found {}", kind(v))))
    }

    /// An optional member: missing and `null` are `None`, another type is
    /// an error.
    fn opt_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Res<Option<&'v str>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.reject(
                &format!("{path}.{key}"),
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }

    fn req_str<'v>(&self, obj: &'v Map<String, Value>, key: &str, path: &str) -> Res<&'v str> {
        self.opt_str(obj, key, path)?
            .ok_or_else(|| self.reject(&format!("{path}.{key}"), "required string is missing"))
    }

    fn opt_obj<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Res<Option<&'v Map<String, Value>>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.object(v, &format!("{path}.{key}")).map(Some),
        }
    }

    /// A missing array reads as empty.
    fn arr<'v>(&self, obj: &'v Map<String, Value>, key: &str, path: &str) -> Res<&'v [Value]> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(self.reject(
                &format!("{path}.{key}"),
                format!("expected an array, found {}", kind(other)),
            )),
        }
    }

    fn str_list(&self, obj: &Map<String, Value>, key: &str, path: &str) -> Res<Vec<String>> {
        let mut out = Vec::new();
        for (i, v) in self.arr(obj, key, path)?.iter().enumerate() {
            match v.as_str() {
                Some(s) => out.push(s.trim().to_string()),
                None => {
                    return Err(self.reject(
                        &format!("{path}.{key}[{i}]"),
                        format!("expected a string, found {}", kind(v)),
                    ));
                }
            }
        }
        Ok(out)
    }

    fn date(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Res<Option<Date>> {
        let Some(text) = self.opt_str(obj, key, path)? else {
            return Ok(None);
        };
        match parse_date(text) {
            Some(d) => Ok(Some(d)),
            None => {
                // A bad date loses only the date, not the advisory.
                let r = self.reject(&format!("{path}.{key}"), format!("not a date: {text:?}"));
                self.soft.push(r);
                Ok(None)
            }
        }
    }

    fn document(&mut self, root: &Value) -> Res<Advisory> {
        let root = self.object(root, "$")?;
        let doc = match root.get("document") {
            Some(d) => self.object(d, "$.document")?,
            None => return Err(self.reject("$.document", "required object is missing")),
        };
        let tracking = match doc.get("tracking") {
            Some(t) => self.object(t, "$.document.tracking")?,
            None => return Err(self.reject("$.document.tracking", "required object is missing")),
        };
        let id = self.req_str(tracking, "id", "$.document.tracking")?.trim();
        if id.is_empty() {
            return Err(self.reject("$.document.tracking.id", "empty id"));
        }
        let mut adv = Advisory::new(id, Source::Csaf);
        adv.title = self
            .opt_str(doc, "title", "$.document")?
            .unwrap_or_default()
            .trim()
            .to_string();
        if let Some(lang) = self.opt_str(doc, "lang", "$.document")? {
            // The model keeps the primary subtag only ("en-US" → "en").
            adv.language = lang
                .split(['-', '_'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
        }
        adv.published = self.date(tracking, "initial_release_date", "$.document.tracking")?;
        adv.modified = self.date(tracking, "current_release_date", "$.document.tracking")?;
        for alias in self.str_list(tracking, "aliases", "$.document.tracking")? {
            if !alias.is_empty() && alias != adv.id {
                adv.aliases.insert(alias);
            }
        }
        adv.description = self.summary(doc)?;
        let mut refs = RefSet::default();
        self.references(doc, "$.document", &mut refs)?;

        let (products, groups) = match self.opt_obj(root, "product_tree", "$")? {
            Some(tree) => self.product_tree(tree)?,
            None => (HashMap::new(), HashMap::new()),
        };

        let mut statements = Statements::default();
        let mut remediations = Remediations::default();
        for (i, vuln) in self.arr(root, "vulnerabilities", "$")?.iter().enumerate() {
            let path = format!("$.vulnerabilities[{i}]");
            let vuln = self.object(vuln, &path)?;
            if let Some(cve) = self.opt_str(vuln, "cve", &path)? {
                let cve = cve.trim();
                if !cve.is_empty() && cve != adv.id {
                    adv.aliases.insert(cve.to_string());
                }
            }
            for (j, vid) in self.arr(vuln, "ids", &path)?.iter().enumerate() {
                let p = format!("{path}.ids[{j}]");
                let text = self.req_str(self.object(vid, &p)?, "text", &p)?.trim();
                if !text.is_empty() && text != adv.id {
                    adv.aliases.insert(text.to_string());
                }
            }
            self.scores(vuln, &path, &mut adv.cvss)?;
            self.references(vuln, &path, &mut refs)?;
            if let Some(status) = self.opt_obj(vuln, "product_status", &path)? {
                self.product_status(status, &path, &products, &mut statements)?;
            }
            for (j, rem) in self.arr(vuln, "remediations", &path)?.iter().enumerate() {
                let p = format!("{path}.remediations[{j}]");
                let rem = self.object(rem, &p)?;
                let category = self.req_str(rem, "category", &p)?.trim().to_string();
                let text = self
                    .opt_str(rem, "details", &p)?
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                let url = self.opt_str(rem, "url", &p)?.map(|u| u.trim().to_string());
                let mut ids = self.str_list(rem, "product_ids", &p)?;
                for (k, gid) in self.str_list(rem, "group_ids", &p)?.iter().enumerate() {
                    match groups.get(gid) {
                        Some(members) => ids.extend(members.iter().cloned()),
                        None => self.soft.push(self.reject(
                            &format!("{p}.group_ids[{k}]"),
                            format!("product group {gid:?} is not defined in product_tree"),
                        )),
                    }
                }
                remediations.add(Remediation {
                    category,
                    text,
                    url,
                    product_ids: ids,
                });
            }
        }
        adv.products = statements.list;
        adv.remediations = remediations.list;
        adv.references = refs.list;
        Ok(adv)
    }

    /// The document's summary note (or, failing that, its description or
    /// general note).
    fn summary(&self, doc: &Map<String, Value>) -> Res<String> {
        let mut best: Option<(usize, String)> = None;
        for (i, note) in self.arr(doc, "notes", "$.document")?.iter().enumerate() {
            let p = format!("$.document.notes[{i}]");
            let note = self.object(note, &p)?;
            let category = self.opt_str(note, "category", &p)?.unwrap_or_default();
            let rank = match category {
                "summary" => 0,
                "description" => 1,
                "general" => 2,
                _ => continue,
            };
            let text = self.opt_str(note, "text", &p)?.unwrap_or_default().trim();
            if !text.is_empty() && best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, text.to_string()));
            }
        }
        Ok(best.map(|(_, t)| t).unwrap_or_default())
    }

    fn references(&self, obj: &Map<String, Value>, path: &str, refs: &mut RefSet) -> Res<()> {
        for (i, r) in self.arr(obj, "references", path)?.iter().enumerate() {
            let p = format!("{path}.references[{i}]");
            let r = self.object(r, &p)?;
            let url = self.req_str(r, "url", &p)?.trim();
            let name = self.opt_str(r, "summary", &p)?.unwrap_or_default().trim();
            refs.add(url, name);
        }
        Ok(())
    }

    /// Keeps the highest base score (CVSS v3 or v4) seen so far.
    fn scores(&self, vuln: &Map<String, Value>, path: &str, best: &mut Option<Cvss>) -> Res<()> {
        for (i, score) in self.arr(vuln, "scores", path)?.iter().enumerate() {
            let p = format!("{path}.scores[{i}]");
            let score = self.object(score, &p)?;
            for key in ["cvss_v3", "cvss_v4"] {
                let Some(cvss) = self.opt_obj(score, key, &p)? else {
                    continue;
                };
                let cp = format!("{p}.{key}");
                let base = match cvss.get("baseScore") {
                    Some(Value::Number(n)) => n.as_f64(),
                    None | Some(Value::Null) => None,
                    Some(other) => {
                        return Err(self.reject(
                            &format!("{cp}.baseScore"),
                            format!("expected a number, found {}", kind(other)),
                        ));
                    }
                };
                let Some(base) = base else { continue };
                let version = self.opt_str(cvss, "version", &cp)?.unwrap_or_default();
                let candidate = Cvss {
                    version: version.to_string(),
                    base_score: base,
                    vector: self
                        .opt_str(cvss, "vectorString", &cp)?
                        .unwrap_or_default()
                        .to_string(),
                    severity: self
                        .opt_str(cvss, "baseSeverity", &cp)?
                        .unwrap_or_default()
                        .to_string(),
                };
                // On a tie, the newer CVSS version wins.
                let better = match best {
                    None => true,
                    Some(b) => {
                        base > b.base_score
                            || (base == b.base_score && candidate.version > b.version)
                    }
                };
                if better {
                    *best = Some(candidate);
                }
            }
        }
        Ok(())
    }

    fn product_status(
        &mut self,
        status: &Map<String, Value>,
        path: &str,
        products: &HashMap<String, ProductInfo>,
        out: &mut Statements,
    ) -> Res<()> {
        const LISTS: [(&str, ProductStatus); 7] = [
            ("known_affected", ProductStatus::Affected),
            ("first_affected", ProductStatus::Affected),
            ("last_affected", ProductStatus::Affected),
            ("fixed", ProductStatus::Fixed),
            ("first_fixed", ProductStatus::Fixed),
            ("known_not_affected", ProductStatus::NotAffected),
            ("under_investigation", ProductStatus::UnderInvestigation),
        ];
        let sp = format!("{path}.product_status");
        for (key, st) in LISTS {
            for (j, pid) in self.str_list(status, key, &sp)?.into_iter().enumerate() {
                match products.get(&pid) {
                    Some(info) => out.add(&pid, info, st),
                    None => self.soft.push(self.reject(
                        &format!("{sp}.{key}[{j}]"),
                        format!("product id {pid:?} is not defined in product_tree"),
                    )),
                }
            }
        }
        Ok(())
    }

    /// Every product the tree defines, by id, and the product groups.
    #[allow(clippy::type_complexity)]
    fn product_tree(
        &mut self,
        tree: &Map<String, Value>,
    ) -> Res<(HashMap<String, ProductInfo>, HashMap<String, Vec<String>>)> {
        let mut products = HashMap::new();
        let mut trail = Vec::new();
        for (i, b) in self
            .arr(tree, "branches", "$.product_tree")?
            .iter()
            .enumerate()
        {
            self.branch(
                b,
                &format!("$.product_tree.branches[{i}]"),
                &mut trail,
                &mut products,
            )?;
        }
        for (i, fpn) in self
            .arr(tree, "full_product_names", "$.product_tree")?
            .iter()
            .enumerate()
        {
            let p = format!("$.product_tree.full_product_names[{i}]");
            let (pid, info) = self.full_product_name(fpn, &p, &[])?;
            products.entry(pid).or_insert(info);
        }
        for (i, rel) in self
            .arr(tree, "relationships", "$.product_tree")?
            .iter()
            .enumerate()
        {
            let p = format!("$.product_tree.relationships[{i}]");
            let rel = self.object(rel, &p)?;
            let reference = self.req_str(rel, "product_reference", &p)?;
            let fpn = match rel.get("full_product_name") {
                Some(f) => f,
                None => {
                    return Err(self.reject(
                        &format!("{p}.full_product_name"),
                        "required object is missing",
                    ));
                }
            };
            let (pid, own) = self.full_product_name(fpn, &format!("{p}.full_product_name"), &[])?;
            // The component (say, firmware installed on a device) is what
            // is vulnerable: take its vendor, product and versions.
            let info = match products.get(reference) {
                Some(base) => {
                    let mut info = base.clone();
                    merge_helpers(&mut info, &own);
                    info
                }
                None => {
                    self.soft.push(self.reject(
                        &format!("{p}.product_reference"),
                        format!("product id {reference:?} is not defined in product_tree"),
                    ));
                    own
                }
            };
            products.entry(pid).or_insert(info);
        }
        let mut groups = HashMap::new();
        for (i, g) in self
            .arr(tree, "product_groups", "$.product_tree")?
            .iter()
            .enumerate()
        {
            let p = format!("$.product_tree.product_groups[{i}]");
            let g = self.object(g, &p)?;
            let gid = self.req_str(g, "group_id", &p)?.to_string();
            groups.insert(gid, self.str_list(g, "product_ids", &p)?);
        }
        Ok((products, groups))
    }

    fn branch<'v>(
        &mut self,
        b: &'v Value,
        path: &str,
        trail: &mut Vec<(&'v str, &'v str)>,
        products: &mut HashMap<String, ProductInfo>,
    ) -> Res<()> {
        let b = self.object(b, path)?;
        let category = self.req_str(b, "category", path)?;
        let name = self.req_str(b, "name", path)?;
        trail.push((category, name));
        let result = (|| {
            if let Some(product) = b.get("product") {
                let (pid, info) =
                    self.full_product_name(product, &format!("{path}.product"), trail)?;
                products.entry(pid).or_insert(info);
            }
            for (i, child) in self.arr(b, "branches", path)?.iter().enumerate() {
                self.branch(child, &format!("{path}.branches[{i}]"), trail, products)?;
            }
            Ok(())
        })();
        trail.pop();
        result
    }

    /// A `full_product_name` object, with the branch categories above it.
    fn full_product_name(
        &self,
        v: &Value,
        path: &str,
        trail: &[(&str, &str)],
    ) -> Res<(String, ProductInfo)> {
        let obj = self.object(v, path)?;
        let pid = self.req_str(obj, "product_id", path)?.trim().to_string();
        let full_name = self.req_str(obj, "name", path)?.trim();
        let mut info = ProductInfo::default();
        let mut family: Vec<&str> = Vec::new();
        let mut product_name: Option<&str> = None;
        let mut versions: Vec<&str> = Vec::new();
        let mut ranges: Vec<&str> = Vec::new();
        for &(category, name) in trail {
            match category {
                "vendor" => info.vendor = name.trim().to_string(),
                "product_family" => family.push(name.trim()),
                // "product" is Fortinet's own word for product_name.
                "product_name" | "product" => product_name = Some(name.trim()),
                "product_version" => versions.push(name),
                "product_version_range" => ranges.push(name),
                _ => {}
            }
        }
        info.product = match (product_name, family.is_empty()) {
            (Some(p), _) => p.to_string(),
            (None, false) => {
                let fam = family.join(" ");
                if full_name.contains(&fam) {
                    full_name.to_string()
                } else {
                    format!("{fam} {full_name}")
                }
            }
            (None, true) => full_name.to_string(),
        };
        for v in versions {
            info.versions
                .extend(parse_product_version(v, &info.product));
        }
        for r in ranges {
            info.versions.extend(parse_version_range(r, &info.product));
        }
        if let Some(helper) = self.opt_obj(obj, "product_identification_helper", path)? {
            let hp = format!("{path}.product_identification_helper");
            if let Some(cpe) = self.opt_str(helper, "cpe", &hp)? {
                info.cpes.push(cpe.trim().to_string());
            }
            // CSAF 2.0 has one `purl`; 2.1 has a `purls` list.
            if let Some(purl) = self.opt_str(helper, "purl", &hp)? {
                info.purls.push(purl.trim().to_string());
            }
            info.purls.extend(self.str_list(helper, "purls", &hp)?);
            info.model_numbers = self.str_list(helper, "model_numbers", &hp)?;
            info.skus = self.str_list(helper, "skus", &hp)?;
            info.serial_numbers = self.str_list(helper, "serial_numbers", &hp)?;
        }
        Ok((pid, info))
    }
}

fn merge_helpers(into: &mut ProductInfo, from: &ProductInfo) {
    fn extend(a: &mut Vec<String>, b: &[String]) {
        for x in b {
            if !a.contains(x) {
                a.push(x.clone());
            }
        }
    }
    extend(&mut into.cpes, &from.cpes);
    extend(&mut into.purls, &from.purls);
    extend(&mut into.model_numbers, &from.model_numbers);
    extend(&mut into.skus, &from.skus);
    extend(&mut into.serial_numbers, &from.serial_numbers);
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `2021-07-06T00:00:00.000000Z`, `2026-01-14T00:00:00`, `2024-10-08`:
/// only the day matters to the model.
fn parse_date(text: &str) -> Option<Date> {
    let day = text.trim().get(..10)?;
    Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// One statement per (product id, status), however many vulnerabilities
/// list it.
#[derive(Default)]
struct Statements {
    seen: HashMap<(String, &'static str), usize>,
    list: Vec<ProductStatement>,
}

impl Statements {
    fn add(&mut self, pid: &str, info: &ProductInfo, status: ProductStatus) {
        let key = (pid.to_string(), status_key(status));
        if self.seen.contains_key(&key) {
            return;
        }
        self.seen.insert(key, self.list.len());
        self.list.push(ProductStatement {
            vendor: info.vendor.clone(),
            product: info.product.clone(),
            cpes: info.cpes.clone(),
            versions: info.versions.clone(),
            status,
            model_numbers: info.model_numbers.clone(),
            skus: info.skus.clone(),
            serial_numbers: info.serial_numbers.clone(),
            purls: info.purls.clone(),
            product_id: Some(pid.to_string()),
        });
    }
}

fn status_key(s: ProductStatus) -> &'static str {
    match s {
        ProductStatus::Affected => "affected",
        ProductStatus::NotAffected => "not-affected",
        ProductStatus::Fixed => "fixed",
        ProductStatus::UnderInvestigation => "under-investigation",
    }
}

/// Identical remediations repeated under every vulnerability (CISA does
/// this) become one, with the union of their product ids.
#[derive(Default)]
struct Remediations {
    list: Vec<Remediation>,
}

impl Remediations {
    fn add(&mut self, r: Remediation) {
        let existing = self
            .list
            .iter_mut()
            .find(|e| e.category == r.category && e.text == r.text && e.url == r.url);
        match existing {
            Some(e) => {
                for id in r.product_ids {
                    if !e.product_ids.contains(&id) {
                        e.product_ids.push(id);
                    }
                }
            }
            None => {
                let mut r = r;
                let mut seen = BTreeSet::new();
                r.product_ids.retain(|id| seen.insert(id.clone()));
                self.list.push(r);
            }
        }
    }
}

#[derive(Default)]
struct RefSet {
    urls: BTreeSet<String>,
    list: Vec<Reference>,
}

impl RefSet {
    fn add(&mut self, url: &str, name: &str) {
        if !url.is_empty() && self.urls.insert(url.to_string()) {
            self.list.push(Reference {
                url: url.to_string(),
                name: name.to_string(),
            });
        }
    }
}

/// Vendors write the product name into the version (`FortiOS 7.0.1`,
/// `FortiOS/>=7.4.0|<=7.4.3`, `vers:generic/Prisma Access Browser<1.2`).
fn strip_product<'t>(text: &'t str, product: &str) -> &'t str {
    if product.is_empty() {
        return text;
    }
    match text.strip_prefix(product) {
        Some(rest) if rest.starts_with([' ', '/', '<', '>', '=']) => {
            rest.trim_start_matches('/').trim()
        }
        _ => text,
    }
}

/// A `product_version` branch: one version, or a `|`-separated list of
/// them (`HD 16 | HD23`); `vers:` strings are ranges whatever the branch.
pub fn parse_product_version(text: &str, product: &str) -> Vec<VersionSpec> {
    let trimmed = text.trim();
    if trimmed.starts_with("vers:") {
        return parse_version_range(trimmed, product);
    }
    let body = strip_product(trimmed, product);
    let specs: Vec<VersionSpec> = body
        .split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| VersionSpec::Exact {
            version: v.to_string(),
        })
        .collect();
    if specs.is_empty() {
        vec![VersionSpec::Text {
            text: trimmed.to_string(),
        }]
    } else {
        specs
    }
}

/// A `product_version_range` branch: `vers:<scheme>/<constraints>`, plain
/// operators (`<= 6.3.5.11`, `>=BT02 | <= BT06`, `0 < 8.0.1`), or free text
/// kept as [`VersionSpec::Text`]. Version strings are kept as written.
pub fn parse_version_range(text: &str, product: &str) -> Vec<VersionSpec> {
    let trimmed = text.trim();
    let text_spec = || {
        vec![VersionSpec::Text {
            text: trimmed.to_string(),
        }]
    };
    let (body, is_vers) = match trimmed.strip_prefix("vers:") {
        Some(rest) => match rest.split_once('/') {
            Some((_scheme, constraints)) => (constraints.trim(), true),
            None => return text_spec(),
        },
        None => (trimmed, false),
    };
    let body = strip_product(body, product);
    if body == "*" {
        return vec![VersionSpec::All];
    }
    // Outside `vers:` a bare version is only read as such in a list
    // (`8.001|8.002|9.001`).
    parse_constraints(body, is_vers || body.contains('|')).unwrap_or_else(text_spec)
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// A constraint list in order: a lower bound opens a range, an upper bound
/// closes it, so `>=1|<2|>=3|<4` gives two ranges. `None` when a piece is
/// not a plain comparison (the caller keeps the text).
fn parse_constraints(body: &str, bare_is_exact: bool) -> Option<Vec<VersionSpec>> {
    let mut out = Vec::new();
    let mut cur = VersionRange::default();
    let flush = |cur: &mut VersionRange, out: &mut Vec<VersionSpec>| {
        if !cur.is_empty() {
            out.push(VersionSpec::Range {
                range: std::mem::take(cur),
            });
        }
    };
    // `>=V2.8<V3.1.1`: two constraints written without a separator.
    let pieces = body.split('|').map(str::trim).flat_map(|p| {
        match p.starts_with('>').then(|| p[1..].find('<')).flatten() {
            Some(at) => [Some(p[..=at].trim()), Some(p[at + 1..].trim())],
            None => [Some(p), None],
        }
    });
    for piece in pieces.flatten() {
        if piece.is_empty() {
            return None;
        }
        // `0 < 8.0.1`: a lower bound written before the operator.
        if let Some((low, op, high)) = split_infix(piece) {
            flush(&mut cur, &mut out);
            out.push(VersionSpec::Range {
                range: VersionRange {
                    start: Some(Bound {
                        version: low,
                        inclusive: true,
                    }),
                    end: Some(Bound {
                        version: high,
                        inclusive: op == Op::Le,
                    }),
                },
            });
            continue;
        }
        let (op, version) = match split_op(piece) {
            Some(x) => x,
            None if bare_is_exact && plausible_version(piece) => (Op::Eq, piece.to_string()),
            None => return None,
        };
        match op {
            Op::Ge | Op::Gt => {
                flush(&mut cur, &mut out);
                cur.start = Some(Bound {
                    version,
                    inclusive: op == Op::Ge,
                });
            }
            Op::Le | Op::Lt => {
                if cur.end.is_some() {
                    flush(&mut cur, &mut out);
                }
                cur.end = Some(Bound {
                    version,
                    inclusive: op == Op::Le,
                });
                flush(&mut cur, &mut out);
            }
            Op::Eq => {
                flush(&mut cur, &mut out);
                out.push(VersionSpec::Exact { version });
            }
        }
    }
    flush(&mut cur, &mut out);
    if out.is_empty() { None } else { Some(out) }
}

fn split_op(piece: &str) -> Option<(Op, String)> {
    let (op, rest) = if let Some(r) = piece.strip_prefix(">=") {
        (Op::Ge, r)
    } else if let Some(r) = piece.strip_prefix("<=") {
        (Op::Le, r)
    } else if let Some(r) = piece.strip_prefix('>') {
        (Op::Gt, r)
    } else if let Some(r) = piece.strip_prefix('<') {
        (Op::Lt, r)
    } else if let Some(r) = piece.strip_prefix('=') {
        (Op::Eq, r)
    } else {
        return None;
    };
    let version = rest.trim();
    plausible_version(version).then(|| (op, version.to_string()))
}

/// `A < B` / `A <= B` with a version on each side.
fn split_infix(piece: &str) -> Option<(String, Op, String)> {
    if piece.starts_with(['<', '>', '=']) {
        return None;
    }
    let (low, op, high) = if let Some((l, h)) = piece.split_once("<=") {
        (l, Op::Le, h)
    } else if let Some((l, h)) = piece.split_once('<') {
        (l, Op::Lt, h)
    } else {
        return None;
    };
    let (low, high) = (low.trim(), high.trim());
    (plausible_version(low) && plausible_version(high) && !low.contains(' '))
        .then(|| (low.to_string(), op, high.to_string()))
}

/// A version is one or two words (`8.0.1`, `A11_U05`, `S4 A.07.107`,
/// `V1.5 SP3`); more words are prose (`11.2 on Windows 8.1 with IIS 7.5`,
/// `july 1 2017`) and stay text.
fn plausible_version(v: &str) -> bool {
    let words = v.split_whitespace().count();
    (1..=2).contains(&words)
        && !v.contains(['<', '>', '=', '|'])
        && v.chars().any(|c| c.is_ascii_alphanumeric())
        && !v.split_whitespace().any(|w| {
            matches!(
                w.to_ascii_lowercase().as_str(),
                "all" | "and" | "or" | "versions" | "version" | "prior" | "before" | "on"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (Vec<u8>, String) {
        let path = format!("{}/tests/fixtures/csaf/{name}", env!("CARGO_MANIFEST_DIR"));
        (std::fs::read(&path).unwrap(), name.to_string())
    }

    fn parse(name: &str) -> ParseOutcome {
        let (bytes, loc) = fixture(name);
        parse_csaf(&bytes, &loc)
    }

    fn range(start: Option<(&str, bool)>, end: Option<(&str, bool)>) -> VersionSpec {
        let b = |(v, inclusive): (&str, bool)| Bound {
            version: v.to_string(),
            inclusive,
        };
        VersionSpec::Range {
            range: VersionRange {
                start: start.map(b),
                end: end.map(b),
            },
        }
    }

    fn exact(v: &str) -> VersionSpec {
        VersionSpec::Exact {
            version: v.to_string(),
        }
    }

    #[test]
    fn csaf_philips_vue_pacs_icsma() {
        let out = parse("icsma-21-187-01.json");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.advisories.len(), 1);
        let a = &out.advisories[0];
        assert_eq!(a.id, "ICSMA-21-187-01");
        assert_eq!(a.source, Source::Csaf);
        assert_eq!(a.title, "Philips Vue PACS (Update B)");
        assert_eq!(a.language, "en");
        assert_eq!(a.published, Some(time::macros::date!(2021 - 07 - 06)));
        assert_eq!(a.modified, Some(time::macros::date!(2022 - 04 - 05)));
        // 16 vulnerabilities, each with its CVE.
        assert_eq!(a.aliases.len(), 16);
        assert!(a.aliases.contains("CVE-2020-1938"));
        assert!(a.cve_ids().contains(&"CVE-2020-1938"));
        // Four products, each listed under all 16 vulnerabilities: merged.
        assert_eq!(a.products.len(), 4);
        let pacs = &a.products[0];
        assert_eq!(pacs.vendor, "Philips");
        assert_eq!(pacs.product, "Vue PACS");
        assert_eq!(pacs.product_id.as_deref(), Some("CSAFPID-0001"));
        assert_eq!(pacs.status, ProductStatus::Affected);
        assert_eq!(pacs.versions, vec![range(None, Some(("12.2.x.x", true)))]);
        let motion = a
            .products
            .iter()
            .find(|p| p.product == "Vue Motion")
            .unwrap();
        assert_eq!(motion.versions, vec![range(None, Some(("12.2.1.5", true)))]);
        // Remediations repeated under each vulnerability are merged.
        let r = a
            .remediations
            .iter()
            .find(|r| {
                r.text
                    .starts_with("Philips recommends configuring the Vue PACS")
            })
            .unwrap();
        assert_eq!(r.category, "vendor_fix");
        assert_eq!(
            r.url.as_deref(),
            Some("https://incenter.medical.philips.com/")
        );
        assert_eq!(r.product_ids, vec!["CSAFPID-0001".to_string()]);
        let texts: BTreeSet<_> = a.remediations.iter().map(|r| &r.text).collect();
        assert_eq!(texts.len(), a.remediations.len());
        let cvss = a.cvss.as_ref().unwrap();
        assert_eq!(cvss.base_score, 9.8);
        assert!(
            a.references
                .iter()
                .any(|r| r.url == "https://www.cve.org/CVERecord?id=CVE-2020-1938")
        );
    }

    #[test]
    fn csaf_st_jude_strict_less_than() {
        let out = parse("icsma-17-009-01a.json");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let a = &out.advisories[0];
        assert!(
            a.products
                .iter()
                .all(|p| p.status == ProductStatus::Affected)
        );
        assert!(
            a.products
                .iter()
                .any(|p| p.versions == vec![range(None, Some(("8.2.2", false)))])
        );
    }

    #[test]
    fn csaf_siemens_model_number_and_vers_all_star() {
        let out = parse("icsa-24-284-12.json");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let a = &out.advisories[0];
        assert_eq!(a.products.len(), 1);
        let p = &a.products[0];
        assert_eq!(p.vendor, "Siemens");
        assert_eq!(p.product, "SENTRON Powercenter 1000 (7KN1110-0MC00)");
        assert_eq!(p.model_numbers, vec!["7KN1110-0MC00".to_string()]);
        assert_eq!(p.versions, vec![VersionSpec::All]);
        assert_eq!(a.aliases, BTreeSet::from(["CVE-2023-6874".to_string()]));
        assert_eq!(a.cvss.as_ref().map(|c| c.base_score), Some(8.6));
        let cats: Vec<_> = a.remediations.iter().map(|r| r.category.as_str()).collect();
        assert_eq!(cats, vec!["mitigation", "none_available"]);
    }

    #[test]
    fn csaf_siemens_vendor_vers_ranges() {
        let out = parse("siemens-ssa-426509.json");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let a = &out.advisories[0];
        assert_eq!(a.id, "SSA-426509");
        assert_eq!(a.published, Some(time::macros::date!(2024 - 10 - 08)));
        assert_eq!(a.modified, Some(time::macros::date!(2025 - 06 - 17)));
        assert!(a.aliases.contains("CVE-2024-47194"));
        let modelsim: Vec<_> = a
            .products
            .iter()
            .filter(|p| p.product == "ModelSim")
            .collect();
        assert!(!modelsim.is_empty());
        assert!(modelsim.iter().all(|p| p.vendor == "Siemens"));
        // `V` is kept: the version normaliser strips it.
        assert!(
            a.products
                .iter()
                .any(|p| p.product_id.as_deref() == Some("1")
                    && p.versions == vec![range(None, Some(("V2024.3", false)))])
        );
        assert_eq!(a.cvss.as_ref().map(|c| c.base_score), Some(6.7));
    }

    #[test]
    fn csaf_fortinet_known_not_affected_and_product_prefixed_ranges() {
        let out = parse("fortinet-FG-IR-24-041.json");
        // The real document lists fixed releases ("FortiOS-7.4.4") as
        // known_not_affected without defining them: six soft rejections,
        // the advisory still comes through.
        assert_eq!(out.rejected.len(), 6, "{:?}", out.rejected);
        assert_eq!(
            out.rejected[0].location,
            "fortinet-FG-IR-24-041.json: $.vulnerabilities[0].product_status.known_not_affected[1]"
        );
        assert!(out.rejected[0].reason.contains("\"FortiOS-7.4.4\""));
        assert_eq!(out.advisories.len(), 1);
        let a = &out.advisories[0];
        assert_eq!(a.id, "FG-IR-24-041");
        assert_eq!(a.language, "");
        assert!(a.aliases.contains("CVE-2024-26008"));
        let not_affected: Vec<_> = a
            .products
            .iter()
            .filter(|p| p.status == ProductStatus::NotAffected)
            .collect();
        assert!(!not_affected.is_empty());
        assert!(not_affected.iter().all(|p| p.vendor == "Fortinet PSIRT"));
        // `FortiOS/>=7.4.0|<=7.4.3`: product name stripped, one range.
        let fortios_74 = a
            .products
            .iter()
            .find(|p| p.product_id.as_deref() == Some("FortiOS >=7.4.0|<=7.4.3"))
            .unwrap();
        assert_eq!(fortios_74.product, "FortiOS");
        assert_eq!(
            fortios_74.versions,
            vec![range(Some(("7.4.0", true)), Some(("7.4.3", true)))]
        );
        // "7.6 all versions" stays text.
        let fortios_76 = a
            .products
            .iter()
            .find(|p| p.product_id.as_deref() == Some("FortiOS/ 7.6 all versions"))
            .unwrap();
        assert_eq!(
            fortios_76.versions,
            vec![VersionSpec::Text {
                text: "FortiOS/ 7.6 all versions".into()
            }]
        );
        // No (product id, status) pair twice.
        let pairs: BTreeSet<_> = a
            .products
            .iter()
            .map(|p| (p.product_id.clone(), status_key(p.status)))
            .collect();
        assert_eq!(pairs.len(), a.products.len());
    }

    #[test]
    fn csaf_malformed_product_id_rejected_with_path() {
        let out = parse("malformed-siemens-ssa-426509.json");
        assert!(out.advisories.is_empty());
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(
            out.rejected[0].location,
            "malformed-siemens-ssa-426509.json: $.product_tree.branches[0].branches[0].branches[1].product.product_id"
        );
        assert!(out.rejected[0].reason.contains("expected a string"));
    }

    #[test]
    fn csaf_undefined_product_id_recorded_advisory_kept() {
        let out = parse("malformed-undefined-id-siemens-ssa-426509.json");
        assert_eq!(out.advisories.len(), 1);
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(
            out.rejected[0].location,
            "malformed-undefined-id-siemens-ssa-426509.json: $.vulnerabilities[0].product_status.known_affected[1]"
        );
        assert!(out.rejected[0].reason.contains("CSAFPID-9999"));
    }

    #[test]
    fn csaf_not_json_rejected() {
        let out = parse_csaf(b"{\"document\": ", "x.json");
        assert!(out.advisories.is_empty());
        assert!(out.rejected[0].location.starts_with("x.json: line 1"));
    }

    #[test]
    fn csaf_range_syntax() {
        assert_eq!(
            parse_version_range(">=V2.8<V3.1.1", ""),
            vec![range(Some(("V2.8", true)), Some(("V3.1.1", false)))]
        );
        assert_eq!(
            parse_version_range("8.001|8.002|9.001", ""),
            vec![exact("8.001"), exact("8.002"), exact("9.001")]
        );
        assert_eq!(
            parse_version_range("vers:all/<V7.0.3", ""),
            vec![range(None, Some(("V7.0.3", false)))]
        );
        assert_eq!(
            parse_version_range("vers:generic/>=1.0|<2.0", ""),
            vec![range(Some(("1.0", true)), Some(("2.0", false)))]
        );
        assert_eq!(
            parse_version_range("vers:all/*", ""),
            vec![VersionSpec::All]
        );
        assert_eq!(
            parse_version_range("<= 6.3.5.11 ", ""),
            vec![range(None, Some(("6.3.5.11", true)))]
        );
        assert_eq!(
            parse_version_range("< A11_U05", ""),
            vec![range(None, Some(("A11_U05", false)))]
        );
        assert_eq!(
            parse_version_range(">=BT02 | <= BT06", ""),
            vec![range(Some(("BT02", true)), Some(("BT06", true)))]
        );
        assert_eq!(
            parse_version_range("0 < 8.0.1", ""),
            vec![range(Some(("0", true)), Some(("8.0.1", false)))]
        );
        assert_eq!(
            parse_version_range(
                "vers:generic/Prisma Access Browser<133.16.4.99",
                "Prisma Access Browser"
            ),
            vec![range(None, Some(("133.16.4.99", false)))]
        );
        assert_eq!(
            parse_version_range("vers:generic/1.0|2.0", ""),
            vec![exact("1.0"), exact("2.0")]
        );
        for text in [
            "All versions < V1.5 SP3 Update 2",
            "<=11.2 on Windows 8.1 with IIS 7.5",
            "<  july 1 2017",
            ">= 7.0 | <= 10.1.3 and Wonderware Intelligence <= 2014R3",
        ] {
            assert_eq!(
                parse_version_range(text, ""),
                vec![VersionSpec::Text {
                    text: text.trim().into()
                }],
                "{text}"
            );
        }
        assert_eq!(
            parse_product_version("HD 16 | HD23", ""),
            vec![exact("HD 16"), exact("HD23")]
        );
        assert_eq!(
            parse_product_version("FortiOS 7.0.1", "FortiOS"),
            vec![exact("7.0.1")]
        );
        assert_eq!(
            parse_product_version("vers:all/*", ""),
            vec![VersionSpec::All]
        );
    }
}
