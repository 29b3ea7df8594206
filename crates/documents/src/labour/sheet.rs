//! One engagement's sheet in the layout of 資料6.

use mamori_domain::labour::{Hours, PLAN_ROWS};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use super::{LabourSheet, english};
use crate::DocumentError;
use crate::sheet_text::{display_width, write_text};

const HOURS: &str = "0.00";
/// The header row; the seventeen rows follow it, then the total.
const HEADER_ROW: u32 = 5;

struct Words {
    form: &'static str,
    hospital: &'static str,
    company: &'static str,
    item: &'static str,
    activity: &'static str,
    plan: &'static str,
    actual: &'static str,
    total: &'static str,
    sheet: &'static str,
}

fn words(language: &str) -> Words {
    if english(language) {
        Words {
            form: "[Annex 6] Survey company labour-hour sheet",
            hospital: "Hospital",
            company: "Survey company",
            item: "Item",
            activity: "Activity",
            plan: "Planned hours",
            actual: "Actual hours",
            total: "Total",
            sheet: "Labour hours",
        }
    } else {
        Words {
            form: "【資料6 調査担当企業工数確認票】",
            hospital: "対象病院",
            company: "調査企業",
            item: "項目",
            activity: "区分",
            plan: "予定工数 (時間)",
            actual: "実績工数 (時間)",
            total: "合計",
            sheet: "工数確認票",
        }
    }
}

/// The sheet as an .xlsx workbook in `language` (`ja` unless `en`): the
/// form's name, the business title, hospital and company, then the
/// seventeen rows with plan and actual hours and a total row (values, not
/// formulas).
pub fn labour_sheet_xlsx(sheet: &LabourSheet, language: &str) -> Result<Vec<u8>, DocumentError> {
    let w = words(language);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let title = Format::new().set_bold().set_font_size(14);
    let plain = Format::new();
    let label = Format::new().set_bold();
    let head = cell
        .clone()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_text_wrap()
        .set_background_color("D9E2F3");
    let number = cell.clone().set_align(FormatAlign::Center);
    let text = cell.clone().set_text_wrap();
    let hours = cell.clone().set_num_format(HOURS);
    let total = cell
        .clone()
        .set_bold()
        .set_background_color("F2F2F2")
        .set_border_top(FormatBorder::Double);
    let total_hours = total.clone().set_num_format(HOURS);

    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(w.sheet)?;
    ws.set_paper_size(9); // A4
    ws.set_portrait();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_footer("&C&P / &N");

    ws.write_string_with_format(0, 0, w.form, &title)?;
    ws.set_row_height(0, 24)?;
    write_text(
        ws,
        1,
        0,
        &sheet.title,
        &label,
        &label.clone().set_quote_prefix(),
    )?;
    let plain_quoted = plain.clone().set_quote_prefix();
    ws.write_string_with_format(2, 0, w.hospital, &label)?;
    write_text(ws, 2, 1, &sheet.hospital, &plain, &plain_quoted)?;
    ws.write_string_with_format(3, 0, w.company, &label)?;
    write_text(ws, 3, 1, &sheet.company, &plain, &plain_quoted)?;

    let header = ["", w.item, w.activity, w.plan, w.actual];
    for (col, h) in (0u16..).zip(header) {
        ws.write_string_with_format(HEADER_ROW, col, h, &head)?;
    }

    let mut item_width = display_width(w.item);
    let mut plan_total = Hours::ZERO;
    let mut actual_total = Hours::ZERO;
    for ((r, spec), (plan, actual)) in (HEADER_ROW + 1..)
        .zip(PLAN_ROWS.iter())
        .zip(sheet.plan.hours.iter().zip(sheet.actual.iter()))
    {
        let item = spec.item(language);
        // The seed names the activity for the deliverables' rows only.
        let activity = if spec.deliverable.is_some() {
            spec.activity.label(language)
        } else {
            ""
        };
        ws.write_number_with_format(r, 0, f64::from(spec.number), &number)?;
        ws.write_string_with_format(r, 1, item, &text)?;
        ws.write_string_with_format(r, 2, activity, &text)?;
        ws.write_number_with_format(r, 3, plan.as_f64(), &hours)?;
        ws.write_number_with_format(r, 4, actual.as_f64(), &hours)?;
        item_width = item_width.max(display_width(item));
        plan_total += *plan;
        actual_total += *actual;
    }
    let r = HEADER_ROW + 1 + PLAN_ROWS.len() as u32;
    ws.write_blank(r, 0, &total)?;
    ws.write_string_with_format(r, 1, w.total, &total)?;
    ws.write_blank(r, 2, &total)?;
    ws.write_number_with_format(r, 3, plan_total.as_f64(), &total_hours)?;
    ws.write_number_with_format(r, 4, actual_total.as_f64(), &total_hours)?;

    // Column A carries the labels of hospital and company as well as the
    // row numbers; B the items, which can be long (wrapped past 60).
    let labels = display_width(w.hospital).max(display_width(w.company));
    ws.set_column_width(0, (labels + 2.0).max(6.0))?;
    ws.set_column_width(
        1,
        (item_width + 2.0)
            .max(display_width(&sheet.hospital) + 2.0)
            .max(display_width(&sheet.company) + 2.0)
            .clamp(20.0, 60.0),
    )?;
    ws.set_column_width(2, (display_width(w.activity) + 2.0).max(10.0))?;
    ws.set_column_width(3, (display_width(w.plan) + 2.0).max(12.0))?;
    ws.set_column_width(4, (display_width(w.actual) + 2.0).max(12.0))?;
    ws.set_row_height(HEADER_ROW, 30)?;
    ws.set_freeze_panes(HEADER_ROW + 1, 0)?;
    ws.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;

    Ok(book.save_to_buffer()?)
}
