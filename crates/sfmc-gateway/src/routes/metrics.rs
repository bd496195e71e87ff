//! `GET /metrics`: Prometheus text — requests by connection, route and status, the latency
//! histogram, requests in flight, token requests, and per connection token failures, token age
//! and the seconds until the token expires.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::metrics::{Route, escape, header as help};
use crate::observe::tagged;
use crate::state::AppState;

/// The metrics page.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut out = String::with_capacity(4096);
    state.metrics.render(&mut out);
    help(
        &mut out,
        "sfmc_gateway_token_requests_total",
        "counter",
        "Token requests sent to Marketing Cloud by this process (all connections, retries included).",
    );
    let _ = writeln!(
        out,
        "sfmc_gateway_token_requests_total {}",
        state.all.manager().token_requests()
    );
    help(
        &mut out,
        "sfmc_gateway_token_failures_total",
        "counter",
        "Requests that could not get a token, by connection.",
    );
    for c in &state.connections {
        let _ = writeln!(
            out,
            "sfmc_gateway_token_failures_total{{connection=\"{}\"}} {}",
            escape(&c.name),
            c.token_failures.load(Ordering::Relaxed)
        );
    }
    help(
        &mut out,
        "sfmc_gateway_token_age_seconds",
        "gauge",
        "Age of the cached token of each connection's own business unit (absent before the first).",
    );
    let mut expiries = Vec::new();
    for c in &state.connections {
        let handle = c.client.token_handle();
        let Some(token) = handle.cached() else {
            continue;
        };
        let now_ms = handle.now_ms();
        let lifetime_ms = token.response().expires_in.saturating_mul(1000);
        let issued_ms = token.expires_at_ms().saturating_sub(lifetime_ms);
        let age = now_ms.saturating_sub(issued_ms) / 1000;
        let name = escape(&c.name);
        let _ = writeln!(
            out,
            "sfmc_gateway_token_age_seconds{{connection=\"{name}\"}} {age}"
        );
        expiries.push((name, token.remaining_secs(now_ms)));
    }
    help(
        &mut out,
        "sfmc_gateway_token_expires_in_seconds",
        "gauge",
        "Seconds until the cached token of each connection's own business unit expires.",
    );
    for (name, remaining) in expiries {
        let _ = writeln!(
            out,
            "sfmc_gateway_token_expires_in_seconds{{connection=\"{name}\"}} {remaining}"
        );
    }
    let response = (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response();
    tagged(response, Route::Metrics, None)
}
