//! Report packages (seed 資料1 §3.6, 資料4 §6) as stored: a numbered,
//! immutable release of an engagement holding the frozen report content
//! (the approved version of each of ① to ⑦ and the accepted findings) and
//! the files rendered from it in Japanese and English.
//!
//! The path of a report is the engagement's lifecycle: the company
//! releases a package and submits it (報告書提出), the secretariat accepts
//! it (検収) and delivers it (報告). [`report_gate`] is asked by the
//! lifecycle on each of those steps: none is taken while a deliverable is
//! not approved (the refusal names each), or while the latest release is
//! older than the approved set. The hospital and the ministry see only
//! delivered releases; every download is audited.

use crate::audit::{AuditContext, append};
use crate::db::Tx;
use crate::deliverables::{engagement_for, open, stored_of, version_in};
use crate::engagements::Engagement;
use crate::error::corrupt;
use crate::files::{NewFile, StoredFile};
use crate::findings::findings_in;
use crate::hospital::{recheck, require};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::deliverable::{
    DeliverableKind, DeliverableState, ReportContent, ReportDeliverable, ReportFile,
    not_approved_reason,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, DomainError, EngagementId};
use serde::Serialize;

/// One rendered file of a release, as handed to [`Store::release_report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub language: String,
    pub file: ReportFile,
    pub name: String,
    pub data: Vec<u8>,
}

/// A stored file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseFile {
    pub language: String,
    pub file: ReportFile,
    pub stored: StoredFile,
}

/// One release of an engagement's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseRecord {
    pub number: u32,
    /// The approved version of ① … ⑦ it holds.
    pub versions: Vec<u32>,
    pub created_at_ms: i64,
    pub created_by: Option<AccountId>,
    /// 検収.
    pub accepted_at_ms: Option<i64>,
    pub accepted_by: Option<AccountId>,
    /// Delivered to the hospital and the ministry.
    pub delivered_at_ms: Option<i64>,
    pub delivered_by: Option<AccountId>,
    pub files: Vec<ReleaseFile>,
}

impl ReleaseRecord {
    pub fn file(&self, file: ReportFile, language: &str) -> Option<&ReleaseFile> {
        self.files
            .iter()
            .find(|f| f.file == file && f.language == language)
    }
}

type ReleaseRow = (
    i64,
    i64,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// release id, language, format, and the stored file's fields.
type FileRow = (i64, String, String, i64, String, String, i64, String);

const RELEASE_SELECT: &str = "SELECT id, number, versions, created_at, created_by, accepted_at, accepted_by, delivered_at, delivered_by FROM report_releases";

/// The engagement's releases, newest first, with their files; only the
/// delivered ones when `delivered_only`.
async fn releases_in(
    tx: &mut Tx,
    engagement: EngagementId,
    delivered_only: bool,
) -> Result<Vec<(i64, ReleaseRecord)>> {
    let rows: Vec<ReleaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{RELEASE_SELECT} WHERE engagement_id = $1 ORDER BY number DESC"
    )))
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let files: Vec<FileRow> = sqlx::query_as(
        "SELECT r.release_id, r.language, r.format, f.id, f.name, f.content_type, f.size_bytes, f.sha256
         FROM report_files r JOIN files f ON f.id = r.file_id JOIN report_releases rr ON rr.id = r.release_id
         WHERE rr.engagement_id = $1 ORDER BY r.id",
    )
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        if delivered_only && row.7.is_none() {
            continue;
        }
        let versions: Vec<u32> = serde_json::from_str(&row.2).map_err(|e| StoreError::Corrupt {
            column: "report_releases.versions",
            value: e.to_string(),
        })?;
        let mut record = ReleaseRecord {
            number: number_of(row.1)?,
            versions,
            created_at_ms: row.3,
            created_by: row.4.map(AccountId),
            accepted_at_ms: row.5,
            accepted_by: row.6.map(AccountId),
            delivered_at_ms: row.7,
            delivered_by: row.8.map(AccountId),
            files: Vec::new(),
        };
        for f in files.iter().filter(|f| f.0 == row.0) {
            record.files.push(ReleaseFile {
                language: f.1.clone(),
                file: ReportFile::parse(&f.2).map_err(corrupt("report_files.format"))?,
                stored: StoredFile {
                    id: f.3,
                    name: f.4.clone(),
                    content_type: f.5.clone(),
                    size_bytes: f.6,
                    sha256: f.7.clone(),
                },
            });
        }
        out.push((row.0, record));
    }
    Ok(out)
}

fn number_of(value: i64) -> Result<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt {
        column: "report_releases.number",
        value: value.to_string(),
    })
}

/// The report as the transaction sees the engagement now: the approved
/// version of each deliverable and the accepted findings, numbered after
/// the last release. Refused, naming each, while one is not approved.
async fn draft_in(tx: &mut Tx, e: &Engagement, today: time::Date) -> Result<ReportContent> {
    let stored = stored_of(tx, e.id).await?;
    let states: Vec<(DeliverableKind, DeliverableState)> = stored
        .iter()
        .map(|s| (s.record.kind, s.record.state))
        .collect();
    // Not the request's fault but the deliverables' state: a conflict.
    if let Some((ja, en)) = not_approved_reason(&states) {
        return Err(StoreError::Conflict(format!("{ja} / {en}")));
    }
    let mut deliverables = Vec::new();
    for s in &stored {
        let version = s.record.version.unwrap_or(0);
        deliverables.push(ReportDeliverable {
            version: u32::try_from(version).unwrap_or(0),
            content: version_in(tx, e.id, s.record.kind, version).await?,
        });
    }
    let findings: Vec<_> = findings_in(tx, e.id, true)
        .await?
        .into_iter()
        .map(|f| f.finding)
        .collect();
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(number) FROM report_releases WHERE engagement_id = $1")
            .bind(e.id.0)
            .fetch_one(&mut **tx)
            .await?;
    let number = number_of(last.unwrap_or(0) + 1)?;
    Ok(ReportContent::new(
        &e.hospital_name,
        &format!("{} 御中", e.hospital_name),
        &e.company_name,
        &e.programme_name,
        number,
        today,
        &findings,
        deliverables,
    )?)
}

fn versions_of(content: &ReportContent) -> Vec<u32> {
    content.deliverables.iter().map(|d| d.version).collect()
}

/// Asked by the lifecycle before the engagement takes `to`: the report
/// steps need every deliverable approved (refusal names each) and, from
/// submission on, a release of exactly the approved versions.
pub(crate) async fn report_gate(
    tx: &mut Tx,
    e: &Engagement,
    to: EngagementState,
    today: time::Date,
) -> Result<()> {
    if !matches!(
        to,
        EngagementState::Submitted | EngagementState::Accepted | EngagementState::Reported
    ) {
        return Ok(());
    }
    // Refuses with the list of deliverables not approved.
    let approved = versions_of(&draft_in(tx, e, today).await?);
    let latest = releases_in(tx, e.id, false).await?.into_iter().next();
    match latest {
        None => Err(StoreError::Conflict(
            "報告書パッケージがまだ作成されていません / no report package has been released yet"
                .to_string(),
        )),
        Some((_, release)) if release.versions != approved => Err(StoreError::Conflict(format!(
            "第{n}版の後に成果物が承認し直されました。報告書パッケージを作成し直してください / deliverables were approved again after release {n}; release the package again",
            n = release.number
        ))),
        Some(_) => Ok(()),
    }
}

/// Records on the latest release the step the engagement just took.
pub(crate) async fn record_report_step(
    tx: &mut Tx,
    e: &Engagement,
    to: EngagementState,
    actor: Option<AccountId>,
) -> Result<()> {
    let column = match to {
        EngagementState::Accepted => "accepted",
        EngagementState::Reported => "delivered",
        _ => return Ok(()),
    };
    let Some((id, _)) = releases_in(tx, e.id, false).await?.into_iter().next() else {
        return Ok(());
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE report_releases SET {column}_at = $1, {column}_by = $2 WHERE id = $3"
    )))
    .bind(now_ms())
    .bind(actor.map(|a| a.0))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The hospital and the ministry see what was delivered to them.
fn delivered_only(grant: &HospitalGrant) -> bool {
    matches!(
        grant.actor().org_kind,
        OrgKind::Hospital | OrgKind::Ministry
    )
}

async fn release_of(
    tx: &mut Tx,
    grant: &HospitalGrant,
    engagement: EngagementId,
    number: u32,
) -> Result<(i64, ReleaseRecord)> {
    releases_in(tx, engagement, delivered_only(grant))
        .await?
        .into_iter()
        .find(|(_, r)| r.number == number)
        .ok_or_else(|| StoreError::NotFound {
            what: "report release",
            key: number.to_string(),
        })
}

impl Store {
    /// The report the company would release now, to be rendered before
    /// [`Store::release_report`]. Refused, naming each deliverable, while
    /// one is not approved. One audited read.
    pub async fn report_draft(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
    ) -> Result<ReportContent> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Write, engagement);
        let draft = draft_in(&mut tx, &e, self.today()).await?;
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataRead,
            format!("report:engagement:{}", e.id),
            Some(e.hospital_id),
            format!("draft of release {}", draft.release),
        )
        .await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// Stores `content`, rendered as `files`, as the next release. The
    /// content must still be what [`Store::report_draft`] gives inside this
    /// transaction (a review or finding in between refuses it), and the
    /// engagement must be writing its report (報告書作成). Nothing changes a
    /// release afterwards.
    pub async fn release_report(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        content: &ReportContent,
        files: &[RenderedFile],
    ) -> Result<ReleaseRecord> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Write, engagement);
        if e.state != EngagementState::Reporting {
            return Err(StoreError::Conflict(format!(
                "報告書パッケージは報告書作成中に作成します（現在: {}） / a report package is released while the engagement is in reporting (now: {})",
                e.state, e.state
            )));
        }
        let draft = draft_in(&mut tx, &e, self.today()).await?;
        if &draft != content {
            return Err(StoreError::Conflict(
                "成果物または指摘事項が変更されました。もう一度作成してください / the deliverables or findings changed meanwhile; release again".to_string(),
            ));
        }
        for wanted in [ReportFile::Pdf, ReportFile::Workbook] {
            if !files.iter().any(|f| f.file == wanted && f.language == "ja") {
                return Err(DomainError::invalid(
                    "files",
                    format!("a release needs the Japanese {wanted}"),
                )
                .into());
            }
        }
        let id: i64 = sqlx::query_scalar("INSERT INTO report_releases (engagement_id, number, content, versions, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(e.id.0)
            .bind(i64::from(content.release))
            .bind(content.to_json())
            .bind(serde_json::to_string(&versions_of(content)).unwrap_or_default())
            .bind(now_ms())
            .bind(grant.actor().account.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_unique("report release", &content.release.to_string()))?;
        for f in files {
            let file_id = self
                .insert_file(
                    &mut tx,
                    ctx,
                    &NewFile {
                        name: f.name.clone(),
                        data: f.data.clone(),
                    },
                )
                .await?;
            sqlx::query("INSERT INTO report_files (release_id, language, format, file_id) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(&f.language)
                .bind(f.file.slug())
                .bind(file_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::on_unique("report file", &format!("{} {}", f.language, f.file)))?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::ReportReleased,
            format!("report:engagement:{}:{}", e.id, content.release),
            Some(e.hospital_id),
            format!(
                "release {} of versions {:?} with {} findings",
                content.release,
                versions_of(content),
                content.findings.len()
            ),
        )
        .await?;
        let (_, record) = release_of(&mut tx, grant, e.id, content.release).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The engagement's releases, newest first (the hospital and the
    /// ministry: the delivered ones). One audited read.
    pub async fn report_releases(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
    ) -> Result<Vec<ReleaseRecord>> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Read, engagement);
        let out = releases_in(&mut tx, e.id, delivered_only(grant))
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        self.finish_read(
            tx,
            ctx,
            format!("report:engagement:{}", e.id),
            Some(e.hospital_id),
            "report releases",
        )
        .await?;
        Ok(out)
    }

    /// The frozen content of one release. One audited read.
    pub async fn release_content(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        number: u32,
    ) -> Result<ReportContent> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Read, engagement);
        let (id, _) = release_of(&mut tx, grant, e.id, number).await?;
        let content: String =
            sqlx::query_scalar("SELECT content FROM report_releases WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let content =
            ReportContent::from_json(&content).map_err(corrupt("report_releases.content"))?;
        self.finish_read(
            tx,
            ctx,
            format!("report:engagement:{}:{number}", e.id),
            Some(e.hospital_id),
            format!("release {number} content"),
        )
        .await?;
        Ok(content)
    }

    /// One file of a release, for download; audited as a download.
    pub async fn release_file(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        number: u32,
        file: ReportFile,
        language: &str,
    ) -> Result<(StoredFile, Vec<u8>)> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Read, engagement);
        let (_, release) = release_of(&mut tx, grant, e.id, number).await?;
        let stored = release
            .file(file, language)
            .ok_or_else(|| StoreError::NotFound {
                what: "report file",
                key: format!("{number} {file} {language}"),
            })?
            .stored
            .clone();
        append(
            &mut tx,
            ctx,
            AuditAction::ReportDownloaded,
            format!("report:engagement:{}:{number}", e.id),
            Some(e.hospital_id),
            format!("{} ({language}, {} bytes)", stored.name, stored.size_bytes),
        )
        .await?;
        tx.commit().await?;
        let (_, data) = self.file_content(stored.id).await?;
        Ok((stored, data))
    }
}
