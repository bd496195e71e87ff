//! The config file shared by the CLI, the gateway and the MCP server (TOML): `[server]`,
//! `[token_cache]` and named `[[connections]]`, each a package and business unit. Values may be
//! `${ENV_VAR}` or `file:/path` (module `value`), resolved at load so a missing one fails at start.
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

mod error;
mod keys;
mod raw;
mod value;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use toml::Spanned;

pub use error::ConfigError;
pub use keys::{ApiKeys, hash_api_key};
pub use value::Source as ValueSource;

use crate::settings::{AuthBaseUrl, ConnectionSettings};
use error::Lines;
use raw::{RawConfig, RawConnection};

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
        build(&lines, raw, env)
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

/// Resolves one optional value, naming `field` and its line in any error.
fn value(
    lines: &Lines<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    field: &str,
    raw: Option<&Spanned<String>>,
) -> Result<Option<(String, ValueSource, usize)>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let at = raw.span().start;
    let (resolved, source) =
        value::resolve(raw.get_ref(), env).map_err(|m| lines.error(Some(at), field, m))?;
    Ok(Some((resolved, source, at)))
}

fn build(
    lines: &Lines<'_>,
    raw: RawConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Parsed, ConfigError> {
    let mut server = ServerConfig::default();
    if let Some((listen, _, at)) = value(lines, env, "server.listen", raw.server.listen.as_ref())? {
        server.listen = Some(listen.parse().map_err(|_| {
            lines.error(
                Some(at),
                "server.listen",
                "is not an IP:PORT address, e.g. \"127.0.0.1:8290\"",
            )
        })?);
    }
    let mut digests = Vec::new();
    for (i, key) in raw.server.api_keys.iter().enumerate() {
        let field = format!("server.api_keys[{i}]");
        if let Some((digest, _, at)) = value(lines, env, &field, Some(key))? {
            ApiKeys::parse([digest.as_str()])
                .map_err(|m| lines.error(Some(at), &field, m.replacen("entry 1", "it", 1)))?;
            digests.push(digest);
        }
    }
    server.api_keys = ApiKeys::parse(digests.iter().map(String::as_str))
        .map_err(|m| lines.error(None, "server.api_keys", m))?;
    if let Some(max) = &raw.server.max_body_bytes {
        server.max_body_bytes = in_range(lines, max, "server.max_body_bytes", 1..=1 << 30)?;
    }
    if let Some(secs) = &raw.server.upstream_timeout_secs {
        let secs = in_range(lines, secs, "server.upstream_timeout_secs", 1..=600)?;
        server.upstream_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = &raw.server.shutdown_grace_secs {
        let secs = in_range(lines, secs, "server.shutdown_grace_secs", 0..=600)?;
        server.shutdown_grace = Duration::from_secs(secs);
    }

    let token_cache = TokenCacheConfig {
        redis_url: value(
            lines,
            env,
            "token_cache.redis_url",
            raw.token_cache.redis_url.as_ref(),
        )?
        .map(|(v, _, _)| v),
        prefix: value(
            lines,
            env,
            "token_cache.prefix",
            raw.token_cache.prefix.as_ref(),
        )?
        .map(|(v, _, _)| v),
    };

    let mut connections: Vec<ConnectionConfig> = Vec::new();
    let mut has_literal_secret = false;
    for (i, entry) in raw.connections.iter().enumerate() {
        let (connection, literal) = connection(lines, env, i, entry)?;
        if connections.iter().any(|c| c.name == connection.name) {
            let at = entry.get_ref().name.as_ref().map(|n| n.span().start);
            return Err(lines.error(
                at,
                format!("connections[{i}].name"),
                format!(
                    "\"{}\" is already the name of another connection",
                    connection.name
                ),
            ));
        }
        has_literal_secret |= literal;
        connections.push(connection);
    }
    Ok(Parsed {
        config: Config {
            file: lines.file().to_owned(),
            server,
            token_cache,
            connections,
            warnings: Vec::new(),
        },
        has_literal_secret,
    })
}

fn in_range(
    lines: &Lines<'_>,
    raw: &Spanned<u64>,
    field: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = *raw.get_ref();
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(lines.error(
            Some(raw.span().start),
            field,
            format!("must be from {} to {}", range.start(), range.end()),
        ))
    }
}

/// One `[[connections]]` entry, and whether its secret is written in the file.
fn connection(
    lines: &Lines<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    i: usize,
    entry: &Spanned<RawConnection>,
) -> Result<(ConnectionConfig, bool), ConfigError> {
    let table_at = Some(entry.span().start);
    let raw = entry.get_ref();
    let field = |name: &str| format!("connections[{i}].{name}");
    let required = |name: &str, v: Option<(String, ValueSource, usize)>| {
        v.ok_or_else(|| lines.error(table_at, field(name), "is missing"))
    };
    let (name, _, name_at) = required(
        "name",
        value(lines, env, &field("name"), raw.name.as_ref())?,
    )?;
    if !is_valid_connection_name(&name) {
        return Err(lines.error(
            Some(name_at),
            field("name"),
            "must be 1 to 64 letters, digits, '_', '-' or '.'",
        ));
    }
    let subdomain = value(lines, env, &field("subdomain"), raw.subdomain.as_ref())?;
    let base_uri = value(
        lines,
        env,
        &field("auth_base_uri"),
        raw.auth_base_uri.as_ref(),
    )?;
    let auth_base = match (subdomain, base_uri) {
        (Some(_), Some((_, _, at))) => {
            return Err(lines.error(
                Some(at),
                field("auth_base_uri"),
                "set either subdomain or auth_base_uri, not both",
            ));
        }
        (Some((s, _, at)), None) => AuthBaseUrl::from_subdomain(&s)
            .map_err(|e| lines.error(Some(at), field("subdomain"), e.to_string()))?,
        (None, Some((u, _, at))) => AuthBaseUrl::parse(&u)
            .map_err(|e| lines.error(Some(at), field("auth_base_uri"), e.to_string()))?,
        (None, None) => {
            return Err(lines.error(
                table_at,
                field("subdomain"),
                "is missing (or set auth_base_uri)",
            ));
        }
    };
    let (client_id, _, id_at) = required(
        "client_id",
        value(lines, env, &field("client_id"), raw.client_id.as_ref())?,
    )?;
    let (secret, secret_source, secret_at) = required(
        "client_secret",
        value(
            lines,
            env,
            &field("client_secret"),
            raw.client_secret.as_ref(),
        )?,
    )?;
    let mut settings = ConnectionSettings::new(auth_base, &client_id, SecretString::from(secret))
        .map_err(|e| {
        let (at, which) = if e.to_string().contains("client id") {
            (id_at, "client_id")
        } else {
            (secret_at, "client_secret")
        };
        lines.error(Some(at), field(which), e.to_string())
    })?;
    if let Some((mid, _, at)) = value(lines, env, &field("account_id"), raw.account_id.as_ref())? {
        settings = settings
            .with_account_id(&mid)
            .map_err(|e| lines.error(Some(at), field("account_id"), e.to_string()))?;
    }
    if let Some((scope, _, at)) = value(lines, env, &field("scope"), raw.scope.as_ref())? {
        settings = settings
            .with_scope(&scope)
            .map_err(|e| lines.error(Some(at), field("scope"), e.to_string()))?;
    }
    Ok((
        ConnectionConfig { name, settings },
        secret_source == ValueSource::Literal,
    ))
}
