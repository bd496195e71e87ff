//! What the emulator knows before the first request: the installed packages (client id,
//! secret, reachable business units, scopes), the token lifetime, and how it serves (public
//! URL, header read and request timeouts, connection limit). `Debug` never shows a client secret.

use std::fmt;
use std::time::Duration;

/// Token lifetime that real Marketing Cloud responses announce (`expires_in`), in seconds.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 1079;

/// Token lifetimes a client accepts (`expires_in` of 1 s to one day), hence the range the
/// `sfmc emulator --token-ttl` flag takes.
pub const TOKEN_TTL_RANGE_SECS: std::ops::RangeInclusive<u64> = 1..=86_400;

/// Default time a client has to send a request's headers before its connection is closed.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time a request may take from its headers to its answer: reading the body and
/// handling it, except the delay of an injected fault. A client that does not send its body in
/// time gets 408 and its connection is closed.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Default number of connections served at once; further ones wait to be accepted.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// An installed package ("API integration, server-to-server") of the emulated tenant.
#[derive(Clone, PartialEq, Eq)]
pub struct Package {
    /// The package's client id.
    pub client_id: String,
    /// The package's client secret. Never shown by `Debug`.
    pub client_secret: String,
    /// MIDs the package may ask tokens for: the first is the package's own business unit
    /// (used when a token request has no `account_id`), the others are reachable business units.
    pub account_ids: Vec<String>,
    /// Scopes granted to the package; a token gets these or the requested subset of them.
    pub scopes: Vec<String>,
}

impl fmt::Debug for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Package")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("account_ids", &self.account_ids)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Everything the emulator is started with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Installed packages. Client ids should be unique; on duplicates the first one wins.
    pub packages: Vec<Package>,
    /// Lifetime of issued access tokens in seconds (`expires_in`); default 1079.
    pub token_ttl_secs: u64,
    /// Base URL announced as `rest_instance_url`, `soap_instance_url` and in userinfo's `rest`
    /// (a `/` is appended when missing); `None`: `http://` + the listen address. Never the
    /// request's `Host` header. [`EmulatorConfig::with_public_url`] sets it and says what is
    /// wrong with a bad one; a bad one set here directly is ignored with a warning.
    pub public_url: Option<String>,
    /// How long a client may take to send a request's headers (the first request's or the
    /// next one's on a kept-alive connection) before the connection is closed.
    pub header_read_timeout: Duration,
    /// How long a request may take once its headers are read: reading its body and handling it
    /// (an injected fault's delay excepted), and how long writing an answer may stall on a
    /// client that does not read it. Past it the connection is closed (after a 408 when the
    /// body was late).
    pub request_timeout: Duration,
    /// Most connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

/// Client id of the package in [`EmulatorConfig::demo`].
pub const DEMO_CLIENT_ID: &str = "demo-client-id";
/// Client secret of the package in [`EmulatorConfig::demo`].
pub const DEMO_CLIENT_SECRET: &str = "demo-client-secret";
/// Own MID of the package in [`EmulatorConfig::demo`] (the enterprise business unit).
pub const DEMO_ACCOUNT_ID: &str = "100000001";
/// A second business unit reachable by the package in [`EmulatorConfig::demo`].
pub const DEMO_CHILD_ACCOUNT_ID: &str = "100000002";

/// Scopes of the demo package: a realistic server-to-server selection.
const DEMO_SCOPES: &[&str] = &[
    "email_read",
    "email_write",
    "email_send",
    "documents_and_images_read",
    "documents_and_images_write",
    "saved_content_read",
    "saved_content_write",
    "data_extensions_read",
    "data_extensions_write",
    "list_and_subscribers_read",
    "list_and_subscribers_write",
    "journeys_read",
    "journeys_write",
    "journeys_execute",
    "campaign_read",
    "campaign_write",
    "sms_read",
    "sms_write",
    "sms_send",
    "offline",
];

impl EmulatorConfig {
    /// One package, `demo-client-id` / `demo-client-secret`, own MID `100000001`, also
    /// reaching `100000002`, with a realistic set of scopes; tokens live 1079 s.
    pub fn demo() -> Self {
        EmulatorConfig {
            packages: vec![Package {
                client_id: DEMO_CLIENT_ID.to_owned(),
                client_secret: DEMO_CLIENT_SECRET.to_owned(),
                account_ids: vec![DEMO_ACCOUNT_ID.to_owned(), DEMO_CHILD_ACCOUNT_ID.to_owned()],
                scopes: DEMO_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            }],
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            public_url: None,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// This configuration announcing `url` as its instance URL. `url` must be an absolute
    /// `http` or `https` URL with a host and no query, fragment or user info; the error says
    /// what is wrong.
    pub fn with_public_url(mut self, url: &str) -> Result<Self, String> {
        self.public_url = Some(check_public_url(url)?);
        Ok(self)
    }

    /// The public URL checked and ending in `/` (the one place that is done); `None` when
    /// there is none, or, with a warning, when it is not a valid one.
    pub(crate) fn checked_public_url(&self) -> Option<String> {
        let url = self.public_url.as_deref()?;
        check_public_url(url)
            .inspect_err(|problem| tracing::warn!("{problem}; announcing the listen address"))
            .ok()
    }
}

/// `url` checked as a public base URL, ending in `/`.
fn check_public_url(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("the public URL {url:?} must start with http:// or https://"))?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "the public URL {url:?} must not contain spaces or control characters"
        ));
    }
    if url.contains(['?', '#', '@', '\\']) {
        return Err(format!(
            "the public URL {url:?} must not have a query, fragment or user info"
        ));
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("the public URL {url:?} has no host"));
    }
    Ok(if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    })
}

impl Default for EmulatorConfig {
    /// Same as [`EmulatorConfig::demo`].
    fn default() -> Self {
        Self::demo()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_checked_and_end_in_a_slash() {
        let ok = |u: &str| {
            EmulatorConfig::demo()
                .with_public_url(u)
                .unwrap()
                .public_url
                .unwrap()
        };
        assert_eq!(ok("https://mc.example.com"), "https://mc.example.com/");
        assert_eq!(
            ok("http://127.0.0.1:8787/sfmc/"),
            "http://127.0.0.1:8787/sfmc/"
        );
        for bad in [
            "mc.example.com",
            "ftp://x/",
            "http://",
            "http://:80/",
            "http://a b/",
            "http://x/?q",
            "http://u@x/",
        ] {
            assert!(
                EmulatorConfig::demo().with_public_url(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_public_url_set_directly_is_checked_too() {
        let with = |url: &str| EmulatorConfig {
            public_url: Some(url.to_owned()),
            ..EmulatorConfig::demo()
        };
        assert_eq!(
            with("https://mc.example.com")
                .checked_public_url()
                .as_deref(),
            Some("https://mc.example.com/")
        );
        assert_eq!(with("ftp://x/").checked_public_url(), None);
        assert_eq!(EmulatorConfig::demo().checked_public_url(), None);
    }

    #[test]
    fn debug_redacts_the_secret() {
        let cfg = EmulatorConfig::demo();
        let shown = format!("{cfg:?} {:#?}", cfg.packages[0]);
        assert!(!shown.contains(DEMO_CLIENT_SECRET), "{shown}");
        assert!(shown.contains(DEMO_CLIENT_ID));
    }
}
