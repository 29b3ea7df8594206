//! Filled checklists as a printable PDF: per sheet a title block and the
//! answers table, on landscape A4 with page numbers.

use mamori_domain::checklist::CellKey;

use super::labels::scope_label;
use super::{FilledSheet, section_label};
use crate::DocumentError;
use crate::dates::japanese_date;
use crate::pdf::{TablePart, TableRow, table_pdf};

/// Columns and their share of the page width.
const COLUMNS: [(&str, f32); 7] = [
    ("番号", 6.0),
    ("確認項目", 38.0),
    // ネットワーク機器 on one line.
    ("対象", 11.0),
    ("回答", 6.0),
    ("確認日", 9.0),
    ("目標日", 9.0),
    ("理解が困難であった部分", 21.0),
];

/// Writes the sheets as one PDF, each sheet starting a page.
pub fn checklist_pdf(sheets: &[FilledSheet]) -> Result<Vec<u8>, DocumentError> {
    let slash = |d: time::Date| format!("{}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day());
    let parts: Vec<TablePart> = sheets
        .iter()
        .map(|filled| {
            let framework = filled.framework;
            let style = framework.answer_style;
            let respondent = match (filled.respondent.trim(), filled.respondent_role.trim()) {
                (name, "") => name.to_owned(),
                ("", role) => format!("（{role}）"),
                (name, role) => format!("{name}（{role}）"),
            };
            let mut rows = Vec::new();
            for section in &filled.form.sections {
                rows.push(TableRow::Section(section_label(
                    &section.number,
                    &section.title_ja,
                )));
                for item in &section.items {
                    for cell in &item.cells {
                        let answer = filled
                            .answers
                            .get(&CellKey::new(item.number.clone(), cell.scope));
                        rows.push(TableRow::Cells(vec![
                            item.number.clone(),
                            item.text_ja.clone(),
                            scope_label(cell.scope).to_owned(),
                            answer.map(|a| a.value.mark(style)).unwrap_or("").to_owned(),
                            answer
                                .and_then(|a| a.checked_on)
                                .map(slash)
                                .unwrap_or_default(),
                            answer
                                .and_then(|a| a.target_on)
                                .map(slash)
                                .unwrap_or_default(),
                            answer.map(|a| a.not_understood.clone()).unwrap_or_default(),
                        ]));
                    }
                }
            }
            TablePart {
                title: format!("{} {}", framework.title_ja, framework.edition_ja),
                lines: vec![
                    format!("様式：{}", filled.form.title_ja),
                    format!("医療機関名：{}", filled.hospital),
                    format!("回答者：{respondent}"),
                    format!("出力日：{}", japanese_date(filled.generated_on)),
                ],
                columns: COLUMNS
                    .iter()
                    .map(|(label, share)| ((*label).to_owned(), *share))
                    .collect(),
                rows,
            }
        })
        .collect();
    let title = sheets
        .first()
        .map(|s| format!("{} {}", s.framework.title_ja, s.framework.edition_ja))
        .unwrap_or_default();
    table_pdf(&title, &parts)
}
