//! The checklist hearing of one engagement (seed 資料4 §3.2, §3.4): who
//! answers which form, their self-assessment (with an account or a link,
//! saved as they go), hearings where the surveyor confirms each answer,
//! material requests (宿題) and vendor inquiries, and the workbook in and out.

use super::forms::{self, Refusal, UploadForm};
use super::{Chrome, Done};
use crate::documents;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::{Signed, Visitor};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::checklist::{
    Answer, AnswerStyle, AnswerValue, CellKey, Completion, Confirmation, Form as ChecklistForm,
    Item, RequestParty, RequestStatus, RespondentRole, Scope, reconcile,
};
use mamori_domain::ledger::{Ledger, evidence_for};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData};
use mamori_domain::{AccountId, DomainError, EngagementId};
use mamori_store::{
    EngagementChecklist, FrameworkRecord, MaterialRequest, NewHearing, NewInquiry, NewRequest,
    NewRespondent, Participant, RespondentSheet, StoreError, VendorInquiry,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use time::Date;

/// The label of a scope as the official workbook prints it.
pub fn scope_label(tr: Tr, scope: Scope) -> String {
    tr.value("scope", scope.slug())
}

/// 令和6年度中 / "by FY2024".
pub fn required_label(tr: Tr, year: Option<i32>) -> String {
    match (year, tr.lang) {
        (None, _) => String::new(),
        (Some(y), mamori_domain::organisation::Language::Japanese) => {
            format!("{}中", mamori_documents::dates::japanese_era_fiscal_year(y))
        }
        (Some(y), _) => format!("by FY{y}"),
    }
}

fn answer_label(tr: Tr, style: AnswerStyle, value: AnswerValue) -> String {
    match tr.lang {
        mamori_domain::organisation::Language::Japanese => value.mark(style).to_string(),
        _ => tr.value("answer", value.slug()),
    }
}

/// One answerable cell on the self-assessment page.
pub struct CellView {
    pub framework_id: i64,
    pub item: String,
    pub scope: &'static str,
    pub scope_label: String,
    pub required: String,
    pub anchor: String,
    pub value: &'static str,
    pub checked_on: String,
    pub target_on: String,
    pub not_understood: String,
}

pub struct ItemView {
    pub number: String,
    pub text: String,
    pub note: String,
    pub unverified: bool,
    pub gate: bool,
    pub cells: Vec<CellView>,
}

pub struct SectionView {
    pub title: String,
    pub supplement: bool,
    pub items: Vec<ItemView>,
}

fn item_text(tr: Tr, item: &Item) -> (String, String) {
    let english = tr.lang == mamori_domain::organisation::Language::English;
    let text = if english && !item.text_en.is_empty() {
        format!("{} ({})", item.text_en, item.text_ja)
    } else {
        item.text_ja.clone()
    };
    let note = if english && !item.note_en.is_empty() {
        item.note_en.clone()
    } else {
        item.note_ja.clone()
    };
    (text, note)
}

fn section_views(
    tr: Tr,
    record: &FrameworkRecord,
    form: &ChecklistForm,
    answers: &BTreeMap<CellKey, Answer>,
    supplement: bool,
) -> Vec<SectionView> {
    form.sections
        .iter()
        .map(|s| SectionView {
            title: format!("{} {}", s.number, s.title_ja).trim().to_string(),
            supplement,
            items: s
                .items
                .iter()
                .filter(|i| {
                    !supplement || i.forms.is_empty() || i.forms.iter().any(|f| f == &form.key)
                })
                .map(|item| {
                    let (text, note) = item_text(tr, item);
                    ItemView {
                        number: item.number.clone(),
                        text,
                        note,
                        unverified: !item.is_verified(),
                        gate: item.gate,
                        cells: item
                            .cells
                            .iter()
                            .map(|cell| {
                                let key = CellKey::new(item.number.clone(), cell.scope);
                                let a = answers.get(&key);
                                CellView {
                                    framework_id: record.id,
                                    anchor: anchor(record.id, &item.number, cell.scope),
                                    item: item.number.clone(),
                                    scope: cell.scope.slug(),
                                    scope_label: scope_label(tr, cell.scope),
                                    required: required_label(tr, cell.required_fy),
                                    value: a.map(|a| a.value.slug()).unwrap_or(""),
                                    checked_on: a
                                        .and_then(|a| a.checked_on)
                                        .map(|d| d.to_string())
                                        .unwrap_or_default(),
                                    target_on: a
                                        .and_then(|a| a.target_on)
                                        .map(|d| d.to_string())
                                        .unwrap_or_default(),
                                    not_understood: a
                                        .map(|a| a.not_understood.clone())
                                        .unwrap_or_default(),
                                }
                            })
                            .collect(),
                    }
                })
                .filter(|i| !i.cells.is_empty())
                .collect(),
        })
        .filter(|s| !s.items.is_empty())
        .collect()
}

/// A stable fragment id for a cell (`c12-2-4-server`).
fn anchor(framework: i64, item: &str, scope: Scope) -> String {
    let item: String = item
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("c{framework}-{item}-{}", scope.slug())
}

/// The self-assessment page, for a signed-in respondent or a link.
#[derive(Template, WebTemplate)]
#[template(path = "respondent.html")]
pub struct RespondentPage {
    chrome: Chrome,
    /// Where the forms post: `/checklist/respondents/{id}` or `/r/{token}`.
    base: String,
    back: Option<String>,
    hospital: String,
    respondent: String,
    role: String,
    form_title: String,
    edition: String,
    yes_no_dated: bool,
    answers: Vec<(&'static str, String)>,
    sections: Vec<SectionView>,
    completion: Completion,
    submitted: bool,
    editable: bool,
    error: Option<String>,
    gaps: Vec<String>,
    today: String,
}

/// What one respondent's sheet is drawn from.
struct SheetSource<'a> {
    hospital: &'a str,
    framework: &'a FrameworkRecord,
    supplement: Option<&'a FrameworkRecord>,
    sheet: &'a RespondentSheet,
}

fn respondent_page(
    chrome: Chrome,
    base: String,
    back: Option<String>,
    source: SheetSource<'_>,
    editable: bool,
    today: Date,
) -> Result<RespondentPage, WebError> {
    let SheetSource {
        hospital,
        framework,
        supplement,
        sheet,
    } = source;
    let tr = chrome.tr;
    let r = &sheet.respondent;
    let form = framework
        .framework
        .form(&r.form_key)
        .ok_or(WebError::NotFound)?;
    let style = framework.framework.answer_style;
    let mut sections = section_views(tr, framework, form, &sheet.answers, false);
    if let Some(sup) = supplement {
        for sup_form in &sup.framework.forms {
            // Supplement items name the programme forms that ask them.
            let scoped = ChecklistForm {
                key: form.key.clone(),
                ..sup_form.clone()
            };
            sections.extend(section_views(
                tr,
                sup,
                &scoped,
                &sheet.supplement_answers,
                true,
            ));
        }
    }
    Ok(RespondentPage {
        base,
        back,
        hospital: hospital.to_string(),
        respondent: r.name.clone(),
        role: tr.value("respondent_role", r.role.slug()),
        form_title: form.title_ja.clone(),
        edition: format!(
            "{} {}",
            framework.framework.title_ja, framework.framework.edition_ja
        ),
        yes_no_dated: style == AnswerStyle::YesNoDated,
        answers: AnswerValue::ALL
            .iter()
            .map(|v| (v.slug(), answer_label(tr, style, *v)))
            .collect(),
        sections,
        completion: sheet.completion,
        submitted: r.submitted_at_ms.is_some(),
        editable: editable && r.submitted_at_ms.is_none(),
        error: None,
        gaps: Vec::new(),
        today: today.to_string(),
        chrome,
    })
}

/// One respondent on the engagement's checklist page.
pub struct RespondentLine {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub form: String,
    pub answered: usize,
    pub applicable: usize,
    pub percent: u32,
    pub not_understood: usize,
    pub submitted: bool,
    pub account: bool,
    pub link_until: Option<String>,
}

pub struct HearingLine {
    pub id: i64,
    pub held_on: String,
    pub participants: String,
    pub minutes: u32,
    pub notes: String,
}

pub struct RequestLine {
    pub id: i64,
    pub subject: String,
    pub party: String,
    pub requested: String,
    pub due: String,
    pub status: String,
    pub status_slug: &'static str,
    pub late: bool,
    pub received: Option<String>,
    pub file_url: Option<String>,
    pub note: String,
}

pub struct InquiryLine {
    pub vendor: String,
    pub question: String,
    pub consent: String,
    pub due: String,
    pub status: String,
    pub status_slug: &'static str,
    pub answer: String,
    pub file_url: Option<String>,
}

/// A link made a moment ago: shown once, never stored in clear.
pub struct NewLink {
    pub label: String,
    pub url: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "checklist.html")]
pub struct ChecklistPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    company: String,
    framework: Option<(i64, String, usize)>,
    respondents: Vec<RespondentLine>,
    forms: Vec<(String, String)>,
    roles: Vec<(&'static str, String)>,
    hospital_accounts: Vec<(i64, String)>,
    hearings: Vec<HearingLine>,
    requests: Vec<RequestLine>,
    inquiries: Vec<InquiryLine>,
    parties: Vec<(&'static str, String)>,
    may_write: bool,
    may_record: bool,
    open_items: usize,
    error: Option<String>,
    new_link: Option<NewLink>,
    today: String,
    default_due: String,
}

fn request_line(tr: Tr, id: EngagementId, r: &MaterialRequest) -> RequestLine {
    let day = |d: Date| documents::local_date(tr, d);
    let party = match r.party {
        RequestParty::Vendor if !r.vendor_name.is_empty() => {
            format!("{} ({})", tr.value("party", r.party.slug()), r.vendor_name)
        }
        p => tr.value("party", p.slug()),
    };
    RequestLine {
        id: r.id,
        subject: r.subject.clone(),
        party,
        requested: day(r.requested_on),
        due: day(r.due_on),
        status: tr.value("request_status", r.status.slug()),
        status_slug: r.status.slug(),
        late: r.lapsed_on.is_some() && r.status == RequestStatus::Received,
        received: r.received_on.map(day),
        file_url: r
            .file_id
            .map(|_| format!("/engagements/{id}/requests/{}/file", r.id)),
        note: r.note.clone(),
    }
}

fn inquiry_line(tr: Tr, id: EngagementId, q: &VendorInquiry) -> InquiryLine {
    let day = |d: Date| documents::local_date(tr, d);
    InquiryLine {
        vendor: q.vendor_name.clone(),
        question: q.question.clone(),
        consent: format!("{} ({})", q.consent_given_by, day(q.consent_on)),
        due: day(q.due_on),
        status: tr.value("request_status", q.status.slug()),
        status_slug: q.status.slug(),
        answer: q.answer.clone(),
        file_url: q
            .file_id
            .map(|_| format!("/engagements/{id}/inquiries/{}/file", q.id)),
    }
}

async fn checklist_page(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    error: Option<String>,
    new_link: Option<NewLink>,
    done: &Option<String>,
) -> Result<ChecklistPage, WebError> {
    let tr = who.tr;
    let store = &state.store;
    let today = store.today();
    let c = store.engagement_checklist(&who.ctx, id).await?;
    let detail = store.engagement_detail(&who.ctx, id).await?;
    let actor = who.account.actor();
    let may_write = store
        .may(
            &actor,
            c.hospital,
            HospitalData::SurveyResponses,
            Access::Write,
        )
        .await?;
    let may_record = may_write
        && matches!(
            who.account.org_kind,
            OrgKind::SurveyCompany | OrgKind::Secretariat
        );
    let hearings = store.hearings(&who.ctx, id).await?;
    let requests = store.material_requests(&who.ctx, id).await?;
    let inquiries = store.vendor_inquiries(&who.ctx, id).await?;
    let open_items = store.open_items(&who.ctx, id).await?.len();
    let names: HashMap<i64, String> = c
        .respondents
        .iter()
        .map(|s| (s.respondent.id, s.respondent.name.clone()))
        .collect();
    let form_title = |key: &str| {
        c.framework
            .as_ref()
            .and_then(|f| f.framework.form(key))
            .map(|f| f.title_ja.clone())
            .unwrap_or_else(|| key.to_string())
    };
    let hospital_accounts = if who.account.org_kind == OrgKind::Hospital
        || who.account.org_kind == OrgKind::Secretariat
    {
        store
            .accounts_of(&actor, c.hospital)
            .await
            .map(|accounts| {
                accounts
                    .into_iter()
                    .map(|a| (a.id.0, a.display_name))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let chrome = Chrome::page(state, who, "/engagements")
        .await?
        .with_notice(done);
    Ok(ChecklistPage {
        id: id.0,
        hospital: c.hospital_name.clone(),
        company: detail.engagement.company_name.clone(),
        framework: c.framework.as_ref().map(|f| {
            (
                f.id,
                format!("{} {}", f.framework.title_ja, f.framework.edition_ja),
                f.unverified(),
            )
        }),
        respondents: c
            .respondents
            .iter()
            .map(|s| {
                let r = &s.respondent;
                RespondentLine {
                    id: r.id,
                    name: r.name.clone(),
                    role: tr.value("respondent_role", r.role.slug()),
                    form: form_title(&r.form_key),
                    answered: s.completion.answered,
                    applicable: s.completion.applicable,
                    percent: s.completion.percent(),
                    not_understood: s.completion.not_understood,
                    submitted: r.submitted_at_ms.is_some(),
                    account: r.account.is_some(),
                    link_until: r.link_expires_at_ms.map(crate::format::minutes),
                }
            })
            .collect(),
        forms: c
            .framework
            .as_ref()
            .map(|f| {
                f.framework
                    .forms
                    .iter()
                    .map(|form| (form.key.clone(), form.title_ja.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        roles: RespondentRole::ALL
            .iter()
            .map(|r| (r.slug(), tr.value("respondent_role", r.slug())))
            .collect(),
        hospital_accounts,
        hearings: hearings
            .iter()
            .map(|h| HearingLine {
                id: h.id,
                held_on: documents::local_date(tr, h.held_on),
                participants: h
                    .participants
                    .iter()
                    .map(|p| {
                        let name = p
                            .respondent_id
                            .and_then(|r| names.get(&r).cloned())
                            .unwrap_or_else(|| p.name.clone());
                        format!("{name} ({}{})", p.minutes, tr.t("unit.minutes"))
                    })
                    .collect::<Vec<_>>()
                    .join("、"),
                minutes: h.participants.iter().map(|p| p.minutes).sum(),
                notes: h.notes.clone(),
            })
            .collect(),
        requests: requests.iter().map(|r| request_line(tr, id, r)).collect(),
        inquiries: inquiries.iter().map(|q| inquiry_line(tr, id, q)).collect(),
        parties: RequestParty::ALL
            .iter()
            .map(|p| (p.slug(), tr.value("party", p.slug())))
            .collect(),
        may_write,
        may_record,
        open_items,
        error,
        new_link,
        today: today.to_string(),
        default_due: mamori_domain::checklist::default_request_due(today).to_string(),
        chrome,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<ChecklistPage, WebError> {
    checklist_page(&state, &who, EngagementId(id), None, None, &done.done).await
}

/// After a form of the checklist page: back to its section, or the page
/// again with the refusal named.
async fn outcome<T>(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    result: Result<T, StoreError>,
    done: &str,
    section: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/engagements/{id}/checklist?done={done}#{section}"
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            refused(state, who, id, refusal).await
        }
    }
}

async fn refused(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    refusal: Refusal,
) -> Result<Response, WebError> {
    let page = checklist_page(state, who, id, Some(refusal.message), None, &None).await?;
    Ok((refusal.status, page).into_response())
}

#[derive(Deserialize)]
pub struct RespondentForm {
    #[serde(default)]
    form_key: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    account: String,
}

pub async fn add_respondent(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<RespondentForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let parsed = RespondentRole::parse(&form.role).and_then(|role| {
        let account = match form.account.trim() {
            "" => None,
            text => Some(AccountId(forms::whole("account", text)?)),
        };
        Ok(NewRespondent {
            form_key: form.form_key.trim().to_string(),
            role,
            name: form.name.trim().to_string(),
            account,
        })
    });
    let result = match parsed {
        Ok(new) => state.store.add_respondent(&who.ctx, id, &new).await,
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "saved", "respondents").await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    valid_days: String,
}

pub async fn issue_link(
    State(state): State<AppState>,
    who: Signed,
    Path((id, respondent)): Path<(i64, i64)>,
    Form(form): Form<LinkForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let days = match form.valid_days.trim() {
        "" => Ok(14),
        text => forms::whole("valid_days", text),
    };
    let result = match days {
        Ok(days) => {
            state
                .store
                .issue_respondent_link(&who.ctx, respondent, days.clamp(0, 1000) as u32)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok((r, token)) => {
            show_link(
                &state,
                &who,
                id,
                r.name,
                format!("/r/{token}"),
                "link_issued",
            )
            .await
        }
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            refused(&state, &who, id, refusal).await
        }
    }
}

/// The checklist page with a link just issued, shown once.
async fn show_link(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    label: String,
    path: String,
    done: &str,
) -> Result<Response, WebError> {
    let link = NewLink {
        label,
        url: format!("{}{path}", state.config.public_base()),
    };
    let page = checklist_page(state, who, id, None, Some(link), &Some(done.into())).await?;
    Ok(page.into_response())
}

/// The respondent's own page for a signed-in person.
pub async fn respondent(
    State(state): State<AppState>,
    who: Signed,
    Path((id, respondent)): Path<(i64, i64)>,
    Query(done): Query<Done>,
) -> Result<RespondentPage, WebError> {
    respondent_view(&state, &who, EngagementId(id), respondent, &done.done).await
}

async fn respondent_view(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    respondent: i64,
    done: &Option<String>,
) -> Result<RespondentPage, WebError> {
    let c = state.store.engagement_checklist(&who.ctx, id).await?;
    let sheet = c
        .respondents
        .iter()
        .find(|s| s.respondent.id == respondent)
        .ok_or(WebError::NotFound)?;
    let framework = c.framework.as_ref().ok_or(WebError::NotFound)?;
    let may_write = state
        .store
        .may(
            &who.account.actor(),
            c.hospital,
            HospitalData::SurveyResponses,
            Access::Write,
        )
        .await?;
    // Hospital staff answer for themselves or for an unassigned respondent.
    let editable = may_write
        && (who.account.org_kind != OrgKind::Hospital
            || sheet.respondent.account.is_none_or(|a| a == who.account.id));
    let chrome = Chrome::page(state, who, "/engagements")
        .await?
        .with_notice(done);
    respondent_page(
        chrome,
        format!("/engagements/{id}/checklist/respondents/{respondent}"),
        Some(format!("/engagements/{id}/checklist")),
        SheetSource {
            hospital: &c.hospital_name,
            framework,
            supplement: c.supplement.as_ref(),
            sheet,
        },
        editable,
        state.store.today(),
    )
}

/// One answer as the page posts it (each cell is its own small form).
#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    framework: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    checked_on: String,
    #[serde(default)]
    target_on: String,
    #[serde(default)]
    not_understood: String,
}

impl AnswerForm {
    fn parse(&self) -> Result<(i64, CellKey, Answer), DomainError> {
        let framework = forms::whole("framework", &self.framework)?;
        let scope = Scope::parse(&self.scope)?;
        let value = AnswerValue::parse(&self.value).map_err(|_| {
            DomainError::invalid("value", format!("{}: choose an answer", self.item.trim()))
        })?;
        Ok((
            framework,
            CellKey::new(self.item.trim(), scope),
            Answer {
                value,
                checked_on: forms::optional_date("checked_on", &self.checked_on)?,
                target_on: forms::optional_date("target_on", &self.target_on)?,
                not_understood: self.not_understood.trim().to_string(),
            },
        ))
    }

    fn anchor(&self) -> String {
        let framework = self.framework.trim().parse().unwrap_or(0);
        let scope = Scope::parse(&self.scope).unwrap_or(Scope::WholeSystem);
        anchor(framework, self.item.trim(), scope)
    }
}

/// A save made by the page's script: answered with a short status, not a
/// redirect, so the person keeps their place.
fn is_background(headers: &HeaderMap) -> bool {
    headers
        .get("x-requested-with")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "fetch")
}

fn background_reply(tr: Tr, result: Result<(), StoreError>) -> Result<Response, WebError> {
    match result {
        Ok(()) => Ok((StatusCode::OK, tr.t("checklist.saved").to_string()).into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            Ok((refusal.status, refusal.message).into_response())
        }
    }
}

pub async fn save_answer(
    State(state): State<AppState>,
    who: Signed,
    headers: HeaderMap,
    Path((id, respondent)): Path<(i64, i64)>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let result = match form.parse() {
        Ok((framework, key, answer)) => {
            state
                .store
                .save_answer(&who.ctx, respondent, framework, &key, &answer)
                .await
        }
        Err(e) => Err(e.into()),
    };
    if is_background(&headers) {
        return background_reply(who.tr, result);
    }
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/engagements/{id}/checklist/respondents/{respondent}?done=answer_saved#{}",
            form.anchor()
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let mut page = respondent_view(&state, &who, id, respondent, &None).await?;
            page.error = Some(refusal.message);
            Ok((refusal.status, page).into_response())
        }
    }
}

/// Splits a submission refusal into its lines (one per item).
fn gaps_of(message: &str) -> Vec<String> {
    message
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn submit(
    State(state): State<AppState>,
    who: Signed,
    Path((id, respondent)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    match state
        .store
        .submit_self_assessment(&who.ctx, respondent)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/engagements/{id}/checklist/respondents/{respondent}?done=submitted"
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let mut page = respondent_view(&state, &who, id, respondent, &None).await?;
            page.error = Some(who.tr.t("checklist.gaps").to_string());
            page.gaps = gaps_of(&refusal.message);
            Ok((refusal.status, page).into_response())
        }
    }
}

/// Reads a filled workbook (the exported shape, or the hospital's own copy
/// of it) into one respondent's answers: all rows or none.
pub async fn import_answers(
    State(state): State<AppState>,
    who: Signed,
    Path((id, respondent)): Path<(i64, i64)>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let upload: UploadForm = forms::read_upload(multipart, "file").await?;
    let result =
        documents::import_checklist_answers(&state.store, &who.ctx, id, respondent, upload.file)
            .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/engagements/{id}/checklist?done=answers_imported#respondents"
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::web_refusal(who.tr, e)?;
            refused(&state, &who, id, refusal).await
        }
    }
}

#[derive(Deserialize)]
pub struct ExportQuery {
    respondent: Option<i64>,
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let (name, bytes) = documents::checklist_workbook(
        &state.store,
        &who.ctx,
        EngagementId(id),
        q.respondent,
        documents::ChecklistFormat::Xlsx,
    )
    .await?;
    Ok(file_response(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &name,
        bytes,
    ))
}

pub async fn export_pdf(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let (name, bytes) = documents::checklist_workbook(
        &state.store,
        &who.ctx,
        EngagementId(id),
        q.respondent,
        documents::ChecklistFormat::Pdf,
    )
    .await?;
    Ok(file_response("application/pdf", &name, bytes))
}

fn file_response(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let file = mamori_store::StoredFile {
        id: 0,
        name: name.to_string(),
        content_type: content_type.to_string(),
        size_bytes: bytes.len() as i64,
        sha256: String::new(),
    };
    forms::download(&file, bytes)
}

// --- hearings -------------------------------------------------------------

/// Participants as the form sends them: `participant` (a respondent id or
/// empty), `participant_name` and `minutes`, repeated.
fn participants(fields: &[(String, String)]) -> Result<Vec<Participant>, DomainError> {
    let mut ids = Vec::new();
    let mut names = Vec::new();
    let mut minutes = Vec::new();
    for (k, v) in fields {
        match k.as_str() {
            "participant" => ids.push(v.trim().to_string()),
            "participant_name" => names.push(v.trim().to_string()),
            "minutes" => minutes.push(v.trim().to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let name = names.get(i).cloned().unwrap_or_default();
        let mins = minutes.get(i).cloned().unwrap_or_default();
        // A respondent listed on the form with no minutes did not take part.
        if (id.is_empty() && name.is_empty())
            || (!id.is_empty() && matches!(mins.as_str(), "" | "0"))
        {
            continue;
        }
        let respondent_id = match id.as_str() {
            "" => None,
            text => Some(forms::whole("participant", text)?),
        };
        let minutes = if mins.is_empty() {
            0
        } else {
            forms::whole("minutes", &mins)?
        };
        out.push(Participant {
            respondent_id,
            name,
            minutes: minutes.clamp(0, 100_000) as u32,
        });
    }
    Ok(out)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub async fn record_hearing(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let parsed = forms::date("held_on", field(&fields, "held_on")).and_then(|held_on| {
        Ok(NewHearing {
            held_on,
            participants: participants(&fields)?,
            notes: field(&fields, "notes").trim().to_string(),
        })
    });
    let result = match parsed {
        Ok(new) => state.store.record_hearing(&who.ctx, id, &new).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(h) => Ok(Redirect::to(&format!(
            "/engagements/{id}/checklist/hearings/{}?done=hearing_recorded",
            h.id
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            refused(&state, &who, id, refusal).await
        }
    }
}

/// One cell on the hearing page: the respondent's answer beside the
/// surveyor's confirmation.
pub struct ReconcileRow {
    pub framework_id: i64,
    pub item: String,
    pub text: String,
    pub scope: &'static str,
    pub scope_label: String,
    pub own: String,
    pub not_understood: String,
    pub confirmed: &'static str,
    /// The surveyor's note on the confirmation, as last recorded.
    pub note: String,
    pub open: bool,
    pub differs: bool,
    pub pending: bool,
    /// What the hospital's ledger says about the item: (text, link).
    pub evidence: Vec<(String, String)>,
}

pub struct ReconcileSheet {
    pub respondent_id: i64,
    pub name: String,
    pub role: String,
    pub form: String,
    pub rows: Vec<ReconcileRow>,
    pub differences: usize,
    pub pending: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "hearing.html")]
pub struct HearingPage {
    chrome: Chrome,
    id: i64,
    hearing_id: i64,
    hospital: String,
    held_on: String,
    participants: String,
    notes: String,
    answers: Vec<(&'static str, String)>,
    sheets: Vec<ReconcileSheet>,
    may_record: bool,
    error: Option<String>,
}

fn reconcile_sheet(
    tr: Tr,
    c: &EngagementChecklist,
    sheet: &RespondentSheet,
    confirmed: &BTreeMap<(i64, CellKey), mamori_store::ConfirmedAnswer>,
    ledger: Option<&Ledger>,
) -> Option<ReconcileSheet> {
    let framework = c.framework.as_ref()?;
    let style = framework.framework.answer_style;
    let form = framework.framework.form(&sheet.respondent.form_key)?;
    let mut rows = Vec::new();
    let mut add =
        |record: &FrameworkRecord, form: &ChecklistForm, own: &BTreeMap<CellKey, Answer>| {
            let mine: BTreeMap<CellKey, Confirmation> = confirmed
                .iter()
                .filter(|((f, _), _)| *f == record.id)
                .map(|((_, k), v)| {
                    (
                        k.clone(),
                        Confirmation {
                            value: v.value,
                            open: v.open,
                        },
                    )
                })
                .collect();
            for r in reconcile(form, own, &mine) {
                let note = confirmed
                    .get(&(record.id, r.key.clone()))
                    .map(|c| c.note.clone())
                    .unwrap_or_default();
                let item = form.item(&r.key.item);
                let text = item.map(|i| item_text(tr, i).0).unwrap_or_default();
                let evidence = match (item, ledger) {
                    (Some(i), Some(l)) => evidence_for(i, l)
                        .iter()
                        .map(|e| {
                            (
                                e.text(tr.code()).to_string(),
                                format!("/hospitals/{}/ledger/{}", c.hospital.0, e.kind.slug()),
                            )
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                rows.push(ReconcileRow {
                    framework_id: record.id,
                    text,
                    scope: r.key.scope.slug(),
                    scope_label: scope_label(tr, r.key.scope),
                    own: r
                        .self_assessed
                        .map(|v| answer_label(tr, style, v))
                        .unwrap_or_default(),
                    confirmed: r.confirmed.map(|v| v.slug()).unwrap_or(""),
                    note,
                    open: r.open,
                    differs: r.differs(),
                    pending: r.pending(),
                    not_understood: r.not_understood.clone(),
                    item: r.key.item.clone(),
                    evidence,
                });
            }
        };
    add(framework, form, &sheet.answers);
    if let Some(sup) = &c.supplement {
        for sup_form in &sup.framework.forms {
            let mut scoped = sup_form.clone();
            for s in &mut scoped.sections {
                s.items
                    .retain(|i| i.forms.is_empty() || i.forms.iter().any(|f| f == &form.key));
            }
            if scoped.items().next().is_some() {
                add(sup, &scoped, &sheet.supplement_answers);
            }
        }
    }
    let r = &sheet.respondent;
    Some(ReconcileSheet {
        respondent_id: r.id,
        name: r.name.clone(),
        role: tr.value("respondent_role", r.role.slug()),
        form: form.title_ja.clone(),
        differences: rows.iter().filter(|r| r.differs).count(),
        pending: rows.iter().filter(|r| r.pending).count(),
        rows,
    })
}

async fn hearing_page(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    hearing_id: i64,
    error: Option<String>,
    done: &Option<String>,
) -> Result<HearingPage, WebError> {
    let tr = who.tr;
    let store = &state.store;
    let c = store.engagement_checklist(&who.ctx, id).await?;
    let hearing = store
        .hearings(&who.ctx, id)
        .await?
        .into_iter()
        .find(|h| h.id == hearing_id)
        .ok_or(WebError::NotFound)?;
    let confirmations = store.confirmations(&who.ctx, id).await?;
    let empty = BTreeMap::new();
    // The participants' sheets first; everyone else's after them.
    let present: Vec<i64> = hearing
        .participants
        .iter()
        .filter_map(|p| p.respondent_id)
        .collect();
    let mut sheets: Vec<&RespondentSheet> = c.respondents.iter().collect();
    sheets.sort_by_key(|s| !present.contains(&s.respondent.id));
    let may_record = store
        .may(
            &who.account.actor(),
            c.hospital,
            HospitalData::SurveyResponses,
            Access::Write,
        )
        .await?
        && matches!(
            who.account.org_kind,
            OrgKind::SurveyCompany | OrgKind::Secretariat
        );
    let style = c
        .framework
        .as_ref()
        .map(|f| f.framework.answer_style)
        .unwrap_or(AnswerStyle::Circle);
    // The ledger's evidence beside the answers, for those who may read it.
    let ledger = if store
        .may(
            &who.account.actor(),
            c.hospital,
            HospitalData::Ledger,
            Access::Read,
        )
        .await?
    {
        let grant = store
            .authorize(&who.ctx, c.hospital, HospitalData::Ledger, Access::Read)
            .await?;
        Some(store.ledger(&who.ctx, &grant).await?.ledger)
    } else {
        None
    };
    let chrome = Chrome::page(state, who, "/engagements")
        .await?
        .with_notice(done);
    Ok(HearingPage {
        id: id.0,
        hearing_id,
        hospital: c.hospital_name.clone(),
        held_on: documents::local_date(tr, hearing.held_on),
        participants: hearing
            .participants
            .iter()
            .map(|p| format!("{} ({}{})", p.name, p.minutes, tr.t("unit.minutes")))
            .collect::<Vec<_>>()
            .join("、"),
        notes: hearing.notes.clone(),
        answers: AnswerValue::ALL
            .iter()
            .map(|v| (v.slug(), answer_label(tr, style, *v)))
            .collect(),
        sheets: sheets
            .into_iter()
            .filter_map(|s| {
                reconcile_sheet(
                    tr,
                    &c,
                    s,
                    confirmations.get(&s.respondent.id).unwrap_or(&empty),
                    ledger.as_ref(),
                )
            })
            .collect(),
        may_record,
        error,
        chrome,
    })
}

pub async fn hearing(
    State(state): State<AppState>,
    who: Signed,
    Path((id, hearing)): Path<(i64, i64)>,
    Query(done): Query<Done>,
) -> Result<HearingPage, WebError> {
    hearing_page(&state, &who, EngagementId(id), hearing, None, &done.done).await
}

/// The confirmations of one respondent as the hearing page posts them:
/// `value:<framework>:<scope>:<item>`, `open:…`, `note:…` per cell.
fn confirmation_rows(
    fields: &[(String, String)],
) -> Result<Vec<(CellKey, i64, Confirmation, String)>, DomainError> {
    let mut cells: BTreeMap<(i64, CellKey), (Option<AnswerValue>, bool, String)> = BTreeMap::new();
    for (k, v) in fields {
        let mut parts = k.splitn(4, ':');
        let (Some(kind), Some(framework), Some(scope), Some(item)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let framework = forms::whole("framework", framework)?;
        let key = CellKey::new(item, Scope::parse(scope)?);
        let entry = cells.entry((framework, key)).or_default();
        match kind {
            "value" if !v.trim().is_empty() => entry.0 = Some(AnswerValue::parse(v)?),
            "open" => entry.1 = true,
            "note" => entry.2 = v.trim().to_string(),
            _ => {}
        }
    }
    Ok(cells
        .into_iter()
        .filter(|(_, (value, open, note))| value.is_some() || *open || !note.is_empty())
        .map(|((framework, key), (value, open, note))| {
            (key, framework, Confirmation { value, open }, note)
        })
        .collect())
}

pub async fn confirm(
    State(state): State<AppState>,
    who: Signed,
    Path((id, hearing)): Path<(i64, i64)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let parsed = forms::whole("respondent", field(&fields, "respondent"))
        .and_then(|r| Ok((r, confirmation_rows(&fields)?)));
    let result = match parsed {
        Ok((respondent, rows)) => {
            state
                .store
                .confirm_answers(&who.ctx, hearing, respondent, &rows)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/engagements/{id}/checklist/hearings/{hearing}?done=answers_confirmed"
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page =
                hearing_page(&state, &who, id, hearing, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

// --- material requests and vendor inquiries -------------------------------

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    party: String,
    #[serde(default)]
    vendor_name: String,
    #[serde(default)]
    requested_on: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    hearing: String,
}

pub async fn raise_request(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<RequestForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let parsed = RequestParty::parse(&form.party).and_then(|party| {
        Ok(NewRequest {
            hearing_id: match form.hearing.trim() {
                "" => None,
                text => Some(forms::whole("hearing", text)?),
            },
            subject: form.subject.trim().to_string(),
            party,
            vendor_name: form.vendor_name.trim().to_string(),
            requested_on: forms::date("requested_on", &form.requested_on)?,
            due_on: forms::optional_date("due_on", &form.due_on)?,
        })
    });
    let result = match parsed {
        Ok(new) => state.store.raise_request(&who.ctx, id, &new).await,
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "request_raised", "requests").await
}

pub async fn receive_request(
    State(state): State<AppState>,
    who: Signed,
    Path((id, request)): Path<(i64, i64)>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let upload = forms::read_upload(multipart, "file").await?;
    let result = match forms::date("received_on", upload.text("received_on")) {
        Ok(on) => {
            state
                .store
                .receive_request(
                    &who.ctx,
                    request,
                    on,
                    upload.file.clone(),
                    upload.text("note"),
                )
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "request_received", "requests").await
}

pub async fn request_file(
    State(state): State<AppState>,
    who: Signed,
    Path((_id, request)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let (file, data) = state.store.request_file(&who.ctx, request).await?;
    Ok(forms::download(&file, data))
}

pub async fn inquiry_file(
    State(state): State<AppState>,
    who: Signed,
    Path((_id, inquiry)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let (file, data) = state.store.inquiry_file(&who.ctx, inquiry).await?;
    Ok(forms::download(&file, data))
}

#[derive(Deserialize)]
pub struct InquiryForm {
    #[serde(default)]
    vendor_name: String,
    #[serde(default)]
    vendor_contact: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    consent_given_by: String,
    #[serde(default)]
    consent_on: String,
    #[serde(default)]
    requested_on: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    valid_days: String,
}

pub async fn open_inquiry(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<InquiryForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let parsed = (|| -> Result<NewInquiry, DomainError> {
        Ok(NewInquiry {
            vendor_name: form.vendor_name.trim().to_string(),
            vendor_contact: form.vendor_contact.trim().to_string(),
            question: form.question.trim().to_string(),
            consent_given_by: form.consent_given_by.trim().to_string(),
            consent_on: forms::date("consent_on", &form.consent_on)?,
            requested_on: forms::date("requested_on", &form.requested_on)?,
            due_on: forms::optional_date("due_on", &form.due_on)?,
            valid_days: match form.valid_days.trim() {
                "" => 14,
                text => forms::whole("valid_days", text)?.clamp(0, 1000) as u32,
            },
        })
    })();
    let result = match parsed {
        Ok(new) => state.store.open_vendor_inquiry(&who.ctx, id, &new).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok((q, token)) => {
            show_link(
                &state,
                &who,
                id,
                q.vendor_name,
                format!("/v/{token}"),
                "inquiry_opened",
            )
            .await
        }
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            refused(&state, &who, id, refusal).await
        }
    }
}

// --- pages reached by a link, without an account ----------------------------

#[derive(Template, WebTemplate)]
#[template(path = "link_refused.html")]
pub struct LinkRefusedPage {
    chrome: Chrome,
    message: String,
}

/// A link that no longer works says why, and nothing is written.
fn link_refused(visitor: &Visitor, err: StoreError) -> Result<Response, WebError> {
    let tr = visitor.tr();
    let (status, key) = match err {
        StoreError::LinkExpired => (StatusCode::GONE, "link.expired"),
        StoreError::LinkUsed => (StatusCode::GONE, "link.used"),
        StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "link.unknown"),
        other => return Err(other.into()),
    };
    let page = LinkRefusedPage {
        chrome: Chrome::anonymous(tr, visitor.csrf()),
        message: tr.t(key).to_string(),
    };
    Ok((status, page).into_response())
}

pub async fn link_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let linked = match state
        .store
        .respondent_by_link(&token, visitor.client_addr.as_deref())
        .await
    {
        Ok(l) => l,
        Err(e) => return link_refused(&visitor, e),
    };
    let page = linked_page(&state, &visitor, &token, &linked, &done.done)?;
    Ok(page.into_response())
}

fn linked_page(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
    linked: &mamori_store::LinkedRespondent,
    done: &Option<String>,
) -> Result<RespondentPage, WebError> {
    let sheet = RespondentSheet {
        respondent: linked.respondent.clone(),
        answers: linked.answers.clone(),
        supplement_answers: linked.supplement_answers.clone(),
        completion: linked.completion,
    };
    let chrome = Chrome::anonymous(visitor.tr(), visitor.csrf()).with_notice(done);
    respondent_page(
        chrome,
        format!("/r/{token}"),
        None,
        SheetSource {
            hospital: &linked.hospital_name,
            framework: &linked.framework,
            supplement: linked.supplement.as_ref(),
            sheet: &sheet,
        },
        true,
        state.store.today(),
    )
}

pub async fn link_answer(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, WebError> {
    let tr = visitor.tr();
    let result = match form.parse() {
        Ok((framework, key, answer)) => {
            state
                .store
                .save_answer_by_link(
                    &token,
                    framework,
                    &key,
                    &answer,
                    visitor.client_addr.as_deref(),
                )
                .await
        }
        Err(e) => Err(e.into()),
    };
    if let Err(e @ (StoreError::LinkExpired | StoreError::LinkUsed | StoreError::NotFound { .. })) =
        result
    {
        return link_refused(&visitor, e);
    }
    if is_background(&headers) {
        return background_reply(tr, result);
    }
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/r/{token}?done=answer_saved#{}", form.anchor()))
                .into_response(),
        ),
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            let linked = match state
                .store
                .respondent_by_link(&token, visitor.client_addr.as_deref())
                .await
            {
                Ok(l) => l,
                Err(e) => return link_refused(&visitor, e),
            };
            let mut page = linked_page(&state, &visitor, &token, &linked, &None)?;
            page.error = Some(refusal.message);
            Ok((refusal.status, page).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "link_done.html")]
pub struct LinkDonePage {
    chrome: Chrome,
    message: String,
}

pub async fn link_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let tr = visitor.tr();
    match state
        .store
        .submit_by_link(&token, visitor.client_addr.as_deref())
        .await
    {
        Ok(_) => Ok(LinkDonePage {
            chrome: Chrome::anonymous(tr, visitor.csrf()),
            message: tr.t("link.submitted").to_string(),
        }
        .into_response()),
        Err(e @ (StoreError::LinkExpired | StoreError::LinkUsed | StoreError::NotFound { .. })) => {
            link_refused(&visitor, e)
        }
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            let linked = match state
                .store
                .respondent_by_link(&token, visitor.client_addr.as_deref())
                .await
            {
                Ok(l) => l,
                Err(e) => return link_refused(&visitor, e),
            };
            let mut page = linked_page(&state, &visitor, &token, &linked, &None)?;
            page.error = Some(tr.t("checklist.gaps").to_string());
            page.gaps = gaps_of(&refusal.message);
            Ok((refusal.status, page).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inquiry.html")]
pub struct InquiryPage {
    chrome: Chrome,
    token: String,
    vendor: String,
    hospital: String,
    question: String,
    due: String,
    error: Option<String>,
}

pub async fn inquiry_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let tr = visitor.tr();
    match state
        .store
        .inquiry_by_link(&token, visitor.client_addr.as_deref())
        .await
    {
        Ok(view) => Ok(InquiryPage {
            chrome: Chrome::anonymous(tr, visitor.csrf()),
            token,
            vendor: view.vendor_name,
            hospital: view.hospital_name,
            question: view.question,
            due: documents::local_date(tr, view.due_on),
            error: None,
        }
        .into_response()),
        Err(e) => link_refused(&visitor, e),
    }
}

pub async fn inquiry_answer(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let tr = visitor.tr();
    let upload = forms::read_upload(multipart, "file").await?;
    match state
        .store
        .answer_inquiry(
            &token,
            upload.text("answer"),
            upload.file.clone(),
            visitor.client_addr.as_deref(),
        )
        .await
    {
        Ok(_) => Ok(LinkDonePage {
            chrome: Chrome::anonymous(tr, visitor.csrf()),
            message: tr.t("link.answered").to_string(),
        }
        .into_response()),
        Err(e @ (StoreError::LinkExpired | StoreError::LinkUsed | StoreError::NotFound { .. })) => {
            link_refused(&visitor, e)
        }
        Err(e) => {
            let refusal = forms::store_refusal(tr, e)?;
            let view = match state
                .store
                .inquiry_by_link(&token, visitor.client_addr.as_deref())
                .await
            {
                Ok(v) => v,
                Err(e) => return link_refused(&visitor, e),
            };
            let page = InquiryPage {
                chrome: Chrome::anonymous(tr, visitor.csrf()),
                token,
                vendor: view.vendor_name,
                hospital: view.hospital_name,
                question: view.question,
                due: documents::local_date(tr, view.due_on),
                error: Some(refusal.message),
            };
            Ok((refusal.status, page).into_response())
        }
    }
}
