//! Notification mail through a real SMTP conversation with a small fake
//! server on loopback: what the outbox holds is sent once, in the
//! recipient's language, and marked sent.

use mamori::jobs::Mailer;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::{AuditContext, testing};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Accepts SMTP sessions and keeps each message's recipients and data.
async fn fake_smtp() -> (u16, Arc<Mutex<Vec<(Vec<String>, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 fake ESMTP\r\n").await;
                let mut rcpt = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 fake\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 go on\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        store
                            .lock()
                            .expect("lock")
                            .push((std::mem::take(&mut rcpt), data));
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn the_outbox_is_sent_once_by_smtp() {
    let db = testing::sqlite().await;
    let store = &db.store;
    let hospital = testing::add_org(store, OrgKind::Hospital, "出雲みなと病院").await;
    let company = testing::add_org(store, OrgKind::SurveyCompany, "調査A社").await;
    let secretariat = testing::add_org(store, OrgKind::Secretariat, "研究事務局").await;
    testing::add_account(store, secretariat, "sec@example.jp", Role::Admin).await;
    testing::add_account(store, company, "a@example.jp", Role::Member).await;
    let programme = testing::add_programme(store, "令和8年度調査").await;
    testing::add_engagement(
        store,
        programme,
        hospital,
        company,
        EngagementState::Contracted,
    )
    .await;
    let waiting = store
        .outbox(&AuditContext::operator("test"), 1000)
        .await
        .expect("outbox");
    assert!(!waiting.is_empty());

    let (port, received) = fake_smtp().await;
    let mailer = Mailer::new(
        &format!("smtp://127.0.0.1:{port}"),
        "Mamori <mamori@example.jp>",
        "https://mamori.example.jp",
    )
    .expect("mailer");
    let sent = mailer.send_pending(store).await.expect("send");
    assert_eq!(sent, waiting.len());
    assert_eq!(
        mailer.send_pending(store).await.expect("again"),
        0,
        "sent once"
    );
    let messages = received.lock().expect("lock").clone();
    assert_eq!(messages.len(), sent);
    assert!(
        messages
            .iter()
            .any(|(to, _)| to == &vec!["a@example.jp".to_string()])
    );
    let (_, data) = &messages[0];
    assert!(data.contains("From: Mamori <mamori@example.jp>"), "{data}");
    assert!(data.contains("Subject: "), "{data}");
    // The link in the body points at the public address.
    let decoded = decode_body(data);
    assert!(
        decoded.contains("https://mamori.example.jp/engagements/"),
        "{decoded}"
    );
    let after = store
        .outbox(&AuditContext::operator("test"), 1000)
        .await
        .expect("outbox");
    assert!(
        after
            .iter()
            .all(|m| m.sent_at_ms.is_some() && m.attempts == 1)
    );
    db.finish().await;
}

/// The text of a single-part message, whatever transfer encoding it has.
fn decode_body(data: &str) -> String {
    use base64::Engine;
    let (headers, body) = data.split_once("\n\n").unwrap_or((data, ""));
    if headers.contains("Content-Transfer-Encoding: base64") {
        let joined: String = body.lines().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(joined.trim())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    } else if headers.contains("Content-Transfer-Encoding: quoted-printable") {
        let soft = body.replace("=\n", "");
        let bytes = soft.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&soft[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    } else {
        body.to_string()
    }
}

#[test]
fn a_bad_smtp_setting_names_itself() {
    let err = Mailer::new("ftp://example.jp", "Mamori <m@example.jp>", "")
        .err()
        .expect("refused");
    assert!(err.starts_with("MAMORI_SMTP_URL"), "{err}");
    let err = Mailer::new("smtp://127.0.0.1:25", "not an address", "")
        .err()
        .expect("refused");
    assert!(err.starts_with("MAMORI_MAIL_FROM"), "{err}");
}
