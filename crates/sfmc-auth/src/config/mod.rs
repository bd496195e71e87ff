//! The config file shared by the CLI, the gateway and the MCP server (TOML): `[server]`,
//! `[token_cache]` and named `[[connections]]`, each a package and business unit. Values may be
//! `${ENV_VAR}` or `file:/path` ([`ValueSource`]), resolved at load so a missing one fails at start.
//! Every error names the file, the line and the field ([`ConfigError`]).
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8290"
//!
//! [[connections]]
//! name = "SFMC_1"
//! subdomain = "mczl3z3cmqr47kmts5x34v1cdlky"
//! client_id = "${SFMC_CLIENT_ID}"
//! client_secret = "file:/run/secrets/sfmc"
//! account_id = "12345"
//! ```

mod check;
mod error;
mod keys;
mod raw;
mod value;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use error::ConfigError;
pub use keys::{ApiKeys, hash_api_key};
pub use value::Source as ValueSource;

use crate::settings::ConnectionSettings;
use error::Lines;
use raw::RawConfig;

/// The largest config file read.
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// The gateway's request body limit when `[server] max_body_bytes` is not set.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;

/// A loaded config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub file: PathBuf,
    /// `[server]`.
    pub server: ServerConfig,
    /// `[token_cache]`.
    pub token_cache: TokenCacheConfig,
    /// `[[connections]]`, in file order, names unique.
    pub connections: Vec<ConnectionConfig>,
    /// What the caller should warn about (e.g. a literal secret in a file others can read).
    pub warnings: Vec<String>,
}

/// `[server]`: the gateway's listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `listen`: the address to listen on, when set.
    pub listen: Option<SocketAddr>,
    /// `api_keys`: digests of the keys inbound callers must present.
    pub api_keys: ApiKeys,
    /// `max_body_bytes`: the largest request body accepted.
    pub max_body_bytes: u64,
    /// `upstream_timeout_secs`: how long one upstream call may take.
    pub upstream_timeout: Duration,
    /// `shutdown_grace_secs`: how long in-flight requests may finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: None,
            api_keys: ApiKeys::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            upstream_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// `[token_cache]`: where tokens are shared. `Debug` hides the URL (it may hold a password).
#[derive(Clone, Default)]
pub struct TokenCacheConfig {
    /// `redis_url`: `redis://…` or `rediss://…`.
    pub redis_url: Option<String>,
    /// `prefix`: the prefix of the keys in Redis.
    pub prefix: Option<String>,
}

impl fmt::Debug for TokenCacheConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCacheConfig")
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<set>"))
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// One named connection: a package, and optionally a business unit and scopes.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// `name`: letters, digits, `_`, `-` and `.`, unique in the file.
    pub name: String,
    /// Everything needed for its tokens (`Debug` hides the secret).
    pub settings: ConnectionSettings,
}

/// What may be shown of a connection: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionSummary {
    /// Its name.
    pub name: String,
    /// The auth base URI its tokens come from.
    pub auth_base_uri: String,
    /// The package's client id.
    pub client_id: String,
    /// The business unit, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The scopes asked for, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl ConnectionConfig {
    /// The connection without its secret.
    pub fn summary(&self) -> ConnectionSummary {
        ConnectionSummary {
            name: self.name.clone(),
            auth_base_uri: self.settings.auth_base().to_string(),
            client_id: self.settings.client_id().to_owned(),
            account_id: self.settings.account_id().map(str::to_owned),
            scope: self.settings.scope_param(),
        }
    }
}

/// Whether `name` can name a connection (it appears in URLs and tool arguments).
pub fn is_valid_connection_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name != "."
        && name != ".."
}

impl Config {
    /// Which file to read: `explicit` (`--config`), else `SFMC_CONFIG`, else
    /// `$XDG_CONFIG_HOME/sfmc/config.toml` (`~/.config/…`) when it exists. The bool says whether
    /// the file was asked for (then it must exist) rather than found by default.
    pub fn locate(explicit: Option<&Path>) -> Option<(PathBuf, bool)> {
        if let Some(path) = explicit {
            return Some((path.to_owned(), true));
        }
        if let Some(path) = std::env::var_os("SFMC_CONFIG").filter(|p| !p.is_empty()) {
            return Some((PathBuf::from(path), true));
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        let path = base.join("sfmc").join("config.toml");
        path.is_file().then_some((path, false))
    }

    /// Reads and checks `path`, with values from the process environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let whole = |message: String| ConfigError {
            file: path.to_owned(),
            line: None,
            field: String::new(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|e| whole(format!("cannot open it: {e}")))?;
        let metadata = file
            .metadata()
            .map_err(|e| whole(format!("cannot read it: {e}")))?;
        if !metadata.is_file() {
            return Err(whole("is not a regular file".into()));
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, MAX_CONFIG_FILE + 1),
            &mut bytes,
        )
        .map_err(|e| whole(format!("cannot read it: {e}")))?;
        if bytes.len() as u64 > MAX_CONFIG_FILE {
            return Err(whole(format!("is larger than {MAX_CONFIG_FILE} bytes")));
        }
        let text = String::from_utf8(bytes).map_err(|_| whole("is not UTF-8 text".into()))?;
        let mut config = Self::parse(path, &text, &|name| std::env::var(name).ok())?;
        if config.has_literal_secret && readable_by_others(&metadata) {
            config.config.warnings.push(format!(
                "config file {} holds a literal client_secret and other users can read it: use \"${{ENV_VAR}}\" or \"file:/path\", or chmod 600 it",
                path.display()
            ));
        }
        Ok(config.config)
    }

    /// Checks `text` as the contents of `path`, with values of `${VAR}` from `env`.
    pub fn parse(
        path: &Path,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Parsed, ConfigError> {
        let lines = Lines::new(path, text);
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            lines.error(
                e.span().map(|s| s.start),
                "",
                e.message().trim_end().to_owned(),
            )
        })?;
        check::build(&lines, raw, env)
    }

    /// The connection named `name`.
    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name == name)
    }
}

/// A checked config, and whether it holds a literal secret (for the file-mode warning).
#[derive(Debug)]
pub struct Parsed {
    /// The config.
    pub config: Config,
    /// Whether a `client_secret` is written in the file itself.
    pub has_literal_secret: bool,
}

#[cfg(unix)]
fn readable_by_others(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o044 != 0
}

#[cfg(not(unix))]
fn readable_by_others(_: &std::fs::Metadata) -> bool {
    false
}
