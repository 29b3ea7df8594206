//! The notice a hospital receives when advisories affect its ledger (seed
//! 資料1 基本構想 ②: 対応すべき医療機関等を検索し、担当部署に連絡する):
//! to its system administrator and security officer, and to the
//! maintenance vendor recorded for each device; per advisory the affected
//! assets, the severity, whether it is known to be exploited (KEV) and by
//! when, what to do, and the date the hospital should have answered by.

use crate::{Advisory, Cvss, KevFlag, Remediation};
use mamori_domain::ledger::{Asset, StructureRole, StructureRoleKind};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// Days to answer a case, by CVSS base score; a KEV due date that comes
/// earlier wins. Critical 14, high 30, medium 60, low or unscored 90.
pub fn default_due(found_on: Date, cvss: Option<&Cvss>, kev: Option<&KevFlag>) -> Date {
    let days = match cvss.map(|c| c.base_score) {
        Some(s) if s >= 9.0 => 14,
        Some(s) if s >= 7.0 => 30,
        Some(s) if s >= 4.0 => 60,
        _ => 90,
    };
    let by_score = found_on + Duration::days(days);
    match kev.and_then(|k| k.due_date) {
        // A KEV date already past still means "now", not "never".
        Some(kev_due) => by_score.min(kev_due.max(found_on)),
        None => by_score,
    }
}

/// Who a notice is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecipientKind {
    /// The hospital's system administrator, security officer or incident contact.
    Hospital,
    /// The maintenance vendor recorded for an affected device.
    MaintenanceVendor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub kind: RecipientKind,
    /// 役割・役職, or the vendor's name when no role names it.
    pub title: String,
    pub person: String,
    pub organisation: String,
    pub phone: String,
    pub email: String,
    /// The affected assets this recipient maintains (vendors only).
    pub assets: Vec<String>,
}

/// One affected asset as the notice shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeAsset {
    pub match_id: i64,
    pub key: String,
    pub name: String,
    pub vendor: String,
    pub product: String,
    pub model: String,
    pub version: String,
    pub location: String,
    pub maintenance_vendor: String,
    /// How the match was found and how sure (`Method::slug`, `Confidence::slug`).
    pub method: String,
    pub confidence: String,
}

/// One advisory and the hospital's assets it affects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeAdvisory {
    pub id: String,
    pub source: String,
    pub cve_ids: Vec<String>,
    pub other_ids: Vec<String>,
    pub title: String,
    pub description: String,
    pub cvss: Option<Cvss>,
    pub kev: Option<KevFlag>,
    pub remediations: Vec<Remediation>,
    pub references: Vec<String>,
    pub due_on: Date,
    pub assets: Vec<NoticeAsset>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub hospital: String,
    pub issued_on: Date,
    pub recipients: Vec<Recipient>,
    pub advisories: Vec<NoticeAdvisory>,
}

/// One match going into a notice.
pub struct NoticeCase<'a> {
    pub match_id: i64,
    pub advisory: &'a Advisory,
    /// The KEV entry of one of the advisory's CVE ids, when there is one.
    pub kev: Option<&'a KevFlag>,
    pub asset: &'a Asset,
    pub method: &'a str,
    pub confidence: &'a str,
    pub due_on: Date,
}

/// The longest description a notice repeats (the full text stays in Mamori).
const DESCRIPTION_CHARS: usize = 600;
const REFERENCES: usize = 5;

fn folded(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Builds the notice: advisories in order of severity (KEV first, then
/// CVSS), assets by key, recipients the hospital's contacts then vendors.
pub fn build_notice(
    hospital: &str,
    issued_on: Date,
    cases: &[NoticeCase<'_>],
    roles: &[StructureRole],
) -> Notice {
    let mut advisories: Vec<NoticeAdvisory> = Vec::new();
    for case in cases {
        let a = case.advisory;
        let asset = NoticeAsset {
            match_id: case.match_id,
            key: case.asset.key.to_string(),
            name: case.asset.name.clone(),
            vendor: case.asset.vendor.clone(),
            product: case.asset.product.clone(),
            model: case.asset.model.clone(),
            version: case.asset.version.clone(),
            location: case.asset.location.clone(),
            maintenance_vendor: case.asset.maintenance_vendor.clone(),
            method: case.method.to_string(),
            confidence: case.confidence.to_string(),
        };
        if let Some(existing) = advisories
            .iter_mut()
            .find(|n| n.id == a.id && n.source == a.source.slug())
        {
            existing.due_on = existing.due_on.min(case.due_on);
            existing.assets.push(asset);
            continue;
        }
        let mut ids: Vec<&String> = a.aliases.iter().chain(std::iter::once(&a.id)).collect();
        ids.sort();
        ids.dedup();
        let (cve_ids, other_ids): (Vec<&String>, Vec<&String>) =
            ids.into_iter().partition(|i| i.starts_with("CVE-"));
        let mut remediations = a.remediations.clone();
        if let Some(k) = case.kev.or(a.kev.as_ref())
            && !k.required_action.is_empty()
            && !remediations.iter().any(|r| r.text == k.required_action)
        {
            remediations.push(Remediation {
                category: "required-action".into(),
                text: k.required_action.clone(),
                url: None,
                product_ids: Vec::new(),
            });
        }
        advisories.push(NoticeAdvisory {
            id: a.id.clone(),
            source: a.source.slug().to_string(),
            cve_ids: cve_ids.into_iter().cloned().collect(),
            other_ids: other_ids
                .into_iter()
                .filter(|i| **i != a.id)
                .cloned()
                .collect(),
            title: a.title.clone(),
            description: a.description.chars().take(DESCRIPTION_CHARS).collect(),
            cvss: a.cvss.clone(),
            kev: case.kev.cloned().or_else(|| a.kev.clone()),
            remediations,
            references: a
                .references
                .iter()
                .map(|r| r.url.clone())
                .take(REFERENCES)
                .collect(),
            due_on: case.due_on,
            assets: vec![asset],
        });
    }
    for n in &mut advisories {
        n.assets.sort_by(|a, b| a.key.cmp(&b.key));
    }
    advisories.sort_by(|a, b| {
        let score = |n: &NoticeAdvisory| n.cvss.as_ref().map_or(0.0, |c| c.base_score);
        b.kev
            .is_some()
            .cmp(&a.kev.is_some())
            .then(score(b).total_cmp(&score(a)))
            .then(a.id.cmp(&b.id))
    });
    Notice {
        hospital: hospital.to_string(),
        issued_on,
        recipients: recipients(&advisories, roles),
        advisories,
    }
}

fn recipient(kind: RecipientKind, r: &StructureRole) -> Recipient {
    Recipient {
        kind,
        title: r.title.clone(),
        person: r.person.clone(),
        organisation: r.organisation.clone(),
        phone: r.business_phone.clone(),
        email: r.business_email.clone(),
        assets: Vec::new(),
    }
}

fn recipients(advisories: &[NoticeAdvisory], roles: &[StructureRole]) -> Vec<Recipient> {
    use StructureRoleKind::*;
    let mut out: Vec<Recipient> = roles
        .iter()
        .filter(|r| matches!(r.kind, SystemAdministrator | SecurityOfficer))
        .map(|r| recipient(RecipientKind::Hospital, r))
        .collect();
    if out.is_empty() {
        out.extend(
            roles
                .iter()
                .filter(|r| r.kind == IncidentContact)
                .map(|r| recipient(RecipientKind::Hospital, r)),
        );
    }
    // One recipient per maintenance vendor, with the role that names it.
    let mut vendors: Vec<(String, Vec<String>)> = Vec::new();
    for asset in advisories.iter().flat_map(|a| &a.assets) {
        let vendor = asset.maintenance_vendor.trim();
        if vendor.is_empty() {
            continue;
        }
        match vendors.iter_mut().find(|(v, _)| v == vendor) {
            Some((_, keys)) if !keys.contains(&asset.key) => keys.push(asset.key.clone()),
            Some(_) => {}
            None => vendors.push((vendor.to_string(), vec![asset.key.clone()])),
        }
    }
    for (vendor, assets) in vendors {
        let name = folded(&vendor);
        let role = roles.iter().find(|r| {
            r.kind == Vendor
                && [&r.organisation, &r.person, &r.title].iter().any(|f| {
                    !f.is_empty() && (folded(f).contains(&name) || name.contains(&folded(f)))
                })
        });
        let mut r = match role {
            Some(role) => recipient(RecipientKind::MaintenanceVendor, role),
            None => Recipient {
                kind: RecipientKind::MaintenanceVendor,
                title: String::new(),
                person: String::new(),
                organisation: vendor.clone(),
                phone: String::new(),
                email: String::new(),
                assets: Vec::new(),
            },
        };
        r.assets = assets;
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Source;
    use time::macros::date;

    fn cvss(score: f64) -> Cvss {
        Cvss {
            version: "3.1".into(),
            base_score: score,
            vector: String::new(),
            severity: String::new(),
        }
    }

    #[test]
    fn due_dates_follow_the_score_and_an_earlier_kev_date() {
        let found = date!(2026 - 11 - 01);
        assert_eq!(
            default_due(found, Some(&cvss(9.8)), None),
            date!(2026 - 11 - 15)
        );
        assert_eq!(
            default_due(found, Some(&cvss(7.5)), None),
            date!(2026 - 12 - 01)
        );
        assert_eq!(default_due(found, None, None), date!(2027 - 01 - 30));
        let kev = KevFlag {
            date_added: None,
            due_date: Some(date!(2026 - 11 - 08)),
            required_action: String::new(),
            ransomware: false,
        };
        assert_eq!(
            default_due(found, Some(&cvss(9.8)), Some(&kev)),
            date!(2026 - 11 - 08)
        );
        let past = KevFlag {
            due_date: Some(date!(2024 - 02 - 16)),
            ..kev
        };
        assert_eq!(default_due(found, Some(&cvss(9.8)), Some(&past)), found);
    }

    fn asset(key: &str, vendor: &str) -> Asset {
        let cells = mamori_domain::ledger::Cells::from_pairs([
            ("key", key),
            ("kind", "ファイアウォール"),
            ("name", "保守用VPN"),
            ("maintenance_vendor", vendor),
        ]);
        <Asset as mamori_domain::ledger::RowRecord>::from_cells(&cells).unwrap()
    }

    fn role(key: &str, kind: &str, title: &str, organisation: &str, email: &str) -> StructureRole {
        let cells = mamori_domain::ledger::Cells::from_pairs([
            ("key", key),
            ("kind", kind),
            ("title", title),
            ("organisation", organisation),
            ("business_email", email),
        ]);
        <StructureRole as mamori_domain::ledger::RowRecord>::from_cells(&cells).unwrap()
    }

    #[test]
    fn a_notice_goes_to_the_administrator_and_each_devices_maintenance_vendor() {
        let mut high = Advisory::new("CVE-2024-21762", Source::Nvd);
        high.cvss = Some(cvss(9.8));
        high.aliases.insert("JVNVU#99999999".into());
        let mut low = Advisory::new("CVE-2024-0001", Source::Nvd);
        low.cvss = Some(cvss(5.0));
        let kev = KevFlag {
            date_added: None,
            due_date: Some(date!(2024 - 02 - 16)),
            required_action: "Apply mitigations per vendor instructions".into(),
            ransomware: true,
        };
        let vpn = asset("VPN-01", "つばさ医療システム");
        let ct = asset("RT-CT", "しおかぜメディカル");
        let due = date!(2026 - 12 - 01);
        let cases = [
            NoticeCase {
                match_id: 2,
                advisory: &low,
                kev: None,
                asset: &ct,
                method: "cpe-range",
                confidence: "high",
                due_on: due,
            },
            NoticeCase {
                match_id: 1,
                advisory: &high,
                kev: Some(&kev),
                asset: &vpn,
                method: "cpe-range",
                confidence: "high",
                due_on: due,
            },
        ];
        let roles = [
            role("R-01", "経営層", "院長", "", ""),
            role(
                "R-03",
                "システム管理者",
                "情報システム室長",
                "情報システム室",
                "it@example.jp",
            ),
            role(
                "R-06",
                "ベンダー",
                "電子カルテ保守",
                "つばさ医療システム株式会社",
                "support@example.jp",
            ),
        ];
        let n = build_notice("湖畔市立総合病院", date!(2026 - 11 - 27), &cases, &roles);
        assert_eq!(n.advisories[0].id, "CVE-2024-21762", "KEV first");
        assert_eq!(n.advisories[0].cve_ids, vec!["CVE-2024-21762"]);
        assert_eq!(n.advisories[0].other_ids, vec!["JVNVU#99999999"]);
        assert_eq!(n.advisories[0].remediations[0].category, "required-action");
        let who: Vec<(&str, &str, &[String])> = n
            .recipients
            .iter()
            .map(|r| {
                (
                    r.organisation.as_str(),
                    r.email.as_str(),
                    r.assets.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            who,
            vec![
                ("情報システム室", "it@example.jp", &[][..]),
                (
                    "つばさ医療システム株式会社",
                    "support@example.jp",
                    &["VPN-01".to_string()][..]
                ),
                ("しおかぜメディカル", "", &["RT-CT".to_string()][..]),
            ]
        );
    }
}
