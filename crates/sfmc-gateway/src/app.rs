//! [`Gateway`]: the connections and `[server]` settings made into an axum router — the
//! gateway's routes, any routers mounted beside them (the MCP server's `/mcp`, its request
//! bodies read first and held to `[server] max_body_bytes` and the upstream timeout like the
//! bodies the gateway reads itself), one layer for
//! inbound keys, metrics and request logs around all of them — and [`Listening`], the bound
//! socket that serves it on the gateway's worker threads (module `workers`) until a shutdown
//! signal.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{map_request, map_response};
use axum::response::Response;
use sfmc_auth::HttpTimeouts;
use sfmc_auth::config::ServerConfig;
use sfmc_client::{ClientConfig, Connections};
use tokio::net::TcpSocket;

use crate::auth::require_keys_off_loopback;
use crate::metrics::{Metrics, Observed, Route};
use crate::observe::ObserveLayer;
use crate::state::{AppState, Connection, Limits};
use crate::upstream::Upstreams;
use crate::{routes, workers};

/// Where the gateway listens when neither `--listen` nor `[server] listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8290";

/// Connections waiting to be accepted (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;

/// How long connecting to Marketing Cloud may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the gateway cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// A listener off loopback without `[server] api_keys`.
    #[error("{0}")]
    InsecureListener(String),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot start the HTTP client: {0}")]
    Http(String),
    /// A mount path that is not `/name…`.
    #[error("cannot mount a router at {0:?}: give a path like \"/mcp\"")]
    MountPath(String),
}

/// The gateway, ready to bind.
pub struct Gateway {
    connections: Connections,
    server: ServerConfig,
    http: reqwest::Client,
    mounts: Vec<(String, Router)>,
}

impl Gateway {
    /// The gateway of `connections` under the `[server]` settings (limits, keys, timeouts).
    pub fn new(connections: Connections, server: &ServerConfig) -> Result<Self, GatewayError> {
        let http = sfmc_auth::http::build_client(HttpTimeouts::new(
            CONNECT_TIMEOUT,
            server.upstream_timeout,
        ))
        .map_err(|e| GatewayError::Http(e.to_string()))?;
        Ok(Self {
            connections,
            server: server.clone(),
            http,
            mounts: Vec::new(),
        })
    }

    /// Serves `router` under `path` (e.g. `/mcp`), behind the same inbound keys, metrics (its
    /// route label is `path`) and request logs as the gateway's own routes.
    pub fn mount(mut self, path: &str, router: Router) -> Result<Self, GatewayError> {
        let valid = path.len() > 1
            && path.starts_with('/')
            && !path.ends_with('/')
            && !path.contains(['{', '}', '*']);
        if !valid {
            return Err(GatewayError::MountPath(path.to_owned()));
        }
        self.mounts.push((path.to_owned(), router));
        Ok(self)
    }

    /// The whole router (for tests with `tower::ServiceExt::oneshot`, or another server).
    pub fn into_router(self) -> Router {
        let limits = Limits {
            max_body_bytes: self.server.max_body_bytes,
            body_timeout: self.server.upstream_timeout,
        };
        let client_config = ClientConfig {
            deadline: self.server.upstream_timeout,
            ..ClientConfig::default()
        };
        let connections: Vec<Connection> = self
            .connections
            .summaries()
            .filter_map(|summary| {
                let client = self.connections.client(Some(&summary.name), None).ok()?;
                Some(Connection {
                    name: summary.name.clone(),
                    client: client.with_config(client_config.clone()),
                    token_failures: AtomicU64::new(0),
                    authorization: ArcSwapOption::empty(),
                })
            })
            .collect();
        let names = connections.iter().map(|c| c.name.clone()).collect();
        let mount_paths = self.mounts.iter().map(|(p, _)| p.clone()).collect();
        let state = Arc::new(AppState {
            connections,
            all: self.connections,
            http: self.http,
            upstreams: Upstreams::new(self.server.upstream_timeout),
            limits,
            keys: self.server.api_keys.clone(),
            metrics: Metrics::new(names, mount_paths),
        });
        let mut router = routes::router(state.clone());
        for (i, (path, mounted)) in self.mounts.into_iter().enumerate() {
            let label = move |mut response: Response| async move {
                if response.extensions().get::<Observed>().is_none() {
                    response.extensions_mut().insert(Observed {
                        route: Route::Mounted(i),
                        connection: None,
                    });
                }
                response
            };
            let reading = state.clone();
            let limited = move |request: Request| {
                let state = reading.clone();
                async move { read_body(&state, request).await }
            };
            let mounted = mounted
                .layer(map_request(limited))
                .layer(map_response(label));
            router = router.nest(&path, mounted);
        }
        router.layer(ObserveLayer::new(state))
    }

    /// Binds `addr` (port 0 picks a free port). A listener that is not loopback needs
    /// `[server] api_keys`.
    pub async fn bind(self, addr: SocketAddr) -> Result<Listening, GatewayError> {
        require_keys_off_loopback(addr, &self.server.api_keys)
            .map_err(GatewayError::InsecureListener)?;
        let listener = listen(addr).map_err(|source| GatewayError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| GatewayError::Bind { addr, source })?;
        let manager = self.connections.manager().clone();
        let grace = self.server.shutdown_grace;
        Ok(Listening {
            listener,
            local_addr,
            router: self.into_router(),
            grace,
            manager,
        })
    }
}

/// A mounted router's request with its body read first ([`routes::body::read_whole`]: 413,
/// 408, 400 as for operation parameters), so that the mounted router (rmcp answers a body that
/// fails to be read with a 500) never sees a body that fails, and a trickling caller cannot
/// hold it open.
async fn read_body(state: &AppState, request: Request) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let bytes = routes::body::read_whole(&state.limits, &parts.headers, body).await?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// A listener with a deep backlog (bursts of new connections wait instead of being dropped),
/// not yet tied to a runtime: every worker accepts on it.
fn listen(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)?.into_std()
}

/// A bound gateway.
pub struct Listening {
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
    router: Router,
    grace: Duration,
    manager: sfmc_auth::TokenManager,
}

impl Listening {
    /// The bound address (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets requests in flight finish
    /// for at most `[server] shutdown_grace_secs`, and stops the token refreshes in flight
    /// (releasing their store locks).
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let workers = workers::serve(self.listener, self.router, shutdown, self.grace).await?;
        // Refreshes run on the workers' runtimes: they are stopped before those end.
        self.manager
            .shutdown(self.grace.max(Duration::from_secs(1)))
            .await;
        workers.release().await;
        Ok(())
    }
}
