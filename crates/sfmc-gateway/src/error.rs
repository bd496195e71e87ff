//! JSON error answers (`{"error": CODE, "message": TEXT}`) and the one mapping from client and
//! token errors to HTTP statuses: the caller's mistakes are 4xx, Marketing Cloud's own 4xx
//! answers pass through with their status and body, and upstream failures are 502 (504 for
//! timeouts). No answer carries a token, a secret or a request header.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sfmc_auth::AuthError;
use sfmc_client::{ClientError, ValidationError};

/// An error answer.
pub(crate) fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": code, "message": message.into() });
    (status, Json(body)).into_response()
}

/// 404 for a connection name the config does not have.
pub(crate) fn unknown_connection(name: &str, known: &str) -> Response {
    let shown: String = name.chars().take(80).collect();
    json_error(
        StatusCode::NOT_FOUND,
        "unknown_connection",
        format!("unknown connection {shown:?}; known: {known}"),
    )
}

/// 400 for parameters that do not fit the operation; `parameter` names the one at fault.
pub(crate) fn validation(error: &ValidationError) -> Response {
    if let ValidationError::UnknownOperation { .. } = error {
        return json_error(
            StatusCode::NOT_FOUND,
            "unknown_operation",
            error.to_string(),
        );
    }
    let parameter = match error {
        ValidationError::UnknownParameter { name, .. } => Some(name.as_str()),
        ValidationError::MissingParameter { name, .. }
        | ValidationError::WrongType { name, .. }
        | ValidationError::InvalidValue { name, .. } => Some(*name),
        _ => None,
    };
    let body = json!({
        "error": "invalid_parameters",
        "message": error.to_string(),
        "parameter": parameter,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// The answer for a failed token request.
pub(crate) fn token_error(error: &AuthError) -> Response {
    let (status, code) = match error.root() {
        AuthError::Configuration { .. } => (StatusCode::BAD_REQUEST, "invalid_connection_settings"),
        AuthError::Rejected { .. } => (StatusCode::BAD_GATEWAY, "token_rejected"),
        AuthError::Transport { timeout: true, .. } => {
            (StatusCode::GATEWAY_TIMEOUT, "token_timeout")
        }
        _ => (StatusCode::BAD_GATEWAY, "token_unavailable"),
    };
    json_error(status, code, error.to_string())
}

/// The answer for a failed client call (operations).
pub(crate) fn client_error(error: &ClientError) -> Response {
    match error {
        ClientError::Validation(v) => validation(v),
        ClientError::InvalidRequest(message) => {
            json_error(StatusCode::BAD_REQUEST, "invalid_request", message.clone())
        }
        ClientError::Auth(auth) => token_error(auth),
        ClientError::Api(api)
        | ClientError::RateLimited { error: api, .. }
        | ClientError::Blocked { error: api, .. } => {
            // Marketing Cloud's own 4xx: its status and body, as it answered.
            let body = api.json.clone().unwrap_or_else(
                || json!({ "message": api.body.message, "errorcode": api.body.errorcode }),
            );
            let mut response = (api.status, Json(body)).into_response();
            if let Some(wait) = error.retry_after()
                && let Ok(value) = HeaderValue::from_str(&wait.as_secs().to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        ClientError::ServiceFailure(api) => {
            let body = json!({
                "error": "upstream_failure",
                "message": error.to_string(),
                "upstream_status": api.status.as_u16(),
                "upstream_body": api.json.clone().unwrap_or(Value::Null),
            });
            (StatusCode::BAD_GATEWAY, Json(body)).into_response()
        }
        ClientError::Deadline { .. } => json_error(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            error.to_string(),
        ),
        _ => json_error(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            error.to_string(),
        ),
    }
}
