//! `sfmc emulator` as a process: the first stdout line is `listening on http://IP:PORT`, and
//! `sfmc token` against it prints a token.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use std::process::{Output, Stdio};
use std::time::Duration;

use support::{bare, code, json, stderr};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Generous bound on a refusal, so a regression that starts the emulator instead fails the
/// test (and kills the process) rather than hanging it. Nothing is asserted about speed.
const PATIENCE: Duration = Duration::from_secs(60);

/// `sfmc ARGS` expected to exit on its own (a refused configuration): its output.
async fn refused(args: &[&str]) -> Output {
    let child = bare(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("sfmc {args:?} kept running instead of refusing"))
        .unwrap()
}

#[tokio::test]
async fn emulator_process_serves_tokens_to_sfmc_token() {
    let mut emulator = bare(&[
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--client-id",
        "cid",
        "--client-secret",
        "csecret",
        "--account-id",
        "123",
        "--scope",
        "email_read",
        "--token-ttl",
        "600",
    ])
    .stdout(Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(emulator.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the emulator announces its address")
        .unwrap()
        .expect("a first line");
    let url = first
        .strip_prefix("listening on ")
        .expect(&first)
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let output = bare(&["token", "--no-cache", "--client-id", "cid"])
        .env("SFMC_AUTH_BASE_URI", &url)
        .env("SFMC_CLIENT_SECRET", "csecret")
        .output()
        .await
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let token = json(&output);
    assert_eq!(token["scope"], "email_read");
    assert!(token["expires_in"].as_u64().unwrap() <= 600);

    let stats: serde_json::Value = reqwest::get(format!("{url}/_emulator/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["token_requests"], 1);
    emulator.kill().await.unwrap();
}

#[tokio::test]
async fn emulator_refuses_a_busy_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = refused(&["emulator", "--listen", &addr]).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot listen"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn token_ttl_outside_what_clients_accept_exits_2() {
    for ttl in ["0", "86401", "9223372036854775807", "-5"] {
        let flag = format!("--token-ttl={ttl}");
        let output = refused(&["emulator", "--listen", "127.0.0.1:0", &flag]).await;
        assert_eq!(code(&output), 2, "{ttl}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("--token-ttl"),
            "{}",
            stderr(&output)
        );
    }
}

#[tokio::test]
async fn a_bad_public_url_exits_2() {
    let output = refused(&[
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--public-url",
        "mc.example.com",
    ])
    .await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--public-url"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn the_public_url_is_announced_as_the_instance_url() {
    let mut emulator = bare(&[
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--token-ttl",
        "86400",
        "--public-url",
        "https://emulator.example.test",
    ])
    .stdout(Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(emulator.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the emulator announces its address")
        .unwrap()
        .expect("a first line");
    let url = first
        .strip_prefix("listening on ")
        .expect(&first)
        .to_owned();
    let token: serde_json::Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{url}/v2/token"))
        .json(&serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": "demo-client-id",
            "client_secret": "demo-client-secret",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["rest_instance_url"], "https://emulator.example.test/");
    assert_eq!(token["expires_in"], 86400);
    emulator.kill().await.unwrap();
}
