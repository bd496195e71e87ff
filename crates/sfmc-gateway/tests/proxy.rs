//! The REST proxy end to end against the emulator: methods, bodies and queries kept; business
//! units switched per request; credentials of the caller never forwarded; every escape form
//! refused before anything is sent; the 401 replay rule; the body limit.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use serde_json::{Value, json};
use sfmc_auth::config::ServerConfig;
use sfmc_emulator::{DEMO_ACCOUNT_ID, DEMO_CHILD_ACCOUNT_ID};
use support::{Upstream, raw, start, start_server};

#[tokio::test]
async fn proxies_every_method_with_bodies_and_queries() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    let campaigns = gateway.url("/connections/demo/rest/hub/v1/campaigns");

    let created = gateway
        .http
        .post(&campaigns)
        .json(&json!({"name": "Summer", "description": "d"}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Summer");

    let patched = gateway
        .http
        .patch(format!("{campaigns}/{id}"))
        .json(&json!({"name": "Winter"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let (status, got) = gateway
        .get_json(&format!("/connections/demo/rest/hub/v1/campaigns/{id}"))
        .await;
    assert_eq!((status, got["name"].as_str()), (200, Some("Winter")));

    let (status, page) = gateway
        .get_json("/connections/demo/rest/hub/v1/campaigns?$pageSize=1&$page=1&orderBy=name%20asc")
        .await;
    assert_eq!(status, 200, "{page}");
    let listed = upstream
        .api_seen()
        .into_iter()
        .find(|s| s.uri.contains("pageSize"))
        .unwrap();
    assert_eq!(
        listed.uri,
        "/hub/v1/campaigns?$pageSize=1&$page=1&orderBy=name%20asc"
    );

    let deleted = gateway
        .http
        .delete(format!("{campaigns}/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    // Marketing Cloud's own 404 passes through, status and body.
    let (status, gone) = gateway
        .get_json(&format!("/connections/demo/rest/hub/v1/campaigns/{id}"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(gone["errorcode"], 404, "{gone}");

    let methods: Vec<String> = upstream
        .api_seen()
        .iter()
        .map(|s| s.method.clone())
        .collect();
    assert_eq!(methods, ["POST", "PATCH", "GET", "GET", "DELETE", "GET"]);
    assert_eq!(upstream.token_requests(), 1);
}

#[tokio::test]
async fn token_context_and_business_unit_per_request() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    let (status, own) = gateway
        .get_json("/connections/demo/rest/platform/v1/tokenContext")
        .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(
        own["organization"]["id"].to_string().trim_matches('"'),
        DEMO_ACCOUNT_ID
    );

    let (status, child) = gateway
        .get_json(&format!(
            "/connections/demo/rest/platform/v1/tokenContext?account_id={DEMO_CHILD_ACCOUNT_ID}"
        ))
        .await;
    assert_eq!(status, 200, "{child}");
    assert_eq!(
        child["organization"]["id"].to_string().trim_matches('"'),
        DEMO_CHILD_ACCOUNT_ID
    );
    let forwarded = upstream.api_seen().last().unwrap().uri.clone();
    assert_eq!(
        forwarded, "/platform/v1/tokenContext",
        "account_id is the gateway's, not Marketing Cloud's"
    );

    let by_header = gateway
        .http
        .get(gateway.url("/connections/demo/rest/platform/v1/tokenContext"))
        .header("X-SFMC-Account-Id", DEMO_CHILD_ACCOUNT_ID)
        .send()
        .await
        .unwrap();
    let body: Value = by_header.json().await.unwrap();
    assert_eq!(
        body["organization"]["id"].to_string().trim_matches('"'),
        DEMO_CHILD_ACCOUNT_ID
    );
    assert!(
        upstream
            .api_seen()
            .last()
            .unwrap()
            .headers
            .get("x-sfmc-account-id")
            .is_none()
    );
    // One token per business unit.
    assert_eq!(upstream.token_requests(), 2);

    let (status, bad) = gateway
        .get_json("/connections/demo/rest/platform/v1/tokenContext?account_id=abc")
        .await;
    assert_eq!(
        (status, bad["error"].as_str()),
        (400, Some("invalid_account_id")),
        "{bad}"
    );
    let (status, unreachable) = gateway
        .get_json("/connections/demo/rest/platform/v1/tokenContext?account_id=999999")
        .await;
    assert_eq!(
        (status, unreachable["error"].as_str()),
        (502, Some("token_rejected")),
        "{unreachable}"
    );
}

#[tokio::test]
async fn the_callers_credentials_never_reach_upstream() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    let answer = gateway
        .http
        .get(gateway.url("/connections/demo/rest/platform/v1/tokenContext"))
        .header("Authorization", "Bearer caller-secret-value")
        .header("Cookie", "session=caller-secret-value")
        .header("X-Api-Key", "caller-secret-value")
        .header("Proxy-Authorization", "Basic caller-secret-value")
        .header("Connection", "x-private")
        .header("X-Private", "caller-secret-value")
        .header("X-Request-Id", "r-1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let seen = upstream.api_seen();
    let [request] = seen.as_slice() else {
        panic!("{seen:?}")
    };
    let authorization = request.headers["authorization"].to_str().unwrap();
    assert!(
        authorization.starts_with("Bearer ") && authorization.len() > 100,
        "the emulator's token"
    );
    for (name, value) in &request.headers {
        assert!(
            !value.to_str().unwrap_or("").contains("caller-secret-value"),
            "{name} reached upstream"
        );
    }
    for name in ["cookie", "x-api-key", "proxy-authorization", "x-private"] {
        assert!(
            request.headers.get(name).is_none(),
            "{name} reached upstream"
        );
    }
    assert_eq!(request.headers["x-request-id"], "r-1");
}

#[tokio::test]
async fn escapes_from_the_rest_host_are_refused_before_anything_is_sent() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    for target in [
        "/connections/demo/rest/../../_emulator/stats",
        "/connections/demo/rest/hub/../../v2/token",
        "/connections/demo/rest/%2e%2e/%2e%2e/_emulator/revoke",
        "/connections/demo/rest/%2E%2e/_emulator/stats",
        "/connections/demo/rest/.%2e/_emulator/stats",
        "/connections/demo/rest/hub%2F..%2F..%2F_emulator/stats",
        "/connections/demo/rest/hub%2f_emulator",
        "/connections/demo/rest/hub%5C..%5C_emulator",
        "/connections/demo/rest/http://127.0.0.1:1/_emulator/stats",
        "/connections/demo/rest/https:%2F%2Fevil.example/x",
        "/connections/demo/rest//evil.example/x",
        "/connections/demo/rest/hub/..;/..;/_emulator/stats",
        "/connections/demo/rest/hub/..%3B/_emulator/stats",
    ] {
        for method in ["GET", "POST", "DELETE"] {
            let (status, body) = raw(gateway.addr, method, target).await;
            assert_eq!(status, 400, "{method} {target}: {body}");
            assert!(body.contains("refused_path"), "{method} {target}: {body}");
        }
    }
    // A raw backslash is not even a valid request target.
    let (status, _) = raw(
        gateway.addr,
        "GET",
        "/connections/demo/rest/hub\\..\\_emulator",
    )
    .await;
    assert_eq!(status, 400);
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
    assert_eq!(upstream.handle.stats().api_requests, 0);
}

#[tokio::test]
async fn unknown_connections_are_404() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    let (status, body) = gateway
        .get_json("/connections/nope/rest/platform/v1/tokenContext")
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "unknown_connection");
    assert!(body["message"].as_str().unwrap().contains("demo"), "{body}");
    assert!(upstream.seen().is_empty());
}

#[tokio::test]
async fn a_401_is_replayed_once_for_kept_bodies_and_passed_on_for_streamed_ones() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    let campaigns = gateway.url("/connections/demo/rest/hub/v1/campaigns");
    assert_eq!(
        gateway
            .get("/connections/demo/rest/hub/v1/campaigns")
            .await
            .status(),
        200
    );
    assert_eq!(upstream.token_requests(), 1);

    upstream.handle.revoke_all();
    let kept = gateway
        .http
        .post(&campaigns)
        .json(&json!({"name": "replayed"}))
        .send()
        .await
        .unwrap();
    assert!(kept.status().is_success(), "{}", kept.status());
    assert_eq!(upstream.token_requests(), 2);
    let posts = upstream
        .api_seen()
        .iter()
        .filter(|s| s.method == "POST")
        .count();
    assert_eq!(posts, 2, "sent, 401, sent again");

    upstream.handle.revoke_all();
    let chunks = futures_util::stream::iter([
        Ok::<_, std::io::Error>(bytes::Bytes::from_static(br#"{"name":"#)),
        Ok(bytes::Bytes::from_static(br#""streamed"}"#)),
    ]);
    let streamed = gateway
        .http
        .post(&campaigns)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(
        streamed.status(),
        401,
        "a streamed body cannot be sent again"
    );
    // The token was invalidated: the caller's retry gets a new one.
    assert_eq!(
        gateway
            .get("/connections/demo/rest/hub/v1/campaigns")
            .await
            .status(),
        200
    );
    assert_eq!(upstream.token_requests(), 3);
}

#[tokio::test]
async fn request_bodies_are_limited() {
    let upstream = Upstream::start().await;
    let server = ServerConfig {
        max_body_bytes: 1000,
        ..ServerConfig::default()
    };
    let gateway = start_server(&upstream, server).await;
    let campaigns = gateway.url("/connections/demo/rest/hub/v1/campaigns");
    let big = json!({"name": "x".repeat(2000)}).to_string();
    let declared = gateway
        .http
        .post(&campaigns)
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    let body: Value = declared.json().await.unwrap();
    assert_eq!(body["error"], "body_too_large");
    assert!(upstream.api_seen().is_empty());

    let chunks = futures_util::stream::iter(
        big.into_bytes()
            .chunks(100)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let streamed = gateway
        .http
        .post(&campaigns)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 413);
}
