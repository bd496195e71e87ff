//! Secret safety in hostile surroundings (issue 7): proxies, look-alike and relay hosts,
//! out-of-range numbers, non-JSON rejections and planted cache entries. Every server here is a
//! loopback listener; nothing leaves the machine (https destinations go to a local "proxy" that
//! records the `CONNECT` and refuses the tunnel).

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use support::{Env, Stub, answer, bare, code, json, stderr, stdout};

const SUB: &str = "mczl3z3cmqr47kmts5x34v1cdlky";
const PROXY_VARS: [&str; 6] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "all_proxy",
];

/// `command` with every proxy variable pointing at `proxy`.
fn behind(mut command: tokio::process::Command, proxy: &Stub) -> tokio::process::Command {
    for name in PROXY_VARS {
        command.env(name, proxy.url());
    }
    command
}

/// `sfmc token --no-cache` for a made-up package at `base_uri` (nothing is cached).
fn token_at(base_uri: &str) -> tokio::process::Command {
    let mut command = bare(&["token", "--no-cache", "--load-timeout", "1"]);
    command
        .env("SFMC_AUTH_BASE_URI", base_uri)
        .env("SFMC_CLIENT_ID", "id")
        .env("SFMC_CLIENT_SECRET", "the-client-secret");
    command
}

#[tokio::test]
async fn loopback_requests_never_reach_a_proxy() {
    let proxy = Stub::proxy().await;
    let env = Env::new("proxy-loopback").await;
    for args in [&["token", "--no-cache"][..], &["userinfo"][..]] {
        let output = behind(env.command(args), &proxy).output().await.unwrap();
        assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
    }
    let emulated = behind(bare(&["token", "--emulated"]), &proxy)
        .output()
        .await
        .unwrap();
    assert_eq!(code(&emulated), 0, "{}", stderr(&emulated));
    assert_eq!(env.token_requests(), 2, "token and userinfo's token");
    assert!(
        proxy.requests().is_empty(),
        "the proxy saw {:?}",
        proxy.requests()
    );
}

#[tokio::test]
async fn https_to_marketing_cloud_still_goes_through_the_proxy_as_a_tunnel() {
    for name in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"] {
        let proxy = Stub::proxy().await;
        let mut command = token_at(&format!("https://{SUB}.auth.marketingcloudapis.com/"));
        command.env(name, proxy.url());
        let output = command.output().await.unwrap();
        assert_eq!(code(&output), 4, "{name}: {}", stderr(&output));
        let requests = proxy.requests();
        assert!(!requests.is_empty(), "{name}: the proxy was not used");
        for request in requests {
            let connect = format!("CONNECT {SUB}.auth.marketingcloudapis.com:443 ");
            assert!(request.starts_with(&connect), "{name}: {request}");
            assert!(!request.contains("the-client-secret"), "{request}");
        }
    }
}

#[tokio::test]
async fn only_marketing_cloud_auth_hosts_or_loopback_receive_the_secret() {
    let proxy = Stub::proxy().await;
    for uri in [
        format!("https://{SUB}.auth.marketingcloudapis.com.evil.com/"),
        "https://x.auth.marketingcloudapis.com.evil.com/".to_owned(),
        "https://evil.example/".to_owned(),
        format!("https://{SUB}.auth.marketingcloudapis.com:8443/"),
        format!("https://{SUB}.auth.marketingcloudapis.com/v2/"),
        format!("https://user@{SUB}.auth.marketingcloudapis.com/"),
        format!("https://{SUB}.rest.marketingcloudapis.com/"),
        format!("http://{SUB}.auth.marketingcloudapis.com/"),
        "http://10.0.0.1:8787/".to_owned(),
    ] {
        let output = behind(token_at(&uri), &proxy).output().await.unwrap();
        assert_eq!(code(&output), 2, "{uri}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("invalid auth base URI"),
            "{uri}: {}",
            stderr(&output)
        );
    }
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
}

#[tokio::test]
async fn subdomain_and_base_uri_must_name_the_same_host() {
    let proxy = Stub::proxy().await;
    let other = "mcaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for uri in [
        format!("https://{other}.auth.marketingcloudapis.com/"),
        "http://127.0.0.1:9/".to_owned(),
    ] {
        let mut command = behind(token_at(&uri), &proxy);
        command.env("SFMC_SUBDOMAIN", SUB);
        let output = command.output().await.unwrap();
        assert_eq!(code(&output), 2, "{uri}: {}", stderr(&output));
        assert!(stderr(&output).contains("disagree"), "{}", stderr(&output));
    }
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());

    // The same URL written differently agrees (and is then asked, through the proxy).
    let mut command = token_at(&format!("HTTPS://{SUB}.AUTH.marketingcloudapis.com:443"));
    command
        .env("SFMC_SUBDOMAIN", SUB)
        .env("HTTPS_PROXY", proxy.url());
    let output = command.output().await.unwrap();
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(!proxy.requests().is_empty());
}

#[tokio::test]
async fn a_relay_is_used_only_when_named_and_warns_each_run() {
    let relay = "https://relay.example.test/sfmc/";
    let proxy = Stub::proxy().await;
    let refused = behind(token_at(relay), &proxy).output().await.unwrap();
    assert_eq!(code(&refused), 2, "{}", stderr(&refused));
    assert!(proxy.requests().is_empty());

    let by_flag = {
        let mut command = token_at(relay);
        command.args(["--dangerously-allow-auth-host", "relay.example.test"]);
        command
    };
    let by_variable = {
        let mut command = token_at(relay);
        command.env("SFMC_DANGEROUSLY_ALLOW_AUTH_HOST", "RELAY.example.test");
        command
    };
    for (how, command) in [("flag", by_flag), ("variable", by_variable)] {
        let proxy = Stub::proxy().await;
        let output = behind(command, &proxy).output().await.unwrap();
        assert_eq!(code(&output), 4, "{how}: sent, then the tunnel was refused");
        let err = stderr(&output);
        assert!(
            err.contains("WARN") && err.contains("relay.example.test"),
            "{how}: {err}"
        );
        let requests = proxy.requests();
        assert!(
            requests
                .iter()
                .all(|r| r.starts_with("CONNECT relay.example.test:443 ")),
            "{how}: {requests:?}"
        );
        assert!(!requests.is_empty(), "{how}");
    }

    for (uri, allowed) in [
        ("http://relay.example.test/", "relay.example.test"),
        (relay, "other.example.test"),
        (relay, "relay.example.test:443"),
        (relay, "https://relay.example.test/"),
    ] {
        let mut command = behind(token_at(uri), &proxy);
        command.args(["--dangerously-allow-auth-host", allowed]);
        let output = command.output().await.unwrap();
        assert_eq!(code(&output), 2, "{uri} {allowed}: {}", stderr(&output));
    }
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
}

#[tokio::test]
async fn numbers_out_of_range_exit_2_naming_the_flag() {
    let env = Env::new("ranges").await;
    for value in ["0", "301", "9223372036854775", "-1", "ten"] {
        let by_flag = env
            .run(&["token", &format!("--load-timeout={value}")])
            .await;
        let by_variable = env
            .command(&["token"])
            .env("SFMC_LOAD_TIMEOUT", value)
            .output()
            .await
            .unwrap();
        for output in [by_flag, by_variable] {
            assert_eq!(code(&output), 2, "{value}: {}", stderr(&output));
            assert!(
                stderr(&output).contains("--load-timeout"),
                "{}",
                stderr(&output)
            );
        }
    }
    assert_eq!(env.token_requests(), 0);
    for value in ["1", "300"] {
        let output = env.run(&["token", "--load-timeout", value]).await;
        assert_eq!(code(&output), 0, "{value}: {}", stderr(&output));
    }
}

const HTML: &str = "<html><body><h1>Unauthorized</h1></body></html>";

#[tokio::test]
async fn a_401_or_403_without_an_oauth_body_is_a_rejection() {
    for status in ["401 Unauthorized", "403 Forbidden"] {
        let server = Stub::start(move |_| answer(status, "text/html", HTML)).await;
        let output = token_at(&server.url()).output().await.unwrap();
        assert_eq!(code(&output), 3, "{status}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("Installed Packages"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("<html>"), "{}", stderr(&output));
        assert_eq!(server.requests().len(), 1, "rejections are not retried");
    }
}

#[tokio::test]
async fn userinfo_answering_403_is_a_rejection() {
    let token = r#"{"access_token":"tok","token_type":"Bearer","expires_in":1079,"scope":"a","rest_instance_url":"http://127.0.0.1:1/","soap_instance_url":"http://127.0.0.1:1/"}"#;
    let server = Stub::start(move |line| {
        if line.starts_with("POST /v2/token ") {
            answer("200 OK", "application/json", token)
        } else {
            answer("403 Forbidden", "text/html", HTML)
        }
    })
    .await;
    let mut command = bare(&["userinfo", "--no-cache"]);
    command
        .env("SFMC_AUTH_BASE_URI", server.url())
        .env("SFMC_CLIENT_ID", "id")
        .env("SFMC_CLIENT_SECRET", "the-client-secret");
    let output = command.output().await.unwrap();
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(stderr(&output).contains("403"), "{}", stderr(&output));
}

/// Needs `FileStore::clear` to skip what is not a regular cache file (the lead's part of
/// issue 7 item 9, in `store/file.rs`); fails until then.
#[tokio::test]
async fn cache_clear_skips_what_is_not_a_cache_file_and_clears_the_rest() {
    let env = Env::new("clear-planted").await;
    let first = env.run(&["token"]).await;
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let cached = env.cache_files();
    assert_eq!(cached.len(), 1);
    let planted = env.cache_dir.join("planted.token");
    std::fs::create_dir(&planted).unwrap();
    std::fs::write(planted.join("keep"), "x").unwrap();

    let cleared = env.run(&["cache", "clear"]).await;
    assert_eq!(code(&cleared), 0, "{}", stderr(&cleared));
    assert!(
        stdout(&cleared).contains("removed 1"),
        "{}",
        stdout(&cleared)
    );
    assert!(!cached[0].exists(), "the token file is gone");
    assert!(planted.join("keep").exists(), "the directory is left alone");

    let again = env.run(&["token"]).await;
    assert_eq!(code(&again), 0);
    assert_ne!(json(&again)["access_token"], json(&first)["access_token"]);
}
