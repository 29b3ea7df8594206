//! Labour hours of an engagement over the JSON API (資料6): the plan, the
//! hours booked per person and day, the weekly reports and the roll-up.
//! The same store operations as the pages, so the same policy (labour
//! hours: the company writes, the supervisor reviews, the secretariat
//! reads; the hospital and the ministry never see hours) and the same
//! audit apply.
//!
//! Refusals are JSON: 400 for a body that is not what the operation takes,
//! 422 for a refused field (the message names the reason: negative, in
//! the future, over 24 hours a day, a locked week), 403 for the policy,
//! 404 for what is not there, 409 for a week step its state does not allow.

use super::deliverables::{Answered, Refused, grant_for, to_json};
use super::{ApiCaller, json_body};
use crate::error::WebError;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use mamori_domain::labour::{Hours, LabourEntry, LabourPlan, PLAN_ROWS, WeekStep};
use mamori_domain::policy::{Access, HospitalData};
use mamori_domain::{DomainError, EngagementId, OrgId, ProgrammeId};
use mamori_store::EngagementLabour;
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;
use time::macros::format_description;
use utoipa::ToSchema;

async fn labour_grant(
    state: &AppState,
    caller: &ApiCaller,
    id: EngagementId,
    access: Access,
) -> Result<mamori_domain::policy::HospitalGrant, Refused> {
    grant_for(state, caller, id, HospitalData::LabourHours, access).await
}

/// The sheet's rows, so a client can label the plan's seventeen numbers.
fn rows() -> Value {
    PLAN_ROWS
        .iter()
        .map(|r| {
            json!({
                "number": r.number,
                "item_ja": r.item_ja,
                "item_en": r.item_en,
                "activity": r.activity.slug(),
                "deliverable": r.deliverable.map(|k| k.slug()),
                "default_hours": r.default_hours,
            })
        })
        .collect()
}

fn labour_json(status: StatusCode, labour: &EngagementLabour) -> Answered {
    let mut value = serde_json::to_value(labour)
        .map_err(|e| Refused::Api(WebError::Internal(e.to_string())))?;
    value["rows"] = rows();
    to_json(status, value)
}

/// An engagement's labour hours: `plan` (`hours`: 17 numbers, rows 1–17),
/// `rate_yen`, `entries` (id, row, person, worked_on, hours, note,
/// created_by, created_at_ms), `weeks` (week, state, hours, steps),
/// `summary` (rows, plan, actual, forecast, costs, cap_yen, weeks, alerts)
/// and `rows` (number, item_ja, item_en, activity, deliverable,
/// default_hours). Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/labour", tag = "labour",
    params(("id" = i64, Path, description = "engagement id")),
    responses((status = 200, description = "the engagement's labour hours with the sheet's rows", body = Object),
        (status = 403, description = "the policy refuses"), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_labour(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let id = EngagementId(id);
    let g = labour_grant(&state, &caller, id, Access::Read).await?;
    let labour = state.store.labour(&caller.ctx, &g, id).await?;
    labour_json(StatusCode::OK, &labour)
}

/// One row of a plan given row by row.
#[derive(Deserialize, ToSchema)]
pub struct PlanRowBody {
    /// 1–17.
    row: u8,
    #[schema(value_type = f64, example = 8)]
    hours: Hours,
}

/// A plan, in one of two forms: `hours` with all seventeen rows in order,
/// or `rows` with some rows (`{"row": 15, "hours": 8}`), the others taking
/// the sheet's default hours. Either way the whole plan is replaced.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    #[serde(default)]
    #[schema(value_type = Option<Vec<f64>>)]
    hours: Option<Vec<Hours>>,
    #[serde(default)]
    rows: Option<Vec<PlanRowBody>>,
}

impl PlanBody {
    fn plan(self) -> Result<LabourPlan, Refused> {
        match (self.hours, self.rows) {
            (Some(hours), None) => {
                if hours.len() != PLAN_ROWS.len() {
                    return Err(DomainError::invalid(
                        "hours",
                        format!("{} numbers given; the plan has 17 rows", hours.len()),
                    )
                    .into());
                }
                let mut plan = LabourPlan::default();
                for (row, h) in PLAN_ROWS.iter().zip(hours) {
                    plan.set(row.number, h)?;
                }
                Ok(plan)
            }
            (None, Some(rows)) => {
                let changes: Vec<(u8, Hours)> = rows.iter().map(|r| (r.row, r.hours)).collect();
                Ok(LabourPlan::with(&changes)?)
            }
            // Both or neither: not a plan this operation takes.
            _ => Err(
                WebError::BadRequest("send either `hours` (17 numbers) or `rows`".into()).into(),
            ),
        }
    }
}

/// The survey company replaces its plan. Answers the engagement's labour
/// hours as in GET.
#[utoipa::path(put, path = "/api/v1/engagements/{id}/labour/plan", tag = "labour",
    params(("id" = i64, Path, description = "engagement id")),
    request_body = PlanBody,
    responses((status = 200, description = "the engagement's labour hours", body = Object),
        (status = 400, description = "the body is not a plan"),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 422, description = "negative hours, over 2,000 on a row, an unknown row or not 17 numbers; the message names it")),
    security(("bearer" = [])))]
pub async fn put_plan(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<PlanBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let plan = json_body(b)?.plan()?;
    let g = labour_grant(&state, &caller, id, Access::Write).await?;
    let labour = state
        .store
        .save_labour_plan(&caller.ctx, &g, id, &plan)
        .await?;
    labour_json(StatusCode::OK, &labour)
}

/// Hours one person worked on one day on one row of the sheet.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    /// 1–17.
    row: u8,
    person: String,
    /// The day worked, `YYYY-MM-DD`.
    #[schema(value_type = String, example = "2026-12-08")]
    worked_on: Date,
    /// At most two decimals.
    #[schema(value_type = f64, example = 7.5)]
    hours: Hours,
    #[serde(default)]
    note: String,
}

/// The survey company books hours. Refused (422): negative or zero hours,
/// a day in the future, over 24 hours a day for the person, a week the
/// supervisor acknowledged (locked).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/labour/entries", tag = "labour",
    params(("id" = i64, Path, description = "engagement id")),
    request_body = EntryBody,
    responses((status = 201, description = "the entry: id, row, person, worked_on, hours, note, created_by, created_at_ms", body = Object),
        (status = 400, description = "the body is not an entry"),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 422, description = "a field is refused; the message names the reason")),
    security(("bearer" = [])))]
pub async fn add_entry(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<EntryBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let b = json_body(b)?;
    let entry = LabourEntry {
        row: b.row,
        person: b.person,
        worked_on: b.worked_on,
        hours: b.hours,
        note: b.note,
    };
    let g = labour_grant(&state, &caller, id, Access::Write).await?;
    let record = state
        .store
        .add_labour_entry(&caller.ctx, &g, id, &entry)
        .await?;
    to_json(StatusCode::CREATED, record)
}

/// The survey company removes an entry (kept in the history); refused in
/// a locked week.
#[utoipa::path(delete, path = "/api/v1/engagements/{id}/labour/entries/{entry}", tag = "labour",
    params(("id" = i64, Path, description = "engagement id"), ("entry" = i64, Path, description = "entry id")),
    responses((status = 204, description = "removed"),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 422, description = "the entry's week is locked")),
    security(("bearer" = [])))]
pub async fn remove_entry(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, entry)): Path<(i64, i64)>,
) -> Answered {
    let id = EngagementId(id);
    let g = labour_grant(&state, &caller, id, Access::Write).await?;
    state
        .store
        .remove_labour_entry(&caller.ctx, &g, id, entry)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct WeekStepBody {
    /// Up to 2,000 characters (a return says why).
    #[serde(default)]
    note: String,
}

/// A step on a week's report: the company submits the week (`submit`), the
/// supervisor acknowledges it — locking its hours — (`acknowledge`) or
/// returns it (`return`). The body `{"note": "…"}` may be left out.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/labour/weeks/{week}/{step}", tag = "labour",
    params(("id" = i64, Path, description = "engagement id"),
        ("week" = String, Path, description = "the week's Monday, YYYY-MM-DD"),
        ("step" = String, Path, description = "submit, acknowledge or return")),
    request_body(content = Option<WeekStepBody>, description = "optional"),
    responses((status = 200, description = "the engagement's labour hours", body = Object),
        (status = 400, description = "the body is not a note"),
        (status = 403, description = "the policy refuses (submit: the company; acknowledge, return: the supervisor)"),
        (status = 404),
        (status = 409, description = "not a step from the week's state; names it"),
        (status = 422, description = "not a Monday, a week to come, an unknown step or a note too long")),
    security(("bearer" = [])))]
pub async fn week_step(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, week, step)): Path<(i64, String, String)>,
    raw: Bytes,
) -> Answered {
    let id = EngagementId(id);
    // The note is optional, so an empty body is a step without one.
    let b: WeekStepBody = if raw.iter().all(u8::is_ascii_whitespace) {
        WeekStepBody::default()
    } else {
        serde_json::from_slice(&raw).map_err(|e| WebError::BadRequest(e.to_string()))?
    };
    let week =
        Date::parse(week.trim(), format_description!("[year]-[month]-[day]")).map_err(|_| {
            DomainError::invalid("week", format!("`{week}` is not a date (YYYY-MM-DD)"))
        })?;
    let step = WeekStep::parse(&step)?;
    let access = if step == WeekStep::Submit {
        Access::Write
    } else {
        Access::Review
    };
    let g = labour_grant(&state, &caller, id, access).await?;
    let labour = state
        .store
        .labour_week_step(&caller.ctx, &g, id, week, step, &b.note)
        .await?;
    labour_json(StatusCode::OK, &labour)
}

/// Every contracted engagement whose hours the caller may read, each as in
/// GET `/api/v1/engagements/{id}/labour` (without `rows`): the supervisor
/// and the secretariat see all, a survey company its own, others none.
/// Audited per engagement.
#[utoipa::path(get, path = "/api/v1/labour/rollup", tag = "labour",
    responses((status = 200, description = "`engagements`: the labour hours of each", body = Object)),
    security(("bearer" = [])))]
pub async fn rollup(State(state): State<AppState>, caller: ApiCaller) -> Answered {
    let engagements = state.store.labour_rollup(&caller.ctx).await?;
    to_json(StatusCode::OK, json!({"engagements": engagements}))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateBody {
    /// Yen an hour, 1–1,000,000.
    rate_yen: i64,
}

/// The secretariat sets a survey company's hourly rate in a programme
/// (otherwise taken from the estimate, else 10,000 yen).
#[utoipa::path(put, path = "/api/v1/programmes/{id}/labour-rates/{company}", tag = "labour",
    params(("id" = i64, Path, description = "programme id"),
        ("company" = i64, Path, description = "survey company organisation id")),
    request_body = RateBody,
    responses((status = 204, description = "saved"),
        (status = 400, description = "the body is not a rate"),
        (status = 403, description = "not the secretariat"), (status = 404),
        (status = 422, description = "not a rate of 1–1,000,000 yen")),
    security(("bearer" = [])))]
pub async fn set_rate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((programme, company)): Path<(i64, i64)>,
    b: Result<Json<RateBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    state
        .store
        .set_labour_rate(
            &caller.ctx,
            ProgrammeId(programme),
            OrgId(company),
            b.rate_yen,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
