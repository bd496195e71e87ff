//! `sfmc-gateway`: a small integration runtime for Salesforce Marketing Cloud. The connections of
//! a config file are served over local HTTP; callers never see a client secret or a token.
//!
//! Routes (see the README's Gateway section):
//!
//! - `GET /healthz`, `GET /metrics` (Prometheus text);
//! - `GET /connections`, `GET /connections/{name}/test` (a `/v2/userinfo` call);
//! - `GET /connections/{name}/operations`, `POST /connections/{name}/operations/{operation}`
//!   (JSON parameters exactly as `sfmc call`, validated from the catalog);
//! - `ANY /connections/{name}/rest/{*path}`: a proxy to the connection's REST instance URL that
//!   sets `Authorization: Bearer <token>` itself ([`routes::proxy`] tells the rules).
//!
//! `?account_id=MID` or an `X-SFMC-Account-Id` header switches the business unit per request.
//! Errors are JSON (`{"error": CODE, "message": TEXT}`). Inbound API keys ([`auth`]) guard every
//! route but `/healthz` when configured, and must be when the listener is not loopback; without
//! them, browser requests for pages of other sites are refused (`Host`, `Origin`). Other
//! routers can be mounted beside these ([`Gateway::mount`]; `sfmc gateway` mounts the MCP
//! server at `/mcp`) behind the same keys, metrics and logs.
//!
//! [`Listening::serve`] runs the gateway on worker threads of its own, one single-threaded
//! tokio runtime each, all accepting on the one socket (module `workers`).
//!
//! ```no_run
//! # async fn demo(connections: sfmc_client::Connections) -> Result<(), Box<dyn std::error::Error>> {
//! use sfmc_auth::config::ServerConfig;
//!
//! let gateway = sfmc_gateway::Gateway::new(connections, &ServerConfig::default())?
//!     .mount("/mcp", axum::Router::new())?; // behind the same keys and metrics
//! let listening = gateway.bind("127.0.0.1:0".parse()?).await?;
//! println!("listening on http://{}", listening.local_addr());
//! listening.serve(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

// Handlers' helpers return the error answer itself (`Result<_, Response>`): a response is what
// the error becomes, on a path that ends the request anyway.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod auth;
mod browser;
mod error;
mod forward;
#[doc(hidden)]
pub mod fuzzing;
mod metrics;
mod observe;
mod proxy_path;
pub mod routes;
mod server;
mod state;
mod upstream;
mod workers;

pub use app::{DEFAULT_LISTEN, Gateway, GatewayError, Listening};
pub use routes::proxy::REPLAY_LIMIT;
