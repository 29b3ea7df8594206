//! Errors turned into responses: a Japanese page (with English beneath) that
//! never shows internals, or JSON for the API. Internal faults are logged
//! with an operation id the user can quote.

use crate::i18n::Tr;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
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
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title_key(&self) -> &'static str {
        match self {
            WebError::NotFound => "error.not_found",
            WebError::Forbidden => "error.forbidden",
            WebError::Csrf => "error.csrf",
            WebError::BadRequest(_) => "error.bad_request",
            WebError::Internal(_) => "error.internal",
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
        let message = match &self {
            WebError::BadRequest(m) => m.clone(),
            other => Tr::new(Language::English).t(other.title_key()).to_string(),
        };
        let body = serde_json::json!({
            "error": self.title_key().trim_start_matches("error."),
            "message": message,
            "operation": operation,
        });
        (self.status(), axum::Json(body)).into_response()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let operation = self.operation_id();
        let page = ErrorPage {
            ja: Tr::new(Language::Japanese),
            en: Tr::new(Language::English),
            title_key: self.title_key(),
            detail: match &self {
                WebError::BadRequest(m) => Some(m.clone()),
                _ => None,
            },
            operation,
        };
        let html = page
            .render()
            .unwrap_or_else(|_| "エラーが発生しました / An error occurred".to_string());
        (self.status(), Html(html)).into_response()
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
