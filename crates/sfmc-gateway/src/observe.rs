//! The layer around every route: the inbound key check ([`crate::auth`]), then the request is
//! counted in the metrics (by the labels the handler put on its answer, see
//! [`crate::metrics::Observed`]) and logged — method, path without its query, route,
//! connection, status, latency — never a header, a key or a token.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth;
use crate::error::json_error;
use crate::metrics::{Observed, Route, Timer};
use crate::state::AppState;

/// Puts the labels of an answer on it.
pub(crate) fn tagged(mut response: Response, route: Route, connection: Option<usize>) -> Response {
    response
        .extensions_mut()
        .insert(Observed { route, connection });
    response
}

/// The middleware.
pub(crate) async fn observe(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let timer = Timer::start();
    let _in_flight = state.metrics.in_flight();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = if auth::is_open_path(uri.path())
        || auth::is_allowed(&state.keys, request.headers())
    {
        next.run(request).await
    } else {
        let mut refused = json_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this gateway requires an API key: send Authorization: Bearer KEY or X-Api-Key: KEY",
        );
        refused
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        tagged(refused, Route::Unauthorized, None)
    };
    let observed = response
        .extensions()
        .get::<Observed>()
        .copied()
        .unwrap_or(Observed {
            route: Route::Unmatched,
            connection: None,
        });
    let elapsed = timer.elapsed();
    let status = response.status().as_u16();
    state.metrics.record(observed, status, elapsed);
    let connection = observed
        .connection
        .and_then(|i| state.connections.get(i))
        .map_or("", |c| c.name.as_str());
    tracing::info!(
        target: "sfmc_gateway::request",
        method = %method,
        path = uri.path(),
        route = observed.route.label(state.metrics.mounts()),
        connection,
        status,
        latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}
