//! The control plane under `/_emulator/` (no authentication): `GET stats`, `GET|POST|DELETE
//! faults`, `POST revoke`, and (in [`crate::control_data`]) data extensions and settings.
//! Invalid bodies get a 400 naming the offending field.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::control_data;
use crate::faults::{Fault, FaultTarget};
use crate::state::AppState;

/// Longest delay a fault may ask for over HTTP: one hour.
const MAX_DELAY_MS: u64 = 3_600_000;

/// The control routes (paths already normalized to lower case).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/stats", get(stats).fallback(method_not_allowed))
        .route(
            "/_emulator/faults",
            get(list_faults)
                .post(add_fault)
                .delete(clear_faults)
                .fallback(method_not_allowed),
        )
        .route(
            "/_emulator/revoke",
            post(revoke).fallback(method_not_allowed),
        )
        .merge(control_data::routes())
}

/// Answer for unknown paths under `/_emulator`.
pub(crate) async fn not_found() -> Response {
    let message = "Unknown control endpoint. Use GET /_emulator/stats, GET|POST|DELETE /_emulator/faults, POST /_emulator/revoke, GET|POST /_emulator/dataextensions, GET|DELETE /_emulator/dataextensions/{key}, GET /_emulator/dataextensions/{key}/rows or GET|POST /_emulator/settings.";
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "not_found", "message": message })),
    )
        .into_response()
}

pub(crate) async fn method_not_allowed() -> Response {
    let body = json!({ "error": "method_not_allowed", "message": "This control endpoint does not serve that method." });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

async fn stats(State(shared): State<AppState>) -> Response {
    Json(shared.stats()).into_response()
}

async fn list_faults(State(shared): State<AppState>) -> Response {
    Json(shared.faults.pending()).into_response()
}

async fn add_fault(State(shared): State<AppState>, body: Bytes) -> Response {
    match parse_fault(&body) {
        Ok(fault) => {
            shared.faults.push(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err((field, message)) => invalid("invalid_fault", field, &message),
    }
}

/// 400 `{"error": kind, "field", "message"}`.
pub(crate) fn invalid(kind: &str, field: &str, message: &str) -> Response {
    let body = json!({ "error": kind, "field": field, "message": message });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn clear_faults(State(shared): State<AppState>) -> StatusCode {
    shared.faults.clear();
    StatusCode::NO_CONTENT
}

async fn revoke(State(shared): State<AppState>) -> StatusCode {
    shared.mint.revoke_all();
    StatusCode::NO_CONTENT
}

/// Reads `{"target":"token"|"api","status"?:N,"count"?:N,"delay_ms"?:N,"errorcode"?:N}`; on
/// error, the field at fault and a message.
fn parse_fault(body: &[u8]) -> Result<Fault, (&'static str, String)> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err((
            "body",
            r#"The body must be a JSON object like {"target":"token","status":503,"count":1,"delay_ms":0}."#.to_owned(),
        ));
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !["target", "status", "count", "delay_ms", "errorcode"].contains(&k.as_str()))
    {
        let message = format!(
            "Unknown field {unknown:?}; the fields are target, status, count, delay_ms and errorcode."
        );
        return Err(("body", message));
    }
    let target = match map
        .get("target")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("token") => FaultTarget::Token,
        Some("api") => FaultTarget::Api,
        _ => {
            return Err((
                "target",
                r#"target is required and must be "token" or "api"."#.to_owned(),
            ));
        }
    };
    let status = optional_u64(&map, "status", 200, 599, "an HTTP status from 200 to 599")?
        .map(|s| u16::try_from(s).unwrap_or(500));
    let count = optional_u64(
        &map,
        "count",
        1,
        u64::from(u32::MAX),
        "an integer of at least 1",
    )?
    .map_or(1, |c| u32::try_from(c).unwrap_or(u32::MAX));
    let delay_ms = optional_u64(
        &map,
        "delay_ms",
        0,
        MAX_DELAY_MS,
        "an integer from 0 to 3600000 (one hour)",
    )?
    .unwrap_or(0);
    let errorcode = optional_u64(
        &map,
        "errorcode",
        0,
        u64::from(u32::MAX),
        "a non-negative integer such as 50200",
    )?
    .map(|c| i64::try_from(c).unwrap_or(i64::MAX));
    Ok(Fault {
        target,
        status,
        count,
        delay_ms,
        errorcode,
    })
}

/// An optional integer field in `min..=max` (`null` counts as absent).
pub(crate) fn optional_u64(
    map: &Map<String, Value>,
    field: &'static str,
    min: u64,
    max: u64,
    expected: &str,
) -> Result<Option<u64>, (&'static str, String)> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| (field, format!("{field} must be {expected}."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_faults_with_defaults() {
        let f = parse_fault(br#"{"target":"API","status":503}"#).unwrap();
        assert_eq!(
            f,
            Fault {
                target: FaultTarget::Api,
                status: Some(503),
                count: 1,
                delay_ms: 0,
                errorcode: None,
            }
        );
        let f =
            parse_fault(br#"{"target":"token","count":3,"delay_ms":250,"status":null}"#).unwrap();
        assert_eq!(
            f,
            Fault {
                target: FaultTarget::Token,
                status: None,
                count: 3,
                delay_ms: 250,
                errorcode: None,
            }
        );
        let f = parse_fault(br#"{"target":"api","status":429,"errorcode":50200}"#).unwrap();
        assert_eq!(f.errorcode, Some(50200));
    }

    #[test]
    fn names_the_bad_field() {
        for (body, field) in [
            (&br#"{"status":503}"#[..], "target"),
            (br#"{"target":"db"}"#, "target"),
            (br#"{"target":"api","status":99}"#, "status"),
            (br#"{"target":"api","status":"503"}"#, "status"),
            (br#"{"target":"api","count":0}"#, "count"),
            (br#"{"target":"api","count":-1}"#, "count"),
            (br#"{"target":"api","delay_ms":1.5}"#, "delay_ms"),
            (br#"{"target":"api","delayMs":5}"#, "body"),
            (br#"{"target":"api","errorcode":-1}"#, "errorcode"),
            (b"nope", "body"),
        ] {
            assert_eq!(
                parse_fault(body).unwrap_err().0,
                field,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
