//! Connection settings of an installed package and their validation: the subdomain, the auth
//! base URL built from it (or given), client id, secret, account id and scopes, and the
//! [`TokenKey`] that names a cached token.
//!
//! The subdomain is spliced into a host name that receives the client secret, so anything that
//! is not a plain DNS label is refused here, before any request is made.

use std::fmt;
use std::net::IpAddr;

use secrecy::SecretString;
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::AuthError;

/// The domain of Marketing Cloud's auth, REST and SOAP hosts.
pub const MC_DOMAIN: &str = "marketingcloudapis.com";

/// The longest client id accepted (real ones are 24 characters).
const MAX_CLIENT_ID_LEN: usize = 256;
/// The longest scope list accepted, in characters.
const MAX_SCOPE_LEN: usize = 4096;

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

/// Names a character for an error message without echoing control characters raw.
fn describe_char(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("{:?} (U+{:04X})", c, u32::from(c))
    }
}

/// Extracts the subdomain from a Marketing Cloud base URI such as
/// `https://mczl3z3cmqr47kmts5x34v1cdlky.auth.marketingcloudapis.com/` (auth, REST or SOAP).
///
/// Refuses anything that is not `https://{subdomain}.{auth|rest|soap}.marketingcloudapis.com`
/// with an optional `/` path: user info, ports, queries, fragments and other hosts.
pub fn subdomain_from_base_uri(base_uri: &str) -> Result<String, AuthError> {
    let field = "base URI";
    let trimmed = base_uri.trim();
    let url =
        Url::parse(trimmed).map_err(|e| AuthError::config(field, format!("is not a URL ({e})")))?;
    if url.scheme() != "https" {
        return Err(AuthError::config(field, "must start with https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AuthError::config(
            field,
            "must not contain user information ('@')",
        ));
    }
    if url.port().is_some() {
        return Err(AuthError::config(field, "must not contain a port"));
    }
    if url.query().is_some() || url.fragment().is_some() || trimmed.contains(['?', '#']) {
        return Err(AuthError::config(field, "must not contain '?' or '#'"));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(AuthError::config(
            field,
            "must be the base URI only, without a path (e.g. https://SUBDOMAIN.auth.marketingcloudapis.com/)",
        ));
    }
    let host = url.host_str().unwrap_or_default();
    let not_mc = || {
        AuthError::config(
            field,
            format!("host {host:?} is not a Marketing Cloud host (SUBDOMAIN.auth.{MC_DOMAIN})"),
        )
    };
    let rest = host
        .strip_suffix(MC_DOMAIN)
        .and_then(|h| h.strip_suffix('.'))
        .ok_or_else(not_mc)?;
    let subdomain = ["auth", "rest", "soap"]
        .iter()
        .find_map(|service| rest.strip_suffix(service)?.strip_suffix('.'))
        .ok_or_else(not_mc)?;
    if subdomain.contains('.') {
        return Err(not_mc());
    }
    validate_subdomain(subdomain)
}

/// The base URL of an auth server, always ending in `/`: Marketing Cloud's, or a loopback
/// emulator's.
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
    /// `https` is required except for loopback hosts (`localhost`, `127.0.0.0/8`, `::1`); user
    /// information, queries and fragments are refused.
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let field = "auth base URI";
        let raw = raw.trim();
        let mut url =
            Url::parse(raw).map_err(|e| AuthError::config(field, format!("is not a URL ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(AuthError::config(
                field,
                "must not contain user information ('@')",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(AuthError::config(field, "must not contain '?' or '#'"));
        }
        let loopback = is_loopback(&url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(AuthError::config(
                    field,
                    "must use https:// (plain http is allowed only for loopback hosts such as the emulator)",
                ));
            }
            other => {
                return Err(AuthError::config(
                    field,
                    format!("has scheme {other:?}; use https://"),
                ));
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(AuthError::config(field, "has no host"));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let is_mc_auth = url
            .host_str()
            .is_some_and(|h| h.ends_with(&format!(".auth.{MC_DOMAIN}")));
        if is_mc_auth {
            // Re-validate the subdomain label of Marketing Cloud hosts.
            subdomain_from_base_uri(&format!("https://{}/", url.host_str().unwrap_or_default()))?;
        } else if !loopback {
            tracing::warn!(
                host = url.host_str().unwrap_or_default(),
                "auth base URI is not a Marketing Cloud host"
            );
        }
        Ok(Self(url))
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
        is_loopback(&self.0)
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

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Checks a client id: non-empty, at most 256 visible ASCII characters.
pub fn validate_client_id(raw: &str) -> Result<String, AuthError> {
    let field = "client id";
    if raw.is_empty() {
        return Err(AuthError::config(field, "is empty"));
    }
    if raw.len() > MAX_CLIENT_ID_LEN {
        return Err(AuthError::config(
            field,
            format!("is {} characters; at most {MAX_CLIENT_ID_LEN}", raw.len()),
        ));
    }
    if let Some(bad) = raw.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(AuthError::config(
            field,
            format!("contains {}", describe_char(bad)),
        ));
    }
    Ok(raw.to_owned())
}

/// Checks an account id (the MID of a business unit): 1 to 20 digits.
pub fn validate_account_id(raw: &str) -> Result<String, AuthError> {
    let field = "account id";
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::config(
            field,
            "must be the numeric MID of a business unit (1 to 20 digits)",
        ));
    }
    Ok(raw.to_owned())
}

/// Parses a space-separated scope list into sorted, de-duplicated scopes.
pub fn parse_scopes(raw: &str) -> Result<Vec<String>, AuthError> {
    let field = "scope";
    if raw.len() > MAX_SCOPE_LEN {
        return Err(AuthError::config(
            field,
            format!("is {} characters; at most {MAX_SCOPE_LEN}", raw.len()),
        ));
    }
    let mut scopes = Vec::new();
    for scope in raw.split_ascii_whitespace() {
        if let Some(bad) = scope
            .chars()
            .find(|c| !c.is_ascii_graphic() || *c == '"' || *c == '\\')
        {
            return Err(AuthError::config(
                field,
                format!("contains {}", describe_char(bad)),
            ));
        }
        scopes.push(scope.to_owned());
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// Everything needed to ask for a token for one installed package and business unit.
///
/// `Debug` never shows the client secret.
#[derive(Clone)]
pub struct ConnectionSettings {
    auth_base: AuthBaseUrl,
    client_id: String,
    client_secret: SecretString,
    account_id: Option<String>,
    scopes: Option<Vec<String>>,
}

impl ConnectionSettings {
    /// Settings for a package; the secret must be non-empty.
    pub fn new(
        auth_base: AuthBaseUrl,
        client_id: &str,
        client_secret: SecretString,
    ) -> Result<Self, AuthError> {
        use secrecy::ExposeSecret;
        let client_id = validate_client_id(client_id)?;
        let secret = client_secret.expose_secret();
        if secret.is_empty() {
            return Err(AuthError::config("client secret", "is empty"));
        }
        if secret.chars().any(char::is_control) {
            return Err(AuthError::config(
                "client secret",
                "contains control characters (a trailing newline from a file is removed; others are not)",
            ));
        }
        Ok(Self {
            auth_base,
            client_id,
            client_secret,
            account_id: None,
            scopes: None,
        })
    }

    /// Targets a business unit by MID.
    pub fn with_account_id(mut self, account_id: &str) -> Result<Self, AuthError> {
        self.account_id = Some(validate_account_id(account_id)?);
        Ok(self)
    }

    /// Asks for these space-separated scopes; an empty string asks for none. Without this call
    /// the token carries all the package's scopes.
    pub fn with_scope(mut self, scope: &str) -> Result<Self, AuthError> {
        self.scopes = Some(parse_scopes(scope)?);
        Ok(self)
    }

    /// The auth base URL.
    pub fn auth_base(&self) -> &AuthBaseUrl {
        &self.auth_base
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret.
    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }

    /// The MID, if one was set.
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// The requested scopes (sorted), if any were set.
    pub fn scopes(&self) -> Option<&[String]> {
        self.scopes.as_deref()
    }

    /// The space-separated `scope` parameter, if scopes were set.
    pub fn scope_param(&self) -> Option<String> {
        self.scopes.as_ref().map(|s| s.join(" "))
    }

    /// The key of this package's token in caches (never includes the secret).
    pub fn key(&self) -> TokenKey {
        TokenKey {
            auth_base: self.auth_base.to_string(),
            client_id: self.client_id.clone(),
            account_id: self.account_id.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("auth_base", &self.auth_base)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("account_id", &self.account_id)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// What a cached token is stored under: auth base URL, client id, account id and sorted scopes.
/// Never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    auth_base: String,
    client_id: String,
    account_id: Option<String>,
    scopes: Option<Vec<String>>,
}

impl TokenKey {
    /// A canonical, unambiguous text form of the key (used as authenticated data when sealing).
    pub fn canonical(&self) -> String {
        let scopes = self
            .scopes
            .as_ref()
            .map_or_else(|| "*".to_owned(), |s| format!("[{}]", s.join(" ")));
        format!(
            "v1\n{}\n{}\n{}\n{}",
            self.auth_base,
            self.client_id,
            self.account_id.as_deref().unwrap_or("-"),
            scopes
        )
    }

    /// SHA-256 of the canonical form, in hex: a file name or Redis key part that reveals nothing.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}
