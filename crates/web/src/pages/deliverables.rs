//! The deliverables of one engagement (① to ⑦; seed 資料1 §3.5): where
//! each stands in the review, who submitted which version when, the review
//! history with its notes, the survey company's submission and the
//! supervisor's or secretariat's review; and one frozen version with its
//! tables, its diagram (⑥, ⑦) and what changed since the version before.

use super::forms;
use super::{Chrome, Done};
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::deliverable::{
    DeliverableContent, DeliverableKind, ReviewAction, allowed_actions,
};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, EngagementId, OrgId};
use mamori_store::{DeliverableRecord, StoreError};
use serde::Deserialize;
use std::collections::HashMap;

/// The kind named in a path: its slug (`backups`) or its number (`4`).
pub fn kind_of(text: &str) -> Result<DeliverableKind, WebError> {
    if let Ok(kind) = DeliverableKind::parse(text) {
        return Ok(kind);
    }
    text.parse::<u8>()
        .ok()
        .and_then(DeliverableKind::from_number)
        .ok_or(WebError::NotFound)
}

/// The engagement's hospital and names, as the reader may see them.
pub struct Engagement {
    pub hospital: OrgId,
    pub hospital_name: String,
    pub company_name: String,
}

pub async fn engagement(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
) -> Result<Engagement, WebError> {
    let e = state
        .store
        .engagement_detail(&who.ctx, id)
        .await?
        .engagement;
    Ok(Engagement {
        hospital: e.hospital_id,
        hospital_name: e.hospital_name,
        company_name: e.company_name,
    })
}

/// A grant for the engagement's deliverables (reviews, findings and
/// releases are kept under the same policy row).
pub(crate) async fn grant(
    state: &AppState,
    who: &Signed,
    hospital: OrgId,
    access: Access,
) -> Result<HospitalGrant, StoreError> {
    grant_for(state, who, hospital, HospitalData::Deliverables, access).await
}

/// A grant for one kind of the hospital's data, for the reader.
pub(crate) async fn grant_for(
    state: &AppState,
    who: &Signed,
    hospital: OrgId,
    data: HospitalData,
    access: Access,
) -> Result<HospitalGrant, StoreError> {
    state
        .store
        .authorize(&who.ctx, hospital, data, access)
        .await
}

pub struct ReviewLine {
    pub version: i64,
    pub action: String,
    pub who: String,
    pub at: String,
    pub note: String,
}

pub struct DeliverableLine {
    pub slug: &'static str,
    pub mark: char,
    pub title: String,
    pub state: String,
    pub state_slug: &'static str,
    pub version: Option<i64>,
    pub submitted_at: String,
    pub submitted_by: String,
    pub reviews: Vec<ReviewLine>,
    pub may_submit: bool,
    /// The review actions the reader may take now: (slug, label).
    pub actions: Vec<(&'static str, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "deliverables.html")]
pub struct DeliverablesPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    company: String,
    lines: Vec<DeliverableLine>,
    /// The deliverable a refusal is about, and what it says.
    error: Option<(String, String)>,
    /// The review talk (threads, deep dives) for those who take part in it.
    talk: Option<super::review::Talk>,
}

/// Names of accounts, looked up once each.
async fn names(
    state: &AppState,
    records: &[DeliverableRecord],
) -> Result<HashMap<AccountId, String>, WebError> {
    let mut names = HashMap::new();
    let mut ids: Vec<AccountId> = Vec::new();
    for r in records {
        ids.extend(r.submitted_by);
        ids.extend(r.reviews.iter().filter_map(|v| v.actor));
    }
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
            slot.insert(state.store.account_name(id).await?.unwrap_or_default());
        }
    }
    Ok(names)
}

pub(crate) async fn deliverables_page(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    error: Option<(String, String)>,
    done: &Option<String>,
) -> Result<DeliverablesPage, WebError> {
    let tr = who.tr;
    let lang = tr.code();
    let e = engagement(state, who, id).await?;
    let g = grant(state, who, e.hospital, Access::Read).await?;
    let records = state.store.deliverables(&who.ctx, &g, id).await?;
    let actor = who.account.actor();
    let may_write = state
        .store
        .may(
            &actor,
            e.hospital,
            HospitalData::Deliverables,
            Access::Write,
        )
        .await?;
    let may_review = state
        .store
        .may(
            &actor,
            e.hospital,
            HospitalData::Deliverables,
            Access::Review,
        )
        .await?;
    let names = names(state, &records).await?;
    let name = |a: Option<AccountId>| a.and_then(|a| names.get(&a).cloned()).unwrap_or_default();
    let lines = records
        .iter()
        .map(|r| {
            let allowed = allowed_actions(r.state, &actor, r.submitted_by);
            DeliverableLine {
                slug: r.kind.slug(),
                mark: r.kind.mark(),
                title: r.kind.ja().to_string(),
                state: r.state.label(lang).to_string(),
                state_slug: r.state.slug(),
                version: r.version,
                submitted_at: r
                    .submitted_at_ms
                    .map(crate::format::minutes)
                    .unwrap_or_default(),
                submitted_by: name(r.submitted_by),
                reviews: r
                    .reviews
                    .iter()
                    .map(|v| ReviewLine {
                        version: v.version,
                        action: v.action.label(lang).to_string(),
                        who: name(v.actor),
                        at: crate::format::minutes(v.at_ms),
                        note: v.note.clone(),
                    })
                    .collect(),
                may_submit: may_write && allowed.contains(&ReviewAction::Submit),
                actions: if may_review {
                    allowed
                        .iter()
                        .filter(|a| **a != ReviewAction::Submit)
                        .map(|a| (a.slug(), a.label(lang).to_string()))
                        .collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let talk = super::review::talk(state, who, e.hospital, id, &records).await?;
    let chrome = Chrome::page(state, who, "/engagements")
        .await?
        .with_notice(done);
    Ok(DeliverablesPage {
        chrome,
        id: id.0,
        hospital: e.hospital_name,
        company: e.company_name,
        lines,
        error,
        talk,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<DeliverablesPage, WebError> {
    deliverables_page(&state, &who, EngagementId(id), None, &done.done).await
}

/// After a submission or a review step: back to the list, or the list
/// again with the refusal named beside its deliverable.
async fn outcome(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    kind: DeliverableKind,
    result: Result<DeliverableRecord, StoreError>,
    done: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/engagements/{id}/deliverables?done={done}#{}",
            kind.slug()
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = deliverables_page(
                state,
                who,
                id,
                Some((kind.slug().to_string(), refusal.message)),
                &None,
            )
            .await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

pub async fn submit(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let kind = kind_of(&kind)?;
    let e = engagement(&state, &who, id).await?;
    let result = match grant(&state, &who, e.hospital, Access::Write).await {
        Ok(g) => state.store.submit_deliverable(&who.ctx, &g, id, kind).await,
        Err(e) => Err(e),
    };
    outcome(&state, &who, id, kind, result, "deliverable_submitted").await
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
}

pub async fn review(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind)): Path<(i64, String)>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let kind = kind_of(&kind)?;
    let e = engagement(&state, &who, id).await?;
    let g = grant(&state, &who, e.hospital, Access::Review).await?;
    let result = match ReviewAction::parse(&form.action) {
        Ok(action) => {
            state
                .store
                .review_deliverable(&who.ctx, &g, id, kind, action, &form.note)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, kind, result, "deliverable_reviewed").await
}

pub struct TableView {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The tables of a frozen version in the reader's language.
pub fn tables(tr: Tr, content: &DeliverableContent) -> Vec<TableView> {
    let lang = tr.code();
    content
        .tables
        .iter()
        .map(|t| TableView {
            caption: if lang == "en" {
                t.caption_en.clone()
            } else {
                t.caption_ja.clone()
            },
            columns: t
                .columns
                .iter()
                .map(|c| c.label(lang).to_string())
                .collect(),
            rows: t.rows.iter().map(|r| r.cells.clone()).collect(),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "deliverable_version.html")]
pub struct VersionPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    mark: char,
    title: String,
    version: i64,
    tables: Vec<TableView>,
    svg: Option<String>,
    /// From the version before, one line per change; `None` for version 1.
    changes: Option<Vec<String>>,
}

pub async fn version(
    State(state): State<AppState>,
    who: Signed,
    Path((id, kind, n)): Path<(i64, String, i64)>,
) -> Result<VersionPage, WebError> {
    let id = EngagementId(id);
    let kind = kind_of(&kind)?;
    let e = engagement(&state, &who, id).await?;
    let g = grant(&state, &who, e.hospital, Access::Read).await?;
    let content = state
        .store
        .deliverable_version(&who.ctx, &g, id, kind, n)
        .await?;
    let changes = if n > 1 {
        let changes = state
            .store
            .deliverable_diff(&who.ctx, &g, id, kind, n - 1, n)
            .await?;
        Some(changes.iter().map(ToString::to_string).collect())
    } else {
        None
    };
    let lang = who.tr.code();
    let svg = match (&content.network, &content.structure) {
        (Some(view), _) => Some(mamori_documents::diagram::network_svg(view, lang)),
        (None, Some(view)) => Some(mamori_documents::diagram::org_svg(view, lang)),
        (None, None) => None,
    };
    let chrome = Chrome::page(&state, &who, "/engagements").await?;
    Ok(VersionPage {
        tables: tables(who.tr, &content),
        chrome,
        id: id.0,
        hospital: e.hospital_name,
        mark: kind.mark(),
        title: kind.ja().to_string(),
        version: n,
        svg,
        changes,
    })
}
