//! Programmes: one fiscal year's surveys under one procedure. The list, and
//! for each programme its fields, milestones, document library, kick-off
//! meetings, survey companies, candidate hospitals, payment list and timeline.

use super::engagements::{DeadlineClass, EngagementLine, engagement_line};
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
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_documents::dates::japanese_era_fiscal_year;
use mamori_domain::agreement::format_yen;
use mamori_domain::organisation::{Language, OrgKind, RecruitmentRoute, Role};
use mamori_domain::schedule::{DUE_SOON_DAYS, MilestoneKind};
use mamori_domain::{AccountId, DomainError, OrgId, ProgrammeId};
use mamori_store::{
    CandidateDetails, CompanyEnrolment, EngagementFilter, NewCandidate, Programme, ProgrammeFields,
    StoreError,
};
use serde::Deserialize;
use std::collections::HashMap;

/// `2026年度（令和8年度）` / `FY2026 (令和8年度)`.
pub fn fiscal_year_label(tr: Tr, year: i32) -> String {
    let era = japanese_era_fiscal_year(year);
    match tr.lang {
        Language::Japanese => format!("{year}年度（{era}）"),
        Language::English => format!("FY{year} ({era})"),
    }
}

fn is_secretariat(who: &Signed) -> bool {
    who.account.org_kind == OrgKind::Secretariat
}

pub struct ProgrammeRow {
    id: i64,
    name: String,
    fiscal: String,
    cap: String,
    rate: String,
    versions: String,
}

fn programme_row(tr: Tr, p: &Programme) -> ProgrammeRow {
    ProgrammeRow {
        id: p.id.0,
        name: p.name.clone(),
        fiscal: fiscal_year_label(tr, p.fiscal_year),
        cap: format_yen(p.labour_cap_yen),
        rate: format_yen(p.honorarium_rate_yen),
        versions: p.checklist_versions.join(tr.t("list.separator")),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "programmes.html")]
pub struct ProgrammesPage {
    chrome: Chrome,
    programmes: Vec<ProgrammeRow>,
    can_create: bool,
    default_year: i32,
    error: Option<String>,
}

async fn programmes_page(
    state: &AppState,
    who: &Signed,
    error: Option<String>,
    done: &Option<String>,
) -> Result<ProgrammesPage, WebError> {
    let tr = who.tr;
    let programmes = state.store.programmes(&who.ctx).await?;
    let today = state.store.today();
    let default_year = if u8::from(today.month()) >= 4 {
        today.year()
    } else {
        today.year() - 1
    };
    Ok(ProgrammesPage {
        chrome: Chrome::page(state, who, "/programmes")
            .await?
            .with_notice(done),
        programmes: programmes.iter().map(|p| programme_row(tr, p)).collect(),
        can_create: is_secretariat(who),
        default_year,
        error,
    })
}

pub async fn list(
    State(state): State<AppState>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<ProgrammesPage, WebError> {
    programmes_page(&state, &who, None, &done.done).await
}

#[derive(Deserialize)]
pub struct ProgrammeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    fiscal_year: String,
    #[serde(default)]
    research_lead: String,
    #[serde(default)]
    labour_cap_yen: String,
    #[serde(default)]
    honorarium_rate_yen: String,
    #[serde(default)]
    checklist_versions: String,
    #[serde(default)]
    notes: String,
}

impl ProgrammeForm {
    fn fields(&self) -> Result<ProgrammeFields, DomainError> {
        let year = forms::whole("fiscal_year", &self.fiscal_year)?;
        Ok(ProgrammeFields {
            name: self.name.clone(),
            fiscal_year: i32::try_from(year).map_err(|_| {
                DomainError::invalid("fiscal_year", format!("{year} is not a fiscal year"))
            })?,
            research_lead: self.research_lead.clone(),
            labour_cap_yen: forms::optional_yen("labour_cap_yen", &self.labour_cap_yen)?,
            honorarium_rate_yen: forms::optional_yen(
                "honorarium_rate_yen",
                &self.honorarium_rate_yen,
            )?,
            checklist_versions: self
                .checklist_versions
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            notes: self.notes.clone(),
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<ProgrammeForm>,
) -> Result<Response, WebError> {
    let result = match form.fields() {
        Ok(fields) => state.store.create_programme(&who.ctx, &fields).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(p) => Ok(
            Redirect::to(&format!("/programmes/{}?done=programme_created", p.id)).into_response(),
        ),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = programmes_page(&state, &who, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

pub struct MilestoneView {
    slug: &'static str,
    label: String,
    due: String,
    due_label: String,
    status: String,
    class: &'static str,
}

pub struct DocumentView {
    title: String,
    version: String,
    issued: String,
    file: Option<(String, String)>,
}

pub struct KickoffView {
    held: String,
    company: String,
    attendees: String,
    notes: String,
}

pub struct CompanyView {
    id: i64,
    name: String,
    invited: String,
    meeting: String,
    meeting_raw: String,
    forms: String,
    forms_raw: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    surveyors: String,
    can_edit: bool,
    staff: Vec<(i64, String, bool)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "programme.html")]
pub struct ProgrammePage {
    chrome: Chrome,
    error: Option<String>,
    id: i64,
    name: String,
    fiscal: String,
    fiscal_year: i32,
    research_lead: String,
    cap: String,
    cap_raw: i64,
    rate: String,
    rate_raw: i64,
    versions: Vec<String>,
    versions_text: String,
    notes: String,
    today: String,
    is_secretariat: bool,
    may_record_kickoff: bool,
    milestones: Vec<MilestoneView>,
    documents: Vec<DocumentView>,
    kickoffs: Vec<KickoffView>,
    companies: Vec<CompanyView>,
    unenrolled: Vec<(i64, String)>,
    hospitals: Vec<(i64, String)>,
    routes: Vec<(&'static str, String)>,
    cand: CandidateValues,
    engagements: Vec<EngagementLine>,
    timeline: String,
}

async fn programme_page(
    state: &AppState,
    who: &Signed,
    id: ProgrammeId,
    error: Option<String>,
    done: &Option<String>,
) -> Result<ProgrammePage, WebError> {
    let tr = who.tr;
    let store = &state.store;
    let actor = who.account.actor();
    let detail = store.programme_detail(&who.ctx, id).await?;
    let p = &detail.programme;
    let today = store.today();
    let secretariat = is_secretariat(who);
    let entries = store
        .engagement_timeline(
            &who.ctx,
            &EngagementFilter {
                programme: Some(id),
                ..Default::default()
            },
        )
        .await?;
    let live: Vec<_> = entries
        .iter()
        .map(|e| &e.overview.engagement)
        .filter(|e| !e.state.is_closed_early())
        .collect();
    let milestones = detail
        .milestones
        .iter()
        .map(|m| {
            let target = m.kind.reached_state();
            let behind = live.iter().filter(|e| !e.state.has_reached(target)).count();
            let days = (m.due - today).whole_days();
            let (class, status) = if behind == 0 {
                (
                    DeadlineClass::Met,
                    tr.t("milestones.all_reached").to_string(),
                )
            } else {
                let waiting = tr
                    .t("milestones.behind")
                    .replace("{n}", &behind.to_string());
                if days < 0 {
                    (
                        DeadlineClass::Overdue,
                        format!("{} · {waiting}", super::engagements::days_text(tr, days)),
                    )
                } else if days <= DUE_SOON_DAYS {
                    (
                        DeadlineClass::DueSoon,
                        format!("{} · {waiting}", super::engagements::days_text(tr, days)),
                    )
                } else {
                    (
                        DeadlineClass::Upcoming,
                        format!("{} · {waiting}", super::engagements::days_text(tr, days)),
                    )
                }
            };
            MilestoneView {
                slug: m.kind.slug(),
                label: tr.value("milestone", m.kind.slug()),
                due: m.due.to_string(),
                due_label: documents::local_date(tr, m.due),
                status,
                class: class.css(),
            }
        })
        .collect();
    let documents = detail
        .documents
        .iter()
        .map(|d| DocumentView {
            title: d.title.clone(),
            version: d.version.clone(),
            issued: d
                .issued_on
                .map(|day| documents::local_date(tr, day))
                .unwrap_or_else(|| "—".into()),
            file: d.file_id.map(|_| {
                (
                    format!("/programmes/{id}/documents/{}/file", d.id),
                    d.file_name.clone().unwrap_or_default(),
                )
            }),
        })
        .collect();
    let kickoffs = detail
        .kickoffs
        .iter()
        .map(|k| KickoffView {
            held: documents::local_date(tr, k.held_on),
            company: k
                .company_name
                .clone()
                .unwrap_or_else(|| tr.t("kickoff.all").to_string()),
            attendees: k.attendees.clone(),
            notes: k.notes.clone(),
        })
        .collect();
    let mut companies = Vec::new();
    for c in &detail.companies {
        let can_edit =
            secretariat || (who.account.org_id == c.company_id && who.account.role == Role::Admin);
        let staff = if can_edit {
            store
                .accounts_of(&actor, c.company_id)
                .await?
                .into_iter()
                .filter(|a| !a.disabled)
                .map(|a| {
                    let chosen = c.surveyors.iter().any(|s| s.account_id == a.id);
                    (a.id.0, a.display_name, chosen)
                })
                .collect()
        } else {
            Vec::new()
        };
        let day = |d: Option<time::Date>| {
            d.map(|d| documents::local_date(tr, d))
                .unwrap_or_else(|| "—".into())
        };
        companies.push(CompanyView {
            id: c.company_id.0,
            name: c.company_name.clone(),
            invited: documents::local_date(tr, c.invited_on),
            meeting: day(c.meeting_on),
            meeting_raw: c.meeting_on.map(|d| d.to_string()).unwrap_or_default(),
            forms: day(c.forms_handed_over_on),
            forms_raw: c
                .forms_handed_over_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            contact_name: c.contact_name.clone(),
            contact_email: c.contact_email.clone(),
            contact_phone: c.contact_phone.clone(),
            surveyors: c
                .surveyors
                .iter()
                .map(|s| s.display_name.clone())
                .collect::<Vec<_>>()
                .join(tr.t("list.separator")),
            can_edit,
            staff,
        });
    }
    let (unenrolled, hospitals) = if secretariat {
        let all = store.all_organisations().await?;
        (
            all.iter()
                .filter(|o| o.kind == OrgKind::SurveyCompany)
                .filter(|o| !detail.companies.iter().any(|c| c.company_id == o.id))
                .map(|o| (o.id.0, o.name.clone()))
                .collect(),
            all.iter()
                .filter(|o| o.kind == OrgKind::Hospital)
                .map(|o| (o.id.0, o.name.clone()))
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let timeline = documents::timeline_from(store, tr, &entries, Some(id)).await?;
    Ok(ProgrammePage {
        chrome: Chrome::page(state, who, "/programmes")
            .await?
            .with_notice(done),
        error,
        id: id.0,
        name: p.name.clone(),
        fiscal: fiscal_year_label(tr, p.fiscal_year),
        fiscal_year: p.fiscal_year,
        research_lead: p.research_lead.clone(),
        cap: format_yen(p.labour_cap_yen),
        cap_raw: p.labour_cap_yen,
        rate: format_yen(p.honorarium_rate_yen),
        rate_raw: p.honorarium_rate_yen,
        versions: p.checklist_versions.clone(),
        versions_text: p.checklist_versions.join("\n"),
        notes: p.notes.clone(),
        today: today.to_string(),
        is_secretariat: secretariat,
        may_record_kickoff: matches!(
            who.account.org_kind,
            OrgKind::Secretariat | OrgKind::Supervisor
        ),
        milestones,
        documents,
        kickoffs,
        companies,
        unenrolled,
        hospitals,
        routes: RecruitmentRoute::ALL
            .iter()
            .map(|r| (r.slug(), tr.value("route", r.slug())))
            .collect(),
        cand: CandidateValues {
            source: RecruitmentRoute::ResearchNetwork.slug().to_string(),
            ..Default::default()
        },
        engagements: entries
            .iter()
            .map(|e| engagement_line(tr, &e.overview, today))
            .collect(),
        timeline,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<ProgrammePage, WebError> {
    programme_page(&state, &who, ProgrammeId(id), None, &done.done).await
}

/// After a programme form: back to its section, or the page with the refusal.
async fn outcome(
    state: &AppState,
    who: &Signed,
    id: ProgrammeId,
    result: Result<(), StoreError>,
    done: &str,
    section: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/programmes/{id}?done={done}#{section}")).into_response())
        }
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            refused(state, who, id, refusal).await
        }
    }
}

async fn refused(
    state: &AppState,
    who: &Signed,
    id: ProgrammeId,
    refusal: Refusal,
) -> Result<Response, WebError> {
    let page = programme_page(state, who, id, Some(refusal.message), &None).await?;
    Ok((refusal.status, page).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<ProgrammeForm>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let result = match form.fields() {
        Ok(fields) => state
            .store
            .update_programme(&who.ctx, id, &fields)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "saved", "fields").await
}

pub async fn set_milestones(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let current = state.store.programme_detail(&who.ctx, id).await?.milestones;
    // Every date is read before any is saved: a mistake changes nothing.
    let mut changes = Vec::new();
    let mut problem = None;
    for kind in MilestoneKind::ALL {
        let Some(text) = form.get(kind.slug()) else {
            continue;
        };
        match forms::date(kind.slug(), text) {
            Ok(due) => {
                if !current.iter().any(|m| m.kind == *kind && m.due == due) {
                    changes.push((*kind, due));
                }
            }
            Err(e) => {
                problem = Some(DomainError::invalid(
                    "milestone",
                    format!("{}: {e}", who.tr.value("milestone", kind.slug())),
                ));
                break;
            }
        }
    }
    let result = match problem {
        Some(e) => Err(e.into()),
        None => state.store.set_milestones(&who.ctx, id, &changes).await,
    };
    outcome(&state, &who, id, result, "milestones_saved", "milestones").await
}

pub async fn add_document(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let mut form: UploadForm = forms::read_upload(multipart, "file").await?;
    let file = form.file.take();
    let result = match forms::optional_date("issued_on", form.text("issued_on")) {
        Ok(issued) => state
            .store
            .add_programme_document(
                &who.ctx,
                id,
                form.text("title"),
                form.text("version"),
                issued,
                file,
            )
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "document_added", "documents").await
}

pub async fn document_file(
    State(state): State<AppState>,
    who: Signed,
    Path((id, document)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let (file, data) = state
        .store
        .programme_document_file(&who.ctx, ProgrammeId(id), document)
        .await?;
    Ok(forms::download(&file, data))
}

#[derive(Deserialize)]
pub struct KickoffForm {
    #[serde(default)]
    company: String,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    attendees: String,
    #[serde(default)]
    notes: String,
}

fn optional_org(field: &'static str, text: &str) -> Result<Option<OrgId>, DomainError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    forms::whole(field, text).map(|n| Some(OrgId(n)))
}

pub async fn record_kickoff(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<KickoffForm>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let parsed = optional_org("company", &form.company)
        .and_then(|c| Ok((c, forms::date("held_on", &form.held_on)?)));
    let result = match parsed {
        Ok((company, held_on)) => state
            .store
            .record_kickoff(&who.ctx, id, company, held_on, &form.attendees, &form.notes)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "kickoff_recorded", "kickoffs").await
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    company: String,
    #[serde(default)]
    invited_on: String,
}

pub async fn enrol_company(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<EnrolForm>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let parsed = forms::whole("company", &form.company)
        .and_then(|c| Ok((OrgId(c), forms::date("invited_on", &form.invited_on)?)));
    let result = match parsed {
        Ok((company, invited)) => {
            state
                .store
                .enrol_company(&who.ctx, id, company, invited)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "company_enrolled", "companies").await
}

#[derive(Deserialize)]
pub struct EnrolmentForm {
    #[serde(default)]
    meeting_on: String,
    #[serde(default)]
    forms_handed_over_on: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_phone: String,
}

pub async fn update_enrolment(
    State(state): State<AppState>,
    who: Signed,
    Path((id, company)): Path<(i64, i64)>,
    Form(form): Form<EnrolmentForm>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let parsed = forms::optional_date("meeting_on", &form.meeting_on).and_then(|meeting| {
        Ok(CompanyEnrolment {
            meeting_on: meeting,
            forms_handed_over_on: forms::optional_date(
                "forms_handed_over_on",
                &form.forms_handed_over_on,
            )?,
            contact_name: form.contact_name.clone(),
            contact_email: form.contact_email.clone(),
            contact_phone: form.contact_phone.clone(),
        })
    });
    let result = match parsed {
        Ok(e) => {
            state
                .store
                .update_company_enrolment(&who.ctx, id, OrgId(company), &e)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(
        &state,
        &who,
        id,
        result,
        "saved",
        &format!("company-{company}"),
    )
    .await
}

pub async fn set_surveyors(
    State(state): State<AppState>,
    who: Signed,
    Path((id, company)): Path<(i64, i64)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let accounts: Result<Vec<AccountId>, DomainError> = form
        .iter()
        .filter(|(k, _)| k == "surveyor")
        .map(|(_, v)| forms::whole("surveyors", v).map(AccountId))
        .collect();
    let result = match accounts {
        Ok(accounts) => {
            state
                .store
                .set_surveyors(&who.ctx, id, OrgId(company), &accounts)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(
        &state,
        &who,
        id,
        result,
        "saved",
        &format!("company-{company}"),
    )
    .await
}

/// The candidate fields as a form shows them (empty for a new candidate).
#[derive(Default)]
pub struct CandidateValues {
    pub source: String,
    pub source_detail: String,
    pub director: String,
    pub department: String,
    pub title: String,
    pub name: String,
    pub email: String,
    pub proposed: String,
}

impl CandidateValues {
    pub fn of(d: &CandidateDetails) -> Self {
        CandidateValues {
            source: d.source.map(|s| s.slug().to_string()).unwrap_or_default(),
            source_detail: d.source_detail.clone(),
            director: d.director_name.clone(),
            department: d.contact_department.clone(),
            title: d.contact_title.clone(),
            name: d.contact_name.clone(),
            email: d.contact_email.clone(),
            proposed: d.proposed_company.clone(),
        }
    }
}

/// The candidate fields, shared with the engagement page's edit form.
#[derive(Deserialize, Default)]
pub struct CandidateForm {
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub source_detail: String,
    #[serde(default)]
    pub director_name: String,
    #[serde(default)]
    pub contact_department: String,
    #[serde(default)]
    pub contact_title: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub proposed_company: String,
}

impl CandidateForm {
    pub fn details(&self) -> Result<CandidateDetails, DomainError> {
        let source = if self.source.trim().is_empty() {
            None
        } else {
            Some(RecruitmentRoute::parse(self.source.trim())?)
        };
        Ok(CandidateDetails {
            source,
            source_detail: self.source_detail.clone(),
            director_name: self.director_name.clone(),
            contact_department: self.contact_department.clone(),
            contact_title: self.contact_title.clone(),
            contact_name: self.contact_name.clone(),
            contact_email: self.contact_email.clone(),
            proposed_company: self.proposed_company.clone(),
        })
    }
}

#[derive(Deserialize)]
pub struct NewCandidateForm {
    #[serde(default)]
    hospital: String,
    #[serde(default)]
    company: String,
    #[serde(flatten)]
    details: CandidateForm,
}

pub async fn add_candidate(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<NewCandidateForm>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let parsed = forms::whole("hospital", &form.hospital).and_then(|h| {
        Ok(NewCandidate {
            programme: id,
            hospital: OrgId(h),
            company: OrgId(forms::whole("company", &form.company)?),
            details: form.details.details()?,
        })
    });
    let result = match parsed {
        Ok(new) => state.store.add_candidate(&who.ctx, &new).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(e) => Ok(
            Redirect::to(&format!("/engagements/{}?done=candidate_added", e.id)).into_response(),
        ),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            refused(&state, &who, id, refusal).await
        }
    }
}

pub async fn payments_xlsx(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let id = ProgrammeId(id);
    let data = documents::payment_list_workbook(&state.store, &who.ctx, id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"payments-programme-{id}.xlsx\""),
            ),
        ],
        data,
    )
        .into_response())
}
