//! Personal API tokens: shown once, stored as a hash, revocable.

use crate::accounts::{ACCOUNT_SELECT, Account, AccountRow};
use crate::audit::{AuditContext, append};
use crate::credentials::{new_api_token, token_hash};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::AccountId;
use mamori_domain::audit::AuditAction;
use mamori_domain::validate;
use sqlx::{AssertSqlSafe, FromRow, Row};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters, to recognise the token in a list.
    pub prefix: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
}

impl Store {
    /// Creates a token for `account`; returns the token (shown once) and its record.
    pub async fn create_api_token(
        &self,
        ctx: &AuditContext,
        account: AccountId,
        name: &str,
    ) -> Result<(String, ApiToken)> {
        if let Some(actor) = &ctx.actor
            && actor.account != account
        {
            return Err(StoreError::Forbidden("tokens of another account"));
        }
        let name = validate::display_name("name", name)?;
        let token = new_api_token();
        let prefix: String = token.chars().take(12).collect();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO api_tokens (account_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(account.0)
            .bind(&name)
            .bind(token_hash(&token))
            .bind(&prefix)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::TokenCreated,
            format!("api-token:{id}"),
            None,
            format!("account={account} name={name}"),
        )
        .await?;
        tx.commit().await?;
        Ok((
            token,
            ApiToken {
                id,
                name,
                prefix,
                created_at_ms: now,
                last_used_at_ms: None,
            },
        ))
    }

    /// The account a bearer token belongs to, if the token is live. Its
    /// last use is written at most once a minute: every API call reading
    /// something must not also queue for the write lock.
    pub async fn account_for_token(&self, token: &str) -> Result<Option<Account>> {
        let hash = token_hash(token.trim());
        // The account's columns and the token's last use.
        let select = ACCOUNT_SELECT.replacen(
            " FROM accounts",
            ", t.last_used_at AS token_last_used_at FROM accounts",
            1,
        );
        let row = sqlx::query(AssertSqlSafe(format!(
            "{select} JOIN api_tokens t ON t.account_id = a.id WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        )))
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let last_used: Option<i64> = row.try_get("token_last_used_at")?;
        let account: Account = AccountRow::from_row(&row)?.try_into()?;
        if account.disabled {
            return Ok(None);
        }
        let now = now_ms();
        if last_used.is_none_or(|at| now - at > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(account))
    }

    pub async fn api_tokens_of(&self, account: AccountId) -> Result<Vec<ApiToken>> {
        let rows: Vec<(i64, String, String, i64, Option<i64>)> = sqlx::query_as("SELECT id, name, prefix, created_at, last_used_at FROM api_tokens WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC")
            .bind(account.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, prefix, created, used)| ApiToken {
                id,
                name,
                prefix,
                created_at_ms: created,
                last_used_at_ms: used,
            })
            .collect())
    }

    pub async fn revoke_api_token(
        &self,
        ctx: &AuditContext,
        account: AccountId,
        token_id: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(token_id)
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            append(
                &mut tx,
                ctx,
                AuditAction::TokenRevoked,
                format!("api-token:{token_id}"),
                None,
                "",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Revokes every live token of an account, in the caller's transaction.
pub(crate) async fn revoke_all_tokens(tx: &mut crate::db::Tx, account: AccountId) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(account.0)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}
