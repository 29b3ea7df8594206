//! A statistics release (anonymised results across hospitals) as papers:
//! each protected table as a horizontal bar chart (SVG), the whole release
//! as CSV, as a workbook (a cover sheet and a sheet per table) and as an A4
//! PDF (the facts of the release, then every table).
//!
//! The tables arrive already protected ([`ProtectedTable`]): a withheld
//! entry is printed as `—（秘匿）` / `— (suppressed)`, never as a number,
//! and no bar is drawn for it. Japanese unless the language is `en`.
//!
//! Same conventions as the rest of the crate: SVG with presentation
//! attributes only and every text escaped ([`crate::svg`]); user text never
//! becomes a formula in a workbook ([`crate::sheet_text`]) and gets a leading
//! `'` in CSV; values are written to workbooks as numbers with a number
//! format, not as text.

use std::fmt::Write as _;

use mamori_domain::statistics::{Measure, ProtectedTable, PublishedCell, TOTAL_LABEL};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use crate::DocumentError;
use crate::pdf::{Anchor, BLOCK_SIZE, CELL_SIZE, FOOTER_TEXT_SIZE, Flow, Frame, Ink, TableRow};
use crate::sheet_text::{csv_text, display_width, write_text};
use crate::svg::{FONT, escape, nice_step, num, truncate};

#[cfg(test)]
mod tests;

/// What a statistics document shows besides its tables.
#[derive(Debug, Clone, Copy)]
pub struct StatisticsDocument<'a> {
    /// E.g. 令和8年度 医療機関サイバーセキュリティ調査 集計結果.
    pub title: &'a str,
    /// The release number.
    pub number: i64,
    /// Who the release is for, already in the document's language (一般公開).
    pub audience: &'a str,
    /// The `k` the tables were protected with.
    pub k: u32,
    /// The number of hospitals counted.
    pub hospitals: i64,
    /// The ISO day of publication; empty for a draft.
    pub published_on: &'a str,
    pub tables: &'a [ProtectedTable],
}

/// Whether the words are English (`en`); Japanese otherwise.
fn english(language: &str) -> bool {
    language == "en"
}

// Words ----------------------------------------------------------------------

/// The fixed words of the documents in one language.
struct Words {
    suppressed_cell: &'static str,
    suppressed_bar: &'static str,
    total: &'static str,
    row_header: &'static str,
    title: &'static str,
    number: &'static str,
    audience: &'static str,
    k: &'static str,
    hospitals: &'static str,
    published_on: &'static str,
    draft: &'static str,
    note: &'static str,
    measure: &'static str,
    cover_sheet: &'static str,
    no_values: &'static str,
}

const JA: Words = Words {
    suppressed_cell: "—（秘匿）",
    suppressed_bar: "秘匿",
    total: TOTAL_LABEL,
    row_header: "区分",
    title: "表題",
    number: "公表番号",
    audience: "公表範囲",
    k: "秘匿基準 k",
    hospitals: "集計対象医療機関数",
    published_on: "公表日",
    draft: "（案・未公表）",
    note: "注記",
    measure: "集計値",
    cover_sheet: "概要",
    no_values: "表示できる値がありません",
};

const EN: Words = Words {
    suppressed_cell: "— (suppressed)",
    suppressed_bar: "suppressed",
    total: "Total",
    row_header: "Category",
    title: "Title",
    number: "Release number",
    audience: "Audience",
    k: "Suppression threshold k",
    hospitals: "Hospitals counted",
    published_on: "Published on",
    draft: "(draft, not yet published)",
    note: "Note",
    measure: "Measure",
    cover_sheet: "Summary",
    no_values: "No values to show",
};

fn words(language: &str) -> &'static Words {
    if english(language) { &EN } else { &JA }
}

/// The suppression note with the release's `k`.
fn note(k: u32, language: &str) -> String {
    if english(language) {
        format!(
            "Values computed from fewer than {k} hospitals, and other values that could \
             identify a hospital or expose a specific weakness, are suppressed."
        )
    } else {
        format!("{k}未満の医療機関から算出される値などは秘匿しています")
    }
}

/// One fact of the release: its label, its text and, for a number, the
/// number (which a workbook writes as a number).
struct Fact {
    label: &'static str,
    text: String,
    number: Option<f64>,
}

/// The facts of the release, for every format.
fn facts(doc: &StatisticsDocument<'_>, language: &str) -> Vec<Fact> {
    let w = words(language);
    let published = if doc.published_on.trim().is_empty() {
        w.draft.to_owned()
    } else {
        doc.published_on.trim().to_owned()
    };
    let text = |label, text: String| Fact {
        label,
        text,
        number: None,
    };
    let number = |label, text: String, number: f64| Fact {
        label,
        text,
        number: Some(number),
    };
    vec![
        text(w.title, doc.title.to_owned()),
        number(w.number, doc.number.to_string(), doc.number as f64),
        text(w.audience, doc.audience.to_owned()),
        number(w.k, doc.k.to_string(), f64::from(doc.k)),
        number(w.hospitals, doc.hospitals.to_string(), doc.hospitals as f64),
        text(w.published_on, published),
        text(w.note, note(doc.k, language)),
    ]
}

// Labels and values -------------------------------------------------------------

/// The table's title in `language` (the Japanese one when no English one).
fn table_title<'t>(table: &'t ProtectedTable, language: &str) -> &'t str {
    if english(language) && !table.title_en.trim().is_empty() {
        &table.title_en
    } else {
        &table.title_ja
    }
}

/// Label `index` of `ja`, or of `en` in English when it has one.
fn label<'t>(ja: &'t [String], en: &'t [String], index: usize, language: &str) -> &'t str {
    let english_label = en
        .get(index)
        .filter(|l| english(language) && !l.trim().is_empty());
    english_label
        .or_else(|| ja.get(index))
        .map_or("", String::as_str)
}

fn row_label<'t>(table: &'t ProtectedTable, index: usize, language: &str) -> &'t str {
    label(&table.rows, &table.rows_en, index, language)
}

fn column_label<'t>(table: &'t ProtectedTable, index: usize, language: &str) -> &'t str {
    label(&table.columns, &table.columns_en, index, language)
}

/// `12`, `12.5`, `12.25`: at most two decimals, no trailing zeros.
fn plain_number(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// One entry as printed: a count as a whole number (`6`), a sum with at
/// most two decimals (`12.5`), a share in percent with one decimal
/// (`33.3%`), a mean with one decimal (`12.5`); a withheld entry as
/// `—（秘匿）` (`— (suppressed)` in English).
pub fn cell_text(cell: &PublishedCell, measure: Measure, language: &str) -> String {
    if no_data(cell, measure) {
        return NO_DATA.to_string();
    }
    match cell {
        PublishedCell::Suppressed(_) => words(language).suppressed_cell.to_owned(),
        PublishedCell::Value { value, .. } => match measure {
            // `+ 0.0` turns a negative zero into zero.
            Measure::Count => format!("{:.0}", value.round() + 0.0),
            Measure::Sum => plain_number(*value),
            Measure::Share => format!("{:.1}%", value * 100.0),
            Measure::Mean => format!("{value:.1}"),
        },
    }
}

/// What an empty share or mean shows: no hospital, so no value (a count of
/// nothing is 0; a share of nobody is not 0 %).
const NO_DATA: &str = "—";

fn no_data(cell: &PublishedCell, measure: Measure) -> bool {
    matches!(cell, PublishedCell::Value { hospitals: 0, .. })
        && matches!(measure, Measure::Share | Measure::Mean)
}

// Chart ------------------------------------------------------------------------

const WIDTH: f64 = 720.0;
const LABEL_X: f64 = 12.0;
/// Where the bars start; row labels end a little to the left of it.
const PLOT_LEFT: f64 = 200.0;
/// Where the longest bar ends; the value labels go to its right.
const PLOT_RIGHT: f64 = 620.0;
const TITLE_HEIGHT: f64 = 36.0;
const LEGEND_HEIGHT: f64 = 22.0;
const BAR: f64 = 14.0;
const BAR_GAP: f64 = 3.0;
const GROUP_PAD: f64 = 8.0;
const AXIS_HEIGHT: f64 = 30.0;
const LABEL_SIZE: f64 = 12.0;

const TEXT: &str = "#333333";
const MUTED: &str = "#555555";
const SUPPRESSED: &str = "#8a8a8a";
const GRID: &str = "#e3e6eb";
const AXIS: &str = "#9aa1ab";
/// One colour per column, repeated past the last.
const PALETTE: [&str; 8] = [
    "#1f4e9c", "#ef6c00", "#2e7d32", "#8e24aa", "#00838f", "#c62828", "#6d4c41", "#546e7a",
];

/// Draw `table` as a horizontal bar chart (a group of bars per row, a bar
/// per column) as a standalone SVG document (no XML prolog, so it can be
/// inlined into HTML) in `language` (`ja` unless `en`). A withheld entry
/// gets no bar, only the word 秘匿 / suppressed.
pub fn statistics_chart_svg(table: &ProtectedTable, language: &str) -> String {
    let w = words(language);
    let title = table_title(table, language);
    let rows = table.rows.len();
    let columns = table.columns.len().max(1);
    let legend = table.columns.len() > 1;
    let group = columns as f64 * (BAR + BAR_GAP) - BAR_GAP + 2.0 * GROUP_PAD;
    let plot_top = TITLE_HEIGHT + if legend { LEGEND_HEIGHT } else { 0.0 } + 6.0;
    let plot_bottom = plot_top + group * rows.max(1) as f64;
    let height = plot_bottom + AXIS_HEIGHT;

    // The scale: 0–100 % for shares, else up to a round number past the
    // largest published value.
    let share = table.measure == Measure::Share;
    let largest = table
        .cells
        .iter()
        .flatten()
        .filter_map(PublishedCell::value)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (top, step) = if share {
        (1.0, 0.2)
    } else {
        let step = nice_step(largest);
        (((largest / step).ceil() * step).max(step), step)
    };
    let x = |value: f64| PLOT_LEFT + value.clamp(0.0, top) / top * (PLOT_RIGHT - PLOT_LEFT);

    let mut out = String::with_capacity(2048 + 512 * rows * columns);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" font-size="12" role="img"><title>{title}</title><rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##,
        w = num(WIDTH),
        h = num(height),
        title = escape(title),
    );
    let _ = write!(
        out,
        r#"<text x="{}" y="22" font-size="14" font-weight="bold" fill="{TEXT}">{}</text>"#,
        num(LABEL_X),
        escape(&truncate(title, WIDTH - 2.0 * LABEL_X, 14.0)),
    );

    // Legend: a swatch and the label of each column.
    if legend {
        let y = TITLE_HEIGHT + LEGEND_HEIGHT / 2.0;
        let mut lx = PLOT_LEFT;
        for c in 0..table.columns.len() {
            let text = column_label(table, c, language);
            let shown = truncate(text, 140.0, 11.0);
            let room = crate::svg::text_width(&shown, 11.0) + 30.0;
            if lx + room > WIDTH && lx > PLOT_LEFT {
                // No room left: the rest is in each bar's tooltip.
                break;
            }
            let _ = write!(
                out,
                r#"<g><title>{}</title><rect x="{}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}" font-size="11" fill="{TEXT}">{}</text></g>"#,
                escape(text),
                num(lx),
                num(y - 6.0),
                PALETTE[c % PALETTE.len()],
                num(lx + 16.0),
                num(y + 4.0),
                escape(&shown),
            );
            lx += room;
        }
    }

    // Grid and axis.
    let mut tick = 0.0;
    while tick <= top + step / 2.0 {
        let tx = x(tick);
        let label = if share {
            format!("{}%", num(tick * 100.0))
        } else {
            num(tick)
        };
        let _ = write!(
            out,
            r#"<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="{GRID}" stroke-width="1"/><text x="{x}" y="{ly}" font-size="11" text-anchor="middle" fill="{MUTED}">{}</text>"#,
            escape(&label),
            x = num(tx),
            t = num(plot_top),
            b = num(plot_bottom),
            ly = num(plot_bottom + 16.0),
        );
        tick += step;
    }
    let _ = write!(
        out,
        r#"<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="{AXIS}" stroke-width="1"/><line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="{AXIS}" stroke-width="1"/>"#,
        l = num(PLOT_LEFT),
        r = num(PLOT_RIGHT),
        t = num(plot_top),
        b = num(plot_bottom),
    );

    if rows == 0 || table.columns.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" font-size="13" text-anchor="middle" fill="{SUPPRESSED}">{}</text>"#,
            num((PLOT_LEFT + PLOT_RIGHT) / 2.0),
            num((plot_top + plot_bottom) / 2.0 + 4.0),
            escape(w.no_values),
        );
    }

    for r in 0..rows {
        let group_top = plot_top + group * r as f64;
        let row = row_label(table, r, language);
        if r % 2 == 1 {
            let _ = write!(
                out,
                r##"<rect x="0" y="{}" width="{}" height="{}" fill="#f7f8fa" fill-opacity="0.6"/>"##,
                num(group_top),
                num(PLOT_LEFT),
                num(group),
            );
        }
        let _ = write!(
            out,
            r#"<g><title>{}</title><text x="{}" y="{}" font-size="{}" text-anchor="end" fill="{TEXT}">{}</text></g>"#,
            escape(row),
            num(PLOT_LEFT - 8.0),
            num(group_top + group / 2.0 + 4.0),
            num(LABEL_SIZE),
            escape(&truncate(row, PLOT_LEFT - 8.0 - LABEL_X, LABEL_SIZE)),
        );
        for c in 0..table.columns.len() {
            let bar_top = group_top + GROUP_PAD + (BAR + BAR_GAP) * c as f64;
            let middle = bar_top + BAR / 2.0 + 4.0;
            let column = column_label(table, c, language);
            let cell = table.cells.get(r).and_then(|cells| cells.get(c));
            let Some(cell) = cell else { continue };
            let text = cell_text(cell, table.measure, language);
            let tip = if legend {
                format!("{row} / {column}: {text}")
            } else {
                format!("{row}: {text}")
            };
            match cell.value().filter(|_| !no_data(cell, table.measure)) {
                Some(value) => {
                    let end = x(if value.is_finite() { value } else { 0.0 });
                    let _ = write!(
                        out,
                        r#"<g><title>{}</title><rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"/><text x="{}" y="{}" font-size="11" fill="{TEXT}">{}</text></g>"#,
                        escape(&tip),
                        num(PLOT_LEFT),
                        num(bar_top),
                        num(end - PLOT_LEFT),
                        num(BAR),
                        PALETTE[c % PALETTE.len()],
                        num(end + 4.0),
                        num(middle),
                        escape(&text),
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        r#"<g><title>{}</title><text x="{}" y="{}" font-size="11" fill="{SUPPRESSED}">{}</text></g>"#,
                        escape(&tip),
                        num(PLOT_LEFT + 4.0),
                        num(middle),
                        escape(if no_data(cell, table.measure) {
                            NO_DATA
                        } else {
                            w.suppressed_bar
                        }),
                    );
                }
            }
        }
    }

    out.push_str("</svg>");
    out
}

// CSV ----------------------------------------------------------------------------

/// Writes one block of lines (fields already made safe) as CSV. Writing
/// into memory cannot fail, and a flexible writer takes lines of any
/// length, so there is no error to report.
fn csv_block(out: &mut Vec<u8>, lines: &[Vec<String>]) {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    for line in lines {
        let _ = writer.write_record(line);
    }
    let _ = writer.flush();
}

/// The header line of a table: the row header, the columns and, with row
/// totals, the total.
fn header_line(table: &ProtectedTable, language: &str) -> Vec<String> {
    let w = words(language);
    let mut line = vec![w.row_header.to_owned()];
    line.extend((0..table.columns.len()).map(|c| column_label(table, c, language).to_owned()));
    if !table.row_totals.is_empty() {
        line.push(w.total.to_owned());
    }
    line
}

/// A table as lines of text: the header, a line per row, the column totals
/// when published. The labels are as given (not yet made CSV-safe).
fn table_lines(table: &ProtectedTable, language: &str) -> Vec<Vec<String>> {
    let w = words(language);
    let text = |cell: &PublishedCell| cell_text(cell, table.measure, language);
    let mut lines = vec![header_line(table, language)];
    for r in 0..table.rows.len() {
        let mut line = vec![row_label(table, r, language).to_owned()];
        let cells = table.cells.get(r).map_or(&[][..], Vec::as_slice);
        line.extend((0..table.columns.len()).map(|c| cells.get(c).map_or(String::new(), text)));
        if !table.row_totals.is_empty() {
            line.push(table.row_totals.get(r).map_or(String::new(), text));
        }
        lines.push(line);
    }
    if !table.column_totals.is_empty() {
        let mut line = vec![w.total.to_owned()];
        line.extend(
            (0..table.columns.len())
                .map(|c| table.column_totals.get(c).map_or(String::new(), text)),
        );
        if !table.row_totals.is_empty() {
            line.push(table.total.as_ref().map_or(String::new(), text));
        }
        lines.push(line);
    }
    lines
}

/// The release as CSV: UTF-8 with a BOM (which Excel needs to read
/// Japanese), lines ending in CRLF. A first block with the release's facts
/// and the suppression note, then a block per table (its title, a header,
/// a line per row and the column totals when published), blocks separated
/// by an empty line. Text a spreadsheet would run gets a leading `'`.
pub fn statistics_csv(doc: &StatisticsDocument<'_>, language: &str) -> Vec<u8> {
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    let cover: Vec<Vec<String>> = facts(doc, language)
        .into_iter()
        .map(|fact| vec![csv_text(fact.label), csv_text(&fact.text)])
        .collect();
    csv_block(&mut out, &cover);
    for table in doc.tables {
        out.extend_from_slice(b"\r\n");
        let mut lines = vec![vec![csv_text(table_title(table, language))]];
        lines.extend(
            table_lines(table, language)
                .into_iter()
                .map(|line| line.iter().map(|field| csv_text(field)).collect()),
        );
        csv_block(&mut out, &lines);
    }
    out
}

// Workbook ---------------------------------------------------------------------

const MAX_SHEET_NAME: usize = 31;

/// Valid, distinct sheet names for `titles` (Excel: at most 31 UTF-16
/// units, none of `[]:*?/\`, no apostrophe at either end, unique ignoring
/// case), none equal to one of `taken`.
fn sheet_names<'t>(taken: &[&str], titles: impl IntoIterator<Item = &'t str>) -> Vec<String> {
    let mut names: Vec<String> = taken.iter().map(|t| (*t).to_owned()).collect();
    let reserved = names.len();
    for title in titles {
        let cleaned: String = title
            .chars()
            .map(|c| match c {
                '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect();
        let mut base = cut_sheet_name(&cleaned, MAX_SHEET_NAME);
        if base.is_empty() || base.eq_ignore_ascii_case("history") {
            base = format!("{}", names.len() - reserved + 1);
        }
        let is_taken = |name: &str| {
            names
                .iter()
                .any(|n| n.to_lowercase() == name.to_lowercase())
        };
        let mut name = base.clone();
        let mut n = 2;
        while is_taken(&name) {
            let suffix = format!("({n})");
            name = format!(
                "{}{suffix}",
                cut_sheet_name(&base, MAX_SHEET_NAME - suffix.len())
            );
            n += 1;
        }
        names.push(name);
    }
    names.split_off(reserved)
}

/// Cuts to `max` UTF-16 units without an apostrophe or a space at either
/// end.
fn cut_sheet_name(name: &str, max: usize) -> String {
    let mut out = String::new();
    let mut units = 0;
    for c in name.trim().chars() {
        units += c.len_utf16();
        if units > max {
            break;
        }
        out.push(c);
    }
    out.trim_matches(|c: char| c == '\'' || c.is_whitespace())
        .to_owned()
}

/// Excel's number format for a measure.
fn number_format(measure: Measure) -> &'static str {
    match measure {
        Measure::Count => "#,##0",
        Measure::Sum => "#,##0.0#",
        Measure::Share => "0.0%",
        Measure::Mean => "#,##0.0",
    }
}

struct Formats {
    title: Format,
    label: Format,
    plain: Format,
    plain_quoted: Format,
    number: Format,
    head: Format,
    head_quoted: Format,
    text: Format,
    quoted: Format,
    suppressed: Format,
    total_label: Format,
    total_suppressed: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin);
        let total = cell
            .clone()
            .set_bold()
            .set_background_color("F2F2F2")
            .set_border_top(FormatBorder::Double);
        let head = cell
            .clone()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap()
            .set_background_color("D9E2F3");
        let plain = Format::new().set_text_wrap().set_align(FormatAlign::Top);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            label: Format::new().set_bold().set_align(FormatAlign::Top),
            plain_quoted: plain.clone().set_quote_prefix(),
            plain,
            number: Format::new()
                .set_align(FormatAlign::Left)
                .set_align(FormatAlign::Top)
                .set_num_format("0"),
            head_quoted: head.clone().set_quote_prefix(),
            head,
            text: cell.clone(),
            quoted: cell.clone().set_quote_prefix(),
            suppressed: cell
                .clone()
                .set_align(FormatAlign::Right)
                .set_font_color("7F7F7F"),
            total_label: total.clone(),
            total_suppressed: total.set_align(FormatAlign::Right).set_font_color("7F7F7F"),
        }
    }
}

/// A portrait A4 sheet named `name` with `n / m` at its foot.
fn start_sheet<'a>(book: &'a mut Workbook, name: &str) -> Result<&'a mut Worksheet, DocumentError> {
    let ws = book.add_worksheet();
    ws.set_name(name)?;
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_footer("&C&P / &N");
    Ok(ws)
}

/// The release as a workbook in `language` (`ja` unless `en`): a cover
/// sheet with the release's facts and the suppression note, then a sheet
/// per table. Values are numbers with a number format (percent for
/// shares); withheld entries are text.
pub fn statistics_xlsx(
    doc: &StatisticsDocument<'_>,
    language: &str,
) -> Result<Vec<u8>, DocumentError> {
    let w = words(language);
    let f = Formats::new();
    let mut book = Workbook::new();

    // The cover.
    {
        let ws = start_sheet(&mut book, w.cover_sheet)?;
        write_text(ws, 0, 0, doc.title, &f.title, &f.title)?;
        let mut label_width: f64 = 12.0;
        for (r, fact) in (2u32..).zip(facts(doc, language)) {
            ws.write_string_with_format(r, 0, fact.label, &f.label)?;
            label_width = label_width.max(display_width(fact.label) + 2.0);
            match fact.number {
                Some(number) => {
                    ws.write_number_with_format(r, 1, number, &f.number)?;
                }
                None => write_text(ws, r, 1, &fact.text, &f.plain, &f.plain_quoted)?,
            };
        }
        ws.set_column_width(0, label_width.min(40.0))?;
        ws.set_column_width(1, 70)?;
    }

    let names = sheet_names(
        &[w.cover_sheet],
        doc.tables.iter().map(|t| table_title(t, language)),
    );
    for (table, name) in doc.tables.iter().zip(&names) {
        let ws = start_sheet(&mut book, name)?;
        ws.set_landscape();
        let value_format = Format::new()
            .set_border(FormatBorder::Thin)
            .set_num_format(number_format(table.measure));
        let total_value = value_format
            .clone()
            .set_bold()
            .set_background_color("F2F2F2")
            .set_border_top(FormatBorder::Double);
        write_text(ws, 0, 0, table_title(table, language), &f.title, &f.title)?;
        let measure = format!("{}: {}", w.measure, table.measure.label(language));
        ws.write_string(1, 0, measure)?;

        let header = header_line(table, language);
        let mut widths: Vec<f64> = header.iter().map(|h| display_width(h) + 2.0).collect();
        let head_row = 3u32;
        for (c, text) in (0u16..).zip(&header) {
            write_text(ws, head_row, c, text, &f.head, &f.head_quoted)?;
        }
        let write_cell = |ws: &mut Worksheet,
                          r: u32,
                          c: u16,
                          cell: Option<&PublishedCell>,
                          total: bool,
                          widths: &mut [f64]|
         -> Result<(), DocumentError> {
            let (number, text) = if total {
                (&total_value, &f.total_suppressed)
            } else {
                (&value_format, &f.suppressed)
            };
            match cell {
                Some(cell @ PublishedCell::Value { value, .. })
                    if value.is_finite() && !no_data(cell, table.measure) =>
                {
                    ws.write_number_with_format(r, c, *value, number)?;
                }
                Some(cell) => {
                    let shown = cell_text(cell, table.measure, language);
                    ws.write_string_with_format(r, c, &shown, text)?;
                    if let Some(width) = widths.get_mut(usize::from(c)) {
                        *width = width.max(display_width(&shown) + 2.0);
                    }
                }
                None => {
                    ws.write_blank(r, c, number)?;
                }
            }
            Ok(())
        };
        let width = table.columns.len() as u16;
        let mut r = head_row + 1;
        for row in 0..table.rows.len() {
            let text = row_label(table, row, language);
            write_text(ws, r, 0, text, &f.text, &f.quoted)?;
            widths[0] = widths[0].max(display_width(text) + 2.0);
            let cells = table.cells.get(row).map_or(&[][..], Vec::as_slice);
            for c in 0..width {
                write_cell(ws, r, c + 1, cells.get(usize::from(c)), false, &mut widths)?;
            }
            if !table.row_totals.is_empty() {
                write_cell(
                    ws,
                    r,
                    width + 1,
                    table.row_totals.get(row),
                    true,
                    &mut widths,
                )?;
            }
            r += 1;
        }
        if !table.column_totals.is_empty() {
            ws.write_string_with_format(r, 0, w.total, &f.total_label)?;
            for c in 0..width {
                write_cell(
                    ws,
                    r,
                    c + 1,
                    table.column_totals.get(usize::from(c)),
                    true,
                    &mut widths,
                )?;
            }
            if !table.row_totals.is_empty() {
                write_cell(ws, r, width + 1, table.total.as_ref(), true, &mut widths)?;
            }
        }
        for (c, width) in (0u16..).zip(widths) {
            let max = if c == 0 { 50.0 } else { 30.0 };
            ws.set_column_width(c, width.clamp(10.0, max))?;
        }
        ws.set_freeze_panes(head_row + 1, 1)?;
        ws.set_repeat_rows(head_row, head_row)?;
    }

    Ok(book.save_to_buffer()?)
}

// PDF ------------------------------------------------------------------------------

const A4_SHORT: f32 = 595.28;
const A4_LONG: f32 = 841.89;

const PORTRAIT: Frame = Frame {
    width: A4_SHORT,
    height: A4_LONG,
    margin_x: 56.0,
    top: 60.0,
    bottom: 54.0,
};

const DOCUMENT_TITLE_SIZE: f32 = 18.0;
const TABLE_HEADING_SIZE: f32 = 12.0;
const FOOTER_FROM_BOTTOM: f32 = 24.0;

/// Smaller type the more columns a table has.
fn cell_size(columns: usize) -> f32 {
    if columns <= 6 {
        CELL_SIZE
    } else {
        (CELL_SIZE - 0.35 * (columns - 6) as f32).max(6.0)
    }
}

/// The release as an A4 PDF in `language` (`ja` unless `en`): a title page
/// with the release's facts and the suppression note, then every table
/// (its title and its entries), `n / m` at the foot of every page. The
/// embedded Japanese font draws every text; characters it lacks print as 〓.
pub fn statistics_pdf(
    doc: &StatisticsDocument<'_>,
    language: &str,
) -> Result<Vec<u8>, DocumentError> {
    let w = words(language);
    let (font, face) = crate::pdf::embedded_font()?;
    let mut flow = Flow::new(&face);

    // The title page.
    flow.start_page(PORTRAIT);
    flow.gap(120.0);
    flow.paragraph(doc.title, DOCUMENT_TITLE_SIZE, true, Anchor::Middle);
    flow.gap(40.0);
    let facts: Vec<TableRow> = facts(doc, language)
        .into_iter()
        .filter(|fact| fact.label != w.title)
        .map(|fact| TableRow::Cells(vec![fact.label.to_owned(), fact.text]))
        .collect();
    let (label_head, value_head) = if english(language) {
        ("Item", "Value")
    } else {
        ("項目", "内容")
    };
    flow.table(
        &[(label_head.to_owned(), 1.0), (value_head.to_owned(), 2.2)],
        &facts,
        BLOCK_SIZE,
    );

    // The tables, one after another.
    for (i, table) in doc.tables.iter().enumerate() {
        if i == 0 {
            flow.start_page(PORTRAIT);
        } else {
            flow.gap(18.0);
            // A title is not left alone at the foot of a page.
            flow.keep(TABLE_HEADING_SIZE * 1.5 + BLOCK_SIZE * 1.5 + 60.0);
        }
        flow.paragraph(
            table_title(table, language),
            TABLE_HEADING_SIZE,
            true,
            Anchor::Start,
        );
        flow.paragraph(
            &format!("{}: {}", w.measure, table.measure.label(language)),
            BLOCK_SIZE,
            false,
            Anchor::Start,
        );
        flow.gap(4.0);
        let mut lines = table_lines(table, language).into_iter();
        let header = lines.next().unwrap_or_default();
        let columns: Vec<(String, f32)> = header
            .into_iter()
            .enumerate()
            .map(|(c, text)| (text, if c == 0 { 2.0 } else { 1.0 }))
            .collect();
        let rows: Vec<TableRow> = lines.map(TableRow::Cells).collect();
        flow.table(&columns, &rows, cell_size(columns.len()));
    }

    let total = flow.page_count();
    for index in 0..total {
        let (width, height) = flow.page_size(index).unwrap_or((A4_SHORT, A4_LONG));
        flow.stamp(
            index,
            Ink::Text {
                x: width / 2.0,
                baseline: height - FOOTER_FROM_BOTTOM,
                size: FOOTER_TEXT_SIZE,
                bold: false,
                color: (0, 0, 0),
                anchor: Anchor::Middle,
                max_width: 0.0,
                text: format!("{} / {}", index + 1, total),
            },
        );
    }
    flow.write(font, doc.title, if english(language) { "en" } else { "ja" })
}
