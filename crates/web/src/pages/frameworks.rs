//! Checklist frameworks: every version the store holds (the shipped MHLW
//! editions, imported workbooks, programmes' own items), one framework item
//! by item with every unverified wording flagged, the import of an official
//! workbook (a preview that stores nothing, then the import), and a
//! programme's checklist: its framework, its own items and how far its
//! hospitals are.

use super::forms::{self, Refusal, UploadForm};
use super::{Chrome, Done};
use crate::documents;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_documents::checklist::{ColumnMapping, FrameworkImport, FrameworkMeta};
use mamori_domain::checklist::{
    AnswerStyle, Audience, Cell, Completion, Framework, FrameworkOrigin, Item, Scope, Source,
};
use mamori_domain::organisation::{Language, OrgKind};
use mamori_domain::{DomainError, ProgrammeId};
use mamori_store::{ChecklistProgress, FrameworkRecord, NewProgrammeItem, StoreError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// How many form mappings the import form offers (the seed's workbook had
/// three audiences).
pub const MAPPINGS: usize = 3;

fn is_secretariat(who: &Signed) -> bool {
    who.account.org_kind == OrgKind::Secretariat
}

/// 令和6年度中 / "by FY2024".
pub fn required_label(tr: Tr, year: Option<i32>) -> String {
    match (year, tr.lang) {
        (None, _) => String::new(),
        (Some(y), Language::Japanese) => {
            format!("{}中", mamori_documents::dates::japanese_era_fiscal_year(y))
        }
        (Some(y), Language::English) => format!("by FY{y}"),
    }
}

/// A cell as a short label: `サーバ（令和6年度中）`.
pub fn cell_label(tr: Tr, cell: &Cell) -> String {
    let scope = tr.value("scope", cell.scope.slug());
    match required_label(tr, cell.required_fy) {
        year if year.is_empty() => scope,
        year => format!("{scope} ({year})"),
    }
}

/// The framework's name as people say it: `医療機関確認用 令和6年度版`.
pub fn framework_label(record: &FrameworkRecord) -> String {
    format!(
        "{} {} (v{})",
        record.framework.title_ja, record.framework.edition_ja, record.version
    )
}

/// A source, linked only when its address is a web address.
pub struct SourceLink {
    pub title: String,
    pub href: Option<String>,
}

fn source_links(sources: &[Source]) -> Vec<SourceLink> {
    sources
        .iter()
        .map(|s| {
            let url = s.url.trim();
            SourceLink {
                title: if s.title.trim().is_empty() {
                    url.to_string()
                } else {
                    s.title.clone()
                },
                href: (url.starts_with("https://") || url.starts_with("http://"))
                    .then(|| url.to_string()),
            }
        })
        .collect()
}

fn published_label(tr: Tr, framework: &Framework) -> String {
    framework
        .published
        .map(|d| documents::local_date(tr, d))
        .unwrap_or_else(|| "—".into())
}

// --- the list -------------------------------------------------------------

pub struct FormSummary {
    pub title: String,
    pub audience: String,
    pub items: usize,
    pub cells: usize,
}

pub struct OlderVersion {
    pub id: i64,
    pub version: i64,
    pub created: String,
}

pub struct FrameworkRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub edition: String,
    pub version: i64,
    pub origin: String,
    pub forms: Vec<FormSummary>,
    pub unverified: usize,
    pub published: String,
    pub sources: Vec<SourceLink>,
    pub older: Vec<OlderVersion>,
}

fn form_summaries(tr: Tr, framework: &Framework) -> Vec<FormSummary> {
    framework
        .forms
        .iter()
        .map(|f| FormSummary {
            title: f.title_ja.clone(),
            audience: tr.value("audience", f.audience.slug()),
            items: f.items().count(),
            cells: f.cells().count(),
        })
        .collect()
}

/// The newest version of every key first, its older versions beside it;
/// keys by fiscal year (newest first), then key. Programmes' own items are
/// shown on their programme's page.
fn framework_rows(tr: Tr, records: Vec<FrameworkRecord>) -> Vec<FrameworkRow> {
    let mut by_key: BTreeMap<String, Vec<FrameworkRecord>> = BTreeMap::new();
    for r in records {
        if r.origin == FrameworkOrigin::Programme {
            continue;
        }
        by_key.entry(r.key.clone()).or_default().push(r);
    }
    let mut rows: Vec<(Option<i32>, FrameworkRow)> = by_key
        .into_values()
        .filter_map(|mut versions| {
            versions.sort_by_key(|r| std::cmp::Reverse(r.version));
            let mut versions = versions.into_iter();
            let newest = versions.next()?;
            let f = &newest.framework;
            Some((
                f.fiscal_year,
                FrameworkRow {
                    id: newest.id,
                    key: newest.key.clone(),
                    title: f.title_ja.clone(),
                    edition: f.edition_ja.clone(),
                    version: newest.version,
                    origin: tr.value("origin", newest.origin.slug()),
                    forms: form_summaries(tr, f),
                    unverified: newest.unverified(),
                    published: published_label(tr, f),
                    sources: source_links(&f.sources),
                    older: versions
                        .map(|o| OlderVersion {
                            id: o.id,
                            version: o.version,
                            created: crate::format::minutes(o.created_at_ms),
                        })
                        .collect(),
                },
            ))
        })
        .collect();
    rows.sort_by(|(ya, a), (yb, b)| yb.cmp(ya).then_with(|| a.key.cmp(&b.key)));
    rows.into_iter().map(|(_, row)| row).collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "frameworks.html")]
pub struct FrameworksPage {
    chrome: Chrome,
    frameworks: Vec<FrameworkRow>,
    may_import: bool,
}

pub async fn list(
    State(state): State<AppState>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<FrameworksPage, WebError> {
    let records = state.store.frameworks(&who.ctx).await?;
    Ok(FrameworksPage {
        chrome: Chrome::page(&state, &who, "/checklists")
            .await?
            .with_notice(&done.done),
        frameworks: framework_rows(who.tr, records),
        may_import: is_secretariat(&who),
    })
}

// --- one framework ----------------------------------------------------------

pub struct ItemView {
    pub number: String,
    pub anchor: String,
    pub text_ja: String,
    pub text_en: String,
    pub cells: Vec<String>,
    pub note_ja: String,
    pub note_en: String,
    pub gate: bool,
    pub unverified: bool,
    pub provenance: String,
    pub evidence: String,
    /// The forms a programme item is asked in (empty: all).
    pub forms: String,
}

pub struct SectionView {
    pub title: String,
    pub title_en: String,
    pub items: Vec<ItemView>,
}

pub struct FormView {
    pub key: String,
    pub title: String,
    pub title_en: String,
    pub audience: String,
    pub items: usize,
    pub cells: usize,
    pub sections: Vec<SectionView>,
}

fn anchor(number: &str) -> String {
    number
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn item_view(tr: Tr, item: &Item) -> ItemView {
    ItemView {
        number: item.number.clone(),
        anchor: anchor(&item.number),
        text_ja: item.text_ja.clone(),
        text_en: item.text_en.clone(),
        cells: item.cells.iter().map(|c| cell_label(tr, c)).collect(),
        note_ja: item.note_ja.clone(),
        note_en: item.note_en.clone(),
        gate: item.gate,
        unverified: !item.is_verified(),
        provenance: tr.value("provenance", item.provenance.slug()),
        evidence: item.evidence.clone(),
        forms: item.forms.join(tr.t("list.separator")),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "framework.html")]
pub struct FrameworkPage {
    chrome: Chrome,
    id: i64,
    key: String,
    title: String,
    title_en: String,
    edition: String,
    edition_en: String,
    version: i64,
    origin: String,
    fiscal: String,
    published: String,
    answer_style: String,
    created: String,
    unverified: usize,
    supplement: bool,
    programme: Option<(i64, String)>,
    forms: Vec<FormView>,
    notes: String,
    sources: Vec<SourceLink>,
}

/// `/checklists/{id}` is the page, `/checklists/{id}.json` the framework
/// as JSON (the domain's format, which `POST /api/v1/checklists` takes).
pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let (number, json) = match id.strip_suffix(".json") {
        Some(number) => (number, true),
        None => (id.as_str(), false),
    };
    let id: i64 = number.parse().map_err(|_| WebError::NotFound)?;
    let record = state.store.framework(&who.ctx, id).await?;
    if json {
        return Ok(framework_json(&record));
    }
    let tr = who.tr;
    let f = &record.framework;
    let programme = match record.programme_id {
        Some(p) => state
            .store
            .programme_detail(&who.ctx, p)
            .await
            .ok()
            .map(|d| (p.0, d.programme.name)),
        None => None,
    };
    let page = FrameworkPage {
        chrome: Chrome::page(&state, &who, "/checklists")
            .await?
            .with_notice(&done.done),
        id: record.id,
        key: record.key.clone(),
        title: f.title_ja.clone(),
        title_en: f.title_en.clone(),
        edition: f.edition_ja.clone(),
        edition_en: f.edition_en.clone(),
        version: record.version,
        origin: tr.value("origin", record.origin.slug()),
        fiscal: f
            .fiscal_year
            .map(|y| super::programmes::fiscal_year_label(tr, y))
            .unwrap_or_default(),
        published: published_label(tr, f),
        answer_style: tr.value("answer_style", f.answer_style.slug()),
        created: crate::format::minutes(record.created_at_ms),
        unverified: record.unverified(),
        supplement: record.origin == FrameworkOrigin::Programme,
        programme,
        forms: f
            .forms
            .iter()
            .map(|form| FormView {
                key: form.key.clone(),
                title: form.title_ja.clone(),
                title_en: form.title_en.clone(),
                audience: tr.value("audience", form.audience.slug()),
                items: form.items().count(),
                cells: form.cells().count(),
                sections: form
                    .sections
                    .iter()
                    .map(|s| SectionView {
                        title: format!("{} {}", s.number, s.title_ja).trim().to_string(),
                        title_en: s.title_en.clone(),
                        items: s.items.iter().map(|i| item_view(tr, i)).collect(),
                    })
                    .collect(),
            })
            .collect(),
        notes: f.notes.clone(),
        sources: source_links(&f.sources),
    };
    Ok(page.into_response())
}

/// The framework as a JSON download, named after its key and version.
pub fn framework_json(record: &FrameworkRecord) -> Response {
    let body = serde_json::to_string_pretty(&record.framework)
        .unwrap_or_else(|_| record.framework.to_json());
    let name: String = format!("{}-v{}.json", record.key, record.version)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

// --- import -----------------------------------------------------------------

/// One form mapping as typed into the import form.
#[derive(Debug, Clone, Default)]
pub struct MappingValues {
    pub n: usize,
    pub sheet: String,
    pub form_key: String,
    pub audience: String,
    pub form_title: String,
    pub first_row: String,
    pub number: String,
    pub text: String,
    pub section: String,
    pub scope: String,
    pub required_fy: String,
    pub note: String,
    pub text_en: String,
}

/// The import form as typed (shown again after a preview or a refusal;
/// the file has to be chosen again).
#[derive(Debug, Clone, Default)]
pub struct ImportValues {
    pub key: String,
    pub title_ja: String,
    pub edition_ja: String,
    pub fiscal_year: String,
    pub answer_style: String,
    pub skip_rejected: bool,
    pub mappings: Vec<MappingValues>,
}

impl ImportValues {
    fn blank(today: time::Date) -> Self {
        let fiscal = if u8::from(today.month()) >= 4 {
            today.year()
        } else {
            today.year() - 1
        };
        ImportValues {
            fiscal_year: fiscal.to_string(),
            answer_style: AnswerStyle::YesNoDated.slug().into(),
            mappings: (1..=MAPPINGS)
                .map(|n| MappingValues {
                    n,
                    audience: if n == 1 {
                        Audience::Hospital.slug().into()
                    } else {
                        String::new()
                    },
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn read(form: &UploadForm) -> Self {
        let text = |name: &str| form.text(name).trim().to_string();
        ImportValues {
            key: text("key"),
            title_ja: text("title_ja"),
            edition_ja: text("edition_ja"),
            fiscal_year: text("fiscal_year"),
            answer_style: text("answer_style"),
            skip_rejected: !form.text("skip_rejected").is_empty(),
            mappings: (1..=MAPPINGS)
                .map(|n| {
                    let field = |name: &str| text(&format!("{name}_{n}"));
                    MappingValues {
                        n,
                        sheet: form.text(&format!("sheet_{n}")).trim().to_string(),
                        form_key: field("form_key"),
                        audience: field("audience"),
                        form_title: field("form_title"),
                        first_row: field("first_row"),
                        number: field("number"),
                        text: field("text"),
                        section: field("section"),
                        scope: field("scope"),
                        required_fy: field("required_fy"),
                        note: field("note"),
                        text_en: field("text_en"),
                    }
                })
                .collect(),
        }
    }

    fn meta(&self) -> Result<FrameworkMeta, DomainError> {
        let fiscal_year = match self.fiscal_year.trim() {
            "" => None,
            text => {
                let year = forms::whole("fiscal_year", text)?;
                Some(i32::try_from(year).map_err(|_| {
                    DomainError::invalid("fiscal_year", format!("{year} is not a fiscal year"))
                })?)
            }
        };
        for (field, value) in [
            ("key", &self.key),
            ("title_ja", &self.title_ja),
            ("edition_ja", &self.edition_ja),
        ] {
            if value.trim().is_empty() {
                return Err(DomainError::invalid(field, "is empty"));
            }
        }
        Ok(FrameworkMeta {
            key: self.key.clone(),
            title_ja: self.title_ja.clone(),
            edition_ja: self.edition_ja.clone(),
            fiscal_year,
            answer_style: AnswerStyle::parse(&self.answer_style)?,
        })
    }

    /// The mappings with a sheet named; at least one is needed.
    fn column_mappings(&self) -> Result<Vec<ColumnMapping>, DomainError> {
        let optional = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let mut out = Vec::new();
        for m in self.mappings.iter().filter(|m| !m.sheet.is_empty()) {
            let n = m.n;
            let required = |field: &'static str, value: &str| {
                if value.trim().is_empty() {
                    Err(DomainError::invalid(
                        field,
                        format!("form {n} (sheet `{}`): is empty", m.sheet),
                    ))
                } else {
                    Ok(value.trim().to_string())
                }
            };
            let first_row = forms::whole("first_row", &m.first_row).map_err(|e| {
                DomainError::invalid("first_row", format!("form {n} (sheet `{}`): {e}", m.sheet))
            })?;
            let first_row = u32::try_from(first_row)
                .ok()
                .filter(|r| *r >= 1)
                .ok_or_else(|| {
                    DomainError::invalid(
                        "first_row",
                        format!(
                            "form {n} (sheet `{}`): {first_row} is not a row (1 or more)",
                            m.sheet
                        ),
                    )
                })?;
            out.push(ColumnMapping {
                sheet: m.sheet.clone(),
                form_key: required("form_key", &m.form_key)?,
                audience: Audience::parse(&m.audience)?,
                form_title_ja: required("form_title", &m.form_title)?,
                first_row,
                number: required("number", &m.number)?,
                text: required("text", &m.text)?,
                section: optional(&m.section),
                scope: optional(&m.scope),
                required_fy: optional(&m.required_fy),
                note: optional(&m.note),
                text_en: optional(&m.text_en),
            });
        }
        if out.is_empty() {
            return Err(DomainError::invalid(
                "sheet",
                "name the sheet of at least one form",
            ));
        }
        Ok(out)
    }
}

pub struct PreviewLine {
    pub sheet: String,
    pub row: u32,
    pub section: String,
    pub number: String,
    pub text: String,
    pub cell: String,
    pub note: String,
}

pub struct RejectionLine {
    pub sheet: String,
    pub row: u32,
    pub column: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "framework_import.html")]
pub struct ImportPage {
    chrome: Chrome,
    values: ImportValues,
    styles: Vec<(&'static str, String)>,
    audiences: Vec<(&'static str, String)>,
    error: Option<String>,
    /// Set once a workbook was read (preview or refused import).
    previewed: bool,
    /// The preview was a dry run (nothing stored).
    dry_run: bool,
    preview: Vec<PreviewLine>,
    rejected: Vec<RejectionLine>,
    max_mb: usize,
}

fn import_page(chrome: Chrome, values: ImportValues) -> ImportPage {
    let tr = chrome.tr;
    ImportPage {
        values,
        styles: AnswerStyle::ALL
            .iter()
            .map(|s| (s.slug(), tr.value("answer_style", s.slug())))
            .collect(),
        audiences: Audience::ALL
            .iter()
            .map(|a| (a.slug(), tr.value("audience", a.slug())))
            .collect(),
        error: None,
        previewed: false,
        dry_run: false,
        preview: Vec::new(),
        rejected: Vec::new(),
        max_mb: mamori_documents::checklist::MAX_UPLOAD / (1024 * 1024),
        chrome,
    }
}

pub async fn import_form(
    State(state): State<AppState>,
    who: Signed,
) -> Result<ImportPage, WebError> {
    if !is_secretariat(&who) {
        return Err(WebError::Forbidden);
    }
    let chrome = Chrome::page(&state, &who, "/checklists").await?;
    Ok(import_page(
        chrome,
        ImportValues::blank(state.store.today()),
    ))
}

fn show_import(tr: Tr, page: &mut ImportPage, import: &FrameworkImport) {
    page.previewed = true;
    page.preview = import
        .rows
        .iter()
        .map(|r| PreviewLine {
            sheet: r.sheet.clone(),
            row: r.row,
            section: r.section.clone(),
            number: r.number.clone(),
            text: r.text.clone(),
            cell: cell_label(
                tr,
                &Cell {
                    scope: r.scope,
                    required_fy: r.required_fy,
                },
            ),
            note: r.note.clone(),
        })
        .collect();
    page.rejected = import
        .rejected
        .iter()
        .map(|r| RejectionLine {
            sheet: r.sheet.clone(),
            row: r.row,
            column: r.column.clone(),
            reason: r.reason.clone(),
        })
        .collect();
}

/// Reads the uploaded workbook with the mappings: the preview (nothing
/// stored) or the import, refused with every rejected row listed unless
/// the rejected rows are to be left out.
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
    let dry_run = upload.text("action") != "import";
    let values = ImportValues::read(&upload);
    let chrome = Chrome::page(&state, &who, "/checklists").await?;
    let mut page = import_page(chrome, values.clone());
    page.dry_run = dry_run;
    let refuse = |mut page: ImportPage, status: StatusCode, message: String| {
        page.error = Some(message);
        Ok((status, page).into_response())
    };
    let parsed = values
        .meta()
        .and_then(|meta| Ok((meta, values.column_mappings()?)));
    let (meta, mappings) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            return refuse(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                forms::domain_message(tr, &e),
            );
        }
    };
    let Some(file) = upload.file.take() else {
        return refuse(
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("framework_import.no_file").to_string(),
        );
    };
    let skip = values.skip_rejected && !dry_run;
    let import =
        match mamori_documents::checklist::import_framework(&file.data, &meta, &mappings, skip) {
            Ok(import) => import,
            Err(e) => {
                let message = match documents::document_error(e) {
                    WebError::BadRequest(message) => message,
                    other => return Err(other),
                };
                return refuse(
                    page,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{}: {message}", file.name),
                );
            }
        };
    show_import(tr, &mut page, &import);
    if dry_run {
        let status = if import.rejected.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok((status, page).into_response());
    }
    let framework = match import.framework {
        Some(framework) if import.rejected.is_empty() || skip => framework,
        _ => {
            let message = tr
                .t("framework_import.refused_rows")
                .replace("{n}", &import.rejected.len().to_string());
            return refuse(page, StatusCode::UNPROCESSABLE_ENTITY, message);
        }
    };
    match state.store.import_framework(&who.ctx, &framework).await {
        Ok(record) => Ok(Redirect::to(&format!(
            "/checklists/{}?done=framework_imported",
            record.id
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            refuse(page, refusal.status, refusal.message)
        }
    }
}

// --- a programme's checklist ---------------------------------------------------

pub struct ProgressRow {
    pub engagement: i64,
    pub hospital: String,
    pub company: String,
    pub state: String,
    pub state_slug: &'static str,
    pub respondents: usize,
    pub submitted: usize,
    pub answered: usize,
    pub applicable: usize,
    pub percent: u32,
    pub no: usize,
    pub not_understood: usize,
}

pub struct FormTotal {
    pub title: String,
    pub respondents: usize,
    pub submitted: usize,
    pub answered: usize,
    pub applicable: usize,
    pub percent: u32,
}

pub struct NotUnderstoodLine {
    pub framework_id: i64,
    pub form: String,
    pub number: String,
    pub anchor: String,
    pub text: String,
    pub hospitals: usize,
    pub notes: Vec<String>,
}

pub struct SupplementLine {
    pub number: String,
    pub text_ja: String,
    pub text_en: String,
    pub cells: String,
    pub forms: String,
    pub note: String,
    pub evidence: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programme_checklist.html")]
pub struct ProgrammeChecklistPage {
    chrome: Chrome,
    id: i64,
    name: String,
    framework: Option<(i64, String, usize)>,
    /// No engagement to read the programme's framework from.
    framework_unknown: bool,
    supplement: Option<(i64, String)>,
    choices: Vec<(i64, String, bool)>,
    is_secretariat: bool,
    items: Vec<SupplementLine>,
    forms: Vec<(String, String)>,
    scopes: Vec<(&'static str, String)>,
    rows: Vec<ProgressRow>,
    totals: Vec<FormTotal>,
    not_understood: Vec<NotUnderstoodLine>,
    error: Option<String>,
}

/// What the programme's checklist page shows beyond the store's progress:
/// the programme's framework and its own items, and totals by form.
struct ProgrammeFrameworks {
    framework: Option<FrameworkRecord>,
    supplement: Option<FrameworkRecord>,
    /// form key → (respondents, submitted, completion)
    totals: BTreeMap<String, (usize, usize, Completion)>,
}

/// The programme's own items are the newest version of its supplement;
/// its framework and the totals by form are read from the checklists of
/// the engagements the reader may see (each an audited read).
async fn programme_frameworks(
    state: &AppState,
    who: &Signed,
    programme: ProgrammeId,
    progress: &ChecklistProgress,
) -> Result<ProgrammeFrameworks, WebError> {
    let store = &state.store;
    let supplement = store
        .frameworks(&who.ctx)
        .await?
        .into_iter()
        .filter(|r| r.origin == FrameworkOrigin::Programme && r.programme_id == Some(programme))
        .max_by_key(|r| r.version);
    let mut framework = None;
    let mut totals: BTreeMap<String, (usize, usize, Completion)> = BTreeMap::new();
    for e in &progress.engagements {
        let c = store.engagement_checklist(&who.ctx, e.engagement).await?;
        if framework.is_none() {
            framework = c.framework;
        }
        for s in &c.respondents {
            let t = totals.entry(s.respondent.form_key.clone()).or_default();
            t.0 += 1;
            if s.respondent.submitted_at_ms.is_some() {
                t.1 += 1;
            }
            t.2.add(s.completion);
        }
    }
    Ok(ProgrammeFrameworks {
        framework,
        supplement,
        totals,
    })
}

async fn programme_checklist_page(
    state: &AppState,
    who: &Signed,
    id: ProgrammeId,
    error: Option<String>,
    done: &Option<String>,
) -> Result<ProgrammeChecklistPage, WebError> {
    let tr = who.tr;
    let store = &state.store;
    let detail = store.programme_detail(&who.ctx, id).await?;
    let progress = store.checklist_progress(&who.ctx, id).await?;
    let ProgrammeFrameworks {
        framework,
        supplement,
        totals,
    } = programme_frameworks(state, who, id, &progress).await?;
    let secretariat = is_secretariat(who);
    let choices = if secretariat {
        framework_choices(store.frameworks(&who.ctx).await?, framework.as_ref())
    } else {
        Vec::new()
    };
    let form_title = |key: &str| {
        framework
            .as_ref()
            .and_then(|f| f.framework.form(key))
            .map(|f| f.title_ja.clone())
            .or_else(|| {
                supplement
                    .as_ref()
                    .filter(|_| key == mamori_store::SUPPLEMENT_FORM)
                    .map(|s| s.framework.title_ja.clone())
            })
            .unwrap_or_else(|| key.to_string())
    };
    let items = supplement
        .as_ref()
        .map(|s| {
            s.framework
                .forms
                .iter()
                .flat_map(|f| f.items())
                .map(|i| SupplementLine {
                    number: i.number.clone(),
                    text_ja: i.text_ja.clone(),
                    text_en: i.text_en.clone(),
                    cells: i
                        .cells
                        .iter()
                        .map(|c| cell_label(tr, c))
                        .collect::<Vec<_>>()
                        .join(tr.t("list.separator")),
                    forms: if i.forms.is_empty() {
                        tr.t("programme_checklist.all_forms").to_string()
                    } else {
                        i.forms
                            .iter()
                            .map(|k| form_title(k))
                            .collect::<Vec<_>>()
                            .join(tr.t("list.separator"))
                    },
                    note: i.note_ja.clone(),
                    evidence: i.evidence.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let rows = progress
        .engagements
        .iter()
        .map(|e| ProgressRow {
            engagement: e.engagement.0,
            hospital: e.hospital_name.clone(),
            company: e.company_name.clone(),
            state: tr.value("state", e.state.slug()),
            state_slug: e.state.slug(),
            respondents: e.respondents,
            submitted: e.submitted,
            answered: e.completion.answered,
            applicable: e.completion.applicable,
            percent: e.completion.percent(),
            no: e.completion.no,
            not_understood: e.completion.not_understood,
        })
        .collect();
    let totals = totals
        .iter()
        .map(|(form, (respondents, submitted, completion))| FormTotal {
            title: form_title(form),
            respondents: *respondents,
            submitted: *submitted,
            answered: completion.answered,
            applicable: completion.applicable,
            percent: completion.percent(),
        })
        .collect();
    let not_understood = progress
        .not_understood
        .iter()
        .map(|n| NotUnderstoodLine {
            framework_id: n.framework_id,
            form: form_title(&n.form_key),
            number: n.item_number.clone(),
            anchor: format!("item-{}-{}", n.form_key, anchor(&n.item_number)),
            text: n.text_ja.clone(),
            hospitals: n.hospitals,
            notes: n.notes.clone(),
        })
        .collect();
    Ok(ProgrammeChecklistPage {
        chrome: Chrome::page(state, who, "/programmes")
            .await?
            .with_notice(done),
        id: id.0,
        name: detail.programme.name.clone(),
        framework: framework
            .as_ref()
            .map(|f| (f.id, framework_label(f), f.unverified())),
        framework_unknown: progress.engagements.is_empty(),
        supplement: supplement.as_ref().map(|s| (s.id, framework_label(s))),
        choices,
        is_secretariat: secretariat,
        items,
        forms: framework
            .as_ref()
            .map(|f| {
                f.framework
                    .forms
                    .iter()
                    .map(|form| (form.key.clone(), form.title_ja.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        scopes: Scope::ALL
            .iter()
            .map(|s| (s.slug(), tr.value("scope", s.slug())))
            .collect(),
        rows,
        totals,
        not_understood,
        error,
    })
}

/// Every framework a programme may answer (no programme's own items),
/// newest first, the current one chosen.
fn framework_choices(
    records: Vec<FrameworkRecord>,
    current: Option<&FrameworkRecord>,
) -> Vec<(i64, String, bool)> {
    let mut records: Vec<FrameworkRecord> = records
        .into_iter()
        .filter(|r| r.origin != FrameworkOrigin::Programme)
        .collect();
    records.sort_by(|a, b| {
        b.framework
            .fiscal_year
            .cmp(&a.framework.fiscal_year)
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| b.version.cmp(&a.version))
    });
    records
        .iter()
        .map(|r| {
            let unverified = r.unverified();
            let label = if unverified > 0 {
                format!("{} [{}] ⚠{unverified}", framework_label(r), r.key)
            } else {
                format!("{} [{}]", framework_label(r), r.key)
            };
            (r.id, label, current.is_some_and(|c| c.id == r.id))
        })
        .collect()
}

pub async fn programme_checklist(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<ProgrammeChecklistPage, WebError> {
    programme_checklist_page(&state, &who, ProgrammeId(id), None, &done.done).await
}

async fn programme_outcome<T>(
    state: &AppState,
    who: &Signed,
    id: ProgrammeId,
    result: Result<T, StoreError>,
    done: &str,
    section: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/programmes/{id}/checklist?done={done}#{section}"))
                .into_response(),
        ),
        Err(e) => {
            let refusal: Refusal = forms::store_refusal(who.tr, e)?;
            let page =
                programme_checklist_page(state, who, id, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct FrameworkChoice {
    #[serde(default)]
    framework: String,
}

pub async fn set_framework(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<FrameworkChoice>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let result = match forms::whole("framework", &form.framework) {
        Ok(framework) => {
            state
                .store
                .set_programme_framework(&who.ctx, id, framework)
                .await
        }
        Err(e) => Err(e.into()),
    };
    programme_outcome(&state, &who, id, result, "framework_set", "framework").await
}

pub async fn add_item(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let parsed = Scope::parse(&field("scope")).map(|scope| NewProgrammeItem {
        text_ja: field("text_ja"),
        text_en: field("text_en"),
        scope,
        forms: fields
            .iter()
            .filter(|(k, v)| k == "forms" && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect(),
        note_ja: field("note_ja"),
    });
    let result = match parsed {
        Ok(item) => state.store.add_programme_item(&who.ctx, id, &item).await,
        Err(e) => Err(e.into()),
    };
    programme_outcome(&state, &who, id, result, "programme_item_added", "items").await
}
