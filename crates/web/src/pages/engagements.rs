//! Engagements: the table every role sees (narrowed by the store to what it
//! may see), the timeline, and one engagement's page where each step of the
//! procedure is taken by the organisation that owns it.

use super::forms::{self, Refusal, UploadForm};
use super::programmes::{CandidateForm, CandidateValues};
use super::{Chrome, Done, Pager, page_number};
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
use mamori_documents::letters::LetterKind;
use mamori_domain::agreement::{AgreementKind, EstimateFigures, PaymentKind, format_yen};
use mamori_domain::engagement::EngagementState;
use mamori_domain::lifecycle::Gate;
use mamori_domain::organisation::{Language, OrgKind, PREFECTURES, RecruitmentRoute};
use mamori_domain::policy::{Access, HospitalData};
use mamori_domain::schedule::{Deadline, DeadlineStatus};
use mamori_domain::{DomainError, EngagementId, OrgId, ProgrammeId};
use mamori_store::{EngagementFilter, EngagementOverview, NewPayment, Paging, StoreError};
use serde::{Deserialize, Serialize};
use time::Date;

/// How a deadline is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineClass {
    Met,
    Upcoming,
    DueSoon,
    Overdue,
}

impl DeadlineClass {
    pub fn css(self) -> &'static str {
        match self {
            DeadlineClass::Met => "deadline-met",
            DeadlineClass::Upcoming => "deadline-upcoming",
            DeadlineClass::DueSoon => "deadline-soon",
            DeadlineClass::Overdue => "deadline-overdue",
        }
    }
}

/// "あと5日" / "今日が期限" / "3日超過" (days until the due date).
pub fn days_text(tr: Tr, days: i64) -> String {
    if days < 0 {
        tr.t("status.overdue").replace("{n}", &(-days).to_string())
    } else if days == 0 {
        tr.t("status.due_today").to_string()
    } else {
        tr.t("status.in_days").replace("{n}", &days.to_string())
    }
}

/// One deadline as shown: what, when, how it stands today.
pub struct DeadlineView {
    pub label: String,
    pub due: String,
    pub status: String,
    pub class: &'static str,
}

pub fn deadline_view(tr: Tr, d: &Deadline, today: Date) -> DeadlineView {
    let label = match d.milestone {
        Some(m) => tr.value("milestone", m.slug()),
        None => tr.value("deadline", d.kind.slug()),
    };
    let (class, status) = match d.status(today) {
        DeadlineStatus::Met => (DeadlineClass::Met, tr.t("status.met").to_string()),
        DeadlineStatus::Upcoming(n) => (DeadlineClass::Upcoming, days_text(tr, n)),
        DeadlineStatus::DueSoon(n) => (DeadlineClass::DueSoon, days_text(tr, n)),
        DeadlineStatus::Overdue(n) => (DeadlineClass::Overdue, days_text(tr, -n)),
    };
    DeadlineView {
        label,
        due: documents::local_date(tr, d.due),
        status,
        class: class.css(),
    }
}

/// A row of an engagement table.
pub struct EngagementLine {
    pub id: i64,
    pub hospital: String,
    pub company: String,
    pub programme: String,
    pub state: String,
    pub state_slug: &'static str,
    pub next: Option<DeadlineView>,
    pub overdue: bool,
    pub contract: bool,
}

pub fn engagement_line(tr: Tr, o: &EngagementOverview, today: Date) -> EngagementLine {
    let e = &o.engagement;
    // The most pressing open deadline: the first overdue, else the next due.
    let next = o
        .deadlines
        .iter()
        .filter(|d| !d.met)
        .min_by_key(|d| d.due)
        .map(|d| deadline_view(tr, d, today));
    EngagementLine {
        id: e.id.0,
        hospital: e.hospital_name.clone(),
        company: e.company_name.clone(),
        programme: e.programme_name.clone(),
        state: tr.value("state", e.state.slug()),
        state_slug: e.state.slug(),
        next,
        overdue: o.overdue,
        contract: e.contract_in_force,
    }
}

/// The filter as it comes in the query string (every field optional text,
/// so a wrong value is named rather than silently dropped).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct FilterQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub programme: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub company: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefecture: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub overdue: String,
    /// The page of the table, from 1 (the timeline ignores it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub page: String,
}

impl FilterQuery {
    pub fn filter(&self) -> Result<EngagementFilter, WebError> {
        let bad = |e: DomainError| WebError::BadRequest(e.to_string());
        let number = |field: &'static str, text: &str| -> Result<Option<i64>, WebError> {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                forms::whole(field, text).map(Some).map_err(bad)
            }
        };
        let prefecture = match number("prefecture", &self.prefecture)? {
            None => None,
            Some(p) => Some(
                u8::try_from(p)
                    .ok()
                    .filter(|p| (1..=47).contains(p))
                    .ok_or_else(|| {
                        WebError::BadRequest(format!("prefecture: {p} is not a code 1–47"))
                    })?,
            ),
        };
        Ok(EngagementFilter {
            programme: number("programme", &self.programme)?.map(ProgrammeId),
            state: if self.state.trim().is_empty() {
                None
            } else {
                Some(EngagementState::parse(self.state.trim()).map_err(bad)?)
            },
            company: number("company", &self.company)?.map(OrgId),
            prefecture,
            overdue_only: matches!(self.overdue.trim(), "1" | "on" | "true" | "yes"),
        })
    }

    /// The filter as a query string, without the page.
    fn query_string(&self) -> String {
        let filter = FilterQuery {
            page: String::new(),
            ..self.clone()
        };
        serde_urlencoded::to_string(&filter).unwrap_or_default()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "engagements.html")]
pub struct EngagementsPage {
    chrome: Chrome,
    query: FilterQuery,
    query_string: String,
    programmes: Vec<(i64, String)>,
    states: Vec<(&'static str, String)>,
    companies: Vec<(i64, String)>,
    prefectures: Vec<(u8, String)>,
    overdue_only: bool,
    engagements: Vec<EngagementLine>,
    pager: Pager,
    timeline: String,
}

/// Rows per page of the engagement table (and of its timeline).
pub const PAGE_SIZE: usize = 50;

pub async fn list(
    State(state): State<AppState>,
    who: Signed,
    Query(query): Query<FilterQuery>,
) -> Result<EngagementsPage, WebError> {
    let tr = who.tr;
    let filter = query.filter()?;
    let page = page_number(&query.page)?;
    let store = &state.store;
    let (entries, total) = store
        .engagement_timeline_page(&who.ctx, &filter, Paging::page(page, PAGE_SIZE))
        .await?;
    let today = store.today();
    let programmes = store
        .programmes(&who.ctx)
        .await?
        .into_iter()
        .map(|p| (p.id.0, p.name))
        .collect();
    let companies = if matches!(
        who.account.org_kind,
        OrgKind::Secretariat | OrgKind::Supervisor
    ) {
        store
            .organisations_of_kind(OrgKind::SurveyCompany)
            .await?
            .into_iter()
            .map(|o| (o.id.0, o.name))
            .collect()
    } else {
        Vec::new()
    };
    let timeline = documents::timeline_from(store, tr, &entries, filter.programme).await?;
    let query_string = query.query_string();
    Ok(EngagementsPage {
        chrome: Chrome::page(&state, &who, "/engagements").await?,
        pager: Pager::new("/engagements", &query_string, page, PAGE_SIZE, total),
        query_string,
        overdue_only: filter.overdue_only,
        query,
        programmes,
        states: EngagementState::ALL
            .iter()
            .map(|s| (s.slug(), tr.value("state", s.slug())))
            .collect(),
        companies,
        prefectures: PREFECTURES
            .iter()
            .map(|(code, ja, en)| {
                (
                    *code,
                    if tr.lang == Language::Japanese {
                        ja
                    } else {
                        en
                    }
                    .to_string(),
                )
            })
            .collect(),
        engagements: entries
            .iter()
            .map(|e| engagement_line(tr, &e.overview, today))
            .collect(),
        timeline,
    })
}

pub async fn timeline(
    State(state): State<AppState>,
    who: Signed,
    Query(query): Query<FilterQuery>,
) -> Result<Response, WebError> {
    let filter = query.filter()?;
    let svg = documents::timeline_svg(&state.store, &who.ctx, who.tr, &filter).await?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response())
}

pub struct TransitionView {
    from: String,
    to: String,
    to_slug: &'static str,
    on: String,
    note: String,
    by: String,
    at: String,
}

pub struct AgreementView {
    id: i64,
    kind: String,
    kind_slug: &'static str,
    issued: String,
    valid_from: String,
    valid_until: String,
    signed: Option<String>,
    in_force: bool,
    revoked: Option<String>,
    reason: String,
    scan_url: Option<String>,
    document_url: Option<String>,
    may_sign: bool,
    may_revoke: bool,
}

pub struct GeneratedView {
    kind: String,
    version: String,
    url: String,
    name: String,
    at: String,
}

pub struct EstimateView {
    id: i64,
    hours: String,
    labour: String,
    trips: i64,
    travel: String,
    consumables: String,
    total: String,
    note: String,
    by: String,
    at: String,
}

pub struct OrderView {
    id: i64,
    number: String,
    issued: String,
    amount: String,
    estimate_id: i64,
    revoked: Option<String>,
    settled: Option<String>,
    live: bool,
}

pub struct PaymentView {
    kind: String,
    person: String,
    department: String,
    title: String,
    hours: String,
    rate: String,
    amount: String,
    paid_for: String,
    note: String,
}

pub struct CandidateView {
    source: String,
    values: CandidateValues,
}

#[derive(Template, WebTemplate)]
#[template(path = "engagement.html")]
pub struct EngagementPage {
    chrome: Chrome,
    error: Option<String>,
    id: i64,
    hospital: String,
    hospital_id: i64,
    company: String,
    programme: String,
    programme_id: i64,
    state: String,
    state_slug: &'static str,
    contract: bool,
    closed: bool,
    today: String,
    is_secretariat: bool,
    candidate: Option<CandidateView>,
    cand: CandidateValues,
    routes: Vec<(&'static str, String)>,
    company_confirmed: Option<String>,
    deadlines: Vec<DeadlineView>,
    gates: Vec<(String, bool)>,
    next_states: Vec<(&'static str, String)>,
    transitions: Vec<TransitionView>,
    agreements: Vec<AgreementView>,
    agreement_kinds: Vec<(&'static str, String)>,
    documents: Vec<GeneratedView>,
    letters: Vec<(&'static str, String)>,
    estimates: Option<Vec<EstimateView>>,
    may_estimate: bool,
    cap: String,
    orders: Option<Vec<OrderView>>,
    may_order: bool,
    payments: Option<Vec<PaymentView>>,
    rate: String,
    payment_kinds: Vec<(&'static str, String)>,
    /// The booked hours and their cost: settlement is on actual hours.
    actual_hours: String,
    actual_cost: String,
}

fn hours_text(h: f64) -> String {
    let text = format!("{h:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

async fn engagement_page(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    error: Option<String>,
    done: &Option<String>,
) -> Result<EngagementPage, WebError> {
    let tr = who.tr;
    let store = &state.store;
    let d = store.engagement_detail(&who.ctx, id).await?;
    let e = &d.engagement;
    let today = store.today();
    let kind = who.account.org_kind;
    let secretariat = kind == OrgKind::Secretariat;
    let own_company = kind == OrgKind::SurveyCompany && who.account.org_id == e.company_id;
    let programme = store
        .programme_detail(&who.ctx, e.programme_id)
        .await?
        .programme;
    let day = |d: Date| documents::local_date(tr, d);
    let file_url = |f: i64| format!("/engagements/{id}/files/{f}");
    let c = &e.candidate;
    let candidate_known = !(c.source_detail.is_empty()
        && c.director_name.is_empty()
        && c.contact_name.is_empty()
        && c.contact_department.is_empty()
        && c.proposed_company.is_empty()
        && c.contact_email.is_empty()
        && c.contact_title.is_empty());
    // The store blanks the details for those who may not read the record.
    let candidate = (secretariat || candidate_known).then(|| CandidateView {
        source: c
            .source
            .map(|s| tr.value("route", s.slug()))
            .unwrap_or_default(),
        values: CandidateValues::of(c),
    });
    let cand = CandidateValues::of(c);
    let gates = Gate::ALL
        .iter()
        .map(|g| (tr.value("gate", g.slug()), d.gates.meets(*g)))
        .collect();
    let agreements = d
        .agreements
        .iter()
        .map(|a| AgreementView {
            id: a.id,
            kind: tr.value("agreement", a.kind.slug()),
            kind_slug: a.kind.slug(),
            issued: day(a.issued_on),
            valid_from: day(a.terms.valid_from),
            valid_until: day(a.terms.valid_until),
            signed: a.terms.signed_on.map(day),
            in_force: a.in_force,
            revoked: a.revoked_on.map(day),
            reason: a.revoked_reason.clone(),
            scan_url: a.scan_file_id.map(file_url),
            document_url: a.document_file_id.map(file_url),
            may_sign: secretariat && a.revoked_on.is_none(),
            may_revoke: secretariat && a.revoked_on.is_none(),
        })
        .collect();
    // Only the letters this reader may open are listed (the company never
    // sees the hospital's pledge, the hospital never the company's NDA).
    let actor = who.account.actor();
    let mut readable = std::collections::HashMap::new();
    for data in [
        HospitalData::Pledge,
        HospitalData::Contract,
        HospitalData::EngagementRecord,
    ] {
        let may = store.may(&actor, e.hospital_id, data, Access::Read).await?;
        readable.insert(data, may);
    }
    let documents = d
        .documents
        .iter()
        .filter(|g| {
            let data = match g.kind.as_str() {
                "pledge" => HospitalData::Pledge,
                "nda" => HospitalData::Contract,
                _ => HospitalData::EngagementRecord,
            };
            readable.get(&data).copied().unwrap_or(false)
        })
        .map(|g| GeneratedView {
            kind: match LetterKind::parse(&g.kind) {
                Ok(k) if tr.lang == Language::Japanese => k.title_ja().to_string(),
                Ok(k) => k.title_en().to_string(),
                Err(_) => g.kind.clone(),
            },
            version: if g.template_version == 0 {
                tr.t("letters.default_version").to_string()
            } else {
                format!("v{}", g.template_version)
            },
            url: file_url(g.file_id),
            name: g.file_name.clone(),
            at: crate::format::minutes(g.created_at_ms),
        })
        .collect();
    let estimates = d.estimates.as_ref().map(|list| {
        list.iter()
            .map(|x| EstimateView {
                id: x.id,
                hours: hours_text(x.figures.labour_hours),
                labour: format_yen(x.figures.labour_cost_yen),
                trips: x.figures.trips,
                travel: format_yen(x.figures.travel_yen),
                consumables: format_yen(x.figures.consumables_yen),
                total: format_yen(x.total_yen),
                note: x.note.clone(),
                by: x.submitted_by.clone().unwrap_or_default(),
                at: crate::format::minutes(x.submitted_at_ms),
            })
            .collect::<Vec<_>>()
    });
    let orders = d.orders.as_ref().map(|list| {
        list.iter()
            .map(|o| OrderView {
                id: o.id,
                number: o.order_number.clone(),
                issued: day(o.issued_on),
                amount: format_yen(o.amount_yen),
                estimate_id: o.estimate_id,
                revoked: o.revoked_on.map(day),
                settled: o.settled_on.map(|on| {
                    format!(
                        "{} · {} h · {}",
                        day(on),
                        o.settled_hours.map(hours_text).unwrap_or_default(),
                        o.settled_amount_yen.map(format_yen).unwrap_or_default()
                    )
                }),
                live: o.revoked_on.is_none(),
            })
            .collect::<Vec<_>>()
    });
    let has_live_order = orders.as_ref().is_some_and(|o| o.iter().any(|o| o.live));
    let payments = d.payments.as_ref().map(|list| {
        list.iter()
            .map(|p| PaymentView {
                kind: tr.value("payment", p.kind.slug()),
                person: p.person.clone(),
                department: p.department.clone(),
                title: p.title.clone(),
                hours: p.hours.map(hours_text).unwrap_or_default(),
                rate: p.rate_yen.map(format_yen).unwrap_or_default(),
                amount: format_yen(p.amount_yen),
                paid_for: day(p.paid_for_on),
                note: p.note.clone(),
            })
            .collect::<Vec<_>>()
    });
    // The secretariat settles on the hours actually booked (資料4 §4 ⑤).
    let mut actual = (String::new(), String::new());
    if secretariat
        && d.orders.as_ref().is_some_and(|o| !o.is_empty())
        && store
            .may(
                &actor,
                e.hospital_id,
                HospitalData::LabourHours,
                Access::Read,
            )
            .await?
    {
        let g = store
            .authorize(
                &who.ctx,
                e.hospital_id,
                HospitalData::LabourHours,
                Access::Read,
            )
            .await?;
        let labour = store.labour(&who.ctx, &g, id).await?;
        actual = (
            labour.summary.actual.to_string(),
            labour.summary.actual_cost_yen.to_string(),
        );
    }
    Ok(EngagementPage {
        actual_hours: actual.0,
        actual_cost: actual.1,
        chrome: Chrome::page(state, who, "/engagements")
            .await?
            .with_notice(done),
        error,
        id: id.0,
        hospital: e.hospital_name.clone(),
        hospital_id: e.hospital_id.0,
        company: e.company_name.clone(),
        programme: e.programme_name.clone(),
        programme_id: e.programme_id.0,
        state: tr.value("state", e.state.slug()),
        state_slug: e.state.slug(),
        contract: e.contract_in_force,
        closed: e.state.is_closed_early(),
        today: today.to_string(),
        is_secretariat: secretariat,
        candidate,
        cand,
        routes: RecruitmentRoute::ALL
            .iter()
            .map(|r| (r.slug(), tr.value("route", r.slug())))
            .collect(),
        company_confirmed: e.company_confirmed_on.map(day),
        deadlines: d
            .deadlines
            .iter()
            .map(|x| deadline_view(tr, x, today))
            .collect(),
        gates,
        next_states: d
            .next_states
            .iter()
            .map(|s| (s.slug(), tr.value("state", s.slug())))
            .collect(),
        transitions: d
            .transitions
            .iter()
            .map(|t| TransitionView {
                from: tr.value("state", t.from.slug()),
                to: tr.value("state", t.to.slug()),
                to_slug: t.to.slug(),
                on: day(t.effective_on),
                note: t.note.clone(),
                by: t.by.clone().unwrap_or_default(),
                at: crate::format::minutes(t.at_ms),
            })
            .collect(),
        agreements,
        agreement_kinds: AgreementKind::ALL
            .iter()
            .map(|k| (k.slug(), tr.value("agreement", k.slug())))
            .collect(),
        documents,
        letters: if secretariat {
            LetterKind::ALL
                .iter()
                .map(|k| {
                    (
                        k.slug(),
                        if tr.lang == Language::Japanese {
                            k.title_ja()
                        } else {
                            k.title_en()
                        }
                        .to_string(),
                    )
                })
                .collect()
        } else {
            Vec::new()
        },
        may_estimate: own_company && estimates.is_some() && !e.state.is_closed_early(),
        may_order: secretariat
            && !has_live_order
            && estimates.as_ref().is_some_and(|x| !x.is_empty()),
        estimates,
        cap: format_yen(programme.labour_cap_yen),
        orders,
        payments,
        rate: format_yen(programme.honorarium_rate_yen),
        payment_kinds: PaymentKind::ALL
            .iter()
            .map(|k| (k.slug(), tr.value("payment", k.slug())))
            .collect(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<EngagementPage, WebError> {
    engagement_page(&state, &who, EngagementId(id), None, &done.done).await
}

async fn refused(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    refusal: Refusal,
) -> Result<Response, WebError> {
    let page = engagement_page(state, who, id, Some(refusal.message), &None).await?;
    Ok((refusal.status, page).into_response())
}

/// After a form of the engagement page: back to its section with a notice,
/// or the page again with the refusal named.
async fn outcome<T>(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    result: Result<T, StoreError>,
    done: &str,
    section: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/engagements/{id}?done={done}#{section}")).into_response())
        }
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            refused(state, who, id, refusal).await
        }
    }
}

pub async fn update_candidate(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<CandidateForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let result = match form.details() {
        Ok(details) => state.store.update_candidate(&who.ctx, id, &details).await,
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "saved", "candidate").await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirmed_on: String,
}

pub async fn confirm_company(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let result = match forms::date("confirmed_on", &form.confirmed_on) {
        Ok(on) => state.store.confirm_company(&who.ctx, id, on).await,
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "company_confirmed", "gates").await
}

#[derive(Deserialize)]
pub struct TransitionForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    effective_on: String,
    #[serde(default)]
    note: String,
}

pub async fn transition(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<TransitionForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let parsed = EngagementState::parse(form.to.trim())
        .map_err(|_| {
            DomainError::invalid(
                "to",
                format!(
                    "`{}` is not a state (valid: {})",
                    form.to.trim(),
                    EngagementState::ALL
                        .iter()
                        .map(|s| s.slug())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
        .and_then(|to| {
            Ok((
                to,
                forms::optional_date("effective_on", &form.effective_on)?,
            ))
        });
    let result = match parsed {
        Ok((to, on)) => {
            crate::releases::take_step(&state.store, &who.ctx, id, to, on, &form.note).await?
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "transitioned", "transition").await
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    issued_on: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
}

pub async fn issue_agreement(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<IssueForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let parsed = AgreementKind::parse(form.kind.trim()).and_then(|kind| {
        Ok((
            kind,
            forms::optional_date("issued_on", &form.issued_on)?,
            forms::date("valid_from", &form.valid_from)?,
            forms::date("valid_until", &form.valid_until)?,
        ))
    });
    let result = match parsed {
        Ok((kind, issued, from, until)) => {
            state
                .store
                .issue_agreement(&who.ctx, id, kind, issued, from, until)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "agreement_issued", "agreements").await
}

pub async fn sign_agreement(
    State(state): State<AppState>,
    who: Signed,
    Path((id, agreement)): Path<(i64, i64)>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let form: UploadForm = forms::read_upload(multipart, "scan").await?;
    // The agreement must be one of this engagement's.
    let detail = state.store.engagement_detail(&who.ctx, id).await?;
    if !detail.agreements.iter().any(|a| a.id == agreement) {
        return Err(WebError::NotFound);
    }
    let result = match forms::date("signed_on", form.text("signed_on")) {
        Ok(on) => {
            state
                .store
                .sign_agreement(&who.ctx, agreement, on, form.file)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "agreement_signed", "agreements").await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    reason: String,
}

pub async fn revoke_agreement(
    State(state): State<AppState>,
    who: Signed,
    Path((id, agreement)): Path<(i64, i64)>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let detail = state.store.engagement_detail(&who.ctx, id).await?;
    if !detail.agreements.iter().any(|a| a.id == agreement) {
        return Err(WebError::NotFound);
    }
    let result = state
        .store
        .revoke_agreement(&who.ctx, agreement, &form.reason)
        .await;
    outcome(&state, &who, id, result, "agreement_revoked", "agreements").await
}

#[derive(Deserialize)]
pub struct LetterForm {
    #[serde(default)]
    kind: String,
}

pub async fn generate_letter(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<LetterForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let Ok(kind) = LetterKind::parse(form.kind.trim()) else {
        let refusal = forms::store_refusal(
            who.tr,
            DomainError::invalid(
                "kind",
                format!(
                    "`{}` is not a letter (valid: request-letter, pledge, nda)",
                    form.kind.trim()
                ),
            )
            .into(),
        )?;
        return refused(&state, &who, id, refusal).await;
    };
    match documents::generate_letter(&state.store, &who.ctx, id, kind).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/engagements/{id}?done=letter_generated#documents"
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::web_refusal(who.tr, e)?;
            refused(&state, &who, id, refusal).await
        }
    }
}

pub async fn file(
    State(state): State<AppState>,
    who: Signed,
    Path((id, file)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let (stored, data) = state
        .store
        .engagement_file(&who.ctx, EngagementId(id), file)
        .await?;
    Ok(forms::download(&stored, data))
}

#[derive(Deserialize)]
pub struct EstimateForm {
    #[serde(default)]
    labour_hours: String,
    #[serde(default)]
    labour_cost_yen: String,
    #[serde(default)]
    trips: String,
    #[serde(default)]
    travel_yen: String,
    #[serde(default)]
    consumables_yen: String,
    #[serde(default)]
    note: String,
}

impl EstimateForm {
    fn figures(&self) -> Result<EstimateFigures, DomainError> {
        Ok(EstimateFigures {
            labour_hours: forms::hours("labour_hours", &self.labour_hours)?,
            labour_cost_yen: forms::yen("labour_cost_yen", &self.labour_cost_yen)?,
            trips: forms::optional_yen("trips", &self.trips)?.unwrap_or(0),
            travel_yen: forms::optional_yen("travel_yen", &self.travel_yen)?.unwrap_or(0),
            consumables_yen: forms::optional_yen("consumables_yen", &self.consumables_yen)?
                .unwrap_or(0),
        })
    }
}

pub async fn submit_estimate(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<EstimateForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let result = match form.figures() {
        Ok(figures) => {
            state
                .store
                .submit_estimate(&who.ctx, id, &figures, &form.note)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "estimate_submitted", "estimates").await
}

#[derive(Deserialize)]
pub struct OrderForm {
    #[serde(default)]
    estimate_id: String,
    #[serde(default)]
    order_number: String,
    #[serde(default)]
    issued_on: String,
}

pub async fn issue_order(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<OrderForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let parsed = forms::whole("estimate_id", &form.estimate_id)
        .and_then(|e| Ok((e, forms::date("issued_on", &form.issued_on)?)));
    let result = match parsed {
        Ok((estimate, on)) => {
            state
                .store
                .issue_order(&who.ctx, id, estimate, &form.order_number, on)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "order_issued", "orders").await
}

#[derive(Deserialize)]
pub struct SettleForm {
    #[serde(default)]
    settled_hours: String,
    #[serde(default)]
    settled_amount_yen: String,
    #[serde(default)]
    settled_on: String,
}

pub async fn settle_order(
    State(state): State<AppState>,
    who: Signed,
    Path((id, order)): Path<(i64, i64)>,
    Form(form): Form<SettleForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let detail = state.store.engagement_detail(&who.ctx, id).await?;
    if !detail
        .orders
        .as_ref()
        .is_some_and(|o| o.iter().any(|o| o.id == order))
    {
        return Err(WebError::NotFound);
    }
    let parsed = forms::hours("settled_hours", &form.settled_hours).and_then(|h| {
        Ok((
            h,
            forms::yen("settled_amount_yen", &form.settled_amount_yen)?,
            forms::date("settled_on", &form.settled_on)?,
        ))
    });
    let result = match parsed {
        Ok((hours, amount, on)) => {
            state
                .store
                .settle_order(&who.ctx, order, hours, amount, on)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "order_settled", "orders").await
}

#[derive(Deserialize)]
pub struct PaymentForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    amount_yen: String,
    #[serde(default)]
    paid_for_on: String,
    #[serde(default)]
    note: String,
}

impl PaymentForm {
    fn payment(&self) -> Result<NewPayment, DomainError> {
        Ok(NewPayment {
            kind: PaymentKind::parse(self.kind.trim())?,
            person: self.person.clone(),
            department: self.department.clone(),
            title: self.title.clone(),
            hours: forms::optional_hours("hours", &self.hours)?,
            amount_yen: forms::optional_yen("amount_yen", &self.amount_yen)?,
            paid_for_on: forms::date("paid_for_on", &self.paid_for_on)?,
            note: self.note.clone(),
        })
    }
}

pub async fn record_payment(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<PaymentForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let result = match form.payment() {
        Ok(p) => state.store.record_payment(&who.ctx, id, &p).await,
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "payment_recorded", "payments").await
}
