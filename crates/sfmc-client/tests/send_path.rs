//! The one send path against a scripted server, on paused tokio time: the 401 retry, rate
//! limits, blocks, 5xx retries by idempotency, the deadline, business units, and cancellation.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sfmc_client::{ClientConfig, ClientError, RetryPolicy};
use support::{Reply, Server};

#[tokio::test(start_paused = true)]
async fn a_401_invalidates_the_token_and_retries_once() {
    let server = Server::scripted(vec![
        Reply::error(401, 0, "Not Authorized"),
        Reply::json(200, json!({"ok": true})),
    ])
    .await;
    let (client, tokens) = server.client();
    let answer = client
        .request(Method::POST, "/hub/v1/campaigns")
        .json(json!({"name": "x"}))
        .send_json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"ok": true}));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].authorization, "Bearer token-1-own");
    assert_eq!(seen[1].authorization, "Bearer token-2-own");
    assert_eq!(seen[1].body, r#"{"name":"x"}"#);
    assert_eq!(tokens.issued(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_second_401_is_a_rejection() {
    let server = Server::scripted(vec![
        Reply::error(401, 0, "Not Authorized"),
        Reply::error(401, 0, "Not Authorized"),
    ])
    .await;
    let (client, tokens) = server.client();
    let error = client
        .request(Method::GET, "/hub/v1/campaigns")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_rejection(), "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(
        error.api_error().unwrap().body.message.as_deref(),
        Some("Not Authorized")
    );
    assert_eq!(server.seen().len(), 2);
    assert_eq!(tokens.issued(), 2);
    assert!(!error.to_string().contains("token-"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn rate_limits_wait_for_retry_after_even_on_post() {
    let server = Server::scripted(vec![
        Reply::error(429, 50100, "Rate limit exceeded").with_retry_after("5"),
        Reply::json(201, json!({"id": "1"})),
    ])
    .await;
    let (client, _) = server.client();
    let answer = client
        .request(Method::POST, "/hub/v1/campaigns")
        .json(json!({}))
        .send_json()
        .await
        .unwrap();
    assert_eq!(answer["id"], "1");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].at;
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_millis(5100),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn temporarily_blocked_is_not_retried() {
    let server = Server::scripted(vec![Reply::error(
        429,
        50200,
        "Your requests are temporarily blocked.",
    )])
    .await;
    let (client, _) = server.client();
    let error = client
        .request(Method::GET, "/hub/v1/campaigns")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Blocked { .. }), "{error:?}");
    assert!(error.is_unavailable());
    assert!(error.to_string().contains("temporarily blocked"), "{error}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_503_is_retried_on_get_but_not_on_post() {
    let server = Server::scripted(vec![
        Reply::error(503, 503, "Service Unavailable"),
        Reply::error(503, 503, "Service Unavailable"),
        Reply::json(200, json!({"items": []})),
        Reply::error(503, 503, "Service Unavailable"),
    ])
    .await;
    let (client, _) = server.client();
    client
        .request(Method::GET, "/hub/v1/campaigns")
        .send()
        .await
        .unwrap();
    assert_eq!(server.seen().len(), 3);
    let error = client
        .request(Method::POST, "/hub/v1/campaigns")
        .json(json!({}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::ServiceFailure(_)), "{error:?}");
    assert!(error.is_unavailable());
    assert_eq!(server.seen().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_after_max_attempts() {
    let server = Server::answering(|_| Reply::error(500, 500, "Internal Server Error")).await;
    let (client, _) = server.client();
    let error = client.request(Method::GET, "/x").send().await.unwrap_err();
    assert!(matches!(error, ClientError::ServiceFailure(_)), "{error:?}");
    assert_eq!(
        server.seen().len(),
        RetryPolicy::default().max_attempts as usize
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_a_stalled_answer() {
    let server = Server::scripted(vec![Reply::stall()]).await;
    let config = ClientConfig {
        deadline: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    let (client, _) = server.client_with(config);
    let error = client
        .request(Method::GET, "/slow")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::Deadline { after, last: None } if after == Duration::from_secs(10)),
        "{error:?}"
    );
    assert!(error.is_unavailable());
}

/// Tokio time (paused in these tests) since `since`.
#[allow(clippy::disallowed_methods)] // paused tokio time, advanced by the runtime
fn elapsed(since: tokio::time::Instant) -> Duration {
    since.elapsed()
}

#[allow(clippy::disallowed_methods)] // paused tokio time, advanced by the runtime
fn now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

#[tokio::test(start_paused = true)]
async fn a_wait_past_the_deadline_is_not_started_and_the_last_failure_is_named() {
    let server = Server::answering(|_| {
        Reply::error(429, 50100, "Rate limit exceeded").with_retry_after("30")
    })
    .await;
    let config = ClientConfig {
        deadline: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    let (client, _) = server.client_with(config);
    let started = now();
    let error = client.request(Method::GET, "/x").send().await.unwrap_err();
    // Before: the call slept until the deadline. Now it fails at once.
    assert!(
        elapsed(started) < Duration::from_millis(100),
        "{:?}",
        elapsed(started)
    );
    let ClientError::Deadline {
        last: Some(last), ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert!(
        matches!(**last, ClientError::RateLimited { .. }),
        "{last:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert!(error.to_string().contains("Rate limit exceeded"), "{error}");
    assert!(error.is_unavailable());
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_zero_still_waits_the_first_backoff_step() {
    let server = Server::scripted(vec![
        Reply::error(429, 50100, "Rate limit exceeded").with_retry_after("0"),
        Reply::json(200, json!({})),
    ])
    .await;
    let (client, _) = server.client();
    client.request(Method::GET, "/x").send().await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].at;
    let initial = RetryPolicy::default().initial_backoff;
    assert!(
        waited >= initial && waited < initial + Duration::from_millis(100),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_errors_keep_the_wait_asked_for() {
    // Retried until the attempts run out: the last 429's Retry-After is kept.
    let server = Server::answering(|_| {
        Reply::error(429, 50100, "Rate limit exceeded").with_retry_after("1")
    })
    .await;
    let (client, _) = server.client();
    let error = client.request(Method::GET, "/x").send().await.unwrap_err();
    assert!(
        matches!(error, ClientError::RateLimited { .. }),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(
        server.seen().len(),
        RetryPolicy::default().max_attempts as usize
    );
    assert!(error.to_string().contains("Retry-After 1 s"), "{error}");
    // Never retried: the block's Retry-After is kept.
    let server = Server::scripted(vec![
        Reply::error(429, 50200, "Your requests are temporarily blocked.").with_retry_after("120"),
    ])
    .await;
    let (client, _) = server.client();
    let error = client.request(Method::GET, "/x").send().await.unwrap_err();
    assert!(matches!(error, ClientError::Blocked { .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_call_leaves_nothing_in_flight() {
    let server = Server::scripted(vec![Reply::stall()]).await;
    let (client, _) = server.client();
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    tokio::select! {
        result = client.request(Method::GET, "/slow").send() => panic!("a stalled call answered: {result:?}"),
        () = server.stalls.started.notified() => {}
    }
    // The call is dropped: the connection closes and the server's handler is dropped with it.
    while server.stalls.in_flight.load(Ordering::SeqCst) != 0 {
        server.stalls.dropped.notified().await;
    }
    tokio::task::yield_now().await;
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        tasks_before
    );
}

#[tokio::test(start_paused = true)]
async fn each_business_unit_has_its_own_token() {
    let server = Server::answering(|_| Reply::json(200, json!({}))).await;
    let (client, tokens) = server.client();
    let child = client.for_account("100000002").unwrap();
    assert_eq!(child.account_id(), Some("100000002"));
    client.request(Method::GET, "/a").send().await.unwrap();
    child.request(Method::GET, "/b").send().await.unwrap();
    child.request(Method::GET, "/c").send().await.unwrap();
    let auth: Vec<_> = server.seen().into_iter().map(|s| s.authorization).collect();
    assert_eq!(
        auth,
        [
            "Bearer token-1-own",
            "Bearer token-2-100000002",
            "Bearer token-2-100000002"
        ]
    );
    assert_eq!(tokens.issued(), 2);
    let error = client.for_account("not a mid").unwrap_err();
    assert!(error.is_invalid_input(), "{error}");
}

#[tokio::test(start_paused = true)]
async fn paths_that_leave_the_instance_url_are_refused_before_sending() {
    let server = Server::answering(|_| Reply::json(200, json!({}))).await;
    let (client, _) = server.client();
    for path in [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/hub/../v2/token",
    ] {
        let error = client.request(Method::GET, path).send().await.unwrap_err();
        assert!(error.is_invalid_input(), "{path}: {error}");
    }
    assert!(server.seen().is_empty());
}

#[tokio::test(start_paused = true)]
async fn errors_keep_status_and_rest_body() {
    let server = Server::scripted(vec![Reply::json(
        400,
        json!({"message": "Validation error", "errorcode": 10006, "documentation": "d", "validationErrors": [{"message": "name is required", "errorcode": 10002}]}),
    )])
    .await;
    let (client, _) = server.client();
    let error = client
        .request(Method::POST, "/hub/v1/campaigns")
        .json(json!({}))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_rejection());
    let api = error.api_error().unwrap();
    assert_eq!(api.status.as_u16(), 400);
    assert_eq!(api.body.errorcode, Some(10006));
    assert_eq!(api.body.detail_messages(), ["name is required"]);
}
