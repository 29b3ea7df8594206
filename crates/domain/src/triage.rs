//! Where one advisory's match to one asset stands (issue 8 item 4; seed
//! 資料1 基本構想 ②: 対応すべき医療機関等を検索し、担当部署に連絡する):
//! 未確認 → 影響あり / 影響なし (with a reason) → 対応中 → 対応済. A match a
//! later re-match no longer finds is 解消 (withdrawn) and takes no step.

use crate::DomainError;
use crate::ledger::labelled_enum;
use serde::{Deserialize, Serialize};
use time::Date;

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

labelled_enum!(
    /// Whether a hospital is told of a match: one found by vendor and
    /// product only waits for a secretariat analyst (issue 8 item 2).
    MatchReview, "review" {
        NotNeeded => ("not-needed", "確認不要", "not needed"),
        Pending => ("pending", "分析者の確認待ち", "awaiting an analyst"),
        Confirmed => ("confirmed", "分析者が確認", "confirmed by an analyst"),
        Dismissed => ("dismissed", "該当しないと判断", "dismissed"),
    }
);

impl MatchReview {
    /// The hospital sees (and is notified of) the match.
    pub fn is_visible(self) -> bool {
        matches!(self, MatchReview::NotNeeded | MatchReview::Confirmed)
    }
}

/// Checks an analyst's decision on a match: a pending one is confirmed or
/// dismissed (with a reason), a dismissed one may still be confirmed; one
/// the hospital has been told of is theirs to triage. Returns the note
/// trimmed.
pub fn check_review_step(
    from: MatchReview,
    to: MatchReview,
    note: &str,
) -> Result<String, DomainError> {
    use MatchReview::*;
    let allowed: &[MatchReview] = match from {
        Pending => &[Confirmed, Dismissed],
        Dismissed => &[Confirmed],
        NotNeeded | Confirmed => &[],
    };
    if !allowed.contains(&to) {
        let names: Vec<&str> = allowed.iter().map(|s| s.slug()).collect();
        return Err(DomainError::invalid(
            "review",
            format!(
                "{} → {} is not a step; allowed: {}",
                from.slug(),
                to.slug(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
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
    if to == Dismissed && note.is_empty() {
        return Err(DomainError::invalid(
            "note",
            "該当しないと判断するには理由が必要です / dismissing needs a reason",
        ));
    }
    Ok(note.to_string())
}

/// Days a hospital has to take the first step on a case it was told of
/// before the case goes to the secretariat.
pub const ESCALATE_AFTER_DAYS: i64 = 7;

/// Why a case went to the secretariat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Escalation {
    /// Still 未確認 a week after the notice.
    Untouched,
    /// Past its due date and not closed.
    Overdue,
}

/// Whether a case the hospital was told of on `notified_on` escalates today.
pub fn escalation(
    state: TriageState,
    notified_on: Date,
    due_on: Option<Date>,
    today: Date,
) -> Option<Escalation> {
    use TriageState::*;
    if !matches!(state, Unconfirmed | Affected | InProgress) {
        return None;
    }
    if due_on.is_some_and(|d| d < today) {
        return Some(Escalation::Overdue);
    }
    (state == Unconfirmed && (today - notified_on).whole_days() >= ESCALATE_AFTER_DAYS)
        .then_some(Escalation::Untouched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TriageState::*;
    use time::macros::date;

    #[test]
    fn an_analyst_confirms_or_dismisses_with_a_reason() {
        use MatchReview::*;
        assert!(check_review_step(Pending, Confirmed, "").is_ok());
        let err = check_review_step(Pending, Dismissed, "")
            .unwrap_err()
            .to_string();
        assert!(err.contains("reason"), "{err}");
        assert!(check_review_step(Dismissed, Confirmed, "再確認").is_ok());
        let err = check_review_step(NotNeeded, Dismissed, "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("allowed: none"), "{err}");
        assert!(Confirmed.is_visible() && NotNeeded.is_visible());
        assert!(!Pending.is_visible() && !Dismissed.is_visible());
    }

    #[test]
    fn untouched_and_overdue_cases_escalate_and_closed_ones_never() {
        let told = date!(2026 - 11 - 01);
        let due = Some(date!(2026 - 11 - 30));
        assert_eq!(
            escalation(Unconfirmed, told, due, date!(2026 - 11 - 07)),
            None
        );
        assert_eq!(
            escalation(Unconfirmed, told, due, date!(2026 - 11 - 08)),
            Some(Escalation::Untouched)
        );
        assert_eq!(escalation(Affected, told, due, date!(2026 - 11 - 20)), None);
        assert_eq!(
            escalation(InProgress, told, due, date!(2026 - 12 - 01)),
            Some(Escalation::Overdue)
        );
        assert_eq!(escalation(Resolved, told, due, date!(2027 - 01 - 01)), None);
        assert_eq!(
            escalation(NotAffected, told, due, date!(2027 - 01 - 01)),
            None
        );
    }

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
