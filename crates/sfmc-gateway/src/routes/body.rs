//! A caller's request body read whole before the gateway answers — operation parameters, a
//! proxied body kept for replay after a 401, a mounted router's request ([`read_whole`]) — and
//! the one answer for a body over `[server] max_body_bytes` ([`too_large`]).

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use crate::error::json_error;
use crate::state::Limits;

/// 413: the body is over `limit` (`[server] max_body_bytes`).
pub(crate) fn too_large(limit: u64) -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {limit} bytes ([server] max_body_bytes)"),
    )
}

/// The `Content-Length` a caller declared, if any (and a number).
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// `body` read to its end: 413 when its declared or sent length is over
/// `limits.max_body_bytes`, 408 `body_timeout` when it has not all arrived within
/// `limits.body_timeout` (the upstream timeout: a caller trickling a body cannot hold a request
/// and its buffer open), 400 `body_unreadable` when it breaks off.
pub(crate) async fn read_whole(
    limits: &Limits,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, Response> {
    let max = limits.max_body_bytes;
    if declared_length(headers).is_some_and(|length| length > max) {
        return Err(too_large(max));
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let read = tokio::time::timeout(limits.body_timeout, axum::body::to_bytes(body, limit));
    match read.await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => {
            let over = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            Err(if over {
                too_large(max)
            } else {
                json_error(
                    StatusCode::BAD_REQUEST,
                    "body_unreadable",
                    "the request body could not be read",
                )
            })
        }
        Err(_) => Err(json_error(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            "the request body did not arrive within [server] upstream_timeout_secs",
        )),
    }
}
