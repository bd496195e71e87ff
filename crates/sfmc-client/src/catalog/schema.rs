//! JSON Schemas from the catalog: [`Operation::json_schema`] describes an operation's
//! parameters object (draft 2020-12), for `sfmc call --list --json`, the gateway and MCP tools.

use serde_json::{Map, Value, json};

use super::{Operation, Param, ParamType};

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

impl Operation {
    /// The JSON Schema of this operation's parameters object: one property per parameter
    /// (dotted names as they are), `required`, no other properties.
    pub fn json_schema(&self) -> Value {
        let properties: Map<String, Value> = self
            .params
            .iter()
            .map(|p| (p.name.to_owned(), param_schema(p)))
            .collect();
        let required: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.required && p.default.is_none())
            .map(|p| p.name)
            .collect();
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.name,
            "description": self.summary,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
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
