//! Synchronous data extension rows: `POST /hub/v1/dataevents/key:{key}/rowset` with
//! `[{"keys":{…},"values":{…}}]` (upsert, all rows or none, 200 echoing the body; bodies over 5 MB are a 413, see
//! [`crate::api`]) and
//! `PUT /hub/v1/dataevents/key:{key}/rows/{Pk}:{value}[,{Pk2}:{value2}]` with `{"values":{…}}`
//! (200 echoing `{keys, values}`). Bad rows make the request a 400 errorcode 10006 whose
//! `additionalErrors` name each row's problem.

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::api::de_lookup::{self, Access};
use crate::api::principal::{Principal, scope};
use crate::api::reply::{self, Reply, VALIDATION, bad_request};
use crate::dataext::WriteMode;
use crate::paths::Segments;
use crate::store::lock;

/// `POST /hub/v1/dataevents/key:{key}/rowset`.
pub(crate) async fn rowset(p: Principal, segments: Segments, body: Bytes) -> Reply {
    p.require(scope::DATA_EXTENSIONS_WRITE)?;
    let de = de_lookup::find_by_segment(&p, segments.get(3), Access::Write)?;
    let Value::Array(rows) = reply::parse_json(&body)? else {
        return Err(bad_request(
            "The body must be an array of {\"keys\":{…},\"values\":{…}}.",
            VALIDATION,
        ));
    };
    let mut de = lock(&de);
    let mut checked = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let Value::Object(mut row) = row else {
            problems.push(format!("Row {}: keys is required (an object).", i + 1));
            continue;
        };
        let Some(Value::Object(keys)) = row.remove("keys") else {
            problems.push(format!("Row {}: keys is required (an object).", i + 1));
            continue;
        };
        let values = match row.remove("values") {
            Some(Value::Object(values)) => values,
            _ => Map::new(),
        };
        match de
            .cells(keys.into_iter().chain(values))
            .and_then(|cells| de.key_of(&cells).map(|_| cells))
        {
            Ok(cells) => checked.push(cells),
            Err(e) => problems.push(format!("Row {}: {}", i + 1, e.message)),
        }
    }
    if !problems.is_empty() {
        return Err(reply::aggregated(
            &format!("Unable to save rows for data extension {:?}.", de.key),
            &problems,
        ));
    }
    for cells in checked {
        de.write(cells, WriteMode::Upsert)
            .map_err(|e| bad_request(e.message, VALIDATION))?;
    }
    Ok(echo(body))
}

/// `PUT /hub/v1/dataevents/key:{key}/rows/{Pk}:{value}`.
pub(crate) async fn row(p: Principal, segments: Segments, body: Bytes) -> Reply {
    p.require(scope::DATA_EXTENSIONS_WRITE)?;
    let de = de_lookup::find_by_segment(&p, segments.get(3), Access::Write)?;
    let mut keys = Map::new();
    for pair in segments.get(5).split(',') {
        let Some((name, value)) = pair.split_once(':') else {
            return Err(bad_request(
                format!("The row {pair:?} must be given as Column:value."),
                VALIDATION,
            ));
        };
        keys.insert(name.to_owned(), Value::from(value));
    }
    let body = reply::parse_object(&body)?;
    let values = match reply::field(&body, "values") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(values)) => values.clone(),
        Some(_) => return Err(bad_request("values must be an object.", VALIDATION)),
    };
    let mut de = lock(&de);
    let unable = |message: String| {
        reply::aggregated(
            &format!("Unable to save the row for data extension {:?}.", de.key),
            &[message],
        )
    };
    let pairs = keys.clone().into_iter().chain(values.clone());
    let cells = de.cells(pairs).map_err(|e| unable(e.message))?;
    let result = de.write(cells, WriteMode::Upsert);
    result.map_err(|e| reply::aggregated("Unable to save the row.", &[e.message]))?;
    reply::ok(json!({"keys": keys, "values": values}))
}

/// 200 with the request body as it came.
fn echo(body: Bytes) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
