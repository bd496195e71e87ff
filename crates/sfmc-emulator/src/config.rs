//! What the emulator knows before the first request: the installed packages (client id,
//! secret, reachable business units, scopes) and the token lifetime. `Debug` never shows a
//! client secret.

use std::fmt;

/// Token lifetime that real Marketing Cloud responses announce (`expires_in`), in seconds.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 1079;

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
        }
    }
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
    fn debug_redacts_the_secret() {
        let cfg = EmulatorConfig::demo();
        let shown = format!("{cfg:?} {:#?}", cfg.packages[0]);
        assert!(!shown.contains(DEMO_CLIENT_SECRET), "{shown}");
        assert!(shown.contains(DEMO_CLIENT_ID));
    }
}
