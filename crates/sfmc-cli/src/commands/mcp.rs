//! `sfmc mcp`: the MCP server over stdio for AI assistants, on the connections of the config
//! file (or `--emulated`: a demo connection on an embedded emulator). stdout carries MCP and
//! nothing else; logs go to stderr. It runs until the client closes stdin.

use std::path::PathBuf;

use clap::Args;
use sfmc_mcp::{DEFAULT_RESULT_BUDGET, McpOptions, McpServer};

use crate::exit::Failure;
use crate::serve;

/// `sfmc mcp`
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The config file with the connections to serve (default: $XDG_CONFIG_HOME/sfmc/config.toml).
    #[arg(long, env = "SFMC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Serve a demo connection ("demo") on an emulator started in this process.
    #[arg(long)]
    pub emulated: bool,
    /// Offer only tools that change nothing (sfmc_rest_request sends GET only).
    #[arg(long)]
    pub read_only: bool,
    /// Offer only tools matching this glob (`*`, `?`), e.g. 'sfmc_get_*' (repeatable).
    #[arg(long = "allow", value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Never offer tools matching this glob, e.g. 'sfmc_delete_*' (repeatable; wins over --allow).
    #[arg(long = "deny", value_name = "PATTERN")]
    pub deny: Vec<String>,
    /// Cut results longer than this many bytes of JSON, with a note on how to page on.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_RESULT_BUDGET)]
    pub result_budget: usize,
}

/// Runs `sfmc mcp` until the client closes stdin.
pub async fn run(args: McpArgs) -> Result<(), Failure> {
    let options = McpOptions {
        read_only: args.read_only,
        allow: args.allow,
        deny: args.deny,
        result_budget: args.result_budget,
    };
    let serve::Served {
        config,
        connections,
        emulator,
    } = serve::open(args.config.as_deref(), args.emulated).await?;
    let server =
        McpServer::new(connections.clone(), options).map_err(|e| Failure::config(e.to_string()))?;
    tracing::info!(
        tools = server.tools().len(),
        connections = connections.len(),
        config = %config.file.display(),
        "serving MCP on stdio"
    );
    let outcome = server.serve_stdio().await;
    // The embedded emulator (if any) lives until the session ends.
    drop(emulator);
    outcome.map_err(|e| Failure::unavailable(e.to_string()))
}
