//! The deliverables of an engagement (① to ⑦) over the JSON API: the same
//! store operations as the pages, so the same policy (deliverables), the
//! same review steps and the same audit apply.
//!
//! Refusals are JSON: 400 for a body that is not what the operation takes,
//! 422 for a submission with parts missing (listed in `missing`), 403 for
//! the policy, 404 for what is not there, 409 for a step the deliverable's
//! state or the caller's organisation does not allow (naming what is).

use super::{ApiCaller, json_body};
use crate::error::WebError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mamori_domain::deliverable::{DeliverableKind, ReviewAction};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{DomainError, EngagementId};
use mamori_store::StoreError;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

/// The marker before the list of missing parts in a refused submission.
const MISSING: &str = "required parts are missing: ";

/// Why a deliverables request was refused, as JSON.
pub enum Refused {
    /// As the rest of the API answers it (400, 403, 404, 409, 500).
    Api(WebError),
    /// 422: an incomplete submission (listing the missing parts), an
    /// unknown action or a note too long.
    Unprocessable(String),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Api(e) => e.into_api_response(),
            Refused::Unprocessable(message) => {
                let missing: Vec<&str> = message
                    .split_once(MISSING)
                    .map(|(_, list)| list.split("; ").collect())
                    .unwrap_or_default();
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({
                        "error": "unprocessable",
                        "message": message,
                        "operation": null,
                        "missing": missing,
                    })),
                )
                    .into_response()
            }
        }
    }
}

impl From<StoreError> for Refused {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Invalid(e) => Refused::Unprocessable(e.to_string()),
            other => Refused::Api(other.into()),
        }
    }
}

impl From<DomainError> for Refused {
    fn from(err: DomainError) -> Self {
        Refused::Unprocessable(err.to_string())
    }
}

impl From<WebError> for Refused {
    fn from(err: WebError) -> Self {
        Refused::Api(err)
    }
}

fn kind_param(text: &str) -> Result<DeliverableKind, Refused> {
    Ok(crate::pages::deliverables::kind_of(text)?)
}

pub(super) async fn grant(
    state: &AppState,
    caller: &ApiCaller,
    id: EngagementId,
    access: Access,
) -> Result<HospitalGrant, Refused> {
    grant_for(state, caller, id, HospitalData::Deliverables, access).await
}

/// A grant on the engagement's hospital for `data` (deliverables, labour
/// hours, …).
pub(super) async fn grant_for(
    state: &AppState,
    caller: &ApiCaller,
    id: EngagementId,
    data: HospitalData,
    access: Access,
) -> Result<HospitalGrant, Refused> {
    let detail = state.store.engagement_detail(&caller.ctx, id).await?;
    Ok(state
        .store
        .authorize(&caller.ctx, detail.engagement.hospital_id, data, access)
        .await?)
}

pub(super) fn to_json<T: serde::Serialize>(status: StatusCode, value: T) -> Answered {
    let value =
        serde_json::to_value(value).map_err(|e| Refused::Api(WebError::Internal(e.to_string())))?;
    Ok((status, Json(value)).into_response())
}

pub(super) type Answered = Result<Response, Refused>;

/// The seven deliverables in order: state, current version, who submitted
/// it when, and every review step. Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/deliverables", tag = "deliverables",
    params(("id" = i64, Path, description = "engagement id")),
    responses((status = 200, description = "`deliverables`: kind, number, state, version, submitted_at_ms, submitted_by, reviews (version, action, actor, at_ms, note)", body = Object),
        (status = 403, description = "the policy refuses"), (status = 404)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let id = EngagementId(id);
    let g = grant(&state, &caller, id, Access::Read).await?;
    let records = state.store.deliverables(&caller.ctx, &g, id).await?;
    let items: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            v["number"] = json!(r.kind.number());
            v
        })
        .collect();
    to_json(
        StatusCode::OK,
        json!({"engagement_id": id.0, "deliverables": items}),
    )
}

/// Freezes the deliverable as it is built now from the checklist or the
/// ledger, as a new version (the contracted survey company).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/deliverables/{kind}/submit", tag = "deliverables",
    params(("id" = i64, Path, description = "engagement id"),
        ("kind" = String, Path, description = "checklist-executive, checklist-administrator, checklist-user, backups, connections, network, structure (or 1–7)")),
    responses((status = 200, description = "the deliverable as it now stands", body = Object),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 409, description = "not a step now; names what is allowed"),
        (status = 422, description = "parts are missing, listed in `missing`")),
    security(("bearer" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind)): Path<(i64, String)>,
) -> Answered {
    let id = EngagementId(id);
    let kind = kind_param(&kind)?;
    let g = grant(&state, &caller, id, Access::Write).await?;
    let record = state
        .store
        .submit_deliverable(&caller.ctx, &g, id, kind)
        .await?;
    to_json(StatusCode::OK, record)
}

#[derive(Deserialize, ToSchema)]
pub struct ReviewBody {
    /// request-changes, approve or reopen.
    action: String,
    /// What the reviewer says (up to 4,000 characters).
    #[serde(default)]
    note: String,
}

/// One review step on the current version (the supervisor or the
/// secretariat), with a note.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/deliverables/{kind}/review", tag = "deliverables",
    params(("id" = i64, Path, description = "engagement id"), ("kind" = String, Path)),
    request_body = ReviewBody,
    responses((status = 200, description = "the deliverable as it now stands", body = Object),
        (status = 400, description = "the body is not a review"),
        (status = 403, description = "the policy refuses"), (status = 404),
        (status = 409, description = "not a step now or not the caller's; names what is allowed"),
        (status = 422, description = "an unknown action or a note too long")),
    security(("bearer" = [])))]
pub async fn review(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind)): Path<(i64, String)>,
    body: Result<Json<ReviewBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let kind = kind_param(&kind)?;
    let body = json_body(body)?;
    let action = ReviewAction::parse(&body.action)?;
    let g = grant(&state, &caller, id, Access::Review).await?;
    let record = state
        .store
        .review_deliverable(&caller.ctx, &g, id, kind, action, &body.note)
        .await?;
    to_json(StatusCode::OK, record)
}

/// One frozen version's content: its tables and, for ⑥ and ⑦, the view
/// drawn. Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/deliverables/{kind}/versions/{n}", tag = "deliverables",
    params(("id" = i64, Path, description = "engagement id"), ("kind" = String, Path),
        ("n" = i64, Path, description = "version, from 1")),
    responses((status = 200, description = "kind, tables (id, caption_ja, caption_en, columns, rows), network, structure", body = Object),
        (status = 403, description = "the policy refuses"), (status = 404)),
    security(("bearer" = [])))]
pub async fn version(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind, n)): Path<(i64, String, i64)>,
) -> Answered {
    let id = EngagementId(id);
    let kind = kind_param(&kind)?;
    let g = grant(&state, &caller, id, Access::Read).await?;
    let content = state
        .store
        .deliverable_version(&caller.ctx, &g, id, kind, n)
        .await?;
    to_json(StatusCode::OK, content)
}

#[derive(Deserialize, IntoParams)]
pub struct DiffQuery {
    /// The earlier version.
    from: i64,
    /// The later version.
    to: i64,
}

/// What changed between two versions, each change with its text
/// ("日本語 / English"). Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/deliverables/{kind}/diff", tag = "deliverables",
    params(("id" = i64, Path, description = "engagement id"), ("kind" = String, Path), DiffQuery),
    responses((status = 200, description = "`changes`: each change as stored (`change`, table, key, …) with `text`", body = Object),
        (status = 400, description = "`from` or `to` is missing"),
        (status = 403, description = "the policy refuses"), (status = 404)),
    security(("bearer" = [])))]
pub async fn diff(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind)): Path<(i64, String)>,
    Query(q): Query<DiffQuery>,
) -> Answered {
    let id = EngagementId(id);
    let kind = kind_param(&kind)?;
    let g = grant(&state, &caller, id, Access::Read).await?;
    let changes = state
        .store
        .deliverable_diff(&caller.ctx, &g, id, kind, q.from, q.to)
        .await?;
    let changes: Vec<Value> = changes
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
            v["text"] = json!(c.to_string());
            v
        })
        .collect();
    to_json(
        StatusCode::OK,
        json!({"kind": kind.slug(), "from": q.from, "to": q.to, "changes": changes}),
    )
}
