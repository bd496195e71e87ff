//! Validation and request building from the catalog: [`Operation::build_request`] checks a JSON
//! object of parameters against an operation (unknown, missing, mistyped, too long — each named,
//! with a "did you mean") and turns it into an [`OperationRequest`]: method, encoded path,
//! query pairs and JSON body.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use super::error::{ValidationError, json_type};
use super::{Location, Operation, Param, ParamType, closest};
use crate::request::ApiRequest;

/// Characters kept as they are in a path segment: the unreserved set and `:` (`key:abc`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':');

/// `text` percent-encoded as one path segment (`/`, `?`, `#`, `%` and spaces escaped).
pub fn encode_segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

fn type_fits(ty: ParamType, value: &Value) -> bool {
    let integer = value.is_i64() || value.is_u64();
    match ty {
        ParamType::String => value.is_string(),
        ParamType::Integer => integer,
        ParamType::Number => value.is_number(),
        ParamType::Boolean => value.is_boolean(),
        ParamType::Object => value.is_object(),
        ParamType::Array => value.is_array(),
        ParamType::Id => value.is_string() || integer,
        ParamType::Json => value.is_object() || value.is_array(),
    }
}

/// A request built from an operation and its parameters, ready to send.
#[derive(Debug, Clone)]
pub struct OperationRequest {
    /// The operation.
    pub operation: &'static Operation,
    /// The path, relative to the REST instance URL, with parameters encoded.
    pub path: String,
    /// Query pairs, wire names.
    pub query: Vec<(String, String)>,
    /// The JSON body.
    pub body: Option<Value>,
}

impl OperationRequest {
    /// The request for [`crate::Client::send`], idempotency from the catalog.
    pub fn into_api_request(self) -> ApiRequest {
        let mut request = ApiRequest::new(self.operation.method.to_method(), self.path)
            .idempotent(self.operation.idempotent);
        for (name, value) in self.query {
            request = request.query(name, value);
        }
        if let Some(body) = self.body {
            request = request.json(body);
        }
        request
    }
}

impl Operation {
    /// Checks `params` (a JSON object keyed by parameter name; `null` for none) and builds the
    /// request. A `null` parameter counts as not given.
    pub fn build_request(
        &'static self,
        params: &Value,
    ) -> Result<OperationRequest, ValidationError> {
        let given = match params {
            Value::Null => &Map::new(),
            Value::Object(map) => map,
            other => {
                return Err(ValidationError::NotAnObject {
                    operation: self.name,
                    found: json_type(other),
                });
            }
        };
        if let Some(unknown) = given.keys().find(|k| self.param(k).is_none()) {
            return Err(ValidationError::UnknownParameter {
                operation: self.name,
                name: unknown.clone(),
                suggestion: closest(unknown, self.params.iter().map(|p| p.name)),
            });
        }
        let mut path = self.path.to_owned();
        let mut query = Vec::new();
        let (mut fields, whole) = self.initial_body(given)?;
        // The payload is the body to start from (read once, by `initial_body`).
        for param in self
            .params
            .iter()
            .filter(|p| p.location != Location::Payload)
        {
            let value = match (
                given.get(param.name).filter(|v| !v.is_null()),
                param.default,
            ) {
                (Some(value), _) => self.checked(param, value)?.clone(),
                (None, Some(_))
                    if param.location == Location::Body
                        && dotted(&fields, param.wire_name()).is_some() =>
                {
                    continue;
                }
                (None, Some(default)) => serde_json::from_str(default).unwrap_or(Value::Null),
                (None, None) => continue,
            };
            match param.location {
                Location::Path => {
                    let text = self.path_segment(param, &value)?;
                    path = path.replace(&format!("{{{}}}", param.name), &text);
                }
                Location::Query => query.push((param.wire_name().to_owned(), scalar_text(&value))),
                Location::Body => self.set_body_field(&mut fields, param, value)?,
                Location::Payload => {}
            }
        }
        let body = match whole {
            Some(whole) => Some(whole),
            None if self.has_body_fields() => Some(Value::Object(fields)),
            None => None,
        };
        self.check_required(given, body.as_ref())?;
        Ok(OperationRequest {
            operation: self,
            path,
            query,
            body,
        })
    }

    fn checked<'v>(
        &self,
        param: &'static Param,
        value: &'v Value,
    ) -> Result<&'v Value, ValidationError> {
        if !type_fits(param.ty, value) {
            return Err(self.wrong_type(param, value));
        }
        if let Some(text) = value.as_str() {
            let chars = text.chars().count();
            if param.max_len > 0 && chars > param.max_len {
                return Err(self.invalid(
                    param,
                    format!("is {chars} characters; at most {}", param.max_len),
                ));
            }
        }
        Ok(value)
    }

    fn wrong_type(&self, param: &'static Param, value: &Value) -> ValidationError {
        ValidationError::WrongType {
            operation: self.name,
            name: param.name,
            expected: param.ty.as_str(),
            found: json_type(value),
        }
    }

    fn invalid(&self, param: &'static Param, problem: String) -> ValidationError {
        ValidationError::InvalidValue {
            operation: self.name,
            name: param.name,
            problem,
        }
    }

    /// Whether the operation has named body fields (then its body is an object).
    fn has_body_fields(&self) -> bool {
        self.params.iter().any(|p| p.location == Location::Body)
    }

    /// The body to start from: for an operation with body fields, the object they are set into
    /// (the `payload` parameter, which must then be an object, else empty); otherwise the whole
    /// body (the `payload`, else an empty one of its type, or none).
    fn initial_body(
        &self,
        given: &Map<String, Value>,
    ) -> Result<(Map<String, Value>, Option<Value>), ValidationError> {
        let Some(param) = self.params.iter().find(|p| p.location == Location::Payload) else {
            return Ok((Map::new(), None));
        };
        let payload = given.get(param.name).filter(|v| !v.is_null());
        match payload {
            // Named fields are set into it: only an object will do (the catalog gives such a
            // payload the type `object`; a test checks every entry).
            Some(Value::Object(object)) if self.has_body_fields() => Ok((object.clone(), None)),
            Some(other) if self.has_body_fields() => Err(self.wrong_type(param, other)),
            None if self.has_body_fields() => Ok((Map::new(), None)),
            Some(value) => Ok((Map::new(), Some(self.checked(param, value)?.clone()))),
            None if param.ty == ParamType::Array => {
                Ok((Map::new(), Some(Value::Array(Vec::new()))))
            }
            None => Ok((Map::new(), Some(Value::Object(Map::new())))),
        }
    }

    fn path_segment(
        &self,
        param: &'static Param,
        value: &Value,
    ) -> Result<String, ValidationError> {
        let text = scalar_text(value);
        if text.is_empty() || text == "." || text == ".." {
            return Err(self.invalid(param, format!("cannot be {text:?} (it is a path segment)")));
        }
        Ok(encode_segment(&text))
    }

    /// Sets `value` at the parameter's dotted wire path, creating objects on the way.
    fn set_body_field(
        &self,
        fields: &mut Map<String, Value>,
        param: &'static Param,
        value: Value,
    ) -> Result<(), ValidationError> {
        let mut keys = param.wire_name().split('.').peekable();
        let mut node = fields;
        while let Some(key) = keys.next() {
            if keys.peek().is_none() {
                if node.contains_key(key) {
                    return Err(self.invalid(
                        param,
                        "is given both as a parameter and inside payload".into(),
                    ));
                }
                node.insert(key.to_owned(), value);
                return Ok(());
            }
            let child = node
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            node = child.as_object_mut().ok_or_else(|| {
                self.invalid(
                    param,
                    format!("cannot nest under {key:?}, which payload sets to a non-object"),
                )
            })?;
        }
        Ok(())
    }

    /// Every required parameter is given, or (for body fields) present in the built body.
    fn check_required(
        &self,
        given: &Map<String, Value>,
        body: Option<&Value>,
    ) -> Result<(), ValidationError> {
        for param in self.params.iter().filter(|p| p.required) {
            let present = match param.location {
                Location::Body => body
                    .and_then(Value::as_object)
                    .and_then(|fields| dotted(fields, param.wire_name()))
                    .is_some_and(|v| !v.is_null()),
                _ => given.get(param.name).is_some_and(|v| !v.is_null()) || param.default.is_some(),
            };
            if !present {
                return Err(ValidationError::MissingParameter {
                    operation: self.name,
                    name: param.name,
                    description: param.description,
                });
            }
        }
        Ok(())
    }
}

/// The value at a dotted path of an object.
fn dotted<'v>(object: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    let (first, rest) = path
        .split_once('.')
        .map_or((path, None), |(f, r)| (f, Some(r)));
    let value = object.get(first)?;
    match rest {
        None => Some(value),
        Some(rest) => rest.split('.').try_fold(value, |node, key| node.get(key)),
    }
}

/// A scalar as query or path text: strings as they are, other JSON as JSON.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
