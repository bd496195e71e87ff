//! Finding the data extension a rows endpoint names (`key:{key}` or `key/{key}` in the path)
//! in the caller's business unit. An unknown key is 400 errorcode 10000 on writes (the live
//! API's "invalid request") and 404 on reads.

use axum::http::StatusCode;

use crate::api::principal::Principal;
use crate::api::reply;
use crate::api::reply::{ApiError, VALIDATION};
use crate::store::SharedDataExtension;

/// Whether a missing data extension is a bad write or a missing read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// The external key in a `key:{key}` path segment (prefix case-insensitive).
pub(crate) fn key_of(segment: &str) -> Option<&str> {
    let (prefix, key) = segment.split_once(':')?;
    (prefix.eq_ignore_ascii_case("key") && !key.is_empty()).then_some(key)
}

/// The caller's data extension with external key `key`.
pub(crate) fn find(
    p: &Principal,
    key: &str,
    access: Access,
) -> Result<SharedDataExtension, ApiError> {
    p.unit().data_extension(key).ok_or_else(|| {
        let message = format!("Unable to find a data extension with external key {key:?}.");
        match access {
            Access::Write => reply::error(StatusCode::BAD_REQUEST, &message, VALIDATION),
            Access::Read => reply::error(StatusCode::NOT_FOUND, &message, 404),
        }
    })
}

/// [`find`] for a `key:{key}` segment; a segment without `key:` is treated as an unknown key.
pub(crate) fn find_by_segment(
    p: &Principal,
    segment: &str,
    access: Access,
) -> Result<SharedDataExtension, ApiError> {
    find(p, key_of(segment).unwrap_or(segment), access)
}
