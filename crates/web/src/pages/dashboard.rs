//! The first page after login: what this role has to look at.

use super::Chrome;
use crate::error::WebError;
use crate::format;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::OrgKind;
use mamori_store::Engagement;

pub struct EngagementRow {
    pub hospital_id: i64,
    pub hospital: String,
    pub company: String,
    pub state: String,
    pub state_slug: &'static str,
    pub updated: String,
}

impl EngagementRow {
    pub fn new(e: &Engagement, tr: crate::i18n::Tr) -> Self {
        EngagementRow {
            hospital_id: e.hospital_id.0,
            hospital: e.hospital_name.clone(),
            company: e.company_name.clone(),
            state: tr.value("state", e.state.slug()),
            state_slug: e.state.slug(),
            updated: format::minutes(e.updated_at_ms),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    chrome: Chrome,
    heading: &'static str,
    intro: &'static str,
    empty: &'static str,
    counts: Vec<(String, usize)>,
    engagements: Vec<EngagementRow>,
}

pub async fn dashboard(
    State(state): State<AppState>,
    who: Signed,
) -> Result<DashboardPage, WebError> {
    let tr = who.tr;
    let engagements = state.store.engagements_visible_to(&who.ctx).await?;
    let kind = who.account.org_kind;
    let count = |pred: &dyn Fn(EngagementState) -> bool| {
        engagements.iter().filter(|e| pred(e.state)).count()
    };
    let mut counts = Vec::new();
    if kind == OrgKind::Secretariat {
        let orgs = state.store.all_organisations().await?;
        for k in [OrgKind::Hospital, OrgKind::SurveyCompany] {
            counts.push((
                tr.value("kind", k.slug()),
                orgs.iter().filter(|o| o.kind == k).count(),
            ));
        }
    }
    if matches!(
        kind,
        OrgKind::Secretariat | OrgKind::Supervisor | OrgKind::SurveyCompany
    ) {
        counts.push((
            tr.t("dashboard.not_contracted").to_string(),
            count(&|s| !s.is_contracted() && !s.is_closed_early()),
        ));
        counts.push((
            tr.t("dashboard.contracted").to_string(),
            count(&|s| s.is_contracted() && !s.is_accepted()),
        ));
        counts.push((
            tr.t("dashboard.accepted").to_string(),
            count(&|s| s.is_accepted()),
        ));
    }
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
    Ok(DashboardPage {
        chrome: Chrome::signed(&who, "/dashboard"),
        heading,
        intro,
        empty,
        counts,
        engagements: engagements
            .iter()
            .map(|e| EngagementRow::new(e, tr))
            .collect(),
    })
}
