//! Faults with `"target":"api"` on the REST families: statuses, the two 429s (50100 with
//! `Retry-After`, 50200 without), an `errorcode` on other statuses, and delays on tokio time.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sfmc_emulator::{EmulatorConfig, Fault, FaultTarget, router};

#[tokio::test]
async fn api_faults_hit_the_families_in_order() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    for fault in [
        json!({"target": "api", "status": 503}),
        json!({"target": "api", "status": 429}),
        json!({"target": "api", "status": 429, "errorcode": 50200}),
        json!({"target": "api", "status": 400, "errorcode": 10000}),
    ] {
        assert_eq!(
            control(&emu, "POST", "faults", Some(fault)).await.0,
            StatusCode::NO_CONTENT
        );
    }
    let (_, listed) = control(&emu, "GET", "faults", None).await;
    assert_eq!(listed[2]["errorcode"], 50200);
    assert!(listed[0].get("errorcode").is_none());

    let path = format!("{}/hub/v1/campaigns", emu.url());
    let send = || client().get(&path).bearer_auth(&t).send();
    let unavailable = send().await.unwrap();
    assert_error(
        &status_json(unavailable).await,
        StatusCode::SERVICE_UNAVAILABLE,
        503,
    );

    let limited = send().await.unwrap();
    assert_eq!(limited.headers()[header::RETRY_AFTER.as_str()], "5");
    let limited = status_json(limited).await;
    assert_error(&limited, StatusCode::TOO_MANY_REQUESTS, 50100);
    assert_eq!(limited.1["retryAfter"], 5);

    let blocked = send().await.unwrap();
    assert!(
        blocked
            .headers()
            .get(header::RETRY_AFTER.as_str())
            .is_none()
    );
    let blocked = status_json(blocked).await;
    assert_error(&blocked, StatusCode::TOO_MANY_REQUESTS, 50200);
    assert_eq!(
        blocked.1["message"],
        "Your requests are temporarily blocked."
    );
    assert!(blocked.1.get("retryAfter").is_none());

    assert_error(
        &status_json(send().await.unwrap()).await,
        StatusCode::BAD_REQUEST,
        10000,
    );
    assert_eq!(send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn the_blocked_throttle_applies_to_writes_and_tokens_too() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let fault = Fault {
        target: FaultTarget::Api,
        status: Some(429),
        count: 1,
        delay_ms: 0,
        errorcode: Some(50200),
    };
    emu.add_fault(fault.clone());
    let reply = call(
        &emu,
        "POST",
        "/data/v1/async/dataextensions/key:x/rows",
        &t,
        Some(json!({"items": []})),
    )
    .await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, 50200);
    emu.add_fault(Fault {
        target: FaultTarget::Token,
        ..fault
    });
    let (status, body) = post_token(&emu, &credentials()).await;
    assert_eq!(
        (status, body["errorcode"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!(50200))
    );
    let (status, error) = control(
        &emu,
        "POST",
        "faults",
        Some(json!({"target": "api", "errorcode": "50200"})),
    )
    .await;
    assert_eq!(
        (status, error["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("errorcode"))
    );
}

#[tokio::test(start_paused = true)]
async fn delays_on_api_routes_use_tokio_time() {
    let (app, handle) = router(EmulatorConfig::demo());
    let body = json!({"grant_type": "client_credentials", "client_id": "demo-client-id", "client_secret": "demo-client-secret"});
    let token_request = Request::post("/v2/token")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (_, token) = oneshot(&app, token_request).await;
    let token = token["access_token"].as_str().unwrap().to_owned();
    handle.add_fault(Fault {
        target: FaultTarget::Api,
        status: None,
        count: 1,
        delay_ms: 60_000,
        ..Fault::default()
    });
    let request = Request::get("/hub/v1/campaigns")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let mut call = Box::pin(oneshot(&app, request));
    assert!(
        tokio::time::timeout(Duration::from_secs(59), &mut call)
            .await
            .is_err()
    );
    let (status, list) = call.await;
    assert_eq!((status, list["count"].clone()), (StatusCode::OK, json!(0)));
}

#[tokio::test(start_paused = true)]
async fn a_caller_dropped_during_a_delayed_fault_leaves_the_emulator_serving() {
    let (app, handle) = router(EmulatorConfig::demo());
    handle.add_fault(Fault {
        status: Some(503),
        delay_ms: 60_000,
        count: 1,
        ..Fault::default()
    });
    let request = || {
        Request::get("/platform/v1/tokenContext")
            .body(Body::empty())
            .unwrap()
    };
    let dropped = tokio::time::timeout(Duration::from_secs(1), oneshot(&app, request())).await;
    assert!(
        dropped.is_err(),
        "the delayed call is still waiting when dropped"
    );
    // The fault was used up by the dropped call; the next request is answered at once.
    assert!(handle.pending_faults().is_empty());
    let (status, body) = tokio::time::timeout(Duration::ZERO, oneshot(&app, request()))
        .await
        .expect("answered without waiting");
    assert_eq!(
        (status, body["message"].clone()),
        (StatusCode::UNAUTHORIZED, json!("Not Authorized"))
    );
    assert_eq!(handle.stats().api_requests, 2);
}
