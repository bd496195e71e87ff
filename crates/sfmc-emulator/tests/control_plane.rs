//! The `/_emulator/` control plane against a running emulator: stats, faults (count, 429
//! shape, clearing, bad bodies) and the server lifecycle.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sfmc_emulator::{Fault, FaultTarget, Stats};

#[tokio::test]
async fn stats_count_token_and_api_requests() {
    let emu = emulator().await;
    access_token(&emu, None).await;
    let token = access_token(&emu, Some("100000002")).await;
    let mut bad = credentials();
    bad["client_secret"] = json!("wrong");
    post_token(&emu, &bad).await;
    bad["client_id"] = json!("stranger");
    post_token(&emu, &bad).await;
    for path in ["/v2/userinfo", "/platform/v1/tokenContext", "/nothing/here"] {
        get(&emu, path, Some(&token)).await;
    }
    get(&emu, "/v2/token", None).await; // not a token request: a GET
    get(&emu, "/_emulator/faults", None).await; // control requests are not counted

    let expected = Stats {
        token_requests: 4,
        api_requests: 4,
        token_requests_by_client: [("demo-client-id".to_owned(), 3)].into_iter().collect(),
        tokens_issued: 2,
    };
    assert_eq!(emu.stats(), expected);
    let (status, json) = get(&emu, "/_emulator/stats", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json, serde_json::to_value(&expected).unwrap());
    assert_eq!(
        json,
        json!({"token_requests": 4, "api_requests": 4, "token_requests_by_client": {"demo-client-id": 3}, "tokens_issued": 2})
    );
}

#[tokio::test]
async fn token_faults_fail_the_next_n_requests() {
    let emu = emulator().await;
    assert_eq!(
        control(
            &emu,
            "POST",
            "faults",
            Some(json!({"target": "token", "status": 503, "count": 2}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    for _ in 0..2 {
        let (status, json) = post_token(&emu, &credentials()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json["message"], "Service Unavailable");
        assert!(json["documentation"].is_string());
    }
    assert_eq!(post_token(&emu, &credentials()).await.0, StatusCode::OK);
    // Failed token requests still count, for their client too.
    let stats = emu.stats();
    assert_eq!((stats.token_requests, stats.tokens_issued), (3, 1));
    assert_eq!(stats.token_requests_by_client["demo-client-id"], 3);
}

#[tokio::test]
async fn rate_limit_faults_carry_retry_after() {
    let emu = emulator().await;
    let token = access_token(&emu, None).await;
    let expected = json!({
        "message": "Rate limit exceeded",
        "errorcode": 50100,
        "documentation": "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm",
        "retryAfter": 5,
    });
    emu.add_fault(Fault {
        target: FaultTarget::Api,
        status: Some(429),
        count: 1,
        delay_ms: 0,
        ..Fault::default()
    });
    control(
        &emu,
        "POST",
        "faults",
        Some(json!({"target": "token", "status": 429})),
    )
    .await;
    let api = client()
        .get(format!("{}/platform/v1/tokenContext", emu.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let token_response = client()
        .post(format!("{}/v2/token", emu.url()))
        .json(&credentials())
        .send()
        .await
        .unwrap();
    for response in [api, token_response] {
        assert_eq!(response.headers()["retry-after"], "5");
        assert_eq!(
            status_json(response).await,
            (StatusCode::TOO_MANY_REQUESTS, expected.clone())
        );
    }
    // count defaulted to 1: both endpoints answer normally again.
    assert_eq!(
        get(&emu, "/platform/v1/tokenContext", Some(&token)).await.0,
        StatusCode::OK
    );
    assert_eq!(post_token(&emu, &credentials()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn api_faults_come_before_authentication_and_can_be_cleared() {
    let emu = emulator().await;
    control(
        &emu,
        "POST",
        "faults",
        Some(json!({"target": "api", "status": 500, "count": 3})),
    )
    .await;
    control(
        &emu,
        "POST",
        "faults",
        Some(json!({"target": "api", "status": 401, "count": 1})),
    )
    .await;
    let (_, pending) = get(&emu, "/_emulator/faults", None).await;
    assert_eq!(
        pending,
        json!([
            {"target": "api", "status": 500, "count": 3, "delay_ms": 0},
            {"target": "api", "status": 401, "count": 1, "delay_ms": 0},
        ])
    );
    let (status, json) = get(&emu, "/anything", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(json["errorcode"], 500);
    assert_eq!(emu.handle().pending_faults()[0].count, 2);

    let response = client()
        .delete(format!("{}/_emulator/faults", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&emu, "/_emulator/faults", None).await.1, json!([]));
    let token = access_token(&emu, None).await;
    assert_eq!(
        get(&emu, "/v2/userinfo", Some(&token)).await.0,
        StatusCode::OK
    );

    // An injected 401 looks like the live one.
    emu.add_fault(Fault {
        target: FaultTarget::Api,
        status: Some(401),
        count: 1,
        delay_ms: 0,
        ..Fault::default()
    });
    assert_eq!(
        get(&emu, "/v2/userinfo", Some(&token)).await,
        (StatusCode::UNAUTHORIZED, not_authorized())
    );
    assert_eq!(
        get(&emu, "/v2/userinfo", Some(&token)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn invalid_control_bodies_name_the_field() {
    let emu = emulator().await;
    for (body, field) in [
        (json!({"status": 503}), "target"),
        (json!({"target": "everything"}), "target"),
        (json!({"target": "api", "status": 42}), "status"),
        (json!({"target": "api", "count": 0}), "count"),
        (json!({"target": "api", "delay_ms": -5}), "delay_ms"),
        (json!({"target": "api", "delay": 5}), "body"),
        (json!("api"), "body"),
    ] {
        let (status, json) = control(&emu, "POST", "faults", Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json["field"], field, "{body}");
        assert!(
            json["message"].as_str().unwrap().contains(field) || field == "body",
            "{json}"
        );
    }
    assert_eq!(get(&emu, "/_emulator/faults", None).await.1, json!([]));
    assert_eq!(
        get(&emu, "/_emulator/nope", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&emu, "/_emulator/revoke", None).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(emu.stats().api_requests, 0);
}

#[tokio::test]
async fn url_and_shutdown() {
    let emu = emulator().await;
    let url = emu.url();
    assert_eq!(url, format!("http://127.0.0.1:{}", emu.addr().port()));
    assert_ne!(emu.addr().port(), 0);
    // One pooled client before and after: shutdown also closes its kept-alive connection.
    let pooled = client();
    let stats_url = format!("{url}/_emulator/stats");
    assert!(
        pooled
            .get(&stats_url)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    access_token(&emu, None).await;
    let handle = emu.handle();
    emu.shutdown().await;
    assert!(pooled.get(&stats_url).send().await.is_err());
    assert_eq!(handle.stats().tokens_issued, 1);

    // Dropping stops the server too.
    let emu = emulator().await;
    let url = emu.url();
    drop(emu);
    tokio::task::yield_now().await;
    assert!(
        client()
            .get(format!("{url}/_emulator/stats"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn hostile_input_does_not_break_the_server() {
    let emu = emulator().await;
    let token_url = format!("{}/v2/token", emu.url());
    let huge_scope = "x ".repeat(500_000);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"\xff\xfe".to_vec()),
        ("application/x-www-form-urlencoded", b"%%%&&&==".to_vec()),
        ("application/x-www-form-urlencoded", b"scope=%FF%FE".to_vec()),
        ("text/plain", Vec::new()),
        ("application/json", json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scope": huge_scope}).to_string().into_bytes()),
        ("application/json", json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "account_id": 1.5e300}).to_string().into_bytes()),
    ];
    for (content_type, body) in bodies {
        let response = client()
            .post(&token_url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error() || response.status().is_success());
    }
    for auth in [
        "Bearer",
        "Bearer \t x",
        &format!("Bearer {}", "é".repeat(256)),
    ] {
        let response = client()
            .get(format!("{}/v2/userinfo", emu.url()))
            .header("authorization", auth.as_bytes())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        get(&emu, "/%2F%2e%2e/%ZZ", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(access_token(&emu, None).await.len(), 512);
}
