//! What the REST families answer with: [`ApiError`] (the error body `{"message","errorcode",
//! "documentation"}`, statuses and codes picked in one place), JSON success replies, and reading
//! a JSON request body into a 400 when it is not JSON.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::rest::{self, DOCUMENTATION_URL};

/// What a family handler returns: the reply, or an error reply.
pub(crate) type Reply = Result<Response, ApiError>;

/// A REST error answer: status, `message`, `errorcode`, and `additionalErrors` when there are
/// several problems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    errorcode: i64,
    additional: Vec<String>,
}

impl ApiError {
    /// What is wrong, as `message` says it.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.additional.is_empty() {
            return rest::error(self.status, &self.message, self.errorcode);
        }
        let additional: Vec<Value> = self
            .additional
            .iter()
            .map(|d| json!({"message": d, "errorcode": VALIDATION, "documentation": ""}))
            .collect();
        let body = json!({
            "message": self.message,
            "errorcode": self.errorcode,
            "documentation": DOCUMENTATION_URL,
            "additionalErrors": additional,
        });
        json_reply(self.status, body)
    }
}

/// An error with `status`, `message` and `errorcode`.
pub(crate) fn error(status: StatusCode, message: impl AsRef<str>, errorcode: i64) -> ApiError {
    ApiError {
        status,
        message: message.as_ref().to_owned(),
        errorcode,
        additional: Vec::new(),
    }
}

/// 401 `Not Authorized`, errorcode 0.
pub(crate) fn not_authorized() -> ApiError {
    error(StatusCode::UNAUTHORIZED, "Not Authorized", 0)
}

/// Generic validation failure (400, errorcode 10000).
pub(crate) const VALIDATION: i64 = 10000;
/// A required field is missing (400, errorcode 10002, as transactional messaging reports it).
pub(crate) const MISSING_FIELD: i64 = 10002;
/// Several validation failures, listed in `additionalErrors` (400, errorcode 10006).
pub(crate) const AGGREGATED: i64 = 10006;

/// `status` with `body` as JSON.
pub(crate) fn json_reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// 200 with `body`.
pub(crate) fn ok(body: Value) -> Reply {
    Ok(json_reply(StatusCode::OK, body))
}

/// 400 with `errorcode`.
pub(crate) fn bad_request(message: impl AsRef<str>, errorcode: i64) -> ApiError {
    error(StatusCode::BAD_REQUEST, message, errorcode)
}

/// 400 errorcode 10006 whose `additionalErrors` carry each message (errorcode 10000 each).
pub(crate) fn aggregated(message: &str, details: &[String]) -> ApiError {
    ApiError {
        additional: details.to_vec(),
        ..error(StatusCode::BAD_REQUEST, message, AGGREGATED)
    }
}

/// 404 for a resource that does not exist in the caller's business unit. Salesforce documents
/// no code for it; like the emulator's other 404s, the status doubles as `errorcode`.
pub(crate) fn not_found(what: impl AsRef<str>) -> ApiError {
    error(StatusCode::NOT_FOUND, what, 404)
}

/// 403 errorcode 20002: the token lacks the scope the endpoint needs.
pub(crate) fn insufficient_privileges() -> ApiError {
    error(
        StatusCode::FORBIDDEN,
        "Insufficient privileges to complete this action.",
        20002,
    )
}

/// The request body as a JSON value; a 400 naming the problem when it is not JSON.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_request(
            "The request body is empty; expected JSON.",
            VALIDATION,
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        bad_request(
            format!("The request body is not valid JSON: {e}."),
            VALIDATION,
        )
    })
}

/// The request body as a JSON object; a 400 when it is something else.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match parse_json(body)? {
        Value::Object(map) => Ok(map),
        _ => Err(bad_request(
            "The request body must be a JSON object.",
            VALIDATION,
        )),
    }
}

/// Removes the fields named in `names` (any case) from `map`: what the server owns.
pub(crate) fn strip_fields(map: &mut Map<String, Value>, names: &[&str]) {
    map.retain(|k, _| !names.iter().any(|n| n.eq_ignore_ascii_case(k)));
}

/// The value of `name` in `map`, matching the key case-insensitively (exact match first).
pub(crate) fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// An optional string field: `Ok(None)` when absent or null, 400 when not a string.
pub(crate) fn opt_str<'a>(
    map: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match field(map, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("{name} must be a string."), VALIDATION)),
    }
}

/// A required, non-empty string field; 400 errorcode `missing_code` naming it when absent.
pub(crate) fn required_str<'a>(
    map: &'a Map<String, Value>,
    name: &str,
    missing_code: i64,
) -> Result<&'a str, ApiError> {
    match opt_str(map, name)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(bad_request(format!("{name} is required."), missing_code)),
    }
}

/// 400 when the string field `name` is longer than `max` characters.
pub(crate) fn check_length(
    map: &Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<(), ApiError> {
    match opt_str(map, name)? {
        Some(s) if s.chars().count() > max => Err(bad_request(
            format!("{name} must be at most {max} characters."),
            VALIDATION,
        )),
        _ => Ok(()),
    }
}

/// Middleware: axum's plain-text 413 (a body over the route's limit) in the REST error shape.
pub(crate) async fn too_large(response: Response) -> Response {
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "The request body is larger than this endpoint accepts: 5 MB for a rowset, 64 MB for asynchronous rows, 2 MB elsewhere.",
        413,
    )
    .into_response()
}
