//! The labels of a request's series: its [`Route`] (a fixed set, plus one per mounted router)
//! and the connection it named, put on the answer as [`Observed`] for the observer.

/// What a request was, for its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /healthz`
    Healthz,
    /// `GET /metrics`
    Metrics,
    /// `GET /connections`
    Connections,
    /// `GET /connections/{name}/test`
    Test,
    /// `GET /connections/{name}/operations`
    Operations,
    /// `POST /connections/{name}/operations/{operation}`
    Operation,
    /// `ANY /connections/{name}/rest/{*path}`
    Rest,
    /// No route matched.
    Unmatched,
    /// Refused before any route: a missing or wrong API key, or (without keys) a browser's
    /// request for a page of another site.
    Unauthorized,
    /// The router mounted at the n-th extra path.
    Mounted(usize),
}

/// The routes that are not mounted routers.
pub(super) const FIXED_ROUTES: usize = 9;

impl Route {
    pub(super) fn index(self) -> usize {
        match self {
            Self::Healthz => 0,
            Self::Metrics => 1,
            Self::Connections => 2,
            Self::Test => 3,
            Self::Operations => 4,
            Self::Operation => 5,
            Self::Rest => 6,
            Self::Unmatched => 7,
            Self::Unauthorized => 8,
            Self::Mounted(n) => FIXED_ROUTES + n,
        }
    }

    /// The `route` label.
    pub(crate) fn label(self, mounts: &[String]) -> &str {
        match self {
            Self::Healthz => "healthz",
            Self::Metrics => "metrics",
            Self::Connections => "connections",
            Self::Test => "test",
            Self::Operations => "operations",
            Self::Operation => "operation",
            Self::Rest => "rest",
            Self::Unmatched => "unmatched",
            Self::Unauthorized => "unauthorized",
            Self::Mounted(n) => mounts.get(n).map_or("mounted", String::as_str),
        }
    }
}

/// The labels a handler puts on its answer (as a response extension) for the observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Observed {
    /// The route.
    pub route: Route,
    /// The connection's index, when the request named a known one.
    pub connection: Option<usize>,
}

/// The route of series column `i`.
pub(super) fn route_of(i: usize) -> Route {
    const FIXED: [Route; FIXED_ROUTES] = [
        Route::Healthz,
        Route::Metrics,
        Route::Connections,
        Route::Test,
        Route::Operations,
        Route::Operation,
        Route::Rest,
        Route::Unmatched,
        Route::Unauthorized,
    ];
    FIXED
        .get(i)
        .copied()
        .unwrap_or_else(|| Route::Mounted(i - FIXED_ROUTES))
}
