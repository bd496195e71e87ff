//! A tool call's arguments, taken one by one: every error names the argument
//! ([`ArgumentError`]), and what is left after the tool took its own is either its operation's
//! parameters or an unknown argument.

use rmcp::model::JsonObject;
use serde_json::{Map, Value};

pub use sfmc_client::catalog::json_type;

/// An argument that is missing, of the wrong type or out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentError {
    /// The argument (`path`, `rows[3].keys`).
    pub argument: String,
    /// What is wrong, naming the argument.
    pub message: String,
}

impl ArgumentError {
    /// `argument "NAME" PROBLEM`.
    pub fn new(argument: impl Into<String>, problem: impl std::fmt::Display) -> Self {
        let argument = argument.into();
        let message = format!("argument {argument:?} {problem}");
        Self { argument, message }
    }
}

/// The arguments of one call.
#[derive(Debug, Default)]
pub struct Args {
    map: Map<String, Value>,
}

impl Args {
    /// The arguments of a `tools/call` (none: an empty object).
    pub fn new(arguments: Option<JsonObject>) -> Self {
        Self {
            map: arguments.unwrap_or_default(),
        }
    }

    /// Takes argument `name`; `null` counts as absent.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name).filter(|v| !v.is_null())
    }

    /// Takes string argument `name`.
    pub fn string(&mut self, name: &str) -> Result<Option<String>, ArgumentError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(ArgumentError::new(
                name,
                format!("must be a string, not {}", json_type(&other)),
            )),
        }
    }

    /// Takes string argument `name`, which must be given and not empty.
    pub fn required_string(&mut self, name: &str, what: &str) -> Result<String, ArgumentError> {
        match self.string(name)? {
            Some(text) if !text.trim().is_empty() => Ok(text),
            Some(_) => Err(ArgumentError::new(name, format!("is empty; give {what}"))),
            None => Err(ArgumentError::new(name, format!("is missing; give {what}"))),
        }
    }

    /// Takes a string or whole-number argument (an id) as text.
    pub fn id(&mut self, name: &str) -> Result<Option<String>, ArgumentError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(other) => Err(ArgumentError::new(
                name,
                format!(
                    "must be a string or a whole number, not {}",
                    json_type(&other)
                ),
            )),
        }
    }

    /// Takes whole-number argument `name`, in `range`.
    pub fn integer(
        &mut self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, ArgumentError> {
        let Some(value) = self.take(name) else {
            return Ok(None);
        };
        match value.as_u64() {
            Some(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(ArgumentError::new(
                name,
                format!(
                    "must be a whole number from {} to {}, not {value}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// Refuses any argument left (the tool has taken all it knows).
    pub fn finish(self, known: &[&str]) -> Result<(), ArgumentError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(name) => Err(ArgumentError::new(
                name.chars().take(100).collect::<String>(),
                format!(
                    "is not an argument of this tool (its arguments: {})",
                    known.join(", ")
                ),
            )),
        }
    }

    /// What is left, as an operation's parameters object.
    pub fn into_params(self) -> Value {
        Value::Object(self.map)
    }
}
