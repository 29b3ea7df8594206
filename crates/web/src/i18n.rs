//! Screen text in Japanese (first) and English. One file holds both
//! languages side by side so that a missing translation shows in review;
//! the language is chosen per request, never process-wide.

use mamori_domain::organisation::Language;
use std::collections::HashMap;
use std::sync::LazyLock;

const MESSAGES: &str = include_str!("../locales/messages.tsv");

struct Entry {
    ja: &'static str,
    en: &'static str,
}

static CATALOGUE: LazyLock<HashMap<&'static str, Entry>> = LazyLock::new(|| {
    MESSAGES
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let mut parts = line.split('\t');
            let key = parts.next()?.trim();
            let ja = parts.next()?.trim();
            let en = parts.next().map(str::trim).unwrap_or(ja);
            Some((key, Entry { ja, en }))
        })
        .collect()
});

/// The translator handed to every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    pub lang: Language,
}

impl Tr {
    pub fn new(lang: Language) -> Self {
        Tr { lang }
    }

    /// The text for `key`; the key itself when missing (visible, never a crash).
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        match CATALOGUE.get(key) {
            Some(entry) => match self.lang {
                Language::Japanese => entry.ja,
                Language::English => entry.en,
            },
            None => key,
        }
    }

    /// `prefix.slug`, for enum values (kinds, roles, states, actions).
    pub fn value(&self, prefix: &str, slug: &str) -> String {
        let key = format!("{prefix}.{slug}");
        match CATALOGUE.get(key.as_str()) {
            Some(entry) => match self.lang {
                Language::Japanese => entry.ja.to_string(),
                Language::English => entry.en.to_string(),
            },
            None => slug.to_string(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.lang.slug()
    }
}

#[cfg(test)]
pub(crate) fn all_keys() -> Vec<&'static str> {
    CATALOGUE.keys().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::agreement::{AgreementKind, PaymentKind};
    use mamori_domain::audit::AuditAction;
    use mamori_domain::engagement::EngagementState;
    use mamori_domain::lifecycle::Gate;
    use mamori_domain::organisation::{FounderType, OrgKind, RecruitmentRoute, Role};
    use mamori_domain::schedule::{DeadlineKind, MilestoneKind};

    #[test]
    fn every_line_has_both_languages() {
        for (n, line) in MESSAGES.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<_> = line.split('\t').collect();
            assert_eq!(parts.len(), 3, "line {}: {line}", n + 1);
            assert!(
                parts.iter().all(|p| !p.trim().is_empty()),
                "line {}: {line}",
                n + 1
            );
        }
    }

    #[test]
    fn every_enum_value_is_translated() {
        let mut missing = Vec::new();
        let mut check = |prefix: &str, slug: &str| {
            let key = format!("{prefix}.{slug}");
            if !all_keys().contains(&key.as_str()) {
                missing.push(key);
            }
        };
        OrgKind::ALL.iter().for_each(|v| check("kind", v.slug()));
        Role::ALL.iter().for_each(|v| check("role", v.slug()));
        FounderType::ALL
            .iter()
            .for_each(|v| check("founder", v.slug()));
        RecruitmentRoute::ALL
            .iter()
            .for_each(|v| check("route", v.slug()));
        EngagementState::ALL
            .iter()
            .for_each(|v| check("state", v.slug()));
        AuditAction::ALL
            .iter()
            .for_each(|v| check("action", v.slug()));
        Gate::ALL.iter().for_each(|v| check("gate", v.slug()));
        MilestoneKind::ALL
            .iter()
            .for_each(|v| check("milestone", v.slug()));
        DeadlineKind::ALL
            .iter()
            .for_each(|v| check("deadline", v.slug()));
        AgreementKind::ALL
            .iter()
            .for_each(|v| check("agreement", v.slug()));
        PaymentKind::ALL
            .iter()
            .for_each(|v| check("payment", v.slug()));
        assert!(missing.is_empty(), "untranslated: {missing:?}");
    }

    #[test]
    fn japanese_is_the_default() {
        assert_eq!(Tr::new(Language::default()).t("login.title"), "ログイン");
        assert_eq!(Tr::new(Language::English).t("login.title"), "Log in");
    }
}
