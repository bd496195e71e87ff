//! The config file as written: TOML tables with the span of every value, so that each later
//! check can name the line. Unknown fields are errors (a typo must not silently drop a setting).

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub token_cache: RawTokenCache,
    #[serde(default)]
    pub connections: Vec<Spanned<RawConnection>>,
}

/// `[server]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<Spanned<String>>,
    #[serde(default)]
    pub api_keys: Vec<Spanned<String>>,
    pub max_body_bytes: Option<Spanned<u64>>,
    pub upstream_timeout_secs: Option<Spanned<u64>>,
    pub shutdown_grace_secs: Option<Spanned<u64>>,
}

/// `[token_cache]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokenCache {
    pub redis_url: Option<Spanned<String>>,
    pub prefix: Option<Spanned<String>>,
}

/// One `[[connections]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnection {
    pub name: Option<Spanned<String>>,
    pub subdomain: Option<Spanned<String>>,
    pub auth_base_uri: Option<Spanned<String>>,
    pub client_id: Option<Spanned<String>>,
    pub client_secret: Option<Spanned<String>>,
    pub account_id: Option<Spanned<String>>,
    pub scope: Option<Spanned<String>>,
}
