//! Vulnerability response (seed 資料1 基本構想 ②): a hospital's cases — the
//! advisories matched to its ledger, each triaged 未確認 → 影響あり / 影響なし
//! → 対応中 → 対応済 with its due date — and the notices it received; the
//! secretariat's analyst queue (matches by product name only wait there),
//! the escalated cases, and "N hospitals affected, M closed" per advisory
//! for the secretariat, the supervisor and the ministry.

use super::forms;
use super::{Chrome, Done};
use crate::error::WebError;
use crate::format;
use crate::i18n::Tr;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_advisories::notice::{Notice, RecipientKind};
use mamori_domain::OrgId;
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::triage::{MatchReview, TriageState, next_triage_states};
use mamori_store::{AdvisoryMatch, MatchQuery, StoreError};
use serde::Deserialize;

/// A case as the pages show it.
pub struct CaseView {
    id: i64,
    hospital_id: i64,
    hospital: String,
    advisory: String,
    title: String,
    cve_ids: String,
    cvss: String,
    kev: String,
    asset: String,
    state: String,
    state_label: String,
    due: String,
    overdue: bool,
    escalated: bool,
    method: String,
    confidence: String,
    criterion: String,
    note: String,
    review_note: String,
    found: String,
    next: Vec<(String, String)>,
    history: Vec<String>,
}

fn case_view(tr: Tr, m: &AdvisoryMatch, today: &str) -> CaseView {
    let state = TriageState::parse(&m.state).ok();
    let open = state.is_some_and(|s| {
        matches!(
            s,
            TriageState::Unconfirmed | TriageState::Affected | TriageState::InProgress
        )
    });
    CaseView {
        id: m.id,
        hospital_id: m.hospital_id.0,
        hospital: m.hospital.clone(),
        advisory: m.advisory.clone(),
        title: m.title.clone(),
        cve_ids: m
            .cve_ids
            .iter()
            .filter(|c| **c != m.advisory)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        cvss: m.cvss.map(|s| format!("{s:.1}")).unwrap_or_default(),
        kev: match &m.kev_due {
            Some(d) if !d.is_empty() => format!("{} ({d})", tr.t("adv.kev_yes")),
            Some(_) => tr.t("adv.kev_yes").to_string(),
            None => String::new(),
        },
        asset: m.asset.clone(),
        state: m.state.clone(),
        state_label: state.map_or(m.state.clone(), |s| s.label(tr.code()).to_string()),
        due: m.due_on.clone().unwrap_or_default(),
        overdue: open && m.due_on.as_deref().is_some_and(|d| d < today),
        escalated: m.escalated,
        method: tr.value("method", &m.method),
        confidence: tr.value("confidence", &m.confidence),
        criterion: m.criterion.clone(),
        note: m.note.clone(),
        review_note: m.review_note.clone(),
        found: format::minutes(m.found_at_ms),
        next: state
            .map(|s| {
                next_triage_states(s)
                    .iter()
                    .map(|n| (n.slug().to_string(), n.label(tr.code()).to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        history: Vec::new(),
    }
}

pub struct NoticeLink {
    number: i64,
    issued: String,
    advisories: usize,
    cases: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "advisories_hospital.html")]
pub struct HospitalCasesPage {
    chrome: Chrome,
    id: i64,
    name: String,
    cases: Vec<CaseView>,
    notices: Vec<NoticeLink>,
    may_write: bool,
    error: Option<String>,
}

async fn grant(
    state: &AppState,
    who: &Signed,
    hospital: OrgId,
    access: Access,
) -> Result<HospitalGrant, StoreError> {
    state
        .store
        .authorize(&who.ctx, hospital, HospitalData::Matches, access)
        .await
}

async fn hospital_name(state: &AppState, who: &Signed, id: OrgId) -> Result<String, WebError> {
    let g = state
        .store
        .authorize(&who.ctx, id, HospitalData::EngagementSummary, Access::Read)
        .await?;
    Ok(state.store.hospital_summary(&who.ctx, &g).await?.name)
}

async fn hospital_page(
    state: &AppState,
    who: &Signed,
    id: OrgId,
    error: Option<String>,
    done: &Option<String>,
) -> Result<HospitalCasesPage, WebError> {
    let tr = who.tr;
    let name = hospital_name(state, who, id).await?;
    let cases = state
        .store
        .hospital_matches(&who.ctx, &grant(state, who, id, Access::Read).await?)
        .await?;
    let today = state.store.today().to_string();
    let mut views = Vec::with_capacity(cases.len());
    for m in &cases {
        let mut v = case_view(tr, m, &today);
        let steps = state
            .store
            .match_steps(&who.ctx, &grant(state, who, id, Access::Read).await?, m.id)
            .await?;
        v.history = steps
            .iter()
            .map(|s| {
                let label = |slug: &str| {
                    TriageState::parse(slug)
                        .map_or(slug.to_string(), |t| t.label(tr.code()).to_string())
                };
                let mut line = format!(
                    "{} {} → {} ({})",
                    format::minutes(s.at_ms),
                    label(&s.from),
                    label(&s.to),
                    s.actor
                );
                if let Some(d) = &s.due_on {
                    line.push_str(&format!(" {}: {d}", tr.t("adv.due")));
                }
                if !s.note.is_empty() {
                    line.push_str(&format!(" — {}", s.note));
                }
                line
            })
            .collect();
        views.push(v);
    }
    // Open cases first, the most urgent on top.
    views.sort_by(|a, b| {
        let closed = |v: &CaseView| {
            !v.overdue && !matches!(v.state.as_str(), "unconfirmed" | "affected" | "in-progress")
        };
        closed(a)
            .cmp(&closed(b))
            .then(a.due.cmp(&b.due))
            .then(a.advisory.cmp(&b.advisory))
    });
    let notices = state
        .store
        .hospital_notices(&who.ctx, &grant(state, who, id, Access::Read).await?)
        .await?
        .iter()
        .map(|n| NoticeLink {
            number: n.number,
            issued: format::minutes(n.created_at_ms),
            advisories: n.notice.advisories.len(),
            cases: n.notice.advisories.iter().map(|a| a.assets.len()).sum(),
        })
        .collect();
    let may_write = state
        .store
        .may(
            &who.account.actor(),
            id,
            HospitalData::Matches,
            Access::Write,
        )
        .await?;
    Ok(HospitalCasesPage {
        chrome: Chrome::page(state, who, "/advisories")
            .await?
            .with_notice(done),
        id: id.0,
        name,
        cases: views,
        notices,
        may_write,
        error,
    })
}

pub async fn hospital(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<HospitalCasesPage, WebError> {
    hospital_page(&state, &who, OrgId(id), None, &done.done).await
}

#[derive(Deserialize)]
pub struct StepForm {
    state: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    due: String,
}

/// A triage step on one case; a refusal shows the page again with why.
pub async fn step(
    State(state): State<AppState>,
    who: Signed,
    Path((id, case)): Path<(i64, i64)>,
    Form(form): Form<StepForm>,
) -> Result<Response, WebError> {
    let hospital = OrgId(id);
    let parsed = TriageState::parse(&form.state)
        .and_then(|to| Ok((to, forms::optional_date("due", &form.due)?)));
    let result = match parsed {
        Ok((to, due)) => match grant(&state, &who, hospital, Access::Write).await {
            Ok(g) => {
                state
                    .store
                    .triage_match(&who.ctx, &g, case, to, &form.note, due)
                    .await
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(StoreError::from(e)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/hospitals/{id}/advisories?done=adv_step#case-{case}"
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = hospital_page(&state, &who, hospital, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

pub struct RecipientView {
    kind: String,
    title: String,
    person: String,
    organisation: String,
    phone: String,
    email: String,
    assets: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "advisory_notice.html")]
pub struct NoticePage {
    chrome: Chrome,
    id: i64,
    number: i64,
    issued: String,
    notice: Notice,
    recipients: Vec<RecipientView>,
}

impl NoticePage {
    fn cvss_text(&self, a: &mamori_advisories::notice::NoticeAdvisory) -> String {
        a.cvss
            .as_ref()
            .map(|c| {
                let mut t = format!("{:.1}", c.base_score);
                if !c.severity.is_empty() {
                    t.push_str(&format!(" {}", c.severity));
                }
                if !c.vector.is_empty() {
                    t.push_str(&format!(" ({})", c.vector));
                }
                t
            })
            .unwrap_or_default()
    }

    fn kev_text(&self, a: &mamori_advisories::notice::NoticeAdvisory) -> String {
        match &a.kev {
            Some(k) => {
                let mut t = self.chrome.tr.t("adv.kev_yes").to_string();
                if let Some(d) = k.due_date {
                    t.push_str(&format!(" — {}: {}", self.chrome.tr.t("adv.due"), d));
                }
                t
            }
            None => String::new(),
        }
    }
}

/// One notice as sent, printable.
pub async fn notice(
    State(state): State<AppState>,
    who: Signed,
    Path((id, number)): Path<(i64, i64)>,
) -> Result<NoticePage, WebError> {
    let tr = who.tr;
    let hospital = OrgId(id);
    let all = state
        .store
        .hospital_notices(
            &who.ctx,
            &grant(&state, &who, hospital, Access::Read).await?,
        )
        .await?;
    let stored = all
        .into_iter()
        .find(|n| n.number == number)
        .ok_or(WebError::NotFound)?;
    let recipients = stored
        .notice
        .recipients
        .iter()
        .map(|r| RecipientView {
            kind: match r.kind {
                RecipientKind::Hospital => tr.t("adv.recipient_hospital"),
                RecipientKind::MaintenanceVendor => tr.t("adv.recipient_vendor"),
            }
            .to_string(),
            title: r.title.clone(),
            person: r.person.clone(),
            organisation: r.organisation.clone(),
            phone: r.phone.clone(),
            email: r.email.clone(),
            assets: r.assets.join(", "),
        })
        .collect();
    Ok(NoticePage {
        chrome: Chrome::page(&state, &who, "/advisories").await?,
        id,
        number,
        issued: stored.notice.issued_on.to_string(),
        notice: stored.notice,
        recipients,
    })
}

pub struct ResponseView {
    advisory: String,
    title: String,
    cvss: String,
    kev: bool,
    hospitals: usize,
    closed: usize,
    not_affected: usize,
    open: usize,
    overdue: usize,
    escalated: usize,
    line: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "advisories.html")]
pub struct AdvisoriesPage {
    chrome: Chrome,
    responses: Vec<ResponseView>,
    analyst: bool,
    pending: Vec<CaseView>,
    escalated: Vec<CaseView>,
    error: Option<String>,
}

async fn advisories_page(
    state: &AppState,
    who: &Signed,
    error: Option<String>,
    done: &Option<String>,
) -> Result<AdvisoriesPage, WebError> {
    let tr = who.tr;
    let responses = state
        .store
        .advisory_responses(&who.ctx)
        .await?
        .into_iter()
        .map(|r| ResponseView {
            line: tr
                .t("adv.summary_line")
                .replace("{hospitals}", &r.hospitals.to_string())
                .replace("{closed}", &r.closed.to_string()),
            advisory: r.advisory,
            title: r.title,
            cvss: r.cvss.map(|s| format!("{s:.1}")).unwrap_or_default(),
            kev: r.kev,
            open: r.hospitals - r.closed,
            hospitals: r.hospitals,
            closed: r.closed,
            not_affected: r.not_affected,
            overdue: r.overdue,
            escalated: r.escalated_cases,
        })
        .collect();
    let analyst = who.account.org_kind == OrgKind::Secretariat;
    let today = state.store.today().to_string();
    let (pending, escalated) = if analyst {
        let read = |q: MatchQuery| async move { state.store.advisory_matches(&who.ctx, &q).await };
        let pending = read(MatchQuery {
            review: Some(MatchReview::Pending.slug().to_string()),
            ..MatchQuery::default()
        })
        .await?;
        let escalated = read(MatchQuery {
            escalated_only: true,
            visible_only: true,
            ..MatchQuery::default()
        })
        .await?;
        (
            pending.iter().map(|m| case_view(tr, m, &today)).collect(),
            escalated
                .iter()
                .map(|m| case_view(tr, m, &today))
                .filter(|v| matches!(v.state.as_str(), "unconfirmed" | "affected" | "in-progress"))
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(AdvisoriesPage {
        chrome: Chrome::page(state, who, "/advisories")
            .await?
            .with_notice(done),
        responses,
        analyst,
        pending,
        escalated,
        error,
    })
}

/// The secretariat's, the supervisor's and the ministry's view; a
/// hospital's staff go to their own cases.
pub async fn overview(
    State(state): State<AppState>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    match who.account.org_kind {
        OrgKind::Hospital => Ok(Redirect::to(&format!(
            "/hospitals/{}/advisories",
            who.account.org_id
        ))
        .into_response()),
        OrgKind::Secretariat | OrgKind::Supervisor | OrgKind::Ministry => {
            Ok(advisories_page(&state, &who, None, &done.done)
                .await?
                .into_response())
        }
        _ => Err(WebError::Forbidden),
    }
}

#[derive(Deserialize)]
pub struct ReviewForm {
    decision: String,
    #[serde(default)]
    note: String,
}

/// The analyst confirms (the hospital is told) or dismisses a match.
pub async fn review(
    State(state): State<AppState>,
    who: Signed,
    Path(case): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, WebError> {
    let result = match MatchReview::parse(&form.decision) {
        Ok(to) => {
            state
                .store
                .review_match(&who.ctx, case, to, &form.note)
                .await
        }
        Err(e) => Err(StoreError::from(e)),
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!(
            "/advisories?done={}",
            if m.review == MatchReview::Confirmed.slug() {
                "adv_confirmed"
            } else {
                "adv_dismissed"
            }
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = advisories_page(&state, &who, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

/// Every advisory against every ledger again (after a catalogue change).
pub async fn rematch(State(state): State<AppState>, who: Signed) -> Result<Response, WebError> {
    state.store.rematch_advisories(&who.ctx).await?;
    Ok(Redirect::to("/advisories?done=adv_rematched").into_response())
}
