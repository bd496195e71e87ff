//! The one error type of token acquisition, [`AuthError`], named by what the caller should do,
//! and the single place that classifies errors as transient or permanent.
//!
//! No variant carries a request or response body, a client secret or a token: only what the
//! server said in its `error`/`error_description` fields, statuses and short descriptions.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where to fix rejected credentials, appended to every rejection message.
pub const INSTALLED_PACKAGE_HINT: &str = "check the client id, client secret and account id of the API Integration in Setup → Apps → Installed Packages";

/// Why a token could not be had.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Marketing Cloud refused the request (`invalid_client`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_request`, …): fix the installed package or the
    /// settings; retrying will not help.
    #[error(
        "Marketing Cloud rejected the token request ({error}): {description} — {INSTALLED_PACKAGE_HINT}"
    )]
    Rejected {
        /// HTTP status of the answer.
        status: u16,
        /// The OAuth `error` code, e.g. `invalid_client`.
        error: String,
        /// Salesforce's `error_description`.
        description: String,
    },
    /// A setting is missing or invalid; nothing was sent.
    #[error("invalid {field}: {problem}")]
    Configuration {
        /// The setting at fault, e.g. `subdomain`.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Marketing Cloud is throttling this client (HTTP 429): wait and retry.
    #[error("Marketing Cloud is throttling token requests (HTTP 429){}", retry_after_text(*.retry_after))]
    Throttled {
        /// How long the server asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The token endpoint answered with an unexpected status (5xx, or a 4xx without an OAuth error).
    #[error("Marketing Cloud's token endpoint failed with HTTP {status}")]
    ServiceFailure {
        /// HTTP status of the answer.
        status: u16,
    },
    /// The token endpoint could not be reached or did not answer in time.
    #[error("could not reach Marketing Cloud's token endpoint: {reason}")]
    Transport {
        /// What went wrong (connect, timeout, TLS, …) with its causes, without any secret or URL.
        reason: String,
        /// Whether the failure was a timeout.
        timeout: bool,
        /// The HTTP client's error, when there was one (its URL removed).
        #[source]
        source: Option<TransportSource>,
    },
    /// The endpoint answered 200 with something that is not a usable token response.
    #[error("invalid token response: {what}")]
    InvalidResponse {
        /// What was wrong (never the body itself).
        what: String,
    },
    /// No token could be had in time: the load timeout passed while waiting (for the endpoint or
    /// for another process's refresh), or the manager shut down.
    #[error("no token: {reason}")]
    Unavailable {
        /// Why, without any secret.
        reason: String,
    },
    /// Transient failures went on past the load timeout.
    #[error("gave up after {attempts} attempts in {elapsed_ms} ms: {last}")]
    RetriesExhausted {
        /// Requests made.
        attempts: u32,
        /// Time spent, in milliseconds.
        elapsed_ms: u64,
        /// The last failure.
        #[source]
        last: Box<AuthError>,
    },
}

/// The HTTP client's error behind [`AuthError::Transport`], shared so that [`AuthError`] stays
/// `Clone`. It never holds a URL (removed before it is kept) nor a body.
#[derive(Debug, Clone)]
pub struct TransportSource(Arc<reqwest::Error>);

impl TransportSource {
    /// Keeps `error`; the caller removes its URL first (`reqwest::Error::without_url`).
    pub(crate) fn new(error: Arc<reqwest::Error>) -> Self {
        Self(error)
    }

    /// The `reqwest` error, e.g. for `is_connect()` or `is_timeout()`.
    pub fn reqwest(&self) -> &reqwest::Error {
        &self.0
    }
}

impl fmt::Display for TransportSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for TransportSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

fn retry_after_text(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |d| format!("; retry after {} s", d.as_secs()))
}

impl AuthError {
    /// A configuration error for `field`.
    pub fn config(field: &'static str, problem: impl Into<String>) -> Self {
        Self::Configuration {
            field,
            problem: problem.into(),
        }
    }

    /// An unavailable error.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable {
            reason: reason.into(),
        }
    }

    /// A transport failure that has no HTTP client error behind it (e.g. a deadline of the
    /// caller's own).
    pub fn transport(reason: impl Into<String>, timeout: bool) -> Self {
        Self::Transport {
            reason: reason.into(),
            timeout,
            source: None,
        }
    }

    /// An invalid-response error.
    pub fn invalid_response(what: impl Into<String>) -> Self {
        Self::InvalidResponse { what: what.into() }
    }

    /// Whether retrying the same request later may succeed: connect failures, timeouts, 5xx and
    /// 429. Everything else is permanent and never retried.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Throttled { .. } | Self::Transport { .. } | Self::Unavailable { .. } => true,
            Self::ServiceFailure { status } => *status >= 500,
            Self::Rejected { .. }
            | Self::Configuration { .. }
            | Self::InvalidResponse { .. }
            | Self::RetriesExhausted { .. } => false,
        }
    }

    /// How long the server asked to wait before the next try, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// The error at the root: the last failure of [`AuthError::RetriesExhausted`], else itself.
    pub fn root(&self) -> &AuthError {
        match self {
            Self::RetriesExhausted { last, .. } => last.root(),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(AuthError::Throttled { retry_after: None }.is_transient());
        assert!(AuthError::ServiceFailure { status: 503 }.is_transient());
        assert!(!AuthError::ServiceFailure { status: 404 }.is_transient());
        let rejected = AuthError::Rejected {
            status: 401,
            error: "invalid_client".into(),
            description: "Client authentication failed.".into(),
        };
        assert!(!rejected.is_transient());
        assert!(rejected.to_string().contains("Installed Packages"));
        assert!(!AuthError::config("subdomain", "bad").is_transient());
    }

    #[test]
    fn throttled_message_names_the_wait() {
        let e = AuthError::Throttled {
            retry_after: Some(Duration::from_secs(5)),
        };
        assert!(e.to_string().ends_with("retry after 5 s"), "{e}");
    }
}
