//! The MCP server on the gateway's `/mcp` (Streamable HTTP), driven by an rmcp client: the tools
//! of the catalog are listed, a campaign is created and read back through a config file's
//! connection, a revoked token costs one refresh and no failed call, Marketing Cloud errors are
//! tool errors, `--mcp-read-only` hides every mutating tool, and `/mcp` sits behind the
//! gateway's inbound keys and metrics.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};
use support::Env;
use support::gateway::{Dir, config, sfmc, start, terminate};

type Session = RunningService<RoleClient, ()>;

async fn session(url: &str) -> Session {
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(format!("{url}/mcp"));
    ().serve(transport).await.unwrap()
}

/// Calls `name`; the structured result and whether it is a tool error.
async fn call(session: &Session, name: &str, arguments: Value) -> (Value, bool) {
    let params: CallToolRequestParams = serde_json::from_value(json!({
        "name": name,
        "arguments": arguments,
    }))
    .unwrap();
    let result = session.call_tool(params).await.unwrap();
    let structured = result.structured_content.clone().unwrap_or(Value::Null);
    (structured, result.is_error.unwrap_or(false))
}

#[tokio::test]
async fn the_gateway_serves_mcp_over_a_config_file_connection() {
    let env = Env::new("gw-mcp").await;
    let dir = Dir::new("mcp");
    let file = dir.write(&config(&env, ""));
    let (gateway, url) = start(sfmc(
        &dir,
        &[
            "gateway",
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
    ))
    .await;

    let client = session(&url).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names.len(),
        sfmc_client::catalog::operations().len() + 3,
        "{names:?}"
    );
    assert!(names.contains(&"sfmc_create_campaign") && names.contains(&"sfmc_rest_request"));

    let (created, failed) = call(
        &client,
        "sfmc_create_campaign",
        json!({"name": "Through the gateway"}),
    )
    .await;
    assert!(!failed, "{created}");
    let (listed, failed) = call(&client, "sfmc_get_campaigns", json!({})).await;
    assert!(!failed, "{listed}");
    assert_eq!(listed["result"]["items"][0]["name"], "Through the gateway");
    let (missing, failed) = call(
        &client,
        "sfmc_delete_campaign",
        json!({"campaignId": "424242"}),
    )
    .await;
    assert!(failed, "a 404 is a tool error: {missing}");
    assert_eq!(missing["error"]["status"], 404, "{missing}");
    assert_eq!(env.token_requests(), 1);
    // A token revoked mid-session costs one refresh and no failed call.
    env.emulator.revoke_all();
    let (again, failed) = call(&client, "sfmc_get_campaigns", json!({})).await;
    assert!(!failed, "{again}");
    assert_eq!(again["result"]["items"][0]["name"], "Through the gateway");
    assert_eq!(env.token_requests(), 2);
    client.cancel().await.unwrap();

    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("route=\"/mcp\",status=\"200\""),
        "{metrics}"
    );
    let (exit, logs) = terminate(gateway).await;
    assert_eq!(exit, 0, "{logs}");
}

#[tokio::test]
async fn mcp_read_only_on_the_gateway_hides_mutating_tools() {
    let dir = Dir::new("mcp-ro");
    let (gateway, url) = start(sfmc(
        &dir,
        &[
            "gateway",
            "--emulated",
            "--listen",
            "127.0.0.1:0",
            "--mcp-read-only",
        ],
    ))
    .await;
    let client = session(&url).await;
    let tools = client.list_all_tools().await.unwrap();
    for tool in &tools {
        let read_only = tool.annotations.as_ref().and_then(|a| a.read_only_hint);
        assert!(
            read_only == Some(true) || tool.name == "sfmc_rest_request",
            "{} is offered read-only",
            tool.name
        );
    }
    let (refused, failed) = call(
        &client,
        "sfmc_rest_request",
        json!({"method": "POST", "path": "/hub/v1/campaigns", "body": {"name": "x"}}),
    )
    .await;
    assert!(failed, "{refused}");
    client.cancel().await.unwrap();
    let (exit, logs) = terminate(gateway).await;
    assert_eq!(exit, 0, "{logs}");
}

#[tokio::test]
async fn mcp_on_the_gateway_is_behind_its_inbound_keys() {
    let env = Env::new("gw-mcp-keys").await;
    let dir = Dir::new("mcp-keys");
    let digest = sfmc_auth::config::hash_api_key("mcp-inbound-key");
    let file = dir.write(&config(
        &env,
        &format!("[server]\napi_keys = [\"{digest}\"]\n"),
    ));
    let (gateway, url) = start(sfmc(
        &dir,
        &[
            "gateway",
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
    ))
    .await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post = |key: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{url}/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&initialize);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("wrong")).await.unwrap().status(), 401);
    assert_eq!(post(Some("mcp-inbound-key")).await.unwrap().status(), 200);
    let (exit, logs) = terminate(gateway).await;
    assert_eq!(exit, 0, "{logs}");
    assert!(!logs.contains("mcp-inbound-key"), "{logs}");
}
