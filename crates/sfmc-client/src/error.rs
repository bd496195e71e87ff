//! [`ClientError`], the one error of the client, and the single place that classifies errors by
//! what the caller should do: fix the input ([`ClientError::is_invalid_input`]), accept that
//! Marketing Cloud said no ([`ClientError::is_rejection`]), or try again later
//! ([`ClientError::is_unavailable`]).
//!
//! No variant carries a token, a request header or a request body. A Marketing Cloud error
//! keeps its status and its parsed REST error body ([`RestErrorBody`]).

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use sfmc_auth::AuthError;

use crate::catalog::ValidationError;

/// What the caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The input is wrong: fix it. Nothing (or nothing useful) was sent. `sfmc` exits 2.
    InvalidInput,
    /// Marketing Cloud refused the request (a 4xx, or rejected credentials). `sfmc` exits 3.
    Rejection,
    /// Marketing Cloud could not be used now (5xx, throttling, transport, deadline). `sfmc` exits 4.
    Unavailable,
}

/// The REST error body: `{"message","errorcode","documentation"}`, with the details some
/// families add (`additionalErrors`, `validationErrors`). Every field is optional: the body is
/// whatever the server sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RestErrorBody {
    /// Salesforce's `message`.
    #[serde(default)]
    pub message: Option<String>,
    /// Salesforce's `errorcode` (`errorCode` in some families).
    #[serde(default, alias = "errorCode")]
    pub errorcode: Option<i64>,
    /// A documentation link.
    #[serde(default)]
    pub documentation: Option<String>,
    /// Details of an aggregated error (errorcode 10006).
    #[serde(default, rename = "additionalErrors")]
    pub additional_errors: Vec<Value>,
    /// Field validation details.
    #[serde(default, rename = "validationErrors")]
    pub validation_errors: Vec<Value>,
}

impl RestErrorBody {
    /// Parses a body leniently: anything that is not the REST error shape gives an empty one.
    pub fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// Reads an already parsed body leniently, as [`RestErrorBody::parse`].
    pub fn from_json(body: &Value) -> Self {
        Self::deserialize(body).unwrap_or_default()
    }

    /// The `message` of each detail, for one-line reports.
    pub fn detail_messages(&self) -> Vec<String> {
        self.additional_errors
            .iter()
            .chain(&self.validation_errors)
            .filter_map(|detail| match detail {
                Value::String(text) => Some(text.clone()),
                other => other.get("message")?.as_str().map(str::to_owned),
            })
            .collect()
    }
}

/// A Marketing Cloud answer with an error status.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The request's method.
    pub method: Method,
    /// The request's path (relative to the REST instance URL; no query).
    pub path: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// The parsed REST error body.
    pub body: RestErrorBody,
    /// The body as JSON, when it was JSON.
    pub json: Option<Value>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} answered HTTP {}",
            self.method,
            self.path,
            self.status.as_u16()
        )?;
        if let Some(code) = self.body.errorcode {
            write!(f, ", errorcode {code}")?;
        }
        if let Some(message) = self.body.message.as_deref().filter(|m| !m.is_empty()) {
            write!(f, ": {message}")?;
        }
        let details = self.body.detail_messages();
        if !details.is_empty() {
            write!(f, " ({})", details.join("; "))?;
        }
        Ok(())
    }
}

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Operation parameters are missing, unknown or of the wrong type; nothing was sent.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A request path or body the client refuses to send.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// No token: the token manager's error (credentials rejected, endpoint down, …).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Marketing Cloud answered with an error status (after the retries that status allows).
    #[error("Marketing Cloud rejected the request: {0}")]
    Api(Box<ApiError>),
    /// Marketing Cloud is throttling (HTTP 429 errorcode 50100) beyond what retries could wait.
    #[error("Marketing Cloud is throttling this client (rate limit exceeded){}: {error}", wait_text(*.retry_after))]
    RateLimited {
        /// The answer.
        error: Box<ApiError>,
        /// The wait it asked for (`Retry-After`, or the body's `retryAfter`).
        retry_after: Option<Duration>,
    },
    /// HTTP 429 errorcode 50200, "Your requests are temporarily blocked": not retried.
    #[error(
        "Marketing Cloud has temporarily blocked this client's requests (HTTP 429, errorcode 50200); wait before trying again{}: {error}", wait_text(*.retry_after)
    )]
    Blocked {
        /// The answer.
        error: Box<ApiError>,
        /// The wait it asked for (`Retry-After`, or the body's `retryAfter`).
        retry_after: Option<Duration>,
    },
    /// Marketing Cloud failed (5xx) after the retries allowed for this request.
    #[error("Marketing Cloud failed: {0}")]
    ServiceFailure(Box<ApiError>),
    /// The REST host could not be reached, or the connection broke.
    #[error("could not reach Marketing Cloud ({method} {path}): {reason}")]
    Transport {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
        /// What went wrong, without any header or body.
        reason: String,
    },
    /// The call's deadline passed; `last` is the failure that was being retried, if any.
    #[error("no answer within {} s{}", .after.as_secs_f64(), last_text(.last.as_deref()))]
    Deadline {
        /// The deadline.
        after: Duration,
        /// The last failure before it.
        last: Option<Box<ClientError>>,
    },
    /// The answer could not be read or is not what the operation returns.
    #[error("invalid response from Marketing Cloud: {0}")]
    InvalidResponse(String),
}

fn wait_text(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |wait| {
        format!(" (Retry-After {} s)", wait.as_secs_f64())
    })
}

fn last_text(last: Option<&ClientError>) -> String {
    last.map_or_else(String::new, |e| format!("; last failure: {e}"))
}

impl ClientError {
    /// What the caller should do about this error: the one classification.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Validation(_) | Self::InvalidRequest(_) => ErrorClass::InvalidInput,
            Self::Auth(error) => match error.root() {
                AuthError::Configuration { .. } => ErrorClass::InvalidInput,
                AuthError::Rejected { .. } => ErrorClass::Rejection,
                _ => ErrorClass::Unavailable,
            },
            Self::Api(_) => ErrorClass::Rejection,
            Self::RateLimited { .. }
            | Self::Blocked { .. }
            | Self::ServiceFailure(_)
            | Self::Transport { .. }
            | Self::Deadline { .. }
            | Self::InvalidResponse(_) => ErrorClass::Unavailable,
        }
    }

    /// Fix the input: parameters, path, JSON or settings.
    pub fn is_invalid_input(&self) -> bool {
        self.class() == ErrorClass::InvalidInput
    }

    /// Marketing Cloud said no (4xx): retrying the same request will not help.
    pub fn is_rejection(&self) -> bool {
        self.class() == ErrorClass::Rejection
    }

    /// Marketing Cloud could not be used now: try again later.
    pub fn is_unavailable(&self) -> bool {
        self.class() == ErrorClass::Unavailable
    }

    /// The Marketing Cloud answer behind this error, if there was one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e)
            | Self::RateLimited { error: e, .. }
            | Self::Blocked { error: e, .. }
            | Self::ServiceFailure(e) => Some(e),
            Self::Deadline { last, .. } => last.as_deref()?.api_error(),
            _ => None,
        }
    }

    /// The HTTP status of the Marketing Cloud answer behind this error, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.api_error().map(|e| e.status)
    }

    /// The wait Marketing Cloud asked for before trying again, when it throttled the call
    /// (also behind a [`ClientError::Deadline`]).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Blocked { retry_after, .. } => {
                *retry_after
            }
            Self::Deadline { last, .. } => last.as_deref()?.retry_after(),
            _ => None,
        }
    }

    /// The error for an answer with a non-success status, by status and errorcode;
    /// `retry_after` is the wait a 429 asked for.
    pub(crate) fn from_status(error: ApiError, retry_after: Option<Duration>) -> Self {
        let boxed = Box::new(error);
        match (boxed.status.as_u16(), boxed.body.errorcode) {
            (429, Some(50200)) => Self::Blocked {
                error: boxed,
                retry_after,
            },
            (429, _) => Self::RateLimited {
                error: boxed,
                retry_after,
            },
            (500.., _) => Self::ServiceFailure(boxed),
            _ => Self::Api(boxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> ClientError {
        ClientError::from_status(
            ApiError {
                method: Method::GET,
                path: "/hub/v1/campaigns".into(),
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
                body: RestErrorBody::parse(body.as_bytes()),
                json: serde_json::from_str(body).ok(),
            },
            None,
        )
    }

    #[test]
    fn classes_follow_what_the_caller_should_do() {
        assert!(api(400, r#"{"message":"bad","errorcode":10001}"#).is_rejection());
        assert!(api(404, "").is_rejection());
        assert!(api(503, "").is_unavailable());
        assert!(api(429, r#"{"errorcode":50100}"#).is_unavailable());
        assert!(matches!(
            api(429, r#"{"errorcode":50200}"#),
            ClientError::Blocked { .. }
        ));
        assert!(ClientError::InvalidRequest("x".into()).is_invalid_input());
        let auth = AuthError::Rejected {
            status: 401,
            error: "invalid_client".into(),
            description: "no".into(),
        };
        assert!(ClientError::from(auth).is_rejection());
        assert!(ClientError::from(AuthError::config("subdomain", "bad")).is_invalid_input());
    }

    #[test]
    fn display_names_status_errorcode_message_and_details() {
        let error = api(
            400,
            r#"{"message":"Validation failed","errorcode":10006,"documentation":"d","additionalErrors":[{"message":"name is required"}]}"#,
        );
        let text = error.to_string();
        assert!(text.contains("HTTP 400"), "{text}");
        assert!(text.contains("errorcode 10006"), "{text}");
        assert!(text.contains("Validation failed"), "{text}");
        assert!(text.contains("name is required"), "{text}");
    }
}
