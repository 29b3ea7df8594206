//! Returning and erasing a hospital's data over the JSON API (資料3 第5条):
//! the same store operations as the page. 403 for anyone but the
//! secretariat; 409 when the data changed since the named archive.

use super::deliverables::{Answered, to_json};
use super::{ApiCaller, json_body};
use crate::error::WebError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mamori_domain::OrgId;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/v1/hospitals/{id}/data-returns", tag = "data return",
    params(("id" = i64, Path, description = "hospital id")),
    responses((status = 200, description = "`returns`: id, action (exported or erased), digest, summary (deleted_rows and kept_rows per table, deleted_files, deleted_file_bytes, kept_files), reason, at_ms, by, by_name; newest first", body = Object),
        (status = 403, description = "the secretariat only"), (status = 404)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let returns = state
        .store
        .hospital_data_returns(&caller.ctx, OrgId(id))
        .await?;
    to_json(StatusCode::OK, json!({ "returns": returns }))
}

#[utoipa::path(post, path = "/api/v1/hospitals/{id}/data-return/archive", tag = "data return",
    params(("id" = i64, Path, description = "hospital id")),
    responses((status = 200, description = "the archive (application/zip): README.txt, manifest.json with the digest, data/deleted/*.json, data/kept/*.json, files/, reports/", content_type = "application/zip"),
        (status = 403, description = "the secretariat only"), (status = 404)),
    security(("bearer" = [])))]
pub async fn archive(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    crate::pages::data_return::archive_download(&state, &caller.ctx, OrgId(id)).await
}

/// The erasure that follows an archive.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    /// The digest of the archive handed over (its manifest.json).
    digest: String,
    /// The hospital's name, typed exactly, as confirmation.
    confirm_name: String,
    /// On whose request and when.
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/hospitals/{id}/data-return/erase", tag = "data return",
    params(("id" = i64, Path, description = "hospital id")),
    request_body = EraseBody,
    responses((status = 200, description = "what was deleted: deleted_rows per table, deleted_files, deleted_file_bytes; kept_rows", body = Object),
        (status = 400), (status = 403, description = "the secretariat only"), (status = 404),
        (status = 409, description = "no archive with this digest, or the data changed since it: nothing deleted"),
        (status = 422, description = "the name does not match, or no reason")),
    security(("bearer" = [])))]
pub async fn erase(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    body: Result<Json<EraseBody>, JsonRejection>,
) -> Answered {
    let b = json_body(body)?;
    let summary = state
        .store
        .erase_hospital_data(
            &caller.ctx,
            OrgId(id),
            b.digest.trim(),
            &b.confirm_name,
            &b.reason,
        )
        .await?;
    to_json(StatusCode::OK, summary)
}
