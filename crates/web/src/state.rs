use crate::WebConfig;
use mamori_store::Store;

/// What every handler shares: the store and the configuration. The only
/// in-process state is a memo keyed by what it reads from the database, so
/// instances behind a load balancer are interchangeable.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: WebConfig,
    /// Network and structure charts by the ledger revision they show.
    pub charts: crate::pages::ledger::diagrams::DrawnCharts,
}
