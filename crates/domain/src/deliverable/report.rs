//! The report package of one hospital (seed 資料1 §3.6, 資料4 §6): the
//! approved version of each of ① to ⑦ and the accepted findings, frozen
//! together as one numbered release. The documents crate renders it; the
//! store keeps it, so a release can be rendered again (in English too) and
//! always shows what was accepted, whatever the ledger says later.

use super::build::scope_ja;
use super::content::{STATUS_GATED, STATUS_UNANSWERED};
use super::{DeliverableContent, DeliverableKind, DeliverableState, Finding, summary};
use crate::DomainError;
use crate::checklist::Scope;
use crate::ledger::{
    AssetKind, Availability, Choice, ConnectionCategory, ConnectionMethod, InvestigationSource,
    LinkMedium, Owner, RecordKind, RemoteMaintenance, SegmentKind, StructureRoleKind,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use time::Date;

crate::organisation::slug_enum!(
    /// The files of a release: the report, the workbook and the diagrams.
    ReportFile, "file" {
        Pdf => "pdf",
        Workbook => "xlsx",
        NetworkDiagram => "network.drawio",
        StructureDiagram => "structure.drawio",
    }
);

impl ReportFile {
    /// The name a download gets: `報告書_<hospital>_第N版.pdf`,
    /// `report_<hospital>_release-N.pdf` in English.
    pub fn file_name(self, hospital: &str, release: u32, language: &str) -> String {
        let hospital: String = hospital
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let (stem, diagram) = if language == "en" {
            (
                format!("report_{hospital}_release-{release}"),
                ["network", "structure"],
            )
        } else {
            (
                format!("報告書_{hospital}_第{release}版"),
                ["ネットワーク概要図", "管理体制図"],
            )
        };
        match self {
            ReportFile::Pdf => format!("{stem}.pdf"),
            ReportFile::Workbook => format!("{stem}.xlsx"),
            ReportFile::NetworkDiagram => format!("{stem}_{}.drawio", diagram[0]),
            ReportFile::StructureDiagram => format!("{stem}_{}.drawio", diagram[1]),
        }
    }
}

/// One deliverable as released: the approved version and its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDeliverable {
    pub version: u32,
    pub content: DeliverableContent,
}

/// Everything a report shows, frozen at release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportContent {
    /// The hospital surveyed, as named on the cover.
    pub hospital: String,
    /// Who the report is for; printed with 機密 on every page.
    pub recipient: String,
    /// The survey company that wrote it.
    pub company: String,
    /// The programme, as titled (令和N年度 … 調査).
    pub programme: String,
    /// 1, 2, … within the engagement.
    pub release: u32,
    pub released_on: Date,
    /// The accepted findings, most serious first (the report's summary).
    pub findings: Vec<Finding>,
    /// ① to ⑦, in order.
    pub deliverables: Vec<ReportDeliverable>,
}

impl ReportContent {
    /// A report from the approved deliverables and all the engagement's
    /// findings (only the accepted ones are kept, in summary order).
    /// Refused unless each of the seven is there exactly once.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        hospital: &str,
        recipient: &str,
        company: &str,
        programme: &str,
        release: u32,
        released_on: Date,
        findings: &[Finding],
        mut deliverables: Vec<ReportDeliverable>,
    ) -> Result<ReportContent, DomainError> {
        if release == 0 {
            return Err(DomainError::invalid(
                "release",
                "releases are numbered from 1",
            ));
        }
        let hospital = hospital.trim();
        if hospital.is_empty() {
            return Err(DomainError::invalid("hospital", "must not be empty"));
        }
        deliverables.sort_by_key(|d| d.content.kind.number());
        let kinds: Vec<DeliverableKind> = deliverables.iter().map(|d| d.content.kind).collect();
        if kinds != DeliverableKind::ALL {
            let missing: Vec<String> = DeliverableKind::ALL
                .iter()
                .filter(|k| !kinds.contains(k))
                .map(|k| format!("{}{}", k.mark(), k.ja()))
                .collect();
            return Err(DomainError::invalid(
                "deliverables",
                if missing.is_empty() {
                    "each deliverable belongs in a report once".to_string()
                } else {
                    format!("missing: {}", missing.join("、"))
                },
            ));
        }
        Ok(ReportContent {
            hospital: hospital.to_string(),
            recipient: recipient.trim().to_string(),
            company: company.trim().to_string(),
            programme: programme.trim().to_string(),
            release,
            released_on,
            findings: summary(findings).into_iter().cloned().collect(),
            deliverables,
        })
    }

    pub fn deliverable(&self, kind: DeliverableKind) -> Option<&ReportDeliverable> {
        self.deliverables.iter().find(|d| d.content.kind == kind)
    }

    /// The stored form (JSON).
    pub fn to_json(&self) -> String {
        // Only strings, numbers, dates and lists: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<ReportContent, DomainError> {
        serde_json::from_str(text).map_err(|e| DomainError::invalid("report", e.to_string()))
    }
}

/// The deliverables of `states` that are not approved, in the seed's order;
/// a deliverable missing from `states` was never submitted and counts too.
/// Empty: the report may be released and accepted.
pub fn not_approved(states: &[(DeliverableKind, DeliverableState)]) -> Vec<DeliverableKind> {
    DeliverableKind::ALL
        .iter()
        .copied()
        .filter(|k| {
            !states
                .iter()
                .any(|(kind, state)| kind == k && *state == DeliverableState::Approved)
        })
        .collect()
}

/// The reason a report is refused while deliverables are not approved,
/// naming each ("①チェックリスト… (提出済)") in Japanese and English.
pub fn not_approved_reason(
    states: &[(DeliverableKind, DeliverableState)],
) -> Option<(String, String)> {
    let pending = not_approved(states);
    if pending.is_empty() {
        return None;
    }
    let state_of = |k: DeliverableKind| {
        states
            .iter()
            .find(|(kind, _)| *kind == k)
            .map_or(DeliverableState::Draft, |(_, s)| *s)
    };
    let ja: Vec<String> = pending
        .iter()
        .map(|&k| format!("{}{}（{}）", k.mark(), k.ja(), state_of(k).ja()))
        .collect();
    let en: Vec<String> = pending
        .iter()
        .map(|&k| format!("{} {} ({})", k.mark(), k.en(), state_of(k).en()))
        .collect();
    Some((
        format!("全7成果物の承認が必要です。未承認: {}", ja.join("、")),
        format!(
            "all seven deliverables must be approved; not yet approved: {}",
            en.join(", ")
        ),
    ))
}

/// The labels a content cell may hold, with their English.
fn choice_tables() -> [&'static [Choice]; 11] {
    [
        AssetKind::CHOICES,
        Owner::CHOICES,
        RemoteMaintenance::CHOICES,
        ConnectionCategory::CHOICES,
        ConnectionMethod::CHOICES,
        Availability::CHOICES,
        InvestigationSource::CHOICES,
        SegmentKind::CHOICES,
        LinkMedium::CHOICES,
        StructureRoleKind::CHOICES,
        RecordKind::CHOICES,
    ]
}

/// Fixed words of content cells that are not a choice of the ledger.
const WORDS: &[(&str, &str)] = &[
    ("はい", "yes"),
    ("いいえ", "no"),
    (STATUS_GATED, "out of scope (prerequisite item)"),
    (STATUS_UNANSWERED, "unanswered"),
    ("継続確認", "still being confirmed"),
    ("自己評価と相違", "differs from self-assessment"),
    ("未確認", "not confirmed"),
];

/// A content cell as a reader of `language` sees it: in English, the
/// ledger's labels and the fixed words are translated; free text (names,
/// notes, checklist item texts) is shown as written.
pub fn cell_text<'a>(text: &'a str, language: &str) -> Cow<'a, str> {
    if language != "en" || text.is_ascii() {
        return Cow::Borrowed(text);
    }
    if let Some((_, en)) = WORDS.iter().find(|(ja, _)| *ja == text) {
        return Cow::Borrowed(en);
    }
    if let Some(choice) = choice_tables()
        .iter()
        .flat_map(|t| t.iter())
        .find(|c| c.ja == text)
    {
        return Cow::Borrowed(choice.en);
    }
    if let Some(&scope) = Scope::ALL.iter().find(|&&s| scope_ja(s) == text) {
        return Cow::Borrowed(scope_en(scope));
    }
    Cow::Borrowed(text)
}

fn scope_en(scope: Scope) -> &'static str {
    match scope {
        Scope::Organisation => "organisation",
        Scope::WholeSystem => "medical information systems as a whole",
        Scope::Server => "servers",
        Scope::TerminalPc => "terminal PCs",
        Scope::NetworkDevice => "network devices",
    }
}
