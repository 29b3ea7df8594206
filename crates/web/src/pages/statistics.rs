//! Statistics (seed 資料1 §2②, §3.6⑤): the secretariat drafts a release —
//! the tables across hospitals, protected — and sees every cell that was
//! suppressed and why; a second member publishes it to the ministry or to
//! the public. Published releases are read by the supervisor and the
//! ministry, public ones by anyone without logging in, with charts and
//! CSV, Excel and PDF exports. No reader but the secretariat sees a reason.

use super::forms;
use super::{Chrome, Done};
use crate::error::WebError;
use crate::format;
use crate::i18n::Tr;
use crate::session::{Signed, Visitor};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_documents::statistics::{
    StatisticsDocument, cell_text, statistics_chart_svg, statistics_csv, statistics_pdf,
    statistics_xlsx,
};
use mamori_domain::ProgrammeId;
use mamori_domain::aggregates::{ReleaseAudience, ReleaseState};
use mamori_domain::organisation::OrgKind;
use mamori_domain::statistics::{DEFAULT_K, ProtectedTable, PublishedCell};
use mamori_store::{StatisticsRelease, StoreError};
use serde::Deserialize;

pub struct CellView {
    text: String,
    suppressed: bool,
}

pub struct RowView {
    label: String,
    cells: Vec<CellView>,
    total: Option<CellView>,
}

pub struct TableView {
    id: String,
    title: String,
    chart: String,
    columns: Vec<String>,
    row_totals: bool,
    rows: Vec<RowView>,
    column_totals: Option<(Vec<CellView>, Option<CellView>)>,
}

fn labels(ja: &[String], en: &[String], tr: Tr) -> Vec<String> {
    if tr.code() == "en" && en.len() == ja.len() {
        en.to_vec()
    } else {
        ja.to_vec()
    }
}

fn table_view(t: &ProtectedTable, tr: Tr) -> TableView {
    let cell = |c: &PublishedCell| CellView {
        text: cell_text(c, t.measure, tr.code()),
        suppressed: c.is_suppressed(),
    };
    TableView {
        id: t.id.clone(),
        title: if tr.code() == "en" {
            t.title_en.clone()
        } else {
            t.title_ja.clone()
        },
        chart: statistics_chart_svg(t, tr.code()),
        columns: labels(&t.columns, &t.columns_en, tr),
        row_totals: !t.row_totals.is_empty(),
        rows: labels(&t.rows, &t.rows_en, tr)
            .into_iter()
            .enumerate()
            .map(|(r, label)| RowView {
                label,
                cells: t.cells[r].iter().map(cell).collect(),
                total: t.row_totals.get(r).map(cell),
            })
            .collect(),
        column_totals: (!t.column_totals.is_empty()).then(|| {
            (
                t.column_totals.iter().map(cell).collect(),
                t.total.as_ref().map(cell),
            )
        }),
    }
}

pub struct ReleaseLine {
    id: i64,
    number: i64,
    title: String,
    audience: String,
    state: String,
    hospitals: i64,
    k: u32,
    drafted: String,
    decided: String,
}

fn line(r: &StatisticsRelease, tr: Tr) -> ReleaseLine {
    ReleaseLine {
        id: r.id,
        number: r.number,
        title: r.title.clone(),
        audience: r.audience.label(tr.code()).to_string(),
        state: r.state.label(tr.code()).to_string(),
        hospitals: r.hospitals,
        k: r.k,
        drafted: format!("{} {}", format::minutes(r.drafted_at_ms), r.drafted_by),
        decided: match (&r.decided_by, r.decided_at_ms) {
            (Some(by), Some(at)) => format!("{} {by}", format::minutes(at)),
            _ => String::new(),
        },
    }
}

/// A public line names nobody: the day it was published, not who did it.
fn anonymous_line(mut l: ReleaseLine) -> ReleaseLine {
    l.drafted = String::new();
    l.decided = l.decided.chars().take(10).collect();
    l
}

#[derive(Template, WebTemplate)]
#[template(path = "statistics.html")]
pub struct StatisticsPage {
    chrome: Chrome,
    releases: Vec<ReleaseLine>,
    secretariat: bool,
    programmes: Vec<(i64, String)>,
    default_k: u32,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    who: &Signed,
    error: Option<String>,
    done: &Option<String>,
) -> Result<StatisticsPage, WebError> {
    let tr = who.tr;
    let releases = state.store.statistics_releases(&who.ctx).await?;
    let secretariat = who.account.org_kind == OrgKind::Secretariat;
    let programmes = if secretariat {
        state
            .store
            .programmes(&who.ctx)
            .await?
            .into_iter()
            .map(|p| (p.id.0, p.name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(StatisticsPage {
        chrome: Chrome::page(state, who, "/statistics")
            .await?
            .with_notice(done),
        releases: releases.iter().map(|r| line(r, tr)).collect(),
        secretariat,
        programmes,
        default_k: DEFAULT_K,
        error,
    })
}

pub async fn list(
    State(state): State<AppState>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<StatisticsPage, WebError> {
    list_page(&state, &who, None, &done.done).await
}

#[derive(Deserialize)]
pub struct DraftForm {
    #[serde(default)]
    programme: String,
    audience: String,
    k: String,
    title: String,
}

/// The secretariat drafts a release; a refusal (k below 3 …) shows the page again with why.
pub async fn draft(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<DraftForm>,
) -> Result<Response, WebError> {
    let parsed = (|| -> Result<_, mamori_domain::DomainError> {
        let audience = ReleaseAudience::parse(&form.audience)?;
        let k: u32 = form.k.trim().parse().map_err(|_| {
            mamori_domain::DomainError::invalid(
                "k",
                format!("`{}` は整数ではありません / is not a whole number", form.k),
            )
        })?;
        let programme = match form.programme.trim() {
            "" => None,
            p => Some(ProgrammeId(p.parse().map_err(|_| {
                mamori_domain::DomainError::invalid(
                    "programme",
                    "不明な調査プログラム / unknown programme",
                )
            })?)),
        };
        Ok((audience, k, programme))
    })();
    let result = match parsed {
        Ok((audience, k, programme)) => {
            state
                .store
                .draft_statistics(&who.ctx, programme, audience, k, &form.title)
                .await
        }
        Err(e) => Err(StoreError::from(e)),
    };
    match result {
        Ok(r) => Ok(
            Redirect::to(&format!("/statistics/{}?done=statistics_drafted", r.id)).into_response(),
        ),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = list_page(&state, &who, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "statistics_release.html")]
pub struct ReleasePage {
    chrome: Chrome,
    release: ReleaseLine,
    tables: Vec<TableView>,
    /// (table, row, column, reason): the drafter's view of a draft only.
    suppressed: Vec<(String, String, String, String)>,
    draft: bool,
    exports: String,
    public: bool,
    error: Option<String>,
}

fn release_page(
    chrome: Chrome,
    r: &StatisticsRelease,
    exports: String,
    public: bool,
    error: Option<String>,
) -> ReleasePage {
    let tr = chrome.tr;
    let suppressed = if r.state == ReleaseState::Draft {
        r.tables
            .iter()
            .flat_map(|t| {
                let title = if tr.code() == "en" {
                    t.title_en.clone()
                } else {
                    t.title_ja.clone()
                };
                t.suppressed().into_iter().map(move |(row, column, why)| {
                    (title.clone(), row, column, why.reason(tr.code()))
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut release = line(r, tr);
    if public {
        release = anonymous_line(release);
    }
    ReleasePage {
        tables: r.tables.iter().map(|t| table_view(t, tr)).collect(),
        release,
        suppressed,
        draft: r.state == ReleaseState::Draft,
        exports,
        public,
        error,
        chrome,
    }
}

async fn show_release(
    state: &AppState,
    who: &Signed,
    id: i64,
    error: Option<String>,
    done: &Option<String>,
) -> Result<ReleasePage, WebError> {
    let r = state.store.statistics_release(&who.ctx, id).await?;
    let chrome = Chrome::page(state, who, "/statistics")
        .await?
        .with_notice(done);
    Ok(release_page(
        chrome,
        &r,
        format!("/statistics/{id}/export"),
        false,
        error,
    ))
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<ReleasePage, WebError> {
    show_release(&state, &who, id, None, &done.done).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: String,
}

/// A second member publishes the draft, or it is discarded.
pub async fn decide(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, WebError> {
    let result = match ReleaseState::parse(&form.decision) {
        Ok(to) => state.store.decide_statistics(&who.ctx, id, to).await,
        Err(e) => Err(StoreError::from(e)),
    };
    match result {
        Ok(r) => Ok(Redirect::to(&format!(
            "/statistics/{id}?done=statistics_{}",
            r.state.slug()
        ))
        .into_response()),
        Err(e) => {
            let refusal = forms::store_refusal(who.tr, e)?;
            let page = show_release(&state, &who, id, Some(refusal.message), &None).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

fn document<'a>(
    r: &'a StatisticsRelease,
    audience: &'a str,
    published: &'a str,
) -> StatisticsDocument<'a> {
    StatisticsDocument {
        title: &r.title,
        number: r.number,
        audience,
        k: r.k,
        hospitals: r.hospitals,
        published_on: published,
        tables: &r.tables,
    }
}

/// `statistics-N.csv`, `.xlsx` or `.pdf` of a release, in the reader's language.
fn export(r: &StatisticsRelease, format_name: &str, tr: Tr) -> Result<Response, WebError> {
    let audience = r.audience.label(tr.code()).to_string();
    let published = r
        .decided_at_ms
        .filter(|_| r.state == ReleaseState::Published)
        .map(|ms| format::minutes(ms).chars().take(10).collect::<String>())
        .unwrap_or_default();
    let doc = document(r, &audience, &published);
    let name = format!("statistics-{}", r.number);
    let failed = |e: mamori_documents::DocumentError| WebError::Internal(e.to_string());
    Ok(match format_name {
        "csv" => forms::attachment(
            &format!("{name}.csv"),
            "text/csv; charset=utf-8",
            statistics_csv(&doc, tr.code()),
        ),
        "xlsx" => forms::attachment(
            &format!("{name}.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            statistics_xlsx(&doc, tr.code()).map_err(failed)?,
        ),
        "pdf" => forms::attachment(
            &format!("{name}.pdf"),
            "application/pdf",
            statistics_pdf(&doc, tr.code()).map_err(failed)?,
        ),
        _ => return Err(WebError::NotFound),
    })
}

pub async fn download(
    State(state): State<AppState>,
    who: Signed,
    Path((id, format_name)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    let r = state.store.statistics_release(&who.ctx, id).await?;
    // Even the secretariat's exports carry no reasons: files travel.
    let r = StatisticsRelease {
        tables: r
            .tables
            .iter()
            .map(ProtectedTable::for_publication)
            .collect(),
        ..r
    };
    export(&r, &format_name, who.tr)
}

#[derive(Template, WebTemplate)]
#[template(path = "statistics_public.html")]
pub struct PublicListPage {
    chrome: Chrome,
    releases: Vec<ReleaseLine>,
}

/// Published public releases, without logging in.
pub async fn public_list(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<PublicListPage, WebError> {
    let tr = visitor.tr();
    let releases = state.store.public_statistics().await?;
    Ok(PublicListPage {
        chrome: Chrome::anonymous(tr, visitor.csrf()),
        releases: releases
            .iter()
            .map(|r| anonymous_line(line(r, tr)))
            .collect(),
    })
}

async fn public_release(state: &AppState, number: i64) -> Result<StatisticsRelease, WebError> {
    state
        .store
        .public_statistics()
        .await?
        .into_iter()
        .find(|r| r.number == number)
        .ok_or(WebError::NotFound)
}

pub async fn public_show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(number): Path<i64>,
) -> Result<ReleasePage, WebError> {
    let r = public_release(&state, number).await?;
    let chrome = Chrome::anonymous(visitor.tr(), visitor.csrf());
    Ok(release_page(
        chrome,
        &r,
        format!("/public/statistics/{number}/export"),
        true,
        None,
    ))
}

pub async fn public_download(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((number, format_name)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    let r = public_release(&state, number).await?;
    export(&r, &format_name, visitor.tr())
}
