//! Server-rendered pages. Each view is one template struct; the layout data
//! (`Chrome`) is built once per request from the signed-in account.

pub mod account;
pub mod advisories;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod checklists;
pub mod dashboard;
pub mod data_return;
pub mod deliverables;
pub mod engagements;
pub mod forms;
pub mod frameworks;
pub mod hospital;
pub mod labour;
pub mod ledger;
pub mod letters;
pub mod notifications;
pub mod organisations;
pub mod programmes;
pub mod report;
pub mod review;
pub mod statistics;

use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::Signed;
use crate::state::AppState;
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::audit_scope;
use serde::Deserialize;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
    /// A count shown beside the label (unread notifications).
    pub badge: Option<i64>,
}

pub struct UserBadge {
    pub name: String,
    pub org: String,
    pub role: String,
}

/// What the layout needs: language, who is signed in, navigation, notice.
pub struct Chrome {
    pub tr: Tr,
    pub user: Option<UserBadge>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub notice: Option<String>,
}

impl Chrome {
    pub fn anonymous(tr: Tr, csrf: &str) -> Self {
        Chrome {
            tr,
            user: None,
            nav: Vec::new(),
            csrf: csrf.to_string(),
            notice: None,
        }
    }

    /// The layout for a signed-in person; `active` is the current nav href.
    pub fn signed(who: &Signed, active: &str) -> Self {
        let a = &who.account;
        let mut nav = vec![("/dashboard", "nav.dashboard")];
        if a.org_kind != OrgKind::Vendor {
            nav.push(("/programmes", "nav.programmes"));
            nav.push(("/engagements", "nav.engagements"));
            nav.push(("/checklists", "nav.checklists"));
            nav.push(("/catalogue", "nav.catalogue"));
        }
        nav.push((
            "/organisations",
            if matches!(a.org_kind, OrgKind::Secretariat | OrgKind::Supervisor) {
                "nav.organisations"
            } else {
                "nav.my_organisation"
            },
        ));
        if matches!(a.org_kind, OrgKind::Supervisor | OrgKind::Secretariat) {
            nav.push(("/review", "nav.review"));
        }
        if matches!(
            a.org_kind,
            OrgKind::Supervisor | OrgKind::Secretariat | OrgKind::SurveyCompany
        ) {
            nav.push(("/labour", "nav.labour"));
        }
        if a.org_kind != OrgKind::Vendor && a.org_kind != OrgKind::SurveyCompany {
            nav.push(("/advisories", "nav.advisories"));
        }
        if matches!(
            a.org_kind,
            OrgKind::Secretariat | OrgKind::Supervisor | OrgKind::Ministry
        ) {
            nav.push(("/statistics", "nav.statistics"));
        }
        nav.push(("/notifications", "nav.notifications"));
        if a.org_kind == OrgKind::Secretariat {
            nav.push(("/letters", "nav.letters"));
            nav.push(("/outbox", "nav.outbox"));
        }
        if audit_scope(&a.actor()).is_some() {
            nav.push(("/audit", "nav.audit"));
        }
        nav.push(("/account", "nav.account"));
        Chrome {
            tr: who.tr,
            user: Some(UserBadge {
                name: a.display_name.clone(),
                org: a.org_name.clone(),
                role: format!(
                    "{} {}",
                    who.tr.value("kind", a.org_kind.slug()),
                    who.tr.value("role", a.role.slug())
                ),
            }),
            nav: nav
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    active: href == active,
                    badge: None,
                })
                .collect(),
            csrf: who.csrf.clone(),
            notice: None,
        }
    }

    /// The layout for a signed-in person with the unread count beside
    /// お知らせ; every page of a signed-in person is built with this.
    pub async fn page(state: &AppState, who: &Signed, active: &str) -> Result<Self, WebError> {
        let mut chrome = Self::signed(who, active);
        let unread = state.store.unread_notifications(who.account.id).await?;
        if let Some(item) = chrome.nav.iter_mut().find(|i| i.href == "/notifications") {
            item.badge = (unread > 0).then_some(unread);
        }
        Ok(chrome)
    }

    /// Shows the message for `?done=key` after a redirect.
    pub fn with_notice(mut self, done: &Option<String>) -> Self {
        if let Some(key) = done {
            let key = format!("done.{key}");
            let text = self.tr.t(&key);
            if text != key {
                self.notice = Some(text.to_string());
            }
        }
        self
    }
}

/// `?done=…` on pages reached by a redirect after a change.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    pub done: Option<String>,
}
