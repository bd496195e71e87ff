//! The one send path: token → request with `Authorization: Bearer` → answer classified →
//! the [`RetryPolicy`](crate::RetryPolicy)'s decision applied, all inside the call's deadline.
//!
//! Cancellation-safe: a call is one future that spawns nothing; dropping it drops the HTTP
//! exchange and any wait, and the token manager's refresh (which it may be waiting on) belongs
//! to the manager, not to this call. Tokens never reach a log line or an error.

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use sfmc_auth::AccessToken;
use sfmc_auth::http::retry_after::retry_after_of;
use std::time::Duration;
use url::Url;

use crate::client::Client;
use crate::error::{ApiError, ClientError, RestErrorBody};
use crate::request::{ApiRequest, ApiResponse, RequestBody, resolve};
use crate::retry::{Decision, Outcome};

impl Client {
    /// Sends `request` under the retry policy and the deadline; a non-success status is an
    /// error ([`ClientError::Api`] and friends) keeping the status and the REST error body.
    pub async fn send(&self, request: ApiRequest) -> Result<ApiResponse, ClientError> {
        let deadline = self.config().deadline;
        let mut last = None;
        let outcome = tokio::time::timeout(deadline, self.attempts(&request, &mut last)).await;
        match outcome {
            Ok(result) => result,
            Err(_) => Err(ClientError::Deadline {
                after: deadline,
                last: last.map(Box::new),
            }),
        }
    }

    async fn attempts(
        &self,
        request: &ApiRequest,
        last: &mut Option<ClientError>,
    ) -> Result<ApiResponse, ClientError> {
        let policy = &self.config().retry;
        let mut attempt = 0;
        let mut token_renewed = false;
        loop {
            attempt += 1;
            let token = self.token_handle().token().await?;
            let url = resolve(token.rest_instance_url(), &request.path, &request.query)?;
            let (result, outcome) = self.send_once(request, url, &token).await;
            match policy.decide(outcome, attempt, token_renewed, request.idempotent) {
                Decision::Return => return result,
                Decision::NewToken => {
                    tracing::debug!(method = %request.method, path = %request.path, "401: invalidating the token and retrying once");
                    token_renewed = true;
                    attempt -= 1;
                    *last = result.err();
                    self.token_handle().invalidate(&token).await;
                }
                Decision::RetryAfter(wait) => {
                    tracing::debug!(method = %request.method, path = %request.path, attempt, wait_ms = wait.as_millis(), "retrying");
                    *last = result.err();
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One exchange and what it means for retrying.
    async fn send_once(
        &self,
        request: &ApiRequest,
        url: Url,
        token: &AccessToken,
    ) -> (Result<ApiResponse, ClientError>, Outcome) {
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
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                let outcome = if error.is_connect() {
                    Outcome::ConnectFailed
                } else {
                    Outcome::TransportFailed
                };
                return (Err(self.transport(request, &error)), outcome);
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match read_bounded(response, self.config().max_body_bytes).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                let error = ClientError::InvalidResponse(format!(
                    "the answer is larger than {} bytes",
                    self.config().max_body_bytes
                ));
                return (Err(error), Outcome::Final);
            }
            Err(BodyError::Read(error)) => {
                return (
                    Err(self.transport(request, &error)),
                    Outcome::TransportFailed,
                );
            }
        };
        tracing::debug!(method = %request.method, path = %request.path, status = status.as_u16(), "answer");
        if status.is_success() {
            let response = ApiResponse {
                status,
                headers,
                body,
            };
            return (Ok(response), Outcome::Final);
        }
        let error = ApiError {
            method: request.method.clone(),
            path: request.path.clone(),
            status,
            body: RestErrorBody::parse(&body),
            json: serde_json::from_slice(&body).ok(),
        };
        let outcome = match status {
            StatusCode::UNAUTHORIZED => Outcome::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS if error.body.errorcode == Some(50200) => Outcome::Final,
            StatusCode::TOO_MANY_REQUESTS => {
                let now = || self.token_handle().now_ms();
                Outcome::RateLimited(retry_after(&headers, now, error.json.as_ref()))
            }
            s if s.is_server_error() => Outcome::ServerError,
            _ => Outcome::Final,
        };
        (Err(ClientError::from_status(error)), outcome)
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
