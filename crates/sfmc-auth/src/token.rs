//! Access tokens: parsing and checking the JSON of a `POST /v2/token` answer into a
//! [`TokenResponse`], and the [`AccessToken`] kept in caches, with its absolute expiry.
//!
//! The token and refresh token are [`SecretString`]s: redacted `Debug`, no `Display`; the only
//! way to the text is [`AccessToken::expose`] (or the sensitive header from
//! [`AccessToken::authorization_header`]).

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::IgnoredAny;
use url::Url;

use crate::error::AuthError;
use crate::settings::{is_loopback_url, with_trailing_slash};

/// The longest token accepted, in characters (Salesforce's are at most 512).
pub const MAX_TOKEN_LEN: usize = 4096;
/// The longest lifetime accepted, in seconds (Salesforce's is 1079).
pub const MAX_EXPIRES_IN: u64 = 24 * 60 * 60;

/// A checked `200` answer of the token endpoint, before it is placed in time.
#[derive(Clone)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: SecretString,
    /// `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// REST base URL, always ending in `/`, so paths join onto it.
    pub rest_instance_url: Url,
    /// SOAP base URL, always ending in `/`.
    pub soap_instance_url: Option<Url>,
    /// Refresh token (web and public apps only).
    pub refresh_token: Option<SecretString>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[REDACTED]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("rest_instance_url", &self.rest_instance_url)
            .field("soap_instance_url", &self.soap_instance_url)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// The wire form; every field optional so that a missing one gets a precise error.
#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Number>,
    scope: Option<String>,
    rest_instance_url: Option<String>,
    soap_instance_url: Option<String>,
    refresh_token: Option<String>,
    #[serde(flatten)]
    _rest: std::collections::BTreeMap<String, IgnoredAny>,
}

impl TokenResponse {
    /// Parses and checks a `200` body. Errors say what is wrong, never what the body held.
    pub fn parse(body: &[u8]) -> Result<Self, AuthError> {
        let raw: RawTokenResponse = serde_json::from_slice(body).map_err(|e| {
            AuthError::invalid_response(format!(
                "not a JSON object with the expected fields ({})",
                json_error_kind(&e)
            ))
        })?;
        let access_token = raw
            .access_token
            .ok_or_else(|| AuthError::invalid_response("no access_token"))?;
        check_token_text("access_token", &access_token)?;
        let token_type = raw.token_type.unwrap_or_else(|| "Bearer".to_owned());
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::invalid_response(format!(
                "token_type is {:?}, expected Bearer",
                truncate(&token_type)
            )));
        }
        let expires_in = raw
            .expires_in
            .ok_or_else(|| AuthError::invalid_response("no expires_in"))?;
        let expires_in = expires_in
            .as_u64()
            .filter(|s| (1..=MAX_EXPIRES_IN).contains(s))
            .ok_or_else(|| {
                AuthError::invalid_response(format!(
                    "expires_in must be a whole number of seconds from 1 to {MAX_EXPIRES_IN}"
                ))
            })?;
        let rest_instance_url = raw
            .rest_instance_url
            .ok_or_else(|| AuthError::invalid_response("no rest_instance_url"))?;
        let rest_instance_url = instance_url("rest_instance_url", &rest_instance_url)?;
        let soap_instance_url = raw
            .soap_instance_url
            .map(|soap| instance_url("soap_instance_url", &soap))
            .transpose()?;
        if let Some(refresh) = &raw.refresh_token {
            check_token_text("refresh_token", refresh)?;
        }
        Ok(Self {
            access_token: SecretString::from(access_token),
            token_type: "Bearer".to_owned(),
            expires_in,
            scope: raw.scope.unwrap_or_default(),
            rest_instance_url,
            soap_instance_url,
            refresh_token: raw.refresh_token.map(SecretString::from),
        })
    }

    /// The response in the wire format [`TokenResponse::parse`] reads (for sealed stores).
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let wire = serde_json::json!({
            "access_token": self.access_token.expose_secret(),
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "scope": self.scope,
            "rest_instance_url": self.rest_instance_url.as_str(),
            "soap_instance_url": self.soap_instance_url.as_ref().map(Url::as_str),
            "refresh_token": self.refresh_token.as_ref().map(|t| t.expose_secret()),
        });
        serde_json::to_vec(&wire).unwrap_or_default()
    }
}

/// What kind of JSON error `error` is, without any of the body.
fn json_error_kind(error: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match error.classify() {
        Category::Io => "read error",
        Category::Syntax => "malformed JSON",
        Category::Data => "a field has the wrong type",
        Category::Eof => "truncated JSON",
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn check_token_text(field: &str, token: &str) -> Result<(), AuthError> {
    if token.is_empty() {
        return Err(AuthError::invalid_response(format!("{field} is empty")));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::invalid_response(format!(
            "{field} is {} characters; at most {MAX_TOKEN_LEN}",
            token.len()
        )));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuthError::invalid_response(format!(
            "{field} contains characters that cannot go in a header"
        )));
    }
    Ok(())
}

/// An instance URL the token may be sent to: https, or http on a loopback host (the emulator);
/// no credentials, query or fragment; the path made to end in `/` so that paths join onto it.
fn instance_url(field: &str, raw: &str) -> Result<Url, AuthError> {
    let url = Url::parse(raw)
        .map_err(|_| AuthError::invalid_response(format!("{field} is not a URL")))?;
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback_url(&url));
    if !scheme_ok || url.host_str().is_none() {
        return Err(AuthError::invalid_response(format!(
            "{field} must be an https URL (http only on a loopback host)"
        )));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(AuthError::invalid_response(format!(
            "{field} must not carry credentials, a query or a fragment"
        )));
    }
    Ok(with_trailing_slash(url))
}

/// A token in hand: the response placed in time. `expires_at_ms` is absolute (Unix
/// milliseconds), counted from when the request was sent.
#[derive(Clone)]
pub struct AccessToken {
    response: TokenResponse,
    expires_at_ms: u64,
}

impl AccessToken {
    /// Places a response in time: it expires `expires_in` seconds after `sent_at_ms`.
    pub fn new(response: TokenResponse, sent_at_ms: u64) -> Self {
        let expires_at_ms = sent_at_ms.saturating_add(response.expires_in.saturating_mul(1000));
        Self {
            response,
            expires_at_ms,
        }
    }

    /// Restores a token whose absolute expiry is already known (from a store).
    pub fn with_expiry(response: TokenResponse, expires_at_ms: u64) -> Self {
        Self {
            response,
            expires_at_ms,
        }
    }

    /// The bearer token text. Keep it out of logs.
    pub fn expose(&self) -> &str {
        self.response.access_token.expose_secret()
    }

    /// `Bearer …` as a header value marked sensitive.
    pub fn authorization_header(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.expose()))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
        value.set_sensitive(true);
        value
    }

    /// Whether this is the same token as `other` (same bearer text).
    pub fn same_token(&self, other: &AccessToken) -> bool {
        self.expose() == other.expose()
    }

    /// The parsed response.
    pub fn response(&self) -> &TokenResponse {
        &self.response
    }

    /// Absolute expiry, Unix milliseconds.
    pub fn expires_at_ms(&self) -> u64 {
        self.expires_at_ms
    }

    /// Seconds left at `now_ms` (0 once expired).
    pub fn remaining_secs(&self, now_ms: u64) -> u64 {
        self.expires_at_ms.saturating_sub(now_ms) / 1000
    }

    /// Granted scopes, space-separated.
    pub fn scope(&self) -> &str {
        &self.response.scope
    }

    /// REST base URL, always ending in `/`: join relative paths onto it.
    pub fn rest_instance_url(&self) -> &Url {
        &self.response.rest_instance_url
    }

    /// SOAP base URL, always ending in `/`.
    pub fn soap_instance_url(&self) -> Option<&Url> {
        self.response.soap_instance_url.as_ref()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("response", &self.response)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}
