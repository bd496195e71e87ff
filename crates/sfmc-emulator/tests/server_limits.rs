//! The emulator as a server facing misbehaving clients: half-sent requests are dropped after
//! the header read timeout, connections beyond the limit wait, and a forged `Host` header never
//! reaches the instance URLs. Raw TCP, so that nothing between the test and the server fixes
//! the requests up.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use sfmc_emulator::EmulatorConfig;
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

#[tokio::test]
async fn a_half_sent_request_is_dropped_after_the_header_timeout() {
    let config = EmulatorConfig {
        header_read_timeout: Duration::from_millis(200),
        ..EmulatorConfig::demo()
    };
    let emu = emulator_with(config).await;
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
    // The server still serves complete requests.
    let (status, _) = control(&emu, "GET", "stats", None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let config = EmulatorConfig {
        max_connections: 1,
        ..EmulatorConfig::demo()
    };
    let emu = emulator_with(config).await;
    let holder = TcpStream::connect(emu.addr()).await.unwrap();
    // Let the server accept the first connection before the second arrives.
    let mut probe = TcpStream::connect(emu.addr()).await.unwrap();
    probe
        .write_all(b"GET /_emulator/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(300), probe.read(&mut first)).await;
    assert!(
        waited.is_err(),
        "the second connection was served while the first held the only slot"
    );
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
