//! The engagements of a dashboard with the steps each has taken, for the
//! timeline drawn against the programme's milestones. Only the dates and
//! states of the steps are read (never their notes): the same summary a
//! dashboard row shows, audited as such by `engagement_overview`.

use crate::db::parse_iso_day;
use crate::engagements::{EngagementFilter, EngagementOverview, Paging};
use crate::error::corrupt;
use crate::{AuditContext, Result, Store};
use mamori_domain::engagement::EngagementState;
use serde::Serialize;
use std::collections::HashMap;
use time::Date;

/// One step of an engagement, as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineStep {
    pub from: EngagementState,
    pub to: EngagementState,
    pub effective_on: Date,
}

/// A dashboard row and the steps its engagement took, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub overview: EngagementOverview,
    pub steps: Vec<TimelineStep>,
}

impl Store {
    /// The engagements `engagement_overview` shows this actor, each with
    /// its steps (dates and states only).
    pub async fn engagement_timeline(
        &self,
        ctx: &AuditContext,
        filter: &EngagementFilter,
    ) -> Result<Vec<TimelineEntry>> {
        let rows = self.engagement_overview(ctx, filter).await?;
        self.with_steps(rows).await
    }

    /// One page of `engagement_timeline`, and how many rows there are in
    /// all (see `engagement_overview_page`).
    pub async fn engagement_timeline_page(
        &self,
        ctx: &AuditContext,
        filter: &EngagementFilter,
        paging: Paging,
    ) -> Result<(Vec<TimelineEntry>, usize)> {
        let page = self.engagement_overview_page(ctx, filter, paging).await?;
        Ok((self.with_steps(page.rows).await?, page.total))
    }

    async fn with_steps(&self, rows: Vec<EngagementOverview>) -> Result<Vec<TimelineEntry>> {
        let mut steps: HashMap<i64, Vec<TimelineStep>> = HashMap::new();
        // Ids are integers from the store itself, never user text.
        for chunk in rows.chunks(200) {
            let ids = chunk
                .iter()
                .map(|o| o.engagement.id.0.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let found: Vec<(i64, String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT engagement_id, from_state, to_state, effective_on FROM engagement_transitions WHERE engagement_id IN ({ids}) ORDER BY id"
            )))
            .fetch_all(&self.pool)
            .await?;
            for (id, from, to, on) in found {
                steps.entry(id).or_default().push(TimelineStep {
                    from: EngagementState::parse(&from)
                        .map_err(corrupt("engagement_transitions.from_state"))?,
                    to: EngagementState::parse(&to)
                        .map_err(corrupt("engagement_transitions.to_state"))?,
                    effective_on: parse_iso_day("engagement_transitions.effective_on", &on)?,
                });
            }
        }
        Ok(rows
            .into_iter()
            .map(|overview| TimelineEntry {
                steps: steps.remove(&overview.engagement.id.0).unwrap_or_default(),
                overview,
            })
            .collect())
    }
}
