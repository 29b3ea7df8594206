//! Writing user text into a worksheet, shared by every workbook we write.
//!
//! Every piece of user text is written with `write_string*`, which stores a
//! text cell: nothing a user typed becomes a formula. Text that a spreadsheet
//! would read as a formula if the cell were edited and confirmed (`=`, `+`,
//! `-`, `@`, tab, CR) also gets the quote-prefix cell style, the file-format
//! twin of typing a leading apostrophe.

use rust_xlsxwriter::{Format, Worksheet};

use crate::DocumentError;

/// Whether a spreadsheet would take `text` for a formula if it were typed in.
pub(crate) fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠'])
}

/// Write user text as text, never as a formula (see the module comment).
pub(crate) fn write_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: &Format,
    quoted: &Format,
) -> Result<(), DocumentError> {
    let format = if looks_like_formula(text) {
        quoted
    } else {
        format
    };
    sheet.write_string_with_format(row, col, text, format)?;
    Ok(())
}

/// Column width in Excel's units (about one Latin character); CJK characters
/// take about two.
pub(crate) fn display_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 1.1 } else { 2.1 })
        .sum()
}

/// A CSV cell that a spreadsheet would not run as a formula (and that
/// [`csv_cell`] reads back as it was).
pub fn csv_text(text: &str) -> String {
    if looks_like_formula(text) || csv_cell(text) != text {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A CSV cell as typed before [`csv_text`] defused it: the apostrophe in
/// front of formula-looking text is dropped (as a spreadsheet does), so an
/// export imports back unchanged.
pub(crate) fn csv_cell(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) || csv_cell(rest) != rest => rest,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_detection() {
        for text in ["=1+1", "+81", "-1", "@x", "\tA", "\rA", "＝1"] {
            assert!(looks_like_formula(text), "{text:?}");
        }
        for text in ["", "山田", "1-2", "a=b", "–"] {
            assert!(!looks_like_formula(text), "{text:?}");
        }
    }

    #[test]
    fn csv_cells_read_back_as_typed() {
        for text in [
            "=1+1", "+81", "-1", "@x", "＝1", "'quoted", "山田", "'", "'=x",
        ] {
            assert_eq!(csv_cell(&csv_text(text)), text, "{text:?}");
        }
    }
}
