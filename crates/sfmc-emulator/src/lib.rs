//! A local Salesforce Marketing Cloud for tests and demos: an axum server with in-memory state
//! that answers like the live service (see `shared/SFMC-API.md`), not like any client expects.
//!
//! - `POST /v2/token` (client credentials; JSON or form body), `GET /v2/userinfo`,
//!   `GET /platform/v1/tokenContext`; every other path answers 401 `Not Authorized` without a
//!   valid bearer token and 404 with one.
//! - The REST families, in memory, per business unit (a token's MID sees only that MID's data):
//!   assets and categories (`/asset/v1/content/…`), campaigns (`/hub/v1/campaigns`), contacts
//!   and delete requests (`/contacts/v1/…`), journeys (`/interaction/v1/interactions`),
//!   transactional email and SMS definitions, sends and message status (`/messaging/v1/…`),
//!   data extension rows (`/hub/v1/dataevents/…`, `/data/v1/async/…`,
//!   `/data/v1/customobjectdata/…`). Each endpoint needs a Salesforce scope
//!   (403 errorcode 20002 without it): `saved_content_*` or `documents_and_images_*`,
//!   `campaign_*`, `list_and_subscribers_*`, `journeys_*`, `email_*`/`sms_*`
//!   (`read`, `write`, `send`), `data_extensions_*`.
//! - Paths match case-insensitively and with `//` runs collapsed; paging parameters in any
//!   case, with or without `$`; `$filter` takes `field eq|ne|like|gt|ge|lt|le value` joined by
//!   `and` (400 for anything else).
//! - Control plane under `/_emulator/`: `GET stats`, `GET|POST|DELETE faults`, `POST revoke`,
//!   `GET|POST dataextensions`, `GET|DELETE dataextensions/{key}`,
//!   `GET dataextensions/{key}/rows`, `GET|POST settings` (see `control_data`'s shapes in the
//!   README).
//! - As a server: a header read timeout drops half-sent headers, a request timeout (body read
//!   and handling; 408, then the connection is closed) drops half-sent bodies, a write stall
//!   timeout drops clients that stop reading, a connection limit bounds open connections,
//!   request bodies are limited (5 MB for rowsets, 64 MB for asynchronous rows, axum's 2 MB
//!   elsewhere; 413 beyond), and instance URLs never come from the request's `Host` header.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = sfmc_emulator::start(sfmc_emulator::EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap()).await?;
//! let auth_base = emulator.url(); // http://127.0.0.1:PORT
//! # let _ = auth_base;
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! This crate shares no code with the client crates, so it cannot hide their bugs.
//!
//! # Choices where SFMC-API.md is silent
//!
//! - Token checks run in this order: body parses, `grant_type` (present, then
//!   `client_credentials`), `client_id` (present, then known), `client_secret` (present, then
//!   right), `account_id` (reachable). Missing fields, wrong JSON types, repeated form fields and
//!   unparsable bodies are 400 `invalid_request`; an unreachable `account_id` (or a package with
//!   no business unit) is 401 `unauthorized_client` with "The client is not authorized to access
//!   the requested business unit (account_id). Make sure that the installed package has access
//!   to that business unit."; the real-but-unemulated grant types (`authorization_code`,
//!   `refresh_token`, jwt-bearer) get 400 `unsupported_grant_type` saying only
//!   `client_credentials` is emulated. `account_id` that is `null` or `""` means "omitted".
//! - The body is JSON for `application/json` (or `*+json`), a form for
//!   `application/x-www-form-urlencoded`; with no or another content type, a body starting with
//!   `{` is JSON and anything else a form. Token responses carry `Cache-Control: no-store`.
//! - Granted scopes are listed in the package's configured order.
//! - Instance URLs are the configured `public_url`, else `http://{listen address}/`.
//! - Tokens are self-contained and HMAC-signed (nothing stored per token, so memory stays flat
//!   under any number of token requests); tokens of another emulator instance are refused.
//! - Unknown paths with a valid token: 404 `{"message":"Resource not found","errorcode":404,…}`;
//!   a known path with another method: 405 with errorcode 405. Salesforce documents no codes for
//!   these; the status is reused as `errorcode`. A trailing `/` on a path is ignored.
//! - Injected faults: 429 is the rate-limit body (errorcode 50100, `retryAfter` 5, header
//!   `Retry-After: 5`) on both targets, 401 is the live `Not Authorized` body, any other status
//!   is the REST error shape with the status's reason as `message` and the status as
//!   `errorcode`. Over HTTP, `status` must be 200–599, `count` ≥ 1, `delay_ms` ≤ one hour, and
//!   unknown fields are refused. API faults apply before the token check.
//! - `token_requests_by_client` counts requests naming a configured client id (before any fault
//!   or check), so unknown ids cannot grow it.
//! - A fault may carry an `errorcode`: 429 with 50200 is the "temporarily blocked" throttle
//!   (no `Retry-After`); otherwise it replaces the status's default code.
//! - Not found in a family: 404 with errorcode 404 (transactional messaging: 30003); a missing
//!   required field: 400 errorcode 10002 naming it; other validation failures: 400 errorcode
//!   10000 (10006 with `additionalErrors` for rowsets). An unknown data extension key is 400
//!   errorcode 10000 on writes and 404 on reads; an unknown `definitionKey` in a send is 400
//!   errorcode 30003. Asset and category deletes answer `"OK"`; campaign and journey deletes
//!   an empty 200.
//! - Asynchronous rows are written when the request is accepted; its status answers `Pending`
//!   for `async_pending_polls` polls (default 1), then `Complete`; results list the rows that
//!   failed (`errorCode` `InvalidColumn`, `InvalidValue`, `MissingPrimaryKey` or
//!   `UnexpectedError` for a duplicate key on insert, `message` naming the row number).
//! - Row reads' `links` are paths from the REST root (`/data/v1/customobjectdata/key/…`).
//! - What is kept only to answer later is bounded per business unit: the newest 10,000
//!   asynchronous rows requests, sent messages and contact delete requests; older ones answer
//!   404 (or leave the delete request list).

mod api;
mod app;
mod capped;
mod clock;
mod config;
mod control;
mod control_data;
mod dataext;
mod deadline;
mod faults;
#[doc(hidden)]
pub mod fuzzing;
mod gate;
mod paths;
mod rest;
mod server;
mod state;
mod stats;
mod store;
mod swallow;
mod token;
mod tokens;
mod userinfo;

pub use app::router;
pub use config::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_TOKEN_TTL_SECS, DEMO_ACCOUNT_ID, DEMO_CHILD_ACCOUNT_ID, DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET, EmulatorConfig, Package, TOKEN_TTL_RANGE_SECS,
};
pub use faults::{Fault, FaultTarget};
pub use paths::OriginalPath;
pub use server::{RunningEmulator, start};
pub use state::EmulatorHandle;
pub use stats::Stats;
