//! The process's one HTTP client and the mechanics every request shares.
//!
//! [`build_client`] makes the `reqwest::Client` that token, userinfo and API calls share: rustls,
//! connect and request timeouts ([`HttpTimeouts`]), redirects never followed, and the proxy
//! routing of [`ProxyPolicy`] (loopback and plain-http destinations always connect directly, so a
//! client secret never reaches a proxy in clear text). Next to it: bounded body reads, transport
//! errors that keep their cause without the URL, and `Retry-After` ([`retry_after`]).

mod proxy;
pub mod retry_after;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_LENGTH;

use crate::error::{AuthError, TransportSource};

pub use proxy::ProxyPolicy;

/// Timeouts of the HTTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpTimeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// A whole request, body included.
    pub request: Duration,
}

impl HttpTimeouts {
    /// Timeouts for connecting and for a whole request.
    pub fn new(connect: Duration, request: Duration) -> Self {
        Self { connect, request }
    }
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self::new(Duration::from_secs(5), Duration::from_secs(15))
    }
}

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("sfmc/", env!("CARGO_PKG_VERSION"));

/// Builds the process's client with proxies taken from the environment now
/// ([`ProxyPolicy::from_env`]). Fails only if the TLS backend cannot start.
pub fn build_client(timeouts: HttpTimeouts) -> Result<reqwest::Client, AuthError> {
    build_client_with_proxies(timeouts, ProxyPolicy::from_env())
}

/// Builds a client that routes requests by `proxies`: rustls, `timeouts.connect` for connecting,
/// `timeouts.request` as the default per-request limit (a request may set its own), no redirects
/// followed, no other proxy (system or environment) consulted.
pub fn build_client_with_proxies(
    timeouts: HttpTimeouts,
    proxies: ProxyPolicy,
) -> Result<reqwest::Client, AuthError> {
    reqwest::Client::builder()
        // `no_proxy` drops reqwest's own environment proxies (which would send loopback and
        // plain-http requests to a proxy); the policy below is then the only one.
        .no_proxy()
        .proxy(proxies.into_reqwest_proxy())
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| AuthError::config("HTTP client", error_chain(&e)))
}

/// Reads at most `limit` bytes of a body; a longer body is an invalid response.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, AuthError> {
    let too_long = || AuthError::invalid_response(format!("body is longer than {limit} bytes"));
    if let Some(len) = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_long());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > limit {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport error keeping `error` as its source, with the URL removed (from the message and
/// from the source) and without any body.
pub(crate) fn transport_error(error: reqwest::Error) -> AuthError {
    let error = error.without_url();
    AuthError::Transport {
        timeout: error.is_timeout(),
        reason: error_chain(&error),
        source: Some(TransportSource::new(Arc::new(error))),
    }
}

/// An error's message followed by its causes' (each once).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
