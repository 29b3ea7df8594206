//! Programmes: one fiscal year's surveys under one procedure, with its
//! milestones, document library, kick-off meetings and survey companies
//! (seed 研究結果 §2 ①–③, 資料4 §4④ and §6).

use crate::audit::{AuditContext, append};
use crate::db::{iso_day, parse_iso_day, parse_optional_day};
use crate::error::corrupt;
use crate::files::NewFile;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::agreement::DEFAULT_LABOUR_CAP_YEN;
use mamori_domain::audit::AuditAction;
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Actor, may_register_organisations};
use mamori_domain::schedule::{Milestone, MilestoneKind, default_milestones};
use mamori_domain::{AccountId, DomainError, OrgId, ProgrammeId, validate};
use serde::{Deserialize, Serialize};
use time::Date;

/// The seed's honorarium rate for hospital staff, per hour (a programme sets its own).
pub const DEFAULT_HONORARIUM_RATE_YEN: i64 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Programme {
    pub id: ProgrammeId,
    pub name: String,
    pub fiscal_year: i32,
    /// 研究代表者: who signs the request letter for the research group.
    pub research_lead: String,
    pub labour_cap_yen: i64,
    pub honorarium_rate_yen: i64,
    /// The checklist versions in use, e.g. "令和6年度版".
    pub checklist_versions: Vec<String>,
    pub notes: String,
}

/// What the secretariat enters for a new programme or a change to one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProgrammeFields {
    pub name: String,
    pub fiscal_year: i32,
    #[serde(default)]
    pub research_lead: String,
    pub labour_cap_yen: Option<i64>,
    pub honorarium_rate_yen: Option<i64>,
    #[serde(default)]
    pub checklist_versions: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

impl ProgrammeFields {
    fn validated(&self) -> Result<ProgrammeFields> {
        let name = validate::display_name("name", &self.name)?;
        if !(2000..=2100).contains(&self.fiscal_year) {
            return Err(DomainError::invalid(
                "fiscal_year",
                format!(
                    "{} is not a fiscal year between 2000 and 2100",
                    self.fiscal_year
                ),
            )
            .into());
        }
        let cap = self.labour_cap_yen.unwrap_or(DEFAULT_LABOUR_CAP_YEN);
        if !(1..=1_000_000_000).contains(&cap) {
            return Err(
                DomainError::invalid("labour_cap_yen", format!("{cap} is out of range")).into(),
            );
        }
        let rate = self
            .honorarium_rate_yen
            .unwrap_or(DEFAULT_HONORARIUM_RATE_YEN);
        if !(0..=1_000_000).contains(&rate) {
            return Err(DomainError::invalid(
                "honorarium_rate_yen",
                format!("{rate} is out of range"),
            )
            .into());
        }
        let mut versions = Vec::new();
        for v in &self.checklist_versions {
            let v = validate::note("checklist_versions", v, 100)?;
            if v.contains('\n') {
                return Err(
                    DomainError::invalid("checklist_versions", "one version per entry").into(),
                );
            }
            if !v.is_empty() {
                versions.push(v);
            }
        }
        Ok(ProgrammeFields {
            name,
            fiscal_year: self.fiscal_year,
            research_lead: validate::note("research_lead", &self.research_lead, 100)?,
            labour_cap_yen: Some(cap),
            honorarium_rate_yen: Some(rate),
            checklist_versions: versions,
            notes: validate::note("notes", &self.notes, 4000)?,
        })
    }
}

/// A document of the programme's library: procedures and forms with versions
/// (e.g. 各病院調査等手順 第1.1版 2022-11-21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgrammeDocument {
    pub id: i64,
    pub title: String,
    pub version: String,
    pub issued_on: Option<Date>,
    pub file_id: Option<i64>,
    pub file_name: Option<String>,
}

/// A kick-off meeting: for everyone (company `None`) or one company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kickoff {
    pub id: i64,
    pub company_id: Option<OrgId>,
    pub company_name: Option<String>,
    pub held_on: Date,
    pub attendees: String,
    pub notes: String,
}

/// A survey company taking part in a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgrammeCompany {
    pub company_id: OrgId,
    pub company_name: String,
    pub invited_on: Date,
    /// 企業・研究会議.
    pub meeting_on: Option<Date>,
    /// The programme's forms (資料①–⑥) handed over.
    pub forms_handed_over_on: Option<Date>,
    /// 窓口: the company's single point of contact.
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub surveyors: Vec<Surveyor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Surveyor {
    pub account_id: AccountId,
    pub display_name: String,
}

/// The company's side of its enrolment, as edited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CompanyEnrolment {
    pub meeting_on: Option<Date>,
    pub forms_handed_over_on: Option<Date>,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgrammeDetail {
    pub programme: Programme,
    pub milestones: Vec<Milestone>,
    pub documents: Vec<ProgrammeDocument>,
    pub kickoffs: Vec<Kickoff>,
    pub companies: Vec<ProgrammeCompany>,
}

type ProgrammeRow = (i64, String, i64, i64, i64, String, String, String);
const PROGRAMME_SELECT: &str = "SELECT id, name, fiscal_year, labour_cap_yen, honorarium_rate_yen, checklist_versions, notes, research_lead FROM programmes";

fn programme(row: ProgrammeRow) -> Programme {
    Programme {
        id: ProgrammeId(row.0),
        name: row.1,
        fiscal_year: row.2 as i32,
        labour_cap_yen: row.3,
        honorarium_rate_yen: row.4,
        checklist_versions: row
            .5
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        notes: row.6,
        research_lead: row.7,
    }
}

/// Everyone taking part sees the programmes; vendors answer one inquiry and
/// see none.
fn may_see_programmes(actor: &Actor) -> bool {
    actor.org_kind != OrgKind::Vendor
}

fn secretariat_only(ctx: &AuditContext, what: &'static str) -> Result<()> {
    ctx.require(what, may_register_organisations)
}

impl Store {
    pub async fn create_programme(
        &self,
        ctx: &AuditContext,
        fields: &ProgrammeFields,
    ) -> Result<Programme> {
        secretariat_only(ctx, "create programmes")?;
        let f = fields.validated()?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO programmes (name, fiscal_year, labour_cap_yen, honorarium_rate_yen, checklist_versions, notes, created_at, updated_at, research_lead) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id")
            .bind(&f.name)
            .bind(i64::from(f.fiscal_year))
            .bind(f.labour_cap_yen)
            .bind(f.honorarium_rate_yen)
            .bind(f.checklist_versions.join("\n"))
            .bind(&f.notes)
            .bind(now)
            .bind(&f.research_lead)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_unique("programme", &f.name))?;
        for m in default_milestones(f.fiscal_year) {
            sqlx::query(
                "INSERT INTO programme_milestones (programme_id, kind, due_on) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(m.kind.slug())
            .bind(iso_day(m.due))
            .execute(&mut *tx)
            .await?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::ProgrammeCreated,
            format!("programme:{id}"),
            None,
            format!("name={} fy={}", f.name, f.fiscal_year),
        )
        .await?;
        tx.commit().await?;
        self.programme_row(ProgrammeId(id)).await
    }

    pub async fn update_programme(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
        fields: &ProgrammeFields,
    ) -> Result<Programme> {
        secretariat_only(ctx, "change programmes")?;
        let f = fields.validated()?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE programmes SET name = $1, fiscal_year = $2, labour_cap_yen = $3, honorarium_rate_yen = $4, checklist_versions = $5, notes = $6, updated_at = $7, research_lead = $9 WHERE id = $8")
            .bind(&f.name)
            .bind(i64::from(f.fiscal_year))
            .bind(f.labour_cap_yen)
            .bind(f.honorarium_rate_yen)
            .bind(f.checklist_versions.join("\n"))
            .bind(&f.notes)
            .bind(now_ms())
            .bind(id.0)
            .bind(&f.research_lead)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_unique("programme", &f.name))?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        append(
            &mut tx,
            ctx,
            AuditAction::ProgrammeUpdated,
            format!("programme:{id}"),
            None,
            format!(
                "name={} fy={} cap={} rate={}",
                f.name,
                f.fiscal_year,
                f.labour_cap_yen.unwrap_or_default(),
                f.honorarium_rate_yen.unwrap_or_default()
            ),
        )
        .await?;
        tx.commit().await?;
        self.programme_row(id).await
    }

    /// Moves one milestone of a programme (the template is only the start).
    pub async fn set_milestone(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
        kind: MilestoneKind,
        due: Date,
    ) -> Result<()> {
        self.set_milestones(ctx, id, &[(kind, due)]).await
    }

    /// Moves milestones of a programme, all in one transaction. The
    /// secretariat only — refused before anything is looked at, even when
    /// nothing would change.
    pub async fn set_milestones(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
        changes: &[(MilestoneKind, Date)],
    ) -> Result<()> {
        secretariat_only(ctx, "change programmes")?;
        let mut tx = self.begin_write().await?;
        exists_in(&mut tx, id).await?;
        for (kind, due) in changes {
            sqlx::query("INSERT INTO programme_milestones (programme_id, kind, due_on) VALUES ($1, $2, $3) ON CONFLICT (programme_id, kind) DO UPDATE SET due_on = excluded.due_on")
                .bind(id.0)
                .bind(kind.slug())
                .bind(iso_day(*due))
                .execute(&mut *tx)
                .await?;
            append(
                &mut tx,
                ctx,
                AuditAction::ProgrammeUpdated,
                format!("programme:{id}"),
                None,
                format!("milestone {kind}={due}"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn programme_row(&self, id: ProgrammeId) -> Result<Programme> {
        let row: Option<ProgrammeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PROGRAMME_SELECT} WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(programme).ok_or_else(|| not_found(id))
    }

    /// Every programme, newest fiscal year first.
    pub async fn programmes(&self, ctx: &AuditContext) -> Result<Vec<Programme>> {
        ctx.require("see programmes", may_see_programmes)?;
        let rows: Vec<ProgrammeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PROGRAMME_SELECT} ORDER BY fiscal_year DESC, name"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(programme).collect())
    }

    pub async fn milestones(&self, id: ProgrammeId) -> Result<Vec<Milestone>> {
        let mut conn = self.pool.acquire().await?;
        milestones_in(&mut conn, id).await
    }

    /// The programme with its milestones, library, kick-offs and companies.
    /// A company sees only its own enrolment.
    pub async fn programme_detail(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
    ) -> Result<ProgrammeDetail> {
        ctx.require("see programmes", may_see_programmes)?;
        let programme = self.programme_row(id).await?;
        let milestones = self.milestones(id).await?;
        #[allow(clippy::type_complexity)]
        let docs: Vec<(i64, String, String, Option<String>, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT d.id, d.title, d.version, d.issued_on, d.file_id, f.name FROM programme_documents d LEFT JOIN files f ON f.id = d.file_id WHERE d.programme_id = $1 ORDER BY d.title, d.id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let documents = docs
            .into_iter()
            .map(|(id, title, version, issued, file_id, file_name)| {
                Ok(ProgrammeDocument {
                    id,
                    title,
                    version,
                    issued_on: parse_optional_day("programme_documents.issued_on", issued)?,
                    file_id,
                    file_name,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let own_company = ctx
            .actor
            .filter(|a| a.org_kind == OrgKind::SurveyCompany)
            .map(|a| a.org);
        #[allow(clippy::type_complexity)]
        let meetings: Vec<(i64, Option<i64>, Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT k.id, k.company_id, o.name, k.held_on, k.attendees, k.notes FROM kickoff_meetings k LEFT JOIN organisations o ON o.id = k.company_id WHERE k.programme_id = $1 ORDER BY k.held_on, k.id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let kickoffs = meetings
            .into_iter()
            .filter(|m| own_company.is_none() || m.1.is_none() || m.1 == own_company.map(|o| o.0))
            .map(|(id, company, name, held, attendees, notes)| {
                Ok(Kickoff {
                    id,
                    company_id: company.map(OrgId),
                    company_name: name,
                    held_on: parse_iso_day("kickoff_meetings.held_on", &held)?,
                    attendees,
                    notes,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut companies = self.programme_companies(id).await?;
        if let Some(own) = own_company {
            companies.retain(|c| c.company_id == own);
        } else if ctx
            .actor
            .is_some_and(|a| matches!(a.org_kind, OrgKind::Hospital | OrgKind::Ministry))
        {
            // Hospitals and the ministry know the companies, not their staff.
            for c in &mut companies {
                c.surveyors.clear();
                c.contact_phone.clear();
            }
        }
        Ok(ProgrammeDetail {
            programme,
            milestones,
            documents,
            kickoffs,
            companies,
        })
    }

    async fn programme_companies(&self, id: ProgrammeId) -> Result<Vec<ProgrammeCompany>> {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i64, String, String, Option<String>, Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT pc.company_id, o.name, pc.invited_on, pc.meeting_on, pc.forms_handed_over_on, pc.contact_name, pc.contact_email, pc.contact_phone FROM programme_companies pc JOIN organisations o ON o.id = pc.company_id WHERE pc.programme_id = $1 ORDER BY o.name",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let surveyors: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT s.company_id, s.account_id, a.display_name FROM programme_surveyors s JOIN accounts a ON a.id = s.account_id WHERE s.programme_id = $1 ORDER BY a.display_name",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(company, name, invited, meeting, forms, cname, cemail, cphone)| {
                    Ok(ProgrammeCompany {
                        company_id: OrgId(company),
                        company_name: name,
                        invited_on: parse_iso_day("programme_companies.invited_on", &invited)?,
                        meeting_on: parse_optional_day("programme_companies.meeting_on", meeting)?,
                        forms_handed_over_on: parse_optional_day(
                            "programme_companies.forms_handed_over_on",
                            forms,
                        )?,
                        contact_name: cname,
                        contact_email: cemail,
                        contact_phone: cphone,
                        surveyors: surveyors
                            .iter()
                            .filter(|s| s.0 == company)
                            .map(|s| Surveyor {
                                account_id: AccountId(s.1),
                                display_name: s.2.clone(),
                            })
                            .collect(),
                    })
                },
            )
            .collect()
    }

    /// Adds a survey company to the programme (invited on `invited_on`).
    pub async fn enrol_company(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
        company: OrgId,
        invited_on: Date,
    ) -> Result<()> {
        secretariat_only(ctx, "enrol companies")?;
        let org = self.organisation(company).await?;
        if org.kind != OrgKind::SurveyCompany {
            return Err(DomainError::invalid(
                "company",
                format!("{} is not a survey company", org.name),
            )
            .into());
        }
        let mut tx = self.begin_write().await?;
        exists_in(&mut tx, id).await?;
        sqlx::query("INSERT INTO programme_companies (programme_id, company_id, invited_on, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(id.0)
            .bind(company.0)
            .bind(iso_day(invited_on))
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_unique("company in programme", &org.name))?;
        append(
            &mut tx,
            ctx,
            AuditAction::CompanyEnrolled,
            format!("programme:{id}"),
            None,
            format!("company={company} invited={invited_on}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the company's meeting, forms and 窓口. The secretariat, or an
    /// administrator of the company itself.
    pub async fn update_company_enrolment(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
        company: OrgId,
        e: &CompanyEnrolment,
    ) -> Result<()> {
        ctx.require("change this company's enrolment", |a| {
            a.org_kind == OrgKind::Secretariat
                || (a.org == company && a.role == mamori_domain::organisation::Role::Admin)
        })?;
        let name = validate::note("contact_name", &e.contact_name, 100)?;
        let email = if e.contact_email.trim().is_empty() {
            String::new()
        } else {
            validate::email(&e.contact_email)?
        };
        let phone = validate::note("contact_phone", &e.contact_phone, 40)?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE programme_companies SET meeting_on = $1, forms_handed_over_on = $2, contact_name = $3, contact_email = $4, contact_phone = $5, updated_at = $6 WHERE programme_id = $7 AND company_id = $8")
            .bind(e.meeting_on.map(iso_day))
            .bind(e.forms_handed_over_on.map(iso_day))
            .bind(&name)
            .bind(&email)
            .bind(&phone)
            .bind(now_ms())
            .bind(id.0)
            .bind(company.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "company in programme",
                key: format!("{id}/{company}"),
            });
        }
        append(
            &mut tx,
            ctx,
            AuditAction::CompanyEnrolled,
            format!("programme:{id}"),
            None,
            format!(
                "company={company} meeting={:?} forms={:?} contact={name}",
                e.meeting_on, e.forms_handed_over_on
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Names the company's staff who survey in this programme.
    pub async fn set_surveyors(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
        company: OrgId,
        accounts: &[AccountId],
    ) -> Result<()> {
        ctx.require("name this company's surveyors", |a| {
            a.org_kind == OrgKind::Secretariat
                || (a.org == company && a.role == mamori_domain::organisation::Role::Admin)
        })?;
        let mut tx = self.begin_write().await?;
        exists_in(&mut tx, id).await?;
        for account in accounts {
            let org: Option<i64> = sqlx::query_scalar("SELECT org_id FROM accounts WHERE id = $1")
                .bind(account.0)
                .fetch_optional(&mut *tx)
                .await?;
            if org != Some(company.0) {
                return Err(DomainError::invalid(
                    "surveyors",
                    format!("account {account} is not staff of this company"),
                )
                .into());
            }
        }
        sqlx::query("DELETE FROM programme_surveyors WHERE programme_id = $1 AND company_id = $2")
            .bind(id.0)
            .bind(company.0)
            .execute(&mut *tx)
            .await?;
        for account in accounts {
            sqlx::query("INSERT INTO programme_surveyors (programme_id, company_id, account_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(id.0)
                .bind(company.0)
                .bind(account.0)
                .execute(&mut *tx)
                .await?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::CompanyEnrolled,
            format!("programme:{id}"),
            None,
            format!(
                "company={company} surveyors={}",
                accounts
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a kick-off meeting (全体 when `company` is None).
    pub async fn record_kickoff(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
        company: Option<OrgId>,
        held_on: Date,
        attendees: &str,
        notes: &str,
    ) -> Result<i64> {
        secretariat_or_supervisor(ctx)?;
        let attendees = validate::note("attendees", attendees, 2000)?;
        if attendees.is_empty() {
            return Err(DomainError::invalid("attendees", "name who attended").into());
        }
        let notes = validate::note("notes", notes, 8000)?;
        let mut tx = self.begin_write().await?;
        exists_in(&mut tx, id).await?;
        let kid: i64 = sqlx::query_scalar("INSERT INTO kickoff_meetings (programme_id, company_id, held_on, attendees, notes, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(id.0)
            .bind(company.map(|c| c.0))
            .bind(iso_day(held_on))
            .bind(&attendees)
            .bind(&notes)
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::KickoffRecorded,
            format!("programme:{id}"),
            None,
            format!("kickoff={kid} company={company:?} on={held_on}"),
        )
        .await?;
        tx.commit().await?;
        Ok(kid)
    }

    /// Adds a procedure document or form to the programme's library.
    pub async fn add_programme_document(
        &self,
        ctx: &AuditContext,
        id: ProgrammeId,
        title: &str,
        version: &str,
        issued_on: Option<Date>,
        file: Option<NewFile>,
    ) -> Result<i64> {
        secretariat_only(ctx, "change the document library")?;
        let title = validate::display_name("title", title)?;
        let version = validate::note("version", version, 100)?;
        let mut tx = self.begin_write().await?;
        exists_in(&mut tx, id).await?;
        let file_id = match file {
            Some(f) => Some(self.insert_file(&mut tx, ctx, &f).await?),
            None => None,
        };
        let did: i64 = sqlx::query_scalar("INSERT INTO programme_documents (programme_id, title, version, issued_on, file_id, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(id.0)
            .bind(&title)
            .bind(&version)
            .bind(issued_on.map(iso_day))
            .bind(file_id)
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::DocumentAdded,
            format!("programme:{id}"),
            None,
            format!("document={did} {title} {version}"),
        )
        .await?;
        tx.commit().await?;
        Ok(did)
    }
}

fn secretariat_or_supervisor(ctx: &AuditContext) -> Result<()> {
    ctx.require("record meetings", |a| {
        matches!(a.org_kind, OrgKind::Secretariat | OrgKind::Supervisor)
    })
}

fn not_found(id: ProgrammeId) -> StoreError {
    StoreError::NotFound {
        what: "programme",
        key: id.to_string(),
    }
}

async fn exists_in(tx: &mut crate::db::Tx, id: ProgrammeId) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM programmes WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    found.map(|_| ()).ok_or_else(|| not_found(id))
}

/// A programme's milestones, by date, on the caller's connection (inside a
/// write transaction, a second connection from the pool could wait for
/// ever behind the writers that wait for this one).
pub(crate) async fn milestones_in(
    conn: &mut sqlx::AnyConnection,
    id: ProgrammeId,
) -> Result<Vec<Milestone>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, due_on FROM programme_milestones WHERE programme_id = $1")
            .bind(id.0)
            .fetch_all(&mut *conn)
            .await?;
    let mut out = rows
        .into_iter()
        .map(|(kind, due)| {
            Ok(Milestone {
                kind: MilestoneKind::parse(&kind).map_err(corrupt("programme_milestones.kind"))?,
                due: parse_iso_day("programme_milestones.due_on", &due)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|m| (m.due, m.kind));
    Ok(out)
}
