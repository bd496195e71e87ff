//! `sfmc-auth`: access tokens for Salesforce Marketing Cloud installed packages.
//!
//! - [`settings`]: subdomain and auth base URI validation, [`ConnectionSettings`], [`TokenKey`].
//! - [`config`]: the config file of named connections shared by the CLI, gateway and MCP server.
//! - [`endpoint`]: `POST {auth}/v2/token` over HTTP ([`HttpTokenEndpoint`]) and `GET /v2/userinfo`.
//! - [`http`]: the process's one HTTP client, its proxy policy ([`http::ProxyPolicy`]) and
//!   `Retry-After`.
//! - [`token`]: token responses, checked, and [`AccessToken`] with its absolute expiry.
//! - [`manager`]: [`TokenManager`] — cache, refresh ahead, single flight, retries, stores.
//! - [`store`]: where tokens are kept beyond a manager ([`FileStore`], [`MemoryStore`], Redis).
//! - [`seal`]: AES-256-GCM sealing of stored tokens under a key derived from the client secret.
//! - [`clock`]: the injected [`Clock`].
//! - [`error`]: [`AuthError`], named by what the caller should do.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sfmc_auth::AuthError> {
//! use sfmc_auth::{AuthBaseUrl, ConnectionSettings, TokenManager};
//! use secrecy::SecretString;
//!
//! let settings = ConnectionSettings::new(
//!     AuthBaseUrl::from_subdomain("mczl3z3cmqr47kmts5x34v1cdlky")?,
//!     "client-id",
//!     SecretString::from("client-secret"),
//! )?;
//! let manager = TokenManager::builder().build()?;
//! let handle = manager.handle(settings);
//! let token = handle.token().await?; // cached, refreshed ahead, single flight
//! # let _ = token; Ok(()) }
//! ```

pub mod clock;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod manager;
pub mod seal;
pub mod settings;
pub mod store;
mod sync;
pub mod token;

pub use clock::{Clock, ManualClock, SystemClock, TokioClock};
pub use endpoint::{HttpTimeouts, HttpTokenEndpoint, TokenEndpoint, UserInfo, fetch_userinfo};
pub use error::{AuthError, TransportSource};
pub use manager::{
    CachedToken, FixedJitter, Jitter, RandomJitter, RefreshPolicy, TokenHandle, TokenManager,
    TokenManagerBuilder,
};
pub use settings::{
    AuthBaseUrl, ConnectionSettings, TokenKey, subdomain_from_base_uri, validate_subdomain,
};
pub use store::{FileStore, MemoryStore, StoreError, TokenStore};
pub use token::{AccessToken, TokenResponse};
