//! 情報の返却・削除 (資料3 第5条): the secretariat hands a hospital an
//! archive of everything about it, then deletes its information, naming
//! the archive by its digest and typing the hospital's name to confirm.

use super::{Chrome, Done, forms};
use crate::error::WebError;
use crate::format;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::OrgId;
use mamori_domain::policy::{Access, HospitalData};
use serde::Deserialize;

pub struct ReturnView {
    action: String,
    at: String,
    by: String,
    digest: String,
    deleted_rows: usize,
    deleted_files: usize,
    kept_rows: usize,
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "data_return.html")]
pub struct DataReturnPage {
    chrome: Chrome,
    id: i64,
    name: String,
    returns: Vec<ReturnView>,
    /// The newest archive's digest, offered to the erasure form.
    latest_digest: String,
    error: Option<String>,
}

async fn data_return_page(
    state: &AppState,
    who: &Signed,
    id: OrgId,
    error: Option<String>,
    done: &Option<String>,
) -> Result<DataReturnPage, WebError> {
    let returns = state.store.hospital_data_returns(&who.ctx, id).await?;
    let grant = state
        .store
        .authorize(&who.ctx, id, HospitalData::EngagementSummary, Access::Read)
        .await?;
    let name = state.store.hospital_summary(&who.ctx, &grant).await?.name;
    let latest_digest = returns
        .iter()
        .find(|r| r.action == "exported")
        .map(|r| r.digest.clone())
        .unwrap_or_default();
    Ok(DataReturnPage {
        chrome: Chrome::page(state, who, "").await?.with_notice(done),
        id: id.0,
        name,
        latest_digest,
        returns: returns
            .into_iter()
            .map(|r| ReturnView {
                action: who.tr.t(&format!("return.action.{}", r.action)).to_string(),
                at: format::minutes(r.at_ms),
                by: r.by_name.unwrap_or_default(),
                deleted_rows: r.summary.deleted_row_total(),
                deleted_files: r.summary.deleted_files,
                kept_rows: r.summary.kept_row_total(),
                digest: r.digest,
                reason: r.reason,
            })
            .collect(),
        error,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<DataReturnPage, WebError> {
    data_return_page(&state, &who, OrgId(id), None, &done.done).await
}

/// The archive: made, recorded with its digest, and downloaded at once.
pub async fn archive(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    archive_download(&state, &who.ctx, OrgId(id)).await
}

/// The archive of one hospital as a zip download (page and API alike).
pub(crate) async fn archive_download(
    state: &AppState,
    ctx: &mamori_store::AuditContext,
    hospital: OrgId,
) -> Result<Response, WebError> {
    let contents = state.store.export_hospital_data(ctx, hospital).await?;
    let now = time::OffsetDateTime::now_utc();
    let bytes = mamori_documents::data_return::hospital_archive(&contents, now)
        .map_err(crate::documents::document_error)?;
    let name = format!(
        "mamori-hospital-{}-{}.zip",
        hospital.0,
        now.to_offset(mamori_store::JST).date()
    );
    Ok(forms::attachment(&name, "application/zip", bytes))
}

#[derive(Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    digest: String,
    #[serde(default)]
    confirm_name: String,
    #[serde(default)]
    reason: String,
}

pub async fn erase(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<EraseForm>,
) -> Result<Response, WebError> {
    let id = OrgId(id);
    let result = state
        .store
        .erase_hospital_data(
            &who.ctx,
            id,
            form.digest.trim(),
            &form.confirm_name,
            &form.reason,
        )
        .await;
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/hospitals/{id}/data-return?done=erased")).into_response())
        }
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = data_return_page(&state, &who, id, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}
