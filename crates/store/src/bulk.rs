//! Bulk inserts for synthetic data at national scale (`mamori demo
//! --scale`): thousands of hospitals with their engagements, ledgers,
//! checklist answers and labour hours, written many rows per statement and
//! per transaction into the same tables the ordinary operations write.
//!
//! Nothing here bypasses a rule of the data model: every record is checked
//! by the same domain functions as the one-by-one operations (names,
//! transitions and their gates, ledger rows and references, answers,
//! labour entries). What is different is the bookkeeping: ONE audit record
//! per call (a batch), not one per row, and no notifications. For that
//! reason only the operator at the command line (no actor) may call these.

use crate::audit::{AuditContext, append};
use crate::db::{Backend, JST, Tx, Val, id_list, insert_rows, iso_day};
use crate::engagements::CandidateDetails;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::agreement::{AgreementKind, EstimateFigures};
use mamori_domain::audit::AuditAction;
use mamori_domain::checklist::{Answer, CellKey, RespondentRole, submission_gaps};
use mamori_domain::engagement::EngagementState;
use mamori_domain::labour::{LabourEntry, WeekState, WeekStep, week_of};
use mamori_domain::ledger::{
    Asset, Backup, ExternalConnection, InvestigationEntry, Ledger, LedgerKey, LedgerRecord, Link,
    RecordKind, Segment, StructureRole,
};
use mamori_domain::lifecycle::{GateFacts, TRANSITIONS, check_transition};
use mamori_domain::organisation::OrgKind;
use mamori_domain::{AccountId, DomainError, EngagementId, OrgId, ProgrammeId, validate};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use time::{Date, Duration};

fn t(s: impl Into<String>) -> Val {
    Val::Text(s.into())
}

fn day(d: Date) -> Val {
    Val::Text(iso_day(d))
}

fn opt_day(d: Option<Date>) -> Val {
    Val::OptText(d.map(iso_day))
}

/// Noon (Japan) of `day` in epoch ms: the instant synthetic rows are dated.
pub fn noon_ms(day: Date) -> i64 {
    day.with_hms(12, 0, 0)
        .map(|t| (t.assume_offset(JST).unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

/// Inserts `rows` into `table` and counts them for the summary.
async fn insert_counted(
    tx: &mut Tx,
    counts: &mut BulkCounts,
    table: &'static str,
    columns: &[&str],
    rows: Vec<Vec<Val>>,
) -> Result<()> {
    counts.add(table, rows.len());
    insert_rows(tx, table, columns, rows).await
}

/// `n` fresh ids of `table`, taken the way the table's own inserts would
/// take them (the sequence on PostgreSQL; after the largest id ever given
/// on SQLite, whose write lock the transaction holds).
async fn reserve_ids(tx: &mut Tx, backend: Backend, table: &str, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    match backend {
        Backend::Postgres => Ok(sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
        )
        .bind(table)
        .bind(n as i64)
        .fetch_all(&mut **tx)
        .await?),
        Backend::Sqlite => {
            let max: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(COALESCE(MAX(id), 0) AS INTEGER) FROM {table}"
            )))
            .fetch_one(&mut **tx)
            .await?;
            let seq: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = $1")
                    .bind(table)
                    .fetch_optional(&mut **tx)
                    .await?;
            let first = max.max(seq.unwrap_or(0)) + 1;
            Ok((first..first + n as i64).collect())
        }
    }
}

/// Only the operator at the command line writes in bulk: one audit record
/// stands for many rows.
fn operator_only(ctx: &AuditContext) -> Result<()> {
    ctx.require("bulk synthetic data (operator only)", |_| false)
}

/// One engagement with its history, as `walk_to` would leave it: each step
/// dated, the papers each gate waits for issued and signed on the way.
#[derive(Debug, Clone)]
pub struct BulkEngagement {
    pub programme: ProgrammeId,
    pub hospital: OrgId,
    pub company: OrgId,
    pub details: CandidateDetails,
    /// The day the candidate was added.
    pub added_on: Date,
    /// The steps from candidate on, in order, each with its day.
    pub steps: Vec<(EngagementState, Date)>,
    /// The company's estimate, submitted and ordered on the way to contracted.
    pub estimate: EstimateFigures,
}

/// One hospital's checklist respondent with the answers of one form.
#[derive(Debug, Clone)]
pub struct BulkRespondent {
    pub engagement: EngagementId,
    pub framework_id: i64,
    pub form_key: String,
    pub role: RespondentRole,
    pub name: String,
    pub added_on: Date,
    /// When the self-assessment was submitted (every cell answered).
    pub submitted_on: Option<Date>,
    pub answers: BTreeMap<CellKey, Answer>,
}

/// An engagement's booked hours and the weeks reported on them.
#[derive(Debug, Clone)]
pub struct BulkLabour {
    pub engagement: EngagementId,
    /// Who booked and reported (an account of the company), if any.
    pub booked_by: Option<AccountId>,
    /// The supervisor's account that acknowledged, if any.
    pub reviewed_by: Option<AccountId>,
    pub entries: Vec<LabourEntry>,
    /// Weeks (Mondays) reported, with the state they were left in
    /// (submitted, or acknowledged by the supervisor).
    pub weeks: Vec<(Date, WeekState)>,
}

/// What one bulk call wrote, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BulkCounts {
    pub rows: BTreeMap<&'static str, u64>,
}

impl BulkCounts {
    fn add(&mut self, table: &'static str, n: usize) {
        *self.rows.entry(table).or_default() += n as u64;
    }

    pub fn merge(&mut self, other: &BulkCounts) {
        for (table, n) in &other.rows {
            *self.rows.entry(table).or_default() += n;
        }
    }

    pub fn get(&self, table: &str) -> u64 {
        self.rows.get(table).copied().unwrap_or(0)
    }

    fn summary(&self) -> String {
        self.rows
            .iter()
            .map(|(t, n)| format!("{t}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> StoreError {
    DomainError::invalid(field, reason).into()
}

fn body_of<R: Serialize>(record: &R) -> Result<String> {
    serde_json::to_string(record).map_err(|e| StoreError::Corrupt {
        column: "ledger_records.body",
        value: e.to_string(),
    })
}

/// The candidate details as `add_candidate` would store them.
fn checked_details(d: &CandidateDetails) -> Result<CandidateDetails> {
    let contact_email = if d.contact_email.trim().is_empty() {
        String::new()
    } else {
        validate::email(&d.contact_email)?
    };
    Ok(CandidateDetails {
        source: Some(
            d.source
                .unwrap_or(mamori_domain::organisation::RecruitmentRoute::ResearchNetwork),
        ),
        source_detail: validate::note("source_detail", &d.source_detail, 200)?,
        director_name: validate::note("director_name", &d.director_name, 100)?,
        contact_department: validate::note("contact_department", &d.contact_department, 100)?,
        contact_title: validate::note("contact_title", &d.contact_title, 100)?,
        contact_name: validate::note("contact_name", &d.contact_name, 100)?,
        contact_email,
        proposed_company: validate::note("proposed_company", &d.proposed_company, 200)?,
    })
}

/// The papers the engagement's walk leaves, by day.
struct Walk {
    state: EngagementState,
    transitions: Vec<(EngagementState, EngagementState, Date)>,
    pledge: Option<Date>,
    nda: Option<Date>,
    company_confirmed_on: Option<Date>,
    intent_confirmed_on: Option<Date>,
    contacted_on: Option<Date>,
    last_on: Date,
}

/// Checks the steps against the procedure (as the operator takes them:
/// the first owner of each step, every gate met on the day).
fn walk(e: &BulkEngagement, today: Date) -> Result<Walk> {
    let mut w = Walk {
        state: EngagementState::Candidate,
        transitions: Vec::new(),
        pledge: None,
        nda: None,
        company_confirmed_on: None,
        intent_confirmed_on: None,
        contacted_on: None,
        last_on: e.added_on,
    };
    if e.added_on > today {
        return Err(invalid(
            "added_on",
            format!("{} is in the future", e.added_on),
        ));
    }
    for (to, on) in &e.steps {
        let (to, on) = (*to, *on);
        if on > today || on < w.last_on {
            return Err(invalid(
                "effective_on",
                format!(
                    "{} -> {to} on {on}: steps go forward in time, up to today",
                    w.state
                ),
            ));
        }
        // The papers each gate waits for, issued a week before the step,
        // signed on its day, valid a year (as `walk_to` does).
        match to {
            EngagementState::PledgeIssued => w.pledge = Some(on),
            EngagementState::Contracted => {
                w.company_confirmed_on.get_or_insert(on);
                w.nda = Some(on);
            }
            _ => {}
        }
        let in_force = |signed: Option<Date>| {
            signed.is_some_and(|s| s - Duration::days(7) <= on && on <= s + Duration::days(365))
        };
        let facts = GateFacts {
            company_confirmed: w.company_confirmed_on.is_some(),
            pledge_issued: w.pledge.is_some(),
            nda_in_force: in_force(w.nda),
            order_issued: w.nda.is_some(),
        };
        let owner = TRANSITIONS
            .iter()
            .find(|s| s.from == w.state && s.to == to)
            .and_then(|s| s.owners.first().copied())
            .unwrap_or(OrgKind::Secretariat);
        check_transition(owner, w.state, to, &facts)?;
        if to == EngagementState::IntentConfirmed {
            w.intent_confirmed_on = Some(on);
        }
        if to == EngagementState::Scheduling && w.contacted_on.is_none() {
            w.contacted_on = Some(on);
        }
        w.transitions.push((w.state, to, on));
        w.state = to;
        w.last_on = on;
    }
    Ok(w)
}

impl Store {
    /// Registers organisations in one transaction, with one audit record.
    /// Names are checked as `create_organisation` checks them; a name
    /// taken already is refused and nothing is written.
    pub async fn bulk_create_organisations(
        &self,
        ctx: &AuditContext,
        orgs: &[crate::NewOrganisation],
        label: &str,
    ) -> Result<Vec<OrgId>> {
        operator_only(ctx)?;
        let now = now_ms();
        let mut rows = Vec::with_capacity(orgs.len());
        let mut names = BTreeSet::new();
        for o in orgs {
            let name = validate::display_name("name", &o.name)?;
            if o.hospital.is_some() && o.kind != OrgKind::Hospital {
                return Err(invalid(
                    "kind",
                    "only hospitals have prefecture, beds, founder and recruitment route",
                ));
            }
            if !names.insert(name.clone()) {
                return Err(StoreError::Duplicate {
                    what: "organisation",
                    value: name,
                });
            }
            let h = o.hospital.as_ref();
            rows.push(vec![
                t(o.kind.slug()),
                Val::Text(name),
                Val::OptInt(h.map(|h| i64::from(h.prefecture.code()))),
                Val::OptInt(h.map(|h| i64::from(h.bed_count))),
                Val::OptText(h.map(|h| h.founder_type.slug().to_string())),
                Val::OptText(h.map(|h| h.recruitment_route.slug().to_string())),
                Val::Int(now),
                Val::Int(now),
            ]);
        }
        let mut tx = self.begin_write().await?;
        let ids = reserve_ids(&mut tx, self.backend(), "organisations", rows.len()).await?;
        for (row, id) in rows.iter_mut().zip(&ids) {
            row.insert(0, Val::Int(*id));
        }
        insert_rows(
            &mut tx,
            "organisations",
            &[
                "id",
                "kind",
                "name",
                "prefecture",
                "bed_count",
                "founder_type",
                "recruitment_route",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        .await
        .map_err(|e| match e {
            StoreError::Database(db) if is_unique(&db) => StoreError::Duplicate {
                what: "organisation",
                value: "one of the names".into(),
            },
            other => other,
        })?;
        append(
            &mut tx,
            ctx,
            AuditAction::OrganisationCreated,
            format!("bulk:{label}"),
            None,
            format!("bulk count={}", ids.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(ids.into_iter().map(OrgId).collect())
    }

    /// Adds engagements with their whole history in one transaction, with
    /// one audit record: the transitions (each checked against the
    /// procedure and its gates on its day), the pledge, the NDA, the
    /// estimate and the order, and the dates deadlines are computed from.
    pub async fn bulk_create_engagements(
        &self,
        ctx: &AuditContext,
        list: &[BulkEngagement],
        label: &str,
    ) -> Result<(Vec<EngagementId>, BulkCounts)> {
        operator_only(ctx)?;
        let today = self.today();
        let mut walks = Vec::with_capacity(list.len());
        let mut details = Vec::with_capacity(list.len());
        for e in list {
            walks.push(walk(e, today)?);
            details.push(checked_details(&e.details)?);
        }
        let mut caps: HashMap<ProgrammeId, i64> = HashMap::new();
        let mut tx = self.begin_write().await?;
        for e in list {
            if let std::collections::hash_map::Entry::Vacant(slot) = caps.entry(e.programme) {
                let cap: Option<i64> =
                    sqlx::query_scalar("SELECT labour_cap_yen FROM programmes WHERE id = $1")
                        .bind(e.programme.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                slot.insert(cap.ok_or_else(|| StoreError::NotFound {
                    what: "programme",
                    key: e.programme.to_string(),
                })?);
            }
            e.estimate.validate(caps[&e.programme])?;
        }
        let backend = self.backend();
        let ids = reserve_ids(&mut tx, backend, "engagements", list.len()).await?;
        let mut engagements = Vec::with_capacity(list.len());
        let mut transitions = Vec::new();
        let mut agreements = Vec::new();
        let mut estimates = Vec::new();
        let mut orders = Vec::new();
        for ((e, w), (d, id)) in list.iter().zip(&walks).zip(details.iter().zip(&ids)) {
            engagements.push(vec![
                Val::Int(*id),
                Val::Int(e.programme.0),
                Val::Int(e.hospital.0),
                Val::Int(e.company.0),
                t(w.state.slug()),
                Val::Int(noon_ms(e.added_on)),
                Val::Int(noon_ms(w.last_on)),
                t(d.source.map_or("research-network", |s| s.slug())),
                t(d.source_detail.clone()),
                t(d.director_name.clone()),
                t(d.contact_department.clone()),
                t(d.contact_title.clone()),
                t(d.contact_name.clone()),
                t(d.contact_email.clone()),
                t(d.proposed_company.clone()),
                opt_day(w.company_confirmed_on),
                opt_day(w.intent_confirmed_on),
                opt_day(w.contacted_on),
            ]);
            for (from, to, on) in &w.transitions {
                transitions.push(vec![
                    Val::Int(*id),
                    t(from.slug()),
                    t(to.slug()),
                    day(*on),
                    t(""),
                    Val::OptInt(None),
                    Val::Int(noon_ms(*on)),
                ]);
            }
            for (kind, signed) in [
                (AgreementKind::Pledge, w.pledge),
                (AgreementKind::Nda, w.nda),
            ] {
                let Some(signed) = signed else { continue };
                let issued = signed - Duration::days(7);
                agreements.push(vec![
                    Val::Int(*id),
                    t(kind.slug()),
                    day(issued),
                    day(signed),
                    day(issued),
                    day(signed + Duration::days(365)),
                    Val::Int(noon_ms(issued)),
                    Val::Int(noon_ms(signed)),
                ]);
            }
            if let Some(signed) = w.nda {
                let f = &e.estimate;
                estimates.push((
                    *id,
                    signed,
                    vec![
                        Val::Int(*id),
                        Val::Real(f.labour_hours),
                        Val::Int(f.labour_cost_yen),
                        Val::Int(f.trips),
                        Val::Int(f.travel_yen),
                        Val::Int(f.consumables_yen),
                        t(""),
                        Val::Int(noon_ms(signed)),
                        Val::OptInt(None),
                    ],
                ));
                orders.push((format!("PO-{}-{}", e.programme, id), signed, f.total_yen()));
            }
        }
        let mut counts = BulkCounts::default();
        insert_counted(
            &mut tx,
            &mut counts,
            "engagements",
            &[
                "id",
                "programme_id",
                "hospital_id",
                "company_id",
                "state",
                "created_at",
                "updated_at",
                "source",
                "source_detail",
                "director_name",
                "contact_department",
                "contact_title",
                "contact_name",
                "contact_email",
                "proposed_company",
                "company_confirmed_on",
                "intent_confirmed_on",
                "contacted_on",
            ],
            engagements,
        )
        .await?;
        insert_counted(
            &mut tx,
            &mut counts,
            "engagement_transitions",
            &[
                "engagement_id",
                "from_state",
                "to_state",
                "effective_on",
                "note",
                "account_id",
                "created_at",
            ],
            transitions,
        )
        .await?;
        insert_counted(
            &mut tx,
            &mut counts,
            "agreements",
            &[
                "engagement_id",
                "kind",
                "issued_on",
                "signed_on",
                "valid_from",
                "valid_until",
                "created_at",
                "updated_at",
            ],
            agreements,
        )
        .await?;
        let estimate_ids = reserve_ids(&mut tx, backend, "estimates", estimates.len()).await?;
        let mut order_rows = Vec::with_capacity(orders.len());
        let mut estimate_rows = Vec::with_capacity(estimates.len());
        for ((mut row, (number, on, amount)), eid) in estimates
            .into_iter()
            .map(|(_, _, row)| row)
            .zip(orders)
            .zip(&estimate_ids)
        {
            let engagement = match &row[0] {
                Val::Int(v) => *v,
                _ => 0,
            };
            row.insert(0, Val::Int(*eid));
            estimate_rows.push(row);
            order_rows.push(vec![
                Val::Int(engagement),
                Val::Int(*eid),
                Val::Text(number),
                day(on),
                Val::Int(amount),
                Val::Int(noon_ms(on)),
                Val::OptInt(None),
            ]);
        }
        insert_counted(
            &mut tx,
            &mut counts,
            "estimates",
            &[
                "id",
                "engagement_id",
                "labour_hours",
                "labour_cost_yen",
                "trips",
                "travel_yen",
                "consumables_yen",
                "note",
                "submitted_at",
                "submitted_by",
            ],
            estimate_rows,
        )
        .await?;
        insert_counted(
            &mut tx,
            &mut counts,
            "orders",
            &[
                "engagement_id",
                "estimate_id",
                "order_number",
                "issued_on",
                "amount_yen",
                "created_at",
                "created_by",
            ],
            order_rows,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::EngagementCreated,
            format!("bulk:{label}"),
            None,
            format!("bulk {}", counts.summary()),
        )
        .await?;
        tx.commit().await?;
        Ok((ids.into_iter().map(EngagementId).collect(), counts))
    }

    /// Writes whole ledgers of hospitals that have none yet, in one
    /// transaction with one audit record: every record checked by the row
    /// rules, every reference resolved (the catalogue's models included),
    /// version 1 with its `created` history row and the CPE index, as an
    /// import onto an empty ledger leaves them.
    pub async fn bulk_import_ledgers(
        &self,
        ctx: &AuditContext,
        ledgers: Vec<(OrgId, Ledger)>,
        label: &str,
    ) -> Result<BulkCounts> {
        operator_only(ctx)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let catalogue: BTreeSet<LedgerKey> = sqlx::query_scalar::<_, String>(
            "SELECT model_key FROM device_models WHERE deleted_at IS NULL",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .filter_map(|k| LedgerKey::parse(k).ok())
        .collect();
        let hospitals: Vec<i64> = ledgers.iter().map(|(h, _)| h.0).collect();
        if !hospitals.is_empty() {
            let taken: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM ledger_records WHERE hospital_id IN ({})",
                id_list(&hospitals)
            )))
            .fetch_one(&mut *tx)
            .await?;
            if taken > 0 {
                return Err(StoreError::Conflict(
                    "bulk ledgers go to hospitals without a ledger; some already have records"
                        .into(),
                ));
            }
        }
        let mut pending: Vec<Pending> = Vec::new();
        for (hospital, ledger) in ledgers {
            let mut checked = Ledger {
                catalogue_keys: catalogue.clone(),
                ..Ledger::default()
            };
            let mut problems = Vec::new();
            check_table::<Asset>(&ledger, &mut checked, &mut problems);
            check_table::<Segment>(&ledger, &mut checked, &mut problems);
            check_table::<Link>(&ledger, &mut checked, &mut problems);
            check_table::<ExternalConnection>(&ledger, &mut checked, &mut problems);
            check_table::<InvestigationEntry>(&ledger, &mut checked, &mut problems);
            check_table::<Backup>(&ledger, &mut checked, &mut problems);
            check_table::<StructureRole>(&ledger, &mut checked, &mut problems);
            problems.extend(
                checked
                    .reference_problems()
                    .into_iter()
                    .map(|p| format!("{} {}: {}: {}", p.kind, p.key, p.field, p.reason)),
            );
            if let Some(first) = problems.first() {
                return Err(invalid(
                    "ledger",
                    format!("hospital {hospital}: {first} ({} problems)", problems.len()),
                ));
            }
            for a in &checked.assets {
                let mut seen = BTreeSet::new();
                let cpes = a
                    .cpe_names()
                    .into_iter()
                    .filter_map(|name| {
                        let cpe = name.to_string();
                        seen.insert(cpe.clone()).then(|| {
                            let (vendor, product) = name.vendor_product_key();
                            (cpe, vendor, product)
                        })
                    })
                    .collect();
                pending.push((
                    hospital.0,
                    RecordKind::Asset,
                    a.key.as_str().to_string(),
                    body_of(a)?,
                    a.model_ref.as_ref().map(|m| m.as_str().to_string()),
                    cpes,
                ));
            }
            push_bodies(&mut pending, hospital, &checked.segments)?;
            push_bodies(&mut pending, hospital, &checked.links)?;
            push_bodies(&mut pending, hospital, &checked.connections)?;
            push_bodies(&mut pending, hospital, &checked.investigations)?;
            push_bodies(&mut pending, hospital, &checked.backups)?;
            push_bodies(&mut pending, hospital, &checked.roles)?;
        }
        let ids = reserve_ids(&mut tx, self.backend(), "ledger_records", pending.len()).await?;
        let actor = ctx.actor.map(|a| a.account.0);
        let mut records = Vec::with_capacity(pending.len());
        let mut history = Vec::with_capacity(pending.len());
        let mut cpes = Vec::new();
        for ((hospital, kind, key, body, model, names), id) in pending.into_iter().zip(&ids) {
            for (cpe, vendor, product) in names {
                cpes.push(vec![
                    Val::Int(*id),
                    Val::Int(hospital),
                    Val::Text(cpe),
                    Val::Text(vendor),
                    Val::Text(product),
                ]);
            }
            history.push(vec![
                Val::Int(*id),
                Val::Int(hospital),
                t(kind.slug()),
                t(key.clone()),
                Val::Int(1),
                t("created"),
                Val::OptText(None),
                Val::OptText(Some(body.clone())),
                t("import"),
                Val::OptInt(actor),
                Val::Int(now),
            ]);
            records.push(vec![
                Val::Int(*id),
                Val::Int(hospital),
                t(kind.slug()),
                Val::Text(key),
                Val::Text(body),
                Val::OptText(model),
                Val::Int(1),
                Val::Int(now),
                Val::OptInt(actor),
                Val::Int(now),
                Val::OptInt(actor),
            ]);
        }
        let mut counts = BulkCounts::default();
        insert_counted(
            &mut tx,
            &mut counts,
            "ledger_records",
            &[
                "id",
                "hospital_id",
                "kind",
                "record_key",
                "body",
                "model_ref",
                "version",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
            ],
            records,
        )
        .await?;
        insert_counted(
            &mut tx,
            &mut counts,
            "ledger_history",
            &[
                "record_id",
                "hospital_id",
                "kind",
                "record_key",
                "version",
                "action",
                "before_body",
                "after_body",
                "source",
                "actor_id",
                "changed_at",
            ],
            history,
        )
        .await?;
        insert_counted(
            &mut tx,
            &mut counts,
            "ledger_cpes",
            &["record_id", "hospital_id", "cpe", "vendor", "product"],
            cpes,
        )
        .await?;
        let heads: Vec<Vec<Val>> = hospitals
            .iter()
            .map(|h| vec![Val::Int(*h), Val::Int(1), Val::Int(now)])
            .collect();
        insert_counted(
            &mut tx,
            &mut counts,
            "ledger_heads",
            &["hospital_id", "revision", "updated_at"],
            heads,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::LedgerImported,
            format!("bulk:{label}"),
            None,
            format!("bulk hospitals={} {}", hospitals.len(), counts.summary()),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Adds checklist respondents with their answers in one transaction,
    /// with one audit record. Each respondent answers a form of the
    /// framework its engagement's programme answers; each answer is checked
    /// as `import_answers` checks it, and a submitted self-assessment must
    /// have no gap (as `submit_self_assessment` requires).
    pub async fn bulk_add_respondents(
        &self,
        ctx: &AuditContext,
        list: &[BulkRespondent],
        label: &str,
    ) -> Result<BulkCounts> {
        operator_only(ctx)?;
        let today = self.today();
        let frameworks: HashMap<i64, mamori_domain::checklist::Framework> = self
            .frameworks(ctx)
            .await?
            .into_iter()
            .map(|f| (f.id, f.framework))
            .collect();
        let mut tx = self.begin_write().await?;
        let engagements: Vec<i64> = list.iter().map(|r| r.engagement.0).collect();
        let mut programme_framework: HashMap<i64, Option<i64>> = HashMap::new();
        for chunk in engagements.chunks(5_000) {
            let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT e.id, p.checklist_framework_id FROM engagements e JOIN programmes p ON p.id = e.programme_id WHERE e.id IN ({})",
                id_list(chunk)
            )))
            .fetch_all(&mut *tx)
            .await?;
            programme_framework.extend(rows);
        }
        let mut respondents = Vec::with_capacity(list.len());
        for r in list {
            let name = validate::display_name("name", &r.name)?;
            let Some(set) = programme_framework.get(&r.engagement.0) else {
                return Err(StoreError::NotFound {
                    what: "engagement",
                    key: r.engagement.to_string(),
                });
            };
            if *set != Some(r.framework_id) {
                return Err(invalid(
                    "framework",
                    format!(
                        "engagement {}: its programme answers framework {set:?}, not {}",
                        r.engagement, r.framework_id
                    ),
                ));
            }
            let framework =
                frameworks
                    .get(&r.framework_id)
                    .ok_or_else(|| StoreError::NotFound {
                        what: "checklist framework",
                        key: r.framework_id.to_string(),
                    })?;
            let form = framework
                .form(&r.form_key)
                .ok_or_else(|| invalid("form_key", format!("`{}` is not a form", r.form_key)))?;
            let style = framework.answer_style;
            for (key, answer) in &r.answers {
                let item = form
                    .item(&key.item)
                    .ok_or_else(|| invalid("item", format!("{} is not an item", key.item)))?;
                answer
                    .check(style, item, key.scope, today, false)
                    .map_err(|refused| invalid("answer", refused.to_string()))?;
            }
            if r.submitted_on.is_some() {
                let gaps = submission_gaps(style, form, &r.answers, today);
                if let Some((key, why)) = gaps.first() {
                    return Err(invalid(
                        "answers",
                        format!("engagement {}: {} {why}", r.engagement, key.item),
                    ));
                }
            }
            respondents.push(name);
        }
        let ids = reserve_ids(&mut tx, self.backend(), "checklist_respondents", list.len()).await?;
        let actor = ctx.actor.map(|a| a.account.0);
        let mut rows = Vec::with_capacity(list.len());
        let mut answers = Vec::new();
        for ((r, name), id) in list.iter().zip(respondents).zip(&ids) {
            rows.push(vec![
                Val::Int(*id),
                Val::Int(r.engagement.0),
                Val::Int(r.framework_id),
                t(r.form_key.clone()),
                t(r.role.slug()),
                Val::Text(name),
                Val::OptInt(r.submitted_on.map(noon_ms)),
                Val::Int(noon_ms(r.added_on)),
                Val::OptInt(actor),
            ]);
            let at = noon_ms(r.submitted_on.unwrap_or(r.added_on));
            for (key, a) in &r.answers {
                answers.push(vec![
                    Val::Int(*id),
                    Val::Int(r.framework_id),
                    t(key.item.clone()),
                    t(key.scope.slug()),
                    t(a.value.slug()),
                    opt_day(a.checked_on),
                    opt_day(a.target_on),
                    t(a.not_understood.clone()),
                    Val::Int(at),
                    Val::OptInt(actor),
                ]);
            }
        }
        let mut counts = BulkCounts::default();
        insert_counted(
            &mut tx,
            &mut counts,
            "checklist_respondents",
            &[
                "id",
                "engagement_id",
                "framework_id",
                "form_key",
                "role",
                "name",
                "submitted_at",
                "created_at",
                "created_by",
            ],
            rows,
        )
        .await?;
        insert_counted(
            &mut tx,
            &mut counts,
            "checklist_answers",
            &[
                "respondent_id",
                "framework_id",
                "item_number",
                "scope",
                "value",
                "checked_on",
                "target_on",
                "not_understood",
                "updated_at",
                "updated_by",
            ],
            answers,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::AnswersImported,
            format!("bulk:{label}"),
            None,
            format!("bulk {}", counts.summary()),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Books hours and records the weekly reports of engagements in one
    /// transaction, with one audit record. Entries are checked as
    /// `add_labour_entry` checks them (row, person, hours, at most 24 a
    /// day for a person, not in the future); engagements must be
    /// contracted, and a reported week needs hours in it.
    pub async fn bulk_record_labour(
        &self,
        ctx: &AuditContext,
        list: &[BulkLabour],
        label: &str,
    ) -> Result<BulkCounts> {
        operator_only(ctx)?;
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let ids: Vec<i64> = list.iter().map(|l| l.engagement.0).collect();
        let mut states: HashMap<i64, String> = HashMap::new();
        for chunk in ids.chunks(5_000) {
            let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, state FROM engagements WHERE id IN ({})",
                id_list(chunk)
            )))
            .fetch_all(&mut *tx)
            .await?;
            states.extend(rows);
        }
        let now = now_ms();
        let mut entries = Vec::new();
        let mut weeks = Vec::new();
        for l in list {
            let state = states
                .get(&l.engagement.0)
                .map(|s| EngagementState::parse(s))
                .transpose()?
                .ok_or_else(|| StoreError::NotFound {
                    what: "engagement",
                    key: l.engagement.to_string(),
                })?;
            if !state.is_contracted() {
                return Err(invalid(
                    "engagement",
                    format!(
                        "engagement {} is {state}: hours come after the contract",
                        l.engagement
                    ),
                ));
            }
            let mut by_day: HashMap<(String, Date), Vec<LabourEntry>> = HashMap::new();
            let mut booked_weeks = BTreeSet::new();
            for entry in &l.entries {
                let others = by_day
                    .entry((entry.person.trim().to_string(), entry.worked_on))
                    .or_default();
                let checked = entry.checked(today, others)?;
                others.push(checked.clone());
                let week = week_of(checked.worked_on);
                booked_weeks.insert(week);
                entries.push(vec![
                    Val::Int(l.engagement.0),
                    Val::Int(i64::from(checked.row)),
                    t(checked.person.clone()),
                    day(checked.worked_on),
                    day(week),
                    Val::Int(checked.hours.hundredths()),
                    t(checked.note.clone()),
                    Val::Int(noon_ms(checked.worked_on)),
                    Val::OptInt(l.booked_by.map(|a| a.0)),
                ]);
            }
            for (week, state) in &l.weeks {
                if week_of(*week) != *week || !booked_weeks.contains(week) {
                    return Err(invalid(
                        "week",
                        format!(
                            "engagement {}: {week} is not a Monday with hours",
                            l.engagement
                        ),
                    ));
                }
                if *state == WeekState::Open {
                    continue;
                }
                weeks.push((l.engagement.0, *week, *state, l.booked_by, l.reviewed_by));
            }
        }
        let week_ids = reserve_ids(&mut tx, self.backend(), "labour_weeks", weeks.len()).await?;
        let mut week_rows = Vec::with_capacity(weeks.len());
        let mut step_rows = Vec::new();
        for ((engagement, week, state, by, reviewer), id) in weeks.into_iter().zip(&week_ids) {
            // Reported on the Monday after, acknowledged two days later.
            let reported = noon_ms(week + Duration::days(7));
            week_rows.push(vec![
                Val::Int(*id),
                Val::Int(engagement),
                day(week),
                t(state.slug()),
                Val::Int(reported.min(now)),
            ]);
            step_rows.push(vec![
                Val::Int(*id),
                t(WeekStep::Submit.slug()),
                Val::OptInt(by.map(|a| a.0)),
                Val::Int(reported.min(now)),
                t(""),
            ]);
            if state == WeekState::Acknowledged {
                step_rows.push(vec![
                    Val::Int(*id),
                    t(WeekStep::Acknowledge.slug()),
                    Val::OptInt(reviewer.map(|a| a.0)),
                    Val::Int((reported + 2 * 86_400_000).min(now)),
                    t(""),
                ]);
            }
        }
        let mut counts = BulkCounts::default();
        insert_counted(
            &mut tx,
            &mut counts,
            "labour_entries",
            &[
                "engagement_id",
                "row_number",
                "person",
                "worked_on",
                "week_start",
                "hundredths",
                "note",
                "created_at",
                "created_by",
            ],
            entries,
        )
        .await?;
        insert_counted(
            &mut tx,
            &mut counts,
            "labour_weeks",
            &["id", "engagement_id", "week_start", "state", "updated_at"],
            week_rows,
        )
        .await?;
        insert_counted(
            &mut tx,
            &mut counts,
            "labour_week_steps",
            &["week_id", "step", "actor_id", "at", "note"],
            step_rows,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::LabourHoursRecorded,
            format!("bulk:{label}"),
            None,
            format!("bulk {}", counts.summary()),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Rows in each table the bulk functions write (for the generator's
    /// summary).
    pub async fn bulk_table_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        let mut out = Vec::new();
        for table in COUNTED_TABLES {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&self.pool)
                    .await?;
            out.push((*table, n));
        }
        Ok(out)
    }
}

const COUNTED_TABLES: &[&str] = &[
    "organisations",
    "programmes",
    "engagements",
    "engagement_transitions",
    "agreements",
    "estimates",
    "orders",
    "ledger_records",
    "ledger_history",
    "ledger_cpes",
    "checklist_respondents",
    "checklist_answers",
    "labour_entries",
    "labour_weeks",
    "labour_week_steps",
    "audit_events",
];

fn is_unique(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Checks one table's records by the row rules; a key given twice is a
/// problem.
fn check_table<R: LedgerRecord>(
    incoming: &Ledger,
    checked: &mut Ledger,
    problems: &mut Vec<String>,
) {
    let mut keys = BTreeSet::new();
    for record in R::table(incoming) {
        match record.checked() {
            Ok(r) => {
                if !keys.insert(r.key().clone()) {
                    problems.push(format!(
                        "{} {}: key appears more than once",
                        R::KIND,
                        r.key()
                    ));
                }
                R::table_mut(checked).push(r);
            }
            Err(p) => problems.extend(
                p.into_iter()
                    .map(|p| format!("{} {}: {}: {}", R::KIND, record.key(), p.field, p.reason)),
            ),
        }
    }
}

/// A ledger record to write: hospital, kind, key, body, catalogue model,
/// and its CPE names with their vendor and product.
type Pending = (
    i64,
    RecordKind,
    String,
    String,
    Option<String>,
    Vec<(String, String, String)>,
);

fn push_bodies<R: LedgerRecord + Serialize>(
    pending: &mut Vec<Pending>,
    hospital: OrgId,
    records: &[R],
) -> Result<()> {
    for r in records {
        pending.push((
            hospital.0,
            R::KIND,
            r.key().as_str().to_string(),
            body_of(r)?,
            None,
            Vec::new(),
        ));
    }
    Ok(())
}
