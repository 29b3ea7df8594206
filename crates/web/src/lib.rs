//! Mamori's web application: server-rendered pages (Japanese first) and the
//! JSON API under `/api/v1`, both over the same store, policy and audit log.

pub mod api;
mod assets;
pub mod documents;
pub mod error;
mod format;
pub mod i18n;
mod pages;
pub mod releases;
mod routes;
pub mod security;
pub mod session;
mod state;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use mamori_store::Store;
pub use pages::notifications::render_notification;
use pages::{
    account, advisories, audit, auth, catalogue, checklists, dashboard, data_return, deliverables,
    engagements, frameworks, hospital, labour, ledger, letters, notifications, organisations,
    programmes, report, review, statistics,
};
pub use routes::{Area, RouteInfo};
use routes::{Routes, get, post};
pub use state::AppState;

/// How the web application runs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Served over TLS (directly or behind a proxy): cookies get `Secure`
    /// and responses carry HSTS.
    pub tls: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// you run).
    pub trust_forwarded_for: bool,
    /// The address people reach Mamori at (`https://mamori.example.jp`),
    /// put in front of the links in notification mail.
    pub public_url: Option<String>,
}

impl WebConfig {
    /// The start of an absolute link to this server (empty without a
    /// public URL: the link is then relative to the page showing it).
    pub fn public_base(&self) -> &str {
        self.public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
            .unwrap_or("")
    }
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn page_not_found() -> error::WebError {
    error::WebError::NotFound
}

/// Every page: signed-in pages, and the few deliberately public ones
/// (sign-in, respondent and vendor links, published statistics).
fn page_routes() -> Routes {
    Routes::new(Area::Ui, "")
        .route("/", get(auth::root))
        .public("/login", get(auth::login_form).post(auth::login))
        .public(
            "/login/second-factor",
            get(auth::second_factor_form).post(auth::second_factor),
        )
        .route("/logout", post(auth::logout))
        .route("/dashboard", get(dashboard::dashboard))
        .route(
            "/organisations",
            get(organisations::list).post(organisations::create),
        )
        .route("/organisations/{id}", get(organisations::show))
        .route(
            "/organisations/{id}/hospital",
            post(organisations::update_hospital),
        )
        .route(
            "/organisations/{id}/accounts",
            post(organisations::create_account),
        )
        .route(
            "/accounts/{id}/reset-password",
            post(organisations::reset_password),
        )
        .route("/accounts/{id}/unlock", post(organisations::unlock))
        .route("/hospitals/{id}", get(hospital::show))
        .route(
            "/hospitals/{id}/facility-profile",
            post(hospital::save_profile),
        )
        .route("/hospitals/{id}/data-return", get(data_return::show))
        .route(
            "/hospitals/{id}/data-return/archive",
            post(data_return::archive),
        )
        .route(
            "/hospitals/{id}/data-return/erase",
            post(data_return::erase),
        )
        .route("/hospitals/{id}/ledger", get(ledger::overview))
        .route("/hospitals/{id}/ledger.xlsx", get(ledger::workbook))
        .route(
            "/hospitals/{id}/ledger/import",
            get(ledger::import::form)
                .post(ledger::import::submit)
                .body_limit(session::UPLOAD_LIMIT),
        )
        .route(
            "/hospitals/{id}/ledger/import/template",
            get(ledger::import::template),
        )
        .route(
            "/hospitals/{id}/ledger/network",
            get(ledger::diagrams::network),
        )
        .route(
            "/hospitals/{id}/ledger/structure",
            get(ledger::diagrams::structure),
        )
        .route("/hospitals/{id}/ledger/walk", get(ledger::walk))
        .route("/hospitals/{id}/ledger/history", get(ledger::history))
        .route(
            "/hospitals/{id}/ledger/photos/{photo}",
            get(ledger::photo_file),
        )
        .route(
            "/hospitals/{id}/ledger/{kind}",
            get(ledger::table).post(ledger::save_record),
        )
        .route("/hospitals/{id}/ledger/{kind}/new", get(ledger::new_record))
        .route(
            "/hospitals/{id}/ledger/{kind}/{key}",
            get(ledger::show_record),
        )
        .route(
            "/hospitals/{id}/ledger/{kind}/{key}/delete",
            post(ledger::delete_record),
        )
        .route(
            "/hospitals/{id}/ledger/{kind}/{key}/confirm",
            post(ledger::confirm_record),
        )
        .route(
            "/hospitals/{id}/ledger/{kind}/{key}/photos",
            post(ledger::add_photo).body_limit(session::UPLOAD_LIMIT),
        )
        .route(
            "/catalogue",
            get(catalogue::list).post(catalogue::save_model),
        )
        .route("/catalogue/new", get(catalogue::new_model))
        .route(
            "/catalogue/import",
            post(catalogue::import).body_limit(session::UPLOAD_LIMIT),
        )
        .route("/catalogue/{key}", get(catalogue::show_model))
        .route("/catalogue/{key}/delete", post(catalogue::delete_model))
        .route("/account", get(account::show))
        .route("/account/language", post(account::set_language))
        .route("/account/password", post(account::change_password))
        .route("/account/totp/begin", post(account::totp_begin))
        .route("/account/totp/confirm", post(account::totp_confirm))
        .route("/account/totp/disable", post(account::totp_disable))
        .route("/account/recovery-codes", post(account::regenerate_codes))
        .route("/account/sessions/revoke", post(account::revoke_session))
        .route(
            "/account/logout-everywhere",
            post(account::logout_everywhere),
        )
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/audit", get(audit::show))
        .route("/audit.csv", get(audit::export_csv))
        .route(
            "/organisations/{id}/letterhead",
            post(organisations::update_letterhead),
        )
        .route(
            "/programmes",
            get(programmes::list).post(programmes::create),
        )
        .route(
            "/programmes/{id}",
            get(programmes::show).post(programmes::update),
        )
        .route(
            "/programmes/{id}/milestones",
            post(programmes::set_milestones),
        )
        .route(
            "/programmes/{id}/documents",
            post(programmes::add_document).body_limit(session::UPLOAD_LIMIT),
        )
        .route(
            "/programmes/{id}/documents/{document}/file",
            get(programmes::document_file),
        )
        .route(
            "/programmes/{id}/kickoffs",
            post(programmes::record_kickoff),
        )
        .route(
            "/programmes/{id}/companies",
            post(programmes::enrol_company),
        )
        .route(
            "/programmes/{id}/companies/{company}",
            post(programmes::update_enrolment),
        )
        .route(
            "/programmes/{id}/companies/{company}/surveyors",
            post(programmes::set_surveyors),
        )
        .route(
            "/programmes/{id}/candidates",
            post(programmes::add_candidate),
        )
        .route(
            "/programmes/{id}/payments.xlsx",
            get(programmes::payments_xlsx),
        )
        .route("/checklists", get(frameworks::list))
        .route(
            "/checklists/import",
            get(frameworks::import_form)
                .post(frameworks::import)
                .body_limit(session::UPLOAD_LIMIT),
        )
        .route("/checklists/{id}", get(frameworks::show))
        .route(
            "/programmes/{id}/checklist",
            get(frameworks::programme_checklist),
        )
        .route(
            "/programmes/{id}/checklist/framework",
            post(frameworks::set_framework),
        )
        .route(
            "/programmes/{id}/checklist/items",
            post(frameworks::add_item),
        )
        .route("/engagements", get(engagements::list))
        .route("/engagements/timeline.svg", get(engagements::timeline))
        .route("/engagements/{id}", get(engagements::show))
        .route(
            "/engagements/{id}/candidate",
            post(engagements::update_candidate),
        )
        .route(
            "/engagements/{id}/confirm-company",
            post(engagements::confirm_company),
        )
        .route(
            "/engagements/{id}/transition",
            post(engagements::transition),
        )
        .route(
            "/engagements/{id}/agreements",
            post(engagements::issue_agreement),
        )
        .route(
            "/engagements/{id}/agreements/{agreement}/sign",
            post(engagements::sign_agreement).body_limit(session::UPLOAD_LIMIT),
        )
        .route(
            "/engagements/{id}/agreements/{agreement}/revoke",
            post(engagements::revoke_agreement),
        )
        .route(
            "/engagements/{id}/letters",
            post(engagements::generate_letter),
        )
        .route("/engagements/{id}/files/{file}", get(engagements::file))
        .route(
            "/engagements/{id}/estimates",
            post(engagements::submit_estimate),
        )
        .route("/engagements/{id}/orders", post(engagements::issue_order))
        .route(
            "/engagements/{id}/orders/{order}/settle",
            post(engagements::settle_order),
        )
        .route(
            "/engagements/{id}/payments",
            post(engagements::record_payment),
        )
        .route("/engagements/{id}/checklist", get(checklists::show))
        .route("/engagements/{id}/deliverables", get(deliverables::show))
        .route("/engagements/{id}/labour", get(labour::show))
        .route("/engagements/{id}/labour.xlsx", get(labour::sheet))
        .route("/engagements/{id}/labour/plan", post(labour::save_plan))
        .route("/engagements/{id}/labour/entries", post(labour::add_entry))
        .route(
            "/engagements/{id}/labour/entries/{entry}/remove",
            post(labour::remove_entry),
        )
        .route(
            "/engagements/{id}/labour/weeks/{week}",
            post(labour::week_step),
        )
        .route("/labour", get(labour::rollup))
        .route("/labour/rollup.xlsx", get(labour::rollup_xlsx))
        .route("/labour/rollup.csv", get(labour::rollup_csv))
        .route("/engagements/{id}/report", get(report::show))
        .route("/engagements/{id}/report/findings", post(report::propose))
        .route("/engagements/{id}/report/findings/{n}", post(report::edit))
        .route(
            "/engagements/{id}/report/findings/{n}/review",
            post(report::review),
        )
        .route("/engagements/{id}/report/{n}/{file}", get(report::download))
        .route(
            "/engagements/{id}/deliverables/{kind}/submit",
            post(deliverables::submit),
        )
        .route(
            "/engagements/{id}/deliverables/{kind}/review",
            post(deliverables::review),
        )
        .route(
            "/engagements/{id}/deliverables/{kind}/versions/{n}",
            get(deliverables::version),
        )
        .route("/review", get(review::queue))
        .route("/statistics", get(statistics::list).post(statistics::draft))
        .route("/statistics/{id}", get(statistics::show))
        .route("/statistics/{id}/decision", post(statistics::decide))
        .route(
            "/statistics/{id}/export/{format}",
            get(statistics::download),
        )
        .public("/public/statistics", get(statistics::public_list))
        .public("/public/statistics/{number}", get(statistics::public_show))
        .public(
            "/public/statistics/{number}/export/{format}",
            get(statistics::public_download),
        )
        .route("/advisories", get(advisories::overview))
        .route("/advisories/rematch", post(advisories::rematch))
        .route(
            "/advisories/matches/{case}/review",
            post(advisories::review),
        )
        .route("/hospitals/{id}/advisories", get(advisories::hospital))
        .route(
            "/hospitals/{id}/advisories/{case}/step",
            post(advisories::step),
        )
        .route(
            "/hospitals/{id}/advisories/notices/{number}",
            get(advisories::notice),
        )
        .route(
            "/engagements/{id}/deliverables/{kind}/threads",
            post(review::open_thread),
        )
        .route(
            "/engagements/{id}/deliverables/{kind}/deep-dives",
            post(review::request_deep_dive),
        )
        .route(
            "/engagements/{id}/threads/{thread}",
            post(review::thread_step),
        )
        .route(
            "/engagements/{id}/deep-dives/{dive}",
            post(review::deep_dive_step),
        )
        .route(
            "/engagements/{id}/checklist.xlsx",
            get(checklists::export_xlsx),
        )
        .route(
            "/engagements/{id}/checklist.pdf",
            get(checklists::export_pdf),
        )
        .route(
            "/engagements/{id}/checklist/respondents",
            post(checklists::add_respondent),
        )
        .route(
            "/engagements/{id}/checklist/respondents/{respondent}",
            get(checklists::respondent),
        )
        .route(
            "/engagements/{id}/checklist/respondents/{respondent}/answer",
            post(checklists::save_answer),
        )
        .route(
            "/engagements/{id}/checklist/respondents/{respondent}/submit",
            post(checklists::submit),
        )
        .route(
            "/engagements/{id}/checklist/respondents/{respondent}/link",
            post(checklists::issue_link),
        )
        .route(
            "/engagements/{id}/checklist/respondents/{respondent}/import",
            post(checklists::import_answers).body_limit(session::UPLOAD_LIMIT),
        )
        .route(
            "/engagements/{id}/checklist/hearings",
            post(checklists::record_hearing),
        )
        .route(
            "/engagements/{id}/checklist/hearings/{hearing}",
            get(checklists::hearing),
        )
        .route(
            "/engagements/{id}/checklist/hearings/{hearing}/confirm",
            post(checklists::confirm),
        )
        .route(
            "/engagements/{id}/requests",
            post(checklists::raise_request),
        )
        .route(
            "/engagements/{id}/requests/{request}/receive",
            post(checklists::receive_request).body_limit(session::UPLOAD_LIMIT),
        )
        .route(
            "/engagements/{id}/requests/{request}/file",
            get(checklists::request_file),
        )
        .route(
            "/engagements/{id}/inquiries",
            post(checklists::open_inquiry),
        )
        .route(
            "/engagements/{id}/inquiries/{inquiry}/file",
            get(checklists::inquiry_file),
        )
        .public("/r/{token}", get(checklists::link_page))
        .public("/r/{token}/answer", post(checklists::link_answer))
        .public("/r/{token}/submit", post(checklists::link_submit))
        .public(
            "/v/{token}",
            get(checklists::inquiry_page)
                .post(checklists::inquiry_answer)
                .body_limit(session::UPLOAD_LIMIT),
        )
        .route("/letters", get(letters::list))
        .route("/letters/{kind}", get(letters::show).post(letters::submit))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_read))
        .route("/outbox", get(notifications::outbox))
}

/// What answers outside the pages and the API: health and static assets.
fn root_routes() -> Routes {
    Routes::new(Area::Ui, "")
        .public("/healthz", get(healthz))
        .public("/static/{file}", get(assets::serve))
}

/// Every route the application answers, method by method, from the same
/// registration that builds the router: security tests walk it.
pub fn route_inventory() -> Vec<RouteInfo> {
    [page_routes(), api::routes(), root_routes()]
        .into_iter()
        .flat_map(|r| r.finish().1)
        .collect()
}

/// The whole application as a router (tests drive it directly).
pub fn app(store: Store, config: WebConfig) -> Router {
    let state = AppState {
        store,
        config: config.clone(),
        charts: Default::default(),
    };
    let (pages, _) = page_routes().finish();
    let pages = pages
        .fallback(page_not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::resolve,
        ));
    let tls = config.tls;
    let (api, _) = api::routes().finish();
    let (root, _) = root_routes().finish();
    Router::new()
        .merge(pages)
        .nest(api::PREFIX, api.fallback(api::not_found))
        .merge(root)
        .layer(axum::middleware::from_fn(error::friendly_rejections))
        .layer(axum::extract::DefaultBodyLimit::max(session::FORM_LIMIT))
        .layer(axum::middleware::from_fn(move |req, next| {
            security::headers(tls, req, next)
        }))
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, then finishes requests in flight.
pub async fn serve(
    store: Store,
    listener: tokio::net::TcpListener,
    config: WebConfig,
) -> std::io::Result<()> {
    let app = app(store, config);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
