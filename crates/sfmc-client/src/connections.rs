//! [`Connections`]: the named connections of a config file, ready to call — one token manager
//! and one HTTP pool shared by all of them, a [`Client`] per name, another business unit per call
//! on request. What the gateway and the MCP server serve from.

use sfmc_auth::TokenManager;
use sfmc_auth::config::{ConnectionConfig, ConnectionSummary};

use crate::client::Client;
use crate::error::ClientError;

/// Named clients over one token manager.
#[derive(Debug, Clone)]
pub struct Connections {
    manager: TokenManager,
    named: Vec<Named>,
}

#[derive(Debug, Clone)]
struct Named {
    summary: ConnectionSummary,
    client: Client,
}

/// Why no client could be given for a connection name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// No connection has this name.
    #[error("unknown connection \"{name}\"; known: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are, comma-separated (or "none").
        known: String,
    },
    /// Several connections exist and none was named.
    #[error("several connections are configured ({known}); name one")]
    Ambiguous {
        /// The names there are, comma-separated.
        known: String,
    },
    /// The business unit asked for is not a valid MID.
    #[error(transparent)]
    AccountId(#[from] ClientError),
}

impl Connections {
    /// The connections of `configs`, with tokens from `manager` and requests over `http` (it
    /// must not follow redirects: see [`crate::default_http_client`]).
    pub fn new(manager: TokenManager, http: reqwest::Client, configs: &[ConnectionConfig]) -> Self {
        let named = configs
            .iter()
            .map(|config| Named {
                summary: config.summary(),
                client: Client::new(manager.clone(), config.settings.clone(), http.clone()),
            })
            .collect();
        Self { manager, named }
    }

    /// The client of connection `name` (or of the only connection, when `name` is `None`), for
    /// business unit `account_id` when given (else the connection's own).
    pub fn client(
        &self,
        name: Option<&str>,
        account_id: Option<&str>,
    ) -> Result<Client, ConnectionError> {
        let named = match name {
            Some(name) => self
                .named
                .iter()
                .find(|n| n.summary.name == name)
                .ok_or_else(|| ConnectionError::Unknown {
                    name: name.to_owned(),
                    known: self.known(),
                })?,
            None => match self.named.as_slice() {
                [only] => only,
                [] => {
                    return Err(ConnectionError::Unknown {
                        name: String::new(),
                        known: self.known(),
                    });
                }
                _ => {
                    return Err(ConnectionError::Ambiguous {
                        known: self.known(),
                    });
                }
            },
        };
        match account_id {
            Some(mid) => Ok(named.client.for_account(mid)?),
            None => Ok(named.client.clone()),
        }
    }

    /// Whether a connection is named `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.named.iter().any(|n| n.summary.name == name)
    }

    /// The connections, in config order, without secrets.
    pub fn summaries(&self) -> impl Iterator<Item = &ConnectionSummary> {
        self.named.iter().map(|n| &n.summary)
    }

    /// How many connections there are.
    pub fn len(&self) -> usize {
        self.named.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.named.is_empty()
    }

    /// The token manager behind every connection (for metrics and shutdown).
    pub fn manager(&self) -> &TokenManager {
        &self.manager
    }

    fn known(&self) -> String {
        if self.named.is_empty() {
            return "none".to_owned();
        }
        let names: Vec<&str> = self.named.iter().map(|n| n.summary.name.as_str()).collect();
        names.join(", ")
    }
}
