//! `sfmc gateway` as a process (issue 10's done-when lines): a config file whose secret comes
//! from `${ENV}`; the first stdout line; the proxy, an operation, the connection test, health
//! and metrics; `sfmc token --connection` on the same file; SIGTERM → exit 0; logs without
//! secrets; config errors and an unguarded listener off loopback → exit 2 naming what is wrong;
//! inbound keys made with `--hash-key`.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use std::process::{Output, Stdio};

use serde_json::{Value, json};
use sfmc_emulator::DEMO_CLIENT_SECRET;
use support::gateway::{Dir, PATIENCE, config, sfmc, start, terminate};
use support::{Env, code, stderr, stdout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// `sfmc ARGS` expected to exit on its own.
async fn finished(mut command: Command) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("sfmc exits")
        .unwrap()
}

#[tokio::test]
async fn the_gateway_serves_a_config_file_and_the_cli_shares_it() {
    let env = Env::new("gateway-done").await;
    let dir = Dir::new("done");
    let file = dir.write(&config(&env, ""));
    let file_arg = file.to_str().unwrap();
    let mut command = sfmc(
        &dir,
        &[
            "gateway",
            "--config",
            file_arg,
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ],
    );
    command.env("RUST_LOG", "debug");
    let (gateway, url) = start(command).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: &str| {
        let request = http.get(format!("{url}{path}"));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };

    let (status, context) = get("/connections/main/rest/platform/v1/tokenContext").await;
    assert_eq!(status, 200, "{context}");
    assert!(context.contains("organization"), "{context}");
    let created = http
        .post(format!("{url}/connections/main/operations/createCampaign"))
        .json(&json!({"name": "From the gateway"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["name"], "From the gateway");
    let (status, test) = get("/connections/main/test").await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(serde_json::from_str::<Value>(&test).unwrap()["ok"], true);
    assert_eq!(get("/healthz").await.0, 200);
    let (status, metrics) = get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            "sfmc_gateway_requests_total{connection=\"main\",route=\"rest\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("sfmc_gateway_token_requests_total 1\n"),
        "{metrics}"
    );
    // Traversal never reaches the emulator's other paths; an unknown connection is 404.
    let (status, _) = get("/connections/nope/rest/platform/v1/tokenContext").await;
    assert_eq!(status, 404);
    let api_before = env.emulator.stats().api_requests;
    for target in [
        "/connections/main/rest/../../_emulator/revoke",
        "/connections/main/rest/%2e%2e/%2e%2e/_emulator/revoke",
    ] {
        let mut stream = tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
            .await
            .unwrap();
        stream.write_all(format!("POST {target} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{target}: {answer}");
    }
    assert_eq!(env.emulator.stats().api_requests, api_before);
    assert_eq!(
        get("/connections/main/rest/platform/v1/tokenContext")
            .await
            .0,
        200,
        "no token was revoked"
    );
    assert_eq!(env.token_requests(), 1);

    // The CLI takes the same file and connection.
    let token = finished(sfmc(
        &dir,
        &[
            "token",
            "--config",
            file_arg,
            "--connection",
            "main",
            "--raw",
        ],
    ))
    .await;
    assert_eq!(code(&token), 0, "{}", stderr(&token));
    let token_text = stdout(&token).trim().to_owned();
    assert!(token_text.len() > 100);
    assert_eq!(env.token_requests(), 2);

    let (exit, logs) = terminate(gateway).await;
    assert_eq!(exit, 0, "{logs}");
    let requests: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    assert!(requests.len() >= 8, "{logs}");
    let first = &requests[0]["fields"];
    assert_eq!(
        (first["method"].as_str(), first["status"].as_u64()),
        (Some("GET"), Some(200)),
        "{first}"
    );
    assert_eq!(first["connection"], "main");
    assert!(!logs.contains(DEMO_CLIENT_SECRET), "{logs}");
    // Tokens share their first characters (a JWT header): none appears in the logs.
    assert!(!logs.contains(&token_text[..24]), "{logs}");
}

#[tokio::test]
async fn config_errors_exit_2_naming_file_line_and_field() {
    let env = Env::new("gateway-config").await;
    let dir = Dir::new("config-errors");
    let good = config(&env, "");
    let cases = [
        ("[[connections]\nname = \"x\"\n".to_owned(), "line 1", ""),
        (
            good.replace("${GW_TEST_SECRET}", "${GW_TEST_MISSING}"),
            "line 6",
            "connections[0].client_secret",
        ),
        (format!("{good}\n{good}"), "line 10", "connections[1].name"),
        (
            good.replace(
                &format!("auth_base_uri = \"{}\"", env.emulator.url()),
                "subdomain = \"mc_not/a-subdomain\"",
            ),
            "line 4",
            "connections[0].subdomain",
        ),
    ];
    for (text, line, field) in cases {
        let file = dir.write(&text);
        let output = finished(sfmc(
            &dir,
            &[
                "gateway",
                "--config",
                file.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ],
        ))
        .await;
        let err = stderr(&output);
        assert_eq!(code(&output), 2, "{text}\n{err}");
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(err.contains(line), "{line}: {err}");
        assert!(err.contains(field), "{field}: {err}");
        assert!(stdout(&output).is_empty(), "nothing announced");
        assert!(!err.contains(DEMO_CLIENT_SECRET));
    }
    assert_eq!(env.token_requests(), 0);
}

#[tokio::test]
async fn listening_off_loopback_without_api_keys_exits_2() {
    let env = Env::new("gateway-open").await;
    let dir = Dir::new("open");
    let file = dir.write(&config(&env, ""));
    let output = finished(sfmc(
        &dir,
        &[
            "gateway",
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ],
    ))
    .await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("api_keys"), "{}", stderr(&output));
    let from_file = dir.write(&config(&env, "[server]\nlisten = \"0.0.0.0:0\"\n"));
    let output = finished(sfmc(
        &dir,
        &["gateway", "--config", from_file.to_str().unwrap()],
    ))
    .await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let emulated = finished(sfmc(
        &dir,
        &["gateway", "--emulated", "--listen", "0.0.0.0:0"],
    ))
    .await;
    assert_eq!(code(&emulated), 2, "{}", stderr(&emulated));
}

/// `sfmc gateway --hash-key` with `key` on stdin: the digest line.
async fn hash_key(dir: &Dir, key: &str) -> String {
    let mut child = sfmc(dir, &["gateway", "--hash-key"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(key.as_bytes())
        .await
        .unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert_eq!(code(&output), 0);
    stdout(&output).trim().to_owned()
}

#[tokio::test]
async fn api_keys_from_hash_key_guard_the_gateway() {
    let env = Env::new("gateway-keys").await;
    let dir = Dir::new("keys");
    let digest = hash_key(&dir, "my-inbound-key\n").await;
    assert_eq!(digest, sfmc_auth::config::hash_api_key("my-inbound-key"));
    let empty = finished(sfmc(&dir, &["gateway", "--hash-key"])).await;
    assert_eq!(code(&empty), 2);
    let file = dir.write(&config(
        &env,
        &format!("[server]\napi_keys = [\"{digest}\"]\n"),
    ));
    let (gateway, url) = start(sfmc(
        &dir,
        &[
            "gateway",
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
    ))
    .await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let path = format!("{url}/connections/main/rest/platform/v1/tokenContext");
    assert_eq!(http.get(&path).send().await.unwrap().status(), 401);
    assert_eq!(
        http.get(&path)
            .bearer_auth("other-key")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http.get(&path)
            .bearer_auth("my-inbound-key")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(&path)
            .header("X-Api-Key", "my-inbound-key")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (exit, logs) = terminate(gateway).await;
    assert_eq!(exit, 0);
    assert!(!logs.contains("my-inbound-key"), "{logs}");
}

#[tokio::test]
async fn the_emulated_gateway_serves_a_demo_connection() {
    let dir = Dir::new("emulated");
    let (gateway, url) = start(sfmc(
        &dir,
        &["gateway", "--emulated", "--listen", "127.0.0.1:0"],
    ))
    .await;
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!(
            "{url}/connections/demo/rest/platform/v1/tokenContext"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let (exit, logs) = terminate(gateway).await;
    assert_eq!(exit, 0, "{logs}");
    assert!(logs.contains("route=\"rest\""), "text request logs: {logs}");
}
