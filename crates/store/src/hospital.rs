//! A hospital's own data. Every function here takes a [`HospitalGrant`],
//! which only the policy can issue: there is no way to reach this data
//! without asking it first. Inside the operation's transaction the policy is
//! asked again, so an engagement withdrawn a moment ago closes the door.

use crate::audit::{AuditContext, append};
use crate::db::Tx;
use crate::engagements::links_of;
use crate::organisations::kind_of;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::organisation::{HospitalAttributes, OrgKind};
use mamori_domain::policy::{
    Access, Actor, Denied, HospitalData, HospitalGrant, authorize_hospital, permits, relationship,
};
use mamori_domain::{AccountId, DomainError, OrgId, validate};
use serde::{Deserialize, Serialize};

/// 施設概要: the facts about a hospital's IT that drive the survey's effort
/// (seed 資料4 §4③: beds, the IT staff and their skills, what is outsourced
/// to vendors). Part of the ledger the hospital keeps current.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityProfile {
    pub it_staff_count: Option<u32>,
    pub it_staff_skills: String,
    pub ehr_vendor: String,
    pub maintenance_outsourcing: String,
    pub notes: String,
    pub updated_at_ms: Option<i64>,
    pub updated_by: Option<AccountId>,
}

/// What everyone engaged with a hospital may know of it: its name and facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HospitalSummary {
    pub id: OrgId,
    pub name: String,
    pub attributes: Option<HospitalAttributes>,
}

impl FacilityProfile {
    fn validated(&self) -> Result<FacilityProfile> {
        if self.it_staff_count.is_some_and(|n| n > 10_000) {
            return Err(DomainError::invalid("it_staff_count", "more than 10,000").into());
        }
        Ok(FacilityProfile {
            it_staff_count: self.it_staff_count,
            it_staff_skills: validate::note("it_staff_skills", &self.it_staff_skills, 2000)?,
            ehr_vendor: validate::note("ehr_vendor", &self.ehr_vendor, 200)?,
            maintenance_outsourcing: validate::note(
                "maintenance_outsourcing",
                &self.maintenance_outsourcing,
                4000,
            )?,
            notes: validate::note("notes", &self.notes, 8000)?,
            updated_at_ms: None,
            updated_by: None,
        })
    }
}

pub(crate) fn require(
    grant: &HospitalGrant,
    ctx: &AuditContext,
    data: HospitalData,
    access: Access,
) -> Result<()> {
    if grant.data() != data || grant.access() != access || ctx.actor.as_ref() != Some(grant.actor())
    {
        return Err(StoreError::Forbidden("grant does not cover this operation"));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    it_staff_count: Option<i64>,
    it_staff_skills: String,
    ehr_vendor: String,
    maintenance_outsourcing: String,
    notes: String,
    updated_at: i64,
    updated_by: Option<i64>,
}

/// Asks the policy again with the engagements as this transaction sees them.
pub(crate) async fn recheck(tx: &mut Tx, grant: &HospitalGrant, today: time::Date) -> Result<()> {
    let hospital = grant.hospital();
    let kind = kind_of(tx, hospital).await?;
    let links = links_of(tx, today, hospital).await?;
    let still = kind.is_some_and(|kind| {
        authorize_hospital(
            grant.actor(),
            hospital,
            kind,
            grant.data(),
            grant.access(),
            &links,
        )
        .is_ok()
    });
    if still {
        Ok(())
    } else {
        Err(Denied {
            hospital,
            data: grant.data(),
            access: grant.access(),
        }
        .into())
    }
}

impl Store {
    /// Asks the policy for access to one kind of a hospital's data. A refusal
    /// is audited and answered the same whether or not the hospital exists.
    pub async fn authorize(
        &self,
        ctx: &AuditContext,
        hospital: OrgId,
        data: HospitalData,
        access: Access,
    ) -> Result<HospitalGrant> {
        let actor = ctx
            .actor
            .ok_or(StoreError::Forbidden("hospital data needs a person"))?;
        let mut conn = self.pool.acquire().await?;
        let kind = kind_of(&mut conn, hospital).await?;
        let links = links_of(&mut conn, self.today(), hospital).await?;
        drop(conn);
        let decision = match kind {
            Some(kind) => authorize_hospital(&actor, hospital, kind, data, access, &links),
            None => Err(Denied {
                hospital,
                data,
                access,
            }),
        };
        match decision {
            Ok(grant) => Ok(grant),
            Err(denied) => {
                self.record_event(
                    ctx,
                    AuditAction::AccessDenied,
                    format!("{data}:{hospital}"),
                    kind.map(|_| hospital),
                    access.slug(),
                )
                .await?;
                Err(denied.into())
            }
        }
    }

    /// Whether the policy would allow it, without asking for a grant and
    /// without an audit record: for deciding what a page offers, never for
    /// reaching the data.
    pub async fn may(
        &self,
        actor: &Actor,
        hospital: OrgId,
        data: HospitalData,
        access: Access,
    ) -> Result<bool> {
        let mut conn = self.pool.acquire().await?;
        if kind_of(&mut conn, hospital).await? != Some(OrgKind::Hospital) {
            return Ok(false);
        }
        let links = links_of(&mut conn, self.today(), hospital).await?;
        Ok(permits(relationship(actor, hospital, &links), data, access))
    }

    /// The hospital's name and facts (engagement-summary data); audited.
    pub async fn hospital_summary(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
    ) -> Result<HospitalSummary> {
        require(grant, ctx, HospitalData::EngagementSummary, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let org = crate::organisations::organisation_in(&mut tx, hospital).await?;
        self.finish_read(
            tx,
            ctx,
            format!("hospital:{hospital}"),
            Some(hospital),
            "summary",
        )
        .await?;
        Ok(HospitalSummary {
            id: org.id,
            name: org.name,
            attributes: org.hospital,
        })
    }

    /// Reads the facility profile; the read is audited in the same transaction.
    pub async fn facility_profile(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
    ) -> Result<FacilityProfile> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let row: Option<ProfileRow> = sqlx::query_as(
            "SELECT it_staff_count, it_staff_skills, ehr_vendor, maintenance_outsourcing, notes, updated_at, updated_by FROM facility_profiles WHERE hospital_id = $1",
        )
        .bind(hospital.0)
        .fetch_optional(&mut *tx)
        .await?;
        self.finish_read(
            tx,
            ctx,
            format!("facility-profile:{hospital}"),
            Some(hospital),
            "",
        )
        .await?;
        Ok(match row {
            Some(r) => FacilityProfile {
                it_staff_count: r.it_staff_count.and_then(|n| u32::try_from(n).ok()),
                it_staff_skills: r.it_staff_skills,
                ehr_vendor: r.ehr_vendor,
                maintenance_outsourcing: r.maintenance_outsourcing,
                notes: r.notes,
                updated_at_ms: Some(r.updated_at),
                updated_by: r.updated_by.map(AccountId),
            },
            None => FacilityProfile::default(),
        })
    }

    /// Replaces the facility profile; audited.
    pub async fn save_facility_profile(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        profile: &FacilityProfile,
    ) -> Result<()> {
        require(grant, ctx, HospitalData::Ledger, Access::Write)?;
        let profile = profile.validated()?;
        let hospital = grant.hospital();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        sqlx::query(
            "INSERT INTO facility_profiles (hospital_id, it_staff_count, it_staff_skills, ehr_vendor, maintenance_outsourcing, notes, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (hospital_id) DO UPDATE SET it_staff_count = excluded.it_staff_count, it_staff_skills = excluded.it_staff_skills,
               ehr_vendor = excluded.ehr_vendor, maintenance_outsourcing = excluded.maintenance_outsourcing, notes = excluded.notes,
               updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(hospital.0)
        .bind(profile.it_staff_count.map(i64::from))
        .bind(&profile.it_staff_skills)
        .bind(&profile.ehr_vendor)
        .bind(&profile.maintenance_outsourcing)
        .bind(&profile.notes)
        .bind(now)
        .bind(grant.actor().account.0)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataWritten,
            format!("facility-profile:{hospital}"),
            Some(hospital),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
