use std::collections::{BTreeMap, BTreeSet};

use mamori_domain::ledger::{
    Asset, AssetKind, Availability, ConnectionCategory, ConnectionMethod, ExternalConnection,
    Ledger, LedgerKey, Link, LinkMedium, NetworkView, OrgEdge, OrgNode, OrgView, Owner,
    RemoteMaintenance, Segment, SegmentKind, StructureRole, StructureRoleKind, network_view,
    org_view,
};
use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::Event;

use super::*;

// A demo-like hospital ---------------------------------------------------

fn key(k: &str) -> LedgerKey {
    LedgerKey::parse(k).unwrap()
}

fn asset(k: &str, kind: AssetKind, name: &str, segment: Option<&str>) -> Asset {
    Asset {
        key: key(k),
        kind,
        name: name.to_owned(),
        system: None,
        model_ref: None,
        vendor: String::new(),
        product: String::new(),
        model: String::new(),
        version: String::new(),
        os: String::new(),
        serial_number: String::new(),
        cpes: Vec::new(),
        quantity: 1,
        location: String::new(),
        segment: segment.map(key),
        address: String::new(),
        owner: Owner::Hospital,
        managing_department: String::new(),
        maintenance_vendor: String::new(),
        remote_maintenance: RemoteMaintenance::None,
        remote_method: String::new(),
        end_of_support: None,
        internet_exposed: None,
        notes: String::new(),
    }
}

fn segment(k: &str, name: &str, kind: SegmentKind, range: &str) -> Segment {
    Segment {
        key: key(k),
        name: name.to_owned(),
        kind,
        address_range: range.to_owned(),
        gateway: None,
        notes: String::new(),
    }
}

fn link(k: &str, from: &str, to: &str, medium: LinkMedium, label: &str) -> Link {
    Link {
        key: key(k),
        from: key(from),
        to: key(to),
        medium,
        label: label.to_owned(),
        notes: String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn connection(
    k: &str,
    category: ConnectionCategory,
    counterpart: &str,
    method: ConnectionMethod,
    detail: &str,
    via: Option<&str>,
    availability: Availability,
    known: Option<bool>,
) -> ExternalConnection {
    ExternalConnection {
        key: key(k),
        category,
        counterpart: counterpart.to_owned(),
        purpose: String::new(),
        method,
        method_detail: detail.to_owned(),
        boundary_device: via.map(key),
        availability,
        session_approver: String::new(),
        logged: None,
        known_to_administrator: known,
        notes: String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn role(
    k: &str,
    kind: StructureRoleKind,
    title: &str,
    person: &str,
    organisation: &str,
    reports_to: Option<&str>,
    incident_order: Option<u32>,
) -> StructureRole {
    StructureRole {
        key: key(k),
        kind,
        title: title.to_owned(),
        person: person.to_owned(),
        organisation: organisation.to_owned(),
        business_phone: "03-1234-5678".to_owned(),
        business_email: format!("{}@example.jp", k.to_lowercase()),
        reports_to: reports_to.map(key),
        responsibilities: String::new(),
        incident_order,
        notes: String::new(),
    }
}

fn demo() -> Ledger {
    use AssetKind as K;
    let mut ledger = Ledger {
        segments: vec![
            segment("SEG-MED", "医療系LAN", SegmentKind::Clinical, "10.1.0.0/16"),
            segment(
                "SEG-ADM",
                "事務系LAN",
                SegmentKind::Administrative,
                "10.2.0.0/16",
            ),
            segment("SEG-MNT", "保守用", SegmentKind::Maintenance, "VLAN 90"),
            segment("SEG-DMZ", "DMZ", SegmentKind::Dmz, "192.168.10.0/24"),
        ],
        ..Ledger::default()
    };
    let mut emr = asset("SYS-EMR", K::System, "電子カルテシステム", None);
    emr.vendor = "富士通".into();
    ledger.assets.push(emr);
    let mut fw = asset("FW-01", K::VpnGateway, "保守用VPN装置", Some("SEG-MNT"));
    fw.vendor = "Fortinet".into();
    fw.product = "FortiGate".into();
    fw.model = "60F".into();
    fw.version = "7.0.12".into();
    fw.owner = Owner::Vendor;
    fw.remote_maintenance = RemoteMaintenance::AlwaysOn;
    fw.internet_exposed = Some(true);
    ledger.assets.push(fw);
    ledger.assets.push(asset(
        "RT-ONS",
        K::Router,
        "オンライン資格確認ルータ",
        Some("SEG-DMZ"),
    ));
    ledger.assets.push(asset(
        "RT-REG",
        K::Router,
        "地域連携ルータ",
        Some("SEG-DMZ"),
    ));
    let mut ct_line = asset("RT-CT", K::Router, "CT保守回線ルータ", Some("SEG-MNT"));
    ct_line.owner = Owner::Vendor;
    ledger.assets.push(ct_line);
    ledger
        .assets
        .push(asset("SW-01", K::Switch, "コアスイッチ", Some("SEG-MED")));
    let mut emr_server = asset("SV-EMR", K::Server, "電子カルテサーバ", Some("SEG-MED"));
    emr_server.system = Some(key("SYS-EMR"));
    ledger.assets.push(emr_server);
    ledger
        .assets
        .push(asset("SV-PACS", K::Server, "PACSサーバ", Some("SEG-MED")));
    let mut ct = asset("CT-01", K::MedicalDevice, "CT装置", Some("SEG-MED"));
    ct.vendor = "キヤノンメディカル".into();
    ct.remote_maintenance = RemoteMaintenance::OnDemand;
    ledger.assets.push(ct);
    ledger.assets.push(asset(
        "SV-ADM",
        K::Server,
        "医事会計サーバ",
        Some("SEG-ADM"),
    ));
    // 120 terminals in three identical rows: one box ×120.
    for row in 1..=3 {
        let mut pc = asset(
            &format!("PC-{row:03}"),
            K::Terminal,
            "電子カルテ端末",
            Some("SEG-MED"),
        );
        pc.vendor = "NEC".into();
        pc.product = "Mate".into();
        pc.os = "Windows 11".into();
        pc.system = Some(key("SYS-EMR"));
        pc.quantity = 40;
        ledger.assets.push(pc);
    }
    ledger.links = vec![
        link("L-1", "FW-01", "SW-01", LinkMedium::Wired, "保守VLAN"),
        link("L-2", "SW-01", "SV-EMR", LinkMedium::Wired, ""),
        link("L-3", "SW-01", "SV-PACS", LinkMedium::Wired, ""),
        link("L-4", "SW-01", "PC-001", LinkMedium::Wired, ""),
        link("L-5", "SW-01", "PC-002", LinkMedium::Wired, ""),
        link("L-6", "SW-01", "CT-01", LinkMedium::Wired, ""),
        link("L-7", "RT-CT", "CT-01", LinkMedium::Other, "保守回線"),
        link("L-8", "RT-ONS", "SW-01", LinkMedium::Wired, ""),
        link("L-9", "RT-REG", "SW-01", LinkMedium::Vpn, "IPsec"),
        link("L-10", "SV-ADM", "SW-01", LinkMedium::Wireless, ""),
    ];
    ledger.connections = vec![
        connection(
            "C-01",
            ConnectionCategory::NetworkMaintenance,
            "ネットワーク保守会社",
            ConnectionMethod::InternetVpn,
            "FortiGate SSL-VPN",
            Some("FW-01"),
            Availability::AlwaysOn,
            Some(true),
        ),
        connection(
            "C-02",
            ConnectionCategory::ModalityMaintenance,
            "CTメーカー保守センター",
            ConnectionMethod::MobileLine,
            "閉域モバイル回線",
            Some("RT-CT"),
            Availability::AlwaysOn,
            Some(false),
        ),
        connection(
            "C-03",
            ConnectionCategory::MyNumberCard,
            "オンライン資格確認等システム",
            ConnectionMethod::IpVpn,
            "IP-VPN",
            Some("RT-ONS"),
            Availability::AlwaysOn,
            Some(true),
        ),
        connection(
            "C-04",
            ConnectionCategory::RegionalNetwork,
            "地域医療連携ネットワーク",
            ConnectionMethod::ClosedNetwork,
            "",
            Some("RT-REG"),
            Availability::AlwaysOn,
            Some(true),
        ),
        connection(
            "C-05",
            ConnectionCategory::RemoteReading,
            "遠隔読影センター",
            ConnectionMethod::InternetVpn,
            "FortiClient",
            Some("FW-01"),
            Availability::OnDemand,
            None,
        ),
    ];
    use StructureRoleKind as R;
    ledger.roles = vec![
        role(
            "R-1",
            R::Executive,
            "病院長",
            "山田 太郎",
            "病院",
            None,
            Some(3),
        ),
        role(
            "R-2",
            R::SecurityOfficer,
            "医療情報システム安全管理責任者",
            "佐藤 花子",
            "事務部",
            Some("R-1"),
            Some(2),
        ),
        role(
            "R-3",
            R::SystemAdministrator,
            "情報システム室長",
            "鈴木 一郎",
            "情報システム室",
            Some("R-2"),
            Some(1),
        ),
        role(
            "R-4",
            R::Vendor,
            "電子カルテ保守",
            "高橋 次郎",
            "富士通Japan",
            Some("R-3"),
            None,
        ),
        role(
            "R-5",
            R::Vendor,
            "ネットワーク保守",
            "",
            "ネットワーク保守会社",
            Some("R-3"),
            Some(4),
        ),
        role(
            "R-6",
            R::External,
            "厚生労働省",
            "",
            "医療情報セキュリティ担当",
            None,
            Some(5),
        ),
        role("R-7", R::External, "所轄警察署", "", "", None, None),
    ];
    ledger.roles[3].responsibilities = "電子カルテのサーバと端末".into();
    ledger
}

// Reading the outputs back ------------------------------------------------------

/// An element of a parsed document.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
}

impl Element {
    fn descendants<'a>(&'a self, out: &mut Vec<&'a Element>) {
        for child in &self.children {
            out.push(child);
            child.descendants(out);
        }
    }

    fn all(&self) -> Vec<&Element> {
        let mut out = vec![self];
        self.descendants(&mut out);
        out
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

/// Parses a whole document with quick-xml: the root element and all text
/// (entities resolved). Panics on anything that is not well-formed.
fn parse(xml: &str) -> (Element, String) {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut text = String::new();
    let open = |e: &quick_xml::events::BytesStart| {
        let mut element = Element {
            name: e.name().as_ref().to_owned(),
            ..Element::default()
        };
        for attribute in e.attributes() {
            let attribute = attribute.unwrap();
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .unwrap()
                .into_owned();
            let name = attribute.key.as_ref().to_owned();
            assert!(
                element.attributes.insert(name, value).is_none(),
                "duplicate attribute"
            );
        }
        element
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => stack.push(open(&e)),
            Ok(Event::Empty(e)) => {
                let element = open(&e);
                stack.last_mut().unwrap().children.push(element);
            }
            Ok(Event::End(_)) => {
                let element = stack.pop().unwrap();
                assert!(!stack.is_empty(), "unbalanced");
                stack.last_mut().unwrap().children.push(element);
            }
            Ok(Event::Text(t)) => text.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) => {
                if let Some(c) = r.resolve_char_ref().unwrap() {
                    text.push(c);
                } else {
                    text.push(match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unexpected entity {other}"),
                    });
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(err) => panic!("invalid XML at {}: {err}", reader.buffer_position()),
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element");
    (document.children.pop().unwrap(), text)
}

/// The draw.io file's vertices (id → parent) and edges (id, source, target).
struct DrawIo {
    vertices: BTreeMap<String, String>,
    values: BTreeMap<String, String>,
    edges: Vec<(String, String, String)>,
}

fn read_drawio(xml: &str) -> DrawIo {
    let (root, _) = parse(xml);
    assert_eq!(root.name, "mxfile");
    let diagram = &root.children[0];
    assert_eq!(diagram.name, "diagram");
    assert!(diagram.attr("name").is_some_and(|n| !n.is_empty()));
    let model = &diagram.children[0];
    assert_eq!(model.name, "mxGraphModel");
    let cells_root = &model.children[0];
    assert_eq!(cells_root.name, "root");
    let cells = &cells_root.children;
    assert_eq!(cells[0].attr("id"), Some("0"));
    assert_eq!(cells[1].attr("id"), Some("1"));
    assert_eq!(cells[1].attr("parent"), Some("0"));
    let mut out = DrawIo {
        vertices: BTreeMap::new(),
        values: BTreeMap::new(),
        edges: Vec::new(),
    };
    let mut ids = BTreeSet::new();
    for cell in &cells[2..] {
        assert_eq!(cell.name, "mxCell");
        let id = cell.attr("id").unwrap().to_owned();
        assert!(ids.insert(id.clone()), "duplicate id {id}");
        let geometry = &cell.children[0];
        assert_eq!(geometry.name, "mxGeometry");
        assert_eq!(geometry.attr("as"), Some("geometry"));
        if cell.attr("vertex") == Some("1") {
            for a in ["x", "y", "width", "height"] {
                let v: f64 = geometry.attr(a).unwrap().parse().unwrap();
                assert!(v.is_finite());
            }
            out.vertices
                .insert(id.clone(), cell.attr("parent").unwrap().to_owned());
            out.values
                .insert(id, cell.attr("value").unwrap_or("").to_owned());
        } else {
            assert_eq!(cell.attr("edge"), Some("1"), "{id} neither vertex nor edge");
            assert_eq!(geometry.attr("relative"), Some("1"));
            out.edges.push((
                id,
                cell.attr("source").unwrap().to_owned(),
                cell.attr("target").unwrap().to_owned(),
            ));
        }
    }
    for (id, source, target) in &out.edges {
        assert!(out.vertices.contains_key(source), "{id}: source {source}");
        assert!(out.vertices.contains_key(target), "{id}: target {target}");
    }
    out
}

fn pdf_pages(pdf: &[u8]) -> Vec<(f32, f32)> {
    let document = lopdf::Document::load_mem(pdf).unwrap();
    document
        .get_pages()
        .values()
        .map(|&id| {
            let page = document.get_dictionary(id).unwrap();
            let media = page.get(b"MediaBox").unwrap().as_array().unwrap();
            let n = |i: usize| media[i].as_float().unwrap();
            (n(2) - n(0), n(3) - n(1))
        })
        .collect()
}

fn pdf_text(pdf: &[u8]) -> String {
    let text = pdf_extract::extract_text_from_mem(pdf).unwrap();
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn svg_size(svg: &str) -> (f64, f64) {
    let (root, _) = parse(svg);
    assert_eq!(root.name, "svg");
    let n = |a: &str| root.attr(a).unwrap().parse::<f64>().unwrap();
    (n("width"), n("height"))
}

fn overlaps(a: &Cell, b: &Cell) -> bool {
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

fn inside(inner: &Cell, outer: &Cell) -> bool {
    inner.x >= outer.x
        && inner.y >= outer.y
        && inner.x + inner.w <= outer.x + outer.w
        && inner.y + inner.h <= outer.y + outer.h
}

/// No two boxes overlap (groups only hold devices); every device lies
/// inside its group.
fn assert_no_overlaps(scene: &Scene) {
    let boxes: Vec<&Cell> = scene
        .cells
        .iter()
        .filter(|c| c.kind != CellKind::Group)
        .collect();
    for (i, a) in boxes.iter().enumerate() {
        assert!(a.x >= 0.0 && a.y >= 0.0, "{} off the page", a.id);
        assert!(
            a.x + a.w <= scene.width && a.y + a.h <= scene.height,
            "{} off the page",
            a.id
        );
        for b in &boxes[i + 1..] {
            assert!(!overlaps(a, b), "{} overlaps {}", a.id, b.id);
        }
    }
    let groups: Vec<&Cell> = scene
        .cells
        .iter()
        .filter(|c| c.kind == CellKind::Group)
        .collect();
    for (i, a) in groups.iter().enumerate() {
        for b in &groups[i + 1..] {
            assert!(!overlaps(a, b), "group {} overlaps group {}", a.id, b.id);
        }
        for e in scene.cells.iter().filter(|c| c.kind == CellKind::External) {
            assert!(!overlaps(a, e), "group {} overlaps {}", a.id, e.id);
        }
    }
    for node in scene.cells.iter().filter(|c| c.kind == CellKind::Node) {
        let group = groups
            .iter()
            .find(|g| Some(&g.id) == node.parent.as_ref())
            .unwrap_or_else(|| panic!("{} has no group", node.id));
        assert!(inside(node, group), "{} outside {}", node.id, group.id);
    }
}

// The network overview ----------------------------------------------------------

#[test]
fn demo_view_folds_the_terminals() {
    let view = network_view(&demo());
    let terminals: Vec<_> = view.nodes.iter().filter(|n| n.count == 120).collect();
    assert_eq!(terminals.len(), 1, "three rows of 40 fold into one box");
    assert_eq!(view.groups.len(), 4);
    assert_eq!(view.externals.len(), 5);
    assert!(view.externals.iter().all(|e| e.via.is_some()));
}

#[test]
fn network_svg_parses_and_names_every_group_device_and_counterpart() {
    let view = network_view(&demo());
    let svg = network_svg(&view, "ja");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("IPAexGothic"), "Japanese font fallbacks");
    assert!(!svg.contains("style="), "no inline styles (CSP)");
    let (root, text) = parse(&svg);
    assert_eq!(root.name, "svg");
    for group in &view.groups {
        assert!(text.contains(&group.title), "group {}", group.title);
    }
    for node in &view.nodes {
        assert!(text.contains(&node.title), "node {}", node.title);
    }
    for external in &view.externals {
        assert!(
            text.contains(&external.counterpart),
            "{}",
            external.counterpart
        );
    }
    for expected in [
        "ネットワーク概要図",
        "院外",
        "院内",
        "×120",
        "② ネットワーク保守",
        "③ CT・MRI等検査機器の保守",
        "④ マイナカード関係",
        "常時接続",
        "必要時のみ",
        "インターネットVPN · FortiGate SSL-VPN",
        "管理者の知らない接続",
        "ベンダー所有",
        "常時リモート保守",
        "ネット公開",
        "保守VLAN",
        "Fortinet FortiGate 60F 7.0.12",
    ] {
        assert!(text.contains(expected), "{expected}");
    }
    // The unknown connection is drawn in the warning style, the others not.
    let rects: Vec<&Element> = root
        .all()
        .into_iter()
        .filter(|e| e.name == "rect" && e.attr("stroke") == Some("#c62828"))
        .collect();
    let warned: Vec<_> = rects
        .iter()
        .filter(|r| r.attr("fill") == Some("#fdecea") && r.attr("width") == Some("236"))
        .collect();
    assert_eq!(warned.len(), 1, "one external box in the warning style");
    // One line per link and per external connection.
    let lines = root
        .all()
        .into_iter()
        .filter(|e| e.name == "polyline")
        .count();
    assert_eq!(lines, view.edges.len() + view.externals.len());
}

#[test]
fn network_layout_keeps_boxes_apart_and_devices_in_their_segments() {
    let view = network_view(&demo());
    let scene = layout::network(&view, "ja");
    assert_no_overlaps(&scene);
    // The outside band is above the hospital: every external box is above
    // every group.
    let lowest_external = scene
        .cells
        .iter()
        .filter(|c| c.kind == CellKind::External)
        .map(|c| c.y + c.h)
        .fold(0.0, f64::max);
    let highest_group = scene
        .cells
        .iter()
        .filter(|c| c.kind == CellKind::Group)
        .map(|c| c.y)
        .fold(f64::INFINITY, f64::min);
    assert!(lowest_external < highest_group);
    assert!(scene.width > scene.height, "landscape");
}

#[test]
fn network_drawio_matches_the_view_exactly() {
    let view = network_view(&demo());
    let drawio = network_drawio(&view, "ja");
    assert!(drawio.starts_with("<mxfile"));
    let file = read_drawio(&drawio);
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for g in &view.groups {
        expected.insert(g.id.clone(), "1".into());
    }
    for n in &view.nodes {
        expected.insert(n.id.clone(), n.group.clone());
    }
    for x in &view.externals {
        expected.insert(x.id.clone(), "1".into());
    }
    assert_eq!(
        expected.len(),
        view.groups.len() + view.nodes.len() + view.externals.len()
    );
    assert_eq!(file.vertices, expected);
    let mut edges: Vec<(String, String)> = file
        .edges
        .iter()
        .map(|(_, s, t)| (s.clone(), t.clone()))
        .collect();
    let mut wanted: Vec<(String, String)> = view
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone()))
        .chain(
            view.externals
                .iter()
                .filter_map(|x| x.via.clone().map(|v| (x.id.clone(), v))),
        )
        .collect();
    edges.sort();
    wanted.sort();
    assert_eq!(edges, wanted);
    // Labels carry the whole text.
    let terminals = view.nodes.iter().find(|n| n.count == 120).unwrap();
    assert!(file.values[&terminals.id].contains("×120"));
    let unknown = view
        .externals
        .iter()
        .find(|x| x.known_to_administrator == Some(false))
        .unwrap();
    assert!(file.values[&unknown.id].contains("管理者の知らない接続"));
    assert!(file.values[&unknown.id].contains('\n'), "a line per fact");
}

#[test]
fn drawio_places_devices_relative_to_their_segment() {
    let view = network_view(&demo());
    let scene = layout::network(&view, "ja");
    let (root, _) = parse(&drawio::render(&scene));
    let geometry: BTreeMap<String, (f64, f64)> = root
        .all()
        .into_iter()
        .filter(|e| e.name == "mxCell" && e.attr("vertex") == Some("1"))
        .map(|e| {
            let g = &e.children[0];
            let n = |a: &str| g.attr(a).unwrap().parse::<f64>().unwrap();
            (e.attr("id").unwrap().to_owned(), (n("x"), n("y")))
        })
        .collect();
    for cell in &scene.cells {
        let (x, y) = geometry[&cell.id];
        let (px, py) = match &cell.parent {
            Some(p) => {
                let parent = scene.cells.iter().find(|c| &c.id == p).unwrap();
                (parent.x, parent.y)
            }
            None => (0.0, 0.0),
        };
        assert!((x + px - cell.x).abs() < 0.11, "{}", cell.id);
        assert!((y + py - cell.y).abs() < 0.11, "{}", cell.id);
    }
}

#[test]
fn network_mermaid_has_a_subgraph_per_group_and_an_arrow_per_edge() {
    let view = network_view(&demo());
    let text = network_mermaid(&view, "ja");
    assert!(text.contains("flowchart TB"));
    assert!(text.contains("title: ネットワーク概要図"));
    let subgraphs = text
        .lines()
        .filter(|l| l.trim_start().starts_with("subgraph "))
        .count();
    assert_eq!(subgraphs, view.groups.len());
    let ends = text.lines().filter(|l| l.trim() == "end").count();
    assert_eq!(ends, subgraphs);
    let arrows = text
        .lines()
        .filter(|l| {
            [" --- ", " -.- ", " ==> ", " ---|", " -.-|"]
                .iter()
                .any(|a| l.contains(a))
        })
        .count();
    let with_via = view.externals.iter().filter(|x| x.via.is_some()).count();
    assert_eq!(arrows, view.edges.len() + with_via);
    // Ids are plain ASCII words.
    for line in text
        .lines()
        .filter(|l| l.contains(" --- ") || l.contains(" ==> "))
    {
        for id in line
            .split_whitespace()
            .filter(|w| w.starts_with(['n', 'x']))
        {
            assert!(
                id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{id}"
            );
        }
    }
    assert!(text.contains("class x"), "external styles");
    assert!(text.contains(" warning"), "the unknown connection");
    assert!(text.contains("電子カルテ端末 ×120"));
}

#[test]
fn network_pdf_is_one_landscape_page_with_the_diagram_text() {
    let view = network_view(&demo());
    let pdf = network_pdf(&view, "ja").unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let pages = pdf_pages(&pdf);
    assert_eq!(pages.len(), 1);
    let (w, h) = pages[0];
    assert!(w > h, "landscape: {w} × {h}");
    assert!(w >= 841.0 && h >= 595.0, "A4 or larger: {w} × {h}");
    let text = pdf_text(&pdf);
    for expected in [
        "ネットワーク概要図",
        "電子カルテサーバ",
        "CTメーカー保守センター",
        "管理者の知らない接続",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
}

// The management structure ---------------------------------------------------------

#[test]
fn org_drawio_has_a_box_per_role_and_an_edge_per_reporting_line() {
    let view = org_view(&demo());
    assert_eq!(view.edges.len(), 4);
    let file = read_drawio(&org_drawio(&view, "ja"));
    let ids: BTreeSet<&str> = file.vertices.keys().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = view.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, wanted);
    assert!(file.vertices.values().all(|p| p == "1"));
    let mut edges: Vec<(String, String)> = file
        .edges
        .iter()
        .map(|(_, s, t)| (s.clone(), t.clone()))
        .collect();
    let mut lines: Vec<(String, String)> = view
        .edges
        .iter()
        .map(|e| (e.superior.clone(), e.subordinate.clone()))
        .collect();
    edges.sort();
    lines.sort();
    assert_eq!(edges, lines);
    assert!(file.values["r:R-3"].contains("情報システム室長"));
    assert!(file.values["r:R-3"].contains("緊急連絡 1"));
    assert!(file.values["r:R-3"].contains("r-3@example.jp"));
    assert!(file.values["r:R-4"].contains("電子カルテのサーバと端末"));
}

#[test]
fn org_chart_is_a_top_down_tree_with_outsiders_styled_apart() {
    let view = org_view(&demo());
    let scene = layout::org(&view, "ja");
    assert_no_overlaps(&scene);
    let cell = |id: &str| scene.cells.iter().find(|c| c.id == id).unwrap();
    for edge in &view.edges {
        let (up, down) = (cell(&edge.superior), cell(&edge.subordinate));
        assert!(down.y > up.y + up.h, "{} below {}", down.id, up.id);
    }
    // Roots side by side on the top row.
    let roots: Vec<&Cell> = view.roots().iter().map(|n| cell(&n.id)).collect();
    assert_eq!(roots.len(), 3);
    assert!(roots.iter().all(|r| r.y == roots[0].y));
    // Children of one role side by side, under it.
    let vendors = [cell("r:R-4"), cell("r:R-5")];
    assert_eq!(vendors[0].y, vendors[1].y);
    let admin = cell("r:R-3");
    let middle = (vendors[0].x + vendors[1].x + vendors[1].w) / 2.0;
    assert!((admin.x + admin.w / 2.0 - middle).abs() < 0.5);
    // Vendors and external bodies look different from the hospital's roles.
    assert_ne!(cell("r:R-4").fill, admin.fill);
    assert_ne!(cell("r:R-4").pen, admin.pen);
    assert_ne!(cell("r:R-6").fill, admin.fill);
    assert_ne!(cell("r:R-6").fill, cell("r:R-4").fill);
}

#[test]
fn org_svg_lists_the_incident_chain_in_order() {
    let view = org_view(&demo());
    let svg = org_svg(&view, "ja");
    let (_, text) = parse(&svg);
    assert!(text.contains("情報システム管理体制図"));
    assert!(text.contains("緊急連絡順"));
    for node in &view.nodes {
        assert!(text.contains(&node.title), "{}", node.title);
    }
    let chain = &text[text.find("緊急連絡順").unwrap()..];
    let at = |s: &str| {
        chain
            .find(s)
            .unwrap_or_else(|| panic!("{s} not in the chain"))
    };
    assert!(at("1.情報システム室長") < at("2.医療情報システム安全管理責任者"));
    assert!(at("2.医療情報") < at("3.病院長"));
    assert!(at("3.病院長") < at("4.ネットワーク保守"));
    assert!(at("4.ネットワーク保守") < at("5.厚生労働省"));
    assert!(text.contains("TEL 03-1234-5678"));
}

#[test]
fn org_mermaid_and_pdf() {
    let view = org_view(&demo());
    let text = org_mermaid(&view, "ja");
    assert!(text.contains("flowchart TB"));
    let arrows = text.lines().filter(|l| l.contains(" --> ")).count();
    assert_eq!(arrows, view.edges.len());
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("class ") && l.contains(" vendor"))
            .count(),
        2
    );
    assert!(text.contains("1. 情報システム室長"));
    let pdf = org_pdf(&view, "ja").unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(pdf_pages(&pdf).len(), 1);
    let text = pdf_text(&pdf);
    assert!(text.contains("情報システム管理体制図"), "{text}");
    assert!(text.contains("緊急連絡順"));
}

#[test]
fn a_circle_of_reporting_lines_still_draws_every_role_once() {
    let node = |id: &str| OrgNode {
        id: id.to_owned(),
        key: key(id.trim_start_matches("r:")),
        kind: StructureRoleKind::Other,
        title: id.to_owned(),
        person: String::new(),
        organisation: String::new(),
        business_phone: String::new(),
        business_email: String::new(),
        responsibilities: String::new(),
        incident_order: None,
        outside: false,
    };
    let edge = |a: &str, b: &str| OrgEdge {
        superior: a.to_owned(),
        subordinate: b.to_owned(),
    };
    let view = OrgView {
        nodes: vec![node("r:A"), node("r:B"), node("r:C")],
        edges: vec![edge("r:A", "r:B"), edge("r:B", "r:A"), edge("r:B", "r:C")],
        incident_chain: vec!["r:missing".into()],
    };
    let scene = layout::org(&view, "en");
    assert_eq!(scene.cells.len(), 3);
    assert_no_overlaps(&scene);
    parse(&org_svg(&view, "en"));
    let file = read_drawio(&org_drawio(&view, "en"));
    assert_eq!(file.vertices.len(), 3);
}

// Escaping, languages, size ------------------------------------------------------------

#[test]
fn markup_in_names_round_trips_through_svg_drawio_and_mermaid() {
    let mut ledger = demo();
    ledger.assets[1].name = "<A&B>".into();
    ledger.segments[0].name = "\"医療系\" & <LAN>".into();
    ledger.connections[0].counterpart = "a'b\"c</text><script>".into();
    ledger.assets[2].name = "制御\u{1}文字\n改行".into();
    let view = network_view(&ledger);

    let svg = network_svg(&view, "ja");
    assert!(!svg.contains("<A&B>") && !svg.contains("<script>"));
    let (root, text) = parse(&svg);
    assert!(text.contains("<A&B>"));
    assert!(text.contains("\"医療系\" & <LAN>"));
    assert!(text.contains("a'b\"c</text><script>"));
    assert!(text.contains("制御文字 改行"));
    assert!(!root.all().iter().any(|e| e.name == "script"));

    let drawio = network_drawio(&view, "ja");
    assert!(!drawio.contains("<A&B>"));
    let file = read_drawio(&drawio);
    assert!(file.values["a:FW-01"].starts_with("<A&B>\n"));
    assert!(file.values["s:SEG-MED"].starts_with("\"医療系\" & <LAN>"));
    assert!(file.values["x:C-01"].contains("a'b\"c</text><script>"));
    assert!(file.values["a:RT-ONS"].starts_with("制御文字 改行"));

    let mermaid = network_mermaid(&view, "ja");
    assert!(mermaid.contains("#lt;A#amp;B#gt;"));
    assert!(mermaid.contains("#quot;医療系#quot;"));
    for line in mermaid.lines().filter(|l| l.contains('[')) {
        let inside = &line[line.find('[').unwrap() + 1..line.rfind(']').unwrap()];
        assert!(inside.starts_with('"') && inside.ends_with('"'), "{line}");
        assert_eq!(inside.matches('"').count(), 2, "{line}");
    }

    let pdf = network_pdf(&view, "ja").unwrap();
    assert!(pdf_text(&pdf).contains("<A&B>"));
}

#[test]
fn english_words_and_the_unassigned_group() {
    let mut ledger = demo();
    ledger
        .assets
        .push(asset("X-1", AssetKind::Other, "迷子の機器", None));
    let view = network_view(&ledger);
    let (_, ja) = parse(&network_svg(&view, "ja"));
    assert!(ja.contains("セグメント未登録"));
    let (_, en) = parse(&network_svg(&view, "en"));
    for expected in [
        "Network overview",
        "No segment recorded",
        "Outside the hospital",
        "Not known to the administrator",
        "always on",
        "on demand",
        "VPN gateway",
        "② network maintenance",
    ] {
        assert!(en.contains(expected), "{expected}");
    }
    assert!(!en.contains("セグメント未登録"));
    assert!(!en.contains("院外"));
    let drawio = read_drawio(&network_drawio(&view, "en"));
    assert!(drawio.values["s:"].starts_with("No segment recorded"));
    let (root, _) = parse(&network_drawio(&view, "en"));
    assert_eq!(root.children[0].attr("name"), Some("Network overview"));

    let org = org_view(&ledger);
    let (_, en) = parse(&org_svg(&org, "en"));
    for expected in ["Management structure", "Incident contact order", "vendor"] {
        assert!(en.contains(expected), "{expected}");
    }
    let (_, ja) = parse(&org_svg(&org, "ja"));
    assert!(ja.contains("情報システム管理体制図"));
    assert!(ja.contains("緊急連絡順"));
}

#[test]
fn empty_views_still_draw() {
    let network = NetworkView::default();
    let (_, text) = parse(&network_svg(&network, "ja"));
    assert!(text.contains("外部接続の記録なし"));
    assert!(text.contains("機器の記録なし"));
    let file = read_drawio(&network_drawio(&network, "ja"));
    assert!(file.vertices.is_empty() && file.edges.is_empty());
    assert_eq!(pdf_pages(&network_pdf(&network, "ja").unwrap()).len(), 1);
    assert!(network_mermaid(&network, "ja").contains("flowchart TB"));

    let org = OrgView::default();
    let (_, text) = parse(&org_svg(&org, "ja"));
    assert!(text.contains("管理体制の記録なし"));
    assert!(text.contains("緊急連絡順の記録なし"));
    assert!(read_drawio(&org_drawio(&org, "ja")).vertices.is_empty());
    assert_eq!(pdf_pages(&org_pdf(&org, "ja").unwrap()).len(), 1);
}

/// 300 assets over 8 segments: servers and devices one box each, terminals
/// in a few models that fold.
fn large() -> Ledger {
    let mut ledger = Ledger::default();
    let kinds = [
        SegmentKind::Clinical,
        SegmentKind::Administrative,
        SegmentKind::Maintenance,
        SegmentKind::Dmz,
        SegmentKind::Guest,
        SegmentKind::InternalLan,
        SegmentKind::Other,
        SegmentKind::Clinical,
    ];
    for (i, kind) in kinds.iter().enumerate() {
        ledger.segments.push(segment(
            &format!("SEG-{i}"),
            &format!("セグメント{i}"),
            *kind,
            &format!("10.{i}.0.0/16"),
        ));
    }
    for i in 0..300 {
        let segment = format!("SEG-{}", i % 8);
        let kind = match i % 10 {
            0..=4 => AssetKind::Terminal,
            5 | 6 => AssetKind::Server,
            7 => AssetKind::Switch,
            8 => AssetKind::MedicalDevice,
            _ => AssetKind::Router,
        };
        let mut a = asset(
            &format!("A-{i:03}"),
            kind,
            &format!("機器{i:03} とても長い名前の医療情報システム用サーバ"),
            Some(&segment),
        );
        a.vendor = "Vendor".into();
        a.model = if kind == AssetKind::Terminal {
            format!("PC-{}", i % 3)
        } else {
            format!("M-{i}")
        };
        a.owner = if i % 7 == 0 {
            Owner::Vendor
        } else {
            Owner::Hospital
        };
        a.remote_maintenance = if i % 11 == 0 {
            RemoteMaintenance::AlwaysOn
        } else {
            RemoteMaintenance::None
        };
        a.internet_exposed = Some(i % 13 == 0);
        ledger.assets.push(a);
    }
    for i in 1..300 {
        ledger.links.push(link(
            &format!("L-{i}"),
            &format!("A-{:03}", i - 1),
            &format!("A-{i:03}"),
            LinkMedium::Wired,
            "",
        ));
    }
    for i in 0..12 {
        ledger.connections.push(connection(
            &format!("C-{i}"),
            ConnectionCategory::ALL[i % 8],
            &format!("接続先{i}"),
            ConnectionMethod::InternetVpn,
            "",
            Some(&format!("A-{:03}", i * 20 + 9)),
            Availability::OnDemand,
            Some(i % 4 != 0),
        ));
    }
    ledger
}

#[test]
fn three_hundred_assets_stay_readable() {
    let ledger = large();
    assert_eq!(ledger.assets.len(), 300);
    let view = network_view(&ledger);
    assert_eq!(view.groups.len(), 8);
    assert!(view.nodes.len() > 150, "{} boxes", view.nodes.len());
    let scene = layout::network(&view, "ja");
    assert_no_overlaps(&scene);
    assert_eq!(
        scene
            .cells
            .iter()
            .filter(|c| c.kind == CellKind::Node)
            .count(),
        view.nodes.len()
    );
    // Groups wrap into rows rather than one long strip.
    let tops: BTreeSet<i64> = scene
        .cells
        .iter()
        .filter(|c| c.kind == CellKind::Group)
        .map(|c| c.y as i64)
        .collect();
    assert!(tops.len() > 1, "groups in more than one row");
    let svg = network_svg(&view, "ja");
    let (w, h) = svg_size(&svg);
    assert!(w <= 5000.0 && h <= 5000.0, "{w} × {h}");
    assert!(w >= h * 0.8, "not a tall strip: {w} × {h}");
    // Everything on one page, readable.
    let (page_w, page_h, scale) = pdf::page(&scene);
    assert!(page_w >= page_h);
    assert!(scale >= 0.45 - 1e-9, "scale {scale}");
    let pdf = network_pdf(&view, "ja").unwrap();
    assert_eq!(pdf_pages(&pdf).len(), 1);
    // Long names are shortened inside their boxes, whole in the tooltip.
    assert!(svg.contains('…'));
}

#[test]
fn every_group_row_width_is_tried_for_a_landscape_page() {
    // Eight equal groups: one row is too wide, one column too tall.
    let sizes = vec![(300.0, 200.0); 8];
    let (places, w, h) = layout_shelves(&sizes);
    assert_eq!(places.len(), 8);
    assert!(w / h > 1.0 && w / h < 3.0, "{w} × {h}");
    for (i, a) in places.iter().enumerate() {
        for b in &places[i + 1..] {
            let apart = (a.0 - b.0).abs() >= 300.0 || (a.1 - b.1).abs() >= 200.0;
            assert!(apart, "{a:?} {b:?}");
        }
    }
}

fn layout_shelves(sizes: &[(f64, f64)]) -> (Vec<(f64, f64)>, f64, f64) {
    layout::best_shelves(sizes, 24.0, |w, h| (w, h))
}

#[test]
fn the_pdf_font_draws_the_category_numbers() {
    let face = ttf_parser::Face::parse(include_bytes!("../../fonts/ipaexm.ttf"), 0).unwrap();
    for c in ['①', '②', '③', '④', '⑤', '⑥', '⑦', '⑧', '×', '…', '·'] {
        assert!(face.glyph_index(c).is_some(), "{c}");
    }
}
