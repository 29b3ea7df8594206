//! Hostile inputs against the ledger import (`plan_ledger_import`): the
//! rows of an uploaded CSV or workbook, as text, for every record kind.
//!
//! Property tests: arbitrary headers and cells, headers taken from the real
//! column labels so that the cells are really parsed, rows shorter and
//! longer than the header, odd row numbers. The plan must come back (no
//! panic) within a time bound, and every rejection must name a row of the
//! input, a column the file has and a field of the kind.
//!
//! Plain tests: a row of 1,000,000 cells, a header of 1,000,000 columns, a
//! 10 MB cell, formula-looking cells kept as text, and long chains of
//! references (reporting lines, gateways) whose cascading rejection must
//! not take quadratic time.
//!
//! Property tests run proptest's default 256 cases; `PROPTEST_CASES`
//! overrides it (see the end of the file).

use std::time::{Duration, Instant};

use mamori_domain::ledger::{
    AssetKind, Column, ColumnMapping, Ledger, LedgerImportPlan, RecordKind, SegmentKind,
    StructureRoleKind, TableInput, plan_ledger_import,
};
use proptest::prelude::*;
use proptest::sample::Index;

const KINDS: [RecordKind; 7] = [
    RecordKind::Asset,
    RecordKind::Segment,
    RecordKind::Link,
    RecordKind::Connection,
    RecordKind::Investigation,
    RecordKind::Backup,
    RecordKind::Role,
];

/// Bound for a plan of a few hundred cells in a debug build on a busy CI
/// machine.
const TIME_BOUND: Duration = Duration::from_secs(10);

type Rows = Vec<(u32, Vec<String>)>;

fn input<'a>(
    kind: RecordKind,
    headers: &[String],
    rows: &'a [(u32, Vec<String>)],
) -> TableInput<'a> {
    TableInput {
        name: format!("{kind:?}"),
        kind,
        mapping: ColumnMapping::infer(headers, kind.columns()),
        rows,
    }
}

/// Plans the import and checks what every plan must satisfy.
fn plan(inputs: &[TableInput], bound: Duration) -> LedgerImportPlan {
    let started = Instant::now();
    let plan = plan_ledger_import(inputs, &Ledger::default());
    let took = started.elapsed();
    assert!(took < bound, "{took:?}");
    assert_eq!(plan.tables.len(), inputs.len());
    for (table, input) in plan.tables.iter().zip(inputs) {
        assert_eq!(table.kind, input.kind);
        let accepted = table.created + table.updated + table.unchanged;
        assert_eq!(table.accepted, accepted);
        for r in &table.rejected {
            assert!(
                input.rows.iter().any(|(row, _)| *row == r.row),
                "rejection of a row the table does not have: {r:?}"
            );
            if let Some(column) = r.column {
                assert!(column < input.mapping.fields.len(), "{r:?}");
            }
            assert!(
                input.kind.columns().iter().any(|c| c.field == r.field),
                "rejection of a field {:?} does not have: {r:?}",
                input.kind
            );
            assert!(!r.reason.trim().is_empty(), "{r:?}");
        }
    }
    plan
}

/// A header: a label of the kind's columns (in any of its spellings) or
/// arbitrary text.
fn header(kind: RecordKind) -> impl Strategy<Value = String> {
    let labels: Vec<String> = kind
        .columns()
        .iter()
        .flat_map(|c| [c.field.to_owned(), c.ja.to_owned(), c.en.to_owned()])
        .collect();
    prop_oneof![
        4 => prop::sample::select(labels),
        1 => "\\PC{0,24}",
        1 => Just(String::new()),
    ]
}

/// A cell: something close to a valid value, or hostile text.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "A1", "A2", "SEG1", "SW", "PC-01", "はい", "いいえ", "有", "無",
            "2024/04/01", "2024-04-01", "2024-13-45", "1899/12/31", "令和6年4月1日",
            "0", "-1", "1.5", "1e400", "NaN", "18446744073709551616",
            "医療系", "サーバ", "システム", "端末", "責任者", "その他",
            "=cmd|' /C calc'!A0", "+SUM(1)", "@A1", "a@example.jp", "03-1234-5678",
            "cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*", "192.168.0.1", "::1",
        ]).prop_map(str::to_owned),
        2 => "\\PC{0,40}",
        1 => "[ \\t\\r\\n\u{3000}\u{feff}\u{200b}]{0,6}",
        1 => (".", 100usize..5000).prop_map(|(c, n)| c.repeat(n)),
    ]
}

fn table(kind: RecordKind) -> impl Strategy<Value = (RecordKind, Vec<String>, Rows)> {
    (
        prop::collection::vec(header(kind), 0..14),
        prop::collection::vec(
            (
                prop_oneof![Just(0u32), 1u32..300, Just(u32::MAX)],
                prop::collection::vec(cell(), 0..16),
            ),
            0..12,
        ),
    )
        .prop_map(move |(headers, rows)| (kind, headers, rows))
}

fn any_table() -> impl Strategy<Value = (RecordKind, Vec<String>, Rows)> {
    prop::sample::select(KINDS.to_vec()).prop_flat_map(table)
}

proptest! {
    #[test]
    fn any_table_of_any_kind_is_planned_without_panic(t in any_table()) {
        let (kind, headers, rows) = t;
        plan(&[input(kind, &headers, &rows)], TIME_BOUND);
    }

    /// Several tables at once, so references between them are checked (and
    /// cascade) on hostile keys.
    #[test]
    fn several_tables_with_references_between_them(
        tables in prop::collection::vec(any_table(), 1..5),
    ) {
        let inputs: Vec<TableInput> = tables
            .iter()
            .map(|(kind, headers, rows)| input(*kind, headers, rows))
            .collect();
        plan(&inputs, TIME_BOUND);
    }

    /// The user's column choices: any column index, any field name.
    #[test]
    fn any_column_choice_is_refused_or_applied(
        t in any_table(),
        choices in prop::collection::vec((any::<Index>(), "\\PC{0,12}", any::<bool>()), 0..6),
    ) {
        let (kind, headers, rows) = t;
        let columns = kind.columns();
        let choices: Vec<(usize, String)> = choices
            .into_iter()
            .map(|(i, text, real)| {
                let field = if real && !columns.is_empty() {
                    columns[i.index(columns.len())].field.to_owned()
                } else {
                    text
                };
                (i.index(headers.len() + 2), field)
            })
            .collect();
        let mapping = ColumnMapping::infer(&headers, columns);
        if let Ok(mapping) = mapping.with_choices(columns, &choices) {
            let input = TableInput { name: "t".into(), kind, mapping, rows: &rows };
            plan(&[input], TIME_BOUND);
        }
    }
}

fn labels(kind: RecordKind) -> Vec<String> {
    kind.columns().iter().map(|c| c.ja.to_owned()).collect()
}

#[test]
fn a_row_of_a_million_cells_is_read_in_bounded_time() {
    for kind in KINDS {
        let headers = labels(kind);
        let mut row: Vec<String> = vec!["X".to_owned(); 1_000_000];
        row[0] = "K1".to_owned();
        let rows = vec![(2, row)];
        let plan = plan(&[input(kind, &headers, &rows)], TIME_BOUND);
        assert_eq!(plan.tables[0].rejected_rows() + plan.tables[0].accepted, 1);
    }
}

#[test]
fn a_header_of_a_hundred_thousand_columns_is_mapped_in_bounded_time() {
    // Linear in the number of headers (1,000,000 take ~25 s in a debug
    // build); the readers in mamori-documents refuse such widths first.
    let mut headers: Vec<String> = (0..100_000).map(|i| format!("列{i}")).collect();
    headers.extend(labels(RecordKind::Segment));
    let started = Instant::now();
    let mapping = ColumnMapping::infer(&headers, RecordKind::Segment.columns());
    assert!(started.elapsed() < TIME_BOUND);
    assert_eq!(mapping.fields.len(), headers.len());
    assert!(mapping.fields[..100_000].iter().all(Option::is_none));
}

#[test]
fn a_ten_megabyte_cell_is_rejected_with_its_place_and_echoed_at_most_once() {
    let huge = "長".repeat(10 * 1024 * 1024 / 3);
    for kind in KINDS {
        let headers = labels(kind);
        let rows: Rows = (0..headers.len())
            .map(|column| {
                let mut cells = vec!["K1".to_owned(); headers.len()];
                cells[column] = huge.clone();
                (column as u32 + 2, cells)
            })
            .collect();
        let plan = plan(&[input(kind, &headers, &rows)], TIME_BOUND);
        for r in &plan.tables[0].rejected {
            // Some reasons quote the cell (`… is not one of …`): once, not
            // more, so memory stays proportional to the upload.
            assert!(
                r.reason.len() < huge.len() + 64 * 1024,
                "{kind:?}.{}: a reason of {} bytes",
                r.field,
                r.reason.len()
            );
        }
        // The key column cannot hold it.
        assert!(plan.tables[0].rejected.iter().any(|r| r.row == 2));
    }
}

#[test]
fn formula_looking_cells_are_kept_as_text() {
    let headers = labels(RecordKind::Role);
    let formula = "=cmd|' /C calc'!A0";
    let mut cells = vec![String::new(); headers.len()];
    cells[0] = "R1".to_owned();
    cells[1] = StructureRoleKind::ALL[0].ja().to_owned();
    cells[2] = formula.to_owned();
    cells[4] = "+SUM(1)".to_owned();
    let rows = vec![(2, cells)];
    let plan = plan(&[input(RecordKind::Role, &headers, &rows)], TIME_BOUND);
    assert_eq!(plan.tables[0].accepted, 1, "{:?}", plan.tables[0].rejected);
    let role = &plan.incoming.roles[0];
    assert_eq!(role.title, formula);
    assert_eq!(role.organisation, "+SUM(1)");
}

/// A reporting line of `n` roles, each reporting to the next, the last to
/// a role that is not there: every row is rejected in turn.
fn role_chain(n: usize, broken: bool) -> Rows {
    let kind = StructureRoleKind::ALL[0].ja().to_owned();
    let width = RecordKind::Role.columns().len();
    (0..n)
        .map(|i| {
            let mut cells = vec![String::new(); width];
            cells[0] = format!("R{i}");
            cells[1] = kind.clone();
            cells[2] = "役".to_owned();
            if i + 1 < n || broken {
                cells[7] = format!("R{}", i + 1);
            }
            (i as u32 + 2, cells)
        })
        .collect()
}

// FINDING (not fixed here): `plan_ledger_import` rejects a broken chain one
// link per pass, cloning and re-checking the whole ledger each pass, and
// `Ledger::reference_problems` walks every reporting line to its top: both
// quadratic. 2,000 rows take more than a minute in a debug build; a
// 100,000-row upload (the readers' limit) would hold a request for hours.
#[test]
#[ignore = "quadratic cascade in plan_ledger_import: see the comment above"]
fn a_long_reporting_line_is_checked_in_bounded_time() {
    let headers = labels(RecordKind::Role);
    assert_eq!(RecordKind::Role.columns()[7].field, "reports_to");
    for broken in [false, true] {
        let rows = role_chain(2_000, broken);
        let plan = plan(
            &[input(RecordKind::Role, &headers, &rows)],
            Duration::from_secs(20),
        );
        let rejected = plan.tables[0].rejected_rows();
        if broken {
            assert_eq!(rejected, 2_000, "the whole line hangs on the missing role");
        } else {
            assert_eq!(rejected, 0);
        }
    }
}

#[test]
#[ignore = "quadratic cascade in plan_ledger_import: see the comment above"]
fn a_long_chain_of_gateways_is_checked_in_bounded_time() {
    // Segment S{i} has gateway A{i}; asset A{i} sits in segment S{i+1};
    // the last segment is missing, so the rejection cascades down the chain.
    let n = 2_000;
    let seg_headers = labels(RecordKind::Segment);
    let asset_headers = labels(RecordKind::Asset);
    let seg_columns = RecordKind::Segment.columns();
    let asset_columns = RecordKind::Asset.columns();
    let col =
        |columns: &[Column], field: &str| columns.iter().position(|c| c.field == field).unwrap();
    let segments: Rows = (0..n)
        .map(|i| {
            let mut cells = vec![String::new(); seg_columns.len()];
            cells[col(seg_columns, "key")] = format!("S{i}");
            cells[col(seg_columns, "name")] = format!("segment {i}");
            cells[col(seg_columns, "kind")] = SegmentKind::ALL[0].ja().to_owned();
            cells[col(seg_columns, "gateway")] = format!("A{i}");
            (i as u32 + 2, cells)
        })
        .collect();
    let assets: Rows = (0..n)
        .map(|i| {
            let mut cells = vec![String::new(); asset_columns.len()];
            cells[col(asset_columns, "key")] = format!("A{i}");
            cells[col(asset_columns, "kind")] = AssetKind::ALL[0].ja().to_owned();
            cells[col(asset_columns, "name")] = format!("asset {i}");
            cells[col(asset_columns, "segment")] = format!("S{}", i + 1);
            (i as u32 + 2, cells)
        })
        .collect();
    let inputs = [
        input(RecordKind::Segment, &seg_headers, &segments),
        input(RecordKind::Asset, &asset_headers, &assets),
    ];
    let plan = plan(&inputs, Duration::from_secs(20));
    assert_eq!(
        plan.tables.iter().map(|t| t.rejected_rows()).sum::<usize>(),
        2 * n,
        "{:?}",
        plan.tables
            .iter()
            .map(|t| t.rejected.first())
            .collect::<Vec<_>>()
    );
}

/// Longer runs:
///
/// ```text
/// PROPTEST_CASES=20000 cargo test --release -p mamori-domain --test hostile_ledger_inputs
/// ```
///
/// runs every property above 20,000 times (`PROPTEST_CASES=100000` for an
/// overnight run). A failure prints the minimal input and proptest keeps its
/// seed in `tests/<test>.proptest-regressions` so the next run tries it first.
#[allow(dead_code)]
const LONGER_RUNS: &str =
    "PROPTEST_CASES=20000 cargo test --release -p mamori-domain --test hostile_ledger_inputs";
