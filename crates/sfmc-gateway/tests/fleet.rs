//! Two gateways behind one load balancer, sharing tokens through a real Redis: one token request
//! between them, however the load is spread. Uses `SFMC_TEST_REDIS_URL` or an own redis-server;
//! skips without either (fails when `SFMC_REQUIRE_REDIS=1`).

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

#[path = "../../sfmc-auth/tests/support/redis_server.rs"]
mod redis_server;

use std::sync::Arc;

use sfmc_auth::config::ServerConfig;
use sfmc_auth::store::{RedisStore, RedisStoreConfig};
use support::{Upstream, connections, manager, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_sharing_redis_make_one_token_request() {
    let Some(redis) = redis_server::any_server("two_gateways_sharing_redis_make_one_token_request")
    else {
        return;
    };
    let upstream = Upstream::start().await;
    // A prefix of its own, so that the shared server's other keys do not matter.
    let prefix = format!(
        "gateway-fleet-{}-{}:",
        std::process::id(),
        upstream.addr.port()
    );
    let gateway = || {
        let store =
            RedisStore::new(RedisStoreConfig::new(&redis.url).with_key_prefix(&prefix)).unwrap();
        start_with(
            connections(&upstream, manager(Some(Arc::new(store)))),
            ServerConfig::default(),
            Vec::new(),
        )
    };
    let (first, second) = (gateway().await, gateway().await);
    let path = "/connections/demo/rest/platform/v1/tokenContext";
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let target = if i % 2 == 0 { &first } else { &second };
            let (http, url) = (target.http.clone(), target.url(path));
            tokio::spawn(async move { http.get(url).send().await.unwrap().status().as_u16() })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), 200);
    }
    assert_eq!(upstream.token_requests(), 1, "one token for the fleet");
    for gateway in [&first, &second] {
        let text = gateway.get("/metrics").await.text().await.unwrap();
        assert!(
            text.contains("route=\"rest\",status=\"200\"} 100\n"),
            "{text}"
        );
    }
}
