//! Marketing Cloud failing behind the proxy and the operations: no answer in time → 504, an
//! unreachable REST host → 502, a 5xx after the client's retries → 502, a body the gateway
//! reads itself not arriving in time → 408, a kept-alive connection closed before answering →
//! sent again only when safe; the JSON errors name what happened and nothing of the request.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use sfmc_auth::config::ServerConfig;
use sfmc_emulator::{EmulatorConfig, Fault, FaultTarget};
use support::{Upstream, start, start_server, trickled_post};

#[tokio::test]
async fn no_answer_within_the_upstream_timeout_is_504() {
    let upstream = Upstream::start().await;
    let server = ServerConfig {
        upstream_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let gateway = start_server(&upstream, server).await;
    assert_eq!(
        gateway
            .get("/connections/demo/rest/platform/v1/tokenContext")
            .await
            .status(),
        200
    );
    upstream.hold("/platform/");
    let (status, body) = gateway
        .get_json("/connections/demo/rest/platform/v1/tokenContext")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("upstream_timeout")),
        "{body}"
    );
    upstream.release();
}

#[tokio::test]
async fn an_unreachable_rest_host_is_502() {
    // Tokens name a REST instance URL where nothing listens: port 1 (a port freed by this test
    // could be taken by the gateway started next, which then answered for it).
    let url = "http://127.0.0.1:1/";
    let upstream = Upstream::start_with(EmulatorConfig::demo().with_public_url(url).unwrap()).await;
    let gateway = start(&upstream).await;
    let (status, body) = gateway
        .get_json("/connections/demo/rest/platform/v1/tokenContext")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("upstream_unavailable")),
        "{body}"
    );
    let failed = gateway
        .http
        .post(gateway.url("/connections/demo/operations/getCampaigns"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 502);
}

#[tokio::test]
async fn server_errors_pass_through_the_proxy_and_are_502_for_operations() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    assert_eq!(
        gateway
            .get("/connections/demo/rest/platform/v1/tokenContext")
            .await
            .status(),
        200
    );
    // The proxy passes any answer through, as Marketing Cloud gave it.
    upstream.handle.add_fault(Fault {
        target: FaultTarget::Api,
        status: Some(503),
        ..Fault::default()
    });
    let (status, _) = gateway
        .get_json("/connections/demo/rest/hub/v1/campaigns")
        .await;
    assert_eq!(status, 503);
    // An operation reports a 5xx (after the retries an idempotent call gets) as 502.
    upstream.handle.add_fault(Fault {
        target: FaultTarget::Api,
        status: Some(500),
        ..Fault::default()
    });
    let created = gateway
        .http
        .post(gateway.url("/connections/demo/operations/createCampaign"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 502);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["error"], "upstream_failure");
    assert_eq!(body["upstream_status"], 500);
}

#[tokio::test]
async fn a_body_read_before_answering_that_does_not_arrive_in_time_is_408() {
    let upstream = Upstream::start().await;
    let server = ServerConfig {
        upstream_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let gateway = start_server(&upstream, server).await;
    for target in [
        "/connections/demo/rest/hub/v1/campaigns",
        "/connections/demo/operations/createCampaign",
    ] {
        let (status, body) = trickled_post(gateway.addr, target).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (408, Some("body_timeout")),
            "{target}: {body}"
        );
    }
    assert!(upstream.api_seen().is_empty(), "nothing was sent upstream");
}

/// A REST host that answers the first request on each connection with `{}` and closes the
/// connection when a second one comes on it, after reading it (a server closing an idle
/// connection just as a request arrives); its URL and the request lines it read.
async fn closing_on_reuse_host() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                for answered in [true, false] {
                    let Ok(read) = stream.read(&mut buffer).await else {
                        return;
                    };
                    let text = String::from_utf8_lossy(&buffer[..read]).into_owned();
                    let line = text.lines().next().unwrap_or_default().to_owned();
                    log.lock().unwrap().push(line);
                    if answered {
                        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        let _ = stream.write_all(answer.as_bytes()).await;
                    }
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_kept_alive_connection_closed_before_answering_resends_only_safe_requests() {
    let (url, seen) = closing_on_reuse_host().await;
    let upstream =
        Upstream::start_with(EmulatorConfig::demo().with_public_url(&url).unwrap()).await;
    let gateway = start(&upstream).await;
    let path = "/connections/demo/rest/hub/v1/campaigns";
    for _ in 0..2 {
        assert_eq!(gateway.get(path).await.status(), 200);
    }
    let gets = seen.lock().unwrap().clone();
    assert_eq!(
        gets.len(),
        3,
        "the second GET met the closed connection and went again: {gets:?}"
    );

    let answer = gateway
        .http
        .post(gateway.url(path))
        .json(&json!({"name": "once"}))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("upstream_unavailable")),
        "{body}"
    );
    let posts = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("POST"))
        .count();
    assert_eq!(posts, 1, "a POST is never sent twice");
}
