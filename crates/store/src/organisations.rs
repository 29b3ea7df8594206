use crate::audit::{AuditContext, append};
use crate::error::corrupt;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::OrgId;
use mamori_domain::audit::AuditAction;
use mamori_domain::organisation::{
    FounderType, HospitalAttributes, OrgKind, Prefecture, RecruitmentRoute,
};
use mamori_domain::policy::{Access, may_access_organisation, may_register_organisations};
use mamori_domain::validate;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub id: OrgId,
    pub kind: OrgKind,
    pub name: String,
    /// Set for hospitals once known.
    pub hospital: Option<HospitalAttributes>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation {
    pub kind: OrgKind,
    pub name: String,
    pub hospital: Option<HospitalAttributes>,
}

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: i64,
    kind: String,
    name: String,
    prefecture: Option<i64>,
    bed_count: Option<i64>,
    founder_type: Option<String>,
    recruitment_route: Option<String>,
    created_at: i64,
}

impl TryFrom<OrgRow> for Organisation {
    type Error = StoreError;
    fn try_from(row: OrgRow) -> Result<Self> {
        let hospital = match (
            row.prefecture,
            row.bed_count,
            row.founder_type,
            row.recruitment_route,
        ) {
            (Some(p), Some(b), Some(f), Some(r)) => Some(HospitalAttributes {
                prefecture: Prefecture::from_code(u8::try_from(p).unwrap_or(0))
                    .map_err(corrupt("organisations.prefecture"))?,
                bed_count: u32::try_from(b).unwrap_or(0),
                founder_type: FounderType::parse(&f)
                    .map_err(corrupt("organisations.founder_type"))?,
                recruitment_route: RecruitmentRoute::parse(&r)
                    .map_err(corrupt("organisations.recruitment_route"))?,
            }),
            _ => None,
        };
        Ok(Organisation {
            id: OrgId(row.id),
            kind: OrgKind::parse(&row.kind).map_err(corrupt("organisations.kind"))?,
            name: row.name,
            hospital,
            created_at_ms: row.created_at,
        })
    }
}

const ORG_COLUMNS: &str =
    "id, kind, name, prefecture, bed_count, founder_type, recruitment_route, created_at";

fn attribute_binds(
    h: Option<&HospitalAttributes>,
) -> (Option<i64>, Option<i64>, Option<String>, Option<String>) {
    match h {
        Some(h) => (
            Some(i64::from(h.prefecture.code())),
            Some(i64::from(h.bed_count)),
            Some(h.founder_type.slug().to_string()),
            Some(h.recruitment_route.slug().to_string()),
        ),
        None => (None, None, None, None),
    }
}

impl Store {
    /// Registers an organisation (secretariat or operator only).
    pub async fn create_organisation(
        &self,
        ctx: &AuditContext,
        new: NewOrganisation,
    ) -> Result<Organisation> {
        ctx.require("register organisations", may_register_organisations)?;
        let name = validate::display_name("name", &new.name)?;
        if new.hospital.is_some() && new.kind != OrgKind::Hospital {
            return Err(mamori_domain::DomainError::invalid(
                "kind",
                "only hospitals have prefecture, beds, founder and recruitment route",
            )
            .into());
        }
        let now = now_ms();
        let (p, b, f, r) = attribute_binds(new.hospital.as_ref());
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO organisations (kind, name, prefecture, bed_count, founder_type, recruitment_route, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(new.kind.slug())
        .bind(&name)
        .bind(p)
        .bind(b)
        .bind(f)
        .bind(r)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::on_unique("organisation", &name))?;
        append(
            &mut tx,
            ctx,
            AuditAction::OrganisationCreated,
            format!("organisation:{id}"),
            (new.kind == OrgKind::Hospital).then_some(OrgId(id)),
            format!("kind={} name={name}", new.kind),
        )
        .await?;
        tx.commit().await?;
        Ok(Organisation {
            id: OrgId(id),
            kind: new.kind,
            name,
            hospital: new.hospital,
            created_at_ms: now,
        })
    }

    /// Sets or changes a hospital's prefecture, beds, founder and route.
    pub async fn update_hospital_attributes(
        &self,
        ctx: &AuditContext,
        hospital: OrgId,
        attributes: HospitalAttributes,
    ) -> Result<()> {
        ctx.require("change organisation", |a| {
            may_access_organisation(a, hospital, Access::Write)
        })?;
        let org = self.organisation(hospital).await?;
        if org.kind != OrgKind::Hospital {
            return Err(mamori_domain::DomainError::invalid("kind", "not a hospital").into());
        }
        let (p, b, f, r) = attribute_binds(Some(&attributes));
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE organisations SET prefecture = $1, bed_count = $2, founder_type = $3, recruitment_route = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(p)
        .bind(b)
        .bind(f)
        .bind(r)
        .bind(now_ms())
        .bind(hospital.0)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::OrganisationUpdated,
            format!("organisation:{hospital}"),
            Some(hospital),
            format!(
                "prefecture={} beds={} founder={} route={}",
                attributes.prefecture.code(),
                attributes.bed_count,
                attributes.founder_type,
                attributes.recruitment_route
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One organisation, without a policy check: for the store's own use.
    /// People reach organisations through [`Store::organisation_for`].
    pub(crate) async fn organisation(&self, id: OrgId) -> Result<Organisation> {
        let mut conn = self.pool.acquire().await?;
        organisation_in(&mut conn, id).await
    }

    /// Finds an organisation by id or by its exact name (the CLI's `--org`;
    /// the operator has the database itself in hand).
    pub async fn find_organisation(&self, id_or_name: &str) -> Result<Organisation> {
        if let Ok(id) = id_or_name.trim().parse::<i64>()
            && let Ok(org) = self.organisation(OrgId(id)).await
        {
            return Ok(org);
        }
        let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE name = $1");
        sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(sql))
            .bind(id_or_name.trim())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "organisation",
                key: id_or_name.to_string(),
            })?
            .try_into()
    }

    /// Every organisation (operator use: demo, CLI listings).
    pub async fn all_organisations(&self) -> Result<Vec<Organisation>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organisations ORDER BY kind, name");
        sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Organisation::try_from)
            .collect()
    }

    /// The organisations of one kind, by name (the survey companies of a
    /// filter, without reading every hospital).
    pub async fn organisations_of_kind(&self, kind: OrgKind) -> Result<Vec<Organisation>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE kind = $1 ORDER BY name");
        sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(sql))
            .bind(kind.slug())
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Organisation::try_from)
            .collect()
    }

    /// How many organisations there are of each kind.
    pub async fn organisation_counts(&self) -> Result<std::collections::BTreeMap<OrgKind, usize>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT kind, COUNT(*) FROM organisations GROUP BY kind")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(kind, n)| {
                Ok((
                    OrgKind::parse(&kind).map_err(corrupt("organisations.kind"))?,
                    usize::try_from(n).unwrap_or(0),
                ))
            })
            .collect()
    }

    /// The organisations the actor may read: all for the secretariat and the
    /// supervisor, otherwise only its own. Each hospital listed is a read of
    /// that hospital's data, and audited as one.
    pub async fn organisations_visible_to(&self, ctx: &AuditContext) -> Result<Vec<Organisation>> {
        let all = self.all_organisations().await?;
        let Some(actor) = ctx.actor else {
            return Ok(all);
        };
        let visible: Vec<Organisation> = all
            .into_iter()
            .filter(|o| may_access_organisation(&actor, o.id, Access::Read))
            .collect();
        let hospitals: Vec<(String, OrgId)> = visible
            .iter()
            .filter(|o| o.kind == OrgKind::Hospital)
            .map(|o| (format!("organisation:{}", o.id), o.id))
            .collect();
        self.record_hospital_reads(ctx, &hospitals, "organisation")
            .await?;
        Ok(visible)
    }

    /// One organisation if the actor may read it; otherwise `NotFound`, so
    /// that its existence is not revealed. Reading a hospital is audited.
    pub async fn organisation_for(&self, ctx: &AuditContext, id: OrgId) -> Result<Organisation> {
        let allowed = ctx
            .actor
            .is_none_or(|actor| may_access_organisation(&actor, id, Access::Read));
        if !allowed {
            return Err(StoreError::NotFound {
                what: "organisation",
                key: id.to_string(),
            });
        }
        let org = self.organisation(id).await?;
        if org.kind == OrgKind::Hospital {
            self.record_hospital_reads(ctx, &[(format!("organisation:{id}"), id)], "organisation")
                .await?;
        }
        Ok(org)
    }
}

/// One organisation, read on the caller's connection.
pub(crate) async fn organisation_in(
    conn: &mut sqlx::AnyConnection,
    id: OrgId,
) -> Result<Organisation> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1");
    sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "organisation",
            key: id.to_string(),
        })?
        .try_into()
}

/// The kind of an organisation, `None` when there is none with that id.
pub(crate) async fn kind_of(conn: &mut sqlx::AnyConnection, id: OrgId) -> Result<Option<OrgKind>> {
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM organisations WHERE id = $1")
        .bind(id.0)
        .fetch_optional(conn)
        .await?;
    kind.map(|k| OrgKind::parse(&k).map_err(corrupt("organisations.kind")))
        .transpose()
}
