//! Writing filled checklists as a workbook laid out like the official one.

use mamori_domain::checklist::{AnswerStyle, AnswerValue, CellKey};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, ExcelDateTime, Format, FormatAlign,
    FormatBorder, Workbook, Worksheet,
};
use time::Date;

use super::labels::{fiscal_year_label, scope_label};
use super::{
    COL_ANSWER, COL_CHECKED, COL_CONFIRMED, COL_NOT_UNDERSTOOD, COL_NOTE, COL_NUMBER, COL_OPEN,
    COL_SCOPE, COL_TARGET, COL_TEXT, COL_YEAR, CONFIRMATION_HEADERS, FORM_ROW, FilledSheet,
    GENERATED_ROW, HEADER_ROW, HEADERS, HOSPITAL_ROW, OPEN_MARK, RESPONDENT_ROW, TITLE_ROW,
    section_label, sheet_names,
};
use crate::DocumentError;
use crate::sheet_text::write_text;

const DATE_FORMAT: &str = "yyyy/mm/dd";

struct Formats {
    title: Format,
    label: Format,
    value: Format,
    value_date: Format,
    header: Format,
    section: Format,
    text: Format,
    centre: Format,
    date: Format,
}

impl Formats {
    fn new() -> Self {
        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_text_wrap()
            .set_align(FormatAlign::Top);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            label: Format::new().set_bold(),
            value: Format::new(),
            value_date: Format::new()
                .set_num_format(DATE_FORMAT)
                .set_align(FormatAlign::Left),
            header: cell
                .clone()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xD9D9D9)),
            section: cell
                .clone()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7)),
            text: cell.clone(),
            centre: cell.clone().set_align(FormatAlign::Center),
            date: cell
                .set_num_format(DATE_FORMAT)
                .set_align(FormatAlign::Center),
        }
    }
}

/// Text, never a formula: the quoted twin of `format` for text that looks
/// like one.
fn text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: &str,
    format: &Format,
) -> Result<(), DocumentError> {
    write_text(
        sheet,
        row,
        col,
        value,
        format,
        &format.clone().set_quote_prefix(),
    )
}

fn date(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: Option<Date>,
    format: &Format,
) -> Result<(), DocumentError> {
    match value {
        Some(value) => {
            let year = u16::try_from(value.year()).map_err(|_| DocumentError::InvalidRow {
                row: row as usize + 1,
                field: "date",
                reason: format!("{value} cannot be written as an Excel date"),
            })?;
            let excel = ExcelDateTime::from_ymd(year, u8::from(value.month()), value.day())?;
            sheet.write_datetime_with_format(row, col, &excel, format)?;
        }
        None => {
            sheet.write_blank(row, col, format)?;
        }
    }
    Ok(())
}

/// Writes one worksheet per sheet: a title block, then a table with a row
/// per answerable cell (item × 対象) and a row per section title.
pub fn checklist_xlsx(sheets: &[FilledSheet]) -> Result<Vec<u8>, DocumentError> {
    let formats = Formats::new();
    let names = sheet_names(
        sheets
            .iter()
            .map(|s| (s.form.title_ja.as_str(), s.respondent)),
    );
    let mut workbook = Workbook::new();
    for (filled, name) in sheets.iter().zip(names) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        write_sheet(sheet, filled, &formats)?;
    }
    if sheets.is_empty() {
        // A workbook needs a sheet; an empty export is a blank one.
        workbook.add_worksheet();
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_sheet(
    sheet: &mut Worksheet,
    filled: &FilledSheet,
    formats: &Formats,
) -> Result<(), DocumentError> {
    let framework = filled.framework;
    let style = framework.answer_style;

    // Title block.
    let title = format!(
        "{} {}",
        framework.title_ja.trim(),
        framework.edition_ja.trim()
    );
    text(sheet, TITLE_ROW, 0, title.trim(), &formats.title)?;
    sheet.set_row_height(TITLE_ROW, 22)?;
    let respondent = match (filled.respondent.trim(), filled.respondent_role.trim()) {
        (name, "") => name.to_owned(),
        ("", role) => format!("（{role}）"),
        (name, role) => format!("{name}（{role}）"),
    };
    for (row, label, value) in [
        (FORM_ROW, "様式", filled.form.title_ja.as_str()),
        (HOSPITAL_ROW, "医療機関名", filled.hospital),
        (RESPONDENT_ROW, "回答者", respondent.as_str()),
    ] {
        sheet.write_string_with_format(row, 0, label, &formats.label)?;
        text(sheet, row, 1, value, &formats.value)?;
    }
    sheet.write_string_with_format(GENERATED_ROW, 0, "出力日", &formats.label)?;
    date(
        sheet,
        GENERATED_ROW,
        1,
        Some(filled.generated_on),
        &formats.value_date,
    )?;

    // Table header.
    let last_col = if filled.confirmed.is_some() {
        COL_OPEN
    } else {
        COL_NOTE
    };
    let headers = HEADERS.iter().chain(CONFIRMATION_HEADERS.iter());
    for (col, header) in (0..=last_col).zip(headers) {
        sheet.write_string_with_format(HEADER_ROW, col, *header, &formats.header)?;
    }
    sheet.set_row_height(HEADER_ROW, 30)?;

    // Rows: a section title, then a row per cell of each item.
    let mut row = HEADER_ROW + 1;
    for section in &filled.form.sections {
        let label = section_label(&section.number, &section.title_ja);
        sheet.write_blank(row, COL_NUMBER, &formats.section)?;
        text(sheet, row, COL_TEXT, &label, &formats.section)?;
        for col in COL_SCOPE..=last_col {
            sheet.write_blank(row, col, &formats.section)?;
        }
        row += 1;
        for item in &section.items {
            for cell in &item.cells {
                let key = CellKey::new(item.number.clone(), cell.scope);
                let answer = filled.answers.get(&key);
                text(sheet, row, COL_NUMBER, &item.number, &formats.centre)?;
                text(sheet, row, COL_TEXT, &item.text_ja, &formats.text)?;
                text(
                    sheet,
                    row,
                    COL_SCOPE,
                    scope_label(cell.scope),
                    &formats.centre,
                )?;
                let year = cell.required_fy.map(fiscal_year_label).unwrap_or_default();
                text(sheet, row, COL_YEAR, &year, &formats.centre)?;
                let mark = answer.map(|a| a.value.mark(style)).unwrap_or_default();
                text(sheet, row, COL_ANSWER, mark, &formats.centre)?;
                date(
                    sheet,
                    row,
                    COL_CHECKED,
                    answer.and_then(|a| a.checked_on),
                    &formats.date,
                )?;
                date(
                    sheet,
                    row,
                    COL_TARGET,
                    answer.and_then(|a| a.target_on),
                    &formats.date,
                )?;
                let not_understood = answer.map(|a| a.not_understood.as_str()).unwrap_or("");
                text(
                    sheet,
                    row,
                    COL_NOT_UNDERSTOOD,
                    not_understood,
                    &formats.text,
                )?;
                text(sheet, row, COL_NOTE, &item.note_ja, &formats.text)?;
                if let Some(confirmed) = filled.confirmed {
                    let confirmation = confirmed.get(&key);
                    let mark = confirmation
                        .and_then(|c| c.value)
                        .map(|v| v.mark(style))
                        .unwrap_or_default();
                    text(sheet, row, COL_CONFIRMED, mark, &formats.centre)?;
                    let open = if confirmation.is_some_and(|c| c.open) {
                        OPEN_MARK
                    } else {
                        ""
                    };
                    text(sheet, row, COL_OPEN, open, &formats.centre)?;
                }
                row += 1;
            }
        }
    }

    // A drop-down of the marks for whoever fills the sheet by hand; other
    // text is only warned about, the reader decides what it accepts.
    if row > HEADER_ROW + 1 {
        let marks: Vec<&str> = [
            AnswerValue::Yes,
            AnswerValue::No,
            AnswerValue::Unknown,
            AnswerValue::NotApplicable,
        ]
        .iter()
        .map(|v| v.mark(style))
        .collect();
        let validation = DataValidation::new()
            .allow_list_strings(&marks)?
            .set_error_style(DataValidationErrorStyle::Warning);
        sheet.add_data_validation(HEADER_ROW + 1, COL_ANSWER, row - 1, COL_ANSWER, &validation)?;
        if filled.confirmed.is_some() {
            sheet.add_data_validation(
                HEADER_ROW + 1,
                COL_CONFIRMED,
                row - 1,
                COL_CONFIRMED,
                &validation,
            )?;
        }
    }

    let answer_width = if style == AnswerStyle::Circle { 7 } else { 9 };
    let widths: [(u16, f64); 11] = [
        (COL_NUMBER, 9.0),
        (COL_TEXT, 60.0),
        (COL_SCOPE, 15.0),
        (COL_YEAR, 14.0),
        (COL_ANSWER, f64::from(answer_width)),
        (COL_CHECKED, 12.0),
        (COL_TARGET, 12.0),
        (COL_NOT_UNDERSTOOD, 30.0),
        (COL_NOTE, 30.0),
        (COL_CONFIRMED, 11.0),
        (COL_OPEN, 11.0),
    ];
    for (col, width) in widths {
        if col <= last_col {
            sheet.set_column_width(col, width)?;
        }
    }

    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_footer("&C&P / &N");
    Ok(())
}
