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

/// Links to the pages before and after the current one of a long table,
/// each keeping the filter it was reached with.
pub struct Pager {
    /// "51–100 / 8,012".
    pub range: String,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub page: usize,
    pub pages: usize,
}

impl Pager {
    /// Page `page` (from 1) of `total` rows, `size` to a page; `base` is the
    /// path and `query` the filter's query string (without `page`).
    pub fn new(base: &str, query: &str, page: usize, size: usize, total: usize) -> Pager {
        let pages = total.div_ceil(size.max(1)).max(1);
        let page = page.max(1);
        let link = |p: usize| {
            if query.is_empty() {
                format!("{base}?page={p}")
            } else {
                format!("{base}?{query}&page={p}")
            }
        };
        let first = (page - 1).saturating_mul(size);
        Pager {
            range: if first >= total {
                format!("0 / {}", thousands(total))
            } else {
                format!(
                    "{}–{} / {}",
                    thousands(first + 1),
                    thousands((first + size).min(total)),
                    thousands(total)
                )
            },
            previous: (page > 1).then(|| link((page - 1).min(pages))),
            next: (page < pages).then(|| link(page + 1)),
            page,
            pages,
        }
    }

    /// Whether there is more than one page, so the links are worth showing.
    pub fn is_needed(&self) -> bool {
        self.pages > 1 || self.page > 1
    }
}

/// The page number of `?page=`: 1 when absent, a refusal when not a whole
/// number from 1.
pub fn page_number(text: &str) -> Result<usize, WebError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(1);
    }
    text.parse::<usize>()
        .ok()
        .filter(|p| (1..=1_000_000).contains(p))
        .ok_or_else(|| WebError::BadRequest(format!("page: {text} is not a page number")))
}

/// 8012 → "8,012".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod paging_tests {
    use super::*;

    #[test]
    fn the_pager_links_keep_the_filter_and_stop_at_the_ends() {
        let first = Pager::new("/engagements", "state=contracted", 1, 50, 120);
        assert_eq!(first.range, "1–50 / 120");
        assert_eq!(first.previous, None);
        assert_eq!(
            first.next.as_deref(),
            Some("/engagements?state=contracted&page=2")
        );
        assert_eq!(first.pages, 3);
        assert!(first.is_needed());
        let last = Pager::new("/engagements", "state=contracted", 3, 50, 120);
        assert_eq!(last.range, "101–120 / 120");
        assert_eq!(
            last.previous.as_deref(),
            Some("/engagements?state=contracted&page=2")
        );
        assert_eq!(last.next, None);
        let beyond = Pager::new("/engagements", "", 9, 50, 120);
        assert_eq!(beyond.range, "0 / 120");
        assert_eq!(beyond.previous.as_deref(), Some("/engagements?page=3"));
        assert_eq!(beyond.next, None);
        let one = Pager::new("/engagements", "", 1, 50, 7);
        assert!(!one.is_needed());
        assert_eq!(one.range, "1–7 / 7");
        assert_eq!(Pager::new("/engagements", "", 1, 50, 0).range, "0 / 0");
    }

    #[test]
    fn page_numbers_are_whole_numbers_from_one() {
        assert_eq!(page_number("").unwrap(), 1);
        assert_eq!(page_number(" 3 ").unwrap(), 3);
        assert!(page_number("0").is_err());
        assert!(page_number("-1").is_err());
        assert!(page_number("two").is_err());
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(8012), "8,012");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
