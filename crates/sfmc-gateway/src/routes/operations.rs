//! `GET /connections/{name}/operations` (the catalog, with a JSON Schema per operation) and
//! `POST /connections/{name}/operations/{operation}`: the body is the operation's parameters as
//! a JSON object, exactly as `sfmc call` takes them (empty body: none). Unknown operation → 404;
//! parameters that do not fit → 400 naming the parameter; Marketing Cloud's answer otherwise,
//! its status and body passed through (see [`crate::error::client_error`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sfmc_client::{ClientError, catalog};

use super::{account_id, body, client_for, raw_segment};
use crate::error::{client_error, json_error, validation};
use crate::metrics::Route;
use crate::observe::tagged;
use crate::state::{AppState, decoded};

/// The operations a connection serves (every connection serves the whole catalog).
pub(crate) async fn list(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    let name = raw_segment(&uri, 2);
    let (index, _) = match client_for(&state, name, None, Route::Operations) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let operations: Vec<Value> = catalog::operations()
        .iter()
        .map(|op| op.describe())
        .collect();
    let body = json!({ "connection": state.connections[index].name, "operations": operations });
    tagged(Json(body).into_response(), Route::Operations, Some(index))
}

/// Runs one operation.
pub(crate) async fn call(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let account = account_id(query.as_deref(), &headers);
    let name = raw_segment(&uri, 2);
    let operation = decoded(raw_segment(&uri, 4));
    let (index, client) = match client_for(&state, name, account.as_deref(), Route::Operation) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let response = match run(&state, index, &client, &operation, &headers, body).await {
        Ok(response) | Err(response) => response,
    };
    tagged(response, Route::Operation, Some(index))
}

async fn run(
    state: &AppState,
    index: usize,
    client: &sfmc_client::Client,
    operation: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let op = catalog::lookup(operation).map_err(|e| validation(&e))?;
    let bytes = body::read_whole(&state.limits, headers, body).await?;
    let params: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            json_error(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the parameters are not JSON: {e}"),
            )
        })?
    };
    let request = op
        .build_request(&params)
        .map_err(|e| validation(&e))?
        .into_api_request();
    let answer = client.send(request).await.map_err(|e| {
        if let ClientError::Auth(_) = e {
            state.connections[index]
                .token_failures
                .fetch_add(1, Ordering::Relaxed);
        }
        client_error(&e)
    })?;
    let content_type = answer
        .headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    let mut response = (answer.status, answer.body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    Ok(response)
}
