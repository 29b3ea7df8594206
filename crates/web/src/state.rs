use crate::WebConfig;
use mamori_store::Store;

/// What every handler shares: the store and the configuration. No other
/// in-process state, so instances behind a load balancer are interchangeable.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: WebConfig,
}
