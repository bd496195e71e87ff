//! The token endpoint: the [`TokenEndpoint`] trait the manager calls, and [`HttpTokenEndpoint`],
//! which POSTs to `{auth}/v2/token` over one pooled `reqwest` client (rustls, timeouts, no
//! redirects, bounded bodies, proxies from the environment) and maps every answer to a
//! [`TokenResponse`] or an [`AuthError`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, RETRY_AFTER};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::error::AuthError;
use crate::settings::ConnectionSettings;
use crate::token::{AccessToken, TokenResponse};

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

/// Timeouts of the HTTP client.
#[derive(Debug, Clone, Copy)]
pub struct HttpTimeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// A whole request, body included.
    pub request: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(15),
        }
    }
}

/// The HTTP token endpoint of Marketing Cloud (or an emulator).
///
/// The `reqwest` client is built on first use: building it loads the system's root
/// certificates, which a run served from the token cache never needs.
#[derive(Clone)]
pub struct HttpTokenEndpoint {
    timeouts: HttpTimeouts,
    http: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

impl fmt::Debug for HttpTokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTokenEndpoint")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl HttpTokenEndpoint {
    /// An endpoint whose client (built on first use) has the given timeouts.
    pub fn new(timeouts: HttpTimeouts) -> Self {
        Self {
            timeouts,
            http: Arc::default(),
        }
    }

    /// The underlying client (one per process: share it for API calls too). Fails only if
    /// the TLS backend cannot start.
    pub fn http(&self) -> Result<&reqwest::Client, AuthError> {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .connect_timeout(self.timeouts.connect)
                    .timeout(self.timeouts.request)
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("sfmc/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| error_chain(&e))
            })
            .as_ref()
            .map_err(|reason| AuthError::config("HTTP client", reason.clone()))
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
            .http()?
            .post(url)
            .header(ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(AuthError::Throttled {
                retry_after: retry_after(&response),
            });
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

/// Maps a non-200, non-429 answer: an OAuth error body on a 4xx is a rejection; anything else a
/// service failure (only its status is kept).
fn error_from_status(status: StatusCode, body: &[u8]) -> AuthError {
    if status.is_client_error()
        && let Ok(oauth) = serde_json::from_slice::<OAuthErrorBody>(body)
    {
        return AuthError::Rejected {
            status: status.as_u16(),
            error: clean_server_text(&oauth.error, 64),
            description: clean_server_text(oauth.error_description.as_deref().unwrap_or(""), 500),
        };
    }
    AuthError::ServiceFailure {
        status: status.as_u16(),
    }
}

/// Server text for an error message: control characters dropped, length bounded.
fn clean_server_text(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    let secs: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

/// Reads at most `limit` bytes of a body; a longer body is an invalid response.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, AuthError> {
    let too_long = || AuthError::invalid_response(format!("body is longer than {limit} bytes"));
    if let Some(len) = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_long());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > limit {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport error with its cause chain, without the URL's query (there is none) or any body.
pub(crate) fn transport_error(error: reqwest::Error) -> AuthError {
    AuthError::Transport {
        timeout: error.is_timeout(),
        reason: error_chain(&error.without_url()),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The answer of `GET {auth}/v2/userinfo`.
#[derive(Debug)]
pub enum UserInfo {
    /// 200 and its JSON.
    Ok(serde_json::Value),
    /// 401: the token was not accepted (invalidate it and retry once).
    Unauthorized,
}

/// Calls `GET {auth}/v2/userinfo` with `token` ("verify the token").
pub async fn fetch_userinfo(
    http: &reqwest::Client,
    settings: &ConnectionSettings,
    token: &AccessToken,
) -> Result<UserInfo, AuthError> {
    let response = http
        .get(settings.auth_base().userinfo_url())
        .header(AUTHORIZATION, token.authorization_header())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(transport_error)?;
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return Ok(UserInfo::Unauthorized);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(AuthError::Throttled {
            retry_after: retry_after(&response),
        });
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
