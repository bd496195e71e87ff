//! The same server over Streamable HTTP (stateless, JSON answers) on 127.0.0.1:0, with an rmcp
//! client: the tools are listed, a campaign is created and read back, errors are tool errors,
//! and the router refuses a non-loopback `Host` by default.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use sfmc_mcp::McpOptions;

#[tokio::test]
async fn over_streamable_http_a_client_lists_tools_creates_and_reads_back() {
    let setup = Setup::one().await;
    let session = setup.http_session(McpOptions::default()).await;
    assert_eq!(tool_names(&session).await.len(), 24);
    ok(
        &session,
        "sfmc_create_campaign",
        json!({"name": "Over HTTP"}),
    )
    .await;
    let listed = ok(&session, "sfmc_get_campaigns", json!({})).await;
    assert_eq!(listed["result"]["items"][0]["name"], "Over HTTP");
    let missing = tool_error(&session, "sfmc_delete_campaign", json!({"campaignId": "1"})).await;
    assert_eq!(missing["status"], 404);
    setup.emulator.revoke_all();
    ok(&session, "sfmc_get_campaigns", json!({})).await;
    assert_eq!(setup.emulator.stats().token_requests, 2);
}

#[tokio::test]
async fn over_streamable_http_read_only_applies_too() {
    let setup = Setup::one().await;
    let session = setup.http_session(McpOptions::read_only()).await;
    let names = tool_names(&session).await;
    assert!(
        !names.iter().any(|n| n.starts_with("sfmc_create_")),
        "{names:?}"
    );
    let refused = tool_error(
        &session,
        "sfmc_rest_request",
        json!({"method": "POST", "path": "/hub/v1/campaigns"}),
    )
    .await;
    assert_eq!(refused["kind"], "refused");
}

#[tokio::test]
async fn the_router_refuses_a_foreign_host_by_default() {
    let setup = Setup::one().await;
    let router = setup
        .server(McpOptions::default())
        .http_router(sfmc_mcp::HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let send = |host: &'static str| {
        reqwest::Client::new()
            .post(format!("http://{addr}/mcp"))
            .header("host", host)
            .header("accept", "application/json, text/event-stream")
            .json(&initialize)
            .send()
    };
    assert_eq!(send("evil.example").await.unwrap().status(), 403);
    let local = send("127.0.0.1").await.unwrap();
    assert_eq!(local.status(), 200);
    let body: serde_json::Value = local.json().await.unwrap();
    assert_eq!(body["result"]["serverInfo"]["name"], "sfmc", "{body}");
}
