//! Connection settings of an installed package and their validation: the auth base URL
//! ([`AuthBaseUrl`], in `auth_base.rs`: where the secret may go), client id, secret, account id
//! and scopes, and the [`TokenKey`] that names a cached token.

mod auth_base;

use std::fmt;

use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::error::AuthError;

pub use auth_base::{AuthBaseUrl, MC_DOMAIN, subdomain_from_base_uri, validate_subdomain};
pub(crate) use auth_base::{is_loopback_url, with_trailing_slash};

/// The longest client id accepted (real ones are 24 characters).
const MAX_CLIENT_ID_LEN: usize = 256;
/// The longest scope list accepted, in characters.
const MAX_SCOPE_LEN: usize = 4096;

/// Names a character for an error message without echoing control characters raw.
pub(crate) fn describe_char(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("{:?} (U+{:04X})", c, u32::from(c))
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
