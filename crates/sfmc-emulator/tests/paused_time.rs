//! Time-dependent behaviour, driven through the router with `tower::ServiceExt::oneshot` on
//! paused tokio time (no sockets, so paused time cannot skip ahead while waiting for I/O).
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use sfmc_emulator::{EmulatorConfig, Fault, FaultTarget, router};

mod common;

use common::oneshot as call;

async fn token(app: &Router) -> String {
    let body = json!({"grant_type": "client_credentials", "client_id": "demo-client-id", "client_secret": "demo-client-secret"});
    let request = Request::post("/v2/token")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "spoofed.example")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, json) = call(app, request).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    // Embedded without a listen address or public URL: never the request's Host.
    assert_eq!(json["rest_instance_url"], "http://localhost/");
    json["access_token"].as_str().unwrap().to_owned()
}

fn context(token: &str) -> Request<Body> {
    Request::get("/platform/v1/tokenContext")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn tokens_expire_after_their_lifetime() {
    let mut config = EmulatorConfig::demo();
    config.token_ttl_secs = 10;
    let (app, _handle) = router(config);
    let token = token(&app).await;
    assert_eq!(call(&app, context(&token)).await.0, StatusCode::OK);
    tokio::time::advance(Duration::from_millis(9_999)).await;
    assert_eq!(call(&app, context(&token)).await.0, StatusCode::OK);
    tokio::time::advance(Duration::from_millis(1)).await;
    let (status, json) = call(&app, context(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json["message"], "Not Authorized");
}

#[tokio::test(start_paused = true)]
async fn default_lifetime_is_1079_seconds() {
    let (app, _handle) = router(EmulatorConfig::default());
    let token = token(&app).await;
    tokio::time::advance(Duration::from_secs(1078)).await;
    assert_eq!(call(&app, context(&token)).await.0, StatusCode::OK);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        call(&app, context(&token)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(start_paused = true)]
#[allow(clippy::disallowed_methods)] // reading the paused tokio clock is what this test checks
async fn fault_delays_use_tokio_time() {
    let (app, handle) = router(EmulatorConfig::demo());
    let token = token(&app).await;
    handle.add_fault(Fault {
        target: FaultTarget::Api,
        status: None,
        count: 1,
        delay_ms: 30_000,
        ..Fault::default()
    });
    handle.add_fault(Fault {
        target: FaultTarget::Api,
        status: Some(503),
        count: 1,
        delay_ms: 5_000,
        ..Fault::default()
    });

    let start = tokio::time::Instant::now();
    assert_eq!(call(&app, context(&token)).await.0, StatusCode::OK);
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    assert_eq!(
        call(&app, context(&token)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(start.elapsed(), Duration::from_secs(35));
    assert_eq!(call(&app, context(&token)).await.0, StatusCode::OK);
    assert_eq!(start.elapsed(), Duration::from_secs(35));
    assert_eq!(handle.stats().api_requests, 3);
}
