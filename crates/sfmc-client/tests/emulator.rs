//! The client against the in-process emulator on paused tokio time: injected API faults (401,
//! 429 with Retry-After, 429 errorcode 50200, 503 on GET and POST), typed round trips, and
//! business-unit isolation through `for_account`.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // tests read the paused clock

use std::time::Duration;

use futures_util::TryStreamExt;
use secrecy::SecretString;
use serde_json::json;
use sfmc_auth::{AuthBaseUrl, ConnectionSettings, TokenManager};
use sfmc_client::ops::campaigns::NewCampaign;
use sfmc_client::{Client, ClientError, Method, default_http_client};
use sfmc_emulator::{
    DEMO_CHILD_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig, Fault, FaultTarget,
    RunningEmulator,
};

async fn setup() -> (RunningEmulator, Client, TokenManager) {
    let emulator = sfmc_emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&emulator.url()).unwrap(),
        DEMO_CLIENT_ID,
        SecretString::from(DEMO_CLIENT_SECRET),
    )
    .unwrap();
    let manager = TokenManager::builder().build().unwrap();
    let client = Client::new(manager.clone(), settings, default_http_client().unwrap());
    (emulator, client, manager)
}

fn api_fault(status: u16) -> Fault {
    Fault {
        target: FaultTarget::Api,
        status: Some(status),
        count: 1,
        delay_ms: 0,
        ..Fault::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_401_fault_gets_a_new_token_and_succeeds() {
    let (emulator, client, manager) = setup().await;
    client.campaigns().list(&Default::default()).await.unwrap();
    emulator.add_fault(api_fault(401));
    let page = client.campaigns().list(&Default::default()).await.unwrap();
    assert_eq!(page.count, 0);
    assert_eq!(manager.token_requests(), 2);
    assert_eq!(emulator.stats().api_requests, 3);
}

#[tokio::test(start_paused = true)]
async fn a_429_waits_for_retry_after_then_succeeds_even_on_post() {
    let (emulator, client, _) = setup().await;
    emulator.add_fault(api_fault(429));
    let start = tokio::time::Instant::now();
    let created = client
        .campaigns()
        .create(&NewCampaign {
            name: Some("After the wait".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(created.name, "After the wait");
    assert_eq!(emulator.stats().api_requests, 2);
}

#[tokio::test(start_paused = true)]
async fn a_50200_block_is_not_retried() {
    let (emulator, client, _) = setup().await;
    emulator.add_fault(Fault {
        errorcode: Some(50200),
        ..api_fault(429)
    });
    let error = client
        .request(Method::GET, "/hub/v1/campaigns")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Blocked { .. }), "{error:?}");
    assert_eq!(emulator.stats().api_requests, 1);
}

#[tokio::test(start_paused = true)]
async fn a_503_is_retried_on_get_not_on_post() {
    let (emulator, client, _) = setup().await;
    emulator.add_fault(Fault {
        count: 2,
        ..api_fault(503)
    });
    client
        .request(Method::GET, "/hub/v1/campaigns")
        .send()
        .await
        .unwrap();
    assert_eq!(emulator.stats().api_requests, 3);
    emulator.add_fault(api_fault(503));
    let error = client
        .call("createCampaign", &json!({"name": "x"}))
        .await
        .unwrap_err();
    assert!(
        error.is_unavailable() && error.status().map(|s| s.as_u16()) == Some(503),
        "{error}"
    );
    assert_eq!(emulator.stats().api_requests, 4);
}

#[tokio::test(start_paused = true)]
async fn business_units_are_isolated_and_pages_stream() {
    let (_emulator, client, manager) = setup().await;
    for i in 0..5 {
        client
            .call("createCampaign", &json!({"name": format!("C{i}")}))
            .await
            .unwrap();
    }
    let op = sfmc_client::catalog::lookup("getCampaigns").unwrap();
    let all: Vec<_> = client
        .call_all(op, &json!({"pageSize": 2}))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    let child = client.for_account(DEMO_CHILD_ACCOUNT_ID).unwrap();
    let theirs: Vec<_> = child.campaigns().list_all().try_collect().await.unwrap();
    assert!(theirs.is_empty());
    assert_eq!(manager.token_requests(), 2, "one token per business unit");
}
