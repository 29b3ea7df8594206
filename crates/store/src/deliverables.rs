//! The deliverables of an engagement (① to ⑦) as stored: where each stands
//! in the review, every submitted version frozen as JSON, and every review
//! step (who, when, which version, with a note).
//!
//! A submission builds the content from the checklist or the ledger as the
//! submitting transaction sees it and freezes it: a later change to either
//! never changes what was submitted, reviewed or released.
//!
//! Every function takes a [`HospitalGrant`] for [`HospitalData::Deliverables`],
//! asks the policy again inside its transaction and appends its audit record
//! (reads too) in that transaction. A survey company acts only on its own
//! engagement, and submits only once it is contracted.

use crate::audit::{AuditContext, append};
use crate::checklists::checklist_in;
use crate::db::Tx;
use crate::engagements::{Engagement, engagement_in};
use crate::error::corrupt;
use crate::hearings::{confirmations_in, framework_in};
use crate::hospital::{recheck, require};
use crate::ledger::ledger_in;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::checklist::{AnswerStyle, CellKey, Confirmation, Framework};
use mamori_domain::deliverable::{
    ContentChange, DeliverableContent, DeliverableKind, DeliverableState, RespondentAnswers,
    ReviewAction, ReviewRefused, backups_content, check_complete, checklist_content,
    connections_content, decide, diff, network_content, structure_content,
};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, DomainError, EngagementId, validate};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The longest note a review step may carry.
pub const MAX_REVIEW_NOTE: usize = 4_000;

/// One step of a deliverable's review, the submissions included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliverableReview {
    /// The version the step was taken on.
    pub version: i64,
    pub action: ReviewAction,
    pub actor: Option<AccountId>,
    pub at_ms: i64,
    pub note: String,
}

/// Where one deliverable of an engagement stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliverableRecord {
    pub kind: DeliverableKind,
    pub state: DeliverableState,
    /// The latest frozen version; `None` until the first submission.
    pub version: Option<i64>,
    pub submitted_at_ms: Option<i64>,
    pub submitted_by: Option<AccountId>,
    /// Oldest first.
    pub reviews: Vec<DeliverableReview>,
}

impl DeliverableRecord {
    fn untouched(kind: DeliverableKind) -> DeliverableRecord {
        DeliverableRecord {
            kind,
            state: DeliverableState::Draft,
            version: None,
            submitted_at_ms: None,
            submitted_by: None,
            reviews: Vec::new(),
        }
    }
}

/// A refused review step: an incomplete submission names the missing parts
/// (a refused field), any other step names what is allowed next (a conflict
/// with the deliverable's state).
fn refusal(kind: DeliverableKind, refused: ReviewRefused) -> StoreError {
    match refused {
        ReviewRefused::Incomplete { .. } => {
            DomainError::invalid("deliverable", format!("{}: {refused}", kind.slug())).into()
        }
        other => StoreError::Conflict(format!("{}: {other}", kind.slug())),
    }
}

#[derive(sqlx::FromRow)]
struct DeliverableRow {
    id: i64,
    kind: String,
    state: String,
    current_version: Option<i64>,
    submitted_by: Option<i64>,
}

/// The stored row of one deliverable, with its id.
pub(crate) struct Stored {
    pub(crate) id: i64,
    pub(crate) record: DeliverableRecord,
}

/// The engagement's stored deliverables by kind, with their review steps
/// and the submission time of their current version.
pub(crate) async fn stored_of(tx: &mut Tx, engagement: EngagementId) -> Result<Vec<Stored>> {
    let rows: Vec<DeliverableRow> = sqlx::query_as(
        "SELECT id, kind, state, current_version, submitted_by FROM deliverables WHERE engagement_id = $1 ORDER BY id",
    )
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let reviews: Vec<(i64, i64, String, Option<i64>, i64, String)> = sqlx::query_as(
        "SELECT r.deliverable_id, r.version, r.action, r.actor_id, r.at, r.note FROM deliverable_reviews r
         JOIN deliverables d ON d.id = r.deliverable_id WHERE d.engagement_id = $1 ORDER BY r.id",
    )
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_deliverable: HashMap<i64, Vec<DeliverableReview>> = HashMap::new();
    for (id, version, action, actor, at, note) in reviews {
        by_deliverable
            .entry(id)
            .or_default()
            .push(DeliverableReview {
                version,
                action: ReviewAction::parse(&action)
                    .map_err(corrupt("deliverable_reviews.action"))?,
                actor: actor.map(AccountId),
                at_ms: at,
                note,
            });
    }
    let submitted: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT v.deliverable_id, v.version, v.submitted_at FROM deliverable_versions v
         JOIN deliverables d ON d.id = v.deliverable_id WHERE d.engagement_id = $1",
    )
    .bind(engagement.0)
    .fetch_all(&mut **tx)
    .await?;
    let submitted: HashMap<(i64, i64), i64> = submitted
        .into_iter()
        .map(|(id, version, at)| ((id, version), at))
        .collect();
    rows.into_iter()
        .map(|r| {
            let version = r.current_version;
            Ok(Stored {
                id: r.id,
                record: DeliverableRecord {
                    kind: DeliverableKind::parse(&r.kind).map_err(corrupt("deliverables.kind"))?,
                    state: DeliverableState::parse(&r.state)
                        .map_err(corrupt("deliverables.state"))?,
                    version,
                    submitted_at_ms: version.and_then(|v| submitted.get(&(r.id, v)).copied()),
                    submitted_by: r.submitted_by.map(AccountId),
                    reviews: by_deliverable.remove(&r.id).unwrap_or_default(),
                },
            })
        })
        .collect()
}

async fn stored_one(
    tx: &mut Tx,
    engagement: EngagementId,
    kind: DeliverableKind,
) -> Result<Option<Stored>> {
    Ok(stored_of(tx, engagement)
        .await?
        .into_iter()
        .find(|s| s.record.kind == kind))
}

/// The engagement, checked against the grant: the engagement is of the
/// granted hospital, a survey company acts only on its own engagement and
/// writes only while it is contracted. A refusal is audited in `tx`, which
/// the caller commits.
pub(crate) async fn engagement_for(
    tx: &mut Tx,
    ctx: &AuditContext,
    grant: &HospitalGrant,
    today: time::Date,
    engagement: EngagementId,
) -> Result<std::result::Result<Engagement, StoreError>> {
    let e = engagement_in(tx, today, engagement).await?;
    if e.hospital_id != grant.hospital() {
        return Ok(Err(StoreError::NotFound {
            what: "engagement",
            key: engagement.to_string(),
        }));
    }
    let actor = grant.actor();
    let reason = match actor.org_kind {
        OrgKind::SurveyCompany if actor.org != e.company_id => {
            Some("this engagement belongs to another company")
        }
        OrgKind::SurveyCompany
            if grant.access() == Access::Write
                && !(e.state.is_contracted() && e.contract_in_force) =>
        {
            Some("the engagement is not contracted (NDA and order in force)")
        }
        _ => None,
    };
    let Some(reason) = reason else {
        return Ok(Ok(e));
    };
    append(
        tx,
        ctx,
        AuditAction::AccessDenied,
        format!("{}:{}", grant.data(), e.hospital_id),
        Some(e.hospital_id),
        format!("{} engagement:{} ({reason})", grant.access(), e.id),
    )
    .await?;
    Ok(Err(StoreError::Forbidden(reason)))
}

/// Opens the transaction, asks the policy again and finds the engagement;
/// on refusal commits the audit record and returns. Shared by everything
/// kept about an engagement's deliverables (reviews, findings, releases).
macro_rules! open {
    ($self:ident, $tx:ident, $ctx:expr, $grant:expr, $access:expr, $engagement:expr) => {
        open!(
            $self,
            $tx,
            $ctx,
            $grant,
            HospitalData::Deliverables,
            $access,
            $engagement
        )
    };
    ($self:ident, $tx:ident, $ctx:expr, $grant:expr, $data:expr, $access:expr, $engagement:expr) => {{
        require($grant, $ctx, $data, $access)?;
        let today = $self.today();
        // Reads leave the write lock to writers (see `Store::finish_read`).
        let mut tx = if $access == Access::Read {
            $self.begin_read().await?
        } else {
            $self.begin_write().await?
        };
        recheck(&mut tx, $grant, today).await?;
        match engagement_for(&mut tx, $ctx, $grant, today, $engagement).await? {
            Ok(e) => {
                $tx = tx;
                e
            }
            Err(refused) => {
                tx.commit().await?;
                return Err(refused);
            }
        }
    }};
}
pub(crate) use open;

/// ①–③ from the respondents of the deliverable's audience: their answers
/// to their own framework and the latest confirmation of every cell, read
/// as the checklist and the hearings read them.
async fn checklist_of(
    tx: &mut Tx,
    e: &Engagement,
    kind: DeliverableKind,
) -> Result<DeliverableContent> {
    let roles = kind.respondent_roles().unwrap_or(&[]);
    let checklist = checklist_in(tx, e, None).await?;
    let mut confirmations = confirmations_in(tx, e.id).await?;
    let sheets: Vec<_> = checklist
        .respondents
        .iter()
        .filter(|s| roles.contains(&s.respondent.role))
        .collect();
    let mut frameworks: BTreeMap<i64, Framework> = BTreeMap::new();
    for s in &sheets {
        let id = s.respondent.framework_id;
        if let std::collections::btree_map::Entry::Vacant(slot) = frameworks.entry(id) {
            slot.insert(framework_in(tx, id).await?);
        }
    }
    // Each respondent's confirmations of their own framework's cells.
    let confirmed: Vec<(String, BTreeMap<CellKey, Confirmation>)> = sheets
        .iter()
        .map(|s| {
            let r = &s.respondent;
            let cells = confirmations
                .remove(&r.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|((framework, _), _)| *framework == r.framework_id)
                .map(|((_, key), c)| {
                    (
                        key,
                        Confirmation {
                            value: c.value,
                            open: c.open,
                        },
                    )
                })
                .collect();
            (r.id.to_string(), cells)
        })
        .collect();
    let style = sheets
        .first()
        .and_then(|s| frameworks.get(&s.respondent.framework_id))
        .map_or(AnswerStyle::YesNoDated, |f| f.answer_style);
    let mut shown = Vec::new();
    for (s, (key, confirmed)) in sheets.iter().zip(&confirmed) {
        let r = &s.respondent;
        let Some(form) = frameworks
            .get(&r.framework_id)
            .and_then(|f| f.form(&r.form_key))
        else {
            continue;
        };
        shown.push(RespondentAnswers {
            key,
            name: &r.name,
            role: r.role,
            form,
            self_assessed: &s.answers,
            confirmed,
        });
    }
    Ok(checklist_content(kind, style, &shown)?)
}

/// The content of `kind` as the transaction sees the checklist and ledger.
async fn content_of(
    tx: &mut Tx,
    e: &Engagement,
    kind: DeliverableKind,
) -> Result<DeliverableContent> {
    if kind.is_checklist() {
        return checklist_of(tx, e, kind).await;
    }
    let ledger = ledger_in(tx, e.hospital_id).await?;
    Ok(match kind {
        DeliverableKind::Backups => backups_content(&ledger),
        DeliverableKind::Connections => connections_content(&ledger),
        DeliverableKind::Network => network_content(&ledger),
        _ => structure_content(&ledger),
    })
}

async fn review_row(
    tx: &mut Tx,
    deliverable: i64,
    version: i64,
    action: ReviewAction,
    actor: AccountId,
    now: i64,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO deliverable_reviews (deliverable_id, version, action, actor_id, at, note) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(deliverable)
    .bind(version)
    .bind(action.slug())
    .bind(actor.0)
    .bind(now)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves a deliverable from the state it was read in; a change meanwhile
/// is a conflict.
async fn move_state(
    tx: &mut Tx,
    stored: &Stored,
    to: DeliverableState,
    version: Option<i64>,
    submitted_by: Option<AccountId>,
    now: i64,
) -> Result<()> {
    let moved = sqlx::query(
        "UPDATE deliverables SET state = $1, current_version = $2, submitted_by = $3, updated_at = $4
         WHERE id = $5 AND state = $6 AND COALESCE(current_version, 0) = $7",
    )
    .bind(to.slug())
    .bind(version)
    .bind(submitted_by.map(|a| a.0))
    .bind(now)
    .bind(stored.id)
    .bind(stored.record.state.slug())
    .bind(stored.record.version.unwrap_or(0))
    .execute(&mut **tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "{} changed meanwhile; reload and try again",
            stored.record.kind.slug()
        )));
    }
    Ok(())
}

/// The frozen content of one version.
pub(crate) async fn version_in(
    tx: &mut Tx,
    engagement: EngagementId,
    kind: DeliverableKind,
    version: i64,
) -> Result<DeliverableContent> {
    let content: Option<String> = sqlx::query_scalar(
        "SELECT v.content FROM deliverable_versions v JOIN deliverables d ON d.id = v.deliverable_id
         WHERE d.engagement_id = $1 AND d.kind = $2 AND v.version = $3",
    )
    .bind(engagement.0)
    .bind(kind.slug())
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?;
    let content = content.ok_or_else(|| StoreError::NotFound {
        what: "deliverable version",
        key: format!("{} version {version}", kind.slug()),
    })?;
    DeliverableContent::from_json(&content).map_err(corrupt("deliverable_versions.content"))
}

impl Store {
    /// All seven deliverables of the engagement in the seed's order; one
    /// never submitted shows as draft without a version. One audited read.
    pub async fn deliverables(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
    ) -> Result<Vec<DeliverableRecord>> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Read, engagement);
        let mut stored: HashMap<DeliverableKind, DeliverableRecord> = stored_of(&mut tx, e.id)
            .await?
            .into_iter()
            .map(|s| (s.record.kind, s.record))
            .collect();
        let out: Vec<DeliverableRecord> = DeliverableKind::ALL
            .iter()
            .map(|&k| {
                stored
                    .remove(&k)
                    .unwrap_or_else(|| DeliverableRecord::untouched(k))
            })
            .collect();
        self.finish_read(
            tx,
            ctx,
            format!("deliverables:engagement:{}", e.id),
            Some(e.hospital_id),
            "deliverables",
        )
        .await?;
        Ok(out)
    }

    /// Submits `kind`: builds its content from the checklist or the ledger
    /// as they are now, refuses it naming the missing parts, and freezes it
    /// as the next version. Nothing is written when refused.
    pub async fn submit_deliverable(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        kind: DeliverableKind,
    ) -> Result<DeliverableRecord> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Write, engagement);
        let actor = grant.actor();
        let existing = stored_one(&mut tx, e.id, kind).await?;
        let (state, submitter) = existing
            .as_ref()
            .map_or((DeliverableState::Draft, None), |s| {
                (s.record.state, s.record.submitted_by)
            });
        let to =
            decide(state, ReviewAction::Submit, actor, submitter).map_err(|r| refusal(kind, r))?;
        let content = content_of(&mut tx, &e, kind).await?;
        check_complete(&content).map_err(|r| refusal(kind, r))?;
        let now = now_ms();
        let stored = match existing {
            Some(s) => s,
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO deliverables (engagement_id, kind, state, updated_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(e.id.0)
                .bind(kind.slug())
                .bind(DeliverableState::Draft.slug())
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::on_unique("deliverable", kind.slug()))?;
                Stored {
                    id,
                    record: DeliverableRecord::untouched(kind),
                }
            }
        };
        let version = stored.record.version.unwrap_or(0) + 1;
        move_state(
            &mut tx,
            &stored,
            to,
            Some(version),
            Some(actor.account),
            now,
        )
        .await?;
        sqlx::query(
            "INSERT INTO deliverable_versions (deliverable_id, version, content, submitted_at, submitted_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(stored.id)
        .bind(version)
        .bind(content.to_json())
        .bind(now)
        .bind(actor.account.0)
        .execute(&mut *tx)
        .await?;
        review_row(
            &mut tx,
            stored.id,
            version,
            ReviewAction::Submit,
            actor.account,
            now,
            "",
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::DeliverableSubmitted,
            format!("deliverable:engagement:{}:{}", e.id, kind.slug()),
            Some(e.hospital_id),
            format!("{} version {version}", kind.slug()),
        )
        .await?;
        let record = stored_one(&mut tx, e.id, kind)
            .await?
            .map(|s| s.record)
            .ok_or(StoreError::Conflict(format!("{} vanished", kind.slug())))?;
        tx.commit().await?;
        Ok(record)
    }

    /// A review step on the current version of `kind` (request changes,
    /// approve, reopen), decided against the stored submitter: nobody
    /// approves their own submission, and a refusal names what is allowed.
    pub async fn review_deliverable(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        kind: DeliverableKind,
        action: ReviewAction,
        note: &str,
    ) -> Result<DeliverableRecord> {
        let note = validate::note("note", note, MAX_REVIEW_NOTE)?;
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Review, engagement);
        let actor = grant.actor();
        let existing = stored_one(&mut tx, e.id, kind).await?;
        let (state, submitter) = existing
            .as_ref()
            .map_or((DeliverableState::Draft, None), |s| {
                (s.record.state, s.record.submitted_by)
            });
        let to = decide(state, action, actor, submitter).map_err(|r| refusal(kind, r))?;
        // A step other than a submission is only ever possible on a stored,
        // submitted version; a submission goes through `submit_deliverable`.
        let (Some(stored), false) = (existing, action == ReviewAction::Submit) else {
            return Err(StoreError::Conflict(format!(
                "{}: submit through the submission, which freezes a version",
                kind.slug()
            )));
        };
        let version = stored.record.version.unwrap_or(0);
        let now = now_ms();
        move_state(
            &mut tx,
            &stored,
            to,
            stored.record.version,
            stored.record.submitted_by,
            now,
        )
        .await?;
        review_row(
            &mut tx,
            stored.id,
            version,
            action,
            actor.account,
            now,
            &note,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::DeliverableReviewed,
            format!("deliverable:engagement:{}:{}", e.id, kind.slug()),
            Some(e.hospital_id),
            format!(
                "{} version {version}: {} → {}",
                kind.slug(),
                action.slug(),
                to.slug()
            ),
        )
        .await?;
        let record = stored_one(&mut tx, e.id, kind)
            .await?
            .map(|s| s.record)
            .ok_or(StoreError::Conflict(format!("{} vanished", kind.slug())))?;
        tx.commit().await?;
        Ok(record)
    }

    /// The content of one frozen version. One audited read.
    pub async fn deliverable_version(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        kind: DeliverableKind,
        version: i64,
    ) -> Result<DeliverableContent> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Read, engagement);
        let content = version_in(&mut tx, e.id, kind, version).await?;
        self.finish_read(
            tx,
            ctx,
            format!("deliverable:engagement:{}:{}", e.id, kind.slug()),
            Some(e.hospital_id),
            format!("{} version {version}", kind.slug()),
        )
        .await?;
        Ok(content)
    }

    /// What changed from version `from` to version `to`. One audited read.
    pub async fn deliverable_diff(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        engagement: EngagementId,
        kind: DeliverableKind,
        from: i64,
        to: i64,
    ) -> Result<Vec<ContentChange>> {
        let mut tx;
        let e = open!(self, tx, ctx, grant, Access::Read, engagement);
        let before = version_in(&mut tx, e.id, kind, from).await?;
        let after = version_in(&mut tx, e.id, kind, to).await?;
        self.finish_read(
            tx,
            ctx,
            format!("deliverable:engagement:{}:{}", e.id, kind.slug()),
            Some(e.hospital_id),
            format!("{} versions {from} → {to}", kind.slug()),
        )
        .await?;
        Ok(diff(&before, &after))
    }
}
