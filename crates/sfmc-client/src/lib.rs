//! `sfmc-client`: Salesforce Marketing Cloud's REST API over a token from `sfmc-auth`.
//!
//! - [`Client`]: one business unit's client; [`Client::for_account`] for another. Every call goes
//!   through one send path ([`Client::send`]): the token, `Authorization: Bearer`, a 401
//!   invalidating the token and retrying once, 429 rate limits waited out (`Retry-After`), 429
//!   "temporarily blocked" never retried, 5xx and transport errors retried for idempotent
//!   requests, all inside a per-call deadline ([`ClientConfig`], [`RetryPolicy`]).
//! - [`catalog`]: the connector's 21 operations as data — validation, request building, JSON
//!   Schemas and `docs/operations.md` come from it; [`Client::call`] runs one by name.
//! - [`connections`]: [`Connections`], the named connections of a config file, a client each.
//! - [`ops`]: the typed methods per family (`client.campaigns().create(…)`).
//! - [`paging`]: paged lists as streams, over the three paging styles.
//! - [`request`]: [`ApiRequest`], [`ApiResponse`], and the path rules that keep the token on the
//!   REST host.
//! - [`bulk`]: data extensions at scale — streaming CSV import (asynchronous or rowset API)
//!   and CSV/NDJSON export.
//! - [`error`]: [`ClientError`], classified by what the caller should do.
//!
//! ```no_run
//! # async fn demo(manager: sfmc_auth::TokenManager, settings: sfmc_auth::ConnectionSettings) -> Result<(), sfmc_client::ClientError> {
//! use sfmc_client::{Client, ops::campaigns::NewCampaign};
//!
//! let client = Client::new(manager, settings, sfmc_client::default_http_client()?);
//! let campaign = client
//!     .campaigns()
//!     .create(&NewCampaign { name: Some("Summer Sale".into()), ..Default::default() })
//!     .await?;
//! let same = client.call("getCampaigns", &serde_json::json!({"pageSize": 10})).await?;
//! let other_bu = client.for_account("100000002")?;
//! # let _ = (campaign, same, other_bu); Ok(()) }
//! ```

pub mod bulk;
pub mod catalog;
mod client;
pub mod connections;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod ops;
pub mod paging;
pub mod request;
mod retry;
mod send;

pub use catalog::{Operation, Paging, ValidationError};
pub use client::{Client, RequestBuilder, default_http_client};
pub use connections::{ConnectionError, Connections};
pub use error::{ApiError, ClientError, ErrorClass, RestErrorBody};
pub use request::{ApiRequest, ApiResponse, RequestBody, check_path};
pub use reqwest::Method;
pub use retry::{ClientConfig, RetryPolicy};
