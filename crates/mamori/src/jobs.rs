//! Background work of `mamori serve`: the daily deadline check (with the
//! escalation of neglected advisory cases), the mail sender and the
//! advisory inbox. All are safe to run in several instances at once: each
//! period's deadline check is claimed by one instance (`background_jobs`),
//! a mail is claimed with a lease before it is sent, and an inbox file by
//! renaming it.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mamori_domain::organisation::Language;
use mamori_store::{OutboxMail, Store};
use mamori_web::i18n::Tr;
use std::time::Duration;

/// How long a claimed mail is kept from other senders.
const MAIL_LEASE_MS: i64 = 5 * 60 * 1000;

/// Sends the outbox through an SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Put in front of the links in each mail.
    public_url: String,
}

impl Mailer {
    /// `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), or `smtp://host:25` (no encryption: a relay on a trusted
    /// network only).
    pub fn new(url: &str, from: &str, public_url: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("MAMORI_SMTP_URL: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("MAMORI_MAIL_FROM: `{from}`: {e}"))?;
        Ok(Mailer {
            transport,
            from,
            public_url: public_url.to_string(),
        })
    }

    fn message(&self, mail: &OutboxMail) -> Result<Message, String> {
        let lang = Language::parse(&mail.language).unwrap_or_default();
        let (subject, body) =
            mamori_web::render_notification(Tr::new(lang), &mail.notification, &self.public_url);
        let to = mail
            .to_address
            .parse::<Mailbox>()
            .map_err(|e| format!("{}: {e}", mail.to_address))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())
    }

    /// Sends what is waiting; returns how many went out.
    pub async fn send_pending(&self, store: &Store) -> Result<usize, mamori_store::StoreError> {
        let mut sent = 0;
        loop {
            let batch = store.claim_mail(20, MAIL_LEASE_MS).await?;
            if batch.is_empty() {
                return Ok(sent);
            }
            for mail in &batch {
                let outcome = match self.message(mail) {
                    Ok(message) => self
                        .transport
                        .send(message)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                match outcome {
                    Ok(()) => {
                        store.finish_mail(mail.id, None).await?;
                        sent += 1;
                    }
                    Err(e) => {
                        tracing::warn!(mail = mail.id, error = %e, "mail not sent");
                        store.finish_mail(mail.id, Some(&e)).await?;
                    }
                }
            }
            if batch.len() < 20 {
                return Ok(sent);
            }
        }
    }
}

/// The job name of the deadline check and escalation, in `background_jobs`.
pub const DEADLINE_JOB: &str = "deadlines";

/// This process among the instances: host and process id.
fn instance_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// Runs the deadline check (and the escalation of neglected advisory
/// cases) every `every`, with a mailer the outbox every half minute, and
/// with an advisory inbox a look at it every `inbox.1`, until the process
/// ends.
pub fn spawn(
    store: Store,
    mailer: Option<Mailer>,
    every: Duration,
    inbox: Option<(crate::inbox::Inbox, Duration)>,
) {
    if let Some((inbox, every)) = inbox {
        crate::inbox::spawn(store.clone(), inbox, every);
    }
    let deadlines = store.clone();
    let instance = instance_name();
    let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            // Several instances share the database: one of them runs each period.
            match deadlines.claim_job(DEADLINE_JOB, every_ms, &instance).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "deadline check not claimed");
                    continue;
                }
            }
            match deadlines.check_deadlines().await {
                Ok(n) if n > 0 => tracing::info!(notifications = n, "deadlines checked"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deadline check failed"),
            }
            // Cases a hospital left untouched, or let pass their due date,
            // go to the secretariat (once per case).
            match deadlines.escalate_cases().await {
                Ok(n) if n > 0 => tracing::info!(cases = n, "advisory cases escalated"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "case escalation failed"),
            }
        }
    });
    if let Some(mailer) = mailer {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                match mailer.send_pending(&store).await {
                    Ok(n) if n > 0 => tracing::info!(sent = n, "mail sent"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "mail sender failed"),
                }
            }
        });
    }
}
