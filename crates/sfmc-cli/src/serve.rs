//! What the long-running commands (`sfmc gateway`, `sfmc mcp`) share: their connections from the
//! config file, or with `--emulated` a demo connection on an embedded emulator, opened as
//! [`Connections`] over one token manager (in memory, plus the file's `[token_cache]` Redis).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sfmc_auth::config::{Config, ConnectionConfig, ServerConfig, TokenCacheConfig};
use sfmc_auth::store::RedisStoreConfig;
use sfmc_auth::{HttpTimeouts, HttpTokenEndpoint, RefreshPolicy, TokenManager};
use sfmc_client::Connections;
use sfmc_emulator::RunningEmulator;

use crate::exit::Failure;
use crate::{config_file, connection};

/// The name of the demo connection of `--emulated`.
pub const DEMO_CONNECTION: &str = "demo";

/// How long a server waits for Marketing Cloud's token endpoint, retries included.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A server's connections, and the emulator they may run on.
pub struct Served {
    /// The config (for `[server]`).
    pub config: Config,
    /// The connections, ready to call.
    pub connections: Connections,
    /// Kept alive for `--emulated`.
    pub emulator: Option<RunningEmulator>,
}

/// Opens the connections of the config file (`explicit`, `SFMC_CONFIG` or the default
/// location), or of an embedded emulator when `emulated`. A config with no connection is an
/// error: a server without one has nothing to serve.
pub async fn open(explicit: Option<&Path>, emulated: bool) -> Result<Served, Failure> {
    let (config, emulator) = if emulated {
        let (config, emulator) = emulated_config(explicit).await?;
        (config, Some(emulator))
    } else {
        let config = config_file::load(explicit)?.ok_or_else(|| {
            Failure::config(format!(
                "no config file: pass --config FILE, set SFMC_CONFIG, create {}, or try --emulated",
                config_file::default_location()
            ))
        })?;
        if config.connections.is_empty() {
            return Err(Failure::config(format!(
                "config file {} has no [[connections]]",
                config.file.display()
            )));
        }
        (config, None)
    };
    let manager = manager(&config.token_cache)?;
    let http = sfmc_client::default_http_client()?;
    let connections = Connections::new(manager, http, &config.connections);
    Ok(Served {
        config,
        connections,
        emulator,
    })
}

/// The token manager of a server: tokens in memory, shared through Redis when configured.
fn manager(token_cache: &TokenCacheConfig) -> Result<TokenManager, Failure> {
    let endpoint = HttpTokenEndpoint::new(HttpTimeouts::default());
    let mut builder = TokenManager::builder()
        .endpoint(Arc::new(endpoint))
        .policy(RefreshPolicy::default().with_load_timeout(LOAD_TIMEOUT));
    if let Some(url) = &token_cache.redis_url {
        let prefix = token_cache
            .prefix
            .as_deref()
            .unwrap_or(RedisStoreConfig::DEFAULT_KEY_PREFIX);
        builder = builder.store(connection::redis_store(url, prefix, LOAD_TIMEOUT)?);
    }
    Ok(builder.build()?)
}

/// A demo connection named [`DEMO_CONNECTION`] on an emulator started in this process; the
/// `[server]` table of the config file, when one is given, still applies.
async fn emulated_config(explicit: Option<&Path>) -> Result<(Config, RunningEmulator), Failure> {
    let server = match explicit {
        Some(path) => config_file::load(Some(path))?.map(|c| c.server),
        None => None,
    };
    let (emulator, settings) = connection::start_demo().await?;
    let config = Config {
        file: "<emulated>".into(),
        server: server.unwrap_or_else(ServerConfig::default),
        token_cache: TokenCacheConfig::default(),
        connections: vec![ConnectionConfig {
            name: DEMO_CONNECTION.to_owned(),
            settings,
        }],
        warnings: Vec::new(),
    };
    Ok((config, emulator))
}
