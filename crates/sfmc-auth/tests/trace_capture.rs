//! A token fetch and a 401 invalidation with tracing at TRACE, captured into a buffer: the
//! buffer holds neither the client secret nor the token.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

use std::sync::Arc;

use secrecy::SecretString;
use sfmc_auth::{AuthBaseUrl, ConnectionSettings, TokenManager};
#[path = "support/logs.rs"]
mod logs;
use logs::Captured;
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig};

#[tokio::test(flavor = "current_thread")]
async fn trace_logs_hold_no_secret_and_no_token() {
    let buffer = Captured::default();
    let _guard = tracing::subscriber::set_default(buffer.subscriber(tracing::Level::TRACE));

    let emu = sfmc_emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("sfmc-trace-{}", std::process::id()));
    let manager = TokenManager::builder()
        .store(Arc::new(sfmc_auth::FileStore::new(&dir)))
        .build()
        .unwrap();
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&emu.url()).unwrap(),
        DEMO_CLIENT_ID,
        SecretString::from(DEMO_CLIENT_SECRET),
    )
    .unwrap();
    let handle = manager.handle(settings.clone());
    let first = handle.token().await.unwrap();
    handle.invalidate(&first).await;
    let second = handle.token().await.unwrap();
    let wrong = manager.handle(
        ConnectionSettings::new(
            AuthBaseUrl::parse(&emu.url()).unwrap(),
            DEMO_CLIENT_ID,
            SecretString::from("wrong-secret-value"),
        )
        .unwrap()
        .with_account_id("100000002")
        .unwrap(),
    );
    let error = wrong.token().await.unwrap_err();
    tracing::error!(%error, "logged error");
    let _ = std::fs::remove_dir_all(&dir);

    let logs = buffer.text();
    assert!(
        logs.contains("requesting an access token"),
        "nothing was captured: {logs}"
    );
    for secret in [
        DEMO_CLIENT_SECRET,
        "wrong-secret-value",
        first.expose(),
        second.expose(),
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    // Tokens are JWT-shaped: no distinctive part of one may appear either.
    assert!(!logs.contains(&first.expose()[100..160]));
}
