//! Asynchronous data extension rows: `POST` (insert) or `PUT` (upsert)
//! `/data/v1/async/dataextensions/key:{key}/rows` with `{"items":[{col: value}]}` (≤ 32,000
//! rows) → 202 `{requestId, resultMessages: []}`; then `GET /data/v1/async/{requestId}/status`
//! (`Pending` for the configured number of polls, then `Complete`) and `…/results` (the rows
//! that failed, paged, once complete). Rows are written when the request is accepted; a row
//! with an unknown column, a bad value, a missing primary key or (on insert) a duplicate key is
//! a per-row error in the results, and the other rows are written. The newest
//! [`MAX_KEPT_REQUESTS`] requests of a business unit are kept (older ones answer 404), each
//! with its failed rows as (row, [`RowError`]), rendered as JSON only when `results` asks.

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::de_lookup::{self, Access};
use crate::api::ids;
use crate::api::paging::Paging;
use crate::api::principal::{Principal, scope};
use crate::api::query::Params;
use crate::api::reply::{self, ApiError, Reply, VALIDATION, bad_request, json_reply, not_found};
use crate::capped::Capped;
use crate::dataext::{RowError, WriteMode};
use crate::paths::Segments;
use crate::store::lock;

/// Most rows in one asynchronous request.
pub(crate) const MAX_ROWS: usize = 32_000;

/// Most asynchronous requests a business unit keeps; the oldest go first.
pub(crate) const MAX_KEPT_REQUESTS: usize = 10_000;

/// A business unit's asynchronous requests by id, the newest [`MAX_KEPT_REQUESTS`].
pub(crate) struct AsyncRequests {
    by_id: Capped<String, AsyncRequest>,
}

impl Default for AsyncRequests {
    fn default() -> Self {
        AsyncRequests {
            by_id: Capped::new(MAX_KEPT_REQUESTS),
        }
    }
}

struct AsyncRequest {
    pending_polls_left: u32,
    called: String,
    completed: Option<String>,
    /// Failed rows: 1-based row number and why.
    errors: Vec<(usize, RowError)>,
}

#[derive(Deserialize)]
struct Items {
    items: Vec<Map<String, Value>>,
}

/// `POST|PUT /data/v1/async/dataextensions/key:{key}/rows`.
pub(crate) async fn write(p: Principal, method: Method, segments: Segments, body: Bytes) -> Reply {
    p.require(scope::DATA_EXTENSIONS_WRITE)?;
    let de = de_lookup::find_by_segment(&p, segments.get(4), Access::Write)?;
    let called = p.shared.stores.ids.stamp();
    let Items { items } = serde_json::from_slice(&body).map_err(|e| {
        bad_request(
            format!("The body must be {{\"items\":[{{\"Column\":\"value\",…}}]}}: {e}."),
            VALIDATION,
        )
    })?;
    if items.len() > MAX_ROWS {
        return Err(bad_request(
            format!("At most {MAX_ROWS} rows a request, not {}.", items.len()),
            VALIDATION,
        ));
    }
    let mode = if method == Method::POST {
        WriteMode::Insert
    } else {
        WriteMode::Upsert
    };
    let mut errors = Vec::new();
    {
        let mut de = lock(&de);
        for (i, item) in items.into_iter().enumerate() {
            let written = de.cells(item).and_then(|cells| de.write(cells, mode));
            if let Err(e) = written {
                errors.push((i + 1, e));
            }
        }
    }
    let request_id = ids::guid();
    let request = AsyncRequest {
        pending_polls_left: p.shared.stores.async_pending_polls(),
        called,
        completed: None,
        errors,
    };
    let unit = p.unit();
    lock(&unit.async_requests)
        .by_id
        .insert(request_id.clone(), request);
    Ok(json_reply(
        StatusCode::ACCEPTED,
        json!({"requestId": request_id, "resultMessages": []}),
    ))
}

/// `GET /data/v1/async/{requestId}/status`.
pub(crate) async fn status(p: Principal, segments: Segments) -> Reply {
    p.require(scope::DATA_EXTENSIONS_READ)?;
    let id = segments.get(3);
    let unit = p.unit();
    let mut requests = lock(&unit.async_requests);
    let request = requests.by_id.get_mut(id).ok_or_else(|| missing(id))?;
    if request.pending_polls_left > 0 {
        request.pending_polls_left -= 1;
    } else if request.completed.is_none() {
        request.completed = Some(p.shared.stores.ids.stamp());
    }
    let has_errors = !request.errors.is_empty();
    let status = match &request.completed {
        None => json!({
            "callDateTime": request.called,
            "pickupDateTime": request.called,
            "completionDateTime": null,
            "hasErrors": false,
            "requestStatus": "Pending",
            "resultStatus": "Pending",
            "requestId": id,
        }),
        Some(done) => json!({
            "callDateTime": request.called,
            "pickupDateTime": request.called,
            "completionDateTime": done,
            "hasErrors": has_errors,
            "requestStatus": "Complete",
            "resultStatus": if has_errors { "Error" } else { "OK" },
            "requestId": id,
        }),
    };
    reply::ok(json!({"status": status, "requestId": ids::guid()}))
}

/// `GET /data/v1/async/{requestId}/results`: the failed rows (none while pending).
pub(crate) async fn results(p: Principal, segments: Segments, params: Params) -> Reply {
    p.require(scope::DATA_EXTENSIONS_READ)?;
    let paging = Paging::from_params(&params, 50, 1000)?;
    let id = segments.get(3);
    let unit = p.unit();
    let requests = lock(&unit.async_requests);
    let request = requests.by_id.get(id).ok_or_else(|| missing(id))?;
    let errors: &[(usize, RowError)] = if request.completed.is_some() {
        &request.errors
    } else {
        &[]
    };
    let items: Vec<Value> = paging
        .slice(errors)
        .iter()
        .map(|(row, e)| {
            json!({
                "errorCode": e.code,
                "message": format!("Row {row}: {}", e.message),
                "status": "Error",
            })
        })
        .collect();
    reply::ok(json!({
        "page": paging.page,
        "pageSize": paging.page_size,
        "count": errors.len(),
        "requestId": id,
        "items": items,
    }))
}

fn missing(id: &str) -> ApiError {
    not_found(format!(
        "No asynchronous request with requestId {id:?} exists."
    ))
}
