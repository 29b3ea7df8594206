//! The secretariat's roll-up across engagements: 工数集計 (one line per
//! engagement and a total) and 行別実績 (actual hours by sheet row), as a
//! workbook; the first sheet also as CSV.

use mamori_domain::labour::{Hours, PLAN_ROWS};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use super::{RollupRow, english};
use crate::DocumentError;
use crate::sheet_text::{csv_text, display_width, write_text};

const HOURS: &str = "#,##0.00";
const YEN: &str = "#,##0";
const PERCENT: &str = "0";

struct Words {
    summary_sheet: &'static str,
    by_row_sheet: &'static str,
    columns: [&'static str; 10],
    total: &'static str,
    alert_separator: &'static str,
}

fn words(language: &str) -> Words {
    if english(language) {
        Words {
            summary_sheet: "Labour summary",
            by_row_sheet: "Actual by row",
            columns: [
                "Hospital",
                "Survey company",
                "State",
                "Planned hours",
                "Actual hours",
                "% of plan",
                "Forecast hours",
                "Actual cost (yen)",
                "Labour cap (yen)",
                "Alerts",
            ],
            total: "Total",
            alert_separator: "; ",
        }
    } else {
        Words {
            summary_sheet: "工数集計",
            by_row_sheet: "行別実績",
            columns: [
                "病院",
                "調査企業",
                "状態",
                "予定工数(時間)",
                "実績工数(時間)",
                "消化率(%)",
                "完了見込(時間)",
                "人件費実績(円)",
                "人件費上限(円)",
                "アラート",
            ],
            total: "合計",
            alert_separator: "、",
        }
    }
}

/// Actual in percent of plan, rounded down like the alerts; none without
/// a plan.
fn percent(actual: Hours, plan: Hours) -> Option<i64> {
    (plan.hundredths() > 0).then(|| {
        let p = i128::from(actual.hundredths()) * 100 / i128::from(plan.hundredths());
        i64::try_from(p).unwrap_or(i64::MAX)
    })
}

/// The total line's figures.
struct Totals {
    plan: Hours,
    actual: Hours,
    forecast: Hours,
    cost: i128,
    cap: i128,
}

fn totals(rows: &[RollupRow]) -> Totals {
    Totals {
        plan: rows.iter().map(|r| r.plan).sum(),
        actual: rows.iter().map(|r| r.actual).sum(),
        forecast: rows.iter().map(|r| r.forecast).sum(),
        cost: rows.iter().map(|r| i128::from(r.actual_cost_yen)).sum(),
        cap: rows.iter().map(|r| i128::from(r.cap_yen)).sum(),
    }
}

struct Formats {
    head: Format,
    text: Format,
    quoted: Format,
    hours: Format,
    yen: Format,
    percent: Format,
    total: Format,
    total_hours: Format,
    total_yen: Format,
    total_percent: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin);
        let total = cell
            .clone()
            .set_bold()
            .set_background_color("F2F2F2")
            .set_border_top(FormatBorder::Double);
        Formats {
            head: cell
                .clone()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap()
                .set_background_color("D9E2F3"),
            text: cell.clone(),
            quoted: cell.clone().set_quote_prefix(),
            hours: cell.clone().set_num_format(HOURS),
            yen: cell.clone().set_num_format(YEN),
            percent: cell.set_num_format(PERCENT),
            total_hours: total.clone().set_num_format(HOURS),
            total_yen: total.clone().set_num_format(YEN),
            total_percent: total.clone().set_num_format(PERCENT),
            total,
        }
    }
}

/// The roll-up as an .xlsx workbook in `language` (`ja` unless `en`):
/// 工数集計 and 行別実績, each with a total line (values, not formulas).
pub fn labour_rollup_xlsx(rows: &[RollupRow], language: &str) -> Result<Vec<u8>, DocumentError> {
    let w = words(language);
    let f = Formats::new();
    let mut book = Workbook::new();

    // 工数集計
    {
        let ws = start(&mut book, w.summary_sheet)?;
        let mut widths: Vec<f64> = w.columns.iter().map(|c| display_width(c) + 2.0).collect();
        for (col, h) in (0u16..).zip(w.columns) {
            ws.write_string_with_format(0, col, h, &f.head)?;
        }
        for (r, row) in (1u32..).zip(rows) {
            let alerts = row.alerts.join(w.alert_separator);
            for (col, text) in [
                (0u16, row.hospital.as_str()),
                (1, row.company.as_str()),
                (2, row.state.as_str()),
                (9, alerts.as_str()),
            ] {
                write_text(ws, r, col, text, &f.text, &f.quoted)?;
                let width = &mut widths[usize::from(col)];
                *width = width.max(display_width(text) + 2.0);
            }
            ws.write_number_with_format(r, 3, row.plan.as_f64(), &f.hours)?;
            ws.write_number_with_format(r, 4, row.actual.as_f64(), &f.hours)?;
            match percent(row.actual, row.plan) {
                Some(p) => ws.write_number_with_format(r, 5, p as f64, &f.percent)?,
                None => ws.write_blank(r, 5, &f.percent)?,
            };
            ws.write_number_with_format(r, 6, row.forecast.as_f64(), &f.hours)?;
            ws.write_number_with_format(r, 7, row.actual_cost_yen as f64, &f.yen)?;
            ws.write_number_with_format(r, 8, row.cap_yen as f64, &f.yen)?;
        }
        let r = rows.len() as u32 + 1;
        let t = totals(rows);
        ws.write_string_with_format(r, 0, w.total, &f.total)?;
        for col in [1, 2, 9] {
            ws.write_blank(r, col, &f.total)?;
        }
        ws.write_number_with_format(r, 3, t.plan.as_f64(), &f.total_hours)?;
        ws.write_number_with_format(r, 4, t.actual.as_f64(), &f.total_hours)?;
        match percent(t.actual, t.plan) {
            Some(p) => ws.write_number_with_format(r, 5, p as f64, &f.total_percent)?,
            None => ws.write_blank(r, 5, &f.total_percent)?,
        };
        ws.write_number_with_format(r, 6, t.forecast.as_f64(), &f.total_hours)?;
        ws.write_number_with_format(r, 7, t.cost as f64, &f.total_yen)?;
        ws.write_number_with_format(r, 8, t.cap as f64, &f.total_yen)?;
        for (col, width) in (0u16..).zip(widths) {
            let max = if col == 9 { 60.0 } else { 40.0 };
            ws.set_column_width(col, width.clamp(8.0, max))?;
        }
        ws.set_freeze_panes(1, 1)?;
    }

    // 行別実績: engagements down, the seventeen rows across.
    {
        let ws = start(&mut book, w.by_row_sheet)?;
        let mut widths = [
            display_width(w.columns[0]) + 2.0,
            display_width(w.columns[1]) + 2.0,
        ];
        ws.write_string_with_format(0, 0, w.columns[0], &f.head)?;
        ws.write_string_with_format(0, 1, w.columns[1], &f.head)?;
        for (col, spec) in (2u16..).zip(PLAN_ROWS.iter()) {
            let head = if spec.deliverable.is_some() {
                format!(
                    "{}. {}（{}）",
                    spec.number,
                    spec.item(language),
                    spec.activity.label(language)
                )
            } else {
                format!("{}. {}", spec.number, spec.item(language))
            };
            ws.write_string_with_format(0, col, head, &f.head)?;
        }
        let total_col = 2 + PLAN_ROWS.len() as u16;
        ws.write_string_with_format(0, total_col, w.total, &f.head)?;
        ws.set_row_height(0, 110)?;
        let mut column_totals = [Hours::ZERO; 17];
        for (r, row) in (1u32..).zip(rows) {
            for (col, text) in [(0u16, row.hospital.as_str()), (1, row.company.as_str())] {
                write_text(ws, r, col, text, &f.text, &f.quoted)?;
                let width = &mut widths[usize::from(col)];
                *width = width.max(display_width(text) + 2.0);
            }
            for ((col, hours), sum) in (2u16..).zip(row.by_row).zip(column_totals.iter_mut()) {
                ws.write_number_with_format(r, col, hours.as_f64(), &f.hours)?;
                *sum += hours;
            }
            let row_total: Hours = row.by_row.iter().copied().sum();
            ws.write_number_with_format(r, total_col, row_total.as_f64(), &f.total_hours)?;
        }
        let r = rows.len() as u32 + 1;
        ws.write_string_with_format(r, 0, w.total, &f.total)?;
        ws.write_blank(r, 1, &f.total)?;
        for (col, hours) in (2u16..).zip(column_totals) {
            ws.write_number_with_format(r, col, hours.as_f64(), &f.total_hours)?;
        }
        let all: Hours = column_totals.iter().copied().sum();
        ws.write_number_with_format(r, total_col, all.as_f64(), &f.total_hours)?;
        for (col, width) in (0u16..).zip(widths) {
            ws.set_column_width(col, width.clamp(8.0, 40.0))?;
        }
        for col in 2..=total_col {
            ws.set_column_width(col, 13)?;
        }
        ws.set_freeze_panes(1, 2)?;
    }

    Ok(book.save_to_buffer()?)
}

/// A landscape A4 sheet named `name`.
fn start<'a>(book: &'a mut Workbook, name: &str) -> Result<&'a mut Worksheet, DocumentError> {
    let ws = book.add_worksheet();
    ws.set_name(name)?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0)?;
    ws.set_footer("&C&P / &N");
    Ok(ws)
}

/// The roll-up's first sheet (工数集計) as CSV: UTF-8 with a BOM (which
/// Excel needs to read Japanese), a header, a line per engagement and a
/// total. Text a spreadsheet would run gets a leading `'`; hours and yen
/// are plain numbers.
pub fn labour_rollup_csv(rows: &[RollupRow], language: &str) -> Result<Vec<u8>, DocumentError> {
    let w = words(language);
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    let csv_error = |reason: String| DocumentError::InvalidRow {
        row: 0,
        field: "csv",
        reason,
    };
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer
            .write_record(w.columns)
            .map_err(|e| csv_error(e.to_string()))?;
        let percent_text =
            |actual, plan| percent(actual, plan).map_or(String::new(), |p| p.to_string());
        for (i, row) in rows.iter().enumerate() {
            let record = [
                csv_text(&row.hospital),
                csv_text(&row.company),
                csv_text(&row.state),
                row.plan.to_string(),
                row.actual.to_string(),
                percent_text(row.actual, row.plan),
                row.forecast.to_string(),
                row.actual_cost_yen.to_string(),
                row.cap_yen.to_string(),
                csv_text(&row.alerts.join(w.alert_separator)),
            ];
            writer
                .write_record(&record)
                .map_err(|e| DocumentError::InvalidRow {
                    row: i + 1,
                    field: "csv",
                    reason: e.to_string(),
                })?;
        }
        let t = totals(rows);
        let record = [
            w.total.to_owned(),
            String::new(),
            String::new(),
            t.plan.to_string(),
            t.actual.to_string(),
            percent_text(t.actual, t.plan),
            t.forecast.to_string(),
            t.cost.to_string(),
            t.cap.to_string(),
            String::new(),
        ];
        writer
            .write_record(&record)
            .map_err(|e| csv_error(e.to_string()))?;
        writer.flush().map_err(|e| csv_error(e.to_string()))?;
    }
    Ok(out)
}
