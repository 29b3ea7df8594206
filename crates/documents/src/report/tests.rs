use mamori_domain::deliverable::{
    AffectedKind, AffectedRef, ContentColumn, ContentRow, ContentTable, DeliverableContent,
    DeliverableKind, Finding, FindingStatus, ReportContent, ReportDeliverable, Severity,
    backups_content, connections_content, network_content, structure_content,
};
use mamori_domain::ledger::{
    Asset, Backup, Cells, ExternalConnection, InvestigationEntry, Ledger, Link, RowRecord, Segment,
    StructureRole,
};
use quick_xml::Reader;
use quick_xml::events::Event;
use time::macros::date;

use super::*;

fn rec<R: RowRecord>(pairs: &[(&'static str, &str)]) -> R {
    R::from_cells(&Cells::from_pairs(pairs.iter().copied())).expect("a valid test record")
}

fn small_ledger() -> Ledger {
    Ledger {
        assets: vec![
            rec::<Asset>(&[
                ("key", "SYS-EMR"),
                ("kind", "システム"),
                ("name", "電子カルテ"),
            ]),
            rec::<Asset>(&[
                ("key", "SV-01"),
                ("kind", "サーバ"),
                ("name", "電子カルテサーバ"),
                ("system", "SYS-EMR"),
                ("segment", "SEG-1"),
            ]),
            rec::<Asset>(&[
                ("key", "FW-01"),
                ("kind", "VPN装置"),
                ("name", "保守用VPN"),
                ("segment", "SEG-1"),
                ("vendor", "Fortinet"),
            ]),
            rec::<Asset>(&[
                ("key", "PC-01"),
                ("kind", "端末"),
                ("name", "診察端末"),
                ("system", "SYS-EMR"),
                ("segment", "SEG-1"),
                ("quantity", "40"),
            ]),
        ],
        segments: vec![rec::<Segment>(&[
            ("key", "SEG-1"),
            ("name", "医療系LAN"),
            ("kind", "医療系"),
        ])],
        links: vec![rec::<Link>(&[
            ("key", "L-1"),
            ("from", "SV-01"),
            ("to", "FW-01"),
        ])],
        connections: vec![
            rec::<ExternalConnection>(&[
                ("key", "C-1"),
                ("category", "遠隔読影"),
                ("counterpart", "読影センター"),
                ("method", "IP-VPN"),
                ("boundary_device", "FW-01"),
            ]),
            rec::<ExternalConnection>(&[
                ("key", "C-2"),
                ("category", "ネットワーク保守"),
                ("counterpart", "保守ベンダーA"),
                ("method", "インターネットVPN"),
            ]),
        ],
        investigations: vec![rec::<InvestigationEntry>(&[
            ("key", "I-1"),
            ("connection", "C-1"),
            ("date", "2023-01-10"),
            ("source", "ヒアリング"),
            ("finding", "管理者が把握"),
        ])],
        backups: vec![rec::<Backup>(&[
            ("key", "B-1"),
            ("system", "SYS-EMR"),
            ("data_covered", "データベース"),
            ("generations", "3"),
            ("offline_copy", "はい"),
            ("last_restore_test", "2022-11-01"),
        ])],
        roles: vec![
            rec::<StructureRole>(&[
                ("key", "R-1"),
                ("kind", "経営層"),
                ("title", "院長"),
                ("person", "鳥取一郎"),
            ]),
            rec::<StructureRole>(&[
                ("key", "R-2"),
                ("kind", "システム管理者"),
                ("title", "情報システム室長"),
                ("person", "山田太郎"),
                ("reports_to", "R-1"),
                ("business_phone", "0859-00-0000"),
                ("incident_order", "1"),
            ]),
        ],
        catalogue_keys: Default::default(),
    }
}

fn checklist(kind: DeliverableKind, extra_cell: &str) -> DeliverableContent {
    let columns = [
        ("項目番号", "item"),
        ("項目", "item text"),
        ("対象", "scope"),
        ("自己評価", "self-assessed"),
        ("確認結果", "confirmed"),
        ("状況", "status"),
    ]
    .iter()
    .map(|(ja, en)| ContentColumn::new(*ja, *en))
    .collect();
    DeliverableContent {
        kind,
        tables: vec![ContentTable {
            id: "respondent:r1".into(),
            caption_ja: "事務長（病院長・経営層）— 経営層向けチェックリスト".into(),
            caption_en: "Director (director / executive) — checklist for executives".into(),
            columns,
            rows: vec![
                ContentRow {
                    key: "1-1/organisation".into(),
                    cells: vec![
                        "1-1".into(),
                        "医療情報システムの全体像を把握し、責任者を定めている".into(),
                        "組織".into(),
                        "はい".into(),
                        "はい".into(),
                        String::new(),
                    ],
                },
                ContentRow {
                    key: "1-2/organisation".into(),
                    cells: vec![
                        "1-2".into(),
                        format!("インシデント発生時の連絡体制を整備している{extra_cell}"),
                        "組織".into(),
                        "いいえ".into(),
                        String::new(),
                        "未確認".into(),
                    ],
                },
            ],
        }],
        network: None,
        structure: None,
    }
}

fn finding(number: u32, severity: Severity, title: &str, affected: AffectedRef) -> Finding {
    let mut f = Finding::new(
        number,
        severity,
        title,
        "ベンダーの保守回線が常時接続になっている。",
        vec![affected],
        "必要時のみ接続する運用に改め、接続記録を残す。",
    )
    .expect("a valid finding");
    f.status = FindingStatus::Accepted;
    f
}

fn report_with(findings: &[Finding], ledger: &Ledger, extra_cell: &str) -> ReportContent {
    let deliverables = vec![
        checklist(DeliverableKind::ChecklistExecutive, extra_cell),
        checklist(DeliverableKind::ChecklistAdministrator, ""),
        checklist(DeliverableKind::ChecklistUser, ""),
        backups_content(ledger),
        connections_content(ledger),
        network_content(ledger),
        structure_content(ledger),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, content)| ReportDeliverable {
        version: i as u32 % 2 + 1,
        content,
    })
    .collect();
    ReportContent::new(
        "鳥取県立テスト病院",
        "鳥取県福祉保健部",
        "株式会社まもり調査",
        "令和6年度 医療機関サイバーセキュリティ調査",
        2,
        date!(2025 - 02 - 28),
        findings,
        deliverables,
    )
    .expect("a valid report")
}

fn sample() -> ReportContent {
    let findings = [
        finding(
            1,
            Severity::Medium,
            "バックアップの復元試験が一年以上行われていない",
            AffectedRef::new(AffectedKind::Backup, "B-1"),
        ),
        finding(
            2,
            Severity::Critical,
            "保守回線が常時接続になっている",
            AffectedRef::new(AffectedKind::Connection, "C-2"),
        ),
    ];
    report_with(&findings, &small_ledger(), "")
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn pages_text(pdf: &[u8]) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(pdf)
        .unwrap()
        .iter()
        .map(|p| squeeze(p))
        .collect()
}

fn page_count(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf).unwrap().get_pages().len()
}

#[test]
fn japanese_pdf_has_the_cover_headings_findings_and_cells() {
    let report = sample();
    let pdf = report_pdf(&report, "ja").unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = squeeze(&pdf_extract::extract_text_from_mem(&pdf).unwrap());
    for expected in [
        "医療機関サイバーセキュリティ調査報告書",
        "鳥取県立テスト病院",
        "株式会社まもり調査",
        "第2版",
        "2025年2月28日",
        "目次",
        "指摘事項",
        "保守回線が常時接続になっている",
        "バックアップの復元試験が一年以上行われていない",
        "重大",
        "外部接続C-2",
        // ④ a backup's system, ⑤ a connection's counterpart, ⑦ a person.
        "電子カルテ",
        "読影センター",
        "山田太郎",
        "バックアップ状況",
        "版数：2",
    ] {
        assert!(text.contains(expected), "{expected} not in the PDF");
    }
    for kind in DeliverableKind::ALL {
        let heading = squeeze(&format!("{}{}", kind.mark(), kind.ja()));
        assert!(text.contains(&heading), "{heading} not in the PDF");
    }
    // The critical finding comes first in the summary.
    let critical = text.find("保守回線が常時接続になっている").unwrap();
    let medium = text.find("バックアップの復元試験").unwrap();
    assert!(critical < medium);
}

#[test]
fn every_page_says_confidential_and_the_recipient_with_its_number() {
    let pdf = report_pdf(&sample(), "ja").unwrap();
    let total = page_count(&pdf);
    // Cover, contents, findings, ①–⑤, ⑥ diagram and tables, ⑦ likewise.
    assert!(total >= 12, "{total} pages");
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), total);
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains("機密"), "page {}: {page}", i + 1);
        assert!(page.contains("提出先：鳥取県福祉保健部"), "page {}", i + 1);
        assert!(
            page.contains(&format!("{}/{total}", i + 1)),
            "page {}",
            i + 1
        );
    }
}

#[test]
fn the_contents_point_at_the_pages_the_sections_start_on() {
    let report = sample();
    let pdf = report_pdf(&report, "ja").unwrap();
    let pages = pages_text(&pdf);
    let contents = &pages[1];
    assert!(contents.contains("目次"));
    let mut entries: Vec<String> = vec!["指摘事項".into()];
    entries.extend(
        DeliverableKind::ALL
            .iter()
            .map(|k| squeeze(&format!("{}{}", k.mark(), k.ja()))),
    );
    let mut last = 0;
    for entry in &entries {
        let at = contents
            .find(entry.as_str())
            .unwrap_or_else(|| panic!("{entry} not in the contents: {contents}"));
        let digits: String = contents[at + entry.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let page: usize = digits.parse().unwrap();
        assert!(page > last, "{entry}: page {page} after {last}");
        last = page;
        assert!(
            pages[page - 1].contains(entry.as_str()),
            "{entry} is not on page {page}"
        );
        // Nowhere earlier but the contents.
        for (i, earlier) in pages.iter().enumerate().take(page - 1).skip(2) {
            assert!(
                !earlier.contains(entry.as_str()),
                "{entry} on page {}",
                i + 1
            );
        }
    }
}

#[test]
fn english_pdf_translates_the_fixed_words() {
    let pdf = report_pdf(&sample(), "en").unwrap();
    let text = squeeze(&pdf_extract::extract_text_from_mem(&pdf).unwrap());
    for expected in [
        "CONFIDENTIAL",
        "Recipient:",
        "Hospitalcybersecuritysurveyreport",
        "Release2",
        "28February2025",
        "Summaryoffindings",
        "critical",
        "yes",
        "backupstatus",
    ] {
        assert!(text.contains(expected), "{expected} not in the English PDF");
    }
    for kind in DeliverableKind::ALL {
        let heading = squeeze(&format!("{} {}", kind.mark(), kind.en()));
        assert!(text.contains(&heading), "{heading} not in the English PDF");
    }
}

#[test]
fn a_report_without_findings_and_with_empty_tables_renders() {
    let mut ledger = small_ledger();
    ledger.investigations.clear();
    ledger.backups.clear();
    let report = report_with(&[], &ledger, "");
    let pdf = report_pdf(&report, "ja").unwrap();
    let text = squeeze(&pdf_extract::extract_text_from_mem(&pdf).unwrap());
    assert!(text.contains("採用された指摘事項はありません。"));
    assert!(
        text.contains("外部接続先調査履歴なし"),
        "empty table says so"
    );
    let book = report_workbook(&report, "ja").unwrap();
    let sheets = report_workbook_tables(&book).unwrap();
    assert_eq!(sheets.len(), 9);
    report_pdf(&report, "en").unwrap();
}

#[test]
fn characters_the_font_lacks_do_not_fail_the_report() {
    let report = report_with(&[], &small_ledger(), " 🙂 \u{1F3E5}");
    let pdf = report_pdf(&report, "ja").unwrap();
    let text = squeeze(&pdf_extract::extract_text_from_mem(&pdf).unwrap());
    assert!(text.contains("連絡体制を整備している〓〓"));
}

#[test]
fn the_workbook_reads_back_with_the_contents_rows() {
    let report = sample();
    let book = report_workbook(&report, "ja").unwrap();
    let sheets = report_workbook_tables(&book).unwrap();
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "表紙",
            "指摘事項",
            "①経営層",
            "②システム管理者",
            "③利用者",
            "④バックアップ",
            "⑤外部接続",
            "⑥ネットワーク",
            "⑦管理体制"
        ]
    );
    for (_, rows) in &sheets {
        assert_eq!(rows[0][0], "機密");
        assert_eq!(rows[0][1], "提出先：鳥取県福祉保健部");
    }
    let cover: Vec<String> = sheets[0].1.iter().flatten().cloned().collect();
    assert!(cover.contains(&"鳥取県立テスト病院".to_owned()));
    assert!(cover.contains(&"第2版".to_owned()));
    let findings = &sheets[1].1;
    assert!(
        findings
            .iter()
            .any(|r| r.first().is_some_and(|c| c == "番号"))
    );
    assert!(findings.iter().any(|r| {
        r.get(2)
            .is_some_and(|c| c == "保守回線が常時接続になっている")
    }));

    let trimmed = |cells: &[String]| {
        let mut cells = cells.to_vec();
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        cells
    };
    for kind in [DeliverableKind::Backups, DeliverableKind::Connections] {
        let content = &report.deliverable(kind).unwrap().content;
        let (_, rows) = &sheets[usize::from(kind.number()) + 1];
        assert_eq!(rows[1], [format!("{}{}", kind.mark(), kind.ja())]);
        for table in &content.tables {
            let at = rows
                .iter()
                .position(|r| r.len() == 1 && r[0] == table.caption_ja)
                .unwrap_or_else(|| panic!("{} not in the sheet", table.caption_ja));
            let header: Vec<String> = table.columns.iter().map(|c| c.ja.clone()).collect();
            assert_eq!(rows[at + 1], header);
            let expected: Vec<Vec<String>> = table.rows.iter().map(|r| trimmed(&r.cells)).collect();
            assert!(!expected.is_empty());
            assert_eq!(rows[at + 2..at + 2 + expected.len()], expected[..]);
            // Then a blank row or the end of the sheet.
            assert!(rows.get(at + 2 + expected.len()).is_none_or(Vec::is_empty));
        }
    }
}

#[test]
fn the_english_workbook_has_english_sheets_and_words() {
    let book = report_workbook(&sample(), "en").unwrap();
    let sheets = report_workbook_tables(&book).unwrap();
    assert_eq!(sheets[0].0, "Cover");
    assert_eq!(sheets[5].0, "4 Backups");
    assert_eq!(sheets[0].1[0][0], "CONFIDENTIAL");
    let backups: Vec<String> = sheets[5].1.iter().flatten().cloned().collect();
    assert!(backups.contains(&"yes".to_owned()), "{backups:?}");
    assert!(backups.contains(&"backup status".to_owned()));
}

#[test]
fn the_diagrams_are_two_drawio_files_naming_a_device_and_a_person() {
    let files = report_drawio(&sample(), "ja");
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["06_network.drawio", "07_structure.drawio"]);
    for ((_, xml), expected) in files.iter().zip(["電子カルテサーバ", "山田太郎"]) {
        let mut reader = Reader::from_str(xml);
        let mut elements = 0;
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(Event::Start(_) | Event::Empty(_)) => elements += 1,
                Ok(_) => {}
                Err(e) => panic!("not XML: {e}"),
            }
        }
        assert!(elements > 3);
        assert!(xml.contains(expected), "{expected}");
    }
    // A report whose ⑥ has no view gives only ⑦.
    let mut report = sample();
    for d in &mut report.deliverables {
        d.content.network = None;
    }
    let files = report_drawio(&report, "en");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "07_structure.drawio");
}
