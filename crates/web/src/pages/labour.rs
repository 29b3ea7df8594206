//! Labour hours (seed 資料6, 資料4 §4 ⑤): one engagement's sheet — the plan
//! the company edits, the hours its staff book by day, each week reported
//! by the company and acknowledged (locked) or returned by the supervisor,
//! the burn-up chart and the alerts — and the roll-up across engagements
//! for the supervisor and the secretariat, with the exports.

use super::deliverables::{engagement, grant_for};
use super::forms;
use super::{Chrome, Done};
use crate::documents::document_error;
use crate::error::WebError;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_documents::labour::{
    BurnUp, LabourSheet, RollupRow, burnup_svg, cap_hours, labour_rollup_csv, labour_rollup_xlsx,
    labour_sheet_xlsx,
};
use mamori_domain::agreement::format_yen;
use mamori_domain::labour::{
    Hours, LabourEntry, LabourPlan, PLAN_ROWS, WeekState, WeekStep, week_of,
};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{DomainError, EngagementId, OrgId};
use mamori_store::{EngagementLabour, StoreError};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use time::Date;

async fn grant(
    state: &AppState,
    who: &Signed,
    hospital: OrgId,
    access: Access,
) -> Result<HospitalGrant, StoreError> {
    grant_for(state, who, hospital, HospitalData::LabourHours, access).await
}

fn percent(part: Hours, whole: Hours) -> i64 {
    if whole.hundredths() <= 0 {
        0
    } else {
        part.hundredths() * 100 / whole.hundredths()
    }
}

/// The alerts in the reader's language, each with what it names.
fn alert_lines(labour: &EngagementLabour, lang: &str) -> Vec<String> {
    labour
        .summary
        .alerts
        .iter()
        .map(|a| format!("{}: {}", a.kind.label(lang), a.detail))
        .collect()
}

/// The engagement's burn-up chart.
fn chart(labour: &EngagementLabour, lang: &str) -> String {
    burnup_svg(
        &BurnUp {
            title: labour.hospital_name.clone(),
            weeks: labour.summary.weeks.clone(),
            plan: labour.summary.plan,
            cap_hours: cap_hours(labour.summary.cap_yen, labour.rate_yen),
            forecast: Some(labour.summary.forecast),
        },
        lang,
    )
}

pub struct PlanLine {
    pub number: u8,
    pub item: &'static str,
    pub activity: &'static str,
    pub plan: String,
    pub actual: String,
    pub forecast: String,
    pub over: bool,
}

pub struct EntryLine {
    pub id: i64,
    pub day: String,
    pub row: String,
    pub person: String,
    pub hours: String,
    pub note: String,
}

pub struct WeekLine {
    pub week: String,
    pub state: String,
    pub state_slug: &'static str,
    pub hours: String,
    pub entries: Vec<EntryLine>,
    pub locked: bool,
    /// The steps the reader may take: (slug, label).
    pub steps: Vec<(&'static str, String)>,
    pub history: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "labour.html")]
pub struct LabourPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    company: String,
    rate: String,
    plan_total: String,
    actual_total: String,
    percent: i64,
    forecast: String,
    actual_cost: String,
    forecast_cost: String,
    cap: String,
    alerts: Vec<String>,
    plan: Vec<PlanLine>,
    weeks: Vec<WeekLine>,
    /// The company books and edits.
    may_edit: bool,
    rows: Vec<(u8, String)>,
    today: String,
    svg: String,
    error: Option<String>,
}

async fn labour_page(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    error: Option<String>,
    done: &Option<String>,
) -> Result<LabourPage, WebError> {
    let lang = who.tr.code();
    let e = engagement(state, who, id).await?;
    let g = grant(state, who, e.hospital, Access::Read).await?;
    let labour = state.store.labour(&who.ctx, &g, id).await?;
    let org = who.account.actor().org_kind;
    let may_edit = org == OrgKind::SurveyCompany;
    let s = &labour.summary;
    let row_label = |n: u8| {
        PLAN_ROWS
            .iter()
            .find(|r| r.number == n)
            .map(|r| format!("{n}. {} {}", r.item(lang), r.activity.label(lang)))
            .unwrap_or_default()
    };
    let plan = PLAN_ROWS
        .iter()
        .zip(&s.rows)
        .map(|(r, t)| PlanLine {
            number: r.number,
            item: r.item(lang),
            activity: if r.deliverable.is_some() {
                r.activity.label(lang)
            } else {
                ""
            },
            plan: t.plan.to_string(),
            actual: t.actual.to_string(),
            forecast: t.forecast.to_string(),
            over: t.actual > t.plan,
        })
        .collect();
    let mut names: HashMap<i64, String> = HashMap::new();
    for w in &labour.weeks {
        for step in &w.steps {
            if let Some(a) = step.actor
                && let std::collections::hash_map::Entry::Vacant(slot) = names.entry(a.0)
            {
                slot.insert(state.store.account_name(a).await?.unwrap_or_default());
            }
        }
    }
    let weeks = labour
        .weeks
        .iter()
        .rev()
        .map(|w| {
            let supervisor = org == OrgKind::Supervisor;
            let steps = WeekStep::ALL
                .iter()
                .copied()
                .filter(|step| {
                    (supervisor || may_edit)
                        && mamori_domain::labour::week_step(w.state, *step, supervisor).is_ok()
                })
                .map(|step| (step.slug(), step.label(lang).to_string()))
                .collect();
            WeekLine {
                week: w.week.to_string(),
                state: w.state.label(lang).to_string(),
                state_slug: w.state.slug(),
                hours: w.hours.to_string(),
                entries: labour
                    .entries
                    .iter()
                    .filter(|x| week_of(x.entry.worked_on) == w.week)
                    .map(|x| EntryLine {
                        id: x.id,
                        day: x.entry.worked_on.to_string(),
                        row: row_label(x.entry.row),
                        person: x.entry.person.clone(),
                        hours: x.entry.hours.to_string(),
                        note: x.entry.note.clone(),
                    })
                    .collect(),
                locked: w.state == WeekState::Acknowledged,
                steps,
                history: w
                    .steps
                    .iter()
                    .map(|st| {
                        format!(
                            "{} {} {}{}",
                            crate::format::minutes(st.at_ms),
                            st.step.label(lang),
                            st.actor
                                .and_then(|a| names.get(&a.0).cloned())
                                .unwrap_or_default(),
                            if st.note.is_empty() {
                                String::new()
                            } else {
                                format!(" — {}", st.note)
                            }
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let chrome = Chrome::page(state, who, "/labour").await?.with_notice(done);
    Ok(LabourPage {
        chrome,
        id: id.0,
        hospital: e.hospital_name,
        company: e.company_name,
        rate: format_yen(labour.rate_yen),
        plan_total: s.plan.to_string(),
        actual_total: s.actual.to_string(),
        percent: percent(s.actual, s.plan),
        forecast: s.forecast.to_string(),
        actual_cost: format_yen(s.actual_cost_yen),
        forecast_cost: format_yen(s.forecast_cost_yen),
        cap: format_yen(s.cap_yen),
        alerts: alert_lines(&labour, lang),
        plan,
        weeks,
        may_edit,
        rows: PLAN_ROWS
            .iter()
            .map(|r| (r.number, row_label(r.number)))
            .collect(),
        today: state.store.today().to_string(),
        svg: chart(&labour, lang),
        error,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<LabourPage, WebError> {
    labour_page(&state, &who, EngagementId(id), None, &done.done).await
}

async fn outcome<T>(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    result: Result<T, StoreError>,
    done: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/engagements/{id}/labour?done={done}")).into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = labour_page(state, who, id, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

/// `row_1` … `row_17`: the planned hours of each row.
pub async fn save_plan(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let e = engagement(&state, &who, id).await?;
    let parsed = (|| -> Result<LabourPlan, DomainError> {
        let mut plan = LabourPlan::default();
        for r in &PLAN_ROWS {
            let text = form
                .get(&format!("row_{}", r.number))
                .map(String::as_str)
                .unwrap_or("");
            let hours = if text.trim().is_empty() {
                Hours::ZERO
            } else {
                Hours::parse(text)
                    .map_err(|e| DomainError::invalid("hours", format!("row {}: {e}", r.number)))?
            };
            plan.set(r.number, hours)?;
        }
        Ok(plan)
    })();
    let result = match (parsed, grant(&state, &who, e.hospital, Access::Write).await) {
        (Ok(plan), Ok(g)) => state.store.save_labour_plan(&who.ctx, &g, id, &plan).await,
        (Err(e), _) => Err(e.into()),
        (_, Err(e)) => Err(e),
    };
    outcome(&state, &who, id, result, "labour_saved").await
}

#[derive(Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    row: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    worked_on: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    note: String,
}

impl EntryForm {
    fn entry(&self) -> Result<LabourEntry, DomainError> {
        let row = self
            .row
            .trim()
            .parse::<u8>()
            .map_err(|_| DomainError::invalid("row", "choose a row of the sheet"))?;
        let worked_on = forms::optional_date("worked_on", &self.worked_on)?
            .ok_or_else(|| DomainError::invalid("worked_on", "a day is needed"))?;
        Ok(LabourEntry {
            row,
            person: self.person.clone(),
            worked_on,
            hours: Hours::parse(&self.hours)?,
            note: self.note.clone(),
        })
    }
}

pub async fn add_entry(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<EntryForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let e = engagement(&state, &who, id).await?;
    let result = match (
        form.entry(),
        grant(&state, &who, e.hospital, Access::Write).await,
    ) {
        (Ok(entry), Ok(g)) => state.store.add_labour_entry(&who.ctx, &g, id, &entry).await,
        (Err(e), _) => Err(e.into()),
        (_, Err(e)) => Err(e),
    };
    outcome(&state, &who, id, result, "labour_recorded").await
}

pub async fn remove_entry(
    State(state): State<AppState>,
    who: Signed,
    Path((id, entry)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let e = engagement(&state, &who, id).await?;
    let result = match grant(&state, &who, e.hospital, Access::Write).await {
        Ok(g) => {
            state
                .store
                .remove_labour_entry(&who.ctx, &g, id, entry)
                .await
        }
        Err(e) => Err(e),
    };
    outcome(&state, &who, id, result, "labour_removed").await
}

#[derive(Deserialize)]
pub struct WeekForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    note: String,
}

pub async fn week_step(
    State(state): State<AppState>,
    who: Signed,
    Path((id, week)): Path<(i64, String)>,
    Form(form): Form<WeekForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let e = engagement(&state, &who, id).await?;
    let parsed = WeekStep::parse(&form.step).and_then(|step| {
        let week = forms::optional_date("week", &week)?
            .ok_or_else(|| DomainError::invalid("week", "a week is needed"))?;
        Ok((step, week))
    });
    let result = match parsed {
        Ok((step, week)) => {
            let access = if step == WeekStep::Submit {
                Access::Write
            } else {
                Access::Review
            };
            match grant(&state, &who, e.hospital, access).await {
                Ok(g) => {
                    state
                        .store
                        .labour_week_step(&who.ctx, &g, id, week, step, &form.note)
                        .await
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "labour_week").await
}

/// The engagement's sheet in the layout of 資料6.
pub async fn sheet(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let e = engagement(&state, &who, id).await?;
    let g = grant(&state, &who, e.hospital, Access::Read).await?;
    let labour = state.store.labour(&who.ctx, &g, id).await?;
    let lang = who.tr.code();
    let mut actual = [Hours::ZERO; 17];
    for (slot, row) in actual.iter_mut().zip(&labour.summary.rows) {
        *slot = row.actual;
    }
    let bytes = labour_sheet_xlsx(
        &LabourSheet {
            title: who.tr.t("labour.sheet_title").to_string(),
            hospital: labour.hospital_name.clone(),
            company: labour.company_name.clone(),
            plan: labour.plan.clone(),
            actual,
        },
        lang,
    )
    .map_err(document_error)?;
    Ok(forms::attachment(
        &format!("{}_{}.xlsx", who.tr.t("labour.file"), labour.hospital_name),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

pub struct RollupLine {
    pub id: i64,
    pub hospital: String,
    pub company: String,
    pub state: String,
    pub plan: String,
    pub actual: String,
    pub percent: i64,
    pub forecast: String,
    pub cost: String,
    pub cap: String,
    pub alerts: Vec<String>,
}

pub struct CompanyLine {
    pub company: String,
    pub engagements: usize,
    pub plan: String,
    pub actual: String,
    pub percent: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "labour_rollup.html")]
pub struct RollupPage {
    chrome: Chrome,
    lines: Vec<RollupLine>,
    companies: Vec<CompanyLine>,
    /// Plan against actual of each sheet row over every engagement shown.
    rows: Vec<(String, String, String)>,
    weeks: Vec<(String, String)>,
    svg: String,
}

fn rollup_rows(all: &[EngagementLabour], who: &Signed) -> Vec<RollupRow> {
    let lang = who.tr.code();
    all.iter()
        .map(|l| {
            let mut by_row = [Hours::ZERO; 17];
            for (slot, row) in by_row.iter_mut().zip(&l.summary.rows) {
                *slot = row.actual;
            }
            RollupRow {
                hospital: l.hospital_name.clone(),
                company: l.company_name.clone(),
                state: who.tr.t(&format!("state.{}", l.state.slug())).to_string(),
                plan: l.summary.plan,
                actual: l.summary.actual,
                forecast: l.summary.forecast,
                actual_cost_yen: l.summary.actual_cost_yen,
                cap_yen: l.summary.cap_yen,
                alerts: alert_lines(l, lang),
                by_row,
            }
        })
        .collect()
}

pub async fn rollup(State(state): State<AppState>, who: Signed) -> Result<RollupPage, WebError> {
    let lang = who.tr.code();
    let all = state.store.labour_rollup(&who.ctx).await?;
    let lines = all
        .iter()
        .map(|l| RollupLine {
            id: l.engagement.0,
            hospital: l.hospital_name.clone(),
            company: l.company_name.clone(),
            state: who.tr.t(&format!("state.{}", l.state.slug())).to_string(),
            plan: l.summary.plan.to_string(),
            actual: l.summary.actual.to_string(),
            percent: percent(l.summary.actual, l.summary.plan),
            forecast: l.summary.forecast.to_string(),
            cost: format_yen(l.summary.actual_cost_yen),
            cap: format_yen(l.summary.cap_yen),
            alerts: alert_lines(l, lang),
        })
        .collect();
    let mut companies: BTreeMap<String, (usize, Hours, Hours)> = BTreeMap::new();
    let mut weeks: BTreeMap<Date, Hours> = BTreeMap::new();
    let mut rows = [(Hours::ZERO, Hours::ZERO); 17];
    for l in &all {
        let c = companies.entry(l.company_name.clone()).or_default();
        c.0 += 1;
        c.1 += l.summary.plan;
        c.2 += l.summary.actual;
        for (week, hours) in &l.summary.weeks {
            *weeks.entry(*week).or_default() += *hours;
        }
        for (slot, row) in rows.iter_mut().zip(&l.summary.rows) {
            slot.0 += row.plan;
            slot.1 += row.actual;
        }
    }
    let plan: Hours = all.iter().map(|l| l.summary.plan).sum();
    let forecast: Hours = all.iter().map(|l| l.summary.forecast).sum();
    let svg = burnup_svg(
        &BurnUp {
            title: who.tr.t("labour.programme_chart").to_string(),
            weeks: weeks.iter().map(|(w, h)| (*w, *h)).collect(),
            plan,
            cap_hours: None,
            forecast: Some(forecast),
        },
        lang,
    );
    let chrome = Chrome::page(&state, &who, "/labour").await?;
    Ok(RollupPage {
        chrome,
        lines,
        companies: companies
            .into_iter()
            .map(|(company, (n, plan, actual))| CompanyLine {
                company,
                engagements: n,
                plan: plan.to_string(),
                actual: actual.to_string(),
                percent: percent(actual, plan),
            })
            .collect(),
        rows: PLAN_ROWS
            .iter()
            .zip(rows)
            .map(|(r, (p, a))| {
                (
                    format!("{}. {} {}", r.number, r.item(lang), r.activity.label(lang)),
                    p.to_string(),
                    a.to_string(),
                )
            })
            .collect(),
        weeks: weeks
            .iter()
            .map(|(w, h)| (w.to_string(), h.to_string()))
            .collect(),
        svg,
    })
}

pub async fn rollup_xlsx(State(state): State<AppState>, who: Signed) -> Result<Response, WebError> {
    let all = state.store.labour_rollup(&who.ctx).await?;
    let bytes =
        labour_rollup_xlsx(&rollup_rows(&all, &who), who.tr.code()).map_err(document_error)?;
    Ok(forms::attachment(
        &format!("{}.xlsx", who.tr.t("labour.rollup_file")),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

pub async fn rollup_csv(State(state): State<AppState>, who: Signed) -> Result<Response, WebError> {
    let all = state.store.labour_rollup(&who.ctx).await?;
    let bytes =
        labour_rollup_csv(&rollup_rows(&all, &who), who.tr.code()).map_err(document_error)?;
    Ok(forms::attachment(
        &format!("{}.csv", who.tr.t("labour.rollup_file")),
        "text/csv; charset=utf-8",
        bytes,
    ))
}
