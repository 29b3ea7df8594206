//! The JSON API under `/api/v1`: personal API tokens (bearer), the same
//! policy and audit as the pages, and an OpenAPI description.

pub mod advisories;
pub mod checklists;
pub mod data_return;
pub mod deliverables;
pub mod labour;
pub mod ledger;
pub mod lifecycle;
pub mod report;
pub mod review;
pub mod statistics;

use crate::error::{ApiError, WebError};
use crate::routes::{Area, Routes, delete, get, post, put};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_domain::OrgId;
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::{Account, AuditContext, FacilityProfile};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// A JSON body, with a malformed one answered as 400 naming the problem.
pub(crate) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, WebError> {
    body.map(|Json(b)| b)
        .map_err(|e| WebError::BadRequest(e.body_text()))
}

/// The caller of an API request, from `Authorization: Bearer <token>`.
pub struct ApiCaller {
    pub account: Account,
    pub ctx: AuditContext,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            let body = serde_json::json!({"error": "unauthorized", "message": "send Authorization: Bearer <token> (create one under My account)"});
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                Json(body),
            )
                .into_response()
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        let account = state
            .store
            .account_for_token(token)
            .await
            .map_err(|e| ApiError::from(e).into_response())?
            .ok_or_else(unauthorized)?;
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let client =
            crate::session::client_addr(&parts.headers, peer, state.config.trust_forwarded_for);
        Ok(ApiCaller {
            ctx: AuditContext::for_actor(
                account.actor(),
                format!("{} (api)", account.email),
                client,
            ),
            account,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeAccount {
    id: i64,
    email: String,
    display_name: String,
    /// `admin` or `member` of the organisation.
    role: String,
    /// `ja` or `en`.
    language: String,
    totp_enabled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationBody {
    id: i64,
    /// secretariat, supervisor, survey-company, hospital, ministry or vendor.
    kind: String,
    name: String,
    /// JIS prefecture code (hospitals).
    prefecture: Option<u8>,
    bed_count: Option<u32>,
    founder_type: Option<String>,
    recruitment_route: Option<String>,
}

impl From<&mamori_store::Organisation> for OrganisationBody {
    fn from(o: &mamori_store::Organisation) -> Self {
        OrganisationBody {
            id: o.id.0,
            kind: o.kind.slug().into(),
            name: o.name.clone(),
            prefecture: o.hospital.as_ref().map(|h| h.prefecture.code()),
            bed_count: o.hospital.as_ref().map(|h| h.bed_count),
            founder_type: o.hospital.as_ref().map(|h| h.founder_type.slug().into()),
            recruitment_route: o
                .hospital
                .as_ref()
                .map(|h| h.recruitment_route.slug().into()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    account: MeAccount,
    organisation: OrganisationBody,
    /// The role in the programme, from the organisation's kind.
    role: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct FacilityProfileBody {
    it_staff_count: Option<u32>,
    #[serde(default)]
    it_staff_skills: String,
    #[serde(default)]
    ehr_vendor: String,
    #[serde(default)]
    maintenance_outsourcing: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    updated_at_ms: Option<i64>,
}

impl From<FacilityProfileBody> for FacilityProfile {
    fn from(body: FacilityProfileBody) -> Self {
        FacilityProfile {
            it_staff_count: body.it_staff_count,
            it_staff_skills: body.it_staff_skills,
            ehr_vendor: body.ehr_vendor,
            maintenance_outsourcing: body.maintenance_outsourcing,
            notes: body.notes,
            updated_at_ms: None,
            updated_by: None,
        }
    }
}

fn programme_role(account: &Account) -> &'static str {
    use mamori_domain::organisation::OrgKind::*;
    match account.org_kind {
        Secretariat => "secretariat",
        Supervisor => "supervisor",
        SurveyCompany => "surveyor",
        Hospital => "hospital-staff",
        Ministry => "ministry",
        Vendor => "vendor",
    }
}

/// The caller's account, organisation and role.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = MeResponse), (status = 401, description = "no or unknown token")),
    security(("bearer" = [])))]
pub async fn me(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<MeResponse>, ApiError> {
    let a = &caller.account;
    // Everyone knows their own organisation's name and kind; its details
    // follow the policy (a vendor, for one, sees no organisation record).
    let organisation = match state.store.organisation_for(&caller.ctx, a.org_id).await {
        Ok(org) => OrganisationBody::from(&org),
        Err(mamori_store::StoreError::NotFound { .. }) => OrganisationBody {
            id: a.org_id.0,
            kind: a.org_kind.slug().into(),
            name: a.org_name.clone(),
            prefecture: None,
            bed_count: None,
            founder_type: None,
            recruitment_route: None,
        },
        Err(e) => return Err(e.into()),
    };
    Ok(Json(MeResponse {
        account: MeAccount {
            id: a.id.0,
            email: a.email.clone(),
            display_name: a.display_name.clone(),
            role: a.role.slug().into(),
            language: a.language.slug().into(),
            totp_enabled: a.totp_enabled,
        },
        organisation,
        role: programme_role(a).into(),
    }))
}

/// Organisations the caller may read.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations",
    responses((status = 200, body = Vec<OrganisationBody>)), security(("bearer" = [])))]
pub async fn organisations(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<OrganisationBody>>, ApiError> {
    let orgs = state.store.organisations_visible_to(&caller.ctx).await?;
    Ok(Json(orgs.iter().map(OrganisationBody::from).collect()))
}

/// A hospital's facility profile (施設概要). Audited.
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/facility-profile", tag = "hospitals",
    params(("id" = i64, Path, description = "hospital organisation id")),
    responses((status = 200, body = FacilityProfileBody), (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn get_facility_profile(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<FacilityProfileBody>, ApiError> {
    let grant = state
        .store
        .authorize(&caller.ctx, OrgId(id), HospitalData::Ledger, Access::Read)
        .await?;
    let p = state.store.facility_profile(&caller.ctx, &grant).await?;
    Ok(Json(FacilityProfileBody {
        it_staff_count: p.it_staff_count,
        it_staff_skills: p.it_staff_skills,
        ehr_vendor: p.ehr_vendor,
        maintenance_outsourcing: p.maintenance_outsourcing,
        notes: p.notes,
        updated_at_ms: p.updated_at_ms,
    }))
}

/// Replaces a hospital's facility profile. Audited.
#[utoipa::path(put, path = "/api/v1/hospitals/{id}/facility-profile", tag = "hospitals",
    params(("id" = i64, Path, description = "hospital organisation id")),
    request_body = FacilityProfileBody,
    responses((status = 204, description = "saved"), (status = 400, description = "a field is invalid"), (status = 403, description = "the policy refuses")),
    security(("bearer" = [])))]
pub async fn put_facility_profile(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    body: Result<Json<FacilityProfileBody>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let grant = state
        .store
        .authorize(&caller.ctx, OrgId(id), HospitalData::Ledger, Access::Write)
        .await?;
    let body = json_body(body)?;
    let profile = FacilityProfile::from(body);
    state
        .store
        .save_facility_profile(&caller.ctx, &grant, &profile)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Mamori API", description = "守り — hospital cybersecurity survey programme. Personal API tokens are created under My account (マイアカウント) or with `mamori token create`."),
    paths(me, organisations, get_facility_profile, put_facility_profile,
        lifecycle::list_programmes, lifecycle::create_programme, lifecycle::get_programme,
        lifecycle::update_programme, lifecycle::set_milestone, lifecycle::enrol_company,
        lifecycle::update_enrolment, lifecycle::record_kickoff, lifecycle::add_document,
        lifecycle::payments, lifecycle::list_engagements, lifecycle::add_candidate,
        lifecycle::get_engagement, lifecycle::update_candidate, lifecycle::confirm_company,
        lifecycle::transition, lifecycle::issue_agreement, lifecycle::sign_agreement,
        lifecycle::revoke_agreement, lifecycle::submit_estimate, lifecycle::issue_order,
        lifecycle::settle_order, lifecycle::record_payment, lifecycle::engagement_file,
        lifecycle::set_letterhead, lifecycle::notifications, lifecycle::mark_read,
        lifecycle::outbox, lifecycle::generate_letter, lifecycle::get_letter_template,
        lifecycle::save_letter_template, lifecycle::payments_workbook, lifecycle::timeline,
        lifecycle::document_file,
        checklists::list_frameworks, checklists::get_framework, checklists::import_framework,
        checklists::programme_progress, checklists::set_programme_framework,
        checklists::add_programme_item, checklists::engagement_checklist,
        checklists::add_respondent, checklists::put_answers, checklists::submit,
        checklists::workbook,
        checklists::hearings, checklists::record_hearing, checklists::confirm,
        checklists::requests, checklists::raise_request, checklists::receive_request,
        checklists::inquiries, checklists::open_inquiry,
        deliverables::list, deliverables::submit, deliverables::review, deliverables::version,
        deliverables::diff,
        report::findings, report::propose, report::edit, report::review, report::releases,
        report::release, report::file,
        review::list_threads, review::open_thread, review::thread_step, review::list_deep_dives,
        review::request_deep_dive, review::deep_dive_step, review::queue,
        labour::get_labour, labour::put_plan, labour::add_entry, labour::remove_entry,
        labour::week_step, labour::rollup, labour::set_rate,
        advisories::hospital_matches, advisories::triage, advisories::steps, advisories::notices,
        advisories::all_matches, advisories::review, advisories::responses, advisories::rematch,
        statistics::list, statistics::get_release, statistics::draft, statistics::decide,
        data_return::list, data_return::archive, data_return::erase,
        ledger::get_ledger, ledger::list_records, ledger::get_record, ledger::put_record,
        ledger::delete_record, ledger::import, ledger::history, ledger::network, ledger::structure,
        ledger::catalogue, ledger::put_model, ledger::delete_model),
    components(schemas(MeResponse, MeAccount, OrganisationBody, FacilityProfileBody,
        lifecycle::FileBody, lifecycle::ProgrammeBody, lifecycle::MilestoneBody,
        lifecycle::EnrolBody, lifecycle::EnrolmentBody, lifecycle::KickoffBody,
        lifecycle::DocumentBody, lifecycle::CandidateBody, lifecycle::CandidateDetailsBody,
        lifecycle::DateBody, lifecycle::TransitionBody, lifecycle::AgreementBody,
        lifecycle::SignatureBody, lifecycle::RevocationBody, lifecycle::EstimateBody,
        lifecycle::OrderBody, lifecycle::SettlementBody, lifecycle::PaymentBody,
        lifecycle::LetterheadBody, lifecycle::LetterBody, lifecycle::TemplateBody,
        checklists::FrameworkSummaryBody, checklists::FormSummaryBody, checklists::CompletionBody,
        checklists::ProgrammeFrameworkBody, checklists::ProgrammeItemBody, checklists::AnswerBody,
        checklists::AnswersBody, checklists::RespondentBody, checklists::HearingBody,
        checklists::ParticipantBody, checklists::ConfirmationBody, checklists::ConfirmationsBody,
        checklists::RequestBody, checklists::ReceivedBody, checklists::MaterialFileBody,
        checklists::InquiryBody, ledger::MetaBody, deliverables::ReviewBody,
        report::FindingBody, report::FindingStepBody,
        review::StartBody, review::StepBody,
        labour::PlanBody, labour::PlanRowBody, labour::EntryBody, labour::WeekStepBody,
        labour::RateBody, advisories::TriageBody, advisories::ReviewBody,
        statistics::DraftBody, statistics::DecisionBody, data_return::EraseBody)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub(crate) async fn not_found() -> ApiError {
    ApiError(WebError::NotFound)
}

/// Where the API is mounted.
pub(crate) const PREFIX: &str = "/api/v1";

/// Every API route (paths under [`PREFIX`]); the OpenAPI description is
/// the one route answered without a token.
pub(crate) fn routes() -> Routes {
    Routes::new(Area::Api, PREFIX)
        .route("/me", get(me))
        .route("/organisations", get(organisations))
        .route(
            "/programmes",
            get(lifecycle::list_programmes).post(lifecycle::create_programme),
        )
        .route(
            "/programmes/{id}",
            get(lifecycle::get_programme).put(lifecycle::update_programme),
        )
        .route(
            "/programmes/{id}/milestones/{kind}",
            put(lifecycle::set_milestone),
        )
        .route("/programmes/{id}/companies", post(lifecycle::enrol_company))
        .route(
            "/programmes/{id}/companies/{company_id}",
            put(lifecycle::update_enrolment),
        )
        .route("/programmes/{id}/kickoffs", post(lifecycle::record_kickoff))
        .route("/programmes/{id}/documents", post(lifecycle::add_document))
        .route(
            "/programmes/{id}/documents/{document}/file",
            get(lifecycle::document_file),
        )
        .route("/programmes/{id}/payments", get(lifecycle::payments))
        .route(
            "/programmes/{id}/payments.xlsx",
            get(lifecycle::payments_workbook),
        )
        .route("/engagements/timeline.svg", get(lifecycle::timeline))
        .route(
            "/engagements/{id}/letters",
            post(lifecycle::generate_letter),
        )
        .route(
            "/letter-templates/{kind}",
            get(lifecycle::get_letter_template).put(lifecycle::save_letter_template),
        )
        .route(
            "/engagements",
            get(lifecycle::list_engagements).post(lifecycle::add_candidate),
        )
        .route("/engagements/{id}", get(lifecycle::get_engagement))
        .route(
            "/engagements/{id}/candidate",
            put(lifecycle::update_candidate),
        )
        .route(
            "/engagements/{id}/company-confirmation",
            post(lifecycle::confirm_company),
        )
        .route("/engagements/{id}/transitions", post(lifecycle::transition))
        .route(
            "/engagements/{id}/agreements",
            post(lifecycle::issue_agreement),
        )
        .route(
            "/engagements/{id}/estimates",
            post(lifecycle::submit_estimate),
        )
        .route("/engagements/{id}/orders", post(lifecycle::issue_order))
        .route(
            "/engagements/{id}/payments",
            post(lifecycle::record_payment),
        )
        .route(
            "/engagements/{id}/files/{file_id}",
            get(lifecycle::engagement_file),
        )
        .route(
            "/agreements/{id}/signature",
            post(lifecycle::sign_agreement),
        )
        .route(
            "/agreements/{id}/revocation",
            post(lifecycle::revoke_agreement),
        )
        .route("/orders/{id}/settlement", post(lifecycle::settle_order))
        .route(
            "/organisations/{id}/letterhead",
            put(lifecycle::set_letterhead),
        )
        .route("/notifications", get(lifecycle::notifications))
        .route("/notifications/read", post(lifecycle::mark_read))
        .route("/outbox", get(lifecycle::outbox))
        .route(
            "/hospitals/{id}/facility-profile",
            get(get_facility_profile).put(put_facility_profile),
        )
        .route("/hospitals/{id}/ledger", get(ledger::get_ledger))
        .route(
            "/hospitals/{id}/ledger/import",
            post(ledger::import).body_limit(mamori_documents::ledger_sheets::MAX_TABLE_BYTES),
        )
        .route("/hospitals/{id}/ledger/history", get(ledger::history))
        .route("/hospitals/{id}/ledger/network", get(ledger::network))
        .route("/hospitals/{id}/ledger/structure", get(ledger::structure))
        .route("/hospitals/{id}/ledger/{kind}", get(ledger::list_records))
        .route(
            "/hospitals/{id}/ledger/{kind}/{key}",
            get(ledger::get_record)
                .put(ledger::put_record)
                .delete(ledger::delete_record),
        )
        .route("/catalogue", get(ledger::catalogue))
        .route(
            "/catalogue/{key}",
            put(ledger::put_model).delete(ledger::delete_model),
        )
        .route(
            "/checklists",
            get(checklists::list_frameworks).post(checklists::import_framework),
        )
        .route("/checklists/{id}", get(checklists::get_framework))
        .route(
            "/programmes/{id}/checklist",
            put(checklists::set_programme_framework),
        )
        .route(
            "/programmes/{id}/checklist/progress",
            get(checklists::programme_progress),
        )
        .route(
            "/programmes/{id}/checklist/items",
            post(checklists::add_programme_item),
        )
        .route(
            "/engagements/{id}/checklist",
            get(checklists::engagement_checklist),
        )
        .route(
            "/engagements/{id}/checklist/respondents",
            post(checklists::add_respondent),
        )
        .route(
            "/engagements/{id}/checklist/respondents/{rid}/answers",
            put(checklists::put_answers),
        )
        .route(
            "/engagements/{id}/checklist/respondents/{rid}/submit",
            post(checklists::submit),
        )
        .route(
            "/engagements/{id}/checklist.xlsx",
            get(checklists::workbook),
        )
        .route(
            "/engagements/{id}/hearings",
            get(checklists::hearings).post(checklists::record_hearing),
        )
        .route(
            "/engagements/{id}/hearings/{hid}/confirmations",
            post(checklists::confirm),
        )
        .route(
            "/engagements/{id}/requests",
            get(checklists::requests).post(checklists::raise_request),
        )
        .route(
            "/engagements/{id}/requests/{rid}/received",
            post(checklists::receive_request),
        )
        .route(
            "/engagements/{id}/inquiries",
            get(checklists::inquiries).post(checklists::open_inquiry),
        )
        .route("/engagements/{id}/deliverables", get(deliverables::list))
        .route(
            "/engagements/{id}/deliverables/{kind}/submit",
            post(deliverables::submit),
        )
        .route(
            "/engagements/{id}/deliverables/{kind}/review",
            post(deliverables::review),
        )
        .route(
            "/engagements/{id}/deliverables/{kind}/versions/{n}",
            get(deliverables::version),
        )
        .route(
            "/engagements/{id}/deliverables/{kind}/diff",
            get(deliverables::diff),
        )
        .route(
            "/engagements/{id}/findings",
            get(report::findings).post(report::propose),
        )
        .route("/engagements/{id}/findings/{n}", put(report::edit))
        .route(
            "/engagements/{id}/findings/{n}/review",
            post(report::review),
        )
        .route("/engagements/{id}/releases", get(report::releases))
        .route("/engagements/{id}/releases/{n}", get(report::release))
        .route(
            "/engagements/{id}/releases/{n}/files/{file}",
            get(report::file),
        )
        .route(
            "/engagements/{id}/threads",
            get(review::list_threads).post(review::open_thread),
        )
        .route(
            "/engagements/{id}/threads/{thread}/{action}",
            post(review::thread_step),
        )
        .route(
            "/engagements/{id}/deep-dives",
            get(review::list_deep_dives).post(review::request_deep_dive),
        )
        .route(
            "/engagements/{id}/deep-dives/{dive}/{action}",
            post(review::deep_dive_step),
        )
        .route("/review-queue", get(review::queue))
        .route("/engagements/{id}/labour", get(labour::get_labour))
        .route("/engagements/{id}/labour/plan", put(labour::put_plan))
        .route("/engagements/{id}/labour/entries", post(labour::add_entry))
        .route(
            "/engagements/{id}/labour/entries/{entry}",
            delete(labour::remove_entry),
        )
        .route(
            "/engagements/{id}/labour/weeks/{week}/{step}",
            post(labour::week_step),
        )
        .route("/labour/rollup", get(labour::rollup))
        .route(
            "/programmes/{id}/labour-rates/{company}",
            put(labour::set_rate),
        )
        .route(
            "/hospitals/{id}/advisory-matches",
            get(advisories::hospital_matches),
        )
        .route(
            "/hospitals/{id}/advisory-matches/{case}/steps",
            get(advisories::steps).post(advisories::triage),
        )
        .route("/hospitals/{id}/advisory-notices", get(advisories::notices))
        .route("/advisory-matches", get(advisories::all_matches))
        .route("/advisory-matches/{case}/review", post(advisories::review))
        .route("/advisories/responses", get(advisories::responses))
        .route("/advisories/rematch", post(advisories::rematch))
        .route("/hospitals/{id}/data-returns", get(data_return::list))
        .route(
            "/hospitals/{id}/data-return/archive",
            post(data_return::archive),
        )
        .route(
            "/hospitals/{id}/data-return/erase",
            post(data_return::erase),
        )
        .route("/statistics", get(statistics::list).post(statistics::draft))
        .route("/statistics/{id}", get(statistics::get_release))
        .route("/statistics/{id}/decision", post(statistics::decide))
        .public("/openapi.json", get(openapi_json))
}
