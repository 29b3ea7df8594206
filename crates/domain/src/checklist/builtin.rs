//! The MHLW checklists shipped with Mamori as data files
//! (`data/checklists/*.toml`). The wording is MHLW's; each item keeps where
//! it was seen, so unverified wording stays marked until an administrator
//! imports the official workbook.

use super::Framework;
use crate::DomainError;

/// The shipped files in edition order: (file name, contents).
const FILES: &[(&str, &str)] = &[
    (
        "mhlw-r5.toml",
        include_str!("../../../../data/checklists/mhlw-r5.toml"),
    ),
    (
        "mhlw-r6.toml",
        include_str!("../../../../data/checklists/mhlw-r6.toml"),
    ),
    (
        "mhlw-r7.toml",
        include_str!("../../../../data/checklists/mhlw-r7.toml"),
    ),
    (
        "mhlw-kokoroe.toml",
        include_str!("../../../../data/checklists/mhlw-kokoroe.toml"),
    ),
];

/// Every shipped framework, parsed and checked: R5, R6, R7, then the
/// 9の心得.
pub fn builtin_frameworks() -> Result<Vec<Framework>, DomainError> {
    FILES
        .iter()
        .map(|(name, text)| {
            // Name the file: a broken data file is a packaging error.
            Framework::from_toml(text)
                .map_err(|e| DomainError::invalid("builtin framework", format!("{name}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::{AnswerStyle, Audience, Provenance, Scope};
    use std::collections::HashSet;

    fn framework(key: &str) -> Framework {
        builtin_frameworks()
            .expect("the shipped files load")
            .into_iter()
            .find(|f| f.key == key)
            .unwrap_or_else(|| panic!("{key} is shipped"))
    }

    fn required_in(framework: &Framework, form: &str, year: i32) -> usize {
        framework
            .form(form)
            .expect("form exists")
            .cells()
            .filter(|(_, c)| c.required_fy == Some(year))
            .count()
    }

    #[test]
    fn every_file_loads_in_edition_order() {
        let frameworks = builtin_frameworks().expect("the shipped files load");
        let keys: Vec<&str> = frameworks.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["mhlw-r5", "mhlw-r6", "mhlw-r7", "mhlw-kokoroe-2023"]);
        let unique: HashSet<&str> = keys.iter().copied().collect();
        assert_eq!(unique.len(), keys.len(), "keys are unique");
    }

    #[test]
    fn every_item_says_where_it_came_from_and_has_english() {
        for framework in builtin_frameworks().expect("the shipped files load") {
            assert!(!framework.title_en.is_empty(), "{}", framework.key);
            assert!(!framework.sources.is_empty(), "{}", framework.key);
            for form in &framework.forms {
                assert!(!form.title_en.is_empty(), "{} {}", framework.key, form.key);
                for section in &form.sections {
                    assert!(
                        !section.title_en.is_empty(),
                        "{} {}",
                        form.key,
                        section.number
                    );
                }
                for item in form.items() {
                    let at = format!("{} {} {}", framework.key, form.key, item.number);
                    assert!(!item.evidence.trim().is_empty(), "{at}: evidence");
                    assert!(!item.text_en.trim().is_empty(), "{at}: text_en");
                    // Notes such as ※… belong in note_ja, not in the wording.
                    assert!(!item.text_ja.contains('※'), "{at}: note in text");
                    assert_eq!(
                        item.note_ja.is_empty(),
                        item.note_en.is_empty(),
                        "{at}: note in one language only"
                    );
                }
            }
        }
    }

    #[test]
    fn r5_hospital_has_ten_cells_for_2023_and_eight_for_2024() {
        let r5 = framework("mhlw-r5");
        assert_eq!(r5.fiscal_year, Some(2023));
        assert_eq!(r5.answer_style, AnswerStyle::YesNoDated);
        let hospital = r5.form("hospital").expect("hospital form");
        assert_eq!(hospital.audience, Audience::Hospital);
        assert_eq!(hospital.cells().count(), 18);
        assert_eq!(hospital.items().count(), 13);
        assert_eq!(required_in(&r5, "hospital", 2023), 10);
        assert_eq!(required_in(&r5, "hospital", 2024), 8);
        assert!(hospital.items().all(|i| !i.gate));
        let patch = hospital.item("2-(7)").expect("security patches");
        assert_eq!(
            patch.cell(Scope::NetworkDevice).and_then(|c| c.required_fy),
            Some(2023)
        );
        assert_eq!(
            patch.cell(Scope::Server).and_then(|c| c.required_fy),
            Some(2024)
        );
        let remote = hospital.item("2-(2)").expect("remote maintenance");
        assert_eq!(remote.note_ja, "※事業者と契約していない場合は記入不要");
        let vendor = r5.form("vendor").expect("vendor form");
        assert_eq!(vendor.audience, Audience::Vendor);
        assert!(vendor.item("3-(3)").is_none(), "BCP is hospital-only");
    }

    #[test]
    fn r5_unverified_lists_exactly_the_inferred_and_recollected_items() {
        let r5 = framework("mhlw-r5");
        let expected = [
            ("hospital", "2-(9)"),
            ("hospital", "3-(1)"),
            ("vendor", "2-(1)"),
            ("vendor", "2-(2)"),
            ("vendor", "2-(4)"),
            ("vendor", "2-(5)"),
            ("vendor", "2-(6)"),
            ("vendor", "2-(7)"),
            ("vendor", "2-(8)"),
            ("vendor", "2-(9)"),
            ("vendor", "3-(1)"),
            ("vendor", "3-(2)"),
        ];
        assert_eq!(r5.unverified(), expected);
        for (form, number) in expected {
            let item = r5.form(form).and_then(|f| f.item(number)).expect("item");
            assert!(
                matches!(
                    item.provenance,
                    Provenance::Inferred | Provenance::Recollection
                ),
                "{form} {number}"
            );
            assert!(
                item.evidence.contains("[I]") || item.evidence.contains("[M]"),
                "{form} {number}: the evidence names the tag"
            );
        }
    }

    #[test]
    fn r6_hospital_opens_with_the_gate_and_requires_everything_in_2024() {
        let r6 = framework("mhlw-r6");
        assert_eq!(r6.fiscal_year, Some(2024));
        assert_eq!(r6.published, Some(time::macros::date!(2024 - 05 - 13)));
        let hospital = r6.form("hospital").expect("hospital form");
        let gate = hospital.items().next().expect("first item");
        assert!(gate.gate);
        assert_eq!(gate.number, "0");
        assert_eq!(gate.text_ja, "医療情報システムを導入、運用している。");
        assert_eq!(
            gate.note_ja,
            "本項目の「いいえ」にマルがつく場合、以下すべての項目は確認不要です。"
        );
        assert_eq!(gate.provenance, Provenance::Verbatim);
        assert_eq!(gate.cells.len(), 1);
        assert_eq!(gate.cells[0].scope, Scope::Organisation);
        assert_eq!(hospital.sections[0].number, "0");
        let checks: Vec<_> = hospital.cells().filter(|(i, _)| !i.gate).collect();
        assert_eq!(checks.len(), 18);
        assert!(checks.iter().all(|(_, c)| c.required_fy == Some(2024)));
        assert_eq!(hospital.items().filter(|i| i.gate).count(), 1);
    }

    #[test]
    fn r6_keeps_the_r5_items() {
        let (r5, r6) = (framework("mhlw-r5"), framework("mhlw-r6"));
        for key in ["hospital", "vendor"] {
            let old: Vec<_> = r5.form(key).expect("r5 form").items().collect();
            let new: Vec<_> = r6
                .form(key)
                .expect("r6 form")
                .items()
                .filter(|i| !i.gate)
                .collect();
            assert_eq!(old.len(), new.len(), "{key}");
            for (a, b) in old.iter().zip(&new) {
                assert_eq!((&a.number, &a.text_ja), (&b.number, &b.text_ja));
                assert_eq!(a.provenance, b.provenance, "{key} {}", a.number);
                let scopes = |i: &crate::checklist::Item| -> Vec<Scope> {
                    i.cells.iter().map(|c| c.scope).collect()
                };
                assert_eq!(scopes(a), scopes(b), "{key} {}", a.number);
            }
        }
    }

    #[test]
    fn r6_vendor_has_no_gate_and_no_bcp() {
        let r6 = framework("mhlw-r6");
        let vendor = r6.form("vendor").expect("vendor form");
        assert!(vendor.items().all(|i| !i.gate));
        assert!(vendor.item("3-(3)").is_none());
        assert!(vendor.items().all(|i| !i.text_ja.contains("BCP")));
        assert!(vendor.cells().all(|(_, c)| c.required_fy == Some(2024)));
    }

    #[test]
    fn r7_ships_only_verified_wording() {
        let r7 = framework("mhlw-r7");
        assert_eq!(r7.fiscal_year, Some(2025));
        assert!(r7.unverified().is_empty());
        for form in &r7.forms {
            for item in form.items() {
                assert!(
                    matches!(item.provenance, Provenance::Verbatim | Provenance::Quoted),
                    "{} {}",
                    form.key,
                    item.number
                );
                assert!(item.cells.iter().all(|c| c.required_fy == Some(2025)));
            }
            // 二要素認証 is only recollected: not shipped.
            assert!(form.item("2-⑩").is_none());
        }
        let hospital = r7.form("hospital").expect("hospital form");
        let vendor = r7.form("vendor").expect("vendor form");
        assert!(hospital.item("1-①").is_some() && vendor.item("1-①").is_some());
        assert!(vendor.item("2-⑦").is_some());
        assert!(vendor.item("3-②").is_none(), "section 3 is hospital-only");
        assert!(r7.notes.contains("二要素認証"));
        assert!(r7.notes.contains("workbook"));
    }

    #[test]
    fn kokoroe_has_three_audiences() {
        let kokoroe = framework("mhlw-kokoroe-2023");
        assert_eq!(kokoroe.answer_style, AnswerStyle::Circle);
        let audiences: Vec<(&str, Audience)> = kokoroe
            .forms
            .iter()
            .map(|f| (f.key.as_str(), f.audience))
            .collect();
        assert_eq!(
            audiences,
            [
                ("executive", Audience::Executive),
                ("administrator", Audience::Administrator),
                ("user", Audience::User),
            ]
        );
        let sections: Vec<&str> = kokoroe
            .forms
            .iter()
            .flat_map(|f| f.sections.iter().map(|s| s.number.as_str()))
            .collect();
        assert_eq!(sections, ["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        for form in &kokoroe.forms {
            for (item, cell) in form.cells() {
                assert_eq!(cell.scope, Scope::Organisation, "{}", item.number);
                assert_eq!(cell.required_fy, None);
            }
        }
        // Only the heading of 心得 9 was recovered.
        assert_eq!(
            kokoroe.unverified(),
            [("user", "9")],
            "every sub-point is quoted"
        );
        let mail = kokoroe.form("user").and_then(|f| f.item("9")).expect("9");
        assert_eq!(mail.text_ja, "電子メールの確認");
        assert_eq!(mail.provenance, Provenance::Inferred);
    }
}
