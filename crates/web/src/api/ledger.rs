//! A hospital's ledger and the shared device catalogue over the JSON API:
//! the same store operations as the pages, so the same policy (ledger
//! data), the same checks and the same history and audit apply.
//!
//! Records are JSON in the shape GET returns them (enum values as slugs,
//! dates as `YYYY-MM-DD`). Refusals: 400 for a body that is not a record
//! of the kind, 422 for content the rules refuse (with every field and
//! reason), 403 for the policy, 404 for what is not there, 409 for a
//! stale version or a record (or model) that others still point at.

use super::{ApiCaller, json_body};
use crate::error::{ApiError, WebError};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mamori_documents::ledger_sheets::read_tables;
use mamori_domain::OrgId;
use mamori_domain::ledger::{
    AnyRecord, Asset, Backup, CellProblem, ColumnMapping, DeviceModel, ExternalConnection,
    InvestigationEntry, LedgerKey, Link, RecordKind, RowRecord, Segment, StructureRole, TableInput,
    network_view, org_view, plan_ledger_import,
};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant, may_edit_catalogue};
use mamori_store::{AuditContext, ChangeSource, HistoryFilter, RecordMeta, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

/// Saves a record of any kind (pages and API alike).
pub async fn save_any(
    state: &AppState,
    ctx: &AuditContext,
    grant: &HospitalGrant,
    record: &AnyRecord,
    expected_version: Option<i64>,
    source: ChangeSource,
) -> Result<RecordMeta, StoreError> {
    let store = &state.store;
    match record {
        AnyRecord::Asset(r) => {
            store
                .save_ledger_record(ctx, grant, r, expected_version, source)
                .await
        }
        AnyRecord::Segment(r) => {
            store
                .save_ledger_record(ctx, grant, r, expected_version, source)
                .await
        }
        AnyRecord::Link(r) => {
            store
                .save_ledger_record(ctx, grant, r, expected_version, source)
                .await
        }
        AnyRecord::Connection(r) => {
            store
                .save_ledger_record(ctx, grant, r, expected_version, source)
                .await
        }
        AnyRecord::Investigation(r) => {
            store
                .save_ledger_record(ctx, grant, r, expected_version, source)
                .await
        }
        AnyRecord::Backup(r) => {
            store
                .save_ledger_record(ctx, grant, r, expected_version, source)
                .await
        }
        AnyRecord::Role(r) => {
            store
                .save_ledger_record(ctx, grant, r, expected_version, source)
                .await
        }
    }
}

/// 422 with every problem of the record.
fn unprocessable(message: String, problems: &[CellProblem]) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "error": "unprocessable",
            "message": message,
            "problems": problems,
        })),
    )
        .into_response()
}

/// A store refusal: content problems as 422, the rest as the API answers.
fn refused(err: StoreError) -> Response {
    match err {
        StoreError::Invalid(e) => {
            let problem = CellProblem::from(e);
            unprocessable(problem.to_string(), std::slice::from_ref(&problem))
        }
        other => ApiError::from(other).into_response(),
    }
}

fn kind_param(slug: &str) -> Result<RecordKind, ApiError> {
    RecordKind::parse(slug).map_err(|_| ApiError(WebError::NotFound))
}

fn key_param(text: &str) -> Result<LedgerKey, ApiError> {
    LedgerKey::parse(text).map_err(|_| ApiError(WebError::NotFound))
}

#[derive(Serialize, ToSchema)]
pub struct MetaBody {
    kind: String,
    key: String,
    version: i64,
    updated_at_ms: i64,
    confirmed_at_ms: Option<i64>,
}

fn meta_body(kind: RecordKind, key: &LedgerKey, m: &RecordMeta) -> MetaBody {
    MetaBody {
        kind: kind.slug().into(),
        key: key.to_string(),
        version: m.version,
        updated_at_ms: m.updated_at_ms,
        confirmed_at_ms: m.confirmed_at_ms,
    }
}

async fn grant(
    state: &AppState,
    caller: &ApiCaller,
    id: i64,
    access: Access,
) -> Result<HospitalGrant, ApiError> {
    Ok(state
        .store
        .authorize(&caller.ctx, OrgId(id), HospitalData::Ledger, access)
        .await?)
}

#[derive(Deserialize, IntoParams)]
pub struct AsOfQuery {
    /// `YYYY-MM-DD`: the ledger as it stood at the end of that day (Japan
    /// time), rebuilt from the history: what was known when.
    as_of: Option<String>,
}

/// The whole ledger with each record's version, or as it stood at the end
/// of a day (`?as_of=`). Audited.
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/ledger", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id"), AsOfQuery),
    responses((status = 200, description = "`ledger`: assets, segments, links, connections, investigations, backups, roles; `meta`: version and confirmation of each record (not with `as_of`)"),
        (status = 400, description = "`as_of` is not a date"),
        (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn get_ledger(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Query(query): Query<AsOfQuery>,
) -> Result<Json<Value>, ApiError> {
    if let Some(day) = query.as_of.as_deref() {
        let start = crate::format::date_start_ms(day).ok_or_else(|| {
            WebError::BadRequest(format!("as_of: `{day}` is not a date (YYYY-MM-DD)"))
        })?;
        let end_of_day = start + 24 * 60 * 60 * 1000 - 1;
        let g = grant(&state, &caller, id, Access::Read).await?;
        let ledger = state
            .store
            .ledger_as_of(&caller.ctx, &g, end_of_day)
            .await?;
        return Ok(Json(json!({
            "hospital_id": id,
            "as_of": day,
            "ledger": ledger,
        })));
    }
    let g = grant(&state, &caller, id, Access::Read).await?;
    let stored = state.store.ledger(&caller.ctx, &g).await?;
    let meta: Vec<MetaBody> = stored
        .meta
        .iter()
        .map(|((kind, key), m)| meta_body(*kind, key, m))
        .collect();
    Ok(Json(json!({
        "hospital_id": id,
        "ledger": stored.ledger,
        "meta": meta,
    })))
}

#[derive(Deserialize, IntoParams)]
pub struct RecordsQuery {
    /// At most this many (1–1000), in ledger order; the total is in the
    /// `X-Total-Count` header. Without it, every record of the kind.
    limit: Option<usize>,
    /// Skip this many first (with `limit`).
    offset: Option<usize>,
}

/// The records of one kind (asset, segment, link, connection,
/// investigation, backup, role), all or one page of them; only that kind is
/// read. Audited.
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/ledger/{kind}", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id"),
        ("kind" = String, Path, description = "asset, segment, link, connection, investigation, backup or role"),
        RecordsQuery),
    responses((status = 200, description = "the records, in ledger order; `X-Total-Count`: how many the kind has"), (status = 403, description = "the policy refuses"), (status = 404, description = "no such kind")),
    security(("bearer" = [])))]
pub async fn list_records(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind)): Path<(i64, String)>,
    Query(q): Query<RecordsQuery>,
) -> Result<Response, ApiError> {
    let kind = kind_param(&kind)?;
    let g = grant(&state, &caller, id, Access::Read).await?;
    let paging = match q.limit {
        Some(limit) => mamori_store::Paging {
            offset: q.offset.unwrap_or(0),
            limit: limit.clamp(1, 1000),
        },
        None => mamori_store::Paging::ALL,
    };
    let page = state
        .store
        .ledger_table(&caller.ctx, &g, kind, paging)
        .await?;
    let records: Vec<AnyRecord> = page.records.into_iter().map(|(r, _)| r).collect();
    Ok(([("x-total-count", page.total.to_string())], Json(records)).into_response())
}

/// One record and its version. Audited.
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/ledger/{kind}/{key}", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id"), ("kind" = String, Path), ("key" = String, Path)),
    responses((status = 200, description = "`record` and `meta`"), (status = 403, description = "the policy refuses"), (status = 404, description = "no such record")),
    security(("bearer" = [])))]
pub async fn get_record(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind, key)): Path<(i64, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let kind = kind_param(&kind)?;
    let key = key_param(&key)?;
    let g = grant(&state, &caller, id, Access::Read).await?;
    let stored = state.store.ledger(&caller.ctx, &g).await?;
    let record = stored
        .ledger
        .record(kind, &key)
        .ok_or(ApiError(WebError::NotFound))?;
    let meta = stored.meta_of(kind, &key).map(|m| meta_body(kind, &key, m));
    Ok(Json(json!({ "record": record, "meta": meta })))
}

#[derive(Deserialize, IntoParams)]
pub struct VersionQuery {
    /// The version the change was made from; a newer stored one is 409.
    version: Option<i64>,
}

/// The record, or why not with the field at fault named (`name: invalid type …`).
fn typed<R: RowRecord>(body: Value) -> Result<R, String> {
    serde_path_to_error::deserialize::<_, R>(body).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })
}

/// Why a JSON body is not a record.
enum NotARecord {
    /// Not the shape of the kind (400).
    Shape(String),
    /// The shape, but content the rules refuse (422).
    Problems(Vec<CellProblem>),
}

impl NotARecord {
    fn into_response(self) -> Response {
        match self {
            NotARecord::Shape(message) => ApiError(WebError::BadRequest(message)).into_response(),
            NotARecord::Problems(problems) => {
                let message = problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                unprocessable(message, &problems)
            }
        }
    }
}

/// Reads a record of `kind` from JSON, then checks it by the same rules as
/// a spreadsheet row.
fn record_from_json(kind: RecordKind, body: Value) -> Result<AnyRecord, NotARecord> {
    if let Some(unknown) = body.as_object().and_then(|fields| {
        fields
            .keys()
            .find(|k| !kind.columns().iter().any(|c| c.field == k.as_str()))
    }) {
        return Err(NotARecord::Shape(format!(
            "not a {} record: unknown field `{unknown}`",
            kind.slug()
        )));
    }
    let record = match kind {
        RecordKind::Asset => typed::<Asset>(body).map(AnyRecord::Asset),
        RecordKind::Segment => typed::<Segment>(body).map(AnyRecord::Segment),
        RecordKind::Link => typed::<Link>(body).map(AnyRecord::Link),
        RecordKind::Connection => typed::<ExternalConnection>(body).map(AnyRecord::Connection),
        RecordKind::Investigation => {
            typed::<InvestigationEntry>(body).map(AnyRecord::Investigation)
        }
        RecordKind::Backup => typed::<Backup>(body).map(AnyRecord::Backup),
        RecordKind::Role => typed::<StructureRole>(body).map(AnyRecord::Role),
    }
    .map_err(|e| NotARecord::Shape(format!("not a {} record: {e}", kind.slug())))?;
    // Normalised and checked through its cells, the one reader of records.
    let map = kind
        .columns()
        .iter()
        .map(|c| c.field.to_string())
        .zip(record.to_cells())
        .collect();
    AnyRecord::from_map(kind, &map).map_err(NotARecord::Problems)
}

/// Creates or replaces one record; the key in the body must be the key in
/// the path. History and audit record who, when, before and after.
#[utoipa::path(put, path = "/api/v1/hospitals/{id}/ledger/{kind}/{key}", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id"), ("kind" = String, Path), ("key" = String, Path), VersionQuery),
    request_body(content = Object, description = "the record, in the shape GET returns it"),
    responses((status = 200, body = MetaBody), (status = 400, description = "not a record of this kind"),
        (status = 403, description = "the policy refuses"), (status = 409, description = "the stored version is newer"),
        (status = 422, description = "a field is refused: `problems` names each field and why")),
    security(("bearer" = [])))]
pub async fn put_record(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind, key)): Path<(i64, String, String)>,
    Query(query): Query<VersionQuery>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let kind = kind_param(&kind)?;
    let key = key_param(&key)?;
    let g = grant(&state, &caller, id, Access::Write).await?;
    let body = json_body(body)?;
    let record = match record_from_json(kind, body) {
        Ok(record) => record,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    if record.key() != &key {
        return Err(ApiError(WebError::BadRequest(format!(
            "the body's key `{}` is not the key in the path `{key}`",
            record.key()
        ))));
    }
    match save_any(
        &state,
        &caller.ctx,
        &g,
        &record,
        query.version,
        ChangeSource::Api,
    )
    .await
    {
        Ok(meta) => Ok(Json(meta_body(kind, &key, &meta)).into_response()),
        Err(e) => Ok(refused(e)),
    }
}

/// Deletes a record; its history keeps it. Refused (409, naming them)
/// while other records point at it.
#[utoipa::path(delete, path = "/api/v1/hospitals/{id}/ledger/{kind}/{key}", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id"), ("kind" = String, Path), ("key" = String, Path), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 403, description = "the policy refuses"), (status = 404, description = "no such record"),
        (status = 409, description = "stale version, or other records still point at it (named in `message`)")),
    security(("bearer" = [])))]
pub async fn delete_record(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind, key)): Path<(i64, String, String)>,
    Query(query): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    let kind = kind_param(&kind)?;
    let key = key_param(&key)?;
    let g = grant(&state, &caller, id, Access::Write).await?;
    match state
        .store
        .delete_ledger_record(
            &caller.ctx,
            &g,
            kind,
            &key,
            query.version,
            ChangeSource::Api,
        )
        .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) => Ok(refused(e)),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// The kind of a CSV file's rows; a workbook's sheets are told by name.
    kind: Option<String>,
    /// `true`: plan only, change nothing.
    #[serde(default)]
    dry_run: bool,
    /// `true`: import the good rows and leave the rejected ones out.
    #[serde(default)]
    skip_rejected: bool,
}

/// Imports a CSV or Excel file (the request body) with the columns told
/// by their headers. Answers the plan: per table what is created, updated
/// or unchanged and every rejected row with its row, column and reason.
/// Nothing is written when a row is rejected unless `skip_rejected`.
#[utoipa::path(post, path = "/api/v1/hospitals/{id}/ledger/import", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id"), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the CSV or .xlsx file"),
    responses((status = 200, description = "`imported` and the plan's `tables`"), (status = 403, description = "the policy refuses"),
        (status = 422, description = "not a table, or rows rejected (`tables` lists them)")),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Asked first (and a refusal audited), even for a dry run: an import
    // is a write.
    grant(&state, &caller, id, Access::Write).await?;
    let csv_kind = match query.kind.as_deref() {
        None | Some("") => None,
        Some(slug) => {
            Some(RecordKind::parse(slug).map_err(|e| WebError::BadRequest(e.to_string()))?)
        }
    };
    let tables = match read_tables(&body) {
        Ok(tables) => tables,
        Err(e) => {
            let message = match crate::documents::document_error(e) {
                WebError::BadRequest(m) => m,
                other => return Err(ApiError(other)),
            };
            return Ok(unprocessable(message, &[]));
        }
    };
    let inputs: Vec<TableInput> = tables
        .iter()
        .filter_map(|t| {
            let kind = t.kind().or(csv_kind)?;
            Some(TableInput {
                name: t.name.clone(),
                kind,
                mapping: ColumnMapping::infer(&t.headers, kind.columns()),
                rows: &t.rows,
            })
        })
        .collect();
    if inputs.is_empty() {
        return Ok(unprocessable(
            "no table of a known kind: name the sheets after the kinds, or give ?kind= for a CSV file".into(),
            &[],
        ));
    }
    let missing: Vec<String> = inputs
        .iter()
        .filter_map(|i| {
            let missing = i.mapping.missing_required(i.kind.columns());
            (!missing.is_empty()).then(|| {
                format!(
                    "{}: {}",
                    i.name,
                    missing
                        .iter()
                        .map(|c| c.field)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect();
    if !missing.is_empty() {
        return Ok(unprocessable(
            format!("required columns missing: {}", missing.join("; ")),
            &[],
        ));
    }
    // The plan reads the ledger as it stands, which takes a read grant.
    let read = grant(&state, &caller, id, Access::Read).await?;
    let current = state.store.ledger(&caller.ctx, &read).await?.ledger;
    let plan = plan_ledger_import(&inputs, &current);
    let rejected = plan.rejected_rows();
    let body = |imported: bool| json!({ "imported": imported, "tables": plan.tables });
    if query.dry_run {
        return Ok(Json(body(false)).into_response());
    }
    if rejected > 0 && !query.skip_rejected {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body(false))).into_response());
    }
    let g = grant(&state, &caller, id, Access::Write).await?;
    match state
        .store
        .import_ledger(&caller.ctx, &g, &plan.incoming, ChangeSource::Api)
        .await
    {
        Ok(_) => Ok(Json(body(true)).into_response()),
        Err(e) => Ok(refused(e)),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryQuery {
    kind: Option<String>,
    key: Option<String>,
    /// At most this many changes, newest first (default 200).
    limit: Option<i64>,
}

/// Every change to the ledger, newest first: who, when, before and after.
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/ledger/history", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id"), HistoryQuery),
    responses((status = 200, description = "changes, newest first"), (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = HistoryFilter {
        kind: query.kind.as_deref().map(kind_param).transpose()?,
        key: query.key.as_deref().map(key_param).transpose()?,
    };
    let g = grant(&state, &caller, id, Access::Read).await?;
    let changes = state
        .store
        .ledger_history(&caller.ctx, &g, &filter, query.limit.unwrap_or(200))
        .await?;
    Ok(Json(json!(changes)))
}

/// What the network overview shows (segments, boxes with identical
/// terminals folded, links, external connections).
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/ledger/network", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id")),
    responses((status = 200, description = "groups, nodes, edges, externals"), (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn network(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let g = grant(&state, &caller, id, Access::Read).await?;
    let ledger = state.store.ledger(&caller.ctx, &g).await?.ledger;
    Ok(Json(json!(network_view(&ledger))))
}

/// What the management structure chart shows.
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/ledger/structure", tag = "ledger",
    params(("id" = i64, Path, description = "hospital organisation id")),
    responses((status = 200, description = "nodes, reporting lines, incident contact chain"), (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn structure(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let g = grant(&state, &caller, id, Access::Read).await?;
    let ledger = state.store.ledger(&caller.ctx, &g).await?.ledger;
    Ok(Json(json!(org_view(&ledger))))
}

/// The shared device catalogue.
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "catalogue",
    responses((status = 200, description = "models with their versions"), (status = 403, description = "vendors do not read the catalogue")),
    security(("bearer" = [])))]
pub async fn catalogue(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    let models = state.store.device_models(&caller.ctx).await?;
    Ok(Json(json!(
        models
            .iter()
            .map(|m| json!({ "model": m.model, "version": m.version, "updated_at_ms": m.updated_at_ms }))
            .collect::<Vec<_>>()
    )))
}

/// Creates or replaces a catalogue model (secretariat only).
#[utoipa::path(put, path = "/api/v1/catalogue/{key}", tag = "catalogue",
    params(("key" = String, Path), VersionQuery),
    request_body(content = Object, description = "the model, in the shape GET returns it"),
    responses((status = 200, description = "saved"), (status = 403, description = "only the secretariat edits the catalogue"),
        (status = 409, description = "stale version"), (status = 422, description = "a field is refused")),
    security(("bearer" = [])))]
pub async fn put_model(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    Query(query): Query<VersionQuery>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    // The policy first: others are refused whatever they sent.
    if !may_edit_catalogue(&caller.account.actor()) {
        return Err(ApiError(WebError::Forbidden));
    }
    let key = key_param(&key)?;
    let body = json_body(body)?;
    let model: DeviceModel =
        typed(body).map_err(|e| WebError::BadRequest(format!("not a catalogue model: {e}")))?;
    let model = match model.checked() {
        Ok(model) => model,
        Err(problems) => return Ok(NotARecord::Problems(problems).into_response()),
    };
    if model.key != key {
        return Err(ApiError(WebError::BadRequest(format!(
            "the body's key `{}` is not the key in the path `{key}`",
            model.key
        ))));
    }
    match state
        .store
        .save_device_model(&caller.ctx, &model, query.version)
        .await
    {
        Ok(saved) => {
            Ok(Json(json!({ "model": saved.model, "version": saved.version })).into_response())
        }
        Err(e) => Ok(refused(e)),
    }
}

/// Deletes a catalogue model no hospital's asset points at.
#[utoipa::path(delete, path = "/api/v1/catalogue/{key}", tag = "catalogue",
    params(("key" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 403, description = "only the secretariat edits the catalogue"),
        (status = 404, description = "no such model"), (status = 409, description = "assets still point at it")),
    security(("bearer" = [])))]
pub async fn delete_model(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let key = key_param(&key)?;
    match state.store.delete_device_model(&caller.ctx, &key).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) => Ok(refused(e)),
    }
}
