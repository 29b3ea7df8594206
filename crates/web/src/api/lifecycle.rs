//! The programme and engagement lifecycle over the JSON API: the same store
//! operations as the pages, so the same rules, policy and audit apply.

use super::{ApiCaller, json_body};
use crate::error::{ApiError, WebError};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use mamori_domain::agreement::{AgreementKind, EstimateFigures, PaymentKind};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::RecruitmentRoute;
use mamori_domain::schedule::MilestoneKind;
use mamori_domain::{AccountId, EngagementId, OrgId, ProgrammeId};
use mamori_store::{
    CandidateDetails, CompanyEnrolment, EngagementFilter, Letterhead, NewCandidate, NewFile,
    NewPayment, ProgrammeFields,
};
use serde::Deserialize;
use serde_json::Value;
use time::Date;
use utoipa::{IntoParams, ToSchema};

fn json<T: serde::Serialize>(value: T) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|e| ApiError(WebError::Internal(e.to_string())))
}

fn created<T: serde::Serialize>(value: T) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, json(value)?))
}

fn parsed<T>(value: Result<T, mamori_domain::DomainError>) -> Result<T, ApiError> {
    value.map_err(|e| ApiError(WebError::BadRequest(e.to_string())))
}

/// An uploaded file inside a JSON body.
#[derive(Deserialize, ToSchema)]
pub struct FileBody {
    /// The file name, e.g. `nda-signed.pdf` (pdf, png, jpg, xlsx, docx, txt).
    name: String,
    /// The content, base64 (standard alphabet).
    content_base64: String,
}

impl FileBody {
    fn into_new_file(self) -> Result<NewFile, ApiError> {
        let data = base64::engine::general_purpose::STANDARD
            .decode(self.content_base64.trim())
            .map_err(|e| ApiError(WebError::BadRequest(format!("content_base64: {e}"))))?;
        Ok(NewFile {
            name: self.name,
            data,
        })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ProgrammeBody {
    name: String,
    /// The fiscal year (April to March), e.g. 2026 for 令和8年度.
    fiscal_year: i32,
    /// 研究代表者, who signs the request letter.
    #[serde(default)]
    research_lead: String,
    /// Labour cap per engagement in yen; default 3,000,000.
    labour_cap_yen: Option<i64>,
    /// Honorarium per hour for hospital staff, in yen.
    honorarium_rate_yen: Option<i64>,
    #[serde(default)]
    checklist_versions: Vec<String>,
    #[serde(default)]
    notes: String,
}

impl From<ProgrammeBody> for ProgrammeFields {
    fn from(b: ProgrammeBody) -> Self {
        ProgrammeFields {
            name: b.name,
            fiscal_year: b.fiscal_year,
            research_lead: b.research_lead,
            labour_cap_yen: b.labour_cap_yen,
            honorarium_rate_yen: b.honorarium_rate_yen,
            checklist_versions: b.checklist_versions,
            notes: b.notes,
        }
    }
}

/// Programmes (any participant but vendors).
#[utoipa::path(get, path = "/api/v1/programmes", tag = "programmes",
    responses((status = 200, description = "programmes, newest fiscal year first", body = Object)),
    security(("bearer" = [])))]
pub async fn list_programmes(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    json(state.store.programmes(&caller.ctx).await?)
}

/// Creates a programme with the seed's schedule as its milestones (secretariat).
#[utoipa::path(post, path = "/api/v1/programmes", tag = "programmes", request_body = ProgrammeBody,
    responses((status = 201, body = Object), (status = 400, description = "a field is invalid"), (status = 403, description = "not the secretariat")),
    security(("bearer" = [])))]
pub async fn create_programme(
    State(state): State<AppState>,
    caller: ApiCaller,
    b: Result<Json<ProgrammeBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let fields = ProgrammeFields::from(json_body(b)?);
    created(state.store.create_programme(&caller.ctx, &fields).await?)
}

/// A programme with milestones, document library, kick-offs and companies.
#[utoipa::path(get, path = "/api/v1/programmes/{id}", tag = "programmes",
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_programme(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    json(
        state
            .store
            .programme_detail(&caller.ctx, ProgrammeId(id))
            .await?,
    )
}

/// Changes a programme's fields (secretariat).
#[utoipa::path(put, path = "/api/v1/programmes/{id}", tag = "programmes", request_body = ProgrammeBody,
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn update_programme(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<ProgrammeBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let fields = ProgrammeFields::from(json_body(b)?);
    json(
        state
            .store
            .update_programme(&caller.ctx, ProgrammeId(id), &fields)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct MilestoneBody {
    #[schema(value_type = String, format = Date)]
    due: Date,
}

/// Moves one milestone (targets-decided, contracts-ordered, surveys-start,
/// interim-review, report-coordination, submission-acceptance, report-to-hospitals).
#[utoipa::path(put, path = "/api/v1/programmes/{id}/milestones/{kind}", tag = "programmes", request_body = MilestoneBody,
    params(("id" = i64, Path), ("kind" = String, Path)), responses((status = 204), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn set_milestone(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, kind)): Path<(i64, String)>,
    b: Result<Json<MilestoneBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let kind = parsed(MilestoneKind::parse(&kind))?;
    let b = json_body(b)?;
    state
        .store
        .set_milestone(&caller.ctx, ProgrammeId(id), kind, b.due)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct EnrolBody {
    company_id: i64,
    #[schema(value_type = String, format = Date)]
    invited_on: Date,
}

/// Enrols a survey company in the programme (secretariat).
#[utoipa::path(post, path = "/api/v1/programmes/{id}/companies", tag = "programmes", request_body = EnrolBody,
    params(("id" = i64, Path)), responses((status = 204), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn enrol_company(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<EnrolBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let b = json_body(b)?;
    state
        .store
        .enrol_company(
            &caller.ctx,
            ProgrammeId(id),
            OrgId(b.company_id),
            b.invited_on,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct EnrolmentBody {
    /// 企業・研究会議.
    #[schema(value_type = Option<String>, format = Date)]
    meeting_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    forms_handed_over_on: Option<Date>,
    /// 窓口.
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_phone: String,
    /// The company's accounts who survey in this programme.
    surveyor_ids: Option<Vec<i64>>,
}

/// Records the company's meeting, forms and single point of contact, and
/// names its surveyors (secretariat or the company's administrator).
#[utoipa::path(put, path = "/api/v1/programmes/{id}/companies/{company_id}", tag = "programmes", request_body = EnrolmentBody,
    params(("id" = i64, Path), ("company_id" = i64, Path)), responses((status = 204), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn update_enrolment(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, company)): Path<(i64, i64)>,
    b: Result<Json<EnrolmentBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let b = json_body(b)?;
    let (programme, company) = (ProgrammeId(id), OrgId(company));
    state
        .store
        .update_company_enrolment(
            &caller.ctx,
            programme,
            company,
            &CompanyEnrolment {
                meeting_on: b.meeting_on,
                forms_handed_over_on: b.forms_handed_over_on,
                contact_name: b.contact_name,
                contact_email: b.contact_email,
                contact_phone: b.contact_phone,
            },
        )
        .await?;
    if let Some(ids) = b.surveyor_ids {
        let ids: Vec<AccountId> = ids.into_iter().map(AccountId).collect();
        state
            .store
            .set_surveyors(&caller.ctx, programme, company, &ids)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct KickoffBody {
    /// Left out for the kick-off of everyone (全体キックオフ).
    company_id: Option<i64>,
    #[schema(value_type = String, format = Date)]
    held_on: Date,
    attendees: String,
    #[serde(default)]
    notes: String,
}

/// Records a kick-off meeting (secretariat or supervisor).
#[utoipa::path(post, path = "/api/v1/programmes/{id}/kickoffs", tag = "programmes", request_body = KickoffBody,
    params(("id" = i64, Path)), responses((status = 201, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn record_kickoff(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<KickoffBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json_body(b)?;
    let kid = state
        .store
        .record_kickoff(
            &caller.ctx,
            ProgrammeId(id),
            b.company_id.map(OrgId),
            b.held_on,
            &b.attendees,
            &b.notes,
        )
        .await?;
    created(serde_json::json!({ "id": kid }))
}

#[derive(Deserialize, ToSchema)]
pub struct DocumentBody {
    title: String,
    version: String,
    #[schema(value_type = Option<String>, format = Date)]
    issued_on: Option<Date>,
    file: Option<FileBody>,
}

/// Adds a procedure document or form to the programme's library (secretariat).
#[utoipa::path(post, path = "/api/v1/programmes/{id}/documents", tag = "programmes", request_body = DocumentBody,
    params(("id" = i64, Path)), responses((status = 201, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn add_document(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<DocumentBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json_body(b)?;
    let file = b.file.map(FileBody::into_new_file).transpose()?;
    let did = state
        .store
        .add_programme_document(
            &caller.ctx,
            ProgrammeId(id),
            &b.title,
            &b.version,
            b.issued_on,
            file,
        )
        .await?;
    created(serde_json::json!({ "id": did }))
}

/// A file of the programme's document library (procedures and forms). Audited.
#[utoipa::path(get, path = "/api/v1/programmes/{id}/documents/{document}/file", tag = "programmes",
    params(("id" = i64, Path), ("document" = i64, Path)),
    responses((status = 200, description = "the file"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn document_file(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, document)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let (file, data) = state
        .store
        .programme_document_file(&caller.ctx, ProgrammeId(id), document)
        .await?;
    Ok(crate::pages::forms::download(&file, data))
}

/// The programme's honoraria and reimbursements (secretariat).
#[utoipa::path(get, path = "/api/v1/programmes/{id}/payments", tag = "programmes",
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 403)),
    security(("bearer" = [])))]
pub async fn payments(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    json(
        state
            .store
            .payment_list(&caller.ctx, ProgrammeId(id))
            .await?,
    )
}

#[derive(Deserialize, IntoParams)]
pub struct EngagementQuery {
    programme: Option<i64>,
    /// A lifecycle state, e.g. `surveying`.
    state: Option<String>,
    company: Option<i64>,
    /// JIS prefecture code.
    prefecture: Option<u8>,
    /// Only engagements with a deadline past.
    #[serde(default)]
    overdue: bool,
    /// At most this many (1–1000), in the table's order; the total is in
    /// the `X-Total-Count` header. Without it, every engagement.
    limit: Option<usize>,
    /// Skip this many first (with `limit`).
    offset: Option<usize>,
}

impl EngagementQuery {
    fn filter(&self) -> Result<EngagementFilter, ApiError> {
        Ok(EngagementFilter {
            programme: self.programme.map(ProgrammeId),
            state: parsed(
                self.state
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .map(EngagementState::parse)
                    .transpose(),
            )?,
            company: self.company.map(OrgId),
            prefecture: self.prefecture,
            overdue_only: self.overdue,
        })
    }
}

/// Engagements the caller may see, with their deadlines as of today; with
/// `limit`, one page of them and the total in `X-Total-Count`.
#[utoipa::path(get, path = "/api/v1/engagements", tag = "engagements", params(EngagementQuery),
    responses((status = 200, description = "id, hospital, company, programme, state, contract_in_force, overdue, deadlines", body = Object)),
    security(("bearer" = [])))]
pub async fn list_engagements(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<EngagementQuery>,
) -> Result<Response, ApiError> {
    let filter = q.filter()?;
    let (rows, total) = match q.limit {
        None => {
            let rows = state
                .store
                .engagement_overview(&caller.ctx, &filter)
                .await?;
            let total = rows.len();
            (rows, total)
        }
        Some(limit) => {
            let paging = mamori_store::Paging {
                offset: q.offset.unwrap_or(0),
                limit: limit.clamp(1, 1000),
            };
            let page = state
                .store
                .engagement_overview_page(&caller.ctx, &filter, paging)
                .await?;
            (page.rows, page.total)
        }
    };
    let list: Vec<Value> = rows
        .into_iter()
        .map(|o| {
            let e = &o.engagement;
            serde_json::json!({
                "id": e.id,
                "programme_id": e.programme_id,
                "programme_name": e.programme_name,
                "hospital_id": e.hospital_id,
                "hospital_name": e.hospital_name,
                "prefecture": e.prefecture,
                "company_id": e.company_id,
                "company_name": e.company_name,
                "state": e.state,
                "contract_in_force": e.contract_in_force,
                "overdue": o.overdue,
                "deadlines": o.deadlines,
            })
        })
        .collect();
    Ok((
        [("x-total-count", total.to_string())],
        Json(Value::Array(list)),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema, Default)]
pub struct CandidateDetailsBody {
    /// hospital-association, company-referral, research-network, open-call or other.
    source: Option<String>,
    #[serde(default)]
    source_detail: String,
    #[serde(default)]
    director_name: String,
    #[serde(default)]
    contact_department: String,
    #[serde(default)]
    contact_title: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    /// 出入りのシステム会社, as the hospital named it.
    #[serde(default)]
    proposed_company: String,
}

impl CandidateDetailsBody {
    fn details(self) -> Result<CandidateDetails, ApiError> {
        Ok(CandidateDetails {
            source: parsed(
                self.source
                    .as_deref()
                    .map(RecruitmentRoute::parse)
                    .transpose(),
            )?,
            source_detail: self.source_detail,
            director_name: self.director_name,
            contact_department: self.contact_department,
            contact_title: self.contact_title,
            contact_name: self.contact_name,
            contact_email: self.contact_email,
            proposed_company: self.proposed_company,
        })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CandidateBody {
    programme_id: i64,
    hospital_id: i64,
    company_id: i64,
    #[serde(flatten)]
    details: CandidateDetailsBody,
}

/// Adds a candidate hospital to a programme with its survey company (secretariat).
#[utoipa::path(post, path = "/api/v1/engagements", tag = "engagements", request_body = CandidateBody,
    responses((status = 201, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn add_candidate(
    State(state): State<AppState>,
    caller: ApiCaller,
    b: Result<Json<CandidateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json_body(b)?;
    let new = NewCandidate {
        programme: ProgrammeId(b.programme_id),
        hospital: OrgId(b.hospital_id),
        company: OrgId(b.company_id),
        details: b.details.details()?,
    };
    created(state.store.add_candidate(&caller.ctx, &new).await?)
}

/// Everything about one engagement the caller may see. Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}", tag = "engagements",
    params(("id" = i64, Path)),
    responses((status = 200, description = "engagement, transitions, deadlines, gates, next_states, agreements, estimates, orders, payments, documents", body = Object), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_engagement(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    json(
        state
            .store
            .engagement_detail(&caller.ctx, EngagementId(id))
            .await?,
    )
}

/// Changes the recruitment details (secretariat).
#[utoipa::path(put, path = "/api/v1/engagements/{id}/candidate", tag = "engagements", request_body = CandidateDetailsBody,
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn update_candidate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<CandidateDetailsBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let details = json_body(b)?.details()?;
    json(
        state
            .store
            .update_candidate(&caller.ctx, EngagementId(id), &details)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct DateBody {
    #[schema(value_type = String, format = Date)]
    on: Date,
}

/// The secretariat confirms the company really takes this hospital.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/company-confirmation", tag = "engagements", request_body = DateBody,
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn confirm_company(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<DateBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = json_body(b)?;
    json(
        state
            .store
            .confirm_company(&caller.ctx, EngagementId(id), b.on)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct TransitionBody {
    /// The state to move to.
    to: String,
    /// The day the step happened; today when left out.
    #[schema(value_type = Option<String>, format = Date)]
    effective_on: Option<Date>,
    #[serde(default)]
    note: String,
}

/// Takes one step of the procedure. 403 when another role owns the step,
/// 409 when it is not a step from the current state or waits for a paper;
/// either way the answer names the allowed next states (`allowed`) or what
/// is missing (`missing`), and nothing changes.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/transitions", tag = "engagements", request_body = TransitionBody,
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 400), (status = 403, description = "another role owns this step"), (status = 409, description = "not a step from here, or a gate is not met")),
    security(("bearer" = [])))]
pub async fn transition(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<TransitionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = json_body(b)?;
    let to = parsed(EngagementState::parse(&b.to))?;
    // The company's 報告書提出 releases the report package first.
    json(
        crate::releases::take_step(
            &state.store,
            &caller.ctx,
            EngagementId(id),
            to,
            b.effective_on,
            &b.note,
        )
        .await??,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct AgreementBody {
    /// `pledge` (to the hospital) or `nda` (with the company, for this hospital).
    kind: String,
    #[schema(value_type = Option<String>, format = Date)]
    issued_on: Option<Date>,
    #[schema(value_type = String, format = Date)]
    valid_from: Date,
    #[schema(value_type = String, format = Date)]
    valid_until: Date,
}

/// Issues a pledge or an NDA (secretariat). An end before the start is refused.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/agreements", tag = "agreements", request_body = AgreementBody,
    params(("id" = i64, Path)), responses((status = 201, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn issue_agreement(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<AgreementBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json_body(b)?;
    let kind = parsed(AgreementKind::parse(&b.kind))?;
    created(
        state
            .store
            .issue_agreement(
                &caller.ctx,
                EngagementId(id),
                kind,
                b.issued_on,
                b.valid_from,
                b.valid_until,
            )
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct SignatureBody {
    #[schema(value_type = String, format = Date)]
    signed_on: Date,
    /// The signed scan (PDF or image).
    scan: Option<FileBody>,
}

/// Records the signature and the signed scan (secretariat). A date in the
/// future is refused.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/signature", tag = "agreements", request_body = SignatureBody,
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn sign_agreement(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<SignatureBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = json_body(b)?;
    let scan = b.scan.map(FileBody::into_new_file).transpose()?;
    json(
        state
            .store
            .sign_agreement(&caller.ctx, id, b.signed_on, scan)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct RevocationBody {
    reason: String,
}

/// Revokes a pledge or an NDA; a revoked NDA closes the survey-data gate.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/revocation", tag = "agreements", request_body = RevocationBody,
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn revoke_agreement(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<RevocationBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = json_body(b)?;
    json(
        state
            .store
            .revoke_agreement(&caller.ctx, id, &b.reason)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct EstimateBody {
    labour_hours: f64,
    labour_cost_yen: i64,
    #[serde(default)]
    trips: i64,
    #[serde(default)]
    travel_yen: i64,
    #[serde(default)]
    consumables_yen: i64,
    #[serde(default)]
    note: String,
}

/// The company submits an estimate; a labour cost over the programme's cap
/// is refused naming the cap and the amount.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/estimates", tag = "estimates", request_body = EstimateBody,
    params(("id" = i64, Path)), responses((status = 201, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn submit_estimate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<EstimateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json_body(b)?;
    let figures = EstimateFigures {
        labour_hours: b.labour_hours,
        labour_cost_yen: b.labour_cost_yen,
        trips: b.trips,
        travel_yen: b.travel_yen,
        consumables_yen: b.consumables_yen,
    };
    created(
        state
            .store
            .submit_estimate(&caller.ctx, EngagementId(id), &figures, &b.note)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct OrderBody {
    estimate_id: i64,
    order_number: String,
    #[schema(value_type = String, format = Date)]
    issued_on: Date,
}

/// The secretariat issues the purchase order (the contract) for an estimate.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/orders", tag = "estimates", request_body = OrderBody,
    params(("id" = i64, Path)), responses((status = 201, body = Object), (status = 400), (status = 403), (status = 409, description = "an order exists")),
    security(("bearer" = [])))]
pub async fn issue_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<OrderBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json_body(b)?;
    created(
        state
            .store
            .issue_order(
                &caller.ctx,
                EngagementId(id),
                b.estimate_id,
                &b.order_number,
                b.issued_on,
            )
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct SettlementBody {
    actual_hours: f64,
    amount_yen: i64,
    #[schema(value_type = String, format = Date)]
    settled_on: Date,
}

/// Settles an order on actual hours (secretariat).
#[utoipa::path(post, path = "/api/v1/orders/{id}/settlement", tag = "estimates", request_body = SettlementBody,
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn settle_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<SettlementBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = json_body(b)?;
    json(
        state
            .store
            .settle_order(&caller.ctx, id, b.actual_hours, b.amount_yen, b.settled_on)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct PaymentBody {
    /// `honorarium` (hours × the programme's rate) or `reimbursement` (amount).
    kind: String,
    person: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    title: String,
    hours: Option<f64>,
    amount_yen: Option<i64>,
    #[schema(value_type = String, format = Date)]
    paid_for_on: Date,
    #[serde(default)]
    note: String,
}

/// Records a honorarium or a reimbursement for the hospital (secretariat).
#[utoipa::path(post, path = "/api/v1/engagements/{id}/payments", tag = "estimates", request_body = PaymentBody,
    params(("id" = i64, Path)), responses((status = 201, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn record_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<PaymentBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json_body(b)?;
    let payment = NewPayment {
        kind: parsed(PaymentKind::parse(&b.kind))?,
        person: b.person,
        department: b.department,
        title: b.title,
        hours: b.hours,
        amount_yen: b.amount_yen,
        paid_for_on: b.paid_for_on,
        note: b.note,
    };
    created(
        state
            .store
            .record_payment(&caller.ctx, EngagementId(id), &payment)
            .await?,
    )
}

/// A file of the engagement (signed scan, generated letter). Audited.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/files/{file_id}", tag = "engagements",
    params(("id" = i64, Path), ("file_id" = i64, Path)),
    responses((status = 200, description = "the file"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn engagement_file(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, file_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let (file, data) = state
        .store
        .engagement_file(&caller.ctx, EngagementId(id), file_id)
        .await?;
    Ok(crate::pages::forms::download(&file, data))
}

#[derive(Deserialize, ToSchema)]
pub struct LetterheadBody {
    #[serde(default)]
    address: String,
    #[serde(default)]
    representative: String,
    #[serde(default)]
    contact_email: String,
}

/// Sets the address, representative and contact mail letters print for an
/// organisation (secretariat or the organisation's administrator).
#[utoipa::path(put, path = "/api/v1/organisations/{id}/letterhead", tag = "organisations", request_body = LetterheadBody,
    params(("id" = i64, Path)), responses((status = 204), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn set_letterhead(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<LetterheadBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let b = json_body(b)?;
    state
        .store
        .set_letterhead(
            &caller.ctx,
            OrgId(id),
            &Letterhead {
                address: b.address,
                representative: b.representative,
                contact_email: b.contact_email,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    json(
        state
            .store
            .notifications_for(caller.account.id, 200)
            .await?,
    )
}

/// Marks the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications",
    responses((status = 204)), security(("bearer" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .mark_notifications_read(caller.account.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The mail outbox (secretariat).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "notifications",
    responses((status = 200, body = Object), (status = 403)), security(("bearer" = [])))]
pub async fn outbox(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    json(state.store.outbox(&caller.ctx, 500).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct LetterBody {
    /// `request-letter` (資料2), `pledge` (資料3) or `nda` (資料5).
    kind: String,
}

/// Generates a letter as a Japanese PDF from the current template and keeps
/// it with the engagement (secretariat). Answers the generated document's
/// id and the file's download path.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/letters", tag = "agreements", request_body = LetterBody,
    params(("id" = i64, Path)), responses((status = 201, body = Object), (status = 400, description = "a fact the letter needs is missing"), (status = 403)),
    security(("bearer" = [])))]
pub async fn generate_letter(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<LetterBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json_body(b)?;
    let kind = mamori_documents::letters::LetterKind::parse(&b.kind)
        .map_err(|e| WebError::BadRequest(format!("kind: {e}")))?;
    let engagement = EngagementId(id);
    let generated =
        crate::documents::generate_letter(&state.store, &caller.ctx, engagement, kind).await?;
    let detail = state
        .store
        .engagement_detail(&caller.ctx, engagement)
        .await?;
    let document = detail
        .documents
        .into_iter()
        .find(|d| d.id == generated)
        .ok_or(WebError::NotFound)?;
    created(serde_json::json!({
        "id": document.id,
        "kind": document.kind,
        "template_version": document.template_version,
        "file_id": document.file_id,
        "file_name": document.file_name,
        "download": format!("/api/v1/engagements/{id}/files/{}", document.file_id),
    }))
}

/// The current template of a letter kind (the saved one, or the shipped
/// default as version 0), its merge fields and its saved versions.
#[utoipa::path(get, path = "/api/v1/letter-templates/{kind}", tag = "agreements",
    params(("kind" = String, Path)), responses((status = 200, body = Object), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_letter_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(kind): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if caller.account.org_kind != mamori_domain::organisation::OrgKind::Secretariat {
        return Err(ApiError(WebError::Forbidden));
    }
    let kind = crate::documents::letter_kind(&kind)?;
    let versions = state.store.letter_template_versions(kind.slug()).await?;
    let (body, version) = match versions.first() {
        Some(saved) => (saved.body.clone(), saved.version),
        None => (kind.default_template().to_string(), 0),
    };
    let fields: Vec<Value> = kind
        .fields()
        .iter()
        .map(
            |f| serde_json::json!({"name": f.name, "ja": f.description_ja, "en": f.description_en}),
        )
        .collect();
    Ok(Json(serde_json::json!({
        "kind": kind.slug(),
        "version": version,
        "body": body,
        "fields": fields,
        "versions": versions.iter().map(|v| serde_json::json!({"version": v.version, "created_at_ms": v.created_at_ms, "created_by": v.created_by})).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, ToSchema)]
pub struct TemplateBody {
    body: String,
}

/// Saves a new version of a letter template (secretariat); a template that
/// does not render is refused naming the field or line.
#[utoipa::path(put, path = "/api/v1/letter-templates/{kind}", tag = "agreements", request_body = TemplateBody,
    params(("kind" = String, Path)), responses((status = 201, body = Object), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn save_letter_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(kind): Path<String>,
    b: Result<Json<TemplateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let kind = crate::documents::letter_kind(&kind)?;
    let b = json_body(b)?;
    crate::documents::check_template(kind, &b.body)?;
    let version = state
        .store
        .save_letter_template(&caller.ctx, kind.slug(), &b.body)
        .await?;
    created(serde_json::json!({"kind": kind.slug(), "version": version}))
}

/// The programme's payment list as an Excel workbook (secretariat).
#[utoipa::path(get, path = "/api/v1/programmes/{id}/payments.xlsx", tag = "programmes",
    params(("id" = i64, Path)), responses((status = 200, description = "xlsx"), (status = 403)),
    security(("bearer" = [])))]
pub async fn payments_workbook(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let data =
        crate::documents::payment_list_workbook(&state.store, &caller.ctx, ProgrammeId(id)).await?;
    let file = mamori_store::StoredFile {
        id: 0,
        name: format!("payments-{id}.xlsx"),
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
        size_bytes: data.len() as i64,
        sha256: String::new(),
    };
    Ok(crate::pages::forms::download(&file, data))
}

/// The engagements against the milestones as an SVG timeline, with the same
/// filters as the list (labels in the caller's language).
#[utoipa::path(get, path = "/api/v1/engagements/timeline.svg", tag = "engagements", params(EngagementQuery),
    responses((status = 200, description = "image/svg+xml")), security(("bearer" = [])))]
pub async fn timeline(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<EngagementQuery>,
) -> Result<Response, ApiError> {
    let filter = q.filter()?;
    let tr = crate::i18n::Tr::new(caller.account.language);
    let svg = crate::documents::timeline_svg(&state.store, &caller.ctx, tr, &filter).await?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response())
}
