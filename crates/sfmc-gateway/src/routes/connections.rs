//! `GET /connections` (names and public settings, never a secret) and
//! `GET /connections/{name}/test` (a `/v2/userinfo` call with the connection's token; a 401
//! invalidates the token and retries once).

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sfmc_auth::{UserInfo, fetch_userinfo};

use super::{account_id, client_for, raw_segment};
use crate::error::{json_error, token_error};
use crate::metrics::Route;
use crate::observe::tagged;
use crate::state::AppState;

/// The connections of the config file.
pub(crate) async fn list(State(state): State<Arc<AppState>>) -> Response {
    let summaries: Vec<_> = state.all.summaries().collect();
    tagged(
        Json(json!({ "connections": summaries })).into_response(),
        Route::Connections,
        None,
    )
}

/// Verifies the connection: a token, then `GET {auth}/v2/userinfo` with it.
pub(crate) async fn test(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let account = account_id(query.as_deref(), &headers);
    let name = raw_segment(&uri, 2);
    let (index, client) = match client_for(&state, name, account.as_deref(), Route::Test) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let handle = client.token_handle();
    let response = 'attempts: {
        for _ in 0..2 {
            let token = match handle.token().await {
                Ok(token) => token,
                Err(error) => {
                    state.connections[index]
                        .token_failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    break 'attempts token_error(&error);
                }
            };
            match fetch_userinfo(&state.http, handle.settings(), &token).await {
                Ok(UserInfo::Ok(info)) => {
                    break 'attempts Json(json!({
                        "ok": true,
                        "connection": state.connections[index].name,
                        "account_id": handle.settings().account_id(),
                        "userinfo": info,
                    }))
                    .into_response();
                }
                Ok(UserInfo::Unauthorized) => handle.invalidate(&token).await,
                Ok(UserInfo::Forbidden) => {
                    break 'attempts json_error(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        "Marketing Cloud answered 403 to /v2/userinfo: check the package's permissions in Setup → Apps → Installed Packages",
                    );
                }
                Ok(_) => {
                    break 'attempts json_error(
                        StatusCode::BAD_GATEWAY,
                        "upstream_invalid_response",
                        "Marketing Cloud's userinfo answer is not understood",
                    );
                }
                Err(error) => break 'attempts token_error(&error),
            }
        }
        json_error(
            StatusCode::BAD_GATEWAY,
            "token_rejected",
            "Marketing Cloud answered 401 to /v2/userinfo with a new token: check the package's permissions",
        )
    };
    tagged(response, Route::Test, Some(index))
}
