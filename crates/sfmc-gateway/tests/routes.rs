//! The gateway's own routes end to end: health, connections, the connection test, operations
//! (listed, run, refused with 404/400, Marketing Cloud's 4xx passed through) and the metrics page.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use serde_json::{Value, json};
use sfmc_client::catalog;
use sfmc_emulator::{DEMO_CHILD_ACCOUNT_ID, DEMO_CLIENT_SECRET};
use support::{Upstream, start};

#[tokio::test]
async fn health_and_connections_show_no_secret() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    let (status, health) = gateway.get_json("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let response = gateway.get("/connections").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(DEMO_CLIENT_SECRET), "{text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["connections"][0]["name"], "demo");
    assert_eq!(
        list["connections"][0]["auth_base_uri"],
        format!("{}/", upstream.url())
    );
    let (status, missing) = gateway.get_json("/nowhere").await;
    assert_eq!(
        (status, missing["error"].as_str()),
        (404, Some("not_found"))
    );
    let wrong_method = gateway
        .http
        .post(gateway.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
}

#[tokio::test]
async fn the_connection_test_calls_userinfo() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    let (status, test) = gateway.get_json("/connections/demo/test").await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(test["ok"], true);
    assert_eq!(test["connection"], "demo");
    assert!(test["userinfo"]["organization"].is_object(), "{test}");
    assert!(upstream.seen().iter().any(|s| s.uri == "/v2/userinfo"));
    let (status, child) = gateway
        .get_json(&format!(
            "/connections/demo/test?account_id={DEMO_CHILD_ACCOUNT_ID}"
        ))
        .await;
    assert_eq!(
        (status, child["account_id"].as_str()),
        (200, Some(DEMO_CHILD_ACCOUNT_ID)),
        "{child}"
    );
    let (status, unknown) = gateway.get_json("/connections/other/test").await;
    assert_eq!(
        (status, unknown["error"].as_str()),
        (404, Some("unknown_connection"))
    );
}

#[tokio::test]
async fn operations_are_listed_run_and_refused_like_sfmc_call() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    let (status, list) = gateway.get_json("/connections/demo/operations").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = catalog::operations().iter().map(|o| o.name).collect();
    assert_eq!(names, expected);

    let op = |name: &str| gateway.url(&format!("/connections/demo/operations/{name}"));
    let created = gateway
        .http
        .post(op("createCampaign"))
        .json(&json!({"name": "Launch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["name"], "Launch");
    let id = created["id"].as_str().unwrap().to_owned();
    // The same parameters as `sfmc call`, in another business unit.
    let child = gateway
        .http
        .post(format!(
            "{}?account_id={DEMO_CHILD_ACCOUNT_ID}",
            op("getCampaigns")
        ))
        .send()
        .await
        .unwrap();
    let child: Value = child.json().await.unwrap();
    assert!(
        !child.to_string().contains(&id),
        "business units are apart: {child}"
    );
    let own: Value = gateway
        .http
        .post(op("getCampaigns"))
        .body("")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(own.to_string().contains(&id), "{own}");

    let unknown = gateway
        .http
        .post(op("createCampain"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(unknown["error"], "unknown_operation");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("createCampaign"),
        "{unknown}"
    );

    for (params, parameter) in [
        (json!({}), "name"),
        (json!({"name": 5}), "name"),
        (json!({"name": "x", "colour": "red"}), "colour"),
    ] {
        let refused = gateway
            .http
            .post(op("createCampaign"))
            .json(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{params}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "invalid_parameters");
        assert_eq!(body["parameter"], parameter, "{body}");
    }
    let not_json = gateway
        .http
        .post(op("createCampaign"))
        .body("{name")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);

    // Marketing Cloud's own 4xx: status and body as it answered.
    let missing = gateway
        .http
        .post(op("deleteCampaign"))
        .json(&json!({"campaignId": "999999"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["errorcode"], 404, "{body}");

    let (status, unknown_connection) = gateway.get_json("/connections/x/operations").await;
    assert_eq!(
        (status, unknown_connection["error"].as_str()),
        (404, Some("unknown_connection"))
    );
    let get = gateway
        .get("/connections/demo/operations/createCampaign")
        .await;
    assert_eq!(get.status(), 405);
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_latency() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    for _ in 0..3 {
        assert_eq!(
            gateway
                .get("/connections/demo/rest/platform/v1/tokenContext")
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        gateway
            .get("/connections/demo/rest/hub/v1/campaigns/123456")
            .await
            .status(),
        404
    );
    assert_eq!(gateway.get("/connections/zzz/rest/x").await.status(), 404);
    assert_eq!(gateway.get("/healthz").await.status(), 200);
    let response = gateway.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for line in [
        "sfmc_gateway_requests_total{connection=\"demo\",route=\"rest\",status=\"200\"} 3\n",
        "sfmc_gateway_requests_total{connection=\"demo\",route=\"rest\",status=\"404\"} 1\n",
        "sfmc_gateway_requests_total{connection=\"\",route=\"rest\",status=\"404\"} 1\n",
        "sfmc_gateway_requests_total{connection=\"\",route=\"healthz\",status=\"200\"} 1\n",
        "sfmc_gateway_request_duration_seconds_count{connection=\"demo\",route=\"rest\"} 4\n",
        "sfmc_gateway_request_duration_seconds_bucket{connection=\"demo\",route=\"rest\",le=\"+Inf\"} 4\n",
        "sfmc_gateway_token_requests_total 1\n",
        "sfmc_gateway_token_failures_total{connection=\"demo\"} 0\n",
        "# TYPE sfmc_gateway_token_age_seconds gauge\n",
        "sfmc_gateway_requests_in_flight 1\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        text.contains("sfmc_gateway_token_age_seconds{connection=\"demo\"} "),
        "{text}"
    );
    assert!(
        text.contains("sfmc_gateway_token_expires_in_seconds{connection=\"demo\"} "),
        "{text}"
    );
    assert!(!text.contains("zzz"), "labels never come from the request");
}

#[tokio::test]
async fn names_that_do_not_decode_are_json_404s_too() {
    let upstream = Upstream::start().await;
    let gateway = start(&upstream).await;
    for (method, target, error) in [
        ("GET", "/connections/%FF/test", "unknown_connection"),
        ("GET", "/connections/%FF/operations", "unknown_connection"),
        (
            "POST",
            "/connections/%C0%AF/operations/createCampaign",
            "unknown_connection",
        ),
        (
            "POST",
            "/connections/demo/operations/%FF",
            "unknown_operation",
        ),
        (
            "GET",
            "/connections/%FF/rest/hub/v1/campaigns",
            "unknown_connection",
        ),
    ] {
        let (status, body) = support::raw(gateway.addr, method, target).await;
        let body: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {target}: {e}: {body:?}"));
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some(error)),
            "{method} {target}: {body}"
        );
    }
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
}
