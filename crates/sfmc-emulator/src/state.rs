//! The emulator's shared in-memory state (packages, token mint, counters, fault queues) and
//! [`EmulatorHandle`], the embedder's way to read and steer it.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::http::HeaderMap;
use axum::http::header::HOST;

use crate::config::{EmulatorConfig, Package};
use crate::faults::{Fault, FaultQueues};
use crate::stats::{Counters, Stats};
use crate::tokens::{MAX_SCOPES_PER_PACKAGE, TokenMint};

/// A configured package as the request handlers need it.
pub(crate) struct PackageEntry {
    /// The package as configured.
    pub package: Package,
    /// The package's scopes, deduplicated, in configured order, at most
    /// [`MAX_SCOPES_PER_PACKAGE`]; granted scopes are indices into this list.
    pub scopes: Vec<String>,
    /// Position of each scope in `scopes`.
    pub scope_index: HashMap<String, usize>,
    /// Token requests naming this package's client id.
    pub token_requests: AtomicU64,
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub packages: Vec<PackageEntry>,
    pub by_client_id: HashMap<String, usize>,
    pub token_ttl_secs: u64,
    pub mint: TokenMint,
    pub counters: Counters,
    pub faults: FaultQueues,
    /// The address a started emulator listens on (unset when only embedded as a router).
    pub bound: OnceLock<SocketAddr>,
}

/// What handlers receive as axum state.
pub(crate) type AppState = Arc<Shared>;

impl Shared {
    pub(crate) fn new(config: EmulatorConfig) -> Self {
        let mut by_client_id = HashMap::new();
        let packages: Vec<PackageEntry> = config
            .packages
            .into_iter()
            .enumerate()
            .map(|(i, package)| {
                by_client_id.entry(package.client_id.clone()).or_insert(i);
                let mut scopes: Vec<String> = Vec::new();
                for s in &package.scopes {
                    if !scopes.contains(s) {
                        scopes.push(s.clone());
                    }
                }
                if scopes.len() > MAX_SCOPES_PER_PACKAGE {
                    tracing::warn!(
                        client_id = %package.client_id,
                        "package has more than {MAX_SCOPES_PER_PACKAGE} scopes; the rest are ignored"
                    );
                    scopes.truncate(MAX_SCOPES_PER_PACKAGE);
                }
                let scope_index = scopes.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect();
                PackageEntry { package, scopes, scope_index, token_requests: AtomicU64::new(0) }
            })
            .collect();
        Shared {
            packages,
            by_client_id,
            token_ttl_secs: config.token_ttl_secs,
            mint: TokenMint::new(),
            counters: Counters::default(),
            faults: FaultQueues::default(),
            bound: OnceLock::new(),
        }
    }

    /// `http://host[:port]` (no trailing slash) under which the client reached us: the request's
    /// `Host` header when it is a plausible host, else the bound address, else `localhost`.
    pub(crate) fn base_url(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_plausible_host(h));
        match (host, self.bound.get()) {
            (Some(h), _) => format!("http://{h}"),
            (None, Some(addr)) => format!("http://{}", reachable(*addr)),
            (None, None) => "http://localhost".to_owned(),
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        let token_requests_by_client: BTreeMap<String, u64> = self
            .packages
            .iter()
            .filter_map(|p| {
                let n = p.token_requests.load(Ordering::Relaxed);
                (n > 0).then(|| (p.package.client_id.clone(), n))
            })
            .collect();
        self.counters.snapshot(token_requests_by_client)
    }
}

/// Host header values we are willing to echo into instance URLs.
fn is_plausible_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
}

/// The address a client can use to reach a listener bound to `addr` (unspecified → loopback).
pub(crate) fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

/// A cheap, cloneable handle on a running or embedded emulator's state.
#[derive(Clone)]
pub struct EmulatorHandle {
    pub(crate) shared: AppState,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// A snapshot of the request counters (same as `GET /_emulator/stats`).
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Invalidates every token issued so far (same as `POST /_emulator/revoke`).
    pub fn revoke_all(&self) {
        self.shared.mint.revoke_all();
    }

    /// Queues a fault (same as `POST /_emulator/faults`). A fault with `count` 0 does nothing;
    /// a `status` outside 200–599 is answered as 500.
    pub fn add_fault(&self, fault: Fault) {
        self.shared.faults.push(fault);
    }

    /// Drops every queued fault (same as `DELETE /_emulator/faults`).
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Faults still queued, in the order they will apply.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.faults.pending()
    }

    /// Records the address the emulator listens on (used when a request has no usable `Host`).
    pub fn set_listen_addr(&self, addr: SocketAddr) {
        let _ = self.shared.bound.set(addr);
    }
}
