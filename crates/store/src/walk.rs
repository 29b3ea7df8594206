//! Walks an engagement along the procedure to a given state, recording
//! every paper each step waits for (pledge, NDA, estimate, order) through
//! the same operations a person uses. For demo data and tests: nothing here
//! bypasses a rule.

use crate::audit::AuditContext;
use crate::engagements::{CandidateDetails, Engagement, NewCandidate};
use crate::{Result, Store};
use mamori_domain::agreement::{AgreementKind, EstimateFigures};
use mamori_domain::engagement::EngagementState;
use mamori_domain::{OrgId, ProgrammeId};
use time::Duration;

/// Adds a candidate and walks it to `target` (see [`walk_to`]).
pub async fn engagement_in_state(
    store: &Store,
    ctx: &AuditContext,
    programme: ProgrammeId,
    hospital: OrgId,
    company: OrgId,
    details: CandidateDetails,
    target: EngagementState,
) -> Result<Engagement> {
    let e = store
        .add_candidate(
            ctx,
            &NewCandidate {
                programme,
                hospital,
                company,
                details,
            },
        )
        .await?;
    walk_to(store, ctx, e, target).await
}

/// Takes the main-path steps from the engagement's state to `target` (or,
/// for declined and withdrawn, the one side exit), dated today.
pub async fn walk_to(
    store: &Store,
    ctx: &AuditContext,
    mut e: Engagement,
    target: EngagementState,
) -> Result<Engagement> {
    let today = store.today();
    if target.is_closed_early() {
        return store.transition(ctx, e.id, target, None, "").await;
    }
    let path = [
        EngagementState::IntentConfirmed,
        EngagementState::PledgeIssued,
        EngagementState::Contracted,
        EngagementState::Scheduling,
        EngagementState::Surveying,
        EngagementState::InterimReview,
        EngagementState::Reporting,
        EngagementState::Submitted,
        EngagementState::Accepted,
        EngagementState::Reported,
    ];
    for step in path {
        if e.state.has_reached(step) {
            continue;
        }
        if !target.has_reached(step) {
            break;
        }
        match step {
            EngagementState::PledgeIssued => {
                let pledge = store
                    .issue_agreement(
                        ctx,
                        e.id,
                        AgreementKind::Pledge,
                        None,
                        today - Duration::days(7),
                        today + Duration::days(365),
                    )
                    .await?;
                store.sign_agreement(ctx, pledge.id, today, None).await?;
            }
            EngagementState::Contracted => {
                if e.company_confirmed_on.is_none() {
                    store.confirm_company(ctx, e.id, today).await?;
                }
                let nda = store
                    .issue_agreement(
                        ctx,
                        e.id,
                        AgreementKind::Nda,
                        None,
                        today - Duration::days(7),
                        today + Duration::days(365),
                    )
                    .await?;
                store.sign_agreement(ctx, nda.id, today, None).await?;
                let estimate = store
                    .submit_estimate(
                        ctx,
                        e.id,
                        &EstimateFigures {
                            labour_hours: 200.0,
                            labour_cost_yen: 2_000_000,
                            trips: 3,
                            travel_yen: 60_000,
                            consumables_yen: 10_000,
                        },
                        "",
                    )
                    .await?;
                store
                    .issue_order(
                        ctx,
                        e.id,
                        estimate.id,
                        &format!("PO-{}-{}", e.programme_id, e.id),
                        today,
                    )
                    .await?;
            }
            _ => {}
        }
        e = store.transition(ctx, e.id, step, None, "").await?;
    }
    Ok(e)
}
