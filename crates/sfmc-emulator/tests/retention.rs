//! What the emulator keeps to answer later questions is bounded: a business unit keeps its
//! newest 10,000 asynchronous rows requests, sent messages and contact delete requests; older
//! ones answer as unknown. The control plane pages a data extension's rows. Driven through the
//! router in-process, so ten thousand requests stay quick.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use sfmc_emulator::{EmulatorConfig, router};
use tower::ServiceExt;

const KEPT: usize = 10_000;

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 64 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn setup() -> (Router, String) {
    let (app, _handle) = router(EmulatorConfig::demo());
    let credentials = json!({"grant_type": "client_credentials", "client_id": "demo-client-id", "client_secret": "demo-client-secret"});
    let (status, token) = send(&app, "POST", "/v2/token", None, Some(credentials)).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let token = token["access_token"].as_str().unwrap().to_owned();
    (app, token)
}

#[tokio::test]
async fn the_oldest_async_requests_are_forgotten() {
    let (app, t) = setup().await;
    let de = json!({"key": "k", "fields": ["id"], "primaryKeys": ["id"]});
    assert_eq!(
        send(&app, "POST", "/_emulator/dataextensions", None, Some(de))
            .await
            .0,
        StatusCode::CREATED
    );
    let mut ids = Vec::new();
    for i in 0..=KEPT {
        let rows = json!({"items": [{"id": i.to_string()}, {"nope": 1}]});
        let (status, accepted) = send(
            &app,
            "PUT",
            "/data/v1/async/dataextensions/key:k/rows",
            Some(&t),
            Some(rows),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        ids.push(accepted["requestId"].as_str().unwrap().to_owned());
    }
    let status = |id: &str| format!("/data/v1/async/{id}/status");
    let (gone, error) = send(&app, "GET", &status(&ids[0]), Some(&t), None).await;
    assert_eq!(
        (gone, error["errorcode"].clone()),
        (StatusCode::NOT_FOUND, json!(404))
    );
    assert_eq!(
        send(&app, "GET", &status(&ids[1]), Some(&t), None).await.0,
        StatusCode::OK
    );
    let newest = ids.last().unwrap();
    send(&app, "GET", &status(newest), Some(&t), None).await;
    send(&app, "GET", &status(newest), Some(&t), None).await;
    let (ok, results) = send(
        &app,
        "GET",
        &format!("/data/v1/async/{newest}/results"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(ok, StatusCode::OK, "{results}");
    assert_eq!(results["count"], 1);
    assert_eq!(results["items"][0]["errorCode"], "InvalidColumn");
    assert!(
        results["items"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Row 2: "),
        "{results}"
    );
}

#[tokio::test]
async fn the_oldest_sent_messages_are_forgotten() {
    let (app, t) = setup().await;
    let definition = json!({"definitionKey": "otp", "name": "otp", "content": {"message": "Hi"}, "subscriptions": {"shortCode": "12345", "countryCode": "US"}});
    assert_eq!(
        send(
            &app,
            "POST",
            "/messaging/v1/sms/definitions",
            Some(&t),
            Some(definition)
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let mut keys = Vec::new();
    for batch in 0..=(KEPT / 2000) {
        let recipients: Vec<Value> = (0..2000)
            .map(|i| json!({"contactKey": format!("c{i}"), "messageKey": format!("m-{batch}-{i}")}))
            .collect();
        let body = json!({"definitionKey": "otp", "recipients": recipients});
        let (status, sent) = send(
            &app,
            "POST",
            "/messaging/v1/sms/messages",
            Some(&t),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        keys.extend((0..2000).map(|i| format!("m-{batch}-{i}")));
    }
    assert!(keys.len() > KEPT);
    let status = |key: &str| format!("/messaging/v1/sms/messages/{key}");
    let forgotten = keys.len() - KEPT;
    let (gone, error) = send(&app, "GET", &status(&keys[forgotten - 1]), Some(&t), None).await;
    assert_eq!(
        (gone, error["errorcode"].clone()),
        (StatusCode::NOT_FOUND, json!(30003))
    );
    assert_eq!(
        send(&app, "GET", &status(&keys[forgotten]), Some(&t), None)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_oldest_delete_requests_are_forgotten() {
    let (app, t) = setup().await;
    for i in 0..=KEPT {
        let body = json!({"values": [format!("k{i}")], "DeleteOperationType": format!("op-{i}")});
        let (status, reply) = send(
            &app,
            "POST",
            "/contacts/v1/contacts/actions/delete?type=keys",
            Some(&t),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
    let page = |n: usize| {
        format!(
            "/contacts/v1/contacts/analytics/deleterequests?startdateutc=2000-01-01&enddateutc=2999-12-31&$pageSize=1000&$page={n}"
        )
    };
    let (_, first) = send(&app, "GET", &page(1), Some(&t), None).await;
    assert_eq!(first["count"], KEPT);
    assert_eq!(first["operations"][0]["deleteOperationType"], "op-1");
    let (_, last) = send(&app, "GET", &page(KEPT / 1000), Some(&t), None).await;
    assert_eq!(
        last["operations"][999]["deleteOperationType"],
        format!("op-{KEPT}")
    );
}

#[tokio::test]
async fn the_control_plane_pages_rows() {
    let (app, t) = setup().await;
    let de = json!({"key": "k", "fields": ["id", "name"], "primaryKeys": ["id"]});
    send(&app, "POST", "/_emulator/dataextensions", None, Some(de)).await;
    let items: Vec<Value> = (1..=2501).map(|i| json!({"id": i.to_string()})).collect();
    let (status, _) = send(
        &app,
        "PUT",
        "/data/v1/async/dataextensions/key:k/rows",
        Some(&t),
        Some(json!({"items": items})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, first) = send(&app, "GET", "/_emulator/dataextensions/k/rows", None, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        (
            first["count"].clone(),
            first["page"].clone(),
            first["pageSize"].clone()
        ),
        (json!(2501), json!(1), json!(2500))
    );
    assert_eq!(first["items"].as_array().unwrap().len(), 2500);
    let (_, second) = send(
        &app,
        "GET",
        "/_emulator/dataextensions/k/rows?page=2",
        None,
        None,
    )
    .await;
    assert_eq!(second["items"], json!([{"id": "2501"}]));
    let (_, small) = send(
        &app,
        "GET",
        "/_emulator/dataextensions/k/rows?pageSize=2&page=3",
        None,
        None,
    )
    .await;
    assert_eq!(small["items"], json!([{"id": "5"}, {"id": "6"}]));
    let (status, bad) = send(
        &app,
        "GET",
        "/_emulator/dataextensions/k/rows?pageSize=0",
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, bad["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("pageSize"))
    );
}
