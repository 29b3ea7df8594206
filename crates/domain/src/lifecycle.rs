//! Who may move an engagement from one state to the next, and what must be
//! true first (DESIGN §3; the seed's 資料1 §4–5, 資料4 §5–8).
//!
//! The table is the procedure: each step belongs to the organisation that
//! does it in the seed, and the contract step waits for the pledge, the NDA
//! and the order.

use crate::engagement::EngagementState;
use crate::organisation::{OrgKind, slug_enum};
use serde::{Deserialize, Serialize};

/// One allowed step of the lifecycle and the kinds of organisation that take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: EngagementState,
    pub to: EngagementState,
    pub owners: &'static [OrgKind],
}

const SECRETARIAT: &[OrgKind] = &[OrgKind::Secretariat];
const COMPANY: &[OrgKind] = &[OrgKind::SurveyCompany];
const SUPERVISOR: &[OrgKind] = &[OrgKind::Supervisor];
/// A hospital may say no itself, until the survey starts; the secretariat
/// records a refusal that came by letter or telephone.
const HOSPITAL_OR_SECRETARIAT: &[OrgKind] = &[OrgKind::Hospital, OrgKind::Secretariat];

macro_rules! step {
    ($from:ident -> $to:ident by $owners:expr) => {
        Transition {
            from: EngagementState::$from,
            to: EngagementState::$to,
            owners: $owners,
        }
    };
}

/// Every allowed transition. Anything not listed is refused.
pub const TRANSITIONS: &[Transition] = &[
    step!(Candidate -> IntentConfirmed by SECRETARIAT),
    step!(IntentConfirmed -> PledgeIssued by SECRETARIAT),
    step!(PledgeIssued -> Contracted by SECRETARIAT),
    // The company's first contact with the hospital (within a month of intent).
    step!(Contracted -> Scheduling by COMPANY),
    step!(Scheduling -> Surveying by COMPANY),
    // The company hands its interim results to the supervisor (mid-January).
    step!(Surveying -> InterimReview by COMPANY),
    // The supervisor asks for a deep dive: back to surveying.
    step!(InterimReview -> Surveying by SUPERVISOR),
    step!(InterimReview -> Reporting by SUPERVISOR),
    step!(Reporting -> Submitted by COMPANY),
    // 検収 or sent back for changes.
    step!(Submitted -> Accepted by SECRETARIAT),
    step!(Submitted -> Reporting by SECRETARIAT),
    // The report reaches the hospital through the secretariat.
    step!(Accepted -> Reported by SECRETARIAT),
    step!(Candidate -> Declined by HOSPITAL_OR_SECRETARIAT),
    step!(IntentConfirmed -> Declined by HOSPITAL_OR_SECRETARIAT),
    step!(PledgeIssued -> Declined by HOSPITAL_OR_SECRETARIAT),
    step!(Contracted -> Declined by HOSPITAL_OR_SECRETARIAT),
    step!(Scheduling -> Declined by HOSPITAL_OR_SECRETARIAT),
    step!(Candidate -> Withdrawn by SECRETARIAT),
    step!(IntentConfirmed -> Withdrawn by SECRETARIAT),
    step!(PledgeIssued -> Withdrawn by SECRETARIAT),
    step!(Contracted -> Withdrawn by SECRETARIAT),
    step!(Scheduling -> Withdrawn by SECRETARIAT),
    step!(Surveying -> Withdrawn by SECRETARIAT),
    step!(InterimReview -> Withdrawn by SECRETARIAT),
    step!(Reporting -> Withdrawn by SECRETARIAT),
    step!(Submitted -> Withdrawn by SECRETARIAT),
];

slug_enum!(
    /// A condition a transition waits for, recorded elsewhere in the engagement.
    Gate, "gate" {
        /// The secretariat confirmed the company really takes this hospital.
        CompanyConfirmed => "company-confirmed",
        /// The pledge (資料3) was issued to the hospital.
        PledgeIssued => "pledge-issued",
        /// The NDA (資料5) for this hospital is signed and in force today.
        NdaInForce => "nda-in-force",
        /// The secretariat issued the purchase order (the contract).
        OrderIssued => "order-issued",
    }
);

/// What must hold before an engagement may enter `to`.
pub fn gates_for(to: EngagementState) -> &'static [Gate] {
    match to {
        EngagementState::PledgeIssued => &[Gate::PledgeIssued],
        EngagementState::Contracted => {
            &[Gate::CompanyConfirmed, Gate::NdaInForce, Gate::OrderIssued]
        }
        _ => &[],
    }
}

/// The gates an engagement meets now, as the store found them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GateFacts {
    pub company_confirmed: bool,
    pub pledge_issued: bool,
    pub nda_in_force: bool,
    pub order_issued: bool,
}

impl GateFacts {
    pub fn meets(&self, gate: Gate) -> bool {
        match gate {
            Gate::CompanyConfirmed => self.company_confirmed,
            Gate::PledgeIssued => self.pledge_issued,
            Gate::NdaInForce => self.nda_in_force,
            Gate::OrderIssued => self.order_issued,
        }
    }

    /// NDA and order in force: the survey data gate of the access policy.
    pub fn contract_in_force(&self) -> bool {
        self.nda_in_force && self.order_issued
    }
}

/// Why a transition was refused. Each names what would have been allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionRefused {
    #[error(
        "{from} → {to} is not a step of the procedure; allowed next: {}",
        list(allowed)
    )]
    NotAStep {
        from: EngagementState,
        to: EngagementState,
        allowed: Vec<EngagementState>,
    },
    #[error(
        "{from} → {to} is done by {}; you may: {}",
        owners_list(owners),
        list(allowed)
    )]
    NotOwner {
        from: EngagementState,
        to: EngagementState,
        owners: Vec<OrgKind>,
        allowed: Vec<EngagementState>,
    },
    #[error("{to} waits for: {}", gates_list(missing))]
    GatesNotMet {
        to: EngagementState,
        missing: Vec<Gate>,
    },
}

fn list(states: &[EngagementState]) -> String {
    if states.is_empty() {
        return "none".into();
    }
    states
        .iter()
        .map(|s| s.slug())
        .collect::<Vec<_>>()
        .join(", ")
}

fn owners_list(owners: &[OrgKind]) -> String {
    owners
        .iter()
        .map(|o| o.slug())
        .collect::<Vec<_>>()
        .join(", ")
}

fn gates_list(gates: &[Gate]) -> String {
    gates
        .iter()
        .map(|g| g.slug())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every state reachable from `from` in one step, whoever takes it.
pub fn next_states(from: EngagementState) -> Vec<EngagementState> {
    TRANSITIONS
        .iter()
        .filter(|t| t.from == from)
        .map(|t| t.to)
        .collect()
}

/// The states an organisation of `kind` may move the engagement to from `from`.
pub fn next_states_for(from: EngagementState, kind: OrgKind) -> Vec<EngagementState> {
    TRANSITIONS
        .iter()
        .filter(|t| t.from == from && t.owners.contains(&kind))
        .map(|t| t.to)
        .collect()
}

/// Decides a transition: is it a step, does `kind` own it, are its gates met.
pub fn check_transition(
    kind: OrgKind,
    from: EngagementState,
    to: EngagementState,
    facts: &GateFacts,
) -> Result<(), TransitionRefused> {
    let Some(step) = TRANSITIONS.iter().find(|t| t.from == from && t.to == to) else {
        return Err(TransitionRefused::NotAStep {
            from,
            to,
            allowed: next_states(from),
        });
    };
    if !step.owners.contains(&kind) {
        return Err(TransitionRefused::NotOwner {
            from,
            to,
            owners: step.owners.to_vec(),
            allowed: next_states_for(from, kind),
        });
    }
    let missing: Vec<Gate> = gates_for(to)
        .iter()
        .copied()
        .filter(|g| !facts.meets(*g))
        .collect();
    if !missing.is_empty() {
        return Err(TransitionRefused::GatesNotMet { to, missing });
    }
    Ok(())
}

impl EngagementState {
    /// Position on the main path (candidate = 0 … reported = 10); side exits
    /// have none.
    pub fn rank(self) -> Option<u8> {
        use EngagementState::*;
        let rank = match self {
            Candidate => 0,
            IntentConfirmed => 1,
            PledgeIssued => 2,
            Contracted => 3,
            Scheduling => 4,
            Surveying => 5,
            InterimReview => 6,
            Reporting => 7,
            Submitted => 8,
            Accepted => 9,
            Reported => 10,
            Declined | Withdrawn => return None,
        };
        Some(rank)
    }

    /// Has the engagement got at least as far as `other` on the main path?
    pub fn has_reached(self, other: EngagementState) -> bool {
        match (self.rank(), other.rank()) {
            (Some(a), Some(b)) => a >= b,
            _ => self == other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EngagementState::*;

    const ALL_GATES: GateFacts = GateFacts {
        company_confirmed: true,
        pledge_issued: true,
        nda_in_force: true,
        order_issued: true,
    };

    /// The main path, walked by the organisation that owns each step.
    #[test]
    fn the_main_path_is_walkable_by_its_owners() {
        let path = [
            (OrgKind::Secretariat, IntentConfirmed),
            (OrgKind::Secretariat, PledgeIssued),
            (OrgKind::Secretariat, Contracted),
            (OrgKind::SurveyCompany, Scheduling),
            (OrgKind::SurveyCompany, Surveying),
            (OrgKind::SurveyCompany, InterimReview),
            (OrgKind::Supervisor, Reporting),
            (OrgKind::SurveyCompany, Submitted),
            (OrgKind::Secretariat, Accepted),
            (OrgKind::Secretariat, Reported),
        ];
        let mut state = Candidate;
        for (kind, to) in path {
            check_transition(kind, state, to, &ALL_GATES).unwrap();
            assert!(to.has_reached(state));
            state = to;
        }
        assert!(next_states(Reported).is_empty());
    }

    #[test]
    fn a_step_not_in_the_procedure_names_the_allowed_ones() {
        let err =
            check_transition(OrgKind::Secretariat, Candidate, Surveying, &ALL_GATES).unwrap_err();
        match &err {
            TransitionRefused::NotAStep { allowed, .. } => {
                assert_eq!(allowed, &vec![IntentConfirmed, Declined, Withdrawn]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("intent-confirmed"));
    }

    #[test]
    fn only_the_owner_takes_a_step() {
        let err =
            check_transition(OrgKind::SurveyCompany, Submitted, Accepted, &ALL_GATES).unwrap_err();
        assert!(
            matches!(err, TransitionRefused::NotOwner { ref owners, ref allowed, .. }
            if owners == &vec![OrgKind::Secretariat] && allowed.is_empty())
        );
        assert!(
            check_transition(OrgKind::Secretariat, Surveying, InterimReview, &ALL_GATES).is_err()
        );
        assert!(
            check_transition(OrgKind::Ministry, Candidate, IntentConfirmed, &ALL_GATES).is_err()
        );
        assert!(check_transition(OrgKind::Hospital, Candidate, Declined, &ALL_GATES).is_ok());
        assert!(check_transition(OrgKind::Hospital, Surveying, Declined, &ALL_GATES).is_err());
    }

    #[test]
    fn contract_waits_for_company_nda_and_order() {
        let facts = GateFacts {
            company_confirmed: true,
            pledge_issued: true,
            nda_in_force: false,
            order_issued: false,
        };
        let err =
            check_transition(OrgKind::Secretariat, PledgeIssued, Contracted, &facts).unwrap_err();
        assert_eq!(
            err,
            TransitionRefused::GatesNotMet {
                to: Contracted,
                missing: vec![Gate::NdaInForce, Gate::OrderIssued]
            }
        );
        let no_pledge = GateFacts::default();
        assert!(
            check_transition(
                OrgKind::Secretariat,
                IntentConfirmed,
                PledgeIssued,
                &no_pledge
            )
            .is_err()
        );
    }

    #[test]
    fn every_state_but_the_last_and_the_exits_has_a_way_on() {
        for state in EngagementState::ALL {
            let next = next_states(*state);
            let terminal = matches!(state, Reported | Declined | Withdrawn);
            assert_eq!(next.is_empty(), terminal, "{state}");
            for t in TRANSITIONS.iter().filter(|t| t.from == *state) {
                assert!(!t.owners.is_empty());
            }
        }
    }
}
