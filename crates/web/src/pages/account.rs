//! "My account": language, password, second factor, sessions, API tokens.

use super::{Chrome, Done};
use crate::error::WebError;
use crate::format;
use crate::session::{SESSION_COOKIE, Signed, cookie};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use mamori_domain::organisation::Language;
use mamori_store::{Account, StoreError};
use serde::Deserialize;

pub struct Enrolment {
    secret: String,
    qr_svg: String,
}

pub struct SessionRow {
    handle: String,
    created: String,
    last_seen: String,
    client: String,
    agent: String,
    current: bool,
}

pub struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    created: String,
    used: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    chrome: Chrome,
    me: Account,
    kind_label: String,
    role_label: String,
    enrolment: Option<Enrolment>,
    codes_left: i64,
    recovery_codes: Option<Vec<String>>,
    sessions: Vec<SessionRow>,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    error: Option<String>,
}

/// The otpauth URL as an SVG QR code, drawn here (no external service).
fn qr_svg(url: &str) -> Result<String, WebError> {
    let code =
        qrcode::QrCode::new(url.as_bytes()).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

#[derive(Default)]
struct Extras {
    recovery_codes: Option<Vec<String>>,
    new_token: Option<String>,
    error: Option<String>,
    done: Option<String>,
}

async fn account_page(
    state: &AppState,
    who: &Signed,
    extras: Extras,
) -> Result<AccountPage, WebError> {
    let store = &state.store;
    let me = store.account(who.account.id).await?;
    let tr = translator_for(&me);
    let enrolment = match store.pending_totp_enrolment(&me).await? {
        Some(e) => Some(Enrolment {
            qr_svg: qr_svg(&e.otpauth_url)?,
            secret: e.secret,
        }),
        None => None,
    };
    let current = mamori_store::credentials::token_hash(&who.session_token);
    let mut who = who.clone();
    who.tr = tr;
    Ok(AccountPage {
        chrome: Chrome::page(state, &who, "/account")
            .await?
            .with_notice(&extras.done),
        kind_label: tr.value("kind", me.org_kind.slug()),
        role_label: tr.value("role", me.role.slug()),
        enrolment,
        codes_left: store.recovery_codes_left(me.id).await?,
        recovery_codes: extras.recovery_codes,
        sessions: store
            .sessions_of(me.id)
            .await?
            .into_iter()
            .map(|s| SessionRow {
                current: current.starts_with(&s.handle),
                created: format::minutes(s.created_at_ms),
                last_seen: format::minutes(s.last_seen_at_ms),
                client: s.client_addr.unwrap_or_default(),
                agent: s.user_agent.unwrap_or_default(),
                handle: s.handle,
            })
            .collect(),
        tokens: store
            .api_tokens_of(me.id)
            .await?
            .into_iter()
            .map(|t| TokenRow {
                id: t.id,
                name: t.name,
                prefix: t.prefix,
                created: format::minutes(t.created_at_ms),
                used: format::optional_minutes(t.last_used_at_ms),
            })
            .collect(),
        new_token: extras.new_token,
        error: extras.error,
        me,
    })
}

/// The language just saved applies to this very page.
fn translator_for(me: &Account) -> crate::i18n::Tr {
    crate::i18n::Tr::new(me.language)
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<AccountPage, WebError> {
    account_page(
        &state,
        &who,
        Extras {
            done: done.done,
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct LanguageForm {
    language: String,
}

pub async fn set_language(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<LanguageForm>,
) -> Result<Redirect, WebError> {
    let language =
        Language::parse(&form.language).map_err(|e| WebError::BadRequest(e.to_string()))?;
    state
        .store
        .set_language(&who.ctx, &who.account, language)
        .await?;
    Ok(Redirect::to("/account?done=saved"))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let error = match state
        .store
        .change_password(
            &who.ctx,
            &who.account,
            &form.current,
            &form.new,
            Some(&who.session_token),
        )
        .await
    {
        Ok(true) => return Ok(Redirect::to("/account?done=password_changed").into_response()),
        Ok(false) => who.tr.t("account.current_wrong").to_string(),
        Err(StoreError::Invalid(e)) => e.to_string(),
        Err(e) => return Err(e.into()),
    };
    let page = account_page(
        &state,
        &who,
        Extras {
            error: Some(error),
            ..Default::default()
        },
    )
    .await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub async fn totp_begin(State(state): State<AppState>, who: Signed) -> Result<Redirect, WebError> {
    state
        .store
        .begin_totp_enrolment(&who.ctx, &who.account)
        .await?;
    Ok(Redirect::to("/account#totp"))
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    match state
        .store
        .confirm_totp(&who.ctx, &who.account, &form.code)
        .await?
    {
        Some(codes) => Ok(account_page(
            &state,
            &who,
            Extras {
                recovery_codes: Some(codes),
                done: Some("totp_enabled".into()),
                ..Default::default()
            },
        )
        .await?
        .into_response()),
        None => {
            let page = account_page(
                &state,
                &who,
                Extras {
                    error: Some(who.tr.t("totp.wrong").to_string()),
                    ..Default::default()
                },
            )
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordOnly {
    password: String,
}

pub async fn totp_disable(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<PasswordOnly>,
) -> Result<Response, WebError> {
    if state
        .store
        .disable_totp(&who.ctx, &who.account, &form.password)
        .await?
    {
        return Ok(Redirect::to("/account?done=totp_disabled").into_response());
    }
    let page = account_page(
        &state,
        &who,
        Extras {
            error: Some(who.tr.t("account.current_wrong").to_string()),
            ..Default::default()
        },
    )
    .await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub async fn regenerate_codes(
    State(state): State<AppState>,
    who: Signed,
) -> Result<AccountPage, WebError> {
    let codes = state
        .store
        .regenerate_recovery_codes(&who.ctx, &who.account)
        .await?;
    account_page(
        &state,
        &who,
        Extras {
            recovery_codes: Some(codes),
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct HandleForm {
    handle: String,
}

pub async fn revoke_session(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<HandleForm>,
) -> Result<Redirect, WebError> {
    state
        .store
        .revoke_session(&who.ctx, who.account.id, &form.handle)
        .await?;
    Ok(Redirect::to("/account?done=session_revoked#sessions"))
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    who: Signed,
    jar: CookieJar,
) -> Result<Response, WebError> {
    state
        .store
        .end_all_sessions(&who.ctx, who.account.id)
        .await?;
    Ok((
        jar.remove(cookie(SESSION_COOKIE, String::new(), state.config.tls)),
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    who: Signed,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    match state
        .store
        .create_api_token(&who.ctx, who.account.id, &form.name)
        .await
    {
        Ok((token, _)) => Ok(account_page(
            &state,
            &who,
            Extras {
                new_token: Some(token),
                ..Default::default()
            },
        )
        .await?
        .into_response()),
        Err(StoreError::Invalid(e)) => {
            let page = account_page(
                &state,
                &who,
                Extras {
                    error: Some(e.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
) -> Result<Redirect, WebError> {
    state
        .store
        .revoke_api_token(&who.ctx, who.account.id, id)
        .await?;
    Ok(Redirect::to("/account?done=token_revoked#tokens"))
}
