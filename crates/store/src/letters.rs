//! Letter templates (versioned, edited by the secretariat), the facts a
//! letter is filled from, and the letters generated for an engagement. The
//! rendering itself is the documents crate's; the store keeps the results.

use crate::audit::{AuditContext, append};
use crate::engagements::{Engagement, engagement_in, require_or_refuse};
use crate::files::NewFile;
use crate::lifecycle::Agreement;
use crate::programmes::Programme;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData, may_register_organisations};
use mamori_domain::{DomainError, EngagementId, OrgId, validate};
use serde::{Deserialize, Serialize};

/// What letters say about an organisation besides its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letterhead {
    pub address: String,
    pub representative: String,
    pub contact_email: String,
}

/// One saved version of a letter template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterTemplate {
    pub kind: String,
    pub version: i64,
    pub body: String,
    pub created_at_ms: i64,
    pub created_by: Option<String>,
}

/// Everything a letter for one engagement is filled from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LetterFacts {
    pub engagement: Engagement,
    pub programme: Programme,
    pub hospital: Letterhead,
    pub company: Letterhead,
    pub secretariat_name: String,
    pub secretariat: Letterhead,
    pub pledge: Option<Agreement>,
    pub nda: Option<Agreement>,
}

fn check_kind(kind: &str) -> Result<()> {
    if kind.is_empty()
        || kind.len() > 40
        || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '-')
    {
        return Err(DomainError::invalid("kind", format!("`{kind}` is not a letter kind")).into());
    }
    Ok(())
}

impl Store {
    pub async fn letterhead(&self, org: OrgId) -> Result<Letterhead> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT address, representative, contact_email FROM organisations WHERE id = $1",
        )
        .bind(org.0)
        .fetch_optional(&self.pool)
        .await?;
        let (address, representative, contact_email) = row.ok_or(StoreError::NotFound {
            what: "organisation",
            key: org.to_string(),
        })?;
        Ok(Letterhead {
            address,
            representative,
            contact_email,
        })
    }

    /// Sets address, representative and contact mail of an organisation
    /// (the secretariat, or the organisation's own administrator).
    pub async fn set_letterhead(
        &self,
        ctx: &AuditContext,
        org: OrgId,
        l: &Letterhead,
    ) -> Result<()> {
        ctx.require("change this organisation", |a| {
            a.org_kind == OrgKind::Secretariat || (a.org == org && a.role == Role::Admin)
        })?;
        let address = validate::note("address", &l.address, 300)?;
        let representative = validate::note("representative", &l.representative, 100)?;
        let email = if l.contact_email.trim().is_empty() {
            String::new()
        } else {
            validate::email(&l.contact_email)?
        };
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE organisations SET address = $1, representative = $2, contact_email = $3, updated_at = $4 WHERE id = $5")
            .bind(&address)
            .bind(&representative)
            .bind(&email)
            .bind(now_ms())
            .bind(org.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "organisation",
                key: org.to_string(),
            });
        }
        append(
            &mut tx,
            ctx,
            AuditAction::OrganisationUpdated,
            format!("organisation:{org}"),
            None,
            "letterhead",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest saved version of a template, if the secretariat saved one
    /// (otherwise the shipped default applies, version 0).
    pub async fn letter_template(&self, kind: &str) -> Result<Option<LetterTemplate>> {
        Ok(self
            .letter_template_versions(kind)
            .await?
            .into_iter()
            .next())
    }

    /// Every saved version, newest first.
    pub async fn letter_template_versions(&self, kind: &str) -> Result<Vec<LetterTemplate>> {
        check_kind(kind)?;
        let rows: Vec<(String, i64, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT t.kind, t.version, t.body, t.created_at, a.display_name FROM letter_templates t LEFT JOIN accounts a ON a.id = t.created_by WHERE t.kind = $1 ORDER BY t.version DESC",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| LetterTemplate {
                kind: r.0,
                version: r.1,
                body: r.2,
                created_at_ms: r.3,
                created_by: r.4,
            })
            .collect())
    }

    /// Saves a new version of a template (the caller has checked it renders).
    pub async fn save_letter_template(
        &self,
        ctx: &AuditContext,
        kind: &str,
        body: &str,
    ) -> Result<i64> {
        ctx.require("edit letter templates", may_register_organisations)?;
        check_kind(kind)?;
        if body.trim().is_empty() || body.chars().count() > 50_000 {
            return Err(DomainError::invalid("body", "a template has 1–50,000 characters").into());
        }
        let mut tx = self.begin_write().await?;
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM letter_templates WHERE kind = $1")
                .bind(kind)
                .fetch_one(&mut *tx)
                .await?;
        let version = last.unwrap_or(0) + 1;
        sqlx::query("INSERT INTO letter_templates (kind, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(kind)
            .bind(version)
            .bind(body)
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_unique("template version", &format!("{kind} {version}")))?;
        append(
            &mut tx,
            ctx,
            AuditAction::LetterTemplateSaved,
            format!("letter-template:{kind}"),
            None,
            format!("version={version}"),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// The facts for a letter of this engagement (secretariat; audited).
    pub async fn letter_facts(&self, ctx: &AuditContext, id: EngagementId) -> Result<LetterFacts> {
        ctx.require("generate letters", may_register_organisations)?;
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let engagement = engagement_in(&mut tx, today, id).await?;
        self.finish_read(
            tx,
            ctx,
            format!("engagement:{id}"),
            Some(engagement.hospital_id),
            "letter facts",
        )
        .await?;
        let detail = self.engagement_detail(ctx, id).await?;
        let latest = |kind| {
            detail
                .agreements
                .iter()
                .rfind(|a| a.kind == kind && a.revoked_on.is_none())
                .cloned()
        };
        let secretariat: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, name FROM organisations WHERE kind = 'secretariat' ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let (secretariat_name, secretariat) = match secretariat {
            Some((sid, name)) => (name, self.letterhead(OrgId(sid)).await?),
            None => (String::new(), Letterhead::default()),
        };
        Ok(LetterFacts {
            programme: self.programme_row(engagement.programme_id).await?,
            hospital: self.letterhead(engagement.hospital_id).await?,
            company: self.letterhead(engagement.company_id).await?,
            pledge: latest(mamori_domain::agreement::AgreementKind::Pledge),
            nda: latest(mamori_domain::agreement::AgreementKind::Nda),
            engagement,
            secretariat_name,
            secretariat,
        })
    }

    /// Keeps a generated letter; a pledge or NDA PDF is also attached to the
    /// agreement it was made for.
    pub async fn save_generated_letter(
        &self,
        ctx: &AuditContext,
        id: EngagementId,
        kind: &str,
        template_version: i64,
        agreement_id: Option<i64>,
        file: NewFile,
    ) -> Result<i64> {
        check_kind(kind)?;
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, id).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::EngagementRecord,
            Access::Write
        );
        ctx.require("generate letters", may_register_organisations)?;
        let file_id = self.insert_file(&mut tx, ctx, &file).await?;
        let gid: i64 = sqlx::query_scalar("INSERT INTO generated_documents (engagement_id, kind, template_version, file_id, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(id.0)
            .bind(kind)
            .bind(template_version)
            .bind(file_id)
            .bind(now_ms())
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        if let Some(aid) = agreement_id {
            let done = sqlx::query("UPDATE agreements SET document_file_id = $1, updated_at = $2 WHERE id = $3 AND engagement_id = $4")
                .bind(file_id)
                .bind(now_ms())
                .bind(aid)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(DomainError::invalid(
                    "agreement_id",
                    format!("agreement {aid} is not of engagement {id}"),
                )
                .into());
            }
        }
        append(
            &mut tx,
            ctx,
            AuditAction::LetterGenerated,
            format!("engagement:{id}"),
            Some(e.hospital_id),
            format!("{kind} template v{template_version} file={file_id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(gid)
    }
}
