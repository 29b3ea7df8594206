//! Labour hours (seed 資料6 調査担当企業工数確認票, 資料4 §4 ⑤: 週一回、
//! 工数実績を報告): the plan of an engagement in the sheet's seventeen
//! rows, the hours the company's staff book per day and row, the weekly
//! report the supervisor acknowledges (which locks the week), and the
//! roll-up the supervisor and the secretariat watch: plan against actual,
//! the forecast at completion, the cost against the cap, and the alerts.
//!
//! Hours are kept in hundredths ([`Hours`]) so sums are exact and the
//! sheet's `16.00` round-trips.

use crate::DomainError;
use crate::deliverable::{DeliverableKind, DeliverableState};
use crate::ledger::labelled_enum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Duration};

mod hours;
pub use hours::Hours;

labelled_enum!(
    /// What the hours of a row are spent on (the sheet's third column).
    Activity, "activity" {
        Survey => ("survey", "調査", "survey"),
        Writing => ("writing", "図書作成", "writing"),
        Travel => ("travel", "移動", "travel"),
        Meetings => ("meetings", "打合せ", "meetings"),
        Other => ("other", "その他", "other"),
    }
);

/// One row of the sheet: its number 1–17, the deliverable it is for, the
/// activity, the item as the seed words it, and the default plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlanRow {
    pub number: u8,
    pub deliverable: Option<DeliverableKind>,
    pub activity: Activity,
    pub item_ja: &'static str,
    pub item_en: &'static str,
    pub default_hours: Hours,
}

impl PlanRow {
    pub fn item(&self, language: &str) -> &'static str {
        if language == "en" {
            self.item_en
        } else {
            self.item_ja
        }
    }
}

macro_rules! row {
    ($n:literal, $kind:expr, $activity:ident, $ja:literal, $en:literal, $hours:literal) => {
        PlanRow {
            number: $n,
            deliverable: $kind,
            activity: Activity::$activity,
            item_ja: $ja,
            item_en: $en,
            default_hours: Hours::from_whole($hours),
        }
    };
}

use DeliverableKind as K;

/// The seventeen rows of 資料6 with its default plan: 200 hours.
pub const PLAN_ROWS: [PlanRow; 17] = [
    row!(
        1,
        Some(K::ChecklistExecutive),
        Survey,
        "①チェックリストによるヒアリング(経営層向け)",
        "① checklist hearing (executives)",
        16
    ),
    row!(
        2,
        Some(K::ChecklistExecutive),
        Writing,
        "①チェックリストによる調査結果(経営層向け)",
        "① checklist results (executives)",
        16
    ),
    row!(
        3,
        Some(K::ChecklistAdministrator),
        Survey,
        "②チェックリストによるヒアリング(システム管理者向け)",
        "② checklist hearing (system administrators)",
        16
    ),
    row!(
        4,
        Some(K::ChecklistAdministrator),
        Writing,
        "②チェックリストによる調査結果(システム管理者向け)",
        "② checklist results (system administrators)",
        16
    ),
    row!(
        5,
        Some(K::ChecklistUser),
        Survey,
        "③チェックリストによるヒアリング(医療従事者・一般のシステム利用者向け)",
        "③ checklist hearing (clinical staff and other users)",
        16
    ),
    row!(
        6,
        Some(K::ChecklistUser),
        Writing,
        "③チェックリストによる調査結果(医療従事者・一般のシステム利用者向け)",
        "③ checklist results (clinical staff and other users)",
        16
    ),
    row!(
        7,
        Some(K::Backups),
        Survey,
        "④病院情報システムのバックアップ状況(表)",
        "④ backup status (table)",
        4
    ),
    row!(
        8,
        Some(K::Backups),
        Writing,
        "④病院情報システムのバックアップ状況(表)",
        "④ backup status (table)",
        16
    ),
    row!(
        9,
        Some(K::Connections),
        Survey,
        "⑤外部接続先一覧 および 外部接続先調査履歴",
        "⑤ external connections and investigation log",
        4
    ),
    row!(
        10,
        Some(K::Connections),
        Writing,
        "⑤外部接続先一覧 および 外部接続先調査履歴",
        "⑤ external connections and investigation log",
        16
    ),
    row!(
        11,
        Some(K::Network),
        Survey,
        "⑥ネットワーク概要図",
        "⑥ network overview diagram",
        4
    ),
    row!(
        12,
        Some(K::Network),
        Writing,
        "⑥ネットワーク概要図",
        "⑥ network overview diagram",
        16
    ),
    row!(
        13,
        Some(K::Structure),
        Survey,
        "⑦情報システム管理体制図",
        "⑦ management structure chart",
        4
    ),
    row!(
        14,
        Some(K::Structure),
        Writing,
        "⑦情報システム管理体制図",
        "⑦ management structure chart",
        16
    ),
    row!(15, None, Travel, "移動", "travel", 0),
    row!(16, None, Meetings, "打合せ", "meetings", 0),
    row!(
        17,
        None,
        Other,
        "その他(事前調査、進捗報告など)",
        "other (preparation, progress reports, …)",
        24
    ),
];

/// The row numbered `number` (1–17).
pub fn plan_row(number: u8) -> Result<&'static PlanRow, DomainError> {
    PLAN_ROWS
        .iter()
        .find(|r| r.number == number)
        .ok_or_else(|| {
            DomainError::invalid("row", format!("{number} is not a row of the sheet (1–17)"))
        })
}

/// The planned hours of an engagement, one per row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabourPlan {
    pub hours: [Hours; 17],
}

/// The most a row may plan: a whole programme's season of one person.
const MAX_ROW_HOURS: Hours = Hours::from_whole(2_000);

impl Default for LabourPlan {
    fn default() -> Self {
        LabourPlan {
            hours: PLAN_ROWS.map(|r| r.default_hours),
        }
    }
}

impl LabourPlan {
    /// A plan from (row, hours) pairs over the default; refused: an unknown
    /// row, negative hours or more than 2,000 hours on one row.
    pub fn with(changes: &[(u8, Hours)]) -> Result<LabourPlan, DomainError> {
        let mut plan = LabourPlan::default();
        for &(row, hours) in changes {
            plan.set(row, hours)?;
        }
        Ok(plan)
    }

    pub fn set(&mut self, row: u8, hours: Hours) -> Result<(), DomainError> {
        let spec = plan_row(row)?;
        if hours.is_negative() {
            return Err(DomainError::invalid(
                "hours",
                format!("row {row}: {hours} is negative"),
            ));
        }
        if hours > MAX_ROW_HOURS {
            return Err(DomainError::invalid(
                "hours",
                format!("row {row}: {hours} is more than {MAX_ROW_HOURS} hours"),
            ));
        }
        self.hours[usize::from(spec.number - 1)] = hours;
        Ok(())
    }

    pub fn row(&self, number: u8) -> Hours {
        self.hours
            .get(usize::from(number.saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }

    pub fn total(&self) -> Hours {
        self.hours.iter().copied().sum()
    }
}

/// What the hours cost at `rate_yen` an hour, rounded to the yen.
pub fn cost_yen(hours: Hours, rate_yen: i64) -> i64 {
    (hours.hundredths() * rate_yen + 50).div_euclid(100)
}

/// Hours one person booked on one row on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabourEntry {
    pub row: u8,
    pub person: String,
    pub worked_on: Date,
    pub hours: Hours,
    #[serde(default)]
    pub note: String,
}

const MAX_PERSON_CHARS: usize = 100;
const MAX_NOTE_CHARS: usize = 1_000;
const DAY: Hours = Hours::from_whole(24);

impl LabourEntry {
    /// The entry checked against `today` and the person's other entries
    /// (`others`, this one left out): a known row, a person, hours above
    /// zero and at most 24 a day for the person, not in the future.
    pub fn checked(&self, today: Date, others: &[LabourEntry]) -> Result<LabourEntry, DomainError> {
        plan_row(self.row)?;
        let person = self.person.trim();
        if person.is_empty() || person.chars().count() > MAX_PERSON_CHARS {
            return Err(DomainError::invalid(
                "person",
                format!("needs a name of 1–{MAX_PERSON_CHARS} characters"),
            ));
        }
        if self.hours.is_negative() {
            return Err(DomainError::invalid(
                "hours",
                format!("{} is negative", self.hours),
            ));
        }
        if self.hours == Hours::ZERO {
            return Err(DomainError::invalid("hours", "must be more than 0"));
        }
        if self.worked_on > today {
            return Err(DomainError::invalid(
                "worked_on",
                format!("{} is in the future (today is {today})", self.worked_on),
            ));
        }
        let note = self.note.trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(DomainError::invalid(
                "note",
                format!("longer than {MAX_NOTE_CHARS} characters"),
            ));
        }
        let day_total: Hours = others
            .iter()
            .filter(|o| o.person.trim() == person && o.worked_on == self.worked_on)
            .map(|o| o.hours)
            .sum::<Hours>()
            + self.hours;
        if day_total > DAY {
            return Err(DomainError::invalid(
                "hours",
                format!(
                    "{person} would have {day_total} hours on {} (at most 24 a day)",
                    self.worked_on
                ),
            ));
        }
        Ok(LabourEntry {
            row: self.row,
            person: person.to_string(),
            worked_on: self.worked_on,
            hours: self.hours,
            note: note.to_string(),
        })
    }
}

/// The Monday of the week `day` falls in: weeks are reported Monday to Sunday.
pub fn week_of(day: Date) -> Date {
    day - Duration::days(i64::from(day.weekday().number_days_from_monday()))
}

labelled_enum!(
    /// Where a week's report stands.
    WeekState, "week_state" {
        Open => ("open", "未報告", "not reported"),
        Submitted => ("submitted", "報告済", "reported"),
        Acknowledged => ("acknowledged", "確認済（確定）", "acknowledged (locked)"),
    }
);

labelled_enum!(
    /// A step on a week's report.
    WeekStep, "step" {
        Submit => ("submit", "週報告", "report the week"),
        Acknowledge => ("acknowledge", "確認", "acknowledge"),
        Return => ("return", "差し戻し", "return"),
    }
);

/// Where `step` takes a week in `state`: the company submits an open week,
/// the supervisor acknowledges (locking it) or returns a submitted one.
pub fn week_step(state: WeekState, step: WeekStep, supervisor: bool) -> Result<WeekState, String> {
    use WeekState::*;
    use WeekStep::*;
    match (supervisor, step, state) {
        (false, Submit, Open) => Ok(Submitted),
        (true, Acknowledge, Submitted) => Ok(Acknowledged),
        (true, Return, Submitted) => Ok(Open),
        _ => Err(format!(
            "a week that is {} cannot take the step {}{}",
            state.slug(),
            step.slug(),
            match (supervisor, step) {
                (true, Submit) => " (the survey company reports its week)",
                (false, Acknowledge | Return) => " (the supervisor acknowledges or returns)",
                _ => "",
            }
        )),
    }
}

/// Whether the hours of a week may still change: not once acknowledged.
pub fn check_editable(week: Date, state: WeekState) -> Result<(), DomainError> {
    if state == WeekState::Acknowledged {
        return Err(DomainError::invalid(
            "worked_on",
            format!("the week of {week} was acknowledged by the supervisor and is locked"),
        ));
    }
    Ok(())
}

/// The weeks from the one `from` falls in to the last one that ended
/// before `today`'s, that were never reported (`reported`: Mondays of the
/// weeks submitted or acknowledged).
pub fn missing_weeks(from: Date, today: Date, reported: &[Date]) -> Vec<Date> {
    let mut out = Vec::new();
    let this_week = week_of(today);
    let mut week = week_of(from);
    while week < this_week {
        if !reported.contains(&week) {
            out.push(week);
        }
        week += Duration::weeks(1);
    }
    out
}

/// Plan and actual of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowTotal {
    pub number: u8,
    pub plan: Hours,
    pub actual: Hours,
    /// What the row will take: its actual once its deliverable is
    /// approved, else the larger of plan and actual.
    pub forecast: Hours,
}

labelled_enum!(
    /// What an alert is about.
    AlertKind, "alert" {
        PlanWarning => ("plan-80", "予定工数の80%に到達", "80 % of the planned hours"),
        PlanExceeded => ("plan-100", "予定工数を超過", "planned hours exceeded"),
        CapWarning => ("cap-80", "人件費上限の80%に到達", "80 % of the labour cap"),
        CapExceeded => ("cap-100", "人件費上限を超過", "labour cap exceeded"),
        DraftLate => ("draft-late", "工数計上済みの成果物が未提出（中間レビュー後）", "hours booked on a deliverable still in draft after the interim review"),
        MissingWeek => ("missing-week", "週報告がありません", "a week not reported"),
    }
);

/// One alert: its kind and what it names (a percentage, a deliverable, a week).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub detail: String,
}

/// What the roll-up needs besides the plan and the hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabourContext {
    pub rate_yen: i64,
    pub cap_yen: i64,
    /// The state of each deliverable (missing: draft).
    pub deliverables: Vec<(DeliverableKind, DeliverableState)>,
    /// From this day on, hours on a deliverable never submitted alert.
    pub late_from: Option<Date>,
    pub today: Date,
    pub missing_weeks: Vec<Date>,
}

/// An engagement's hours against its plan and cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabourSummary {
    pub rows: Vec<RowTotal>,
    pub plan: Hours,
    pub actual: Hours,
    pub forecast: Hours,
    pub plan_cost_yen: i64,
    pub actual_cost_yen: i64,
    pub forecast_cost_yen: i64,
    pub cap_yen: i64,
    /// Hours per week (Monday), in order.
    pub weeks: Vec<(Date, Hours)>,
    pub alerts: Vec<Alert>,
}

/// Percent of `part` in `whole`, rounded down; 0 when there is no whole.
fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 { 0 } else { part * 100 / whole }
}

/// Plan against actual by row and week, the forecast, the cost, and the
/// alerts: 80 % and 100 % of the plan and of the cap (the higher one
/// only), hours on a deliverable never submitted once the schedule is late
/// (`late_from`), and every week not reported.
pub fn summarise(plan: &LabourPlan, entries: &[LabourEntry], ctx: &LabourContext) -> LabourSummary {
    let state_of = |kind: DeliverableKind| {
        ctx.deliverables
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(DeliverableState::Draft, |(_, s)| *s)
    };
    let rows: Vec<RowTotal> = PLAN_ROWS
        .iter()
        .map(|r| {
            let actual: Hours = entries
                .iter()
                .filter(|e| e.row == r.number)
                .map(|e| e.hours)
                .sum();
            let planned = plan.row(r.number);
            let done = r
                .deliverable
                .is_some_and(|k| state_of(k) == DeliverableState::Approved);
            RowTotal {
                number: r.number,
                plan: planned,
                actual,
                forecast: if done { actual } else { planned.max(actual) },
            }
        })
        .collect();
    let mut weeks: BTreeMap<Date, Hours> = BTreeMap::new();
    for e in entries {
        *weeks.entry(week_of(e.worked_on)).or_default() += e.hours;
    }
    let total = |f: fn(&RowTotal) -> Hours| rows.iter().map(f).sum::<Hours>();
    let (planned, actual, forecast) = (
        total(|r| r.plan),
        total(|r| r.actual),
        total(|r| r.forecast),
    );
    let actual_cost = cost_yen(actual, ctx.rate_yen);
    let mut alerts = Vec::new();
    let threshold = |used: i64, whole: i64, warn: AlertKind, over: AlertKind| {
        let p = percent(used, whole);
        if whole > 0 && used > whole {
            Some(Alert {
                kind: over,
                detail: format!("{p}%"),
            })
        } else if whole > 0 && p >= 80 {
            Some(Alert {
                kind: warn,
                detail: format!("{p}%"),
            })
        } else {
            None
        }
    };
    alerts.extend(threshold(
        actual.hundredths(),
        planned.hundredths(),
        AlertKind::PlanWarning,
        AlertKind::PlanExceeded,
    ));
    alerts.extend(threshold(
        actual_cost,
        ctx.cap_yen,
        AlertKind::CapWarning,
        AlertKind::CapExceeded,
    ));
    if ctx.late_from.is_some_and(|d| ctx.today >= d) {
        for kind in DeliverableKind::ALL {
            let booked = rows
                .iter()
                .filter(|r| plan_row(r.number).is_ok_and(|p| p.deliverable == Some(*kind)))
                .any(|r| r.actual > Hours::ZERO);
            if booked && state_of(*kind) == DeliverableState::Draft {
                alerts.push(Alert {
                    kind: AlertKind::DraftLate,
                    detail: format!("{}{}", kind.mark(), kind.ja()),
                });
            }
        }
    }
    for week in &ctx.missing_weeks {
        alerts.push(Alert {
            kind: AlertKind::MissingWeek,
            detail: week.to_string(),
        });
    }
    LabourSummary {
        plan_cost_yen: cost_yen(planned, ctx.rate_yen),
        actual_cost_yen: actual_cost,
        forecast_cost_yen: cost_yen(forecast, ctx.rate_yen),
        cap_yen: ctx.cap_yen,
        rows,
        plan: planned,
        actual,
        forecast,
        weeks: weeks.into_iter().collect(),
        alerts,
    }
}

#[cfg(test)]
mod tests;
