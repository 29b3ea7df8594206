//! Checklist frameworks (the MHLW checklists and the seed's three-audience
//! workbook), answers, hearings and material requests: the rules of the
//! checklist hearing (seed 資料1 §3.2, 資料4 §3.2 and §3.4).
//!
//! A framework is data: a file per version (TOML, shipped under
//! `data/checklists/`) or an import of the official workbook. Every item
//! keeps where its wording came from, so an unverified wording is shown as
//! such until an administrator replaces it with the official text.

use crate::DomainError;
use crate::organisation::slug_enum;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use time::{Date, Duration};

slug_enum!(
    /// Who a form of a framework is for. The MHLW editions since 令和5年度
    /// have a hospital form and a vendor form; the seed's 2022 workbook had
    /// three audiences (経営層・システム管理者・利用者).
    Audience, "audience" {
        Hospital => "hospital",
        Pharmacy => "pharmacy",
        Vendor => "vendor",
        Executive => "executive",
        Administrator => "administrator",
        User => "user",
    }
);

slug_enum!(
    /// What an item is checked for. The R5/R6 forms split some items into
    /// one cell per device kind, each with its own target year.
    Scope, "scope" {
        /// No device: an organisational item (連絡体制図, BCP, …).
        Organisation => "organisation",
        /// 医療情報システム全般.
        WholeSystem => "whole-system",
        Server => "server",
        /// 端末PC.
        TerminalPc => "terminal-pc",
        NetworkDevice => "network-device",
    }
);

slug_enum!(
    /// How the answers of a framework are written down.
    AnswerStyle, "answer_style" {
        /// ○ / × (the seed's 2022 workbook).
        Circle => "circle",
        /// はい / いいえ with 確認日, and 目標日 required for いいえ (R5 and later).
        YesNoDated => "yes-no-dated",
    }
);

slug_enum!(
    /// How sure the wording of an item is (the reference file's tags).
    Provenance, "provenance" {
        /// [V] verbatim from a stored copy of an MHLW document.
        Verbatim => "verbatim",
        /// [P] quoted by a third party.
        Quoted => "quoted",
        /// [I] inferred by cross-checking sources.
        Inferred => "inferred",
        /// [M] from recollection: a placeholder until checked.
        Recollection => "recollection",
        /// Read from the official workbook by an import.
        Imported => "imported",
        /// Added by a programme (kept apart from the official items).
        Programme => "programme",
    }
);

impl Provenance {
    /// Whether the wording may be shown as the official text.
    pub fn is_verified(self) -> bool {
        !matches!(self, Provenance::Inferred | Provenance::Recollection)
    }
}

slug_enum!(
    /// Where a framework came from.
    FrameworkOrigin, "origin" {
        /// Shipped with Mamori as a data file.
        Builtin => "builtin",
        /// Loaded by an administrator from a workbook.
        Imported => "imported",
        /// A programme's own additional items.
        Programme => "programme",
    }
);

/// A source document cited by a framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    #[serde(default)]
    pub url: String,
}

/// One answerable cell of an item: the item for one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub scope: Scope,
    /// The fiscal year by which the item is required (令和6年度中 = 2024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_fy: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The number as printed, e.g. `2-(4)` or `2-⑦`.
    pub number: String,
    pub text_ja: String,
    #[serde(default)]
    pub text_en: String,
    /// One cell per scope; a file may give `scope` and `required_fy` instead.
    #[serde(default)]
    pub cells: Vec<Cell>,
    #[serde(default, skip_serializing)]
    pub scope: Option<Scope>,
    #[serde(default, skip_serializing)]
    pub required_fy: Option<i32>,
    /// e.g. ※事業者と契約していない場合は記入不要
    #[serde(default)]
    pub note_ja: String,
    #[serde(default)]
    pub note_en: String,
    /// A gate question: answered いいえ/×, every other item of the form is
    /// not applicable (R6: 医療情報システムを導入、運用している).
    #[serde(default)]
    pub gate: bool,
    pub provenance: Provenance,
    /// Where the wording was seen (document, page).
    #[serde(default)]
    pub evidence: String,
    /// Only these forms of a programme supplement ask the item (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forms: Vec<String>,
}

impl Item {
    pub fn is_verified(&self) -> bool {
        self.provenance.is_verified()
    }

    pub fn cell(&self, scope: Scope) -> Option<&Cell> {
        self.cells.iter().find(|c| c.scope == scope)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub number: String,
    pub title_ja: String,
    #[serde(default)]
    pub title_en: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// Stable key inside the framework (`hospital`, `vendor`, `executive`, …).
    pub key: String,
    pub audience: Audience,
    pub title_ja: String,
    #[serde(default)]
    pub title_en: String,
    pub sections: Vec<Section>,
}

impl Form {
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.sections.iter().flat_map(|s| s.items.iter())
    }

    pub fn item(&self, number: &str) -> Option<&Item> {
        self.items().find(|i| i.number == number)
    }

    /// Every answerable cell, in order.
    pub fn cells(&self) -> impl Iterator<Item = (&Item, &Cell)> {
        self.items()
            .flat_map(|item| item.cells.iter().map(move |cell| (item, cell)))
    }
}

/// A checklist framework: one version of one checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    /// Stable key across versions, e.g. `mhlw-r6`.
    pub key: String,
    pub title_ja: String,
    #[serde(default)]
    pub title_en: String,
    /// e.g. 令和6年度版
    pub edition_ja: String,
    #[serde(default)]
    pub edition_en: String,
    /// The fiscal year the edition is for; 目標日 falls within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Date>,
    pub answer_style: AnswerStyle,
    #[serde(default)]
    pub sources: Vec<Source>,
    /// How the data file was made and what is known to be missing.
    #[serde(default)]
    pub notes: String,
    pub forms: Vec<Form>,
}

/// Items longer than this are certainly a mis-mapped column.
pub const MAX_ITEM_TEXT: usize = 2_000;

impl Framework {
    /// Reads a framework data file (TOML) and checks it.
    pub fn from_toml(text: &str) -> Result<Framework, DomainError> {
        let framework: Framework =
            toml::from_str(text).map_err(|e| DomainError::invalid("framework", e.to_string()))?;
        framework.normalised()
    }

    /// Reads the stored form (JSON) of a framework.
    pub fn from_json(text: &str) -> Result<Framework, DomainError> {
        let framework: Framework = serde_json::from_str(text)
            .map_err(|e| DomainError::invalid("framework", e.to_string()))?;
        framework.normalised()
    }

    pub fn to_json(&self) -> String {
        // A framework has no maps with non-string keys: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn form(&self, key: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.key == key)
    }

    /// Fills `cells` from the `scope`/`required_fy` shorthand and checks the
    /// whole framework, naming the form and item of the first problem.
    pub fn normalised(mut self) -> Result<Framework, DomainError> {
        self.key = self.key.trim().to_string();
        if self.key.is_empty()
            || !self
                .key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(DomainError::invalid(
                "key",
                "use letters, digits, '-' or '_' (e.g. mhlw-r6)",
            ));
        }
        if self.title_ja.trim().is_empty() {
            return Err(DomainError::invalid("title_ja", "is empty"));
        }
        if self.edition_ja.trim().is_empty() {
            return Err(DomainError::invalid("edition_ja", "is empty"));
        }
        if self.forms.is_empty() {
            return Err(DomainError::invalid("forms", "a framework needs a form"));
        }
        let mut form_keys = HashSet::new();
        for form in &mut self.forms {
            if !form_keys.insert(form.key.clone()) {
                return Err(DomainError::invalid(
                    "forms",
                    format!("form `{}` appears twice", form.key),
                ));
            }
            let mut numbers = HashSet::new();
            let mut gates = 0;
            for section in &mut form.sections {
                for item in &mut section.items {
                    let at = format!("{} {}", form.key, item.number);
                    item.number = item.number.trim().to_string();
                    if item.number.is_empty() {
                        return Err(DomainError::invalid(
                            "number",
                            format!(
                                "{}: an item of section {} has no number",
                                form.key, section.number
                            ),
                        ));
                    }
                    if !numbers.insert(item.number.clone()) {
                        return Err(DomainError::invalid(
                            "number",
                            format!("{at}: number appears twice in the form"),
                        ));
                    }
                    if item.text_ja.trim().is_empty() {
                        return Err(DomainError::invalid("text_ja", format!("{at}: is empty")));
                    }
                    if item.text_ja.chars().count() > MAX_ITEM_TEXT {
                        return Err(DomainError::invalid(
                            "text_ja",
                            format!("{at}: longer than {MAX_ITEM_TEXT} characters"),
                        ));
                    }
                    if item.cells.is_empty() {
                        item.cells.push(Cell {
                            scope: item.scope.unwrap_or(Scope::WholeSystem),
                            required_fy: item.required_fy,
                        });
                    }
                    item.scope = None;
                    item.required_fy = None;
                    let mut scopes = HashSet::new();
                    for cell in &item.cells {
                        if !scopes.insert(cell.scope) {
                            return Err(DomainError::invalid(
                                "scope",
                                format!("{at}: scope {} appears twice", cell.scope),
                            ));
                        }
                        if let Some(year) = cell.required_fy
                            && !(2000..=2100).contains(&year)
                        {
                            return Err(DomainError::invalid(
                                "required_fy",
                                format!("{at}: {year} is not a fiscal year"),
                            ));
                        }
                    }
                    if item.gate {
                        gates += 1;
                        if item.cells.len() != 1 {
                            return Err(DomainError::invalid(
                                "gate",
                                format!("{at}: a gate question has one cell"),
                            ));
                        }
                    }
                }
            }
            if gates > 1 {
                return Err(DomainError::invalid(
                    "gate",
                    format!("{}: a form has at most one gate question", form.key),
                ));
            }
            if form.items().next().is_none() {
                return Err(DomainError::invalid(
                    "items",
                    format!("{}: the form has no items", form.key),
                ));
            }
        }
        Ok(self)
    }

    /// Items whose wording is not verified, as (form key, item number).
    pub fn unverified(&self) -> Vec<(&str, &str)> {
        self.forms
            .iter()
            .flat_map(|f| {
                f.items()
                    .filter(|i| !i.is_verified())
                    .map(move |i| (f.key.as_str(), i.number.as_str()))
            })
            .collect()
    }
}

slug_enum!(
    /// An answer to one cell.
    AnswerValue, "value" {
        /// ○ / はい
        Yes => "yes",
        /// × / いいえ
        No => "no",
        /// わからない
        Unknown => "unknown",
        /// 該当なし
        NotApplicable => "not-applicable",
    }
);

impl AnswerValue {
    /// The mark as written in the workbook of this style.
    pub fn mark(self, style: AnswerStyle) -> &'static str {
        match (self, style) {
            (AnswerValue::Yes, AnswerStyle::Circle) => "○",
            (AnswerValue::No, AnswerStyle::Circle) => "×",
            (AnswerValue::Yes, AnswerStyle::YesNoDated) => "はい",
            (AnswerValue::No, AnswerStyle::YesNoDated) => "いいえ",
            (AnswerValue::Unknown, _) => "不明",
            (AnswerValue::NotApplicable, _) => "該当なし",
        }
    }

    /// Reads a mark as people write it in a workbook: はい/いいえ, ○/×,
    /// yes/no, 不明/わからない, 該当なし/-.
    pub fn from_mark(mark: &str) -> Option<AnswerValue> {
        let mark = mark.trim();
        let lower = mark.to_ascii_lowercase();
        Some(match lower.as_str() {
            "はい" | "○" | "〇" | "◯" | "o" | "yes" | "y" => AnswerValue::Yes,
            "いいえ" | "×" | "x" | "✕" | "no" | "n" => AnswerValue::No,
            "不明" | "わからない" | "?" | "？" | "unknown" => AnswerValue::Unknown,
            "該当なし" | "対象外" | "確認不要" | "-" | "－" | "―" | "n/a" | "na"
            | "not-applicable" => AnswerValue::NotApplicable,
            _ => return None,
        })
    }
}

/// One answer to one cell, as a respondent or a surveyor gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub value: AnswerValue,
    /// 確認日
    #[serde(default)]
    pub checked_on: Option<Date>,
    /// 目標日: when the hospital means to meet the item.
    #[serde(default)]
    pub target_on: Option<Date>,
    /// 理解が困難であった部分: what the respondent did not understand.
    #[serde(default)]
    pub not_understood: String,
}

/// Free text beside an answer is at most this long.
pub const MAX_NOTE: usize = 2_000;

/// Why an answer was refused, naming the item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefused {
    #[error("{item}: いいえ needs a 目標日 (target date)")]
    TargetDateMissing { item: String },
    #[error("{item}: the 目標日 {target} is before the 確認日 {checked}")]
    TargetBeforeCheck {
        item: String,
        target: Date,
        checked: Date,
    },
    #[error("{item}: the 確認日 {checked} is in the future")]
    CheckedInFuture { item: String, checked: Date },
    #[error("{item}: the form has no such item")]
    UnknownItem { item: String },
    #[error("{item}: the item is not asked for {scope}")]
    UnknownScope { item: String, scope: Scope },
    #[error("{item}: the note is longer than {MAX_NOTE} characters")]
    NoteTooLong { item: String },
}

impl AnswerRefused {
    pub fn item(&self) -> &str {
        match self {
            AnswerRefused::TargetDateMissing { item }
            | AnswerRefused::TargetBeforeCheck { item, .. }
            | AnswerRefused::CheckedInFuture { item, .. }
            | AnswerRefused::UnknownItem { item }
            | AnswerRefused::UnknownScope { item, .. }
            | AnswerRefused::NoteTooLong { item } => item,
        }
    }
}

impl Answer {
    /// Checks an answer to `item`/`scope` of `form` on `today`. A
    /// self-assessment may be saved half-way (`complete = false`): then an
    /// いいえ without 目標日 is kept; a confirmed or submitted answer needs it.
    pub fn check(
        &self,
        style: AnswerStyle,
        item: &Item,
        scope: Scope,
        today: Date,
        complete: bool,
    ) -> Result<(), AnswerRefused> {
        let name = || item.number.clone();
        if item.cell(scope).is_none() {
            return Err(AnswerRefused::UnknownScope {
                item: name(),
                scope,
            });
        }
        if self.not_understood.chars().count() > MAX_NOTE {
            return Err(AnswerRefused::NoteTooLong { item: name() });
        }
        if let Some(checked) = self.checked_on
            && checked > today
        {
            return Err(AnswerRefused::CheckedInFuture {
                item: name(),
                checked,
            });
        }
        if let (Some(checked), Some(target)) = (self.checked_on, self.target_on)
            && target < checked
        {
            return Err(AnswerRefused::TargetBeforeCheck {
                item: name(),
                target,
                checked,
            });
        }
        if complete
            && style == AnswerStyle::YesNoDated
            && self.value == AnswerValue::No
            && self.target_on.is_none()
            && !item.gate
        {
            return Err(AnswerRefused::TargetDateMissing { item: name() });
        }
        Ok(())
    }
}

/// Identifies an answerable cell inside a form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CellKey {
    pub item: String,
    pub scope: Scope,
}

impl CellKey {
    pub fn new(item: impl Into<String>, scope: Scope) -> CellKey {
        CellKey {
            item: item.into(),
            scope,
        }
    }
}

/// Whether the form's gate question was answered "no": then nothing else
/// in the form needs an answer.
pub fn gate_closed(form: &Form, answers: &BTreeMap<CellKey, Answer>) -> bool {
    form.items().filter(|i| i.gate).any(|gate| {
        gate.cells.iter().any(|c| {
            answers
                .get(&CellKey::new(gate.number.clone(), c.scope))
                .is_some_and(|a| a.value == AnswerValue::No)
        })
    })
}

/// How far one respondent's form is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Completion {
    /// Cells that need an answer (all of them unless the gate closed the form).
    pub applicable: usize,
    pub answered: usize,
    /// Cells answered いいえ/×.
    pub no: usize,
    pub unknown: usize,
    /// Cells with a "did not understand" note.
    pub not_understood: usize,
}

impl Completion {
    pub fn percent(&self) -> u32 {
        if self.applicable == 0 {
            return 100;
        }
        ((self.answered * 100) / self.applicable) as u32
    }

    pub fn is_complete(&self) -> bool {
        self.answered >= self.applicable
    }

    pub fn add(&mut self, other: Completion) {
        self.applicable += other.applicable;
        self.answered += other.answered;
        self.no += other.no;
        self.unknown += other.unknown;
        self.not_understood += other.not_understood;
    }
}

/// Counts a respondent's answers against the cells of `forms` (the form and
/// any programme supplement that asks it).
pub fn completion(form: &Form, answers: &BTreeMap<CellKey, Answer>) -> Completion {
    let closed = gate_closed(form, answers);
    let mut result = Completion::default();
    for (item, cell) in form.cells() {
        let answer = answers.get(&CellKey::new(item.number.clone(), cell.scope));
        if let Some(answer) = answer
            && !answer.not_understood.trim().is_empty()
        {
            result.not_understood += 1;
        }
        if closed && !item.gate {
            continue;
        }
        result.applicable += 1;
        if let Some(answer) = answer {
            result.answered += 1;
            match answer.value {
                AnswerValue::No => result.no += 1,
                AnswerValue::Unknown => result.unknown += 1,
                _ => {}
            }
        }
    }
    result
}

/// Items that block a submission: cells without an answer, and いいえ
/// without 目標日. Each entry names the item and scope.
pub fn submission_gaps(
    style: AnswerStyle,
    form: &Form,
    answers: &BTreeMap<CellKey, Answer>,
    today: Date,
) -> Vec<(CellKey, String)> {
    let closed = gate_closed(form, answers);
    let mut gaps = Vec::new();
    for (item, cell) in form.cells() {
        if closed && !item.gate {
            continue;
        }
        let key = CellKey::new(item.number.clone(), cell.scope);
        match answers.get(&key) {
            None => gaps.push((key, format!("{}: no answer", item.number))),
            Some(answer) => {
                if let Err(refused) = answer.check(style, item, cell.scope, today, true) {
                    gaps.push((key, refused.to_string()));
                }
            }
        }
    }
    gaps
}

/// A self-assessed answer beside the surveyor's confirmed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciled {
    pub key: CellKey,
    pub self_assessed: Option<AnswerValue>,
    pub confirmed: Option<AnswerValue>,
    /// The surveyor left the item open: it carries over to the next visit.
    pub open: bool,
    pub not_understood: String,
}

impl Reconciled {
    /// Both answers exist and disagree: the hearing found a difference.
    pub fn differs(&self) -> bool {
        matches!((self.self_assessed, self.confirmed), (Some(a), Some(b)) if a != b)
    }

    /// Not yet confirmed in any hearing, or left open.
    pub fn pending(&self) -> bool {
        self.open || self.confirmed.is_none()
    }
}

/// A surveyor's confirmation of one cell in a hearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub value: Option<AnswerValue>,
    pub open: bool,
}

/// Lines a form's cells up with the self-assessment and the confirmations.
pub fn reconcile(
    form: &Form,
    self_assessed: &BTreeMap<CellKey, Answer>,
    confirmed: &BTreeMap<CellKey, Confirmation>,
) -> Vec<Reconciled> {
    form.cells()
        .map(|(item, cell)| {
            let key = CellKey::new(item.number.clone(), cell.scope);
            let own = self_assessed.get(&key);
            let confirmation = confirmed.get(&key);
            Reconciled {
                self_assessed: own.map(|a| a.value),
                not_understood: own.map(|a| a.not_understood.clone()).unwrap_or_default(),
                confirmed: confirmation.and_then(|c| c.value),
                open: confirmation.is_some_and(|c| c.open),
                key,
            }
        })
        .collect()
}

slug_enum!(
    /// 誰から: who a material request is addressed to.
    RequestParty, "party" {
        Hospital => "hospital",
        Vendor => "vendor",
    }
);

slug_enum!(
    /// Where a material request (宿題) stands.
    RequestStatus, "status" {
        Requested => "requested",
        Received => "received",
        /// Past its due date without the material: recorded, not an error
        /// (seed: 提出できないことも、実態の情報となる).
        NotSubmitted => "not-submitted",
    }
);

/// The seed's rule: material promised in a hearing is due a week later.
pub const REQUEST_DAYS: i64 = 7;

/// The default due date of a request made on `requested_on`.
pub fn default_request_due(requested_on: Date) -> Date {
    requested_on + Duration::days(REQUEST_DAYS)
}

/// The status a request has on `today`: a request still open after its due
/// day has lapsed to not submitted.
pub fn request_status_on(stored: RequestStatus, due_on: Date, today: Date) -> RequestStatus {
    match stored {
        RequestStatus::Requested if today > due_on => RequestStatus::NotSubmitted,
        other => other,
    }
}

/// Checks the dates of a new request.
pub fn check_request_dates(
    requested_on: Date,
    due_on: Date,
    today: Date,
) -> Result<(), DomainError> {
    if requested_on > today {
        return Err(DomainError::invalid(
            "requested_on",
            format!("{requested_on} is in the future"),
        ));
    }
    if due_on < requested_on {
        return Err(DomainError::invalid(
            "due_on",
            format!("{due_on} is before the request date {requested_on}"),
        ));
    }
    Ok(())
}

slug_enum!(
    /// The role of a respondent at the hospital (the seed's audiences, and
    /// a vendor answering the 事業者確認用 form).
    RespondentRole, "role" {
        /// 病院長・経営層
        Director => "director",
        /// システム管理者
        Administrator => "administrator",
        /// 利用者
        User => "user",
        /// 事業者
        Vendor => "vendor",
        Other => "other",
    }
);

/// Hearing time per participant the seed planned with: about thirty minutes,
/// the system administrator two hours or more.
pub fn planned_hearing_minutes(role: RespondentRole) -> u32 {
    match role {
        RespondentRole::Administrator => 120,
        _ => 30,
    }
}

pub mod builtin;

#[cfg(test)]
mod tests;
