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
        let sql =
            format!("{ENGAGEMENT_SELECT} {clause} ORDER BY p.fiscal_year DESC, h.name, c.name");
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
        let mut conditions: Vec<String> = Vec::new();
        let mut binds: Vec<i64> = Vec::new();
        let mut add = |condition: &str, value: i64| {
            binds.push(value);
            conditions.push(condition.replace('?', &format!("${}", binds.len() + 1)));
        };
        if let Some(actor) = ctx.actor {
            match actor.org_kind {
                OrgKind::SurveyCompany => add("e.company_id = ?", actor.org.0),
                OrgKind::Hospital => add("e.hospital_id = ?", actor.org.0),
                OrgKind::Vendor => return Ok(Vec::new()),
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
        let candidates = self.engagements_where(&clause, &binds).await?;
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
        let reads: Vec<(String, OrgId)> = out
            .iter()
            .map(|o| {
                (
                    format!("engagement:{}", o.engagement.id),
                    o.engagement.hospital_id,
                )
            })
            .collect();
        self.record_hospital_reads(ctx, &reads, "summary").await?;
        Ok(out)
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
