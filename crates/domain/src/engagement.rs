//! The engagement (one hospital surveyed by one company) and its lifecycle
//! states (DESIGN §3). Transitions and their owners are in `lifecycle`.

use crate::organisation::slug_enum;
use crate::{EngagementId, OrgId};
use serde::{Deserialize, Serialize};

slug_enum!(
    /// Where an engagement stands, from recruitment to the report's delivery.
    EngagementState, "state" {
        Candidate => "candidate",
        IntentConfirmed => "intent-confirmed",
        PledgeIssued => "pledge-issued",
        Contracted => "contracted",
        Scheduling => "scheduling",
        Surveying => "surveying",
        InterimReview => "interim-review",
        Reporting => "reporting",
        Submitted => "submitted",
        Accepted => "accepted",
        Reported => "reported",
        Declined => "declined",
        Withdrawn => "withdrawn",
    }
);

impl EngagementState {
    /// NDA and order are in force: the company's surveyors may see survey data.
    pub fn is_contracted(self) -> bool {
        use EngagementState::*;
        matches!(
            self,
            Contracted
                | Scheduling
                | Surveying
                | InterimReview
                | Reporting
                | Submitted
                | Accepted
                | Reported
        )
    }

    /// The secretariat has accepted the report (検収): the ministry may read.
    pub fn is_accepted(self) -> bool {
        matches!(self, EngagementState::Accepted | EngagementState::Reported)
    }

    /// The engagement ended without a survey.
    pub fn is_closed_early(self) -> bool {
        matches!(self, EngagementState::Declined | EngagementState::Withdrawn)
    }
}

/// The relationship "company X surveys hospital Y, in state S" that the
/// access policy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementLink {
    pub engagement: EngagementId,
    pub hospital: OrgId,
    pub company: OrgId,
    pub state: EngagementState,
    /// The NDA for this hospital is signed and in force today, and the order
    /// was issued: without both the company sees no survey data, whatever
    /// the state says.
    pub contract_in_force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracted_states_follow_the_lifecycle() {
        use EngagementState::*;
        let contracted: Vec<_> = EngagementState::ALL
            .iter()
            .filter(|s| s.is_contracted())
            .collect();
        assert_eq!(contracted.first(), Some(&&Contracted));
        assert!(!Candidate.is_contracted());
        assert!(!PledgeIssued.is_contracted());
        assert!(!Withdrawn.is_contracted());
        assert!(Accepted.is_accepted() && Reported.is_accepted());
        assert!(!Submitted.is_accepted());
    }
}
