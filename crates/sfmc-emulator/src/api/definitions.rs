//! Transactional send definitions, `/messaging/v1/{email|sms}/definitions`: create (201; 409
//! errorcode 30004 when the `definitionKey` exists; `definitionKey`, `name` and `content` with
//! `customerKey` (email) or `message` (SMS) required), list (`{requestId, definitions, count,
//! page, pageSize}` where `count` is the number on this page; `$filter`, `$orderBy`), and read,
//! patch and delete by key (404 errorcode 30003 for an unknown key).

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::ids;
use crate::api::listing::ListQuery;
use crate::api::messaging::{Channel, INVALID_VALUE, OBJECT_ALREADY_EXISTS, definition_not_found};
use crate::api::paging;
use crate::api::principal::Principal;
use crate::api::query::Params;
use crate::api::reply::{self, ApiError, MISSING_FIELD, Reply, bad_request, json_reply};
use crate::paths::Segments;
use crate::store::lock;

/// Fields the server owns.
const READ_ONLY: &[&str] = &["requestId", "definitionId", "createdDate", "modifiedDate"];

/// `POST /messaging/v1/{channel}/definitions`.
pub(crate) async fn create(p: Principal, segments: Segments, body: Bytes) -> Reply {
    let channel = Channel::from_segment(segments.get(2))?;
    p.require(channel.write_scope())?;
    let mut definition = reply::parse_object(&body)?;
    let key = reply::required_str(&definition, "definitionKey", MISSING_FIELD)?.to_owned();
    reply::required_str(&definition, "name", MISSING_FIELD)?;
    let content_field = channel.required_content();
    let has_content = reply::field(&definition, "content")
        .and_then(Value::as_object)
        .and_then(|c| reply::field(c, content_field))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has_content {
        return Err(bad_request(
            format!("content.{content_field} is required."),
            MISSING_FIELD,
        ));
    }
    check_status(&definition)?;
    reply::strip_fields(&mut definition, READ_ONLY);
    let unit = p.unit();
    let mut messaging = lock(&unit.messaging);
    if messaging.find(channel, &key).is_some() {
        return Err(reply::error(
            StatusCode::CONFLICT,
            format!(
                "MCMS_UTM_Runtime_ObjectAlreadyExists: A definition with definitionKey {key:?} already exists."
            ),
            OBJECT_ALREADY_EXISTS,
        ));
    }
    let now = p.shared.stores.ids.stamp();
    let mut full = Map::new();
    full.insert("definitionId".into(), Value::from(ids::guid()));
    full.insert("status".into(), Value::from("Active"));
    full.insert("createdDate".into(), Value::from(now.clone()));
    full.insert("modifiedDate".into(), Value::from(now));
    full.extend(definition);
    let definition = Value::Object(full);
    messaging.definitions_mut(channel).push(definition.clone());
    Ok(json_reply(StatusCode::CREATED, with_request_id(definition)))
}

/// `GET /messaging/v1/{channel}/definitions`.
pub(crate) async fn list(p: Principal, segments: Segments, params: Params) -> Reply {
    let channel = Channel::from_segment(segments.get(2))?;
    p.require(channel.read_scope())?;
    let query = ListQuery::from_params(&params, 100, 100, None)?;
    let unit = p.unit();
    let messaging = lock(&unit.messaging);
    let (_, items) = query.run(messaging.definitions(channel).iter());
    reply::ok(paging::definitions(query.paging, items))
}

/// `GET /messaging/v1/{channel}/definitions/{definitionKey}`.
pub(crate) async fn get(p: Principal, segments: Segments) -> Reply {
    let channel = Channel::from_segment(segments.get(2))?;
    p.require(channel.read_scope())?;
    let key = segments.get(4);
    let unit = p.unit();
    let messaging = lock(&unit.messaging);
    let at = messaging
        .find(channel, key)
        .ok_or_else(|| definition_not_found(key))?;
    reply::ok(with_request_id(messaging.definitions(channel)[at].clone()))
}

/// `PATCH /messaging/v1/{channel}/definitions/{definitionKey}`.
pub(crate) async fn update(p: Principal, segments: Segments, body: Bytes) -> Reply {
    let channel = Channel::from_segment(segments.get(2))?;
    p.require(channel.write_scope())?;
    let key = segments.get(4);
    let mut patch = reply::parse_object(&body)?;
    check_status(&patch)?;
    if reply::field(&patch, "name").is_some() {
        reply::required_str(&patch, "name", MISSING_FIELD)?;
    }
    reply::strip_fields(&mut patch, READ_ONLY);
    reply::strip_fields(&mut patch, &["definitionKey"]);
    let now = p.shared.stores.ids.stamp();
    let unit = p.unit();
    let mut messaging = lock(&unit.messaging);
    let at = messaging
        .find(channel, key)
        .ok_or_else(|| definition_not_found(key))?;
    let definition = &mut messaging.definitions_mut(channel)[at];
    if let Some(map) = definition.as_object_mut() {
        map.extend(patch);
        map.insert("modifiedDate".into(), Value::from(now));
    }
    reply::ok(with_request_id(definition.clone()))
}

/// `DELETE /messaging/v1/{channel}/definitions/{definitionKey}`.
pub(crate) async fn delete(p: Principal, segments: Segments) -> Reply {
    let channel = Channel::from_segment(segments.get(2))?;
    p.require(channel.write_scope())?;
    let key = segments.get(4);
    let unit = p.unit();
    let mut messaging = lock(&unit.messaging);
    let at = messaging
        .find(channel, key)
        .ok_or_else(|| definition_not_found(key))?;
    messaging.definitions_mut(channel).remove(at);
    reply::ok(json!({
        "requestId": ids::guid(),
        "message": "Success",
        "deletedDefinitionKey": key,
    }))
}

/// `status`, when given, must be `Active` or `Inactive` (any case).
fn check_status(definition: &Map<String, Value>) -> Result<(), ApiError> {
    match reply::opt_str(definition, "status")? {
        Some(s) if !s.eq_ignore_ascii_case("active") && !s.eq_ignore_ascii_case("inactive") => {
            Err(bad_request(
                format!(
                    "MCMS_UTM_Validation_InvalidValue: status must be Active or Inactive, not {s:?}."
                ),
                INVALID_VALUE,
            ))
        }
        _ => Ok(()),
    }
}

/// `definition` with a fresh `requestId` first.
fn with_request_id(definition: Value) -> Value {
    let mut map = Map::new();
    map.insert("requestId".into(), Value::from(ids::guid()));
    if let Value::Object(fields) = definition {
        map.extend(fields);
    }
    Value::Object(map)
}
