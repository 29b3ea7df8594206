//! The audit log: the secretariat browses, filters and exports all of it;
//! others see their own actions.

use super::Chrome;
use crate::error::WebError;
use crate::format;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use mamori_domain::audit::{AuditAction, AuditRecord};
use mamori_domain::policy::{AuditScope, audit_scope};
use mamori_domain::{AccountId, OrgId};
use mamori_store::AuditFilter;
use serde::{Deserialize, Serialize};

/// The filter as it comes from the form (and goes back into links).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct FilterForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub hospital: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

fn number(field: &str, value: &str) -> Result<Option<i64>, WebError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| WebError::BadRequest(format!("{field}: `{value}` is not a number")))
}

fn date(field: &str, value: &str, next_day: bool) -> Result<Option<i64>, WebError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let start = format::date_start_ms(value).ok_or_else(|| {
        WebError::BadRequest(format!("{field}: `{value}` is not a date (YYYY-MM-DD)"))
    })?;
    Ok(Some(if next_day { start + 86_400_000 } else { start }))
}

impl FilterForm {
    fn to_filter(&self, limit: i64) -> Result<AuditFilter, WebError> {
        let action = self.action.trim();
        if !action.is_empty() {
            AuditAction::parse(action).map_err(|e| WebError::BadRequest(e.to_string()))?;
        }
        Ok(AuditFilter {
            actor_account: number("account", &self.account)?.map(AccountId),
            action: (!action.is_empty()).then(|| action.to_string()),
            hospital: number("hospital", &self.hospital)?.map(OrgId),
            from_ms: date("from", &self.from, false)?,
            until_ms: date("until", &self.until, true)?,
            before_seq: self.before,
            limit,
        })
    }
}

pub struct Row {
    seq: i64,
    when: String,
    who: String,
    action: String,
    target: String,
    hospital: String,
    client: String,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditLogPage {
    chrome: Chrome,
    everything: bool,
    scope_key: &'static str,
    actions: Vec<(&'static str, String)>,
    filter: FilterForm,
    query: String,
    rows: Vec<Row>,
    next_page: Option<String>,
}

pub const PAGE_SIZE: i64 = 100;

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Query(form): Query<FilterForm>,
) -> Result<AuditLogPage, WebError> {
    let actor = who.account.actor();
    let scope = audit_scope(&actor).ok_or(WebError::Forbidden)?;
    let tr = who.tr;
    let page = state
        .store
        .audit_page(Some(&actor), &form.to_filter(PAGE_SIZE)?)
        .await?;
    let mut base = form.clone();
    base.before = None;
    let query = serde_urlencoded::to_string(&base).unwrap_or_default();
    let next_page = page.next_before.map(|b| {
        let mut next = base.clone();
        next.before = Some(b);
        serde_urlencoded::to_string(&next).unwrap_or_default()
    });
    Ok(AuditLogPage {
        chrome: Chrome::page(&state, &who, "/audit").await?,
        everything: scope == AuditScope::Everything,
        scope_key: if scope == AuditScope::Everything {
            "audit.scope_all"
        } else {
            "audit.scope_own"
        },
        actions: AuditAction::ALL
            .iter()
            .map(|a| (a.slug(), tr.value("action", a.slug())))
            .collect(),
        filter: form,
        query,
        rows: page
            .records
            .iter()
            .map(|r| Row {
                seq: r.seq,
                when: format::seconds(r.content.occurred_at_ms),
                who: r.content.actor_label.clone(),
                action: tr.value("action", &r.content.action),
                target: r.content.target.clone(),
                hospital: r
                    .content
                    .hospital
                    .map(|h| h.to_string())
                    .unwrap_or_default(),
                client: r.content.client_addr.clone().unwrap_or_default(),
                detail: r.content.detail.clone(),
            })
            .collect(),
        next_page,
    })
}

const CSV_HEADER: [&str; 12] = [
    "seq",
    "occurred_at_utc_ms",
    "occurred_at_jst",
    "actor_account",
    "actor_label",
    "actor_org",
    "action",
    "target",
    "hospital",
    "client_addr",
    "detail",
    "hash",
];

/// A cell a spreadsheet would read as a formula gets a leading apostrophe:
/// the log holds what visitors typed, and Excel must not run it. The rule
/// is every export's (`=`, `+`, `-`, `@`, tab, CR, LF, full-width forms).
fn spreadsheet_safe(value: String) -> String {
    mamori_documents::csv_text(&value)
}

fn csv_row(r: &AuditRecord) -> [String; 12] {
    let c = &r.content;
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        r.seq.to_string(),
        c.occurred_at_ms.to_string(),
        format::seconds(c.occurred_at_ms),
        opt(c.actor_account.map(|a| a.0)),
        c.actor_label.clone(),
        opt(c.actor_org.map(|o| o.0)),
        c.action.clone(),
        c.target.clone(),
        opt(c.hospital.map(|h| h.0)),
        c.client_addr.clone().unwrap_or_default(),
        c.detail.clone(),
        r.hash.clone(),
    ]
    .map(spreadsheet_safe)
}

/// The filtered log as CSV (UTF-8 with BOM so that Excel opens Japanese
/// text correctly). Secretariat only; the export itself is audited.
pub async fn export_csv(
    State(state): State<AppState>,
    who: Signed,
    Query(form): Query<FilterForm>,
) -> Result<Response, WebError> {
    let actor = who.account.actor();
    if audit_scope(&actor) != Some(AuditScope::Everything) {
        return Err(WebError::Forbidden);
    }
    let mut filter = form.to_filter(5_000)?;
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_error = |e: csv::Error| WebError::Internal(e.to_string());
    writer.write_record(CSV_HEADER).map_err(csv_error)?;
    let mut rows = 0usize;
    loop {
        let page = state.store.audit_page(Some(&actor), &filter).await?;
        for record in &page.records {
            writer.write_record(csv_row(record)).map_err(csv_error)?;
            rows += 1;
        }
        match page.next_before {
            Some(b) => filter.before_seq = Some(b),
            None => break,
        }
    }
    state
        .store
        .record_event(
            &who.ctx,
            AuditAction::AuditExported,
            "audit-log",
            None,
            format!(
                "rows={rows} filter={}",
                serde_urlencoded::to_string(&form).unwrap_or_default()
            ),
        )
        .await?;
    let body = writer
        .into_inner()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"mamori-audit.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(
            spreadsheet_safe("=HYPERLINK(\"x\")".into()),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(spreadsheet_safe("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("sec@example.jp".into()), "sec@example.jp");
    }
}
