//! Test support: an emulator, connections to it (`main` with every scope of the demo package,
//! optionally `narrow` with only `email_read`), an MCP server over them, and an rmcp client
//! talking to it in process (a tokio duplex pipe) or over Streamable HTTP on 127.0.0.1:0.

#![allow(clippy::unwrap_used, dead_code)] // tests fail loudly; each test file uses a part

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::{RunningService, ServiceError};
use rmcp::{RoleClient, ServiceExt};
use secrecy::SecretString;
use serde_json::{Value, json};
use sfmc_auth::config::ConnectionConfig;
use sfmc_auth::{AuthBaseUrl, ConnectionSettings, TokenManager};
use sfmc_client::Connections;
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig, RunningEmulator};
use sfmc_mcp::{HttpConfig, McpOptions, McpServer};

/// The client side of a session.
pub type Session = RunningService<RoleClient, ()>;

/// An emulator, the connections to it and the server over them.
pub struct Setup {
    pub emulator: RunningEmulator,
    pub connections: Connections,
    pub manager: TokenManager,
}

fn connection(emulator: &RunningEmulator, name: &str, scope: Option<&str>) -> ConnectionConfig {
    let mut settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&emulator.url()).unwrap(),
        DEMO_CLIENT_ID,
        SecretString::from(DEMO_CLIENT_SECRET),
    )
    .unwrap();
    if let Some(scope) = scope {
        settings = settings.with_scope(scope).unwrap();
    }
    ConnectionConfig {
        name: name.to_owned(),
        settings,
    }
}

impl Setup {
    /// One connection, `main`.
    pub async fn one() -> Self {
        Self::with(false).await
    }

    /// Two connections: `main`, and `narrow` with only `email_read`.
    pub async fn two() -> Self {
        Self::with(true).await
    }

    async fn with(narrow: bool) -> Self {
        let emulator = sfmc_emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let mut configs = vec![connection(&emulator, "main", None)];
        if narrow {
            configs.push(connection(&emulator, "narrow", Some("email_read")));
        }
        let manager = TokenManager::builder().build().unwrap();
        let http = sfmc_client::default_http_client().unwrap();
        let connections = Connections::new(manager.clone(), http, &configs);
        Self {
            emulator,
            connections,
            manager,
        }
    }

    pub fn server(&self, options: McpOptions) -> McpServer {
        McpServer::new(self.connections.clone(), options).unwrap()
    }

    /// A client session with a server of `options`, over an in-process pipe.
    pub async fn session(&self, options: McpOptions) -> Session {
        let server = self.server(options);
        let (server_io, client_io) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        ().serve(client_io).await.unwrap()
    }

    /// A client session with a server of `options`, over Streamable HTTP on 127.0.0.1:0.
    pub async fn http_session(&self, options: McpOptions) -> Session {
        let router = self.server(options).http_router(HttpConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(format!(
            "http://{addr}{}",
            sfmc_mcp::HTTP_PATH
        ));
        ().serve(transport).await.unwrap()
    }

    /// POSTs `body` to the emulator's control plane at `path`.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.emulator.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// The current access token of connection `main` (to check it never appears).
    pub fn token(&self) -> String {
        let client = self.connections.client(Some("main"), None).unwrap();
        let cached = client.token_handle().cached().expect("a token was fetched");
        cached.expose().to_owned()
    }
}

/// Calls `tool` with `arguments` (an object).
pub async fn call(
    session: &Session,
    tool: &str,
    arguments: Value,
) -> Result<CallToolResult, ServiceError> {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object");
    };
    let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
    session.call_tool(params).await
}

/// Calls `tool` and expects a success; returns its structured content.
pub async fn ok(session: &Session, tool: &str, arguments: Value) -> Value {
    let result = call(session, tool, arguments.clone()).await.unwrap();
    assert_eq!(
        result.is_error,
        Some(false),
        "{tool} {arguments}: {result:?}"
    );
    check_text_matches_structured(&result);
    result.structured_content.unwrap()
}

/// Calls `tool` and expects a tool error; returns its `error` object.
pub async fn tool_error(session: &Session, tool: &str, arguments: Value) -> Value {
    let result = call(session, tool, arguments.clone()).await.unwrap();
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} {arguments}: {result:?}"
    );
    check_text_matches_structured(&result);
    result.structured_content.unwrap()["error"].clone()
}

/// The first text block is the structured content's JSON text.
pub fn check_text_matches_structured(result: &CallToolResult) {
    let text = &result.content[0].as_text().expect("a text block").text;
    let parsed: Value = serde_json::from_str(text).unwrap();
    assert_eq!(Some(&parsed), result.structured_content.as_ref());
}

/// Every text of a result (to look for tokens).
pub fn texts(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names of the listed tools, in order.
pub async fn tool_names(session: &Session) -> Vec<String> {
    tools(session)
        .await
        .iter()
        .map(|t| t.name.to_string())
        .collect()
}

pub async fn tools(session: &Session) -> Vec<Tool> {
    session.list_all_tools().await.unwrap()
}

/// A data extension `key` with `id` as its primary key and `email`, `city`.
pub async fn define_data_extension(setup: &Setup, key: &str) {
    setup
        .control(
            "/_emulator/dataextensions",
            json!({"key": key, "fields": ["id", "email", "city"], "primaryKeys": ["id"]}),
        )
        .await;
}
