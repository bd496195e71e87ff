//! What a server offers and returns: read-only mode (no mutating tool, GET only through
//! `sfmc_rest_request`), `--allow`/`--deny` patterns, results cut to the budget with a note
//! whose next-page arguments continue exactly where the cut stopped.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use sfmc_client::catalog;
use sfmc_mcp::names::tool_name;
use sfmc_mcp::{McpOptions, McpServer, OptionsError};

#[tokio::test]
async fn read_only_hides_every_mutating_tool_and_refuses_a_post() {
    let setup = Setup::one().await;
    let session = setup.session(McpOptions::read_only()).await;
    let tools = tools(&session).await;
    let mut expected: Vec<String> = catalog::operations()
        .iter()
        .filter(|op| op.read_only)
        .map(|op| tool_name(op.name))
        .collect();
    expected.push("sfmc_rest_request".into());
    expected.push("sfmc_query_data_extension_rows".into());
    let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, expected);
    for tool in &tools {
        let annotations = tool.annotations.as_ref().unwrap();
        assert_eq!(annotations.read_only_hint, Some(true), "{}", tool.name);
        assert_eq!(annotations.destructive_hint, Some(false), "{}", tool.name);
    }
    let rest = tools
        .iter()
        .find(|t| t.name == "sfmc_rest_request")
        .unwrap();
    assert_eq!(
        rest.schema_as_json_value()["properties"]["method"]["enum"],
        json!(["GET"])
    );

    // A hidden tool is not offered, and the error says why.
    let error = call(&session, "sfmc_create_campaign", json!({"name": "x"}))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("read-only"), "{error}");

    for method in ["POST", "PUT", "PATCH", "DELETE", "post"] {
        let refused = tool_error(
            &session,
            "sfmc_rest_request",
            json!({"method": method, "path": "/hub/v1/campaigns", "body": {"name": "x"}}),
        )
        .await;
        assert_eq!(refused["kind"], "refused", "{refused}");
        assert!(
            refused["message"].as_str().unwrap().contains("read-only"),
            "{refused}"
        );
    }
    assert_eq!(setup.emulator.stats().api_requests, 0, "nothing was sent");
    let read = ok(
        &session,
        "sfmc_rest_request",
        json!({"method": "GET", "path": "/hub/v1/campaigns"}),
    )
    .await;
    assert_eq!(read["result"]["count"], 0);
}

#[tokio::test]
async fn allow_and_deny_patterns_pick_the_tools() {
    let setup = Setup::one().await;
    let options = McpOptions {
        allow: vec!["sfmc_get_*".into(), "*campaign*".into()],
        deny: vec!["sfmc_get_assets".into(), "sfmc_delete_*".into()],
        ..McpOptions::default()
    };
    let session = setup.session(options).await;
    assert_eq!(
        tool_names(&session).await,
        [
            "sfmc_get_categories",
            "sfmc_get_campaigns",
            "sfmc_create_campaign",
            "sfmc_update_campaign",
            "sfmc_get_contact_delete_requests",
            "sfmc_get_journeys",
        ]
    );
    let denied = call(&session, "sfmc_delete_campaign", json!({"campaignId": "1"}))
        .await
        .unwrap_err();
    assert!(
        denied.to_string().contains("--deny sfmc_delete_*"),
        "{denied}"
    );
    let not_allowed = call(&session, "sfmc_rest_request", json!({}))
        .await
        .unwrap_err();
    assert!(not_allowed.to_string().contains("--allow"), "{not_allowed}");

    let bad = |allow: &[&str], deny: &[&str]| {
        McpServer::new(
            setup.connections.clone(),
            McpOptions {
                allow: allow.iter().map(|s| (*s).to_owned()).collect(),
                deny: deny.iter().map(|s| (*s).to_owned()).collect(),
                ..McpOptions::default()
            },
        )
        .err()
    };
    assert!(matches!(
        bad(&["sfmc_Get_*"], &[]),
        Some(OptionsError::InvalidPattern { flag: "allow", .. })
    ));
    assert!(matches!(
        bad(&[], &["sfmc_get_campains"]),
        Some(OptionsError::MatchesNothing { flag: "deny", .. })
    ));
    let budget = McpServer::new(
        setup.connections.clone(),
        McpOptions {
            result_budget: 10,
            ..McpOptions::default()
        },
    );
    assert!(matches!(
        budget.err(),
        Some(OptionsError::ResultBudget { given: 10 })
    ));
}

#[tokio::test]
async fn an_oversized_result_is_cut_with_a_note_whose_next_page_continues_it() {
    let setup = Setup::one().await;
    let budget = 4096;
    let session = setup
        .session(McpOptions {
            result_budget: budget,
            ..McpOptions::default()
        })
        .await;
    for i in 0..30 {
        ok(
            &session,
            "sfmc_create_campaign",
            json!({"name": format!("Campaign {i:02}"), "description": "d".repeat(300)}),
        )
        .await;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut arguments = json!({"page": 1, "pageSize": 50, "orderBy": "name asc"});
    let mut cuts = 0;
    for _ in 0..60 {
        let result = call(&session, "sfmc_get_campaigns", arguments.clone())
            .await
            .unwrap();
        assert_eq!(result.is_error, Some(false));
        check_text_matches_structured(&result);
        let text_len = result.content[0].as_text().unwrap().text.len();
        assert!(text_len <= budget, "{text_len} bytes");
        let structured = result.structured_content.unwrap();
        let items = structured["result"]["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for item in items {
            seen.push(item["name"].as_str().unwrap().to_owned());
        }
        match structured.get("truncated") {
            Some(truncated) => {
                cuts += 1;
                let note = truncated["note"].as_str().unwrap();
                assert!(note.contains("result budget (4096 bytes)"), "{note}");
                // The note is also a text block of its own, for clients that show only text.
                assert_eq!(result.content[1].as_text().unwrap().text, note);
                for (name, value) in truncated["next"].as_object().unwrap() {
                    arguments[name] = value.clone();
                }
            }
            None => {
                let page = arguments["page"].as_u64().unwrap();
                arguments["page"] = json!(page + 1);
            }
        }
    }
    assert!(cuts > 0, "the first page was cut");
    let expected: Vec<String> = (0..30).map(|i| format!("Campaign {i:02}")).collect();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen.len(), 30, "{seen:?}");
    assert_eq!(
        sorted, expected,
        "every campaign exactly once, following the notes"
    );
}

#[tokio::test]
async fn a_result_without_a_list_is_cut_as_text() {
    let setup = Setup::one().await;
    let session = setup
        .session(McpOptions {
            result_budget: 2048,
            ..McpOptions::default()
        })
        .await;
    let created = ok(
        &session,
        "sfmc_create_asset",
        json!({"name": "Big", "assetType.id": 208, "content": "<p>x</p>".repeat(1000)}),
    )
    .await;
    assert!(
        created["resultText"].as_str().unwrap().starts_with('{'),
        "{created}"
    );
    assert!(
        created["truncated"]["note"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    assert!(created.get("result").is_none_or(Value::is_null));
}
