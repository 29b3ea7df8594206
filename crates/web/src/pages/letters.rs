//! Letter templates (資料2 依頼状, 資料3 誓約書, 資料5 秘密保持契約書): the
//! secretariat edits them with the list of merge fields, previews them as
//! PDF with sample data, and saves new versions. A template that does not
//! render is refused with the field or line named, and nothing is saved.

use super::Chrome;
use crate::documents;
use crate::error::WebError;
use crate::format;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_documents::letters::LetterKind;
use mamori_domain::organisation::{Language, OrgKind};
use serde::Deserialize;

fn secretariat_only(who: &Signed) -> Result<(), WebError> {
    if who.account.org_kind == OrgKind::Secretariat {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

fn title(who: &Signed, kind: LetterKind) -> &'static str {
    match who.tr.lang {
        Language::Japanese => kind.title_ja(),
        Language::English => kind.title_en(),
    }
}

pub struct KindRow {
    slug: &'static str,
    title: String,
    current: String,
    updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "letters.html")]
pub struct LettersPage {
    chrome: Chrome,
    kinds: Vec<KindRow>,
}

pub async fn list(State(state): State<AppState>, who: Signed) -> Result<LettersPage, WebError> {
    secretariat_only(&who)?;
    let mut kinds = Vec::new();
    for kind in LetterKind::ALL {
        let saved = state.store.letter_template(kind.slug()).await?;
        kinds.push(KindRow {
            slug: kind.slug(),
            title: title(&who, kind).to_string(),
            current: match &saved {
                Some(t) => format!("v{}", t.version),
                None => who.tr.t("letters.default_version").to_string(),
            },
            updated: saved
                .map(|t| {
                    format!(
                        "{} {}",
                        format::minutes(t.created_at_ms),
                        t.created_by.unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| "—".into()),
        });
    }
    Ok(LettersPage {
        chrome: Chrome::page(&state, &who, "/letters").await?,
        kinds,
    })
}

pub struct VersionRow {
    version: i64,
    at: String,
    by: String,
    shown: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "letter.html")]
pub struct LetterPage {
    chrome: Chrome,
    slug: &'static str,
    title: String,
    current: String,
    shown: String,
    body: String,
    fields: Vec<(&'static str, &'static str)>,
    versions: Vec<VersionRow>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LetterQuery {
    done: Option<String>,
    version: Option<String>,
}

async fn letter_page(
    state: &AppState,
    who: &Signed,
    kind: LetterKind,
    version: Option<i64>,
    edited: Option<String>,
    error: Option<String>,
    done: &Option<String>,
) -> Result<LetterPage, WebError> {
    let tr = who.tr;
    let versions = state.store.letter_template_versions(kind.slug()).await?;
    let newest = versions.first();
    let chosen = match version {
        Some(0) => None,
        Some(v) => Some(
            versions
                .iter()
                .find(|t| t.version == v)
                .ok_or(WebError::NotFound)?,
        ),
        None => newest,
    };
    let shown_version = chosen.map(|t| t.version).unwrap_or(0);
    let label = |v: i64| {
        if v == 0 {
            tr.t("letters.default_version").to_string()
        } else {
            format!("v{v}")
        }
    };
    let body = edited.unwrap_or_else(|| match chosen {
        Some(t) => t.body.clone(),
        None => kind.default_template().to_string(),
    });
    Ok(LetterPage {
        chrome: Chrome::page(state, who, "/letters")
            .await?
            .with_notice(done),
        slug: kind.slug(),
        title: title(who, kind).to_string(),
        current: label(newest.map(|t| t.version).unwrap_or(0)),
        shown: label(shown_version),
        body,
        fields: kind
            .fields()
            .iter()
            .map(|f| {
                (
                    f.name,
                    if tr.lang == Language::Japanese {
                        f.description_ja
                    } else {
                        f.description_en
                    },
                )
            })
            .collect(),
        versions: versions
            .iter()
            .map(|t| VersionRow {
                version: t.version,
                at: format::minutes(t.created_at_ms),
                by: t.created_by.clone().unwrap_or_default(),
                shown: t.version == shown_version,
            })
            .collect(),
        error,
    })
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(slug): Path<String>,
    Query(query): Query<LetterQuery>,
) -> Result<LetterPage, WebError> {
    secretariat_only(&who)?;
    let kind = documents::letter_kind(&slug)?;
    let version = match query.version.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            WebError::BadRequest(format!("version: `{v}` is not a version number"))
        })?),
    };
    letter_page(&state, &who, kind, version, None, None, &query.done).await
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    action: String,
}

pub async fn submit(
    State(state): State<AppState>,
    who: Signed,
    Path(slug): Path<String>,
    Form(form): Form<TemplateForm>,
) -> Result<Response, WebError> {
    secretariat_only(&who)?;
    let kind = documents::letter_kind(&slug)?;
    // Browsers send CR LF; the letters are kept with LF.
    let body = form.body.replace("\r\n", "\n");
    let outcome: Result<(), WebError> = match form.action.as_str() {
        "preview" => match documents::preview_template(kind, &body) {
            Ok(pdf) => {
                return Ok((
                    [
                        (header::CONTENT_TYPE, "application/pdf".to_string()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename=\"preview-{}.pdf\"", kind.slug()),
                        ),
                    ],
                    pdf,
                )
                    .into_response());
            }
            Err(e) => Err(e),
        },
        "save" => match documents::check_template(kind, &body) {
            Ok(()) => match state
                .store
                .save_letter_template(&who.ctx, kind.slug(), &body)
                .await
            {
                Ok(_) => {
                    return Ok(Redirect::to(&format!(
                        "/letters/{}?done=template_saved",
                        kind.slug()
                    ))
                    .into_response());
                }
                Err(e) => Err(WebError::from(e)),
            },
            Err(e) => Err(e),
        },
        other => Err(WebError::BadRequest(format!(
            "action: `{other}` is neither preview nor save"
        ))),
    };
    let message = match outcome {
        Err(WebError::BadRequest(m)) | Err(WebError::Conflict(m)) => m,
        Err(e) => return Err(e),
        Ok(()) => String::new(),
    };
    let page = letter_page(&state, &who, kind, None, Some(body), Some(message), &None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
