//! Reading a filled checklist workbook back into answers.

use std::collections::{BTreeMap, HashMap};

use calamine::{Data, ExcelDateTime, ExcelDateTimeType};
use mamori_domain::checklist::{Answer, AnswerValue, CellKey, Form, Framework};
use time::Date;

use super::labels::{SCOPE_LABELS, column_letter, parse_date, parse_scope, scope_label};
use super::workbook::{Book, Grid, cell_text};
use super::{RowRejection, SheetAnswers};
use crate::DocumentError;

/// The header row is looked for in this many rows from the top.
const HEADER_SEARCH_ROWS: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Number,
    Text,
    Scope,
    Answer,
    Checked,
    Target,
    NotUnderstood,
}

/// Header labels as the export writes them, and as people retitle them.
fn field_of(label: &str) -> Option<Field> {
    // 回答（はい/いいえ） is 回答: what is in brackets is a hint.
    let mut plain = String::new();
    let mut depth = 0;
    for c in label.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = (depth - 1).max(0),
            c if depth == 0 && !c.is_whitespace() => plain.push(c),
            _ => {}
        }
    }
    Some(match plain.as_str() {
        "番号" | "項番" | "項目番号" | "No" | "No." | "NO" | "NO." => Field::Number,
        "確認項目" | "項目" | "チェック項目" | "確認事項" => Field::Text,
        "対象" => Field::Scope,
        "回答" | "回答欄" | "はい/いいえ" | "○/×" => Field::Answer,
        "確認日" => Field::Checked,
        "目標日" => Field::Target,
        "理解が困難であった部分" => Field::NotUnderstood,
        _ => return None,
    })
}

struct Header {
    row: u32,
    columns: HashMap<Field, u32>,
}

/// The first row (of the first 20) that names both 番号 and 回答.
fn find_header(grid: &Grid) -> Option<Header> {
    let last = grid.last_row()?.min(HEADER_SEARCH_ROWS - 1);
    (0..=last).find_map(|row| {
        let mut columns = HashMap::new();
        for (col, value) in grid.row(row) {
            if let Data::String(label) = value
                && let Some(field) = field_of(label)
            {
                columns.entry(field).or_insert(col);
            }
        }
        (columns.contains_key(&Field::Number) && columns.contains_key(&Field::Answer))
            .then_some(Header { row, columns })
    })
}

/// Normalised for comparing item texts: no whitespace.
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The form whose items the sheet holds: numbers with matching text count
/// most, then bare numbers, then the form's title above the table or in
/// the sheet's name.
fn identify_form<'f>(
    framework: &'f Framework,
    sheet: &str,
    grid: &Grid,
    header: &Header,
) -> Option<&'f Form> {
    let number_col = header.columns[&Field::Number];
    let text_col = header.columns.get(&Field::Text).copied();
    let last = grid.last_row().unwrap_or(header.row);
    let above: Vec<String> = (0..header.row)
        .flat_map(|row| grid.row(row).map(|(_, v)| cell_text(v)).collect::<Vec<_>>())
        .collect();
    let mut best: Option<(&Form, u64)> = None;
    for form in &framework.forms {
        let mut score: u64 = 0;
        for row in header.row + 1..=last {
            let number = grid.text(row, number_col);
            if let Some(item) = form.item(&number) {
                score += 1;
                if let Some(col) = text_col
                    && squeeze(&grid.text(row, col)) == squeeze(&item.text_ja)
                {
                    score += 3;
                }
            }
        }
        let title = form.title_ja.trim();
        if !title.is_empty() && (above.iter().any(|t| t == title) || sheet.starts_with(title)) {
            score += 5;
        }
        if score > 0 && best.is_none_or(|(_, s)| score > s) {
            best = Some((form, score));
        }
    }
    best.map(|(form, _)| form)
}

/// Reads the answers of every checklist sheet of a filled workbook.
///
/// A sheet is a checklist sheet when one of its first 20 rows has the
/// labels 番号 and 回答; its form is found by its items (or its title).
/// Sheets without such a row (instructions, lists) are passed over. Rows
/// without an answer are skipped; rows that cannot be read are listed in
/// `rejected` with their row and column and give no answer.
pub fn read_checklist_answers(
    bytes: &[u8],
    framework: &Framework,
) -> Result<Vec<SheetAnswers>, DocumentError> {
    let mut book = Book::open(bytes)?;
    let is_1904 = book.is_1904();
    let names = book.sheet_names();
    let mut result = Vec::new();
    for name in &names {
        let grid = book.grid(name)?;
        let Some(header) = find_header(&grid) else {
            continue;
        };
        let form = identify_form(framework, name, &grid, &header).ok_or_else(|| {
            DocumentError::UnknownForm {
                sheet: name.clone(),
                framework: format!("{} {}", framework.title_ja, framework.edition_ja),
                forms: framework.forms.iter().map(|f| f.title_ja.clone()).collect(),
            }
        })?;
        result.push(read_sheet(name, form, &grid, &header, is_1904));
    }
    if result.is_empty() {
        return Err(DocumentError::NoChecklistSheet {
            sheets: names,
            rows: HEADER_SEARCH_ROWS,
        });
    }
    Ok(result)
}

fn read_sheet(
    sheet: &str,
    form: &Form,
    grid: &Grid,
    header: &Header,
    is_1904: bool,
) -> SheetAnswers {
    let col = |field: Field| header.columns.get(&field).copied();
    let number_col = header.columns[&Field::Number];
    let answer_col = header.columns[&Field::Answer];
    let mut answers = BTreeMap::new();
    let mut rejected = Vec::new();
    let mut seen_at: HashMap<CellKey, u32> = HashMap::new();

    let last = grid.last_row().unwrap_or(header.row);
    for row in header.row + 1..=last {
        let mut problems: Vec<(u32, String)> = Vec::new();
        let number = grid.text(row, number_col);
        let mark = grid.text(row, answer_col);
        if mark.is_empty() {
            // Unanswered, or a section title.
            continue;
        }
        if number.is_empty() {
            rejected.push(rejection(
                sheet,
                row,
                number_col,
                "回答がありますが番号がありません (an answer without an item number)",
            ));
            continue;
        }
        let Some(item) = form.item(&number) else {
            rejected.push(rejection(
                sheet,
                row,
                number_col,
                &format!(
                    "番号「{number}」は様式「{}」にありません (no such item in the form)",
                    form.title_ja
                ),
            ));
            continue;
        };

        // Which cell of the item: its 対象, or its only cell.
        let scope_text = col(Field::Scope)
            .map(|c| grid.text(row, c))
            .unwrap_or_default();
        let scope = match parse_scope(&scope_text) {
            Ok(Some(scope)) => Some(scope),
            Ok(None) if item.cells.len() == 1 => Some(item.cells[0].scope),
            Ok(None) => {
                let asked: Vec<&str> = item.cells.iter().map(|c| scope_label(c.scope)).collect();
                problems.push((
                    col(Field::Scope).unwrap_or(number_col),
                    format!(
                        "番号「{number}」は対象ごとに回答します（{}）が、対象がありません (the item has one answer per scope; which one?)",
                        asked.join("、")
                    ),
                ));
                None
            }
            Err(()) => {
                problems.push((
                    col(Field::Scope).unwrap_or(number_col),
                    format!("対象「{scope_text}」は分かりません（{SCOPE_LABELS}） (unknown scope)"),
                ));
                None
            }
        };
        if let Some(scope) = scope
            && item.cell(scope).is_none()
        {
            problems.push((
                col(Field::Scope).unwrap_or(number_col),
                format!(
                    "番号「{number}」に対象「{}」の回答欄はありません (the item is not asked for this scope)",
                    scope_label(scope)
                ),
            ));
        }

        let value = AnswerValue::from_mark(&mark);
        if value.is_none() {
            problems.push((
                answer_col,
                format!(
                    "回答「{mark}」は読めません（はい・いいえ・○・×・不明・該当なし） (not an answer mark)"
                ),
            ));
        }

        let mut read_date = |field: Field, label: &str| -> Option<Date> {
            let c = col(field)?;
            match cell_date(grid.get(row, c), is_1904) {
                Ok(date) => date,
                Err(text) => {
                    problems.push((
                        c,
                        format!(
                            "{label}「{text}」は日付として読めません（例: 2024/6/1、令和6年6月1日） (not a date)"
                        ),
                    ));
                    None
                }
            }
        };
        let checked_on = read_date(Field::Checked, "確認日");
        let target_on = read_date(Field::Target, "目標日");
        let not_understood = col(Field::NotUnderstood)
            .map(|c| grid.text(row, c))
            .unwrap_or_default();

        if let (Some(scope), Some(value), true) = (scope, value, problems.is_empty()) {
            let key = CellKey::new(item.number.clone(), scope);
            if let Some(first) = seen_at.get(&key) {
                problems.push((
                    number_col,
                    format!(
                        "番号「{number}」（{}）の回答は {first} 行目にもあります (answered twice)",
                        scope_label(scope)
                    ),
                ));
            } else {
                seen_at.insert(key.clone(), row + 1);
                answers.insert(
                    key,
                    Answer {
                        value,
                        checked_on,
                        target_on,
                        not_understood,
                    },
                );
            }
        }
        for (c, reason) in problems {
            rejected.push(rejection(sheet, row, c, &reason));
        }
    }
    SheetAnswers {
        sheet: sheet.to_owned(),
        form_key: form.key.clone(),
        answers,
        rejected,
    }
}

fn rejection(sheet: &str, row: u32, col: u32, reason: &str) -> RowRejection {
    RowRejection {
        sheet: sheet.to_owned(),
        row: row + 1,
        column: column_letter(col),
        reason: reason.to_owned(),
    }
}

/// A date from a date cell, a serial number or typed text; `Err` with the
/// text when it is none of them.
fn cell_date(data: &Data, is_1904: bool) -> Result<Option<Date>, String> {
    let from_serial = |serial: f64| -> Option<Date> {
        let excel = ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, is_1904);
        let (y, m, d, ..) = excel.to_ymd_hms_milli();
        let date = parse_date(&format!("{y}/{m}/{d}"))?;
        // A bare number is a date only in a plausible range (2000 to 2100).
        (2000..=2100).contains(&date.year()).then_some(date)
    };
    match data {
        Data::Empty => Ok(None),
        Data::DateTime(excel) => {
            let (y, m, d, ..) = excel.to_ymd_hms_milli();
            parse_date(&format!("{y}/{m}/{d}"))
                .map(Some)
                .ok_or_else(|| format!("{y}/{m}/{d}"))
        }
        Data::Float(f) if f.is_finite() && *f > 0.0 && *f < 1_000_000.0 => {
            from_serial(*f).map(Some).ok_or_else(|| cell_text(data))
        }
        Data::Int(i) if *i > 0 && *i < 1_000_000 => from_serial(*i as f64)
            .map(Some)
            .ok_or_else(|| cell_text(data)),
        other => {
            let text = cell_text(other);
            if text.is_empty() {
                return Ok(None);
            }
            parse_date(&text).map(Some).ok_or(text)
        }
    }
}
