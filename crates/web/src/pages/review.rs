//! The supervisor's review: the queue across engagements (`/review`:
//! submitted deliverables with their age, open deep dives, the interim
//! review milestone with the engagements not yet reviewed), and the review
//! talk shown on an engagement's deliverables page (comment threads, deep
//! dives) with its forms.

use super::deliverables::{deliverables_page, grant, kind_of};
use super::{Chrome, forms};
use crate::error::WebError;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::deliverable::{
    DeepDiveAction, DeliverableKind, ThreadAction, deep_dive_actions, discussion_access,
    may_see_discussion, thread_actions,
};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, DomainError, EngagementId, OrgId};
use mamori_store::{Anchor, DeliverableRecord, StoreError};
use serde::Deserialize;
use std::collections::HashMap;

/// One comment of a thread or one step of a deep dive, as shown.
pub struct StepView {
    pub action: String,
    pub who: String,
    pub at: String,
    pub text: String,
}

pub struct ThreadView {
    pub id: i64,
    /// The row and version it points at ("C-1 · 版 1"), empty for the whole.
    pub anchor: String,
    pub state: String,
    pub state_slug: &'static str,
    pub comments: Vec<StepView>,
    /// What the reader may do now: (slug, label).
    pub actions: Vec<(&'static str, String)>,
}

pub struct DeepDiveView {
    pub id: i64,
    pub anchor: String,
    pub due: String,
    pub overdue_days: Option<i64>,
    pub state: String,
    pub state_slug: &'static str,
    pub steps: Vec<StepView>,
    pub actions: Vec<(&'static str, String)>,
}

/// The talk about one deliverable.
pub struct KindTalk {
    pub slug: &'static str,
    pub threads: Vec<ThreadView>,
    pub deep_dives: Vec<DeepDiveView>,
    /// The rows of the current version a new thread may point at.
    pub row_keys: Vec<String>,
    pub version: Option<i64>,
    pub may_open: bool,
    pub may_request: bool,
}

/// The review talk of an engagement's deliverables page.
pub struct Talk {
    pub kinds: Vec<KindTalk>,
}

impl Talk {
    pub fn of(&self, slug: &str) -> Option<&KindTalk> {
        self.kinds.iter().find(|k| k.slug == slug)
    }
}

fn anchor_text(tr: crate::i18n::Tr, row: &Option<String>, version: Option<i64>) -> String {
    let mut parts = Vec::new();
    if let Some(r) = row {
        parts.push(format!("{}: {r}", tr.t("review.row")));
    }
    if let Some(v) = version {
        parts.push(format!("{} {v}", tr.t("deliverable.version")));
    }
    parts.join(" · ")
}

/// Names of accounts, looked up once each.
async fn names(
    state: &AppState,
    ids: impl IntoIterator<Item = AccountId>,
) -> Result<HashMap<AccountId, String>, WebError> {
    let mut names = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
            slot.insert(state.store.account_name(id).await?.unwrap_or_default());
        }
    }
    Ok(names)
}

/// The talk for the deliverables page: `None` for readers outside it (the
/// hospital and the ministry read delivered deliverables, not the talk).
pub async fn talk(
    state: &AppState,
    who: &Signed,
    hospital: OrgId,
    id: EngagementId,
    records: &[DeliverableRecord],
) -> Result<Option<Talk>, WebError> {
    let actor = who.account.actor();
    if !may_see_discussion(&actor) {
        return Ok(None);
    }
    let tr = who.tr;
    let lang = tr.code();
    let g = grant(state, who, hospital, Access::Read).await?;
    let threads = state.store.review_threads(&who.ctx, &g, id).await?;
    let g = grant(state, who, hospital, Access::Read).await?;
    let dives = state.store.deep_dives(&who.ctx, &g, id).await?;
    let may_step = state
        .store
        .may(
            &actor,
            hospital,
            HospitalData::Deliverables,
            discussion_access(actor.org_kind),
        )
        .await?;
    let may_open = may_step && !thread_actions(None, &actor).is_empty();
    let may_request = may_step && !deep_dive_actions(None, &actor).is_empty();
    let mut ids: Vec<AccountId> = Vec::new();
    ids.extend(
        threads
            .iter()
            .flat_map(|t| t.comments.iter().filter_map(|c| c.author)),
    );
    ids.extend(
        dives
            .iter()
            .flat_map(|d| d.steps.iter().filter_map(|s| s.actor)),
    );
    let names = names(state, ids).await?;
    let name = |a: Option<AccountId>| a.and_then(|a| names.get(&a).cloned()).unwrap_or_default();
    let mut kinds = Vec::new();
    for r in records {
        let mut row_keys = Vec::new();
        if let (Some(v), true) = (r.version, may_open || may_request) {
            let g = grant(state, who, hospital, Access::Read).await?;
            let content = state
                .store
                .deliverable_version(&who.ctx, &g, id, r.kind, v)
                .await?;
            for t in &content.tables {
                row_keys.extend(t.keys().into_iter().map(str::to_string));
            }
            row_keys.dedup();
        }
        kinds.push(KindTalk {
            slug: r.kind.slug(),
            threads: threads
                .iter()
                .filter(|t| t.kind == r.kind)
                .map(|t| ThreadView {
                    id: t.id,
                    anchor: anchor_text(tr, &t.row_key, t.version),
                    state: t.state.label(lang).to_string(),
                    state_slug: t.state.slug(),
                    comments: t
                        .comments
                        .iter()
                        .map(|c| StepView {
                            action: c.action.label(lang).to_string(),
                            who: name(c.author),
                            at: crate::format::minutes(c.at_ms),
                            text: c.text.clone(),
                        })
                        .collect(),
                    actions: if may_step {
                        thread_actions(Some(t.state), &actor)
                            .iter()
                            .map(|a| (a.slug(), a.label(lang).to_string()))
                            .collect()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
            deep_dives: dives
                .iter()
                .filter(|d| d.kind == r.kind)
                .map(|d| DeepDiveView {
                    id: d.id,
                    anchor: anchor_text(tr, &d.row_key, d.version),
                    due: d.due_on.to_string(),
                    overdue_days: d.overdue_days,
                    state: d.state.label(lang).to_string(),
                    state_slug: d.state.slug(),
                    steps: d
                        .steps
                        .iter()
                        .map(|s| StepView {
                            action: s.action.label(lang).to_string(),
                            who: name(s.actor),
                            at: crate::format::minutes(s.at_ms),
                            text: s.text.clone(),
                        })
                        .collect(),
                    actions: if may_step {
                        deep_dive_actions(Some(d.state), &actor)
                            .iter()
                            .map(|a| (a.slug(), a.label(lang).to_string()))
                            .collect()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
            row_keys,
            version: r.version,
            may_open,
            may_request,
        });
    }
    Ok(Some(Talk { kinds }))
}

/// After a step: back to the deliverable on its page, or the page again
/// with the refusal named beside the deliverable (nothing changed).
async fn outcome<T>(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    kind: &str,
    result: Result<T, StoreError>,
    done: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/engagements/{id}/deliverables?done={done}#{kind}"
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = deliverables_page(
                state,
                who,
                id,
                Some((kind.to_string(), refusal.message)),
                &None,
            )
            .await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

/// An optional version number from a form ("" = none).
fn version_field(text: &str) -> Result<Option<i64>, DomainError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    forms::whole("version", text).map(Some)
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    row_key: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    text: String,
}

fn anchor_of(kind: DeliverableKind, form: &StartForm) -> Result<Anchor, DomainError> {
    let version = if form.row_key.trim().is_empty() {
        None
    } else {
        version_field(&form.version)?
    };
    Ok(Anchor {
        kind: Some(kind),
        row_key: form.row_key.clone(),
        version,
    })
}

/// The grant for a step of the talk: the company's write, the supervisor's comment.
async fn step_grant(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
) -> Result<HospitalGrant, WebError> {
    let e = super::deliverables::engagement(state, who, id).await?;
    let access = discussion_access(who.account.org_kind);
    Ok(grant(state, who, e.hospital, access).await?)
}

pub async fn open_thread(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind)): Path<(i64, String)>,
    Form(form): Form<StartForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let kind = kind_of(&kind)?;
    let g = step_grant(&state, &who, id).await?;
    let result = match anchor_of(kind, &form) {
        Ok(anchor) => {
            state
                .store
                .open_review_thread(&who.ctx, &g, id, &anchor, &form.text)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, kind.slug(), result, "thread_opened").await
}

pub async fn request_deep_dive(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind)): Path<(i64, String)>,
    Form(form): Form<StartForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let kind = kind_of(&kind)?;
    let g = step_grant(&state, &who, id).await?;
    let result = match (anchor_of(kind, &form), forms::date("due", &form.due)) {
        (Ok(anchor), Ok(due)) => {
            state
                .store
                .request_deep_dive(&who.ctx, &g, id, &anchor, due, &form.text)
                .await
        }
        (Err(e), _) | (_, Err(e)) => Err(e.into()),
    };
    outcome(&state, &who, id, kind.slug(), result, "deep_dive_requested").await
}

#[derive(Deserialize)]
pub struct StepForm {
    /// The deliverable the step is shown under (for the way back).
    #[serde(default)]
    kind: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: String,
}

pub async fn thread_step(
    State(state): State<AppState>,
    who: Signed,
    Path((id, thread)): Path<(i64, i64)>,
    Form(form): Form<StepForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let kind = kind_of(&form.kind)?;
    let g = step_grant(&state, &who, id).await?;
    let result = match ThreadAction::parse(&form.action) {
        Ok(action) => {
            state
                .store
                .review_thread_step(&who.ctx, &g, id, thread, action, &form.text)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, kind.slug(), result, "thread_step").await
}

pub async fn deep_dive_step(
    State(state): State<AppState>,
    who: Signed,
    Path((id, dive)): Path<(i64, i64)>,
    Form(form): Form<StepForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let kind = kind_of(&form.kind)?;
    let g = step_grant(&state, &who, id).await?;
    let result = match DeepDiveAction::parse(&form.action) {
        Ok(action) => {
            state
                .store
                .deep_dive_step(&who.ctx, &g, id, dive, action, &form.text)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, kind.slug(), result, "deep_dive_step").await
}

pub struct QueueLine {
    pub engagement: i64,
    pub hospital: String,
    pub company: String,
    pub slug: &'static str,
    pub mark: char,
    pub title: String,
    pub version: i64,
    pub submitted_at: String,
    pub age_days: i64,
}

pub struct QueueDeepDive {
    pub engagement: i64,
    pub hospital: String,
    pub company: String,
    pub slug: &'static str,
    pub mark: char,
    pub anchor: String,
    pub text: String,
    pub state: String,
    pub due: String,
    pub overdue_days: Option<i64>,
}

pub struct InterimView {
    pub programme: String,
    pub due: String,
    pub days_left: Option<i64>,
    pub warning: bool,
    /// (engagement, hospital, company).
    pub unreviewed: Vec<(i64, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "review.html")]
pub struct QueuePage {
    chrome: Chrome,
    submitted: Vec<QueueLine>,
    deep_dives: Vec<QueueDeepDive>,
    interim: Vec<InterimView>,
}

pub async fn queue(State(state): State<AppState>, who: Signed) -> Result<QueuePage, WebError> {
    let tr = who.tr;
    let lang = tr.code();
    let q = state.store.review_queue(&who.ctx).await?;
    let submitted = q
        .submitted
        .iter()
        .map(|s| QueueLine {
            engagement: s.engagement_id.0,
            hospital: s.hospital_name.clone(),
            company: s.company_name.clone(),
            slug: s.kind.slug(),
            mark: s.kind.mark(),
            title: s.kind.label(lang).to_string(),
            version: s.version,
            submitted_at: crate::format::minutes(s.submitted_at_ms),
            age_days: s.age_days,
        })
        .collect();
    let deep_dives = q
        .deep_dives
        .iter()
        .map(|d| QueueDeepDive {
            engagement: d.deep_dive.engagement_id.0,
            hospital: d.hospital_name.clone(),
            company: d.company_name.clone(),
            slug: d.deep_dive.kind.slug(),
            mark: d.deep_dive.kind.mark(),
            anchor: anchor_text(tr, &d.deep_dive.row_key, d.deep_dive.version),
            text: d
                .deep_dive
                .steps
                .first()
                .map(|s| s.text.clone())
                .unwrap_or_default(),
            state: d.deep_dive.state.label(lang).to_string(),
            due: d.deep_dive.due_on.to_string(),
            overdue_days: d.deep_dive.overdue_days,
        })
        .collect();
    let interim = q
        .interim
        .iter()
        .map(|p| InterimView {
            programme: p.programme_name.clone(),
            due: p.due.map(|d| d.to_string()).unwrap_or_default(),
            days_left: p.days_left,
            warning: p.warning,
            unreviewed: p
                .unreviewed
                .iter()
                .map(|u| {
                    (
                        u.engagement_id.0,
                        u.hospital_name.clone(),
                        u.company_name.clone(),
                    )
                })
                .collect(),
        })
        .collect();
    Ok(QueuePage {
        chrome: Chrome::page(&state, &who, "/review").await?,
        submitted,
        deep_dives,
        interim,
    })
}
