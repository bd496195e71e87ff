//! `sfmc gateway`: serves the connections of the config file (or, with `--emulated`, a demo
//! connection on an embedded emulator) over HTTP — see `sfmc-gateway`. The first stdout line is
//! `listening on http://IP:PORT`; Ctrl-C or SIGTERM stops it gracefully (exit 0). Exit 2 for a
//! config error (naming the file, line and field) and for a listener off loopback without
//! `[server] api_keys`. The MCP server is served at `/mcp` (Streamable HTTP) unless `--no-mcp`,
//! with `--mcp-read-only`, `--mcp-allow` and `--mcp-deny` as `sfmc mcp`'s `--read-only`,
//! `--allow` and `--deny` (a pattern matching no tool exits 2). `--hash-key` prints the digest
//! of a key read from stdin, for `[server] api_keys`.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use clap::{Args, ValueEnum};
use sfmc_auth::config::hash_api_key;
use sfmc_client::Connections;
use sfmc_gateway::{DEFAULT_LISTEN, Gateway, GatewayError};
use sfmc_mcp::{HttpConfig, McpOptions, McpServer};

use crate::exit::Failure;
use crate::input::read_bounded_text;
use crate::{output, serve, signal};

/// The longest API key read by `--hash-key`.
const MAX_KEY: u64 = 4096;

/// How logs are written on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `sfmc gateway`
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// The config file (default: $XDG_CONFIG_HOME/sfmc/config.toml).
    #[arg(long, env = "SFMC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (default: `[server] listen`, else 127.0.0.1:8290; port 0 picks
    /// a free one). Off loopback, `[server] api_keys` is required.
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<SocketAddr>,
    /// Serve a demo connection named "demo" on an emulator started in this process.
    #[arg(long)]
    pub emulated: bool,
    /// Log format on stderr (request logs at info level; RUST_LOG overrides the filter).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Offer only tools that change nothing on `/mcp` (the MCP server's `--read-only`).
    #[arg(long)]
    pub mcp_read_only: bool,
    /// Offer only MCP tools matching this glob on `/mcp` (repeatable).
    #[arg(long = "mcp-allow", value_name = "PATTERN")]
    pub mcp_allow: Vec<String>,
    /// Never offer MCP tools matching this glob on `/mcp` (repeatable; wins over --mcp-allow).
    #[arg(long = "mcp-deny", value_name = "PATTERN")]
    pub mcp_deny: Vec<String>,
    /// Do not serve the MCP server at `/mcp`.
    #[arg(long, conflicts_with_all = ["mcp_read_only", "mcp_allow", "mcp_deny"])]
    pub no_mcp: bool,
    /// Read an API key from stdin, print its digest for `[server] api_keys`, and exit.
    #[arg(long, conflicts_with_all = ["listen", "emulated"])]
    pub hash_key: bool,
}

/// Runs the gateway until Ctrl-C or SIGTERM.
pub async fn run(args: GatewayArgs) -> Result<(), Failure> {
    if args.hash_key {
        return hash_key();
    }
    // Before anything is announced, so that a signal right after the first line is caught.
    let mut signals = signal::Signals::listen()
        .map_err(|e| Failure::unavailable(format!("cannot listen for Ctrl-C: {e}")))?;
    let served = serve::open(args.config.as_deref(), args.emulated).await?;
    let listen = match args.listen.or(served.config.server.listen) {
        Some(listen) => listen,
        None => DEFAULT_LISTEN
            .parse()
            .map_err(|e| Failure::config(format!("{DEFAULT_LISTEN}: {e}")))?,
    };
    let connections = served.connections.len();
    let mut gateway =
        Gateway::new(served.connections.clone(), &served.config.server).map_err(failure)?;
    if !args.no_mcp {
        let router = mcp_router(&args, served.connections, listen.ip().is_loopback())?;
        gateway = gateway
            .mount(sfmc_mcp::HTTP_PATH, router)
            .map_err(failure)?;
    }
    let listening = gateway.bind(listen).await.map_err(failure)?;
    output::line(&format!("listening on http://{}", listening.local_addr()))?;
    tracing::info!(
        target: "sfmc_gateway",
        config = %served.config.file.display(),
        connections,
        "serving"
    );
    listening
        .serve(async move { signals.recv().await })
        .await
        .map_err(|e| Failure::unavailable(format!("the gateway stopped: {e}")))?;
    if let Some(emulator) = served.emulator {
        emulator.shutdown().await;
    }
    Ok(())
}

/// The MCP server over Streamable HTTP, to be mounted at `/mcp`. On loopback it accepts only
/// loopback `Host` headers (DNS rebinding); off loopback the gateway's inbound keys guard it.
fn mcp_router(
    args: &GatewayArgs,
    connections: Connections,
    loopback: bool,
) -> Result<Router, Failure> {
    let options = McpOptions {
        read_only: args.mcp_read_only,
        allow: args.mcp_allow.clone(),
        deny: args.mcp_deny.clone(),
        ..McpOptions::default()
    };
    let server = McpServer::new(connections, options)
        .map_err(|e| Failure::config(format!("--mcp-*: {e}")))?;
    let hosts = if loopback {
        HttpConfig::default()
    } else {
        HttpConfig::any_host()
    };
    // Nested at `/mcp`, the service answers the nested root.
    Ok(Router::new().route_service("/", server.http_service(hosts)))
}

/// Exit 2 for what the configuration can fix, 4 for the rest.
fn failure(error: GatewayError) -> Failure {
    match error {
        GatewayError::InsecureListener(_)
        | GatewayError::Bind { .. }
        | GatewayError::MountPath(_) => Failure::config(error.to_string()),
        _ => Failure::unavailable(error.to_string()),
    }
}

/// `--hash-key`: the key from stdin (a prompt on a terminal), its digest on stdout.
fn hash_key() -> Result<(), Failure> {
    let key = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("API key: ")
            .map_err(|e| Failure::config(format!("cannot read the key: {e}")))?
    } else {
        read_bounded_text(std::io::stdin().lock(), MAX_KEY)
            .map_err(|e| Failure::config(format!("the key on stdin: {e}")))?
    };
    let key = key.trim_end_matches(['\n', '\r']);
    if key.trim().is_empty() {
        return Err(Failure::config(
            "no key on stdin: pipe the key in, e.g. `openssl rand -hex 32 | tee key | sfmc gateway --hash-key`",
        ));
    }
    output::line(&hash_api_key(key))
}
