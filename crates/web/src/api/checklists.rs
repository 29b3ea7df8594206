//! Checklists, hearings, material requests and vendor inquiries over the
//! JSON API: the same store operations as the pages, so the same policy
//! (survey responses), the same one-week rule and the same audit apply.
//!
//! Refusals are JSON: 400 for a body that is not what the operation takes,
//! 422 for content the rules refuse (naming the item or row), 403 for the
//! policy, 404 for something that is not there or not this engagement's,
//! 409 for a conflict (a self-assessment already submitted).

use super::{ApiCaller, json_body};
use crate::error::WebError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mamori_domain::checklist::{
    Answer, AnswerValue, CellKey, Completion, Confirmation, Framework, RequestParty,
    RespondentRole, Scope,
};
use mamori_domain::organisation::OrgKind;
use mamori_domain::{AccountId, DomainError, EngagementId, ProgrammeId};
use mamori_store::{
    EngagementChecklist, FrameworkRecord, NewFile, NewHearing, NewInquiry, NewProgrammeItem,
    NewRequest, NewRespondent, Participant, RespondentSheet, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use time::Date;
use utoipa::{IntoParams, ToSchema};

/// Why a checklist request was refused, as JSON.
pub enum Refused {
    /// As the rest of the API answers it (400, 403, 404, 409, 500).
    Api(WebError),
    /// 422: content the rules refuse, with what is wrong and, where it
    /// helps, fields naming the item or listing every gap.
    Unprocessable { message: String, extra: Value },
}

impl Refused {
    fn unprocessable(message: impl Into<String>) -> Self {
        Refused::Unprocessable {
            message: message.into(),
            extra: json!({}),
        }
    }

    fn with(message: impl Into<String>, extra: Value) -> Self {
        Refused::Unprocessable {
            message: message.into(),
            extra,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Api(e) => e.into_api_response(),
            Refused::Unprocessable { message, extra } => {
                let mut body =
                    json!({"error": "unprocessable", "message": message, "operation": null});
                if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
                    body.extend(extra);
                }
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
        }
    }
}

/// What the rules refuse is 422 (naming the field or item); the rest as
/// the lifecycle API answers it.
impl From<StoreError> for Refused {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Invalid(e) => Refused::unprocessable(e.to_string()),
            StoreError::Duplicate { what, value } => {
                Refused::unprocessable(format!("{what} already exists: {value}"))
            }
            other => Refused::Api(other.into()),
        }
    }
}

impl From<DomainError> for Refused {
    fn from(err: DomainError) -> Self {
        Refused::unprocessable(err.to_string())
    }
}

impl From<WebError> for Refused {
    fn from(err: WebError) -> Self {
        Refused::Api(err)
    }
}

type Answered = Result<Response, Refused>;

fn to_json<T: Serialize>(value: T) -> Result<Value, Refused> {
    serde_json::to_value(value).map_err(|e| Refused::Api(WebError::Internal(e.to_string())))
}

fn ok<T: Serialize>(status: StatusCode, value: T) -> Answered {
    Ok((status, Json(to_json(value)?)).into_response())
}

fn secretariat_only(caller: &ApiCaller) -> Result<(), Refused> {
    if caller.account.org_kind == OrgKind::Secretariat {
        Ok(())
    } else {
        Err(Refused::Api(WebError::Forbidden))
    }
}

// --- frameworks --------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct FormSummaryBody {
    key: String,
    /// hospital, pharmacy, vendor, executive, administrator or user.
    audience: String,
    title_ja: String,
    items: usize,
    /// Answerable cells (an item split by device kind has one per kind).
    cells: usize,
}

#[derive(Serialize, ToSchema)]
pub struct FrameworkSummaryBody {
    id: i64,
    key: String,
    version: i64,
    /// builtin, imported or programme.
    origin: String,
    programme_id: Option<i64>,
    title_ja: String,
    edition_ja: String,
    fiscal_year: Option<i32>,
    #[schema(value_type = Option<String>, format = Date)]
    published: Option<Date>,
    /// circle or yes-no-dated.
    answer_style: String,
    forms: Vec<FormSummaryBody>,
    /// Items whose wording is not verified against the official text.
    unverified: usize,
    #[schema(value_type = Vec<Object>)]
    sources: Vec<mamori_domain::checklist::Source>,
    created_at_ms: i64,
}

fn summary(r: &FrameworkRecord) -> FrameworkSummaryBody {
    let f = &r.framework;
    FrameworkSummaryBody {
        id: r.id,
        key: r.key.clone(),
        version: r.version,
        origin: r.origin.slug().into(),
        programme_id: r.programme_id.map(|p| p.0),
        title_ja: f.title_ja.clone(),
        edition_ja: f.edition_ja.clone(),
        fiscal_year: f.fiscal_year,
        published: f.published,
        answer_style: f.answer_style.slug().into(),
        forms: f
            .forms
            .iter()
            .map(|form| FormSummaryBody {
                key: form.key.clone(),
                audience: form.audience.slug().into(),
                title_ja: form.title_ja.clone(),
                items: form.items().count(),
                cells: form.cells().count(),
            })
            .collect(),
        unverified: r.unverified(),
        sources: f.sources.clone(),
        created_at_ms: r.created_at_ms,
    }
}

/// Every framework version (the shipped MHLW editions, imported workbooks,
/// programmes' own items), by key and version, with their forms and how
/// many items are not verified.
#[utoipa::path(get, path = "/api/v1/checklists", tag = "checklists",
    responses((status = 200, body = Vec<FrameworkSummaryBody>)), security(("bearer" = [])))]
pub async fn list_frameworks(State(state): State<AppState>, caller: ApiCaller) -> Answered {
    let records = state.store.frameworks(&caller.ctx).await?;
    ok(
        StatusCode::OK,
        records.iter().map(summary).collect::<Vec<_>>(),
    )
}

/// One framework version: its summary and the framework itself in the
/// domain's format (what `POST /api/v1/checklists` takes), with the items
/// whose wording is unverified as `[form, number]`.
#[utoipa::path(get, path = "/api/v1/checklists/{id}", tag = "checklists",
    params(("id" = i64, Path)),
    responses((status = 200, description = "summary fields, `framework` and `unverified_items`", body = Object), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_framework(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let record = state.store.framework(&caller.ctx, id).await?;
    let mut body = to_json(summary(&record))?;
    body["framework"] = to_json(&record.framework)?;
    body["unverified_items"] = to_json(record.framework.unverified())?;
    ok(StatusCode::OK, body)
}

/// Loads a framework given in the domain's JSON format as the next version
/// of its key (secretariat). A framework that fails the checks is refused
/// (422) naming the form and item.
#[utoipa::path(post, path = "/api/v1/checklists", tag = "checklists",
    request_body(content = Object, description = "a framework: key, title_ja, edition_ja, answer_style, forms → sections → items"),
    responses((status = 201, body = FrameworkSummaryBody), (status = 400), (status = 403, description = "not the secretariat"), (status = 422, description = "the framework is not valid")),
    security(("bearer" = [])))]
pub async fn import_framework(
    State(state): State<AppState>,
    caller: ApiCaller,
    b: Result<Json<Value>, JsonRejection>,
) -> Answered {
    secretariat_only(&caller)?;
    let value = json_body(b)?;
    let framework = serde_json::from_value::<Framework>(value)
        .map_err(|e| Refused::unprocessable(format!("framework: {e}")))?;
    let record = state
        .store
        .import_framework(&caller.ctx, &framework)
        .await?;
    ok(StatusCode::CREATED, summary(&record))
}

// --- a programme's checklist ------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct CompletionBody {
    applicable: usize,
    answered: usize,
    no: usize,
    unknown: usize,
    not_understood: usize,
    percent: u32,
}

impl From<Completion> for CompletionBody {
    fn from(c: Completion) -> Self {
        CompletionBody {
            applicable: c.applicable,
            answered: c.answered,
            no: c.no,
            unknown: c.unknown,
            not_understood: c.not_understood,
            percent: c.percent(),
        }
    }
}

/// How far each engagement of the programme the caller may read is, and
/// the items people most often did not understand (most hospitals first).
#[utoipa::path(get, path = "/api/v1/programmes/{id}/checklist/progress", tag = "checklists",
    params(("id" = i64, Path)),
    responses((status = 200, description = "engagements (hospital, company, state, respondents, submitted, completion) and not_understood (item, hospitals, notes)", body = Object), (status = 404)),
    security(("bearer" = [])))]
pub async fn programme_progress(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let progress = state
        .store
        .checklist_progress(&caller.ctx, ProgrammeId(id))
        .await?;
    let engagements: Vec<Value> = progress
        .engagements
        .iter()
        .map(|e| {
            json!({
                "engagement_id": e.engagement,
                "hospital_id": e.hospital,
                "hospital_name": e.hospital_name,
                "company_name": e.company_name,
                "state": e.state,
                "respondents": e.respondents,
                "submitted": e.submitted,
                "completion": CompletionBody::from(e.completion),
            })
        })
        .collect();
    ok(
        StatusCode::OK,
        json!({
            "programme_id": id,
            "engagements": engagements,
            "not_understood": progress.not_understood,
        }),
    )
}

#[derive(Deserialize, ToSchema)]
pub struct ProgrammeFrameworkBody {
    /// A framework version (not a programme's own items).
    framework_id: i64,
}

/// Sets the framework the programme's hospitals answer (secretariat).
/// Refused (422) once someone answered another framework.
#[utoipa::path(put, path = "/api/v1/programmes/{id}/checklist", tag = "checklists",
    params(("id" = i64, Path)), request_body = ProgrammeFrameworkBody,
    responses((status = 204), (status = 400), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn set_programme_framework(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<ProgrammeFrameworkBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    state
        .store
        .set_programme_framework(&caller.ctx, ProgrammeId(id), b.framework_id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ProgrammeItemBody {
    text_ja: String,
    #[serde(default)]
    text_en: String,
    /// organisation, whole-system, server, terminal-pc or network-device.
    scope: String,
    /// Form keys of the programme's framework that ask the item; empty: all.
    #[serde(default)]
    forms: Vec<String>,
    #[serde(default)]
    note_ja: String,
}

/// Adds an item of the programme's own (P-1, P-2, …) as a new version of
/// its supplement, kept apart from the official items (secretariat).
#[utoipa::path(post, path = "/api/v1/programmes/{id}/checklist/items", tag = "checklists",
    params(("id" = i64, Path)), request_body = ProgrammeItemBody,
    responses((status = 201, description = "the supplement's new version and the item's number (`item_number`)", body = Object), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn add_programme_item(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<ProgrammeItemBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    let item = NewProgrammeItem {
        scope: Scope::parse(&b.scope)?,
        text_ja: b.text_ja,
        text_en: b.text_en,
        forms: b.forms,
        note_ja: b.note_ja,
    };
    let record = state
        .store
        .add_programme_item(&caller.ctx, ProgrammeId(id), &item)
        .await?;
    let number = record
        .framework
        .forms
        .iter()
        .flat_map(|f| f.items())
        .last()
        .map(|i| i.number.clone())
        .unwrap_or_default();
    let mut body = to_json(summary(&record))?;
    body["item_number"] = json!(number);
    ok(StatusCode::CREATED, body)
}

// --- an engagement's checklist -------------------------------------------------------

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AnswerBody {
    /// The framework the item belongs to: the programme's framework or its
    /// own items (supplement).
    framework_id: i64,
    /// The item's number as printed, e.g. `2-(4)`.
    item: String,
    /// organisation, whole-system, server, terminal-pc or network-device.
    scope: String,
    /// yes, no, unknown or not-applicable.
    value: String,
    /// 確認日.
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default)]
    checked_on: Option<Date>,
    /// 目標日 (needed for `no` before submission in the dated style).
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default)]
    target_on: Option<Date>,
    /// 理解が困難であった部分.
    #[serde(default)]
    not_understood: String,
}

fn answer_bodies(framework_id: i64, answers: &BTreeMap<CellKey, Answer>) -> Vec<AnswerBody> {
    answers
        .iter()
        .map(|(k, a)| AnswerBody {
            framework_id,
            item: k.item.clone(),
            scope: k.scope.slug().into(),
            value: a.value.slug().into(),
            checked_on: a.checked_on,
            target_on: a.target_on,
            not_understood: a.not_understood.clone(),
        })
        .collect()
}

fn framework_ref(r: &FrameworkRecord) -> Value {
    json!({
        "id": r.id,
        "key": r.key,
        "version": r.version,
        "title_ja": r.framework.title_ja,
        "edition_ja": r.framework.edition_ja,
        "answer_style": r.framework.answer_style,
        "unverified": r.unverified(),
    })
}

fn sheet_body(c: &EngagementChecklist, s: &RespondentSheet) -> Value {
    let r = &s.respondent;
    let supplement_id = c.supplement.as_ref().map(|s| s.id).unwrap_or_default();
    json!({
        "id": r.id,
        "name": r.name,
        "role": r.role,
        "form_key": r.form_key,
        "framework_id": r.framework_id,
        "account_id": r.account,
        "link_expires_at_ms": r.link_expires_at_ms,
        "submitted_at_ms": r.submitted_at_ms,
        "created_at_ms": r.created_at_ms,
        "completion": CompletionBody::from(s.completion),
        "answers": answer_bodies(r.framework_id, &s.answers),
        "supplement_answers": answer_bodies(supplement_id, &s.supplement_answers),
    })
}

fn checklist_body(c: &EngagementChecklist) -> Value {
    json!({
        "engagement_id": c.engagement,
        "hospital_id": c.hospital,
        "hospital_name": c.hospital_name,
        "framework": c.framework.as_ref().map(framework_ref),
        "supplement": c.supplement.as_ref().map(framework_ref),
        "respondents": c.respondents.iter().map(|s| sheet_body(c, s)).collect::<Vec<_>>(),
    })
}

/// The engagement's checklist: its framework and the programme's own
/// items, every respondent with answers and completion. Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/checklist", tag = "checklists",
    params(("id" = i64, Path)),
    responses((status = 200, description = "framework, supplement, respondents (answers, supplement_answers, completion)", body = Object), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn engagement_checklist(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let c = state
        .store
        .engagement_checklist(&caller.ctx, EngagementId(id))
        .await?;
    ok(StatusCode::OK, checklist_body(&c))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RespondentBody {
    /// A form of the programme's framework, e.g. `hospital`.
    form_key: String,
    /// director, administrator, user, vendor or other.
    role: String,
    name: String,
    /// The hospital account answering; left out: anyone of the hospital or a link.
    account_id: Option<i64>,
}

/// Adds a person who answers one form for the engagement (hospital staff,
/// the contracted company or the secretariat).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/checklist/respondents", tag = "checklists",
    params(("id" = i64, Path)), request_body = RespondentBody,
    responses((status = 201, body = Object), (status = 400), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn add_respondent(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<RespondentBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    let new = NewRespondent {
        role: RespondentRole::parse(&b.role)?,
        form_key: b.form_key,
        name: b.name,
        account: b.account_id.map(AccountId),
    };
    let r = state
        .store
        .add_respondent(&caller.ctx, EngagementId(id), &new)
        .await?;
    ok(StatusCode::CREATED, r)
}

/// The respondent's sheet, or 404 when the respondent is not this
/// engagement's (an audited read).
async fn own_sheet(
    state: &AppState,
    caller: &ApiCaller,
    engagement: EngagementId,
    respondent: i64,
) -> Result<RespondentSheet, Refused> {
    let c = state
        .store
        .respondent_sheet(&caller.ctx, respondent)
        .await?;
    if c.engagement != engagement {
        return Err(Refused::Api(WebError::NotFound));
    }
    c.respondents
        .into_iter()
        .find(|s| s.respondent.id == respondent)
        .ok_or(Refused::Api(WebError::NotFound))
}

#[derive(Deserialize, ToSchema)]
pub struct AnswersBody {
    /// Every answer names the same framework: the programme's framework or
    /// its own items (send those in a second request).
    answers: Vec<AnswerBody>,
}

/// Reads the answers of a request: one framework, each cell once.
fn answers_of(list: Vec<AnswerBody>) -> Result<(i64, BTreeMap<CellKey, Answer>), Refused> {
    let frameworks: BTreeSet<i64> = list.iter().map(|a| a.framework_id).collect();
    let mut frameworks = frameworks.into_iter();
    let framework_id = match (frameworks.next(), frameworks.next()) {
        (None, _) => return Err(Refused::unprocessable("answers: the list is empty")),
        (Some(one), None) => one,
        (Some(one), Some(other)) => {
            return Err(Refused::unprocessable(format!(
                "answers: name one framework per request (given: {one}, {other})"
            )));
        }
    };
    let mut answers = BTreeMap::new();
    for a in list {
        let at = format!("{} ({})", a.item.trim(), a.scope.trim());
        let named = |e: DomainError| Refused::with(format!("{at}: {e}"), json!({"item": a.item}));
        let key = CellKey::new(a.item.trim(), Scope::parse(&a.scope).map_err(named)?);
        let answer = Answer {
            value: AnswerValue::parse(&a.value).map_err(named)?,
            checked_on: a.checked_on,
            target_on: a.target_on,
            not_understood: a.not_understood.trim().to_string(),
        };
        if answers.insert(key, answer).is_some() {
            return Err(Refused::with(
                format!("{at}: appears twice"),
                json!({"item": a.item}),
            ));
        }
    }
    Ok((framework_id, answers))
}

/// Saves a list of answers for one respondent, all or nothing: a refused
/// answer (unknown item or scope, a 確認日 in the future, a 目標日 before
/// the 確認日 …) is named and nothing is saved.
#[utoipa::path(put, path = "/api/v1/engagements/{id}/checklist/respondents/{rid}/answers", tag = "checklists",
    params(("id" = i64, Path), ("rid" = i64, Path, description = "respondent id")), request_body = AnswersBody,
    responses((status = 200, description = "saved (count) and the respondent's completion", body = Object), (status = 400), (status = 403), (status = 404), (status = 422, description = "an answer is refused; nothing was saved")),
    security(("bearer" = [])))]
pub async fn put_answers(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, rid)): Path<(i64, i64)>,
    b: Result<Json<AnswersBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    let engagement = EngagementId(id);
    own_sheet(&state, &caller, engagement, rid).await?;
    let (framework_id, answers) = answers_of(b.answers)?;
    let saved = state
        .store
        .import_answers(&caller.ctx, rid, framework_id, &answers)
        .await?;
    let sheet = own_sheet(&state, &caller, engagement, rid).await?;
    ok(
        StatusCode::OK,
        json!({"saved": saved, "completion": CompletionBody::from(sheet.completion)}),
    )
}

/// Submits the respondent's self-assessment: refused (422) with every gap
/// in `gaps` until every cell is answered and every いいえ has its 目標日;
/// 409 when already submitted.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/checklist/respondents/{rid}/submit", tag = "checklists",
    params(("id" = i64, Path), ("rid" = i64, Path, description = "respondent id")),
    responses((status = 200, body = Object), (status = 403), (status = 404), (status = 409, description = "already submitted"), (status = 422, description = "gaps: one line per item")),
    security(("bearer" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, rid)): Path<(i64, i64)>,
) -> Answered {
    own_sheet(&state, &caller, EngagementId(id), rid).await?;
    match state.store.submit_self_assessment(&caller.ctx, rid).await {
        Ok(r) => ok(StatusCode::OK, r),
        Err(StoreError::Invalid(DomainError::Invalid { field, reason })) => {
            let gaps: Vec<&str> = reason
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            Err(Refused::with(
                format!("{field}: {reason}"),
                json!({"gaps": gaps}),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct WorkbookQuery {
    /// Only this respondent's sheet.
    respondent: Option<i64>,
}

/// The engagement's checklist as an Excel workbook in the official layout:
/// one sheet per respondent, with the surveyor's confirmed answers.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/checklist.xlsx", tag = "checklists",
    params(("id" = i64, Path), WorkbookQuery),
    responses((status = 200, description = "xlsx"), (status = 400, description = "no checklist version is set"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn workbook(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Query(q): Query<WorkbookQuery>,
) -> Answered {
    let (name, bytes) = crate::documents::checklist_workbook(
        &state.store,
        &caller.ctx,
        EngagementId(id),
        q.respondent,
        crate::documents::ChecklistFormat::Xlsx,
    )
    .await?;
    let file = mamori_store::StoredFile {
        id: 0,
        name,
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
        size_bytes: bytes.len() as i64,
        sha256: String::new(),
    };
    Ok(crate::pages::forms::download(&file, bytes))
}

// --- hearings ----------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct ParticipantBody {
    /// A respondent of the engagement; left out for someone named only.
    respondent_id: Option<i64>,
    #[serde(default)]
    name: String,
    minutes: u32,
}

#[derive(Deserialize, ToSchema)]
pub struct HearingBody {
    #[schema(value_type = String, format = Date)]
    held_on: Date,
    participants: Vec<ParticipantBody>,
    #[serde(default)]
    notes: String,
}

/// The engagement's hearings with their participants. Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/hearings", tag = "hearings",
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn hearings(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let list = state.store.hearings(&caller.ctx, EngagementId(id)).await?;
    ok(StatusCode::OK, list)
}

/// Records a hearing (the contracted company or the secretariat): who took
/// part for how long.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/hearings", tag = "hearings",
    params(("id" = i64, Path)), request_body = HearingBody,
    responses((status = 201, body = Object), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn record_hearing(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<HearingBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    let new = NewHearing {
        held_on: b.held_on,
        participants: b
            .participants
            .into_iter()
            .map(|p| Participant {
                respondent_id: p.respondent_id,
                name: p.name,
                minutes: p.minutes,
            })
            .collect(),
        notes: b.notes,
    };
    let hearing = state
        .store
        .record_hearing(&caller.ctx, EngagementId(id), &new)
        .await?;
    ok(StatusCode::CREATED, hearing)
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmationBody {
    /// The framework the cell belongs to (the respondent's or the supplement).
    framework_id: i64,
    item: String,
    scope: String,
    /// The confirmed answer: yes, no, unknown or not-applicable; may be
    /// left out when the item is left open.
    value: Option<String>,
    /// Carry the item over to the next visit.
    #[serde(default)]
    open: bool,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmationsBody {
    respondent_id: i64,
    confirmations: Vec<ConfirmationBody>,
}

/// Records the surveyor's confirmed answers for one respondent at a
/// hearing, all or none. Answers how many rows were stored (a repeat of
/// the latest confirmation without a note is not stored again).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/hearings/{hid}/confirmations", tag = "hearings",
    params(("id" = i64, Path), ("hid" = i64, Path, description = "hearing id")), request_body = ConfirmationsBody,
    responses((status = 201, body = Object), (status = 400), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, hid)): Path<(i64, i64)>,
    b: Result<Json<ConfirmationsBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    let hearings = state.store.hearings(&caller.ctx, EngagementId(id)).await?;
    if !hearings.iter().any(|h| h.id == hid) {
        return Err(Refused::Api(WebError::NotFound));
    }
    let mut rows = Vec::with_capacity(b.confirmations.len());
    for c in b.confirmations {
        let at = format!("{} ({})", c.item.trim(), c.scope.trim());
        let named = |e: DomainError| Refused::with(format!("{at}: {e}"), json!({"item": c.item}));
        let scope = Scope::parse(&c.scope).map_err(named)?;
        let value = match c.value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(AnswerValue::parse(v).map_err(named)?),
        };
        rows.push((
            CellKey::new(c.item.trim(), scope),
            c.framework_id,
            Confirmation {
                value,
                open: c.open,
            },
            c.note,
        ));
    }
    let stored = state
        .store
        .confirm_answers(&caller.ctx, hid, b.respondent_id, &rows)
        .await?;
    ok(StatusCode::CREATED, json!({"stored": stored}))
}

// --- material requests ------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct RequestBody {
    /// The hearing the material was promised at.
    hearing_id: Option<i64>,
    subject: String,
    /// hospital or vendor.
    party: String,
    #[serde(default)]
    vendor_name: String,
    #[schema(value_type = String, format = Date)]
    requested_on: Date,
    /// A week after the request when left out.
    #[schema(value_type = Option<String>, format = Date)]
    due_on: Option<Date>,
}

/// The engagement's material requests (宿題), each with its status as of
/// today: past its due day an open request is not submitted.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/requests", tag = "hearings",
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn requests(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let list = state
        .store
        .material_requests(&caller.ctx, EngagementId(id))
        .await?;
    ok(StatusCode::OK, list)
}

/// Requests material (due a week later unless given).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/requests", tag = "hearings",
    params(("id" = i64, Path)), request_body = RequestBody,
    responses((status = 201, body = Object), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn raise_request(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<RequestBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    let new = NewRequest {
        party: RequestParty::parse(&b.party)?,
        hearing_id: b.hearing_id,
        subject: b.subject,
        vendor_name: b.vendor_name,
        requested_on: b.requested_on,
        due_on: b.due_on,
    };
    let request = state
        .store
        .raise_request(&caller.ctx, EngagementId(id), &new)
        .await?;
    ok(StatusCode::CREATED, request)
}

/// A file inside a JSON body.
#[derive(Deserialize, ToSchema)]
pub struct MaterialFileBody {
    /// The file name, e.g. `network.pdf` (pdf, png, jpg, xlsx, docx, txt).
    name: String,
    /// The content, base64 (standard alphabet).
    content_base64: String,
}

impl MaterialFileBody {
    fn into_new_file(self) -> Result<NewFile, Refused> {
        use base64::Engine;
        let data = base64::engine::general_purpose::STANDARD
            .decode(self.content_base64.trim())
            .map_err(|e| Refused::Api(WebError::BadRequest(format!("content_base64: {e}"))))?;
        Ok(NewFile {
            name: self.name,
            data,
        })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ReceivedBody {
    #[schema(value_type = String, format = Date)]
    received_on: Date,
    /// The material, if it came as a file.
    file: Option<MaterialFileBody>,
    #[serde(default)]
    note: String,
}

/// Records that requested material arrived (late material keeps the day
/// it lapsed).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/requests/{rid}/received", tag = "hearings",
    params(("id" = i64, Path), ("rid" = i64, Path, description = "request id")), request_body = ReceivedBody,
    responses((status = 200, body = Object), (status = 400), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn receive_request(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, rid)): Path<(i64, i64)>,
    b: Result<Json<ReceivedBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    let requests = state
        .store
        .material_requests(&caller.ctx, EngagementId(id))
        .await?;
    if !requests.iter().any(|r| r.id == rid) {
        return Err(Refused::Api(WebError::NotFound));
    }
    let file = b.file.map(MaterialFileBody::into_new_file).transpose()?;
    let request = state
        .store
        .receive_request(&caller.ctx, rid, b.received_on, file, &b.note)
        .await?;
    ok(StatusCode::OK, request)
}

// --- vendor inquiries ---------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct InquiryBody {
    vendor_name: String,
    #[serde(default)]
    vendor_contact: String,
    question: String,
    /// Who at the hospital agreed that the vendor be asked.
    consent_given_by: String,
    #[schema(value_type = String, format = Date)]
    consent_on: Date,
    #[schema(value_type = String, format = Date)]
    requested_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    due_on: Option<Date>,
    /// How many days the vendor's link works (1–30, default 14).
    valid_days: Option<u32>,
}

/// The engagement's vendor inquiries with their status and answers.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/inquiries", tag = "hearings",
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn inquiries(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Answered {
    let list = state
        .store
        .vendor_inquiries(&caller.ctx, EngagementId(id))
        .await?;
    ok(StatusCode::OK, list)
}

/// Asks a vendor, with the hospital's consent. The answer holds the
/// vendor's link (`link`) once: only its hash is kept.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/inquiries", tag = "hearings",
    params(("id" = i64, Path)), request_body = InquiryBody,
    responses((status = 201, description = "the inquiry and `link`, shown only now", body = Object), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn open_inquiry(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<InquiryBody>, JsonRejection>,
) -> Answered {
    let b = json_body(b)?;
    let new = NewInquiry {
        vendor_name: b.vendor_name,
        vendor_contact: b.vendor_contact,
        question: b.question,
        consent_given_by: b.consent_given_by,
        consent_on: b.consent_on,
        requested_on: b.requested_on,
        due_on: b.due_on,
        valid_days: b
            .valid_days
            .unwrap_or(mamori_store::DEFAULT_INQUIRY_LINK_DAYS),
    };
    let (inquiry, token) = state
        .store
        .open_vendor_inquiry(&caller.ctx, EngagementId(id), &new)
        .await?;
    let mut body = to_json(&inquiry)?;
    body["link"] = json!(format!("{}/v/{token}", state.config.public_base()));
    ok(StatusCode::CREATED, body)
}
