//! Journeys, `/interaction/v1/interactions`: list (`$page`, `$pageSize` ≤ 50, `$orderBy`
//! default `modifiedDate DESC`, `status`, `key`, `nameOrDescription`), create (200, GUID `id`,
//! `status` `Draft`, `version` 1; `name` required, `key` unique, a GUID when not given), read,
//! update (`PUT` with the journey's `id` or `key` in the body) and delete by id.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value};

use crate::api::ids;
use crate::api::listing::ListQuery;
use crate::api::paging;
use crate::api::principal::{Principal, scope};
use crate::api::query::Params;
use crate::api::reply::{self, ApiError, MISSING_FIELD, Reply, VALIDATION, bad_request, not_found};
use crate::paths::Segments;
use crate::store::lock;

/// Fields the server owns.
const READ_ONLY: &[&str] = &["id", "version", "status", "createdDate", "modifiedDate"];

/// A business unit's journeys, oldest first.
#[derive(Default)]
pub(crate) struct Journeys {
    items: Vec<Value>,
}

impl Journeys {
    fn find(&self, field: &str, value: &str) -> Option<usize> {
        self.items.iter().position(|j| {
            j[field]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(value))
        })
    }
}

/// `GET /interaction/v1/interactions`.
pub(crate) async fn list(p: Principal, params: Params) -> Reply {
    p.require(scope::JOURNEYS_READ)?;
    let query = ListQuery::from_params(&params, 50, 50, Some("modifiedDate desc"))?;
    let status = params.get("status").map(str::to_lowercase);
    let key = params.get("key").map(str::to_lowercase);
    let text = params.get("nameOrDescription").map(str::to_lowercase);
    let has = |j: &Value, field: &str, want: &str, whole: bool| {
        let got = j[field].as_str().unwrap_or_default().to_lowercase();
        if whole {
            got == want
        } else {
            got.contains(want)
        }
    };
    let unit = p.unit();
    let journeys = lock(&unit.journeys);
    let selected = journeys.items.iter().filter(|j| {
        status.as_deref().is_none_or(|s| has(j, "status", s, true))
            && key.as_deref().is_none_or(|k| has(j, "key", k, true))
            && text
                .as_deref()
                .is_none_or(|t| has(j, "name", t, false) || has(j, "description", t, false))
    });
    let (total, items) = query.run(selected);
    reply::ok(paging::counted(query.paging, total, items))
}

/// `POST /interaction/v1/interactions`.
pub(crate) async fn create(p: Principal, body: Bytes) -> Reply {
    p.require(scope::JOURNEYS_WRITE)?;
    let mut journey = reply::parse_object(&body)?;
    reply::required_str(&journey, "name", MISSING_FIELD)?;
    reply::strip_fields(&mut journey, READ_ONLY);
    let unit = p.unit();
    let mut journeys = lock(&unit.journeys);
    let key = ids::key_or_guid(
        reply::opt_str(&journey, "key")?,
        |k| journeys.find("key", k).is_some(),
        |k| {
            bad_request(
                format!("A journey with key {k:?} already exists."),
                VALIDATION,
            )
        },
    )?;
    let now = p.shared.stores.ids.stamp();
    let mut full = Map::new();
    full.insert("id".into(), Value::from(ids::guid()));
    full.insert("key".into(), Value::from(key));
    full.insert("version".into(), Value::from(1));
    full.insert("status".into(), Value::from("Draft"));
    full.insert("workflowApiVersion".into(), Value::from(1.0));
    full.insert("createdDate".into(), Value::from(now.clone()));
    full.insert("modifiedDate".into(), Value::from(now));
    for list in ["triggers", "activities", "goals"] {
        full.insert(list.into(), Value::Array(Vec::new()));
    }
    full.extend(journey);
    let journey = Value::Object(full);
    journeys.items.push(journey.clone());
    reply::ok(journey)
}

/// `GET /interaction/v1/interactions/{id}`.
pub(crate) async fn get(p: Principal, segments: Segments) -> Reply {
    p.require(scope::JOURNEYS_READ)?;
    let id = segments.get(3);
    let unit = p.unit();
    let journeys = lock(&unit.journeys);
    let at = journeys.find("id", id).ok_or_else(|| missing(id))?;
    reply::ok(journeys.items[at].clone())
}

/// `PUT /interaction/v1/interactions`: the body names the journey by `id` (or `key`).
pub(crate) async fn update(p: Principal, body: Bytes) -> Reply {
    p.require(scope::JOURNEYS_WRITE)?;
    let mut patch = reply::parse_object(&body)?;
    let (field, wanted) = match (
        reply::opt_str(&patch, "id")?,
        reply::opt_str(&patch, "key")?,
    ) {
        (Some(id), _) => ("id", id.to_owned()),
        (None, Some(key)) => ("key", key.to_owned()),
        (None, None) => return Err(bad_request("id is required.", MISSING_FIELD)),
    };
    if reply::field(&patch, "name").is_some() {
        reply::required_str(&patch, "name", MISSING_FIELD)?;
    }
    reply::strip_fields(&mut patch, READ_ONLY);
    patch.remove("key");
    let now = p.shared.stores.ids.stamp();
    let unit = p.unit();
    let mut journeys = lock(&unit.journeys);
    let at = journeys
        .find(field, &wanted)
        .ok_or_else(|| missing(&wanted))?;
    let journey = &mut journeys.items[at];
    if let Some(map) = journey.as_object_mut() {
        map.extend(patch);
        map.insert("modifiedDate".into(), Value::from(now));
    }
    reply::ok(journey.clone())
}

/// `DELETE /interaction/v1/interactions/{id}`: 200 with an empty body.
pub(crate) async fn delete(p: Principal, segments: Segments) -> Reply {
    p.require(scope::JOURNEYS_WRITE)?;
    let id = segments.get(3);
    let unit = p.unit();
    let mut journeys = lock(&unit.journeys);
    let at = journeys.find("id", id).ok_or_else(|| missing(id))?;
    journeys.items.remove(at);
    Ok(StatusCode::OK.into_response())
}

fn missing(id: &str) -> ApiError {
    not_found(format!("Journey {id:?} was not found."))
}
