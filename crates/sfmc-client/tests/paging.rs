//! Paging streams over the three styles, three pages each, against a scripted server; streams
//! are lazy and a dropped stream stops asking.

#![allow(clippy::unwrap_used)]

mod support;

use futures_util::{StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use sfmc_client::Paging;
use sfmc_client::catalog;
use support::{Reply, Seen, Server};

/// The `$page` of a request's query (1 when absent).
fn page_of(seen: &Seen) -> usize {
    seen.query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("%24page="))
        .map_or(1, |p| p.parse().unwrap())
}

/// Five items, pages of two.
fn slice(page: usize) -> Vec<Value> {
    (1..=5)
        .skip((page - 1) * 2)
        .take(2)
        .map(|i| json!({"id": i.to_string()}))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn page_style_follows_page_numbers_until_the_total() {
    let server = Server::answering(|seen| {
        let page = page_of(seen);
        Reply::json(
            200,
            json!({"count": 5, "page": page, "pageSize": 2, "items": slice(page)}),
        )
    })
    .await;
    let (client, _) = server.client();
    let op = catalog::lookup("getCampaigns").unwrap();
    let items: Vec<Value> = client
        .call_all(op, &json!({"pageSize": 2}))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    let pages: Vec<_> = server.seen().iter().map(page_of).collect();
    assert_eq!(pages, [1, 2, 3]);
    assert!(
        server.seen()[0]
            .query
            .as_deref()
            .unwrap()
            .contains("%24pageSize=2")
    );
    // The typed stream goes the same way.
    let campaigns: Vec<_> = client.campaigns().list_all().try_collect().await.unwrap();
    assert_eq!(campaigns.len(), 5);
    assert_eq!(campaigns[4].id, "5");
}

#[tokio::test(start_paused = true)]
async fn definitions_style_stops_on_a_short_page() {
    let server = Server::answering(|seen| {
        let page = page_of(seen);
        let definitions = slice(page);
        Reply::json(200, json!({"definitions": definitions, "count": definitions.len(), "page": page, "pageSize": 2}))
    })
    .await;
    let (client, _) = server.client();
    let items: Vec<Value> = client
        .request(Method::GET, "/messaging/v1/email/definitions")
        .query("$pageSize", "2")
        .items(Paging::Definitions)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(
        server.seen().iter().map(page_of).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[tokio::test(start_paused = true)]
async fn next_link_style_follows_links_on_the_instance_host() {
    let server = Server::answering(|seen| {
        let page = page_of(seen);
        let next = match page {
            1 => json!("/data/v1/customobjectdata/key/subscribers/rowset?$page=2&$pageSize=2"),
            // An absolute link to another host: only its path and query are followed.
            2 => json!("https://evil.example/data/v1/customobjectdata/key/subscribers/rowset?$page=3&$pageSize=2"),
            _ => Value::Null,
        };
        let mut links = json!({"self": "/x"});
        if !next.is_null() {
            links["next"] = next;
        }
        Reply::json(200, json!({"links": links, "page": page, "pageSize": 2, "count": 5, "items": slice(page)}))
    })
    .await;
    let (client, _) = server.client();
    let rows: Vec<Value> = client
        .data_extensions()
        .rows("subscribers", None, Some(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|s| s.path == "/data/v1/customobjectdata/key/subscribers/rowset")
    );
    assert!(seen.iter().all(|s| s.authorization == "Bearer token-1-own"));
    assert_eq!(seen.iter().map(page_of).collect::<Vec<_>>(), [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn detected_style_and_laziness() {
    let server = Server::answering(|seen| {
        let page = page_of(seen);
        Reply::json(
            200,
            json!({"count": 5, "page": page, "pageSize": 2, "items": slice(page)}),
        )
    })
    .await;
    let (client, _) = server.client();
    // Taking three items needs two pages; the third is never asked for.
    let first_three: Vec<Value> = client
        .request(Method::GET, "/hub/v1/campaigns")
        .query("$pageSize", "2")
        .items(Paging::Page)
        .take(3)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first_three.len(), 3);
    assert_eq!(server.seen().len(), 2);
    // Detected from the first page's shape.
    let all: Vec<Value> = client
        .request(Method::GET, "/hub/v1/campaigns")
        .query("$pageSize", "2")
        .items_detected()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
}

#[tokio::test(start_paused = true)]
async fn an_error_ends_the_stream_with_it() {
    let server = Server::answering(|seen| match page_of(seen) {
        1 => Reply::json(
            200,
            json!({"count": 5, "page": 1, "pageSize": 2, "items": slice(1)}),
        ),
        _ => Reply::error(400, 10001, "bad page"),
    })
    .await;
    let (client, _) = server.client();
    let results: Vec<_> = client.campaigns().list_all().collect().await;
    assert_eq!(results.len(), 3);
    assert!(results[2].as_ref().unwrap_err().is_rejection());
}

#[tokio::test(start_paused = true)]
async fn a_page_in_the_path_is_the_one_paging_moves_on() {
    let server = Server::answering(|seen| {
        let page = page_of(seen);
        Reply::json(
            200,
            json!({"count": 5, "page": page, "pageSize": 2, "items": slice(page)}),
        )
    })
    .await;
    let (client, _) = server.client();
    let items: Vec<Value> = client
        .request(Method::GET, "/hub/v1/campaigns?$page=2&$pageSize=2")
        .items_detected()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 3, "pages 2 and 3: {items:?}");
    let queries: Vec<_> = server
        .seen()
        .into_iter()
        .map(|s| s.query.unwrap_or_default())
        .collect();
    assert_eq!(
        queries,
        ["%24page=2&%24pageSize=2", "%24pageSize=2&%24page=3"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_ignoring_the_page_number_ends_the_stream_with_an_error() {
    // Page 1 whatever is asked for, and it says so.
    let server = Server::answering(|_| {
        Reply::json(
            200,
            json!({"count": 9, "page": 1, "pageSize": 2, "items": slice(1)}),
        )
    })
    .await;
    let (client, _) = server.client();
    let op = catalog::lookup("getCampaigns").unwrap();
    let results: Vec<_> = client
        .call_all(op, &json!({"pageSize": 2}))
        .unwrap()
        .collect()
        .await;
    assert_eq!(results.len(), 3, "two items, then the error: {results:?}");
    let error = results[2].as_ref().unwrap_err();
    assert!(error.is_unavailable(), "{error}");
    assert!(
        error
            .to_string()
            .contains("asked for page 2, the answer is page 1"),
        "{error}"
    );
    assert_eq!(server.seen().len(), 2);

    // Page 1 whatever is asked for, without saying which: the requested numbers reach the total.
    let server = Server::answering(|_| {
        Reply::json(200, json!({"count": 5, "pageSize": 2, "items": slice(1)}))
    })
    .await;
    let (client, _) = server.client();
    let items: Vec<Value> = client
        .call_all(op, &json!({"pageSize": 2}))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(
        server.seen().iter().map(page_of).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[tokio::test(start_paused = true)]
async fn a_next_link_cycle_ends_the_stream_with_an_error() {
    const ROWS: &str = "/data/v1/customobjectdata/key/loop/rowset";
    // 1 → 2 → 3 → 2 → …
    let server = Server::answering(|seen| {
        let next = match page_of(seen) {
            1 | 3 => 2,
            _ => 3,
        };
        Reply::json(
            200,
            json!({"links": {"next": format!("{ROWS}?$page={next}&$pageSize=2")}, "items": slice(1)}),
        )
    })
    .await;
    let (client, _) = server.client();
    let results: Vec<_> = client
        .data_extensions()
        .rows("loop", None, Some(2))
        .collect()
        .await;
    assert_eq!(results.len(), 7, "three pages of two, then the error");
    let error = results[6].as_ref().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("leads back to a page already read"),
        "{error}"
    );
    assert_eq!(
        server.seen().iter().map(page_of).collect::<Vec<_>>(),
        [1, 2, 3]
    );

    // A page linking to itself.
    let server = Server::answering(|_| {
        Reply::json(
            200,
            json!({"links": {"next": format!("{ROWS}?$pageSize=2")}, "items": slice(1)}),
        )
    })
    .await;
    let (client, _) = server.client();
    let results: Vec<_> = client
        .data_extensions()
        .rows("loop", None, Some(2))
        .collect()
        .await;
    assert_eq!(results.len(), 3);
    assert!(results[2].is_err());
    assert_eq!(server.seen().len(), 1);
}
