//! The emulator as a server facing misbehaving clients: half-sent requests are dropped after
//! the header read timeout, connections beyond the limit wait, and a forged `Host` header never
//! reaches the instance URLs. Raw TCP, so that nothing between the test and the server fixes
//! the requests up.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use sfmc_emulator::{EmulatorConfig, RunningEmulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous bound on how long the server may take to act, so a broken server fails the test
/// instead of hanging it. Nothing is asserted about how fast it acts.
const PATIENCE: Duration = Duration::from_secs(60);

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut all))
        .await
        .expect("the server closes the connection")
        .ok();
    all
}

/// Waits (yielding, no clock) until the emulator counts `n` open connections.
async fn until_open(emu: &RunningEmulator, n: usize) {
    tokio::time::timeout(PATIENCE, async {
        while emu.open_connections() != n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the open connection count is reached");
}

// Paused time only runs ahead when every task (the server's included) waits, so the default
// timeouts fire without the test waiting for them in real time.

#[tokio::test(start_paused = true)]
async fn half_sent_headers_are_dropped_after_the_header_timeout() {
    let emu = emulator().await;
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    stream
        .write_all(b"GET /_emulator/stats HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    until_open(&emu, 0).await;
    // The server still serves complete requests.
    let (status, _) = control(&emu, "GET", "stats", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_sends_nothing_is_dropped_after_the_header_timeout() {
    let emu = emulator().await;
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    until_open(&emu, 1).await;
    assert_eq!(read_to_close(&mut stream).await, b"");
    until_open(&emu, 0).await;
}

#[tokio::test(start_paused = true)]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let config = EmulatorConfig {
        max_connections: 1,
        ..EmulatorConfig::demo()
    };
    let emu = emulator_with(config).await;
    let holder = TcpStream::connect(emu.addr()).await.unwrap();
    until_open(&emu, 1).await;
    let mut probe = TcpStream::connect(emu.addr()).await.unwrap();
    probe
        .write_all(b"GET /_emulator/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    // Paused time moves only once the server has nothing left to do, so nothing answered
    // within (virtual) seconds means the probe waits; the holder's header timeout is longer.
    let mut first = [0u8; 1];
    let short = sfmc_emulator::DEFAULT_HEADER_READ_TIMEOUT / 2;
    let waited = tokio::time::timeout(short, probe.read(&mut first)).await;
    assert!(
        waited.is_err(),
        "the second connection was served while the first held the only slot"
    );
    assert_eq!(emu.open_connections(), 1);
    drop(holder);
    let answer = read_to_close(&mut probe).await;
    assert!(String::from_utf8_lossy(&answer).contains("200 OK"));
}

#[tokio::test]
async fn a_forged_host_header_does_not_change_the_instance_url() {
    let emu = emulator().await;
    let body = r#"{"grant_type":"client_credentials","client_id":"demo-client-id","client_secret":"demo-client-secret"}"#;
    let request = format!(
        "POST /v2/token HTTP/1.1\r\nHost: attacker.example:443\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = String::from_utf8(read_to_close(&mut stream).await).unwrap();
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["rest_instance_url"], format!("{}/", emu.url()));
    assert_eq!(json["soap_instance_url"], format!("{}/", emu.url()));
    assert!(!answer.contains("attacker"));
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stops_coming_gets_408_and_the_connection_is_closed() {
    let emu = emulator().await;
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    stream
        .write_all(b"POST /v2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{")
        .await
        .unwrap();
    // Paused time runs ahead to the request timeout once nothing else can happen.
    let answer = String::from_utf8_lossy(&read_to_close(&mut stream).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains(r#""errorcode":408"#), "{answer}");
    let stats = emu.stats();
    assert_eq!(stats.token_requests, 1);
}

/// `POST path` with a body of `len` spaces and a token: the status.
async fn post_spaces(
    emu: &RunningEmulator,
    path: &str,
    token: &str,
    len: usize,
) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}{path}", emu.url()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(vec![b' '; len])
        .send()
        .await
        .unwrap();
    status_json(response).await
}

#[tokio::test]
async fn bodies_over_each_routes_limit_are_413() {
    let emu = emulator().await;
    let token = access_token(&emu, None).await;
    const MIB: usize = 1024 * 1024;
    for (path, limit) in [
        ("/hub/v1/dataevents/key:nope/rowset", 5 * MIB),
        ("/data/v1/async/dataextensions/key:nope/rows", 64 * MIB),
        ("/hub/v1/campaigns", 2 * MIB),
    ] {
        let at_limit = post_spaces(&emu, path, &token, limit).await;
        assert_eq!(
            at_limit.0,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            at_limit.1
        );
        let over = post_spaces(&emu, path, &token, limit + 1).await;
        assert_error(&over, StatusCode::PAYLOAD_TOO_LARGE, 413);
        assert!(
            over.1["message"].as_str().unwrap().contains("larger than"),
            "{path}: {}",
            over.1
        );
    }
}

#[tokio::test]
async fn a_request_answered_before_its_body_was_read_keeps_its_connection() {
    let emu = emulator().await;
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    // No bearer token: the 401 is decided before the body is read.
    stream
        .write_all(
            b"POST /hub/v1/campaigns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"name\":",
        )
        .await
        .unwrap();
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    stream.write_all(b"\"later\"}").await.unwrap();
    stream
        .write_all(b"GET /_emulator/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answers = String::from_utf8_lossy(&read_to_close(&mut stream).await).into_owned();
    assert!(answers.starts_with("HTTP/1.1 401"), "{answers}");
    assert!(
        answers.contains("HTTP/1.1 200 OK"),
        "the second request on the connection was answered: {answers}"
    );
}

#[tokio::test]
async fn a_queued_api_fault_answered_before_the_body_was_read_keeps_its_connection() {
    let emu = emulator().await;
    let (status, _) = control(
        &emu,
        "POST",
        "faults",
        Some(serde_json::json!({"target": "api", "status": 503, "count": 1})),
    )
    .await;
    assert!(status.is_success(), "{status}");
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    // The fault answers before any handler reads the body.
    stream
        .write_all(
            b"POST /hub/v1/campaigns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"name\":",
        )
        .await
        .unwrap();
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    let closed = "the connection was closed under a client still sending";
    stream.write_all(b"\"later\"}").await.expect(closed);
    stream
        .write_all(b"GET /_emulator/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect(closed);
    let answers = String::from_utf8_lossy(&read_to_close(&mut stream).await).into_owned();
    assert!(answers.starts_with("HTTP/1.1 503"), "{answers}");
    assert!(
        answers.contains("HTTP/1.1 200 OK"),
        "the second request on the connection was answered: {answers}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_body_declared_larger_than_would_be_swallowed_is_not_asked_for() {
    let emu = emulator().await;
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    // No bearer token: a 401, decided before the body is read. The client waits to be asked for
    // its 3 MiB; a server that will not read them all must not ask.
    stream
        .write_all(
            b"POST /hub/v1/campaigns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3145728\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&read_to_close(&mut stream).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}
