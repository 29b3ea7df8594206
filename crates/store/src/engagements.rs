//! Engagements: "company X surveys hospital Y within programme P, in state
//! S", with the hospital side of recruitment (source, contact, proposed
//! system company) and the dates the deadlines are computed from.

use crate::audit::{AuditContext, append};
use crate::db::{Tx, iso_day, parse_optional_day};
use crate::error::corrupt;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::engagement::{EngagementLink, EngagementState};
use mamori_domain::organisation::{OrgKind, RecruitmentRoute};
use mamori_domain::policy::{
    Access, Actor, HospitalData, Relationship, may_register_organisations, permits, relationship,
};
use mamori_domain::schedule::{Deadline, EngagementDates, engagement_deadlines};
use mamori_domain::{DomainError, EngagementId, OrgId, ProgrammeId, validate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Engagement {
    pub id: EngagementId,
    pub programme_id: ProgrammeId,
    pub programme_name: String,
    pub hospital_id: OrgId,
    pub hospital_name: String,
    /// JIS prefecture code of the hospital, when known.
    pub prefecture: Option<u8>,
    pub company_id: OrgId,
    pub company_name: String,
    pub state: EngagementState,
    /// NDA signed and in force today, and the order issued.
    pub contract_in_force: bool,
    pub candidate: CandidateDetails,
    pub company_confirmed_on: Option<Date>,
    pub intent_confirmed_on: Option<Date>,
    pub contacted_on: Option<Date>,
    /// The end of the NDA in force today.
    pub nda_valid_until: Option<Date>,
    pub updated_at_ms: i64,
}

/// The hospital side of recruitment (資料4 §5): where the candidate came
/// from, who the contact is, and the system company it proposes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateDetails {
    pub source: Option<RecruitmentRoute>,
    /// e.g. "日本病院会 会員意向調査 2022-10".
    #[serde(default)]
    pub source_detail: String,
    #[serde(default)]
    pub director_name: String,
    #[serde(default)]
    pub contact_department: String,
    #[serde(default)]
    pub contact_title: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_email: String,
    /// 出入りのシステム会社, as the hospital named it.
    #[serde(default)]
    pub proposed_company: String,
}

impl CandidateDetails {
    fn validated(&self) -> Result<CandidateDetails> {
        let email = if self.contact_email.trim().is_empty() {
            String::new()
        } else {
            validate::email(&self.contact_email).map_err(|e| match e {
                DomainError::Invalid { reason, .. } => {
                    DomainError::invalid("contact_email", reason)
                }
                other => other,
            })?
        };
        Ok(CandidateDetails {
            source: Some(self.source.unwrap_or(RecruitmentRoute::ResearchNetwork)),
            source_detail: validate::note("source_detail", &self.source_detail, 200)?,
            director_name: validate::note("director_name", &self.director_name, 100)?,
            contact_department: validate::note(
                "contact_department",
                &self.contact_department,
                100,
            )?,
            contact_title: validate::note("contact_title", &self.contact_title, 100)?,
            contact_name: validate::note("contact_name", &self.contact_name, 100)?,
            contact_email: email,
            proposed_company: validate::note("proposed_company", &self.proposed_company, 200)?,
        })
    }

    fn blank_contacts(&mut self) {
        *self = CandidateDetails {
            source: self.source,
            ..Default::default()
        };
    }
}

impl Engagement {
    pub fn link(&self) -> EngagementLink {
        EngagementLink {
            engagement: self.id,
            hospital: self.hospital_id,
            company: self.company_id,
            state: self.state,
            contract_in_force: self.contract_in_force,
        }
    }

    pub fn dates(&self) -> EngagementDates {
        EngagementDates {
            state: Some(self.state),
            intent_confirmed_on: self.intent_confirmed_on,
            contacted_on: self.contacted_on,
            nda_valid_until: self.nda_valid_until,
        }
    }
}

#[derive(sqlx::FromRow)]
struct EngagementRow {
    id: i64,
    programme_id: i64,
    programme_name: String,
    hospital_id: i64,
    hospital_name: String,
    prefecture: Option<i64>,
    company_id: i64,
    company_name: String,
    state: String,
    source: String,
    source_detail: String,
    director_name: String,
    contact_department: String,
    contact_title: String,
    contact_name: String,
    contact_email: String,
    proposed_company: String,
    company_confirmed_on: Option<String>,
    intent_confirmed_on: Option<String>,
    contacted_on: Option<String>,
    nda_until: Option<String>,
    ordered: i64,
    updated_at: i64,
}

/// `$1` is today (ISO): the NDA in force and the live order are computed
/// against it, so the gate closes on the day the NDA runs out.
const ENGAGEMENT_SELECT: &str = "SELECT e.id, e.programme_id, p.name AS programme_name, e.hospital_id, h.name AS hospital_name, h.prefecture, e.company_id, c.name AS company_name, e.state,
 e.source, e.source_detail, e.director_name, e.contact_department, e.contact_title, e.contact_name, e.contact_email, e.proposed_company,
 e.company_confirmed_on, e.intent_confirmed_on, e.contacted_on,
 (SELECT MAX(a.valid_until) FROM agreements a WHERE a.engagement_id = e.id AND a.kind = 'nda' AND a.signed_on IS NOT NULL AND a.revoked_on IS NULL AND a.valid_from <= $1 AND a.valid_until >= $1) AS nda_until,
 CAST(CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.engagement_id = e.id AND o.revoked_on IS NULL) THEN 1 ELSE 0 END AS BIGINT) AS ordered,
 e.updated_at
 FROM engagements e JOIN programmes p ON p.id = e.programme_id JOIN organisations h ON h.id = e.hospital_id JOIN organisations c ON c.id = e.company_id";

/// An engagement's id, programme, state, intent and contact days and the
/// end of its NDA in force: what its deadlines are computed from.
/// How long an [`EngagementScan`] stands when nothing is written here.
const ENGAGEMENT_SCAN_KEPT: std::time::Duration = std::time::Duration::from_secs(10);

/// What [`Store::engagement_scan`] found, and when.
pub(crate) struct EngagementScan {
    today: time::Date,
    generation: u64,
    taken: std::time::Instant,
    counts: EngagementCounts,
    overdue: std::collections::HashSet<i64>,
    ordered: Vec<i64>,
}

impl EngagementScan {
    /// One page of the ids in the table's order (the overdue ones only if
    /// so asked), and how many there are in all.
    fn page(&self, overdue_only: bool, paging: Paging) -> (Vec<i64>, usize) {
        let total = if overdue_only {
            self.counts.overdue
        } else {
            self.counts.total
        };
        let ids = self
            .ordered
            .iter()
            .copied()
            .filter(|id| !overdue_only || self.overdue.contains(id))
            .skip(paging.offset)
            .take(paging.limit)
            .collect();
        (ids, total)
    }
}

type DatesRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The order of the engagement tables (newest programme first, then by
/// hospital and company), the id last so that pages never overlap.
const ENGAGEMENT_ORDER: &str = "p.fiscal_year DESC, h.name, c.name, e.id";

fn engagement(row: EngagementRow) -> Result<Engagement> {
    let nda_valid_until = parse_optional_day("agreements.valid_until", row.nda_until)?;
    Ok(Engagement {
        id: EngagementId(row.id),
        programme_id: ProgrammeId(row.programme_id),
        programme_name: row.programme_name,
        hospital_id: OrgId(row.hospital_id),
        hospital_name: row.hospital_name,
        prefecture: row.prefecture.and_then(|p| u8::try_from(p).ok()),
        company_id: OrgId(row.company_id),
        company_name: row.company_name,
        state: EngagementState::parse(&row.state).map_err(corrupt("engagements.state"))?,
        contract_in_force: nda_valid_until.is_some() && row.ordered == 1,
        candidate: CandidateDetails {
            source: Some(
                RecruitmentRoute::parse(&row.source).map_err(corrupt("engagements.source"))?,
            ),
            source_detail: row.source_detail,
            director_name: row.director_name,
            contact_department: row.contact_department,
            contact_title: row.contact_title,
            contact_name: row.contact_name,
            contact_email: row.contact_email,
            proposed_company: row.proposed_company,
        },
        company_confirmed_on: parse_optional_day(
            "engagements.company_confirmed_on",
            row.company_confirmed_on,
        )?,
        intent_confirmed_on: parse_optional_day(
            "engagements.intent_confirmed_on",
            row.intent_confirmed_on,
        )?,
        contacted_on: parse_optional_day("engagements.contacted_on", row.contacted_on)?,
        nda_valid_until,
        updated_at_ms: row.updated_at,
    })
}

/// A new candidate hospital for a programme, with the company to survey it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewCandidate {
    pub programme: ProgrammeId,
    pub hospital: OrgId,
    pub company: OrgId,
    #[serde(flatten)]
    pub details: CandidateDetails,
}

/// What the engagement lists can be narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EngagementFilter {
    pub programme: Option<ProgrammeId>,
    pub state: Option<EngagementState>,
    pub company: Option<OrgId>,
    pub prefecture: Option<u8>,
    #[serde(default)]
    pub overdue_only: bool,
}

/// One row of a dashboard: the engagement and its deadlines today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngagementOverview {
    pub engagement: Engagement,
    pub deadlines: Vec<Deadline>,
    pub overdue: bool,
}

/// A window on a long list: skip `offset` rows, show at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct Paging {
    pub offset: usize,
    pub limit: usize,
}

impl Paging {
    /// Every row (the largest limit both databases take).
    pub const ALL: Paging = Paging {
        offset: 0,
        limit: i64::MAX as usize,
    };

    /// Page `page` (from 1) of `size` rows.
    pub fn page(page: usize, size: usize) -> Paging {
        Paging {
            offset: page.saturating_sub(1).saturating_mul(size),
            limit: size,
        }
    }

    fn window<T>(self, rows: Vec<T>) -> Vec<T> {
        rows.into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

/// One page of the engagement table, and how many rows the filter matches
/// for this reader in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EngagementOverviewPage {
    pub rows: Vec<EngagementOverview>,
    pub total: usize,
}

/// How many engagements the reader may see, by state, and how many of them
/// are past a deadline: the dashboard's tiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EngagementCounts {
    pub total: usize,
    pub by_state: BTreeMap<EngagementState, usize>,
    pub overdue: usize,
}

impl EngagementCounts {
    /// The engagements in the states `pred` picks.
    pub fn count(&self, pred: impl Fn(EngagementState) -> bool) -> usize {
        self.by_state
            .iter()
            .filter(|(s, _)| pred(**s))
            .map(|(_, n)| n)
            .sum()
    }
}

pub(crate) async fn engagement_in(
    conn: &mut sqlx::AnyConnection,
    today: Date,
    id: EngagementId,
) -> Result<Engagement> {
    let row: Option<EngagementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ENGAGEMENT_SELECT} WHERE e.id = $2"
    )))
    .bind(iso_day(today))
    .bind(id.0)
    .fetch_optional(conn)
    .await?;
    row.map(engagement)
        .transpose()?
        .ok_or(StoreError::NotFound {
            what: "engagement",
            key: id.to_string(),
        })
}

/// Every engagement as `conn` sees it today, for lists across engagements
/// that then ask the policy per hospital (the review queue).
pub(crate) async fn all_engagements_in(
    conn: &mut sqlx::AnyConnection,
    today: Date,
) -> Result<Vec<Engagement>> {
    let rows: Vec<EngagementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ENGAGEMENT_SELECT} ORDER BY e.id"
    )))
    .bind(iso_day(today))
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(engagement).collect()
}

/// How `actor` stands towards the engagement's hospital, from all of that
/// hospital's engagements as `conn` sees them today.
pub(crate) async fn relationship_in(
    conn: &mut sqlx::AnyConnection,
    today: Date,
    actor: &Actor,
    hospital: OrgId,
) -> Result<Relationship> {
    let links = links_of(conn, today, hospital).await?;
    Ok(relationship(actor, hospital, &links))
}

/// Refuses (and audits the refusal in the same transaction, which the
/// caller commits) unless the policy allows `access` to `data` of the
/// engagement's hospital. The operator is always allowed.
pub(crate) async fn require_in(
    tx: &mut Tx,
    ctx: &AuditContext,
    today: Date,
    e: &Engagement,
    data: HospitalData,
    access: Access,
) -> Result<std::result::Result<(), StoreError>> {
    let Some(actor) = ctx.actor else {
        return Ok(Ok(()));
    };
    let rel = relationship_in(tx, today, &actor, e.hospital_id).await?;
    if permits(rel, data, access) {
        return Ok(Ok(()));
    }
    append(
        tx,
        ctx,
        AuditAction::AccessDenied,
        format!("{data}:{}", e.hospital_id),
        Some(e.hospital_id),
        format!("{access} engagement:{}", e.id),
    )
    .await?;
    Ok(Err(mamori_domain::policy::Denied {
        hospital: e.hospital_id,
        data,
        access,
    }
    .into()))
}

/// Runs `require_in` and, on refusal, commits the audit record and returns the refusal.
macro_rules! require_or_refuse {
    ($tx:ident, $ctx:expr, $today:expr, $e:expr, $data:expr, $access:expr) => {
        if let Err(refused) =
            crate::engagements::require_in(&mut $tx, $ctx, $today, $e, $data, $access).await?
        {
            $tx.commit().await?;
            return Err(refused);
        }
    };
}
pub(crate) use require_or_refuse;

impl Store {
    /// The secretariat records a candidate hospital for a programme, with
    /// the survey company meant to survey it.
    pub async fn add_candidate(
        &self,
        ctx: &AuditContext,
        new: &NewCandidate,
    ) -> Result<Engagement> {
        ctx.require("decide engagements", may_register_organisations)?;
        let details = new.details.validated()?;
        let h = self.organisation(new.hospital).await?;
        let c = self.organisation(new.company).await?;
        if h.kind != OrgKind::Hospital {
            return Err(
                DomainError::invalid("hospital", format!("{} is not a hospital", h.name)).into(),
            );
        }
        if c.kind != OrgKind::SurveyCompany {
            return Err(DomainError::invalid(
                "company",
                format!("{} is not a survey company", c.name),
            )
            .into());
        }
        let programme = self.programme_row(new.programme).await?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO engagements (programme_id, hospital_id, company_id, state, source, source_detail, director_name, contact_department, contact_title, contact_name, contact_email, proposed_company, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id")
            .bind(programme.id.0)
            .bind(new.hospital.0)
            .bind(new.company.0)
            .bind(EngagementState::Candidate.slug())
            .bind(details.source.unwrap_or(RecruitmentRoute::ResearchNetwork).slug())
            .bind(&details.source_detail)
            .bind(&details.director_name)
            .bind(&details.contact_department)
            .bind(&details.contact_title)
            .bind(&details.contact_name)
            .bind(&details.contact_email)
            .bind(&details.proposed_company)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_unique("engagement", &format!("{} × {} ({})", h.name, c.name, programme.name)))?;
        append(
            &mut tx,
            ctx,
            AuditAction::EngagementCreated,
            format!("engagement:{id}"),
            Some(new.hospital),
            format!(
                "programme={} company={} source={}",
                programme.id,
                new.company,
                details.source.map(|s| s.slug()).unwrap_or_default()
            ),
        )
        .await?;
        tx.commit().await?;
        self.engagement_row(EngagementId(id)).await
    }

    /// Changes the recruitment details of an engagement (secretariat).
    pub async fn update_candidate(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        details: &CandidateDetails,
    ) -> Result<Engagement> {
        ctx.require("change engagements", may_register_organisations)?;
        let d = details.validated()?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, self.today(), id).await?;
        sqlx::query("UPDATE engagements SET source = $1, source_detail = $2, director_name = $3, contact_department = $4, contact_title = $5, contact_name = $6, contact_email = $7, proposed_company = $8, updated_at = $9 WHERE id = $10")
            .bind(d.source.unwrap_or(RecruitmentRoute::ResearchNetwork).slug())
            .bind(&d.source_detail)
            .bind(&d.director_name)
            .bind(&d.contact_department)
            .bind(&d.contact_title)
            .bind(&d.contact_name)
            .bind(&d.contact_email)
            .bind(&d.proposed_company)
            .bind(now_ms())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::EngagementUpdated,
            format!("engagement:{id}"),
            Some(e.hospital_id),
            "candidate details",
        )
        .await?;
        tx.commit().await?;
        self.engagement_row(id).await
    }

    /// The secretariat's confirmation that the company really takes this
    /// hospital (資料4 §5①: 「本当に調査を担当するか？」).
    pub async fn confirm_company(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        on: Date,
    ) -> Result<Engagement> {
        ctx.require("confirm companies", may_register_organisations)?;
        let today = self.today();
        crate::lifecycle::no_future("confirmed_on", on, today)?;
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, id).await?;
        sqlx::query(
            "UPDATE engagements SET company_confirmed_on = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(iso_day(on))
        .bind(now_ms())
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::EngagementUpdated,
            format!("engagement:{id}"),
            Some(e.hospital_id),
            format!("company {} confirmed on {on}", e.company_id),
        )
        .await?;
        tx.commit().await?;
        self.engagement_row(id).await
    }

    /// One engagement without any check, for use after the caller decided.
    pub(crate) async fn engagement_row(&self, id: EngagementId) -> Result<Engagement> {
        let mut conn = self.pool.acquire().await?;
        engagement_in(&mut conn, self.today(), id).await
    }

    async fn engagements_where(&self, clause: &str, binds: &[i64]) -> Result<Vec<Engagement>> {
        let sql = format!("{ENGAGEMENT_SELECT} {clause} ORDER BY {ENGAGEMENT_ORDER}");
        let mut query = sqlx::query_as::<_, EngagementRow>(sqlx::AssertSqlSafe(sql))
            .bind(iso_day(self.today()));
        for v in binds {
            query = query.bind(*v);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(engagement)
            .collect()
    }

    /// The engagements whose summary the actor may read. Each hospital shown
    /// is a read of its engagement summary, and is audited as one.
    pub async fn engagements_visible_to(&self, ctx: &AuditContext) -> Result<Vec<Engagement>> {
        Ok(self
            .engagement_overview(ctx, &EngagementFilter::default())
            .await?
            .into_iter()
            .map(|o| o.engagement)
            .collect())
    }

    /// The dashboard table: engagements the actor may see, narrowed by the
    /// filter, each with its deadlines as of today. Audited as one summary
    /// read per hospital shown.
    pub async fn engagement_overview(
        &self,
        ctx: &AuditContext,
        filter: &EngagementFilter,
    ) -> Result<Vec<EngagementOverview>> {
        let out = self.visible_overviews(ctx, filter).await?;
        self.audit_shown(ctx, &out).await?;
        Ok(out)
    }

    /// One page of the engagement table (`engagement_overview` cut to
    /// `paging`) and how many rows there are in all. The secretariat may
    /// read every engagement's summary, so for it the database counts and
    /// cuts the page; for others the policy weighs each candidate first.
    /// Only the rows of the page are shown, so only they are audited.
    pub async fn engagement_overview_page(
        &self,
        ctx: &AuditContext,
        filter: &EngagementFilter,
        paging: Paging,
    ) -> Result<EngagementOverviewPage> {
        let everything = ctx.actor.is_none_or(|a| a.org_kind == OrgKind::Secretariat);
        let unfiltered = EngagementFilter {
            overdue_only: filter.overdue_only,
            ..EngagementFilter::default()
        } == *filter;
        let (rows, total) = if everything && unfiltered {
            // The whole table: the order and the overdue ones are the
            // dashboard's scan.
            let (ids, total) = self
                .engagement_scan()
                .await?
                .page(filter.overdue_only, paging);
            let candidates = self.engagements_by_ids(&ids).await?;
            (self.overviews_of(ctx, filter, candidates).await?, total)
        } else if everything && !filter.overdue_only {
            let Some((clause, binds)) = overview_clause(ctx, filter, 1) else {
                return Ok(EngagementOverviewPage::default());
            };
            let joins = "FROM engagements e JOIN programmes p ON p.id = e.programme_id JOIN organisations h ON h.id = e.hospital_id JOIN organisations c ON c.id = e.company_id";
            // Every engagement has its programme and organisations (foreign
            // keys): the count needs the hospital only for its prefecture.
            let counted = if filter.prefecture.is_some() {
                "FROM engagements e JOIN organisations h ON h.id = e.hospital_id"
            } else {
                "FROM engagements e"
            };
            let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) {counted} {clause}"
            )));
            for v in &binds {
                count = count.bind(*v);
            }
            let total = usize::try_from(count.fetch_one(&self.pool).await?).unwrap_or(0);
            // Numbers of ours, never user text.
            let mut ids = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT e.id {joins} {clause} ORDER BY {ENGAGEMENT_ORDER} LIMIT {} OFFSET {}",
                paging.limit, paging.offset
            )));
            for v in &binds {
                ids = ids.bind(*v);
            }
            let ids = ids.fetch_all(&self.pool).await?;
            let candidates = self.engagements_by_ids(&ids).await?;
            (self.overviews_of(ctx, filter, candidates).await?, total)
        } else {
            let all = self.visible_overviews(ctx, filter).await?;
            let total = all.len();
            (paging.window(all), total)
        };
        self.audit_shown(ctx, &rows).await?;
        Ok(EngagementOverviewPage { rows, total })
    }

    /// The dashboard: the counts over every engagement the reader may see
    /// (numbers only, so not audited) and one page of its rows (all, or the
    /// overdue ones), audited as the summary reads they are.
    pub async fn engagement_dashboard(
        &self,
        ctx: &AuditContext,
        overdue_only: bool,
        paging: Paging,
    ) -> Result<(EngagementCounts, EngagementOverviewPage)> {
        if ctx.actor.is_none_or(|a| a.org_kind == OrgKind::Secretariat) {
            return self.secretariat_dashboard(ctx, overdue_only, paging).await;
        }
        let all = self
            .visible_overviews(ctx, &EngagementFilter::default())
            .await?;
        let mut counts = EngagementCounts {
            total: all.len(),
            ..EngagementCounts::default()
        };
        for o in &all {
            *counts.by_state.entry(o.engagement.state).or_default() += 1;
            if o.overdue {
                counts.overdue += 1;
            }
        }
        let chosen: Vec<EngagementOverview> = all
            .into_iter()
            .filter(|o| !overdue_only || o.overdue)
            .collect();
        let total = chosen.len();
        let rows = paging.window(chosen);
        self.audit_shown(ctx, &rows).await?;
        Ok((counts, EngagementOverviewPage { rows, total }))
    }

    /// `engagement_dashboard` for the secretariat, who may see every
    /// engagement: the states counted by the database, the deadlines
    /// computed from the dates alone (no names, no contacts), and only the
    /// rows shown read whole.
    async fn secretariat_dashboard(
        &self,
        ctx: &AuditContext,
        overdue_only: bool,
        paging: Paging,
    ) -> Result<(EngagementCounts, EngagementOverviewPage)> {
        let scan = self.engagement_scan().await?;
        let (ids, total) = scan.page(overdue_only, paging);
        let counts = scan.counts.clone();
        let candidates = self.engagements_by_ids(&ids).await?;
        let shown = self
            .overviews_of(ctx, &EngagementFilter::default(), candidates)
            .await?;
        self.audit_shown(ctx, &shown).await?;
        Ok((counts, EngagementOverviewPage { rows: shown, total }))
    }

    /// Every engagement counted by state and checked for overdue deadlines
    /// (from the dates alone: no names, no contacts), and all ids in the
    /// table's order. Kept for a few seconds: the dashboard asks for it on
    /// every view, and at national scale it is a pass over every engagement.
    /// A write through this store, or a new day, makes it stale at once.
    async fn engagement_scan(&self) -> Result<Arc<EngagementScan>> {
        let today = self.today();
        let generation = self.write_generation();
        let mut kept = self.engagement_scan.lock().await;
        if let Some(scan) = kept.as_ref()
            && scan.today == today
            && scan.generation == generation
            && scan.taken.elapsed() < ENGAGEMENT_SCAN_KEPT
        {
            return Ok(scan.clone());
        }
        let rows: Vec<DatesRow> =
            sqlx::query_as(
                "SELECT e.id, e.programme_id, e.state, e.intent_confirmed_on, e.contacted_on,
                 (SELECT MAX(a.valid_until) FROM agreements a WHERE a.engagement_id = e.id AND a.kind = 'nda' AND a.signed_on IS NOT NULL AND a.revoked_on IS NULL AND a.valid_from <= $1 AND a.valid_until >= $1)
                 FROM engagements e",
            )
            .bind(iso_day(today))
            .fetch_all(&self.pool)
            .await?;
        let requests = {
            let mut conn = self.pool.acquire().await?;
            crate::hearings::request_deadlines(&mut conn, None).await?
        };
        let mut milestones = std::collections::HashMap::new();
        let mut counts = EngagementCounts {
            total: rows.len(),
            ..EngagementCounts::default()
        };
        let mut overdue = std::collections::HashSet::new();
        for (id, programme, state, intent, contacted, nda) in rows {
            let state = EngagementState::parse(&state).map_err(corrupt("engagements.state"))?;
            *counts.by_state.entry(state).or_default() += 1;
            let dates = EngagementDates {
                state: Some(state),
                intent_confirmed_on: parse_optional_day("engagements.intent_confirmed_on", intent)?,
                contacted_on: parse_optional_day("engagements.contacted_on", contacted)?,
                nda_valid_until: parse_optional_day("agreements.valid_until", nda)?,
            };
            let programme = ProgrammeId(programme);
            if let std::collections::hash_map::Entry::Vacant(slot) = milestones.entry(programme) {
                slot.insert(self.milestones(programme).await?);
            }
            let mut deadlines = engagement_deadlines(&dates, &milestones[&programme]);
            let id = EngagementId(id);
            if !state.is_closed_early() {
                deadlines = crate::hearings::with_request_deadlines(deadlines, requests.get(&id));
            }
            if deadlines.iter().any(|d| d.is_overdue(today)) {
                counts.overdue += 1;
                overdue.insert(id.0);
            }
        }
        let ordered: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT e.id FROM engagements e JOIN programmes p ON p.id = e.programme_id JOIN organisations h ON h.id = e.hospital_id JOIN organisations c ON c.id = e.company_id ORDER BY {ENGAGEMENT_ORDER}"
        )))
        .fetch_all(&self.pool)
        .await?;
        let scan = Arc::new(EngagementScan {
            today,
            generation,
            taken: std::time::Instant::now(),
            counts,
            overdue,
            ordered,
        });
        *kept = Some(scan.clone());
        Ok(scan)
    }

    /// The engagements of one organisation (as its hospital or its
    /// company) that the reader may see, each audited as a summary read.
    pub async fn engagements_of_organisation(
        &self,
        ctx: &AuditContext,
        org: OrgId,
    ) -> Result<Vec<Engagement>> {
        let Some((mut clause, mut binds)) = overview_clause(ctx, &EngagementFilter::default(), 2)
        else {
            return Ok(Vec::new());
        };
        let n = binds.len() + 2;
        clause.push_str(&format!(
            "{} (e.hospital_id = ${n} OR e.company_id = ${n})",
            if clause.is_empty() { "WHERE" } else { " AND" }
        ));
        binds.push(org.0);
        let candidates = self.engagements_where(&clause, &binds).await?;
        let rows = self
            .overviews_of(ctx, &EngagementFilter::default(), candidates)
            .await?;
        self.audit_shown(ctx, &rows).await?;
        Ok(rows.into_iter().map(|o| o.engagement).collect())
    }

    /// Every engagement the actor may see, narrowed by the filter, with its
    /// deadlines today; not audited (the caller audits what it shows).
    async fn visible_overviews(
        &self,
        ctx: &AuditContext,
        filter: &EngagementFilter,
    ) -> Result<Vec<EngagementOverview>> {
        let Some((clause, binds)) = overview_clause(ctx, filter, 2) else {
            return Ok(Vec::new());
        };
        let candidates = self.engagements_where(&clause, &binds).await?;
        self.overviews_of(ctx, filter, candidates).await
    }

    /// The candidates as the actor may see them: the policy asked per
    /// hospital (contacts blanked where the record is closed to it), the
    /// deadlines of each as of today, the overdue filter applied.
    async fn overviews_of(
        &self,
        ctx: &AuditContext,
        filter: &EngagementFilter,
        candidates: Vec<Engagement>,
    ) -> Result<Vec<EngagementOverview>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let today = self.today();
        // The policy reads all engagements of each hospital shown: one query
        // for all of them, not one per row.
        let links = match ctx.actor {
            Some(actor) if actor.org_kind != OrgKind::Secretariat => {
                let mut hospitals: Vec<i64> = candidates.iter().map(|e| e.hospital_id.0).collect();
                hospitals.sort_unstable();
                hospitals.dedup();
                self.links_of_hospitals(&hospitals).await?
            }
            _ => Vec::new(),
        };
        let mut milestones = std::collections::HashMap::new();
        // Open material requests of all engagements in one query.
        let requests = {
            let mut conn = self.pool.acquire().await?;
            crate::hearings::request_deadlines(&mut conn, None).await?
        };
        let mut out = Vec::new();
        for mut e in candidates {
            let mut may_see_requests = true;
            if let Some(actor) = ctx.actor {
                let rel = relationship(&actor, e.hospital_id, &links);
                if !permits(rel, HospitalData::EngagementSummary, Access::Read) {
                    continue;
                }
                if !permits(rel, HospitalData::EngagementRecord, Access::Read) {
                    e.candidate.blank_contacts();
                }
                may_see_requests = permits(rel, HospitalData::SurveyResponses, Access::Read);
            }
            if let std::collections::hash_map::Entry::Vacant(slot) =
                milestones.entry(e.programme_id)
            {
                slot.insert(self.milestones(e.programme_id).await?);
            }
            let mut deadlines = engagement_deadlines(&e.dates(), &milestones[&e.programme_id]);
            if may_see_requests && !e.state.is_closed_early() {
                deadlines = crate::hearings::with_request_deadlines(deadlines, requests.get(&e.id));
            }
            let overdue = deadlines.iter().any(|d| d.is_overdue(today));
            if filter.overdue_only && !overdue {
                continue;
            }
            out.push(EngagementOverview {
                engagement: e,
                deadlines,
                overdue,
            });
        }
        Ok(out)
    }

    /// Audits each row shown as a read of its hospital's engagement summary.
    async fn audit_shown(&self, ctx: &AuditContext, rows: &[EngagementOverview]) -> Result<()> {
        let reads: Vec<(String, OrgId)> = rows
            .iter()
            .map(|o| {
                (
                    format!("engagement:{}", o.engagement.id),
                    o.engagement.hospital_id,
                )
            })
            .collect();
        self.record_hospital_reads(ctx, &reads, "summary").await
    }

    /// The engagements with these ids, in the order given.
    async fn engagements_by_ids(&self, ids: &[i64]) -> Result<Vec<Engagement>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<EngagementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ENGAGEMENT_SELECT} WHERE e.id IN ({})",
            crate::db::id_list(ids)
        )))
        .bind(iso_day(self.today()))
        .fetch_all(&self.pool)
        .await?;
        let mut found: std::collections::HashMap<i64, Engagement> = rows
            .into_iter()
            .map(|r| engagement(r).map(|e| (e.id.0, e)))
            .collect::<Result<_>>()?;
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// The links of several hospitals at once (ids are numbers, written
    /// into the statement in chunks).
    async fn links_of_hospitals(&self, hospitals: &[i64]) -> Result<Vec<EngagementLink>> {
        let mut links = Vec::new();
        for chunk in hospitals.chunks(500) {
            let list = crate::db::id_list(chunk);
            let rows: Vec<EngagementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ENGAGEMENT_SELECT} WHERE e.hospital_id IN ({list})"
            )))
            .bind(iso_day(self.today()))
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                links.push(engagement(row)?.link());
            }
        }
        Ok(links)
    }
}

/// The WHERE clause of the engagement lists for this actor and filter, its
/// placeholders numbered from `$first`, with the numbers to bind to them;
/// `None` when the actor may see no engagement at all (a vendor).
fn overview_clause(
    ctx: &AuditContext,
    filter: &EngagementFilter,
    first: usize,
) -> Option<(String, Vec<i64>)> {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<i64> = Vec::new();
    let mut add = |condition: &str, value: i64| {
        conditions.push(condition.replace('?', &format!("${}", binds.len() + first)));
        binds.push(value);
    };
    if let Some(actor) = ctx.actor {
        match actor.org_kind {
            OrgKind::SurveyCompany => add("e.company_id = ?", actor.org.0),
            OrgKind::Hospital => add("e.hospital_id = ?", actor.org.0),
            OrgKind::Vendor => return None,
            _ => {}
        }
    }
    if let Some(p) = filter.programme {
        add("e.programme_id = ?", p.0);
    }
    if let Some(c) = filter.company {
        add("e.company_id = ?", c.0);
    }
    if let Some(p) = filter.prefecture {
        add("h.prefecture = ?", i64::from(p));
    }
    let mut clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    if let Some(state) = filter.state {
        // A slug from the enum, never user text.
        clause.push_str(&format!(
            "{} e.state = '{}'",
            if clause.is_empty() { "WHERE" } else { " AND" },
            state.slug()
        ));
    }
    Some((clause, binds))
}

/// The engagements of one hospital, as the policy needs them, read on the
/// caller's connection (inside its transaction when it has one).
pub(crate) async fn links_of(
    conn: &mut sqlx::AnyConnection,
    today: Date,
    hospital: OrgId,
) -> Result<Vec<EngagementLink>> {
    let rows: Vec<EngagementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ENGAGEMENT_SELECT} WHERE e.hospital_id = $2"
    )))
    .bind(iso_day(today))
    .bind(hospital.0)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| Ok(engagement(r)?.link()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use mamori_domain::organisation::Role;

    async fn summary_reads(db: &testing::TestDb) -> i64 {
        db.count("SELECT COUNT(*) FROM audit_events WHERE action = 'hospital-data.read' AND detail = 'summary'")
            .await
    }

    #[tokio::test]
    async fn pages_of_the_engagement_table_follow_its_order_and_audit_only_what_they_show() {
        testing::each_backend(|db| async move {
            let s = &db.store;
            let operator = AuditContext::operator("test");
            let sec = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
            let sec_account = testing::add_account(s, sec, "sec@example.jp", Role::Member).await;
            let secretariat =
                AuditContext::for_actor(sec_account.actor(), sec_account.email.clone(), None);
            let a = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
            let b = testing::add_org(s, OrgKind::SurveyCompany, "調査B社").await;
            let a_account = testing::add_account(s, a, "a@example.jp", Role::Member).await;
            let company = AuditContext::for_actor(a_account.actor(), a_account.email.clone(), None);
            let programme = testing::add_programme(s, "令和8年度 調査").await;
            for n in 0..7 {
                let h = testing::add_org(s, OrgKind::Hospital, &format!("病院{n}")).await;
                let c = if n % 2 == 0 { a } else { b };
                testing::add_engagement(s, programme, h, c, EngagementState::Candidate).await;
            }
            let all = s
                .engagement_overview(&operator, &EngagementFilter::default())
                .await
                .unwrap();
            assert_eq!(all.len(), 7);
            for ctx in [&operator, &secretariat] {
                let mut seen = Vec::new();
                for page in 1..=4 {
                    let before = summary_reads(&db).await;
                    let p = s
                        .engagement_overview_page(
                            ctx,
                            &EngagementFilter::default(),
                            Paging::page(page, 3),
                        )
                        .await
                        .unwrap();
                    assert_eq!(p.total, 7);
                    assert_eq!(p.rows.len(), [3, 3, 1, 0][page - 1]);
                    let audited = summary_reads(&db).await - before;
                    let expected = if ctx.actor.is_some() { p.rows.len() } else { 0 };
                    assert_eq!(audited, expected as i64, "one summary read per row shown");
                    seen.extend(p.rows);
                }
                assert_eq!(seen, all, "the pages are the table, in order, once");
            }
            // A filter narrows the count as well as the rows.
            let only_b = EngagementFilter {
                company: Some(b),
                ..Default::default()
            };
            let p = s
                .engagement_overview_page(&secretariat, &only_b, Paging::page(1, 2))
                .await
                .unwrap();
            assert_eq!((p.total, p.rows.len()), (3, 2));
            assert!(p.rows.iter().all(|o| o.engagement.company_id == b));
            // A company sees its own engagements only, paged after the policy.
            let p = s
                .engagement_overview_page(
                    &company,
                    &EngagementFilter::default(),
                    Paging::page(2, 3),
                )
                .await
                .unwrap();
            assert_eq!((p.total, p.rows.len()), (4, 1));
            assert!(p.rows.iter().all(|o| o.engagement.company_id == a));
            // The dashboard counts everything it may see and shows a page.
            let (counts, shown) = s
                .engagement_dashboard(&company, false, Paging::page(1, 2))
                .await
                .unwrap();
            assert_eq!(counts.total, 4);
            assert_eq!(counts.count(|st| st == EngagementState::Candidate), 4);
            assert_eq!((shown.total, shown.rows.len()), (4, 2));
            // The secretariat's counts, from the dates alone, agree with the table.
            for overdue_only in [false, true] {
                let (counts, shown) = s
                    .engagement_dashboard(&secretariat, overdue_only, Paging::page(1, 2))
                    .await
                    .unwrap();
                assert_eq!(counts.total, 7);
                assert_eq!(counts.count(|st| st == EngagementState::Candidate), 7);
                let overdue: Vec<_> = all.iter().filter(|o| o.overdue).cloned().collect();
                assert_eq!(counts.overdue, overdue.len());
                let expected: Vec<_> = if overdue_only { overdue } else { all.clone() };
                assert_eq!(shown.total, expected.len());
                assert_eq!(shown.rows, expected.into_iter().take(2).collect::<Vec<_>>());
            }
            // The engagements of one organisation.
            let of_b = s
                .engagements_of_organisation(&secretariat, b)
                .await
                .unwrap();
            assert_eq!(of_b.len(), 3);
            assert!(
                s.engagements_of_organisation(&company, b)
                    .await
                    .unwrap()
                    .is_empty(),
                "a company never sees another's engagements"
            );
            db
        })
        .await;
    }
}
