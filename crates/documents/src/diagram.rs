//! The ledger's two diagrams: the network overview (成果物 ⑥
//! ネットワーク概要図) and the management structure chart (成果物 ⑦
//! 情報システム管理体制図), drawn from the domain's [`NetworkView`] and
//! [`OrgView`] rather than painted by hand.
//!
//! Each diagram is laid out once ([`layout`]) into a scene of placed boxes,
//! lines and text; SVG, PDF and draw.io are all drawn from that one scene, so
//! they show the same boxes at the same places. Mermaid text is the same
//! structure without places (Mermaid lays itself out).
//!
//! - Network: the external connections in a band at the top (院外), one
//!   box each with the seed's category number, counterpart, method and
//!   常時接続/必要時のみ, drawn in red when the administrator did not know of
//!   it; below, the hospital with its segments as labelled groups that wrap
//!   in rows, each holding its device boxes in rows; lines for links, and
//!   from each external box to its boundary device. Device boxes show the
//!   name, kind and product, `×N` for folded terminals, and markers for
//!   vendor-owned devices, always-on remote maintenance and internet
//!   exposure.
//! - Management structure: a top-down tree (roots side by side, each role's
//!   subordinates below it) with title, person, department or company and
//!   business contacts; vendors and external bodies drawn apart; the
//!   incident contact order as a numbered list beside the tree.
//!
//! Japanese unless the language is `en`.

mod drawio;
mod layout;
mod mermaid;
mod pdf;
mod svg;

use mamori_domain::ledger::{
    Availability, DiagramExternal, DiagramGroup, DiagramNode, NetworkView, OrgNode, OrgView,
    RemoteMaintenance,
};

use crate::DocumentError;
use crate::pdf::{Anchor, Ink, Rgb};

/// The network overview as a standalone SVG document.
pub fn network_svg(view: &NetworkView, lang: &str) -> String {
    svg::render(&layout::network(view, lang))
}

/// The management structure chart as a standalone SVG document.
pub fn org_svg(view: &OrgView, lang: &str) -> String {
    svg::render(&layout::org(view, lang))
}

/// The network overview as an uncompressed diagrams.net (draw.io) file:
/// a container per segment holding its devices, a box per external
/// connection, an edge per link and per external connection's boundary
/// device.
pub fn network_drawio(view: &NetworkView, lang: &str) -> String {
    drawio::render(&layout::network(view, lang))
}

/// The management structure chart as an uncompressed diagrams.net file:
/// a box per role and an edge per reporting line.
pub fn org_drawio(view: &OrgView, lang: &str) -> String {
    drawio::render(&layout::org(view, lang))
}

/// The network overview as Mermaid `flowchart` text, a subgraph per segment.
pub fn network_mermaid(view: &NetworkView, lang: &str) -> String {
    mermaid::network(view, lang)
}

/// The management structure chart as Mermaid `flowchart` text.
pub fn org_mermaid(view: &OrgView, lang: &str) -> String {
    mermaid::org(view, lang)
}

/// The network overview on one landscape PDF page (A4, larger when the
/// diagram would otherwise print too small to read).
pub fn network_pdf(view: &NetworkView, lang: &str) -> Result<Vec<u8>, DocumentError> {
    pdf::render(&layout::network(view, lang))
}

/// The management structure chart on one landscape PDF page.
pub fn org_pdf(view: &OrgView, lang: &str) -> Result<Vec<u8>, DocumentError> {
    pdf::render(&layout::org(view, lang))
}

/// The network overview as a report page: its width, height and drawing,
/// with a band `reserve` points high left free at the top.
pub(crate) fn network_page(view: &NetworkView, lang: &str, reserve: f32) -> (f32, f32, Vec<Ink>) {
    pdf::inks(&layout::network(view, lang), f64::from(reserve))
}

/// The management structure chart as a report page, as [`network_page`].
pub(crate) fn org_page(view: &OrgView, lang: &str, reserve: f32) -> (f32, f32, Vec<Ink>) {
    pdf::inks(&layout::org(view, lang), f64::from(reserve))
}

// The scene: what every drawn output draws ---------------------------------

/// A diagram laid out: computed once per output, the same for all.
#[derive(Debug, Clone, PartialEq)]
struct Scene {
    width: f64,
    height: f64,
    title: String,
    language: &'static str,
    /// What SVG and PDF draw, in order (later over earlier).
    marks: Vec<Mark>,
    /// The editable boxes (draw.io vertices), absolute coordinates.
    cells: Vec<Cell>,
    /// The editable lines between cells (draw.io edges).
    connectors: Vec<Connector>,
}

/// How a line or an outline is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pen {
    colour: Rgb,
    width: f64,
    /// Dash and gap; `None` for a solid line.
    dash: Option<(f64, f64)>,
}

impl Pen {
    const fn solid(colour: Rgb, width: f64) -> Self {
        Pen {
            colour,
            width,
            dash: None,
        }
    }

    const fn dashed(colour: Rgb, width: f64, dash: (f64, f64)) -> Self {
        Pen {
            colour,
            width,
            dash: Some(dash),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Mark {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        radius: f64,
        fill: Option<Rgb>,
        pen: Option<Pen>,
        /// Shown on hover in SVG (the whole text of a shortened box).
        tooltip: String,
    },
    Line {
        points: Vec<(f64, f64)>,
        pen: Pen,
    },
    /// One line of text, already shortened to `max_width` by estimate; the
    /// PDF shortens again by the font's real widths.
    Text {
        x: f64,
        baseline: f64,
        size: f64,
        bold: bool,
        colour: Rgb,
        anchor: Anchor,
        max_width: f64,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellKind {
    Group,
    Node,
    External,
    Role,
}

/// A box someone editing the diagram moves about.
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    /// The view's id (`s:…`, `a:…`, `x:…`, `r:…`).
    id: String,
    /// The containing cell (a segment, for a device).
    parent: Option<String>,
    kind: CellKind,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    /// The whole text, a line each, not shortened.
    label: Vec<String>,
    fill: Rgb,
    pen: Pen,
}

/// A line between two cells.
#[derive(Debug, Clone, PartialEq)]
struct Connector {
    id: String,
    source: String,
    target: String,
    label: String,
    pen: Pen,
    /// Drawn with right-angled bends (the org chart's reporting lines).
    orthogonal: bool,
}

// Words ------------------------------------------------------------------

/// The diagrams' fixed words in one language.
struct Words {
    network_title: &'static str,
    org_title: &'static str,
    chain_title: &'static str,
    no_segment: &'static str,
    outside: &'static str,
    inside: &'static str,
    no_external: &'static str,
    no_assets: &'static str,
    no_roles: &'static str,
    no_chain: &'static str,
    unknown_to_administrator: &'static str,
    vendor_badge: &'static str,
    always_on_badge: &'static str,
    internet_badge: &'static str,
    vendor_legend: &'static str,
    always_on_legend: &'static str,
    internet_legend: &'static str,
    warning_legend: &'static str,
    system: &'static str,
    phone: &'static str,
    email: &'static str,
    responsibilities: &'static str,
    incident_badge: &'static str,
    hospital_role: &'static str,
    vendor_role: &'static str,
    external_role: &'static str,
}

const JA: Words = Words {
    network_title: "ネットワーク概要図",
    org_title: "情報システム管理体制図",
    chain_title: "緊急連絡順",
    no_segment: "セグメント未登録",
    outside: "院外",
    inside: "院内",
    no_external: "外部接続の記録なし",
    no_assets: "機器の記録なし",
    no_roles: "管理体制の記録なし",
    no_chain: "緊急連絡順の記録なし",
    unknown_to_administrator: "管理者の知らない接続",
    vendor_badge: "ベンダー所有",
    always_on_badge: "常時リモート保守",
    internet_badge: "ネット公開",
    vendor_legend: "ベンダーが所有する機器",
    always_on_legend: "リモート保守が常時接続",
    internet_legend: "インターネットに公開",
    warning_legend: "赤枠：管理者の知らない接続",
    system: "所属",
    phone: "TEL",
    email: "Mail",
    responsibilities: "担当",
    incident_badge: "緊急連絡",
    hospital_role: "院内",
    vendor_role: "ベンダー",
    external_role: "外部機関",
};

const EN: Words = Words {
    network_title: "Network overview",
    org_title: "Management structure",
    chain_title: "Incident contact order",
    no_segment: "No segment recorded",
    outside: "Outside the hospital",
    inside: "Inside the hospital",
    no_external: "No external connection recorded",
    no_assets: "No device recorded",
    no_roles: "No role recorded",
    no_chain: "No incident contact order recorded",
    unknown_to_administrator: "Not known to the administrator",
    vendor_badge: "vendor",
    always_on_badge: "24h remote",
    internet_badge: "internet",
    vendor_legend: "owned by a vendor",
    always_on_legend: "remote maintenance always on",
    internet_legend: "exposed to the internet",
    warning_legend: "red: not known to the administrator",
    system: "System",
    phone: "Tel",
    email: "Mail",
    responsibilities: "Covers",
    incident_badge: "Call",
    hospital_role: "hospital",
    vendor_role: "vendor",
    external_role: "external body",
};

fn language(lang: &str) -> &'static str {
    if lang == "en" { "en" } else { "ja" }
}

fn words(lang: &str) -> &'static Words {
    if lang == "en" { &EN } else { &JA }
}

/// Text from the ledger on one line: line breaks and tabs become spaces,
/// other control characters (which XML cannot carry) are dropped.
fn one_line(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => None,
            c => Some(c),
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Joins the non-empty parts with ` · `.
fn joined(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| one_line(p))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

fn group_title(group: &DiagramGroup, lang: &str) -> String {
    match group.kind {
        None => words(lang).no_segment.to_owned(),
        Some(_) => one_line(&group.title),
    }
}

fn group_subtitle(group: &DiagramGroup, lang: &str) -> String {
    joined(&[
        group.kind.map_or("", |k| k.label(lang)),
        &group.address_range,
    ])
}

/// `×120` for a box that stands for several units.
fn count_mark(node: &DiagramNode) -> Option<String> {
    (node.count > 1).then(|| format!("×{}", node.count))
}

fn node_subtitle(node: &DiagramNode, lang: &str) -> String {
    joined(&[node.kind.label(lang), &node.detail])
}

fn node_system(node: &DiagramNode, lang: &str) -> String {
    let system = one_line(&node.system);
    if system.is_empty() {
        String::new()
    } else {
        format!("{}: {system}", words(lang).system)
    }
}

/// The markers a device box carries: text and colour.
fn node_badges(node: &DiagramNode, lang: &str) -> Vec<(&'static str, Rgb)> {
    let w = words(lang);
    let mut out = Vec::new();
    if node.vendor_owned {
        out.push((w.vendor_badge, VENDOR_COLOUR));
    }
    if node.remote_maintenance == RemoteMaintenance::AlwaysOn {
        out.push((w.always_on_badge, ALWAYS_ON_COLOUR));
    }
    if node.internet_exposed {
        out.push((w.internet_badge, INTERNET_COLOUR));
    }
    out
}

/// Every line a device box says, whole (draw.io labels, Mermaid, tooltips).
fn node_label(node: &DiagramNode, lang: &str) -> Vec<String> {
    let mut title = one_line(&node.title);
    if let Some(count) = count_mark(node) {
        title = format!("{title} {count}");
    }
    let mut lines = vec![title, node_subtitle(node, lang), node_system(node, lang)];
    let badges: Vec<&str> = node_badges(node, lang).iter().map(|b| b.0).collect();
    if !badges.is_empty() {
        lines.push(format!("[{}]", badges.join("] [")));
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// `③ CT・MRI等検査機器の保守`: the seed's number and the category.
fn external_category(external: &DiagramExternal, lang: &str) -> String {
    let number = external.category.number();
    let mark = char::from_u32(0x245F + number as u32)
        .filter(|_| (1..=20).contains(&number))
        .map_or_else(|| format!("{number}."), String::from);
    format!("{mark} {}", external.category.label(lang))
}

fn external_method(external: &DiagramExternal, lang: &str) -> String {
    let method = external.method.label(lang);
    // `IP-VPN · IP-VPN` says nothing twice.
    if one_line(&external.method_detail).eq_ignore_ascii_case(method) {
        return method.to_owned();
    }
    joined(&[method, &external.method_detail])
}

fn external_warned(external: &DiagramExternal) -> bool {
    external.known_to_administrator == Some(false)
}

/// Every line an external box says, whole.
fn external_label(external: &DiagramExternal, lang: &str) -> Vec<String> {
    let mut lines = vec![
        external_category(external, lang),
        one_line(&external.counterpart),
        external_method(external, lang),
        external.availability.label(lang).to_owned(),
    ];
    if external_warned(external) {
        lines.push(words(lang).unknown_to_administrator.to_owned());
    }
    lines.retain(|l| !l.is_empty());
    lines
}

fn group_label(group: &DiagramGroup, lang: &str) -> Vec<String> {
    let mut lines = vec![group_title(group, lang), group_subtitle(group, lang)];
    lines.retain(|l| !l.is_empty());
    lines
}

fn role_phone(node: &OrgNode, lang: &str) -> String {
    let phone = one_line(&node.business_phone);
    if phone.is_empty() {
        phone
    } else {
        format!("{} {phone}", words(lang).phone)
    }
}

fn role_email(node: &OrgNode, lang: &str) -> String {
    let email = one_line(&node.business_email);
    if email.is_empty() {
        email
    } else {
        format!("{} {email}", words(lang).email)
    }
}

fn role_responsibilities(node: &OrgNode, lang: &str) -> String {
    let text = one_line(&node.responsibilities);
    if text.is_empty() {
        text
    } else {
        format!("{}: {text}", words(lang).responsibilities)
    }
}

fn role_badge(node: &OrgNode, lang: &str) -> Option<String> {
    node.incident_order
        .map(|n| format!("{} {n}", words(lang).incident_badge))
}

/// Every line a role box says, whole.
fn role_label(node: &OrgNode, lang: &str) -> Vec<String> {
    let mut kind = node.kind.label(lang).to_owned();
    if let Some(badge) = role_badge(node, lang) {
        kind = format!("{kind} · {badge}");
    }
    let mut lines = vec![
        one_line(&node.title),
        one_line(&node.person),
        one_line(&node.organisation),
        role_phone(node, lang),
        role_email(node, lang),
        role_responsibilities(node, lang),
        kind,
    ];
    lines.retain(|l| !l.is_empty());
    lines
}

// Colours ------------------------------------------------------------------

const INK: Rgb = (0x1f, 0x29, 0x33);
const MUTED: Rgb = (0x5f, 0x6b, 0x7a);
const WHITE: Rgb = (0xff, 0xff, 0xff);
const WARNING: Rgb = (0xc6, 0x28, 0x28);
const WARNING_FILL: Rgb = (0xfd, 0xec, 0xea);
const VENDOR_COLOUR: Rgb = (0xe6, 0x51, 0x00);
const ALWAYS_ON_COLOUR: Rgb = (0xc6, 0x28, 0x28);
const INTERNET_COLOUR: Rgb = (0x6a, 0x1b, 0x9a);

/// Whether an external connection stays up: its line's colour and dashes.
fn external_pen(external: &DiagramExternal) -> Pen {
    let colour = if external_warned(external) {
        WARNING
    } else {
        (0xef, 0x6c, 0x00)
    };
    match external.availability {
        Availability::AlwaysOn => Pen::solid(colour, 1.8),
        Availability::OnDemand => Pen::dashed(colour, 1.5, (6.0, 4.0)),
        Availability::Unknown => Pen::dashed(colour, 1.2, (2.0, 3.0)),
    }
}

#[cfg(test)]
mod tests;
