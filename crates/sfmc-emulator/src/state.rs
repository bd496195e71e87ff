//! The emulator's shared in-memory state (packages, token mint, counters, fault queues) and
//! [`EmulatorHandle`], the embedder's way to read and steer it.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::config::{EmulatorConfig, Package};
use crate::faults::{Fault, FaultQueues};
use crate::stats::{Counters, Stats};
use crate::store::Stores;
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
    /// How long a request may take from its headers to its answer ([`crate::deadline`]).
    pub request_timeout: std::time::Duration,
    pub mint: TokenMint,
    pub counters: Counters,
    pub faults: FaultQueues,
    /// The REST families' data, per business unit.
    pub stores: Stores,
    /// The configured public base URL, ending in `/`.
    pub public_url: Option<String>,
    /// The address a started emulator listens on (unset when only embedded as a router).
    pub bound: OnceLock<SocketAddr>,
}

/// What handlers receive as axum state.
pub(crate) type AppState = Arc<Shared>;

impl Shared {
    pub(crate) fn new(config: EmulatorConfig) -> Self {
        let public_url = config.checked_public_url();
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
            request_timeout: config.request_timeout,
            mint: TokenMint::new(),
            counters: Counters::default(),
            faults: FaultQueues::default(),
            stores: Stores::default(),
            public_url,
            bound: OnceLock::new(),
        }
    }

    /// The instance URL announced to clients (`rest_instance_url`, `soap_instance_url`,
    /// userinfo's `rest`), ending in `/`: the configured public URL, else the listen address,
    /// else `http://localhost/`. Never taken from the request, so a forged `Host` header
    /// cannot point clients elsewhere.
    pub(crate) fn instance_url(&self) -> String {
        match (&self.public_url, self.bound.get()) {
            (Some(url), _) => url.clone(),
            (None, Some(addr)) => format!("http://{}/", reachable(*addr)),
            (None, None) => "http://localhost/".to_owned(),
        }
    }

    /// The MID the control plane means when none is given: the first package's own.
    pub(crate) fn default_mid(&self) -> String {
        self.packages
            .first()
            .and_then(|p| p.package.account_ids.first())
            .cloned()
            .unwrap_or_default()
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

    /// Records the address the emulator listens on; instance URLs are built from it unless
    /// the configuration has a `public_url`.
    pub fn set_listen_addr(&self, addr: SocketAddr) {
        let _ = self.shared.bound.set(addr);
    }

    /// How many status polls of each asynchronous rows request accepted from now on answer
    /// `Pending` before `Complete` (same as `POST /_emulator/settings`
    /// `{"async_pending_polls": N}`); 1 by default.
    pub fn set_async_pending_polls(&self, polls: u32) {
        self.shared.stores.set_async_pending_polls(polls);
    }

    /// Rows in data extension `key` of business unit `mid` (the first package's own MID when
    /// `None`); `None` when there is no such data extension.
    pub fn data_extension_rows(&self, key: &str, mid: Option<&str>) -> Option<usize> {
        let mid = mid.map_or_else(|| self.shared.default_mid(), str::to_owned);
        let de = self.shared.stores.unit(&mid).data_extension(key)?;
        let rows = crate::store::lock(&de).len();
        Some(rows)
    }
}
