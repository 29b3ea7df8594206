//! A hospital's ledger (資産管理台帳): its tables, one record's form with its
//! history and photos, the walk-through, exports. Every read and write goes
//! through the policy (ledger data) and is audited by the store.

pub mod diagrams;
pub mod import;

use super::{Chrome, Done, Pager, forms, page_number};
use crate::error::WebError;
use crate::format;
use crate::i18n::Tr;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::ledger::{AnyRecord, CellProblem, Column, Input, Ledger, LedgerKey, RecordKind};
use mamori_domain::policy::{Access, HospitalData};
use mamori_domain::{DomainError, OrgId};
use mamori_store::{ChangeSource, HistoryFilter, LedgerChange, Paging, StoreError, StoredLedger};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A kind from the path; an unknown one is a page that does not exist.
pub fn kind_from_path(slug: &str) -> Result<RecordKind, WebError> {
    RecordKind::parse(slug).map_err(|_| WebError::NotFound)
}

pub fn key_from_path(text: &str) -> Result<LedgerKey, WebError> {
    LedgerKey::parse(text).map_err(|_| WebError::NotFound)
}

/// The hospital's name, its ledger and whether the reader may change it.
pub struct LedgerRead {
    pub hospital: String,
    pub stored: StoredLedger,
    pub can_write: bool,
}

pub async fn read_ledger(
    state: &AppState,
    who: &Signed,
    id: OrgId,
) -> Result<LedgerRead, WebError> {
    let (hospital, grant) = ledger_grant(state, who, id).await?;
    let stored = state.store.ledger(&who.ctx, &grant).await?;
    let can_write = state
        .store
        .may(
            &who.account.actor(),
            id,
            HospitalData::Ledger,
            Access::Write,
        )
        .await?;
    Ok(LedgerRead {
        hospital,
        stored,
        can_write,
    })
}

/// The hospital's name and the reader's grant to read its ledger.
pub async fn ledger_grant(
    state: &AppState,
    who: &Signed,
    id: OrgId,
) -> Result<(String, mamori_domain::policy::HospitalGrant), WebError> {
    let summary = state
        .store
        .authorize(&who.ctx, id, HospitalData::EngagementSummary, Access::Read)
        .await?;
    let hospital = state.store.hospital_summary(&who.ctx, &summary).await?.name;
    let grant = state
        .store
        .authorize(&who.ctx, id, HospitalData::Ledger, Access::Read)
        .await?;
    Ok((hospital, grant))
}

/// A cell as the reader sees it: choice and flag labels in their language.
pub fn display_cell(tr: Tr, column: &Column, text: &str) -> String {
    if tr.code() != "en" || text.is_empty() {
        return text.to_string();
    }
    match column.input {
        Input::Choice(choices) => choices
            .iter()
            .find(|c| c.ja == text)
            .map_or_else(|| text.to_string(), |c| c.en.to_string()),
        Input::Flag => match text {
            "はい" => "Yes".into(),
            "いいえ" => "No".into(),
            other => other.to_string(),
        },
        _ => text.to_string(),
    }
}

/// The columns a table shows; the form shows them all.
fn summary_fields(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Asset => &[
            "key",
            "kind",
            "name",
            "vendor",
            "product",
            "model",
            "version",
            "quantity",
            "location",
            "segment",
            "owner",
            "remote_maintenance",
            "end_of_support",
        ],
        RecordKind::Segment => &["key", "name", "kind", "address_range", "gateway"],
        RecordKind::Link => &["key", "from", "to", "medium", "label"],
        RecordKind::Connection => &[
            "key",
            "category",
            "counterpart",
            "method",
            "method_detail",
            "boundary_device",
            "availability",
            "logged",
            "known_to_administrator",
        ],
        RecordKind::Investigation => &[
            "key",
            "connection",
            "date",
            "investigator",
            "source",
            "finding",
        ],
        RecordKind::Backup => &[
            "key",
            "system",
            "data_covered",
            "frequency",
            "generations",
            "media",
            "offline_copy",
            "immutable_copy",
            "last_restore_test",
        ],
        RecordKind::Role => &[
            "key",
            "kind",
            "title",
            "person",
            "organisation",
            "reports_to",
            "incident_order",
        ],
    }
}

pub struct KindTab {
    pub slug: &'static str,
    pub label: &'static str,
    pub count: usize,
    pub active: bool,
}

pub struct RowView {
    pub key: String,
    pub href: String,
    pub cells: Vec<String>,
    pub confirmed: bool,
    /// Something the survey looks for (an unknown connection, a backup
    /// with no protected copy, support ended).
    pub flagged: bool,
}

/// What the overview points out.
pub struct Highlight {
    pub text: String,
    pub href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ledger.html")]
pub struct LedgerPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    tabs: Vec<KindTab>,
    /// The table shown (none on the overview).
    kind: Option<(&'static str, &'static str)>,
    heads: Vec<String>,
    rows: Vec<RowView>,
    pager: Pager,
    highlights: Vec<Highlight>,
    can_write: bool,
}

fn tabs(tr: Tr, count: impl Fn(RecordKind) -> usize, active: Option<RecordKind>) -> Vec<KindTab> {
    RecordKind::ALL
        .iter()
        .map(|k| KindTab {
            slug: k.slug(),
            label: k.label(tr.code()),
            count: count(*k),
            active: Some(*k) == active,
        })
        .collect()
}

fn flagged(record: &AnyRecord, today: time::Date) -> bool {
    match record {
        AnyRecord::Connection(c) => c.known_to_administrator == Some(false),
        AnyRecord::Backup(b) => !b.has_protected_copy(),
        AnyRecord::Asset(a) => a.end_of_support.is_some_and(|d| d < today),
        _ => false,
    }
}

fn highlights(tr: Tr, id: i64, ledger: &Ledger, today: time::Date) -> Vec<Highlight> {
    let mut out = Vec::new();
    let href = |kind: RecordKind, key: &LedgerKey| {
        format!("/hospitals/{id}/ledger/{}/{}", kind.slug(), key)
    };
    for c in ledger
        .connections
        .iter()
        .filter(|c| c.known_to_administrator == Some(false))
    {
        out.push(Highlight {
            text: tr
                .t("ledger.highlight.unknown_connection")
                .replace("{what}", &c.counterpart),
            href: href(RecordKind::Connection, &c.key),
        });
    }
    for b in ledger.backups.iter().filter(|b| !b.has_protected_copy()) {
        let system = ledger
            .asset(&b.system)
            .map_or_else(|| b.system.to_string(), |a| a.name.clone());
        out.push(Highlight {
            text: tr
                .t("ledger.highlight.no_offline_copy")
                .replace("{what}", &system),
            href: href(RecordKind::Backup, &b.key),
        });
    }
    for a in &ledger.assets {
        if a.end_of_support.is_some_and(|d| d < today) {
            out.push(Highlight {
                text: tr
                    .t("ledger.highlight.support_ended")
                    .replace("{what}", &a.name),
                href: href(RecordKind::Asset, &a.key),
            });
        }
        if a.owner == mamori_domain::ledger::Owner::Vendor
            && a.remote_maintenance == mamori_domain::ledger::RemoteMaintenance::AlwaysOn
        {
            out.push(Highlight {
                text: tr
                    .t("ledger.highlight.vendor_always_on")
                    .replace("{what}", &a.name),
                href: href(RecordKind::Asset, &a.key),
            });
        }
    }
    out
}

/// Rows per page of a ledger table.
pub const LEDGER_PAGE_SIZE: usize = 100;

/// The overview (`kind` none: the whole ledger, for what it points out) or
/// page `page` of one table (only that page is read).
async fn ledger_page(
    state: &AppState,
    who: &Signed,
    id: OrgId,
    kind: Option<RecordKind>,
    page: usize,
    done: &Option<String>,
) -> Result<LedgerPage, WebError> {
    let tr = who.tr;
    let today = state.store.today();
    let Some(kind) = kind else {
        let read = read_ledger(state, who, id).await?;
        let ledger = &read.stored.ledger;
        return Ok(LedgerPage {
            chrome: Chrome::page(state, who, "").await?.with_notice(done),
            id: id.0,
            hospital: read.hospital,
            tabs: tabs(tr, |k| ledger.count(k), None),
            kind: None,
            heads: Vec::new(),
            rows: Vec::new(),
            pager: Pager::new("", "", 1, LEDGER_PAGE_SIZE, 0),
            highlights: highlights(tr, id.0, ledger, today),
            can_write: read.can_write,
        });
    };
    let (hospital, grant) = ledger_grant(state, who, id).await?;
    let table = state
        .store
        .ledger_table(&who.ctx, &grant, kind, Paging::page(page, LEDGER_PAGE_SIZE))
        .await?;
    let can_write = state
        .store
        .may(
            &who.account.actor(),
            id,
            HospitalData::Ledger,
            Access::Write,
        )
        .await?;
    let columns = kind.columns();
    let shown: Vec<(usize, &Column)> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| summary_fields(kind).contains(&c.field))
        .collect();
    let heads = shown
        .iter()
        .map(|(_, c)| c.label(tr.code()).to_string())
        .collect();
    let rows = table
        .records
        .iter()
        .map(|(r, meta)| {
            let cells = r.to_cells();
            RowView {
                key: r.key().to_string(),
                href: format!("/hospitals/{}/ledger/{}/{}", id.0, kind.slug(), r.key()),
                cells: shown
                    .iter()
                    .map(|(i, c)| display_cell(tr, c, &cells[*i]))
                    .collect(),
                confirmed: meta.confirmed_at_ms.is_some(),
                flagged: flagged(r, today),
            }
        })
        .collect();
    Ok(LedgerPage {
        chrome: Chrome::page(state, who, "").await?.with_notice(done),
        id: id.0,
        hospital,
        tabs: tabs(
            tr,
            |k| table.counts.get(&k).copied().unwrap_or(0),
            Some(kind),
        ),
        kind: Some((kind.slug(), kind.label(tr.code()))),
        heads,
        rows,
        pager: Pager::new(
            &format!("/hospitals/{}/ledger/{}", id.0, kind.slug()),
            "",
            page,
            LEDGER_PAGE_SIZE,
            table.total,
        ),
        highlights: Vec::new(),
        can_write,
    })
}

/// `?format=` on a table: the page, or the table as CSV.
#[derive(Debug, Default, Deserialize)]
pub struct TableQuery {
    pub done: Option<String>,
    pub format: Option<String>,
    /// The page of the table, from 1.
    #[serde(default)]
    pub page: String,
}

pub async fn overview(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<LedgerPage, WebError> {
    ledger_page(&state, &who, OrgId(id), None, 1, &done.done).await
}

pub async fn table(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind)): Path<(i64, String)>,
    Query(query): Query<TableQuery>,
) -> Result<Response, WebError> {
    let kind = kind_from_path(&kind)?;
    match query.format.as_deref() {
        None | Some("html") => Ok(ledger_page(
            &state,
            &who,
            OrgId(id),
            Some(kind),
            page_number(&query.page)?,
            &query.done,
        )
        .await?
        .into_response()),
        Some("csv") => {
            let read = read_ledger(&state, &who, OrgId(id)).await?;
            let bytes = kind_csv(&read.stored.ledger, kind, who.tr.code())?;
            Ok(forms::attachment(
                &format!("{}-{}.csv", read.hospital, kind.label(who.tr.code())),
                "text/csv; charset=utf-8",
                bytes,
            ))
        }
        Some(_) => Err(WebError::NotFound),
    }
}

fn kind_csv(ledger: &Ledger, kind: RecordKind, lang: &str) -> Result<Vec<u8>, WebError> {
    use mamori_documents::ledger_sheets::records_csv;
    let result = match kind {
        RecordKind::Asset => records_csv(&ledger.assets, lang),
        RecordKind::Segment => records_csv(&ledger.segments, lang),
        RecordKind::Link => records_csv(&ledger.links, lang),
        RecordKind::Connection => records_csv(&ledger.connections, lang),
        RecordKind::Investigation => records_csv(&ledger.investigations, lang),
        RecordKind::Backup => records_csv(&ledger.backups, lang),
        RecordKind::Role => records_csv(&ledger.roles, lang),
    };
    result.map_err(crate::documents::document_error)
}

/// The whole ledger as a workbook (a sheet per kind; it imports back).
pub async fn workbook(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let read = read_ledger(&state, &who, OrgId(id)).await?;
    let bytes =
        mamori_documents::ledger_sheets::ledger_workbook(&read.stored.ledger, who.tr.code())
            .map_err(crate::documents::document_error)?;
    Ok(forms::attachment(
        &format!("{}-{}.xlsx", read.hospital, who.tr.t("ledger.title")),
        XLSX_TYPE,
        bytes,
    ))
}

// --- one record ---------------------------------------------------------------

/// One input of the record form.
pub struct FieldView {
    pub field: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// `text`, `textarea`, `select`, `flag`, `date`, `number`, `list`.
    pub input: &'static str,
    pub value: String,
    /// For selects: (value, label); references list the keys they may name.
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
}

pub struct ChangeView {
    pub when: String,
    pub who: String,
    pub action: String,
    pub source: String,
    /// (field label, before, after) of what changed.
    pub fields: Vec<(String, String, String)>,
}

pub struct PhotoView {
    pub id: i64,
    pub caption: String,
    pub name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ledger_record.html")]
pub struct RecordPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    kind: &'static str,
    kind_label: &'static str,
    /// The stored key (none for a new record).
    key: Option<String>,
    version: String,
    updated: String,
    confirmed: String,
    fields: Vec<FieldView>,
    changes: Vec<ChangeView>,
    photos: Vec<PhotoView>,
    can_write: bool,
    error: Option<String>,
}

fn reference_options(
    ledger: &Ledger,
    catalogue: &[LedgerKey],
    input: Input,
) -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "—".to_string())];
    match input {
        Input::Reference(kind) => {
            for r in ledger.records(kind) {
                let label = match &r {
                    AnyRecord::Asset(a) => format!("{} {}", a.key, a.name),
                    AnyRecord::Segment(s) => format!("{} {}", s.key, s.name),
                    AnyRecord::Connection(c) => format!("{} {}", c.key, c.counterpart),
                    AnyRecord::Role(r) => format!("{} {}", r.key, r.title),
                    other => other.key().to_string(),
                };
                options.push((r.key().to_string(), label));
            }
        }
        Input::Catalogue => {
            options.extend(catalogue.iter().map(|k| (k.to_string(), k.to_string())));
        }
        _ => {}
    }
    options
}

/// The input a column gets on a form, with its options (`references`:
/// the options of a reference or catalogue column).
pub fn input_of(
    tr: Tr,
    column: &Column,
    references: Vec<(String, String)>,
) -> (&'static str, Vec<(String, String)>) {
    match column.input {
        Input::Text => ("text", Vec::new()),
        Input::Multiline => ("textarea", Vec::new()),
        Input::List => ("list", Vec::new()),
        Input::Date => ("date", Vec::new()),
        Input::Number => ("number", Vec::new()),
        Input::Flag => (
            "select",
            vec![
                (String::new(), tr.t("ledger.unknown").to_string()),
                ("はい".to_string(), tr.t("common.yes").to_string()),
                ("いいえ".to_string(), tr.t("common.no").to_string()),
            ],
        ),
        Input::Choice(choices) => (
            "select",
            std::iter::once((String::new(), "—".to_string()))
                .chain(
                    choices
                        .iter()
                        .map(|ch| (ch.ja.to_string(), ch.label(tr.code()).to_string())),
                )
                .collect(),
        ),
        Input::Reference(_) | Input::Catalogue => ("select", references),
    }
}

fn field_views(
    tr: Tr,
    kind: RecordKind,
    ledger: &Ledger,
    values: &BTreeMap<String, String>,
    problems: &[CellProblem],
) -> Vec<FieldView> {
    let catalogue: Vec<LedgerKey> = ledger.catalogue_keys.iter().cloned().collect();
    kind.columns()
        .iter()
        .map(|c| {
            let (input, mut options) =
                input_of(tr, c, reference_options(ledger, &catalogue, c.input));
            let value = values.get(c.field).cloned().unwrap_or_default();
            // A value the list does not hold (a key typed before its record
            // existed) stays selectable rather than silently lost.
            if input == "select" && !value.is_empty() && !options.iter().any(|(v, _)| *v == value) {
                options.push((value.clone(), value.clone()));
            }
            FieldView {
                field: c.field,
                label: c.label(tr.code()),
                required: c.required,
                input,
                value,
                options,
                error: problems
                    .iter()
                    .find(|p| p.field == c.field)
                    .map(|p| p.reason.clone()),
            }
        })
        .collect()
}

/// A JSON value of a stored record as the form shows it.
fn json_text(tr: Tr, value: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => tr
            .t(if *b { "common.yes" } else { "common.no" })
            .to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| json_text(tr, Some(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// A stored body as the text of each of its kind's columns, as the form
/// shows it (choices by their Japanese labels, dates as `YYYY-MM-DD`);
/// blank without a body. A body that no longer reads as its kind is shown
/// field by field.
fn body_cells(tr: Tr, kind: RecordKind, body: Option<&serde_json::Value>) -> Vec<String> {
    use mamori_domain::ledger::{
        Asset, Backup, ExternalConnection, InvestigationEntry, Link, RowRecord, Segment,
        StructureRole,
    };
    fn cells<R: RowRecord>(body: &serde_json::Value) -> Option<Vec<String>> {
        serde_json::from_value::<R>(body.clone())
            .ok()
            .map(|r| r.to_cells())
    }
    let Some(body) = body else {
        return vec![String::new(); kind.columns().len()];
    };
    let typed = match kind {
        RecordKind::Asset => cells::<Asset>(body),
        RecordKind::Segment => cells::<Segment>(body),
        RecordKind::Link => cells::<Link>(body),
        RecordKind::Connection => cells::<ExternalConnection>(body),
        RecordKind::Investigation => cells::<InvestigationEntry>(body),
        RecordKind::Backup => cells::<Backup>(body),
        RecordKind::Role => cells::<StructureRole>(body),
    };
    typed.unwrap_or_else(|| {
        kind.columns()
            .iter()
            .map(|c| json_text(tr, body.get(c.field)))
            .collect()
    })
}

/// Each change with the fields it changed, before and after, as the reader
/// reads them. A confirmation changes no field.
pub fn change_views(tr: Tr, kind: RecordKind, changes: &[LedgerChange]) -> Vec<ChangeView> {
    changes
        .iter()
        .map(|ch| {
            let fields = if ch.action == mamori_store::ChangeAction::Confirmed {
                Vec::new()
            } else {
                let before = body_cells(tr, kind, ch.before.as_ref());
                let after = body_cells(tr, kind, ch.after.as_ref());
                kind.columns()
                    .iter()
                    .zip(before.iter().zip(after.iter()))
                    .filter(|(_, (b, a))| b != a)
                    .map(|(c, (b, a))| {
                        (
                            c.label(tr.code()).to_string(),
                            display_cell(tr, c, b),
                            display_cell(tr, c, a),
                        )
                    })
                    .collect()
            };
            ChangeView {
                when: format::minutes(ch.at_ms),
                who: ch.actor_name.clone().unwrap_or_default(),
                action: tr.value("ledger.action", ch.action.slug()),
                source: tr.value("ledger.source", ch.source.slug()),
                fields,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn record_page(
    state: &AppState,
    who: &Signed,
    id: OrgId,
    kind: RecordKind,
    key: Option<&LedgerKey>,
    values: Option<BTreeMap<String, String>>,
    problems: &[CellProblem],
    error: Option<String>,
    done: &Option<String>,
) -> Result<RecordPage, WebError> {
    let tr = who.tr;
    let read = read_ledger(state, who, id).await?;
    let ledger = &read.stored.ledger;
    let stored = match key {
        Some(key) => Some(ledger.record(kind, key).ok_or(WebError::NotFound)?),
        None => None,
    };
    let values = values.unwrap_or_else(|| match &stored {
        Some(record) => kind
            .columns()
            .iter()
            .map(|c| c.field.to_string())
            .zip(record.to_cells())
            .collect(),
        None => BTreeMap::new(),
    });
    let meta = key.and_then(|k| read.stored.meta_of(kind, k));
    let (changes, photos) = match key {
        Some(key) => {
            let grant = state
                .store
                .authorize(&who.ctx, id, HospitalData::Ledger, Access::Read)
                .await?;
            let changes = state
                .store
                .ledger_history(
                    &who.ctx,
                    &grant,
                    &HistoryFilter {
                        kind: Some(kind),
                        key: Some(key.clone()),
                    },
                    200,
                )
                .await?;
            let grant = state
                .store
                .authorize(&who.ctx, id, HospitalData::Ledger, Access::Read)
                .await?;
            let photos = state
                .store
                .ledger_photos(&who.ctx, &grant, kind, key)
                .await?;
            (
                change_views(tr, kind, &changes),
                photos
                    .into_iter()
                    .map(|p| PhotoView {
                        id: p.id,
                        caption: p.caption,
                        name: p.file.name,
                    })
                    .collect(),
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(RecordPage {
        chrome: Chrome::page(state, who, "").await?.with_notice(done),
        id: id.0,
        hospital: read.hospital,
        kind: kind.slug(),
        kind_label: kind.label(tr.code()),
        key: key.map(|k| k.to_string()),
        version: meta.map(|m| m.version.to_string()).unwrap_or_default(),
        updated: meta
            .map(|m| format::minutes(m.updated_at_ms))
            .unwrap_or_default(),
        confirmed: meta
            .and_then(|m| m.confirmed_at_ms)
            .map(format::minutes)
            .unwrap_or_default(),
        fields: field_views(tr, kind, ledger, &values, problems),
        changes,
        photos,
        can_write: read.can_write,
        error,
    })
}

pub async fn new_record(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind)): Path<(i64, String)>,
) -> Result<RecordPage, WebError> {
    let kind = kind_from_path(&kind)?;
    record_page(&state, &who, OrgId(id), kind, None, None, &[], None, &None).await
}

pub async fn show_record(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind, key)): Path<(i64, String, String)>,
    Query(done): Query<Done>,
) -> Result<RecordPage, WebError> {
    let kind = kind_from_path(&kind)?;
    let key = key_from_path(&key)?;
    record_page(
        &state,
        &who,
        OrgId(id),
        kind,
        Some(&key),
        None,
        &[],
        None,
        &done.done,
    )
    .await
}

/// Problems of a row as one line: `label: reason / …`.
pub fn problem_lines_for(tr: Tr, columns: &[Column], problems: &[CellProblem]) -> String {
    problems
        .iter()
        .map(|p| {
            let label = columns
                .iter()
                .find(|c| c.field == p.field)
                .map_or(p.field, |c| c.label(tr.code()));
            format!("{label}: {}", p.reason)
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Saves a record from its form (new, or the stored `original` key with
/// the `record_version` the form was drawn from). A changed key is a new
/// record; the old one stays until deleted. A new key must be free: a form
/// never replaces a record it was not drawn from.
pub async fn save_record(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind)): Path<(i64, String)>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let kind = kind_from_path(&kind)?;
    let id = OrgId(id);
    let tr = who.tr;
    // The policy first: those who may not write learn nothing from the
    // checks of what they sent, and their attempt is audited.
    let grant = state
        .store
        .authorize(&who.ctx, id, HospitalData::Ledger, Access::Write)
        .await?;
    let original = form
        .get("original")
        .filter(|o| !o.is_empty())
        .map(|o| key_from_path(o))
        .transpose()?;
    // Not `version`: an asset has a field of that name (its firmware).
    let version = form
        .get("record_version")
        .and_then(|v| v.parse::<i64>().ok());
    let refuse = |status: StatusCode, values, problems: Vec<CellProblem>, message: String| {
        let state = state.clone();
        let who = &who;
        let original = original.clone();
        async move {
            let page = record_page(
                &state,
                who,
                id,
                kind,
                original.as_ref(),
                Some(values),
                &problems,
                Some(message),
                &None,
            )
            .await?;
            Ok::<Response, WebError>((status, page).into_response())
        }
    };
    let record = match AnyRecord::from_map(kind, &form) {
        Ok(record) => record,
        Err(problems) => {
            let message = problem_lines_for(tr, kind.columns(), &problems);
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, form, problems, message).await;
        }
    };
    // The version only guards the record the form was drawn from; any
    // other key must not be taken yet (version 0: a new record).
    let expected = if original.as_ref() == Some(record.key()) {
        version
    } else {
        Some(0)
    };
    match crate::api::ledger::save_any(
        &state,
        &who.ctx,
        &grant,
        &record,
        expected,
        ChangeSource::Form,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/hospitals/{}/ledger/{}/{}?done=saved",
            id.0,
            kind.slug(),
            record.key()
        ))
        .into_response()),
        // A field of this record refused (a reference that does not
        // resolve): named by its label, and marked on the form.
        Err(StoreError::Invalid(e)) => {
            let problem = CellProblem::from(e);
            if kind.columns().iter().any(|c| c.field == problem.field) {
                let message = problem_lines_for(tr, kind.columns(), std::slice::from_ref(&problem));
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    form,
                    vec![problem],
                    message,
                )
                .await;
            }
            let e = DomainError::invalid(problem.field, problem.reason);
            let refusal = forms::store_refusal(tr, StoreError::Invalid(e))?;
            refuse(refusal.status, form, Vec::new(), refusal.message).await
        }
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            refuse(refusal.status, form, Vec::new(), refusal.message).await
        }
    }
}

#[derive(Deserialize)]
pub struct VersionForm {
    #[serde(default)]
    version: String,
}

pub async fn delete_record(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind, key)): Path<(i64, String, String)>,
    Form(form): Form<VersionForm>,
) -> Result<Response, WebError> {
    let kind = kind_from_path(&kind)?;
    let key = key_from_path(&key)?;
    let id = OrgId(id);
    let grant = state
        .store
        .authorize(&who.ctx, id, HospitalData::Ledger, Access::Write)
        .await?;
    match state
        .store
        .delete_ledger_record(
            &who.ctx,
            &grant,
            kind,
            &key,
            form.version.parse().ok(),
            ChangeSource::Form,
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/hospitals/{}/ledger/{}?done=deleted",
            id.0,
            kind.slug()
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = record_page(
                &state,
                &who,
                id,
                kind,
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

#[derive(Deserialize, Default)]
pub struct ConfirmForm {
    /// Where to go back to (the walk-through).
    #[serde(default)]
    back: String,
}

/// "Seen on the walk-through, as recorded."
pub async fn confirm_record(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind, key)): Path<(i64, String, String)>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let kind = kind_from_path(&kind)?;
    let key = key_from_path(&key)?;
    let grant = state
        .store
        .authorize(&who.ctx, OrgId(id), HospitalData::Ledger, Access::Write)
        .await?;
    state
        .store
        .confirm_ledger_record(&who.ctx, &grant, kind, &key)
        .await?;
    let back = if form.back == "walk" {
        format!("/hospitals/{id}/ledger/walk?done=confirmed#{key}")
    } else {
        format!(
            "/hospitals/{id}/ledger/{}/{key}?done=confirmed",
            kind.slug()
        )
    };
    Ok(Redirect::to(&back).into_response())
}

pub async fn add_photo(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind, key)): Path<(i64, String, String)>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let kind = kind_from_path(&kind)?;
    let key = key_from_path(&key)?;
    let id = OrgId(id);
    let mut upload = forms::read_upload(multipart, "photo").await?;
    let caption = upload.text("caption").to_string();
    let back = upload.text("back") == "walk";
    let grant = state
        .store
        .authorize(&who.ctx, id, HospitalData::Ledger, Access::Write)
        .await?;
    let outcome = match upload.file.take() {
        None => Err(WebError::BadRequest(format!(
            "{}: {}",
            who.tr.t("ledger.photo"),
            who.tr.t("ledger.photo_missing")
        ))),
        Some(file) => state
            .store
            .add_ledger_photo(&who.ctx, &grant, kind, &key, file, &caption)
            .await
            .map_err(WebError::from),
    };
    match outcome {
        Ok(_) if back => Ok(Redirect::to(&format!(
            "/hospitals/{}/ledger/walk?done=photo_added#{key}",
            id.0
        ))
        .into_response()),
        Ok(_) => Ok(Redirect::to(&format!(
            "/hospitals/{}/ledger/{}/{key}?done=photo_added",
            id.0,
            kind.slug()
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::web_refusal(who.tr, e)?;
            let page = record_page(
                &state,
                &who,
                id,
                kind,
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

pub async fn photo_file(
    State(state): State<AppState>,
    who: Signed,
    Path((id, photo)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let grant = state
        .store
        .authorize(&who.ctx, OrgId(id), HospitalData::Ledger, Access::Read)
        .await?;
    let (file, data) = state
        .store
        .ledger_photo_file(&who.ctx, &grant, photo)
        .await?;
    Ok(forms::download(&file, data))
}

// --- history ------------------------------------------------------------------

pub struct HistoryLine {
    pub kind: String,
    pub key: String,
    pub href: String,
    pub change: ChangeView,
}

#[derive(Template, WebTemplate)]
#[template(path = "ledger_history.html")]
pub struct HistoryPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    lines: Vec<HistoryLine>,
}

pub async fn history(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<HistoryPage, WebError> {
    let tr = who.tr;
    let read = read_ledger(&state, &who, OrgId(id)).await?;
    let grant = state
        .store
        .authorize(&who.ctx, OrgId(id), HospitalData::Ledger, Access::Read)
        .await?;
    let changes = state
        .store
        .ledger_history(&who.ctx, &grant, &HistoryFilter::default(), 500)
        .await?;
    let lines = changes
        .iter()
        .map(|ch| HistoryLine {
            kind: ch.kind.label(tr.code()).to_string(),
            key: ch.key.to_string(),
            href: format!("/hospitals/{id}/ledger/{}/{}", ch.kind.slug(), ch.key),
            change: change_views(tr, ch.kind, std::slice::from_ref(ch))
                .pop()
                .unwrap_or(ChangeView {
                    when: String::new(),
                    who: String::new(),
                    action: String::new(),
                    source: String::new(),
                    fields: Vec::new(),
                }),
        })
        .collect();
    Ok(HistoryPage {
        chrome: Chrome::page(&state, &who, "").await?,
        id,
        hospital: read.hospital,
        lines,
    })
}

// --- walk-through -------------------------------------------------------------

pub struct WalkAsset {
    pub key: String,
    pub name: String,
    pub kind: String,
    pub detail: String,
    pub segment: String,
    pub confirmed: String,
}

pub struct WalkPlace {
    pub location: String,
    pub assets: Vec<WalkAsset>,
}

#[derive(Template, WebTemplate)]
#[template(path = "ledger_walk.html")]
pub struct WalkPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    places: Vec<WalkPlace>,
    confirmed: usize,
    total: usize,
    can_write: bool,
    kinds: Vec<(&'static str, &'static str)>,
    segments: Vec<(String, String)>,
}

/// The assets by location, for a tablet on the walk through the wards:
/// each one confirmed as recorded, opened to correct it, or added.
pub async fn walk(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<WalkPage, WebError> {
    let tr = who.tr;
    let read = read_ledger(&state, &who, OrgId(id)).await?;
    let ledger = &read.stored.ledger;
    let mut places: BTreeMap<String, Vec<WalkAsset>> = BTreeMap::new();
    let mut confirmed = 0;
    let physical = ledger
        .assets
        .iter()
        .filter(|a| a.kind != mamori_domain::ledger::AssetKind::System);
    let mut total = 0;
    for a in physical {
        total += 1;
        let at = read
            .stored
            .meta_of(RecordKind::Asset, &a.key)
            .and_then(|m| m.confirmed_at_ms);
        if at.is_some() {
            confirmed += 1;
        }
        let location = if a.location.is_empty() {
            tr.t("ledger.no_location").to_string()
        } else {
            a.location.clone()
        };
        places.entry(location).or_default().push(WalkAsset {
            key: a.key.to_string(),
            name: a.name.clone(),
            kind: a.kind.label(tr.code()).to_string(),
            detail: [&a.vendor, &a.product, &a.model, &a.version]
                .into_iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
                + &if a.quantity > 1 {
                    format!(" ×{}", a.quantity)
                } else {
                    String::new()
                },
            segment: a
                .segment
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            confirmed: at.map(format::minutes).unwrap_or_default(),
        });
    }
    Ok(WalkPage {
        chrome: Chrome::page(&state, &who, "")
            .await?
            .with_notice(&done.done),
        id,
        hospital: read.hospital,
        places: places
            .into_iter()
            .map(|(location, assets)| WalkPlace { location, assets })
            .collect(),
        confirmed,
        total,
        can_write: read.can_write,
        kinds: mamori_domain::ledger::AssetKind::ALL
            .iter()
            // A system is not something one finds in a ward.
            .filter(|k| **k != mamori_domain::ledger::AssetKind::System)
            .map(|k| (k.ja(), k.label(tr.code())))
            .collect(),
        segments: ledger
            .segments
            .iter()
            .map(|s| (s.key.to_string(), format!("{} {}", s.key, s.name)))
            .collect(),
    })
}
