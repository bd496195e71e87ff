//! From the file as written ([`RawConfig`]) to a checked [`Config`]: every value resolved
//! (`${VAR}`, `file:`), parsed and range-checked, each error naming its field and line.

use std::time::Duration;

use secrecy::SecretString;
use toml::Spanned;

use super::error::{ConfigError, Lines};
use super::raw::{RawConfig, RawConnection};
use super::value::{self, Source as ValueSource};
use super::{
    ApiKeys, Config, ConnectionConfig, Parsed, ServerConfig, TokenCacheConfig,
    is_valid_connection_name,
};
use crate::settings::{AuthBaseUrl, ConnectionSettings};

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

pub(super) fn build(
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
