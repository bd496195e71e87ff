//! The REST side that exists so far: bearer-token checks, the REST error body
//! (`{"message","errorcode","documentation"}`), `GET /platform/v1/tokenContext`, and the
//! answer for every other path (401 `Not Authorized` without a valid token, else 404).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::{AppState, PackageEntry, Shared};
use crate::tokens::Claims;

/// `documentation` of every REST error body, as the live API sends it.
pub(crate) const DOCUMENTATION_URL: &str =
    "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm";

/// A REST error response: `{"message","errorcode","documentation"}` with `status`.
pub(crate) fn error(status: StatusCode, message: &str, errorcode: i64) -> Response {
    let body =
        json!({ "message": message, "errorcode": errorcode, "documentation": DOCUMENTATION_URL });
    (status, Json(body)).into_response()
}

/// 401 `Not Authorized`, errorcode 0: token missing, invalid, expired or revoked.
pub(crate) fn not_authorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "Not Authorized", 0)
}

/// Who a valid token speaks for.
pub(crate) struct Caller<'a> {
    /// What the token says.
    pub claims: Claims,
    /// The token's package.
    pub entry: &'a PackageEntry,
    /// The token's business unit (MID).
    pub mid: &'a str,
    /// The package's own MID, standing for the enterprise.
    pub enterprise: &'a str,
}

/// The caller behind the request's `Authorization: Bearer …` token; `None` when the token is
/// missing, unknown, expired or revoked (answer [`not_authorized`]).
pub(crate) fn authenticate<'a>(shared: &'a Shared, headers: &HeaderMap) -> Option<Caller<'a>> {
    let claims = shared.mint.verify(bearer(headers)?)?;
    let entry = shared.packages.get(claims.package)?;
    let ids = &entry.package.account_ids;
    Some(Caller {
        mid: ids.get(claims.mid)?,
        enterprise: ids.first()?,
        entry,
        claims,
    })
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A MID as JSON: a number when it is one (as the live API sends them), else the string.
pub(crate) fn mid_json(mid: &str) -> Value {
    mid.parse::<u64>()
        .map_or_else(|_| Value::from(mid), Value::from)
}

/// The emulated user id behind package number `package` (the live API has one API user per
/// installed package).
pub(crate) fn user_id(package: usize) -> u64 {
    700_000_001_u64.saturating_add(u64::try_from(package).unwrap_or(u64::MAX))
}

/// `GET /platform/v1/tokenContext`.
pub(crate) async fn token_context(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let Some(caller) = authenticate(&shared, &headers) else {
        return not_authorized();
    };
    Json(json!({
        "enterprise": { "id": mid_json(caller.enterprise) },
        "organization": { "id": mid_json(caller.mid) },
        "user": { "id": user_id(caller.claims.package) },
    }))
    .into_response()
}

/// Any path the emulator does not implement: 401 without a valid token (as the live API
/// checks the token first), else 404 with errorcode 404 (an emulator choice: Salesforce
/// documents no code for unknown resources).
pub(crate) async fn fallback(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    match authenticate(&shared, &headers) {
        Some(_) => error(StatusCode::NOT_FOUND, "Resource not found", 404),
        None => not_authorized(),
    }
}

/// A known path asked with a method it does not serve: 405, errorcode 405 (emulator choice).
pub(crate) async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed", 405)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        for (raw, want) in [
            ("Bearer abc", Some("abc")),
            ("bearer  abc ", Some("abc")),
            ("BEARER abc", Some("abc")),
            ("Basic abc", None),
            ("Bearer", None),
        ] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(raw));
            assert_eq!(bearer(&h), want, "{raw}");
        }
    }

    #[test]
    fn mids_are_numbers_when_numeric() {
        assert_eq!(mid_json("100000001"), json!(100000001));
        assert_eq!(mid_json("bu-7"), json!("bu-7"));
    }
}
