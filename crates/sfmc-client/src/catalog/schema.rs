//! JSON Schemas from the catalog: [`Operation::json_schema`] describes an operation's
//! parameters object (draft 2020-12), for `sfmc call --list --json`, the gateway and MCP tools.
//!
//! The schema accepts what [`Operation::build_request`] accepts: a required body field may come
//! as its parameter or inside `payload`, so it is not in `required` but in an `allOf` of
//! `anyOf`s ("the parameter, or a payload holding it").

use serde_json::{Map, Value, json};

use super::{Location, Operation, Param, ParamType};

fn type_schema(ty: ParamType) -> Value {
    match ty {
        ParamType::String => json!({"type": "string"}),
        ParamType::Integer => json!({"type": "integer"}),
        ParamType::Number => json!({"type": "number"}),
        ParamType::Boolean => json!({"type": "boolean"}),
        ParamType::Object => json!({"type": "object"}),
        ParamType::Array => json!({"type": "array"}),
        ParamType::Id => json!({"type": ["string", "integer"]}),
        ParamType::Json => json!({"type": ["object", "array"]}),
    }
}

fn param_schema(param: &Param) -> Value {
    let mut schema = type_schema(param.ty);
    let Some(object) = schema.as_object_mut() else {
        return schema;
    };
    object.insert("description".into(), param.description.into());
    if param.max_len > 0 {
        object.insert("maxLength".into(), param.max_len.into());
    }
    if let Some(default) = param
        .default
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
    {
        object.insert("default".into(), default);
    }
    schema
}

/// A schema requiring the dotted `path` inside an object (`content.customerKey` →
/// `{"required":["content"],"properties":{"content":{"required":["customerKey"]}}}`).
fn nested_required(path: &str) -> Value {
    match path.split_once('.') {
        None => json!({"required": [path]}),
        Some((first, rest)) => json!({
            "required": [first],
            "properties": {first: nested_required(rest)},
        }),
    }
}

impl Operation {
    /// The JSON Schema of this operation's parameters object: one property per parameter
    /// (dotted names as they are), no other properties; `required` lists what must be given
    /// as a parameter, and each required body field of an operation with a `payload` is
    /// required as the parameter or inside the payload (`allOf` of `anyOf`s).
    pub fn json_schema(&self) -> Value {
        let properties: Map<String, Value> = self
            .params
            .iter()
            .map(|p| (p.name.to_owned(), param_schema(p)))
            .collect();
        let has_payload = self.params.iter().any(|p| p.location == Location::Payload);
        let (in_payload, required): (Vec<&Param>, Vec<&Param>) = self
            .params
            .iter()
            .filter(|p| p.required && p.default.is_none())
            .partition(|p| has_payload && p.location == Location::Body);
        let required: Vec<&str> = required.iter().map(|p| p.name).collect();
        let mut schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.name,
            "description": self.summary,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
        if !in_payload.is_empty() {
            let either: Vec<Value> = in_payload
                .iter()
                .map(|p| {
                    json!({"anyOf": [
                        {"required": [p.name]},
                        {
                            "required": ["payload"],
                            "properties": {"payload": nested_required(p.wire_name())},
                        },
                    ]})
                })
                .collect();
            schema["allOf"] = Value::Array(either);
        }
        schema
    }

    /// A JSON description of the operation with its schema (one entry of
    /// `sfmc call --list --json`).
    pub fn describe(&self) -> Value {
        json!({
            "name": self.name,
            "family": self.family,
            "summary": self.summary,
            "method": self.method.as_str(),
            "path": self.path,
            "readOnly": self.read_only,
            "idempotent": self.idempotent,
            "destructive": self.destructive,
            "paging": self.paging.as_str(),
            "scope": self.scope,
            "returns": self.returns,
            "inputSchema": self.json_schema(),
        })
    }
}
