//! Findings and report releases of an engagement over the JSON API: the
//! same store operations as the report page, so the same policy
//! (deliverables), the same steps and the same audit apply. The report's
//! submission, acceptance (検収) and delivery are the engagement's
//! lifecycle steps (`POST /api/v1/engagements/{id}/transitions` with
//! `submitted`, `accepted`, `reported`); a refused acceptance lists the
//! deliverables not yet approved.

use super::deliverables::{Answered, grant, to_json};
use super::{ApiCaller, json_body};
use crate::error::WebError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mamori_domain::EngagementId;
use mamori_domain::deliverable::{AffectedRef, FindingStep, ReportFile, Severity};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::Access;
use mamori_store::FindingDraft;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    /// critical, high, medium or low (or 重大, 高, 中, 低).
    severity: String,
    /// One line, up to 200 characters.
    title: String,
    #[serde(default)]
    detail: String,
    /// What the finding is about: `{"kind": "connection", "key": "C-1"}`;
    /// kinds: checklist-item, asset, connection, backup, role.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    affected: Vec<AffectedRef>,
    /// The recommended action (推奨対策).
    recommendation: String,
    /// On an edit: why.
    #[serde(default)]
    note: String,
}

impl FindingBody {
    fn draft(&self) -> Result<FindingDraft, mamori_domain::DomainError> {
        Ok(FindingDraft {
            severity: Severity::from_text(&self.severity)?,
            title: self.title.clone(),
            detail: self.detail.clone(),
            affected: self.affected.clone(),
            recommendation: self.recommendation.clone(),
        })
    }
}

/// The engagement's findings by number with their steps (the hospital and
/// the ministry: the accepted ones, once the report is delivered). Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/findings", tag = "report",
    params(("id" = i64, Path, description = "engagement id")),
    responses((status = 200, description = "`findings`: number, severity, title, detail, affected, recommendation, status, steps", body = Object),
        (status = 403, description = "the policy refuses"), (status = 404)),
    security(("bearer" = [])))]
pub async fn findings(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let id = EngagementId(id);
    let g = grant(&state, &caller, id, Access::Read).await?;
    let findings = state.store.findings(&caller.ctx, &g, id).await?;
    to_json(
        StatusCode::OK,
        json!({"engagement_id": id.0, "findings": findings}),
    )
}

/// The survey company records a finding; it is numbered next and waits
/// for the supervisor as proposed.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/findings", tag = "report",
    params(("id" = i64, Path, description = "engagement id")), request_body = FindingBody,
    responses((status = 201, description = "the finding", body = Object),
        (status = 400), (status = 403, description = "the policy refuses"), (status = 404),
        (status = 422, description = "a field is refused; the message names it")),
    security(("bearer" = [])))]
pub async fn propose(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<FindingBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let draft = json_body(b)?.draft()?;
    let g = grant(&state, &caller, id, Access::Write).await?;
    let record = state
        .store
        .propose_finding(&caller.ctx, &g, id, &draft)
        .await?;
    to_json(StatusCode::CREATED, record)
}

/// Replaces a finding's text, severity and references: the company while
/// it is proposed, the supervisor at any time (the status stays).
#[utoipa::path(put, path = "/api/v1/engagements/{id}/findings/{n}", tag = "report",
    params(("id" = i64, Path, description = "engagement id"), ("n" = u32, Path, description = "finding number")),
    request_body = FindingBody,
    responses((status = 200, description = "the finding", body = Object),
        (status = 400), (status = 403), (status = 404),
        (status = 409, description = "not editable by the caller now; names what is allowed"),
        (status = 422)),
    security(("bearer" = [])))]
pub async fn edit(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, number)): Path<(i64, u32)>,
    b: Result<Json<FindingBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let b = json_body(b)?;
    let draft = b.draft()?;
    let reviewer = caller
        .ctx
        .actor
        .is_some_and(|a| a.org_kind == OrgKind::Supervisor);
    let access = if reviewer {
        Access::Review
    } else {
        Access::Write
    };
    let g = grant(&state, &caller, id, access).await?;
    let record = state
        .store
        .edit_finding(&caller.ctx, &g, id, number, &draft, &b.note)
        .await?;
    to_json(StatusCode::OK, record)
}

#[derive(Deserialize, ToSchema)]
pub struct FindingStepBody {
    /// accept, reject or reopen.
    step: String,
    #[serde(default)]
    note: String,
}

/// The supervisor accepts, rejects or reopens a finding.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/findings/{n}/review", tag = "report",
    params(("id" = i64, Path, description = "engagement id"), ("n" = u32, Path, description = "finding number")),
    request_body = FindingStepBody,
    responses((status = 200, description = "the finding", body = Object),
        (status = 400), (status = 403), (status = 404),
        (status = 409, description = "not a step from the finding's status; names what is allowed"),
        (status = 422)),
    security(("bearer" = [])))]
pub async fn review(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, number)): Path<(i64, u32)>,
    b: Result<Json<FindingStepBody>, JsonRejection>,
) -> Answered {
    let id = EngagementId(id);
    let b = json_body(b)?;
    let step = FindingStep::parse(&b.step)?;
    let g = grant(&state, &caller, id, Access::Review).await?;
    let record = state
        .store
        .review_finding(&caller.ctx, &g, id, number, step, &b.note)
        .await?;
    to_json(StatusCode::OK, record)
}

/// The engagement's report releases, newest first, with their files (the
/// hospital and the ministry: the delivered ones). Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/releases", tag = "report",
    params(("id" = i64, Path, description = "engagement id")),
    responses((status = 200, description = "`releases`: number, versions, created/accepted/delivered times and accounts, files (language, file, stored)", body = Object),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn releases(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let id = EngagementId(id);
    let g = grant(&state, &caller, id, Access::Read).await?;
    let releases = state.store.report_releases(&caller.ctx, &g, id).await?;
    to_json(
        StatusCode::OK,
        json!({"engagement_id": id.0, "releases": releases}),
    )
}

/// The frozen content of one release: the approved version of ① … ⑦ and
/// the accepted findings. Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/releases/{n}", tag = "report",
    params(("id" = i64, Path, description = "engagement id"), ("n" = u32, Path, description = "release number")),
    responses((status = 200, description = "the report content", body = Object),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn release(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, number)): Path<(i64, u32)>,
) -> Answered {
    let id = EngagementId(id);
    let g = grant(&state, &caller, id, Access::Read).await?;
    let content = state
        .store
        .release_content(&caller.ctx, &g, id, number)
        .await?;
    to_json(StatusCode::OK, content)
}

#[derive(Deserialize, IntoParams)]
pub struct FileQuery {
    /// ja (default) or en.
    #[serde(default)]
    lang: Option<String>,
}

/// One file of a release: `pdf`, `xlsx`, `network.drawio` or
/// `structure.drawio`, in Japanese or English. Audited as a download.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/releases/{n}/files/{file}", tag = "report",
    params(("id" = i64, Path, description = "engagement id"), ("n" = u32, Path, description = "release number"),
        ("file" = String, Path, description = "pdf, xlsx, network.drawio or structure.drawio"), FileQuery),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn file(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, number, file)): Path<(i64, u32, String)>,
    Query(query): Query<FileQuery>,
) -> Answered {
    let id = EngagementId(id);
    let file = ReportFile::parse(&file).map_err(|_| WebError::NotFound)?;
    let language = if query.lang.as_deref() == Some("en") {
        "en"
    } else {
        "ja"
    };
    let g = grant(&state, &caller, id, Access::Read).await?;
    let (stored, data) = state
        .store
        .release_file(&caller.ctx, &g, id, number, file, language)
        .await?;
    Ok(crate::pages::forms::download(&stored, data))
}
