//! The shared device catalogue (機種カタログ): model-level facts the
//! secretariat keeps once, so hospital assets point at them and an advisory
//! later matches once per model. Everyone engaged reads it; only the
//! secretariat changes it.

use super::ledger::{FieldView, display_cell, input_of, problem_lines_for};
use super::{Chrome, Done, forms};
use crate::error::WebError;
use crate::format;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_documents::ledger_sheets::{read_tables, records_csv};
use mamori_domain::ledger::{
    CellProblem, Cells, ColumnMapping, DeviceModel, LedgerKey, RowRecord, read_rows,
};
use mamori_domain::organisation::OrgKind;
use serde::Deserialize;
use std::collections::BTreeMap;

fn is_secretariat(who: &Signed) -> bool {
    who.account.org_kind == OrgKind::Secretariat
}

pub struct ModelRow {
    pub key: String,
    pub cells: Vec<String>,
    pub in_use: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalogue.html")]
pub struct CataloguePage {
    chrome: Chrome,
    heads: Vec<&'static str>,
    rows: Vec<ModelRow>,
    can_write: bool,
    error: Option<String>,
    rejected: Vec<(u32, String, String)>,
}

async fn catalogue_page(
    state: &AppState,
    who: &Signed,
    done: &Option<String>,
) -> Result<CataloguePage, WebError> {
    let tr = who.tr;
    let models = state.store.device_models(&who.ctx).await?;
    let in_use = if is_secretariat(who) {
        state.store.models_in_use(&who.ctx).await?
    } else {
        BTreeMap::new()
    };
    let columns = DeviceModel::COLUMNS;
    Ok(CataloguePage {
        chrome: Chrome::page(state, who, "/catalogue")
            .await?
            .with_notice(done),
        heads: columns.iter().map(|c| c.label(tr.code())).collect(),
        rows: models
            .iter()
            .map(|m| ModelRow {
                key: m.model.key.to_string(),
                cells: m
                    .model
                    .to_cells()
                    .iter()
                    .zip(columns)
                    .map(|(text, c)| display_cell(tr, c, text))
                    .collect(),
                in_use: in_use.get(&m.model.key).copied().unwrap_or(0),
            })
            .collect(),
        can_write: is_secretariat(who),
        error: None,
        rejected: Vec::new(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct CatalogueQuery {
    pub done: Option<String>,
    pub format: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Signed,
    Query(query): Query<CatalogueQuery>,
) -> Result<Response, WebError> {
    match query.format.as_deref() {
        None | Some("html") => Ok(catalogue_page(&state, &who, &query.done)
            .await?
            .into_response()),
        Some("csv") => {
            let models: Vec<DeviceModel> = state
                .store
                .device_models(&who.ctx)
                .await?
                .into_iter()
                .map(|m| m.model)
                .collect();
            let bytes =
                records_csv(&models, who.tr.code()).map_err(crate::documents::document_error)?;
            Ok(forms::attachment(
                &format!("{}.csv", who.tr.t("catalogue.title")),
                "text/csv; charset=utf-8",
                bytes,
            ))
        }
        Some(_) => Err(WebError::NotFound),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "catalogue_model.html")]
pub struct ModelPage {
    chrome: Chrome,
    key: Option<String>,
    version: String,
    updated: String,
    in_use: usize,
    fields: Vec<FieldView>,
    can_write: bool,
    error: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn model_page(
    state: &AppState,
    who: &Signed,
    key: Option<&LedgerKey>,
    values: Option<BTreeMap<String, String>>,
    problems: &[CellProblem],
    error: Option<String>,
    done: &Option<String>,
) -> Result<ModelPage, WebError> {
    let tr = who.tr;
    let stored = match key {
        Some(key) => Some(state.store.device_model(&who.ctx, key).await?),
        None => None,
    };
    let values = values.unwrap_or_else(|| match &stored {
        Some(s) => DeviceModel::COLUMNS
            .iter()
            .map(|c| c.field.to_string())
            .zip(s.model.to_cells())
            .collect(),
        None => BTreeMap::new(),
    });
    let in_use = match (key, is_secretariat(who)) {
        (Some(key), true) => state
            .store
            .models_in_use(&who.ctx)
            .await?
            .get(key)
            .copied()
            .unwrap_or(0),
        _ => 0,
    };
    let fields = DeviceModel::COLUMNS
        .iter()
        .map(|c| {
            let (input, options) = input_of(tr, c, Vec::new());
            FieldView {
                field: c.field,
                label: c.label(tr.code()),
                required: c.required,
                input,
                value: values.get(c.field).cloned().unwrap_or_default(),
                options,
                error: problems
                    .iter()
                    .find(|p| p.field == c.field)
                    .map(|p| p.reason.clone()),
            }
        })
        .collect();
    Ok(ModelPage {
        chrome: Chrome::page(state, who, "/catalogue")
            .await?
            .with_notice(done),
        key: key.map(|k| k.to_string()),
        version: stored
            .as_ref()
            .map(|s| s.version.to_string())
            .unwrap_or_default(),
        updated: stored
            .as_ref()
            .map(|s| format::minutes(s.updated_at_ms))
            .unwrap_or_default(),
        in_use,
        fields,
        can_write: is_secretariat(who),
        error,
    })
}

pub async fn new_model(State(state): State<AppState>, who: Signed) -> Result<ModelPage, WebError> {
    if !is_secretariat(&who) {
        return Err(WebError::Forbidden);
    }
    model_page(&state, &who, None, None, &[], None, &None).await
}

pub async fn show_model(
    State(state): State<AppState>,
    who: Signed,
    Path(key): Path<String>,
    Query(done): Query<Done>,
) -> Result<ModelPage, WebError> {
    let key = LedgerKey::parse(&key).map_err(|_| WebError::NotFound)?;
    model_page(&state, &who, Some(&key), None, &[], None, &done.done).await
}

pub async fn save_model(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    if !is_secretariat(&who) {
        return Err(WebError::Forbidden);
    }
    let tr = who.tr;
    let original = form
        .get("original")
        .filter(|o| !o.is_empty())
        .and_then(|o| LedgerKey::parse(o).ok());
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let model = match DeviceModel::from_cells(&Cells::from_map::<DeviceModel>(&form)) {
        Ok(model) => model,
        Err(problems) => {
            let message = problem_lines_for(tr, DeviceModel::COLUMNS, &problems);
            let page = model_page(
                &state,
                &who,
                original.as_ref(),
                Some(form),
                &problems,
                Some(message),
                &None,
            )
            .await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let expected = if original.as_ref() == Some(&model.key) {
        version
    } else {
        None
    };
    match state
        .store
        .save_device_model(&who.ctx, &model, expected)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/catalogue/{}?done=saved", model.key)).into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            let page = model_page(
                &state,
                &who,
                original.as_ref(),
                Some(form),
                &[],
                Some(refusal.message),
                &None,
            )
            .await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

pub async fn delete_model(
    State(state): State<AppState>,
    who: Signed,
    Path(key): Path<String>,
) -> Result<Response, WebError> {
    if !is_secretariat(&who) {
        return Err(WebError::Forbidden);
    }
    let key = LedgerKey::parse(&key).map_err(|_| WebError::NotFound)?;
    match state.store.delete_device_model(&who.ctx, &key).await {
        Ok(()) => Ok(Redirect::to("/catalogue?done=deleted").into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = model_page(
                &state,
                &who,
                Some(&key),
                None,
                &[],
                Some(refusal.message),
                &None,
            )
            .await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

/// Imports models from a CSV or Excel file (first table); all or nothing
/// unless the rejected rows are skipped.
pub async fn import(
    State(state): State<AppState>,
    who: Signed,
    multipart: Multipart,
) -> Result<Response, WebError> {
    if !is_secretariat(&who) {
        return Err(WebError::Forbidden);
    }
    let tr = who.tr;
    let mut upload = forms::read_upload(multipart, "file").await?;
    let skip = upload.text("skip_rejected") == "on";
    let mut page = catalogue_page(&state, &who, &None).await?;
    let Some(file) = upload.file.take() else {
        page.error = Some(tr.t("ledger_import.no_file").to_string());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let tables = match read_tables(&file.data) {
        Ok(tables) => tables,
        Err(e) => {
            let WebError::BadRequest(message) = crate::documents::document_error(e) else {
                return Err(WebError::Internal("catalogue upload".into()));
            };
            page.error = Some(format!("{}: {message}", file.name));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let Some(table) = tables.first() else {
        return Err(WebError::BadRequest("no table".into()));
    };
    let mapping = ColumnMapping::infer(&table.headers, DeviceModel::COLUMNS);
    let missing = mapping.missing_required(DeviceModel::COLUMNS);
    if !missing.is_empty() {
        page.error = Some(format!(
            "{} {}",
            tr.t("ledger_import.missing"),
            missing
                .iter()
                .map(|c| c.label(tr.code()))
                .collect::<Vec<_>>()
                .join("、")
        ));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let (accepted, rejected) = read_rows::<DeviceModel>(&mapping, &table.rows);
    if !rejected.is_empty() && !skip {
        page.rejected = rejected
            .iter()
            .map(|r| {
                let label = DeviceModel::COLUMNS
                    .iter()
                    .find(|c| c.field == r.field)
                    .map_or(r.field, |c| c.label(tr.code()));
                (r.row, label.to_string(), r.reason.clone())
            })
            .collect();
        page.error = Some(
            tr.t("ledger_import.refused_rows")
                .replace("{n}", &page.rejected.len().to_string()),
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let models = accepted.into_iter().map(|(_, m)| m).collect();
    match state.store.import_device_models(&who.ctx, models).await {
        Ok(_) => Ok(Redirect::to("/catalogue?done=catalogue_imported").into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            page.error = Some(refusal.message);
            Ok((refusal.status, page).into_response())
        }
    }
}
