//! Ledger import speed: a 2,000-row asset workbook (with a segment sheet
//! and a few bad rows) read, planned row by row, imported into the store in
//! one transaction, and imported again (nothing changes). Prints the time
//! of each stage on SQLite and, when `MAMORI_TEST_DATABASE_URL` is set, on
//! PostgreSQL.
//!
//! `cargo bench -p mamori-web --bench ledger_import` (env `MAMORI_BENCH_ROWS`
//! changes the size). Rows come from `../shared/data/inventory/
//! hospital_assets_synthetic_20k.csv` (vendor, product, version, CPE) when
//! it is there, and are generated otherwise.

use mamori_documents::ledger_sheets::read_tables;
use mamori_domain::engagement::EngagementState;
use mamori_domain::ledger::{ColumnMapping, Ledger, TableInput, plan_ledger_import};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::testing::{self, TestDb};
use mamori_store::{AuditContext, ChangeSource};
use rust_xlsxwriter::Workbook;
use std::time::Instant;

const SEGMENTS: [(&str, &str, &str); 8] = [
    ("MED", "医療系LAN", "医療系"),
    ("RAD", "放射線部門", "医療系"),
    ("LAB", "検査部門", "医療系"),
    ("ADM", "事務系LAN", "事務系"),
    ("MNT", "保守用", "保守用"),
    ("DMZ", "DMZ", "DMZ"),
    ("WL", "無線LAN", "院内LAN"),
    ("GST", "来訪者用", "来訪者用"),
];

/// (vendor, product, version, cpe) for `n` rows.
fn inventory(n: usize) -> Vec<[String; 4]> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/inventory/hospital_assets_synthetic_20k.csv"
    );
    if let Ok(text) = std::fs::read_to_string(path) {
        let rows: Vec<[String; 4]> = text
            .lines()
            .skip(1)
            .filter_map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                (f.len() == 7).then(|| {
                    [
                        f[3].to_string(),
                        f[4].to_string(),
                        f[5].to_string(),
                        f[6].to_string(),
                    ]
                })
            })
            .take(n)
            .collect();
        if rows.len() == n {
            println!("rows from {path}");
            return rows;
        }
    }
    println!("rows generated (shared inventory not found)");
    (0..n)
        .map(|i| {
            let version = format!("7.{}.{}", i % 5, i % 17);
            [
                "fortinet".into(),
                "fortios".into(),
                version.clone(),
                format!("cpe:2.3:o:fortinet:fortios:{version}:*:*:*:*:*:*:*"),
            ]
        })
        .collect()
}

/// A workbook with a segment sheet and `n` asset rows; every 100th row is
/// bad (an unknown kind, a malformed CPE, a segment that does not exist).
fn workbook(n: usize) -> (Vec<u8>, Vec<u32>) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("セグメント").expect("name");
    for (c, h) in ["セグメント番号", "名称", "種別"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("write");
    }
    for (r, (key, name, kind)) in SEGMENTS.iter().enumerate() {
        for (c, v) in [key, name, kind].iter().enumerate() {
            sheet
                .write_string(r as u32 + 1, c as u16, **v)
                .expect("write");
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name("資産").expect("name");
    let headers = [
        "資産番号",
        "種別",
        "名称",
        "メーカー",
        "製品名",
        "バージョン・ファームウェア",
        "CPE",
        "台数",
        "設置場所",
        "ネットワークセグメント",
        "リモート保守",
        "サポート終了日",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("write");
    }
    let kinds = ["サーバ", "端末", "スイッチ", "医療機器", "ルータ"];
    let mut bad = Vec::new();
    for (i, [vendor, product, version, cpe]) in inventory(n).iter().enumerate() {
        let (kind, cpe, segment) = match i % 100 {
            17 => ("冷蔵庫", cpe.as_str(), SEGMENTS[i % 8].0),
            53 => (kinds[i % 5], "cpe:2.3:broken", SEGMENTS[i % 8].0),
            89 => (kinds[i % 5], cpe.as_str(), "NOWHERE"),
            _ => (kinds[i % 5], cpe.as_str(), SEGMENTS[i % 8].0),
        };
        if matches!(i % 100, 17 | 53 | 89) {
            // Row numbers as the sheet shows them (the header is row 1).
            bad.push(i as u32 + 2);
        }
        let row = [
            format!("A{i:05}"),
            kind.to_string(),
            format!("{product} #{i}"),
            vendor.clone(),
            product.clone(),
            version.clone(),
            cpe.to_string(),
            "1".into(),
            format!("{}階", i % 9 + 1),
            segment.to_string(),
            "なし".into(),
            "2030-03-31".into(),
        ];
        for (c, v) in row.iter().enumerate() {
            sheet
                .write_string(i as u32 + 1, c as u16, v.as_str())
                .expect("write");
        }
    }
    (book.save_to_buffer().expect("save"), bad)
}

fn inputs(tables: &[mamori_documents::ledger_sheets::Table]) -> Vec<TableInput<'_>> {
    tables
        .iter()
        .filter_map(|t| {
            let kind = t.kind()?;
            Some(TableInput {
                name: t.name.clone(),
                kind,
                mapping: ColumnMapping::infer(&t.headers, kind.columns()),
                rows: &t.rows,
            })
        })
        .collect()
}

async fn run(db: &TestDb, bytes: &[u8], planted: &[u32]) {
    let store = &db.store;
    let hospital = testing::add_org(store, OrgKind::Hospital, "ベンチ病院").await;
    let company = testing::add_org(store, OrgKind::SurveyCompany, "ベンチ調査").await;
    let account = testing::add_account(store, company, "bench@example.jp", Role::Member).await;
    let programme = testing::add_programme(store, "ベンチ").await;
    testing::add_engagement(
        store,
        programme,
        hospital,
        company,
        EngagementState::Surveying,
    )
    .await;
    let ctx = AuditContext::for_actor(account.actor(), account.email.clone(), None);

    let started = Instant::now();
    let tables = read_tables(bytes).expect("workbook");
    let read = started.elapsed();

    let t = Instant::now();
    let plan = plan_ledger_import(&inputs(&tables), &Ledger::default());
    let planned = t.elapsed();
    // Every planted bad row is named; the inventory may bring more of its
    // own (a malformed CPE in the source data), and those are named too.
    let rejected: Vec<u32> = plan
        .tables
        .iter()
        .flat_map(|t| t.rejected.iter().map(|r| r.row))
        .collect();
    let missed: Vec<&u32> = planted.iter().filter(|r| !rejected.contains(r)).collect();
    assert!(missed.is_empty(), "bad rows not named: {missed:?}");
    for t in &plan.tables {
        for r in t.rejected.iter().filter(|r| !planted.contains(&r.row)) {
            println!(
                "  also rejected: {} row {} {}: {}",
                t.name, r.row, r.field, r.reason
            );
        }
    }

    let t = Instant::now();
    let grant = store
        .authorize(&ctx, hospital, HospitalData::Ledger, Access::Write)
        .await
        .expect("grant");
    let outcome = store
        .import_ledger(&ctx, &grant, &plan.incoming, ChangeSource::Import)
        .await
        .expect("import");
    let imported = t.elapsed();
    let total = started.elapsed();

    // The same file again: planned against the stored ledger, nothing to write.
    let t = Instant::now();
    let grant = store
        .authorize(&ctx, hospital, HospitalData::Ledger, Access::Read)
        .await
        .expect("grant");
    let current = store.ledger(&ctx, &grant).await.expect("ledger").ledger;
    let tables = read_tables(bytes).expect("workbook");
    let again = plan_ledger_import(&inputs(&tables), &current);
    let grant = store
        .authorize(&ctx, hospital, HospitalData::Ledger, Access::Write)
        .await
        .expect("grant");
    let second = store
        .import_ledger(&ctx, &grant, &again.incoming, ChangeSource::Import)
        .await
        .expect("re-import");
    let reimport = t.elapsed();
    assert_eq!(
        (second.created, second.updated),
        (0, 0),
        "re-import changes nothing"
    );

    println!(
        "{:<10} read {:>7.1} ms | plan {:>7.1} ms ({} rejected rows named) | store {:>7.1} ms ({} created) | total {:>7.1} ms | re-import {:>7.1} ms ({} unchanged)",
        db.label,
        read.as_secs_f64() * 1e3,
        planned.as_secs_f64() * 1e3,
        plan.rejected_rows(),
        imported.as_secs_f64() * 1e3,
        outcome.created,
        total.as_secs_f64() * 1e3,
        reimport.as_secs_f64() * 1e3,
        second.unchanged,
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` a
    // small round only checks that the benchmark still runs.
    let measuring = std::env::args().any(|a| a == "--bench");
    let rows = std::env::var("MAMORI_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 2_000 } else { 200 });
    let (bytes, bad) = workbook(rows);
    println!(
        "ledger import: {rows} asset rows + {} segments, {} KB workbook, {} bad rows planted",
        SEGMENTS.len(),
        bytes.len() / 1024,
        bad.len()
    );
    for db in testing::all().await {
        run(&db, &bytes, &bad).await;
        db.finish().await;
    }
}
