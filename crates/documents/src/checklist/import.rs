//! Importing a framework (a new edition) from the official workbook with a
//! column mapping chosen by an administrator.

use std::collections::HashMap;

use mamori_domain::checklist::{
    Cell, Form, Framework, Item, MAX_ITEM_TEXT, Provenance, Scope, Section,
};

use super::labels::{
    SCOPE_LABELS, column_index, column_letter, parse_fiscal_year, parse_scope, scope_label,
};
use super::workbook::{Book, Grid};
use super::{
    COL_NOTE, COL_NUMBER, COL_SCOPE, COL_TEXT, COL_YEAR, ColumnMapping, FrameworkImport,
    FrameworkMeta, HEADER_ROW, PreviewRow, RowRejection, sheet_names, split_section_label,
};
use crate::DocumentError;

/// The mapping that reads Mamori's own export ([`super::checklist_xlsx`]),
/// so an exported framework imports back as itself.
///
/// Sheets are named as the export names them for a blank form (no
/// respondent); a filled export's sheet names also carry the respondent,
/// so change `sheet` to import one of those.
pub fn exported_mapping(framework: &Framework) -> Vec<ColumnMapping> {
    let names = sheet_names(framework.forms.iter().map(|f| (f.title_ja.as_str(), "")));
    let letter = |col: u16| column_letter(u32::from(col));
    framework
        .forms
        .iter()
        .zip(names)
        .map(|(form, sheet)| ColumnMapping {
            sheet,
            form_key: form.key.clone(),
            audience: form.audience,
            form_title_ja: form.title_ja.clone(),
            first_row: HEADER_ROW + 2,
            number: letter(COL_NUMBER),
            text: letter(COL_TEXT),
            section: Some(letter(COL_TEXT)),
            scope: Some(letter(COL_SCOPE)),
            required_fy: Some(letter(COL_YEAR)),
            note: Some(letter(COL_NOTE)),
            text_en: None,
        })
        .collect()
}

/// Mapped columns as 0-based indexes.
struct Columns {
    number: u32,
    text: u32,
    section: Option<u32>,
    scope: Option<u32>,
    required_fy: Option<u32>,
    note: Option<u32>,
    text_en: Option<u32>,
}

impl Columns {
    fn of(mapping: &ColumnMapping) -> Result<Columns, DocumentError> {
        let one = |field: &'static str, letters: &str| {
            column_index(letters).ok_or_else(|| DocumentError::InvalidColumn {
                sheet: mapping.sheet.clone(),
                field,
                column: letters.to_owned(),
            })
        };
        let optional = |field: &'static str, letters: &Option<String>| match letters {
            Some(letters) if !letters.trim().is_empty() => one(field, letters).map(Some),
            _ => Ok(None),
        };
        Ok(Columns {
            number: one("number (番号)", &mapping.number)?,
            text: one("text (確認項目)", &mapping.text)?,
            section: optional("section (区分)", &mapping.section)?,
            scope: optional("scope (対象)", &mapping.scope)?,
            required_fy: optional("required_fy (目標年度)", &mapping.required_fy)?,
            note: optional("note (備考)", &mapping.note)?,
            text_en: optional("text_en", &mapping.text_en)?,
        })
    }
}

/// Reads the forms of a new edition from the official workbook.
///
/// Every mapping is one form. Each row from `first_row` on is an item (or a
/// further cell of the item above, when the number repeats with another
/// 対象), a section title, or empty. Rows that cannot be an item are listed
/// in `rejected` with their row and column; the framework is built only if
/// none were, or if `skip_rejected` leaves them out. Items get the
/// provenance `imported`.
///
/// Refuses (before reading any row) a file that is not a readable .xlsx, a
/// mapping to a sheet that is not there, a column that is not a letter, and
/// a first row below the sheet's data.
pub fn import_framework(
    bytes: &[u8],
    meta: &FrameworkMeta,
    mappings: &[ColumnMapping],
    skip_rejected: bool,
) -> Result<FrameworkImport, DocumentError> {
    let mut book = Book::open(bytes)?;
    let available = book.sheet_names();
    let mut plans = Vec::with_capacity(mappings.len());
    for mapping in mappings {
        if !available.contains(&mapping.sheet) {
            return Err(DocumentError::SheetNotFound {
                sheet: mapping.sheet.clone(),
                available: available.clone(),
            });
        }
        plans.push((mapping, Columns::of(mapping)?));
    }

    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut forms = Vec::new();
    for (mapping, columns) in plans {
        let grid = book.grid(&mapping.sheet)?;
        let last = grid.last_row().map_or(0, |r| r + 1);
        if mapping.first_row == 0 || mapping.first_row > last {
            return Err(DocumentError::RowBeyondData {
                sheet: mapping.sheet.clone(),
                row: mapping.first_row,
                last,
            });
        }
        let form = read_form(mapping, &columns, &grid, &mut rows, &mut rejected);
        forms.push(form);
    }

    if !rejected.is_empty() && !skip_rejected {
        return Ok(FrameworkImport {
            rows,
            rejected,
            framework: None,
        });
    }
    let sheets: Vec<&str> = mappings.iter().map(|m| m.sheet.as_str()).collect();
    let framework = Framework {
        key: meta.key.clone(),
        title_ja: meta.title_ja.clone(),
        title_en: String::new(),
        edition_ja: meta.edition_ja.clone(),
        edition_en: String::new(),
        fiscal_year: meta.fiscal_year,
        published: None,
        answer_style: meta.answer_style,
        sources: Vec::new(),
        notes: format!("ワークブックから取り込み（シート: {}）", sheets.join("、")),
        forms,
    }
    .normalised()
    .map_err(|e| DocumentError::InvalidFramework(e.to_string()))?;
    Ok(FrameworkImport {
        rows,
        rejected,
        framework: Some(framework),
    })
}

fn read_form(
    mapping: &ColumnMapping,
    columns: &Columns,
    grid: &Grid,
    preview: &mut Vec<PreviewRow>,
    rejected: &mut Vec<RowRejection>,
) -> Form {
    let sheet = mapping.sheet.as_str();
    let mut sections: Vec<(String, Section)> = Vec::new();
    // Where each number was first taken: a repeat elsewhere is refused.
    let mut first_seen: HashMap<String, u32> = HashMap::new();
    let mode = match columns.section {
        Some(c) if c == columns.text => SectionMode::InText,
        Some(c) if c == columns.number => SectionMode::InNumber,
        _ => SectionMode::Apart,
    };
    let last = grid.last_row().unwrap_or(0);

    for row in mapping.first_row - 1..=last {
        let at = |col: Option<u32>| col.map(|c| grid.text(row, c)).unwrap_or_default();
        let number = grid.text(row, columns.number);
        let text = grid.text(row, columns.text);
        let section = at(columns.section);
        let reject = |rejected: &mut Vec<RowRejection>, col: u32, reason: String| {
            rejected.push(RowRejection {
                sheet: sheet.to_owned(),
                row: row + 1,
                column: column_letter(col),
                reason,
            });
        };

        let current = sections.last().map(|(label, _)| label.as_str());
        let starts_section = !section.is_empty()
            && match mode {
                SectionMode::InText => number.is_empty(),
                SectionMode::InNumber => text.is_empty(),
                SectionMode::Apart => number.is_empty() || current != Some(section.as_str()),
            };
        if starts_section {
            let (section_number, title) = split_section_label(&section);
            sections.push((
                section.clone(),
                Section {
                    number: section_number,
                    title_ja: title,
                    title_en: String::new(),
                    items: Vec::new(),
                },
            ));
            if number.is_empty() || mode == SectionMode::InNumber {
                continue;
            }
        }
        if number.is_empty() && text.is_empty() {
            continue;
        }
        if number.is_empty() {
            reject(
                rejected,
                columns.number,
                "確認項目がありますが番号がありません (an item text without a number)".to_owned(),
            );
            continue;
        }

        let mut problems: Vec<(u32, String)> = Vec::new();
        let scope_text = at(columns.scope);
        let scope = match parse_scope(&scope_text) {
            Ok(scope) => scope.unwrap_or(Scope::WholeSystem),
            Err(()) => {
                problems.push((
                    columns.scope.unwrap_or(columns.number),
                    format!("対象「{scope_text}」は分かりません（{SCOPE_LABELS}） (unknown scope)"),
                ));
                Scope::WholeSystem
            }
        };
        let year_text = at(columns.required_fy);
        let required_fy = match parse_fiscal_year(&year_text) {
            Ok(year) => year,
            Err(()) => {
                problems.push((
                    columns.required_fy.unwrap_or(columns.number),
                    format!(
                        "目標年度「{year_text}」は年度として読めません（例: 2024、令和6年度、R6、令和6年度中） (not a fiscal year)"
                    ),
                ));
                None
            }
        };
        if text.chars().count() > MAX_ITEM_TEXT {
            problems.push((
                columns.text,
                format!(
                    "確認項目が {MAX_ITEM_TEXT} 文字を超えています：列の指定違い？ (longer than {MAX_ITEM_TEXT} characters: a wrong column?)"
                ),
            ));
        }

        // The number again right under its item, with another 対象: a
        // further cell of that item.
        let previous = sections
            .last_mut()
            .and_then(|(_, s)| s.items.last_mut())
            .filter(|item| item.number == number && columns.scope.is_some());
        if let Some(item) = &previous {
            if item.cell(scope).is_some() {
                problems.push((
                    columns.scope.unwrap_or(columns.number),
                    format!(
                        "番号「{number}」の対象「{}」が繰り返されています (number and scope repeat)",
                        scope_label(scope)
                    ),
                ));
            } else if !text.is_empty() && text != item.text_ja {
                problems.push((
                    columns.text,
                    format!(
                        "番号「{number}」が繰り返され、確認項目が違います (the number repeats with another text)"
                    ),
                ));
            }
        } else if let Some(first) = first_seen.get(&number) {
            problems.push((
                columns.number,
                format!("番号「{number}」は {first} 行目にもあります (the number repeats)"),
            ));
        } else if text.is_empty() {
            problems.push((
                columns.text,
                "番号がありますが確認項目がありません (a number without an item text)".to_owned(),
            ));
        }

        if !problems.is_empty() {
            for (col, reason) in problems {
                reject(rejected, col, reason);
            }
            continue;
        }

        let note = at(columns.note);
        let cell = Cell { scope, required_fy };
        match previous {
            Some(item) => item.cells.push(cell),
            None => {
                if sections.is_empty() {
                    // Items before any section title: a section without one.
                    sections.push((String::new(), untitled_section()));
                }
                first_seen.insert(number.clone(), row + 1);
                if let Some((_, section)) = sections.last_mut() {
                    section.items.push(Item {
                        number: number.clone(),
                        text_ja: text.clone(),
                        text_en: at(columns.text_en),
                        cells: vec![cell],
                        scope: None,
                        required_fy: None,
                        note_ja: note.clone(),
                        note_en: String::new(),
                        gate: false,
                        provenance: Provenance::Imported,
                        evidence: format!("シート「{sheet}」{}行目", row + 1),
                        forms: Vec::new(),
                    });
                }
            }
        }
        preview.push(PreviewRow {
            sheet: sheet.to_owned(),
            row: row + 1,
            number,
            section: sections
                .last()
                .map(|(label, _)| label.clone())
                .unwrap_or_default(),
            text: if text.is_empty() {
                previous_text(&sections)
            } else {
                text
            },
            scope,
            required_fy,
            note,
        });
    }

    Form {
        key: mapping.form_key.clone(),
        audience: mapping.audience,
        title_ja: mapping.form_title_ja.clone(),
        title_en: String::new(),
        // Sections whose items were all refused are left out.
        sections: sections
            .into_iter()
            .map(|(_, s)| s)
            .filter(|s| !s.items.is_empty())
            .collect(),
    }
}

/// Where section titles are, which decides what a section row is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SectionMode {
    /// In the text column: a row with text and no number.
    InText,
    /// In the number column: a row with a "number" and no text.
    InNumber,
    /// In a column of their own: a value there without a number, or a
    /// value that differs from the current section's (written on every
    /// row, or on the first row of each section).
    Apart,
}

fn untitled_section() -> Section {
    Section {
        number: String::new(),
        title_ja: String::new(),
        title_en: String::new(),
        items: Vec::new(),
    }
}

/// The text of the item a continuation row belongs to.
fn previous_text(sections: &[(String, Section)]) -> String {
    sections
        .last()
        .and_then(|(_, s)| s.items.last())
        .map(|i| i.text_ja.clone())
        .unwrap_or_default()
}
