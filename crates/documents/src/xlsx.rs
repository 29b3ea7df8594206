//! The payment list (謝金・立替費用) as an Excel workbook.
//!
//! One sheet: a title row, a frozen header row, the payments grouped by
//! hospital (in the order the hospitals first appear) with a subtotal after
//! each hospital, and a grand total. Totals are live `SUBTOTAL(9, …)`
//! formulas (a grand total over the range skips the hospital subtotals) with
//! their values computed here and stored as the cached result, so readers
//! that do not calculate see the right numbers too.
//!
//! User text never becomes a formula: see [`crate::sheet_text`].

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Formula, Workbook};

use crate::DocumentError;
use crate::sheet_text::{display_width, write_text};

/// Kind of payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentKind {
    /// 謝金: for hours of interviews and the like, at the programme's rate.
    Honorarium,
    /// 立替費用: costs someone paid and is reimbursed for.
    Reimbursement,
}

impl PaymentKind {
    pub fn label_ja(self) -> &'static str {
        match self {
            PaymentKind::Honorarium => "謝金",
            PaymentKind::Reimbursement => "立替費用",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            PaymentKind::Honorarium => "Honorarium",
            PaymentKind::Reimbursement => "Reimbursement",
        }
    }
}

/// One payment to one person.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRow {
    pub hospital: String,
    pub person: String,
    pub department: String,
    pub title: String,
    pub kind: PaymentKind,
    pub hours: Option<f64>,
    pub rate_yen: Option<i64>,
    pub amount_yen: i64,
    pub note: String,
}

const SHEET_NAME: &str = "支払一覧";
const HEADERS: [&str; 9] = [
    "病院",
    "氏名",
    "部署",
    "役職",
    "区分",
    "時間",
    "単価(円)",
    "金額(円)",
    "備考",
];
const COL_HOURS: u16 = 5;
const COL_RATE: u16 = 6;
const COL_AMOUNT: u16 = 7;
const COL_NOTE: u16 = 8;
const FIRST_DATA_ROW: u32 = 2;

const YEN: &str = "\"¥\"#,##0;[Red]-\"¥\"#,##0";
const HOURS: &str = "#,##0.00";

struct Formats {
    title: Format,
    header: Format,
    text: Format,
    text_quoted: Format,
    yen: Format,
    hours: Format,
    subtotal_text: Format,
    subtotal_yen: Format,
    subtotal_hours: Format,
    total_text: Format,
    total_yen: Format,
    total_hours: Format,
}

impl Formats {
    fn new() -> Self {
        let cell = Format::new().set_border(FormatBorder::Thin);
        let subtotal = cell
            .clone()
            .set_bold()
            .set_background_color(Color::RGB(0xF2F2F2));
        let total = cell
            .clone()
            .set_bold()
            .set_background_color(Color::RGB(0xDDEBF7))
            .set_border_top(FormatBorder::Double);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header: cell
                .clone()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(0xD9D9D9)),
            text: cell.clone(),
            text_quoted: cell.clone().set_quote_prefix(),
            yen: cell.clone().set_num_format(YEN),
            hours: cell.clone().set_num_format(HOURS),
            subtotal_text: subtotal.clone(),
            subtotal_yen: subtotal.clone().set_num_format(YEN),
            subtotal_hours: subtotal.set_num_format(HOURS),
            total_text: total.clone(),
            total_yen: total.clone().set_num_format(YEN),
            total_hours: total.set_num_format(HOURS),
        }
    }
}

/// Write the payment list. Rows are grouped by hospital, in the order each
/// hospital first appears, keeping the order of rows within a hospital.
pub fn payment_list_xlsx(title: &str, rows: &[PaymentRow]) -> Result<Vec<u8>, DocumentError> {
    for (i, row) in rows.iter().enumerate() {
        if let Some(hours) = row.hours
            && !hours.is_finite()
        {
            return Err(DocumentError::InvalidRow {
                row: i + 1,
                field: "hours",
                reason: format!("{hours} is not a number of hours"),
            });
        }
    }

    let mut groups: Vec<(&str, Vec<&PaymentRow>)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|(name, _)| *name == row.hospital) {
            Some((_, members)) => members.push(row),
            None => groups.push((row.hospital.as_str(), vec![row])),
        }
    }

    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(1, 1)?;
    sheet.set_footer("&C&P / &N");

    write_text(
        sheet,
        0,
        0,
        title,
        &formats.title,
        &formats.title.clone().set_quote_prefix(),
    )?;
    sheet.set_row_height(0, 24)?;
    for (col, header) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(1, col, header, &formats.header)?;
    }
    sheet.set_freeze_panes(FIRST_DATA_ROW, 0)?;

    let mut widths: Vec<f64> = HEADERS.iter().map(|h| display_width(h) + 2.0).collect();
    let mut r = FIRST_DATA_ROW;
    let mut grand_amount: i128 = 0;
    let mut grand_hours: f64 = 0.0;
    for (hospital, members) in &groups {
        let first = r;
        let mut amount: i128 = 0;
        let mut hours: f64 = 0.0;
        let mut any_hours = false;
        for row in members {
            let texts = [
                (0u16, row.hospital.as_str()),
                (1, row.person.as_str()),
                (2, row.department.as_str()),
                (3, row.title.as_str()),
                (4, row.kind.label_ja()),
                (COL_NOTE, row.note.as_str()),
            ];
            for (col, text) in texts {
                write_text(sheet, r, col, text, &formats.text, &formats.text_quoted)?;
                let w = &mut widths[usize::from(col)];
                *w = w.max(display_width(text) + 2.0);
            }
            match row.hours {
                Some(h) => {
                    sheet.write_number_with_format(r, COL_HOURS, h, &formats.hours)?;
                    hours += h;
                    any_hours = true;
                }
                None => {
                    sheet.write_blank(r, COL_HOURS, &formats.hours)?;
                }
            }
            match row.rate_yen {
                Some(rate) => {
                    sheet.write_number_with_format(r, COL_RATE, rate as f64, &formats.yen)?;
                }
                None => {
                    sheet.write_blank(r, COL_RATE, &formats.yen)?;
                }
            }
            sheet.write_number_with_format(r, COL_AMOUNT, row.amount_yen as f64, &formats.yen)?;
            amount += i128::from(row.amount_yen);
            r += 1;
        }
        let last = r - 1;
        let label = format!("{hospital} 小計");
        widths[0] = widths[0].max(display_width(&label) + 2.0);
        write_text(
            sheet,
            r,
            0,
            &label,
            &formats.subtotal_text,
            &formats.subtotal_text.clone().set_quote_prefix(),
        )?;
        for col in 1..=COL_NOTE {
            if col != COL_HOURS && col != COL_AMOUNT {
                sheet.write_blank(r, col, &formats.subtotal_text)?;
            }
        }
        if any_hours {
            sheet.write_formula_with_format(
                r,
                COL_HOURS,
                subtotal(COL_HOURS, first, last, hours.to_string()),
                &formats.subtotal_hours,
            )?;
        } else {
            sheet.write_blank(r, COL_HOURS, &formats.subtotal_hours)?;
        }
        sheet.write_formula_with_format(
            r,
            COL_AMOUNT,
            subtotal(COL_AMOUNT, first, last, amount.to_string()),
            &formats.subtotal_yen,
        )?;
        grand_amount += amount;
        grand_hours += hours;
        r += 1;
    }

    // Grand total: SUBTOTAL over everything skips the hospital subtotals.
    sheet.write_string_with_format(r, 0, "合計", &formats.total_text)?;
    for col in 1..=COL_NOTE {
        if col != COL_HOURS && col != COL_AMOUNT {
            sheet.write_blank(r, col, &formats.total_text)?;
        }
    }
    let last = r.saturating_sub(1).max(FIRST_DATA_ROW);
    sheet.write_formula_with_format(
        r,
        COL_HOURS,
        subtotal(COL_HOURS, FIRST_DATA_ROW, last, grand_hours.to_string()),
        &formats.total_hours,
    )?;
    sheet.write_formula_with_format(
        r,
        COL_AMOUNT,
        subtotal(COL_AMOUNT, FIRST_DATA_ROW, last, grand_amount.to_string()),
        &formats.total_yen,
    )?;

    for (col, width) in (0u16..).zip(widths) {
        let max = if col == COL_NOTE { 60.0 } else { 40.0 };
        sheet.set_column_width(col, width.clamp(8.0, max))?;
    }
    sheet.set_column_width(COL_RATE, 12)?;
    sheet.set_column_width(COL_AMOUNT, 14)?;

    Ok(workbook.save_to_buffer()?)
}

/// `=SUBTOTAL(9,H3:H7)` with its value, rows 0-based.
fn subtotal(col: u16, first: u32, last: u32, value: String) -> Formula {
    let letter = char::from(b'A' + col as u8);
    Formula::new(format!(
        "=SUBTOTAL(9,{letter}{}:{letter}{})",
        first + 1,
        last + 1
    ))
    .set_result(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    fn row(
        hospital: &str,
        person: &str,
        kind: PaymentKind,
        hours: Option<f64>,
        rate: Option<i64>,
        amount: i64,
        note: &str,
    ) -> PaymentRow {
        PaymentRow {
            hospital: hospital.to_owned(),
            person: person.to_owned(),
            department: "医療情報部".to_owned(),
            title: "部長".to_owned(),
            kind,
            hours,
            rate_yen: rate,
            amount_yen: amount,
            note: note.to_owned(),
        }
    }

    fn sample() -> Vec<PaymentRow> {
        vec![
            row(
                "さくら台総合病院",
                "山田 太郎",
                PaymentKind::Honorarium,
                Some(1.5),
                Some(10_000),
                15_000,
                "",
            ),
            row(
                "みなと記念病院",
                "佐藤 花子",
                PaymentKind::Honorarium,
                Some(2.0),
                Some(8_000),
                16_000,
                "=HYPERLINK(\"http://evil.example\",\"click\")",
            ),
            row(
                "さくら台総合病院",
                "鈴木 一郎",
                PaymentKind::Reimbursement,
                None,
                None,
                3_280,
                "交通費（高崎→東京）",
            ),
            row(
                "みなと記念病院",
                "@SUM(1+1)",
                PaymentKind::Reimbursement,
                None,
                None,
                1_200,
                "-2+3",
            ),
        ]
    }

    fn open(bytes: Vec<u8>) -> (calamine::Range<Data>, calamine::Range<String>) {
        let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
        let values = book.worksheet_range(SHEET_NAME).unwrap();
        let formulas = book.worksheet_formula(SHEET_NAME).unwrap();
        (values, formulas)
    }

    fn cell(range: &calamine::Range<Data>, r: u32, c: u32) -> Data {
        range.get_value((r, c)).cloned().unwrap_or(Data::Empty)
    }

    fn number(data: &Data) -> f64 {
        match data {
            Data::Float(f) => *f,
            Data::Int(i) => *i as f64,
            other => panic!("not a number: {other:?}"),
        }
    }

    #[test]
    fn grouped_with_right_totals() {
        let bytes = payment_list_xlsx("令和4年度 謝金・立替費用 支払一覧", &sample()).unwrap();
        let (values, formulas) = open(bytes);

        assert_eq!(
            cell(&values, 0, 0),
            Data::String("令和4年度 謝金・立替費用 支払一覧".into())
        );
        for (c, header) in HEADERS.iter().enumerate() {
            assert_eq!(cell(&values, 1, c as u32), Data::String((*header).into()));
        }
        // Hospital order of first appearance, rows kept in order.
        assert_eq!(cell(&values, 2, 1), Data::String("山田 太郎".into()));
        assert_eq!(cell(&values, 3, 1), Data::String("鈴木 一郎".into()));
        assert_eq!(cell(&values, 3, 4), Data::String("立替費用".into()));
        assert_eq!(
            cell(&values, 4, 0),
            Data::String("さくら台総合病院 小計".into())
        );
        assert_eq!(number(&cell(&values, 4, 7)), 18_280.0);
        assert_eq!(number(&cell(&values, 4, 5)), 1.5);
        assert_eq!(cell(&values, 5, 1), Data::String("佐藤 花子".into()));
        assert_eq!(
            cell(&values, 7, 0),
            Data::String("みなと記念病院 小計".into())
        );
        assert_eq!(number(&cell(&values, 7, 7)), 17_200.0);
        assert_eq!(cell(&values, 8, 0), Data::String("合計".into()));
        assert_eq!(number(&cell(&values, 8, 7)), 35_480.0);
        assert_eq!(number(&cell(&values, 8, 5)), 3.5);
        assert_eq!(number(&cell(&values, 2, 6)), 10_000.0);

        // The totals are live formulas over the right rows.
        let formula = |r: u32, c: u32| formulas.get_value((r, c)).cloned().unwrap_or_default();
        assert_eq!(formula(4, 7), "SUBTOTAL(9,H3:H4)");
        assert_eq!(formula(7, 7), "SUBTOTAL(9,H6:H7)");
        assert_eq!(formula(8, 7), "SUBTOTAL(9,H3:H8)");
    }

    #[test]
    fn formula_like_text_stays_text() {
        let bytes = payment_list_xlsx("=cmd|' /C calc'!A0", &sample()).unwrap();
        let raw = bytes.clone();
        let (values, formulas) = open(bytes);
        let note = "=HYPERLINK(\"http://evil.example\",\"click\")";
        assert_eq!(cell(&values, 5, 8), Data::String(note.into()));
        assert_eq!(cell(&values, 6, 1), Data::String("@SUM(1+1)".into()));
        assert_eq!(cell(&values, 6, 8), Data::String("-2+3".into()));
        assert_eq!(
            cell(&values, 0, 0),
            Data::String("=cmd|' /C calc'!A0".into())
        );
        let formula = |r: u32, c: u32| formulas.get_value((r, c)).cloned().unwrap_or_default();
        for (r, c) in [(5, 8), (6, 1), (6, 8), (0, 0)] {
            assert_eq!(formula(r, c), "", "cell ({r},{c}) became a formula");
        }

        // And the cells carry the quote-prefix style.
        let styles = zip_entry(&raw, "xl/styles.xml");
        assert!(
            styles.contains("quotePrefix=\"1\""),
            "no quote prefix style"
        );
    }

    #[test]
    fn empty_list_and_bad_hours() {
        let (values, _) = open(payment_list_xlsx("空", &[]).unwrap());
        assert_eq!(cell(&values, 2, 0), Data::String("合計".into()));

        let mut rows = sample();
        rows[2].hours = Some(f64::NAN);
        let err = payment_list_xlsx("x", &rows).unwrap_err();
        assert!(
            matches!(
                err,
                DocumentError::InvalidRow {
                    row: 3,
                    field: "hours",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    /// One file out of the xlsx (a zip) as text.
    fn zip_entry(bytes: &[u8], name: &str) -> String {
        use std::io::Read;
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut file = archive.by_name(name).unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        text
    }
}
