//! Errors turned into responses: a Japanese page (with English beneath) that
//! never shows internals, or JSON for the API. Internal faults are logged
//! with an operation id the user can quote.

use crate::i18n::Tr;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use mamori_domain::engagement::EngagementState;
use mamori_domain::lifecycle::TransitionRefused;
use mamori_domain::organisation::Language;
use mamori_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("csrf")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Refused for a reason the user can act on (the message says which).
    #[error("refused: {0}")]
    Refused(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A lifecycle step refused: 403 when another role owns it, 409 when it
    /// is not a step from here or waits for a paper; names what is allowed.
    #[error("transition refused: {0}")]
    Transition(mamori_domain::lifecycle::TransitionRefused),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { .. } => WebError::NotFound,
            StoreError::Denied(_) | StoreError::Forbidden(_) => WebError::Forbidden,
            StoreError::Invalid(e) => WebError::BadRequest(e.to_string()),
            StoreError::Duplicate { what, value } => {
                WebError::BadRequest(format!("{what} already exists: {value}"))
            }
            StoreError::Transition(refused) => WebError::Transition(refused),
            StoreError::Conflict(message) => WebError::Conflict(message),
            // PostgreSQL keeps no NUL in text (SQLSTATE 22021); SQLite would.
            StoreError::Database(e)
                if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("22021") =>
            {
                WebError::BadRequest(
                    "text: a NUL character (U+0000) is not accepted in any field".into(),
                )
            }
            other => WebError::Internal(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ja: Tr,
    en: Tr,
    title_key: &'a str,
    detail: Option<String>,
    operation: Option<String>,
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Refused(_) => StatusCode::FORBIDDEN,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Transition(TransitionRefused::NotOwner { .. }) => StatusCode::FORBIDDEN,
            WebError::Transition(_) => StatusCode::CONFLICT,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title_key(&self) -> &'static str {
        match self {
            WebError::NotFound => "error.not_found",
            WebError::Forbidden => "error.forbidden",
            WebError::Csrf => "error.csrf",
            WebError::BadRequest(_) => "error.bad_request",
            WebError::Refused(_) => "error.forbidden",
            WebError::Conflict(_) => "error.conflict",
            WebError::Transition(_) => "error.transition",
            WebError::Internal(_) => "error.internal",
        }
    }

    /// What the user is told beyond the title, in one language.
    fn detail(&self, tr: &Tr) -> Option<String> {
        match self {
            WebError::BadRequest(m) | WebError::Refused(m) | WebError::Conflict(m) => {
                Some(m.clone())
            }
            WebError::Transition(refused) => Some(transition_message(tr, refused)),
            _ => None,
        }
    }

    /// Logs internal faults and returns the id quoted to the user.
    fn operation_id(&self) -> Option<String> {
        if let WebError::Internal(cause) = self {
            let id = mamori_store::credentials::random_token(6);
            tracing::error!(operation = %id, %cause, "request failed");
            Some(id)
        } else {
            None
        }
    }

    /// The error as JSON, for `/api/v1`.
    pub fn into_api_response(self) -> Response {
        let operation = self.operation_id();
        let en = Tr::new(Language::English);
        let message = self
            .detail(&en)
            .unwrap_or_else(|| en.t(self.title_key()).to_string());
        let mut body = serde_json::json!({
            "error": self.title_key().trim_start_matches("error."),
            "message": message,
            "operation": operation,
        });
        if let WebError::Transition(refused) = &self {
            body["allowed"] = serde_json::json!(allowed_states(refused));
            if let TransitionRefused::GatesNotMet { missing, .. } = refused {
                body["missing"] = serde_json::json!(missing);
            }
        }
        (self.status(), axum::Json(body)).into_response()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let operation = self.operation_id();
        let ja = Tr::new(Language::Japanese);
        let en = Tr::new(Language::English);
        let detail = match (self.detail(&ja), self.detail(&en)) {
            (Some(j), Some(e)) if j != e => Some(format!("{j}\n{e}")),
            (j, _) => j,
        };
        let page = ErrorPage {
            ja,
            en,
            title_key: self.title_key(),
            detail,
            operation,
        };
        let html = page
            .render()
            .unwrap_or_else(|_| "エラーが発生しました / An error occurred".to_string());
        (self.status(), Html(html)).into_response()
    }
}

fn allowed_states(refused: &TransitionRefused) -> Vec<EngagementState> {
    match refused {
        TransitionRefused::NotAStep { allowed, .. }
        | TransitionRefused::NotOwner { allowed, .. } => allowed.clone(),
        TransitionRefused::GatesNotMet { .. } => Vec::new(),
    }
}

/// A refused step in the reader's language, naming the states allowed next
/// or the papers the step waits for.
pub fn transition_message(tr: &Tr, refused: &TransitionRefused) -> String {
    let states = |list: &[EngagementState]| {
        if list.is_empty() {
            tr.t("transition.none").to_string()
        } else {
            list.iter()
                .map(|s| tr.value("state", s.slug()))
                .collect::<Vec<_>>()
                .join(tr.t("list.separator"))
        }
    };
    match refused {
        TransitionRefused::NotAStep { from, to, allowed } => format!(
            "{} → {}: {} {} {}",
            tr.value("state", from.slug()),
            tr.value("state", to.slug()),
            tr.t("transition.not_a_step"),
            tr.t("transition.allowed_next"),
            states(allowed)
        ),
        TransitionRefused::NotOwner {
            from,
            to,
            owners,
            allowed,
        } => format!(
            "{} → {}: {} {} {} {}",
            tr.value("state", from.slug()),
            tr.value("state", to.slug()),
            tr.t("transition.owned_by"),
            owners
                .iter()
                .map(|o| tr.value("kind", o.slug()))
                .collect::<Vec<_>>()
                .join(tr.t("list.separator")),
            tr.t("transition.you_may"),
            states(allowed)
        ),
        TransitionRefused::GatesNotMet { to, missing } => format!(
            "{}: {} {}",
            tr.value("state", to.slug()),
            tr.t("transition.waits_for"),
            missing
                .iter()
                .map(|g| tr.value("gate", g.slug()))
                .collect::<Vec<_>>()
                .join(tr.t("list.separator"))
        ),
    }
}

/// JSON errors for the API.
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(err: E) -> Self {
        ApiError(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_api_response()
    }
}

/// Turns the framework's own plain-text refusals (a malformed form, path or
/// query, a wrong method) into our Japanese page, or into JSON under the API.
pub async fn friendly_rejections(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() && plain) {
        return response;
    }
    let detail = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let error = match status {
        StatusCode::NOT_FOUND => WebError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => WebError::BadRequest("method not allowed".into()),
        _ => WebError::BadRequest(detail),
    };
    let mut out = if api {
        error.into_api_response()
    } else {
        error.into_response()
    };
    *out.status_mut() = status;
    out
}
