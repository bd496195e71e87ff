//! The server in process against the emulator: the tool list (one per catalog operation, in
//! order, plus the three extra tools; schemas and annotations), round trips through catalog,
//! REST and data extension tools, argument errors naming the argument, Marketing Cloud errors
//! (404, 403) as tool errors, connections and business units.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use sfmc_client::catalog;
use sfmc_emulator::DEMO_CHILD_ACCOUNT_ID;
use sfmc_mcp::McpOptions;
use sfmc_mcp::names::tool_name;

const EXTRA: [&str; 3] = [
    "sfmc_rest_request",
    "sfmc_query_data_extension_rows",
    "sfmc_upsert_data_extension_rows",
];

const JSON_TYPES: [&str; 7] = [
    "string", "integer", "number", "boolean", "object", "array", "null",
];

/// A structural check of an input schema: an object schema whose properties are schemas with
/// known types, whose `required` names properties, and whose `allOf`/`anyOf` do too.
fn check_schema(tool: &str, schema: &Value) {
    assert_eq!(schema["type"], "object", "{tool}");
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{tool}: properties"));
    for (name, property) in properties {
        let property = property
            .as_object()
            .unwrap_or_else(|| panic!("{tool}.{name}: not a schema"));
        match property.get("type") {
            None => {}
            Some(Value::String(t)) => {
                assert!(JSON_TYPES.contains(&t.as_str()), "{tool}.{name}: {t}")
            }
            Some(Value::Array(types)) => {
                for t in types {
                    assert!(
                        JSON_TYPES.contains(&t.as_str().unwrap()),
                        "{tool}.{name}: {t}"
                    );
                }
            }
            Some(other) => panic!("{tool}.{name}: type {other}"),
        }
        assert!(
            property.get("description").is_some_and(Value::is_string),
            "{tool}.{name}: description"
        );
    }
    for required in schema["required"].as_array().unwrap_or(&Vec::new()) {
        assert!(
            properties.contains_key(required.as_str().unwrap()),
            "{tool}: required {required}"
        );
    }
    assert_eq!(schema["additionalProperties"], false, "{tool}");
    for either in schema["allOf"].as_array().unwrap_or(&Vec::new()) {
        for branch in either["anyOf"].as_array().unwrap() {
            for required in branch["required"].as_array().unwrap() {
                assert!(
                    properties.contains_key(required.as_str().unwrap()),
                    "{tool}: allOf {required}"
                );
            }
        }
    }
}

#[tokio::test]
async fn tools_list_one_tool_per_operation_in_catalog_order_plus_three() {
    let setup = Setup::one().await;
    let session = setup.session(McpOptions::default()).await;
    let info = session.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "sfmc");
    assert!(info.capabilities.tools.is_some());

    let tools = tools(&session).await;
    let mut expected: Vec<String> = catalog::operations()
        .iter()
        .map(|op| tool_name(op.name))
        .collect();
    assert_eq!(expected.len(), 21);
    expected.extend(EXTRA.map(str::to_owned));
    let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, expected);

    for (tool, op) in tools.iter().zip(catalog::operations()) {
        let annotations = tool.annotations.as_ref().unwrap();
        assert_eq!(
            annotations.read_only_hint,
            Some(op.read_only),
            "{}",
            op.name
        );
        assert_eq!(
            annotations.destructive_hint,
            Some(op.destructive),
            "{}",
            op.name
        );
        assert_eq!(
            annotations.idempotent_hint,
            Some(op.idempotent),
            "{}",
            op.name
        );
        assert!(
            tool.description.as_deref().unwrap().starts_with(op.summary),
            "{}",
            op.name
        );
        let schema = tool.schema_as_json_value();
        for param in op.params {
            assert!(
                schema["properties"].get(param.name).is_some(),
                "{}.{}",
                op.name,
                param.name
            );
        }
    }
    for tool in &tools {
        let schema = tool.schema_as_json_value();
        check_schema(&tool.name, &schema);
        assert!(
            schema["properties"].get("account_id").is_some(),
            "{}",
            tool.name
        );
        // One connection: no `connection` argument to choose.
        assert!(
            schema["properties"].get("connection").is_none(),
            "{}",
            tool.name
        );
    }
}

fn item_names(page: &Value) -> Vec<String> {
    page["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_campaign_created_is_listed_then_read_back_through_rest() {
    let setup = Setup::one().await;
    let session = setup.session(McpOptions::default()).await;
    let created = ok(
        &session,
        "sfmc_create_campaign",
        json!({"name": "Summer Sale", "description": "Sun", "campaignCode": "SUMMER24"}),
    )
    .await;
    assert_eq!(created["result"]["name"], "Summer Sale");
    assert!(
        matches!(created["status"].as_u64(), Some(200..=202)),
        "{created}"
    );
    let id = created["result"]["id"].as_str().unwrap().to_owned();

    let listed = ok(&session, "sfmc_get_campaigns", json!({"pageSize": 10})).await;
    assert_eq!(item_names(&listed), ["Summer Sale"]);
    assert_eq!(listed["result"]["count"], 1);

    let read = ok(
        &session,
        "sfmc_rest_request",
        json!({"method": "GET", "path": format!("/hub/v1/campaigns/{id}")}),
    )
    .await;
    assert_eq!(read["status"], 200);
    assert_eq!(read["result"]["campaignCode"], "SUMMER24");

    let renamed = ok(
        &session,
        "sfmc_update_campaign",
        json!({"campaignId": id, "name": "Winter Sale"}),
    )
    .await;
    assert_eq!(renamed["result"]["name"], "Winter Sale");
    ok(&session, "sfmc_delete_campaign", json!({"campaignId": id})).await;
    let listed = ok(&session, "sfmc_get_campaigns", json!({})).await;
    assert_eq!(item_names(&listed), Vec::<String>::new());
}

#[tokio::test]
async fn argument_errors_are_tool_errors_naming_the_argument() {
    let setup = Setup::one().await;
    let session = setup.session(McpOptions::default()).await;
    let cases = [
        ("sfmc_create_campaign", json!({}), "name"),
        ("sfmc_create_campaign", json!({"name": 7}), "name"),
        ("sfmc_get_campaigns", json!({"pageSize": "ten"}), "pageSize"),
        ("sfmc_get_campaigns", json!({"pageSise": 10}), "pageSise"),
        (
            "sfmc_get_campaigns",
            json!({"account_id": "not-a-mid"}),
            "account_id",
        ),
        (
            "sfmc_get_campaigns",
            json!({"connection": "elsewhere"}),
            "connection",
        ),
        (
            "sfmc_rest_request",
            json!({"path": "/hub/v1/campaigns"}),
            "method",
        ),
        (
            "sfmc_rest_request",
            json!({"method": "FETCH", "path": "/x"}),
            "method",
        ),
        (
            "sfmc_rest_request",
            json!({"method": "GET", "path": "https://evil.example/x"}),
            "path",
        ),
        (
            "sfmc_rest_request",
            json!({"method": "GET", "path": "/hub/../v2/token"}),
            "path",
        ),
        (
            "sfmc_rest_request",
            json!({"method": "POST", "path": "/v2/token"}),
            "path",
        ),
        (
            "sfmc_rest_request",
            json!({"method": "GET", "path": "/x", "query": {"a": [1]}}),
            "query.a",
        ),
        (
            "sfmc_rest_request",
            json!({"method": "GET", "path": "/x", "extra": 1}),
            "extra",
        ),
        ("sfmc_query_data_extension_rows", json!({}), "key"),
        (
            "sfmc_query_data_extension_rows",
            json!({"key": "k", "pageSize": 0}),
            "pageSize",
        ),
        (
            "sfmc_upsert_data_extension_rows",
            json!({"key": "k", "rows": []}),
            "rows",
        ),
        (
            "sfmc_upsert_data_extension_rows",
            json!({"key": "k", "rows": [{"values": {}}]}),
            "rows[0].keys",
        ),
        (
            "sfmc_upsert_data_extension_rows",
            json!({"key": "k", "rows": [{"keys": {"id": "1"}}, 5]}),
            "rows[1]",
        ),
        (
            "sfmc_upsert_data_extension_rows",
            json!({"key": "k", "rows": [{"keys": {"id": "1"}, "other": 1}]}),
            "rows[0].other",
        ),
    ];
    for (tool, arguments, argument) in cases {
        let error = tool_error(&session, tool, arguments.clone()).await;
        assert_eq!(
            error["kind"], "invalid_argument",
            "{tool} {arguments}: {error}"
        );
        assert_eq!(error["argument"], argument, "{tool} {arguments}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(argument), "{tool} {arguments}: {message}");
    }
    let too_many: Vec<Value> = (0..51)
        .map(|i| json!({"keys": {"id": i.to_string()}}))
        .collect();
    let error = tool_error(
        &session,
        "sfmc_upsert_data_extension_rows",
        json!({"key": "k", "rows": too_many}),
    )
    .await;
    assert_eq!(error["argument"], "rows");
    assert!(
        error["message"].as_str().unwrap().contains("at most 50"),
        "{error}"
    );
    // Nothing reached Marketing Cloud.
    assert_eq!(setup.emulator.stats().api_requests, 0);
}

#[tokio::test]
async fn an_unknown_tool_is_a_protocol_error() {
    let setup = Setup::one().await;
    let session = setup.session(McpOptions::default()).await;
    let error = call(&session, "sfmc_launch_rocket", json!({}))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("unknown tool"), "{error}");
}

#[tokio::test]
async fn a_404_and_a_403_are_tool_errors_with_message_and_errorcode() {
    let setup = Setup::two().await;
    let session = setup.session(McpOptions::default()).await;
    let missing = tool_error(
        &session,
        "sfmc_delete_campaign",
        json!({"campaignId": "424242"}),
    )
    .await;
    assert_eq!(missing["kind"], "rejected", "{missing}");
    assert_eq!(missing["status"], 404, "{missing}");
    assert!(
        missing["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{missing}"
    );
    assert!(missing["errorcode"].is_i64(), "{missing}");

    let forbidden = tool_error(
        &session,
        "sfmc_get_campaigns",
        json!({"connection": "narrow"}),
    )
    .await;
    assert_eq!(forbidden["status"], 403, "{forbidden}");
    assert_eq!(forbidden["errorcode"], 20002, "{forbidden}");
    assert!(
        forbidden["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{forbidden}"
    );

    let unknown_path = tool_error(
        &session,
        "sfmc_rest_request",
        json!({"method": "GET", "path": "/hub/v1/nothing-here"}),
    )
    .await;
    assert_eq!(unknown_path["status"], 404, "{unknown_path}");
    assert_eq!(unknown_path["errorcode"], 404, "{unknown_path}");
}

#[tokio::test]
async fn several_connections_add_a_connection_argument_and_business_units_are_apart() {
    let setup = Setup::two().await;
    let session = setup.session(McpOptions::default()).await;
    for tool in tools(&session).await {
        let schema = tool.schema_as_json_value();
        assert_eq!(
            schema["properties"]["connection"]["enum"],
            json!(["main", "narrow"]),
            "{}",
            tool.name
        );
    }
    // The default connection is the first one; another business unit has its own campaigns.
    ok(
        &session,
        "sfmc_create_campaign",
        json!({"name": "Parent BU"}),
    )
    .await;
    ok(
        &session,
        "sfmc_create_campaign",
        json!({"name": "Child BU", "account_id": DEMO_CHILD_ACCOUNT_ID}),
    )
    .await;
    let parent = ok(
        &session,
        "sfmc_get_campaigns",
        json!({"connection": "main"}),
    )
    .await;
    assert_eq!(item_names(&parent), ["Parent BU"]);
    let child = ok(
        &session,
        "sfmc_get_campaigns",
        json!({"account_id": DEMO_CHILD_ACCOUNT_ID.parse::<u64>().unwrap()}),
    )
    .await;
    assert_eq!(item_names(&child), ["Child BU"]);
}

#[tokio::test]
async fn data_extension_rows_are_upserted_and_queried_with_a_filter() {
    let setup = Setup::one().await;
    define_data_extension(&setup, "Customers").await;
    let session = setup.session(McpOptions::default()).await;
    let rows = json!([
        {"keys": {"id": "1"}, "values": {"email": "a@example.com", "city": "Paris"}},
        {"keys": {"id": "2"}, "values": {"email": "b@example.com", "city": "Lyon"}},
        {"keys": {"id": "3"}, "values": {"email": "c@example.com", "city": "Paris"}},
    ]);
    let upserted = ok(
        &session,
        "sfmc_upsert_data_extension_rows",
        json!({"key": "Customers", "rows": rows}),
    )
    .await;
    assert_eq!(upserted["status"], 200, "{upserted}");

    let paris = ok(
        &session,
        "sfmc_query_data_extension_rows",
        json!({"key": "Customers", "filter": "city eq 'Paris'"}),
    )
    .await;
    assert_eq!(paris["result"]["count"], 2, "{paris}");
    let ids: Vec<&str> = paris["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["keys"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1", "3"]);
    let page_two = ok(
        &session,
        "sfmc_query_data_extension_rows",
        json!({"key": "Customers", "page": 2, "pageSize": 2}),
    )
    .await;
    assert_eq!(
        page_two["result"]["items"].as_array().unwrap().len(),
        1,
        "{page_two}"
    );

    let unknown = tool_error(
        &session,
        "sfmc_query_data_extension_rows",
        json!({"key": "Nope"}),
    )
    .await;
    assert_eq!(unknown["status"], 404, "{unknown}");
}
