//! Labour hours as stored (seed 資料6, 資料4 §4 ⑤): the plan of an
//! engagement, the hours its company's staff book per person, day and row,
//! the weekly reports (the company reports, the supervisor acknowledges —
//! which locks the week — or returns), each company's hourly rate, and the
//! roll-up across engagements.
//!
//! Access is [`HospitalData::LabourHours`]: the company itself writes, the
//! supervisor reviews, the secretariat reads; the hospital and the
//! ministry never see hours. Every call is audited, reads too; removed
//! entries are kept.

use crate::audit::{AuditContext, append};
use crate::db::{Tx, iso_day, parse_iso_day};
use crate::deliverables::{engagement_for, open, stored_of};
use crate::engagements::{Engagement, all_engagements_in};
use crate::error::corrupt;
use crate::hospital::{recheck, require};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::deliverable::{DeliverableKind, DeliverableState};
use mamori_domain::engagement::EngagementState;
use mamori_domain::labour::{
    Hours, LabourContext, LabourEntry, LabourPlan, LabourSummary, WeekState, WeekStep,
    check_editable, missing_weeks, summarise, week_of, week_step,
};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{
    Access, HospitalData, HospitalGrant, may_register_organisations, permits, relationship,
};
use mamori_domain::schedule::MilestoneKind;
use mamori_domain::{AccountId, DomainError, EngagementId, OrgId, ProgrammeId, validate};
use serde::Serialize;
use time::Date;

/// The hourly rate when neither the secretariat nor an estimate gives one.
pub const DEFAULT_RATE_YEN: i64 = 10_000;
const MAX_RATE_YEN: i64 = 1_000_000;
const MAX_STEP_NOTE: usize = 2_000;

/// A booked entry with who booked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabourEntryRecord {
    pub id: i64,
    #[serde(flatten)]
    pub entry: LabourEntry,
    pub created_by: Option<AccountId>,
    pub created_at_ms: i64,
}

/// One step on a week's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekStepRecord {
    pub step: WeekStep,
    pub actor: Option<AccountId>,
    pub at_ms: i64,
    pub note: String,
}

/// A week (Monday) with its report's state and steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabourWeek {
    pub week: Date,
    pub state: WeekState,
    pub hours: Hours,
    pub steps: Vec<WeekStepRecord>,
}

/// Everything about one engagement's hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngagementLabour {
    pub engagement: EngagementId,
    pub hospital_id: OrgId,
    pub hospital_name: String,
    pub company_id: OrgId,
    pub company_name: String,
    pub state: EngagementState,
    pub plan: LabourPlan,
    pub rate_yen: i64,
    pub entries: Vec<LabourEntryRecord>,
    /// Every week with hours or a report, oldest first.
    pub weeks: Vec<LabourWeek>,
    pub summary: LabourSummary,
}

impl EngagementLabour {
    pub fn week_state(&self, week: Date) -> WeekState {
        self.weeks
            .iter()
            .find(|w| w.week == week)
            .map_or(WeekState::Open, |w| w.state)
    }
}

async fn plan_in(tx: &mut Tx, engagement: EngagementId) -> Result<LabourPlan> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT row_number, hundredths FROM labour_plans WHERE engagement_id = $1")
            .bind(engagement.0)
            .fetch_all(&mut **tx)
            .await?;
    let mut plan = LabourPlan::default();
    for (row, hundredths) in rows {
        let row = u8::try_from(row).map_err(|_| StoreError::Corrupt {
            column: "labour_plans.row_number",
            value: row.to_string(),
        })?;
        plan.set(row, Hours::from_hundredths(hundredths))
            .map_err(corrupt("labour_plans"))?;
    }
    Ok(plan)
}

/// The company's rate in the programme: as the secretariat set it, else
/// from the engagement's latest estimate (cost ÷ hours), else the default.
async fn rate_in(tx: &mut Tx, e: &Engagement) -> Result<i64> {
    let set: Option<i64> = sqlx::query_scalar(
        "SELECT rate_yen FROM labour_rates WHERE programme_id = $1 AND company_id = $2",
    )
    .bind(e.programme_id.0)
    .bind(e.company_id.0)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(rate) = set {
        return Ok(rate);
    }
    let estimate: Option<(f64, i64)> = sqlx::query_as(
        "SELECT labour_hours, labour_cost_yen FROM estimates WHERE engagement_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(e.id.0)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match estimate {
        Some((hours, cost)) if hours > 0.0 => (cost as f64 / hours).round() as i64,
        _ => DEFAULT_RATE_YEN,
    })
}

async fn entries_in(tx: &mut Tx, engagement: EngagementId) -> Result<Vec<LabourEntryRecord>> {
    type Row = (i64, i64, String, String, i64, String, Option<i64>, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, row_number, person, worked_on, hundredths, note, created_by, created_at FROM labour_entries
         WHERE engagement_id = $1 AND removed_at IS NULL ORDER BY worked_on, id",
    )
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(LabourEntryRecord {
                id: r.0,
                entry: LabourEntry {
                    row: u8::try_from(r.1).map_err(|_| StoreError::Corrupt {
                        column: "labour_entries.row_number",
                        value: r.1.to_string(),
                    })?,
                    person: r.2,
                    worked_on: parse_iso_day("labour_entries.worked_on", &r.3)?,
                    hours: Hours::from_hundredths(r.4),
                    note: r.5,
                },
                created_by: r.6.map(AccountId),
                created_at_ms: r.7,
            })
        })
        .collect()
}

async fn weeks_in(
    tx: &mut Tx,
    engagement: EngagementId,
    entries: &[LabourEntryRecord],
) -> Result<Vec<LabourWeek>> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, week_start, state FROM labour_weeks WHERE engagement_id = $1")
            .bind(engagement.0)
            .fetch_all(&mut **tx)
            .await?;
    let steps: Vec<(i64, String, Option<i64>, i64, String)> = sqlx::query_as(
        "SELECT s.week_id, s.step, s.actor_id, s.at, s.note FROM labour_week_steps s
         JOIN labour_weeks w ON w.id = s.week_id WHERE w.engagement_id = $1 ORDER BY s.id",
    )
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut weeks: Vec<LabourWeek> = Vec::new();
    for (id, start, state) in rows {
        let mut week_steps = Vec::new();
        for s in steps.iter().filter(|s| s.0 == id) {
            week_steps.push(WeekStepRecord {
                step: WeekStep::parse(&s.1).map_err(corrupt("labour_week_steps.step"))?,
                actor: s.2.map(AccountId),
                at_ms: s.3,
                note: s.4.clone(),
            });
        }
        weeks.push(LabourWeek {
            week: parse_iso_day("labour_weeks.week_start", &start)?,
            state: WeekState::parse(&state).map_err(corrupt("labour_weeks.state"))?,
            hours: Hours::ZERO,
            steps: week_steps,
        });
    }
    for e in entries {
        let week = week_of(e.entry.worked_on);
        match weeks.iter_mut().find(|w| w.week == week) {
            Some(w) => w.hours += e.entry.hours,
            None => weeks.push(LabourWeek {
                week,
                state: WeekState::Open,
                hours: e.entry.hours,
                steps: Vec::new(),
            }),
        }
    }
    weeks.sort_by_key(|w| w.week);
    Ok(weeks)
}

/// When the engagement took `state` (its latest step into it).
async fn entered_on(tx: &mut Tx, e: EngagementId, state: EngagementState) -> Result<Option<Date>> {
    let on: Option<String> = sqlx::query_scalar(
        "SELECT effective_on FROM engagement_transitions WHERE engagement_id = $1 AND to_state = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(e.0)
    .bind(state.slug())
    .fetch_optional(&mut **tx)
    .await?;
    on.map(|d| parse_iso_day("engagement_transitions.effective_on", &d))
        .transpose()
}

async fn labour_in(tx: &mut Tx, e: &Engagement, today: Date) -> Result<EngagementLabour> {
    let plan = plan_in(tx, e.id).await?;
    let rate_yen = rate_in(tx, e).await?;
    let cap_yen: i64 = sqlx::query_scalar("SELECT labour_cap_yen FROM programmes WHERE id = $1")
        .bind(e.programme_id.0)
        .fetch_one(&mut **tx)
        .await?;
    let entries = entries_in(tx, e.id).await?;
    let weeks = weeks_in(tx, e.id, &entries).await?;
    let deliverables: Vec<(DeliverableKind, DeliverableState)> = stored_of(tx, e.id)
        .await?
        .into_iter()
        .map(|s| (s.record.kind, s.record.state))
        .collect();
    let interim: Option<String> = sqlx::query_scalar(
        "SELECT due_on FROM programme_milestones WHERE programme_id = $1 AND kind = $2",
    )
    .bind(e.programme_id.0)
    .bind(MilestoneKind::InterimReview.slug())
    .fetch_optional(&mut **tx)
    .await?;
    let late_from = interim
        .map(|d| parse_iso_day("programme_milestones.due_on", &d))
        .transpose()?;
    // Weekly reports run from the contract until the report is submitted.
    let missing = match entered_on(tx, e.id, EngagementState::Contracted).await? {
        Some(from) if e.state.is_contracted() => {
            let until = entered_on(tx, e.id, EngagementState::Submitted)
                .await?
                .filter(|_| e.state.has_reached(EngagementState::Submitted))
                .map_or(today, |d| d.min(today));
            let reported: Vec<Date> = weeks
                .iter()
                .filter(|w| w.state != WeekState::Open)
                .map(|w| w.week)
                .collect();
            missing_weeks(from, until, &reported)
        }
        _ => Vec::new(),
    };
    let plain: Vec<LabourEntry> = entries.iter().map(|r| r.entry.clone()).collect();
    let summary = summarise(
        &plan,
        &plain,
        &LabourContext {
            rate_yen,
            cap_yen,
            deliverables,
            late_from,
            today,
            missing_weeks: missing,
        },
    );
    Ok(EngagementLabour {
        engagement: e.id,
        hospital_id: e.hospital_id,
        hospital_name: e.hospital_name.clone(),
        company_id: e.company_id,
        company_name: e.company_name.clone(),
        state: e.state,
        plan,
        rate_yen,
        entries,
        weeks,
        summary,
    })
}

async fn week_state_in(tx: &mut Tx, engagement: EngagementId, week: Date) -> Result<WeekState> {
    let state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM labour_weeks WHERE engagement_id = $1 AND week_start = $2",
    )
    .bind(engagement.0)
    .bind(iso_day(week))
    .fetch_optional(&mut **tx)
    .await?;
    state.map_or(Ok(WeekState::Open), |s| {
        WeekState::parse(&s).map_err(corrupt("labour_weeks.state"))
    })
}

impl Store {
    /// An engagement's plan, hours, weeks and roll-up. One audited read.
    pub async fn labour(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
    ) -> Result<EngagementLabour> {
        let mut tx;
        let e = open!(
            self,
            tx,
            ctx,
            grant,
            HospitalData::LabourHours,
            Access::Read,
            engagement
        );
        let out = labour_in(&mut tx, &e, self.today()).await?;
        self.finish_read(
            tx,
            ctx,
            format!("labour:engagement:{}", e.id),
            Some(e.hospital_id),
            "labour hours",
        )
        .await?;
        Ok(out)
    }

    /// The company replaces its plan (all seventeen rows).
    pub async fn save_labour_plan(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        plan: &LabourPlan,
    ) -> Result<EngagementLabour> {
        // Re-checked row by row: a plan from JSON skips the constructor.
        let mut checked = LabourPlan::default();
        for (i, hours) in plan.hours.iter().enumerate() {
            checked.set(i as u8 + 1, *hours)?;
        }
        let mut tx;
        let e = open!(
            self,
            tx,
            ctx,
            grant,
            HospitalData::LabourHours,
            Access::Write,
            engagement
        );
        let now = now_ms();
        for (i, hours) in checked.hours.iter().enumerate() {
            sqlx::query("INSERT INTO labour_plans (engagement_id, row_number, hundredths, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (engagement_id, row_number) DO UPDATE SET hundredths = excluded.hundredths, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
                .bind(e.id.0)
                .bind(i as i64 + 1)
                .bind(hours.hundredths())
                .bind(now)
                .bind(grant.actor().account.0)
                .execute(&mut *tx)
                .await?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::LabourPlanSaved,
            format!("labour:engagement:{}", e.id),
            Some(e.hospital_id),
            format!("plan {} hours", checked.total()),
        )
        .await?;
        let out = labour_in(&mut tx, &e, self.today()).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Books hours: refused when negative, in the future, over 24 hours a
    /// day for the person, or in a week the supervisor has locked.
    pub async fn add_labour_entry(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        entry: &LabourEntry,
    ) -> Result<LabourEntryRecord> {
        let today = self.today();
        let mut tx;
        let e = open!(
            self,
            tx,
            ctx,
            grant,
            HospitalData::LabourHours,
            Access::Write,
            engagement
        );
        let week = week_of(entry.worked_on);
        check_editable(week, week_state_in(&mut tx, e.id, week).await?)?;
        let others: Vec<LabourEntry> = entries_in(&mut tx, e.id)
            .await?
            .into_iter()
            .map(|r| r.entry)
            .collect();
        let entry = entry.checked(today, &others)?;
        let now = now_ms();
        let id: i64 = sqlx::query_scalar("INSERT INTO labour_entries (engagement_id, row_number, person, worked_on, week_start, hundredths, note, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(e.id.0)
            .bind(i64::from(entry.row))
            .bind(&entry.person)
            .bind(iso_day(entry.worked_on))
            .bind(iso_day(week))
            .bind(entry.hours.hundredths())
            .bind(&entry.note)
            .bind(now)
            .bind(grant.actor().account.0)
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::LabourHoursRecorded,
            format!("labour:engagement:{}", e.id),
            Some(e.hospital_id),
            format!(
                "row {} {} {} h on {}",
                entry.row, entry.person, entry.hours, entry.worked_on
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(LabourEntryRecord {
            id,
            entry,
            created_by: Some(grant.actor().account),
            created_at_ms: now,
        })
    }

    /// Removes a booked entry (kept, marked removed); refused in a locked week.
    pub async fn remove_labour_entry(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        id: i64,
    ) -> Result<()> {
        let mut tx;
        let e = open!(
            self,
            tx,
            ctx,
            grant,
            HospitalData::LabourHours,
            Access::Write,
            engagement
        );
        let entry = entries_in(&mut tx, e.id)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| StoreError::NotFound {
                what: "labour entry",
                key: id.to_string(),
            })?;
        let week = week_of(entry.entry.worked_on);
        check_editable(week, week_state_in(&mut tx, e.id, week).await?)?;
        sqlx::query("UPDATE labour_entries SET removed_at = $1, removed_by = $2 WHERE id = $3")
            .bind(now_ms())
            .bind(grant.actor().account.0)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::LabourHoursRemoved,
            format!("labour:engagement:{}", e.id),
            Some(e.hospital_id),
            format!(
                "entry {id}: row {} {} {} h on {}",
                entry.entry.row, entry.entry.person, entry.entry.hours, entry.entry.worked_on
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A step on the report of the week starting `week` (a Monday): the
    /// company reports it (not a week still to come), the supervisor
    /// acknowledges it — locking it — or returns it with a note.
    pub async fn labour_week_step(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        week: Date,
        step: WeekStep,
        note: &str,
    ) -> Result<EngagementLabour> {
        let note = validate::note("note", note, MAX_STEP_NOTE)?;
        let today = self.today();
        if week != week_of(week) {
            return Err(DomainError::invalid("week", format!("{week} is not a Monday")).into());
        }
        if week > week_of(today) {
            return Err(DomainError::invalid(
                "week",
                format!("the week of {week} is in the future"),
            )
            .into());
        }
        let access = if step == WeekStep::Submit {
            Access::Write
        } else {
            Access::Review
        };
        let mut tx;
        let e = open!(
            self,
            tx,
            ctx,
            grant,
            HospitalData::LabourHours,
            access,
            engagement
        );
        let state = week_state_in(&mut tx, e.id, week).await?;
        let supervisor = grant.actor().org_kind == OrgKind::Supervisor;
        let to = week_step(state, step, supervisor)
            .map_err(|reason| StoreError::Conflict(format!("{week}: {reason}")))?;
        let now = now_ms();
        sqlx::query("INSERT INTO labour_weeks (engagement_id, week_start, state, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (engagement_id, week_start) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at")
            .bind(e.id.0)
            .bind(iso_day(week))
            .bind(to.slug())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let week_id: i64 = sqlx::query_scalar(
            "SELECT id FROM labour_weeks WHERE engagement_id = $1 AND week_start = $2",
        )
        .bind(e.id.0)
        .bind(iso_day(week))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO labour_week_steps (week_id, step, actor_id, at, note) VALUES ($1, $2, $3, $4, $5)")
            .bind(week_id)
            .bind(step.slug())
            .bind(grant.actor().account.0)
            .bind(now)
            .bind(&note)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            if step == WeekStep::Submit {
                AuditAction::LabourWeekReported
            } else {
                AuditAction::LabourWeekReviewed
            },
            format!("labour:engagement:{}:{week}", e.id),
            Some(e.hospital_id),
            format!("{} → {}", step.slug(), to.slug()),
        )
        .await?;
        let out = labour_in(&mut tx, &e, today).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Every contracted engagement whose hours the actor may read (the
    /// supervisor and the secretariat: all; a company: its own), with its
    /// roll-up. One audited read per hospital shown.
    pub async fn labour_rollup(&self, ctx: &AuditContext) -> Result<Vec<EngagementLabour>> {
        let actor = ctx
            .actor
            .ok_or(StoreError::Forbidden("the roll-up needs a person"))?;
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let all = all_engagements_in(&mut tx, today).await?;
        let links: Vec<_> = all.iter().map(Engagement::link).collect();
        let mut out = Vec::new();
        for e in all.iter().filter(|e| e.state.is_contracted()) {
            let rel = relationship(&actor, e.hospital_id, &links);
            let own = actor.org_kind != OrgKind::SurveyCompany || actor.org == e.company_id;
            if !own || !permits(rel, HospitalData::LabourHours, Access::Read) {
                continue;
            }
            out.push(labour_in(&mut tx, e, today).await?);
            append(
                &mut tx,
                ctx,
                AuditAction::HospitalDataRead,
                format!("labour:engagement:{}", e.id),
                Some(e.hospital_id),
                "labour roll-up",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The secretariat sets a company's hourly rate in a programme.
    pub async fn set_labour_rate(
        &self,
        ctx: &AuditContext,
        programme: ProgrammeId,
        company: OrgId,
        rate_yen: i64,
    ) -> Result<()> {
        ctx.require("set labour rates", may_register_organisations)?;
        if !(1..=MAX_RATE_YEN).contains(&rate_yen) {
            return Err(DomainError::invalid(
                "rate_yen",
                format!("{rate_yen} is not a rate of 1–{MAX_RATE_YEN} yen an hour"),
            )
            .into());
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO labour_rates (programme_id, company_id, rate_yen, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (programme_id, company_id) DO UPDATE SET rate_yen = excluded.rate_yen, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
            .bind(programme.0)
            .bind(company.0)
            .bind(rate_yen)
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(_) => StoreError::NotFound {
                    what: "programme or company",
                    key: format!("{programme}/{company}"),
                },
                other => other.into(),
            })?;
        append(
            &mut tx,
            ctx,
            AuditAction::LabourRateSet,
            format!("labour-rate:programme:{programme}:company:{company}"),
            None,
            format!("¥{rate_yen}/h"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
