//! A real server on a free port over a fresh store, and a browser-like client.
#![allow(dead_code)]

use mamori_domain::OrgId;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing::{self, TestDb};
use mamori_store::{Account, AuditContext, Store};
use std::net::SocketAddr;

pub const PASSWORD: &str = testing::TEST_PASSWORD;

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
}

impl TestApp {
    pub async fn start(db: TestDb) -> TestApp {
        Self::start_with(db, mamori_web::WebConfig::default()).await
    }

    pub async fn start_with(db: TestDb, config: mamori_web::WebConfig) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = mamori_web::app(db.store.clone(), config);
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestApp { addr, db }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn browser(&self) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{}", self.addr),
        }
    }

    pub async fn org(&self, kind: OrgKind, name: &str) -> OrgId {
        testing::add_org(self.store(), kind, name).await
    }

    pub async fn account(&self, org: OrgId, email: &str, role: Role) -> Account {
        testing::add_account(self.store(), org, email, role).await
    }

    pub async fn token(&self, account: &Account) -> String {
        let ctx = AuditContext::for_actor(account.actor(), account.email.clone(), None);
        self.store()
            .create_api_token(&ctx, account.id, "test")
            .await
            .unwrap()
            .0
    }
}

/// An API call with a bearer token: the status and the body as JSON (or
/// as a JSON string when it is not JSON).
pub async fn api(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("api call");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a form with a csrf field") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }
}

impl Browser {
    async fn page(response: reqwest::Response) -> Page {
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::page(
            self.client
                .post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts a form with the CSRF token taken from `from` (a page URL).
    pub async fn submit(&self, from: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.get(from).await.csrf();
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Page {
        self.submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }
}

/// A file for [`Browser::upload`].
pub struct Upload<'a> {
    pub field: &'a str,
    pub name: &'a str,
    pub data: Vec<u8>,
    pub mime: &'a str,
}

impl Browser {
    /// Posts a file-upload form (`multipart/form-data`) with the CSRF token
    /// taken from `from`, as a browser does.
    pub async fn upload(
        &self,
        from: &str,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<Upload<'_>>,
    ) -> Page {
        let csrf = self.get(from).await.csrf();
        let mut form = reqwest::multipart::Form::new().text("csrf", csrf);
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some(f) = file {
            let part = reqwest::multipart::Part::bytes(f.data)
                .file_name(f.name.to_string())
                .mime_str(f.mime)
                .unwrap();
            form = form.part(f.field.to_string(), part);
        }
        Self::page(
            self.client
                .post(format!("{}{path}", self.base))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The raw bytes of a download, with its status and headers.
    pub async fn bytes(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }
}
