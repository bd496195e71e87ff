//! Tokens stay the server's business: a token revoked mid-session costs one refresh and no
//! failed call, and no result — success, Marketing Cloud error or argument error — ever holds
//! the access token or the client secret.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use sfmc_emulator::DEMO_CLIENT_SECRET;
use sfmc_mcp::McpOptions;

#[tokio::test]
async fn a_revoked_token_costs_one_refresh_and_no_failed_call() {
    let setup = Setup::one().await;
    let session = setup.session(McpOptions::default()).await;
    ok(&session, "sfmc_get_campaigns", json!({})).await;
    ok(&session, "sfmc_get_campaigns", json!({})).await;
    assert_eq!(setup.emulator.stats().token_requests, 1);
    setup.emulator.revoke_all();
    ok(
        &session,
        "sfmc_create_campaign",
        json!({"name": "After revoke"}),
    )
    .await;
    let listed = ok(&session, "sfmc_get_campaigns", json!({})).await;
    assert_eq!(listed["result"]["count"], 1);
    assert_eq!(setup.emulator.stats().token_requests, 2, "one refresh");
}

#[tokio::test]
async fn no_result_holds_the_token_or_the_secret() {
    let setup = Setup::two().await;
    define_data_extension(&setup, "Leads").await;
    let session = setup.session(McpOptions::default()).await;
    let calls = [
        ("sfmc_get_campaigns", json!({})),
        ("sfmc_create_campaign", json!({"name": "c"})),
        ("sfmc_get_campaigns", json!({"connection": "narrow"})),
        ("sfmc_delete_campaign", json!({"campaignId": "999"})),
        (
            "sfmc_rest_request",
            json!({"method": "GET", "path": "/v2/userinfo"}),
        ),
        (
            "sfmc_rest_request",
            json!({"method": "GET", "path": "/platform/v1/tokenContext"}),
        ),
        (
            "sfmc_rest_request",
            json!({"method": "POST", "path": "/v2/token", "body": {"grant_type": "client_credentials"}}),
        ),
        (
            "sfmc_rest_request",
            json!({"method": "GET", "path": "/nothing"}),
        ),
        (
            "sfmc_upsert_data_extension_rows",
            json!({"key": "Leads", "rows": [{"keys": {"id": "1"}, "values": {"email": "a@example.com"}}]}),
        ),
        ("sfmc_query_data_extension_rows", json!({"key": "Leads"})),
        ("sfmc_create_campaign", json!({})),
    ];
    let mut all = String::new();
    for (tool, arguments) in calls {
        let result = call(&session, tool, arguments).await.unwrap();
        all.push_str(&texts(&result));
        all.push_str(&result.structured_content.unwrap().to_string());
    }
    let token = setup.token();
    assert!(token.len() > 100, "a real token was fetched");
    assert!(!all.contains(&token), "a result held the access token");
    assert!(
        !all.contains(DEMO_CLIENT_SECRET),
        "a result held the client secret"
    );
    assert!(
        !all.to_ascii_lowercase().contains("bearer "),
        "a result held an Authorization header"
    );
}
