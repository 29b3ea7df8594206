use super::*;
use mamori_domain::ledger::{
    Asset, Backup, ColumnMapping, ExternalConnection, ImportPlan, InvestigationEntry, LedgerRecord,
    Link, Segment, StructureRole, plan_import,
};

fn sample_ledger() -> Ledger {
    let segments = "セグメント番号,名称,種別,アドレス範囲・VLAN\nMED,医療系LAN,医療系,10.1.0.0/16\nMNT,保守用,保守用,\n";
    let assets = "資産番号,種別,名称,メーカー,製品名,バージョン・ファームウェア,CPE,台数,ネットワークセグメント,所有者,リモート保守,サポート終了日,インターネットに公開\n\
        SYS-EMR,システム,電子カルテ,,,,,,,,,,\n\
        FW-1,VPN装置,保守用VPN,Fortinet,FortiGate 60F,7.0.12,cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*,1,MNT,ベンダー,常時接続,2027-03-31,はい\n\
        PC-1,端末,\"=HYPERLINK(\"\"x\"\")\",NEC,Mate,,,40,MED,病院,なし,,\n";
    let mut ledger = Ledger::default();
    ledger.segments = import_all::<Segment>(segments.as_bytes(), &ledger);
    ledger.assets = import_all::<Asset>(assets.as_bytes(), &ledger);
    ledger.connections = import_all::<ExternalConnection>(
        "接続番号,分類,接続先,接続方法,境界機器,接続形態,管理者の把握\nEX-1,ネットワーク保守,保守会社,インターネットVPN,FW-1,常時接続,いいえ\n".as_bytes(),
        &ledger,
    );
    ledger.investigations = import_all::<InvestigationEntry>(
        "履歴番号,接続番号,調査日,情報源,調査結果\nI-1,EX-1,2026/11/20,院内巡回,\"保守用VPN装置を確認\n管理者は未把握\"\n".as_bytes(),
        &ledger,
    );
    ledger.backups = import_all::<Backup>(
        "バックアップ番号,システム,世代数,オフライン保管,RPO（時間）\nB-1,SYS-EMR,7,いいえ,24\n"
            .as_bytes(),
        &ledger,
    );
    ledger.roles = import_all::<StructureRole>(
        "役割番号,区分,役割・役職\nR-1,医療情報システム安全管理責任者,副院長\n".as_bytes(),
        &ledger,
    );
    ledger.links = import_all::<Link>(
        "接続番号,接続元,接続先\nL-1,FW-1,PC-1\n".as_bytes(),
        &ledger,
    );
    ledger
}

fn plan<R: LedgerRecord + PartialEq>(table: &Table, ledger: &Ledger) -> ImportPlan<R> {
    let mapping = ColumnMapping::infer(&table.headers, R::COLUMNS);
    plan_import::<R>(&mapping, &table.rows, ledger)
}

fn import_all<R: LedgerRecord + PartialEq>(bytes: &[u8], ledger: &Ledger) -> Vec<R> {
    let tables = read_tables(bytes).expect("readable");
    let p = plan::<R>(&tables[0], ledger);
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    p.accepted.into_iter().map(|(_, r)| r).collect()
}

#[test]
fn the_ledger_workbook_reads_back_sheet_by_sheet_and_changes_nothing() {
    let ledger = sample_ledger();
    assert_eq!(ledger.assets.len(), 3);
    assert_eq!(ledger.investigations[0].finding.lines().count(), 2);
    let bytes = ledger_workbook(&ledger, "ja").expect("workbook");
    let tables = read_tables(&bytes).expect("readable");
    let kinds: Vec<Option<RecordKind>> = tables.iter().map(Table::kind).collect();
    assert_eq!(
        kinds,
        RecordKind::ALL
            .iter()
            .copied()
            .map(Some)
            .collect::<Vec<_>>()
    );
    let assets = plan::<Asset>(&tables[0], &ledger);
    assert!(assets.rejected.is_empty(), "{:?}", assets.rejected);
    assert_eq!((assets.accepted.len(), assets.unchanged), (3, 3));
    // A cell that looks like a formula stays text.
    assert_eq!(assets.accepted[2].1.name, "=HYPERLINK(\"x\")");
    let connections = plan::<ExternalConnection>(&tables[3], &ledger);
    assert_eq!(connections.unchanged, 1);
    let investigations = plan::<InvestigationEntry>(&tables[4], &ledger);
    assert_eq!(investigations.unchanged, 1, "{:?}", investigations.rejected);
    let backups = plan::<Backup>(&tables[5], &ledger);
    assert_eq!(backups.unchanged, 1);
    let english = read_tables(&ledger_workbook(&ledger, "en").expect("workbook")).expect("read");
    assert_eq!(english[0].name, "assets");
    assert_eq!(plan::<Asset>(&english[0], &ledger).unchanged, 3);
}

#[test]
fn csv_export_carries_a_bom_and_reads_back() {
    let ledger = sample_ledger();
    let bytes = records_csv(&ledger.assets, "ja").expect("csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let tables = read_tables(&bytes).expect("readable");
    assert_eq!(tables[0].headers[0], "資産番号");
    assert_eq!(plan::<Asset>(&tables[0], &ledger).unchanged, 3);
}

#[test]
fn shift_jis_and_utf16_tab_files_are_read() {
    let text = "資産番号,種別,名称\nSV-1,サーバ,電子カルテサーバ\n";
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    let table = &read_tables(&sjis).expect("shift_jis")[0];
    assert_eq!(
        table.rows,
        [(
            2,
            vec!["SV-1".into(), "サーバ".into(), "電子カルテサーバ".into()]
        )]
    );
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "資産番号\t種別\t名称\r\nSV-1\tサーバ\tPACS\r\n".encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    let table = &read_tables(&utf16).expect("utf-16")[0];
    assert_eq!(table.headers, ["資産番号", "種別", "名称"]);
    assert_eq!(table.rows[0].1[2], "PACS");
}

#[test]
fn bad_rows_are_named_by_the_line_the_file_shows() {
    let csv = [
        "資産番号,種別,名称,ネットワークセグメント,CPE",
        "SV-1,サーバ,a,,",
        "",
        "SV-2,冷蔵庫,b,,",
        "SV-1,サーバ,c,,",
        "SV-3,サーバ,d,NOWHERE,",
        "SV-4,サーバ,e,,cpe:/x",
    ]
    .join("\r\n");
    let tables = read_tables(csv.as_bytes()).expect("readable");
    let p = plan::<Asset>(&tables[0], &Ledger::default());
    let rejected: Vec<(u32, Option<usize>, &str)> = p
        .rejected
        .iter()
        .map(|r| (r.row, r.column, r.field))
        .collect();
    assert_eq!(
        rejected,
        [
            (4, Some(1), "kind"),
            (5, Some(0), "key"),
            (6, Some(3), "segment"),
            (7, Some(4), "cpes")
        ]
    );
    assert_eq!(p.accepted.len(), 1);
}

#[test]
fn files_that_are_not_tables_are_refused_with_the_reason() {
    let refused = |bytes: &[u8]| read_tables(bytes).expect_err("refused").to_string();
    assert!(refused(b"%PDF-1.7 ...").contains("PDF"));
    assert!(refused(b"\x00\x01\x02binary").contains("binary"));
    assert!(refused(b"   \n").contains("empty"));
    assert!(refused(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).contains(".xls"));
    assert!(refused(&[0x82, 0xA0, 0xFF, 0xFF, b'\n']).contains("Shift_JIS"));
    let big = vec![b'a'; MAX_TABLE_BYTES + 1];
    assert!(matches!(
        read_tables(&big),
        Err(DocumentError::TableTooLarge { .. })
    ));
    assert!(
        matches!(
            read_tables(b"PK\x03\x04not a zip"),
            Err(DocumentError::UnreadableWorkbook { .. } | DocumentError::NotATable { .. })
        ) || read_tables(b"PK\x03\x04not a zip").is_err()
    );
}
