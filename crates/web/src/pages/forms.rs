//! Reading the lifecycle forms (dates, yen, hours) and saying why one was
//! refused: in the reader's language, with the field named, and the HTTP
//! status the refusal deserves. Nothing here writes.

use crate::error::{WebError, transition_message};
use crate::i18n::Tr;
use axum::http::StatusCode;
use mamori_domain::DomainError;
use mamori_domain::lifecycle::TransitionRefused;
use mamori_store::StoreError;
use time::Date;
use time::macros::format_description;

/// A form field that must hold a day (`YYYY-MM-DD`, as `<input type="date">` sends).
pub fn date(field: &'static str, text: &str) -> Result<Date, DomainError> {
    optional_date(field, text)?.ok_or_else(|| DomainError::invalid(field, "a date is required"))
}

/// An optional day: empty is `None`.
pub fn optional_date(field: &'static str, text: &str) -> Result<Option<Date>, DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| DomainError::invalid(field, format!("`{text}` is not a date (YYYY-MM-DD)")))
}

/// Digits as typed, with the thousands separators and yen signs people add.
fn digits(text: &str) -> String {
    text.trim()
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('円')
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' ' | '_'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            other => other,
        })
        .collect()
}

/// A whole amount of yen ("3000000", "3,000,000", "¥3,000,000").
pub fn yen(field: &'static str, text: &str) -> Result<i64, DomainError> {
    optional_yen(field, text)?.ok_or_else(|| DomainError::invalid(field, "an amount is required"))
}

pub fn optional_yen(field: &'static str, text: &str) -> Result<Option<i64>, DomainError> {
    let cleaned = digits(text);
    if cleaned.is_empty() {
        return Ok(None);
    }
    cleaned.parse::<i64>().map(Some).map_err(|_| {
        DomainError::invalid(
            field,
            format!("`{}` is not a whole amount of yen", text.trim()),
        )
    })
}

/// A whole number (trips, ids).
pub fn whole(field: &'static str, text: &str) -> Result<i64, DomainError> {
    let cleaned = digits(text);
    if cleaned.is_empty() {
        return Err(DomainError::invalid(field, "a number is required"));
    }
    cleaned.parse::<i64>().map_err(|_| {
        DomainError::invalid(field, format!("`{}` is not a whole number", text.trim()))
    })
}

/// Hours, with a decimal point ("1.5").
pub fn hours(field: &'static str, text: &str) -> Result<f64, DomainError> {
    optional_hours(field, text)?.ok_or_else(|| DomainError::invalid(field, "hours are required"))
}

pub fn optional_hours(field: &'static str, text: &str) -> Result<Option<f64>, DomainError> {
    let cleaned = digits(text).replace('．', ".");
    if cleaned.is_empty() {
        return Ok(None);
    }
    match cleaned.parse::<f64>() {
        Ok(h) if h.is_finite() => Ok(Some(h)),
        _ => Err(DomainError::invalid(
            field,
            format!("`{}` is not a number of hours", text.trim()),
        )),
    }
}

/// A field's name in the reader's language (`field.<name>` in the
/// catalogue), or the name itself.
pub fn field_label(tr: Tr, field: &str) -> String {
    tr.value("field", field)
}

/// A refusal shown on the page of the form, with its status.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: String) -> Self {
        Refusal { status, message }
    }
}

/// A domain refusal with its field named in the reader's language.
pub fn domain_message(tr: Tr, err: &DomainError) -> String {
    match err {
        DomainError::Invalid { field, reason } => {
            let label = field_label(tr, field);
            if label == *field {
                format!("{field}: {reason}")
            } else {
                format!("{label} ({field}): {reason}")
            }
        }
        DomainError::UnknownValue { field, .. } => {
            let label = field_label(tr, field);
            if label == *field {
                err.to_string()
            } else {
                format!("{label}: {err}")
            }
        }
    }
}

/// What a form refusal says on its page, or the error itself when the
/// request is not a form mistake (not found, forbidden, a fault).
pub fn store_refusal(tr: Tr, err: StoreError) -> Result<Refusal, WebError> {
    match err {
        StoreError::Invalid(e) => Ok(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            domain_message(tr, &e),
        )),
        StoreError::Duplicate { what, value } => Ok(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}: {what} — {value}", tr.t("form.duplicate")),
        )),
        StoreError::Transition(refused) => Ok(transition_refusal(tr, &refused)),
        StoreError::Conflict(message) => Ok(Refusal::new(
            StatusCode::CONFLICT,
            format!("{} {message}", tr.t("error.conflict")),
        )),
        other => Err(other.into()),
    }
}

/// The same for errors that already left the store (documents glue).
pub fn web_refusal(tr: Tr, err: WebError) -> Result<Refusal, WebError> {
    match err {
        WebError::BadRequest(message) => {
            Ok(Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, message))
        }
        WebError::Conflict(message) => Ok(Refusal::new(StatusCode::CONFLICT, message)),
        WebError::Refused(message) => Ok(Refusal::new(StatusCode::FORBIDDEN, message)),
        WebError::Transition(refused) => Ok(transition_refusal(tr, &refused)),
        other => Err(other),
    }
}

/// A refused step: 403 when another role owns it, 409 otherwise; the
/// message names the states allowed next or the papers it waits for.
pub fn transition_refusal(tr: Tr, refused: &TransitionRefused) -> Refusal {
    let status = match refused {
        TransitionRefused::NotOwner { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::CONFLICT,
    };
    Refusal::new(status, transition_message(&tr, refused))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_dates_and_hours_as_people_type_them() {
        assert_eq!(yen("x", "¥3,000,000"), Ok(3_000_000));
        assert_eq!(yen("x", "３０００円"), Ok(3_000));
        assert_eq!(optional_yen("x", "  "), Ok(None));
        assert!(yen("x", "3百万").is_err());
        assert_eq!(hours("h", "1.5"), Ok(1.5));
        assert!(hours("h", "NaN").is_err());
        assert!(hours("h", "inf").is_err());
        assert_eq!(whole("n", "3"), Ok(3));
        let d = date("on", "2026-11-27").unwrap();
        assert_eq!(d.to_string(), "2026-11-27");
        let err = date("on", "27/11/2026").unwrap_err();
        assert!(err.to_string().contains("on:") && err.to_string().contains("YYYY-MM-DD"));
        assert_eq!(optional_date("on", ""), Ok(None));
    }
}

/// A file-upload form read whole: its text fields and the one file.
#[derive(Debug, Default)]
pub struct UploadForm {
    pub fields: std::collections::HashMap<String, String>,
    pub file: Option<mamori_store::NewFile>,
}

impl UploadForm {
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Reads a `multipart/form-data` body; the part named `file_field` is the
/// file (an empty file input is no file). The size limit is the route's.
pub async fn read_upload(
    mut multipart: axum::extract::Multipart,
    file_field: &str,
) -> Result<UploadForm, WebError> {
    let mut form = UploadForm::default();
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!(
            "file: the upload could not be read ({})",
            e.body_text()
        ))
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let data = field.bytes().await.map_err(bad)?;
            if !(file_name.is_empty() && data.is_empty()) {
                form.file = Some(mamori_store::NewFile {
                    name: file_name,
                    data: data.to_vec(),
                });
            }
        } else {
            let value = field.text().await.map_err(bad)?;
            form.fields.insert(name, value);
        }
    }
    Ok(form)
}

/// A stored file as a download: its type, and its name for the browser
/// (ASCII fallback plus the UTF-8 name).
pub fn download(file: &mamori_store::StoredFile, data: Vec<u8>) -> axum::response::Response {
    attachment(&file.name, &file.content_type, data)
}

/// Bytes as a download named `name` (ASCII fallback plus the UTF-8 name).
pub fn attachment(name: &str, content_type: &str, data: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        data,
    )
        .into_response()
}
