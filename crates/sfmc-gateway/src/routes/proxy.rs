//! `ANY /connections/{name}/rest/{*path}`: the token-injecting proxy to the connection's REST
//! instance URL, path and query kept as the caller wrote them (less `account_id`).
//!
//! - The gateway sets `Authorization: Bearer <token>` itself; the caller's `Authorization`,
//!   `Cookie`, `X-Api-Key` and hop-by-hop headers never go upstream (module `forward`).
//! - Paths that could leave the REST host are refused with 400 before anything is sent
//!   (module `proxy_path`).
//! - Request bodies are limited to `[server] max_body_bytes` (413 beyond). A body whose
//!   `Content-Length` is at most [`REPLAY_LIMIT`] (and every empty body) is read first and kept,
//!   so it can be sent again (408 when it does not arrive within the upstream timeout); a larger
//!   or chunked body is streamed upstream as it arrives.
//! - A 401 from upstream invalidates the token (unless a newer one replaced it already); a
//!   request with a kept body is then sent once more with a new token, a streamed one gets the
//!   401 (its body is gone; the caller's retry gets the new token).
//! - A kept-alive upstream connection closed before answering (most likely closed as idle by
//!   the server while the request was on its way) gets a request of a safe method (GET, HEAD,
//!   OPTIONS, TRACE) with a kept body sent once more on a new connection; other methods get
//!   502, as they may have been acted on. With a 401 too, a request goes upstream at most three
//!   times (each exchange with its own upstream timeout).
//! - Answers are streamed back with their status and headers (less hop-by-hop ones). One
//!   upstream exchange, answer body included, takes at most `[server] upstream_timeout_secs`
//!   (504 when the head did not come in time); upstream unreachable → 502.

use std::borrow::Cow;
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
use sfmc_client::Client;

use super::{body, client_for, header_account_id};
use crate::error::{json_error, token_error};
use crate::forward;
use crate::metrics::Route;
use crate::observe::tagged;
use crate::proxy_path::{self, Target};
use crate::state::{AppState, Limits};
use crate::upstream::{NewConnection, UpstreamError, upstream_uri};

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
    let account = (target.account_id.clone()).or_else(|| header_account_id(&parts.headers));
    let (index, client) = match client_for(&state, target.name, account.as_deref(), Route::Rest) {
        Ok(found) => found,
        Err(response) => return response,
    };
    // The connection's own business unit: its Authorization value is made once per token.
    let own_unit = matches!(client, Cow::Borrowed(_));
    let response = match forward(&state, index, &client, own_unit, &parts, &target, body).await {
        Ok(response) | Err(response) => response,
    };
    tagged(response, Route::Rest, Some(index))
}

async fn forward(
    state: &AppState,
    index: usize,
    client: &Client,
    own_unit: bool,
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
    let mut outgoing = Outgoing::prepare(parts, body, &state.limits).await?;
    let handle = client.token_handle();
    let mut retried = false;
    let mut resent = false;
    loop {
        let token = handle.token().await.map_err(|error| {
            state.connections[index]
                .token_failures
                .fetch_add(1, Ordering::Relaxed);
            token_error(&error)
        })?;
        let base = token.rest_instance_url();
        let uri = upstream_uri(base, target.path, &target.query).ok_or_else(|| {
            json_error(
                StatusCode::BAD_REQUEST,
                "refused_path",
                "the path leaves the REST instance URL",
            )
        })?;
        let mut request = Request::new(outgoing.body());
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        *headers = forward::request_headers(&parts.headers);
        let authorization = if own_unit {
            state.connections[index].authorization(&token)
        } else {
            token.authorization_header()
        };
        headers.insert(header::AUTHORIZATION, authorization);
        if let Some(length) = outgoing.streamed_length() {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        if resent {
            request.extensions_mut().insert(NewConnection);
        }
        match state.upstreams.send(base, request).await {
            Ok(response) if response.status() == StatusCode::UNAUTHORIZED && !retried => {
                handle.invalidate(&token).await;
                if !outgoing.is_replayable() {
                    return Ok(answer(response));
                }
                tracing::debug!(connection = %state.connections[index].name, "upstream 401: token invalidated, sending again");
                retried = true;
            }
            Ok(response) => return Ok(answer(response)),
            Err(UpstreamError::Dropped(reason))
                if !resent && parts.method.is_safe() && outgoing.is_replayable() =>
            {
                tracing::debug!(connection = %state.connections[index].name, %reason, "kept-alive upstream connection closed before answering: sending again");
                resent = true;
            }
            Err(error) => return Err(outgoing.upstream_error(&error)),
        }
    }
}

/// The upstream answer, streamed back without its hop-by-hop headers.
fn answer(mut upstream: Response) -> Response {
    forward::strip_response_headers(upstream.headers_mut());
    upstream.extensions_mut().clear();
    upstream
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
    /// Reads a small body (see [`REPLAY_LIMIT`]; [`body::read_whole`]: 408 when it does not
    /// arrive in time) or prepares a large one for streaming; 413 when the declared length is
    /// over `limits.max_body_bytes`.
    async fn prepare(parts: &Parts, body: Body, limits: &Limits) -> Result<Self, Response> {
        if body.size_hint().exact() == Some(0) {
            return Ok(Self::Kept(Bytes::new()));
        }
        let limit = limits.max_body_bytes;
        match body::declared_length(&parts.headers) {
            Some(length) if length > limit => Err(body::too_large(limit)),
            Some(length) if length <= REPLAY_LIMIT => Ok(Self::Kept(
                body::read_whole(limits, &parts.headers, body).await?,
            )),
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
    fn body(&mut self) -> Body {
        match self {
            Self::Kept(bytes) if bytes.is_empty() => Body::empty(),
            Self::Kept(bytes) => Body::from(bytes.clone()),
            Self::Streamed {
                body,
                limit,
                exceeded,
                ..
            } => {
                let (limit, exceeded) = (*limit, exceeded.clone());
                let mut seen = 0u64;
                let Some(body) = body.take() else {
                    return Body::empty();
                };
                let stream = body
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
                Body::from_stream(stream)
            }
        }
    }

    /// The answer for a failed exchange: 413 when the streamed body went over the limit, 504
    /// for a timeout, else 502.
    fn upstream_error(&self, error: &UpstreamError) -> Response {
        if let Self::Streamed {
            exceeded, limit, ..
        } = self
            && exceeded.load(Ordering::Relaxed)
        {
            return body::too_large(*limit);
        }
        match error {
            UpstreamError::Timeout => json_error(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                "Marketing Cloud did not answer within [server] upstream_timeout_secs",
            ),
            UpstreamError::Failed(reason) | UpstreamError::Dropped(reason) => json_error(
                StatusCode::BAD_GATEWAY,
                "upstream_unavailable",
                format!("could not reach Marketing Cloud: {reason}"),
            ),
        }
    }
}
