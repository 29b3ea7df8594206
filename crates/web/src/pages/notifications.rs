//! Notifications in the reader's language, the reader's own list, and the
//! mail outbox the secretariat reads where no SMTP server is configured.
//! A notification keeps facts, not text: [`render_notification`] writes it
//! for the page and for the mailer alike.

use super::{Chrome, Done};
use crate::error::WebError;
use crate::format;
use crate::i18n::Tr;
use crate::session::Signed;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::Redirect;
use mamori_documents::dates::japanese_date;
use mamori_domain::organisation::{Language, OrgKind};
use mamori_store::{Notification, NotificationKind};
use serde_json::Value;
use time::Date;
use time::macros::format_description;

fn text<'a>(params: &'a Value, key: &str) -> &'a str {
    params.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An ISO day from the parameters, in the reader's form.
fn day(tr: Tr, params: &Value, key: &str) -> String {
    let raw = text(params, key);
    match Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        Ok(d) if tr.lang == Language::Japanese => japanese_date(d),
        _ => raw.to_string(),
    }
}

/// `（x）` in Japanese, ` (x)` in English.
fn paren(tr: Tr, inner: &str) -> String {
    match tr.lang {
        Language::Japanese => format!("（{inner}）"),
        Language::English => format!(" ({inner})"),
    }
}

/// A notification taken apart, in one language.
struct Parts {
    kind: String,
    headline: String,
    hospital: String,
    company: String,
    programme: String,
    detail: Vec<String>,
}

fn parts(tr: Tr, n: &Notification) -> Parts {
    let p = &n.params;
    let (headline, detail) = match n.kind {
        NotificationKind::Transition => {
            let from = tr.value("state", text(p, "from"));
            let to = tr.value("state", text(p, "to"));
            let mut lines = vec![format!(
                "{}: {from} → {to}{}",
                tr.t("notification.step"),
                paren(tr, &day(tr, p, "on"))
            )];
            let note = text(p, "note");
            if !note.is_empty() {
                lines.push(format!("{}: {note}", tr.t("notification.note")));
            }
            (format!("{from} → {to}"), lines)
        }
        NotificationKind::ToSign => {
            let what = tr.value("agreement", text(p, "agreement"));
            (
                what.clone(),
                vec![format!("{}: {what}", tr.t("notification.document"))],
            )
        }
        NotificationKind::DeadlineSoon | NotificationKind::DeadlineOverdue => {
            let what = match p.get("milestone").and_then(Value::as_str) {
                Some(m) => tr.value("milestone", m),
                None => tr.value("deadline", text(p, "deadline")),
            };
            let due = day(tr, p, "due");
            (
                format!("{what}{}", paren(tr, &due)),
                vec![format!("{}: {what} — {due}", tr.t("notification.deadline"))],
            )
        }
        NotificationKind::RequestLapsed => {
            // A material request names its subject, an inquiry its vendor.
            let what = match text(p, "what") {
                "vendor-inquiry" => tr.t("notification.vendor-inquiry"),
                _ => tr.t("notification.material-request"),
            };
            let subject = text(p, "subject");
            let due = day(tr, p, "due");
            (
                format!("{subject}{}", paren(tr, &due)),
                vec![
                    format!("{what}: {subject}"),
                    format!("{}: {due}", tr.t("notification.deadline")),
                ],
            )
        }
        NotificationKind::AdvisoryNotice => {
            let count = |k: &str| p.get(k).and_then(Value::as_i64).unwrap_or(0);
            let mut lines = vec![format!(
                "{}: {} / {}: {}",
                tr.t("notification.advisories"),
                count("advisories"),
                tr.t("notification.cases"),
                count("cases")
            )];
            if count("kev") > 0 {
                lines.push(format!("{}: {}", tr.t("notification.kev"), count("kev")));
            }
            (
                format!("{} {}", tr.t("notification.notice-number"), count("number")),
                lines,
            )
        }
        NotificationKind::CaseEscalated => {
            let count = |k: &str| p.get(k).and_then(Value::as_i64).unwrap_or(0);
            let line = format!(
                "{}: {} / {}: {}",
                tr.t("notification.untouched"),
                count("untouched"),
                tr.t("notification.overdue"),
                count("overdue")
            );
            (line.clone(), vec![line])
        }
    };
    Parts {
        kind: tr.value("notification", n.kind.slug()),
        headline,
        hospital: text(p, "hospital").to_string(),
        company: text(p, "company").to_string(),
        programme: text(p, "programme").to_string(),
        detail,
    }
}

/// The subject and the body of a notification in `tr`'s language, from its
/// kind and parameters (hospital, company, programme, states, due date …).
/// Links start with `base_url` (the public address; empty for links
/// inside the application).
pub fn render_notification(tr: Tr, n: &Notification, base_url: &str) -> (String, String) {
    let p = parts(tr, n);
    let subject = format!(
        "[{}] {}: {} — {}",
        tr.t("app.name"),
        p.kind,
        p.headline,
        p.hospital
    );
    let mut body = vec![format!("{}: {}", p.kind, p.headline), String::new()];
    for (label, value) in [
        ("engagements.hospital", &p.hospital),
        ("engagements.company", &p.company),
        ("engagements.programme", &p.programme),
    ] {
        // An advisory notice is about a hospital, not an engagement.
        if !value.is_empty() {
            body.push(format!("{}: {value}", tr.t(label)));
        }
    }
    body.extend(p.detail);
    if let Some(link) = link(n) {
        body.push(String::new());
        body.push(format!(
            "{}: {}{link}",
            tr.t("notification.open"),
            base_url.trim_end_matches('/')
        ));
    }
    body.push(String::new());
    body.push(tr.t("notification.footer").to_string());
    (subject, body.join("\n"))
}

/// Where a notification leads inside the application.
fn link(n: &Notification) -> Option<String> {
    let hospital = n.params.get("hospital_id").and_then(Value::as_i64);
    match (n.kind, n.engagement_id, hospital) {
        (NotificationKind::AdvisoryNotice, _, Some(h)) => {
            Some(format!("/hospitals/{h}/advisories"))
        }
        (NotificationKind::CaseEscalated, _, _) => Some("/advisories".to_string()),
        (_, Some(id), _) => Some(format!("/engagements/{id}")),
        _ => None,
    }
}

pub struct NotificationView {
    title: String,
    about: String,
    detail: Vec<String>,
    at: String,
    read: bool,
    link: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    chrome: Chrome,
    items: Vec<NotificationView>,
    unread: usize,
}

pub async fn list(
    State(state): State<AppState>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<NotificationsPage, WebError> {
    let tr = who.tr;
    let list = state.store.notifications_for(who.account.id, 200).await?;
    let items: Vec<NotificationView> = list
        .iter()
        .map(|n| {
            let p = parts(tr, n);
            NotificationView {
                title: format!("{}: {} — {}", p.kind, p.headline, p.hospital),
                about: [p.company.as_str(), p.programme.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" · "),
                detail: p.detail,
                at: format::minutes(n.created_at_ms),
                read: n.read,
                link: link(n),
            }
        })
        .collect();
    Ok(NotificationsPage {
        chrome: Chrome::page(&state, &who, "/notifications")
            .await?
            .with_notice(&done.done),
        unread: items.iter().filter(|i| !i.read).count(),
        items,
    })
}

pub async fn mark_read(State(state): State<AppState>, who: Signed) -> Result<Redirect, WebError> {
    state.store.mark_notifications_read(who.account.id).await?;
    Ok(Redirect::to("/notifications?done=notifications_read"))
}

pub struct MailView {
    to: String,
    language: String,
    subject: String,
    body: String,
    created: String,
    sent: Option<String>,
    attempts: i64,
    last_error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    chrome: Chrome,
    mails: Vec<MailView>,
    waiting: usize,
}

pub async fn outbox(State(state): State<AppState>, who: Signed) -> Result<OutboxPage, WebError> {
    if who.account.org_kind != OrgKind::Secretariat {
        return Err(WebError::Forbidden);
    }
    let mails = state.store.outbox(&who.ctx, 500).await?;
    let views: Vec<MailView> = mails
        .iter()
        .map(|m| {
            let lang = Language::parse(&m.language).unwrap_or_default();
            let (subject, body) = render_notification(
                Tr::new(lang),
                &m.notification,
                state.config.public_url.as_deref().unwrap_or(""),
            );
            MailView {
                to: m.to_address.clone(),
                language: lang.slug().to_string(),
                subject,
                body,
                created: format::minutes(m.created_at_ms),
                sent: m.sent_at_ms.map(format::minutes),
                attempts: m.attempts,
                last_error: m.last_error.clone(),
            }
        })
        .collect();
    Ok(OutboxPage {
        chrome: Chrome::page(&state, &who, "/outbox").await?,
        waiting: views.iter().filter(|m| m.sent.is_none()).count(),
        mails: views,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::AccountId;

    fn notification(kind: NotificationKind, params: Value) -> Notification {
        Notification {
            id: 1,
            account_id: AccountId(1),
            engagement_id: Some(7),
            kind,
            params,
            created_at_ms: 0,
            read: false,
        }
    }

    #[test]
    fn each_reader_gets_the_facts_in_their_language() {
        let n = notification(
            NotificationKind::Transition,
            serde_json::json!({"hospital": "湖畔病院", "company": "A社", "programme": "令和8年度",
                "from": "surveying", "to": "interim-review", "on": "2026-11-27", "note": "中間報告"}),
        );
        let (subject, body) = render_notification(Tr::new(Language::Japanese), &n, "");
        assert_eq!(subject, "[守り] 段階変更: 調査中 → 中間確認 — 湖畔病院");
        assert!(body.contains("2026年11月27日") && body.contains("中間報告"));
        assert!(body.contains(": /engagements/7"));
        let (_, mail) = render_notification(
            Tr::new(Language::Japanese),
            &n,
            "https://mamori.example.jp/",
        );
        assert!(
            mail.contains(": https://mamori.example.jp/engagements/7"),
            "{mail}"
        );
        let (subject, body) = render_notification(Tr::new(Language::English), &n, "");
        assert_eq!(
            subject,
            "[Mamori] Step taken: Surveying → Interim review — 湖畔病院"
        );
        assert!(body.contains("(2026-11-27)") && body.contains("Survey company: A社"));

        let due = notification(
            NotificationKind::DeadlineOverdue,
            serde_json::json!({"hospital": "湖畔病院", "deadline": "milestone",
                "milestone": "interim-review", "due": "2027-01-15"}),
        );
        let (subject, _) = render_notification(Tr::new(Language::Japanese), &due, "");
        assert!(subject.contains("期限を過ぎています: 途中経過の報告・レビュー（2027年1月15日）"));
        let sign = notification(
            NotificationKind::ToSign,
            serde_json::json!({"hospital": "湖畔病院", "agreement": "nda"}),
        );
        let (subject, _) = render_notification(Tr::new(Language::English), &sign, "");
        assert!(subject.contains("Document to sign: NDA"), "{subject}");
        let lapsed = notification(
            NotificationKind::RequestLapsed,
            serde_json::json!({"hospital": "湖畔病院", "what": "material-request",
                "subject": "ネットワーク構成図", "due": "2026-12-08"}),
        );
        let (subject, body) = render_notification(Tr::new(Language::Japanese), &lapsed, "");
        assert!(
            subject.contains(
                "期限までに提出されませんでした（未提出）: ネットワーク構成図（2026年12月8日）"
            ),
            "{subject}"
        );
        assert!(
            body.contains("資料依頼（宿題）: ネットワーク構成図"),
            "{body}"
        );
        let (subject, _) = render_notification(Tr::new(Language::English), &lapsed, "");
        assert!(
            subject.contains("Not submitted by the due date: ネットワーク構成図 (2026-12-08)"),
            "{subject}"
        );
    }
}
