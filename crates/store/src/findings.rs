//! Findings (指摘事項) of an engagement as stored: the survey company
//! proposes and edits, the supervisor edits, accepts, rejects or reopens
//! (the domain's [`finding_step`]); every step keeps the finding as it was
//! after it, so an edit never loses what it replaced. The accepted findings
//! are the summary of the report.
//!
//! Access is [`HospitalData::Deliverables`]: the company writes, the
//! supervisor reviews, the hospital and the ministry read the accepted ones
//! once the report is delivered. Every call is audited, reads too.

use crate::audit::{AuditContext, append};
use crate::db::Tx;
use crate::deliverables::open;
use crate::error::corrupt;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::deliverable::{
    AffectedRef, Finding, FindingStatus, FindingStep, Severity, finding_step,
};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, DomainError, EngagementId, validate};
use serde::{Deserialize, Serialize};

use crate::deliverables::engagement_for;
use crate::hospital::{recheck, require};

/// The longest note on a finding step.
const MAX_STEP_NOTE: usize = 2_000;

/// What the author writes; the number and status are the store's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingDraft {
    pub severity: Severity,
    pub title: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub affected: Vec<AffectedRef>,
    pub recommendation: String,
}

/// One step taken on a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingStepRecord {
    /// `propose`, or a [`FindingStep`] slug.
    pub step: String,
    pub actor: Option<AccountId>,
    pub at_ms: i64,
    pub note: String,
}

/// A finding with who proposed it and its steps, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRecord {
    #[serde(flatten)]
    pub finding: Finding,
    pub created_by: Option<AccountId>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub steps: Vec<FindingStepRecord>,
}

type FindingRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    i64,
    i64,
);

const FINDING_SELECT: &str = "SELECT id, number, severity, title, detail, affected, recommendation, status, created_by, created_at, updated_at FROM findings";

fn finding_of(row: &FindingRow) -> Result<Finding> {
    Ok(Finding {
        number: u32::try_from(row.1).map_err(|_| StoreError::Corrupt {
            column: "findings.number",
            value: row.1.to_string(),
        })?,
        severity: Severity::parse(&row.2).map_err(corrupt("findings.severity"))?,
        title: row.3.clone(),
        detail: row.4.clone(),
        affected: serde_json::from_str(&row.5).map_err(|e| StoreError::Corrupt {
            column: "findings.affected",
            value: e.to_string(),
        })?,
        recommendation: row.6.clone(),
        status: FindingStatus::parse(&row.7).map_err(corrupt("findings.status"))?,
    })
}

/// The engagement's findings by number with their steps; `accepted_only`
/// for readers outside the survey (the hospital, the ministry).
pub(crate) async fn findings_in(
    tx: &mut Tx,
    engagement: EngagementId,
    accepted_only: bool,
) -> Result<Vec<FindingRecord>> {
    let rows: Vec<FindingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{FINDING_SELECT} WHERE engagement_id = $1 ORDER BY number"
    )))
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let steps: Vec<(i64, String, Option<i64>, i64, String)> = sqlx::query_as(
        "SELECT s.finding_id, s.step, s.actor_id, s.at, s.note FROM finding_steps s
         JOIN findings f ON f.id = s.finding_id WHERE f.engagement_id = $1 ORDER BY s.id",
    )
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let finding = finding_of(row)?;
        if accepted_only && finding.status != FindingStatus::Accepted {
            continue;
        }
        out.push(FindingRecord {
            finding,
            created_by: row.8.map(AccountId),
            created_at_ms: row.9,
            updated_at_ms: row.10,
            steps: steps
                .iter()
                .filter(|s| s.0 == row.0)
                .map(|s| FindingStepRecord {
                    step: s.1.clone(),
                    actor: s.2.map(AccountId),
                    at_ms: s.3,
                    note: s.4.clone(),
                })
                .collect(),
        });
    }
    Ok(out)
}

async fn finding_row(tx: &mut Tx, engagement: EngagementId, number: u32) -> Result<FindingRow> {
    let row: Option<FindingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{FINDING_SELECT} WHERE engagement_id = $1 AND number = $2"
    )))
    .bind(engagement.0)
    .bind(i64::from(number))
    .fetch_optional(&mut **tx)
    .await?;
    row.ok_or_else(|| StoreError::NotFound {
        what: "finding",
        key: number.to_string(),
    })
}

/// Writes the finding's fields and records the step with the result.
async fn write_step(
    tx: &mut Tx,
    id: i64,
    finding: &Finding,
    step: &str,
    actor: AccountId,
    note: &str,
) -> Result<()> {
    let now = now_ms();
    sqlx::query("UPDATE findings SET severity = $1, title = $2, detail = $3, affected = $4, recommendation = $5, status = $6, updated_at = $7 WHERE id = $8")
        .bind(finding.severity.slug())
        .bind(&finding.title)
        .bind(&finding.detail)
        .bind(affected_json(finding))
        .bind(&finding.recommendation)
        .bind(finding.status.slug())
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO finding_steps (finding_id, step, actor_id, at, note, finding) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(step)
        .bind(actor.0)
        .bind(now)
        .bind(note)
        .bind(serde_json::to_string(finding).unwrap_or_default())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn affected_json(finding: &Finding) -> String {
    // Kinds and keys only: serialising cannot fail.
    serde_json::to_string(&finding.affected).unwrap_or_else(|_| "[]".to_string())
}

/// Hospital and ministry readers see what the report shows: accepted ones.
fn outside_survey(grant: &HospitalGrant) -> bool {
    matches!(
        grant.actor().org_kind,
        OrgKind::Hospital | OrgKind::Ministry
    )
}

impl Store {
    /// The engagement's findings by number. One audited read.
    pub async fn findings(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
    ) -> Result<Vec<FindingRecord>> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Read, engagement);
        let out = findings_in(&mut tx, e.id, outside_survey(grant)).await?;
        self.finish_read(
            tx,
            ctx,
            format!("findings:engagement:{}", e.id),
            Some(e.hospital_id),
            "findings",
        )
        .await?;
        Ok(out)
    }

    /// The survey company records a finding; it is numbered next and waits
    /// for the supervisor as proposed.
    pub async fn propose_finding(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        draft: &FindingDraft,
    ) -> Result<FindingRecord> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Write, engagement);
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(number) FROM findings WHERE engagement_id = $1")
                .bind(e.id.0)
                .fetch_one(&mut *tx)
                .await?;
        let number = u32::try_from(last.unwrap_or(0) + 1)
            .map_err(|_| StoreError::Conflict("too many findings".to_string()))?;
        let finding = Finding::new(
            number,
            draft.severity,
            &draft.title,
            &draft.detail,
            draft.affected.clone(),
            &draft.recommendation,
        )?;
        let actor = grant.actor().account;
        let now = now_ms();
        let id: i64 = sqlx::query_scalar("INSERT INTO findings (engagement_id, number, severity, title, detail, affected, recommendation, status, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id")
            .bind(e.id.0)
            .bind(i64::from(number))
            .bind(finding.severity.slug())
            .bind(&finding.title)
            .bind(&finding.detail)
            .bind(affected_json(&finding))
            .bind(&finding.recommendation)
            .bind(finding.status.slug())
            .bind(actor.0)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_unique("finding", &number.to_string()))?;
        sqlx::query("INSERT INTO finding_steps (finding_id, step, actor_id, at, note, finding) VALUES ($1, 'propose', $2, $3, '', $4)")
            .bind(id)
            .bind(actor.0)
            .bind(now)
            .bind(serde_json::to_string(&finding).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::FindingRecorded,
            format!("finding:engagement:{}:{number}", e.id),
            Some(e.hospital_id),
            format!("proposed: {}", finding.title),
        )
        .await?;
        let record = one_of(&mut tx, e.id, number).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Changes a finding's text, severity or references: the company while
    /// it is proposed, the supervisor at any time (its status stays).
    pub async fn edit_finding(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        number: u32,
        draft: &FindingDraft,
        note: &str,
    ) -> Result<FindingRecord> {
        let note = validate::note("note", note, MAX_STEP_NOTE)?;
        let mut tx;
        let e = open!(self, tx, ctx, grant, grant.access(), engagement);
        let row = finding_row(&mut tx, e.id, number).await?;
        let current = finding_of(&row)?;
        let reviewer = grant.access() == Access::Review;
        if !reviewer && grant.access() != Access::Write {
            return Err(StoreError::Forbidden(
                "editing a finding needs write or review access",
            ));
        }
        let status = finding_step(current.status, FindingStep::Edit, reviewer)
            .map_err(|reason| StoreError::Conflict(format!("finding {number}: {reason}")))?;
        let edited = Finding {
            number,
            severity: draft.severity,
            title: draft.title.clone(),
            detail: draft.detail.clone(),
            affected: draft.affected.clone(),
            recommendation: draft.recommendation.clone(),
            status,
        }
        .checked()?;
        write_step(
            &mut tx,
            row.0,
            &edited,
            FindingStep::Edit.slug(),
            grant.actor().account,
            &note,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::FindingRecorded,
            format!("finding:engagement:{}:{number}", e.id),
            Some(e.hospital_id),
            format!("edited: {}", edited.title),
        )
        .await?;
        let record = one_of(&mut tx, e.id, number).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The supervisor accepts, rejects or reopens a finding, with a note.
    pub async fn review_finding(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        number: u32,
        step: FindingStep,
        note: &str,
    ) -> Result<FindingRecord> {
        let note = validate::note("note", note, MAX_STEP_NOTE)?;
        if step == FindingStep::Edit {
            return Err(
                DomainError::invalid("step", "an edit carries the finding's new text").into(),
            );
        }
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Review, engagement);
        let row = finding_row(&mut tx, e.id, number).await?;
        let mut finding = finding_of(&row)?;
        finding.status = finding_step(finding.status, step, true)
            .map_err(|reason| StoreError::Conflict(format!("finding {number}: {reason}")))?;
        write_step(
            &mut tx,
            row.0,
            &finding,
            step.slug(),
            grant.actor().account,
            &note,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::FindingReviewed,
            format!("finding:engagement:{}:{number}", e.id),
            Some(e.hospital_id),
            format!("{} → {}", step.slug(), finding.status.slug()),
        )
        .await?;
        let record = one_of(&mut tx, e.id, number).await?;
        tx.commit().await?;
        Ok(record)
    }
}

async fn one_of(tx: &mut Tx, engagement: EngagementId, number: u32) -> Result<FindingRecord> {
    findings_in(tx, engagement, false)
        .await?
        .into_iter()
        .find(|f| f.finding.number == number)
        .ok_or(StoreError::Conflict(format!("finding {number} vanished")))
}
