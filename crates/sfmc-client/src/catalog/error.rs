//! [`ValidationError`]: why parameters do not fit an operation, each variant naming the
//! operation and the parameter, with a "did you mean" where one is close.

use serde_json::Value;

/// Why parameters do not fit an operation. Every variant names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// No operation has this name.
    #[error("unknown operation {name:?}{}; `sfmc call --list` lists them", did_you_mean(.suggestion.as_deref()))]
    UnknownOperation {
        /// The name given.
        name: String,
        /// The closest operation name.
        suggestion: Option<&'static str>,
    },
    /// The parameters are not a JSON object.
    #[error("{operation}: parameters must be a JSON object, not {found}")]
    NotAnObject {
        /// The operation.
        operation: &'static str,
        /// The JSON type given.
        found: &'static str,
    },
    /// A parameter the operation does not have.
    #[error("{operation}: unknown parameter {name:?}{}", did_you_mean(.suggestion.as_deref()))]
    UnknownParameter {
        /// The operation.
        operation: &'static str,
        /// The parameter given.
        name: String,
        /// The closest parameter name.
        suggestion: Option<&'static str>,
    },
    /// A required parameter is missing.
    #[error("{operation}: missing required parameter {name:?} ({description})")]
    MissingParameter {
        /// The operation.
        operation: &'static str,
        /// The parameter.
        name: &'static str,
        /// What it is.
        description: &'static str,
    },
    /// A parameter of the wrong JSON type.
    #[error("{operation}: parameter {name:?} must be {expected}, not {found}")]
    WrongType {
        /// The operation.
        operation: &'static str,
        /// The parameter.
        name: &'static str,
        /// The type it accepts.
        expected: &'static str,
        /// The type given.
        found: &'static str,
    },
    /// A parameter whose value is not acceptable.
    #[error("{operation}: parameter {name:?} {problem}")]
    InvalidValue {
        /// The operation.
        operation: &'static str,
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean {s:?}?)"))
}

/// The JSON type of a value, for messages ("a string", "an integer", …).
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
