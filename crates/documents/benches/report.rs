//! Times the report package of a large hospital: 500 assets in 10
//! segments, 40 external connections, 30 backups, 15 roles, and three
//! checklist deliverables of 100 rows each.
//!
//! `cargo bench -p mamori-documents --bench report`

use std::time::{Duration, Instant};

use mamori_documents::report::{report_drawio, report_pdf, report_workbook};
use mamori_domain::deliverable::{
    ContentColumn, ContentRow, ContentTable, DeliverableContent, DeliverableKind, ReportContent,
    ReportDeliverable, backups_content, connections_content, network_content, structure_content,
};
use mamori_domain::ledger::{
    Asset, Backup, Cells, ExternalConnection, InvestigationEntry, Ledger, Link, RowRecord, Segment,
    StructureRole,
};

fn rec<R: RowRecord>(pairs: &[(&'static str, String)]) -> R {
    let cells = Cells::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    match R::from_cells(&cells) {
        Ok(record) => record,
        Err(problems) => panic!("bench record {pairs:?}: {problems:?}"),
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

fn big_ledger() -> Ledger {
    const SEGMENT_KINDS: [&str; 5] = ["医療系", "事務系", "院内LAN", "保守用", "DMZ"];
    const CATEGORIES: [&str; 8] = [
        "各システム",
        "ネットワーク保守",
        "CT・MRI等検査機器の保守",
        "マイナカード関係",
        "地域医療連携",
        "遠隔読影",
        "研究ネットワーク",
        "各種遠隔サービス",
    ];
    let mut ledger = Ledger::default();
    for n in 1..=10 {
        ledger.segments.push(rec::<Segment>(&[
            ("key", format!("SEG-{n:02}")),
            ("name", format!("第{n}病棟ネットワーク")),
            ("kind", s(SEGMENT_KINDS[n % SEGMENT_KINDS.len()])),
            ("address_range", format!("10.{n}.0.0/16")),
        ]));
    }
    // 10 systems, 10 switches, 60 servers, 280 terminals, 140 devices.
    for n in 1..=10 {
        ledger.assets.push(rec::<Asset>(&[
            ("key", format!("SYS-{n:02}")),
            ("kind", s("システム")),
            ("name", format!("部門システム{n}")),
        ]));
        ledger.assets.push(rec::<Asset>(&[
            ("key", format!("SW-{n:02}")),
            ("kind", s("スイッチ")),
            ("name", format!("コアスイッチ{n}")),
            ("segment", format!("SEG-{n:02}")),
            ("vendor", s("Cisco")),
        ]));
    }
    let mut add = |prefix: &str, kind: &str, name: &str, count: usize| {
        for n in 1..=count {
            let segment = n % 10 + 1;
            let key = format!("{prefix}-{n:03}");
            ledger.assets.push(rec::<Asset>(&[
                ("key", key.clone()),
                ("kind", s(kind)),
                ("name", format!("{name}{n}")),
                ("system", format!("SYS-{segment:02}")),
                ("segment", format!("SEG-{segment:02}")),
                ("vendor", s("富士通Japan株式会社")),
                ("product", format!("HOPE LifeMark-HX 第{n}版")),
                ("os", s("Windows Server 2019")),
                ("location", format!("本館{}階サーバ室", segment)),
                ("address", format!("10.{segment}.1.{}", n % 250)),
                ("maintenance_vendor", s("保守ベンダーA")),
            ]));
            ledger.links.push(rec::<Link>(&[
                ("key", format!("L-{key}")),
                ("from", key),
                ("to", format!("SW-{segment:02}")),
            ]));
        }
    };
    add("SV", "サーバ", "電子カルテサーバ", 60);
    add("PC", "端末", "診察端末", 280);
    add("MD", "医療機器", "CT装置", 140);
    for n in 1..=40 {
        let segment = n % 10 + 1;
        ledger.connections.push(rec::<ExternalConnection>(&[
            ("key", format!("C-{n:02}")),
            ("category", s(CATEGORIES[n % CATEGORIES.len()])),
            ("counterpart", format!("保守ベンダー{n}")),
            (
                "purpose",
                s("リモート保守のため、必要時に接続して障害対応を行う"),
            ),
            ("method", s("IP-VPN")),
            ("boundary_device", format!("SW-{segment:02}")),
        ]));
        for i in 1..=2 {
            ledger.investigations.push(rec::<InvestigationEntry>(&[
                ("key", format!("I-{n:02}-{i}")),
                ("connection", format!("C-{n:02}")),
                ("date", format!("2024-0{i}-1{}", n % 10)),
                ("source", s("ヒアリング")),
                (
                    "finding",
                    s("管理者が把握している。接続時は申請書で承認している。"),
                ),
            ]));
        }
    }
    for n in 1..=30 {
        ledger.backups.push(rec::<Backup>(&[
            ("key", format!("B-{n:02}")),
            ("system", format!("SYS-{:02}", n % 10 + 1)),
            ("data_covered", s("データベース、画像データ")),
            ("generations", s("3")),
            (
                "offline_copy",
                s(if n % 2 == 0 { "はい" } else { "いいえ" }),
            ),
            ("last_restore_test", s("2024-11-01")),
        ]));
    }
    for n in 1..=15 {
        let mut pairs = vec![
            ("key", format!("R-{n:02}")),
            (
                "kind",
                s(if n == 1 {
                    "経営層"
                } else {
                    "システム管理者"
                }),
            ),
            ("title", format!("情報システム担当{n}")),
            ("person", format!("担当者{n}")),
            ("business_phone", s("0859-00-0000")),
        ];
        if n > 1 {
            pairs.push(("reports_to", format!("R-{:02}", (n - 1) / 3 + 1)));
        }
        if n <= 5 {
            pairs.push(("incident_order", n.to_string()));
        }
        ledger.roles.push(rec::<StructureRole>(&pairs));
    }
    ledger
}

fn checklist(kind: DeliverableKind) -> DeliverableContent {
    let columns = [
        ("項目番号", "item"),
        ("項目", "item text"),
        ("対象", "scope"),
        ("自己評価", "self-assessed"),
        ("確認結果", "confirmed"),
        ("確認日", "checked on"),
        ("目標日", "target date"),
        ("理解が困難であった部分", "what was not understood"),
        ("状況", "status"),
    ]
    .iter()
    .map(|(ja, en)| ContentColumn::new(*ja, *en))
    .collect();
    let rows =
        (1..=100)
            .map(|n| ContentRow {
                key: format!("{n}/organisation"),
                cells: vec![
                format!("{}-{}", n / 10 + 1, n % 10),
                "医療情報システムの全体構成図を作成し、変更があった場合には速やかに更新している。"
                    .to_owned(),
                "組織".to_owned(),
                "はい".to_owned(),
                if n % 3 == 0 { "いいえ" } else { "はい" }.to_owned(),
                "2025-01-10".to_owned(),
                String::new(),
                if n % 7 == 0 { "用語が難しい" } else { "" }.to_owned(),
                if n % 3 == 0 { "自己評価と相違" } else { "" }.to_owned(),
            ],
            })
            .collect();
    DeliverableContent {
        kind,
        tables: vec![ContentTable {
            id: "respondent:1".into(),
            caption_ja: "回答者（役職）— チェックリスト".into(),
            caption_en: "Respondent — checklist".into(),
            columns,
            rows,
        }],
        network: None,
        structure: None,
    }
}

fn report() -> ReportContent {
    let ledger = big_ledger();
    let deliverables = vec![
        checklist(DeliverableKind::ChecklistExecutive),
        checklist(DeliverableKind::ChecklistAdministrator),
        checklist(DeliverableKind::ChecklistUser),
        backups_content(&ledger),
        connections_content(&ledger),
        network_content(&ledger),
        structure_content(&ledger),
    ]
    .into_iter()
    .map(|content| ReportDeliverable {
        version: 1,
        content,
    })
    .collect();
    match ReportContent::new(
        "ベンチマーク総合病院",
        "厚生労働省",
        "株式会社まもり調査",
        "令和6年度 医療機関サイバーセキュリティ調査",
        1,
        time::macros::date!(2025 - 02 - 28),
        &[],
        deliverables,
    ) {
        Ok(report) => report,
        Err(e) => panic!("bench report: {e}"),
    }
}

fn main() {
    let report = report();
    let run = || {
        let start = Instant::now();
        let pdf = report_pdf(&report, "ja").expect("pdf");
        let pdf_time = start.elapsed();
        let book = report_workbook(&report, "ja").expect("workbook");
        let book_time = start.elapsed() - pdf_time;
        let drawio = report_drawio(&report, "ja");
        let total = start.elapsed();
        (
            total,
            pdf_time,
            book_time,
            total - pdf_time - book_time,
            pdf,
            book.len(),
            drawio.iter().map(|(_, x)| x.len()).sum::<usize>(),
        )
    };
    let (_, _, _, _, pdf, book_bytes, drawio_bytes) = run(); // warm-up
    let pages = count_pages(&pdf);
    let mut totals: Vec<(Duration, Duration, Duration, Duration)> = (0..5)
        .map(|_| {
            let (t, p, b, d, ..) = run();
            (t, p, b, d)
        })
        .collect();
    totals.sort_by_key(|t| t.0);
    let best = totals[0];
    let median = totals[2];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("report of 500 assets, 40 connections, 30 backups, 15 roles, 3×100 checklist rows");
    println!(
        "PDF: {pages} pages, {} KB; workbook {} KB; draw.io {} KB",
        pdf.len() / 1024,
        book_bytes / 1024,
        drawio_bytes / 1024
    );
    for (label, t) in [("best", best), ("median", median)] {
        println!(
            "{label:>6}: total {:.0} ms (pdf {:.0} ms, workbook {:.0} ms, drawio {:.0} ms)",
            ms(t.0),
            ms(t.1),
            ms(t.2),
            ms(t.3)
        );
    }
}

fn count_pages(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf).map_or(0, |d| d.get_pages().len())
}
