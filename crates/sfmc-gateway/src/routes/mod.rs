//! The routes: one module per family of routes, and what they share — finding the connection a
//! path names and the business unit a request asks for (`?account_id=` or
//! `X-SFMC-Account-Id`).

pub(crate) mod body;
pub(crate) mod connections;
pub(crate) mod health;
pub(crate) mod metrics;
pub(crate) mod operations;
pub mod proxy;

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{any, get, post};
use sfmc_client::Client;

use crate::error::{json_error, unknown_connection};
use crate::forward::ACCOUNT_HEADER;
use crate::metrics::Route;
use crate::observe::tagged;
use crate::proxy_path::split_account;
use crate::state::AppState;

/// The gateway's own routes.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(health::healthz).fallback(method_not_allowed),
        )
        .route(
            "/metrics",
            get(metrics::metrics).fallback(method_not_allowed),
        )
        .route(
            "/connections",
            get(connections::list).fallback(method_not_allowed),
        )
        .route(
            "/connections/{name}/test",
            get(connections::test).fallback(method_not_allowed),
        )
        .route(
            "/connections/{name}/operations",
            get(operations::list).fallback(method_not_allowed),
        )
        .route(
            "/connections/{name}/operations/{operation}",
            post(operations::call).fallback(method_not_allowed),
        )
        .route("/connections/{name}/rest/{*path}", any(proxy::proxy))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see GET /connections, /connections/{name}/operations, /connections/{name}/rest/{path}",
    )
}

async fn method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take this method",
    )
}

/// The `n`-th segment of the path (`/connections/{name}/…`: `name` is segment 2), raw: the
/// handlers decode names themselves, so that a name that is not UTF-8 once decoded is an unknown
/// name (a JSON 404) rather than axum's plain-text rejection of a `Path` that does not decode.
pub(crate) fn raw_segment(uri: &Uri, n: usize) -> &str {
    uri.path().split('/').nth(n).unwrap_or("")
}

/// The business unit a request asks for: `account_id` in the query, else the header.
pub(crate) fn account_id(query: Option<&str>, headers: &HeaderMap) -> Option<String> {
    split_account(query.unwrap_or(""))
        .1
        .or_else(|| header_account_id(headers))
}

/// The business unit of the `X-SFMC-Account-Id` header.
pub(crate) fn header_account_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ACCOUNT_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// The connection named `name` and its client for `account_id` (else its own business unit),
/// or the error answer (tagged for `route`).
pub(crate) fn client_for<'s>(
    state: &'s AppState,
    name: &str,
    account_id: Option<&str>,
    route: Route,
) -> Result<(usize, Cow<'s, Client>), Response> {
    let Some((index, connection)) = state.connection(name) else {
        return Err(tagged(
            unknown_connection(name, &state.known_names()),
            route,
            None,
        ));
    };
    match account_id {
        None => Ok((index, Cow::Borrowed(&connection.client))),
        Some(mid) => match connection.client.for_account(mid) {
            Ok(client) => Ok((index, Cow::Owned(client))),
            Err(error) => Err(tagged(
                json_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_account_id",
                    format!("account_id: {error}"),
                ),
                route,
                Some(index),
            )),
        },
    }
}
