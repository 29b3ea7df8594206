//! The report as a workbook: 表紙, 指摘事項 and a sheet per deliverable.
//! Each sheet starts with 機密 and the recipient (and has them in its print
//! header); a deliverable's sheet then has its heading and version, a blank
//! row, and each table as a caption row, a header row and its rows, tables
//! one blank row apart.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use mamori_domain::deliverable::{ReportContent, cell_text};
use rust_xlsxwriter::{Format, FormatBorder, Workbook, Worksheet};

use super::{affected_text, caption, cover_lines, heading, recipient_line, version_text, words};
use crate::DocumentError;
use crate::checklist::workbook::check_package;
use crate::sheet_text::{display_width, write_text};

/// Widest a column gets, in Excel's units.
const MAX_WIDTH: f64 = 60.0;

struct Formats {
    title: Format,
    confidential: Format,
    caption: Format,
    head: Format,
    body: Format,
    quoted: Format,
    plain: Format,
    plain_quoted: Format,
}

impl Formats {
    fn new() -> Formats {
        let body = Format::new()
            .set_border(FormatBorder::Thin)
            .set_text_wrap()
            .set_align(rust_xlsxwriter::FormatAlign::Top);
        let plain = Format::new();
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            confidential: Format::new().set_bold().set_font_color("B71C1C"),
            caption: Format::new().set_bold(),
            head: Format::new()
                .set_bold()
                .set_background_color("D9E2F3")
                .set_border(FormatBorder::Thin)
                .set_text_wrap(),
            quoted: body.clone().set_quote_prefix(),
            body,
            plain_quoted: plain.clone().set_quote_prefix(),
            plain,
        }
    }
}

/// A sheet being written: the next row and the widest text per column.
struct Sheet<'a> {
    sheet: &'a mut Worksheet,
    row: u32,
    widths: Vec<f64>,
}

impl Sheet<'_> {
    fn measure(&mut self, col: usize, text: &str) {
        if self.widths.len() <= col {
            self.widths.resize(col + 1, 8.0);
        }
        let longest = text.lines().map(display_width).fold(0.0, f64::max);
        self.widths[col] = self.widths[col].max(longest + 2.0);
    }

    /// One row of texts in `format`; user text never becomes a formula.
    fn line(
        &mut self,
        cells: &[&str],
        format: &Format,
        quoted: &Format,
        measure: bool,
    ) -> Result<(), DocumentError> {
        for (col, text) in cells.iter().enumerate() {
            if !text.is_empty() {
                write_text(self.sheet, self.row, col as u16, text, format, quoted)?;
            }
            if measure {
                self.measure(col, text);
            }
        }
        self.row += 1;
        Ok(())
    }

    fn finish(self) -> Result<(), DocumentError> {
        for (col, width) in self.widths.iter().enumerate() {
            self.sheet
                .set_column_width(col as u16, width.min(MAX_WIDTH))?;
        }
        Ok(())
    }
}

/// Header/footer text escapes `&` by doubling it.
fn header_escape(text: &str) -> String {
    text.chars()
        .take(100)
        .collect::<String>()
        .replace('&', "&&")
}

/// Starts a sheet: its name, 機密 and the recipient on the first row and in
/// the print header, landscape printing.
fn start_sheet<'a>(
    book: &'a mut Workbook,
    name: &str,
    report: &ReportContent,
    language: &str,
    formats: &Formats,
) -> Result<Sheet<'a>, DocumentError> {
    let w = words(language);
    let recipient = recipient_line(report, language);
    let sheet = book.add_worksheet();
    sheet.set_name(name)?;
    sheet.set_landscape();
    sheet.set_header(format!(
        "&L{}&R{}",
        header_escape(w.confidential),
        header_escape(&recipient)
    ));
    sheet.set_footer("&C&P / &N");
    let mut sheet = Sheet {
        sheet,
        row: 0,
        widths: Vec::new(),
    };
    write_text(
        sheet.sheet,
        0,
        0,
        w.confidential,
        &formats.confidential,
        &formats.confidential,
    )?;
    write_text(
        sheet.sheet,
        0,
        1,
        &recipient,
        &formats.plain,
        &formats.plain_quoted,
    )?;
    sheet.row = 1;
    Ok(sheet)
}

/// The report as an .xlsx workbook in `language` (`ja` unless `en`).
pub fn report_workbook(report: &ReportContent, language: &str) -> Result<Vec<u8>, DocumentError> {
    let w = words(language);
    let formats = Formats::new();
    let mut book = Workbook::new();

    // 表紙
    {
        let mut sheet = start_sheet(&mut book, w.cover_sheet, report, language, &formats)?;
        sheet.row += 1;
        sheet.line(&[w.title], &formats.title, &formats.title, false)?;
        sheet.row += 1;
        for (label, value) in cover_lines(report, language) {
            sheet.line(
                &[label, &value],
                &formats.plain,
                &formats.plain_quoted,
                true,
            )?;
        }
        sheet.finish()?;
    }

    // 指摘事項
    {
        let mut sheet = start_sheet(&mut book, w.findings_sheet, report, language, &formats)?;
        sheet.line(&[w.findings], &formats.title, &formats.title, false)?;
        sheet.row += 1;
        if report.findings.is_empty() {
            sheet.line(
                &[w.no_findings],
                &formats.plain,
                &formats.plain_quoted,
                false,
            )?;
        } else {
            let [number, severity, finding, affected, recommendation] = w.finding_columns;
            let header = [
                number,
                severity,
                finding,
                w.detail,
                affected,
                recommendation,
            ];
            sheet.line(&header, &formats.head, &formats.head, true)?;
            let first = sheet.row;
            for f in &report.findings {
                let cells = [
                    f.number.to_string(),
                    f.severity.label(language).to_owned(),
                    f.title.clone(),
                    f.detail.clone(),
                    affected_text(f, language),
                    f.recommendation.clone(),
                ];
                let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                sheet.line(&cells, &formats.body, &formats.quoted, true)?;
            }
            sheet.sheet.set_freeze_panes(first, 0)?;
        }
        sheet.finish()?;
    }

    // ① to ⑦
    for deliverable in &report.deliverables {
        let content = &deliverable.content;
        let index = usize::from(content.kind.number()).saturating_sub(1);
        let name = w.sheets.get(index).copied().unwrap_or("?");
        let mut sheet = start_sheet(&mut book, name, report, language, &formats)?;
        let title = heading(content.kind, language);
        sheet.line(&[&title], &formats.title, &formats.title, false)?;
        let version = version_text(deliverable.version, language);
        sheet.line(&[&version], &formats.plain, &formats.plain_quoted, false)?;
        for table in &content.tables {
            sheet.row += 1;
            sheet.line(
                &[caption(table, language)],
                &formats.caption,
                &formats.caption,
                false,
            )?;
            let header: Vec<&str> = table.columns.iter().map(|c| c.label(language)).collect();
            sheet.line(&header, &formats.head, &formats.head, true)?;
            for row in &table.rows {
                let cells: Vec<std::borrow::Cow<'_, str>> = (0..table.columns.len())
                    .map(|i| cell_text(row.cells.get(i).map_or("", String::as_str), language))
                    .collect();
                let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
                sheet.line(&cells, &formats.body, &formats.quoted, true)?;
            }
        }
        sheet.finish()?;
    }
    Ok(book.save_to_buffer()?)
}

/// A sheet's name and its rows of text.
pub type SheetRows = (String, Vec<Vec<String>>);

/// Every sheet of a workbook as rows of text, in sheet order: rows from the
/// first, each without its trailing empty cells (a blank row is empty).
/// Reads back what [`report_workbook`] wrote, for checks and tests.
pub fn report_workbook_tables(bytes: &[u8]) -> Result<Vec<SheetRows>, DocumentError> {
    check_package(bytes)?;
    let mut xlsx: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| DocumentError::UnreadableWorkbook {
            sheet: None,
            message: e.to_string(),
        })?;
    let mut sheets = Vec::new();
    for name in xlsx.sheet_names() {
        let range = xlsx
            .worksheet_range(&name)
            .map_err(|e| DocumentError::UnreadableWorkbook {
                sheet: Some(name.clone()),
                message: e.to_string(),
            })?;
        let mut rows: Vec<Vec<String>> = Vec::new();
        if let Some((top, left)) = range.start() {
            rows.resize(top as usize, Vec::new());
            for row in range.rows() {
                let mut cells: Vec<String> = vec![String::new(); left as usize];
                cells.extend(row.iter().map(crate::checklist::workbook::cell_text));
                while cells.last().is_some_and(String::is_empty) {
                    cells.pop();
                }
                rows.push(cells);
            }
        }
        sheets.push((name, rows));
    }
    Ok(sheets)
}
