//! Contacts, `/contacts/v1/contacts`: create (`POST`, `contactKey` required and new) and update
//! (`PATCH`, attribute sets replaced by name), delete by ids or keys
//! (`POST …/actions/delete?type=ids|keys`, done at once and recorded as a completed delete
//! request), and the delete requests (`GET …/analytics/deleterequests`, `startdateutc` and
//! `enddateutc` required, `statusid`, paging).

use std::collections::{HashMap, VecDeque};

use axum::body::Bytes;
use serde_json::{Map, Value, json};

use crate::api::ids;
use crate::api::paging::Paging;
use crate::api::principal::{Principal, scope};
use crate::api::query::Params;
use crate::api::reply::{self, ApiError, MISSING_FIELD, Reply, VALIDATION, bad_request, not_found};
use crate::store::lock;

/// `statusId` of a completed delete request.
const COMPLETED: u64 = 3;

/// Most delete requests a business unit keeps; the oldest go first.
pub(crate) const MAX_KEPT_DELETE_REQUESTS: usize = 10_000;

/// A business unit's contacts by key, and its newest [`MAX_KEPT_DELETE_REQUESTS`] delete
/// requests, oldest first.
#[derive(Default)]
pub(crate) struct Contacts {
    by_key: HashMap<String, Contact>,
    deletes: VecDeque<Value>,
}

struct Contact {
    id: u64,
    attribute_sets: Vec<Value>,
}

/// `POST /contacts/v1/contacts`.
pub(crate) async fn create(p: Principal, body: Bytes) -> Reply {
    p.require(scope::CONTACTS_WRITE)?;
    let body = reply::parse_object(&body)?;
    let key = reply::required_str(&body, "contactKey", MISSING_FIELD)?;
    let sets = attribute_sets(&body)?;
    let unit = p.unit();
    let mut contacts = lock(&unit.contacts);
    if contacts.by_key.contains_key(key) {
        return Err(bad_request(
            format!("The contactKey {key:?} already exists."),
            VALIDATION,
        ));
    }
    let id = p.shared.stores.ids.next();
    contacts.by_key.insert(
        key.to_owned(),
        Contact {
            id,
            attribute_sets: sets,
        },
    );
    reply::ok(result(&p, key, id, true))
}

/// `PATCH /contacts/v1/contacts`.
pub(crate) async fn update(p: Principal, body: Bytes) -> Reply {
    p.require(scope::CONTACTS_WRITE)?;
    let body = reply::parse_object(&body)?;
    let key = reply::required_str(&body, "contactKey", MISSING_FIELD)?;
    let sets = attribute_sets(&body)?;
    let unit = p.unit();
    let mut contacts = lock(&unit.contacts);
    let contact = contacts
        .by_key
        .get_mut(key)
        .ok_or_else(|| not_found(format!("The contactKey {key:?} does not exist.")))?;
    for set in sets {
        let name = set.get("name").cloned();
        match contact
            .attribute_sets
            .iter_mut()
            .find(|s| name.is_some() && s.get("name") == name.as_ref())
        {
            Some(existing) => *existing = set,
            None => contact.attribute_sets.push(set),
        }
    }
    let id = contact.id;
    reply::ok(result(&p, key, id, false))
}

/// `POST /contacts/v1/contacts/actions/delete?type=ids|keys`.
pub(crate) async fn delete(p: Principal, params: Params, body: Bytes) -> Reply {
    p.require(scope::CONTACTS_WRITE)?;
    let by_ids = match params.get("type").map(str::to_ascii_lowercase).as_deref() {
        Some("ids") => true,
        Some("keys") => false,
        _ => {
            return Err(bad_request(
                "The query parameter type is required: ids or keys.",
                VALIDATION,
            ));
        }
    };
    let body = reply::parse_object(&body)?;
    let values: Vec<String> = match reply::field(&body, "values") {
        Some(Value::Array(values)) if !values.is_empty() => values
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or_else(|| bad_request("values must hold strings or numbers.", VALIDATION))?,
        _ => {
            return Err(bad_request(
                "values is required: a non-empty array.",
                MISSING_FIELD,
            ));
        }
    };
    let operation_type = reply::opt_str(&body, "DeleteOperationType")?
        .unwrap_or("ContactAndAttributes")
        .to_owned();
    let unit = p.unit();
    let mut contacts = lock(&unit.contacts);
    let before = contacts.by_key.len();
    contacts.by_key.retain(|key, c| {
        let name = if by_ids {
            c.id.to_string()
        } else {
            key.clone()
        };
        !values.contains(&name)
    });
    let deleted = before - contacts.by_key.len();
    let operation_id = p.shared.stores.ids.next();
    if contacts.deletes.len() >= MAX_KEPT_DELETE_REQUESTS {
        contacts.deletes.pop_front();
    }
    contacts.deletes.push_back(json!({
        "operationId": operation_id,
        "deleteOperationType": operation_type,
        "status": "Completed",
        "statusId": COMPLETED,
        "totalContactCount": values.len(),
        "completedContactCount": deleted,
        "createdDate": p.shared.stores.ids.stamp(),
    }));
    reply::ok(json!({
        "operationInitiated": true,
        "operationID": operation_id,
        "requestServiceMessageID": ids::guid(),
        "responseDateTime": p.shared.stores.ids.stamp(),
        "hasErrors": false,
        "resultMessages": [],
        "serviceMessageID": ids::guid(),
    }))
}

/// `GET /contacts/v1/contacts/analytics/deleterequests`.
pub(crate) async fn delete_requests(p: Principal, params: Params) -> Reply {
    p.require(scope::CONTACTS_READ)?;
    let start = date_bound(&params, "startdateutc", "T00:00:00.000Z")?;
    let end = date_bound(&params, "enddateutc", "T23:59:59.999Z")?;
    let status = params.number("statusid")?;
    let paging = Paging::from_params(&params, 50, 1000)?;
    let unit = p.unit();
    let contacts = lock(&unit.contacts);
    let matching: Vec<&Value> = contacts
        .deletes
        .iter()
        .filter(|op| {
            let created = op["createdDate"].as_str().unwrap_or_default();
            created >= start.as_str()
                && created <= end.as_str()
                && status.is_none_or(|s| op["statusId"] == json!(s))
        })
        .collect();
    let page: Vec<Value> = paging
        .slice(&matching)
        .iter()
        .map(|v| (*v).clone())
        .collect();
    reply::ok(json!({
        "operations": page,
        "pageNumber": paging.page,
        "pageSize": paging.page_size,
        "count": matching.len(),
        "hasMoreRecords": paging.has_next(matching.len()),
    }))
}

/// A required date parameter (`YYYY-MM-DD` or an ISO timestamp) as a comparable timestamp;
/// a date alone gets `day_suffix`.
fn date_bound(params: &Params, name: &str, day_suffix: &str) -> Result<String, ApiError> {
    let value = params.required(name)?;
    let b = value.as_bytes();
    let shaped = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(bad_request(
            format!("{name} must be a date such as 2024-01-31, not {value:?}."),
            VALIDATION,
        ));
    }
    Ok(if value.len() == 10 {
        format!("{value}{day_suffix}")
    } else {
        value.to_owned()
    })
}

/// `attributeSets` of a body: an array of objects (absent = none).
fn attribute_sets(body: &Map<String, Value>) -> Result<Vec<Value>, ApiError> {
    match reply::field(body, "attributeSets") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(sets)) if sets.iter().all(Value::is_object) => Ok(sets.clone()),
        Some(_) => Err(bad_request(
            "attributeSets must be an array of objects.",
            VALIDATION,
        )),
    }
}

/// The live reply to a create or update.
fn result(p: &Principal, key: &str, id: u64, new: bool) -> Value {
    json!({
        "operationStatus": "OK",
        "rowsAffected": 1,
        "contactKey": key,
        "contactId": id,
        "contactTypeId": 0,
        "isNewContactKey": new,
        "requestServiceMessageID": ids::guid(),
        "responseDateTime": p.shared.stores.ids.stamp(),
        "hasErrors": false,
        "resultMessages": [],
        "serviceMessageID": ids::guid(),
    })
}
