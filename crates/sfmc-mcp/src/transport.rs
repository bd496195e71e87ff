//! Serving an [`McpServer`]: over stdio ([`serve_stdio`]: newline-delimited JSON-RPC on
//! stdin/stdout until stdin closes; nothing else may write to stdout), and over Streamable HTTP
//! as an axum router ([`http_router`], [`McpServer::http_service`]).
//!
//! The HTTP transport is stateless and answers plain JSON (no session, no server-sent event
//! stream): every request stands alone, so several gateways behind a load balancer serve it
//! without sticky sessions. By default it only accepts a loopback `Host` (DNS rebinding
//! protection); a server that authenticates its callers itself may accept any host
//! ([`HttpConfig::any_host`]).

use std::sync::Arc;

use axum::Router;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use sfmc_client::Connections;

use crate::options::{McpOptions, OptionsError};
use crate::server::McpServer;

/// The path [`http_router`] serves.
pub const HTTP_PATH: &str = "/mcp";

/// Why a server stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The options are wrong.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// The MCP session could not start (no `initialize`, or stdio failed).
    #[error("MCP session failed to start: {0}")]
    Start(String),
    /// The session ended with an error.
    #[error("MCP session failed: {0}")]
    Session(String),
}

/// Serves MCP over this process's stdin and stdout until the client closes stdin.
pub async fn serve_stdio(connections: Connections, options: McpOptions) -> Result<(), ServeError> {
    McpServer::new(connections, options)?.serve_stdio().await
}

/// A router serving MCP over Streamable HTTP at [`HTTP_PATH`] (`/mcp`), loopback `Host`s only;
/// merge it into an app (`app.merge(router)`).
pub fn http_router(connections: Connections, options: McpOptions) -> Result<Router, OptionsError> {
    Ok(McpServer::new(connections, options)?.http_router(HttpConfig::default()))
}

/// How the HTTP transport checks requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// The `Host` values accepted (host or `host:port`); empty: any.
    pub allowed_hosts: Vec<String>,
}

impl Default for HttpConfig {
    /// Loopback only: `localhost`, `127.0.0.1`, `::1`.
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
        }
    }
}

impl HttpConfig {
    /// Any `Host`: for a server that authenticates its callers itself (the gateway's inbound
    /// keys).
    pub fn any_host() -> Self {
        Self {
            allowed_hosts: Vec::new(),
        }
    }
}

impl McpServer {
    /// Serves over stdin and stdout until the client closes stdin.
    pub async fn serve_stdio(self) -> Result<(), ServeError> {
        let running = self
            .serve(rmcp::transport::io::stdio_pipes())
            .await
            .map_err(|e| ServeError::Start(e.to_string()))?;
        running
            .waiting()
            .await
            .map(drop)
            .map_err(|e| ServeError::Session(e.to_string()))
    }

    /// The Streamable HTTP service (a tower service; mount it with `nest_service` or
    /// `route_service`).
    pub fn http_service(
        self,
        config: HttpConfig,
    ) -> StreamableHttpService<McpServer, NeverSessionManager> {
        let mut http = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None);
        http = if config.allowed_hosts.is_empty() {
            http.disable_allowed_hosts()
        } else {
            http.with_allowed_hosts(config.allowed_hosts)
        };
        StreamableHttpService::new(
            move || Ok(self.clone()),
            Arc::new(NeverSessionManager::default()),
            http,
        )
    }

    /// A router serving the service at [`HTTP_PATH`].
    pub fn http_router(self, config: HttpConfig) -> Router {
        Router::new().route_service(HTTP_PATH, self.http_service(config))
    }
}
