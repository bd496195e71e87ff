//! `sfmc-mcp`: an MCP server for Salesforce Marketing Cloud over [`sfmc_client::Connections`],
//! on the official Rust SDK (`rmcp`).
//!
//! - Tools generated from the client's catalog, in catalog order: `sfmc_` + the operation in
//!   snake_case ([`names`]), the catalog's description, its JSON Schema plus `account_id` (and
//!   `connection` when several connections are configured), and `readOnlyHint`,
//!   `destructiveHint`, `idempotentHint` from the operation's effects ([`tools::catalog`]);
//!   besides them `sfmc_rest_request` ([`tools::rest`]) and the data extension row tools
//!   ([`tools::data_extensions`]).
//! - Safe by default for agents ([`McpOptions`], [`filter`]): read-only mode, `--allow`/`--deny`
//!   glob patterns on tool names, results cut to a budget with a note on how to page on
//!   ([`budget`]); Marketing Cloud errors as tool errors carrying `message` and `errorcode`,
//!   arguments named in every validation error, never a token in a result ([`reply`]).
//! - Transports ([`transport`]): [`serve_stdio`] for `sfmc mcp`, and [`http_router`] (or
//!   [`McpServer::http_service`]) for Streamable HTTP at `/mcp` in the gateway.
//!
//! ```no_run
//! # async fn demo(connections: sfmc_client::Connections) -> Result<(), Box<dyn std::error::Error>> {
//! // stdio
//! sfmc_mcp::serve_stdio(connections.clone(), sfmc_mcp::McpOptions::read_only()).await?;
//! // Streamable HTTP at /mcp, merged into an axum app
//! let app = axum::Router::new().merge(sfmc_mcp::http_router(connections, sfmc_mcp::McpOptions::default())?);
//! # let _ = app; Ok(()) }
//! ```

pub mod args;
pub mod budget;
pub mod filter;
pub mod names;
pub mod options;
pub mod reply;
pub mod server;
pub mod tools;
pub mod transport;

pub use options::{DEFAULT_RESULT_BUDGET, McpOptions, OptionsError};
pub use server::McpServer;
pub use transport::{HTTP_PATH, HttpConfig, ServeError, http_router, serve_stdio};
