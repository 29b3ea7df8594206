//! Organisations and their people: the secretariat's administration, and
//! each organisation's own page.

use super::dashboard::EngagementRow;
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
use mamori_domain::organisation::{
    FounderType, HospitalAttributes, Language, OrgKind, PREFECTURES, Prefecture, RecruitmentRoute,
    Role,
};
use mamori_domain::policy::{Access, may_access_organisation, may_register_organisations};
use mamori_domain::{AccountId, DomainError, OrgId};
use mamori_store::{Letterhead, NewAccount, NewOrganisation, Organisation, StoreError};
use serde::Deserialize;

pub struct OrgRow {
    id: i64,
    name: String,
    kind: String,
    prefecture: String,
    beds: String,
}

/// Choices and current values for the hospital fields.
pub struct HospitalChoices {
    prefectures: Vec<(u8, String, bool)>,
    founders: Vec<(&'static str, String, bool)>,
    routes: Vec<(&'static str, String, bool)>,
    beds: String,
    prefecture_label: String,
    founder_label: String,
    route_label: String,
}

impl HospitalChoices {
    pub fn new(tr: Tr, current: Option<&HospitalAttributes>) -> Self {
        HospitalChoices {
            prefectures: PREFECTURES
                .iter()
                .map(|(code, ja, en)| {
                    (
                        *code,
                        if tr.lang == Language::Japanese {
                            ja.to_string()
                        } else {
                            en.to_string()
                        },
                        current.is_some_and(|c| c.prefecture.code() == *code),
                    )
                })
                .collect(),
            founders: FounderType::ALL
                .iter()
                .map(|f| {
                    (
                        f.slug(),
                        tr.value("founder", f.slug()),
                        current.is_some_and(|c| c.founder_type == *f),
                    )
                })
                .collect(),
            routes: RecruitmentRoute::ALL
                .iter()
                .map(|r| {
                    (
                        r.slug(),
                        tr.value("route", r.slug()),
                        current.is_some_and(|c| c.recruitment_route == *r),
                    )
                })
                .collect(),
            beds: current.map(|c| c.bed_count.to_string()).unwrap_or_default(),
            prefecture_label: current
                .map(|c| c.prefecture.name(tr.lang).to_string())
                .unwrap_or_else(|| "—".into()),
            founder_label: current
                .map(|c| tr.value("founder", c.founder_type.slug()))
                .unwrap_or_else(|| "—".into()),
            route_label: current
                .map(|c| tr.value("route", c.recruitment_route.slug()))
                .unwrap_or_else(|| "—".into()),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "organisations.html")]
pub struct OrganisationsPage {
    chrome: Chrome,
    orgs: Vec<OrgRow>,
    can_create: bool,
    kinds: Vec<(&'static str, String)>,
    choices: HospitalChoices,
    error: Option<String>,
}

fn org_row(o: &Organisation, tr: Tr) -> OrgRow {
    OrgRow {
        id: o.id.0,
        name: o.name.clone(),
        kind: tr.value("kind", o.kind.slug()),
        prefecture: o
            .hospital
            .as_ref()
            .map(|h| h.prefecture.name(tr.lang).to_string())
            .unwrap_or_default(),
        beds: o
            .hospital
            .as_ref()
            .map(|h| h.bed_count.to_string())
            .unwrap_or_default(),
    }
}

async fn organisations_page(
    state: &AppState,
    who: &Signed,
    error: Option<String>,
    done: &Option<String>,
) -> Result<OrganisationsPage, WebError> {
    let tr = who.tr;
    let orgs = state.store.organisations_visible_to(&who.ctx).await?;
    Ok(OrganisationsPage {
        chrome: Chrome::page(state, who, "/organisations")
            .await?
            .with_notice(done),
        orgs: orgs.iter().map(|o| org_row(o, tr)).collect(),
        can_create: may_register_organisations(&who.account.actor()),
        kinds: OrgKind::ALL
            .iter()
            .map(|k| (k.slug(), tr.value("kind", k.slug())))
            .collect(),
        choices: HospitalChoices::new(tr, None),
        error,
    })
}

pub async fn list(
    State(state): State<AppState>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<OrganisationsPage, WebError> {
    organisations_page(&state, &who, None, &done.done).await
}

#[derive(Deserialize)]
pub struct HospitalFields {
    #[serde(default)]
    prefecture: String,
    #[serde(default)]
    beds: String,
    #[serde(default)]
    founder: String,
    #[serde(default)]
    route: String,
}

impl HospitalFields {
    /// All four given: attributes; none given: `None`; some: which are missing.
    fn parse(&self) -> Result<Option<HospitalAttributes>, DomainError> {
        let given = [&self.prefecture, &self.beds, &self.founder, &self.route];
        if given.iter().all(|v| v.trim().is_empty()) {
            return Ok(None);
        }
        let names = ["prefecture", "beds", "founder", "route"];
        let missing: Vec<_> = given
            .iter()
            .zip(names)
            .filter(|(v, _)| v.trim().is_empty())
            .map(|(_, n)| n)
            .collect();
        if !missing.is_empty() {
            return Err(DomainError::invalid(
                "hospital",
                format!("missing: {}", missing.join(", ")),
            ));
        }
        let beds = self.beds.trim().parse::<u32>().map_err(|_| {
            DomainError::invalid(
                "beds",
                format!("`{}` is not a whole number", self.beds.trim()),
            )
        })?;
        Ok(Some(HospitalAttributes::new(
            Prefecture::parse(&self.prefecture)?,
            beds,
            FounderType::parse(&self.founder)?,
            RecruitmentRoute::parse(&self.route)?,
        )?))
    }
}

#[derive(Deserialize)]
pub struct CreateOrgForm {
    kind: String,
    name: String,
    #[serde(flatten)]
    hospital: HospitalFields,
}

pub async fn create(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<CreateOrgForm>,
) -> Result<Response, WebError> {
    let parsed = OrgKind::parse(&form.kind).and_then(|kind| Ok((kind, form.hospital.parse()?)));
    let result = match parsed {
        Ok((kind, hospital)) => {
            state
                .store
                .create_organisation(
                    &who.ctx,
                    NewOrganisation {
                        kind,
                        name: form.name,
                        hospital: if kind == OrgKind::Hospital {
                            hospital
                        } else {
                            None
                        },
                    },
                )
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(org) => Ok(
            Redirect::to(&format!("/organisations/{}?done=org_created", org.id)).into_response(),
        ),
        Err(e @ (StoreError::Invalid(_) | StoreError::Duplicate { .. })) => {
            let page = organisations_page(&state, &who, Some(e.to_string()), &None).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub struct AccountRow {
    id: i64,
    name: String,
    email: String,
    role: String,
    status: String,
    locked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "organisation.html")]
pub struct OrganisationPage {
    chrome: Chrome,
    org: Organisation,
    kind_label: String,
    is_hospital: bool,
    can_register: bool,
    can_manage: bool,
    choices: HospitalChoices,
    accounts: Vec<AccountRow>,
    roles: Vec<(&'static str, String)>,
    engagements: Vec<EngagementView>,
    letterhead: Letterhead,
    can_letterhead: bool,
    shown_once: Option<(String, String)>,
    error: Option<String>,
}

pub struct EngagementView {
    id: i64,
    row: EngagementRow,
}

impl std::ops::Deref for EngagementView {
    type Target = EngagementRow;
    fn deref(&self) -> &EngagementRow {
        &self.row
    }
}

async fn organisation_page(
    state: &AppState,
    who: &Signed,
    id: OrgId,
    error: Option<String>,
    shown_once: Option<(String, String)>,
    done: &Option<String>,
) -> Result<OrganisationPage, WebError> {
    let actor = who.account.actor();
    let tr = who.tr;
    let org = state.store.organisation_for(&who.ctx, id).await?;
    let now = mamori_store::now_ms();
    let accounts = state.store.accounts_of(&actor, id).await?;
    let can_register = may_register_organisations(&actor);
    let engagements: Vec<_> = state
        .store
        .engagements_of_organisation(&who.ctx, id)
        .await?
        .into_iter()
        .map(|e| EngagementView {
            id: e.id.0,
            row: EngagementRow::new(&e, tr),
        })
        .collect();
    Ok(OrganisationPage {
        chrome: Chrome::page(state, who, "/organisations")
            .await?
            .with_notice(done),
        kind_label: tr.value("kind", org.kind.slug()),
        is_hospital: org.kind == OrgKind::Hospital,
        can_register,
        can_manage: may_access_organisation(&actor, id, Access::Write),
        choices: HospitalChoices::new(tr, org.hospital.as_ref()),
        accounts: accounts
            .iter()
            .map(|a| AccountRow {
                id: a.id.0,
                name: a.display_name.clone(),
                email: a.email.clone(),
                role: tr.value("role", a.role.slug()),
                status: if a.disabled {
                    tr.t("users.disabled").to_string()
                } else if a.is_locked(now) {
                    tr.t("users.locked").to_string()
                } else if a.totp_enabled {
                    tr.t("users.active_totp").to_string()
                } else {
                    tr.t("users.active").to_string()
                },
                locked: a.is_locked(now),
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|r| (r.slug(), tr.value("role", r.slug())))
            .collect(),
        engagements,
        letterhead: state.store.letterhead(id).await?,
        can_letterhead: actor.org_kind == OrgKind::Secretariat
            || (actor.org == id && actor.role == Role::Admin),
        shown_once,
        error,
        org,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<OrganisationPage, WebError> {
    organisation_page(&state, &who, OrgId(id), None, None, &done.done).await
}

/// Re-shows the organisation page with the error of a refused form.
async fn refused(
    state: &AppState,
    who: &Signed,
    id: OrgId,
    err: StoreError,
) -> Result<Response, WebError> {
    match err {
        e @ (StoreError::Invalid(_) | StoreError::Duplicate { .. }) => {
            let page = organisation_page(state, who, id, Some(e.to_string()), None, &None).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        e => Err(e.into()),
    }
}

pub async fn update_hospital(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<HospitalFields>,
) -> Result<Response, WebError> {
    let id = OrgId(id);
    let result = match form.parse() {
        Ok(Some(attributes)) => {
            state
                .store
                .update_hospital_attributes(&who.ctx, id, attributes)
                .await
        }
        Ok(None) => Err(DomainError::invalid(
            "hospital",
            "missing: prefecture, beds, founder, route",
        )
        .into()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/organisations/{id}?done=saved")).into_response()),
        Err(e) => refused(&state, &who, id, e).await,
    }
}

#[derive(Deserialize)]
pub struct CreateAccountForm {
    display_name: String,
    email: String,
    role: String,
    language: String,
}

pub async fn create_account(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<CreateAccountForm>,
) -> Result<Response, WebError> {
    let id = OrgId(id);
    let password = mamori_store::credentials::random_token(12);
    let parsed = Role::parse(&form.role).and_then(|r| Ok((r, Language::parse(&form.language)?)));
    let result = match parsed {
        Ok((role, language)) => {
            state
                .store
                .create_account(
                    &who.ctx,
                    NewAccount {
                        org: id,
                        email: form.email,
                        display_name: form.display_name,
                        role,
                        language,
                        password: password.clone(),
                    },
                )
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(account) => Ok(organisation_page(
            &state,
            &who,
            id,
            None,
            Some((account.email, password)),
            &Some("account_created".into()),
        )
        .await?
        .into_response()),
        Err(e) => refused(&state, &who, id, e).await,
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    // The store checks the policy first; only then is the account looked at.
    let password = state
        .store
        .reset_password(&who.ctx, AccountId(id), None)
        .await?;
    let account = state.store.account(AccountId(id)).await?;
    Ok(organisation_page(
        &state,
        &who,
        account.org_id,
        None,
        Some((account.email, password)),
        &Some("password_reset".into()),
    )
    .await?
    .into_response())
}

pub async fn unlock(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<Redirect, WebError> {
    state.store.unlock_account(&who.ctx, AccountId(id)).await?;
    let account = state.store.account(AccountId(id)).await?;
    Ok(Redirect::to(&format!(
        "/organisations/{}?done=unlocked",
        account.org_id
    )))
}

#[derive(Deserialize)]
pub struct LetterheadForm {
    #[serde(default)]
    address: String,
    #[serde(default)]
    representative: String,
    #[serde(default)]
    contact_email: String,
}

/// Address, representative and contact mail, as letters name the organisation.
pub async fn update_letterhead(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<LetterheadForm>,
) -> Result<Response, WebError> {
    let id = OrgId(id);
    let letterhead = Letterhead {
        address: form.address,
        representative: form.representative,
        contact_email: form.contact_email,
    };
    match state.store.set_letterhead(&who.ctx, id, &letterhead).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/organisations/{id}?done=saved#letterhead")).into_response())
        }
        Err(e) => refused(&state, &who, id, e).await,
    }
}
