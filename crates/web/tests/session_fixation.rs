//! Session fixation: whatever session id a visitor brings (one planted by
//! an attacker), logging in makes a new one, the planted one never signs
//! anyone in, and each login gets an id of its own.

mod common;

use common::{PASSWORD, TestApp};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;

/// The value a response sets for `name`, if it sets one.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .filter(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_string())
        })
}

#[tokio::test]
async fn logging_in_never_keeps_a_session_id_the_visitor_brought() {
    let app = TestApp::start(testing::sqlite().await).await;
    let org = app.org(OrgKind::Secretariat, "事務局").await;
    app.account(org, "s@example.jp", Role::Member).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let planted = "attacker-chosen-session-id-0123456789abcdef";
    let mut ids = Vec::new();
    for _ in 0..2 {
        let form = client.get(app.url("/login")).send().await.unwrap();
        let presession = set_cookie(&form, "mamori_presession").expect("a pre-login token");
        let login = client
            .post(app.url("/login"))
            .header(
                "cookie",
                format!("mamori_presession={presession}; mamori_session={planted}"),
            )
            .form(&[
                ("csrf", presession.as_str()),
                ("email", "s@example.jp"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 303);
        let id = set_cookie(&login, "mamori_session").expect("a session cookie");
        assert_ne!(id, planted, "the planted id is not adopted");
        assert_ne!(id, presession, "the pre-login token is not promoted");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1], "each login gets its own session id");
    let with = |cookie: String| {
        let client = client.clone();
        let url = app.url("/dashboard");
        async move {
            client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        with(format!("mamori_session={planted}")).await,
        303,
        "the planted id signs nobody in"
    );
    assert_eq!(with(format!("mamori_session={}", ids[1])).await, 200);
    app.db.finish().await;
}
