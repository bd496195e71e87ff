//! Transactional sends, `/messaging/v1/{email|sms}/messages`: to many recipients
//! (`recipients[]`, ≤ 2000) or to one (`…/messages/{messageKey}` with `recipient`), answered
//! 202 `{requestId, errorcode: 0, responses: [{messageKey}]}`; and a message's status
//! (`GET …/messages/{messageKey}`). A missing `definitionKey` or `contactKey` is 400 errorcode
//! 10002, an unknown `definitionKey` 400 errorcode 30003, no recipients 109102, too many 109101.

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::ids;
use crate::api::messaging::{
    Channel, MAX_RECIPIENTS, NO_SUBSCRIBERS, OBJECT_NOT_FOUND, TOO_MANY_SUBSCRIBERS,
};
use crate::api::principal::Principal;
use crate::api::reply::{self, MISSING_FIELD, Reply, VALIDATION, bad_request, json_reply};
use crate::paths::Segments;
use crate::store::lock;

/// `POST /messaging/v1/{channel}/messages`.
pub(crate) async fn send_many(p: Principal, segments: Segments, body: Bytes) -> Reply {
    let channel = Channel::from_segment(segments.get(2))?;
    p.require(channel.send_scope())?;
    let body = reply::parse_object(&body)?;
    let recipients = match reply::field(&body, "recipients") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.iter().collect(),
        Some(_) => return Err(bad_request("recipients must be an array.", VALIDATION)),
    };
    send(&p, channel, &body, recipients, None)
}

/// `POST /messaging/v1/{channel}/messages/{messageKey}`.
pub(crate) async fn send_one(p: Principal, segments: Segments, body: Bytes) -> Reply {
    let channel = Channel::from_segment(segments.get(2))?;
    p.require(channel.send_scope())?;
    let body = reply::parse_object(&body)?;
    let recipient = reply::field(&body, "recipient").filter(|r| !r.is_null());
    send(
        &p,
        channel,
        &body,
        recipient.into_iter().collect(),
        Some(segments.get(4)),
    )
}

/// `GET /messaging/v1/{channel}/messages/{messageKey}`.
pub(crate) async fn status(p: Principal, segments: Segments) -> Reply {
    let channel = Channel::from_segment(segments.get(2))?;
    p.require(channel.read_scope())?;
    let key = segments.get(4);
    let unit = p.unit();
    let messaging = lock(&unit.messaging);
    let record = messaging.message(channel, key).ok_or_else(|| {
        reply::error(
            StatusCode::NOT_FOUND,
            format!("MCMS_UTM_Runtime_ObjectNotFound: No message with messageKey {key:?} exists."),
            OBJECT_NOT_FOUND,
        )
    })?;
    let mut status = record.clone();
    status["requestId"] = Value::from(ids::guid());
    reply::ok(status)
}

/// Checks the request, records one message per recipient and answers 202.
fn send(
    p: &Principal,
    channel: Channel,
    body: &Map<String, Value>,
    recipients: Vec<&Value>,
    path_key: Option<&str>,
) -> Reply {
    let definition_key = reply::required_str(body, "definitionKey", MISSING_FIELD)?;
    if recipients.is_empty() {
        return Err(bad_request(
            "MCMS_UTM_Validation_NoSubscribers: the request has no recipients.",
            NO_SUBSCRIBERS,
        ));
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(bad_request(
            format!(
                "MCMS_UTM_Validation_TooManySubscribers: at most {MAX_RECIPIENTS} recipients a request, not {}.",
                recipients.len()
            ),
            TOO_MANY_SUBSCRIBERS,
        ));
    }
    let mut messages = Vec::with_capacity(recipients.len());
    for (i, recipient) in recipients.iter().enumerate() {
        let fields = recipient.as_object().ok_or_else(|| {
            bad_request(format!("recipients[{i}] must be an object."), VALIDATION)
        })?;
        let contact_key = reply::opt_str(fields, "contactKey")?
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                bad_request(
                    format!("recipients[{i}].contactKey is required."),
                    MISSING_FIELD,
                )
            })?;
        let to = reply::opt_str(fields, "to")?.unwrap_or(contact_key);
        let message_key = match (path_key, reply::opt_str(fields, "messageKey")?) {
            (Some(k), _) | (None, Some(k)) => k.to_owned(),
            (None, None) => ids::guid(),
        };
        messages.push((message_key, contact_key.to_owned(), to.to_owned()));
    }
    let unit = p.unit();
    let mut messaging = lock(&unit.messaging);
    if messaging.find(channel, definition_key).is_none() {
        return Err(bad_request(
            format!(
                "MCMS_UTM_Runtime_ObjectNotFound: No definition with definitionKey {definition_key:?} exists."
            ),
            OBJECT_NOT_FOUND,
        ));
    }
    let request_id = ids::guid();
    let mut responses = Vec::with_capacity(messages.len());
    for (message_key, contact_key, to) in messages {
        let timestamp = p.shared.stores.ids.stamp();
        let status = json!({
            "eventCategoryType": channel.sent_event(),
            "timestamp": timestamp,
            "compositeId": format!("{request_id}.{message_key}"),
            "definitionKey": definition_key,
            "info": {
                "messageKey": message_key,
                "contactKey": contact_key,
                "to": to,
                "statusCode": 0,
                "statusMessage": "Sent",
            },
        });
        messaging.record(channel, message_key.clone(), status);
        responses.push(json!({"messageKey": message_key}));
    }
    Ok(json_reply(
        StatusCode::ACCEPTED,
        json!({"requestId": request_id, "errorcode": 0, "responses": responses}),
    ))
}
