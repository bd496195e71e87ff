//! Exit codes and the [`Failure`] every command returns: 0 success; 2 bad input or
//! configuration; 3 rejected by Marketing Cloud; 4 Marketing Cloud unreachable, failing or
//! throttling after retries.

use std::fmt;

use sfmc_auth::AuthError;
use sfmc_client::{ClientError, ErrorClass};

/// Bad input or configuration (also clap's code for usage errors).
pub const CONFIG: u8 = 2;
/// Marketing Cloud rejected the credentials or the token.
pub const REJECTED: u8 = 3;
/// Marketing Cloud unreachable, failing or throttling after retries.
pub const UNAVAILABLE: u8 = 4;

/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// Why a command failed, with its exit code.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// A configuration or input error.
    pub fn config(message: impl Into<String>) -> Self {
        Self {
            code: CONFIG,
            message: message.into(),
        }
    }

    /// A rejection by Marketing Cloud.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self {
            code: REJECTED,
            message: message.into(),
        }
    }

    /// The service could not be used.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            code: UNAVAILABLE,
            message: message.into(),
        }
    }

    /// Stopped by a signal.
    pub fn interrupted() -> Self {
        Self {
            code: INTERRUPTED,
            message: "interrupted; token refreshes in flight were stopped and their locks released"
                .to_owned(),
        }
    }

    /// Stopped by a signal, after the command said what it got done.
    pub fn interrupted_because(message: impl Into<String>) -> Self {
        Self {
            code: INTERRUPTED,
            message: message.into(),
        }
    }

    /// The process exit code.
    pub fn code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The one mapping from an error to an exit code, by what the caller should do
/// ([`ClientError::class`]): 2 fix the input, 3 rejected by Marketing Cloud (its message and
/// errorcode are in the text), 4 unavailable.
impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        let code = match error.class() {
            ErrorClass::InvalidInput => CONFIG,
            ErrorClass::Rejection => REJECTED,
            ErrorClass::Unavailable => UNAVAILABLE,
        };
        Self {
            code,
            message: error.to_string(),
        }
    }
}

/// A token error is classified as the client classifies it ([`ClientError::Auth`]).
impl From<AuthError> for Failure {
    fn from(error: AuthError) -> Self {
        ClientError::from(error).into()
    }
}
