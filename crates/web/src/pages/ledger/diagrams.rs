//! The network overview (成果物 ⑥) and the management structure chart
//! (成果物 ⑦), drawn from the ledger on every request: in the page as SVG,
//! and as SVG, PDF, draw.io and Mermaid downloads.

use super::read_ledger;
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
use serde::Deserialize;

/// Which chart a page or download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A chart drawn in one format: (bytes, content type, file extension).
pub fn render(
    chart: Chart,
    ledger: &mamori_domain::ledger::Ledger,
    format: &str,
    lang: &str,
) -> Result<(Vec<u8>, &'static str, &'static str), WebError> {
    let network = || network_view(ledger);
    let org = || org_view(ledger);
    Ok(match (chart, format) {
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
    })
}

async fn chart_response(
    state: AppState,
    who: Signed,
    id: i64,
    chart: Chart,
    format: Option<String>,
) -> Result<Response, WebError> {
    let tr = who.tr;
    let read = read_ledger(&state, &who, OrgId(id)).await?;
    let ledger = &read.stored.ledger;
    match format.as_deref() {
        None | Some("html") => {
            let empty = match chart {
                Chart::Network => ledger.assets.is_empty() && ledger.connections.is_empty(),
                Chart::Structure => ledger.roles.is_empty(),
            };
            let (svg, _, _) = render(chart, ledger, "svg", tr.code())?;
            Ok(DiagramPage {
                chrome: Chrome::page(&state, &who, "").await?,
                id,
                hospital: read.hospital,
                chart: chart.slug(),
                title: tr.t(chart.title_key()).to_string(),
                svg: String::from_utf8(svg).map_err(|e| WebError::Internal(e.to_string()))?,
                empty,
            }
            .into_response())
        }
        Some(format) => {
            let (bytes, content_type, extension) = render(chart, ledger, format, tr.code())?;
            Ok(forms::attachment(
                &format!("{}-{}.{extension}", read.hospital, tr.t(chart.title_key())),
                content_type,
                bytes,
            ))
        }
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
