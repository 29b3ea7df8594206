//! The procedure as operations: transitions by their owners, pledges and
//! NDAs, estimates and orders, honoraria. Each is checked by the domain
//! rules and the access policy, dated, and audited in its transaction.

use crate::audit::{AuditContext, AuditEntry, append, append_all};
use crate::db::{Tx, iso_day, parse_iso_day, parse_optional_day};
use crate::engagements::{Engagement, engagement_in, relationship_in, require_or_refuse};
use crate::error::corrupt;
use crate::files::{NewFile, StoredFile};
use crate::notifications::{NotificationKind, notify_engagement};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::agreement::{
    AgreementKind, AgreementTerms, EstimateFigures, PaymentKind, format_yen, honorarium_yen,
};
use mamori_domain::audit::AuditAction;
use mamori_domain::engagement::EngagementState;
use mamori_domain::lifecycle::{GateFacts, check_transition, next_states_for};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, Relationship, permits};
use mamori_domain::schedule::{Deadline, engagement_deadlines};
use mamori_domain::{AccountId, DomainError, EngagementId, ProgrammeId, validate};
use serde::{Deserialize, Serialize};
use time::Date;

/// One step taken, with its date and note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionRecord {
    pub from: EngagementState,
    pub to: EngagementState,
    pub effective_on: Date,
    pub note: String,
    pub by: Option<String>,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agreement {
    pub id: i64,
    pub engagement_id: EngagementId,
    pub kind: AgreementKind,
    pub issued_on: Date,
    pub terms: AgreementTerms,
    pub revoked_on: Option<Date>,
    pub revoked_reason: String,
    pub scan_file_id: Option<i64>,
    pub document_file_id: Option<i64>,
    /// Signed, within its period today and not revoked.
    pub in_force: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub id: i64,
    pub engagement_id: EngagementId,
    pub figures: EstimateFigures,
    pub total_yen: i64,
    pub note: String,
    pub submitted_at_ms: i64,
    pub submitted_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub id: i64,
    pub engagement_id: EngagementId,
    pub estimate_id: i64,
    pub order_number: String,
    pub issued_on: Date,
    pub amount_yen: i64,
    pub revoked_on: Option<Date>,
    pub settled_on: Option<Date>,
    pub settled_hours: Option<f64>,
    pub settled_amount_yen: Option<i64>,
}

/// A honorarium or a reimbursement for a hospital (資料1 §2④).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NewPayment {
    pub kind: PaymentKind,
    pub person: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub title: String,
    /// Hours at hearings (honoraria).
    pub hours: Option<f64>,
    /// The amount paid (reimbursements).
    pub amount_yen: Option<i64>,
    pub paid_for_on: Date,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    pub id: i64,
    pub engagement_id: EngagementId,
    pub hospital_name: String,
    pub kind: PaymentKind,
    pub person: String,
    pub department: String,
    pub title: String,
    pub hours: Option<f64>,
    pub rate_yen: Option<i64>,
    pub amount_yen: i64,
    pub paid_for_on: Date,
    pub note: String,
}

/// A letter generated from a template and kept as a PDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedDocument {
    pub id: i64,
    pub kind: String,
    pub template_version: i64,
    pub file_id: i64,
    pub file_name: String,
    pub created_at_ms: i64,
}

/// Everything about one engagement the actor may see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngagementDetail {
    pub engagement: Engagement,
    pub transitions: Vec<TransitionRecord>,
    pub deadlines: Vec<Deadline>,
    pub gates: GateFacts,
    /// The states this actor may move the engagement to now.
    pub next_states: Vec<EngagementState>,
    /// Pledges and NDAs the actor may read.
    pub agreements: Vec<Agreement>,
    pub estimates: Option<Vec<Estimate>>,
    pub orders: Option<Vec<Order>>,
    pub payments: Option<Vec<Payment>>,
    pub documents: Vec<GeneratedDocument>,
}

fn agreement_category(kind: AgreementKind) -> HospitalData {
    match kind {
        AgreementKind::Pledge => HospitalData::Pledge,
        AgreementKind::Nda => HospitalData::Contract,
    }
}

pub(crate) fn no_future(field: &'static str, day: Date, today: Date) -> Result<()> {
    if day > today {
        return Err(DomainError::invalid(
            field,
            format!("{day} is in the future (today is {today})"),
        )
        .into());
    }
    Ok(())
}

#[allow(clippy::type_complexity)]
type AgreementRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
);
const AGREEMENT_SELECT: &str = "SELECT id, engagement_id, kind, issued_on, signed_on, valid_from, valid_until, revoked_on, revoked_reason, scan_file_id, document_file_id FROM agreements";

fn agreement(row: AgreementRow, today: Date) -> Result<Agreement> {
    let terms = AgreementTerms {
        signed_on: parse_optional_day("agreements.signed_on", row.4)?,
        valid_from: parse_iso_day("agreements.valid_from", &row.5)?,
        valid_until: parse_iso_day("agreements.valid_until", &row.6)?,
    };
    let revoked_on = parse_optional_day("agreements.revoked_on", row.7)?;
    Ok(Agreement {
        id: row.0,
        engagement_id: EngagementId(row.1),
        kind: AgreementKind::parse(&row.2).map_err(corrupt("agreements.kind"))?,
        issued_on: parse_iso_day("agreements.issued_on", &row.3)?,
        in_force: revoked_on.is_none() && terms.in_force_on(today),
        terms,
        revoked_on,
        revoked_reason: row.8,
        scan_file_id: row.9,
        document_file_id: row.10,
    })
}

async fn agreements_in(
    tx: &mut sqlx::AnyConnection,
    today: Date,
    engagement: EngagementId,
) -> Result<Vec<Agreement>> {
    let rows: Vec<AgreementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{AGREEMENT_SELECT} WHERE engagement_id = $1 ORDER BY id"
    )))
    .bind(engagement.0)
    .fetch_all(tx)
    .await?;
    rows.into_iter().map(|r| agreement(r, today)).collect()
}

async fn agreement_by_id(tx: &mut Tx, today: Date, id: i64) -> Result<Agreement> {
    let row: Option<AgreementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{AGREEMENT_SELECT} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| agreement(r, today))
        .transpose()?
        .ok_or(StoreError::NotFound {
            what: "agreement",
            key: id.to_string(),
        })
}

/// The gates as the transaction sees them today.
async fn gates_in(tx: &mut Tx, today: Date, e: &Engagement) -> Result<GateFacts> {
    let agreements = agreements_in(tx, today, e.id).await?;
    Ok(GateFacts {
        company_confirmed: e.company_confirmed_on.is_some(),
        pledge_issued: agreements
            .iter()
            .any(|a| a.kind == AgreementKind::Pledge && a.revoked_on.is_none()),
        nda_in_force: agreements
            .iter()
            .any(|a| a.kind == AgreementKind::Nda && a.in_force),
        order_issued: e.contract_in_force || {
            let live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM orders WHERE engagement_id = $1 AND revoked_on IS NULL",
            )
            .bind(e.id.0)
            .fetch_one(&mut **tx)
            .await?;
            live > 0
        },
    })
}

/// The organisation acting must be the party the step belongs to: its own
/// company, its own hospital; the secretariat and supervisor act for all.
fn is_party(ctx: &AuditContext, e: &Engagement, rel: Relationship) -> bool {
    let Some(actor) = ctx.actor else { return true };
    match actor.org_kind {
        OrgKind::SurveyCompany => actor.org == e.company_id,
        OrgKind::Hospital => actor.org == e.hospital_id,
        OrgKind::Supervisor => rel == Relationship::Supervisor,
        OrgKind::Secretariat => true,
        OrgKind::Ministry | OrgKind::Vendor => false,
    }
}

impl Store {
    /// Moves an engagement one step, by the organisation that owns the step,
    /// on `effective_on` (today when not given), with an optional note.
    pub async fn transition(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        to: EngagementState,
        effective_on: Option<Date>,
        note: &str,
    ) -> Result<Engagement> {
        let today = self.today();
        let on = effective_on.unwrap_or(today);
        no_future("effective_on", on, today)?;
        let note = validate::note("note", note, 2000)?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, id).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::EngagementSummary,
            Access::Read
        );
        let facts = gates_in(&mut tx, today, &e).await?;
        match ctx.actor {
            Some(actor) => {
                let rel = relationship_in(&mut tx, today, &actor, e.hospital_id).await?;
                if !is_party(ctx, &e, rel) {
                    return Err(StoreError::Forbidden(
                        "this engagement belongs to another organisation",
                    ));
                }
                check_transition(actor.org_kind, e.state, to, &facts)?;
            }
            None => {
                // The operator takes any step of the procedure, gates included.
                let owner = mamori_domain::lifecycle::TRANSITIONS
                    .iter()
                    .find(|t| t.from == e.state && t.to == to)
                    .and_then(|t| t.owners.first().copied())
                    .unwrap_or(OrgKind::Secretariat);
                check_transition(owner, e.state, to, &facts)?;
            }
        }
        // The operator records steps taken outside Mamori (an engagement
        // of the paper-era programme); people go through the report gate.
        if ctx.actor.is_some() {
            crate::releases::report_gate(&mut tx, &e, to, today).await?;
        }
        let changed = sqlx::query("UPDATE engagements SET state = $1, updated_at = $2, intent_confirmed_on = CASE WHEN $3 = 1 THEN $4 ELSE intent_confirmed_on END, contacted_on = CASE WHEN $5 = 1 THEN $4 ELSE contacted_on END WHERE id = $6 AND state = $7")
            .bind(to.slug())
            .bind(now_ms())
            .bind(i64::from(to == EngagementState::IntentConfirmed))
            .bind(iso_day(on))
            .bind(i64::from(to == EngagementState::Scheduling && e.contacted_on.is_none()))
            .bind(id.0)
            .bind(e.state.slug())
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "engagement {id} changed meanwhile; reload and try again"
            )));
        }
        sqlx::query("INSERT INTO engagement_transitions (engagement_id, from_state, to_state, effective_on, note, account_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id.0)
            .bind(e.state.slug())
            .bind(to.slug())
            .bind(iso_day(on))
            .bind(&note)
            .bind(ctx.actor.map(|a| a.account.0))
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        crate::releases::record_report_step(&mut tx, &e, to, ctx.actor.map(|a| a.account)).await?;
        append(
            &mut tx,
            ctx,
            AuditAction::EngagementTransitioned,
            format!("engagement:{id}"),
            Some(e.hospital_id),
            format!("{} -> {to} on {on}", e.state),
        )
        .await?;
        notify_engagement(
            &mut tx,
            &e,
            NotificationKind::Transition,
            serde_json::json!({"from": e.state, "to": to, "on": iso_day(on), "note": note}),
            &format!("transition:{id}:{}:{to}:{}", e.state, now_ms()),
            to != EngagementState::IntentConfirmed && e.state != EngagementState::Candidate,
        )
        .await?;
        tx.commit().await?;
        self.engagement_row(id).await
    }

    /// Everything about one engagement the actor may see, audited as one read.
    pub async fn engagement_detail(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
    ) -> Result<EngagementDetail> {
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let mut e = engagement_in(&mut tx, today, id).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::EngagementSummary,
            Access::Read
        );
        let rel = match ctx.actor {
            Some(actor) => relationship_in(&mut tx, today, &actor, e.hospital_id).await?,
            None => Relationship::Secretariat,
        };
        let may = |data| permits(rel, data, Access::Read);
        if !may(HospitalData::EngagementRecord) {
            e.candidate = crate::engagements::CandidateDetails {
                source: e.candidate.source,
                ..Default::default()
            };
        }
        let gates = gates_in(&mut tx, today, &e).await?;
        let transitions: Vec<(String, String, String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT t.from_state, t.to_state, t.effective_on, t.note, a.display_name, t.created_at FROM engagement_transitions t LEFT JOIN accounts a ON a.id = t.account_id WHERE t.engagement_id = $1 ORDER BY t.id",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await?;
        let transitions = transitions
            .into_iter()
            .map(|(from, to, on, note, by, at)| {
                Ok(TransitionRecord {
                    from: EngagementState::parse(&from)
                        .map_err(corrupt("engagement_transitions.from_state"))?,
                    to: EngagementState::parse(&to)
                        .map_err(corrupt("engagement_transitions.to_state"))?,
                    effective_on: parse_iso_day("engagement_transitions.effective_on", &on)?,
                    note: if may(HospitalData::EngagementRecord) {
                        note
                    } else {
                        String::new()
                    },
                    by,
                    at_ms: at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let agreements = agreements_in(&mut tx, today, id)
            .await?
            .into_iter()
            .filter(|a| may(agreement_category(a.kind)))
            .collect();
        let estimates = if may(HospitalData::Estimate) {
            Some(estimates_in(&mut tx, id).await?)
        } else {
            None
        };
        let orders = if may(HospitalData::Contract) {
            Some(orders_in(&mut tx, id).await?)
        } else {
            None
        };
        let payments = if may(HospitalData::EngagementRecord) {
            Some(payments_where(&mut tx, "p.engagement_id = $1", id.0).await?)
        } else {
            None
        };
        let documents = if may(HospitalData::Pledge) || may(HospitalData::Contract) {
            generated_in(&mut tx, id).await?
        } else {
            Vec::new()
        };
        let milestones = crate::programmes::milestones_in(&mut tx, e.programme_id).await?;
        let mut deadlines = engagement_deadlines(&e.dates(), &milestones);
        if may(HospitalData::SurveyResponses) && !e.state.is_closed_early() {
            let requests = crate::hearings::request_deadlines(&mut tx, Some(id)).await?;
            deadlines = crate::hearings::with_request_deadlines(deadlines, requests.get(&id));
        }
        let next_states = match ctx.actor {
            Some(actor) if is_party(ctx, &e, rel) => next_states_for(e.state, actor.org_kind),
            Some(_) => Vec::new(),
            None => mamori_domain::lifecycle::next_states(e.state),
        };
        self.finish_read(
            tx,
            ctx,
            format!("engagement:{id}"),
            Some(e.hospital_id),
            "detail",
        )
        .await?;
        Ok(EngagementDetail {
            engagement: e,
            transitions,
            deadlines,
            gates,
            next_states,
            agreements,
            estimates,
            orders,
            payments,
            documents,
        })
    }

    /// The secretariat issues a pledge to the hospital or an NDA to the company.
    pub async fn issue_agreement(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        kind: AgreementKind,
        issued_on: Option<Date>,
        valid_from: Date,
        valid_until: Date,
    ) -> Result<Agreement> {
        let today = self.today();
        let issued_on = issued_on.unwrap_or(today);
        no_future("issued_on", issued_on, today)?;
        AgreementTerms {
            signed_on: None,
            valid_from,
            valid_until,
        }
        .validate(today)?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, id).await?;
        require_or_refuse!(tx, ctx, today, &e, agreement_category(kind), Access::Write);
        if e.state.is_closed_early() {
            return Err(StoreError::Conflict(format!(
                "engagement {id} is {}; nothing more is issued for it",
                e.state
            )));
        }
        let aid: i64 = sqlx::query_scalar("INSERT INTO agreements (engagement_id, kind, issued_on, valid_from, valid_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id")
            .bind(id.0)
            .bind(kind.slug())
            .bind(iso_day(issued_on))
            .bind(iso_day(valid_from))
            .bind(iso_day(valid_until))
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::AgreementIssued,
            format!("agreement:{aid}"),
            Some(e.hospital_id),
            format!("{kind} engagement={id} {valid_from}..{valid_until}"),
        )
        .await?;
        notify_engagement(
            &mut tx,
            &e,
            NotificationKind::ToSign,
            serde_json::json!({"agreement": kind, "agreement_id": aid}),
            &format!("to-sign:{aid}"),
            kind == AgreementKind::Nda,
        )
        .await?;
        let a = agreement_by_id(&mut tx, today, aid).await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Records the signature (and the signed scan).
    pub async fn sign_agreement(
        &self,
        ctx: &AuditContext,
        agreement_id: i64,
        signed_on: Date,
        scan: Option<NewFile>,
    ) -> Result<Agreement> {
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let a = agreement_by_id(&mut tx, today, agreement_id).await?;
        let e = engagement_in(&mut tx, today, a.engagement_id).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            agreement_category(a.kind),
            Access::Write
        );
        AgreementTerms {
            signed_on: Some(signed_on),
            ..a.terms
        }
        .validate(today)?;
        if a.revoked_on.is_some() {
            return Err(StoreError::Conflict(format!(
                "agreement {agreement_id} was revoked"
            )));
        }
        let scan_id = match scan {
            Some(f) => Some(self.insert_file(&mut tx, ctx, &f).await?),
            None => a.scan_file_id,
        };
        sqlx::query("UPDATE agreements SET signed_on = $1, scan_file_id = $2, updated_at = $3 WHERE id = $4")
            .bind(iso_day(signed_on))
            .bind(scan_id)
            .bind(now_ms())
            .bind(agreement_id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::AgreementSigned,
            format!("agreement:{agreement_id}"),
            Some(e.hospital_id),
            format!("{} signed on {signed_on} scan={scan_id:?}", a.kind),
        )
        .await?;
        let a = agreement_by_id(&mut tx, today, agreement_id).await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Revokes a pledge or NDA; a revoked NDA closes the survey-data gate.
    pub async fn revoke_agreement(
        &self,
        ctx: &AuditContext,
        agreement_id: i64,
        reason: &str,
    ) -> Result<Agreement> {
        let today = self.today();
        let reason = validate::note("reason", reason, 1000)?;
        if reason.is_empty() {
            return Err(DomainError::invalid("reason", "say why the agreement is revoked").into());
        }
        let mut tx = self.begin_write().await?;
        let a = agreement_by_id(&mut tx, today, agreement_id).await?;
        let e = engagement_in(&mut tx, today, a.engagement_id).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            agreement_category(a.kind),
            Access::Write
        );
        sqlx::query("UPDATE agreements SET revoked_on = $1, revoked_reason = $2, updated_at = $3 WHERE id = $4 AND revoked_on IS NULL")
            .bind(iso_day(today))
            .bind(&reason)
            .bind(now_ms())
            .bind(agreement_id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::AgreementRevoked,
            format!("agreement:{agreement_id}"),
            Some(e.hospital_id),
            format!("{} revoked: {reason}", a.kind),
        )
        .await?;
        let a = agreement_by_id(&mut tx, today, agreement_id).await?;
        tx.commit().await?;
        Ok(a)
    }

    /// The company submits its estimate; over the programme's cap it is refused.
    pub async fn submit_estimate(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        figures: &EstimateFigures,
        note: &str,
    ) -> Result<Estimate> {
        let today = self.today();
        let note = validate::note("note", note, 2000)?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, id).await?;
        require_or_refuse!(tx, ctx, today, &e, HospitalData::Estimate, Access::Write);
        if ctx
            .actor
            .is_some_and(|a| a.org_kind == OrgKind::SurveyCompany && a.org != e.company_id)
        {
            return Err(StoreError::Forbidden(
                "this engagement belongs to another company",
            ));
        }
        let cap: i64 = sqlx::query_scalar("SELECT labour_cap_yen FROM programmes WHERE id = $1")
            .bind(e.programme_id.0)
            .fetch_one(&mut *tx)
            .await?;
        figures.validate(cap)?;
        let eid: i64 = sqlx::query_scalar("INSERT INTO estimates (engagement_id, labour_hours, labour_cost_yen, trips, travel_yen, consumables_yen, note, submitted_at, submitted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(id.0)
            .bind(figures.labour_hours)
            .bind(figures.labour_cost_yen)
            .bind(figures.trips)
            .bind(figures.travel_yen)
            .bind(figures.consumables_yen)
            .bind(&note)
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::EstimateSubmitted,
            format!("estimate:{eid}"),
            Some(e.hospital_id),
            format!(
                "engagement={id} hours={} labour={} total={}",
                figures.labour_hours,
                format_yen(figures.labour_cost_yen),
                format_yen(figures.total_yen())
            ),
        )
        .await?;
        let estimate = estimates_in(&mut tx, id)
            .await?
            .into_iter()
            .find(|x| x.id == eid);
        tx.commit().await?;
        estimate.ok_or(StoreError::NotFound {
            what: "estimate",
            key: eid.to_string(),
        })
    }

    /// The secretariat issues the purchase order for an estimate: the contract.
    pub async fn issue_order(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        estimate_id: i64,
        order_number: &str,
        issued_on: Date,
    ) -> Result<Order> {
        let today = self.today();
        no_future("issued_on", issued_on, today)?;
        let number = validate::display_name("order_number", order_number)?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, id).await?;
        require_or_refuse!(tx, ctx, today, &e, HospitalData::Contract, Access::Write);
        let estimate = estimates_in(&mut tx, id)
            .await?
            .into_iter()
            .find(|x| x.id == estimate_id)
            .ok_or_else(|| {
                StoreError::from(DomainError::invalid(
                    "estimate_id",
                    format!("estimate {estimate_id} is not an estimate of engagement {id}"),
                ))
            })?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders WHERE engagement_id = $1 AND revoked_on IS NULL",
        )
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
        if live > 0 {
            return Err(StoreError::Conflict(format!(
                "engagement {id} already has an order"
            )));
        }
        let oid: i64 = sqlx::query_scalar("INSERT INTO orders (engagement_id, estimate_id, order_number, issued_on, amount_yen, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(id.0)
            .bind(estimate_id)
            .bind(&number)
            .bind(iso_day(issued_on))
            .bind(estimate.total_yen)
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_unique("order number", &number))?;
        append(
            &mut tx,
            ctx,
            AuditAction::OrderIssued,
            format!("order:{oid}"),
            Some(e.hospital_id),
            format!(
                "engagement={id} number={number} amount={}",
                format_yen(estimate.total_yen)
            ),
        )
        .await?;
        let order = orders_in(&mut tx, id)
            .await?
            .into_iter()
            .find(|o| o.id == oid);
        tx.commit().await?;
        order.ok_or(StoreError::NotFound {
            what: "order",
            key: oid.to_string(),
        })
    }

    /// Settles an order on actual hours (資料4 §8: 終了時に工数等実績を見て調整).
    pub async fn settle_order(
        &self,
        ctx: &AuditContext,
        order_id: i64,
        actual_hours: f64,
        amount_yen: i64,
        on: Date,
    ) -> Result<Order> {
        let today = self.today();
        no_future("settled_on", on, today)?;
        if !actual_hours.is_finite() || !(0.0..=10_000.0).contains(&actual_hours) {
            return Err(DomainError::invalid(
                "settled_hours",
                "must be between 0 and 10,000 hours",
            )
            .into());
        }
        let mut tx = self.begin_write().await?;
        let engagement: Option<i64> =
            sqlx::query_scalar("SELECT engagement_id FROM orders WHERE id = $1")
                .bind(order_id)
                .fetch_optional(&mut *tx)
                .await?;
        let id = EngagementId(engagement.ok_or(StoreError::NotFound {
            what: "order",
            key: order_id.to_string(),
        })?);
        let e = engagement_in(&mut tx, today, id).await?;
        require_or_refuse!(tx, ctx, today, &e, HospitalData::Contract, Access::Write);
        let (cap, _): (i64, i64) =
            sqlx::query_as("SELECT labour_cap_yen, id FROM programmes WHERE id = $1")
                .bind(e.programme_id.0)
                .fetch_one(&mut *tx)
                .await?;
        if !(0..=cap * 2).contains(&amount_yen) {
            return Err(DomainError::invalid(
                "settled_amount_yen",
                format!(
                    "{} is out of range for a cap of {}",
                    format_yen(amount_yen),
                    format_yen(cap)
                ),
            )
            .into());
        }
        sqlx::query("UPDATE orders SET settled_on = $1, settled_hours = $2, settled_amount_yen = $3 WHERE id = $4")
            .bind(iso_day(on))
            .bind(actual_hours)
            .bind(amount_yen)
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::OrderSettled,
            format!("order:{order_id}"),
            Some(e.hospital_id),
            format!("hours={actual_hours} amount={}", format_yen(amount_yen)),
        )
        .await?;
        let order = orders_in(&mut tx, id)
            .await?
            .into_iter()
            .find(|o| o.id == order_id);
        tx.commit().await?;
        order.ok_or(StoreError::NotFound {
            what: "order",
            key: order_id.to_string(),
        })
    }

    /// The secretariat records a honorarium (hours × the programme's rate)
    /// or a reimbursement for the hospital.
    pub async fn record_payment(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        p: &NewPayment,
    ) -> Result<Payment> {
        ctx.require(
            "record payments",
            mamori_domain::policy::may_register_organisations,
        )?;
        let today = self.today();
        let person = validate::display_name("person", &p.person)?;
        let department = validate::note("department", &p.department, 100)?;
        let title = validate::note("title", &p.title, 100)?;
        let note = validate::note("note", &p.note, 1000)?;
        no_future("paid_for_on", p.paid_for_on, today)?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, id).await?;
        let rate: i64 =
            sqlx::query_scalar("SELECT honorarium_rate_yen FROM programmes WHERE id = $1")
                .bind(e.programme_id.0)
                .fetch_one(&mut *tx)
                .await?;
        let (hours, rate, amount) = match p.kind {
            PaymentKind::Honorarium => {
                let hours = p.hours.ok_or_else(|| {
                    DomainError::invalid("hours", "a honorarium needs the hours spent")
                })?;
                (Some(hours), Some(rate), honorarium_yen(hours, rate)?)
            }
            PaymentKind::Reimbursement => {
                let amount = p.amount_yen.ok_or_else(|| {
                    DomainError::invalid("amount_yen", "a reimbursement needs the amount paid")
                })?;
                if !(1..=10_000_000).contains(&amount) {
                    return Err(DomainError::invalid(
                        "amount_yen",
                        format!("{} is out of range", format_yen(amount)),
                    )
                    .into());
                }
                (None, None, amount)
            }
        };
        let pid: i64 = sqlx::query_scalar("INSERT INTO payments (engagement_id, kind, person, department, title, hours, rate_yen, amount_yen, paid_for_on, note, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id")
            .bind(id.0)
            .bind(p.kind.slug())
            .bind(&person)
            .bind(&department)
            .bind(&title)
            .bind(hours)
            .bind(rate)
            .bind(amount)
            .bind(iso_day(p.paid_for_on))
            .bind(&note)
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::PaymentRecorded,
            format!("payment:{pid}"),
            Some(e.hospital_id),
            format!("{} {person} {}", p.kind, format_yen(amount)),
        )
        .await?;
        let payment = payments_where(&mut tx, "p.id = $1", pid).await?.pop();
        tx.commit().await?;
        payment.ok_or(StoreError::NotFound {
            what: "payment",
            key: pid.to_string(),
        })
    }

    /// Every payment of a programme, for the secretariat's payment list.
    pub async fn payment_list(
        &self,
        ctx: &AuditContext,
        programme: ProgrammeId,
    ) -> Result<Vec<Payment>> {
        ctx.require(
            "read the payment list",
            mamori_domain::policy::may_register_organisations,
        )?;
        let mut tx = self.begin_write().await?;
        let rows = payments_where(&mut tx, "e.programme_id = $1", programme.0).await?;
        let mut seen = std::collections::BTreeSet::new();
        let hospitals: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT e.hospital_id FROM payments p JOIN engagements e ON e.id = p.engagement_id WHERE e.programme_id = $1")
            .bind(programme.0)
            .fetch_all(&mut *tx)
            .await?;
        let reads = hospitals
            .into_iter()
            .filter(|h| seen.insert(*h))
            .map(|h| {
                AuditEntry::hospital_read(
                    format!("payments:programme:{programme}"),
                    mamori_domain::OrgId(h),
                    "payment list",
                )
            })
            .collect();
        append_all(&mut tx, ctx, reads).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// A file of the engagement (signed scan, issued agreement, generated
    /// letter), if the actor may read what it belongs to; audited.
    pub async fn engagement_file(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        file_id: i64,
    ) -> Result<(StoredFile, Vec<u8>)> {
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, id).await?;
        let kinds: Vec<String> = sqlx::query_scalar(
            "SELECT kind FROM agreements WHERE engagement_id = $1 AND (scan_file_id = $2 OR document_file_id = $2)
             UNION ALL SELECT kind FROM generated_documents WHERE engagement_id = $1 AND file_id = $2",
        )
        .bind(id.0)
        .bind(file_id)
        .fetch_all(&mut *tx)
        .await?;
        let data = match kinds.first().map(String::as_str) {
            Some("pledge") => HospitalData::Pledge,
            Some("nda") => HospitalData::Contract,
            // The request letter is correspondence with the hospital.
            Some(_) => HospitalData::EngagementRecord,
            None => {
                return Err(StoreError::NotFound {
                    what: "file",
                    key: file_id.to_string(),
                });
            }
        };
        require_or_refuse!(tx, ctx, today, &e, data, Access::Read);
        append(
            &mut tx,
            ctx,
            AuditAction::FileRead,
            format!("file:{file_id}"),
            Some(e.hospital_id),
            format!("engagement={id}"),
        )
        .await?;
        tx.commit().await?;
        self.file_content(file_id).await
    }

    /// The account names behind ids, for showing who did what.
    pub async fn account_name(&self, id: AccountId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT display_name FROM accounts WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

async fn estimates_in(tx: &mut Tx, id: EngagementId) -> Result<Vec<Estimate>> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, f64, i64, i64, i64, i64, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT x.id, x.labour_hours, x.labour_cost_yen, x.trips, x.travel_yen, x.consumables_yen, x.note, x.submitted_at, a.display_name FROM estimates x LEFT JOIN accounts a ON a.id = x.submitted_by WHERE x.engagement_id = $1 ORDER BY x.id",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let figures = EstimateFigures {
                labour_hours: r.1,
                labour_cost_yen: r.2,
                trips: r.3,
                travel_yen: r.4,
                consumables_yen: r.5,
            };
            Estimate {
                id: r.0,
                engagement_id: id,
                total_yen: figures.total_yen(),
                figures,
                note: r.6,
                submitted_at_ms: r.7,
                submitted_by: r.8,
            }
        })
        .collect())
}

async fn orders_in(tx: &mut Tx, id: EngagementId) -> Result<Vec<Order>> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, i64, String, String, i64, Option<String>, Option<String>, Option<f64>, Option<i64>)> = sqlx::query_as(
        "SELECT id, estimate_id, order_number, issued_on, amount_yen, revoked_on, settled_on, settled_hours, settled_amount_yen FROM orders WHERE engagement_id = $1 ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Order {
                id: r.0,
                engagement_id: id,
                estimate_id: r.1,
                order_number: r.2,
                issued_on: parse_iso_day("orders.issued_on", &r.3)?,
                amount_yen: r.4,
                revoked_on: parse_optional_day("orders.revoked_on", r.5)?,
                settled_on: parse_optional_day("orders.settled_on", r.6)?,
                settled_hours: r.7,
                settled_amount_yen: r.8,
            })
        })
        .collect()
}

async fn payments_where(tx: &mut Tx, condition: &'static str, value: i64) -> Result<Vec<Payment>> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, i64, String, String, String, String, String, Option<f64>, Option<i64>, i64, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT p.id, p.engagement_id, h.name, p.kind, p.person, p.department, p.title, p.hours, p.rate_yen, p.amount_yen, p.paid_for_on, p.note FROM payments p JOIN engagements e ON e.id = p.engagement_id JOIN organisations h ON h.id = e.hospital_id WHERE {condition} ORDER BY h.name, p.paid_for_on, p.id"
    )))
    .bind(value)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Payment {
                id: r.0,
                engagement_id: EngagementId(r.1),
                hospital_name: r.2,
                kind: PaymentKind::parse(&r.3).map_err(corrupt("payments.kind"))?,
                person: r.4,
                department: r.5,
                title: r.6,
                hours: r.7,
                rate_yen: r.8,
                amount_yen: r.9,
                paid_for_on: parse_iso_day("payments.paid_for_on", &r.10)?,
                note: r.11,
            })
        })
        .collect()
}

async fn generated_in(tx: &mut Tx, id: EngagementId) -> Result<Vec<GeneratedDocument>> {
    let rows: Vec<(i64, String, i64, i64, String, i64)> = sqlx::query_as(
        "SELECT g.id, g.kind, g.template_version, g.file_id, f.name, g.created_at FROM generated_documents g JOIN files f ON f.id = g.file_id WHERE g.engagement_id = $1 ORDER BY g.id",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| GeneratedDocument {
            id: r.0,
            kind: r.1,
            template_version: r.2,
            file_id: r.3,
            file_name: r.4,
            created_at_ms: r.5,
        })
        .collect())
}
