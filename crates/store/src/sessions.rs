//! Sessions live in the database so that any instance can serve any request.

use crate::accounts::Account;
use crate::audit::{AuditContext, append, audit_account};
use crate::credentials::{random_token, token_hash};
use crate::db::Tx;
use crate::db::flag;
use crate::tokens::revoke_all_tokens;
use crate::{Result, Store, now_ms};
use mamori_domain::AccountId;
use mamori_domain::audit::AuditAction;

/// A session ends this long after it began, however active.
pub const SESSION_ABSOLUTE_MS: i64 = 12 * 60 * 60 * 1000;
/// …or this long after its last request.
pub const SESSION_IDLE_MS: i64 = 2 * 60 * 60 * 1000;
/// A session waiting for its second factor expires quickly.
pub const SECOND_FACTOR_WINDOW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The cookie value; only its hash is stored.
    pub token: String,
    pub account: Account,
    pub csrf_token: String,
    pub second_factor_pending: bool,
}

/// A session as listed on "my account".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    /// Short, non-secret handle (the start of the stored hash).
    pub handle: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_hash: String,
    created_at: i64,
    last_seen_at: i64,
    client_addr: Option<String>,
    user_agent: Option<String>,
}

/// Inserts a new session in the caller's transaction and sweeps expired ones
/// (here rather than by a timer, so no instance needs a background job).
async fn insert_session(
    tx: &mut Tx,
    account: &Account,
    second_factor_pending: bool,
    client_addr: Option<&str>,
    user_agent: Option<&str>,
) -> Result<Session> {
    let token = random_token(32);
    let csrf = random_token(24);
    let now = now_ms();
    let lifetime = if second_factor_pending {
        SECOND_FACTOR_WINDOW_MS
    } else {
        SESSION_ABSOLUTE_MS
    };
    sqlx::query("INSERT INTO sessions (id_hash, account_id, csrf_token, second_factor_pending, created_at, last_seen_at, expires_at, client_addr, user_agent) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)")
        .bind(token_hash(&token))
        .bind(account.id.0)
        .bind(&csrf)
        .bind(flag(second_factor_pending))
        .bind(now)
        .bind(now + lifetime)
        .bind(client_addr)
        .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2")
        .bind(now)
        .bind(now - SESSION_IDLE_MS)
        .execute(&mut **tx)
        .await?;
    Ok(Session {
        token,
        account: account.clone(),
        csrf_token: csrf,
        second_factor_pending,
    })
}

impl Store {
    pub async fn create_session(
        &self,
        account: &Account,
        second_factor_pending: bool,
        client_addr: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<Session> {
        let mut tx = self.begin_write().await?;
        let session = insert_session(
            &mut tx,
            account,
            second_factor_pending,
            client_addr,
            user_agent,
        )
        .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// After the second factor: the half-authenticated session is replaced
    /// by a full one with a new id, in one transaction.
    pub async fn complete_second_factor(
        &self,
        pending: &Session,
        client_addr: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<Session> {
        let mut tx = self.begin_write().await?;
        let gone =
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND second_factor_pending = 1")
                .bind(token_hash(&pending.token))
                .execute(&mut *tx)
                .await?;
        if gone.rows_affected() != 1 {
            return Err(crate::StoreError::Forbidden(
                "no session waiting for a second factor",
            ));
        }
        let session =
            insert_session(&mut tx, &pending.account, false, client_addr, user_agent).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// The live session for a cookie value, if any. Touches it at most once a minute.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let now = now_ms();
        let hash = token_hash(token);
        let row: Option<(i64, String, i64, i64, i64)> = sqlx::query_as("SELECT account_id, csrf_token, second_factor_pending, last_seen_at, expires_at FROM sessions WHERE id_hash = $1")
            .bind(&hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some((account_id, csrf, pending, last_seen, expires)) = row else {
            return Ok(None);
        };
        if expires < now || last_seen < now - SESSION_IDLE_MS {
            return Ok(None);
        }
        let account = match self.account(AccountId(account_id)).await {
            Ok(account) => account,
            Err(crate::StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if account.disabled {
            return Ok(None);
        }
        if now - last_seen > 60_000 {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Session {
            token: token.to_string(),
            account,
            csrf_token: csrf,
            second_factor_pending: pending != 0,
        }))
    }

    pub async fn end_session(&self, ctx: &AuditContext, token: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(token_hash(token))
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() > 0 {
            let target = ctx
                .actor
                .map(|a| format!("account:{}", a.account))
                .unwrap_or_default();
            append(&mut tx, ctx, AuditAction::Logout, target, None, "").await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// "Log out everywhere": every session of the account ends.
    pub async fn end_all_sessions(&self, ctx: &AuditContext, account: AccountId) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        // Tokens are logins too: whoever is thrown out loses them as well.
        revoke_all_tokens(&mut tx, account).await?;
        audit_account(
            &mut tx,
            ctx,
            AuditAction::LogoutEverywhere,
            account,
            format!("sessions={}", gone.rows_affected()),
        )
        .await?;
        tx.commit().await?;
        Ok(gone.rows_affected())
    }

    /// Ends one of one's own sessions by its handle.
    pub async fn revoke_session(
        &self,
        ctx: &AuditContext,
        account: AccountId,
        handle: &str,
    ) -> Result<bool> {
        if handle.len() < 12 || !handle.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_hash LIKE $2")
            .bind(account.0)
            .bind(format!("{handle}%"))
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() > 0 {
            audit_account(
                &mut tx,
                ctx,
                AuditAction::SessionRevoked,
                account,
                format!("session={handle}"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(gone.rows_affected() > 0)
    }

    pub async fn sessions_of(&self, account: AccountId) -> Result<Vec<SessionInfo>> {
        let now = now_ms();
        let rows: Vec<SessionRow> = sqlx::query_as("SELECT id_hash, created_at, last_seen_at, client_addr, user_agent FROM sessions WHERE account_id = $1 AND expires_at >= $2 AND last_seen_at >= $3 ORDER BY last_seen_at DESC")
            .bind(account.0)
            .bind(now)
            .bind(now - SESSION_IDLE_MS)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SessionInfo {
                handle: r.id_hash.chars().take(16).collect(),
                created_at_ms: r.created_at,
                last_seen_at_ms: r.last_seen_at,
                client_addr: r.client_addr,
                user_agent: r.user_agent,
            })
            .collect())
    }
}
