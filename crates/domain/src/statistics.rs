//! Anonymised statistics for the ministry and for publication. Results
//! across hospitals may leave the ministry view only as statistics from
//! which no hospital can be traced and which expose no specific weakness.
//!
//! [`protect`] turns a [`RawTable`] (who contributed what to each cell) into
//! a [`ProtectedTable`] in four steps:
//!
//! 1. a cell or total built from fewer than `k` hospitals is withheld,
//!    because a reader who knows the few hospitals learns their values;
//! 2. a count or sum one hospital makes up more than `dominance` of is
//!    withheld, because the value is that hospital's value, nearly;
//! 3. a share every hospital answered alike (0 % or 100 %) is withheld,
//!    because it pins the weakness on every hospital of the group;
//! 4. further cells are withheld until no withheld value can be worked out
//!    again from the published totals (complementary suppression).
//!
//! The reasons stay with the releaser: [`ProtectedTable::for_publication`]
//! is the form that leaves the ministry view.

use crate::DomainError;
use crate::ledger::labelled_enum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod grid;

#[cfg(test)]
mod tests;

/// The smallest `k` a release may use: with two, either hospital learns
/// the other's value by subtracting its own.
pub const MIN_K: u32 = 3;
/// The largest `k` accepted; beyond it nothing would be published.
pub const MAX_K: u32 = 1000;
pub const DEFAULT_K: u32 = 5;
/// A count or sum is withheld when one hospital makes up more than this.
pub const DEFAULT_DOMINANCE: f64 = 0.8;
/// The label of a total's row or column.
pub const TOTAL_LABEL: &str = "計";

/// The rules a release is protected with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DisclosureRules {
    /// Fewest distinct hospitals a published value may rest on.
    pub k: u32,
    /// Largest share of a count or sum one hospital may make up.
    pub dominance: f64,
}

impl DisclosureRules {
    /// The rules with `k` and the default dominance threshold.
    pub fn new(k: u32) -> Result<Self, DomainError> {
        Self::with_dominance(k, DEFAULT_DOMINANCE)
    }

    /// The rules with `k` and a dominance threshold between ½ and 1 (below
    /// ½ any two-hospital split would count as dominated).
    pub fn with_dominance(k: u32, dominance: f64) -> Result<Self, DomainError> {
        if k < MIN_K {
            return Err(DomainError::invalid(
                "k",
                format!("k は {MIN_K} 以上にしてください / k must be at least {MIN_K}"),
            ));
        }
        if k > MAX_K {
            return Err(DomainError::invalid(
                "k",
                format!("k は {MAX_K} 以下にしてください / k must be at most {MAX_K}"),
            ));
        }
        if !(0.5..=1.0).contains(&dominance) {
            return Err(DomainError::invalid(
                "dominance",
                "支配率の閾値は 0.5 以上 1 以下にしてください / \
                 the dominance threshold must be between 0.5 and 1",
            ));
        }
        Ok(DisclosureRules { k, dominance })
    }
}

impl Default for DisclosureRules {
    fn default() -> Self {
        DisclosureRules {
            k: DEFAULT_K,
            dominance: DEFAULT_DOMINANCE,
        }
    }
}

labelled_enum!(
    /// What a table's cells mean.
    Measure, "measure" {
        /// A number of things (e.g. connections): the sum of the hospitals'
        /// values; the dominance rule applies.
        Count => ("count", "件数", "count"),
        /// A total (e.g. labour hours): the sum; the dominance rule applies.
        Sum => ("sum", "合計", "sum"),
        /// The share of hospitals with a property, as a fraction 0–1: each
        /// hospital gives 0 or 1 (or a fraction); the value is the mean.
        /// A share where every hospital gave 0 or every one gave 1 is
        /// withheld.
        Share => ("share", "割合", "share"),
        /// The mean per hospital (e.g. hours per hospital).
        Mean => ("mean", "平均", "mean"),
    }
);

/// One hospital's contribution to a cell. `hospital` is an opaque number
/// that is never published; contributions of the same hospital to one cell
/// add up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub hospital: u64,
    pub value: f64,
}

/// A table before protection: `cells[row][column]` holds the contributions
/// to that cell. The totals per row, per column and overall are computed
/// from the union of the contributions: a hospital in two cells of a row
/// counts once among the row total's hospitals, and its values add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawTable {
    pub id: String,
    pub title_ja: String,
    pub title_en: String,
    pub measure: Measure,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// The labels in English, when they differ (empty: as in Japanese).
    #[serde(default)]
    pub rows_en: Vec<String>,
    #[serde(default)]
    pub columns_en: Vec<String>,
    pub cells: Vec<Vec<Vec<Contribution>>>,
    /// Whether the row, column and overall totals are published.
    pub totals: bool,
    /// Publish only the row totals: the column totals would add unlike
    /// things (different checklist items). They still take part in the
    /// complementary suppression, which only makes it stricter.
    #[serde(default)]
    pub rows_only: bool,
}

impl RawTable {
    /// Checks that the cells match the labels and the values the measure:
    /// finite, not negative, and at most 1 for a share. [`protect`] reads a
    /// missing cell as empty, so a store should check before it protects.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.cells.len() != self.rows.len()
            || self.cells.iter().any(|row| row.len() != self.columns.len())
        {
            return Err(DomainError::invalid(
                "cells",
                format!(
                    "表 {} のセルが {} 行 × {} 列になっていません / \
                     the cells of table {} are not {} rows × {} columns",
                    self.id,
                    self.rows.len(),
                    self.columns.len(),
                    self.id,
                    self.rows.len(),
                    self.columns.len()
                ),
            ));
        }
        let most = if self.measure == Measure::Share {
            1.0
        } else {
            f64::MAX
        };
        for (r, row) in self.cells.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let Some(bad) = cell
                    .iter()
                    .find(|x| !x.value.is_finite() || !(0.0..=most).contains(&x.value))
                {
                    return Err(DomainError::invalid(
                        "value",
                        format!(
                            "{} / {}: {} は使えない値です / {} is not a valid value",
                            self.rows[r], self.columns[c], bad.value, bad.value
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Why an entry is withheld.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Suppression {
    /// Fewer than `k` hospitals (and at least one).
    TooFew { hospitals: u32 },
    /// One hospital makes up `share` of the count or sum.
    Dominance { share: f64 },
    /// Every hospital gave the same answer (0 % or 100 %).
    Uniform,
    /// Withheld so that another withheld entry cannot be worked out.
    Complementary,
    /// Withheld, reason not given: what a reader outside the ministry view
    /// sees, because the number of hospitals behind a cell or the share of
    /// its largest one is itself a clue.
    Withheld,
}

impl Suppression {
    pub fn reason_ja(&self) -> String {
        match self {
            Suppression::TooFew { hospitals } => {
                format!("集計対象の病院が {hospitals} 施設と少ないため秘匿")
            }
            Suppression::Dominance { share } => {
                format!("1 施設が全体の {} を占めるため秘匿", percent(*share))
            }
            Suppression::Uniform => {
                "全施設が同じ回答のため秘匿（各施設の状況が判明するおそれ）".to_string()
            }
            Suppression::Complementary => {
                "他の秘匿値を逆算されないよう秘匿（二次秘匿）".to_string()
            }
            Suppression::Withheld => "秘匿".to_string(),
        }
    }

    pub fn reason_en(&self) -> String {
        match self {
            Suppression::TooFew { hospitals } => {
                let (noun, verb) = if *hospitals == 1 {
                    ("hospital", "contributes")
                } else {
                    ("hospitals", "contribute")
                };
                format!("suppressed: only {hospitals} {noun} {verb}")
            }
            Suppression::Dominance { share } => {
                format!(
                    "suppressed: one hospital makes up {} of the value",
                    percent(*share)
                )
            }
            Suppression::Uniform => {
                "suppressed: every hospital answered alike, which would expose each one".to_string()
            }
            Suppression::Complementary => {
                "suppressed so that other suppressed values cannot be worked out (secondary suppression)"
                    .to_string()
            }
            Suppression::Withheld => "suppressed".to_string(),
        }
    }

    /// The reason in the reader's language (`ja` unless `en`).
    pub fn reason(&self, language: &str) -> String {
        if language == "en" {
            self.reason_en()
        } else {
            self.reason_ja()
        }
    }
}

/// `0.9` as `90%`, `0.853` as `85.3%`.
fn percent(share: f64) -> String {
    let tenths = (share * 1000.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{tenths:.0}%")
    } else {
        format!("{tenths:.1}%")
    }
}

/// One entry of a protected table: a value with the number of hospitals
/// behind it, or withheld.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cell", rename_all = "kebab-case")]
pub enum PublishedCell {
    Value { value: f64, hospitals: u32 },
    Suppressed(Suppression),
}

impl PublishedCell {
    pub fn is_suppressed(&self) -> bool {
        matches!(self, PublishedCell::Suppressed(_))
    }

    /// The value, unless withheld.
    pub fn value(&self) -> Option<f64> {
        match self {
            PublishedCell::Value { value, .. } => Some(*value),
            PublishedCell::Suppressed(_) => None,
        }
    }
}

/// A protected table: what may leave the ministry view (once
/// [`ProtectedTable::for_publication`] has dropped the reasons).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtectedTable {
    pub id: String,
    pub title_ja: String,
    pub title_en: String,
    pub measure: Measure,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    #[serde(default)]
    pub rows_en: Vec<String>,
    #[serde(default)]
    pub columns_en: Vec<String>,
    pub cells: Vec<Vec<PublishedCell>>,
    /// One per row; empty when totals are not published.
    pub row_totals: Vec<PublishedCell>,
    /// One per column; empty when totals are not published.
    pub column_totals: Vec<PublishedCell>,
    /// `None` when totals are not published.
    pub total: Option<PublishedCell>,
    pub rules: DisclosureRules,
}

impl ProtectedTable {
    /// Every withheld entry with its reason, for the releaser: (row label or
    /// `計`, column label or `計`, reason), row by row, totals last.
    pub fn suppressed(&self) -> Vec<(String, String, Suppression)> {
        let mut found = Vec::new();
        let mut note = |row: &str, column: &str, cell: &PublishedCell| {
            if let PublishedCell::Suppressed(reason) = cell {
                found.push((row.to_string(), column.to_string(), reason.clone()));
            }
        };
        for (r, row) in self.cells.iter().enumerate() {
            let row_label = self.rows.get(r).map_or("", String::as_str);
            for (c, cell) in row.iter().enumerate() {
                note(
                    row_label,
                    self.columns.get(c).map_or("", String::as_str),
                    cell,
                );
            }
            if let Some(cell) = self.row_totals.get(r) {
                note(row_label, TOTAL_LABEL, cell);
            }
        }
        for (c, cell) in self.column_totals.iter().enumerate() {
            note(
                TOTAL_LABEL,
                self.columns.get(c).map_or("", String::as_str),
                cell,
            );
        }
        if let Some(cell) = &self.total {
            note(TOTAL_LABEL, TOTAL_LABEL, cell);
        }
        found
    }

    /// The table as it may be published: every reason replaced by
    /// [`Suppression::Withheld`].
    pub fn for_publication(&self) -> ProtectedTable {
        let hide = |cell: &PublishedCell| match cell {
            PublishedCell::Suppressed(_) => PublishedCell::Suppressed(Suppression::Withheld),
            value => value.clone(),
        };
        ProtectedTable {
            cells: self
                .cells
                .iter()
                .map(|row| row.iter().map(hide).collect())
                .collect(),
            row_totals: self.row_totals.iter().map(hide).collect(),
            column_totals: self.column_totals.iter().map(hide).collect(),
            total: self.total.as_ref().map(hide),
            ..self.clone()
        }
    }
}

/// What one cell or total is made of, and whether the primary rules withhold
/// it.
#[derive(Debug, Clone, PartialEq)]
struct Aggregate {
    hospitals: u32,
    /// The value as published.
    value: f64,
    primary: Option<Suppression>,
}

fn aggregate<'a>(
    contributions: impl Iterator<Item = &'a Contribution>,
    measure: Measure,
    rules: &DisclosureRules,
) -> Aggregate {
    let mut by_hospital: BTreeMap<u64, f64> = BTreeMap::new();
    let (mut all_zero, mut all_one) = (true, true);
    for c in contributions {
        *by_hospital.entry(c.hospital).or_insert(0.0) += c.value;
        all_zero &= c.value == 0.0;
        all_one &= c.value == 1.0;
    }
    let hospitals = u32::try_from(by_hospital.len()).unwrap_or(u32::MAX);
    let weighted: f64 = by_hospital.values().sum();
    let value = match measure {
        Measure::Count | Measure::Sum => weighted,
        Measure::Share | Measure::Mean if hospitals > 0 => weighted / f64::from(hospitals),
        Measure::Share | Measure::Mean => 0.0,
    };
    let largest = by_hospital.values().copied().fold(0.0, f64::max);
    let primary = if hospitals == 0 {
        // An empty cell reveals no hospital.
        None
    } else if hospitals < rules.k {
        Some(Suppression::TooFew { hospitals })
    } else if matches!(measure, Measure::Count | Measure::Sum)
        && weighted > 0.0
        && largest / weighted > rules.dominance
    {
        Some(Suppression::Dominance {
            share: largest / weighted,
        })
    } else if measure == Measure::Share && (all_zero || all_one) {
        Some(Suppression::Uniform)
    } else {
        None
    };
    Aggregate {
        hospitals,
        value,
        primary,
    }
}

/// Protects `table` with `rules`: the primary rules on every cell and total,
/// then complementary suppression when totals are published (without
/// totals a reader has no equation to solve).
pub fn protect(table: &RawTable, rules: &DisclosureRules) -> ProtectedTable {
    let height = table.rows.len();
    let width = table.columns.len();
    let cell = |r: usize, c: usize| -> &[Contribution] {
        table
            .cells
            .get(r)
            .and_then(|row| row.get(c))
            .map_or(&[], Vec::as_slice)
    };
    // The grid has one more row (column totals) and one more column (row
    // totals); its last entry is the overall total.
    let mut entries = Vec::with_capacity((height + 1) * (width + 1));
    for r in 0..=height {
        for c in 0..=width {
            let rows = if r == height { 0..height } else { r..r + 1 };
            let columns = if c == width { 0..width } else { c..c + 1 };
            let contributions = rows.flat_map(|r| columns.clone().flat_map(move |c| cell(r, c)));
            entries.push(aggregate(contributions, table.measure, rules));
        }
    }
    let mut reasons: Vec<Option<Suppression>> = entries.iter().map(|e| e.primary.clone()).collect();
    if table.totals {
        let hospitals: Vec<u32> = entries.iter().map(|e| e.hospitals).collect();
        grid::complete(height + 1, width + 1, &hospitals, &mut reasons);
    }
    let publish = |r: usize, c: usize| {
        let at = r * (width + 1) + c;
        match &reasons[at] {
            Some(reason) => PublishedCell::Suppressed(reason.clone()),
            None => PublishedCell::Value {
                value: entries[at].value,
                hospitals: entries[at].hospitals,
            },
        }
    };
    let (row_totals, column_totals, total) = if table.totals && table.rows_only {
        (
            (0..height).map(|r| publish(r, width)).collect(),
            Vec::new(),
            None,
        )
    } else if table.totals {
        (
            (0..height).map(|r| publish(r, width)).collect(),
            (0..width).map(|c| publish(height, c)).collect(),
            Some(publish(height, width)),
        )
    } else {
        (Vec::new(), Vec::new(), None)
    };
    ProtectedTable {
        id: table.id.clone(),
        title_ja: table.title_ja.clone(),
        title_en: table.title_en.clone(),
        measure: table.measure,
        rows: table.rows.clone(),
        columns: table.columns.clone(),
        rows_en: table.rows_en.clone(),
        columns_en: table.columns_en.clone(),
        cells: (0..height)
            .map(|r| (0..width).map(|c| publish(r, c)).collect())
            .collect(),
        row_totals,
        column_totals,
        total,
        rules: *rules,
    }
}
