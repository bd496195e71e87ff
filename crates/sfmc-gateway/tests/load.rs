//! The token manager's guarantees seen through the gateway: a cold stampede makes one token
//! request, callers that go away do not disturb the others, and a revocation under load fails
//! no request whose body can be replayed.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use support::{Running, Upstream, start};

const TOKEN_CONTEXT: &str = "/connections/demo/rest/platform/v1/tokenContext";

/// Requests in flight in the gateway, read from its metrics (this request included).
async fn in_flight(gateway: &Running) -> usize {
    let text = gateway.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("sfmc_gateway_requests_in_flight "))
        .unwrap()
        .parse()
        .unwrap()
}

/// Waits (bounded) until the gateway has `n` requests in flight besides the metrics request.
async fn until_in_flight(gateway: &Running, n: usize) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while in_flight(gateway).await != n + 1 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("requests in flight");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_stampede_of_2000_requests_makes_one_token_request() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    upstream.hold("/v2/token");
    let calls: Vec<_> = (0..2000)
        .map(|_| {
            let (http, url) = (gateway.http.clone(), gateway.url(TOKEN_CONTEXT));
            tokio::spawn(async move { http.get(url).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    upstream.held(1).await;
    until_in_flight(&gateway, 2000).await;
    upstream.release();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 200);
    }
    assert_eq!(upstream.token_requests(), 1);
    assert_eq!(upstream.handle.stats().api_requests, 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_disconnect_do_not_disturb_the_others() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    upstream.hold("/v2/token");
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let (http, url) = (gateway.http.clone(), gateway.url(TOKEN_CONTEXT));
            tokio::spawn(async move { http.get(url).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    upstream.held(1).await;
    until_in_flight(&gateway, 200).await;
    // Half of the callers hang up while the token request is in flight.
    let (gone, staying): (Vec<_>, Vec<_>) =
        calls.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
    for (_, call) in &gone {
        call.abort();
    }
    for (_, call) in gone {
        assert!(call.await.unwrap_err().is_cancelled());
    }
    until_in_flight(&gateway, 100).await;
    upstream.release();
    for (_, call) in staying {
        assert_eq!(call.await.unwrap().unwrap(), 200);
    }
    assert_eq!(gateway.get(TOKEN_CONTEXT).await.status(), 200);
    assert_eq!(upstream.token_requests(), 1);
    until_in_flight(&gateway, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_under_load_fails_no_replayable_request() {
    let upstream = Arc::new(Upstream::start().await);
    let gateway = Arc::new(start(&upstream).await);
    let done = Arc::new(AtomicUsize::new(0));
    let revoked = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (gateway, upstream, done, revoked) = (
                gateway.clone(),
                upstream.clone(),
                done.clone(),
                revoked.clone(),
            );
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..50 {
                    let response = if (w + i) % 2 == 0 {
                        gateway.http.get(gateway.url(TOKEN_CONTEXT)).send().await
                    } else {
                        let url = gateway.url("/connections/demo/rest/hub/v1/campaigns");
                        gateway
                            .http
                            .post(url)
                            .json(&json!({"name": format!("w{w}-{i}")}))
                            .send()
                            .await
                    };
                    statuses.push(response.unwrap().status().as_u16());
                    if done.fetch_add(1, Ordering::SeqCst) == 100
                        && !revoked.swap(true, Ordering::SeqCst)
                    {
                        upstream.handle.revoke_all();
                    }
                }
                statuses
            })
        })
        .collect();
    for worker in workers {
        let statuses = worker.await.unwrap();
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
    assert!(revoked.load(Ordering::SeqCst));
    assert_eq!(
        upstream.token_requests(),
        2,
        "one token before, one after the revocation"
    );
}
