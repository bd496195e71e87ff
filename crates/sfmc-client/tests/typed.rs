//! The typed family methods go through the catalog: the requests they make, the fields they
//! keep, and no token in logs or errors (tracing captured at TRACE).

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};
use sfmc_client::ops::ListOptions;
use sfmc_client::ops::campaigns::NewCampaign;
use sfmc_client::ops::data_extensions::Row;
use support::{Reply, Server};

#[tokio::test(start_paused = true)]
async fn campaign_methods_make_the_catalogs_requests_and_keep_unknown_fields() {
    let server = Server::scripted(vec![
        Reply::json(200, json!({"id": 17, "name": "Summer Sale", "createdDate": "2024-06-01"})),
        Reply::json(200, json!({"count": 1, "page": 1, "pageSize": 10, "items": [{"id": "17", "name": "Summer Sale"}], "links": {}})),
        Reply::json(200, json!({"id": "17", "name": "Winter Sale"})),
        Reply::json(200, Value::Null),
    ])
    .await;
    let (client, _) = server.client();
    let mut extra = Map::new();
    extra.insert("custom".into(), json!("kept"));
    let created = client
        .campaigns()
        .create(&NewCampaign {
            name: Some("Summer Sale".into()),
            favorite: Some(true),
            extra,
            ..NewCampaign::default()
        })
        .await
        .unwrap();
    assert_eq!(created.id, "17", "a numeric id is read as text");
    assert_eq!(created.extra["createdDate"], "2024-06-01");
    let page = client
        .campaigns()
        .list(&ListOptions {
            page_size: Some(10),
            ..ListOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items[0].name, "Summer Sale");
    assert!(page.extra.contains_key("links"));
    let renamed = client
        .campaigns()
        .update(
            "17",
            &NewCampaign {
                name: Some("Winter Sale".into()),
                ..NewCampaign::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Winter Sale");
    client.campaigns().delete("17").await.unwrap();

    let seen = server.seen();
    let requests: Vec<_> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        requests,
        [
            "POST /hub/v1/campaigns",
            "GET /hub/v1/campaigns",
            "PATCH /hub/v1/campaigns/17",
            "DELETE /hub/v1/campaigns/17"
        ]
    );
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(
        body,
        json!({"name": "Summer Sale", "favorite": true, "custom": "kept"})
    );
    assert_eq!(seen[1].query.as_deref(), Some("%24pageSize=10"));
    assert_eq!(
        serde_json::from_str::<Value>(&seen[2].body).unwrap(),
        json!({"name": "Winter Sale"})
    );
}

#[tokio::test(start_paused = true)]
async fn typed_inputs_are_validated_by_the_catalog() {
    let server = Server::scripted(vec![]).await;
    let (client, _) = server.client();
    let error = client
        .campaigns()
        .create(&NewCampaign::default())
        .await
        .unwrap_err();
    assert!(error.is_invalid_input(), "{error}");
    assert!(error.to_string().contains("\"name\""), "{error}");
    assert!(server.seen().is_empty());
}

#[tokio::test(start_paused = true)]
async fn rows_and_sends() {
    let server = Server::scripted(vec![
        Reply::json(200, json!([{"keys": {"id": "1"}, "values": {"email": "a@example.com"}}])),
        Reply::json(202, json!({"requestId": "r1", "errorcode": 0, "responses": [{"messageKey": "m1"}, {"messageKey": "m2"}]})),
    ])
    .await;
    let (client, _) = server.client();
    let row = Row {
        keys: [("id".to_owned(), json!("1"))].into_iter().collect(),
        values: [("email".to_owned(), json!("a@example.com"))]
            .into_iter()
            .collect(),
    };
    client
        .data_extensions()
        .upsert_rows("subscribers", &[row])
        .await
        .unwrap();
    let recipients = [
        json!({"contactKey": "c1", "to": "a@example.com"}),
        json!({"contactKey": "c2", "to": "b@example.com"}),
    ];
    let sent = client
        .messaging()
        .send_email("welcome", &recipients)
        .await
        .unwrap();
    assert_eq!(sent.message_keys(), ["m1", "m2"]);
    let seen = server.seen();
    assert_eq!(seen[0].path, "/hub/v1/dataevents/key:subscribers/rowset");
    assert_eq!(seen[1].path, "/messaging/v1/email/messages");
    let body: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(body["definitionKey"], "welcome");
    assert_eq!(body["recipients"].as_array().unwrap().len(), 2);
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn trace_logs_and_errors_hold_no_token() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = Server::scripted(vec![
        Reply::error(401, 0, "Not Authorized"),
        Reply::error(503, 503, "Service Unavailable"),
        Reply::json(
            200,
            json!({"count": 0, "page": 1, "pageSize": 50, "items": []}),
        ),
        Reply::error(401, 0, "Not Authorized"),
        Reply::error(401, 0, "Not Authorized"),
    ])
    .await;
    let (client, _) = server.client();
    let items: Vec<_> = client.campaigns().list_all().try_collect().await.unwrap();
    assert!(items.is_empty());
    let error = client.campaigns().delete("1").await.unwrap_err();
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "tracing was captured: {logs}");
    for text in [
        logs.as_str(),
        &error.to_string(),
        &format!("{error:?}"),
        &format!("{client:?}"),
    ] {
        assert!(!text.contains("token-"), "a token leaked: {text}");
        assert!(!text.contains("test-secret"), "the secret leaked: {text}");
    }
}
