//! Vulnerability response over the JSON API: a hospital's cases, their
//! triage steps and notices (through the policy's matches row, audited),
//! the secretariat's analyst queue and re-match, and the response per
//! advisory for the secretariat, the supervisor and the ministry. The same
//! store operations as the pages. 400 for a body that is not what the
//! operation takes, 422 for a state, date or reason refused (naming it),
//! 403 for the policy, 404 for a case the caller cannot see.

use super::deliverables::{Answered, Refused, to_json};
use super::{ApiCaller, json_body};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mamori_domain::OrgId;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::triage::{MatchReview, TriageState};
use mamori_store::MatchQuery;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

async fn grant(
    state: &AppState,
    caller: &ApiCaller,
    hospital: i64,
    access: Access,
) -> Result<HospitalGrant, Refused> {
    Ok(state
        .store
        .authorize(&caller.ctx, OrgId(hospital), HospitalData::Matches, access)
        .await?)
}

#[utoipa::path(get, path = "/api/v1/hospitals/{id}/advisory-matches", tag = "advisories",
    params(("id" = i64, Path, description = "hospital id")),
    responses((status = 200, description = "`matches`: the cases the hospital has been told of — id, advisory, source, title, cve_ids, cvss, kev_due, asset, method, confidence, criterion, state, due_on, notice_id, escalated, found_at_ms", body = Object),
        (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn hospital_matches(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let g = grant(&state, &caller, id, Access::Read).await?;
    let matches = state.store.hospital_matches(&caller.ctx, &g).await?;
    to_json(StatusCode::OK, json!({ "matches": matches }))
}

/// A triage step.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageBody {
    /// affected, not-affected, in-progress, resolved or unconfirmed.
    state: String,
    /// Required for not-affected (the reason); up to 2,000 characters.
    #[serde(default)]
    note: String,
    /// A new due date, YYYY-MM-DD.
    #[serde(default)]
    due_on: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/hospitals/{id}/advisory-matches/{case}/steps", tag = "advisories",
    params(("id" = i64, Path, description = "hospital id"), ("case" = i64, Path, description = "match id")),
    request_body = TriageBody,
    responses((status = 200, description = "the case after the step", body = Object),
        (status = 400, description = "the body is not a step"),
        (status = 403, description = "the policy refuses"),
        (status = 404, description = "no such case for this hospital"),
        (status = 422, description = "not a step from the case's state (naming the allowed ones), a missing reason or a bad date")),
    security(("bearer" = [])))]
pub async fn triage(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, case)): Path<(i64, i64)>,
    body: Result<Json<TriageBody>, JsonRejection>,
) -> Answered {
    let b = json_body(body)?;
    let to = TriageState::parse(&b.state)?;
    let due = crate::pages::forms::optional_date("due_on", b.due_on.as_deref().unwrap_or(""))?;
    let g = grant(&state, &caller, id, Access::Write).await?;
    let m = state
        .store
        .triage_match(&caller.ctx, &g, case, to, &b.note, due)
        .await?;
    to_json(StatusCode::OK, m)
}

#[utoipa::path(get, path = "/api/v1/hospitals/{id}/advisory-matches/{case}/steps", tag = "advisories",
    params(("id" = i64, Path, description = "hospital id"), ("case" = i64, Path, description = "match id")),
    responses((status = 200, description = "`steps`: from, to, note, actor, at_ms, due_on — oldest first", body = Object),
        (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn steps(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, case)): Path<(i64, i64)>,
) -> Answered {
    let g = grant(&state, &caller, id, Access::Read).await?;
    let steps = state.store.match_steps(&caller.ctx, &g, case).await?;
    to_json(StatusCode::OK, json!({ "steps": steps }))
}

#[utoipa::path(get, path = "/api/v1/hospitals/{id}/advisory-notices", tag = "advisories",
    params(("id" = i64, Path, description = "hospital id")),
    responses((status = 200, description = "`notices`: number, created_at_ms and the notice (hospital, issued_on, recipients, advisories with cvss, kev, remediations, due_on and assets) — newest first", body = Object),
        (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn notices(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let g = grant(&state, &caller, id, Access::Read).await?;
    let notices = state.store.hospital_notices(&caller.ctx, &g).await?;
    to_json(StatusCode::OK, json!({ "notices": notices }))
}

/// Which matches the secretariat reads.
#[derive(Deserialize, IntoParams)]
pub struct MatchFilter {
    /// A hospital id.
    hospital: Option<i64>,
    /// pending (waiting for an analyst), confirmed, dismissed or not-needed.
    review: Option<String>,
    /// Only cases escalated to the secretariat.
    #[serde(default)]
    escalated: bool,
    /// Found on or after, YYYY-MM-DD.
    since: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/advisory-matches", tag = "advisories",
    params(MatchFilter),
    responses((status = 200, description = "`matches` of every hospital, as the filter narrows them", body = Object),
        (status = 403, description = "the secretariat only"),
        (status = 422, description = "an unknown review state or a bad date")),
    security(("bearer" = [])))]
pub async fn all_matches(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(f): Query<MatchFilter>,
) -> Answered {
    let review = f
        .review
        .as_deref()
        .map(MatchReview::parse)
        .transpose()?
        .map(|r| r.slug().to_string());
    let since_ms = match f.since.as_deref() {
        Some(day) => Some(crate::format::date_start_ms(day).ok_or_else(|| {
            mamori_domain::DomainError::invalid(
                "since",
                format!("`{day}` is not a date (YYYY-MM-DD)"),
            )
        })?),
        None => None,
    };
    let matches = state
        .store
        .advisory_matches(
            &caller.ctx,
            &MatchQuery {
                hospital: f.hospital.map(OrgId),
                since_ms,
                review,
                escalated_only: f.escalated,
                ..MatchQuery::default()
            },
        )
        .await?;
    to_json(StatusCode::OK, json!({ "matches": matches }))
}

/// An analyst's decision on a match found by product name only.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// confirmed (the hospital is told) or dismissed.
    decision: String,
    /// Required to dismiss.
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/api/v1/advisory-matches/{case}/review", tag = "advisories",
    params(("case" = i64, Path, description = "match id")),
    request_body = ReviewBody,
    responses((status = 200, description = "the match after the decision", body = Object),
        (status = 400, description = "the body is not a decision"),
        (status = 403, description = "the secretariat only"), (status = 404),
        (status = 422, description = "not a decision from the match's review state, or a dismissal without a reason")),
    security(("bearer" = [])))]
pub async fn review(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(case): Path<i64>,
    body: Result<Json<ReviewBody>, JsonRejection>,
) -> Answered {
    let b = json_body(body)?;
    let to = MatchReview::parse(&b.decision)?;
    let m = state
        .store
        .review_match(&caller.ctx, case, to, &b.note)
        .await?;
    to_json(StatusCode::OK, m)
}

#[utoipa::path(get, path = "/api/v1/advisories/responses", tag = "advisories",
    responses((status = 200, description = "`responses`: per advisory, hospitals told, closed, not_affected, overdue, cases, escalated_cases — no hospital named", body = Object),
        (status = 403, description = "the secretariat, the supervisor and the ministry only")),
    security(("bearer" = [])))]
pub async fn responses(State(state): State<AppState>, caller: ApiCaller) -> Answered {
    let responses = state.store.advisory_responses(&caller.ctx).await?;
    to_json(StatusCode::OK, json!({ "responses": responses }))
}

#[utoipa::path(post, path = "/api/v1/advisories/rematch", tag = "advisories",
    responses((status = 200, description = "what the re-match did: advisories, assets, distinct_items, new, to_confirm, kept, withdrawn, notices", body = Object),
        (status = 403, description = "the secretariat only")),
    security(("bearer" = [])))]
pub async fn rematch(State(state): State<AppState>, caller: ApiCaller) -> Answered {
    let summary = state.store.rematch_advisories(&caller.ctx).await?;
    to_json(StatusCode::OK, summary)
}
