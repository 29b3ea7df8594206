//! The first page after login: what this role has to look at.

use super::Chrome;
use super::engagements::{EngagementLine, engagement_line};
use crate::error::WebError;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::OrgKind;
use mamori_store::{Engagement, Paging};

pub struct EngagementRow {
    pub hospital: String,
    pub company: String,
    pub state: String,
    pub state_slug: &'static str,
}

impl EngagementRow {
    pub fn new(e: &Engagement, tr: crate::i18n::Tr) -> Self {
        EngagementRow {
            hospital: e.hospital_name.clone(),
            company: e.company_name.clone(),
            state: tr.value("state", e.state.slug()),
            state_slug: e.state.slug(),
        }
    }
}

/// A count on the dashboard, linking into the filtered table.
pub struct Tile {
    pub label: String,
    pub value: usize,
    pub href: Option<String>,
    pub alert: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    chrome: Chrome,
    heading: &'static str,
    intro: &'static str,
    empty: &'static str,
    counts: Vec<Tile>,
    states: Vec<Tile>,
    engagements: Vec<EngagementLine>,
    more: Option<MoreLink>,
}

/// "All 312 →" under a dashboard table cut short.
pub struct MoreLink {
    pub href: &'static str,
    pub text: String,
}

/// Rows of the dashboard's table; the rest are in the engagement table.
pub const DASHBOARD_ROWS: usize = 20;

pub async fn dashboard(
    State(state): State<AppState>,
    who: Signed,
) -> Result<DashboardPage, WebError> {
    let tr = who.tr;
    let kind = who.account.org_kind;
    // The secretariat and the supervisor see the overdue ones here; the
    // whole table is one click away. Only the rows shown are read (and
    // audited); the tiles are counts.
    let everything = matches!(kind, OrgKind::Secretariat | OrgKind::Supervisor);
    let (counted, shown) = state
        .store
        .engagement_dashboard(&who.ctx, everything, Paging::page(1, DASHBOARD_ROWS))
        .await?;
    let today = state.store.today();
    let count = |pred: &dyn Fn(EngagementState) -> bool| counted.count(pred);
    let tile = |label: String, value: usize| Tile {
        label,
        value,
        href: None,
        alert: false,
    };
    let mut counts = Vec::new();
    if kind == OrgKind::Secretariat {
        let orgs = state.store.organisation_counts().await?;
        for k in [OrgKind::Hospital, OrgKind::SurveyCompany] {
            counts.push(tile(
                tr.value("kind", k.slug()),
                orgs.get(&k).copied().unwrap_or(0),
            ));
        }
    }
    if matches!(
        kind,
        OrgKind::Secretariat | OrgKind::Supervisor | OrgKind::SurveyCompany
    ) {
        counts.push(tile(
            tr.t("dashboard.not_contracted").to_string(),
            count(&|s| !s.is_contracted() && !s.is_closed_early()),
        ));
        counts.push(tile(
            tr.t("dashboard.contracted").to_string(),
            count(&|s| s.is_contracted() && !s.is_accepted()),
        ));
        counts.push(tile(
            tr.t("dashboard.accepted").to_string(),
            count(&|s| s.is_accepted()),
        ));
        let overdue = counted.overdue;
        counts.push(Tile {
            label: tr.t("dashboard.overdue").to_string(),
            value: overdue,
            href: Some("/engagements?overdue=1".into()),
            alert: overdue > 0,
        });
    }
    let states = if everything {
        EngagementState::ALL
            .iter()
            .map(|s| Tile {
                label: tr.value("state", s.slug()),
                value: count(&|x| x == *s),
                href: Some(format!("/engagements?state={}", s.slug())),
                alert: false,
            })
            .collect()
    } else {
        Vec::new()
    };
    let (heading, intro, empty) = match kind {
        OrgKind::Secretariat => (
            "dashboard.secretariat",
            "dashboard.secretariat_intro",
            "dashboard.empty_secretariat",
        ),
        OrgKind::Supervisor => (
            "dashboard.supervisor",
            "dashboard.supervisor_intro",
            "dashboard.empty_supervisor",
        ),
        OrgKind::SurveyCompany => (
            "dashboard.surveyor",
            "dashboard.surveyor_intro",
            "dashboard.empty_surveyor",
        ),
        OrgKind::Hospital => (
            "dashboard.hospital",
            "dashboard.hospital_intro",
            "dashboard.empty_hospital",
        ),
        OrgKind::Ministry => (
            "dashboard.ministry",
            "dashboard.ministry_intro",
            "dashboard.empty_ministry",
        ),
        OrgKind::Vendor => (
            "dashboard.vendor",
            "dashboard.vendor_intro",
            "dashboard.empty_vendor",
        ),
    };
    let engagements = shown
        .rows
        .iter()
        .map(|o| engagement_line(tr, o, today))
        .collect();
    // More than the dashboard shows: the table has them all.
    let more = (shown.total > shown.rows.len()).then(|| MoreLink {
        href: if everything {
            "/engagements?overdue=1"
        } else {
            "/engagements"
        },
        text: tr
            .t("dashboard.more")
            .replace("{n}", &super::thousands(shown.total)),
    });
    Ok(DashboardPage {
        chrome: Chrome::page(&state, &who, "/dashboard").await?,
        heading,
        intro,
        empty,
        counts,
        states,
        engagements,
        more,
    })
}
