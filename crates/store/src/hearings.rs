//! Checklist hearings (ヒヤリング): who took part for how long, the
//! surveyor's confirmed answers (the latest per cell counts; open items
//! carry over), material requests (宿題) that lapse to not-submitted a week
//! on, and vendor inquiries answered once through an expiring link.
//!
//! Every read and write asks the policy for the hospital's survey
//! responses and is audited in its transaction.

use crate::audit::{AuditContext, append};
use crate::credentials::{random_token, token_hash};
use crate::db::{Tx, iso_day, parse_iso_day, parse_optional_day};
use crate::engagements::{Engagement, engagement_in, require_in};
use crate::error::corrupt;
use crate::files::{NewFile, StoredFile};
use crate::lifecycle::no_future;
use crate::notifications::{NotificationKind, notify_company_side};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::checklist::{
    AnswerRefused, AnswerValue, CellKey, Confirmation, Framework, MAX_NOTE, RequestParty,
    RequestStatus, Scope, check_request_dates, default_request_due, request_status_on,
};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData};
use mamori_domain::schedule::{Deadline, DeadlineKind};
use mamori_domain::{AccountId, DomainError, EngagementId, validate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration};

/// Minutes one participant can spend in one hearing (a working day).
pub const MAX_HEARING_MINUTES: u32 = 600;
pub const MAX_SUBJECT_CHARS: usize = 500;
pub const MAX_QUESTION_CHARS: usize = 4_000;
pub const MAX_INQUIRY_ANSWER_CHARS: usize = 20_000;
/// How long a vendor's link works unless the inquiry says otherwise.
pub const DEFAULT_INQUIRY_LINK_DAYS: u32 = 14;
pub const MAX_INQUIRY_LINK_DAYS: u32 = 30;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// One person at a hearing: a respondent of the engagement, or someone
/// named only (an IT vendor's engineer sitting in, a deputy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub respondent_id: Option<i64>,
    /// Empty for a respondent: the respondent's name is kept.
    #[serde(default)]
    pub name: String,
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hearing {
    pub id: i64,
    pub engagement: EngagementId,
    pub held_on: Date,
    pub participants: Vec<Participant>,
    pub notes: String,
    pub created_at_ms: i64,
    pub created_by: Option<AccountId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewHearing {
    pub held_on: Date,
    pub participants: Vec<Participant>,
    #[serde(default)]
    pub notes: String,
}

/// The surveyor's latest word on one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfirmedAnswer {
    pub value: Option<AnswerValue>,
    /// Left open: to be settled at the next hearing.
    pub open: bool,
    pub note: String,
    pub hearing_id: i64,
    pub held_on: Date,
}

impl ConfirmedAnswer {
    pub fn confirmation(&self) -> Confirmation {
        Confirmation {
            value: self.value,
            open: self.open,
        }
    }
}

/// A respondent's confirmed cells, by (framework id, cell).
pub type ConfirmedCells = BTreeMap<(i64, CellKey), ConfirmedAnswer>;

/// 宿題: material promised at a hearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaterialRequest {
    pub id: i64,
    pub engagement: EngagementId,
    pub hearing_id: Option<i64>,
    pub subject: String,
    pub party: RequestParty,
    pub vendor_name: String,
    pub requested_on: Date,
    pub due_on: Date,
    /// As of today: past its due day an open request is not submitted,
    /// whether or not the periodic lapse has recorded it yet.
    pub status: RequestStatus,
    /// The day it was recorded as not submitted; kept when the material
    /// arrives late.
    pub lapsed_on: Option<Date>,
    pub received_on: Option<Date>,
    pub file_id: Option<i64>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewRequest {
    pub hearing_id: Option<i64>,
    pub subject: String,
    pub party: RequestParty,
    #[serde(default)]
    pub vendor_name: String,
    pub requested_on: Date,
    /// A week after the request when not given.
    pub due_on: Option<Date>,
}

/// A question to a vendor, asked with the hospital's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VendorInquiry {
    pub id: i64,
    pub engagement: EngagementId,
    pub vendor_name: String,
    pub vendor_contact: String,
    pub question: String,
    /// Who at the hospital agreed that the vendor be asked.
    pub consent_given_by: String,
    pub consent_on: Date,
    pub requested_on: Date,
    pub due_on: Date,
    pub link_expires_at_ms: i64,
    /// As of today (see [`MaterialRequest::status`]); received = answered.
    pub status: RequestStatus,
    pub lapsed_on: Option<Date>,
    pub answered_at_ms: Option<i64>,
    pub answer: String,
    pub file_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewInquiry {
    pub vendor_name: String,
    #[serde(default)]
    pub vendor_contact: String,
    pub question: String,
    pub consent_given_by: String,
    pub consent_on: Date,
    pub requested_on: Date,
    pub due_on: Option<Date>,
    /// How many days the link works: 1–30.
    pub valid_days: u32,
}

/// All a vendor sees through its link: its own question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InquiryView {
    pub vendor_name: String,
    pub hospital_name: String,
    pub question: String,
    pub due_on: Date,
    pub requested_on: Date,
}

/// What an actor wants to do with an engagement's survey record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Read,
    /// Hearings, confirmations, requests: the surveyor's record, kept by
    /// the engagement's own company or the secretariat. Hospital staff
    /// answer the checklist; they do not record hearings.
    Record,
    /// Handing in material, asking a vendor: the hospital's staff too.
    Contribute,
}

/// Asks the policy (survey responses) and then whether the actor is a
/// party to this engagement: a company only for its own engagement, and
/// for writing only once that engagement is contracted. A refusal is
/// audited in `tx`, which the caller commits.
async fn allowed_in(
    tx: &mut Tx,
    ctx: &AuditContext,
    today: Date,
    e: &Engagement,
    act: Act,
) -> Result<std::result::Result<(), StoreError>> {
    let access = match act {
        Act::Read => Access::Read,
        Act::Record | Act::Contribute => Access::Write,
    };
    if let Err(refused) =
        require_in(tx, ctx, today, e, HospitalData::SurveyResponses, access).await?
    {
        return Ok(Err(refused));
    }
    let Some(actor) = ctx.actor else {
        return Ok(Ok(()));
    };
    let reason = match actor.org_kind {
        OrgKind::SurveyCompany if actor.org != e.company_id => {
            Some("this engagement belongs to another company")
        }
        OrgKind::SurveyCompany
            if act != Act::Read && !(e.state.is_contracted() && e.contract_in_force) =>
        {
            Some("the engagement is not contracted (NDA and order in force)")
        }
        OrgKind::Hospital if act == Act::Record => {
            Some("hearings and requests are recorded by the survey company or the secretariat")
        }
        _ => None,
    };
    let Some(reason) = reason else {
        return Ok(Ok(()));
    };
    append(
        tx,
        ctx,
        AuditAction::AccessDenied,
        format!("{}:{}", HospitalData::SurveyResponses, e.hospital_id),
        Some(e.hospital_id),
        format!("{access} engagement:{} ({reason})", e.id),
    )
    .await?;
    Ok(Err(StoreError::Forbidden(reason)))
}

/// Runs `allowed_in` and, on refusal, commits its audit record and returns.
macro_rules! allow_or_refuse {
    ($tx:ident, $ctx:expr, $today:expr, $e:expr, $act:expr) => {
        if let Err(refused) = allowed_in(&mut $tx, $ctx, $today, $e, $act).await? {
            $tx.commit().await?;
            return Err(refused);
        }
    };
}

/// New records are not added to an engagement that ended early.
fn still_open(e: &Engagement) -> Result<()> {
    if e.state.is_closed_early() {
        return Err(StoreError::Conflict(format!(
            "engagement {} is {}; nothing more is recorded for it",
            e.id, e.state
        )));
    }
    Ok(())
}

fn text_between(field: &'static str, value: &str, max: usize) -> Result<String> {
    let value = validate::note(field, value, max)?;
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty").into());
    }
    Ok(value)
}

/// The engagement a row of `table` belongs to (`table` is a name written here).
async fn engagement_of(
    tx: &mut Tx,
    today: Date,
    table: &'static str,
    what: &'static str,
    id: i64,
) -> Result<Engagement> {
    let engagement: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT engagement_id FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let engagement = engagement.ok_or(StoreError::NotFound {
        what,
        key: id.to_string(),
    })?;
    engagement_in(tx, today, EngagementId(engagement)).await
}

async fn hearings_where(tx: &mut Tx, condition: &'static str, value: i64) -> Result<Vec<Hearing>> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, i64, String, String, i64, Option<i64>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, engagement_id, held_on, notes, created_at, created_by FROM hearings WHERE {condition} ORDER BY held_on, id"
        )))
        .bind(value)
        .fetch_all(&mut **tx)
        .await?;
    let mut participants: BTreeMap<i64, Vec<Participant>> = BTreeMap::new();
    let people: Vec<(i64, Option<i64>, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT p.hearing_id, p.respondent_id, p.name, p.minutes FROM hearing_participants p JOIN hearings h ON h.id = p.hearing_id WHERE h.{condition} ORDER BY p.hearing_id, p.ordinal"
    )))
    .bind(value)
    .fetch_all(&mut **tx)
    .await?;
    for (hearing, respondent_id, name, minutes) in people {
        participants.entry(hearing).or_default().push(Participant {
            respondent_id,
            name,
            minutes: u32::try_from(minutes).map_err(|_| StoreError::Corrupt {
                column: "hearing_participants.minutes",
                value: minutes.to_string(),
            })?,
        });
    }
    rows.into_iter()
        .map(|(id, engagement, held_on, notes, created_at, created_by)| {
            Ok(Hearing {
                id,
                engagement: EngagementId(engagement),
                held_on: parse_iso_day("hearings.held_on", &held_on)?,
                participants: participants.remove(&id).unwrap_or_default(),
                notes,
                created_at_ms: created_at,
                created_by: created_by.map(AccountId),
            })
        })
        .collect()
}

/// Every confirmation of the engagement's respondents, latest per cell.
pub(crate) async fn confirmations_in(
    tx: &mut Tx,
    engagement: EngagementId,
) -> Result<BTreeMap<i64, ConfirmedCells>> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, i64, String, String, Option<String>, i64, String, i64, String)> =
        sqlx::query_as(
            "SELECT c.respondent_id, c.framework_id, c.item_number, c.scope, c.value, c.is_open, c.note, c.hearing_id, h.held_on
             FROM checklist_confirmations c JOIN hearings h ON h.id = c.hearing_id
             WHERE h.engagement_id = $1 ORDER BY c.id",
        )
        .bind(engagement.0)
        .fetch_all(&mut **tx)
        .await?;
    let mut out: BTreeMap<i64, ConfirmedCells> = BTreeMap::new();
    for (respondent, framework, item, scope, value, open, note, hearing, held_on) in rows {
        let key = CellKey::new(
            item,
            Scope::parse(&scope).map_err(corrupt("checklist_confirmations.scope"))?,
        );
        let value = value
            .map(|v| AnswerValue::parse(&v))
            .transpose()
            .map_err(corrupt("checklist_confirmations.value"))?;
        // Rows come oldest first: a later one replaces an earlier one.
        out.entry(respondent).or_default().insert(
            (framework, key),
            ConfirmedAnswer {
                value,
                open: open != 0,
                note,
                hearing_id: hearing,
                held_on: parse_iso_day("hearings.held_on", &held_on)?,
            },
        );
    }
    Ok(out)
}

pub(crate) async fn framework_in(tx: &mut Tx, id: i64) -> Result<Framework> {
    let definition: Option<String> =
        sqlx::query_scalar("SELECT definition FROM checklist_frameworks WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let definition = definition.ok_or(StoreError::NotFound {
        what: "checklist framework",
        key: id.to_string(),
    })?;
    Framework::from_json(&definition).map_err(corrupt("checklist_frameworks.definition"))
}

/// Whether `key` is a cell a respondent of form `form_key` answers in a
/// programme supplement: an item of any of its forms that asks that form.
fn supplement_cell(
    supplement: &Framework,
    form_key: &str,
    key: &CellKey,
) -> Result<(), AnswerRefused> {
    let item = supplement
        .forms
        .iter()
        .flat_map(|f| f.items())
        .filter(|i| i.forms.is_empty() || i.forms.iter().any(|f| f == form_key))
        .find(|i| i.number == key.item)
        .ok_or_else(|| AnswerRefused::UnknownItem {
            item: key.item.clone(),
        })?;
    item.cell(key.scope)
        .map(|_| ())
        .ok_or_else(|| AnswerRefused::UnknownScope {
            item: key.item.clone(),
            scope: key.scope,
        })
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    engagement_id: i64,
    hearing_id: Option<i64>,
    subject: String,
    party: String,
    vendor_name: String,
    requested_on: String,
    due_on: String,
    status: String,
    lapsed_on: Option<String>,
    received_on: Option<String>,
    file_id: Option<i64>,
    note: String,
}

const REQUEST_SELECT: &str = "SELECT id, engagement_id, hearing_id, subject, party, vendor_name, requested_on, due_on, status, lapsed_on, received_on, file_id, note FROM material_requests";

fn material_request(r: RequestRow, today: Date) -> Result<MaterialRequest> {
    let due_on = parse_iso_day("material_requests.due_on", &r.due_on)?;
    let stored = RequestStatus::parse(&r.status).map_err(corrupt("material_requests.status"))?;
    Ok(MaterialRequest {
        id: r.id,
        engagement: EngagementId(r.engagement_id),
        hearing_id: r.hearing_id,
        subject: r.subject,
        party: RequestParty::parse(&r.party).map_err(corrupt("material_requests.party"))?,
        vendor_name: r.vendor_name,
        requested_on: parse_iso_day("material_requests.requested_on", &r.requested_on)?,
        due_on,
        status: request_status_on(stored, due_on, today),
        lapsed_on: parse_optional_day("material_requests.lapsed_on", r.lapsed_on)?,
        received_on: parse_optional_day("material_requests.received_on", r.received_on)?,
        file_id: r.file_id,
        note: r.note,
    })
}

async fn requests_where(
    tx: &mut Tx,
    today: Date,
    condition: &'static str,
    value: i64,
) -> Result<Vec<MaterialRequest>> {
    let rows: Vec<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REQUEST_SELECT} WHERE {condition} ORDER BY requested_on, id"
    )))
    .bind(value)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|r| material_request(r, today))
        .collect()
}

async fn request_by_id(tx: &mut Tx, today: Date, id: i64) -> Result<MaterialRequest> {
    requests_where(tx, today, "id = $1", id)
        .await?
        .pop()
        .ok_or(StoreError::NotFound {
            what: "material request",
            key: id.to_string(),
        })
}

#[derive(sqlx::FromRow)]
struct InquiryRow {
    id: i64,
    engagement_id: i64,
    vendor_name: String,
    vendor_contact: String,
    question: String,
    consent_given_by: String,
    consent_on: String,
    requested_on: String,
    due_on: String,
    link_expires_at: i64,
    status: String,
    lapsed_on: Option<String>,
    answered_at: Option<i64>,
    answer: String,
    file_id: Option<i64>,
}

const INQUIRY_SELECT: &str = "SELECT id, engagement_id, vendor_name, vendor_contact, question, consent_given_by, consent_on, requested_on, due_on, link_expires_at, status, lapsed_on, answered_at, answer, file_id FROM vendor_inquiries";

fn vendor_inquiry(r: InquiryRow, today: Date) -> Result<VendorInquiry> {
    let due_on = parse_iso_day("vendor_inquiries.due_on", &r.due_on)?;
    let stored = RequestStatus::parse(&r.status).map_err(corrupt("vendor_inquiries.status"))?;
    Ok(VendorInquiry {
        id: r.id,
        engagement: EngagementId(r.engagement_id),
        vendor_name: r.vendor_name,
        vendor_contact: r.vendor_contact,
        question: r.question,
        consent_given_by: r.consent_given_by,
        consent_on: parse_iso_day("vendor_inquiries.consent_on", &r.consent_on)?,
        requested_on: parse_iso_day("vendor_inquiries.requested_on", &r.requested_on)?,
        due_on,
        link_expires_at_ms: r.link_expires_at,
        status: request_status_on(stored, due_on, today),
        lapsed_on: parse_optional_day("vendor_inquiries.lapsed_on", r.lapsed_on)?,
        answered_at_ms: r.answered_at,
        answer: r.answer,
        file_id: r.file_id,
    })
}

async fn inquiries_where(
    tx: &mut Tx,
    today: Date,
    condition: &'static str,
    value: &str,
) -> Result<Vec<VendorInquiry>> {
    let rows: Vec<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{INQUIRY_SELECT} WHERE {condition} ORDER BY requested_on, id"
    )))
    .bind(value.to_string())
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(|r| vendor_inquiry(r, today)).collect()
}

async fn inquiry_by_id(tx: &mut Tx, today: Date, id: i64) -> Result<VendorInquiry> {
    let rows: Vec<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{INQUIRY_SELECT} WHERE id = $1"
    )))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .next()
        .map(|r| vendor_inquiry(r, today))
        .transpose()?
        .ok_or(StoreError::NotFound {
            what: "vendor inquiry",
            key: id.to_string(),
        })
}

/// The day a request or inquiry counts as lapsed when its material comes
/// in on `arrived_on`. A recorded lapse is kept (it is data: a back-dated
/// arrival does not erase it); one not yet recorded is the day after the
/// due day if the material came late.
fn lapse_on_arrival(lapsed_on: Option<Date>, due_on: Date, arrived_on: Date) -> Option<Date> {
    lapsed_on.or((arrived_on > due_on).then(|| due_on + Duration::days(1)))
}

/// The audit context of someone holding a vendor's link.
fn link_context(inquiry: Option<i64>, client_addr: Option<&str>) -> AuditContext {
    AuditContext {
        actor: None,
        actor_label: match inquiry {
            Some(id) => format!("link:inquiry:{id}"),
            None => "link:inquiry".into(),
        },
        client_addr: client_addr.map(str::to_string),
    }
}

/// An open inquiry found by its link, with its hospital; refusals (unknown,
/// expired, answered) are audited without the token and committed.
async fn live_inquiry(
    store: &Store,
    tx: &mut Tx,
    token: &str,
    client_addr: Option<&str>,
) -> Result<std::result::Result<(VendorInquiry, Engagement), StoreError>> {
    let today = store.today();
    let found = inquiries_where(tx, today, "link_hash = $1", &token_hash(token.trim()))
        .await?
        .pop();
    let Some(inquiry) = found else {
        append(
            tx,
            &link_context(None, client_addr),
            AuditAction::LinkRefused,
            "link:inquiry",
            None,
            "unknown link",
        )
        .await?;
        return Ok(Err(StoreError::NotFound {
            what: "inquiry link",
            key: "link".into(),
        }));
    };
    let e = engagement_in(tx, today, inquiry.engagement).await?;
    let refusal = if inquiry.answered_at_ms.is_some() {
        Some((StoreError::LinkUsed, "answered already"))
    } else if inquiry.link_expires_at_ms <= store.clock().now_ms() {
        Some((StoreError::LinkExpired, "link expired"))
    } else {
        None
    };
    if let Some((error, why)) = refusal {
        append(
            tx,
            &link_context(Some(inquiry.id), client_addr),
            AuditAction::LinkRefused,
            format!("inquiry:{}", inquiry.id),
            Some(e.hospital_id),
            why,
        )
        .await?;
        return Ok(Err(error));
    }
    Ok(Ok((inquiry, e)))
}

impl Store {
    /// Records a hearing: when, who took part and for how long.
    pub async fn record_hearing(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
        new: &NewHearing,
    ) -> Result<Hearing> {
        let today = self.today();
        no_future("held_on", new.held_on, today)?;
        let notes = validate::note("notes", &new.notes, 10_000)?;
        if new.participants.is_empty() {
            return Err(
                DomainError::invalid("participants", "a hearing needs a participant").into(),
            );
        }
        for p in &new.participants {
            if !(1..=MAX_HEARING_MINUTES).contains(&p.minutes) {
                return Err(DomainError::invalid(
                    "minutes",
                    format!(
                        "{}: {} minutes is not 1–{MAX_HEARING_MINUTES}",
                        p.name.trim(),
                        p.minutes
                    ),
                )
                .into());
            }
        }
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Record);
        still_open(&e)?;
        let mut participants = Vec::new();
        let mut seen = BTreeSet::new();
        for p in &new.participants {
            let name = match p.respondent_id {
                Some(r) => {
                    let known: Option<String> = sqlx::query_scalar(
                        "SELECT name FROM checklist_respondents WHERE id = $1 AND engagement_id = $2",
                    )
                    .bind(r)
                    .bind(engagement.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let known = known.ok_or_else(|| {
                        DomainError::invalid(
                            "participants",
                            format!("{r} is not a respondent of engagement {engagement}"),
                        )
                    })?;
                    if !seen.insert(r) {
                        return Err(DomainError::invalid(
                            "participants",
                            format!("{known} is listed twice"),
                        )
                        .into());
                    }
                    if p.name.trim().is_empty() {
                        known
                    } else {
                        validate::display_name("participants", &p.name)?
                    }
                }
                None => validate::display_name("participants", &p.name)?,
            };
            participants.push(Participant {
                respondent_id: p.respondent_id,
                name,
                minutes: p.minutes,
            });
        }
        let now = now_ms();
        let hid: i64 = sqlx::query_scalar("INSERT INTO hearings (engagement_id, held_on, notes, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(engagement.0)
            .bind(iso_day(new.held_on))
            .bind(&notes)
            .bind(now)
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        for (ordinal, p) in participants.iter().enumerate() {
            sqlx::query("INSERT INTO hearing_participants (hearing_id, ordinal, respondent_id, name, minutes) VALUES ($1, $2, $3, $4, $5)")
                .bind(hid)
                .bind(ordinal as i64)
                .bind(p.respondent_id)
                .bind(&p.name)
                .bind(i64::from(p.minutes))
                .execute(&mut *tx)
                .await?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::HearingRecorded,
            format!("hearing:{hid}"),
            Some(e.hospital_id),
            format!(
                "engagement={engagement} held_on={} participants={} minutes={}",
                new.held_on,
                participants.len(),
                participants.iter().map(|p| p.minutes).sum::<u32>()
            ),
        )
        .await?;
        let hearing = hearings_where(&mut tx, "id = $1", hid).await?.pop();
        tx.commit().await?;
        hearing.ok_or(StoreError::NotFound {
            what: "hearing",
            key: hid.to_string(),
        })
    }

    /// The hearings of an engagement, oldest first.
    pub async fn hearings(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
    ) -> Result<Vec<Hearing>> {
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Read);
        let hearings = hearings_where(&mut tx, "engagement_id = $1", engagement.0).await?;
        self.finish_read(
            tx,
            ctx,
            format!("hearings:engagement:{engagement}"),
            Some(e.hospital_id),
            "hearings",
        )
        .await?;
        Ok(hearings)
    }

    /// The surveyor's confirmed answers for one respondent at a hearing,
    /// all or none: each row names a cell of the respondent's form (or of
    /// the programme's supplement) and the framework it belongs to. A row
    /// that repeats the cell's latest confirmation without a note is not
    /// stored again (the hearing page sends every cell back). Returns how
    /// many rows were stored.
    pub async fn confirm_answers(
        &self,
        ctx: &AuditContext,
        hearing_id: i64,
        respondent_id: i64,
        rows: &[(CellKey, i64, Confirmation, String)],
    ) -> Result<usize> {
        let today = self.today();
        if rows.is_empty() {
            return Err(DomainError::invalid("confirmations", "nothing to confirm").into());
        }
        let mut tx = self.begin_write().await?;
        let e = engagement_of(&mut tx, today, "hearings", "hearing", hearing_id).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Record);
        let respondent: Option<(i64, String)> = sqlx::query_as(
            "SELECT framework_id, form_key FROM checklist_respondents WHERE id = $1 AND engagement_id = $2",
        )
        .bind(respondent_id)
        .bind(e.id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let (framework_id, form_key) = respondent.ok_or_else(|| {
            DomainError::invalid(
                "respondent",
                format!("{respondent_id} is not a respondent of engagement {}", e.id),
            )
        })?;
        let framework = framework_in(&mut tx, framework_id).await?;
        let form = framework.form(&form_key).ok_or(StoreError::Corrupt {
            column: "checklist_respondents.form_key",
            value: form_key.clone(),
        })?;
        let supplement_id: Option<i64> =
            sqlx::query_scalar("SELECT checklist_supplement_id FROM programmes WHERE id = $1")
                .bind(e.programme_id.0)
                .fetch_one(&mut *tx)
                .await?;
        let supplement = match supplement_id {
            Some(id) => Some((id, framework_in(&mut tx, id).await?)),
            None => None,
        };
        let latest = confirmations_in(&mut tx, e.id)
            .await?
            .remove(&respondent_id)
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        let mut fresh = Vec::new();
        for (key, fw, confirmation, note) in rows {
            let at = format!("{} ({})", key.item, key.scope);
            let invalid = |reason: String| -> StoreError {
                DomainError::invalid("confirmations", reason).into()
            };
            let cell = if *fw == framework_id {
                match form.item(&key.item) {
                    None => Err(AnswerRefused::UnknownItem {
                        item: key.item.clone(),
                    }),
                    Some(item) if item.cell(key.scope).is_none() => {
                        Err(AnswerRefused::UnknownScope {
                            item: key.item.clone(),
                            scope: key.scope,
                        })
                    }
                    Some(_) => Ok(()),
                }
            } else {
                match &supplement {
                    Some((id, sup)) if id == fw => supplement_cell(sup, &form_key, key),
                    _ => {
                        return Err(invalid(format!(
                            "{at}: framework {fw} is not this respondent's checklist"
                        )));
                    }
                }
            };
            cell.map_err(|refused| invalid(refused.to_string()))?;
            if !seen.insert((*fw, key.clone())) {
                return Err(invalid(format!("{at} appears twice")));
            }
            if confirmation.value.is_none() && !confirmation.open {
                return Err(invalid(format!(
                    "{at}: give the confirmed answer or leave the item open"
                )));
            }
            let note = validate::note("note", note, MAX_NOTE)
                .map_err(|refused| invalid(format!("{at}: {refused}")))?;
            let unchanged = note.is_empty()
                && latest
                    .get(&(*fw, key.clone()))
                    .is_some_and(|c| c.confirmation() == *confirmation);
            if !unchanged {
                fresh.push((key, *fw, confirmation, note));
            }
        }
        let now = now_ms();
        for (key, fw, confirmation, note) in &fresh {
            sqlx::query("INSERT INTO checklist_confirmations (hearing_id, respondent_id, framework_id, item_number, scope, value, is_open, note, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(hearing_id)
                .bind(respondent_id)
                .bind(*fw)
                .bind(&key.item)
                .bind(key.scope.slug())
                .bind(confirmation.value.map(|v| v.slug()))
                .bind(i64::from(confirmation.open))
                .bind(note)
                .bind(now)
                .bind(ctx.actor.map(|a| a.account.0))
                .execute(&mut *tx)
                .await?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::AnswersConfirmed,
            format!("hearing:{hearing_id}"),
            Some(e.hospital_id),
            format!(
                "respondent={respondent_id} count={} open={}",
                fresh.len(),
                fresh.iter().filter(|(_, _, c, _)| c.open).count()
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(fresh.len())
    }

    /// The latest confirmation of every cell, by respondent and then by
    /// (framework id, cell): what `reconcile` lines up with the answers.
    pub async fn confirmations(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
    ) -> Result<BTreeMap<i64, ConfirmedCells>> {
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Read);
        let out = confirmations_in(&mut tx, engagement).await?;
        self.finish_read(
            tx,
            ctx,
            format!("confirmations:engagement:{engagement}"),
            Some(e.hospital_id),
            "confirmed answers",
        )
        .await?;
        Ok(out)
    }

    /// Cells whose latest confirmation left them open, as (respondent id,
    /// framework id, cell): they carry over to the next hearing.
    pub async fn open_items(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
    ) -> Result<Vec<(i64, i64, CellKey)>> {
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Read);
        let open = confirmations_in(&mut tx, engagement)
            .await?
            .into_iter()
            .flat_map(|(respondent, cells)| {
                cells
                    .into_iter()
                    .filter(|(_, c)| c.open)
                    .map(move |((framework, key), _)| (respondent, framework, key))
            })
            .collect();
        self.finish_read(
            tx,
            ctx,
            format!("confirmations:engagement:{engagement}"),
            Some(e.hospital_id),
            "open items",
        )
        .await?;
        Ok(open)
    }

    /// Raises a material request (宿題), due a week after the request
    /// unless a due day is given.
    pub async fn raise_request(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
        new: &NewRequest,
    ) -> Result<MaterialRequest> {
        let today = self.today();
        let subject = text_between("subject", &new.subject, MAX_SUBJECT_CHARS)?;
        let vendor_name = match new.party {
            RequestParty::Vendor => validate::display_name("vendor_name", &new.vendor_name)
                .map_err(|_| {
                    DomainError::invalid("vendor_name", "a request to a vendor names the vendor")
                })?,
            RequestParty::Hospital => String::new(),
        };
        let due_on = new
            .due_on
            .unwrap_or_else(|| default_request_due(new.requested_on));
        check_request_dates(new.requested_on, due_on, today)?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Record);
        still_open(&e)?;
        if let Some(h) = new.hearing_id {
            let of: Option<i64> =
                sqlx::query_scalar("SELECT engagement_id FROM hearings WHERE id = $1")
                    .bind(h)
                    .fetch_optional(&mut *tx)
                    .await?;
            if of != Some(engagement.0) {
                return Err(DomainError::invalid(
                    "hearing",
                    format!("{h} is not a hearing of engagement {engagement}"),
                )
                .into());
            }
        }
        let rid: i64 = sqlx::query_scalar("INSERT INTO material_requests (engagement_id, hearing_id, subject, party, vendor_name, requested_on, due_on, status, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(engagement.0)
            .bind(new.hearing_id)
            .bind(&subject)
            .bind(new.party.slug())
            .bind(&vendor_name)
            .bind(iso_day(new.requested_on))
            .bind(iso_day(due_on))
            .bind(RequestStatus::Requested.slug())
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::RequestRaised,
            format!("request:{rid}"),
            Some(e.hospital_id),
            format!(
                "engagement={engagement} party={} due={due_on} hearing={:?}",
                new.party, new.hearing_id
            ),
        )
        .await?;
        let request = request_by_id(&mut tx, today, rid).await?;
        tx.commit().await?;
        Ok(request)
    }

    /// Records that the material came in, with the file when there is one.
    /// A lapsed request can still be received: it stays marked as late.
    pub async fn receive_request(
        &self,
        ctx: &AuditContext,
        request_id: i64,
        received_on: Date,
        file: Option<NewFile>,
        note: &str,
    ) -> Result<MaterialRequest> {
        let today = self.today();
        no_future("received_on", received_on, today)?;
        let note = validate::note("note", note, 2_000)?;
        if let Some(f) = &file {
            f.checked()?;
        }
        let mut tx = self.begin_write().await?;
        let e = engagement_of(
            &mut tx,
            today,
            "material_requests",
            "material request",
            request_id,
        )
        .await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Contribute);
        let request = request_by_id(&mut tx, today, request_id).await?;
        if request.status == RequestStatus::Received {
            return Err(StoreError::Conflict(format!(
                "material request {request_id} was received already"
            )));
        }
        if received_on < request.requested_on {
            return Err(DomainError::invalid(
                "received_on",
                format!(
                    "{received_on} is before the request date {}",
                    request.requested_on
                ),
            )
            .into());
        }
        let lapsed_on = lapse_on_arrival(request.lapsed_on, request.due_on, received_on);
        let file_id = match &file {
            Some(f) => Some(self.insert_file(&mut tx, ctx, f).await?),
            None => None,
        };
        let changed = sqlx::query("UPDATE material_requests SET status = $1, received_on = $2, lapsed_on = $3, file_id = $4, note = $5 WHERE id = $6 AND status <> $1")
            .bind(RequestStatus::Received.slug())
            .bind(iso_day(received_on))
            .bind(lapsed_on.map(iso_day))
            .bind(file_id)
            .bind(&note)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "material request {request_id} changed meanwhile; reload and try again"
            )));
        }
        append(
            &mut tx,
            ctx,
            AuditAction::RequestReceived,
            format!("request:{request_id}"),
            Some(e.hospital_id),
            format!(
                "received_on={received_on} file={file_id:?} late={}",
                lapsed_on.is_some()
            ),
        )
        .await?;
        let request = request_by_id(&mut tx, today, request_id).await?;
        tx.commit().await?;
        Ok(request)
    }

    /// The material requests of an engagement, each with its status today.
    pub async fn material_requests(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
    ) -> Result<Vec<MaterialRequest>> {
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Read);
        let requests = requests_where(&mut tx, today, "engagement_id = $1", engagement.0).await?;
        self.finish_read(
            tx,
            ctx,
            format!("requests:engagement:{engagement}"),
            Some(e.hospital_id),
            "material requests",
        )
        .await?;
        Ok(requests)
    }

    /// The file handed in for a material request; audited.
    pub async fn request_file(
        &self,
        ctx: &AuditContext,
        request_id: i64,
    ) -> Result<(StoredFile, Vec<u8>)> {
        self.record_file(ctx, "material_requests", "material request", request_id)
            .await
    }

    /// The file a vendor sent with its answer; audited.
    pub async fn inquiry_file(
        &self,
        ctx: &AuditContext,
        inquiry_id: i64,
    ) -> Result<(StoredFile, Vec<u8>)> {
        self.record_file(ctx, "vendor_inquiries", "vendor inquiry", inquiry_id)
            .await
    }

    /// `table` is a name written in this module, with `file_id`.
    async fn record_file(
        &self,
        ctx: &AuditContext,
        table: &'static str,
        what: &'static str,
        id: i64,
    ) -> Result<(StoredFile, Vec<u8>)> {
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let e = engagement_of(&mut tx, today, table, what, id).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Read);
        let file_id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT file_id FROM {table} WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let file_id = file_id.ok_or(StoreError::NotFound {
            what: "file",
            key: format!("{what} {id}"),
        })?;
        append(
            &mut tx,
            ctx,
            AuditAction::FileRead,
            format!("file:{file_id}"),
            Some(e.hospital_id),
            format!("engagement={} {what}={id}", e.id),
        )
        .await?;
        tx.commit().await?;
        self.file_content(file_id).await
    }

    /// Opens a question to a vendor, with the hospital's consent. Returns
    /// the inquiry and the link's token, which is shown once: only its
    /// hash is kept.
    pub async fn open_vendor_inquiry(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
        new: &NewInquiry,
    ) -> Result<(VendorInquiry, String)> {
        let today = self.today();
        let vendor_name = validate::display_name("vendor_name", &new.vendor_name)?;
        let vendor_contact = validate::note("vendor_contact", &new.vendor_contact, 200)?;
        let question = text_between("question", &new.question, MAX_QUESTION_CHARS)?;
        let consent_given_by = validate::display_name("consent_given_by", &new.consent_given_by)
            .map_err(|_| {
                DomainError::invalid(
                    "consent_given_by",
                    "name who at the hospital agreed that the vendor be asked",
                )
            })?;
        no_future("consent_on", new.consent_on, today)?;
        if new.consent_on > new.requested_on {
            return Err(DomainError::invalid(
                "consent_on",
                format!(
                    "consent given on {} is after the inquiry ({})",
                    new.consent_on, new.requested_on
                ),
            )
            .into());
        }
        if !(1..=MAX_INQUIRY_LINK_DAYS).contains(&new.valid_days) {
            return Err(DomainError::invalid(
                "valid_days",
                format!(
                    "a link works for 1–{MAX_INQUIRY_LINK_DAYS} days, not {}",
                    new.valid_days
                ),
            )
            .into());
        }
        let due_on = new
            .due_on
            .unwrap_or_else(|| default_request_due(new.requested_on));
        check_request_dates(new.requested_on, due_on, today)?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Contribute);
        still_open(&e)?;
        let token = random_token(32);
        let expires = self.clock().now_ms() + i64::from(new.valid_days) * DAY_MS;
        let qid: i64 = sqlx::query_scalar("INSERT INTO vendor_inquiries (engagement_id, vendor_name, vendor_contact, question, consent_given_by, consent_on, requested_on, due_on, link_hash, link_expires_at, status, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
            .bind(engagement.0)
            .bind(&vendor_name)
            .bind(&vendor_contact)
            .bind(&question)
            .bind(&consent_given_by)
            .bind(iso_day(new.consent_on))
            .bind(iso_day(new.requested_on))
            .bind(iso_day(due_on))
            .bind(token_hash(&token))
            .bind(expires)
            .bind(RequestStatus::Requested.slug())
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::InquiryOpened,
            format!("inquiry:{qid}"),
            Some(e.hospital_id),
            format!(
                "engagement={engagement} vendor={vendor_name} consent={consent_given_by} on {} due={due_on} link_days={}",
                new.consent_on, new.valid_days
            ),
        )
        .await?;
        let inquiry = inquiry_by_id(&mut tx, today, qid).await?;
        tx.commit().await?;
        Ok((inquiry, token))
    }

    /// The vendor inquiries of an engagement, each with its status today.
    pub async fn vendor_inquiries(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
    ) -> Result<Vec<VendorInquiry>> {
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        allow_or_refuse!(tx, ctx, today, &e, Act::Read);
        let rows: Vec<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INQUIRY_SELECT} WHERE engagement_id = $1 ORDER BY requested_on, id"
        )))
        .bind(engagement.0)
        .fetch_all(&mut *tx)
        .await?;
        let inquiries = rows
            .into_iter()
            .map(|r| vendor_inquiry(r, today))
            .collect::<Result<Vec<_>>>()?;
        self.finish_read(
            tx,
            ctx,
            format!("inquiries:engagement:{engagement}"),
            Some(e.hospital_id),
            "vendor inquiries",
        )
        .await?;
        Ok(inquiries)
    }

    /// What the holder of a vendor's link sees: its own question and the
    /// hospital's name, nothing else. Unknown links are `NotFound`, expired
    /// ones `LinkExpired`, answered ones `LinkUsed`; every refusal is
    /// audited (without the token).
    pub async fn inquiry_by_link(
        &self,
        token: &str,
        client_addr: Option<&str>,
    ) -> Result<InquiryView> {
        let mut tx = self.begin_write().await?;
        let (inquiry, e) = match live_inquiry(self, &mut tx, token, client_addr).await? {
            Ok(found) => found,
            Err(refused) => {
                tx.commit().await?;
                return Err(refused);
            }
        };
        append(
            &mut tx,
            &link_context(Some(inquiry.id), client_addr),
            AuditAction::HospitalDataRead,
            format!("inquiry:{}", inquiry.id),
            Some(e.hospital_id),
            "inquiry read by link",
        )
        .await?;
        tx.commit().await?;
        Ok(InquiryView {
            vendor_name: inquiry.vendor_name,
            hospital_name: e.hospital_name,
            question: inquiry.question,
            due_on: inquiry.due_on,
            requested_on: inquiry.requested_on,
        })
    }

    /// The vendor's one answer (1–20,000 characters, and a file if it
    /// sends one). A second answer is refused with `LinkUsed` and nothing
    /// is written. Past the due day the answer is still taken, as late.
    pub async fn answer_inquiry(
        &self,
        token: &str,
        answer: &str,
        file: Option<NewFile>,
        client_addr: Option<&str>,
    ) -> Result<VendorInquiry> {
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let (inquiry, e) = match live_inquiry(self, &mut tx, token, client_addr).await? {
            Ok(found) => found,
            Err(refused) => {
                tx.commit().await?;
                return Err(refused);
            }
        };
        let answer = text_between("answer", answer, MAX_INQUIRY_ANSWER_CHARS)?;
        let ctx = link_context(Some(inquiry.id), client_addr);
        let file_id = match &file {
            Some(f) => Some(self.insert_file(&mut tx, &ctx, f).await?),
            None => None,
        };
        let lapsed_on = lapse_on_arrival(inquiry.lapsed_on, inquiry.due_on, today);
        let changed = sqlx::query("UPDATE vendor_inquiries SET status = $1, answered_at = $2, answer = $3, file_id = $4, lapsed_on = $5 WHERE id = $6 AND answered_at IS NULL")
            .bind(RequestStatus::Received.slug())
            .bind(self.clock().now_ms())
            .bind(&answer)
            .bind(file_id)
            .bind(lapsed_on.map(iso_day))
            .bind(inquiry.id)
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            // Another answer got in first.
            return Err(StoreError::LinkUsed);
        }
        append(
            &mut tx,
            &ctx,
            AuditAction::InquiryAnswered,
            format!("inquiry:{}", inquiry.id),
            Some(e.hospital_id),
            format!(
                "chars={} file={file_id:?} late={}",
                answer.chars().count(),
                lapsed_on.is_some()
            ),
        )
        .await?;
        let answered = inquiry_by_id(&mut tx, today, inquiry.id).await?;
        tx.commit().await?;
        Ok(answered)
    }

    /// Records every open request and inquiry past its due day as not
    /// submitted (lapsed today), one transaction per engagement, audited
    /// and notified to the company and the secretariat. Returns how many
    /// lapsed; a second run the same day finds none.
    pub async fn lapse_overdue(&self) -> Result<usize> {
        Ok(self.lapse_overdue_notifying().await?.0)
    }

    /// [`Store::lapse_overdue`], also counting the notifications made.
    pub(crate) async fn lapse_overdue_notifying(&self) -> Result<(usize, usize)> {
        let today = self.today();
        let operator = AuditContext::operator("deadline check");
        let open = RequestStatus::Requested.slug();
        // (engagement, is inquiry, id, subject, due)
        let overdue: Vec<(i64, i64, i64, String, String)> = sqlx::query_as(
            "SELECT engagement_id, 0, id, subject, due_on FROM material_requests WHERE status = $1 AND due_on < $2
             UNION ALL SELECT engagement_id, 1, id, vendor_name, due_on FROM vendor_inquiries WHERE status = $1 AND due_on < $2
             ORDER BY 1, 2, 3",
        )
        .bind(open)
        .bind(iso_day(today))
        .fetch_all(&self.pool)
        .await?;
        let mut by_engagement: BTreeMap<i64, Vec<(bool, i64, String, String)>> = BTreeMap::new();
        for (engagement, inquiry, id, subject, due) in overdue {
            by_engagement
                .entry(engagement)
                .or_default()
                .push((inquiry == 1, id, subject, due));
        }
        let (mut lapsed, mut notified) = (0, 0);
        for (engagement, items) in by_engagement {
            let mut tx = self.begin_write().await?;
            let e = engagement_in(&mut tx, today, EngagementId(engagement)).await?;
            for (inquiry, id, subject, due) in items {
                let (table, action, target, what) = if inquiry {
                    (
                        "vendor_inquiries",
                        AuditAction::InquiryLapsed,
                        "inquiry",
                        "vendor-inquiry",
                    )
                } else {
                    (
                        "material_requests",
                        AuditAction::RequestLapsed,
                        "request",
                        "material-request",
                    )
                };
                // Guarded by the status: a concurrent run lapses each once.
                let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET status = $1, lapsed_on = $2 WHERE id = $3 AND status = $4"
                )))
                .bind(RequestStatus::NotSubmitted.slug())
                .bind(iso_day(today))
                .bind(id)
                .bind(open)
                .execute(&mut *tx)
                .await?;
                if changed.rows_affected() == 0 {
                    continue;
                }
                lapsed += 1;
                append(
                    &mut tx,
                    &operator,
                    action,
                    format!("{target}:{id}"),
                    Some(e.hospital_id),
                    format!("engagement={engagement} due={due} lapsed_on={today}"),
                )
                .await?;
                notified += notify_company_side(
                    &mut tx,
                    &e,
                    NotificationKind::RequestLapsed,
                    serde_json::json!({"what": what, "id": id, "subject": subject, "due": due}),
                    &format!("{target}-lapsed:{id}"),
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok((lapsed, notified))
    }
}

/// The open requests and inquiries as deadlines of kind material request,
/// one per due day, by engagement; `only` narrows them to one engagement.
pub(crate) async fn request_deadlines(
    conn: &mut sqlx::AnyConnection,
    only: Option<EngagementId>,
) -> Result<BTreeMap<EngagementId, Vec<Deadline>>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT engagement_id, due_on FROM material_requests WHERE status = $1 AND ($2 = 0 OR engagement_id = $2)
         UNION SELECT engagement_id, due_on FROM vendor_inquiries WHERE status = $1 AND ($2 = 0 OR engagement_id = $2)",
    )
    .bind(RequestStatus::Requested.slug())
    .bind(only.map_or(0, |e| e.0))
    .fetch_all(conn)
    .await?;
    let mut days: BTreeMap<EngagementId, BTreeSet<Date>> = BTreeMap::new();
    for (engagement, due) in rows {
        days.entry(EngagementId(engagement))
            .or_default()
            .insert(parse_iso_day("material_requests.due_on", &due)?);
    }
    Ok(days
        .into_iter()
        .map(|(e, days)| {
            let deadlines = days
                .into_iter()
                .map(|due| Deadline {
                    kind: DeadlineKind::MaterialRequest,
                    milestone: None,
                    due,
                    met: false,
                })
                .collect();
            (e, deadlines)
        })
        .collect())
}

/// Adds an engagement's open requests to its deadlines, in date order.
pub(crate) fn with_request_deadlines(
    mut deadlines: Vec<Deadline>,
    requests: Option<&Vec<Deadline>>,
) -> Vec<Deadline> {
    if let Some(requests) = requests {
        deadlines.extend(requests.iter().cloned());
        deadlines.sort_by_key(|d| d.due);
    }
    deadlines
}
