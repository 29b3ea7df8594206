//! The supervisor's review talk on an engagement's deliverables, as stored
//! (mamori_domain::deliverable::discussion): comment threads anchored to a
//! deliverable, optionally to a row of its frozen content and a version;
//! deep-dive requests (深掘り依頼) with a due date; and the review queue
//! across engagements with the programme's interim-review milestone.
//!
//! Every step is kept as a row (who, when, what was said); only the state
//! of a thread or a deep dive changes in place. Each function takes a
//! [`HospitalGrant`] for [`HospitalData::Deliverables`] and opens like the
//! deliverables do (policy re-checked in the transaction, the company on
//! its own contracted engagement), then refuses anyone outside the talk:
//! the hospital and the ministry read delivered deliverables, never this.

use crate::audit::{AuditContext, AuditEntry, append, append_all};
use crate::db::{Tx, iso_day, parse_iso_day};
use crate::deliverables::{engagement_for, open};
use crate::engagements::{Engagement, all_engagements_in};
use crate::error::corrupt;
use crate::hospital::{recheck, require};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::deliverable::{
    DeepDiveAction, DeepDiveState, DeliverableContent, DeliverableKind, DeliverableState,
    DiscussionRefused, ThreadAction, ThreadState, age_days, check_due, comment_text,
    decide_deep_dive, decide_thread, discussion_access, may_see_discussion, milestone_warning,
    overdue_days,
};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant, permits, relationship};
use mamori_domain::schedule::MilestoneKind;
use mamori_domain::{AccountId, DomainError, EngagementId, OrgId, ProgrammeId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use time::Date;

/// One comment of a thread: its opening, a reply, a resolve or a reopen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewComment {
    pub action: ThreadAction,
    pub author: Option<AccountId>,
    pub at_ms: i64,
    pub text: String,
}

/// A comment thread on one deliverable of an engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewThread {
    pub id: i64,
    pub engagement_id: EngagementId,
    pub kind: DeliverableKind,
    /// The row of the frozen content it is about; `None`: the whole deliverable.
    pub row_key: Option<String>,
    /// The version it is about; `None`: whichever is current.
    pub version: Option<i64>,
    pub state: ThreadState,
    pub created_by: Option<AccountId>,
    pub created_at_ms: i64,
    /// Oldest first; the first is the opening comment.
    pub comments: Vec<ReviewComment>,
}

/// What starts a thread or a deep dive: where it is anchored and what is said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Anchor {
    pub kind: Option<DeliverableKind>,
    /// Empty: the whole deliverable.
    pub row_key: String,
    pub version: Option<i64>,
}

/// One step of a deep dive, the request included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeepDiveStepRecord {
    pub action: DeepDiveAction,
    pub actor: Option<AccountId>,
    pub at_ms: i64,
    pub text: String,
}

/// A deep-dive request on one deliverable of an engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeepDive {
    pub id: i64,
    pub engagement_id: EngagementId,
    pub kind: DeliverableKind,
    pub row_key: Option<String>,
    pub version: Option<i64>,
    pub due_on: Date,
    pub state: DeepDiveState,
    pub requested_by: Option<AccountId>,
    pub requested_at_ms: i64,
    /// Days past the due date while not closed (as of the store's today).
    pub overdue_days: Option<i64>,
    /// Oldest first; the first is the request.
    pub steps: Vec<DeepDiveStepRecord>,
}

/// A submitted deliverable waiting for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedDeliverable {
    pub engagement_id: EngagementId,
    pub hospital_id: OrgId,
    pub hospital_name: String,
    pub company_name: String,
    pub kind: DeliverableKind,
    pub version: i64,
    pub submitted_at_ms: i64,
    /// Whole days since the submission (in Japan).
    pub age_days: i64,
}

/// An open deep dive, with the engagement it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedDeepDive {
    pub hospital_name: String,
    pub company_name: String,
    #[serde(flatten)]
    pub deep_dive: DeepDive,
}

/// An engagement not yet reviewed by the supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreviewedEngagement {
    pub engagement_id: EngagementId,
    pub hospital_name: String,
    pub company_name: String,
}

/// One programme's interim-review milestone and its engagements that had
/// no deliverable reviewed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterimReview {
    pub programme_id: ProgrammeId,
    pub programme_name: String,
    /// `None` when the programme has no such milestone.
    pub due: Option<Date>,
    /// Days until the milestone (negative: past).
    pub days_left: Option<i64>,
    /// Past or within the warning window, with engagements still unreviewed.
    pub warning: bool,
    pub unreviewed: Vec<UnreviewedEngagement>,
}

/// The supervisor's (and the secretariat's) review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewQueue {
    /// Every submitted deliverable, oldest submission first.
    pub submitted: Vec<QueuedDeliverable>,
    /// Every deep dive not closed, soonest due first.
    pub deep_dives: Vec<QueuedDeepDive>,
    pub interim: Vec<InterimReview>,
}

/// A refused step names what is allowed (a conflict with the state), or a
/// missing text (a refused field).
fn refusal(what: &str, refused: DiscussionRefused) -> StoreError {
    match refused {
        DiscussionRefused::TextRequired { .. } => {
            DomainError::invalid("text", refused.to_string()).into()
        }
        other => StoreError::Conflict(format!("{what}: {other}")),
    }
}

fn optional_key(key: String) -> Option<String> {
    (!key.is_empty()).then_some(key)
}

/// Opens like the deliverables do, then refuses (audited) anyone outside
/// the review talk.
macro_rules! open_talk {
    ($self:ident, $tx:ident, $ctx:expr, $grant:expr, $access:expr, $engagement:expr) => {{
        let e = open!($self, $tx, $ctx, $grant, $access, $engagement);
        if !may_see_discussion($grant.actor()) {
            append(
                &mut $tx,
                $ctx,
                AuditAction::AccessDenied,
                format!("{}:{}", HospitalData::Deliverables, e.hospital_id),
                Some(e.hospital_id),
                format!("review talk engagement:{} (not a party)", e.id),
            )
            .await?;
            $tx.commit().await?;
            return Err(StoreError::Forbidden(
                "the review talk is for the secretariat, the supervisor and the survey company",
            ));
        }
        e
    }};
}

/// The access a step needs from this actor: the grant must be for it.
fn step_access(grant: &HospitalGrant) -> Access {
    discussion_access(grant.actor().org_kind)
}

/// Checks an anchor against the stored deliverable: a version must exist;
/// a row must be a row of that version (or of the current one).
async fn check_anchor(
    tx: &mut Tx,
    engagement: EngagementId,
    anchor: &Anchor,
) -> Result<(DeliverableKind, Option<String>, Option<i64>)> {
    let kind = anchor
        .kind
        .ok_or_else(|| DomainError::invalid("kind", "choose a deliverable (①–⑦)"))?;
    let row = mamori_domain::deliverable::row_key(&anchor.row_key)?;
    let stored: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, current_version FROM deliverables WHERE engagement_id = $1 AND kind = $2",
    )
    .bind(engagement.0)
    .bind(kind.slug())
    .fetch_optional(&mut **tx)
    .await?;
    let (id, current) = stored.unwrap_or((0, None));
    if anchor.version.is_none() && row.is_none() {
        return Ok((kind, None, None));
    }
    let Some(version) = anchor.version.or(current) else {
        return Err(DomainError::invalid(
            "row",
            format!("{} has no submitted version to point a row of", kind.slug()),
        )
        .into());
    };
    let content: Option<String> = sqlx::query_scalar(
        "SELECT content FROM deliverable_versions WHERE deliverable_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(content) = content else {
        return Err(DomainError::invalid(
            "version",
            format!("{} has no version {version}", kind.slug()),
        )
        .into());
    };
    if let Some(key) = &row {
        let content = DeliverableContent::from_json(&content)
            .map_err(corrupt("deliverable_versions.content"))?;
        if !content.tables.iter().any(|t| t.row(key).is_some()) {
            return Err(DomainError::invalid(
                "row",
                format!("`{key}` is not a row of {} version {version}", kind.slug()),
            )
            .into());
        }
    }
    Ok((kind, row, anchor.version))
}

#[derive(sqlx::FromRow)]
struct ThreadRow {
    id: i64,
    engagement_id: i64,
    kind: String,
    row_key: String,
    version: Option<i64>,
    state: String,
    created_by: Option<i64>,
    created_at: i64,
}

/// The threads of an engagement (or one of them), with their comments.
async fn threads_in(
    tx: &mut Tx,
    engagement: EngagementId,
    only: Option<i64>,
) -> Result<Vec<ReviewThread>> {
    let rows: Vec<ThreadRow> = sqlx::query_as(
        "SELECT id, engagement_id, kind, row_key, version, state, created_by, created_at
         FROM review_threads WHERE engagement_id = $1 AND ($2 = 0 OR id = $2) ORDER BY id",
    )
    .bind(engagement.0)
    .bind(only.unwrap_or(0))
    .fetch_all(&mut **tx)
    .await?;
    let comments: Vec<(i64, String, Option<i64>, i64, String)> = sqlx::query_as(
        "SELECT c.thread_id, c.action, c.author_id, c.at, c.body FROM review_comments c
         JOIN review_threads t ON t.id = c.thread_id WHERE t.engagement_id = $1 ORDER BY c.id",
    )
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_thread: HashMap<i64, Vec<ReviewComment>> = HashMap::new();
    for (thread, action, author, at, body) in comments {
        by_thread.entry(thread).or_default().push(ReviewComment {
            action: ThreadAction::parse(&action).map_err(corrupt("review_comments.action"))?,
            author: author.map(AccountId),
            at_ms: at,
            text: body,
        });
    }
    rows.into_iter()
        .map(|r| {
            Ok(ReviewThread {
                id: r.id,
                engagement_id: EngagementId(r.engagement_id),
                kind: DeliverableKind::parse(&r.kind).map_err(corrupt("review_threads.kind"))?,
                row_key: optional_key(r.row_key),
                version: r.version,
                state: ThreadState::parse(&r.state).map_err(corrupt("review_threads.state"))?,
                created_by: r.created_by.map(AccountId),
                created_at_ms: r.created_at,
                comments: by_thread.remove(&r.id).unwrap_or_default(),
            })
        })
        .collect()
}

async fn one_thread(tx: &mut Tx, engagement: EngagementId, id: i64) -> Result<ReviewThread> {
    threads_in(tx, engagement, Some(id))
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound {
            what: "review thread",
            key: id.to_string(),
        })
}

#[derive(sqlx::FromRow)]
struct DeepDiveRow {
    id: i64,
    engagement_id: i64,
    kind: String,
    row_key: String,
    version: Option<i64>,
    due_on: String,
    state: String,
    requested_by: Option<i64>,
    requested_at: i64,
}

/// Deep dives with their steps: of one engagement (or one of them), or,
/// with `engagement` `None`, every one not closed.
async fn deep_dives_in(
    tx: &mut Tx,
    today: Date,
    engagement: Option<EngagementId>,
    only: Option<i64>,
) -> Result<Vec<DeepDive>> {
    let rows: Vec<DeepDiveRow> = sqlx::query_as(
        "SELECT id, engagement_id, kind, row_key, version, due_on, state, requested_by, requested_at
         FROM deep_dives WHERE ($1 = 0 OR engagement_id = $1) AND ($2 = 0 OR id = $2)
         AND ($1 <> 0 OR state <> 'closed') ORDER BY id",
    )
    .bind(engagement.map_or(0, |e| e.0))
    .bind(only.unwrap_or(0))
    .fetch_all(&mut **tx)
    .await?;
    let steps: Vec<(i64, String, Option<i64>, i64, String)> = sqlx::query_as(
        "SELECT s.deep_dive_id, s.action, s.actor_id, s.at, s.body FROM deep_dive_steps s
         JOIN deep_dives d ON d.id = s.deep_dive_id
         WHERE ($1 = 0 OR d.engagement_id = $1) AND ($1 <> 0 OR d.state <> 'closed') ORDER BY s.id",
    )
    .bind(engagement.map_or(0, |e| e.0))
    .fetch_all(&mut **tx)
    .await?;
    let mut by_dive: HashMap<i64, Vec<DeepDiveStepRecord>> = HashMap::new();
    for (dive, action, actor, at, body) in steps {
        by_dive.entry(dive).or_default().push(DeepDiveStepRecord {
            action: DeepDiveAction::parse(&action).map_err(corrupt("deep_dive_steps.action"))?,
            actor: actor.map(AccountId),
            at_ms: at,
            text: body,
        });
    }
    rows.into_iter()
        .map(|r| {
            let state = DeepDiveState::parse(&r.state).map_err(corrupt("deep_dives.state"))?;
            let due_on = parse_iso_day("deep_dives.due_on", &r.due_on)?;
            Ok(DeepDive {
                id: r.id,
                engagement_id: EngagementId(r.engagement_id),
                kind: DeliverableKind::parse(&r.kind).map_err(corrupt("deep_dives.kind"))?,
                row_key: optional_key(r.row_key),
                version: r.version,
                due_on,
                state,
                requested_by: r.requested_by.map(AccountId),
                requested_at_ms: r.requested_at,
                overdue_days: overdue_days(state, due_on, today),
                steps: by_dive.remove(&r.id).unwrap_or_default(),
            })
        })
        .collect()
}

async fn one_deep_dive(
    tx: &mut Tx,
    today: Date,
    engagement: EngagementId,
    id: i64,
) -> Result<DeepDive> {
    deep_dives_in(tx, today, Some(engagement), Some(id))
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound {
            what: "deep dive",
            key: id.to_string(),
        })
}

async fn comment_row(
    tx: &mut Tx,
    thread: i64,
    action: ThreadAction,
    author: AccountId,
    now: i64,
    text: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO review_comments (thread_id, action, author_id, at, body) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(thread)
    .bind(action.slug())
    .bind(author.0)
    .bind(now)
    .bind(text)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn deep_dive_step_row(
    tx: &mut Tx,
    dive: i64,
    action: DeepDiveAction,
    actor: AccountId,
    now: i64,
    text: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO deep_dive_steps (deep_dive_id, action, actor_id, at, body) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(dive)
    .bind(action.slug())
    .bind(actor.0)
    .bind(now)
    .bind(text)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Where an anchor points, for the audit detail.
fn anchor_text(kind: DeliverableKind, row: &Option<String>, version: Option<i64>) -> String {
    let mut out = kind.slug().to_string();
    if let Some(v) = version {
        out.push_str(&format!(" version {v}"));
    }
    if let Some(r) = row {
        out.push_str(&format!(" row {r}"));
    }
    out
}

impl Store {
    /// The comment threads of an engagement's deliverables, oldest first.
    /// One audited read; only the parties of the review talk.
    pub async fn review_threads(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
    ) -> Result<Vec<ReviewThread>> {
        let mut tx;
        let e = open_talk!(self, tx, ctx, grant, Access::Read, engagement);
        let threads = threads_in(&mut tx, e.id, None).await?;
        self.finish_read(
            tx,
            ctx,
            format!("review-threads:engagement:{}", e.id),
            Some(e.hospital_id),
            "review threads",
        )
        .await?;
        Ok(threads)
    }

    /// The supervisor opens a thread on a deliverable (optionally a row of
    /// a version) with its first comment.
    pub async fn open_review_thread(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        anchor: &Anchor,
        text: &str,
    ) -> Result<ReviewThread> {
        let text = comment_text("text", text)?;
        let mut tx;
        let e = open_talk!(self, tx, ctx, grant, step_access(grant), engagement);
        let actor = grant.actor();
        let state = decide_thread(None, ThreadAction::Open, actor, &text)
            .map_err(|r| refusal("thread", r))?;
        let (kind, row, version) = check_anchor(&mut tx, e.id, anchor).await?;
        let now = now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO review_threads (engagement_id, kind, row_key, version, state, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(e.id.0)
        .bind(kind.slug())
        .bind(row.clone().unwrap_or_default())
        .bind(version)
        .bind(state.slug())
        .bind(actor.account.0)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        comment_row(&mut tx, id, ThreadAction::Open, actor.account, now, &text).await?;
        append(
            &mut tx,
            ctx,
            AuditAction::ReviewThreadOpened,
            format!("review-thread:engagement:{}:{id}", e.id),
            Some(e.hospital_id),
            anchor_text(kind, &row, version),
        )
        .await?;
        let thread = one_thread(&mut tx, e.id, id).await?;
        tx.commit().await?;
        Ok(thread)
    }

    /// A reply, resolve or reopen on a thread, decided against its stored
    /// state and the actor's organisation; a refusal names what is allowed.
    pub async fn review_thread_step(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        thread: i64,
        action: ThreadAction,
        text: &str,
    ) -> Result<ReviewThread> {
        let text = comment_text("text", text)?;
        let mut tx;
        let e = open_talk!(self, tx, ctx, grant, step_access(grant), engagement);
        let actor = grant.actor();
        let current = one_thread(&mut tx, e.id, thread).await?;
        if action == ThreadAction::Open {
            return Err(StoreError::Conflict(
                "thread: a thread is opened once; reply to it instead".into(),
            ));
        }
        let to = decide_thread(Some(current.state), action, actor, &text)
            .map_err(|r| refusal("thread", r))?;
        let now = now_ms();
        let moved = sqlx::query(
            "UPDATE review_threads SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to.slug())
        .bind(now)
        .bind(current.id)
        .bind(current.state.slug())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "thread changed meanwhile; reload and try again".into(),
            ));
        }
        comment_row(&mut tx, current.id, action, actor.account, now, &text).await?;
        let audit = match action {
            ThreadAction::Resolve => AuditAction::ReviewThreadResolved,
            ThreadAction::Reopen => AuditAction::ReviewThreadReopened,
            _ => AuditAction::ReviewCommented,
        };
        append(
            &mut tx,
            ctx,
            audit,
            format!("review-thread:engagement:{}:{}", e.id, current.id),
            Some(e.hospital_id),
            format!(
                "{}: {} → {}",
                anchor_text(current.kind, &current.row_key, current.version),
                action.slug(),
                to.slug()
            ),
        )
        .await?;
        let updated = one_thread(&mut tx, e.id, current.id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The deep dives of an engagement, oldest first. One audited read;
    /// only the parties of the review talk.
    pub async fn deep_dives(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
    ) -> Result<Vec<DeepDive>> {
        let mut tx;
        let e = open_talk!(self, tx, ctx, grant, Access::Read, engagement);
        let dives = deep_dives_in(&mut tx, self.today(), Some(e.id), None).await?;
        self.finish_read(
            tx,
            ctx,
            format!("deep-dives:engagement:{}", e.id),
            Some(e.hospital_id),
            "deep dives",
        )
        .await?;
        Ok(dives)
    }

    /// The supervisor asks for a deeper investigation of a deliverable
    /// (optionally a row), due on `due` (today or later).
    pub async fn request_deep_dive(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        anchor: &Anchor,
        due: Date,
        text: &str,
    ) -> Result<DeepDive> {
        let text = comment_text("text", text)?;
        let today = self.today();
        check_due(due, today)?;
        let mut tx;
        let e = open_talk!(self, tx, ctx, grant, step_access(grant), engagement);
        let actor = grant.actor();
        let state = decide_deep_dive(None, DeepDiveAction::Request, actor, &text)
            .map_err(|r| refusal("deep dive", r))?;
        let (kind, row, version) = check_anchor(&mut tx, e.id, anchor).await?;
        let now = now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO deep_dives (engagement_id, kind, row_key, version, due_on, state, requested_by, requested_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(e.id.0)
        .bind(kind.slug())
        .bind(row.clone().unwrap_or_default())
        .bind(version)
        .bind(iso_day(due))
        .bind(state.slug())
        .bind(actor.account.0)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        deep_dive_step_row(
            &mut tx,
            id,
            DeepDiveAction::Request,
            actor.account,
            now,
            &text,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::DeepDiveRequested,
            format!("deep-dive:engagement:{}:{id}", e.id),
            Some(e.hospital_id),
            format!("{} due {}", anchor_text(kind, &row, version), iso_day(due)),
        )
        .await?;
        let dive = one_deep_dive(&mut tx, today, e.id, id).await?;
        tx.commit().await?;
        Ok(dive)
    }

    /// An answer (the company), a close or a send-back (the supervisor) on
    /// a deep dive; a refusal names what is allowed.
    pub async fn deep_dive_step(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        deep_dive: i64,
        action: DeepDiveAction,
        text: &str,
    ) -> Result<DeepDive> {
        let text = comment_text("text", text)?;
        let today = self.today();
        let mut tx;
        let e = open_talk!(self, tx, ctx, grant, step_access(grant), engagement);
        let actor = grant.actor();
        let current = one_deep_dive(&mut tx, today, e.id, deep_dive).await?;
        if action == DeepDiveAction::Request {
            return Err(StoreError::Conflict(
                "deep dive: it was requested once; send it back instead".into(),
            ));
        }
        let to = decide_deep_dive(Some(current.state), action, actor, &text)
            .map_err(|r| refusal("deep dive", r))?;
        let now = now_ms();
        let moved = sqlx::query(
            "UPDATE deep_dives SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to.slug())
        .bind(now)
        .bind(current.id)
        .bind(current.state.slug())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "deep dive changed meanwhile; reload and try again".into(),
            ));
        }
        deep_dive_step_row(&mut tx, current.id, action, actor.account, now, &text).await?;
        let audit = match action {
            DeepDiveAction::Answer => AuditAction::DeepDiveAnswered,
            DeepDiveAction::Close => AuditAction::DeepDiveClosed,
            _ => AuditAction::DeepDiveSentBack,
        };
        append(
            &mut tx,
            ctx,
            audit,
            format!("deep-dive:engagement:{}:{}", e.id, current.id),
            Some(e.hospital_id),
            format!(
                "{}: {} → {}",
                anchor_text(current.kind, &current.row_key, current.version),
                action.slug(),
                to.slug()
            ),
        )
        .await?;
        let updated = one_deep_dive(&mut tx, today, e.id, current.id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The review queue across engagements, for the supervisor and the
    /// secretariat: every submitted deliverable with its age (oldest
    /// first), every deep dive not closed, and per programme the interim
    /// review milestone with the contracted engagements no supervisor has
    /// reviewed anything of yet. Only engagements of hospitals whose
    /// deliverables the policy lets the actor read are listed; one
    /// transaction, one read record per hospital shown.
    pub async fn review_queue(&self, ctx: &AuditContext) -> Result<ReviewQueue> {
        let actor = ctx
            .actor
            .ok_or(StoreError::Forbidden("the review queue needs a person"))?;
        if !matches!(actor.org_kind, OrgKind::Supervisor | OrgKind::Secretariat) {
            self.record_event(ctx, AuditAction::AccessDenied, "review-queue", None, "read")
                .await?;
            return Err(StoreError::Forbidden(
                "the review queue is for the supervisor and the secretariat",
            ));
        }
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let all = all_engagements_in(&mut tx, today).await?;
        let links: Vec<_> = all.iter().map(Engagement::link).collect();
        let visible: BTreeMap<EngagementId, &Engagement> = all
            .iter()
            .filter(|e| {
                permits(
                    relationship(&actor, e.hospital_id, &links),
                    HospitalData::Deliverables,
                    Access::Read,
                )
            })
            .map(|e| (e.id, e))
            .collect();

        let waiting: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT d.engagement_id, d.kind, v.version, v.submitted_at FROM deliverables d
             JOIN deliverable_versions v ON v.deliverable_id = d.id AND v.version = d.current_version
             WHERE d.state = $1 ORDER BY v.submitted_at, d.id",
        )
        .bind(DeliverableState::Submitted.slug())
        .fetch_all(&mut *tx)
        .await?;
        let mut submitted = Vec::new();
        for (engagement, kind, version, at) in waiting {
            let Some(e) = visible.get(&EngagementId(engagement)) else {
                continue;
            };
            submitted.push(QueuedDeliverable {
                engagement_id: e.id,
                hospital_id: e.hospital_id,
                hospital_name: e.hospital_name.clone(),
                company_name: e.company_name.clone(),
                kind: DeliverableKind::parse(&kind).map_err(corrupt("deliverables.kind"))?,
                version,
                submitted_at_ms: at,
                age_days: age_days(crate::db::day_of_ms(at), today),
            });
        }

        let mut deep_dives: Vec<QueuedDeepDive> = deep_dives_in(&mut tx, today, None, None)
            .await?
            .into_iter()
            .filter_map(|d| {
                let e = visible.get(&d.engagement_id)?;
                Some(QueuedDeepDive {
                    hospital_name: e.hospital_name.clone(),
                    company_name: e.company_name.clone(),
                    deep_dive: d,
                })
            })
            .collect();
        deep_dives.sort_by_key(|d| (d.deep_dive.due_on, d.deep_dive.id));

        // Engagements with any review step other than a submission taken
        // by a supervisor's account.
        let reviewed: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT d.engagement_id FROM deliverable_reviews r
             JOIN deliverables d ON d.id = r.deliverable_id
             JOIN accounts a ON a.id = r.actor_id JOIN organisations o ON o.id = a.org_id
             WHERE r.action <> 'submit' AND o.kind = $1",
        )
        .bind(OrgKind::Supervisor.slug())
        .fetch_all(&mut *tx)
        .await?;
        let reviewed: HashSet<i64> = reviewed.into_iter().collect();
        let mut programmes: BTreeMap<ProgrammeId, InterimReview> = BTreeMap::new();
        for e in visible.values() {
            if !e.state.is_contracted() || e.state.is_closed_early() {
                continue;
            }
            let entry = programmes
                .entry(e.programme_id)
                .or_insert_with(|| InterimReview {
                    programme_id: e.programme_id,
                    programme_name: e.programme_name.clone(),
                    due: None,
                    days_left: None,
                    warning: false,
                    unreviewed: Vec::new(),
                });
            if !reviewed.contains(&e.id.0) {
                entry.unreviewed.push(UnreviewedEngagement {
                    engagement_id: e.id,
                    hospital_name: e.hospital_name.clone(),
                    company_name: e.company_name.clone(),
                });
            }
        }
        let mut reads: Vec<(String, OrgId)> = Vec::new();
        let mut seen: HashSet<OrgId> = HashSet::new();
        let mut shown = |hospital: OrgId| {
            if seen.insert(hospital) {
                reads.push((format!("review-queue:hospital:{hospital}"), hospital));
            }
        };
        submitted.iter().for_each(|q| shown(q.hospital_id));
        for d in &deep_dives {
            if let Some(e) = visible.get(&d.deep_dive.engagement_id) {
                shown(e.hospital_id);
            }
        }
        for p in programmes.values() {
            for u in &p.unreviewed {
                if let Some(e) = visible.get(&u.engagement_id) {
                    shown(e.hospital_id);
                }
            }
        }
        let entries = reads
            .into_iter()
            .map(|(target, hospital)| AuditEntry::hospital_read(target, hospital, "review queue"))
            .collect();
        append_all(&mut tx, ctx, entries).await?;
        tx.commit().await?;

        let mut interim = Vec::new();
        for (id, mut p) in programmes {
            p.due = self
                .milestones(id)
                .await?
                .into_iter()
                .find(|m| m.kind == MilestoneKind::InterimReview)
                .map(|m| m.due);
            p.days_left = p.due.map(|d| (d - today).whole_days());
            p.warning =
                !p.unreviewed.is_empty() && p.due.is_some_and(|d| milestone_warning(d, today));
            interim.push(p);
        }
        Ok(ReviewQueue {
            submitted,
            deep_dives,
            interim,
        })
    }
}
