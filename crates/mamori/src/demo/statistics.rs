//! The demo's published statistics: drafted by the secretariat's admin
//! from the hospitals surveyed so far, protected with k = 3 (the smallest
//! the rules allow: the demo programme is small), published to the public
//! by a second member — so a newcomer sees the public page with charts,
//! and the cells it had to suppress.

use super::{emails, names};
use mamori_domain::aggregates::{ReleaseAudience, ReleaseState};
use mamori_domain::statistics::MIN_K;
use mamori_store::{AuditContext, Store, StoreError};

pub async fn seed_statistics(store: &Store, drafter: &AuditContext) -> Result<(), StoreError> {
    let draft = store
        .draft_statistics(
            drafter,
            None,
            ReleaseAudience::Public,
            MIN_K,
            &format!("{} 集計結果（速報）", names::PROGRAMME),
        )
        .await?;
    let approver = store.account_by_email(emails::SECRETARIAT_MEMBER).await?;
    let approver = AuditContext::for_actor(approver.actor(), approver.email.clone(), None);
    store
        .decide_statistics(&approver, draft.id, ReleaseState::Published)
        .await?;
    Ok(())
}
