//! [`Client`]: a token handle from a [`TokenManager`], an HTTP client and settings. Cheap to
//! clone; [`Client::for_account`] gives the client of another business unit, sharing the manager
//! (tokens are cached per business unit) and the connection pool.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::BoxStream;
use reqwest::Method;
use serde_json::Value;
use sfmc_auth::{ConnectionSettings, HttpTimeouts, TokenHandle, TokenManager};

use crate::catalog::{self, Operation, Paging};
use crate::error::ClientError;
use crate::ops;
use crate::paging;
use crate::request::{ApiRequest, ApiResponse};
use crate::retry::ClientConfig;

/// The shared parts of every client made from one [`Client::new`].
struct Shared {
    manager: TokenManager,
    http: reqwest::Client,
    config: ClientConfig,
}

/// A Marketing Cloud REST client for one business unit.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    handle: TokenHandle,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("handle", &self.handle)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// A `reqwest` client fit for API calls when the caller has none to share: `sfmc-auth`'s
/// (rustls, proxy routing that keeps loopback and plain http direct, no redirects — a redirect
/// must not carry the token elsewhere), with a 60 s request limit.
pub fn default_http_client() -> Result<reqwest::Client, ClientError> {
    let timeouts = HttpTimeouts::new(Duration::from_secs(5), Duration::from_secs(60));
    Ok(sfmc_auth::http::build_client(timeouts)?)
}

impl Client {
    /// The client for `settings` (its `account_id` picks the business unit), with tokens from
    /// `manager` and requests sent over `http` (share the token endpoint's client; it must not
    /// follow redirects).
    pub fn new(manager: TokenManager, settings: ConnectionSettings, http: reqwest::Client) -> Self {
        let handle = manager.handle(settings);
        Self::from_handle(manager, handle, http)
    }

    /// The client over a token handle the caller already holds (from `manager`), so no second
    /// handle is made; requests are sent over `http` (it must not follow redirects).
    pub fn from_handle(manager: TokenManager, handle: TokenHandle, http: reqwest::Client) -> Self {
        Self {
            shared: Arc::new(Shared {
                manager,
                http,
                config: ClientConfig::default(),
            }),
            handle,
        }
    }

    /// The same client with other settings (deadline, retries, body limit).
    pub fn with_config(self, config: ClientConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                manager: self.shared.manager.clone(),
                http: self.shared.http.clone(),
                config,
            }),
            handle: self.handle,
        }
    }

    /// The client of business unit `mid`: same package, same manager and pool, its own token.
    pub fn for_account(&self, mid: &str) -> Result<Self, ClientError> {
        let settings = self.handle.settings().clone().with_account_id(mid)?;
        Ok(Self {
            shared: self.shared.clone(),
            handle: self.shared.manager.handle(settings),
        })
    }

    /// The token handle of this client's business unit.
    pub fn token_handle(&self) -> &TokenHandle {
        &self.handle
    }

    /// The business unit (MID), when one was chosen.
    pub fn account_id(&self) -> Option<&str> {
        self.handle.settings().account_id()
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.shared.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.shared.http
    }

    /// A request to any path under the REST instance URL.
    pub fn request(&self, method: Method, path: impl Into<String>) -> RequestBuilder<'_> {
        RequestBuilder {
            client: self,
            request: ApiRequest::new(method, path),
        }
    }

    /// Calls catalog operation `operation` with `params` (a JSON object keyed by parameter
    /// name) and returns the answer's JSON (`null` for an empty body).
    pub async fn call(&self, operation: &str, params: &Value) -> Result<Value, ClientError> {
        let op = catalog::lookup(operation)?;
        self.call_operation(op, params).await
    }

    /// Calls `op` with `params`.
    pub async fn call_operation(
        &self,
        op: &'static Operation,
        params: &Value,
    ) -> Result<Value, ClientError> {
        let request = op.build_request(params)?.into_api_request();
        Ok(self.send(request).await?.json())
    }

    /// Calls a paged operation and streams the items of every page (a single-page operation
    /// yields its answer once).
    pub fn call_all(
        &self,
        op: &'static Operation,
        params: &Value,
    ) -> Result<BoxStream<'static, Result<Value, ClientError>>, ClientError> {
        let request = op.build_request(params)?.into_api_request();
        Ok(paging::items(self.clone(), request, op.paging))
    }

    /// Campaigns (`/hub/v1/campaigns`).
    pub fn campaigns(&self) -> ops::campaigns::Campaigns<'_> {
        ops::campaigns::Campaigns::new(self)
    }

    /// Content Builder assets (`/asset/v1/content/assets`).
    pub fn assets(&self) -> ops::assets::Assets<'_> {
        ops::assets::Assets::new(self)
    }

    /// Content Builder categories (`/asset/v1/content/categories`).
    pub fn categories(&self) -> ops::categories::Categories<'_> {
        ops::categories::Categories::new(self)
    }

    /// Contacts (`/contacts/v1`).
    pub fn contacts(&self) -> ops::contacts::Contacts<'_> {
        ops::contacts::Contacts::new(self)
    }

    /// Journeys (`/interaction/v1/interactions`).
    pub fn journeys(&self) -> ops::journeys::Journeys<'_> {
        ops::journeys::Journeys::new(self)
    }

    /// Transactional messaging (`/messaging/v1`).
    pub fn messaging(&self) -> ops::messaging::Messaging<'_> {
        ops::messaging::Messaging::new(self)
    }

    /// Data extension rows (`/hub/v1/dataevents`).
    pub fn data_extensions(&self) -> ops::data_extensions::DataExtensions<'_> {
        ops::data_extensions::DataExtensions::new(self)
    }
}

/// A request being put together by [`Client::request`].
#[derive(Debug)]
pub struct RequestBuilder<'a> {
    client: &'a Client,
    request: ApiRequest,
}

impl RequestBuilder<'_> {
    /// Adds a query pair.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.request = self.request.query(name, value);
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.request = self.request.json(body);
        self
    }

    /// Overrides whether the request may be repeated.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.request = self.request.idempotent(idempotent);
        self
    }

    /// The request as built.
    pub fn build(self) -> ApiRequest {
        self.request
    }

    /// Sends it.
    pub async fn send(self) -> Result<ApiResponse, ClientError> {
        self.client.send(self.request).await
    }

    /// Sends it and returns the answer's JSON.
    pub async fn send_json(self) -> Result<Value, ClientError> {
        Ok(self.client.send(self.request).await?.json())
    }

    /// Streams the items of every page, paged as `paging` says (see [`crate::paging`]).
    pub fn items(self, paging: Paging) -> BoxStream<'static, Result<Value, ClientError>> {
        paging::items(self.client.clone(), self.request, paging)
    }

    /// Streams the items of every page, the paging style told by the first page's shape.
    pub fn items_detected(self) -> BoxStream<'static, Result<Value, ClientError>> {
        paging::detected_items(self.client.clone(), self.request)
    }
}
