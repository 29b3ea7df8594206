//! The network overview (成果物 ⑥) and the management structure chart
//! (成果物 ⑦), drawn from the ledger: in the page as SVG, and as SVG, PDF,
//! draw.io and Mermaid downloads. A drawing is kept under the ledger
//! revision it was drawn from, so an unchanged ledger of two thousand assets
//! is not laid out again on every view.

use super::ledger_grant;
use crate::error::WebError;
use crate::pages::{Chrome, forms};
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use mamori_documents::diagram;
use mamori_domain::OrgId;
use mamori_domain::ledger::{network_view, org_view};
use mamori_store::LedgerRevision;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Which chart a page or download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chart {
    Network,
    Structure,
}

impl Chart {
    fn slug(self) -> &'static str {
        match self {
            Chart::Network => "network",
            Chart::Structure => "structure",
        }
    }

    fn title_key(self) -> &'static str {
        match self {
            Chart::Network => "ledger.network",
            Chart::Structure => "ledger.structure",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "ledger_diagram.html")]
pub struct DiagramPage {
    chrome: Chrome,
    id: i64,
    hospital: String,
    chart: &'static str,
    title: String,
    svg: String,
    empty: bool,
}

/// A chart drawn in one format.
pub struct Drawn {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub extension: &'static str,
    /// Nothing in the ledger to draw (the page says so).
    pub empty: bool,
}

pub fn render(
    chart: Chart,
    ledger: &mamori_domain::ledger::Ledger,
    format: &str,
    lang: &str,
) -> Result<Drawn, WebError> {
    let network = || network_view(ledger);
    let org = || org_view(ledger);
    let empty = match chart {
        Chart::Network => ledger.assets.is_empty() && ledger.connections.is_empty(),
        Chart::Structure => ledger.roles.is_empty(),
    };
    let (bytes, content_type, extension) = match (chart, format) {
        (Chart::Network, "svg") => (
            diagram::network_svg(&network(), lang).into_bytes(),
            "image/svg+xml",
            "svg",
        ),
        (Chart::Structure, "svg") => (
            diagram::org_svg(&org(), lang).into_bytes(),
            "image/svg+xml",
            "svg",
        ),
        (Chart::Network, "drawio") => (
            diagram::network_drawio(&network(), lang).into_bytes(),
            "application/vnd.jgraph.mxfile",
            "drawio",
        ),
        (Chart::Structure, "drawio") => (
            diagram::org_drawio(&org(), lang).into_bytes(),
            "application/vnd.jgraph.mxfile",
            "drawio",
        ),
        (Chart::Network, "mermaid") => (
            diagram::network_mermaid(&network(), lang).into_bytes(),
            "text/plain; charset=utf-8",
            "mmd",
        ),
        (Chart::Structure, "mermaid") => (
            diagram::org_mermaid(&org(), lang).into_bytes(),
            "text/plain; charset=utf-8",
            "mmd",
        ),
        (Chart::Network, "pdf") => (
            diagram::network_pdf(&network(), lang).map_err(crate::documents::document_error)?,
            "application/pdf",
            "pdf",
        ),
        (Chart::Structure, "pdf") => (
            diagram::org_pdf(&org(), lang).map_err(crate::documents::document_error)?,
            "application/pdf",
            "pdf",
        ),
        _ => return Err(WebError::NotFound),
    };
    Ok(Drawn {
        bytes,
        content_type,
        extension,
        empty,
    })
}

/// What a drawing was drawn from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DrawnKey {
    hospital: i64,
    revision: LedgerRevision,
    chart: Chart,
    format: String,
    lang: &'static str,
}

/// Drawings kept in this instance, the oldest dropped first beyond a byte
/// budget. A pure memo of the database: its key is read from the database
/// on every request, so instances behind a load balancer still agree.
#[derive(Clone, Default)]
pub struct DrawnCharts {
    kept: Arc<Mutex<KeptCharts>>,
}

#[derive(Default)]
struct KeptCharts {
    charts: HashMap<DrawnKey, Arc<Drawn>>,
    order: VecDeque<DrawnKey>,
    bytes: usize,
}

/// Bytes of drawings one instance keeps.
const DRAWN_CHARTS_BUDGET: usize = 64 * 1024 * 1024;

impl DrawnCharts {
    fn get(&self, key: &DrawnKey) -> Option<Arc<Drawn>> {
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.charts.get(key).cloned()
    }

    fn keep(&self, key: DrawnKey, drawn: Arc<Drawn>) {
        if drawn.bytes.len() > DRAWN_CHARTS_BUDGET / 4 {
            return;
        }
        let mut kept = self
            .kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.bytes += drawn.bytes.len();
        if let Some(old) = kept.charts.insert(key.clone(), drawn) {
            kept.bytes -= old.bytes.len();
        } else {
            kept.order.push_back(key);
        }
        while kept.bytes > DRAWN_CHARTS_BUDGET {
            let Some(oldest) = kept.order.pop_front() else {
                break;
            };
            if let Some(old) = kept.charts.remove(&oldest) {
                kept.bytes -= old.bytes.len();
            }
        }
    }
}

async fn chart_response(
    state: AppState,
    who: Signed,
    id: i64,
    chart: Chart,
    format: Option<String>,
) -> Result<Response, WebError> {
    let tr = who.tr;
    let (hospital, grant) = ledger_grant(&state, &who, OrgId(id)).await?;
    let page = matches!(format.as_deref(), None | Some("html"));
    let drawn_format = if page {
        "svg".to_string()
    } else {
        format.unwrap_or_default()
    };
    let revision = state
        .store
        .ledger_revision(&who.ctx, &grant, chart.slug())
        .await?;
    let key = DrawnKey {
        hospital: id,
        revision,
        chart,
        format: drawn_format,
        lang: tr.code(),
    };
    let drawn = match state.charts.get(&key) {
        Some(drawn) => drawn,
        None => {
            let stored = state.store.ledger(&who.ctx, &grant).await?;
            let drawn = Arc::new(render(chart, &stored.ledger, &key.format, key.lang)?);
            // Under the revision actually read, which a change in between
            // may have moved on.
            let key = DrawnKey {
                revision: stored.revision,
                ..key
            };
            state.charts.keep(key, drawn.clone());
            drawn
        }
    };
    if page {
        Ok(DiagramPage {
            chrome: Chrome::page(&state, &who, "").await?,
            id,
            hospital,
            chart: chart.slug(),
            title: tr.t(chart.title_key()).to_string(),
            svg: String::from_utf8(drawn.bytes.clone())
                .map_err(|e| WebError::Internal(e.to_string()))?,
            empty: drawn.empty,
        }
        .into_response())
    } else {
        Ok(forms::attachment(
            &format!("{hospital}-{}.{}", tr.t(chart.title_key()), drawn.extension),
            drawn.content_type,
            drawn.bytes.clone(),
        ))
    }
}

pub async fn network(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(query): Query<FormatQuery>,
) -> Result<Response, WebError> {
    chart_response(state, who, id, Chart::Network, query.format).await
}

pub async fn structure(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(query): Query<FormatQuery>,
) -> Result<Response, WebError> {
    chart_response(state, who, id, Chart::Structure, query.format).await
}
