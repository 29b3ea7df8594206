//! 指摘事項: what the survey found and what the hospital should do about it
//! (seed 資料1 §3.6 ①: 脆弱性、管理上の必要性など指摘する). The surveyor
//! proposes a finding, the supervisor accepts (possibly after editing) or
//! rejects it; the accepted ones are the summary of the report.

use crate::DomainError;
use crate::ledger::labelled_enum;
use serde::{Deserialize, Serialize};

labelled_enum!(
    /// How serious a finding is; declared most serious first, so the
    /// derived order sorts critical before low.
    Severity, "severity" {
        Critical => ("critical", "重大", "critical"),
        High => ("high", "高", "high"),
        Medium => ("medium", "中", "medium"),
        Low => ("low", "低", "low"),
    }
);

labelled_enum!(
    /// Where a finding stands in the supervisor's review.
    FindingStatus, "status" {
        Proposed => ("proposed", "提案", "proposed"),
        Accepted => ("accepted", "採用", "accepted"),
        Rejected => ("rejected", "却下", "rejected"),
    }
);

labelled_enum!(
    /// A step on a finding after it was proposed.
    FindingStep, "step" {
        Edit => ("edit", "編集", "edit"),
        Accept => ("accept", "採用", "accept"),
        Reject => ("reject", "却下", "reject"),
        Reopen => ("reopen", "再検討", "reopen"),
    }
);

/// Where `step` takes a finding in `status`, taken by a reviewer (the
/// supervisor) or by its author's side (the survey company). The company
/// edits its proposal until the supervisor decides; the supervisor edits,
/// accepts, rejects and reopens. A refusal names the steps allowed.
pub fn finding_step(
    status: FindingStatus,
    step: FindingStep,
    reviewer: bool,
) -> Result<FindingStatus, String> {
    step_target(status, step, reviewer).ok_or_else(|| {
        let allowed: Vec<&str> = FindingStep::ALL
            .iter()
            .filter(|&&s| step_target(status, s, reviewer).is_some())
            .map(|s| s.slug())
            .collect();
        format!(
            "a {} finding cannot take the step {}{}; allowed: {}",
            status.slug(),
            step.slug(),
            if reviewer {
                ""
            } else {
                " from the survey company"
            },
            if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            }
        )
    })
}

fn step_target(status: FindingStatus, step: FindingStep, reviewer: bool) -> Option<FindingStatus> {
    use FindingStatus::*;
    use FindingStep::*;
    match (reviewer, step, status) {
        (_, Edit, Proposed) | (true, Edit, _) => Some(status),
        (true, Accept, Proposed) => Some(Accepted),
        (true, Reject, Proposed | Accepted) => Some(Rejected),
        (true, Reopen, Accepted | Rejected) => Some(Proposed),
        _ => None,
    }
}

labelled_enum!(
    /// What a finding points at.
    AffectedKind, "affected_kind" {
        ChecklistItem => ("checklist-item", "チェックリスト項目", "checklist item"),
        Asset => ("asset", "資産", "asset"),
        Connection => ("connection", "外部接続", "external connection"),
        Backup => ("backup", "バックアップ", "backup"),
        Role => ("role", "管理体制", "role"),
    }
);

/// One thing a finding is about: a checklist item by number, or a ledger
/// record by key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AffectedRef {
    pub kind: AffectedKind,
    pub key: String,
}

impl AffectedRef {
    pub fn new(kind: AffectedKind, key: impl Into<String>) -> AffectedRef {
        AffectedRef {
            kind,
            key: key.into(),
        }
    }
}

/// A finding (指摘事項) of one engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// 1, 2, … within the engagement, as the report numbers them.
    pub number: u32,
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    pub affected: Vec<AffectedRef>,
    /// The recommended action (推奨対策).
    pub recommendation: String,
    pub status: FindingStatus,
}

pub const MAX_TITLE_CHARS: usize = 200;
/// Detail and recommendation are at most this long.
pub const MAX_FINDING_TEXT: usize = 4_000;
const MAX_AFFECTED_KEY: usize = crate::ledger::MAX_KEY_CHARS;

impl Finding {
    /// A new, proposed finding, checked.
    pub fn new(
        number: u32,
        severity: Severity,
        title: &str,
        detail: &str,
        affected: Vec<AffectedRef>,
        recommendation: &str,
    ) -> Result<Finding, DomainError> {
        Finding {
            number,
            severity,
            title: title.to_string(),
            detail: detail.to_string(),
            affected,
            recommendation: recommendation.to_string(),
            status: FindingStatus::Proposed,
        }
        .checked()
    }

    /// Checks a finding built elsewhere (an edit, JSON from the API) and
    /// returns it normalised: texts trimmed, references trimmed and without
    /// repeats. Refused: number 0, a title empty or over 200 characters,
    /// no recommendation, over-long texts, an empty or over-long reference.
    pub fn checked(&self) -> Result<Finding, DomainError> {
        if self.number == 0 {
            return Err(DomainError::invalid(
                "number",
                "findings are numbered from 1",
            ));
        }
        let title = self.title.trim();
        if title.is_empty() {
            return Err(DomainError::invalid("title", "must not be empty"));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(DomainError::invalid(
                "title",
                format!("longer than {MAX_TITLE_CHARS} characters"),
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(DomainError::invalid("title", "is one line"));
        }
        let recommendation = self.recommendation.trim();
        if recommendation.is_empty() {
            return Err(DomainError::invalid(
                "recommendation",
                "a finding needs a recommended action",
            ));
        }
        for (field, text) in [
            ("detail", self.detail.trim()),
            ("recommendation", recommendation),
        ] {
            if text.chars().count() > MAX_FINDING_TEXT {
                return Err(DomainError::invalid(
                    field,
                    format!("longer than {MAX_FINDING_TEXT} characters"),
                ));
            }
        }
        let mut affected: Vec<AffectedRef> = Vec::new();
        for r in &self.affected {
            let key = r.key.trim();
            if key.is_empty() || key.chars().count() > MAX_AFFECTED_KEY {
                return Err(DomainError::invalid(
                    "affected",
                    format!(
                        "a {} reference needs a key of 1–{MAX_AFFECTED_KEY} characters",
                        r.kind
                    ),
                ));
            }
            let r = AffectedRef::new(r.kind, key);
            if !affected.contains(&r) {
                affected.push(r);
            }
        }
        Ok(Finding {
            number: self.number,
            severity: self.severity,
            title: title.to_string(),
            detail: self.detail.trim().to_string(),
            affected,
            recommendation: recommendation.to_string(),
            status: self.status,
        })
    }
}

/// The report's summary of findings: the accepted ones, most serious first,
/// then by number.
pub fn summary(findings: &[Finding]) -> Vec<&Finding> {
    let mut accepted: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == FindingStatus::Accepted)
        .collect();
    accepted.sort_by_key(|f| (f.severity, f.number));
    accepted
}
