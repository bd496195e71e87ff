//! `ANY /connections/{name}/rest/{*path}`: the token-injecting proxy to the connection's REST
//! instance URL, path and query kept as the caller wrote them (less `account_id`).
//!
//! - The gateway sets `Authorization: Bearer <token>` itself; the caller's `Authorization`,
//!   `Cookie`, `X-Api-Key` and hop-by-hop headers never go upstream (module `forward`).
//! - Paths that could leave the REST host are refused with 400 before anything is sent
//!   (module `proxy_path`).
//! - Request bodies are limited to `[server] max_body_bytes` (413 beyond). A body whose
//!   `Content-Length` is at most [`REPLAY_LIMIT`] (and every empty body) is read first and kept,
//!   so it can be sent again; a larger or chunked body is streamed upstream as it arrives.
//! - A 401 from upstream invalidates the token (unless a newer one replaced it already); a
//!   request with a kept body is then sent once more with a new token, a streamed one gets the
//!   401 (its body is gone; the caller's retry gets the new token).
//! - Answers are streamed back with their status and headers (less hop-by-hop ones). One
//!   upstream exchange, answer body included, takes at most `[server] upstream_timeout_secs`
//!   (504 when the head did not come in time); upstream unreachable → 502.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body::Body as _;
use reqwest::Url;
use sfmc_client::Client;

use super::client_for;
use crate::error::{json_error, token_error};
use crate::forward::{self, ACCOUNT_HEADER};
use crate::metrics::Route;
use crate::observe::tagged;
use crate::proxy_path::{self, Target};
use crate::state::AppState;

/// The largest request body (by its `Content-Length`) kept in memory so that it can be sent
/// again after a 401; larger bodies are streamed.
pub const REPLAY_LIMIT: u64 = 1024 * 1024;

/// The proxy handler.
pub(crate) async fn proxy(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(target) = Target::parse(parts.uri.path(), parts.uri.query()) else {
        let response = json_error(StatusCode::NOT_FOUND, "not_found", "no such route");
        return tagged(response, Route::Unmatched, None);
    };
    let header_account = || {
        parts
            .headers
            .get(ACCOUNT_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    };
    let account = target.account_id.clone().or_else(header_account);
    let (index, client) = match client_for(&state, target.name, account.as_deref(), Route::Rest) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let response = match forward(&state, index, &client, &parts, &target, body).await {
        Ok(response) | Err(response) => response,
    };
    tagged(response, Route::Rest, Some(index))
}

async fn forward(
    state: &AppState,
    index: usize,
    client: &Client,
    parts: &Parts,
    target: &Target<'_>,
    body: Body,
) -> Result<Response, Response> {
    proxy_path::check(target.path).map_err(|why| {
        json_error(
            StatusCode::BAD_REQUEST,
            "refused_path",
            format!("the path {why}"),
        )
    })?;
    let mut outgoing = Outgoing::prepare(parts, body, state.limits.max_body_bytes).await?;
    let handle = client.token_handle();
    let mut retried = false;
    loop {
        let token = handle.token().await.map_err(|error| {
            state.connections[index]
                .token_failures
                .fetch_add(1, Ordering::Relaxed);
            token_error(&error)
        })?;
        let url = upstream_url(token.rest_instance_url(), target)?;
        let mut request = reqwest::Request::new(parts.method.clone(), url);
        let headers = request.headers_mut();
        *headers = forward::request_headers(&parts.headers);
        headers.insert(header::AUTHORIZATION, token.authorization_header());
        if let Some(length) = outgoing.streamed_length() {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        *request.body_mut() = outgoing.body();
        let http = state
            .upstreams
            .client_for(request.url())
            .map_err(|message| {
                json_error(StatusCode::BAD_GATEWAY, "upstream_unavailable", message)
            })?;
        match http.execute(request).await {
            Ok(response) if response.status() == StatusCode::UNAUTHORIZED && !retried => {
                handle.invalidate(&token).await;
                if !outgoing.is_replayable() {
                    return Ok(answer(response));
                }
                tracing::debug!(connection = %state.connections[index].name, "upstream 401: token invalidated, sending again");
                retried = true;
            }
            Ok(response) => return Ok(answer(response)),
            Err(error) => return Err(outgoing.upstream_error(&error)),
        }
    }
}

/// `base` with `path` appended and `query` set, refused unless it stays under `base` (only the
/// path and query are parsed: the origin is the token's).
fn upstream_url(base: &Url, target: &Target<'_>) -> Result<Url, Response> {
    let mut url = base.clone();
    let mut path = String::with_capacity(base.path().len() + target.path.len() + 1);
    path.push_str(base.path());
    if !path.ends_with('/') {
        path.push('/');
    }
    path.push_str(target.path);
    url.set_path(&path);
    url.set_query((!target.query.is_empty()).then_some(&*target.query));
    if url.path().starts_with(base.path()) && url.host_str() == base.host_str() {
        Ok(url)
    } else {
        Err(json_error(
            StatusCode::BAD_REQUEST,
            "refused_path",
            "the path leaves the REST instance URL",
        ))
    }
}

/// The upstream answer, streamed back.
fn answer(mut upstream: reqwest::Response) -> Response {
    let status = upstream.status();
    let mut headers = std::mem::take(upstream.headers_mut());
    forward::strip_response_headers(&mut headers);
    let mut response = Response::new(Body::new(reqwest::Body::from(upstream)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request body on its way upstream.
enum Outgoing {
    /// Kept in memory: sent again after a 401.
    Kept(Bytes),
    /// Streamed as it arrives: sent once.
    Streamed {
        body: Option<Body>,
        length: Option<u64>,
        limit: u64,
        exceeded: Arc<AtomicBool>,
    },
}

impl Outgoing {
    /// Reads a small body (see [`REPLAY_LIMIT`]) or prepares a large one for streaming; 413
    /// when the declared length is over `limit`.
    async fn prepare(parts: &Parts, body: Body, limit: u64) -> Result<Self, Response> {
        let too_large = || {
            json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is larger than {limit} bytes ([server] max_body_bytes)"),
            )
        };
        if body.size_hint().exact() == Some(0) {
            return Ok(Self::Kept(Bytes::new()));
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared {
            Some(length) if length > limit => Err(too_large()),
            Some(length) if length <= REPLAY_LIMIT => {
                let bytes =
                    axum::body::to_bytes(body, usize::try_from(length).unwrap_or(usize::MAX))
                        .await
                        .map_err(|_| {
                            json_error(
                                StatusCode::BAD_REQUEST,
                                "body_unreadable",
                                "the request body could not be read",
                            )
                        })?;
                Ok(Self::Kept(bytes))
            }
            length => Ok(Self::Streamed {
                body: Some(body),
                length,
                limit,
                exceeded: Arc::new(AtomicBool::new(false)),
            }),
        }
    }

    fn is_replayable(&self) -> bool {
        matches!(self, Self::Kept(_))
    }

    fn streamed_length(&self) -> Option<u64> {
        match self {
            Self::Streamed { length, .. } => *length,
            Self::Kept(_) => None,
        }
    }

    /// The body of the next attempt (a streamed body is handed out once).
    fn body(&mut self) -> Option<reqwest::Body> {
        match self {
            Self::Kept(bytes) if bytes.is_empty() => None,
            Self::Kept(bytes) => Some(reqwest::Body::from(bytes.clone())),
            Self::Streamed {
                body,
                limit,
                exceeded,
                ..
            } => {
                let (limit, exceeded) = (*limit, exceeded.clone());
                let mut seen = 0u64;
                let stream =
                    body.take()?
                        .into_data_stream()
                        .map(move |chunk| -> Result<Bytes, BoxError> {
                            let chunk = chunk?;
                            seen += chunk.len() as u64;
                            if seen > limit {
                                exceeded.store(true, Ordering::Relaxed);
                                return Err("the request body is over the limit".into());
                            }
                            Ok(chunk)
                        });
                Some(reqwest::Body::wrap_stream(stream))
            }
        }
    }

    /// The answer for a failed exchange: 413 when the streamed body went over the limit, 504
    /// for a timeout, else 502.
    fn upstream_error(&self, error: &reqwest::Error) -> Response {
        if let Self::Streamed {
            exceeded, limit, ..
        } = self
            && exceeded.load(Ordering::Relaxed)
        {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is larger than {limit} bytes ([server] max_body_bytes)"),
            );
        }
        let reason = error_chain(error);
        if error.is_timeout() {
            json_error(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                format!("Marketing Cloud did not answer in time: {reason}"),
            )
        } else {
            json_error(
                StatusCode::BAD_GATEWAY,
                "upstream_unavailable",
                format!("could not reach Marketing Cloud: {reason}"),
            )
        }
    }
}

/// An error and its causes on one line (reqwest names the URL: the REST host and path, never a
/// token or a header).
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
