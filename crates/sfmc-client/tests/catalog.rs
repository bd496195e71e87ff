//! The catalog: its 21 operations, validation (each problem named, "did you mean"), request
//! building (paths, queries, dotted body fields, payloads, defaults), and schemas.

#![allow(clippy::unwrap_used)]

use serde_json::json;
use sfmc_client::ValidationError;
use sfmc_client::catalog::{self, Location, Paging, ParamType};

const CONNECTOR_OPERATIONS: [&str; 21] = [
    "getAssets",
    "createAsset",
    "updateAsset",
    "deleteAsset",
    "getCategories",
    "createCategory",
    "getCampaigns",
    "createCampaign",
    "updateCampaign",
    "deleteCampaign",
    "createContact",
    "updateContact",
    "deleteContact",
    "getContactDeleteRequests",
    "getJourneys",
    "createJourney",
    "createEmailDefinition",
    "createSmsDefinition",
    "sendEmailMessage",
    "sendSmsMessage",
    "insertDataExtensionRowSet",
];

#[test]
fn the_catalog_holds_the_connectors_21_operations_once_each() {
    let mut names: Vec<_> = catalog::operations().iter().map(|op| op.name).collect();
    assert_eq!(names.len(), 21);
    names.sort_unstable();
    let mut expected = CONNECTOR_OPERATIONS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
}

#[test]
fn every_entry_is_consistent() {
    for op in catalog::operations() {
        assert!(op.path.starts_with('/'), "{}", op.name);
        assert!(
            !op.scope.is_empty() && !op.summary.is_empty(),
            "{}",
            op.name
        );
        assert!(!(op.read_only && op.destructive), "{}", op.name);
        // Read-only modes (the MCP server's) trust this flag: only a GET may carry it, and
        // every GET of the catalog changes nothing.
        assert_eq!(
            op.read_only,
            op.method == sfmc_client::catalog::HttpMethod::Get,
            "{}",
            op.name
        );
        for param in op.params {
            assert!(!param.description.is_empty(), "{}.{}", op.name, param.name);
            let placeholder = format!("{{{}}}", param.name);
            assert_eq!(
                param.location == Location::Path,
                op.path.contains(&placeholder),
                "{}.{}",
                op.name,
                param.name
            );
            if let Some(default) = param.default {
                serde_json::from_str::<serde_json::Value>(default).unwrap();
            }
        }
        let names: std::collections::HashSet<_> = op.params.iter().map(|p| p.name).collect();
        assert_eq!(
            names.len(),
            op.params.len(),
            "{}: a parameter is listed twice",
            op.name
        );
        if op.paging != Paging::None {
            assert!(op.read_only, "{} is paged but not read-only", op.name);
        }
        // Named body fields are set into the payload: it must be an object then.
        let payloads: Vec<_> = op
            .params
            .iter()
            .filter(|p| p.location == Location::Payload)
            .collect();
        assert!(payloads.len() <= 1, "{}: two payloads", op.name);
        if let Some(payload) = payloads.first() {
            assert_eq!(payload.name, "payload", "{}", op.name);
            if op.params.iter().any(|p| p.location == Location::Body) {
                assert_eq!(
                    payload.ty,
                    ParamType::Object,
                    "{}: body fields are set into a payload that is not an object",
                    op.name
                );
            }
        }
    }
}

#[test]
fn missing_required_parameters_are_named() {
    let op = catalog::lookup("createCampaign").unwrap();
    let error = op
        .build_request(&json!({"description": "no name"}))
        .unwrap_err();
    assert!(
        matches!(
            error,
            ValidationError::MissingParameter { name: "name", .. }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("\"name\""), "{error}");
    let op = catalog::lookup("updateCampaign").unwrap();
    let error = op.build_request(&json!({"name": "x"})).unwrap_err();
    assert!(error.to_string().contains("campaignId"), "{error}");
}

#[test]
fn unknown_operations_and_parameters_get_a_did_you_mean() {
    let error = catalog::lookup("getCampaign").unwrap_err();
    assert!(
        error.to_string().contains("did you mean \"getCampaigns\""),
        "{error}"
    );
    let error = catalog::lookup("createcampaign").unwrap_err();
    assert!(error.to_string().contains("\"createCampaign\""), "{error}");
    assert!(
        catalog::lookup("frobnicate")
            .unwrap_err()
            .to_string()
            .contains("--list")
    );
    let op = catalog::lookup("createCampaign").unwrap();
    let error = op
        .build_request(&json!({"name": "x", "campaigncode": "C1"}))
        .unwrap_err();
    assert_eq!(
        error,
        ValidationError::UnknownParameter {
            operation: "createCampaign",
            name: "campaigncode".into(),
            suggestion: Some("campaignCode")
        }
    );
}

#[test]
fn mistyped_and_too_long_parameters_are_named() {
    let op = catalog::lookup("createCampaign").unwrap();
    let error = op
        .build_request(&json!({"name": "x", "favorite": "yes"}))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "createCampaign: parameter \"favorite\" must be boolean, not a string"
    );
    let error = op
        .build_request(&json!({"name": "n".repeat(129)}))
        .unwrap_err();
    assert!(error.to_string().contains("at most 128"), "{error}");
    let error = op.build_request(&json!(["name"])).unwrap_err();
    assert!(
        matches!(error, ValidationError::NotAnObject { .. }),
        "{error:?}"
    );
}

#[test]
fn requests_are_built_from_path_query_and_body_parameters() {
    let op = catalog::lookup("updateCampaign").unwrap();
    let request = op
        .build_request(&json!({"campaignId": "a/b c", "name": "New", "favorite": true}))
        .unwrap();
    assert_eq!(request.path, "/hub/v1/campaigns/a%2Fb%20c");
    assert_eq!(request.body, Some(json!({"name": "New", "favorite": true})));
    let api = request.into_api_request();
    assert_eq!(api.method, reqwest::Method::PATCH);
    assert!(api.idempotent);

    let op = catalog::lookup("getAssets").unwrap();
    let request = op
        .build_request(&json!({"filter": "name eq 'x'", "pageSize": 5}))
        .unwrap();
    assert_eq!(
        request.query,
        [
            ("$pagesize".to_owned(), "5".to_owned()),
            ("$filter".to_owned(), "name eq 'x'".to_owned())
        ]
    );
    assert_eq!(request.body, None);

    let op = catalog::lookup("deleteAsset").unwrap();
    assert_eq!(
        op.build_request(&json!({"assetId": 42})).unwrap().path,
        "/asset/v1/content/assets/42"
    );
    let error = op.build_request(&json!({"assetId": ".."})).unwrap_err();
    assert!(error.to_string().contains("path segment"), "{error}");
}

#[test]
fn dotted_names_nest_and_payload_is_the_body() {
    let op = catalog::lookup("createEmailDefinition").unwrap();
    let request = op
        .build_request(&json!({
            "definitionKey": "welcome",
            "name": "Welcome",
            "content.customerKey": "welcome-email",
            "subscriptions.list": "All Subscribers",
            "payload": {"options": {"trackLinks": true}, "subscriptions": {"autoAddSubscriber": true}},
        }))
        .unwrap();
    assert_eq!(
        request.body,
        Some(json!({
            "definitionKey": "welcome", "name": "Welcome",
            "content": {"customerKey": "welcome-email"},
            "subscriptions": {"list": "All Subscribers", "autoAddSubscriber": true},
            "options": {"trackLinks": true},
        }))
    );
    // A required body field may come inside the payload.
    let op = catalog::lookup("createCampaign").unwrap();
    let request = op
        .build_request(&json!({"payload": {"name": "In payload", "custom": 1}}))
        .unwrap();
    assert_eq!(
        request.body,
        Some(json!({"name": "In payload", "custom": 1}))
    );
    let error = op
        .build_request(&json!({"name": "a", "payload": {"name": "b"}}))
        .unwrap_err();
    assert!(error.to_string().contains("both"), "{error}");
}

#[test]
fn array_payloads_and_defaults() {
    let op = catalog::lookup("insertDataExtensionRowSet").unwrap();
    let rows = json!([{"keys": {"Id": "1"}, "values": {"Email": "a@example.com"}}]);
    let request = op
        .build_request(&json!({"externalKey": "my key", "payload": rows}))
        .unwrap();
    assert_eq!(request.path, "/hub/v1/dataevents/key:my%20key/rowset");
    assert_eq!(request.body, Some(rows));
    assert!(
        request.into_api_request().idempotent,
        "an upsert may be retried"
    );
    let error = op.build_request(&json!({"externalKey": "k"})).unwrap_err();
    assert!(error.to_string().contains("\"payload\""), "{error}");

    let op = catalog::lookup("deleteContact").unwrap();
    let request = op.build_request(&json!({"values": ["c1"]})).unwrap();
    assert_eq!(request.query, [("type".to_owned(), "keys".to_owned())]);
    assert_eq!(
        request.body,
        Some(json!({"values": ["c1"], "DeleteOperationType": "ContactAndAttributes"}))
    );

    let op = catalog::lookup("createCategory").unwrap();
    let request = op
        .build_request(&json!({"name": "Folder", "parentId": 7}))
        .unwrap();
    assert_eq!(request.body, Some(json!({"Name": "Folder", "ParentId": 7})));
}

#[test]
fn schemas_describe_every_parameter() {
    for op in catalog::operations() {
        let schema = op.json_schema();
        assert_eq!(schema["title"], op.name);
        assert_eq!(schema["additionalProperties"], false);
        let properties = schema["properties"].as_object().unwrap();
        assert_eq!(properties.len(), op.params.len(), "{}", op.name);
        for param in op.params {
            assert!(
                properties[param.name]["description"].is_string(),
                "{}.{}",
                op.name,
                param.name
            );
        }
    }
    let schema = catalog::lookup("createCampaign").unwrap().json_schema();
    assert_eq!(
        schema["required"],
        json!([]),
        "name may come inside payload"
    );
    assert_eq!(
        schema["allOf"][0]["anyOf"][0],
        json!({"required": ["name"]})
    );
    let schema = catalog::lookup("updateCampaign").unwrap().json_schema();
    assert_eq!(schema["required"], json!(["campaignId"]));
    assert!(schema.get("allOf").is_none());
    assert_eq!(schema["properties"]["name"]["maxLength"], 128);
    assert_eq!(schema["properties"]["favorite"]["type"], "boolean");
}

#[test]
fn methods_parse_from_their_names_in_any_case() {
    use sfmc_client::catalog::{HttpMethod, UnknownMethod};
    for method in HttpMethod::ALL {
        assert_eq!(method.as_str().parse::<HttpMethod>(), Ok(method));
        assert_eq!(
            method.as_str().to_lowercase().parse::<HttpMethod>(),
            Ok(method)
        );
        assert_eq!(method.to_method().as_str(), method.as_str());
    }
    let error = "FETCH".parse::<HttpMethod>().unwrap_err();
    assert_eq!(error, UnknownMethod("FETCH".into()));
    assert_eq!(
        error.to_string(),
        "method \"FETCH\" is not one of GET, POST, PUT, PATCH, DELETE"
    );
}

/// The error `op` gives for `params`.
fn refused(op: &str, params: serde_json::Value) -> ValidationError {
    catalog::lookup(op)
        .unwrap()
        .build_request(&params)
        .unwrap_err()
}

#[test]
fn a_payload_of_the_wrong_type_is_named() {
    assert_eq!(
        refused("createCampaign", json!({"payload": [{"name": "x"}]})),
        ValidationError::WrongType {
            operation: "createCampaign",
            name: "payload",
            expected: "object",
            found: "an array"
        }
    );
    assert_eq!(
        refused(
            "insertDataExtensionRowSet",
            json!({"externalKey": "k", "payload": {"keys": {}}})
        ),
        ValidationError::WrongType {
            operation: "insertDataExtensionRowSet",
            name: "payload",
            expected: "array",
            found: "an object"
        }
    );
}

#[test]
fn dotted_fields_and_the_payload_must_agree() {
    let error = refused(
        "createEmailDefinition",
        json!({"definitionKey": "k", "name": "n", "content.customerKey": "e", "payload": {"content": "text"}}),
    );
    assert!(
        error
            .to_string()
            .contains("cannot nest under \"content\", which payload sets to a non-object"),
        "{error}"
    );
    let error = refused(
        "createEmailDefinition",
        json!({"definitionKey": "k", "name": "n", "content.customerKey": "a", "payload": {"content": {"customerKey": "b"}}}),
    );
    assert_eq!(
        error,
        ValidationError::InvalidValue {
            operation: "createEmailDefinition",
            name: "content.customerKey",
            problem: "is given both as a parameter and inside payload".into()
        }
    );
}

#[test]
fn empty_and_dot_path_segments_are_refused() {
    for segment in ["", ".", ".."] {
        let error = refused("deleteAsset", json!({ "assetId": segment }));
        assert!(
            matches!(
                error,
                ValidationError::InvalidValue {
                    name: "assetId",
                    ..
                }
            ),
            "{segment:?}: {error:?}"
        );
        assert!(error.to_string().contains("path segment"), "{error}");
    }
}

#[test]
fn integers_and_ids_accept_only_their_types() {
    for (value, found) in [(json!(1.5), "a number"), (json!("42"), "a string")] {
        assert_eq!(
            refused("getCampaigns", json!({ "page": value })),
            ValidationError::WrongType {
                operation: "getCampaigns",
                name: "page",
                expected: "integer",
                found
            }
        );
    }
    for (value, found) in [(json!(true), "a boolean"), (json!({"id": 1}), "an object")] {
        assert_eq!(
            refused("deleteCampaign", json!({ "campaignId": value })),
            ValidationError::WrongType {
                operation: "deleteCampaign",
                name: "campaignId",
                expected: "string or integer",
                found
            }
        );
    }
    let op = catalog::lookup("deleteCampaign").unwrap();
    assert_eq!(
        op.build_request(&json!({"campaignId": 42})).unwrap().path,
        "/hub/v1/campaigns/42"
    );
}

#[test]
fn null_parameters_and_null_values_count_as_not_given() {
    let op = catalog::lookup("getCampaigns").unwrap();
    let request = op.build_request(&serde_json::Value::Null).unwrap();
    assert!(request.query.is_empty());
    assert_eq!(request.body, None);
    let request = op.build_request(&json!({"page": null})).unwrap();
    assert!(request.query.is_empty());

    let op = catalog::lookup("createCampaign").unwrap();
    let request = op
        .build_request(&json!({"name": "x", "description": null, "payload": null}))
        .unwrap();
    assert_eq!(request.body, Some(json!({"name": "x"})));
    for params in [serde_json::Value::Null, json!({"name": null})] {
        assert!(
            matches!(
                op.build_request(&params),
                Err(ValidationError::MissingParameter { name: "name", .. })
            ),
            "{params}"
        );
    }
    // A null inside the payload does not satisfy a required field either.
    assert!(matches!(
        op.build_request(&json!({"payload": {"name": null}})),
        Err(ValidationError::MissingParameter { name: "name", .. })
    ));
}
