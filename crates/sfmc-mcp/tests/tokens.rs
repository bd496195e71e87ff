//! Tokens stay the server's business: a token revoked mid-session costs one refresh and no
//! failed call, and no result — success, Marketing Cloud error or argument error — ever holds
//! the access token or the client secret (and a REST answer echoing the token gets it
//! redacted).

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

/// Issues one fixed token whose REST instance is `rest_url`.
#[derive(Debug)]
struct FixedToken {
    rest_url: String,
}

const ECHOED_TOKEN: &str = "fixed-access-token-0123456789abcdefghijklmnopqrstuvwxyz";

impl sfmc_auth::TokenEndpoint for FixedToken {
    fn request_token<'a>(
        &'a self,
        _settings: &'a sfmc_auth::ConnectionSettings,
    ) -> sfmc_auth::endpoint::BoxFuture<'a, Result<sfmc_auth::TokenResponse, sfmc_auth::AuthError>>
    {
        let body = json!({
            "access_token": ECHOED_TOKEN,
            "token_type": "Bearer",
            "expires_in": 1079,
            "rest_instance_url": self.rest_url,
        });
        Box::pin(async move { sfmc_auth::TokenResponse::parse(body.to_string().as_bytes()) })
    }
}

#[tokio::test]
async fn a_rest_answer_echoing_the_token_is_redacted() {
    // A REST host that echoes the Authorization header it gets.
    let echo = axum::Router::new().route(
        "/echo",
        axum::routing::get(|headers: axum::http::HeaderMap| async move {
            let authorization = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            axum::Json(json!({"authorization": authorization}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rest_url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, echo).await;
    });
    let manager = sfmc_auth::TokenManager::builder()
        .endpoint(std::sync::Arc::new(FixedToken { rest_url }))
        .build()
        .unwrap();
    let settings = sfmc_auth::ConnectionSettings::new(
        sfmc_auth::AuthBaseUrl::parse("http://127.0.0.1:9/").unwrap(),
        "client",
        secrecy::SecretString::from("secret"),
    )
    .unwrap();
    let config = sfmc_auth::config::ConnectionConfig {
        name: "echo".into(),
        settings,
    };
    let connections = sfmc_client::Connections::new(
        manager,
        sfmc_client::default_http_client().unwrap(),
        &[config],
    );
    let server = sfmc_mcp::McpServer::new(connections, McpOptions::default()).unwrap();
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        use rmcp::ServiceExt;
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let session: Session = rmcp::ServiceExt::serve((), client_io).await.unwrap();
    let result = call(
        &session,
        "sfmc_rest_request",
        json!({"method": "GET", "path": "/echo"}),
    )
    .await
    .unwrap();
    let text = texts(&result);
    assert!(!text.contains(ECHOED_TOKEN), "{text}");
    let structured = result.structured_content.unwrap();
    assert_eq!(
        structured["result"]["authorization"], "Bearer [redacted]",
        "{structured}"
    );
}
