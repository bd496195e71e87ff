//! `GET /healthz`: the process serves (no upstream call, no key needed).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::metrics::Route;
use crate::observe::tagged;

/// Always 200 `{"status":"ok"}` while the gateway serves.
pub(crate) async fn healthz() -> Response {
    tagged(
        Json(json!({ "status": "ok" })).into_response(),
        Route::Healthz,
        None,
    )
}
