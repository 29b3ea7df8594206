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
use crate::db::{Tx, parse_optional_day};
use crate::engagements::{Engagement, engagement_in};
use crate::error::corrupt;
use crate::hospital::{recheck, require};
use crate::ledger::ledger_in;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::checklist::{
    Answer, AnswerStyle, AnswerValue, CellKey, Confirmation, Framework, RespondentRole, Scope,
};
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
struct Stored {
    id: i64,
    record: DeliverableRecord,
}

/// The engagement's stored deliverables by kind, with their review steps
/// and the submission time of their current version.
async fn stored_of(tx: &mut Tx, engagement: EngagementId) -> Result<Vec<Stored>> {
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
async fn engagement_for(
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
        format!("{}:{}", HospitalData::Deliverables, e.hospital_id),
        Some(e.hospital_id),
        format!("{} engagement:{} ({reason})", grant.access(), e.id),
    )
    .await?;
    Ok(Err(StoreError::Forbidden(reason)))
}

/// Opens the transaction, asks the policy again and finds the engagement;
/// on refusal commits the audit record and returns.
macro_rules! open {
    ($self:ident, $tx:ident, $ctx:expr, $grant:expr, $access:expr, $engagement:expr) => {{
        require($grant, $ctx, HospitalData::Deliverables, $access)?;
        let today = $self.today();
        let mut tx = $self.begin_write().await?;
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

/// One respondent of the engagement with what the checklist deliverables
/// show of them.
struct RespondentData {
    id: String,
    name: String,
    role: RespondentRole,
    framework_id: i64,
    form_key: String,
    answers: BTreeMap<CellKey, Answer>,
    confirmed: BTreeMap<CellKey, Confirmation>,
}

#[derive(sqlx::FromRow)]
struct AnswerRow {
    respondent_id: i64,
    framework_id: i64,
    item_number: String,
    scope: String,
    value: String,
    checked_on: Option<String>,
    target_on: Option<String>,
    not_understood: String,
}

/// ①–③ from the respondents of the deliverable's audience: their answers
/// to their own framework and the latest confirmation of every cell.
async fn checklist_of(
    tx: &mut Tx,
    e: &Engagement,
    kind: DeliverableKind,
) -> Result<DeliverableContent> {
    let roles = kind.respondent_roles().unwrap_or(&[]);
    let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT id, framework_id, form_key, role, name FROM checklist_respondents WHERE engagement_id = $1 ORDER BY id",
    )
    .bind(e.id.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut respondents = Vec::new();
    for (id, framework_id, form_key, role, name) in rows {
        let role = RespondentRole::parse(&role).map_err(corrupt("checklist_respondents.role"))?;
        if roles.contains(&role) {
            respondents.push(RespondentData {
                id: id.to_string(),
                name,
                role,
                framework_id,
                form_key,
                answers: BTreeMap::new(),
                confirmed: BTreeMap::new(),
            });
        }
    }
    let index: HashMap<String, usize> = respondents
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    let answers: Vec<AnswerRow> = sqlx::query_as(
        "SELECT a.respondent_id, a.framework_id, a.item_number, a.scope, a.value, a.checked_on, a.target_on, a.not_understood
         FROM checklist_answers a JOIN checklist_respondents r ON r.id = a.respondent_id WHERE r.engagement_id = $1",
    )
    .bind(e.id.0)
    .fetch_all(&mut **tx)
    .await?;
    for a in answers {
        let Some(r) = index
            .get(&a.respondent_id.to_string())
            .map(|&i| &mut respondents[i])
        else {
            continue;
        };
        if a.framework_id != r.framework_id {
            continue;
        }
        let scope = Scope::parse(&a.scope).map_err(corrupt("checklist_answers.scope"))?;
        r.answers.insert(
            CellKey::new(a.item_number, scope),
            Answer {
                value: AnswerValue::parse(&a.value).map_err(corrupt("checklist_answers.value"))?,
                checked_on: parse_optional_day("checklist_answers.checked_on", a.checked_on)?,
                target_on: parse_optional_day("checklist_answers.target_on", a.target_on)?,
                not_understood: a.not_understood,
            },
        );
    }
    #[allow(clippy::type_complexity)]
    let confirmations: Vec<(i64, i64, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT c.respondent_id, c.framework_id, c.item_number, c.scope, c.value, c.is_open
         FROM checklist_confirmations c JOIN hearings h ON h.id = c.hearing_id
         WHERE h.engagement_id = $1 ORDER BY c.id",
    )
    .bind(e.id.0)
    .fetch_all(&mut **tx)
    .await?;
    // Oldest first: a later confirmation replaces an earlier one.
    for (respondent, framework, item, scope, value, open) in confirmations {
        let Some(r) = index
            .get(&respondent.to_string())
            .map(|&i| &mut respondents[i])
        else {
            continue;
        };
        if framework != r.framework_id {
            continue;
        }
        let scope = Scope::parse(&scope).map_err(corrupt("checklist_confirmations.scope"))?;
        let value = value
            .map(|v| AnswerValue::parse(&v))
            .transpose()
            .map_err(corrupt("checklist_confirmations.value"))?;
        r.confirmed.insert(
            CellKey::new(item, scope),
            Confirmation {
                value,
                open: open != 0,
            },
        );
    }
    let mut frameworks: BTreeMap<i64, Framework> = BTreeMap::new();
    for r in &respondents {
        if frameworks.contains_key(&r.framework_id) {
            continue;
        }
        let definition: String =
            sqlx::query_scalar("SELECT definition FROM checklist_frameworks WHERE id = $1")
                .bind(r.framework_id)
                .fetch_one(&mut **tx)
                .await?;
        let framework = Framework::from_json(&definition)
            .map_err(corrupt("checklist_frameworks.definition"))?;
        frameworks.insert(r.framework_id, framework);
    }
    let style = respondents
        .first()
        .and_then(|r| frameworks.get(&r.framework_id))
        .map_or(AnswerStyle::YesNoDated, |f| f.answer_style);
    let mut shown = Vec::new();
    for r in &respondents {
        let Some(form) = frameworks
            .get(&r.framework_id)
            .and_then(|f| f.form(&r.form_key))
        else {
            continue;
        };
        shown.push(RespondentAnswers {
            key: &r.id,
            name: &r.name,
            role: r.role,
            form,
            self_assessed: &r.answers,
            confirmed: &r.confirmed,
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
async fn version_in(
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
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataRead,
            format!("deliverables:engagement:{}", e.id),
            Some(e.hospital_id),
            "deliverables",
        )
        .await?;
        tx.commit().await?;
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
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataRead,
            format!("deliverable:engagement:{}:{}", e.id, kind.slug()),
            Some(e.hospital_id),
            format!("{} version {version}", kind.slug()),
        )
        .await?;
        tx.commit().await?;
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
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataRead,
            format!("deliverable:engagement:{}:{}", e.id, kind.slug()),
            Some(e.hospital_id),
            format!("{} versions {from} → {to}", kind.slug()),
        )
        .await?;
        tx.commit().await?;
        Ok(diff(&before, &after))
    }
}
