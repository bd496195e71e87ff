//! The JSON Schemas say what `build_request` accepts: inputs it accepts validate, and inputs it
//! refuses for a reason a schema can state (missing, unknown, mistyped, too long) do not.
//! A small validator for the keywords the catalog's schemas use stands in for a full one.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use sfmc_client::catalog;

/// Whether `value` satisfies `schema` (`type`, `properties`, `required`,
/// `additionalProperties: false`, `maxLength`, `anyOf`, `allOf`).
fn valid(schema: &Value, value: &Value) -> bool {
    let types_fit = match schema.get("type") {
        None => true,
        Some(Value::String(ty)) => type_fits(ty, value),
        Some(Value::Array(types)) => types
            .iter()
            .any(|ty| type_fits(ty.as_str().unwrap(), value)),
        Some(other) => panic!("type {other}"),
    };
    let within_length = match (schema.get("maxLength"), value.as_str()) {
        (Some(max), Some(text)) => text.chars().count() as u64 <= max.as_u64().unwrap(),
        _ => true,
    };
    let object_fits = match value.as_object() {
        None => true,
        Some(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let required = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .all(|name| object.contains_key(name.as_str().unwrap()));
            let known = schema.get("additionalProperties") != Some(&json!(false))
                || object
                    .keys()
                    .all(|k| properties.is_some_and(|p| p.contains_key(k)));
            let each = object.iter().all(|(k, v)| {
                properties
                    .and_then(|p| p.get(k))
                    .is_none_or(|s| valid(s, v))
            });
            required && known && each
        }
    };
    let any_of = schema
        .get("anyOf")
        .and_then(Value::as_array)
        .is_none_or(|options| options.iter().any(|s| valid(s, value)));
    let all_of = schema
        .get("allOf")
        .and_then(Value::as_array)
        .is_none_or(|all| all.iter().all(|s| valid(s, value)));
    types_fit && within_length && object_fits && any_of && all_of
}

fn type_fits(ty: &str, value: &Value) -> bool {
    match ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        other => panic!("type {other}"),
    }
}

/// `(operation, params)` that `build_request` accepts.
fn accepted() -> Vec<(&'static str, Value)> {
    vec![
        ("getCampaigns", json!({})),
        (
            "getCampaigns",
            json!({"page": 2, "pageSize": 5, "orderBy": "name"}),
        ),
        ("createCampaign", json!({"name": "x"})),
        ("createCampaign", json!({"payload": {"name": "x"}})),
        (
            "createCampaign",
            json!({"description": "d", "payload": {"name": "x", "other": 1}}),
        ),
        ("updateCampaign", json!({"campaignId": 7, "payload": {}})),
        ("createAsset", json!({"name": "a", "assetType.id": 208})),
        (
            "createAsset",
            json!({"payload": {"name": "a", "assetType": {"id": 208}}}),
        ),
        (
            "createAsset",
            json!({"name": "a", "payload": {"assetType": {"id": 208}}}),
        ),
        (
            "createCategory",
            json!({"payload": {"Name": "f", "ParentId": 0}}),
        ),
        (
            "createEmailDefinition",
            json!({"definitionKey": "k", "name": "n", "payload": {"content": {"customerKey": "e"}}}),
        ),
        (
            "createSmsDefinition",
            json!({"definitionKey": "k", "name": "n", "content.message": "m"}),
        ),
        (
            "sendEmailMessage",
            json!({"payload": {"definitionKey": "k", "recipients": []}}),
        ),
        ("deleteContact", json!({"values": ["a"]})),
        (
            "getContactDeleteRequests",
            json!({"startDateUtc": "a", "endDateUtc": "b"}),
        ),
        ("createJourney", json!({"key": "k", "name": "n"})),
        (
            "insertDataExtensionRowSet",
            json!({"externalKey": "k", "payload": []}),
        ),
    ]
}

/// `(operation, params)` that `build_request` refuses for a reason a schema states.
fn refused() -> Vec<(&'static str, Value)> {
    vec![
        ("createCampaign", json!({})),
        (
            "createCampaign",
            json!({"payload": {"description": "no name"}}),
        ),
        ("createCampaign", json!({"name": 1})),
        ("createCampaign", json!({"name": "n".repeat(129)})),
        ("createCampaign", json!({"name": "x", "campaigncode": "c"})),
        ("createCampaign", json!({"payload": [{"name": "x"}]})),
        (
            "createAsset",
            json!({"name": "a", "payload": {"assetType": {"name": "htmlemail"}}}),
        ),
        (
            "createCategory",
            json!({"payload": {"name": "f", "ParentId": 0}}),
        ),
        (
            "createEmailDefinition",
            json!({"definitionKey": "k", "name": "n", "payload": {"content": {}}}),
        ),
        ("updateCampaign", json!({"name": "x"})),
        ("getCampaigns", json!({"page": 1.5})),
        ("deleteCampaign", json!({"campaignId": true})),
        ("insertDataExtensionRowSet", json!({"externalKey": "k"})),
    ]
}

#[test]
fn every_accepted_input_validates() {
    for (name, params) in accepted() {
        let op = catalog::lookup(name).unwrap();
        assert!(op.build_request(&params).is_ok(), "{name} {params}");
        assert!(valid(&op.json_schema(), &params), "{name} {params}");
    }
}

#[test]
fn refused_inputs_do_not_validate() {
    for (name, params) in refused() {
        let op = catalog::lookup(name).unwrap();
        assert!(op.build_request(&params).is_err(), "{name} {params}");
        assert!(!valid(&op.json_schema(), &params), "{name} {params}");
    }
}
