//! Who is asking: the session cookie resolved once per request, the
//! language, the client address, and the CSRF check on every form post.

use crate::error::WebError;
use crate::i18n::Tr;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use mamori_domain::organisation::Language;
use mamori_store::{Account, AuditContext, Session};
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "mamori_session";
/// Double-submit token for forms shown before login.
pub const PRESESSION_COOKIE: &str = "mamori_presession";
pub const LANGUAGE_COOKIE: &str = "mamori_lang";
/// Largest form body accepted.
pub const FORM_LIMIT: usize = 1024 * 1024;
/// Largest file-upload form (`multipart/form-data`) accepted: the store's
/// file limit and room for the other fields, so a file just over the limit
/// is refused by the store with its size named.
pub const UPLOAD_LIMIT: usize = mamori_store::MAX_FILE_BYTES + FORM_LIMIT;

/// The request's context, set by [`resolve`] for every page.
#[derive(Clone)]
pub struct Visitor {
    pub session: Option<Session>,
    pub lang: Language,
    pub client_addr: Option<String>,
    pub presession: String,
}

impl Visitor {
    pub fn tr(&self) -> Tr {
        Tr::new(self.lang)
    }

    /// The CSRF token forms must carry.
    pub fn csrf(&self) -> &str {
        match &self.session {
            Some(s) => &s.csrf_token,
            None => &self.presession,
        }
    }

    /// The audit context of the session's account, if there is a session
    /// (second factor done or not).
    pub fn session_context(&self) -> Option<AuditContext> {
        self.session.as_ref().map(|s| {
            AuditContext::for_actor(
                s.account.actor(),
                s.account.email.clone(),
                self.client_addr.clone(),
            )
        })
    }

    pub fn anonymous_context(&self, label: &str) -> AuditContext {
        AuditContext {
            actor: None,
            actor_label: label.to_string(),
            client_addr: self.client_addr.clone(),
        }
    }
}

/// A logged-in person (second factor done, if enabled).
#[derive(Clone)]
pub struct Signed {
    pub account: Account,
    pub session_token: String,
    pub csrf: String,
    pub tr: Tr,
    pub ctx: AuditContext,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| WebError::Internal("visitor missing".into()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let ctx = visitor.session_context();
        match (visitor.session, ctx) {
            (Some(session), Some(ctx)) if !session.second_factor_pending => Ok(Signed {
                ctx,
                tr: Tr::new(session.account.language),
                csrf: session.csrf_token.clone(),
                session_token: session.token.clone(),
                account: session.account,
            }),
            (Some(_), _) => Err(Redirect::to("/login/second-factor").into_response()),
            (None, _) => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// The client's address: the socket's peer, or the first `X-Forwarded-For`
/// entry when the operator said a proxy they run sits in front.
pub fn client_addr(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded: bool,
) -> Option<String> {
    if trust_forwarded
        && let Some(forwarded) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) = forwarded.split(',').next()
        && !first.trim().is_empty()
    {
        return Some(first.trim().to_string());
    }
    peer.map(|p| p.ip().to_string())
}

pub fn cookie(name: &'static str, value: String, tls: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(tls)
        .same_site(SameSite::Lax)
        .build()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Finds the CSRF token a request carries: header or form field (never the
/// query string, which ends up in logs and histories).
fn submitted_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(v) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from =
        |pairs: Vec<(String, String)>| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
    if is_form && let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        return from(pairs);
    }
    multipart_boundary(headers).and_then(|boundary| multipart_field(body, &boundary, "csrf"))
}

/// The boundary of a `multipart/form-data` body (file uploads).
fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = value.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// The text of the part named `name` of a multipart body.
fn multipart_field(body: &[u8], boundary: &str, name: &str) -> Option<String> {
    let delimiter = format!("--{boundary}");
    let wanted = format!("name=\"{name}\"");
    let mut rest = body;
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        rest = &rest[at + delimiter.len()..];
        let Some(head_end) = find(rest, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..head_end]);
        let is_wanted = head.lines().any(|line| {
            let lower = line.to_ascii_lowercase();
            lower.starts_with("content-disposition:") && line.split(';').any(|p| p.trim() == wanted)
        });
        if is_wanted {
            let value = &rest[head_end + 4..];
            let end = find(value, format!("\r\n{delimiter}").as_bytes())?;
            return String::from_utf8(value[..end].to_vec()).ok();
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Resolves the session and language, and refuses any state-changing
/// request whose CSRF token does not match before a handler sees it.
pub async fn resolve(
    State(state): State<AppState>,
    jar: CookieJar,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client = client_addr(&parts.headers, peer, state.config.trust_forwarded_for);
    let session = match jar.get(SESSION_COOKIE) {
        Some(c) => match state.store.session(c.value()).await {
            Ok(s) => s,
            Err(e) => return WebError::from(e).into_response(),
        },
        None => None,
    };
    let (presession, new_presession) = match jar.get(PRESESSION_COOKIE) {
        Some(c) if c.value().len() >= 20 => (c.value().to_string(), false),
        _ => (mamori_store::credentials::random_token(24), true),
    };
    let lang = session
        .as_ref()
        .map(|s| s.account.language)
        .or_else(|| {
            jar.get(LANGUAGE_COOKIE)
                .and_then(|c| Language::parse(c.value()).ok())
        })
        .unwrap_or_default();
    let visitor = Visitor {
        session,
        lang,
        client_addr: client,
        presession: presession.clone(),
    };
    let body = if is_safe(&parts.method) {
        body
    } else {
        let limit = if multipart_boundary(&parts.headers).is_some() {
            UPLOAD_LIMIT
        } else {
            FORM_LIMIT
        };
        let bytes = match to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => {
                let mut response = WebError::BadRequest(format!(
                    "request body too large (limit {} MiB)",
                    limit / (1024 * 1024)
                ))
                .into_response();
                *response.status_mut() = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
                return response;
            }
        };
        let submitted = submitted_token(&parts.headers, &bytes);
        let ok = !new_presession && submitted.is_some_and(|t| constant_time_eq(&t, visitor.csrf()));
        if !ok {
            if let Some(ctx) = visitor.session_context() {
                let _ = state
                    .store
                    .record_event(
                        &ctx,
                        mamori_domain::audit::AuditAction::AccessDenied,
                        parts.uri.path().to_string(),
                        None,
                        "csrf",
                    )
                    .await;
            }
            return WebError::Csrf.into_response();
        }
        Body::from(bytes)
    };
    parts.extensions.insert(visitor);
    let response = next.run(Request::from_parts(parts, body)).await;
    if new_presession {
        let jar = CookieJar::new().add(cookie(PRESESSION_COOKIE, presession, state.config.tls));
        (jar, response).into_response()
    } else {
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_field_of_an_upload_form_is_found() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=----b0undary"
                .parse()
                .unwrap(),
        );
        let body = "------b0undary\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok-123\r\n------b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 name=\"csrf\"\r\n------b0undary--\r\n";
        assert_eq!(
            submitted_token(&headers, body.as_bytes()).as_deref(),
            Some("tok-123")
        );
        let without = "------b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"csrf\"\r\n\r\nx\r\n------b0undary--\r\n";
        assert_eq!(submitted_token(&headers, without.as_bytes()), None);
    }
}
