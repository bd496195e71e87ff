//! Inbound access: when `[server] api_keys` holds digests, every request but `GET /healthz`
//! must present one of the keys, as `Authorization: Bearer KEY` or `X-Api-Key: KEY`. Keys are
//! compared by digest in constant time ([`ApiKeys::verify`]) and never logged; a listener that
//! is not loopback must have keys ([`require_keys_off_loopback`]). Without keys, requests that a
//! browser sends on behalf of a page from another site are turned away (module `browser`):
//! loopback is the guard then, and such pages are not local callers. `admit` decides.

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};
use sfmc_auth::config::ApiKeys;

use crate::browser::{self, Foreign};
use crate::forward::API_KEY_HEADER;

/// Why a request is turned away before any route sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Keys are required and none of them was presented.
    NoKey,
    /// A keyless gateway asked for under a `Host` that is not loopback (DNS rebinding).
    ForeignHost,
    /// A keyless gateway called by a browser for a page of another site.
    CrossSite,
}

/// Whether a request for `path` with `headers` may reach the routes.
pub(crate) fn admit(keys: &ApiKeys, path: &str, headers: &HeaderMap) -> Result<(), Refusal> {
    if is_open_path(path) {
        return Ok(());
    }
    if !keys.is_empty() {
        return if is_allowed(keys, headers) {
            Ok(())
        } else {
            Err(Refusal::NoKey)
        };
    }
    match browser::foreign(headers) {
        None => Ok(()),
        Some(Foreign::Host) => Err(Refusal::ForeignHost),
        Some(Foreign::Site) => Err(Refusal::CrossSite),
    }
}

/// The key a request presents, if any: `X-Api-Key`, else the token of `Authorization: Bearer`.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get(API_KEY_HEADER) {
        return key.to_str().ok().map(str::trim);
    }
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = authorization.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

/// Whether a request with `headers` may pass: always when no key is configured.
pub fn is_allowed(keys: &ApiKeys, headers: &HeaderMap) -> bool {
    keys.is_empty() || presented_key(headers).is_some_and(|key| keys.verify(key))
}

/// Paths served without a key (a load balancer's health probe).
pub fn is_open_path(path: &str) -> bool {
    path == "/healthz"
}

/// Refuses a listener that other machines can reach when no key guards it.
pub fn require_keys_off_loopback(addr: SocketAddr, keys: &ApiKeys) -> Result<(), String> {
    if addr.ip().is_loopback() || !keys.is_empty() {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {addr} without [server] api_keys: a listener that is not loopback must require inbound API keys (store digests printed by `sfmc gateway --hash-key`), or listen on 127.0.0.1"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use sfmc_auth::config::hash_api_key;

    fn keys() -> ApiKeys {
        let digest = hash_api_key("k-1");
        ApiKeys::parse([digest.as_str()]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn with(name: &'static str, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn accepts_the_key_in_either_header_only() {
        assert!(is_allowed(&keys(), &with("x-api-key", "k-1")));
        assert!(is_allowed(&keys(), &with("authorization", "Bearer k-1")));
        assert!(is_allowed(&keys(), &with("authorization", "bearer  k-1 ")));
        assert!(!is_allowed(&keys(), &with("authorization", "Basic k-1")));
        assert!(!is_allowed(&keys(), &with("x-api-key", "k-2")));
        assert!(!is_allowed(&keys(), &HeaderMap::new()));
        assert!(is_allowed(&ApiKeys::default(), &HeaderMap::new()));
    }

    #[test]
    fn off_loopback_needs_keys() {
        let any = "0.0.0.0:8290".parse().unwrap_or_else(|e| panic!("{e}"));
        let local = "127.0.0.1:8290".parse().unwrap_or_else(|e| panic!("{e}"));
        let v6 = "[::1]:8290".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(require_keys_off_loopback(any, &ApiKeys::default()).is_err());
        assert!(require_keys_off_loopback(any, &keys()).is_ok());
        assert!(require_keys_off_loopback(local, &ApiKeys::default()).is_ok());
        assert!(require_keys_off_loopback(v6, &ApiKeys::default()).is_ok());
    }
}
