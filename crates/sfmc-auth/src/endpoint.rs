//! The token endpoint: the [`TokenEndpoint`] trait the manager calls, and [`HttpTokenEndpoint`],
//! which POSTs to `{auth}/v2/token` over the process's pooled client (see [`crate::http`]) with
//! its own timeout, never following a redirect, reading bounded bodies, and maps every answer to
//! a [`TokenResponse`] or an [`AuthError`]; and `GET {auth}/v2/userinfo` ([`fetch_userinfo`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use crate::clock::{Clock, SystemClock};
use crate::error::AuthError;
use crate::http::retry_after::retry_after_of;
use crate::http::{build_client, read_bounded, transport_error};
use crate::settings::ConnectionSettings;
use crate::token::{AccessToken, TokenResponse};

pub use crate::http::HttpTimeouts;

/// A boxed, sendable future (keeps the endpoint and store traits object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The largest token-endpoint body read, in bytes; a longer one is an invalid response.
pub const MAX_TOKEN_BODY: usize = 64 * 1024;
/// The largest userinfo body read, in bytes.
pub const MAX_USERINFO_BODY: usize = 1024 * 1024;

/// Something that answers token requests: Marketing Cloud over HTTP, or a scripted fake in tests.
pub trait TokenEndpoint: Send + Sync + fmt::Debug + 'static {
    /// Makes one token request (no retries: the manager owns the retry policy).
    fn request_token<'a>(
        &'a self,
        settings: &'a ConnectionSettings,
    ) -> BoxFuture<'a, Result<TokenResponse, AuthError>>;
}

/// The HTTP token endpoint of Marketing Cloud (or an emulator).
///
/// Its `reqwest` client is the process's one connection pool: share it for API calls through
/// [`HttpTokenEndpoint::client`]. Made by [`HttpTokenEndpoint::new`], the client is built on first
/// use by [`crate::http::build_client`] (building it loads the system's root certificates, which
/// a run served from the token cache never needs).
#[derive(Clone)]
pub struct HttpTokenEndpoint {
    timeouts: HttpTimeouts,
    client: Arc<OnceLock<Result<reqwest::Client, AuthError>>>,
}

impl fmt::Debug for HttpTokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTokenEndpoint")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl HttpTokenEndpoint {
    /// An endpoint whose client, built on first use, has the given timeouts, never follows a
    /// redirect and sends loopback and plain-http requests past any proxy.
    pub fn new(timeouts: HttpTimeouts) -> Self {
        Self {
            timeouts,
            client: Arc::default(),
        }
    }

    /// An endpoint on the caller's client (to share one connection pool with API calls). Each
    /// token request still has its own `timeouts.request` (its connect timeout is the client's).
    ///
    /// The client **must not follow redirects** (`reqwest::redirect::Policy::none()`): a `307`
    /// or `308` would repeat the request, client secret included, to wherever it points. A
    /// redirected token request is refused once its answer arrives, but by then it was sent.
    /// Its proxies are the caller's too: build it with [`crate::http::build_client`], or give it
    /// a [`crate::http::ProxyPolicy`], so that no secret goes to a proxy in clear text.
    pub fn with_client(client: reqwest::Client, timeouts: HttpTimeouts) -> Self {
        Self {
            timeouts,
            client: Arc::new(OnceLock::from(Ok(client))),
        }
    }

    /// The shared client (a cheap handle onto one pool), built on first use. Fails only if the
    /// TLS backend cannot start.
    pub fn client(&self) -> Result<reqwest::Client, AuthError> {
        self.client
            .get_or_init(|| build_client(self.timeouts))
            .clone()
    }

    /// The timeouts of token requests.
    pub fn timeouts(&self) -> HttpTimeouts {
        self.timeouts
    }

    async fn post_token(&self, settings: &ConnectionSettings) -> Result<TokenResponse, AuthError> {
        let mut body = serde_json::Map::new();
        body.insert("grant_type".into(), "client_credentials".into());
        body.insert("client_id".into(), settings.client_id().into());
        body.insert(
            "client_secret".into(),
            settings.client_secret().expose_secret().into(),
        );
        if let Some(account_id) = settings.account_id() {
            body.insert("account_id".into(), account_id.into());
        }
        if let Some(scope) = settings.scope_param() {
            body.insert("scope".into(), scope.into());
        }
        let url = settings.auth_base().token_url();
        tracing::debug!(url = %url, client_id = settings.client_id(), account_id = settings.account_id(), "requesting an access token");
        let response = self
            .client()?
            .post(url.clone())
            .timeout(self.timeouts.request)
            .header(ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .map_err(transport_error)?;
        check_not_redirected(&response, &url)?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(throttled(&response));
        }
        let bytes = read_bounded(response, MAX_TOKEN_BODY).await?;
        if status == StatusCode::OK {
            let parsed = TokenResponse::parse(&bytes)?;
            tracing::debug!(expires_in = parsed.expires_in, scope = %parsed.scope, "access token received");
            return Ok(parsed);
        }
        Err(error_from_status(status, &bytes))
    }
}

impl TokenEndpoint for HttpTokenEndpoint {
    fn request_token<'a>(
        &'a self,
        settings: &'a ConnectionSettings,
    ) -> BoxFuture<'a, Result<TokenResponse, AuthError>> {
        Box::pin(self.post_token(settings))
    }
}

/// The OAuth error body of Salesforce: `{"error","error_description","error_uri"}`.
#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Maps a non-200, non-429 answer. 401 and 403 are rejections whatever their body (an HTML page
/// from a gateway included); another 4xx with an OAuth error body is one too; anything else is a
/// service failure (only its status is kept).
fn error_from_status(status: StatusCode, body: &[u8]) -> AuthError {
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        Ok(oauth) if status.is_client_error() => AuthError::Rejected {
            status: status.as_u16(),
            error: clean_server_text(&oauth.error, 64),
            description: clean_server_text(oauth.error_description.as_deref().unwrap_or(""), 500),
        },
        _ if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
            AuthError::Rejected {
                status: status.as_u16(),
                error: format!("HTTP {}", status.as_u16()),
                description: "the answer carried no OAuth error".to_owned(),
            }
        }
        _ => AuthError::ServiceFailure {
            status: status.as_u16(),
        },
    }
}

/// Server text for an error message: control characters dropped, length bounded.
fn clean_server_text(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}

/// A 429, with the wait it asks for.
fn throttled(response: &reqwest::Response) -> AuthError {
    AuthError::Throttled {
        retry_after: retry_after_of(response.headers(), || SystemClock.now_ms()),
    }
}

/// Refuses an answer that does not come from `sent_to`: the client followed a redirect.
fn check_not_redirected(response: &reqwest::Response, sent_to: &Url) -> Result<(), AuthError> {
    if response.url() == sent_to {
        return Ok(());
    }
    Err(AuthError::config(
        "HTTP client",
        "follows redirects (the request was redirected); build it with reqwest::redirect::Policy::none()",
    ))
}

/// The answer of `GET {auth}/v2/userinfo`.
#[derive(Debug)]
#[non_exhaustive]
pub enum UserInfo {
    /// 200 and its JSON.
    Ok(serde_json::Value),
    /// 401: the token was not accepted (invalidate it and retry once).
    Unauthorized,
    /// 403: the token was accepted but may not read userinfo (the package's permissions).
    Forbidden,
}

/// Calls `GET {auth}/v2/userinfo` with `token` ("verify the token"), on a client that must not
/// follow redirects (see [`HttpTokenEndpoint::with_client`]).
pub async fn fetch_userinfo(
    http: &reqwest::Client,
    settings: &ConnectionSettings,
    token: &AccessToken,
) -> Result<UserInfo, AuthError> {
    let url = settings.auth_base().userinfo_url();
    let response = http
        .get(url.clone())
        .header(AUTHORIZATION, token.authorization_header())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(transport_error)?;
    check_not_redirected(&response, &url)?;
    let status = response.status();
    match status {
        StatusCode::UNAUTHORIZED => return Ok(UserInfo::Unauthorized),
        StatusCode::FORBIDDEN => return Ok(UserInfo::Forbidden),
        StatusCode::TOO_MANY_REQUESTS => return Err(throttled(&response)),
        _ => {}
    }
    if !status.is_success() {
        return Err(AuthError::ServiceFailure {
            status: status.as_u16(),
        });
    }
    let body = read_bounded(response, MAX_USERINFO_BODY).await?;
    serde_json::from_slice(&body)
        .map(UserInfo::Ok)
        .map_err(|_| AuthError::invalid_response("userinfo is not JSON"))
}
