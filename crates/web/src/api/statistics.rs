//! Statistics releases over the JSON API: the same store operations as the
//! pages. The secretariat drafts (the response lists every suppressed cell
//! with its reason) and a second member publishes; the supervisor and the
//! ministry read published releases, whose suppressed cells carry no
//! reason. 422 names a refused k, title or step; 403 the policy.

use super::deliverables::{Answered, to_json};
use super::{ApiCaller, json_body};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mamori_domain::ProgrammeId;
use mamori_domain::aggregates::{ReleaseAudience, ReleaseState};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/v1/statistics", tag = "statistics",
    responses((status = 200, description = "`releases`: id, number, programme_id, audience, title, k, hospitals, state, tables (protected: rows × columns of values with their hospital counts, or suppressed), drafted_by, drafted_at_ms, decided_by, decided_at_ms", body = Object),
        (status = 403, description = "the secretariat, the supervisor and the ministry only")),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, caller: ApiCaller) -> Answered {
    let releases = state.store.statistics_releases(&caller.ctx).await?;
    to_json(StatusCode::OK, json!({ "releases": releases }))
}

#[utoipa::path(get, path = "/api/v1/statistics/{id}", tag = "statistics",
    params(("id" = i64, Path, description = "release id")),
    responses((status = 200, description = "the release", body = Object), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_release(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let release = state.store.statistics_release(&caller.ctx, id).await?;
    to_json(StatusCode::OK, release)
}

/// A new draft.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    /// The programme; omitted: every programme.
    #[serde(default)]
    programme: Option<i64>,
    /// ministry or public.
    audience: String,
    /// Cells from fewer than k hospitals are suppressed; at least 3 (default 5).
    #[serde(default)]
    k: Option<u32>,
    title: String,
}

#[utoipa::path(post, path = "/api/v1/statistics", tag = "statistics",
    request_body = DraftBody,
    responses((status = 201, description = "the draft, each suppressed cell with its reason", body = Object),
        (status = 400), (status = 403, description = "the secretariat only"),
        (status = 422, description = "k below 3, an empty title or an unknown audience")),
    security(("bearer" = [])))]
pub async fn draft(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Json<DraftBody>, JsonRejection>,
) -> Answered {
    let b = json_body(body)?;
    let audience = ReleaseAudience::parse(&b.audience)?;
    let release = state
        .store
        .draft_statistics(
            &caller.ctx,
            b.programme.map(ProgrammeId),
            audience,
            b.k.unwrap_or(mamori_domain::statistics::DEFAULT_K),
            &b.title,
        )
        .await?;
    to_json(StatusCode::CREATED, release)
}

/// Publish or discard a draft.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// published (by someone other than the drafter) or discarded.
    decision: String,
}

#[utoipa::path(post, path = "/api/v1/statistics/{id}/decision", tag = "statistics",
    params(("id" = i64, Path, description = "release id")),
    request_body = DecisionBody,
    responses((status = 200, description = "the release after the decision", body = Object),
        (status = 400), (status = 403, description = "the secretariat only"), (status = 404),
        (status = 422, description = "the drafter approving their own draft, or not a draft")),
    security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> Answered {
    let b = json_body(body)?;
    let to = ReleaseState::parse(&b.decision)?;
    let release = state.store.decide_statistics(&caller.ctx, id, to).await?;
    to_json(StatusCode::OK, release)
}
