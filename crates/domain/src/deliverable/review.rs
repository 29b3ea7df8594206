//! The review of a deliverable (DESIGN §4; the supervisor's role in the
//! seed: it read every company's documents and sent back what was vague).
//!
//! A version is drafted and submitted by the survey company, and the
//! supervisor asks for changes or approves it. Nobody approves what they
//! submitted themselves. After approval the supervisor, or the secretariat
//! when its 検収 finds a problem, may reopen it: it goes back to the company
//! as changes requested, never silently back to draft.

use super::DeliverableContent;
use crate::AccountId;
use crate::ledger::labelled_enum;
use crate::organisation::OrgKind;
use crate::policy::Actor;
use serde::{Deserialize, Serialize};

labelled_enum!(
    /// Where one deliverable's current version stands.
    DeliverableState, "state" {
        Draft => ("draft", "作成中", "draft"),
        Submitted => ("submitted", "提出済", "submitted"),
        ChangesRequested => ("changes-requested", "修正依頼", "changes requested"),
        Approved => ("approved", "承認済", "approved"),
    }
);

labelled_enum!(
    /// What someone does to a deliverable under review.
    ReviewAction, "action" {
        Submit => ("submit", "提出", "submit"),
        RequestChanges => ("request-changes", "修正依頼", "request changes"),
        Approve => ("approve", "承認", "approve"),
        /// Takes an approved deliverable back for changes.
        Reopen => ("reopen", "差し戻し", "reopen"),
    }
);

/// One allowed step of the review and the kinds of organisation that take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewStep {
    pub from: DeliverableState,
    pub action: ReviewAction,
    pub to: DeliverableState,
    pub owners: &'static [OrgKind],
}

const COMPANY: &[OrgKind] = &[OrgKind::SurveyCompany];
const SUPERVISOR: &[OrgKind] = &[OrgKind::Supervisor];
const SUPERVISOR_OR_SECRETARIAT: &[OrgKind] = &[OrgKind::Supervisor, OrgKind::Secretariat];

macro_rules! step {
    ($from:ident, $action:ident -> $to:ident by $owners:expr) => {
        ReviewStep {
            from: DeliverableState::$from,
            action: ReviewAction::$action,
            to: DeliverableState::$to,
            owners: $owners,
        }
    };
}

/// Every allowed step. Anything not listed is refused.
pub const REVIEW_STEPS: &[ReviewStep] = &[
    step!(Draft, Submit -> Submitted by COMPANY),
    step!(ChangesRequested, Submit -> Submitted by COMPANY),
    step!(Submitted, RequestChanges -> ChangesRequested by SUPERVISOR),
    step!(Submitted, Approve -> Approved by SUPERVISOR),
    step!(Approved, Reopen -> ChangesRequested by SUPERVISOR_OR_SECRETARIAT),
];

/// Why a review step was refused. Each names the actions allowed next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefused {
    #[error(
        "{action} is not possible when {state}; allowed next: {}",
        list(allowed)
    )]
    NotAStep {
        state: DeliverableState,
        action: ReviewAction,
        allowed: Vec<ReviewAction>,
    },
    #[error(
        "{action} is done by {}; you may: {}",
        owners_list(owners),
        list(allowed)
    )]
    NotOwner {
        state: DeliverableState,
        action: ReviewAction,
        owners: Vec<OrgKind>,
        allowed: Vec<ReviewAction>,
    },
    #[error(
        "you submitted this version and cannot approve it yourself; you may: {}",
        list(allowed)
    )]
    OwnSubmission {
        submitter: AccountId,
        allowed: Vec<ReviewAction>,
    },
    #[error("required parts are missing: {}", missing.join("; "))]
    Incomplete { missing: Vec<String> },
}

impl ReviewRefused {
    /// The actions that would have been allowed (none for `Incomplete`: the
    /// content must change first).
    pub fn allowed(&self) -> &[ReviewAction] {
        match self {
            ReviewRefused::NotAStep { allowed, .. }
            | ReviewRefused::NotOwner { allowed, .. }
            | ReviewRefused::OwnSubmission { allowed, .. } => allowed,
            ReviewRefused::Incomplete { .. } => &[],
        }
    }
}

fn list(actions: &[ReviewAction]) -> String {
    if actions.is_empty() {
        return "none".into();
    }
    actions
        .iter()
        .map(|a| a.slug())
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

/// Every action possible in `state`, whoever takes it.
pub fn next_actions(state: DeliverableState) -> Vec<ReviewAction> {
    REVIEW_STEPS
        .iter()
        .filter(|s| s.from == state)
        .map(|s| s.action)
        .collect()
}

/// The actions `actor` may take in `state` on a version submitted by
/// `submitter`: what [`decide`] would accept.
pub fn allowed_actions(
    state: DeliverableState,
    actor: &Actor,
    submitter: Option<AccountId>,
) -> Vec<ReviewAction> {
    REVIEW_STEPS
        .iter()
        .filter(|s| s.from == state && s.owners.contains(&actor.org_kind))
        .filter(|s| !(s.action == ReviewAction::Approve && submitter == Some(actor.account)))
        .map(|s| s.action)
        .collect()
}

/// Decides a review step: is `action` possible in `state`, does the actor's
/// organisation own it, and is the actor not approving their own submission
/// (`submitter`: the account that submitted the version under review).
pub fn decide(
    state: DeliverableState,
    action: ReviewAction,
    actor: &Actor,
    submitter: Option<AccountId>,
) -> Result<DeliverableState, ReviewRefused> {
    let Some(step) = REVIEW_STEPS
        .iter()
        .find(|s| s.from == state && s.action == action)
    else {
        return Err(ReviewRefused::NotAStep {
            state,
            action,
            allowed: next_actions(state),
        });
    };
    if !step.owners.contains(&actor.org_kind) {
        return Err(ReviewRefused::NotOwner {
            state,
            action,
            owners: step.owners.to_vec(),
            allowed: allowed_actions(state, actor, submitter),
        });
    }
    if action == ReviewAction::Approve
        && let Some(submitter) = submitter
        && submitter == actor.account
    {
        return Err(ReviewRefused::OwnSubmission {
            submitter,
            allowed: allowed_actions(state, actor, Some(submitter)),
        });
    }
    Ok(step.to)
}

/// A submission with required parts empty is refused, naming them
/// (see [`super::missing_parts`]).
pub fn check_complete(content: &DeliverableContent) -> Result<(), ReviewRefused> {
    let missing = super::missing_parts(content);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ReviewRefused::Incomplete { missing })
    }
}
