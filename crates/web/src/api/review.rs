//! The supervisor's review talk and queue over the JSON API: the same
//! store operations as the pages, so the same policy, the same steps and
//! the same audit apply. Refusals answer as the deliverables API does:
//! 400 for a body that is not what the operation takes, 422 for a text,
//! row, version or date refused (naming it), 403 for the policy and for
//! anyone outside the review talk, 404 for what is not there, 409 for a
//! step the state or the caller's organisation does not allow (naming
//! what is).

use super::deliverables::{Answered, Refused, grant, to_json};
use super::{ApiCaller, json_body};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mamori_domain::EngagementId;
use mamori_domain::deliverable::{DeepDiveAction, ThreadAction, discussion_access};
use mamori_domain::policy::Access;
use mamori_store::Anchor;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

fn kind_param(text: &str) -> Result<mamori_domain::deliverable::DeliverableKind, Refused> {
    Ok(crate::pages::deliverables::kind_of(text)?)
}

/// Where a new thread or deep dive points, and what it says.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The deliverable: checklist-executive … structure, or 1–7.
    kind: String,
    /// A row key of the version's tables (e.g. a connection key of ⑤); omitted: the whole deliverable.
    #[serde(default)]
    row_key: String,
    /// The version; omitted: the current one.
    #[serde(default)]
    version: Option<i64>,
    /// Up to 4,000 characters.
    text: String,
    /// Deep dives only: the due date (YYYY-MM-DD), today or later.
    #[serde(default)]
    due: Option<String>,
}

/// A reply, resolve, reopen, answer, close or send-back.
#[derive(Deserialize, ToSchema)]
pub struct StepBody {
    /// Up to 4,000 characters; required for a reply, an answer, a
    /// send-back and a resolve by the company.
    #[serde(default)]
    text: String,
}

fn anchor(body: &StartBody) -> Result<Anchor, Refused> {
    Ok(Anchor {
        kind: Some(kind_param(&body.kind)?),
        row_key: body.row_key.clone(),
        version: body.version,
    })
}

fn step_access(caller: &ApiCaller) -> Access {
    discussion_access(caller.account.org_kind)
}

/// The comment threads of the engagement's deliverables, each with its
/// comments. Audited; the secretariat, the supervisor and the company only.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/threads", tag = "review",
    params(("id" = i64, Path, description = "engagement id")),
    responses((status = 200, description = "`threads`: id, kind, row_key, version, state, created_by, created_at_ms, comments (action, author, at_ms, text)", body = Object),
        (status = 403, description = "the policy refuses, or the caller is outside the review talk"), (status = 404)),
    security(("bearer" = [])))]
pub async fn list_threads(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let id = EngagementId(id);
    let g = grant(&state, &caller, id, Access::Read).await?;
    let threads = state.store.review_threads(&caller.ctx, &g, id).await?;
    to_json(
        StatusCode::OK,
        json!({"engagement_id": id.0, "threads": threads}),
    )
}

/// The supervisor opens a thread on a deliverable, optionally on one row
/// of a version, with its first comment.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/threads", tag = "review",
    params(("id" = i64, Path, description = "engagement id")),
    request_body = StartBody,
    responses((status = 201, description = "the thread", body = Object),
        (status = 400, description = "the body is not a thread"),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 409, description = "not the caller's step; names what is allowed"),
        (status = 422, description = "an empty or too long text, an unknown row or version")),
    security(("bearer" = [])))]
pub async fn open_thread(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    body: Result<Json<StartBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let body = json_body(body)?;
    let anchor = anchor(&body)?;
    let g = grant(&state, &caller, id, step_access(&caller)).await?;
    let thread = state
        .store
        .open_review_thread(&caller.ctx, &g, id, &anchor, &body.text)
        .await?;
    to_json(StatusCode::CREATED, thread)
}

/// A step on a thread: `reply` (the supervisor or the company), `resolve`
/// (the supervisor; the company only with a text), `reopen` (the supervisor).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/threads/{thread}/{action}", tag = "review",
    params(("id" = i64, Path, description = "engagement id"), ("thread" = i64, Path),
        ("action" = String, Path, description = "reply, resolve or reopen")),
    request_body = StepBody,
    responses((status = 200, description = "the thread as it now stands", body = Object),
        (status = 400, description = "the body is not a step"),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 409, description = "not a step now or not the caller's; names what is allowed"),
        (status = 422, description = "an unknown action, a missing or too long text")),
    security(("bearer" = [])))]
pub async fn thread_step(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, thread, action)): Path<(i64, i64, String)>,
    body: Result<Json<StepBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let body = json_body(body)?;
    let action = ThreadAction::parse(&action)?;
    let g = grant(&state, &caller, id, step_access(&caller)).await?;
    let thread = state
        .store
        .review_thread_step(&caller.ctx, &g, id, thread, action, &body.text)
        .await?;
    to_json(StatusCode::OK, thread)
}

/// The deep-dive requests of the engagement, each with its steps and
/// `overdue_days`. Audited; the secretariat, the supervisor and the company only.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/deep-dives", tag = "review",
    params(("id" = i64, Path, description = "engagement id")),
    responses((status = 200, description = "`deep_dives`: id, kind, row_key, version, due_on, state, overdue_days, steps (action, actor, at_ms, text)", body = Object),
        (status = 403, description = "the policy refuses, or the caller is outside the review talk"), (status = 404)),
    security(("bearer" = [])))]
pub async fn list_deep_dives(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let id = EngagementId(id);
    let g = grant(&state, &caller, id, Access::Read).await?;
    let dives = state.store.deep_dives(&caller.ctx, &g, id).await?;
    to_json(
        StatusCode::OK,
        json!({"engagement_id": id.0, "deep_dives": dives}),
    )
}

/// The supervisor requests a deeper investigation, with a due date.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/deep-dives", tag = "review",
    params(("id" = i64, Path, description = "engagement id")),
    request_body = StartBody,
    responses((status = 201, description = "the deep dive", body = Object),
        (status = 400, description = "the body is not a request"),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 409, description = "not the caller's step; names what is allowed"),
        (status = 422, description = "a missing or past due date, an empty or too long text, an unknown row")),
    security(("bearer" = [])))]
pub async fn request_deep_dive(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    body: Result<Json<StartBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let body = json_body(body)?;
    let anchor = anchor(&body)?;
    let due = crate::pages::forms::date("due", body.due.as_deref().unwrap_or(""))?;
    let g = grant(&state, &caller, id, step_access(&caller)).await?;
    let dive = state
        .store
        .request_deep_dive(&caller.ctx, &g, id, &anchor, due, &body.text)
        .await?;
    to_json(StatusCode::CREATED, dive)
}

/// A step on a deep dive: `answer` (the company, which marks it done),
/// `close` or `send-back` (the supervisor).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/deep-dives/{dive}/{action}", tag = "review",
    params(("id" = i64, Path, description = "engagement id"), ("dive" = i64, Path),
        ("action" = String, Path, description = "answer, close or send-back")),
    request_body = StepBody,
    responses((status = 200, description = "the deep dive as it now stands", body = Object),
        (status = 400, description = "the body is not a step"),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 409, description = "not a step now or not the caller's; names what is allowed"),
        (status = 422, description = "an unknown action, a missing or too long text")),
    security(("bearer" = [])))]
pub async fn deep_dive_step(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, dive, action)): Path<(i64, i64, String)>,
    body: Result<Json<StepBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let body = json_body(body)?;
    let action = DeepDiveAction::parse(&action)?;
    let g = grant(&state, &caller, id, step_access(&caller)).await?;
    let dive = state
        .store
        .deep_dive_step(&caller.ctx, &g, id, dive, action, &body.text)
        .await?;
    to_json(StatusCode::OK, dive)
}

/// The review queue (the supervisor and the secretariat): submitted
/// deliverables with `age_days` (oldest first), open deep dives with
/// `overdue_days`, and per programme the interim review milestone with the
/// engagements not yet reviewed. Audited.
#[utoipa::path(get, path = "/api/v1/review-queue", tag = "review",
    responses((status = 200, description = "`submitted`, `deep_dives`, `interim` (programme_id, programme_name, due, days_left, warning, unreviewed)", body = Object),
        (status = 403, description = "not the supervisor or the secretariat")),
    security(("bearer" = [])))]
pub async fn queue(State(state): State<AppState>, caller: ApiCaller) -> Answered {
    let queue = state.store.review_queue(&caller.ctx).await?;
    to_json(StatusCode::OK, queue)
}
