//! Login, the second factor, logout.

use super::Chrome;
use crate::error::WebError;
use crate::session::{LANGUAGE_COOKIE, SESSION_COOKIE, Visitor, cookie};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use mamori_domain::organisation::Language;
use mamori_store::{LoginOutcome, SecondFactorOutcome};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    chrome: Chrome,
    email: String,
    message: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "second_factor.html")]
pub struct SecondFactorPage {
    chrome: Chrome,
    message: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn login_form(
    visitor: Visitor,
    jar: CookieJar,
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
) -> Response {
    if visitor
        .session
        .as_ref()
        .is_some_and(|s| !s.second_factor_pending)
    {
        return Redirect::to("/dashboard").into_response();
    }
    let chosen = q.lang.as_deref().and_then(|l| Language::parse(l).ok());
    let lang = chosen.unwrap_or(visitor.lang);
    let page = LoginPage {
        chrome: Chrome::anonymous(crate::i18n::Tr::new(lang), visitor.csrf()),
        email: String::new(),
        message: None,
    };
    match chosen {
        Some(l) => (
            jar.add(cookie(
                LANGUAGE_COOKIE,
                l.slug().to_string(),
                state.config.tls,
            )),
            page,
        )
            .into_response(),
        None => page.into_response(),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(USER_AGENT).and_then(|v| v.to_str().ok())
}

pub async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let store = &state.store;
    let outcome = store
        .check_login(&form.email, &form.password, visitor.client_addr.as_deref())
        .await?;
    let (account, pending) = match outcome {
        LoginOutcome::Success(a) => (a, false),
        LoginOutcome::SecondFactorRequired(a) => (a, true),
        failure => {
            let message = match failure {
                LoginOutcome::Throttled => "login.throttled",
                // A lock-out reads like any failure: it would otherwise tell
                // a stranger that the address has an account.
                _ => "login.failed",
            };
            let page = LoginPage {
                chrome: Chrome::anonymous(visitor.tr(), visitor.csrf()),
                email: form.email.trim().to_string(),
                message: Some(message),
            };
            return Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response());
        }
    };
    // A new session id at every login: a planted cookie is worth nothing.
    if let Some(old) = &visitor.session {
        store
            .end_session(&visitor.anonymous_context(&account.email), &old.token)
            .await?;
    }
    let session = store
        .create_session(
            &account,
            pending,
            visitor.client_addr.as_deref(),
            user_agent(&headers),
        )
        .await?;
    let jar = jar.add(cookie(SESSION_COOKIE, session.token, state.config.tls));
    let to = if pending {
        "/login/second-factor"
    } else {
        "/dashboard"
    };
    Ok((jar, Redirect::to(to)).into_response())
}

pub async fn second_factor_form(visitor: Visitor) -> Response {
    match &visitor.session {
        Some(s) if s.second_factor_pending => SecondFactorPage {
            chrome: Chrome::anonymous(visitor.tr(), visitor.csrf()),
            message: None,
        }
        .into_response(),
        Some(_) => Redirect::to("/dashboard").into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn second_factor(
    State(state): State<AppState>,
    visitor: Visitor,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let Some(session) = visitor.session.as_ref().filter(|s| s.second_factor_pending) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(ctx) = visitor.session_context() else {
        return Ok(Redirect::to("/login").into_response());
    };
    match state
        .store
        .check_second_factor(&ctx, &session.account, &form.code)
        .await?
    {
        SecondFactorOutcome::Accepted => {
            let full = state
                .store
                .complete_second_factor(
                    session,
                    visitor.client_addr.as_deref(),
                    user_agent(&headers),
                )
                .await?;
            Ok((
                jar.add(cookie(SESSION_COOKIE, full.token, state.config.tls)),
                Redirect::to("/dashboard"),
            )
                .into_response())
        }
        outcome => {
            let message = if outcome == SecondFactorOutcome::LockedOut {
                "login.locked"
            } else {
                "totp.wrong"
            };
            if outcome == SecondFactorOutcome::LockedOut {
                state.store.end_session(&ctx, &session.token).await?;
            }
            let page = SecondFactorPage {
                chrome: Chrome::anonymous(visitor.tr(), visitor.csrf()),
                message: Some(message),
            };
            Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response())
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    visitor: Visitor,
    jar: CookieJar,
) -> Result<Response, WebError> {
    if let (Some(session), Some(ctx)) = (&visitor.session, visitor.session_context()) {
        state.store.end_session(&ctx, &session.token).await?;
    }
    Ok((
        jar.remove(cookie(SESSION_COOKIE, String::new(), state.config.tls)),
        Redirect::to("/login"),
    )
        .into_response())
}

pub async fn root(visitor: Visitor) -> Redirect {
    match visitor.session {
        Some(_) => Redirect::to("/dashboard"),
        None => Redirect::to("/login"),
    }
}
