//! What transactional email and SMS share: the [`Channel`] taken from the path
//! (`/messaging/v1/{email|sms}/…`) with its scopes and event names, the per-business-unit
//! [`Messaging`] state (send definitions and sent messages), and the transactional error codes
//! (`MCMS_UTM_*`).

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::Value;

use crate::api::reply;
use crate::api::reply::ApiError;
use crate::capped::Capped;

/// Transactional definition or message not found (errorcode 30003).
pub(crate) const OBJECT_NOT_FOUND: i64 = 30003;
/// Definition key already in use (errorcode 30004).
pub(crate) const OBJECT_ALREADY_EXISTS: i64 = 30004;
/// An invalid field value (errorcode 10005).
pub(crate) const INVALID_VALUE: i64 = 10005;
/// More recipients than a request may carry (errorcode 109101).
pub(crate) const TOO_MANY_SUBSCRIBERS: i64 = 109101;
/// No recipients (errorcode 109102).
pub(crate) const NO_SUBSCRIBERS: i64 = 109102;
/// Most recipients in one send request.
pub(crate) const MAX_RECIPIENTS: usize = 2000;

/// The transactional channel of a `/messaging/v1/{channel}/…` path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Channel {
    Email,
    Sms,
}

impl Channel {
    /// The channel named by a path segment; 404 (`Resource not found`) otherwise.
    pub(crate) fn from_segment(segment: &str) -> Result<Channel, ApiError> {
        match segment.to_ascii_lowercase().as_str() {
            "email" => Ok(Channel::Email),
            "sms" => Ok(Channel::Sms),
            _ => Err(reply::error(
                StatusCode::NOT_FOUND,
                "Resource not found",
                404,
            )),
        }
    }

    /// Scope to read definitions and message status.
    pub(crate) fn read_scope(self) -> &'static [&'static str] {
        match self {
            Channel::Email => &["email_read"],
            Channel::Sms => &["sms_read"],
        }
    }

    /// Scope to create, change and delete definitions.
    pub(crate) fn write_scope(self) -> &'static [&'static str] {
        match self {
            Channel::Email => &["email_write"],
            Channel::Sms => &["sms_write"],
        }
    }

    /// Scope to send messages.
    pub(crate) fn send_scope(self) -> &'static [&'static str] {
        match self {
            Channel::Email => &["email_send"],
            Channel::Sms => &["sms_send"],
        }
    }

    /// The `eventCategoryType` of a sent message's status.
    pub(crate) fn sent_event(self) -> &'static str {
        match self {
            Channel::Email => "TransactionalSendEvents.EmailSent",
            Channel::Sms => "TransactionalSendEvents.SMSSent",
        }
    }

    /// The field of `content` a definition of this channel must have.
    pub(crate) fn required_content(self) -> &'static str {
        match self {
            Channel::Email => "customerKey",
            Channel::Sms => "message",
        }
    }
}

/// Most sent messages a business unit keeps the status of; the oldest go first (their status
/// then answers 404).
pub(crate) const MAX_KEPT_MESSAGES: usize = 10_000;

/// A business unit's send definitions (per channel, oldest first) and the newest
/// [`MAX_KEPT_MESSAGES`] sent messages.
pub(crate) struct Messaging {
    definitions: HashMap<Channel, Vec<Value>>,
    messages: Capped<(Channel, String), Value>,
}

impl Default for Messaging {
    fn default() -> Self {
        Messaging {
            definitions: HashMap::new(),
            messages: Capped::new(MAX_KEPT_MESSAGES),
        }
    }
}

impl Messaging {
    /// The definitions of `channel`.
    pub(crate) fn definitions(&self, channel: Channel) -> &[Value] {
        self.definitions.get(&channel).map_or(&[], Vec::as_slice)
    }

    /// The definitions of `channel`, to change.
    pub(crate) fn definitions_mut(&mut self, channel: Channel) -> &mut Vec<Value> {
        self.definitions.entry(channel).or_default()
    }

    /// Position of the definition with `key` (exact match).
    pub(crate) fn find(&self, channel: Channel, key: &str) -> Option<usize> {
        self.definitions(channel)
            .iter()
            .position(|d| d["definitionKey"].as_str() == Some(key))
    }

    /// Records a sent message.
    pub(crate) fn record(&mut self, channel: Channel, message_key: String, status: Value) {
        self.messages.insert((channel, message_key), status);
    }

    /// A sent message's status record.
    pub(crate) fn message(&self, channel: Channel, message_key: &str) -> Option<&Value> {
        self.messages.get(&(channel, message_key.to_owned()))
    }
}

/// 404 errorcode 30003 for a definition key that does not exist.
pub(crate) fn definition_not_found(key: &str) -> ApiError {
    reply::error(
        StatusCode::NOT_FOUND,
        format!(
            "MCMS_UTM_Runtime_ObjectNotFound: No definition with definitionKey {key:?} exists."
        ),
        OBJECT_NOT_FOUND,
    )
}
