//! Engagements: "company X surveys hospital Y, in state S". The lifecycle
//! issue adds programmes, transitions and their owners on top.

use crate::audit::{AuditContext, append};
use crate::error::corrupt;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::engagement::{EngagementLink, EngagementState};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, authorize_hospital, may_register_organisations};
use mamori_domain::{DomainError, EngagementId, OrgId};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Engagement {
    pub id: EngagementId,
    pub hospital_id: OrgId,
    pub hospital_name: String,
    pub company_id: OrgId,
    pub company_name: String,
    pub state: EngagementState,
    pub updated_at_ms: i64,
}

impl Engagement {
    pub fn link(&self) -> EngagementLink {
        EngagementLink {
            engagement: self.id,
            hospital: self.hospital_id,
            company: self.company_id,
            state: self.state,
        }
    }
}

type EngagementRow = (i64, i64, String, i64, String, String, i64);

const ENGAGEMENT_SELECT: &str = "SELECT e.id, e.hospital_id, h.name, e.company_id, c.name, e.state, e.updated_at FROM engagements e JOIN organisations h ON h.id = e.hospital_id JOIN organisations c ON c.id = e.company_id";

fn engagement(row: EngagementRow) -> Result<Engagement> {
    Ok(Engagement {
        id: EngagementId(row.0),
        hospital_id: OrgId(row.1),
        hospital_name: row.2,
        company_id: OrgId(row.3),
        company_name: row.4,
        state: EngagementState::parse(&row.5).map_err(corrupt("engagements.state"))?,
        updated_at_ms: row.6,
    })
}

impl Store {
    /// The secretariat pairs a hospital with a survey company.
    pub async fn create_engagement(
        &self,
        ctx: &AuditContext,
        hospital: OrgId,
        company: OrgId,
        state: EngagementState,
    ) -> Result<Engagement> {
        ctx.require("decide engagements", may_register_organisations)?;
        let h = self.organisation(hospital).await?;
        let c = self.organisation(company).await?;
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
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO engagements (hospital_id, company_id, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id")
            .bind(hospital.0)
            .bind(company.0)
            .bind(state.slug())
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_unique("engagement", &format!("{} × {}", h.name, c.name)))?;
        append(
            &mut tx,
            ctx,
            AuditAction::EngagementCreated,
            format!("engagement:{id}"),
            Some(hospital),
            format!("company={company} state={state}"),
        )
        .await?;
        tx.commit().await?;
        Ok(Engagement {
            id: EngagementId(id),
            hospital_id: hospital,
            hospital_name: h.name,
            company_id: company,
            company_name: c.name,
            state,
            updated_at_ms: now,
        })
    }

    /// Sets an engagement's state (secretariat; the lifecycle issue replaces
    /// this with owned transitions). Returns the hospital concerned.
    pub async fn set_engagement_state(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        state: EngagementState,
    ) -> Result<OrgId> {
        ctx.require("decide engagements", may_register_organisations)?;
        let mut tx = self.begin_write().await?;
        let hospital: Option<i64> = sqlx::query_scalar("UPDATE engagements SET state = $1, updated_at = $2 WHERE id = $3 RETURNING hospital_id")
            .bind(state.slug())
            .bind(now_ms())
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(hospital) = hospital else {
            return Err(StoreError::NotFound {
                what: "engagement",
                key: id.to_string(),
            });
        };
        append(
            &mut tx,
            ctx,
            AuditAction::EngagementUpdated,
            format!("engagement:{id}"),
            Some(OrgId(hospital)),
            format!("state={state}"),
        )
        .await?;
        tx.commit().await?;
        Ok(OrgId(hospital))
    }

    async fn engagements_where(
        &self,
        clause: &'static str,
        value: Option<i64>,
    ) -> Result<Vec<Engagement>> {
        let sql = format!("{ENGAGEMENT_SELECT} {clause} ORDER BY h.name, c.name");
        let mut query = sqlx::query_as::<_, EngagementRow>(sqlx::AssertSqlSafe(sql));
        if let Some(v) = value {
            query = query.bind(v);
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
        let Some(actor) = ctx.actor else {
            return self.engagements_where("", None).await;
        };
        let candidates = match actor.org_kind {
            OrgKind::SurveyCompany => {
                self.engagements_where("WHERE e.company_id = $1", Some(actor.org.0))
                    .await?
            }
            OrgKind::Hospital => {
                self.engagements_where("WHERE e.hospital_id = $1", Some(actor.org.0))
                    .await?
            }
            _ => self.engagements_where("", None).await?,
        };
        let visible: Vec<Engagement> = candidates
            .into_iter()
            .filter(|e| {
                authorize_hospital(
                    &actor,
                    e.hospital_id,
                    OrgKind::Hospital,
                    HospitalData::EngagementSummary,
                    Access::Read,
                    &[e.link()],
                )
                .is_ok()
            })
            .collect();
        let reads: Vec<(String, OrgId)> = visible
            .iter()
            .map(|e| (format!("engagement:{}", e.id), e.hospital_id))
            .collect();
        self.record_hospital_reads(ctx, &reads, "summary").await?;
        Ok(visible)
    }
}

/// The engagements of one hospital, as the policy needs them, read on the
/// caller's connection (inside its transaction when it has one).
pub(crate) async fn links_of(
    conn: &mut sqlx::AnyConnection,
    hospital: OrgId,
) -> Result<Vec<EngagementLink>> {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT id, hospital_id, company_id, state FROM engagements WHERE hospital_id = $1",
    )
    .bind(hospital.0)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, h, c, state)| {
            Ok(EngagementLink {
                engagement: EngagementId(id),
                hospital: OrgId(h),
                company: OrgId(c),
                state: EngagementState::parse(&state).map_err(corrupt("engagements.state"))?,
            })
        })
        .collect()
}
