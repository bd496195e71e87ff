//! Where the client secret may be sent: the subdomain, Marketing Cloud base URIs, and
//! [`AuthBaseUrl`].
//!
//! The rule: `https://{subdomain}.auth.marketingcloudapis.com/` on port 443, or a loopback host
//! (`localhost`, `127.0.0.0/8`, `::1`; http or https, any port) for the emulator and tests.
//! Anything else — look-alike hosts, other hosts, other ports, user information, paths — is
//! refused before any request, unless one named host is explicitly allowed
//! ([`AuthBaseUrl::parse_dangerously_allowing`], for a corporate relay; https only).

use std::fmt;
use std::net::IpAddr;

use url::Url;

use super::describe_char;
use crate::error::AuthError;

/// The domain of Marketing Cloud's auth, REST and SOAP hosts.
pub const MC_DOMAIN: &str = "marketingcloudapis.com";

/// Checks a subdomain and returns it lower-cased.
///
/// A subdomain must be a plain DNS label: ASCII letters, digits and `-`, 1 to 63 characters, not
/// starting or ending with `-`. Real ones are 28 characters starting with `mc`; other shapes are
/// accepted with a warning, as Salesforce may change them.
pub fn validate_subdomain(raw: &str) -> Result<String, AuthError> {
    let field = "subdomain";
    if raw.is_empty() {
        return Err(AuthError::config(field, "is empty"));
    }
    if raw.len() > 63 {
        return Err(AuthError::config(
            field,
            format!("is {} characters; a DNS label has at most 63", raw.len()),
        ));
    }
    if let Some(bad) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(AuthError::config(
            field,
            format!(
                "contains {}; only letters, digits and '-' are allowed (the 28-character string that begins with \"mc\" in your auth base URI)",
                describe_char(bad)
            ),
        ));
    }
    if raw.starts_with('-') || raw.ends_with('-') {
        return Err(AuthError::config(field, "starts or ends with '-'"));
    }
    let lower = raw.to_ascii_lowercase();
    if lower.len() != 28 || !lower.starts_with("mc") {
        tracing::warn!(
            subdomain = %lower,
            "subdomain is not the usual 28 characters starting with \"mc\"; using it anyway"
        );
    }
    Ok(lower)
}

/// Extracts the subdomain from a Marketing Cloud base URI such as
/// `https://mczl3z3cmqr47kmts5x34v1cdlky.auth.marketingcloudapis.com/` (auth, REST or SOAP).
///
/// Refuses anything that is not `https://{subdomain}.{auth|rest|soap}.marketingcloudapis.com`
/// with an optional `/` path: user info, ports, queries, fragments and other hosts.
pub fn subdomain_from_base_uri(base_uri: &str) -> Result<String, AuthError> {
    let field = "base URI";
    let url = parse_url(field, base_uri)?;
    if url.scheme() != "https" {
        return Err(AuthError::config(field, "must start with https://"));
    }
    if url.port().is_some() {
        return Err(AuthError::config(field, "must not contain a port"));
    }
    check_no_path(field, &url)?;
    let host = url.host_str().unwrap_or_default();
    ["auth", "rest", "soap"]
        .iter()
        .find_map(|service| mc_subdomain(host, service))
        .ok_or_else(|| {
            AuthError::config(
                field,
                format!("host {host:?} is not a Marketing Cloud host (SUBDOMAIN.auth.{MC_DOMAIN})"),
            )
        })?
}

/// The subdomain of `host` if it is `{label}.{service}.marketingcloudapis.com`, checked.
fn mc_subdomain(host: &str, service: &str) -> Option<Result<String, AuthError>> {
    let label = host
        .strip_suffix(MC_DOMAIN)?
        .strip_suffix('.')?
        .strip_suffix(service)?
        .strip_suffix('.')?;
    (!label.contains('.')).then(|| validate_subdomain(label))
}

/// The base URL of an auth server, always ending in `/`: Marketing Cloud's, a loopback
/// emulator's, or an explicitly allowed relay's.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuthBaseUrl(Url);

impl AuthBaseUrl {
    /// `https://{subdomain}.auth.marketingcloudapis.com/` for a validated subdomain.
    pub fn from_subdomain(subdomain: &str) -> Result<Self, AuthError> {
        let subdomain = validate_subdomain(subdomain)?;
        let url = Url::parse(&format!("https://{subdomain}.auth.{MC_DOMAIN}/"))
            .map_err(|e| AuthError::config("subdomain", format!("does not make a URL ({e})")))?;
        Ok(Self(url))
    }

    /// An auth base URI as given in the installed package, or an emulator's URL.
    ///
    /// Accepts `https://{subdomain}.auth.marketingcloudapis.com/` (port 443 only, no path) and
    /// loopback hosts (`http` or `https`, any port, any path); user information, queries and
    /// fragments are refused everywhere, and every other host is refused (see
    /// [`AuthBaseUrl::parse_dangerously_allowing`]).
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let url = parse_url(FIELD, raw)?;
        if is_loopback_url(&url) {
            return Ok(Self(with_trailing_slash(url)));
        }
        if url.scheme() != "https" {
            return Err(AuthError::config(
                FIELD,
                "must use https:// (plain http is allowed only for loopback hosts such as the emulator)",
            ));
        }
        let host = url.host_str().unwrap_or_default();
        let subdomain = mc_subdomain(host, "auth").ok_or_else(|| {
            AuthError::config(
                FIELD,
                format!(
                    "host {host:?} is not a Marketing Cloud auth host (https://SUBDOMAIN.auth.{MC_DOMAIN}/) nor a loopback host; the client secret is sent only there"
                ),
            )
        })??;
        if let Some(port) = url.port() {
            return Err(AuthError::config(
                FIELD,
                format!("has port {port}; Marketing Cloud's auth hosts answer on 443 only"),
            ));
        }
        check_no_path(FIELD, &url)?;
        Self::from_subdomain(&subdomain)
    }

    /// Like [`AuthBaseUrl::parse`], and also accepts `allowed_host`, a relay between this
    /// machine and Marketing Cloud (e.g. a corporate gateway), which then receives the client
    /// secret: `https` only, any port and path. Each use logs a warning naming the host.
    ///
    /// Dangerous by design: only for a host you operate or trust with the secret.
    pub fn parse_dangerously_allowing(raw: &str, allowed_host: &str) -> Result<Self, AuthError> {
        let allowed = url::Host::parse(allowed_host.trim())
            .map_err(|e| {
                AuthError::config(
                    "allowed auth host",
                    format!("must be a host name or IP address alone, without scheme, port or path ({e})"),
                )
            })?
            .to_string();
        let url = parse_url(FIELD, raw)?;
        let strict = Self::parse(raw);
        if strict.is_ok() || url.host_str() != Some(allowed.as_str()) {
            return strict;
        }
        if url.scheme() != "https" {
            return Err(AuthError::config(
                FIELD,
                format!("must use https:// for the explicitly allowed host {allowed}"),
            ));
        }
        tracing::warn!(
            host = %allowed,
            "the client secret goes to {allowed}, which is not a Marketing Cloud host: it was explicitly allowed as a relay"
        );
        Ok(Self(with_trailing_slash(url)))
    }

    /// The URL, ending in `/`.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// `{base}v2/token`.
    pub fn token_url(&self) -> Url {
        self.join("v2/token")
    }

    /// `{base}v2/userinfo`.
    pub fn userinfo_url(&self) -> Url {
        self.join("v2/userinfo")
    }

    fn join(&self, path: &str) -> Url {
        // Joining a relative path onto a URL ending in '/' cannot fail.
        self.0.join(path).unwrap_or_else(|_| self.0.clone())
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        is_loopback_url(&self.0)
    }
}

impl fmt::Debug for AuthBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AuthBaseUrl")
            .field(&self.0.as_str())
            .finish()
    }
}

impl fmt::Display for AuthBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// The setting named in errors of [`AuthBaseUrl`].
const FIELD: &str = "auth base URI";

/// Parses a URL given by a user: trimmed, `http`/`https` with a host, no user information, no
/// query, no fragment.
fn parse_url(field: &'static str, raw: &str) -> Result<Url, AuthError> {
    let raw = raw.trim();
    let url =
        Url::parse(raw).map_err(|e| AuthError::config(field, format!("is not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AuthError::config(
            field,
            "must not contain user information ('@')",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || raw.contains(['?', '#']) {
        return Err(AuthError::config(field, "must not contain '?' or '#'"));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AuthError::config(
            field,
            format!("has scheme {:?}; use https://", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AuthError::config(field, "has no host"));
    }
    Ok(url)
}

fn check_no_path(field: &'static str, url: &Url) -> Result<(), AuthError> {
    if matches!(url.path(), "" | "/") {
        return Ok(());
    }
    Err(AuthError::config(
        field,
        "must be the base URI only, without a path (e.g. https://SUBDOMAIN.auth.marketingcloudapis.com/)",
    ))
}

/// `url` with its path ending in `/`, so that relative paths join onto it.
pub(crate) fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// Whether `url`'s host is `localhost` or a loopback address: such requests stay on this machine
/// (and never go through a proxy).
pub(crate) fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
