//! Turns [`ConnectionArgs`] into a token handle: a connection of the config file
//! (`--connection`), or flags and `SFMC_*` variables with the client secret from a file, the
//! environment or a prompt (never a flag value); the cache tiers; and, for `--emulated`, an
//! in-process emulator.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use secrecy::SecretString;
use sfmc_auth::config::{ConnectionConfig, TokenCacheConfig};
use sfmc_auth::store::{RedisStore, RedisStoreConfig};
use sfmc_auth::{
    AuthBaseUrl, ConnectionSettings, FileStore, HttpTimeouts, HttpTokenEndpoint, RefreshPolicy,
    TokenHandle, TokenManager, TokenStore, subdomain_from_base_uri,
};
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig, RunningEmulator};

use crate::cli::ConnectionArgs;
use crate::config_file;
use crate::exit::Failure;
use crate::input::read_bounded_text;

/// The token managers of this run, so that Ctrl-C or SIGTERM can stop their refreshes and
/// release the store locks they hold ([`shutdown_all`]).
static MANAGERS: Mutex<Vec<TokenManager>> = Mutex::new(Vec::new());

/// How long an interrupted run waits for its refreshes to stop and release their locks.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(2);

/// Stops the refreshes of every connection of this run, releasing their store locks.
pub async fn shutdown_all() {
    let managers = std::mem::take(&mut *MANAGERS.lock().unwrap_or_else(PoisonError::into_inner));
    // All at once, so the limit is one limit for the run.
    futures_util::future::join_all(managers.iter().map(|m| m.shutdown(SHUTDOWN_LIMIT))).await;
}

/// How long a run waits, after its output, for a background refresh to finish.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// The longest secret file read.
const MAX_SECRET_FILE: u64 = 4096;

/// A ready connection: the token handle, the HTTP client, and the emulator it may run on.
pub struct Connection {
    /// The token of the package.
    pub handle: TokenHandle,
    /// The pooled HTTP client (for API calls next to the token).
    pub http: HttpTokenEndpoint,
    /// The manager behind `handle` (for clients of other business units).
    pub manager: TokenManager,
    /// Kept alive for `--emulated`.
    _emulator: Option<RunningEmulator>,
}

impl Connection {
    /// Opens the connection the arguments describe. Everything is checked before the secret is
    /// asked for; nothing is sent yet.
    pub async fn open(args: &ConnectionArgs) -> Result<Self, Failure> {
        if args.client_secret.is_some() {
            return Err(Failure::config(
                "--client-secret is not accepted: a secret on the command line is visible to other users; set SFMC_CLIENT_SECRET, pass --client-secret-file PATH, or answer the prompt",
            ));
        }
        let load_timeout = Duration::from_secs(args.load_timeout);
        let source = Source::of(args)?;
        // Flags and variables first, then the config file's `[token_cache]`.
        let file_cache = match &source {
            Source::File { token_cache, .. } => Some(token_cache),
            _ => None,
        };
        let token_cache =
            (args.token_cache.clone()).or_else(|| file_cache.and_then(|c| c.redis_url.clone()));
        let prefix = (args.token_cache_prefix.clone())
            .or_else(|| file_cache.and_then(|c| c.prefix.clone()))
            .unwrap_or_else(|| RedisStoreConfig::DEFAULT_KEY_PREFIX.to_owned());
        let http = HttpTokenEndpoint::new(HttpTimeouts::default());
        let mut manager = TokenManager::builder()
            .endpoint(Arc::new(http.clone()))
            .policy(RefreshPolicy::default().with_load_timeout(load_timeout));
        if !args.no_cache && !args.emulated {
            match FileStore::user_dir() {
                Some(dir) => manager = manager.store(Arc::new(FileStore::new(dir))),
                None => tracing::debug!("no cache directory (set SFMC_CACHE_DIR); not caching"),
            }
            if let Some(url) = &token_cache {
                manager = manager.store(redis_store(url, &prefix, load_timeout)?);
            }
        }
        let manager = manager.build()?;
        MANAGERS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(manager.clone());
        let (settings, emulator) = match source {
            Source::Emulated => {
                let (emulator, settings) = start_demo().await?;
                (settings, Some(emulator))
            }
            Source::File { connection, .. } => (connection.settings, None),
            Source::Flags => {
                let base = auth_base(args)?;
                let client_id = args.client_id.as_deref().ok_or_else(|| {
                    Failure::config("client id: not set; set SFMC_CLIENT_ID or pass --client-id")
                })?;
                let settings = ConnectionSettings::new(
                    base,
                    client_id,
                    client_secret(args.client_secret_file.as_deref())?,
                )?;
                (settings, None)
            }
        };
        Ok(Self {
            handle: manager.handle(with_options(settings, args)?),
            http,
            manager,
            _emulator: emulator,
        })
    }

    /// Gives a background refresh started by this run (a cached token in its refresh window)
    /// up to [`SETTLE_LIMIT`] to reach the cache before the process exits. Call it after the
    /// output is written: during an outage the run ends anyway and the next run tries again.
    pub async fn settle(&self) {
        let _ = tokio::time::timeout(SETTLE_LIMIT, self.handle.settle()).await;
    }
}

/// Where a command's package comes from.
enum Source {
    /// `--emulated`: the demo package of an in-process emulator.
    Emulated,
    /// A connection of the config file, and the file's `[token_cache]`.
    File {
        connection: Box<ConnectionConfig>,
        token_cache: TokenCacheConfig,
    },
    /// Flags and `SFMC_*` variables.
    Flags,
}

impl Source {
    /// `--emulated`; else `--connection`, which needs a config file; else flags when they name
    /// a package; else the only connection of a config file, when there is one.
    fn of(args: &ConnectionArgs) -> Result<Self, Failure> {
        if args.emulated {
            return Ok(Self::Emulated);
        }
        let flags_name_a_package =
            args.subdomain.is_some() || args.auth_base_uri.is_some() || args.client_id.is_some();
        if args.connection.is_none() && flags_name_a_package {
            return Ok(Self::Flags);
        }
        let Some(config) = config_file::load(args.config.as_deref())? else {
            if let Some(name) = &args.connection {
                return Err(Failure::config(format!(
                    "connection \"{name}\": no config file (pass --config FILE, set SFMC_CONFIG, or create {})",
                    config_file::default_location()
                )));
            }
            return Ok(Self::Flags);
        };
        if args.connection.is_some() && (flags_name_a_package || args.client_secret_file.is_some())
        {
            return Err(Failure::config(
                "--connection takes the package from the config file; do not also set --subdomain, --auth-base-uri, --client-id or --client-secret-file (or their SFMC_* variables)",
            ));
        }
        let connection = config_file::pick(&config, args.connection.as_deref())?;
        Ok(Self::File {
            connection: Box::new(connection.clone()),
            token_cache: config.token_cache.clone(),
        })
    }
}

/// The Redis tier for `--token-cache URL`, keys under `prefix`, its refresh lock a lease that
/// fits the load timeout.
pub fn redis_store(
    url: &str,
    prefix: &str,
    load_timeout: Duration,
) -> Result<Arc<dyn TokenStore>, Failure> {
    let config = RedisStoreConfig::new(url)
        .with_key_prefix(prefix)
        .within_load_timeout(load_timeout);
    let store =
        RedisStore::new(config).map_err(|e| Failure::config(format!("token cache: {e}")))?;
    Ok(Arc::new(store))
}

/// An emulator in this process with the demo package, and the settings of that package.
pub async fn start_demo() -> Result<(RunningEmulator, ConnectionSettings), Failure> {
    let emulator = sfmc_emulator::start(EmulatorConfig::demo(), ([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| Failure::unavailable(format!("cannot start the emulator: {e}")))?;
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&emulator.url())?,
        DEMO_CLIENT_ID,
        SecretString::from(DEMO_CLIENT_SECRET),
    )?;
    Ok((emulator, settings))
}

fn with_options(
    mut settings: ConnectionSettings,
    args: &ConnectionArgs,
) -> Result<ConnectionSettings, Failure> {
    if let Some(account_id) = &args.account_id {
        settings = settings.with_account_id(account_id)?;
    }
    if let Some(scope) = &args.scope {
        settings = settings.with_scope(scope)?;
    }
    Ok(settings)
}

/// The auth base URL from `--auth-base-uri`/`SFMC_AUTH_BASE_URI` or `--subdomain`/`SFMC_SUBDOMAIN`
/// (both given: they must name the same URL), with the relay of `--dangerously-allow-auth-host`.
fn auth_base(args: &ConnectionArgs) -> Result<AuthBaseUrl, Failure> {
    let allowed = args.dangerously_allow_auth_host.as_deref();
    let base = match (&args.auth_base_uri, &args.subdomain) {
        (Some(uri), subdomain) => {
            let base = match allowed {
                Some(host) => AuthBaseUrl::parse_dangerously_allowing(uri, host)?,
                None => AuthBaseUrl::parse(uri)?,
            };
            if let Some(subdomain) = subdomain {
                let expected = AuthBaseUrl::from_subdomain(subdomain)?;
                if base != expected {
                    return Err(Failure::config(format!(
                        "subdomain and auth base URI disagree: --subdomain/SFMC_SUBDOMAIN gives {expected} but --auth-base-uri/SFMC_AUTH_BASE_URI is {base}; set only one"
                    )));
                }
            }
            base
        }
        (None, Some(subdomain)) => AuthBaseUrl::from_subdomain(subdomain)?,
        (None, None) => {
            return Err(Failure::config(
                "subdomain: not set; set SFMC_SUBDOMAIN (or SFMC_AUTH_BASE_URI), pass --subdomain, or try --emulated",
            ));
        }
    };
    let is_relay = !base.is_loopback() && subdomain_from_base_uri(base.as_url().as_str()).is_err();
    if let Some(host) = allowed
        && !is_relay
    {
        tracing::warn!(
            "--dangerously-allow-auth-host/SFMC_DANGEROUSLY_ALLOW_AUTH_HOST names {host:?}, but the auth base URI does not use it; unset it"
        );
    }
    Ok(base)
}

/// The client secret: `--client-secret-file`, else `SFMC_CLIENT_SECRET`, else a no-echo prompt
/// on a terminal.
fn client_secret(file: Option<&Path>) -> Result<SecretString, Failure> {
    if let Some(path) = file {
        return read_secret_file(path);
    }
    if let Ok(secret) = std::env::var("SFMC_CLIENT_SECRET")
        && !secret.is_empty()
    {
        return Ok(SecretString::from(secret));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let secret = rpassword::prompt_password("Client secret: ").map_err(|e| {
            if e.kind() == std::io::ErrorKind::Interrupted {
                Failure::interrupted()
            } else {
                Failure::config(format!("client secret: cannot read the prompt: {e}"))
            }
        })?;
        return Ok(SecretString::from(secret));
    }
    Err(Failure::config(
        "client secret: not set; set SFMC_CLIENT_SECRET, pass --client-secret-file PATH, or run on a terminal to be prompted",
    ))
}

fn read_secret_file(path: &Path) -> Result<SecretString, Failure> {
    let name = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::config(format!("client secret file {name}: {e}")))?;
    let text = read_bounded_text(file, MAX_SECRET_FILE)
        .map_err(|e| Failure::config(format!("client secret file {name} {e}")))?;
    let trimmed = text.trim_end_matches(['\n', '\r']);
    Ok(SecretString::from(trimmed.to_owned()))
}
