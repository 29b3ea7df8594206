//! Checklists (チェックリスト) as workbooks and PDF.
//!
//! The MHLW checklist is an Excel workbook that hospitals fill in by hand and
//! surveyors used to re-type. Mamori
//! - exports a respondent's answers as that workbook, one sheet per form and
//!   respondent ([`checklist_xlsx`]), and as a printable PDF
//!   ([`checklist_pdf`]);
//! - reads a filled workbook back into answers ([`read_checklist_answers`]),
//!   listing every row it could not take with its row and column;
//! - imports a new edition from the official workbook with a column mapping
//!   ([`import_framework`]); [`exported_mapping`] is the mapping of Mamori's
//!   own export, so an exported form imports back as the same framework.
//!
//! Uploaded workbooks are checked before they are parsed (size, password
//! protection or an old .xls, zip bombs, rows per sheet): see
//! [`DocumentError`](crate::DocumentError) for the refusals.

use std::collections::BTreeMap;

use mamori_domain::checklist::{
    Answer, AnswerStyle, Audience, CellKey, Confirmation, Form, Framework, Scope,
};
use serde::{Deserialize, Serialize};
use time::Date;

mod answers;
mod export;
mod import;
mod labels;
mod print;
pub(crate) mod workbook;

pub use answers::read_checklist_answers;
pub use export::checklist_xlsx;
pub use import::{exported_mapping, import_framework};
pub use labels::{column_index, column_letter};
pub use print::checklist_pdf;
pub use workbook::{MAX_ROWS, MAX_UNPACKED, MAX_UPLOAD};

/// One respondent's answers to one form: a sheet of the export.
#[derive(Debug, Clone, Copy)]
pub struct FilledSheet<'a> {
    pub framework: &'a Framework,
    pub form: &'a Form,
    pub hospital: &'a str,
    pub respondent: &'a str,
    /// e.g. システム管理者
    pub respondent_role: &'a str,
    pub answers: &'a BTreeMap<CellKey, Answer>,
    /// The surveyor's confirmations: adds the 調査員確認 and 要継続確認 columns.
    pub confirmed: Option<&'a BTreeMap<CellKey, Confirmation>>,
    pub generated_on: Date,
}

/// A row of an uploaded workbook that was not taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowRejection {
    pub sheet: String,
    /// 1-based, as Excel shows it.
    pub row: u32,
    /// The column letter, e.g. `E`.
    pub column: String,
    /// Japanese first, then English.
    pub reason: String,
}

/// The answers read from one sheet of a filled workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetAnswers {
    pub sheet: String,
    pub form_key: String,
    pub answers: BTreeMap<CellKey, Answer>,
    pub rejected: Vec<RowRejection>,
}

/// Where one form's items are in the official workbook. Columns are letters
/// (`A`, `AB`); rows are 1-based as Excel shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub sheet: String,
    pub form_key: String,
    pub audience: Audience,
    pub form_title_ja: String,
    /// 1-based first data row.
    pub first_row: u32,
    /// The column of the item number.
    pub number: String,
    /// The column of the item text.
    pub text: String,
    /// Section titles (`1 体制構築`): a row with a value here and no number
    /// starts a section; so does a changed value in a column of its own.
    pub section: Option<String>,
    /// 対象: one row per cell of a split item, the number repeated.
    pub scope: Option<String>,
    /// 目標年度: `2024`, `令和6年度`, `R6`, `令和6年度中`.
    pub required_fy: Option<String>,
    pub note: Option<String>,
    pub text_en: Option<String>,
}

/// What an administrator says about a new edition: everything the workbook
/// does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkMeta {
    pub key: String,
    pub title_ja: String,
    pub edition_ja: String,
    pub fiscal_year: Option<i32>,
    pub answer_style: AnswerStyle,
}

/// One item row as the import read it, for the administrator to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub sheet: String,
    /// 1-based.
    pub row: u32,
    pub number: String,
    /// The section the row falls in, as written (`1 体制構築`).
    pub section: String,
    pub text: String,
    pub scope: Scope,
    pub required_fy: Option<i32>,
    pub note: String,
}

/// The result of an import: the rows read, the rows refused and, when
/// nothing was refused (or refusals are skipped), the framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameworkImport {
    pub rows: Vec<PreviewRow>,
    pub rejected: Vec<RowRejection>,
    pub framework: Option<Framework>,
}

// The layout of the export, shared by the writer, the reader and the mapping.

/// 0-based rows of the title block.
const TITLE_ROW: u32 = 0;
const FORM_ROW: u32 = 1;
const HOSPITAL_ROW: u32 = 2;
const RESPONDENT_ROW: u32 = 3;
const GENERATED_ROW: u32 = 4;
/// 0-based row of the table header; data starts on the next row.
const HEADER_ROW: u32 = 6;

const COL_NUMBER: u16 = 0;
const COL_TEXT: u16 = 1;
const COL_SCOPE: u16 = 2;
const COL_YEAR: u16 = 3;
const COL_ANSWER: u16 = 4;
const COL_CHECKED: u16 = 5;
const COL_TARGET: u16 = 6;
const COL_NOT_UNDERSTOOD: u16 = 7;
const COL_NOTE: u16 = 8;
const COL_CONFIRMED: u16 = 9;
const COL_OPEN: u16 = 10;

const HEADERS: [&str; 9] = [
    "番号",
    "確認項目",
    "対象",
    "目標年度",
    "回答",
    "確認日",
    "目標日",
    "理解が困難であった部分",
    "備考",
];
const CONFIRMATION_HEADERS: [&str; 2] = ["調査員確認", "要継続確認"];

/// What 要継続確認 holds for an item left open.
const OPEN_MARK: &str = "要";

/// The 番号 text of a section row: `1 体制構築`, or the title alone.
fn section_label(number: &str, title: &str) -> String {
    match (number.trim(), title.trim()) {
        ("", title) => title.to_owned(),
        (number, "") => number.to_owned(),
        (number, title) => format!("{number} {title}"),
    }
}

/// Splits `1 体制構築` into its number and title; a label without a leading
/// number is all title.
fn split_section_label(label: &str) -> (String, String) {
    let label = label.trim();
    let looks_numbered = |token: &str| {
        token.chars().count() <= 10
            && token.chars().any(|c| {
                c.is_ascii_digit()
                    || ('０'..='９').contains(&c)
                    || ('①'..='⑳').contains(&c)
                    || ('Ⅰ'..='Ⅻ').contains(&c)
            })
    };
    match label.split_once([' ', '\u{3000}']) {
        Some((token, rest)) if looks_numbered(token) => (token.to_owned(), rest.trim().to_owned()),
        None if looks_numbered(label) && !label.chars().any(char::is_alphabetic) => {
            (label.to_owned(), String::new())
        }
        _ => (String::new(), label.to_owned()),
    }
}

/// Sheet names for (form title, respondent) pairs: the title and the
/// respondent, at most 31 characters, none of `[]:*?/\`, unique ignoring case.
fn sheet_names<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    const MAX: usize = 31;
    let mut names: Vec<String> = Vec::new();
    for (title, respondent) in pairs {
        let raw = match (title.trim(), respondent.trim()) {
            (title, "") => title.to_owned(),
            ("", respondent) => respondent.to_owned(),
            (title, respondent) => format!("{title} {respondent}"),
        };
        let cleaned: String = raw
            .chars()
            .map(|c| match c {
                '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect();
        let mut base = tidy_sheet_name(&cleaned, MAX);
        if base.is_empty() || base.eq_ignore_ascii_case("history") {
            base = format!("シート{}", names.len() + 1);
        }
        let taken = |name: &str| {
            names
                .iter()
                .any(|n| n.to_lowercase() == name.to_lowercase())
        };
        let mut name = base.clone();
        let mut n = 2;
        while taken(&name) {
            let suffix = format!("({n})");
            name = format!("{}{suffix}", tidy_sheet_name(&base, MAX - suffix.len()));
            n += 1;
        }
        names.push(name);
    }
    names
}

/// Cuts to `max` UTF-16 units (Excel's measure) without an apostrophe or a
/// space at either end.
fn tidy_sheet_name(name: &str, max: usize) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let names = sheet_names([
            ("医療機関確認用", "山田 太郎"),
            ("医療機関確認用", "山田 太郎"),
            ("事業者確認用[2/3]: *?", ""),
            ("'History'", ""),
            (
                "とても長い様式の名前がここに入りますがエクセルは三十一文字まで",
                "佐藤",
            ),
            ("A", ""),
            ("a", ""),
        ]);
        assert_eq!(names[0], "医療機関確認用 山田 太郎");
        assert_eq!(names[1], "医療機関確認用 山田 太郎(2)");
        assert_eq!(names[2], "事業者確認用_2_3__ __");
        assert_eq!(names[3], "シート4");
        assert_eq!(names[6], "a(2)");
        for name in &names {
            assert!(name.encode_utf16().count() <= 31, "{name}");
            assert!(
                !name.contains(['[', ']', ':', '*', '?', '/', '\\']),
                "{name}"
            );
        }
    }

    #[test]
    fn section_labels() {
        assert_eq!(section_label("1", "体制構築"), "1 体制構築");
        assert_eq!(
            split_section_label("1 体制構築"),
            ("1".to_owned(), "体制構築".to_owned())
        );
        assert_eq!(
            split_section_label("２　医療情報システムの管理・運用"),
            ("２".to_owned(), "医療情報システムの管理・運用".to_owned())
        );
        assert_eq!(
            split_section_label("体制構築"),
            (String::new(), "体制構築".to_owned())
        );
        assert_eq!(split_section_label("3"), ("3".to_owned(), String::new()));
        assert_eq!(
            split_section_label("3省2ガイドライン"),
            (String::new(), "3省2ガイドライン".to_owned())
        );
    }
}
