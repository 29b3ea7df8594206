//! A hospital's ledger as spreadsheets: a workbook with one sheet per record
//! kind (the sheets read back in as an import), CSV per kind, and the rows of
//! an uploaded CSV or Excel file as text for the domain's import plan.
//!
//! Japanese Excel saves CSV as Shift_JIS; UTF-8 (with or without BOM) and
//! UTF-16 with BOM (Excel's "Unicode text", tab-separated) are read too.

use crate::DocumentError;
use crate::checklist::workbook::Book;
use crate::sheet_text::{csv_cell, csv_text, display_width, write_text};
use mamori_domain::ledger::{Ledger, RecordKind, RowRecord};
use rust_xlsxwriter::{Format, FormatBorder, Workbook};

/// The largest table file we read.
pub const MAX_TABLE_BYTES: usize = 10 * 1024 * 1024;

/// The most data rows a table may have.
pub const MAX_TABLE_ROWS: usize = 100_000;

/// The most columns a table may have: every row is padded to the widest,
/// so one very wide row would otherwise multiply into every other row.
pub const MAX_TABLE_COLUMNS: usize = 1_000;

fn too_wide(sheet: &str, row: u32, columns: usize) -> DocumentError {
    DocumentError::NotATable {
        reason: format!(
            "row {row} of {sheet} has {columns} columns; a ledger table has at most {MAX_TABLE_COLUMNS}"
        ),
    }
}

/// One table of an uploaded file: its header row and its data rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The sheet's name, or `CSV`.
    pub name: String,
    /// The row number of the header (1-based, as the file shows it).
    pub header_row: u32,
    pub headers: Vec<String>,
    /// Data rows with their row numbers, every row as long as the headers.
    pub rows: Vec<(u32, Vec<String>)>,
}

impl Table {
    /// The record kind a sheet named after it holds (資産, assets, asset, …).
    pub fn kind(&self) -> Option<RecordKind> {
        RecordKind::from_text(&self.name).ok()
    }
}

/// What kind of file an upload is, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Xlsx,
}

pub fn detect_format(bytes: &[u8]) -> Result<TableFormat, DocumentError> {
    if bytes.len() > MAX_TABLE_BYTES {
        return Err(DocumentError::TableTooLarge {
            bytes: bytes.len(),
            max: MAX_TABLE_BYTES,
        });
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(TableFormat::Xlsx);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(DocumentError::ProtectedOrLegacyWorkbook);
    }
    if bytes.starts_with(b"%PDF") {
        return Err(DocumentError::NotATable {
            reason: "it is a PDF".into(),
        });
    }
    if bytes.trim_ascii().is_empty() {
        return Err(DocumentError::NotATable {
            reason: "it is empty".into(),
        });
    }
    // Text never holds NUL bytes, except as UTF-16.
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    if !utf16 && bytes.iter().take(8192).any(|b| *b == 0) {
        return Err(DocumentError::NotATable {
            reason: "it holds binary data".into(),
        });
    }
    Ok(TableFormat::Csv)
}

/// Reads every table of an upload: each worksheet of a workbook that has a
/// header row, or the one table of a CSV file.
pub fn read_tables(bytes: &[u8]) -> Result<Vec<Table>, DocumentError> {
    match detect_format(bytes)? {
        TableFormat::Xlsx => read_workbook(bytes),
        TableFormat::Csv => Ok(vec![read_csv(bytes)?]),
    }
}

fn decode_text(bytes: &[u8]) -> Result<String, DocumentError> {
    if let Some((text, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (decoded, had_errors) = text.decode_with_bom_removal(bytes);
        if had_errors {
            return Err(DocumentError::NotATable {
                reason: format!("it is not valid {}", text.name()),
            });
        }
        return Ok(decoded.into_owned());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|t| t.into_owned())
        .ok_or_else(|| DocumentError::NotATable {
            reason: "its text is neither UTF-8 nor Shift_JIS".into(),
        })
}

fn read_csv(bytes: &[u8]) -> Result<Table, DocumentError> {
    let text = decode_text(bytes)?;
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut header: Option<(u32, Vec<String>)> = None;
    let mut rows = Vec::new();
    // The reader skips blank lines without counting them and places a record
    // where the previous one ended, so lines are counted here: from that
    // offset past any line breaks to the record's first character.
    let mut counted_to = 0usize;
    let mut line = 1u32;
    let mut line_at = |byte: usize| {
        let rest = text.as_bytes().get(byte..).unwrap_or_default();
        let skipped = rest
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let end = (byte + skipped).min(text.len());
        if end > counted_to {
            line += text.as_bytes()[counted_to..end]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u32;
            counted_to = end;
        }
        line
    };
    for record in reader.records() {
        let record = record.map_err(|e| DocumentError::UnreadableCsv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = line_at(record.position().map_or(0, |p| p.byte() as usize));
        if record.len() > MAX_TABLE_COLUMNS {
            return Err(too_wide("CSV", line, record.len()));
        }
        let cells: Vec<String> = record
            .iter()
            .map(|c| csv_cell(c.trim()).to_owned())
            .collect();
        if header.is_none() {
            if cells.iter().any(|c| !c.is_empty()) {
                header = Some((line, cells));
            }
            continue;
        }
        if rows.len() >= MAX_TABLE_ROWS {
            return Err(DocumentError::TooManyRows {
                sheet: "CSV".into(),
                row: line,
                max: MAX_TABLE_ROWS as u32,
            });
        }
        rows.push((line, cells));
    }
    let Some((header_row, headers)) = header else {
        return Err(DocumentError::NotATable {
            reason: "it has no header row".into(),
        });
    };
    Ok(shape(Table {
        name: "CSV".into(),
        header_row,
        headers,
        rows,
    }))
}

/// Every row as long as the header (short rows padded, extra cells kept
/// only if they hold something, under a blank header).
fn shape(mut table: Table) -> Table {
    let width = table
        .rows
        .iter()
        .map(|(_, r)| r.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1))
        .max()
        .unwrap_or(0)
        .max(table.headers.len());
    table.headers.resize(width, String::new());
    for (_, row) in &mut table.rows {
        row.resize(width, String::new());
    }
    table
}

fn read_workbook(bytes: &[u8]) -> Result<Vec<Table>, DocumentError> {
    let mut book = Book::open(bytes)?;
    let mut tables = Vec::new();
    for name in book.sheet_names() {
        let grid = book.grid(&name)?;
        let Some(last) = grid.last_row() else {
            continue;
        };
        // The header is the first row with text in it.
        let Some(header_index) = (0..=last).find(|r| grid.row(*r).next().is_some()) else {
            continue;
        };
        let width = (header_index..=last)
            .filter_map(|r| grid.row(r).map(|(c, _)| c).max())
            .max()
            .map_or(0, |c| c + 1);
        if width as usize > MAX_TABLE_COLUMNS {
            let row = (header_index..=last)
                .find(|r| grid.row(*r).any(|(c, _)| c as usize >= MAX_TABLE_COLUMNS))
                .unwrap_or(header_index);
            return Err(too_wide(&name, row + 1, width as usize));
        }
        let row_text = |r: u32| (0..width).map(|c| grid.text(r, c)).collect::<Vec<_>>();
        let rows: Vec<(u32, Vec<String>)> = (header_index + 1..=last)
            .map(|r| (r + 1, row_text(r)))
            .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
            .collect();
        if rows.len() > MAX_TABLE_ROWS {
            return Err(DocumentError::TooManyRows {
                sheet: name,
                row: rows[MAX_TABLE_ROWS].0,
                max: MAX_TABLE_ROWS as u32,
            });
        }
        tables.push(shape(Table {
            name,
            header_row: header_index + 1,
            headers: row_text(header_index),
            rows,
        }));
    }
    if tables.is_empty() {
        return Err(DocumentError::NotATable {
            reason: "no sheet of the workbook has data".into(),
        });
    }
    Ok(tables)
}

/// The header labels of a record kind in `language` (`ja` unless `en`).
pub fn headers<R: RowRecord>(language: &str) -> Vec<&'static str> {
    R::COLUMNS.iter().map(|c| c.label(language)).collect()
}

/// Records of one kind as CSV (UTF-8 with a BOM, which Excel needs to
/// read Japanese), with the headers an import reads back.
pub fn records_csv<R: RowRecord>(records: &[R], language: &str) -> Result<Vec<u8>, DocumentError> {
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let csv_error = |e: csv::Error| DocumentError::InvalidRow {
            row: 0,
            field: "csv",
            reason: e.to_string(),
        };
        writer
            .write_record(headers::<R>(language))
            .map_err(csv_error)?;
        for r in records {
            // Formula-looking text is defused, as in every export.
            let cells = r.to_cells();
            writer
                .write_record(cells.iter().map(|c| csv_text(c)))
                .map_err(csv_error)?;
        }
        writer.flush().map_err(|e| DocumentError::InvalidRow {
            row: 0,
            field: "csv",
            reason: e.to_string(),
        })?;
    }
    Ok(out)
}

fn write_sheet<R: RowRecord>(
    book: &mut Workbook,
    kind: RecordKind,
    records: &[R],
    language: &str,
) -> Result<(), DocumentError> {
    let head = Format::new()
        .set_bold()
        .set_background_color("D9E2F3")
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let body = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    let quoted = body.clone().set_quote_prefix();
    let sheet = book.add_worksheet();
    sheet.set_name(kind.label(language))?;
    let labels = headers::<R>(language);
    let mut widths: Vec<f64> = labels.iter().map(|l| display_width(l) + 2.0).collect();
    for (col, label) in labels.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *label, &head)?;
    }
    for (i, record) in records.iter().enumerate() {
        let row = i as u32 + 1;
        for (col, text) in record.to_cells().iter().enumerate() {
            write_text(sheet, row, col as u16, text, &body, &quoted)?;
            let longest = text.lines().map(display_width).fold(0.0, f64::max);
            widths[col] = widths[col].max(longest + 2.0);
        }
    }
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, width.min(60.0))?;
    }
    sheet.set_freeze_panes(1, 1)?;
    if !labels.is_empty() {
        sheet.autofilter(0, 0, records.len() as u32, labels.len() as u16 - 1)?;
    }
    Ok(())
}

/// The whole ledger as a workbook, one sheet per record kind named by its
/// label; importing the workbook again changes nothing.
pub fn ledger_workbook(ledger: &Ledger, language: &str) -> Result<Vec<u8>, DocumentError> {
    let mut book = Workbook::new();
    write_sheet(&mut book, RecordKind::Asset, &ledger.assets, language)?;
    write_sheet(&mut book, RecordKind::Segment, &ledger.segments, language)?;
    write_sheet(&mut book, RecordKind::Link, &ledger.links, language)?;
    write_sheet(
        &mut book,
        RecordKind::Connection,
        &ledger.connections,
        language,
    )?;
    write_sheet(
        &mut book,
        RecordKind::Investigation,
        &ledger.investigations,
        language,
    )?;
    write_sheet(&mut book, RecordKind::Backup, &ledger.backups, language)?;
    write_sheet(&mut book, RecordKind::Role, &ledger.roles, language)?;
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests;
