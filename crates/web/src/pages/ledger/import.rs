//! Importing a CSV or Excel file into a hospital's ledger: a preview that
//! changes nothing (the column mapping, what would be created, updated or
//! left as it is, every rejected row with its row, column and reason),
//! then the import, all or nothing unless the rejected rows are skipped.
//! The uploaded file is kept, so the import can be traced back to it.

use super::{LedgerRead, XLSX_TYPE, read_ledger};
use crate::error::WebError;
use crate::i18n::Tr;
use crate::pages::{Chrome, forms};
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_documents::checklist::column_letter;
use mamori_documents::ledger_sheets::{Table, read_tables};
use mamori_domain::OrgId;
use mamori_domain::ledger::{
    ColumnMapping, LedgerImportPlan, RecordKind, TableInput, plan_ledger_import,
};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::ChangeSource;

pub struct HeaderView {
    pub index: usize,
    pub letter: String,
    pub text: String,
    pub field: String,
}

pub struct RejectedView {
    pub row: u32,
    pub column: String,
    pub field: String,
    pub reason: String,
}

pub struct TableView {
    pub index: usize,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub headers: Vec<HeaderView>,
    pub fields: Vec<(&'static str, &'static str)>,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected_rows: usize,
    pub rejected: Vec<RejectedView>,
    pub missing: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "ledger_import.html")]
pub struct ImportPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    kinds: Vec<(&'static str, &'static str)>,
    /// The kind chosen for a CSV file ("" = by sheet name).
    kind: String,
    /// The kept upload, once a file was read.
    upload: Option<(i64, String)>,
    tables: Vec<TableView>,
    ignored: Vec<String>,
    skip_rejected: bool,
    error: Option<String>,
    max_mb: usize,
}

fn import_page(chrome: Chrome, id: i64, read: &LedgerRead) -> ImportPage {
    let tr = chrome.tr;
    ImportPage {
        kinds: RecordKind::ALL
            .iter()
            .map(|k| (k.slug(), k.label(tr.code())))
            .collect(),
        id,
        hospital: read.hospital.clone(),
        kind: String::new(),
        upload: None,
        tables: Vec::new(),
        ignored: Vec::new(),
        skip_rejected: false,
        error: None,
        max_mb: mamori_documents::ledger_sheets::MAX_TABLE_BYTES / (1024 * 1024),
        chrome,
    }
}

pub async fn form(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<ImportPage, WebError> {
    // Asked (and a refusal audited) before anything of the ledger is read.
    state
        .store
        .authorize(&who.ctx, OrgId(id), HospitalData::Ledger, Access::Write)
        .await?;
    let read = read_ledger(&state, &who, OrgId(id)).await?;
    let chrome = Chrome::page(&state, &who, "").await?;
    Ok(import_page(chrome, id, &read))
}

/// The tables an upload holds, each with its kind and mapping; tables
/// whose kind cannot be told are returned by name.
fn assign<'a>(
    tables: &'a [Table],
    csv_kind: Option<RecordKind>,
    upload: &forms::UploadForm,
) -> Result<(Vec<TableInput<'a>>, Vec<String>), WebError> {
    let mut inputs = Vec::new();
    let mut ignored = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        let chosen = upload.text(&format!("kind.{t}"));
        let kind = if !chosen.is_empty() {
            Some(RecordKind::parse(chosen).map_err(|e| WebError::BadRequest(e.to_string()))?)
        } else {
            table.kind().or(csv_kind)
        };
        let Some(kind) = kind else {
            ignored.push(table.name.clone());
            continue;
        };
        let choices: Vec<(usize, String)> = (0..table.headers.len())
            .filter_map(|c| {
                let key = format!("map.{t}.{c}");
                upload.fields.get(&key).map(|v| (c, v.clone()))
            })
            .collect();
        let mapping = ColumnMapping::infer(&table.headers, kind.columns())
            .with_choices(kind.columns(), &choices)
            .map_err(|e| WebError::BadRequest(format!("{}: {e}", table.name)))?;
        inputs.push(TableInput {
            name: table.name.clone(),
            kind,
            mapping,
            rows: &table.rows,
        });
    }
    Ok((inputs, ignored))
}

fn table_views(
    tr: Tr,
    tables: &[Table],
    inputs: &[TableInput],
    plan: &LedgerImportPlan,
) -> Vec<TableView> {
    inputs
        .iter()
        .zip(plan.tables.iter())
        .map(|(input, planned)| {
            let index = tables
                .iter()
                .position(|t| t.name == input.name)
                .unwrap_or(0);
            let table = &tables[index];
            let columns = input.kind.columns();
            let label = |field: &str| {
                columns
                    .iter()
                    .find(|c| c.field == field)
                    .map_or_else(|| field.to_string(), |c| c.label(tr.code()).to_string())
            };
            TableView {
                index,
                name: input.name.clone(),
                kind: input.kind.slug().to_string(),
                kind_label: input.kind.label(tr.code()).to_string(),
                headers: table
                    .headers
                    .iter()
                    .enumerate()
                    .map(|(c, text)| HeaderView {
                        index: c,
                        letter: column_letter(c as u32),
                        text: text.clone(),
                        field: input
                            .mapping
                            .fields
                            .get(c)
                            .copied()
                            .flatten()
                            .unwrap_or("")
                            .to_string(),
                    })
                    .collect(),
                fields: columns
                    .iter()
                    .map(|c| (c.field, c.label(tr.code())))
                    .collect(),
                rows: table.rows.len(),
                created: planned.created,
                updated: planned.updated,
                unchanged: planned.unchanged,
                rejected_rows: planned.rejected_rows(),
                rejected: planned
                    .rejected
                    .iter()
                    .map(|r| RejectedView {
                        row: r.row,
                        column: r
                            .column
                            .map(|c| {
                                let header = table.headers.get(c).cloned().unwrap_or_default();
                                format!("{}（{header}）", column_letter(c as u32))
                            })
                            .unwrap_or_default(),
                        field: label(r.field),
                        reason: r.reason.clone(),
                    })
                    .collect(),
                missing: input
                    .mapping
                    .missing_required(columns)
                    .iter()
                    .map(|c| c.label(tr.code()).to_string())
                    .collect(),
            }
        })
        .collect()
}

/// Reads the upload (a new file, or the one kept from the preview), plans
/// it, and previews or imports it.
pub async fn submit(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let tr = who.tr;
    let hospital = OrgId(id);
    let mut upload = forms::read_upload(multipart, "file").await?;
    state
        .store
        .authorize(&who.ctx, hospital, HospitalData::Ledger, Access::Write)
        .await?;
    let read = read_ledger(&state, &who, hospital).await?;
    let chrome = Chrome::page(&state, &who, "").await?;
    let mut page = import_page(chrome, id, &read);
    page.kind = upload.text("kind").to_string();
    page.skip_rejected = upload.text("skip_rejected") == "on";
    let refuse = |mut page: ImportPage, status: StatusCode, message: String| {
        page.error = Some(message);
        Ok((status, page).into_response())
    };
    let csv_kind = match page.kind.as_str() {
        "" => None,
        slug => match RecordKind::parse(slug) {
            Ok(kind) => Some(kind),
            Err(e) => return refuse(page, StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        },
    };
    // The file: kept on first upload, read back by its id afterwards.
    let (stored, bytes) = match upload.file.take() {
        Some(file) => {
            if let Err(e) = read_tables(&file.data) {
                let WebError::BadRequest(message) = crate::documents::document_error(e) else {
                    return Err(WebError::Internal("table upload".into()));
                };
                return refuse(
                    page,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{}: {message}", file.name),
                );
            }
            let grant = state
                .store
                .authorize(&who.ctx, hospital, HospitalData::Ledger, Access::Write)
                .await?;
            let kept = state
                .store
                .keep_ledger_upload(&who.ctx, &grant, file)
                .await?;
            let grant = state
                .store
                .authorize(&who.ctx, hospital, HospitalData::Ledger, Access::Read)
                .await?;
            state.store.ledger_upload(&who.ctx, &grant, kept.id).await?
        }
        None => match upload.text("upload").parse::<i64>() {
            Ok(kept) => {
                let grant = state
                    .store
                    .authorize(&who.ctx, hospital, HospitalData::Ledger, Access::Read)
                    .await?;
                state.store.ledger_upload(&who.ctx, &grant, kept).await?
            }
            Err(_) => {
                return refuse(
                    page,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    tr.t("ledger_import.no_file").to_string(),
                );
            }
        },
    };
    page.upload = Some((stored.id, stored.name.clone()));
    let tables = read_tables(&bytes).map_err(crate::documents::document_error)?;
    let (inputs, ignored) = match assign(&tables, csv_kind, &upload) {
        Ok(assigned) => assigned,
        Err(WebError::BadRequest(message)) => {
            return refuse(page, StatusCode::UNPROCESSABLE_ENTITY, message);
        }
        Err(other) => return Err(other),
    };
    page.ignored = ignored;
    let plan = plan_ledger_import(&inputs, &read.stored.ledger);
    page.tables = table_views(tr, &tables, &inputs, &plan);
    if inputs.is_empty() {
        return refuse(
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("ledger_import.no_kind").to_string(),
        );
    }
    let missing: Vec<String> = page
        .tables
        .iter()
        .filter(|t| !t.missing.is_empty())
        .map(|t| format!("{}: {}", t.name, t.missing.join("、")))
        .collect();
    if !missing.is_empty() {
        let message = format!("{} {}", tr.t("ledger_import.missing"), missing.join(" / "));
        return refuse(page, StatusCode::UNPROCESSABLE_ENTITY, message);
    }
    if upload.text("action") != "import" {
        return Ok(page.into_response());
    }
    let rejected = plan.rejected_rows();
    if rejected > 0 && !page.skip_rejected {
        let message = tr
            .t("ledger_import.refused_rows")
            .replace("{n}", &rejected.to_string());
        return refuse(page, StatusCode::UNPROCESSABLE_ENTITY, message);
    }
    let grant = state
        .store
        .authorize(&who.ctx, hospital, HospitalData::Ledger, Access::Write)
        .await?;
    match state
        .store
        .import_ledger(&who.ctx, &grant, &plan.incoming, ChangeSource::Import)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/hospitals/{id}/ledger?done=ledger_imported")).into_response(),
        ),
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            refuse(page, refusal.status, refusal.message)
        }
    }
}

/// An empty workbook in the shape the import reads: a sheet per kind with
/// its headers, for a hospital to fill in.
pub async fn template(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let read = read_ledger(&state, &who, OrgId(id)).await?;
    let empty = mamori_domain::ledger::Ledger::default();
    let bytes = mamori_documents::ledger_sheets::ledger_workbook(&empty, who.tr.code())
        .map_err(crate::documents::document_error)?;
    Ok(forms::attachment(
        &format!(
            "{}-{}.xlsx",
            read.hospital,
            who.tr.t("ledger_import.template")
        ),
        XLSX_TYPE,
        bytes,
    ))
}
