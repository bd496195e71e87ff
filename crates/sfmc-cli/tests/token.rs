//! `sfmc token`, `sfmc userinfo`, `sfmc subdomain` and `sfmc cache` as a user runs them: exit
//! codes, output, cache behaviour and secrets kept out of output.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use support::{Env, bare, code, json, stderr, stdout};

#[tokio::test]
async fn emulated_token_prints_the_token_json() {
    let output = bare(&["token", "--emulated"]).output().await.unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let token = json(&output);
    for field in [
        "access_token",
        "token_type",
        "expires_in",
        "expires_at",
        "scope",
        "rest_instance_url",
        "soap_instance_url",
    ] {
        assert!(token.get(field).is_some(), "no {field} in {token}");
    }
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["access_token"].as_str().unwrap().len(), 512);
    assert!(token["rest_instance_url"].as_str().unwrap().ends_with('/'));
}

#[tokio::test]
async fn token_is_cached_between_runs() {
    let env = Env::new("cached").await;
    let first = env.run(&["token"]).await;
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let second = env.run(&["token"]).await;
    assert_eq!(code(&second), 0, "{}", stderr(&second));
    assert_eq!(json(&first)["access_token"], json(&second)["access_token"]);
    assert_eq!(env.token_requests(), 1, "the second run must use the cache");

    let files = env.cache_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(json(&first)["access_token"].as_str().unwrap()));
    assert!(!text.contains(sfmc_emulator::DEMO_CLIENT_SECRET));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let fresh = env.run(&["token", "--no-cache"]).await;
    assert_eq!(code(&fresh), 0);
    assert_eq!(env.token_requests(), 2, "--no-cache asks again");
    assert_ne!(json(&fresh)["access_token"], json(&first)["access_token"]);

    let cleared = env.run(&["cache", "clear"]).await;
    assert_eq!(code(&cleared), 0);
    assert!(
        stdout(&cleared).contains("removed 1"),
        "{}",
        stdout(&cleared)
    );
    assert!(env.cache_files().is_empty());
}

#[tokio::test]
async fn raw_prints_the_bare_token() {
    let env = Env::new("raw").await;
    let output = env.run(&["token", "--raw"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let token = text.strip_suffix('\n').unwrap();
    assert_eq!(token.len(), 512);
    assert_eq!(token.split('.').count(), 4);
}

#[tokio::test]
async fn wrong_secret_exits_3_and_says_why_without_the_secret() {
    let env = Env::new("wrong").await;
    let output = env
        .command(&["token"])
        .env("SFMC_CLIENT_SECRET", "not-the-secret-xyz")
        .output()
        .await
        .unwrap();
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("Client authentication failed"), "{err}");
    assert!(err.contains("Installed Packages"), "{err}");
    assert!(!err.contains("not-the-secret-xyz"));
    assert!(stdout(&output).is_empty());
    assert_eq!(env.token_requests(), 1, "rejections are not retried");
}

#[tokio::test]
async fn invalid_subdomain_exits_2_before_any_request() {
    for subdomain in ["evil.com#", "a/b", "x@y", "..", "%2e"] {
        let output = bare(&["token"])
            .env("SFMC_SUBDOMAIN", subdomain)
            .env("SFMC_CLIENT_ID", "id")
            .env("SFMC_CLIENT_SECRET", "secret")
            .env("HTTPS_PROXY", "http://127.0.0.1:9") // any request would fail differently
            .output()
            .await
            .unwrap();
        assert_eq!(code(&output), 2, "{subdomain}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("invalid subdomain"),
            "{}",
            stderr(&output)
        );
    }
}

#[tokio::test]
async fn missing_settings_exit_2_naming_the_field() {
    let output = bare(&["token"]).output().await.unwrap();
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("SFMC_SUBDOMAIN"),
        "{}",
        stderr(&output)
    );

    let output = bare(&["token", "--subdomain", "mczl3z3cmqr47kmts5x34v1cdlky"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("client id"), "{}", stderr(&output));

    let output = bare(&[
        "token",
        "--subdomain",
        "mczl3z3cmqr47kmts5x34v1cdlky",
        "--client-id",
        "x",
    ])
    .output()
    .await
    .unwrap();
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("client secret"),
        "{}",
        stderr(&output)
    );

    let env = Env::new("badmid").await;
    let output = env.run(&["token", "--account-id", "12ab"]).await;
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("account id"),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.token_requests(), 0);
}

#[tokio::test]
async fn secret_flag_is_refused_and_secret_file_works() {
    let env = Env::new("secretfile").await;
    let output = env.run(&["token", "--client-secret", "abc"]).await;
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("SFMC_CLIENT_SECRET"),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.token_requests(), 0);

    let path = std::env::temp_dir().join(format!("sfmc-secret-{}", std::process::id()));
    std::fs::write(&path, format!("{}\n", sfmc_emulator::DEMO_CLIENT_SECRET)).unwrap();
    let output = env
        .command(&[
            "token",
            "--no-cache",
            "--client-secret-file",
            path.to_str().unwrap(),
        ])
        .env("SFMC_CLIENT_SECRET", "wrong")
        .output()
        .await
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        code(&output),
        0,
        "the file wins over the environment: {}",
        stderr(&output)
    );
}

#[tokio::test]
async fn a_secret_file_too_large_or_not_text_exits_2_naming_it() {
    let env = Env::new("secretfile-bad").await;
    let dir = std::env::temp_dir();
    let cases = [
        ("large", vec![b'x'; 4097], "larger than 4096 bytes"),
        ("binary", vec![0xff, 0xfe, b'\n'], "cannot be read"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(format!("sfmc-secret-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let output = env
            .run(&[
                "token",
                "--no-cache",
                "--client-secret-file",
                path.to_str().unwrap(),
            ])
            .await;
        std::fs::remove_file(&path).unwrap();
        assert_eq!(code(&output), 2, "{name}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(path.to_str().unwrap()) && stderr(&output).contains(expected),
            "{name}: {}",
            stderr(&output)
        );
    }
    assert_eq!(env.token_requests(), 0, "nothing was sent");
}

#[tokio::test]
async fn business_unit_and_scope_reach_the_token() {
    let env = Env::new("bu").await;
    let output = env
        .run(&[
            "token",
            "--account-id",
            sfmc_emulator::DEMO_CHILD_ACCOUNT_ID,
            "--scope",
            "email_read email_write",
        ])
        .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output)["scope"], "email_read email_write");
    let unreachable = env.run(&["token", "--account-id", "999"]).await;
    assert_eq!(code(&unreachable), 3);
    assert!(
        stderr(&unreachable).contains("unauthorized_client"),
        "{}",
        stderr(&unreachable)
    );
}

#[tokio::test]
async fn outage_exits_4_unless_a_valid_token_is_cached() {
    let env = Env::new("outage").await;
    let warm = env.run(&["token"]).await;
    assert_eq!(code(&warm), 0);
    env.emulator.add_fault(sfmc_emulator::Fault {
        target: sfmc_emulator::FaultTarget::Token,
        status: Some(503),
        count: 1000,
        delay_ms: 0,
        ..sfmc_emulator::Fault::default()
    });
    let cached = env.run(&["token"]).await;
    assert_eq!(code(&cached), 0, "{}", stderr(&cached));
    assert_eq!(json(&cached)["access_token"], json(&warm)["access_token"]);

    let failing = env
        .run(&["token", "--no-cache", "--load-timeout", "2"])
        .await;
    assert_eq!(code(&failing), 4, "{}", stderr(&failing));
    let err = stderr(&failing);
    assert!(err.contains("503"), "{err}");
    assert!(env.token_requests() > 2, "transient failures are retried");
}

#[tokio::test]
async fn userinfo_after_revoke_takes_exactly_one_new_token() {
    let env = Env::new("revoke").await;
    let first = env.run(&["userinfo"]).await;
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let info = json(&first);
    assert!(info["organization"]["member_id"].is_number(), "{info}");
    assert_eq!(env.token_requests(), 1);

    env.emulator.revoke_all();
    let second = env.run(&["userinfo"]).await;
    assert_eq!(code(&second), 0, "{}", stderr(&second));
    assert_eq!(env.token_requests(), 2, "one new token after the 401");
    let third = env.run(&["userinfo"]).await;
    assert_eq!(code(&third), 0);
    assert_eq!(env.token_requests(), 2, "the new token was cached");
}

#[tokio::test]
async fn subdomain_command() {
    let output = bare(&[
        "subdomain",
        "https://mczl3z3cmqr47kmts5x34v1cdlky.auth.marketingcloudapis.com/",
    ])
    .output()
    .await
    .unwrap();
    assert_eq!(code(&output), 0);
    assert_eq!(stdout(&output), "mczl3z3cmqr47kmts5x34v1cdlky\n");
    let output = bare(&["subdomain", "https://evil.com/"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("not a Marketing Cloud host"),
        "{}",
        stderr(&output)
    );
}
