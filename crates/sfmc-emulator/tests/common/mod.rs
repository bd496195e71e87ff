//! Helpers shared by the integration tests: a demo emulator on a free port and small
//! request wrappers.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // test helpers may unwrap

use reqwest::StatusCode;
use serde_json::{Value, json};
use sfmc_emulator::{EmulatorConfig, RunningEmulator, start};

pub const CLIENT_ID: &str = "demo-client-id";
pub const CLIENT_SECRET: &str = "demo-client-secret";

pub const NOT_AUTHORIZED: &str = r#"{"message":"Not Authorized","errorcode":0,"documentation":"https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm"}"#;

pub async fn emulator() -> RunningEmulator {
    emulator_with(EmulatorConfig::demo()).await
}

pub async fn emulator_with(config: EmulatorConfig) -> RunningEmulator {
    start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// A client that ignores proxy variables of the environment.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

pub fn credentials() -> Value {
    json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
}

/// Status and JSON body of a response (Null when the body is not JSON).
pub async fn status_json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn post_token(emu: &RunningEmulator, body: &Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/v2/token", emu.url()))
        .json(body)
        .send()
        .await
        .unwrap();
    status_json(response).await
}

/// A fresh access token for the demo package (optionally for `account_id`).
pub async fn access_token(emu: &RunningEmulator, account_id: Option<&str>) -> String {
    token_with(emu, account_id, None).await
}

pub async fn get(emu: &RunningEmulator, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    send(emu, "GET", path, token, None).await
}

/// `METHOD path` (from the emulator's root) with an optional bearer token and an optional
/// JSON body: status and JSON body.
pub async fn send(
    emu: &RunningEmulator,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client().request(method, format!("{}{path}", emu.url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    status_json(request.send().await.unwrap()).await
}

/// `request` through an embedded emulator's router (no socket): status and JSON body.
pub async fn oneshot(
    app: &axum::Router,
    request: axum::http::Request<axum::body::Body>,
) -> (StatusCode, Value) {
    use tower::ServiceExt;
    let response = app.clone().oneshot(request).await.unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

pub fn not_authorized() -> Value {
    serde_json::from_str(NOT_AUTHORIZED).unwrap()
}

/// A token for the demo package with `account_id` and `scope` (both optional).
pub async fn token_with(
    emu: &RunningEmulator,
    account_id: Option<&str>,
    scope: Option<&str>,
) -> String {
    let mut body = credentials();
    if let Some(id) = account_id {
        body["account_id"] = json!(id);
    }
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    let (status, json) = post_token(emu, &body).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json["access_token"].as_str().unwrap().to_owned()
}

/// `METHOD path` with a bearer token and an optional JSON body: status and JSON body.
pub async fn call(
    emu: &RunningEmulator,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    send(emu, method, path, Some(token), body).await
}

/// `METHOD /_emulator/<path>` with an optional JSON body (no token).
pub async fn control(
    emu: &RunningEmulator,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    send(emu, method, &format!("/_emulator/{path}"), None, body).await
}

/// Asserts a REST error body with `status` and `errorcode`.
pub fn assert_error(reply: &(StatusCode, Value), status: StatusCode, errorcode: i64) {
    assert_eq!(reply.0, status, "{}", reply.1);
    assert_eq!(reply.1["errorcode"], errorcode, "{}", reply.1);
    assert!(reply.1["message"].is_string(), "{}", reply.1);
    assert!(reply.1["documentation"].is_string(), "{}", reply.1);
}
