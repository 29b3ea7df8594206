//! Where one advisory's match to one asset stands (issue 8 item 4; seed
//! 資料1 基本構想 ②: 対応すべき医療機関等を検索し、担当部署に連絡する):
//! 未確認 → 影響あり / 影響なし (with a reason) → 対応中 → 対応済. A match a
//! later re-match no longer finds is 解消 (withdrawn) and takes no step.

use crate::DomainError;
use crate::ledger::labelled_enum;
use serde::{Deserialize, Serialize};

labelled_enum!(
    /// The state of a match.
    TriageState, "state" {
        Unconfirmed => ("unconfirmed", "未確認", "unconfirmed"),
        Affected => ("affected", "影響あり", "affected"),
        NotAffected => ("not-affected", "影響なし", "not affected"),
        InProgress => ("in-progress", "対応中", "in progress"),
        Resolved => ("resolved", "対応済", "resolved"),
        Withdrawn => ("withdrawn", "解消（照合されなくなった）", "withdrawn (no longer matched)"),
    }
);

/// The longest reason or note on a step.
pub const MAX_TRIAGE_NOTE: usize = 2_000;

/// The states a match in `from` may move to.
pub fn next_triage_states(from: TriageState) -> &'static [TriageState] {
    use TriageState::*;
    match from {
        Unconfirmed => &[Affected, NotAffected],
        Affected => &[InProgress, NotAffected, Resolved],
        InProgress => &[Resolved, NotAffected],
        NotAffected => &[Unconfirmed],
        Resolved => &[InProgress],
        Withdrawn => &[],
    }
}

/// Checks a step: it must be one of the next states, and 影響なし needs a
/// reason. Returns the note trimmed.
pub fn check_triage_step(
    from: TriageState,
    to: TriageState,
    note: &str,
) -> Result<String, DomainError> {
    if !next_triage_states(from).contains(&to) {
        let allowed: Vec<&str> = next_triage_states(from).iter().map(|s| s.slug()).collect();
        return Err(DomainError::invalid(
            "state",
            format!(
                "{} → {} is not a step; allowed: {}",
                from.slug(),
                to.slug(),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        ));
    }
    let note = note.trim();
    if note.chars().count() > MAX_TRIAGE_NOTE {
        return Err(DomainError::invalid(
            "note",
            format!("longer than {MAX_TRIAGE_NOTE} characters"),
        ));
    }
    if to == TriageState::NotAffected && note.is_empty() {
        return Err(DomainError::invalid(
            "note",
            "影響なしには理由が必要です / not affected needs a reason",
        ));
    }
    Ok(note.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use TriageState::*;

    #[test]
    fn a_case_goes_from_unconfirmed_to_resolved() {
        assert!(check_triage_step(Unconfirmed, Affected, "").is_ok());
        assert!(check_triage_step(Affected, InProgress, "保守業者に連絡").is_ok());
        assert!(check_triage_step(InProgress, Resolved, "7.0.14 に更新").is_ok());
        assert!(check_triage_step(Resolved, InProgress, "再発").is_ok());
    }

    #[test]
    fn not_affected_needs_a_reason_and_other_steps_are_refused_naming_the_allowed() {
        let err = check_triage_step(Unconfirmed, NotAffected, "  ")
            .unwrap_err()
            .to_string();
        assert!(err.contains("reason"), "{err}");
        assert_eq!(
            check_triage_step(Unconfirmed, NotAffected, " SSL-VPN は無効 ").unwrap(),
            "SSL-VPN は無効"
        );
        let err = check_triage_step(Unconfirmed, Resolved, "")
            .unwrap_err()
            .to_string();
        assert!(err.contains("allowed: affected, not-affected"), "{err}");
        let err = check_triage_step(Withdrawn, Affected, "")
            .unwrap_err()
            .to_string();
        assert!(err.contains("allowed: none"), "{err}");
    }
}
