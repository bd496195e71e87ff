//! The one send path: token → request with `Authorization: Bearer` → answer classified →
//! retried as the [`RetryPolicy`] says (on `backon`, with `sfmc-auth`'s schedule), all inside
//! the call's deadline.
//!
//! Cancellation-safe: a call is one future that spawns nothing; dropping it drops the HTTP
//! exchange and any wait, and the token manager's refresh (which it may be waiting on) belongs
//! to the manager, not to this call. Tokens never reach a log line or an error.

use std::sync::atomic::{AtomicBool, Ordering};

use backon::Retryable;
use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use sfmc_auth::AccessToken;
use sfmc_auth::http::retry_after::retry_after_of;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

use crate::client::Client;
use crate::error::{ApiError, ClientError, RestErrorBody};
use crate::request::{ApiRequest, ApiResponse, RequestBody, resolve};
use crate::retry::{Outcome, RetryPolicy};

/// A failed attempt: the error, and what it means for retrying.
struct Failed {
    error: ClientError,
    outcome: Outcome,
}

impl Failed {
    fn new(error: ClientError, outcome: Outcome) -> Self {
        Self { error, outcome }
    }

    fn permanent(error: impl Into<ClientError>) -> Self {
        Self::new(error.into(), Outcome::Final)
    }
}

/// Now on tokio's monotonic clock (paused and advanced in tests): the time base of a call's
/// deadline, as in `sfmc-auth`.
#[allow(clippy::disallowed_methods)] // the one place the client reads the clock
fn monotonic_now() -> Instant {
    Instant::now()
}

impl Client {
    /// Sends `request` under the retry policy and the deadline; a non-success status is an
    /// error ([`ClientError::Api`] and friends) keeping the status and the REST error body.
    pub async fn send(&self, request: ApiRequest) -> Result<ApiResponse, ClientError> {
        self.execute(&request).await
    }

    /// [`Client::send`] for a borrowed request.
    pub(crate) async fn execute(&self, request: &ApiRequest) -> Result<ApiResponse, ClientError> {
        let after = self.config().deadline;
        let deadline = monotonic_now() + after;
        let mut last = None;
        let mut out_of_time = false;
        let attempts = self.attempts(request, deadline, &mut last, &mut out_of_time);
        let deadline_error = |last: Option<ClientError>| ClientError::Deadline {
            after,
            last: last.map(Box::new),
        };
        match tokio::time::timeout_at(deadline, attempts).await {
            Ok(Ok(response)) => Ok(response),
            // The wait the failure called for would end past the deadline: not started.
            Ok(Err(failed)) if out_of_time => Err(deadline_error(Some(failed.error))),
            Ok(Err(failed)) => Err(failed.error),
            Err(_) => Err(deadline_error(last)),
        }
    }

    /// Attempts until one succeeds, fails for good, the attempts run out, or the next wait
    /// would end past `deadline` (then `out_of_time` is set). `last` is the latest failure
    /// retried, for a deadline that strikes during an attempt.
    async fn attempts(
        &self,
        request: &ApiRequest,
        deadline: Instant,
        last: &mut Option<ClientError>,
        out_of_time: &mut bool,
    ) -> Result<ApiResponse, Failed> {
        let policy = &self.config().retry;
        let token_renewed = AtomicBool::new(false);
        let attempt = || self.attempt(request, &token_renewed);
        attempt
            .retry(policy.schedule())
            .sleep(tokio::time::sleep)
            .when(|failed: &Failed| RetryPolicy::may_retry(failed.outcome, request.idempotent))
            .adjust(|failed: &Failed, backoff: Option<Duration>| {
                let delay = policy.delay(failed.error.retry_after(), backoff?);
                let fits = monotonic_now() + delay < deadline;
                *out_of_time = !fits;
                fits.then_some(delay)
            })
            .notify(|failed: &Failed, delay: Duration| {
                tracing::debug!(method = %request.method, path = %request.path, wait_ms = delay.as_millis(), error = %failed.error, "retrying");
                *last = Some(failed.error.clone());
            })
            .await
    }

    /// One attempt: a token, the exchange, and on a 401 (once per call) the token invalidated
    /// and the exchange repeated with a new one.
    async fn attempt(
        &self,
        request: &ApiRequest,
        token_renewed: &AtomicBool,
    ) -> Result<ApiResponse, Failed> {
        loop {
            let token = self
                .token_handle()
                .token()
                .await
                .map_err(Failed::permanent)?;
            let url = resolve(token.rest_instance_url(), &request.path, &request.query)
                .map_err(Failed::permanent)?;
            match self.send_once(request, url, &token).await {
                Err(failed)
                    if failed.outcome == Outcome::Unauthorized
                        && !token_renewed.swap(true, Ordering::Relaxed) =>
                {
                    tracing::debug!(method = %request.method, path = %request.path, "401: invalidating the token and retrying once");
                    self.token_handle().invalidate(&token).await;
                }
                result => return result,
            }
        }
    }

    /// One exchange and what it means for retrying.
    async fn send_once(
        &self,
        request: &ApiRequest,
        url: Url,
        token: &AccessToken,
    ) -> Result<ApiResponse, Failed> {
        let mut builder = self
            .http()
            .request(request.method.clone(), url)
            .header(AUTHORIZATION, token.authorization_header())
            .header(ACCEPT, "application/json");
        builder = match &request.body {
            Some(RequestBody::Json(value)) => builder.json(value),
            Some(RequestBody::Bytes {
                content_type,
                bytes,
            }) => builder
                .header(CONTENT_TYPE, *content_type)
                .body(bytes.clone()),
            None => builder,
        };
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                let outcome = if error.is_connect() {
                    Outcome::ConnectFailed
                } else {
                    Outcome::TransportFailed
                };
                return Err(Failed::new(self.transport(request, &error), outcome));
            }
        };
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = match read_bounded(response, self.config().max_body_bytes).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return Err(Failed::permanent(ClientError::InvalidResponse(format!(
                    "the answer is larger than {} bytes",
                    self.config().max_body_bytes
                ))));
            }
            Err(BodyError::Read(error)) => {
                let error = self.transport(request, &error);
                return Err(Failed::new(error, Outcome::TransportFailed));
            }
        };
        tracing::debug!(method = %request.method, path = %request.path, status = status.as_u16(), "answer");
        if status.is_success() {
            return Ok(ApiResponse {
                status,
                headers,
                body,
            });
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let error = ApiError {
            method: request.method.clone(),
            path: request.path.clone(),
            status,
            body: json
                .as_ref()
                .map(RestErrorBody::from_json)
                .unwrap_or_default(),
            json,
        };
        let retry_after = (status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| {
                retry_after(
                    &headers,
                    || self.token_handle().now_ms(),
                    error.json.as_ref(),
                )
            })
            .flatten();
        let outcome = match status {
            StatusCode::UNAUTHORIZED => Outcome::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS if error.body.errorcode == Some(50200) => Outcome::Final,
            StatusCode::TOO_MANY_REQUESTS => Outcome::RateLimited,
            s if s.is_server_error() => Outcome::ServerError,
            _ => Outcome::Final,
        };
        Err(Failed::new(
            ClientError::from_status(error, retry_after),
            outcome,
        ))
    }

    fn transport(&self, request: &ApiRequest, error: &reqwest::Error) -> ClientError {
        ClientError::Transport {
            method: request.method.clone(),
            path: request.path.clone(),
            reason: error_chain(error),
        }
    }
}

/// The wait a 429 asks for: the `Retry-After` header (seconds or a date), else the body's
/// `retryAfter` (seconds).
fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now_ms: impl FnOnce() -> u64,
    body: Option<&serde_json::Value>,
) -> Option<Duration> {
    let from_body = || Some(Duration::from_secs(body?.get("retryAfter")?.as_u64()?));
    retry_after_of(headers, now_ms).or_else(from_body)
}

/// An error and its sources on one line (reqwest names the URL; never a header or body).
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
