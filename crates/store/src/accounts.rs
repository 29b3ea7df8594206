//! Accounts, logins, lock-out and the TOTP second factor.

use crate::audit::{AuditContext, append, audit_account};
use crate::credentials::{self, check_totp, hash_password, verify_password};
use crate::db::Tx;
use crate::error::corrupt;
use crate::secret_key::is_sealed;
use crate::tokens::revoke_all_tokens;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::organisation::{Language, OrgKind, Role};
use mamori_domain::policy::{Access, Actor, may_access_organisation};
use mamori_domain::validate;
use mamori_domain::{AccountId, OrgId};
use serde::Serialize;
use sqlx::AssertSqlSafe;

/// Consecutive failures (password or second factor) before an account locks.
pub const LOCKOUT_THRESHOLD: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// Failed logins one client address may make per window, across instances.
pub const THROTTLE_ATTEMPTS: i64 = 30;
pub const THROTTLE_WINDOW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub org_id: OrgId,
    pub org_kind: OrgKind,
    pub org_name: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub language: Language,
    pub totp_enabled: bool,
    pub locked_until_ms: Option<i64>,
    pub disabled: bool,
    pub created_at_ms: i64,
}

impl Account {
    /// The account as the access policy sees it.
    pub fn actor(&self) -> Actor {
        Actor {
            account: self.id,
            org: self.org_id,
            org_kind: self.org_kind,
            role: self.role,
        }
    }

    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until_ms.is_some_and(|until| until > now)
    }
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub org: OrgId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub language: Language,
    pub password: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: i64,
    org_id: i64,
    org_kind: String,
    org_name: String,
    email: String,
    display_name: String,
    role: String,
    language: String,
    totp_enabled: i64,
    locked_until: Option<i64>,
    disabled: i64,
    created_at: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self> {
        Ok(Account {
            id: AccountId(r.id),
            org_id: OrgId(r.org_id),
            org_kind: OrgKind::parse(&r.org_kind).map_err(corrupt("organisations.kind"))?,
            org_name: r.org_name,
            email: r.email,
            display_name: r.display_name,
            role: Role::parse(&r.role).map_err(corrupt("accounts.role"))?,
            language: Language::parse(&r.language).map_err(corrupt("accounts.language"))?,
            totp_enabled: r.totp_enabled != 0,
            locked_until_ms: r.locked_until,
            disabled: r.disabled != 0,
            created_at_ms: r.created_at,
        })
    }
}

pub(crate) const ACCOUNT_SELECT: &str = "SELECT a.id, a.org_id, o.kind AS org_kind, o.name AS org_name, a.email, a.display_name, a.role, a.language, a.totp_enabled, a.locked_until, a.disabled, a.created_at FROM accounts a JOIN organisations o ON o.id = a.org_id";

/// The result of checking an e-mail and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Password right and no second factor: log in.
    Success(Account),
    /// Password right; the TOTP code (or a recovery code) must follow.
    SecondFactorRequired(Account),
    /// Wrong e-mail or password (one answer for both).
    Failed,
    /// Too many failures: locked until the given time.
    LockedOut,
    /// Too many attempts from this client address.
    Throttled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactorOutcome {
    Accepted,
    Wrong,
    LockedOut,
}

/// A TOTP secret waiting to be confirmed with a first code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    pub secret: String,
    pub otpauth_url: String,
}

/// What a sealed TOTP secret is bound to: its account.
fn totp_context(id: AccountId) -> String {
    format!("account:{}:totp", id.0)
}

struct Secrets {
    password_hash: String,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
}

impl Store {
    /// Creates an account in an organisation. Secretariat, the
    /// organisation's admins, or the operator.
    pub async fn create_account(&self, ctx: &AuditContext, new: NewAccount) -> Result<Account> {
        ctx.require("create accounts in this organisation", |a| {
            may_access_organisation(a, new.org, Access::Write)
        })?;
        let email = validate::email(&new.email)?;
        let name = validate::display_name("display_name", &new.display_name)?;
        validate::new_password(&new.password)?;
        let org = self.organisation(new.org).await?;
        let hash = hash_password(&new.password).await?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (org_id, email, display_name, role, password_hash, language, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(org.id.0)
        .bind(&email)
        .bind(&name)
        .bind(new.role.slug())
        .bind(&hash)
        .bind(new.language.slug())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::on_unique("account", &email))?;
        append(
            &mut tx,
            ctx,
            AuditAction::AccountCreated,
            format!("account:{id}"),
            (org.kind == OrgKind::Hospital).then_some(org.id),
            format!("email={email} org={} role={}", org.id, new.role),
        )
        .await?;
        tx.commit().await?;
        self.account(AccountId(id)).await
    }

    pub async fn account(&self, id: AccountId) -> Result<Account> {
        sqlx::query_as::<_, AccountRow>(AssertSqlSafe(format!("{ACCOUNT_SELECT} WHERE a.id = $1")))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "account",
                key: id.to_string(),
            })?
            .try_into()
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Account> {
        let email = email.trim().to_lowercase();
        sqlx::query_as::<_, AccountRow>(AssertSqlSafe(format!(
            "{ACCOUNT_SELECT} WHERE a.email = $1"
        )))
        .bind(&email)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound {
            what: "account",
            key: email,
        })?
        .try_into()
    }

    /// Accounts of one organisation, if `actor` may read that organisation.
    pub async fn accounts_of(&self, actor: &Actor, org: OrgId) -> Result<Vec<Account>> {
        if !may_access_organisation(actor, org, Access::Read) {
            return Err(StoreError::Forbidden("accounts of this organisation"));
        }
        sqlx::query_as::<_, AccountRow>(AssertSqlSafe(format!(
            "{ACCOUNT_SELECT} WHERE a.org_id = $1 ORDER BY a.display_name"
        )))
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Account::try_from)
        .collect()
    }

    async fn secrets(&self, id: AccountId) -> Result<Secrets> {
        let row: (String, Option<String>, Option<i64>) = sqlx::query_as(
            "SELECT password_hash, totp_secret, totp_last_step FROM accounts WHERE id = $1",
        )
        .bind(id.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(Secrets {
            password_hash: row.0,
            totp_secret: row.1.map(|s| self.open_totp_secret(id, &s)).transpose()?,
            totp_last_step: row.2,
        })
    }

    /// A stored TOTP secret as the authenticator knows it.
    fn open_totp_secret(&self, id: AccountId, stored: &str) -> Result<String> {
        match self.secret_key() {
            Some(key) => key.open(stored, &totp_context(id)),
            None if is_sealed(stored) => Err(StoreError::BadSecretKey(
                "TOTP secrets are sealed but no secret key is configured (MAMORI_SECRET_KEY or MAMORI_SECRET_KEY_FILE)".to_string(),
            )),
            None => Ok(stored.to_string()),
        }
    }

    /// A TOTP secret as it is stored: sealed when a key is configured.
    fn seal_totp_secret(&self, id: AccountId, plain: &str) -> Result<String> {
        match self.secret_key() {
            Some(key) => key.seal(plain, &totp_context(id)),
            None => Ok(plain.to_string()),
        }
    }

    /// Seals the TOTP secrets stored before a key was configured; returns
    /// how many. Run at start-up, so no plain secret outlives an upgrade.
    pub async fn seal_plain_totp_secrets(&self) -> Result<usize> {
        if self.secret_key().is_none() {
            return Ok(0);
        }
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, totp_secret FROM accounts WHERE totp_secret IS NOT NULL")
                .fetch_all(&self.pool)
                .await?;
        let mut sealed = 0;
        for (id, stored) in rows.into_iter().filter(|(_, s)| !is_sealed(s)) {
            let value = self.seal_totp_secret(AccountId(id), &stored)?;
            // Only if unchanged meanwhile (an enrolment in between wins).
            sealed += sqlx::query(
                "UPDATE accounts SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3",
            )
            .bind(value)
            .bind(id)
            .bind(&stored)
            .execute(&self.pool)
            .await?
            .rows_affected() as usize;
        }
        Ok(sealed)
    }

    /// Whether `client_key` has used up its failures for the current window.
    async fn address_throttled(&self, client_key: &str) -> Result<bool> {
        let current: Option<(i64, i64)> = sqlx::query_as(
            "SELECT window_start, attempts FROM login_throttle WHERE client_key = $1",
        )
        .bind(client_key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(current.is_some_and(|(start, attempts)| {
            now_ms() - start < THROTTLE_WINDOW_MS && attempts >= THROTTLE_ATTEMPTS
        }))
    }

    /// A refused login that concerns no account (unknown e-mail, throttled):
    /// counted against the address and audited in one transaction. While an
    /// address is throttled only its first refusal is written, so a flood
    /// cannot fill the log.
    async fn refuse_anonymous(
        &self,
        ctx: &AuditContext,
        address: &str,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let attempts = count_address_failure(&mut tx, address).await?;
        if detail != "throttled" || attempts == THROTTLE_ATTEMPTS + 1 {
            append(
                &mut tx,
                ctx,
                AuditAction::LoginFailed,
                "login",
                None,
                detail,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a failure; locks the account when the threshold is reached.
    async fn count_failure(
        &self,
        ctx: &AuditContext,
        account: &Account,
        action: AuditAction,
        address: Option<&str>,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        if let Some(address) = address {
            count_address_failure(&mut tx, address).await?;
        }
        let failures: i64 = sqlx::query_scalar(
            "UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
        )
        .bind(account.id.0)
        .fetch_one(&mut *tx)
        .await?;
        audit_account(
            &mut tx,
            ctx,
            action,
            account.id,
            format!("failures={failures}"),
        )
        .await?;
        let locked = failures >= LOCKOUT_THRESHOLD;
        if locked {
            sqlx::query("UPDATE accounts SET locked_until = $1, failed_logins = 0 WHERE id = $2")
                .bind(now + LOCKOUT_MS)
                .bind(account.id.0)
                .execute(&mut *tx)
                .await?;
            audit_account(
                &mut tx,
                ctx,
                AuditAction::LoginLockedOut,
                account.id,
                format!("minutes={}", LOCKOUT_MS / 60_000),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(locked)
    }

    /// Checks e-mail and password. Every outcome is audited; wrong e-mail,
    /// wrong password and a locked account look the same from outside (the
    /// lock shows only in the audit log and to administrators).
    pub async fn check_login(
        &self,
        email: &str,
        password: &str,
        client_addr: Option<&str>,
    ) -> Result<LoginOutcome> {
        // What the visitor typed is kept for the audit log, cut to the
        // longest e-mail address there can be.
        let label: String = email.trim().to_lowercase().chars().take(254).collect();
        let anonymous = AuditContext {
            actor: None,
            actor_label: label.clone(),
            client_addr: client_addr.map(str::to_string),
        };
        let address = format!("addr:{}", client_addr.unwrap_or("unknown"));
        if self.address_throttled(&address).await? {
            self.refuse_anonymous(&anonymous, &address, "throttled")
                .await?;
            return Ok(LoginOutcome::Throttled);
        }
        let account = match self.account_by_email(&label).await {
            Ok(a) => a,
            Err(StoreError::NotFound { .. }) => {
                verify_password(None, password).await;
                self.refuse_anonymous(&anonymous, &address, "unknown e-mail")
                    .await?;
                return Ok(LoginOutcome::Failed);
            }
            Err(e) => return Err(e),
        };
        let ctx = AuditContext {
            actor: Some(account.actor()),
            ..anonymous
        };
        // The hash is always checked, so no state of the account answers faster.
        let secrets = self.secrets(account.id).await?;
        let password_right = verify_password(Some(secrets.password_hash), password).await;
        if account.is_locked(now_ms()) {
            let mut tx = self.begin_write().await?;
            count_address_failure(&mut tx, &address).await?;
            audit_account(
                &mut tx,
                &ctx,
                AuditAction::LoginFailed,
                account.id,
                "locked",
            )
            .await?;
            tx.commit().await?;
            return Ok(LoginOutcome::LockedOut);
        }
        if account.disabled || !password_right {
            let locked = self
                .count_failure(&ctx, &account, AuditAction::LoginFailed, Some(&address))
                .await?;
            return Ok(if locked {
                LoginOutcome::LockedOut
            } else {
                LoginOutcome::Failed
            });
        }
        if account.totp_enabled {
            return Ok(LoginOutcome::SecondFactorRequired(account));
        }
        let mut tx = self.begin_write().await?;
        login_succeeded(&mut tx, &ctx, &account, "password").await?;
        tx.commit().await?;
        Ok(LoginOutcome::Success(account))
    }

    /// Checks a TOTP code or a recovery code for an account whose password
    /// was right. A used TOTP step or recovery code is never accepted again.
    pub async fn check_second_factor(
        &self,
        ctx: &AuditContext,
        account: &Account,
        code: &str,
    ) -> Result<SecondFactorOutcome> {
        let account = self.account(account.id).await?;
        if account.is_locked(now_ms()) {
            return Ok(SecondFactorOutcome::LockedOut);
        }
        let secrets = self.secrets(account.id).await?;
        let totp_step = secrets
            .totp_secret
            .as_deref()
            .and_then(|secret| check_totp(secret, code, unix_seconds(), secrets.totp_last_step));
        let mut tx = self.begin_write().await?;
        let accepted = match totp_step {
            // The step only moves forward, so a replay in a race is refused too.
            Some(step) => sqlx::query("UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)")
                .bind(step)
                .bind(account.id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1,
            None => use_recovery_code(&mut tx, ctx, &account, code).await?,
        };
        if accepted {
            let how = if totp_step.is_some() {
                "password+totp"
            } else {
                "password+recovery-code"
            };
            login_succeeded(&mut tx, ctx, &account, how).await?;
            tx.commit().await?;
            return Ok(SecondFactorOutcome::Accepted);
        }
        tx.rollback().await?;
        if self
            .count_failure(ctx, &account, AuditAction::SecondFactorFailed, None)
            .await?
        {
            Ok(SecondFactorOutcome::LockedOut)
        } else {
            Ok(SecondFactorOutcome::Wrong)
        }
    }

    /// Unused recovery codes left.
    pub async fn recovery_codes_left(&self, account: AccountId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL",
        )
        .bind(account.0)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Starts TOTP enrolment: stores a new secret, not yet in force.
    pub async fn begin_totp_enrolment(
        &self,
        ctx: &AuditContext,
        account: &Account,
    ) -> Result<TotpEnrolment> {
        let secret = credentials::new_totp_secret();
        let stored = self.seal_totp_secret(account.id, &secret)?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET totp_secret = $1, totp_enabled = 0, totp_last_step = NULL WHERE id = $2 AND totp_enabled = 0")
            .bind(&stored)
            .bind(account.id.0)
            .execute(&mut *tx)
            .await?;
        audit_account(
            &mut tx,
            ctx,
            AuditAction::TotpEnrolmentStarted,
            account.id,
            "",
        )
        .await?;
        tx.commit().await?;
        let otpauth_url = credentials::totp_url(&secret, &account.email)?;
        Ok(TotpEnrolment {
            secret,
            otpauth_url,
        })
    }

    /// The secret waiting for confirmation, if any.
    pub async fn pending_totp_enrolment(&self, account: &Account) -> Result<Option<TotpEnrolment>> {
        if account.totp_enabled {
            return Ok(None);
        }
        match self.secrets(account.id).await?.totp_secret {
            Some(secret) => {
                let otpauth_url = credentials::totp_url(&secret, &account.email)?;
                Ok(Some(TotpEnrolment {
                    secret,
                    otpauth_url,
                }))
            }
            None => Ok(None),
        }
    }

    /// Confirms enrolment with a first code; returns the recovery codes,
    /// shown once.
    pub async fn confirm_totp(
        &self,
        ctx: &AuditContext,
        account: &Account,
        code: &str,
    ) -> Result<Option<Vec<String>>> {
        let secrets = self.secrets(account.id).await?;
        let Some(secret) = secrets.totp_secret else {
            return Ok(None);
        };
        let unix = unix_seconds();
        let Some(step) = check_totp(&secret, code, unix, secrets.totp_last_step) else {
            return Ok(None);
        };
        let codes = credentials::new_recovery_codes();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET totp_enabled = 1, totp_last_step = $1, updated_at = $2 WHERE id = $3")
            .bind(step)
            .bind(now_ms())
            .bind(account.id.0)
            .execute(&mut *tx)
            .await?;
        Self::replace_recovery_codes(&mut tx, account.id, &codes).await?;
        audit_account(&mut tx, ctx, AuditAction::TotpEnabled, account.id, "").await?;
        tx.commit().await?;
        Ok(Some(codes))
    }

    async fn replace_recovery_codes(
        tx: &mut crate::db::Tx,
        account: AccountId,
        codes: &[String],
    ) -> Result<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account.0)
            .execute(&mut **tx)
            .await?;
        for code in codes {
            sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
                .bind(account.0)
                .bind(credentials::token_hash(
                    &credentials::normalise_recovery_code(code),
                ))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// New recovery codes; the old ones stop working.
    pub async fn regenerate_recovery_codes(
        &self,
        ctx: &AuditContext,
        account: &Account,
    ) -> Result<Vec<String>> {
        let codes = credentials::new_recovery_codes();
        let mut tx = self.begin_write().await?;
        Self::replace_recovery_codes(&mut tx, account.id, &codes).await?;
        audit_account(
            &mut tx,
            ctx,
            AuditAction::RecoveryCodesRegenerated,
            account.id,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turns the second factor off after checking the password.
    pub async fn disable_totp(
        &self,
        ctx: &AuditContext,
        account: &Account,
        password: &str,
    ) -> Result<bool> {
        let secrets = self.secrets(account.id).await?;
        if !verify_password(Some(secrets.password_hash), password).await {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET totp_enabled = 0, totp_secret = NULL, totp_last_step = NULL WHERE id = $1")
            .bind(account.id.0)
            .execute(&mut *tx)
            .await?;
        Self::replace_recovery_codes(&mut tx, account.id, &[]).await?;
        audit_account(&mut tx, ctx, AuditAction::TotpDisabled, account.id, "").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Changes one's own password after checking the current one; other
    /// sessions of the account end.
    pub async fn change_password(
        &self,
        ctx: &AuditContext,
        account: &Account,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<bool> {
        validate::new_password(new)?;
        let secrets = self.secrets(account.id).await?;
        if !verify_password(Some(secrets.password_hash), current).await {
            return Ok(false);
        }
        let hash = hash_password(new).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(&hash)
            .bind(now_ms())
            .bind(account.id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2")
            .bind(account.id.0)
            .bind(
                keep_session
                    .map(credentials::token_hash)
                    .unwrap_or_default(),
            )
            .execute(&mut *tx)
            .await?;
        audit_account(&mut tx, ctx, AuditAction::PasswordChanged, account.id, "").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// An administrator sets a new password (generated when `None`, and
    /// returned to be handed over once). Unlocks the account and ends its
    /// sessions.
    pub async fn reset_password(
        &self,
        ctx: &AuditContext,
        account: AccountId,
        new: Option<String>,
    ) -> Result<String> {
        let target = self.account_to_manage(ctx, account).await?;
        let password = new.unwrap_or_else(|| credentials::random_token(12));
        validate::new_password(&password)?;
        let hash = hash_password(&password).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET password_hash = $1, failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $3")
            .bind(&hash)
            .bind(now_ms())
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        // A reset follows a suspected compromise: the account's API tokens end too.
        revoke_all_tokens(&mut tx, account).await?;
        audit_account(
            &mut tx,
            ctx,
            AuditAction::PasswordReset,
            account,
            format!("email={}", target.email),
        )
        .await?;
        tx.commit().await?;
        Ok(password)
    }

    /// An account the actor may manage; an unknown id and someone else's
    /// account get the same refusal, so ids cannot be probed.
    async fn account_to_manage(&self, ctx: &AuditContext, id: AccountId) -> Result<Account> {
        let refused = StoreError::Forbidden("manage accounts of this organisation");
        let target = match self.account(id).await {
            Ok(a) => a,
            Err(StoreError::NotFound { .. }) if ctx.actor.is_some() => return Err(refused),
            Err(e) => return Err(e),
        };
        ctx.require("manage accounts of this organisation", |a| {
            may_access_organisation(a, target.org_id, Access::Write)
        })?;
        Ok(target)
    }

    /// Lifts a lock-out early.
    pub async fn unlock_account(&self, ctx: &AuditContext, account: AccountId) -> Result<()> {
        self.account_to_manage(ctx, account).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        audit_account(&mut tx, ctx, AuditAction::AccountUnlocked, account, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// The language of one's screens.
    pub async fn set_language(
        &self,
        ctx: &AuditContext,
        account: &Account,
        language: Language,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET language = $1, updated_at = $2 WHERE id = $3")
            .bind(language.slug())
            .bind(now_ms())
            .bind(account.id.0)
            .execute(&mut *tx)
            .await?;
        audit_account(
            &mut tx,
            ctx,
            AuditAction::PreferencesChanged,
            account.id,
            format!("language={language}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Clears the failure count and records the login, in the caller's transaction.
async fn login_succeeded(
    tx: &mut Tx,
    ctx: &AuditContext,
    account: &Account,
    how: &str,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(account.id.0)
        .execute(&mut **tx)
        .await?;
    audit_account(tx, ctx, AuditAction::LoginSucceeded, account.id, how).await?;
    Ok(())
}

/// Counts one failed login from `client_key` (successes do not count, so a
/// hospital behind one address is not throttled for logging in); returns the
/// failures in the current window.
async fn count_address_failure(tx: &mut Tx, client_key: &str) -> Result<i64> {
    let now = now_ms();
    Ok(sqlx::query_scalar(
        "INSERT INTO login_throttle (client_key, window_start, attempts) VALUES ($1, $2, 1)
         ON CONFLICT (client_key) DO UPDATE SET
           attempts = CASE WHEN login_throttle.window_start > $3 THEN login_throttle.attempts + 1 ELSE 1 END,
           window_start = CASE WHEN login_throttle.window_start > $3 THEN login_throttle.window_start ELSE $2 END
         RETURNING attempts",
    )
    .bind(client_key)
    .bind(now)
    .bind(now - THROTTLE_WINDOW_MS)
    .fetch_one(&mut **tx)
    .await?)
}

/// Seconds since the epoch, for TOTP.
fn unix_seconds() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

/// Marks a recovery code used, in the caller's transaction.
async fn use_recovery_code(
    tx: &mut Tx,
    ctx: &AuditContext,
    account: &Account,
    code: &str,
) -> Result<bool> {
    let normalised = credentials::normalise_recovery_code(code);
    if normalised.len() != 12 {
        return Ok(false);
    }
    let used = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL")
        .bind(now_ms())
        .bind(account.id.0)
        .bind(credentials::token_hash(&normalised))
        .execute(&mut **tx)
        .await?;
    if used.rows_affected() == 1 {
        audit_account(tx, ctx, AuditAction::RecoveryCodeUsed, account.id, "").await?;
    }
    Ok(used.rows_affected() == 1)
}
