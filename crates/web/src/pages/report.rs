//! The report of one engagement (seed 資料1 §3.6, 資料4 §6): the findings
//! (指摘事項) the company proposes and the supervisor decides, whether all
//! seven deliverables are approved, the numbered releases with their
//! downloads, and the report steps — the company submits (a release of the
//! approved set is made first), the secretariat accepts (検収) and
//! delivers. The hospital and the ministry see the delivered releases and
//! the accepted findings; every download is audited by the store.

use super::deliverables::{engagement, grant};
use super::forms;
use super::{Chrome, Done};
use crate::error::WebError;
use crate::format::{minutes, optional_minutes};
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::deliverable::{
    AffectedKind, AffectedRef, DeliverableState, FindingStep, ReportFile, Severity, finding_step,
    not_approved_reason,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::Access;
use mamori_domain::{DomainError, EngagementId};
use mamori_store::{FindingDraft, FindingRecord, ReleaseRecord, StoreError};
use serde::Deserialize;

pub struct Approval {
    pub mark: char,
    pub title: String,
    pub state: String,
    pub approved: bool,
}

pub struct FindingLine {
    pub number: u32,
    pub severity: String,
    pub severity_slug: &'static str,
    pub title: String,
    pub detail: String,
    pub affected: String,
    /// The references as the form takes them back, one per line.
    pub affected_input: String,
    pub recommendation: String,
    pub status: String,
    pub status_slug: &'static str,
    pub may_edit: bool,
    /// Review steps the reader may take: (slug, label).
    pub steps: Vec<(&'static str, String)>,
    pub history: Vec<String>,
}

pub struct FileLink {
    pub href: String,
    pub label: String,
}

pub struct ReleaseLine {
    pub number: u32,
    /// 第N版 / Release N.
    pub label: String,
    pub created: String,
    pub accepted: String,
    pub delivered: String,
    pub files: Vec<FileLink>,
}

#[derive(Template, WebTemplate)]
#[template(path = "report.html")]
pub struct ReportPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    company: String,
    state: String,
    approvals: Vec<Approval>,
    pending: Option<String>,
    findings: Vec<FindingLine>,
    may_propose: bool,
    /// Hospital and ministry readers see the accepted findings only.
    accepted_only: bool,
    severities: Vec<(&'static str, &'static str)>,
    releases: Vec<ReleaseLine>,
    /// The report step the reader may take now: (target state, label).
    step: Option<(&'static str, String)>,
    error: Option<String>,
}

fn affected_text(refs: &[AffectedRef], lang: &str) -> String {
    refs.iter()
        .map(|r| format!("{} {}", r.kind.label(lang), r.key))
        .collect::<Vec<_>>()
        .join("、")
}

fn finding_line(f: &FindingRecord, org: OrgKind, lang: &str) -> FindingLine {
    let reviewer = org == OrgKind::Supervisor;
    let status = f.finding.status;
    let may_edit = matches!(org, OrgKind::SurveyCompany | OrgKind::Supervisor)
        && finding_step(status, FindingStep::Edit, reviewer).is_ok();
    let steps = if reviewer {
        [
            FindingStep::Accept,
            FindingStep::Reject,
            FindingStep::Reopen,
        ]
        .into_iter()
        .filter(|s| finding_step(status, *s, true).is_ok())
        .map(|s| (s.slug(), s.label(lang).to_string()))
        .collect()
    } else {
        Vec::new()
    };
    FindingLine {
        number: f.finding.number,
        severity: f.finding.severity.label(lang).to_string(),
        severity_slug: f.finding.severity.slug(),
        title: f.finding.title.clone(),
        detail: f.finding.detail.clone(),
        affected: affected_text(&f.finding.affected, lang),
        affected_input: f
            .finding
            .affected
            .iter()
            .map(|r| format!("{} {}", r.kind.slug(), r.key))
            .collect::<Vec<_>>()
            .join("\n"),
        recommendation: f.finding.recommendation.clone(),
        status: status.label(lang).to_string(),
        status_slug: status.slug(),
        may_edit,
        steps,
        history: f
            .steps
            .iter()
            .map(|s| {
                let note = if s.note.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", s.note)
                };
                format!("{} {}{note}", minutes(s.at_ms), s.step)
            })
            .collect(),
    }
}

fn release_line(id: EngagementId, r: &ReleaseRecord, lang: &str) -> ReleaseLine {
    let mut files = Vec::new();
    for language in crate::releases::LANGUAGES {
        for f in r.files.iter().filter(|f| f.language == language) {
            let what = match (f.file, lang) {
                (ReportFile::Pdf, _) => "PDF",
                (ReportFile::Workbook, _) => "Excel",
                (ReportFile::NetworkDiagram, "en") => "network (draw.io)",
                (ReportFile::NetworkDiagram, _) => "ネットワーク概要図 (draw.io)",
                (ReportFile::StructureDiagram, "en") => "structure (draw.io)",
                (ReportFile::StructureDiagram, _) => "管理体制図 (draw.io)",
            };
            let language_label = match (language, lang) {
                ("en", "en") => "English",
                ("en", _) => "英語",
                (_, "en") => "Japanese",
                _ => "日本語",
            };
            files.push(FileLink {
                href: format!(
                    "/engagements/{id}/report/{}/{}?lang={language}",
                    r.number,
                    f.file.slug()
                ),
                label: format!("{what}（{language_label}）"),
            });
        }
    }
    ReleaseLine {
        number: r.number,
        label: if lang == "en" {
            format!("Release {}", r.number)
        } else {
            format!("第{}版", r.number)
        },
        created: minutes(r.created_at_ms),
        accepted: optional_minutes(r.accepted_at_ms),
        delivered: optional_minutes(r.delivered_at_ms),
        files,
    }
}

async fn report_page(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    error: Option<String>,
    done: &Option<String>,
) -> Result<ReportPage, WebError> {
    let tr = who.tr;
    let lang = tr.code();
    let detail = state.store.engagement_detail(&who.ctx, id).await?;
    let e = detail.engagement;
    let org = who.account.actor().org_kind;
    let g = grant(state, who, e.hospital_id, Access::Read).await?;
    let records = state.store.deliverables(&who.ctx, &g, id).await?;
    let g = grant(state, who, e.hospital_id, Access::Read).await?;
    let findings = state.store.findings(&who.ctx, &g, id).await?;
    let g = grant(state, who, e.hospital_id, Access::Read).await?;
    let releases = state.store.report_releases(&who.ctx, &g, id).await?;
    let states: Vec<_> = records.iter().map(|r| (r.kind, r.state)).collect();
    let pending = not_approved_reason(&states).map(|(ja, en)| if lang == "en" { en } else { ja });
    let step = match (org, e.state) {
        (OrgKind::SurveyCompany, EngagementState::Reporting) => {
            Some(("submitted", tr.t("report.submit").to_string()))
        }
        (OrgKind::Secretariat, EngagementState::Submitted) => {
            Some(("accepted", tr.t("report.accept").to_string()))
        }
        (OrgKind::Secretariat, EngagementState::Accepted) => {
            Some(("reported", tr.t("report.deliver").to_string()))
        }
        _ => None,
    };
    let chrome = Chrome::page(state, who, "/engagements")
        .await?
        .with_notice(done);
    Ok(ReportPage {
        chrome,
        id: id.0,
        hospital: e.hospital_name,
        company: e.company_name,
        state: tr.t(&format!("state.{}", e.state.slug())).to_string(),
        approvals: records
            .iter()
            .map(|r| Approval {
                mark: r.kind.mark(),
                title: r.kind.label(lang).to_string(),
                state: r.state.label(lang).to_string(),
                approved: r.state == DeliverableState::Approved,
            })
            .collect(),
        pending,
        findings: findings
            .iter()
            .map(|f| finding_line(f, org, lang))
            .collect(),
        may_propose: org == OrgKind::SurveyCompany,
        accepted_only: matches!(org, OrgKind::Hospital | OrgKind::Ministry),
        severities: Severity::ALL
            .iter()
            .map(|s| (s.slug(), s.label(lang)))
            .collect(),
        releases: releases.iter().map(|r| release_line(id, r, lang)).collect(),
        step,
        error,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<ReportPage, WebError> {
    report_page(&state, &who, EngagementId(id), None, &done.done).await
}

async fn outcome<T>(
    state: &AppState,
    who: &Signed,
    id: EngagementId,
    result: Result<T, StoreError>,
    done: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/engagements/{id}/report?done={done}#findings")).into_response(),
        ),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = report_page(state, who, id, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct FindingForm {
    #[serde(default)]
    severity: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
    /// One reference per line: a kind (slug or label) and a key.
    #[serde(default)]
    affected: String,
    #[serde(default)]
    recommendation: String,
    #[serde(default)]
    note: String,
}

/// The references typed one per line (`connection C-1`, `外部接続 C-1`,
/// `asset: SV-01`); a refused line is named by its number.
pub fn parse_affected(text: &str) -> Result<Vec<AffectedRef>, DomainError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let split = line
            .find(|c: char| c.is_whitespace() || c == ':' || c == '：')
            .ok_or_else(|| {
                DomainError::invalid(
                    "affected",
                    format!(
                        "line {}: `{line}` needs a kind and a key (e.g. `connection C-1`)",
                        n + 1
                    ),
                )
            })?;
        let (kind, key) = line.split_at(split);
        let key = key.trim_start_matches([':', '：']).trim();
        let kind = AffectedKind::from_text(kind)
            .map_err(|e| DomainError::invalid("affected", format!("line {}: {e}", n + 1)))?;
        out.push(AffectedRef::new(kind, key));
    }
    Ok(out)
}

impl FindingForm {
    fn draft(&self) -> Result<FindingDraft, DomainError> {
        Ok(FindingDraft {
            severity: Severity::from_text(&self.severity)?,
            title: self.title.clone(),
            detail: self.detail.clone(),
            affected: parse_affected(&self.affected)?,
            recommendation: self.recommendation.clone(),
        })
    }
}

pub async fn propose(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<FindingForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let e = engagement(&state, &who, id).await?;
    let result = match (
        form.draft(),
        grant(&state, &who, e.hospital, Access::Write).await,
    ) {
        (Ok(draft), Ok(g)) => state.store.propose_finding(&who.ctx, &g, id, &draft).await,
        (Err(e), _) => Err(e.into()),
        (_, Err(e)) => Err(e),
    };
    outcome(&state, &who, id, result, "finding_recorded").await
}

pub async fn edit(
    State(state): State<AppState>,
    who: Signed,
    Path((id, number)): Path<(i64, u32)>,
    Form(form): Form<FindingForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let e = engagement(&state, &who, id).await?;
    // The supervisor edits as the reviewer, the company as the author.
    let access = if who.account.actor().org_kind == OrgKind::Supervisor {
        Access::Review
    } else {
        Access::Write
    };
    let result = match (form.draft(), grant(&state, &who, e.hospital, access).await) {
        (Ok(draft), Ok(g)) => {
            state
                .store
                .edit_finding(&who.ctx, &g, id, number, &draft, &form.note)
                .await
        }
        (Err(e), _) => Err(e.into()),
        (_, Err(e)) => Err(e),
    };
    outcome(&state, &who, id, result, "finding_recorded").await
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    note: String,
}

pub async fn review(
    State(state): State<AppState>,
    who: Signed,
    Path((id, number)): Path<(i64, u32)>,
    Form(form): Form<StepForm>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let e = engagement(&state, &who, id).await?;
    let g = grant(&state, &who, e.hospital, Access::Review).await?;
    let result = match FindingStep::parse(&form.step) {
        Ok(step) => {
            state
                .store
                .review_finding(&who.ctx, &g, id, number, step, &form.note)
                .await
        }
        Err(e) => Err(e.into()),
    };
    outcome(&state, &who, id, result, "finding_reviewed").await
}

#[derive(Deserialize)]
pub struct LanguageQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// One file of a release; the store audits the download.
pub async fn download(
    State(state): State<AppState>,
    who: Signed,
    Path((id, number, file)): Path<(i64, u32, String)>,
    Query(query): Query<LanguageQuery>,
) -> Result<Response, WebError> {
    let id = EngagementId(id);
    let file = ReportFile::parse(&file).map_err(|_| WebError::NotFound)?;
    let language = match query.lang.as_deref() {
        Some("en") => "en",
        _ => "ja",
    };
    let e = engagement(&state, &who, id).await?;
    let g = grant(&state, &who, e.hospital, Access::Read).await?;
    let (stored, data) = state
        .store
        .release_file(&who.ctx, &g, id, number, file, language)
        .await?;
    Ok(forms::download(&stored, data))
}
