//! One module per command; [`run`] dispatches.

mod cache;
mod emulator;
mod token;
mod userinfo;

use std::sync::Arc;
use std::time::Duration;

use sfmc_auth::TokenStore;

use crate::cli::Command;
use crate::exit::Failure;
use crate::output;

/// Runs one command.
pub async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Token(args) => token::run(&args).await,
        Command::Userinfo(args) => userinfo::run(&args).await,
        Command::Subdomain { base_uri } => {
            let subdomain = sfmc_auth::subdomain_from_base_uri(&base_uri)?;
            output::line(&subdomain)
        }
        Command::Emulator(args) => emulator::run(args).await,
        Command::Cache { action } => cache::run(&action),
    }
}

/// The Redis tier for `--token-cache URL`, keys under `prefix`. Its refresh lock lives as long
/// as a refresh may take (`load_timeout`), so a slow refresh is not duplicated by another process.
pub fn shared_store(
    url: &str,
    prefix: &str,
    load_timeout: Duration,
) -> Result<Arc<dyn TokenStore>, Failure> {
    let config = sfmc_auth::store::RedisStoreConfig::new(url)
        .with_key_prefix(prefix)
        .with_lock_ttl(load_timeout);
    let store = sfmc_auth::store::RedisStore::new(config)
        .map_err(|e| Failure::config(format!("token cache: {e}")))?;
    Ok(Arc::new(store))
}
