//! Tool results. A success is `{"status", "result"}` cut to the result budget
//! ([`crate::budget`]), as JSON text and as `structuredContent`, with the cut's note as a second
//! text block. Every failure is a tool error (`isError`), never a protocol error:
//! `{"error": {"kind", …}}` where a Marketing Cloud error carries its `status`, `message` and
//! `errorcode` (and `documentation`, `details`), and a bad argument its `argument`.
//!
//! No result carries a token: the client's errors never hold one, and every result text is
//! checked for the connection's current access token, which would be replaced by `[redacted]`
//! (a REST answer echoing it, say).

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};
use sfmc_client::catalog::ValidationError;
use sfmc_client::{ApiError, Client, ClientError, ErrorClass};

use crate::args::ArgumentError;
use crate::budget::{self, PageHint};

/// What replaces a token found in a result.
const REDACTED: &str = "[redacted]";

/// A success answer of `client`, cut to `budget`.
pub fn success(
    client: &Client,
    status: u16,
    answer: Value,
    budget: usize,
    hint: Option<&PageHint>,
) -> CallToolResult {
    let fitted = budget::fit(status, answer, budget, hint);
    let (structured, text) = redacted(client, fitted.structured, fitted.text);
    let mut content = vec![ContentBlock::text(text)];
    if let Some(note) = fitted.note {
        content.push(ContentBlock::text(note));
    }
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(structured);
    result
}

/// A failed call of `client` (or before it was sent, when `client` is `None`).
pub fn client_error(client: Option<&Client>, error: &ClientError) -> CallToolResult {
    let mut body = Map::new();
    match error {
        ClientError::Validation(validation) => {
            body.insert("kind".into(), "invalid_argument".into());
            body.insert("argument".into(), validation_argument(validation).into());
        }
        _ => {
            body.insert("kind".into(), kind(error.class()).into());
        }
    }
    match api_error(error) {
        Some(api) => {
            body.insert("status".into(), api.status.as_u16().into());
            let message = api.body.message.clone().filter(|m| !m.is_empty());
            body.insert(
                "message".into(),
                message.unwrap_or_else(|| error.to_string()).into(),
            );
            body.insert("errorcode".into(), api.body.errorcode.into());
            if let Some(doc) = &api.body.documentation {
                body.insert("documentation".into(), doc.clone().into());
            }
            let details = api.body.detail_messages();
            if !details.is_empty() {
                body.insert("details".into(), details.into());
            }
            body.insert("summary".into(), error.to_string().into());
        }
        None => {
            body.insert("message".into(), error.to_string().into());
        }
    }
    failure(client, body)
}

/// A bad argument.
pub fn invalid_argument(error: &ArgumentError) -> CallToolResult {
    let mut body = Map::new();
    body.insert("kind".into(), "invalid_argument".into());
    body.insert("argument".into(), error.argument.clone().into());
    body.insert("message".into(), error.message.clone().into());
    failure(None, body)
}

/// A call the server's policy refuses (a POST through `sfmc_rest_request` when read-only).
pub fn refused(message: impl Into<String>) -> CallToolResult {
    let mut body = Map::new();
    body.insert("kind".into(), "refused".into());
    body.insert("message".into(), message.into().into());
    failure(None, body)
}

fn failure(client: Option<&Client>, body: Map<String, Value>) -> CallToolResult {
    let structured = json!({ "error": body });
    let text = structured.to_string();
    let (structured, text) = match client {
        Some(client) => redacted(client, structured, text),
        None => (structured, text),
    };
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

fn kind(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::InvalidInput => "invalid_input",
        ErrorClass::Rejection => "rejected",
        ErrorClass::Unavailable => "unavailable",
    }
}

/// The Marketing Cloud answer behind `error`, if it is one (or the last failure before a
/// deadline).
fn api_error(error: &ClientError) -> Option<&ApiError> {
    match error {
        ClientError::Api(api) | ClientError::ServiceFailure(api) => Some(api),
        ClientError::RateLimited { error, .. } | ClientError::Blocked { error, .. } => Some(error),
        ClientError::Deadline {
            last: Some(last), ..
        } => api_error(last),
        _ => None,
    }
}

/// The parameter a validation error names.
fn validation_argument(error: &ValidationError) -> String {
    match error {
        ValidationError::UnknownParameter { name, .. } => name.clone(),
        ValidationError::MissingParameter { name, .. }
        | ValidationError::WrongType { name, .. }
        | ValidationError::InvalidValue { name, .. } => (*name).to_owned(),
        _ => "arguments".to_owned(),
    }
}

/// `structured` and `text` with the client's current access token replaced, should it appear.
fn redacted(client: &Client, structured: Value, text: String) -> (Value, String) {
    let Some(token) = client.token_handle().cached() else {
        return (structured, text);
    };
    let token = token.expose();
    if token.is_empty() || !text.contains(token) {
        return (structured, text);
    }
    tracing::warn!("a tool result held the access token; it was replaced by {REDACTED}");
    let text = text.replace(token, REDACTED);
    let structured = serde_json::from_str(&text).unwrap_or(Value::String(REDACTED.into()));
    (structured, text)
}
