//! Labour hours on paper (seed 資料6 調査担当企業工数確認票): an
//! engagement's sheet as a workbook in the seed's layout, the
//! secretariat's roll-up across engagements as a workbook and CSV, and a
//! burn-up chart of the hours against the plan and the cap as SVG.
//!
//! Hours are written as numbers (format `0.00`) and totals as values, not
//! formulas, so a reader that does not recalculate sees the same numbers.
//! User text never becomes a formula (see [`crate::sheet_text`]); in CSV it
//! gets a leading `'`.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use mamori_domain::labour::{Hours, LabourPlan, RowTotal};
use time::Date;

use crate::DocumentError;
use crate::checklist::workbook::check_package;
use crate::report::SheetRows;

mod burnup;
mod rollup;
mod sheet;

pub use burnup::burnup_svg;
pub use rollup::{labour_rollup_csv, labour_rollup_xlsx};
pub use sheet::labour_sheet_xlsx;

/// One engagement's sheet (資料6): its plan and actual hours per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabourSheet {
    /// The business, e.g. 病院に対するサイバーセキュリティに関する調査・報告書作成業務.
    pub title: String,
    pub hospital: String,
    pub company: String,
    pub plan: LabourPlan,
    /// Actual hours of rows 1–17, in order.
    pub actual: [Hours; 17],
}

impl LabourSheet {
    /// The actual hours per row out of a summary's rows (`RowTotal::number`
    /// picks the slot; rows outside 1–17 are ignored).
    pub fn actual_from_rows(rows: &[RowTotal]) -> [Hours; 17] {
        let mut actual = [Hours::ZERO; 17];
        for row in rows {
            if let Some(slot) = actual.get_mut(usize::from(row.number).wrapping_sub(1)) {
                *slot = row.actual;
            }
        }
        actual
    }
}

/// One engagement in the secretariat's roll-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupRow {
    pub hospital: String,
    pub company: String,
    /// The engagement's state, already in the sheet's language.
    pub state: String,
    pub plan: Hours,
    pub actual: Hours,
    pub forecast: Hours,
    pub actual_cost_yen: i64,
    pub cap_yen: i64,
    /// Alert texts, already in the sheet's language.
    pub alerts: Vec<String>,
    /// Actual hours of sheet rows 1–17.
    pub by_row: [Hours; 17],
}

/// What the burn-up chart shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurnUp {
    pub title: String,
    /// Hours booked per week (keyed by its Monday), not cumulative; drawn
    /// in date order whatever the order here.
    pub weeks: Vec<(Date, Hours)>,
    pub plan: Hours,
    /// The labour cap in hours (see [`cap_hours`]).
    pub cap_hours: Option<Hours>,
    /// The forecast at completion.
    pub forecast: Option<Hours>,
}

/// The cap in hours at `rate_yen` an hour, rounded down to the hundredth;
/// none without a positive rate.
pub fn cap_hours(cap_yen: i64, rate_yen: i64) -> Option<Hours> {
    if rate_yen <= 0 {
        return None;
    }
    let hundredths = i128::from(cap_yen) * 100 / i128::from(rate_yen);
    i64::try_from(hundredths).ok().map(Hours::from_hundredths)
}

/// Whether the words are English (`en`); Japanese otherwise.
fn english(language: &str) -> bool {
    language == "en"
}

/// The first sheet of a workbook as rows of text: numbers with two
/// decimals (`16.00`), except whole numbers in the first column (the sheet's
/// row numbers), which read as integers; trailing empty cells dropped.
/// Reads back what [`labour_sheet_xlsx`] wrote.
pub fn labour_sheet_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, DocumentError> {
    let mut sheets = workbook_rows(bytes)?;
    if sheets.is_empty() {
        return Err(DocumentError::UnreadableWorkbook {
            sheet: None,
            message: "the workbook has no sheet".to_owned(),
        });
    }
    Ok(sheets.swap_remove(0).1)
}

/// Every sheet as (name, rows of text), as [`labour_sheet_rows`] reads them.
pub(crate) fn workbook_rows(bytes: &[u8]) -> Result<Vec<SheetRows>, DocumentError> {
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
                for data in row {
                    let first_column = cells.is_empty();
                    cells.push(cell_text(data, first_column));
                }
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

fn cell_text(data: &Data, first_column: bool) -> String {
    let number = |f: f64| {
        if first_column && f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", f as i64)
        } else {
            format!("{f:.2}")
        }
    };
    match data {
        // Exactly as written: a name is not trimmed.
        Data::String(s) => s.clone(),
        Data::Float(f) => number(*f),
        Data::Int(i) => number(*i as f64),
        other => crate::checklist::workbook::cell_text(other),
    }
}

#[cfg(test)]
mod tests;
