use super::*;
use std::collections::BTreeMap;

fn key(k: &str) -> LedgerKey {
    LedgerKey::parse(k).expect("key")
}

fn row<R: RowRecord>(pairs: &[(&str, &str)]) -> Result<R, Vec<CellProblem>> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    R::from_cells(&Cells::from_map::<R>(&map))
}

fn asset(k: &str, kind: &str, segment: &str) -> Asset {
    row::<Asset>(&[
        ("key", k),
        ("kind", kind),
        ("name", k),
        ("segment", segment),
    ])
    .expect("asset")
}

fn segment(k: &str) -> Segment {
    row::<Segment>(&[("key", k), ("name", k), ("kind", "医療系")]).expect("segment")
}

#[test]
fn keys_are_trimmed_and_refuse_slashes_and_blanks() {
    assert_eq!(key(" SV-01 ").as_str(), "SV-01");
    assert!(LedgerKey::parse("").is_err());
    assert!(LedgerKey::parse("a/b").is_err());
    assert!(LedgerKey::parse(&"x".repeat(MAX_KEY_CHARS + 1)).is_err());
}

#[test]
fn labels_are_read_in_japanese_english_slug_and_full_width() {
    assert_eq!(AssetKind::from_text("VPN装置"), Ok(AssetKind::VpnGateway));
    assert_eq!(
        AssetKind::from_text("ＶＰＮ装置"),
        Ok(AssetKind::VpnGateway)
    );
    assert_eq!(
        AssetKind::from_text("VPN gateway"),
        Ok(AssetKind::VpnGateway)
    );
    assert_eq!(
        AssetKind::from_text("vpn-gateway"),
        Ok(AssetKind::VpnGateway)
    );
    assert_eq!(
        ConnectionCategory::from_text("CT・MRI等検査機器の保守"),
        Ok(ConnectionCategory::ModalityMaintenance)
    );
    assert_eq!(ConnectionCategory::RemoteReading.number(), 6);
    let err = SegmentKind::from_text("研究用").expect_err("unknown");
    assert!(err.to_string().contains("医療系"), "{err}");
}

#[test]
fn an_asset_row_is_read_with_every_field() {
    let a = row::<Asset>(&[
        ("key", "FW-01"),
        ("kind", "VPN装置"),
        ("name", "保守用VPN"),
        ("vendor", "Fortinet"),
        ("product", "FortiGate"),
        ("model", "60F"),
        ("version", "7.0.12"),
        (
            "cpes",
            "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*\ncpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*",
        ),
        ("quantity", "1"),
        ("owner", "ベンダー"),
        ("remote_maintenance", "常時接続"),
        ("end_of_support", "2026/03/31"),
        ("internet_exposed", "はい"),
    ])
    .expect("valid");
    assert_eq!(a.kind, AssetKind::VpnGateway);
    assert_eq!(a.owner, Owner::Vendor);
    assert_eq!(a.remote_maintenance, RemoteMaintenance::AlwaysOn);
    assert_eq!(a.cpes.len(), 1, "a repeated CPE is kept once");
    assert_eq!(
        a.end_of_support.map(|d| d.to_string()).as_deref(),
        Some("2026-03-31")
    );
    assert_eq!(a.internet_exposed, Some(true));
    assert_eq!(a.cpe_names().len(), 1);
    // Defaults for what was not given.
    let b = asset("PC-1", "端末", "");
    assert_eq!((b.quantity, b.owner), (1, Owner::Hospital));
    assert_eq!(b.remote_maintenance, RemoteMaintenance::None);
    assert_eq!(b.internet_exposed, None);
}

#[test]
fn a_bad_row_names_every_field_that_is_wrong() {
    let problems = row::<Asset>(&[
        ("key", ""),
        ("kind", "冷蔵庫"),
        ("name", "x"),
        ("cpes", "cpe:2.3:a:broken"),
        ("quantity", "0"),
        ("end_of_support", "31/03/2026"),
        ("internet_exposed", "たぶん"),
        ("address", "10.0.0.1 10.0.0.2"),
    ])
    .expect_err("invalid");
    let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "key",
            "kind",
            "cpes",
            "quantity",
            "address",
            "end_of_support",
            "internet_exposed"
        ]
    );
    assert!(problems[1].reason.contains("冷蔵庫"), "{:?}", problems[1]);
    assert!(
        problems[2].reason.contains("cpe:2.3:a:broken"),
        "{:?}",
        problems[2]
    );
}

#[test]
fn records_round_trip_through_their_cells_and_checked_normalises() {
    let a = row::<Asset>(&[
        ("key", "SV-1"),
        ("kind", "server"),
        ("name", "電子カルテサーバ"),
        (
            "cpes",
            "cpe:2.3:o:Microsoft:Windows_Server_2019:-:*:*:*:*:*:*:*",
        ),
        ("internet_exposed", "no"),
        ("end_of_support", "2029-01-09"),
    ])
    .expect("valid");
    assert_eq!(a.checked(), Ok(a.clone()));
    let back = Asset::from_cells(&Cells::from_pairs(
        Asset::COLUMNS
            .iter()
            .map(|c| c.field)
            .zip(a.to_cells().iter().map(String::as_str)),
    ));
    assert_eq!(back, Ok(a));
    let c = row::<ExternalConnection>(&[
        ("key", "EX-1"),
        ("category", "遠隔読影"),
        ("counterpart", "読影センター"),
        ("method", "IP-VPN"),
        ("logged", "×"),
    ])
    .expect("valid");
    assert_eq!(c.availability, Availability::Unknown);
    assert_eq!(c.logged, Some(false));
    let unknown = row::<ExternalConnection>(&[
        ("key", "EX-2"),
        ("category", "遠隔読影"),
        ("counterpart", "読影センター"),
        ("method", "IP-VPN"),
        ("logged", "不明"),
    ])
    .expect("不明 is an answer");
    assert_eq!(unknown.logged, None);
    assert_eq!(c.checked(), Ok(c.clone()));
    let mut bad = c.clone();
    bad.counterpart = String::new();
    assert_eq!(
        bad.checked().expect_err("blank").first().map(|p| p.field),
        Some("counterpart")
    );
}

#[test]
fn structure_roles_keep_business_contacts_only_in_a_valid_shape() {
    let problems = row::<StructureRole>(&[
        ("key", "R1"),
        ("kind", "システム管理者"),
        ("title", "情報システム室長"),
        ("business_phone", "call me"),
        ("business_email", "not-an-address"),
    ])
    .expect_err("invalid");
    let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
    assert_eq!(fields, ["business_phone", "business_email"]);
    let ok = row::<StructureRole>(&[
        ("key", "R1"),
        ("kind", "system-administrator"),
        ("title", "情報システム室長"),
        ("business_phone", "03-1234-5678 内線 210"),
        ("business_email", "IT@Hospital.example.jp"),
    ])
    .expect("valid");
    assert_eq!(ok.business_email, "it@hospital.example.jp");
}

#[test]
fn references_that_do_not_resolve_are_named() {
    let mut ledger = Ledger {
        segments: vec![segment("MED")],
        assets: vec![
            asset("SYS", "システム", ""),
            asset("SV", "サーバ", "MED"),
            asset("PC", "端末", "NOPE"),
        ],
        ..Ledger::default()
    };
    ledger.assets[1].system = Some(key("SYS"));
    ledger.assets[2].system = Some(key("SV"));
    ledger.links.push(Link {
        key: key("L1"),
        from: key("SV"),
        to: key("SV"),
        medium: LinkMedium::Wired,
        label: String::new(),
        notes: String::new(),
    });
    let problems: Vec<(String, &str)> = ledger
        .reference_problems()
        .iter()
        .map(|p| (p.key.to_string(), p.field))
        .collect();
    assert_eq!(
        problems,
        [
            ("PC".to_string(), "segment"),
            ("PC".to_string(), "system"),
            ("L1".to_string(), "to"),
        ]
    );
}

#[test]
fn a_reporting_circle_is_a_problem_and_is_left_out_of_the_chart() {
    let role = |k: &str, up: Option<&str>, order: Option<u32>| StructureRole {
        key: key(k),
        kind: StructureRoleKind::Other,
        title: k.into(),
        person: String::new(),
        organisation: String::new(),
        business_phone: String::new(),
        business_email: String::new(),
        reports_to: up.map(key),
        responsibilities: String::new(),
        incident_order: order,
        notes: String::new(),
    };
    let ledger = Ledger {
        roles: vec![
            role("HEAD", None, Some(2)),
            role("ADMIN", Some("HEAD"), Some(1)),
            role("A", Some("B"), None),
            role("B", Some("A"), Some(3)),
        ],
        ..Ledger::default()
    };
    let circles: Vec<String> = ledger
        .reference_problems()
        .iter()
        .map(|p| p.key.to_string())
        .collect();
    assert_eq!(circles, ["A", "B"]);
    let chart = org_view(&ledger);
    assert_eq!(chart.edges.len(), 1);
    assert_eq!(chart.roots().len(), 3);
    assert_eq!(chart.children("r:HEAD").len(), 1);
    assert_eq!(chart.incident_chain, ["r:ADMIN", "r:HEAD", "r:B"]);
}

fn rows(data: &[&[&str]]) -> Vec<(u32, Vec<String>)> {
    data.iter()
        .enumerate()
        .map(|(i, r)| (i as u32 + 2, r.iter().map(|c| c.to_string()).collect()))
        .collect()
}

#[test]
fn a_column_mapping_is_inferred_from_japanese_or_english_headers_and_can_be_changed() {
    let headers: Vec<String> = ["資産番号", "Kind", "名称", "メモ", "ネットワークセグメント"]
        .map(String::from)
        .to_vec();
    let mapping = ColumnMapping::infer(&headers, Asset::COLUMNS);
    assert_eq!(
        mapping.fields,
        [
            Some("key"),
            Some("kind"),
            Some("name"),
            None,
            Some("segment")
        ]
    );
    assert!(mapping.missing_required(Asset::COLUMNS).is_empty());
    let changed = mapping
        .clone()
        .with_choices(Asset::COLUMNS, &[(3, "notes".into())])
        .expect("valid");
    assert_eq!(changed.fields[3], Some("notes"));
    assert!(
        mapping
            .clone()
            .with_choices(Asset::COLUMNS, &[(3, "name".into())])
            .is_err(),
        "two columns for one field"
    );
    assert!(
        mapping
            .with_choices(Asset::COLUMNS, &[(9, "notes".into())])
            .is_err()
    );
    let partial = ColumnMapping::infer(&["名称".to_string()], Asset::COLUMNS);
    let missing: Vec<&str> = partial
        .missing_required(Asset::COLUMNS)
        .iter()
        .map(|c| c.field)
        .collect();
    assert_eq!(missing, ["key", "kind"]);
}

#[test]
fn an_import_plan_names_bad_rows_by_row_and_column_and_reimport_changes_nothing() {
    let headers: Vec<String> = ["資産番号", "種別", "名称", "ネットワークセグメント"]
        .map(String::from)
        .to_vec();
    let mapping = ColumnMapping::infer(&headers, Asset::COLUMNS);
    let current = Ledger {
        segments: vec![segment("MED")],
        ..Ledger::default()
    };
    let data = rows(&[
        &["SV-1", "サーバ", "電子カルテサーバ", "MED"],
        &["", "", "", ""],
        &["SV-2", "サーバ", "PACS", "UNKNOWN"],
        &["SV-1", "サーバ", "again", "MED"],
        &["PC-1", "冷蔵庫", "端末", "MED"],
    ]);
    let plan = plan_import::<Asset>(&mapping, &data, &current);
    assert_eq!(plan.accepted.len(), 1);
    let rejected: Vec<(u32, Option<usize>, &str)> = plan
        .rejected
        .iter()
        .map(|r| (r.row, r.column, r.field))
        .collect();
    assert_eq!(
        rejected,
        [
            (4, Some(3), "segment"),
            (5, Some(0), "key"),
            (6, Some(1), "kind")
        ]
    );
    assert_eq!(plan.rejected_rows(), 3);
    assert!(plan.rejected[0].reason.contains("UNKNOWN"));
    assert!(plan.rejected[1].reason.contains("row 2"));
    assert_eq!((plan.updates, plan.unchanged), (0, 0));

    // Imported once, the same file again updates in place and changes nothing.
    let mut after = current.clone();
    upsert(
        &mut after.assets,
        plan.accepted.into_iter().map(|(_, a)| a).collect(),
    );
    let again = plan_import::<Asset>(
        &mapping,
        &rows(&[&["SV-1", "サーバ", "電子カルテサーバ", "MED"]]),
        &after,
    );
    assert_eq!(
        (again.accepted.len(), again.updates, again.unchanged),
        (1, 1, 1)
    );
    // A segment created by the same import resolves.
    let seg_mapping = ColumnMapping::infer(
        &["セグメント番号", "名称", "種別"].map(String::from),
        Segment::COLUMNS,
    );
    let seg_plan = plan_import::<Segment>(&seg_mapping, &rows(&[&["DMZ", "DMZ", "DMZ"]]), &after);
    assert!(seg_plan.rejected.is_empty());
}

#[test]
fn identical_terminals_fold_into_one_box_with_their_count() {
    let mut ledger = Ledger {
        segments: vec![segment("MED"), segment("ADM")],
        ..Ledger::default()
    };
    ledger.assets.push(asset("SYS", "システム", ""));
    ledger.assets.push(asset("SW", "スイッチ", "MED"));
    for i in 0..3 {
        let mut pc = asset(&format!("PC-{i}"), "端末", "MED");
        pc.vendor = "NEC".into();
        pc.product = "Mate".into();
        pc.quantity = 40;
        pc.system = Some(key("SYS"));
        ledger.assets.push(pc);
    }
    let mut other = asset("PC-X", "端末", "ADM");
    other.vendor = "NEC".into();
    other.product = "Mate".into();
    ledger.assets.push(other);
    ledger.assets.push(asset("LOOSE", "サーバ", ""));
    for (i, pc) in ["PC-0", "PC-1", "PC-2"].iter().enumerate() {
        ledger.links.push(Link {
            key: key(&format!("L{i}")),
            from: key("SW"),
            to: key(pc),
            medium: LinkMedium::Wired,
            label: String::new(),
            notes: String::new(),
        });
    }
    ledger.connections.push(ExternalConnection {
        key: key("EX"),
        category: ConnectionCategory::NetworkMaintenance,
        counterpart: "保守会社".into(),
        purpose: String::new(),
        method: ConnectionMethod::InternetVpn,
        method_detail: String::new(),
        boundary_device: Some(key("SW")),
        availability: Availability::AlwaysOn,
        session_approver: String::new(),
        logged: None,
        known_to_administrator: Some(false),
        notes: String::new(),
    });
    let view = network_view(&ledger);
    let titles: Vec<(&str, u32)> = view
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.count))
        .collect();
    assert_eq!(
        titles,
        [("a:SW", 1), ("a:PC-0", 120), ("a:PC-X", 1), ("a:LOOSE", 1)]
    );
    assert_eq!(view.nodes[1].keys.len(), 3);
    assert_eq!(view.nodes[1].system, "SYS");
    assert_eq!(
        view.edges.len(),
        1,
        "three links to folded terminals are one"
    );
    let groups: Vec<&str> = view.groups.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(groups, ["s:MED", "s:ADM", "s:"]);
    assert_eq!(view.externals[0].via.as_deref(), Some("a:SW"));
}

fn check_columns<R: RowRecord>() {
    let columns = R::COLUMNS;
    assert_eq!(columns[0].field, "key");
    assert!(columns[0].required);
    let mut fields: Vec<&str> = columns.iter().map(|c| c.field).collect();
    fields.sort();
    fields.dedup();
    assert_eq!(fields.len(), columns.len(), "fields are unique");
    for c in columns {
        assert!(!c.ja.contains(".input("), "a header holds code: {}", c.ja);
        assert!(!c.en.contains(".input("), "a header holds code: {}", c.en);
    }
    let rpo = Backup::COLUMNS.iter().find(|c| c.field == "rpo_hours");
    assert!(rpo.is_none_or(|c| c.en == "RPO (hours)" && c.input == Input::Number));
    // Every choice a form offers reads back through its label.
    for c in columns {
        if let Input::Choice(choices) = c.input {
            for choice in choices {
                let map: BTreeMap<String, String> = [(c.field.to_string(), choice.ja.to_string())]
                    .into_iter()
                    .collect();
                let problems = R::from_cells(&Cells::from_map::<R>(&map))
                    .err()
                    .unwrap_or_default();
                assert!(
                    problems.iter().all(|p| p.field != c.field),
                    "{} {}: {problems:?}",
                    c.field,
                    choice.ja
                );
            }
        }
    }
}

#[test]
fn every_column_table_starts_with_its_key_and_offers_readable_choices() {
    check_columns::<Asset>();
    check_columns::<DeviceModel>();
    check_columns::<Segment>();
    check_columns::<Link>();
    check_columns::<ExternalConnection>();
    check_columns::<InvestigationEntry>();
    check_columns::<Backup>();
    check_columns::<StructureRole>();
    assert_eq!(AssetKind::CHOICES.len(), AssetKind::ALL.len());
    let kinds: Vec<Input> = Asset::COLUMNS.iter().map(|c| c.input).collect();
    assert!(kinds.contains(&Input::Reference(RecordKind::Segment)));
    assert!(kinds.contains(&Input::Catalogue));
}

fn table<'a>(
    name: &str,
    kind: RecordKind,
    headers: &[&str],
    rows: &'a [(u32, Vec<String>)],
) -> TableInput<'a> {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let columns = match kind {
        RecordKind::Asset => Asset::COLUMNS,
        RecordKind::Segment => Segment::COLUMNS,
        RecordKind::Link => Link::COLUMNS,
        _ => unreachable!("not used here"),
    };
    TableInput {
        name: name.into(),
        kind,
        mapping: ColumnMapping::infer(&headers, columns),
        rows,
    }
}

#[test]
fn a_whole_upload_resolves_references_between_its_sheets_and_rejects_in_cascade() {
    let segment_rows = rows(&[&["MED", "医療系LAN", "医療系"], &["BAD", "", "医療系"]]);
    let asset_rows = rows(&[
        &["SW", "スイッチ", "コアスイッチ", "MED"],
        &["PC", "端末", "受付PC", "BAD"],
        &["SV", "サーバ", "電子カルテ", "MED"],
    ]);
    let link_rows = rows(&[&["L1", "SW", "SV"], &["L2", "SW", "PC"]]);
    let inputs = [
        table(
            "セグメント",
            RecordKind::Segment,
            &["セグメント番号", "名称", "種別"],
            &segment_rows,
        ),
        table(
            "資産",
            RecordKind::Asset,
            &["資産番号", "種別", "名称", "ネットワークセグメント"],
            &asset_rows,
        ),
        table(
            "機器間接続",
            RecordKind::Link,
            &["接続番号", "接続元", "接続先"],
            &link_rows,
        ),
    ];
    let plan = plan_ledger_import(&inputs, &Ledger::default());
    type Summary<'a> = Vec<(RecordKind, usize, Vec<(u32, &'a str)>)>;
    let summary: Summary = plan
        .tables
        .iter()
        .map(|t| {
            (
                t.kind,
                t.accepted,
                t.rejected.iter().map(|r| (r.row, r.field)).collect(),
            )
        })
        .collect();
    // The blank segment name fails; the PC in it fails; the link to the PC fails.
    assert_eq!(
        summary,
        [
            (RecordKind::Segment, 1, vec![(3, "name")]),
            (RecordKind::Asset, 2, vec![(3, "segment")]),
            (RecordKind::Link, 1, vec![(3, "to")]),
        ]
    );
    assert_eq!(plan.rejected_rows(), 3);
    assert_eq!(plan.changes(), 4);
    assert!(merged_ok(&plan.incoming));

    // Imported, the same upload again changes nothing.
    let again = plan_ledger_import(&inputs, &plan.incoming);
    let counts: Vec<(usize, usize, usize)> = again
        .tables
        .iter()
        .map(|t| (t.created, t.updated, t.unchanged))
        .collect();
    assert_eq!(counts, [(0, 0, 1), (0, 0, 2), (0, 0, 1)]);
    assert_eq!(again.changes(), 0);
}

fn merged_ok(ledger: &Ledger) -> bool {
    ledger.reference_problems().is_empty()
}

#[test]
fn a_key_in_two_tables_of_one_upload_is_rejected_the_second_time() {
    let first = rows(&[&["SV", "サーバ", "a"]]);
    let second = rows(&[&["SV", "サーバ", "b"]]);
    let headers = ["資産番号", "種別", "名称"];
    let inputs = [
        table("A", RecordKind::Asset, &headers, &first),
        table("B", RecordKind::Asset, &headers, &second),
    ];
    let plan = plan_ledger_import(&inputs, &Ledger::default());
    assert_eq!(plan.tables[0].accepted, 1);
    assert_eq!(plan.tables[1].rejected_rows(), 1);
    assert!(plan.tables[1].rejected[0].reason.contains("row 2"));
}

#[test]
fn any_record_reads_a_form_of_any_kind_and_finds_records_by_key() {
    let map: BTreeMap<String, String> = [
        ("key", "EX-9"),
        ("category", "遠隔読影"),
        ("counterpart", "読影センター"),
        ("method", "IP-VPN"),
        ("unrelated", "x"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let record = AnyRecord::from_map(RecordKind::Connection, &map).expect("valid");
    assert_eq!(
        (record.kind(), record.key().as_str()),
        (RecordKind::Connection, "EX-9")
    );
    assert_eq!(
        record.to_cells().len(),
        RecordKind::Connection.columns().len()
    );
    let problems = AnyRecord::from_map(RecordKind::Asset, &map).expect_err("not an asset");
    assert!(problems.iter().any(|p| p.field == "kind"));
    let ledger = Ledger {
        connections: match record {
            AnyRecord::Connection(c) => vec![c],
            _ => unreachable!(),
        },
        ..Ledger::default()
    };
    assert_eq!(ledger.count(RecordKind::Connection), 1);
    assert!(
        ledger
            .record(RecordKind::Connection, &key("EX-9"))
            .is_some()
    );
    assert!(ledger.record(RecordKind::Asset, &key("EX-9")).is_none());
}

#[test]
fn checklist_items_about_the_ledger_get_its_evidence() {
    use crate::checklist::builtin::builtin_frameworks;
    let r6 = builtin_frameworks()
        .expect("shipped frameworks parse")
        .into_iter()
        .find(|f| f.key == "mhlw-r6")
        .expect("R6 ships");
    let form = r6.form("hospital").expect("hospital form");
    let item = |words: &str| {
        form.items()
            .find(|i| i.text_ja.contains(words))
            .unwrap_or_else(|| panic!("an item about {words}"))
            .clone()
    };
    let mut ledger = Ledger::default();
    let mut pcs = asset("PC", "端末", "");
    pcs.quantity = 40;
    let mut vpn = asset("VPN", "VPN装置", "");
    vpn.remote_maintenance = RemoteMaintenance::AlwaysOn;
    ledger.assets = vec![asset("SV", "サーバ", ""), pcs, vpn];
    let inventory = evidence_for(&item("台帳管理"), &ledger);
    assert_eq!(inventory.len(), 1);
    assert!(
        inventory[0].ja.contains("サーバ 1台") && inventory[0].ja.contains("端末PC 40台"),
        "{}",
        inventory[0].ja
    );
    assert!(inventory[0].text("en").contains("40 PCs"));
    let remote = evidence_for(&item("リモートメンテナンス"), &ledger);
    assert_eq!(remote.len(), 2);
    assert!(remote[0].ja.contains("常時接続 1"), "{}", remote[0].ja);
    assert!(
        evidence_for(&item("連絡体制"), &ledger)[0]
            .ja
            .contains("0 名")
    );
    assert_eq!(
        evidence_for(&item("バックアップ"), &ledger)[0].kind,
        RecordKind::Backup
    );
    // An item the ledger says nothing about gets nothing.
    assert!(evidence_for(&item("接続元制限"), &ledger).is_empty());
}
