//! Route registration that is also the route inventory: every page and API
//! route goes through [`Routes`], which records its path and methods as it
//! hands it to axum, so the list security tests walk
//! ([`crate::route_inventory`]) is the router itself.
//!
//! The only way to build an [`Endpoint`] is through [`get`], [`post`],
//! [`put`] and [`delete`] below, and [`Routes::route`] only takes an
//! [`Endpoint`]: a handler cannot reach the router without being listed.

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

/// Who a route is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// A page for signed-in people (session cookie, CSRF on writes).
    Ui,
    /// The JSON API under `/api/v1` (bearer token).
    Api,
    /// Deliberately answered without a session: sign-in, health, static
    /// assets, respondent and vendor links, published statistics, the
    /// OpenAPI description.
    Public,
}

/// One method on one path, as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// The full path with axum's `{param}` placeholders.
    pub path: String,
    pub area: Area,
}

/// Handlers for one path, with the methods they answer.
pub(crate) struct Endpoint {
    methods: Vec<Method>,
    router: MethodRouter<AppState>,
}

macro_rules! method_fns {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            /// An endpoint answering this method with `handler`.
            pub(crate) fn $name<H, T>(handler: H) -> Endpoint
            where
                H: Handler<T, AppState>,
                T: 'static,
            {
                Endpoint {
                    methods: vec![Method::$method],
                    router: routing::$name(handler),
                }
            }
        )*

        impl Endpoint {
            $(
                /// Also answers this method with `handler`.
                #[allow(dead_code)]
                pub(crate) fn $name<H, T>(mut self, handler: H) -> Endpoint
                where
                    H: Handler<T, AppState>,
                    T: 'static,
                {
                    self.methods.push(Method::$method);
                    self.router = self.router.$name(handler);
                    self
                }
            )*
        }
    };
}

method_fns!(get => GET, post => POST, put => PUT, delete => DELETE);

impl Endpoint {
    /// Accepts bodies up to `bytes` on the methods given so far (uploads).
    pub(crate) fn body_limit(mut self, bytes: usize) -> Endpoint {
        self.router = self.router.layer(DefaultBodyLimit::max(bytes));
        self
    }
}

/// A router under construction and the list of what it answers.
pub(crate) struct Routes {
    area: Area,
    prefix: &'static str,
    router: Router<AppState>,
    inventory: Vec<RouteInfo>,
}

impl Routes {
    /// Routes of `area`, to be mounted under `prefix` (`""` at the root).
    pub(crate) fn new(area: Area, prefix: &'static str) -> Routes {
        Routes {
            area,
            prefix,
            router: Router::new(),
            inventory: Vec::new(),
        }
    }

    /// A route of this set's area.
    pub(crate) fn route(self, path: &'static str, endpoint: Endpoint) -> Routes {
        let area = self.area;
        self.add(area, path, endpoint)
    }

    /// A route deliberately answered without a session or token.
    pub(crate) fn public(self, path: &'static str, endpoint: Endpoint) -> Routes {
        self.add(Area::Public, path, endpoint)
    }

    fn add(mut self, area: Area, path: &'static str, endpoint: Endpoint) -> Routes {
        for method in endpoint.methods {
            self.inventory.push(RouteInfo {
                method,
                path: format!("{}{path}", self.prefix),
                area,
            });
        }
        self.router = self.router.route(path, endpoint.router);
        self
    }

    /// The router (paths relative to the prefix) and its inventory.
    pub(crate) fn finish(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.inventory)
    }
}
