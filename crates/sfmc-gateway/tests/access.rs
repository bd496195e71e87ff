//! Inbound API keys (required off loopback, accepted in either header, refused otherwise, never
//! forwarded), browser requests for pages of other sites refused without keys, a router mounted
//! beside the gateway's routes (behind the same keys and metrics, its bodies held to
//! `max_body_bytes`), and the bounded graceful shutdown.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use axum::routing::get;
use sfmc_auth::config::{ApiKeys, ServerConfig, hash_api_key};
use sfmc_gateway::{Gateway, GatewayError};
use support::{Upstream, connections, manager, raw, start_server, start_with, trickled_post};

fn keyed() -> ServerConfig {
    let digest = hash_api_key("inbound-key-1");
    ServerConfig {
        api_keys: ApiKeys::parse([digest.as_str()]).unwrap(),
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn a_listener_off_loopback_needs_api_keys() {
    let upstream = Upstream::start().await;
    let gateway = Gateway::new(
        connections(&upstream, manager(None)),
        &ServerConfig::default(),
    )
    .unwrap();
    let refused = gateway
        .bind("0.0.0.0:0".parse().unwrap())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(refused, GatewayError::InsecureListener(_)),
        "{refused}"
    );
    assert!(refused.to_string().contains("api_keys"), "{refused}");
    let refused_v6 = Gateway::new(
        connections(&upstream, manager(None)),
        &ServerConfig::default(),
    )
    .unwrap()
    .bind("[::]:0".parse().unwrap())
    .await
    .err()
    .unwrap();
    assert!(matches!(refused_v6, GatewayError::InsecureListener(_)));
}

#[tokio::test]
async fn api_keys_are_required_accepted_and_never_forwarded() {
    let upstream = Upstream::start().await;
    let gateway = start_server(&upstream, keyed()).await;
    let path = gateway.url("/connections/demo/rest/platform/v1/tokenContext");
    let none = gateway.http.get(&path).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = none.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    for (name, value) in [
        ("x-api-key", "inbound-key-2"),
        ("authorization", "Bearer inbound-key-2"),
        ("authorization", "Basic inbound-key-1"),
    ] {
        let wrong = gateway
            .http
            .get(&path)
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{name}: {value}");
    }
    assert!(upstream.seen().is_empty(), "refused requests go nowhere");

    let bearer = gateway
        .http
        .get(&path)
        .bearer_auth("inbound-key-1")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    let header = gateway
        .http
        .get(&path)
        .header("X-Api-Key", "inbound-key-1")
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    for seen in upstream.api_seen() {
        assert!(seen.headers.get("x-api-key").is_none());
        let authorization = seen.headers["authorization"].to_str().unwrap();
        assert!(!authorization.contains("inbound-key-1"));
    }
    // The health probe needs no key; the metrics page does.
    assert_eq!(gateway.get("/healthz").await.status(), 200);
    assert_eq!(gateway.get("/metrics").await.status(), 401);
    let metrics = gateway.get_with_key("/metrics", "inbound-key-1").await;
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("route=\"unauthorized\",status=\"401\"} 5\n"),
        "{text}"
    );
}

#[tokio::test]
async fn without_keys_pages_of_other_sites_cannot_use_the_gateway() {
    let upstream = Upstream::start().await;
    let gateway = start_server(&upstream, ServerConfig::default()).await;
    let operation = gateway.url("/connections/demo/operations/createCampaign");
    let post = |headers: &[(&'static str, &'static str)]| {
        let mut request = gateway
            .http
            .post(&operation)
            .header("content-type", "text/plain")
            .body(r#"{"name":"from a page"}"#);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (status, body["error"].as_str().unwrap_or("").to_owned())
        }
    };
    // A form or fetch of a page from another site; DNS rebinding (a foreign name for 127.0.0.1).
    for (headers, error) in [
        (
            &[("origin", "https://evil.example")][..],
            "cross_site_request",
        ),
        (&[("origin", "null")], "cross_site_request"),
        (&[("sec-fetch-site", "cross-site")], "cross_site_request"),
        (&[("host", "rebound.evil.example:8290")], "forbidden_host"),
    ] {
        assert_eq!(post(headers).await, (403, error.to_owned()), "{headers:?}");
    }
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
    // Services, and pages served from this machine, are callers.
    assert_eq!(post(&[]).await.0, 200);
    assert_eq!(post(&[("origin", "http://localhost:3000")]).await.0, 200);
    assert_eq!(post(&[("host", "localhost")]).await.0, 200);
    assert_eq!(gateway.get("/healthz").await.status(), 200);

    // With keys, the key is the guard, whatever the Host.
    let keyed = start_server(&upstream, keyed()).await;
    let answer = keyed
        .http
        .get(keyed.url("/connections/demo/rest/platform/v1/tokenContext"))
        .header("host", "gateway.internal:8290")
        .bearer_auth("inbound-key-1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn a_mounted_router_is_behind_the_same_keys_and_metrics() {
    let upstream = Upstream::start().await;
    let mcp = axum::Router::new()
        .route("/", get(|| async { "mcp here" }))
        .route("/tools", get(|| async { "tools" }));
    let gateway = start_with(
        connections(&upstream, manager(None)),
        keyed(),
        vec![("/mcp", mcp)],
    )
    .await;
    assert_eq!(gateway.get("/mcp").await.status(), 401);
    let answer = gateway.get_with_key("/mcp", "inbound-key-1").await;
    assert_eq!(answer.text().await.unwrap(), "mcp here");
    let tools = gateway.get_with_key("/mcp/tools", "inbound-key-1").await;
    assert_eq!(tools.text().await.unwrap(), "tools");
    let metrics = gateway.get_with_key("/metrics", "inbound-key-1").await;
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            "sfmc_gateway_requests_total{connection=\"\",route=\"/mcp\",status=\"200\"} 2\n"
        ),
        "{text}"
    );
    assert!(
        Gateway::new(
            connections(&upstream, manager(None)),
            &ServerConfig::default()
        )
        .unwrap()
        .mount("mcp", axum::Router::new())
        .is_err()
    );
}

#[tokio::test]
async fn a_mounted_routers_bodies_are_held_to_max_body_bytes() {
    let upstream = Upstream::start().await;
    // As rmcp reads a body: a body that fails to be read is a 500 of its own.
    let echo = axum::Router::new().route(
        "/",
        axum::routing::post(|body: axum::body::Body| async move {
            use axum::response::IntoResponse;
            match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => bytes.into_response(),
                Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }),
    );
    let server = ServerConfig {
        max_body_bytes: 1000,
        ..ServerConfig::default()
    };
    let gateway = start_with(
        connections(&upstream, manager(None)),
        server,
        vec![("/mcp", echo)],
    )
    .await;
    let small = gateway
        .http
        .post(gateway.url("/mcp"))
        .body("x".repeat(1000))
        .send()
        .await
        .unwrap();
    assert_eq!(small.text().await.unwrap().len(), 1000);
    let declared = gateway
        .http
        .post(gateway.url("/mcp"))
        .body("x".repeat(1001))
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    let body: serde_json::Value = declared.json().await.unwrap();
    assert_eq!(body["error"], "body_too_large");
    let chunks = futures_util::stream::iter(
        (0..20).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from_static(&[b'x'; 100]))),
    );
    let streamed = gateway
        .http
        .post(gateway.url("/mcp"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(
        streamed.status(),
        413,
        "a chunked body past the limit is refused before the mounted router reads it"
    );
    let body: serde_json::Value = streamed.json().await.unwrap();
    assert_eq!(body["error"], "body_too_large");
}

#[tokio::test]
async fn a_mounted_routers_body_that_does_not_arrive_in_time_is_408() {
    let upstream = Upstream::start().await;
    let echo =
        axum::Router::new().route("/", axum::routing::post(|body: String| async move { body }));
    let server = ServerConfig {
        upstream_timeout: std::time::Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let gateway = start_with(
        connections(&upstream, manager(None)),
        server,
        vec![("/mcp", echo)],
    )
    .await;
    let (status, body) = trickled_post(gateway.addr, "/mcp").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (408, Some("body_timeout")),
        "{body}"
    );
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_and_stops_accepting() {
    let upstream = Upstream::start().await;
    let gateway = start_server(&upstream, ServerConfig::default()).await;
    assert_eq!(
        gateway
            .get("/connections/demo/rest/platform/v1/tokenContext")
            .await
            .status(),
        200
    );
    upstream.hold("/platform/");
    let addr = gateway.addr;
    let in_flight = tokio::spawn(async move {
        raw(
            addr,
            "GET",
            "/connections/demo/rest/platform/v1/tokenContext",
        )
        .await
    });
    upstream.held(1).await;
    let stopping = tokio::spawn(gateway.shutdown());
    // New connections are refused once the listener is closed.
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the listener closes");
    upstream.release();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{body}");
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_is_bounded_by_the_grace_period() {
    let upstream = Upstream::start().await;
    let server = ServerConfig {
        shutdown_grace: std::time::Duration::ZERO,
        ..ServerConfig::default()
    };
    let gateway = start_server(&upstream, server).await;
    upstream.hold("/platform/");
    let addr = gateway.addr;
    let cut = tokio::spawn(async move {
        raw(
            addr,
            "GET",
            "/connections/demo/rest/platform/v1/tokenContext",
        )
        .await
    });
    upstream.held(1).await;
    gateway.shutdown().await.unwrap();
    assert!(cut.await.is_err(), "the request in flight was cut");
    upstream.release();
}
