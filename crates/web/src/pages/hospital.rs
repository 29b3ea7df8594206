//! A hospital's page: its facility profile, reachable only through the policy.

use super::{Chrome, Done};
use crate::error::WebError;
use crate::format;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::policy::{Access, HospitalData};
use mamori_domain::{DomainError, OrgId};
use mamori_store::{FacilityProfile, StoreError};

use serde::Deserialize;

pub struct ProfileView {
    count: String,
    it_staff_skills: String,
    ehr_vendor: String,
    maintenance_outsourcing: String,
    notes: String,
    updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "hospital.html")]
pub struct HospitalPage {
    chrome: Chrome,
    id: i64,
    name: String,
    profile: Option<ProfileView>,
    can_write: bool,
    /// The secretariat may return and erase the hospital's data.
    can_return: bool,
    error: Option<String>,
}

async fn hospital_page(
    state: &AppState,
    who: &Signed,
    id: OrgId,
    error: Option<String>,
    done: &Option<String>,
) -> Result<HospitalPage, WebError> {
    // The name is engagement-summary data; the profile is ledger data. What
    // the page offers is asked without a grant (and without an audit record);
    // the data itself is only read with one.
    let summary_grant = state
        .store
        .authorize(&who.ctx, id, HospitalData::EngagementSummary, Access::Read)
        .await?;
    let name = state
        .store
        .hospital_summary(&who.ctx, &summary_grant)
        .await?
        .name;
    let actor = who.account.actor();
    let profile = if state
        .store
        .may(&actor, id, HospitalData::Ledger, Access::Read)
        .await?
    {
        let grant = state
            .store
            .authorize(&who.ctx, id, HospitalData::Ledger, Access::Read)
            .await?;
        Some(state.store.facility_profile(&who.ctx, &grant).await?)
    } else {
        None
    };
    let can_write = state
        .store
        .may(&actor, id, HospitalData::Ledger, Access::Write)
        .await?;
    Ok(HospitalPage {
        chrome: Chrome::page(state, who, "").await?.with_notice(done),
        id: id.0,
        name,
        profile: profile.map(|p| ProfileView {
            count: p.it_staff_count.map(|n| n.to_string()).unwrap_or_default(),
            it_staff_skills: p.it_staff_skills,
            ehr_vendor: p.ehr_vendor,
            maintenance_outsourcing: p.maintenance_outsourcing,
            notes: p.notes,
            updated: format::optional_minutes(p.updated_at_ms),
        }),
        can_write,
        can_return: mamori_domain::policy::may_return_hospital_data(&actor),
        error,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<HospitalPage, WebError> {
    hospital_page(&state, &who, OrgId(id), None, &done.done).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    it_staff_count: String,
    #[serde(default)]
    it_staff_skills: String,
    #[serde(default)]
    ehr_vendor: String,
    #[serde(default)]
    maintenance_outsourcing: String,
    #[serde(default)]
    notes: String,
}

impl ProfileForm {
    pub fn parse(self) -> Result<FacilityProfile, DomainError> {
        let count = self.it_staff_count.trim();
        Ok(FacilityProfile {
            it_staff_count: if count.is_empty() {
                None
            } else {
                Some(count.parse().map_err(|_| {
                    DomainError::invalid(
                        "it_staff_count",
                        format!("`{count}` is not a whole number"),
                    )
                })?)
            },
            it_staff_skills: self.it_staff_skills,
            ehr_vendor: self.ehr_vendor,
            maintenance_outsourcing: self.maintenance_outsourcing,
            notes: self.notes,
            updated_at_ms: None,
            updated_by: None,
        })
    }
}

pub async fn save_profile(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<ProfileForm>,
) -> Result<Response, WebError> {
    let id = OrgId(id);
    let grant = state
        .store
        .authorize(&who.ctx, id, HospitalData::Ledger, Access::Write)
        .await?;
    let result = match form.parse() {
        Ok(profile) => {
            state
                .store
                .save_facility_profile(&who.ctx, &grant, &profile)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/hospitals/{id}?done=saved")).into_response()),
        Err(e @ StoreError::Invalid(_)) => {
            let page = hospital_page(&state, &who, id, Some(e.to_string()), &None).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
