//! Hostile uploads against the workbook and table readers: the ledger's
//! `read_tables` (CSV or .xlsx), the checklist's `read_checklist_answers`
//! and `import_framework` (.xlsx).
//!
//! Property tests: byte mutations of real workbooks (flip, insert, delete,
//! truncate, splice), mutations of the sheet XML inside a well-formed zip,
//! and arbitrary CSV text. Every reader must return (no panic) within a
//! time bound.
//!
//! Plain tests: zip bombs (declared and lying), checked for peak memory in
//! a child process; files that are not zips; a CSV row of 1,000,000 columns
//! and a sheet with a cell in the last column, which must be refused rather
//! than padded into millions of cells per row.
//!
//! Property tests run proptest's default 256 cases; `PROPTEST_CASES`
//! overrides it (see the end of the file).

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use mamori_documents::DocumentError;
use mamori_documents::checklist::{
    FilledSheet, FrameworkMeta, checklist_xlsx, exported_mapping, import_framework,
    read_checklist_answers,
};
use mamori_documents::ledger_sheets::{MAX_TABLE_ROWS, read_tables};
use mamori_domain::checklist::Framework;
use proptest::prelude::*;
use proptest::sample::Index;
use time::macros::date;

const TIME_BOUND: Duration = Duration::from_secs(20);

const FRAMEWORK: &str = r#"
key = "hostile"
title_ja = "チェックリスト"
edition_ja = "令和6年度版"
fiscal_year = 2024
answer_style = "yes-no-dated"

[[forms]]
key = "hospital"
audience = "hospital"
title_ja = "医療機関確認用"

[[forms.sections]]
number = "1"
title_ja = "体制"
[[forms.sections.items]]
number = "1"
text_ja = "責任者を置いている。"
provenance = "verbatim"
[[forms.sections.items]]
number = "2"
text_ja = "バックアップを取っている。"
provenance = "verbatim"
"#;

fn framework() -> Framework {
    Framework::from_toml(FRAMEWORK).unwrap()
}

fn meta(framework: &Framework) -> FrameworkMeta {
    FrameworkMeta {
        key: framework.key.clone(),
        title_ja: framework.title_ja.clone(),
        edition_ja: framework.edition_ja.clone(),
        fiscal_year: framework.fiscal_year,
        answer_style: framework.answer_style,
    }
}

/// A blank checklist export: a real workbook the checklist readers accept.
fn checklist_workbook() -> Vec<u8> {
    let framework = framework();
    let empty = BTreeMap::new();
    let sheets: Vec<FilledSheet> = framework
        .forms
        .iter()
        .map(|form| FilledSheet {
            framework: &framework,
            form,
            hospital: "病院",
            respondent: "山田",
            respondent_role: "",
            answers: &empty,
            confirmed: None,
            generated_on: date!(2024 - 06 - 01),
        })
        .collect();
    checklist_xlsx(&sheets).unwrap()
}

/// A ledger-like workbook (two sheets, a formula-looking text cell): what
/// `read_tables` reads back.
fn ledger_book() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheets: [(&str, &[&[&str]]); 2] = [
        (
            "セグメント",
            &[
                &["セグメント番号", "名称", "種別", "備考"],
                &["MED", "医療系LAN", "医療系", "=cmd|' /C calc'!A0"],
            ],
        ),
        (
            "資産",
            &[
                &["資産番号", "種別", "名称", "ネットワークセグメント"],
                &["SW", "スイッチ", "コアスイッチ", "MED"],
                &["SV", "サーバ", "電子カルテ", "MED"],
            ],
        ),
    ];
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, text) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *text).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Runs every reader on `bytes`; each must come back within the bound.
fn read_all(bytes: &[u8]) -> Vec<Result<(), DocumentError>> {
    let framework = framework();
    let mappings = exported_mapping(&framework);
    let mut results = Vec::new();
    let started = Instant::now();
    results.push(read_tables(bytes).map(|_| ()));
    results.push(read_checklist_answers(bytes, &framework).map(|_| ()));
    results.push(import_framework(bytes, &meta(&framework), &mappings, true).map(|_| ()));
    let took = started.elapsed();
    assert!(took < TIME_BOUND, "{took:?} for {} bytes", bytes.len());
    for r in &results {
        if let Err(e) = r {
            assert!(!e.to_string().trim().is_empty(), "{e:?}");
        }
    }
    results
}

#[derive(Debug, Clone)]
enum ByteEdit {
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Truncate(Index),
    Duplicate(Index, usize, Index),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, bit)| ByteEdit::Flip(i, 1 << bit)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        (
            any::<Index>(),
            prop::sample::select(vec![
                b"<row r=\"1048576\">".to_vec(),
                b"<c r=\"XFD1\" t=\"s\"><v>0</v></c>".to_vec(),
                b"<c r=\"A1\" t=\"s\"><v>4294967295</v></c>".to_vec(),
                b"<c r=\"A1\" t=\"inlineStr\"><is><t>x".to_vec(),
                b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>".to_vec(),
                b"&e;".to_vec(),
                b"<mergeCell ref=\"A1:XFD1048576\"/>".to_vec(),
                b"<dimension ref=\"A1:XFD1048576\"/>".to_vec(),
                b"</".to_vec(),
                b"\xff\xfe".to_vec(),
            ]),
        )
            .prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| ByteEdit::Delete(i, n)),
        any::<Index>().prop_map(ByteEdit::Truncate),
        (any::<Index>(), 1usize..256, any::<Index>())
            .prop_map(|(from, n, to)| ByteEdit::Duplicate(from, n, to)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    let len = bytes.len();
    if len == 0 {
        return;
    }
    match edit {
        ByteEdit::Flip(i, mask) => bytes[i.index(len)] ^= mask,
        ByteEdit::Insert(i, new) => {
            let at = i.index(len + 1);
            bytes.splice(at..at, new.iter().copied());
        }
        ByteEdit::Delete(i, n) => {
            let at = i.index(len);
            bytes.drain(at..(at + n).min(len));
        }
        ByteEdit::Truncate(i) => bytes.truncate(i.index(len)),
        ByteEdit::Duplicate(from, n, to) => {
            let from = from.index(len);
            let span = bytes[from..(from + n).min(len)].to_vec();
            let to = to.index(len + 1);
            bytes.splice(to..to, span);
        }
    }
}

/// The parts of a zip, unpacked.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut part = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            part.read_to_end(&mut data).unwrap();
            (part.name().unwrap().into_owned(), data)
        })
        .collect()
}

fn zip_of(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

proptest! {
    #[test]
    fn mutated_workbooks_never_panic(
        ledger in any::<bool>(),
        edits in prop::collection::vec(byte_edit(), 1..6),
    ) {
        let mut bytes = if ledger { ledger_book() } else { checklist_workbook() };
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        read_all(&bytes);
    }

    /// The zip stays whole; the XML inside one part is mutated, so the
    /// mutation reaches calamine instead of stopping at the zip check.
    #[test]
    fn mutated_parts_inside_a_sound_zip_never_panic(
        ledger in any::<bool>(),
        part in any::<Index>(),
        edits in prop::collection::vec(byte_edit(), 1..6),
    ) {
        let book = if ledger { ledger_book() } else { checklist_workbook() };
        let mut parts = unzip(&book);
        let xml: Vec<usize> = (0..parts.len())
            .filter(|i| parts[*i].0.ends_with(".xml") || parts[*i].0.ends_with(".rels"))
            .collect();
        let which = xml[part.index(xml.len())];
        for edit in &edits {
            apply(&mut parts[which].1, edit);
        }
        read_all(&zip_of(&parts));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        head in prop::sample::select(vec![&b""[..], b"PK\x03\x04", b"PK", b"\xef\xbb\xbf", b"\xff\xfe"]),
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut all = head.to_vec();
        all.extend(bytes);
        read_all(&all);
    }

    #[test]
    fn arbitrary_csv_never_panics(
        rows in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    "\\PC{0,12}",
                    Just("\"".to_owned()),
                    Just("\"a,\"\"b\"".to_owned()),
                    Just("=cmd|' /C calc'!A0".to_owned()),
                    Just("\r".to_owned()),
                    Just("\t".to_owned()),
                ],
                0..12,
            ),
            0..12,
        ),
        separator in prop::sample::select(vec![",", "\t", ";"]),
    ) {
        let text = rows
            .iter()
            .map(|r| r.join(separator))
            .collect::<Vec<_>>()
            .join("\n");
        let started = Instant::now();
        if let Ok(tables) = read_tables(text.as_bytes()) {
            for table in tables {
                for (_, row) in &table.rows {
                    prop_assert_eq!(row.len(), table.headers.len());
                }
            }
        }
        prop_assert!(started.elapsed() < TIME_BOUND);
    }
}

#[test]
fn files_that_are_not_workbooks_are_refused_with_a_message() {
    let real = checklist_workbook();
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(4096, 0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("pdf", b"%PDF-1.7\n%...".to_vec()),
        ("ole", ole),
        ("pk only", b"PK".to_vec()),
        ("pk header and garbage", {
            let mut b = b"PK\x03\x04".to_vec();
            b.extend(std::iter::repeat_n(0xAB, 5000));
            b
        }),
        ("cut in half", real[..real.len() / 2].to_vec()),
        ("no central directory", real[..real.len() - 22].to_vec()),
        (
            "html saved as .xlsx",
            b"<html><table><tr><td>1</td></tr></table></html>".to_vec(),
        ),
        (
            "word document",
            zip_of(&[("word/document.xml".into(), b"<w:document/>".to_vec())]),
        ),
    ];
    for (name, bytes) in cases {
        let framework = framework();
        let err = read_checklist_answers(&bytes, &framework)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(!err.to_string().is_empty(), "{name}");
        let err = import_framework(
            &bytes,
            &meta(&framework),
            &exported_mapping(&framework),
            true,
        )
        .err()
        .unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(!err.to_string().is_empty(), "{name}");
        // The ledger reader takes text too: only the zip-looking ones are
        // workbooks for it.
        if bytes.starts_with(b"PK\x03\x04") || bytes.is_empty() || bytes.starts_with(b"%PDF") {
            assert!(read_tables(&bytes).is_err(), "{name}");
        }
    }
}

// Memory: measured in a child process (the test binary run again for one
// test), so that other tests running in parallel do not count.

const CHILD: &str = "MAMORI_HOSTILE_CHILD";
const RSS_LIMIT_MB: u64 = 300;

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// In the parent, runs `test` alone in a child process and checks the
/// child's peak RSS; in the child, runs `body` and prints its peak.
fn bounded_memory(test: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() || !std::path::Path::new("/proc/self/status").exists() {
        body();
        println!("PEAK_RSS_KB={}", peak_rss_kb());
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{test} in a child: {stdout}\n{stderr}"
    );
    let kb: u64 = stdout
        .split("PEAK_RSS_KB=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("{test}: the child ran no test: {stdout}"));
    println!("{test}: peak RSS {} MB in a child process", kb / 1024);
    assert!(
        kb / 1024 < RSS_LIMIT_MB,
        "{test}: peak RSS {} MB",
        kb / 1024
    );
}

/// Sets the uncompressed size the local header and the central directory
/// declare for `name`.
fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let mut found = false;
    for (signature, size_at, name_len_at, name_at) in
        [(b"PK\x01\x02", 24, 28, 46), (b"PK\x03\x04", 22, 26, 30)]
    {
        let mut at = 0;
        while let Some(pos) = zip[at..]
            .windows(4)
            .position(|w| w == signature)
            .map(|p| p + at)
        {
            let len = u16::from_le_bytes([zip[pos + name_len_at], zip[pos + name_len_at + 1]]);
            let start = pos + name_at;
            if zip.get(start..start + len as usize) == Some(name.as_bytes()) {
                zip[pos + size_at..pos + size_at + 4].copy_from_slice(&size.to_le_bytes());
                found = true;
            }
            at = pos + 4;
        }
    }
    assert!(found, "{name} not in the archive");
}

/// A real workbook whose first sheet is replaced by `sheet` bytes of
/// valid-looking XML (a 1 KB row repeated).
fn workbook_with_huge_sheet(base: Vec<u8>, sheet_bytes: usize) -> Vec<u8> {
    let mut parts = unzip(&base);
    let sheet = parts
        .iter_mut()
        .find(|(name, _)| name == "xl/worksheets/sheet1.xml")
        .unwrap();
    let mut xml = Vec::with_capacity(sheet_bytes + 1024);
    xml.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#);
    let cell = format!(
        r#"<row><c t="inlineStr"><is><t>{}</t></is></c></row>"#,
        "a".repeat(1000)
    );
    while xml.len() < sheet_bytes {
        xml.extend_from_slice(cell.as_bytes());
    }
    xml.extend_from_slice(b"</sheetData></worksheet>");
    sheet.1 = xml;
    zip_of(&parts)
}

#[test]
fn a_zip_bomb_is_refused_in_bounded_memory() {
    bounded_memory("a_zip_bomb_is_refused_in_bounded_memory", || {
        for base in [checklist_workbook(), ledger_book()] {
            // 150 MB of sheet XML, declared honestly.
            let honest = workbook_with_huge_sheet(base.clone(), 150 * 1024 * 1024);
            assert!(honest.len() < 5 * 1024 * 1024, "{}", honest.len());
            for result in read_all(&honest) {
                let err = result.expect_err("a 150 MB sheet was read");
                assert!(
                    matches!(err, DocumentError::UnpackedTooLarge { .. }),
                    "{err:?}"
                );
            }
            // The same declaring 1 KB.
            let mut lying = honest;
            declare_size(&mut lying, "xl/worksheets/sheet1.xml", 1024);
            for result in read_all(&lying) {
                let err = result.expect_err("a lying 150 MB sheet was read");
                assert!(
                    matches!(
                        err,
                        DocumentError::UnpackedTooLarge { .. } | DocumentError::NotAWorkbook { .. }
                    ),
                    "{err:?}"
                );
            }
        }
    });
}

#[test]
fn a_sheet_just_under_the_unpacked_limit_is_read_in_bounded_memory() {
    // 60 MB of XML: under the package limit, so calamine reads it; the
    // cells it holds are bounded by the grid's own limits.
    bounded_memory(
        "a_sheet_just_under_the_unpacked_limit_is_read_in_bounded_memory",
        || {
            let book = workbook_with_huge_sheet(ledger_book(), 60 * 1024 * 1024);
            let results = read_all(&book);
            for result in results.into_iter().flatten() {
                let _: () = result;
            }
        },
    );
}

#[test]
fn a_csv_row_of_a_million_columns_is_refused_or_bounded() {
    bounded_memory(
        "a_csv_row_of_a_million_columns_is_refused_or_bounded",
        || {
            // A header of 1,000,000 columns, then many short rows: padding every
            // row to the header's width would be 10^11 cells.
            let mut text = ",h".repeat(1_000_000);
            text.push('\n');
            for i in 0..100_000 {
                text.push_str(&format!("{}\n", i % 10));
            }
            assert!(text.len() < 10 * 1024 * 1024);
            let started = Instant::now();
            let err = read_tables(text.as_bytes()).expect_err("a million columns were read");
            assert!(started.elapsed() < TIME_BOUND);
            assert!(err.to_string().contains("columns"), "{err}");

            // One data row that wide, under a normal header.
            let mut text = String::from("番号,名称\n");
            text.push_str(&"x,".repeat(1_000_000));
            text.push('\n');
            let err = read_tables(text.as_bytes()).expect_err("a million columns were read");
            assert!(err.to_string().contains("columns"), "{err}");
        },
    );
}

#[test]
fn a_sheet_with_a_cell_in_the_last_column_is_not_padded_to_it() {
    bounded_memory(
        "a_sheet_with_a_cell_in_the_last_column_is_not_padded_to_it",
        || {
            // 4,000 short rows and one cell at XFD1: 16,384 columns wide.
            let mut parts = unzip(&ledger_book());
            let sheet = parts
                .iter_mut()
                .find(|(name, _)| name == "xl/worksheets/sheet1.xml")
                .unwrap();
            let mut xml = String::from(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>番号</t></is></c><c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>"#,
            );
            for r in 2..4_000 {
                xml.push_str(&format!(
                    r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>K{r}</t></is></c></row>"#
                ));
            }
            xml.push_str("</sheetData></worksheet>");
            sheet.1 = xml.into_bytes();
            let book = zip_of(&parts);
            let started = Instant::now();
            let result = read_tables(&book);
            assert!(started.elapsed() < TIME_BOUND);
            let err = result.expect_err("16,384 columns were read");
            assert!(err.to_string().contains("columns"), "{err}");
        },
    );
}

#[test]
fn many_csv_rows_are_refused_past_the_limit() {
    let mut text = String::from("番号,名称\n");
    for i in 0..=MAX_TABLE_ROWS {
        text.push_str(&format!("K{i},n\n"));
    }
    let err = read_tables(text.as_bytes()).expect_err("too many rows were read");
    assert!(matches!(err, DocumentError::TooManyRows { .. }), "{err:?}");
}

#[test]
fn formula_cells_come_back_as_text() {
    let tables = read_tables(&ledger_book()).unwrap();
    let all: Vec<&String> = tables
        .iter()
        .flat_map(|t| t.rows.iter().flat_map(|(_, r)| r))
        .collect();
    assert!(all.iter().any(|c| *c == "=cmd|' /C calc'!A0"), "{all:?}");

    let csv = "番号,名称,備考\nA1,=cmd|' /C calc'!A0,\"@SUM(1)\"\n";
    let tables = read_tables(csv.as_bytes()).unwrap();
    assert_eq!(tables[0].rows[0].1[1], "=cmd|' /C calc'!A0");
    assert_eq!(tables[0].rows[0].1[2], "@SUM(1)");
}

/// Longer runs:
///
/// ```text
/// PROPTEST_CASES=20000 cargo test --release -p mamori-documents --test hostile_workbooks
/// ```
///
/// runs every property above 20,000 times (`PROPTEST_CASES=100000` for an
/// overnight run). A failure prints the minimal input and proptest keeps its
/// seed in `tests/<test>.proptest-regressions` so the next run tries it first.
#[allow(dead_code)]
const LONGER_RUNS: &str =
    "PROPTEST_CASES=20000 cargo test --release -p mamori-documents --test hostile_workbooks";
