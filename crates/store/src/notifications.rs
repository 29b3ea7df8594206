//! Notifications in the app and by mail. A notification keeps its facts
//! (kind and parameters) so each reader sees it in their own language; the
//! mail outbox points at it. Each (account, key) is notified once, so two
//! instances running the same deadline check do not notify twice.

use crate::audit::AuditContext;
use crate::db::{Tx, iso_day};
use crate::engagements::{Engagement, EngagementFilter};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::AccountId;
use mamori_domain::organisation::OrgKind;
use mamori_domain::schedule::DeadlineStatus;
use serde::Serialize;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationKind {
    Transition,
    ToSign,
    DeadlineSoon,
    DeadlineOverdue,
    /// A material request or vendor inquiry passed its due day unanswered.
    RequestLapsed,
    /// A hospital was sent a notice of advisories affecting its ledger.
    AdvisoryNotice,
    /// A hospital's case was untouched or overdue: the secretariat follows up.
    CaseEscalated,
}

impl NotificationKind {
    pub fn slug(self) -> &'static str {
        match self {
            NotificationKind::Transition => "transition",
            NotificationKind::ToSign => "to-sign",
            NotificationKind::DeadlineSoon => "deadline-soon",
            NotificationKind::DeadlineOverdue => "deadline-overdue",
            NotificationKind::RequestLapsed => "request-lapsed",
            NotificationKind::AdvisoryNotice => "advisory-notice",
            NotificationKind::CaseEscalated => "case-escalated",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "transition" => NotificationKind::Transition,
            "to-sign" => NotificationKind::ToSign,
            "deadline-soon" => NotificationKind::DeadlineSoon,
            "deadline-overdue" => NotificationKind::DeadlineOverdue,
            "request-lapsed" => NotificationKind::RequestLapsed,
            "advisory-notice" => NotificationKind::AdvisoryNotice,
            "case-escalated" => NotificationKind::CaseEscalated,
            other => {
                return Err(StoreError::Corrupt {
                    column: "notifications.kind",
                    value: other.into(),
                });
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub account_id: AccountId,
    pub engagement_id: Option<i64>,
    pub kind: NotificationKind,
    /// hospital, company, and the kind's own facts (from, to, due, …).
    pub params: serde_json::Value,
    pub created_at_ms: i64,
    pub read: bool,
}

/// A mail waiting in (or sent from) the outbox, with the notification it carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxMail {
    pub id: i64,
    pub to_address: String,
    pub language: String,
    pub notification: Notification,
    pub created_at_ms: i64,
    pub sent_at_ms: Option<i64>,
    pub attempts: i64,
    pub last_error: String,
}

/// Notifies the secretariat and the supervisor of an engagement, and with
/// `parties` also the company's and the hospital's staff; one mail each.
pub(crate) async fn notify_engagement(
    tx: &mut Tx,
    e: &Engagement,
    kind: NotificationKind,
    facts: serde_json::Value,
    key: &str,
    parties: bool,
) -> Result<usize> {
    let recipients: Vec<(i64, String)> = sqlx::query_as(
        "SELECT a.id, a.email FROM accounts a JOIN organisations o ON o.id = a.org_id
         WHERE a.disabled = 0 AND (o.kind IN ('secretariat', 'supervisor') OR (($1 = 1) AND (a.org_id = $2 OR a.org_id = $3)))",
    )
    .bind(i64::from(parties))
    .bind(e.company_id.0)
    .bind(e.hospital_id.0)
    .fetch_all(&mut **tx)
    .await?;
    deliver(tx, e, kind, facts, key, recipients).await
}

/// Notifies the engagement's company and the secretariat only: the work
/// of the survey (a material request that lapsed) is theirs to follow up.
pub(crate) async fn notify_company_side(
    tx: &mut Tx,
    e: &Engagement,
    kind: NotificationKind,
    facts: serde_json::Value,
    key: &str,
) -> Result<usize> {
    let recipients: Vec<(i64, String)> = sqlx::query_as(
        "SELECT a.id, a.email FROM accounts a JOIN organisations o ON o.id = a.org_id
         WHERE a.disabled = 0 AND (o.kind = 'secretariat' OR a.org_id = $1)",
    )
    .bind(e.company_id.0)
    .fetch_all(&mut **tx)
    .await?;
    deliver(tx, e, kind, facts, key, recipients).await
}

/// One notification and one mail per recipient not yet notified under `key`.
async fn deliver(
    tx: &mut Tx,
    e: &Engagement,
    kind: NotificationKind,
    facts: serde_json::Value,
    key: &str,
    recipients: Vec<(i64, String)>,
) -> Result<usize> {
    let mut params = serde_json::json!({
        "engagement": e.id,
        "hospital": e.hospital_name,
        "company": e.company_name,
        "programme": e.programme_name,
    });
    if let (Some(p), Some(f)) = (params.as_object_mut(), facts.as_object()) {
        p.extend(f.clone());
    }
    notify_accounts(tx, Some(e.id.0), kind, &params, key, recipients).await
}

/// One notification and one mail per recipient not yet notified under
/// `key`; `engagement` when the notification is about one.
pub(crate) async fn notify_accounts(
    tx: &mut Tx,
    engagement: Option<i64>,
    kind: NotificationKind,
    params: &serde_json::Value,
    key: &str,
    recipients: Vec<(i64, String)>,
) -> Result<usize> {
    let text = params.to_string();
    let now = now_ms();
    let mut sent = 0;
    for (account, email) in recipients {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO notifications (account_id, engagement_id, kind, params, dedupe_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(account)
        .bind(engagement)
        .bind(kind.slug())
        .bind(&text)
        .bind(key)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = id {
            sqlx::query("INSERT INTO mail_outbox (notification_id, to_address, created_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(&email)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            sent += 1;
        }
    }
    Ok(sent)
}

type NotificationRow = (i64, i64, Option<i64>, String, String, i64, Option<i64>);

fn notification(r: NotificationRow) -> Result<Notification> {
    Ok(Notification {
        id: r.0,
        account_id: AccountId(r.1),
        engagement_id: r.2,
        kind: NotificationKind::parse(&r.3)?,
        params: serde_json::from_str(&r.4).map_err(|_| StoreError::Corrupt {
            column: "notifications.params",
            value: r.4.clone(),
        })?,
        created_at_ms: r.5,
        read: r.6.is_some(),
    })
}

impl Store {
    /// The latest notifications of an account (its own only).
    pub async fn notifications_for(
        &self,
        account: AccountId,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let rows: Vec<NotificationRow> = sqlx::query_as(
            "SELECT id, account_id, engagement_id, kind, params, created_at, read_at FROM notifications WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(account.0)
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(notification).collect()
    }

    pub async fn unread_notifications(&self, account: AccountId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND read_at IS NULL",
        )
        .bind(account.0)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Marks all of an account's notifications read.
    pub async fn mark_notifications_read(&self, account: AccountId) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE account_id = $2 AND read_at IS NULL",
        )
        .bind(now_ms())
        .bind(account.0)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// The mail outbox, newest first: the secretariat reads it where no
    /// SMTP server is configured.
    pub async fn outbox(&self, ctx: &AuditContext, limit: i64) -> Result<Vec<OutboxMail>> {
        ctx.require("read the mail outbox", |a| {
            a.org_kind == OrgKind::Secretariat
        })?;
        self.outbox_where("1 = 1", limit).await
    }

    /// `condition` is written by this module only (numbers, never input).
    async fn outbox_where(&self, condition: &str, limit: i64) -> Result<Vec<OutboxMail>> {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i64, String, String, i64, Option<i64>, i64, String, i64, i64, Option<i64>, String, String, i64, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT m.id, m.to_address, a.language, m.created_at, m.sent_at, m.attempts, m.last_error,
                    n.id, n.account_id, n.engagement_id, n.kind, n.params, n.created_at, n.read_at
             FROM mail_outbox m JOIN notifications n ON n.id = m.notification_id JOIN accounts a ON a.id = n.account_id
             WHERE {condition} ORDER BY m.id DESC LIMIT $1"
        )))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(OutboxMail {
                    id: r.0,
                    to_address: r.1,
                    language: r.2,
                    created_at_ms: r.3,
                    sent_at_ms: r.4,
                    attempts: r.5,
                    last_error: r.6,
                    notification: notification((r.7, r.8, r.9, r.10, r.11, r.12, r.13))?,
                })
            })
            .collect()
    }

    /// Claims up to `limit` unsent mails for `lease_ms`: another instance
    /// will not take them meanwhile, and a crashed sender's claim runs out.
    pub async fn claim_mail(&self, limit: i64, lease_ms: i64) -> Result<Vec<OutboxMail>> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM mail_outbox WHERE sent_at IS NULL AND claimed_until < $1 AND attempts < 10 ORDER BY id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::new();
        for id in ids {
            let done = sqlx::query("UPDATE mail_outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id = $2 AND sent_at IS NULL AND claimed_until < $3")
                .bind(now + lease_ms)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                claimed.push(id);
            }
        }
        tx.commit().await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let list = crate::db::id_list(&claimed);
        let mut mails = self
            .outbox_where(&format!("m.id IN ({list})"), claimed.len() as i64)
            .await?;
        mails.reverse();
        Ok(mails)
    }

    /// Records the outcome of sending one mail.
    pub async fn finish_mail(&self, id: i64, error: Option<&str>) -> Result<()> {
        match error {
            None => sqlx::query("UPDATE mail_outbox SET sent_at = $1, last_error = '' WHERE id = $2").bind(now_ms()).bind(id),
            Some(e) => sqlx::query("UPDATE mail_outbox SET claimed_until = 0, last_error = $1 WHERE id = $2 AND $1 IS NOT NULL")
                .bind(e.chars().take(500).collect::<String>())
                .bind(id),
        }
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Notifies deadlines that approach (within a week) or have passed,
    /// once each per account. Returns how many notifications were made.
    pub async fn check_deadlines(&self) -> Result<usize> {
        let today = self.today();
        // Requests past their due day lapse first: they are not also
        // reported as overdue deadlines.
        let (_, mut made) = self.lapse_overdue_notifying().await?;
        let operator = AuditContext::operator("deadline check");
        let rows = self
            .engagement_overview(&operator, &EngagementFilter::default())
            .await?;
        for row in rows {
            let e = &row.engagement;
            let due: Vec<_> = row
                .deadlines
                .iter()
                .filter_map(|d| match d.status(today) {
                    DeadlineStatus::DueSoon(_) => Some((d, NotificationKind::DeadlineSoon, "soon")),
                    DeadlineStatus::Overdue(_) => {
                        Some((d, NotificationKind::DeadlineOverdue, "overdue"))
                    }
                    _ => None,
                })
                .collect();
            if due.is_empty() {
                continue;
            }
            // One transaction per engagement: its notifications land together.
            let mut tx = self.begin_write().await?;
            for (d, kind, label) in due {
                let what = d.milestone.map(|m| m.slug()).unwrap_or(d.kind.slug());
                let key = format!("deadline:{}:{}:{}:{label}", e.id, what, iso_day(d.due));
                made += notify_engagement(
                    &mut tx,
                    e,
                    kind,
                    serde_json::json!({"deadline": d.kind, "milestone": d.milestone, "due": iso_day(d.due)}),
                    &key,
                    true,
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok(made)
    }
}
