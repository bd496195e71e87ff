//! [`AppState`]: what every handler shares — the connections (a client each, by index), the
//! pooled HTTP client of the proxy, the limits, the inbound keys and the metrics.

use std::borrow::Cow;
use std::sync::atomic::AtomicU64;

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
}

/// Limits from `[server]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The largest request body accepted.
    pub max_body_bytes: u64,
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
        let name: Cow<'_, str> = if raw.contains('%') {
            percent_encoding::percent_decode_str(raw).decode_utf8_lossy()
        } else {
            Cow::Borrowed(raw)
        };
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
