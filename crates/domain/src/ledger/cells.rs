//! Ledger records as rows of text: the one reader that checks a record,
//! whether it comes from a spreadsheet, a web form or the API, and the
//! import plan that says, row by row, what a file would change.

use super::{Ledger, LedgerKey, RecordKind, fold_label};
use crate::DomainError;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use time::Date;

/// One value of a labelled choice, for forms and import hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub slug: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
}

impl Choice {
    pub fn label(&self, language: &str) -> &'static str {
        if language == "en" { self.en } else { self.ja }
    }
}

/// What a column holds, so a form can offer the right input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Input {
    Text,
    Multiline,
    /// One of a fixed set of labelled values.
    Choice(&'static [Choice]),
    /// The key of another record of the same ledger.
    Reference(RecordKind),
    /// The key of a model in the shared device catalogue.
    Catalogue,
    /// はい / いいえ / unknown.
    Flag,
    Date,
    Number,
    /// Several values, one per line (CPE names).
    List,
}

/// One column of a record's table, with the headers people use for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Column {
    pub field: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    pub required: bool,
    pub input: Input,
}

impl Column {
    pub const fn new(field: &'static str, ja: &'static str, en: &'static str) -> Column {
        Column {
            field,
            ja,
            en,
            required: false,
            input: Input::Text,
        }
    }

    pub const fn required(field: &'static str, ja: &'static str, en: &'static str) -> Column {
        Column {
            field,
            ja,
            en,
            required: true,
            input: Input::Text,
        }
    }

    pub const fn input(self, input: Input) -> Column {
        Column { input, ..self }
    }

    pub fn label(&self, language: &str) -> &'static str {
        if language == "en" { self.en } else { self.ja }
    }
}

/// A record that can be read from and written to a row of text.
pub trait RowRecord: Sized + Clone + Serialize + serde::de::DeserializeOwned {
    /// The columns in the order a workbook shows them; the first is the key.
    const COLUMNS: &'static [Column];

    fn key(&self) -> &LedgerKey;

    /// Reads and checks a record; every problem of the row at once.
    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>>;

    /// The record as text, one value per column of [`Self::COLUMNS`], in the
    /// form [`Self::from_cells`] reads back.
    fn to_cells(&self) -> Vec<String>;

    /// Checks a record built elsewhere (JSON from the API) by the same rules
    /// as a spreadsheet row, and returns it normalised.
    fn checked(&self) -> Result<Self, Vec<CellProblem>> {
        let values = self.to_cells();
        let cells = Cells::from_pairs(
            Self::COLUMNS
                .iter()
                .zip(values.iter())
                .map(|(c, v)| (c.field, v.as_str())),
        );
        Self::from_cells(&cells)
    }
}

/// A record kind of a hospital's ledger.
pub trait LedgerRecord: RowRecord {
    const KIND: RecordKind;

    /// This kind's table in a ledger.
    fn table(ledger: &Ledger) -> &Vec<Self>;
    fn table_mut(ledger: &mut Ledger) -> &mut Vec<Self>;
}

/// What is wrong with one field of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellProblem {
    pub field: &'static str,
    pub reason: String,
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl From<DomainError> for CellProblem {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::UnknownValue {
                field,
                value,
                valid,
            } => CellProblem {
                field,
                reason: format!("unknown value `{value}` (valid: {valid})"),
            },
            DomainError::Invalid { field, reason } => CellProblem { field, reason },
        }
    }
}

/// The text of one row, by field name. Fields not given read as blank.
#[derive(Debug, Clone, Default)]
pub struct Cells<'a> {
    values: HashMap<&'static str, &'a str>,
}

impl<'a> Cells<'a> {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (&'static str, &'a str)>) -> Self {
        Cells {
            values: pairs.into_iter().collect(),
        }
    }

    /// A row's text by field, from a form or a JSON object (unknown fields
    /// are ignored: they are not the record's).
    pub fn from_map<R: RowRecord>(map: &'a BTreeMap<String, String>) -> Self {
        Cells::from_pairs(
            R::COLUMNS
                .iter()
                .filter_map(|c| map.get(c.field).map(|v| (c.field, v.as_str()))),
        )
    }

    pub fn text(&self, field: &'static str) -> &'a str {
        self.values.get(field).map_or("", |v| v.trim())
    }

    pub fn is_blank(&self) -> bool {
        self.values.values().all(|v| v.trim().is_empty())
    }

    /// A reader that gathers every problem of the row.
    pub fn reader(&self) -> CellReader<'_, 'a> {
        CellReader {
            cells: self,
            problems: Vec::new(),
        }
    }
}

/// Reads typed values from [`Cells`], remembering each problem and carrying
/// on, so one pass names everything wrong with a row.
pub struct CellReader<'c, 'a> {
    cells: &'c Cells<'a>,
    problems: Vec<CellProblem>,
}

impl CellReader<'_, '_> {
    fn problem(&mut self, field: &'static str, reason: impl Into<String>) {
        self.problems.push(CellProblem {
            field,
            reason: reason.into(),
        });
    }

    fn record<T>(&mut self, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.problems.push(e.into());
                None
            }
        }
    }

    pub fn text(&self, field: &'static str) -> &str {
        self.cells.text(field)
    }

    /// Free text of at most `max` characters (blank allowed).
    pub fn note(&mut self, field: &'static str, max: usize) -> String {
        let value = self.cells.text(field);
        self.record(crate::validate::note(field, value, max))
            .unwrap_or_default()
    }

    /// Free text that must be given.
    pub fn required(&mut self, field: &'static str, max: usize) -> String {
        let value = self.note(field, max);
        if value.is_empty() && !self.problems.iter().any(|p| p.field == field) {
            self.problem(field, "must not be empty");
        }
        value
    }

    pub fn key(&mut self, field: &'static str) -> Option<LedgerKey> {
        let value = self.cells.text(field);
        if value.is_empty() {
            self.problem(field, "must not be empty");
            return None;
        }
        self.optional_key(field)
    }

    pub fn optional_key(&mut self, field: &'static str) -> Option<LedgerKey> {
        let value = self.cells.text(field);
        if value.is_empty() {
            return None;
        }
        match LedgerKey::parse(value) {
            Ok(k) => Some(k),
            Err(e) => {
                let reason = match e {
                    DomainError::Invalid { reason, .. } => reason,
                    other => other.to_string(),
                };
                self.problem(field, reason);
                None
            }
        }
    }

    /// A labelled value (slug, Japanese or English label); blank gives `default`.
    pub fn choice<T: Copy>(
        &mut self,
        field: &'static str,
        parse: fn(&str) -> Result<T, DomainError>,
        default: Option<T>,
    ) -> Option<T> {
        let value = self.cells.text(field);
        if value.is_empty() {
            if default.is_none() {
                self.problem(field, "must not be empty");
            }
            return default;
        }
        match parse(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let mut p = CellProblem::from(e);
                p.field = field;
                self.problems.push(p);
                default
            }
        }
    }

    /// はい/いいえ, yes/no, ○/×, あり/なし, true/false, 1/0; blank or 不明 is unknown.
    pub fn flag(&mut self, field: &'static str) -> Option<bool> {
        let value = self.cells.text(field);
        // Not knowing is an answer too: it stays unknown.
        if value.is_empty()
            || matches!(
                fold_label(value).as_str(),
                "不明" | "unknown" | "わからない" | "?" | "？"
            )
        {
            return None;
        }
        match parse_flag(value) {
            Some(v) => Some(v),
            None => {
                self.problem(
                    field,
                    format!("`{value}` is not yes or no (はい/いいえ, ○/×, あり/なし)"),
                );
                None
            }
        }
    }

    /// A date as `YYYY-MM-DD` (or `YYYY/MM/DD`); blank is none.
    pub fn date(&mut self, field: &'static str) -> Option<Date> {
        let value = self.cells.text(field);
        if value.is_empty() {
            return None;
        }
        match parse_date(value) {
            Some(d) => Some(d),
            None => {
                self.problem(field, format!("`{value}` is not a date (YYYY-MM-DD)"));
                None
            }
        }
    }

    /// A whole number from 0 to `max`; blank is none.
    pub fn number(&mut self, field: &'static str, max: u32) -> Option<u32> {
        let value = self.cells.text(field);
        if value.is_empty() {
            return None;
        }
        let digits: String = value
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                other => other,
            })
            .filter(|c| *c != ',')
            .collect();
        // Spreadsheets hand whole numbers over as `3.0`.
        let digits = digits.strip_suffix(".0").unwrap_or(&digits);
        match digits.parse::<u32>() {
            Ok(n) if n <= max => Some(n),
            Ok(_) => {
                self.problem(field, format!("more than {max}"));
                None
            }
            Err(_) => {
                self.problem(field, format!("`{value}` is not a whole number"));
                None
            }
        }
    }

    /// Several values in one cell, separated by new lines, `;` or `、`.
    pub fn list(&self, field: &'static str) -> Vec<String> {
        self.cells
            .text(field)
            .split(['\n', ';', '；', '、'])
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn add_problem(&mut self, field: &'static str, reason: impl Into<String>) {
        self.problem(field, reason);
    }

    /// The record if no field had a problem.
    /// `build` sees `None` only for a value whose problem was recorded.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<CellProblem>> {
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        build().ok_or_else(|| {
            vec![CellProblem {
                field: "row",
                reason: "incomplete".into(),
            }]
        })
    }
}

fn parse_flag(value: &str) -> Option<bool> {
    match fold_label(value).as_str() {
        "はい" | "yes" | "y" | "true" | "1" | "○" | "〇" | "◯" | "あり" | "有" | "有り" => {
            Some(true)
        }
        "いいえ" | "no" | "n" | "false" | "0" | "×" | "✕" | "x" | "なし" | "無" | "無し" => {
            Some(false)
        }
        _ => None,
    }
}

pub(crate) fn flag_text(value: Option<bool>) -> String {
    match value {
        Some(true) => "はい".into(),
        Some(false) => "いいえ".into(),
        None => String::new(),
    }
}

pub(crate) fn date_text(value: Option<Date>) -> String {
    value.map(|d| d.to_string()).unwrap_or_default()
}

pub(crate) fn number_text(value: Option<u32>) -> String {
    value.map(|n| n.to_string()).unwrap_or_default()
}

pub(crate) fn key_text(value: &Option<LedgerKey>) -> String {
    value.as_ref().map(|k| k.to_string()).unwrap_or_default()
}

fn parse_date(value: &str) -> Option<Date> {
    let value = value.trim();
    let mut parts = value.split(['-', '/', '.']);
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1900..=2200).contains(&year) {
        return None;
    }
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// Which column of a file holds which field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnMapping {
    /// Per column of the file, the field it holds (`None`: ignored).
    pub fields: Vec<Option<&'static str>>,
}

impl ColumnMapping {
    /// Matches each header against the field names and their Japanese and
    /// English labels; a header matched twice keeps its first column.
    pub fn infer(headers: &[String], columns: &[Column]) -> ColumnMapping {
        let mut taken = Vec::new();
        let fields = headers
            .iter()
            .map(|h| {
                let h = fold_label(h);
                let found = columns.iter().find(|c| {
                    !taken.contains(&c.field)
                        && (fold_label(c.field) == h
                            || fold_label(c.ja) == h
                            || fold_label(c.en) == h)
                })?;
                taken.push(found.field);
                Some(found.field)
            })
            .collect();
        ColumnMapping { fields }
    }

    /// Applies the user's choices: `(column index, field name or "")`.
    pub fn with_choices(
        mut self,
        columns: &[Column],
        choices: &[(usize, String)],
    ) -> Result<ColumnMapping, DomainError> {
        for (index, field) in choices {
            let Some(slot) = self.fields.get_mut(*index) else {
                return Err(DomainError::invalid(
                    "mapping",
                    format!("the file has no column {}", index + 1),
                ));
            };
            if field.is_empty() {
                *slot = None;
                continue;
            }
            let column = columns.iter().find(|c| c.field == field).ok_or_else(|| {
                DomainError::UnknownValue {
                    field: "mapping",
                    value: field.clone(),
                    valid: columns
                        .iter()
                        .map(|c| c.field)
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?;
            *slot = Some(column.field);
        }
        let mut seen = Vec::new();
        for f in self.fields.iter().flatten() {
            if seen.contains(f) {
                return Err(DomainError::invalid(
                    "mapping",
                    format!("two columns are mapped to `{f}`"),
                ));
            }
            seen.push(*f);
        }
        Ok(self)
    }

    /// The required columns no column of the file is mapped to.
    pub fn missing_required(&self, columns: &[Column]) -> Vec<Column> {
        columns
            .iter()
            .filter(|c| c.required && !self.fields.contains(&Some(c.field)))
            .copied()
            .collect()
    }

    pub fn column_of(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|f| *f == Some(field))
    }
}

/// A row of a file that will not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowRejection {
    /// The row number as the file shows it (1-based, the header is row 1).
    pub row: u32,
    /// The file's column (0-based) the problem is in, if known.
    pub column: Option<usize>,
    pub field: &'static str,
    pub reason: String,
}

/// What importing a file would do.
#[derive(Debug, Clone, Serialize)]
pub struct ImportPlan<R> {
    /// Rows that pass, with their row numbers, in file order.
    pub accepted: Vec<(u32, R)>,
    pub rejected: Vec<RowRejection>,
    /// Keys of accepted rows that already exist (they will be updated).
    pub updates: usize,
    /// Accepted rows identical to what the ledger holds (nothing to do).
    pub unchanged: usize,
}

impl<R> ImportPlan<R> {
    pub fn rejected_rows(&self) -> usize {
        let mut rows: Vec<u32> = self.rejected.iter().map(|r| r.row).collect();
        rows.dedup();
        rows.len()
    }
}

/// Reads the data rows of a file (`rows`: row number and cell texts) into
/// records; malformed values and keys repeated in the file are rejected with
/// their row and column. Blank rows are skipped.
pub fn read_rows<R: RowRecord>(
    mapping: &ColumnMapping,
    rows: &[(u32, Vec<String>)],
) -> (Vec<(u32, R)>, Vec<RowRejection>) {
    let mut accepted: Vec<(u32, R)> = Vec::new();
    let mut rejected = Vec::new();
    let mut first_row_of: HashMap<LedgerKey, u32> = HashMap::new();
    for (row, values) in rows {
        let cells = Cells::from_pairs(
            mapping
                .fields
                .iter()
                .zip(values.iter())
                .filter_map(|(f, v)| f.map(|f| (f, v.as_str()))),
        );
        if cells.is_blank() {
            continue;
        }
        match R::from_cells(&cells) {
            Ok(record) => {
                let key_field = R::COLUMNS[0].field;
                if let Some(first) = first_row_of.get(record.key()) {
                    rejected.push(RowRejection {
                        row: *row,
                        column: mapping.column_of(key_field),
                        field: key_field,
                        reason: format!(
                            "key `{}` appears twice in this file (first in row {first})",
                            record.key()
                        ),
                    });
                    continue;
                }
                first_row_of.insert(record.key().clone(), *row);
                accepted.push((*row, record));
            }
            Err(problems) => rejected.extend(problems.into_iter().map(|p| RowRejection {
                row: *row,
                column: mapping.column_of(p.field),
                field: p.field,
                reason: p.reason,
            })),
        }
    }
    (accepted, rejected)
}

/// What importing the data rows of a file into a hospital's ledger would
/// do: [`read_rows`], then every reference (segment, system, boundary
/// device, …) checked on the ledger as the import would leave it.
pub fn plan_import<R: LedgerRecord + PartialEq>(
    mapping: &ColumnMapping,
    rows: &[(u32, Vec<String>)],
    current: &Ledger,
) -> ImportPlan<R> {
    let (mut accepted, mut rejected) = read_rows::<R>(mapping, rows);
    // References are checked on the ledger as the import would leave it.
    let mut after = current.clone();
    upsert(
        R::table_mut(&mut after),
        accepted.iter().map(|(_, r)| r.clone()).collect(),
    );
    let problems = after.reference_problems();
    let mut bad_rows = Vec::new();
    for p in problems.iter().filter(|p| p.kind == R::KIND) {
        if let Some((row, _)) = accepted.iter().find(|(_, r)| r.key() == &p.key) {
            bad_rows.push(*row);
            rejected.push(RowRejection {
                row: *row,
                column: mapping.column_of(p.field),
                field: p.field,
                reason: p.reason.clone(),
            });
        }
    }
    accepted.retain(|(row, _)| !bad_rows.contains(row));
    rejected.sort_by_key(|r| (r.row, r.column));
    let before = R::table(current);
    let updates = accepted
        .iter()
        .filter(|(_, r)| before.iter().any(|b| b.key() == r.key()))
        .count();
    let unchanged = accepted
        .iter()
        .filter(|(_, r)| before.iter().any(|b| b == r))
        .count();
    ImportPlan {
        accepted,
        rejected,
        updates,
        unchanged,
    }
}

/// Replaces records with the same key and appends the new ones.
pub fn upsert<R: RowRecord>(into: &mut Vec<R>, records: Vec<R>) {
    for r in records {
        match into.iter_mut().find(|e| e.key() == r.key()) {
            Some(slot) => *slot = r,
            None => into.push(r),
        }
    }
}
