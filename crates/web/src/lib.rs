//! Mamori's web application: server-rendered pages (Japanese first) and the
//! JSON API under `/api/v1`, both over the same store, policy and audit log.

use axum::Router;
use mamori_store::Store;

/// How the web application runs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Served over TLS (directly or behind a proxy): cookies get `Secure`
    /// and responses carry HSTS.
    pub tls: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// you run).
    pub trust_forwarded_for: bool,
}

/// The whole application as a router (tests drive it directly).
pub fn app(store: Store, config: WebConfig) -> Router {
    let _ = (store, config);
    Router::new().route("/healthz", axum::routing::get(|| async { "ok" }))
}

/// Serves until Ctrl-C or SIGTERM, then finishes requests in flight.
pub async fn serve(store: Store, listener: tokio::net::TcpListener, config: WebConfig) -> std::io::Result<()> {
    let app = app(store, config);
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
