//! [`AppState`]: what every handler shares — the connections (a client each, by index), the
//! pooled HTTP client of the proxy, the limits, the inbound keys and the metrics.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use arc_swap::ArcSwapOption;
use axum::http::HeaderValue;
use sfmc_auth::AccessToken;
use sfmc_auth::config::ApiKeys;
use sfmc_client::{Client, Connections};

use crate::metrics::Metrics;
use crate::upstream::Upstreams;

/// One named connection.
pub(crate) struct Connection {
    /// Its name (as in the config file).
    pub name: String,
    /// Its client for the connection's own business unit.
    pub client: Client,
    /// Token requests of this connection that failed (as seen by callers of the gateway).
    pub token_failures: AtomicU64,
    /// `Authorization: Bearer …` of the business unit's current token, made once per token.
    pub authorization: ArcSwapOption<(Arc<AccessToken>, HeaderValue)>,
}

impl Connection {
    /// The `Authorization` value for `token` (a token of this connection's own business unit):
    /// the one made for it before, or a new one remembered for the next requests.
    pub fn authorization(&self, token: &Arc<AccessToken>) -> HeaderValue {
        if let Some(cached) = self.authorization.load().as_deref()
            && Arc::ptr_eq(&cached.0, token)
        {
            return cached.1.clone();
        }
        let value = token.authorization_header();
        self.authorization
            .store(Some(Arc::new((token.clone(), value.clone()))));
        value
    }
}

/// Limits from `[server]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The largest request body accepted.
    pub max_body_bytes: u64,
    /// How long a body the gateway reads before answering may take to arrive (the upstream
    /// timeout): operation parameters, and proxied bodies kept for replay.
    pub body_timeout: std::time::Duration,
}

/// The shared state of the router.
pub(crate) struct AppState {
    /// The connections, in config order (their index labels metrics).
    pub connections: Vec<Connection>,
    /// All of them, for the token manager.
    pub all: Connections,
    /// The pooled client of connection tests (no redirects).
    pub http: reqwest::Client,
    /// The proxy's pooled clients, one per REST origin.
    pub upstreams: Upstreams,
    /// Limits.
    pub limits: Limits,
    /// Inbound API keys (empty: none required).
    pub keys: ApiKeys,
    /// Request counters and latencies.
    pub metrics: Metrics,
}

impl AppState {
    /// The connection named `raw` (percent-decoded first when it holds an escape), with its
    /// index.
    pub fn connection(&self, raw: &str) -> Option<(usize, &Connection)> {
        let name = decoded(raw);
        self.connections
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }

    /// The known names, comma-separated, for error messages.
    pub fn known_names(&self) -> String {
        let names: Vec<&str> = self.connections.iter().map(|c| c.name.as_str()).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// A raw path parameter percent-decoded (bytes that are not UTF-8 become U+FFFD, so that such a
/// name is simply unknown).
pub(crate) fn decoded(raw: &str) -> Cow<'_, str> {
    if raw.contains('%') {
        percent_encoding::percent_decode_str(raw).decode_utf8_lossy()
    } else {
        Cow::Borrowed(raw)
    }
}
