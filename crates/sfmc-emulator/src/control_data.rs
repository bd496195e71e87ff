//! The control plane's data extensions and settings (no authentication):
//!
//! - `POST /_emulator/dataextensions` `{"key","fields":["id",{"name","type","length"}],
//!   "primaryKeys"?:["id"],"mid"?}` → 201 with the description below; 409 when the key exists
//!   in that business unit.
//! - `GET /_emulator/dataextensions[?mid=]` → `{"items":[description…]}`.
//! - `GET /_emulator/dataextensions/{key}[?mid=]` → `{"key","mid","fields":[{"name","type",
//!   "length"}],"primaryKeys","rows":N}`; `…/{key}/rows[?page=&pageSize=]` → `{"key","mid",
//!   "count","page","pageSize","items":[{"Column":"value"}]}` (declared names, unset columns
//!   left out, first-written order, [`ROWS_PAGE_SIZE`] a page by default and at most, `count`
//!   all rows);
//!   `DELETE …/{key}` → 204.
//! - `GET|POST /_emulator/settings` `{"async_pending_polls":N}` (0–1000): status polls an
//!   asynchronous rows request answers `Pending` before `Complete`.
//!
//! `mid` (query parameter or body field, string or number) defaults to the first package's own
//! MID and must be a MID some package can reach.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::api::paging::Paging;
use crate::api::query::Params;
use crate::control::{invalid, method_not_allowed, optional_u64};
use crate::dataext::{DataExtension, Field};
use crate::paths::Segments;
use crate::state::{AppState, Shared};
use crate::store::lock;

/// Default and largest page of `GET /_emulator/dataextensions/{key}/rows`.
pub(crate) const ROWS_PAGE_SIZE: usize = 2500;

/// Most pending polls the settings accept.
const MAX_PENDING_POLLS: u64 = 1000;

/// The routes (paths already lower-cased).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_emulator/dataextensions",
            get(list).post(define).fallback(method_not_allowed),
        )
        .route(
            "/_emulator/dataextensions/{key}",
            get(describe).delete(remove).fallback(method_not_allowed),
        )
        .route(
            "/_emulator/dataextensions/{key}/rows",
            get(rows).fallback(method_not_allowed),
        )
        .route(
            "/_emulator/settings",
            get(settings)
                .post(change_settings)
                .fallback(method_not_allowed),
        )
}

async fn define(State(shared): State<AppState>, body: Bytes) -> Response {
    let parsed = match parse_definition(&shared, &body) {
        Ok(parsed) => parsed,
        Err((field, message)) => return invalid("invalid_data_extension", field, &message),
    };
    let (mid, de) = parsed;
    let description = de.describe(&mid);
    if !shared.stores.unit(&mid).add_data_extension(de) {
        let message = format!(
            "A data extension with key {:?} already exists in MID {mid}.",
            description["key"]
        );
        let body = json!({"error": "conflict", "field": "key", "message": message});
        return (StatusCode::CONFLICT, Json(body)).into_response();
    }
    (StatusCode::CREATED, Json(description)).into_response()
}

async fn list(State(shared): State<AppState>, params: Params) -> Response {
    let mid = match mid_param(&shared, &params) {
        Ok(mid) => mid,
        Err((field, message)) => return invalid("invalid_mid", field, &message),
    };
    let items: Vec<Value> = shared
        .stores
        .unit(&mid)
        .all_data_extensions()
        .iter()
        .map(|de| lock(de).describe(&mid))
        .collect();
    Json(json!({"items": items})).into_response()
}

async fn describe(State(shared): State<AppState>, segments: Segments, params: Params) -> Response {
    with_data_extension(&shared, &segments, &params, |de, mid| {
        Json(de.describe(mid)).into_response()
    })
}

async fn rows(State(shared): State<AppState>, segments: Segments, params: Params) -> Response {
    let paging = match Paging::from_params(&params, ROWS_PAGE_SIZE, ROWS_PAGE_SIZE) {
        Ok(paging) => paging,
        Err(e) => {
            let field = if e.message().contains("pageSize") {
                "pageSize"
            } else {
                "page"
            };
            return invalid("invalid_paging", field, e.message());
        }
    };
    with_data_extension(&shared, &segments, &params, |de, mid| {
        let items: Vec<Value> = paging
            .slice(de.rows())
            .iter()
            .map(|row| Value::Object(de.row_object(row)))
            .collect();
        Json(json!({
            "key": de.key,
            "mid": mid,
            "count": de.len(),
            "page": paging.page,
            "pageSize": paging.page_size,
            "items": items,
        }))
        .into_response()
    })
}

async fn remove(State(shared): State<AppState>, segments: Segments, params: Params) -> Response {
    let mid = match mid_param(&shared, &params) {
        Ok(mid) => mid,
        Err((field, message)) => return invalid("invalid_mid", field, &message),
    };
    if shared
        .stores
        .unit(&mid)
        .remove_data_extension(segments.get(2))
    {
        StatusCode::NO_CONTENT.into_response()
    } else {
        unknown(segments.get(2), &mid)
    }
}

async fn settings(State(shared): State<AppState>) -> Response {
    Json(json!({"async_pending_polls": shared.stores.async_pending_polls()})).into_response()
}

async fn change_settings(State(shared): State<AppState>, body: Bytes) -> Response {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&body) else {
        return invalid(
            "invalid_settings",
            "body",
            r#"The body must be a JSON object like {"async_pending_polls":2}."#,
        );
    };
    if let Some(unknown) = map.keys().find(|k| *k != "async_pending_polls") {
        return invalid(
            "invalid_settings",
            "body",
            &format!("Unknown field {unknown:?}; the only setting is async_pending_polls."),
        );
    }
    let polls = optional_u64(
        &map,
        "async_pending_polls",
        0,
        MAX_PENDING_POLLS,
        "an integer from 0 to 1000",
    );
    match polls {
        Ok(Some(n)) => shared
            .stores
            .set_async_pending_polls(u32::try_from(n).unwrap_or(u32::MAX)),
        Ok(None) => {}
        Err((field, message)) => return invalid("invalid_settings", field, &message),
    }
    settings(State(shared)).await
}

/// Runs `then` on the data extension named by the path, or answers 404.
fn with_data_extension(
    shared: &Shared,
    segments: &Segments,
    params: &Params,
    then: impl FnOnce(&DataExtension, &str) -> Response,
) -> Response {
    let mid = match mid_param(shared, params) {
        Ok(mid) => mid,
        Err((field, message)) => return invalid("invalid_mid", field, &message),
    };
    let key = segments.get(2);
    match shared.stores.unit(&mid).data_extension(key) {
        Some(de) => then(&lock(&de), &mid),
        None => unknown(key, &mid),
    }
}

fn unknown(key: &str, mid: &str) -> Response {
    let body = json!({"error": "not_found", "message": format!("No data extension with key {key:?} in MID {mid}.")});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// The `mid` query parameter, checked, or the default MID.
fn mid_param(shared: &Shared, params: &Params) -> Result<String, (&'static str, String)> {
    let given = params.get("mid").map(|m| Value::from(m.trim()));
    checked_mid(shared, given.as_ref())
}

fn checked_mid(shared: &Shared, given: Option<&Value>) -> Result<String, (&'static str, String)> {
    let mid = match given {
        None | Some(Value::Null) => return Ok(shared.default_mid()),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(("mid", "mid must be a string or a number.".to_owned())),
    };
    let known = shared
        .packages
        .iter()
        .any(|p| p.package.account_ids.contains(&mid));
    if known {
        Ok(mid)
    } else {
        Err(("mid", format!("No package reaches MID {mid:?}.")))
    }
}

/// Reads the body of `POST /_emulator/dataextensions`.
fn parse_definition(
    shared: &Shared,
    body: &[u8],
) -> Result<(String, DataExtension), (&'static str, String)> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(("body", r#"The body must be a JSON object like {"key":"k","fields":["id","email"],"primaryKeys":["id"]}."#.to_owned()));
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !["key", "fields", "primaryKeys", "mid"].contains(&k.as_str()))
    {
        return Err((
            "body",
            format!("Unknown field {unknown:?}; the fields are key, fields, primaryKeys and mid."),
        ));
    }
    let key = match map.get("key") {
        Some(Value::String(k)) if !k.trim().is_empty() && !k.contains('/') => k.clone(),
        _ => {
            return Err((
                "key",
                "key is required: a non-empty string without '/'.".to_owned(),
            ));
        }
    };
    let fields = match map.get("fields") {
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .map(parse_field)
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return Err((
                "fields",
                "fields is required: a non-empty array of names or {name,type,length} objects."
                    .to_owned(),
            ));
        }
    };
    let primary: Vec<String> = match map.get("primaryKeys") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or((
                "primaryKeys",
                "primaryKeys must be an array of field names.".to_owned(),
            ))?,
        Some(_) => {
            return Err((
                "primaryKeys",
                "primaryKeys must be an array of field names.".to_owned(),
            ));
        }
    };
    let mid = checked_mid(shared, map.get("mid"))?;
    let de = DataExtension::new(key, fields, &primary).map_err(|message| {
        let field = if message.starts_with("primary") {
            "primaryKeys"
        } else {
            "fields"
        };
        (field, message)
    })?;
    Ok((mid, de))
}

/// A field: a name, or `{"name", "type"?, "length"?}`.
fn parse_field(value: &Value) -> Result<Field, (&'static str, String)> {
    let bad = |m: &str| ("fields", m.to_owned());
    match value {
        Value::String(name) if !name.trim().is_empty() => {
            Ok(Field::new(name.clone(), "Text".into(), None))
        }
        Value::Object(map) => {
            if let Some(unknown) = map
                .keys()
                .find(|k| !["name", "type", "length"].contains(&k.as_str()))
            {
                return Err(bad(&format!(
                    "Unknown field property {unknown:?}; use name, type and length."
                )));
            }
            let name = map
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty());
            let name = name.ok_or_else(|| bad("Each field needs a non-empty name."))?;
            let kind = match map.get("type") {
                None | Some(Value::Null) => "Text",
                Some(Value::String(t)) if !t.is_empty() => t,
                Some(_) => {
                    return Err(bad(
                        "A field's type must be a string such as Text or Number.",
                    ));
                }
            };
            let length = length_of(map)?;
            Ok(Field::new(name.to_owned(), kind.to_owned(), length))
        }
        _ => Err(bad(
            "Each field is a non-empty name or a {name,type,length} object.",
        )),
    }
}

fn length_of(map: &Map<String, Value>) -> Result<Option<u64>, (&'static str, String)> {
    match map.get("length") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|n| *n >= 1).map(Some).ok_or((
            "fields",
            "A field's length must be a positive integer.".to_owned(),
        )),
    }
}
