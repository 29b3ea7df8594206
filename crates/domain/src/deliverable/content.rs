//! The content of one version of a deliverable, what makes it incomplete,
//! and what changed between two versions.

use super::DeliverableKind;
use crate::ledger::{NetworkView, OrgView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A column of a content table, with its Japanese and English headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentColumn {
    pub ja: String,
    pub en: String,
}

impl ContentColumn {
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> ContentColumn {
        ContentColumn {
            ja: ja.into(),
            en: en.into(),
        }
    }

    pub fn label(&self, language: &str) -> &str {
        if language == "en" { &self.en } else { &self.ja }
    }
}

/// One row; `key` identifies it across versions (a ledger key, or an item
/// number and scope), `cells` has one text per column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRow {
    pub key: String,
    pub cells: Vec<String>,
}

/// One table of a deliverable, as the report and the workbook show it.
/// Values are written as the ledger's workbook writes them (Japanese
/// labels, はい/いいえ, ISO dates), so a sheet reads back into the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentTable {
    /// Stable within a deliverable (`backups`, `respondent:<key>`, …).
    pub id: String,
    pub caption_ja: String,
    pub caption_en: String,
    pub columns: Vec<ContentColumn>,
    pub rows: Vec<ContentRow>,
}

impl ContentTable {
    pub fn row(&self, key: &str) -> Option<&ContentRow> {
        self.rows.iter().find(|r| r.key == key)
    }

    /// The position of a column, by its Japanese or English header.
    pub fn column(&self, label: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.ja == label || c.en == label)
    }

    /// The text of one cell, by row key and column header.
    pub fn cell(&self, key: &str, column: &str) -> Option<&str> {
        let index = self.column(column)?;
        self.row(key)?.cells.get(index).map(String::as_str)
    }

    pub fn keys(&self) -> Vec<&str> {
        self.rows.iter().map(|r| r.key.as_str()).collect()
    }
}

/// What one version of a deliverable shows, frozen at submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverableContent {
    pub kind: DeliverableKind,
    pub tables: Vec<ContentTable>,
    /// ⑥: the network overview as drawn.
    #[serde(default)]
    pub network: Option<NetworkView>,
    /// ⑦: the management structure as drawn.
    #[serde(default)]
    pub structure: Option<OrgView>,
}

impl DeliverableContent {
    pub fn table(&self, id: &str) -> Option<&ContentTable> {
        self.tables.iter().find(|t| t.id == id)
    }

    /// The stored form (JSON).
    pub fn to_json(&self) -> String {
        // Only strings, numbers and lists: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<DeliverableContent, crate::DomainError> {
        serde_json::from_str(text)
            .map_err(|e| crate::DomainError::invalid("content", e.to_string()))
    }
}

pub(super) const BACKUPS: &str = "backups";
pub(super) const CONNECTIONS: &str = "connections";
pub(super) const INVESTIGATIONS: &str = "investigations";
pub(super) const SEGMENTS: &str = "segments";
pub(super) const DEVICES: &str = "devices";
pub(super) const LINKS: &str = "links";
pub(super) const ROLES: &str = "roles";
pub(super) const INCIDENT_CHAIN: &str = "incident-chain";
/// Checklist tables are `respondent:<respondent key>`.
pub(super) const RESPONDENT: &str = "respondent:";

/// The checklist tables' status column: a cell the form's gate question
/// took out of scope (not answered, and needing no answer).
pub(super) const STATUS_GATED: &str = "対象外（前提項目）";
/// Neither the respondent nor the hearing gave an answer.
pub(super) const STATUS_UNANSWERED: &str = "未回答";

fn rows_of(content: &DeliverableContent, id: &str) -> usize {
    content.table(id).map_or(0, |t| t.rows.len())
}

/// At most this many item numbers are named in one reason.
const NAMED_ITEMS: usize = 10;

/// What makes a submission of this content refused, each as
/// "Japanese reason / English reason". Empty: it may be submitted.
///
/// - ①–③: at least one respondent table; every cell the form asks (the
///   gate question may take cells out of scope) has a self-assessed or a
///   confirmed answer. An item left open in the hearing does not block: it
///   is shown as such, and the supervisor decides.
/// - ④: at least one backup.
/// - ⑤: at least one connection or one investigation entry (a survey that
///   found no connection still records how it looked).
/// - ⑥: the view, and at least one device.
/// - ⑦: the view, at least one role, and an incident contact chain.
pub fn missing_parts(content: &DeliverableContent) -> Vec<String> {
    let mut missing = Vec::new();
    let mut need = |ok: bool, ja: &str, en: &str| {
        if !ok {
            missing.push(format!("{ja} / {en}"));
        }
    };
    match content.kind {
        DeliverableKind::ChecklistExecutive
        | DeliverableKind::ChecklistAdministrator
        | DeliverableKind::ChecklistUser => {
            let respondents: Vec<&ContentTable> = content
                .tables
                .iter()
                .filter(|t| t.id.starts_with(RESPONDENT))
                .collect();
            need(!respondents.is_empty(), "回答者がいません", "no respondent");
            for table in respondents {
                if table.rows.is_empty() {
                    need(
                        false,
                        &format!("{}: 項目がありません", table.caption_ja),
                        &format!("{}: no items", table.caption_en),
                    );
                    continue;
                }
                let status = table.column("status");
                let unanswered: Vec<&str> = table
                    .rows
                    .iter()
                    .filter(|r| {
                        status.and_then(|i| r.cells.get(i)).map(String::as_str)
                            == Some(STATUS_UNANSWERED)
                    })
                    .map(|r| r.key.as_str())
                    .collect();
                if !unanswered.is_empty() {
                    let mut named = unanswered
                        .iter()
                        .take(NAMED_ITEMS)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ");
                    if unanswered.len() > NAMED_ITEMS {
                        named.push_str(", …");
                    }
                    need(
                        false,
                        &format!(
                            "{}: 未回答の項目が{}件あります（{named}）",
                            table.caption_ja,
                            unanswered.len()
                        ),
                        &format!(
                            "{}: {} unanswered items ({named})",
                            table.caption_en,
                            unanswered.len()
                        ),
                    );
                }
            }
        }
        DeliverableKind::Backups => need(
            rows_of(content, BACKUPS) > 0,
            "バックアップの記録がありません",
            "no backups recorded",
        ),
        DeliverableKind::Connections => need(
            rows_of(content, CONNECTIONS) > 0 || rows_of(content, INVESTIGATIONS) > 0,
            "外部接続先も外部接続先調査履歴もありません",
            "no external connections and no investigation entries recorded",
        ),
        DeliverableKind::Network => {
            need(
                content.network.is_some(),
                "ネットワーク概要図がありません",
                "the network overview is missing",
            );
            need(
                rows_of(content, DEVICES) > 0,
                "機器の記録がありません",
                "no devices recorded",
            );
        }
        DeliverableKind::Structure => {
            need(
                content.structure.is_some(),
                "管理体制図がありません",
                "the management structure chart is missing",
            );
            need(
                rows_of(content, ROLES) > 0,
                "管理体制の役割がありません",
                "no roles recorded",
            );
            need(
                rows_of(content, INCIDENT_CHAIN) > 0,
                "インシデント時の連絡順がありません",
                "no incident contact chain recorded",
            );
        }
    }
    missing
}

/// One difference between two versions of a deliverable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum ContentChange {
    TableAdded {
        table: String,
        caption_ja: String,
        caption_en: String,
        rows: usize,
    },
    TableRemoved {
        table: String,
        caption_ja: String,
        caption_en: String,
        rows: usize,
    },
    RowAdded {
        table: String,
        key: String,
        cells: Vec<String>,
    },
    RowRemoved {
        table: String,
        key: String,
        cells: Vec<String>,
    },
    CellChanged {
        table: String,
        key: String,
        column_ja: String,
        column_en: String,
        before: String,
        after: String,
    },
}

impl ContentChange {
    /// The table the change is in.
    pub fn table(&self) -> &str {
        match self {
            ContentChange::TableAdded { table, .. }
            | ContentChange::TableRemoved { table, .. }
            | ContentChange::RowAdded { table, .. }
            | ContentChange::RowRemoved { table, .. }
            | ContentChange::CellChanged { table, .. } => table,
        }
    }
}

impl std::fmt::Display for ContentChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContentChange::TableAdded {
                caption_ja,
                caption_en,
                rows,
                ..
            } => write!(
                f,
                "表「{caption_ja}」を追加（{rows}行） / table {caption_en} added ({rows} rows)"
            ),
            ContentChange::TableRemoved {
                caption_ja,
                caption_en,
                rows,
                ..
            } => write!(
                f,
                "表「{caption_ja}」を削除（{rows}行） / table {caption_en} removed ({rows} rows)"
            ),
            ContentChange::RowAdded { table, key, .. } => {
                write!(f, "{table}: {key} を追加 / {key} added")
            }
            ContentChange::RowRemoved { table, key, .. } => {
                write!(f, "{table}: {key} を削除 / {key} removed")
            }
            ContentChange::CellChanged {
                table,
                key,
                column_ja,
                column_en,
                before,
                after,
            } => write!(
                f,
                "{table}: {key} の{column_ja}: 「{before}」→「{after}」 / {key} {column_en}: `{before}` → `{after}`"
            ),
        }
    }
}

/// What changed from `before` to `after`: tables added or removed, then per
/// table (in `after`'s order) rows added and cells changed in `after`'s row
/// order, then rows removed in `before`'s order. Rows are matched by key,
/// cells by column header, so a column added to a table in a newer version
/// shows as changed from empty.
pub fn diff(before: &DeliverableContent, after: &DeliverableContent) -> Vec<ContentChange> {
    let mut changes = Vec::new();
    for table in &after.tables {
        match before.table(&table.id) {
            None => changes.push(ContentChange::TableAdded {
                table: table.id.clone(),
                caption_ja: table.caption_ja.clone(),
                caption_en: table.caption_en.clone(),
                rows: table.rows.len(),
            }),
            Some(old) => diff_table(old, table, &mut changes),
        }
    }
    for table in &before.tables {
        if after.table(&table.id).is_none() {
            changes.push(ContentChange::TableRemoved {
                table: table.id.clone(),
                caption_ja: table.caption_ja.clone(),
                caption_en: table.caption_en.clone(),
                rows: table.rows.len(),
            });
        }
    }
    changes
}

fn diff_table(before: &ContentTable, after: &ContentTable, changes: &mut Vec<ContentChange>) {
    let old_rows: HashMap<&str, &ContentRow> = before
        .rows
        .iter()
        .rev()
        .map(|r| (r.key.as_str(), r))
        .collect();
    let new_rows: HashMap<&str, &ContentRow> = after
        .rows
        .iter()
        .rev()
        .map(|r| (r.key.as_str(), r))
        .collect();
    // Columns by Japanese header: the after table's, then any it dropped.
    let mut columns: Vec<(&ContentColumn, Option<usize>, Option<usize>)> = after
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c, before.columns.iter().position(|o| o.ja == c.ja), Some(i)))
        .collect();
    for (i, c) in before.columns.iter().enumerate() {
        if !after.columns.iter().any(|n| n.ja == c.ja) {
            columns.push((c, Some(i), None));
        }
    }
    let text = |row: &ContentRow, index: Option<usize>| -> String {
        index
            .and_then(|i| row.cells.get(i))
            .cloned()
            .unwrap_or_default()
    };
    for row in &after.rows {
        if !std::ptr::eq(new_rows[row.key.as_str()], row) {
            // A repeated key: only its first row counts.
            continue;
        }
        let Some(old) = old_rows.get(row.key.as_str()) else {
            changes.push(ContentChange::RowAdded {
                table: after.id.clone(),
                key: row.key.clone(),
                cells: row.cells.clone(),
            });
            continue;
        };
        for (column, old_index, new_index) in &columns {
            let (was, now) = (text(old, *old_index), text(row, *new_index));
            if was != now {
                changes.push(ContentChange::CellChanged {
                    table: after.id.clone(),
                    key: row.key.clone(),
                    column_ja: column.ja.clone(),
                    column_en: column.en.clone(),
                    before: was,
                    after: now,
                });
            }
        }
    }
    for row in &before.rows {
        if !new_rows.contains_key(row.key.as_str()) && std::ptr::eq(old_rows[row.key.as_str()], row)
        {
            changes.push(ContentChange::RowRemoved {
                table: before.id.clone(),
                key: row.key.clone(),
                cells: row.cells.clone(),
            });
        }
    }
}
