//! `sfmc mcp` as a real process over stdio, driven by an rmcp client: `--emulated` (tool list,
//! schemas, a campaign created and read back, errors as tool errors, budget cuts, read-only,
//! allow/deny), and a config file naming two connections to a test emulator (a 403 from a
//! narrow scope, a revoked token costing one refresh, no token in any result). Bad options exit
//! 2 before any MCP traffic.

#![allow(clippy::unwrap_used)]

mod support;

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use sfmc_client::catalog;
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use support::{Env, bare};

type Session = RunningService<rmcp::RoleClient, ()>;

/// Starts `sfmc ARGS` (with `env` set) and opens an MCP session with it over its stdio.
async fn start(args: &[&str], env: &[(&str, &str)]) -> Session {
    let mut command = bare(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.kill_on_drop(true);
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(60), ().serve(transport))
        .await
        .expect("initialize within 60 s")
        .unwrap()
}

async fn call(session: &Session, tool: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    session
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments))
        .await
        .unwrap()
}

async fn ok(session: &Session, tool: &str, arguments: Value) -> Value {
    let result = call(session, tool, arguments.clone()).await;
    assert_eq!(
        result.is_error,
        Some(false),
        "{tool} {arguments}: {result:?}"
    );
    let text: Value = serde_json::from_str(&result.content[0].as_text().unwrap().text).unwrap();
    assert_eq!(Some(&text), result.structured_content.as_ref());
    text
}

async fn tool_error(session: &Session, tool: &str, arguments: Value) -> Value {
    let result = call(session, tool, arguments.clone()).await;
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} {arguments}: {result:?}"
    );
    result.structured_content.unwrap()["error"].clone()
}

async fn names(session: &Session) -> Vec<String> {
    session
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect()
}

#[tokio::test]
async fn emulated_lists_the_tools_creates_a_campaign_and_reads_it_back() {
    let session = start(&["mcp", "--emulated"], &[]).await;
    let info = session.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "sfmc");

    let tools = session.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), catalog::operations().len() + 3);
    for (tool, op) in tools.iter().zip(catalog::operations()) {
        assert_eq!(tool.name, sfmc_mcp::names::tool_name(op.name));
        let annotations = tool.annotations.as_ref().unwrap();
        assert_eq!(annotations.read_only_hint, Some(op.read_only));
        assert_eq!(annotations.destructive_hint, Some(op.destructive));
        assert_eq!(annotations.idempotent_hint, Some(op.idempotent));
    }
    for tool in &tools {
        let schema = tool.schema_as_json_value();
        assert_eq!(schema["type"], "object", "{}", tool.name);
        let properties = schema["properties"].as_object().unwrap();
        for required in schema["required"].as_array().into_iter().flatten() {
            assert!(
                properties.contains_key(required.as_str().unwrap()),
                "{}",
                tool.name
            );
        }
        assert!(properties.values().all(Value::is_object), "{}", tool.name);
    }

    let created = ok(
        &session,
        "sfmc_create_campaign",
        json!({"name": "From an agent"}),
    )
    .await;
    let id = created["result"]["id"].as_str().unwrap().to_owned();
    let listed = ok(&session, "sfmc_get_campaigns", json!({})).await;
    assert_eq!(listed["result"]["items"][0]["id"], id.as_str());
    assert_eq!(listed["result"]["items"][0]["name"], "From an agent");

    let missing = tool_error(
        &session,
        "sfmc_delete_campaign",
        json!({"campaignId": "404404"}),
    )
    .await;
    assert_eq!(missing["status"], 404, "{missing}");
    assert!(
        missing["message"].is_string() && missing["errorcode"].is_i64(),
        "{missing}"
    );
    let invalid = tool_error(&session, "sfmc_create_campaign", json!({"color": "ff0000"})).await;
    assert_eq!(invalid["argument"], "name", "{invalid}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn read_only_hides_mutating_tools_and_refuses_a_post() {
    let session = start(&["mcp", "--emulated", "--read-only"], &[]).await;
    let listed = names(&session).await;
    let mutating: Vec<String> = catalog::operations()
        .iter()
        .filter(|op| !op.read_only)
        .map(|op| sfmc_mcp::names::tool_name(op.name))
        .collect();
    assert!(!mutating.is_empty());
    for name in &mutating {
        assert!(!listed.contains(name), "{name} is listed");
    }
    assert!(!listed.contains(&"sfmc_upsert_data_extension_rows".to_owned()));
    assert!(listed.contains(&"sfmc_get_campaigns".to_owned()));
    let refused = tool_error(
        &session,
        "sfmc_rest_request",
        json!({"method": "POST", "path": "/hub/v1/campaigns", "body": {"name": "x"}}),
    )
    .await;
    assert_eq!(refused["kind"], "refused");
    let read = ok(
        &session,
        "sfmc_rest_request",
        json!({"method": "GET", "path": "/hub/v1/campaigns"}),
    )
    .await;
    assert_eq!(read["result"]["count"], 0);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn allow_deny_and_the_result_budget_apply() {
    let session = start(
        &[
            "mcp",
            "--emulated",
            "--allow",
            "*campaign*",
            "--deny",
            "sfmc_delete_*",
            "--result-budget",
            "2048",
        ],
        &[],
    )
    .await;
    assert_eq!(
        names(&session).await,
        [
            "sfmc_get_campaigns",
            "sfmc_create_campaign",
            "sfmc_update_campaign"
        ]
    );
    for i in 0..12 {
        ok(
            &session,
            "sfmc_create_campaign",
            json!({"name": format!("C{i}"), "description": "d".repeat(200)}),
        )
        .await;
    }
    let page = call(&session, "sfmc_get_campaigns", json!({"pageSize": 50})).await;
    assert!(page.content[0].as_text().unwrap().text.len() <= 2048);
    let structured = page.structured_content.unwrap();
    let kept = structured["result"]["items"].as_array().unwrap().len();
    assert!(kept > 0 && kept < 12, "{kept}");
    assert_eq!(
        structured["truncated"]["next"],
        json!({"page": 2, "pageSize": kept})
    );
    assert!(
        page.content[1]
            .as_text()
            .unwrap()
            .text
            .contains("result budget (2048 bytes)")
    );
    session.cancel().await.unwrap();
}

/// A config file with `main` (every scope) and `narrow` (`email_read` only) on `env`'s emulator.
fn config_file(env: &Env) -> std::path::PathBuf {
    std::fs::create_dir_all(&env.cache_dir).unwrap();
    let path = env.cache_dir.join("config.toml");
    let url = env.emulator.url();
    let text = format!(
        "[[connections]]\nname = \"main\"\nauth_base_uri = \"{url}\"\nclient_id = \"{DEMO_CLIENT_ID}\"\nclient_secret = \"${{MCP_TEST_SECRET}}\"\n\n\
         [[connections]]\nname = \"narrow\"\nauth_base_uri = \"{url}\"\nclient_id = \"{DEMO_CLIENT_ID}\"\nclient_secret = \"${{MCP_TEST_SECRET}}\"\nscope = \"email_read\"\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn a_config_file_serves_its_connections_errors_and_refreshes() {
    let env = Env::new("mcp-config").await;
    let config = config_file(&env);
    let session = start(
        &["mcp", "--config", config.to_str().unwrap()],
        &[("MCP_TEST_SECRET", DEMO_CLIENT_SECRET)],
    )
    .await;
    let tools = session.list_all_tools().await.unwrap();
    for tool in &tools {
        assert_eq!(
            tool.schema_as_json_value()["properties"]["connection"]["enum"],
            json!(["main", "narrow"]),
            "{}",
            tool.name
        );
    }
    let mut texts = String::new();
    let forbidden = call(
        &session,
        "sfmc_get_campaigns",
        json!({"connection": "narrow"}),
    )
    .await;
    texts.push_str(&forbidden.content[0].as_text().unwrap().text);
    let error = &forbidden.structured_content.unwrap()["error"];
    assert_eq!(error["status"], 403, "{error}");
    assert_eq!(error["errorcode"], 20002, "{error}");

    ok(
        &session,
        "sfmc_create_campaign",
        json!({"name": "Before revoke"}),
    )
    .await;
    let before = env.token_requests();
    env.emulator.revoke_all();
    let listed = ok(&session, "sfmc_get_campaigns", json!({})).await;
    assert_eq!(listed["result"]["items"][0]["name"], "Before revoke");
    assert_eq!(
        env.token_requests(),
        before + 1,
        "one refresh after the revoke"
    );
    texts.push_str(&listed.to_string());
    for path in ["/v2/userinfo", "/platform/v1/tokenContext"] {
        let result = call(
            &session,
            "sfmc_rest_request",
            json!({"method": "GET", "path": path}),
        )
        .await;
        texts.push_str(&result.content[0].as_text().unwrap().text);
    }
    // Emulator tokens are JWT-shaped: none may appear, nor the secret.
    assert!(!texts.contains("eyJ"), "a result held a token: {texts}");
    assert!(!texts.contains(DEMO_CLIENT_SECRET));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_options_exit_2_with_nothing_on_stdout() {
    for args in [
        &["mcp", "--emulated", "--allow", "Sfmc_*"][..],
        &["mcp", "--emulated", "--deny", "sfmc_get_nothing"],
        &["mcp", "--emulated", "--result-budget", "10"],
        &["mcp"],
    ] {
        let output = bare(args)
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env_remove("SFMC_CONFIG")
            .output()
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
}
