//! The glue between the store's report releases and the documents crate,
//! shared by the pages and the JSON API: the company's report submission
//! (報告書提出) releases a package rendered from the approved set first, in
//! Japanese and English, so the lifecycle step and the release are one
//! action wherever it is taken.

use crate::documents::document_error;
use crate::error::WebError;
use mamori_documents::report::{report_drawio, report_pdf, report_workbook};
use mamori_domain::deliverable::{ReportContent, ReportFile};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData};
use mamori_domain::{EngagementId, OrgId};
use mamori_store::{AuditContext, Engagement, RenderedFile, Store, StoreError};
use time::Date;

/// The languages every release is rendered in.
pub const LANGUAGES: [&str; 2] = ["ja", "en"];

/// The files of one release in both languages. CPU-bound: run off the
/// async workers.
pub async fn render_release(content: ReportContent) -> Result<Vec<RenderedFile>, WebError> {
    tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        for language in LANGUAGES {
            let name =
                |file: ReportFile| file.file_name(&content.hospital, content.release, language);
            files.push(RenderedFile {
                language: language.to_string(),
                file: ReportFile::Pdf,
                name: name(ReportFile::Pdf),
                data: report_pdf(&content, language)?,
            });
            files.push(RenderedFile {
                language: language.to_string(),
                file: ReportFile::Workbook,
                name: name(ReportFile::Workbook),
                data: report_workbook(&content, language)?,
            });
            let diagrams = report_drawio(&content, language);
            let kinds = [ReportFile::NetworkDiagram, ReportFile::StructureDiagram];
            for (file, (stem, xml)) in kinds.into_iter().zip(diagrams) {
                // report_drawio names ⑥ before ⑦; the name says which.
                let file = if stem.contains("network") {
                    ReportFile::NetworkDiagram
                } else if stem.contains("structure") {
                    ReportFile::StructureDiagram
                } else {
                    file
                };
                files.push(RenderedFile {
                    language: language.to_string(),
                    file,
                    name: name(file),
                    data: xml.into_bytes(),
                });
            }
        }
        Ok(files)
    })
    .await
    .map_err(|e| WebError::Internal(format!("rendering the report: {e}")))?
    .map_err(document_error)
}

/// Takes a lifecycle step as `ctx`. The company's 報告書提出 from 報告書作成
/// first releases the report package of the approved set, unless the
/// latest release already holds it; a refusal (a deliverable not approved,
/// named) comes back as the step's refusal and nothing changes.
pub async fn take_step(
    store: &Store,
    ctx: &AuditContext,
    id: EngagementId,
    to: EngagementState,
    on: Option<Date>,
    note: &str,
) -> Result<Result<Engagement, StoreError>, WebError> {
    let submitting_as_company = to == EngagementState::Submitted
        && ctx
            .actor
            .is_some_and(|a| a.org_kind == OrgKind::SurveyCompany);
    if submitting_as_company {
        let e = match store.engagement_detail(ctx, id).await {
            Ok(detail) => detail.engagement,
            Err(refused) => return Ok(Err(refused)),
        };
        if e.state == EngagementState::Reporting
            && let Err(refused) = release_if_needed(store, ctx, id, e.hospital_id).await?
        {
            return Ok(Err(refused));
        }
    }
    Ok(store.transition(ctx, id, to, on, note).await)
}

/// Releases the approved set unless the latest release holds it already.
async fn release_if_needed(
    store: &Store,
    ctx: &AuditContext,
    id: EngagementId,
    hospital: OrgId,
) -> Result<Result<(), StoreError>, WebError> {
    let grant = |access| store.authorize(ctx, hospital, HospitalData::Deliverables, access);
    let draft = match grant(Access::Write).await {
        Ok(g) => store.report_draft(ctx, &g, id).await,
        Err(e) => Err(e),
    };
    let draft = match draft {
        Ok(d) => d,
        Err(refused) => return Ok(Err(refused)),
    };
    let latest = match grant(Access::Read).await {
        Ok(g) => store.report_releases(ctx, &g, id).await,
        Err(e) => Err(e),
    };
    let wanted: Vec<u32> = draft.deliverables.iter().map(|d| d.version).collect();
    match latest {
        Ok(releases) if releases.first().is_some_and(|r| r.versions == wanted) => {
            return Ok(Ok(()));
        }
        Ok(_) => {}
        Err(refused) => return Ok(Err(refused)),
    }
    let files = render_release(draft.clone()).await?;
    let released = match grant(Access::Write).await {
        Ok(g) => store.release_report(ctx, &g, id, &draft, &files).await,
        Err(e) => Err(e),
    };
    Ok(released.map(|_| ()))
}
