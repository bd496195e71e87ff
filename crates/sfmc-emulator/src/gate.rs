//! Per-request bookkeeping after path normalization and before routing: sorts each request
//! into token, control or API traffic, counts token and API requests, and applies queued API
//! faults, within the request timeout. (Token faults are applied by the token handler, after it has noted the client id.)

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::deadline;
use crate::faults::FaultTarget;
use crate::state::AppState;

/// Prefix of the control plane's paths (normalized).
pub(crate) const CONTROL_PREFIX: &str = "/_emulator";

/// Middleware: counts the request and applies an API fault if one is queued, all within the
/// request timeout ([`deadline::bounded`]).
pub(crate) async fn gate(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let timeout = shared.request_timeout;
    deadline::bounded(timeout, sort(shared, request, next)).await
}

/// Counts the request and applies an API fault if one is queued.
async fn sort(shared: AppState, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == CONTROL_PREFIX || path.starts_with("/_emulator/") {
        return next.run(request).await;
    }
    if path == "/v2/token" && request.method() == Method::POST {
        shared.counters.token_request();
        return next.run(request).await;
    }
    shared.counters.api_request();
    if let Some(effect) = shared.faults.take(FaultTarget::Api)
        && let Some(response) = effect.apply().await
    {
        return response;
    }
    next.run(request).await
}
