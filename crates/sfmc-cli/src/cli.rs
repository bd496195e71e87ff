//! The command line: every command, flag and environment variable of `sfmc`, declared with clap.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The accepted `--load-timeout` / `SFMC_LOAD_TIMEOUT`, in seconds.
pub const LOAD_TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 1..=300;

/// Salesforce Marketing Cloud from the command line: tokens, and a local emulator.
#[derive(Debug, Parser)]
#[command(name = "sfmc", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Get an access token for an installed package (cached; refreshed ahead of expiry).
    Token(TokenArgs),
    /// Verify the token: call /v2/userinfo and print what Marketing Cloud says about it.
    Userinfo(ConnectionArgs),
    /// Print the subdomain of a Marketing Cloud base URI.
    Subdomain {
        /// e.g. `https://mczl3z3cmqr47kmts5x34v1cdlky.auth.marketingcloudapis.com/`
        base_uri: String,
    },
    /// Run a local Marketing Cloud emulator.
    Emulator(EmulatorArgs),
    /// Call a Marketing Cloud operation by its connector name (`sfmc call --list`).
    Call(crate::commands::call::CallArgs),
    /// Send a request to any REST path, like `gh api`.
    Api(crate::commands::api::ApiArgs),
    /// List the connections of the config file (never their secrets).
    Connections(ConnectionsArgs),
    /// Serve Marketing Cloud to AI assistants: an MCP server over stdio (`--read-only` first).
    Mcp(crate::commands::mcp::McpArgs),
    /// Data extension rows at scale: import a CSV file, export rows.
    De(crate::commands::de::DeArgs),
    /// Serve the connections over HTTP: a token-injecting proxy, operations and metrics.
    Gateway(crate::commands::gateway::GatewayArgs),
    /// Manage the token cache.
    Cache {
        /// What to do with it.
        #[command(subcommand)]
        action: CacheAction,
    },
}

/// `sfmc cache …`
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Forget every token cached in this user's cache directory.
    Clear,
    /// Print the cache directory.
    Dir,
}

/// Which installed package, and how to keep its token.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The config file (default: $XDG_CONFIG_HOME/sfmc/config.toml, when it exists).
    #[arg(long, env = "SFMC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use this connection of the config file (`sfmc connections` lists them).
    #[arg(long, env = "SFMC_CONNECTION", value_name = "NAME")]
    pub connection: Option<String>,
    /// The 28-character subdomain of the package's base URIs (starts with "mc").
    #[arg(long, env = "SFMC_SUBDOMAIN", hide_env_values = true)]
    pub subdomain: Option<String>,
    /// The package's auth base URI (instead of --subdomain); http allowed for loopback only.
    #[arg(long, env = "SFMC_AUTH_BASE_URI", hide_env_values = true)]
    pub auth_base_uri: Option<String>,
    /// DANGEROUS: also send the client secret to this host (a corporate relay in front of
    /// Marketing Cloud) when the auth base URI names it; https only; warns on every run.
    #[arg(long, env = "SFMC_DANGEROUSLY_ALLOW_AUTH_HOST", value_name = "HOST")]
    pub dangerously_allow_auth_host: Option<String>,
    /// The package's client id.
    #[arg(long, env = "SFMC_CLIENT_ID", hide_env_values = true)]
    pub client_id: Option<String>,
    /// Read the client secret from this file (else SFMC_CLIENT_SECRET, else a prompt).
    #[arg(long, value_name = "PATH")]
    pub client_secret_file: Option<PathBuf>,
    /// Refused: a secret on the command line is visible to every user of the machine.
    #[arg(long, hide = true, value_name = "SECRET")]
    pub client_secret: Option<String>,
    /// MID of the business unit to get a token for (default: the package's own).
    #[arg(long, env = "SFMC_ACCOUNT_ID", hide_env_values = true)]
    pub account_id: Option<String>,
    /// Space-separated scopes to ask for (default: all of the package's; "" for none).
    #[arg(long, env = "SFMC_SCOPE", hide_env_values = true)]
    pub scope: Option<String>,
    /// Do not read or write the token cache; always ask Marketing Cloud.
    #[arg(long)]
    pub no_cache: bool,
    /// Share tokens through Redis (redis://host:port/db or rediss://…).
    #[arg(
        long,
        env = "SFMC_TOKEN_CACHE",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub token_cache: Option<String>,
    /// Give up on Marketing Cloud after this many seconds of retries (1 to 300).
    #[arg(
        long,
        env = "SFMC_LOAD_TIMEOUT",
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(LOAD_TIMEOUT_SECS)
    )]
    pub load_timeout: u64,
    /// Prefix of the keys in Redis, to separate environments sharing one Redis (default: the
    /// config file's `[token_cache] prefix`, else "sfmc:").
    #[arg(long, env = "SFMC_TOKEN_CACHE_PREFIX", value_name = "PREFIX")]
    pub token_cache_prefix: Option<String>,
    /// Start an emulator in this process with a demo package and use it.
    #[arg(long)]
    pub emulated: bool,
}

/// `sfmc connections`
#[derive(Debug, Args)]
pub struct ConnectionsArgs {
    /// The config file (default: $XDG_CONFIG_HOME/sfmc/config.toml).
    #[arg(long, env = "SFMC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `sfmc token`
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The package and cache.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Print only the access token.
    #[arg(long)]
    pub raw: bool,
}

/// `sfmc emulator`
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// The client id of the emulated package.
    #[arg(long, default_value = "demo-client-id")]
    pub client_id: String,
    /// The client secret of the emulated package (a test value, not a real secret).
    #[arg(long, default_value = "demo-client-secret")]
    pub client_secret: String,
    /// MIDs the package can reach; the first is its own (repeatable).
    #[arg(long = "account-id", value_name = "MID")]
    pub account_ids: Vec<String>,
    /// Scopes of the package (repeatable, or space-separated).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Lifetime of issued tokens, in seconds (1 to 86400, what clients accept).
    #[arg(long, default_value_t = 1079, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub token_ttl: u64,
    /// Base URL announced as the instance URLs (default: http:// + the listen address).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
}
