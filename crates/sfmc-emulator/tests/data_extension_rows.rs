//! Data extension rows: the control plane that defines and inspects them, synchronous rowsets
//! and single rows, the asynchronous rows flow with a delayed status and per-row errors, row
//! reads following `links.next` across three pages, business units and scopes.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sfmc_emulator::RunningEmulator;

async fn people(emu: &RunningEmulator) {
    let body = json!({"key": "People", "fields": ["Id", {"name": "Email", "type": "EmailAddress", "length": 254}, {"name": "Age", "type": "Number"}], "primaryKeys": ["Id"]});
    let (status, described) = control(emu, "POST", "dataextensions", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{described}");
}

#[tokio::test]
async fn the_control_plane_defines_and_inspects() {
    let emu = emulator().await;
    people(&emu).await;
    let (status, described) = control(&emu, "GET", "dataextensions/people", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        described,
        json!({
            "key": "People", "mid": "100000001", "primaryKeys": ["Id"], "rows": 0,
            "fields": [
                {"name": "Id", "type": "Text", "length": null},
                {"name": "Email", "type": "EmailAddress", "length": 254},
                {"name": "Age", "type": "Number", "length": null},
            ],
        })
    );
    assert_eq!(
        control(
            &emu,
            "POST",
            "dataextensions",
            Some(json!({"key": "PEOPLE", "fields": ["x"]}))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    for (body, field) in [
        (json!({"fields": ["a"]}), "key"),
        (json!({"key": "k", "fields": []}), "fields"),
        (
            json!({"key": "k", "fields": [{"name": "a", "size": 3}]}),
            "fields",
        ),
        (json!({"key": "k", "fields": ["a", "A"]}), "fields"),
        (
            json!({"key": "k", "fields": ["a"], "primaryKeys": ["b"]}),
            "primaryKeys",
        ),
        (json!({"key": "k", "fields": ["a"], "mid": "999"}), "mid"),
        (json!({"key": "k", "fields": ["a"], "extra": 1}), "body"),
    ] {
        let (status, error) = control(&emu, "POST", "dataextensions", Some(body.clone())).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{body} {error}"
        );
    }
    assert_eq!(
        control(
            &emu,
            "POST",
            "dataextensions",
            Some(json!({"key": "Child", "fields": ["a"], "mid": 100000002}))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        control(&emu, "GET", "dataextensions/child", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        control(&emu, "GET", "dataextensions/child?mid=100000002", None)
            .await
            .1["rows"],
        0
    );
    assert_eq!(
        control(&emu, "GET", "dataextensions", None).await.1["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        control(&emu, "DELETE", "dataextensions/Child?mid=100000002", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        control(&emu, "GET", "dataextensions/child?mid=100000002", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn synchronous_rowsets_upsert_all_or_nothing() {
    let emu = emulator().await;
    people(&emu).await;
    let t = access_token(&emu, None).await;
    let rows = json!([
        {"keys": {"Id": "1"}, "values": {"Email": "a@example.com", "Age": 30}},
        {"keys": {"id": "2"}, "values": {"email": "b@example.com"}},
    ]);
    let (status, echoed) = call(
        &emu,
        "POST",
        "/hub/v1/dataevents/key:People/rowset",
        &t,
        Some(rows.clone()),
    )
    .await;
    assert_eq!((status, echoed), (StatusCode::OK, rows));
    let again = json!([{"keys": {"Id": "1"}, "values": {"Age": 31}}]);
    assert_eq!(
        call(
            &emu,
            "POST",
            "/hub/v1/dataevents/key:people/rowset",
            &t,
            Some(again)
        )
        .await
        .0,
        StatusCode::OK
    );
    let (_, listed) = control(&emu, "GET", "dataextensions/People/rows", None).await;
    assert_eq!(
        listed["items"],
        json!([{"Id": "1", "Email": "a@example.com", "Age": "31"}, {"Id": "2", "Email": "b@example.com"}])
    );

    let bad = json!([
        {"keys": {"Id": "3"}, "values": {"Nope": "x"}},
        {"values": {"Email": "c@example.com"}},
        {"keys": {"Id": "4"}, "values": {"Age": "old"}},
        {"keys": {"Id": "5"}},
    ]);
    let reply = call(
        &emu,
        "POST",
        "/hub/v1/dataevents/key:People/rowset",
        &t,
        Some(bad),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10006);
    let details = reply.1["additionalErrors"].as_array().unwrap();
    assert_eq!(details.len(), 3, "{}", reply.1);
    assert!(details[0]["message"].as_str().unwrap().contains("Nope"));
    assert_eq!(
        control(&emu, "GET", "dataextensions/People", None).await.1["rows"],
        2,
        "nothing written"
    );
    assert_error(
        &call(
            &emu,
            "POST",
            "/hub/v1/dataevents/key:Missing/rowset",
            &t,
            Some(json!([])),
        )
        .await,
        StatusCode::BAD_REQUEST,
        10000,
    );

    let (status, row) = call(
        &emu,
        "PUT",
        "/hub/v1/dataevents/key:People/rows/Id:9",
        &t,
        Some(json!({"values": {"Email": "z@example.com"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(
        row,
        json!({"keys": {"Id": "9"}, "values": {"Email": "z@example.com"}})
    );
    assert_eq!(
        control(&emu, "GET", "dataextensions/People", None).await.1["rows"],
        3
    );
    assert_error(
        &call(
            &emu,
            "PUT",
            "/hub/v1/dataevents/key:People/rows/Wrong:9",
            &t,
            Some(json!({"values": {}})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        10006,
    );
}

#[tokio::test]
async fn asynchronous_rows_with_a_delayed_status_and_row_errors() {
    let emu = emulator().await;
    people(&emu).await;
    let t = access_token(&emu, None).await;
    let (status, settings) = control(
        &emu,
        "POST",
        "settings",
        Some(json!({"async_pending_polls": 2})),
    )
    .await;
    assert_eq!(
        (status, settings),
        (StatusCode::OK, json!({"async_pending_polls": 2}))
    );
    let items = json!({"items": [
        {"Id": "1", "Email": "a@example.com"},
        {"Id": "2", "Unknown": "x"},
        {"Email": "no-key@example.com"},
        {"Id": "3", "Age": 40},
    ]});
    let (status, accepted) = call(
        &emu,
        "PUT",
        "/data/v1/async/dataextensions/key:People/rows",
        &t,
        Some(items),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    assert_eq!(accepted["resultMessages"], json!([]));
    let id = accepted["requestId"].as_str().unwrap().to_owned();
    let status_path = format!("/data/v1/async/{id}/status");
    for _ in 0..2 {
        let (_, pending) = call(&emu, "GET", &status_path, &t, None).await;
        assert_eq!(pending["status"]["requestStatus"], "Pending", "{pending}");
        let (_, early) = call(
            &emu,
            "GET",
            &format!("/data/v1/async/{id}/results"),
            &t,
            None,
        )
        .await;
        assert_eq!(early["items"], json!([]));
    }
    let (_, complete) = call(&emu, "GET", &status_path, &t, None).await;
    assert_eq!(
        complete["status"]["requestStatus"], "Complete",
        "{complete}"
    );
    assert_eq!(complete["status"]["hasErrors"], true);
    assert_eq!(complete["status"]["requestId"], id.as_str());
    let (_, results) = call(
        &emu,
        "GET",
        &format!("/data/v1/async/{id}/results"),
        &t,
        None,
    )
    .await;
    assert_eq!(results["count"], 2, "{results}");
    let codes: Vec<&str> = results["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["errorCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["InvalidColumn", "MissingPrimaryKey"]);
    assert!(
        results["items"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Row 2")
    );
    assert_eq!(
        control(&emu, "GET", "dataextensions/People", None).await.1["rows"],
        2
    );

    control(
        &emu,
        "POST",
        "settings",
        Some(json!({"async_pending_polls": 0})),
    )
    .await;
    let insert = json!({"items": [{"Id": "1", "Email": "dup@example.com"}, {"Id": "4"}]});
    let (_, accepted) = call(
        &emu,
        "POST",
        "/data/v1/async/dataextensions/key:People/rows",
        &t,
        Some(insert),
    )
    .await;
    let id = accepted["requestId"].as_str().unwrap();
    let (_, complete) = call(
        &emu,
        "GET",
        &format!("/data/v1/async/{id}/status"),
        &t,
        None,
    )
    .await;
    assert_eq!(complete["status"]["requestStatus"], "Complete");
    let (_, results) = call(
        &emu,
        "GET",
        &format!("/data/v1/async/{id}/results"),
        &t,
        None,
    )
    .await;
    assert_eq!(results["items"][0]["errorCode"], "UnexpectedError");
    assert_eq!(emu.handle().data_extension_rows("people", None), Some(3));

    let rows = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"Id": (1000 + i).to_string()}))
            .collect()
    };
    let reply = call(
        &emu,
        "PUT",
        "/data/v1/async/dataextensions/key:People/rows",
        &t,
        Some(json!({"items": rows(32_001)})),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10000);
    assert_eq!(
        reply.1["message"],
        "At most 32000 rows a request, not 32001."
    );
    assert_eq!(emu.handle().data_extension_rows("people", None), Some(3));
    let (status, accepted) = call(
        &emu,
        "PUT",
        "/data/v1/async/dataextensions/key:People/rows",
        &t,
        Some(json!({"items": rows(32_000)})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    assert_eq!(
        emu.handle().data_extension_rows("people", None),
        Some(3 + 32_000)
    );
    assert_error(
        &call(
            &emu,
            "PUT",
            "/data/v1/async/dataextensions/key:Nope/rows",
            &t,
            Some(json!({"items": []})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        10000,
    );
    assert_error(
        &call(
            &emu,
            "PUT",
            "/data/v1/async/dataextensions/key:People/rows",
            &t,
            Some(json!({"rows": []})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        10000,
    );
    assert_error(
        &call(&emu, "GET", "/data/v1/async/not-a-request/status", &t, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
}

#[tokio::test]
async fn row_reads_follow_links_next_across_three_pages() {
    let emu = emulator().await;
    people(&emu).await;
    let t = access_token(&emu, None).await;
    let items: Vec<Value> = (1..=5)
        .map(|i| json!({"Id": i.to_string(), "Email": format!("p{i}@example.com")}))
        .collect();
    call(
        &emu,
        "PUT",
        "/data/v1/async/dataextensions/key:People/rows",
        &t,
        Some(json!({"items": items})),
    )
    .await;
    let mut path = "/data/v1/customobjectdata/key/People/rowset?$pageSize=2".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = call(&emu, "GET", &path, &t, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["count"], 5);
        pages += 1;
        assert_eq!(page["page"], pages);
        for item in page["items"].as_array().unwrap() {
            assert_eq!(
                item["values"]["age"], "",
                "unset columns read as empty, names lower-cased"
            );
            seen.push((
                item["keys"]["id"].as_str().unwrap().to_owned(),
                item["values"]["email"].as_str().unwrap().to_owned(),
            ));
        }
        match page["links"]["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen[4], ("5".to_owned(), "p5@example.com".to_owned()));
    let (_, filtered) = call(
        &emu,
        "GET",
        "/data/v1/customobjectdata/key/People/rowset?$filter=Email%20eq%20'p3@example.com'",
        &t,
        None,
    )
    .await;
    assert_eq!(filtered["count"], 1);
    assert!(filtered["links"]["next"].is_null());
    // Filtered paging counts every match and returns only the page asked for.
    let (_, second) = call(
        &emu,
        "GET",
        "/data/v1/customobjectdata/key/People/rowset?$filter=Id%20gt%201&$pageSize=2&$page=2",
        &t,
        None,
    )
    .await;
    assert_eq!(second["count"], 4);
    let ids: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["keys"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["4", "5"]);
    assert!(second["links"]["next"].is_null());
    let (_, beyond) = call(
        &emu,
        "GET",
        "/data/v1/customobjectdata/key/People/rowset?$filter=Id%20gt%201&$pageSize=2&$page=9",
        &t,
        None,
    )
    .await;
    assert_eq!(
        (beyond["count"].clone(), beyond["items"].clone()),
        (json!(4), json!([]))
    );
    assert_error(
        &call(
            &emu,
            "GET",
            "/data/v1/customobjectdata/key/Nope/rowset",
            &t,
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_error(
        &call(
            &emu,
            "GET",
            "/data/v1/customobjectdata/key/People/rowset?$filter=Email",
            &t,
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        10000,
    );
}

#[tokio::test]
async fn business_units_and_scopes() {
    let emu = emulator().await;
    people(&emu).await;
    let child = access_token(&emu, Some("100000002")).await;
    let rows = json!([{"keys": {"Id": "1"}, "values": {}}]);
    assert_error(
        &call(
            &emu,
            "POST",
            "/hub/v1/dataevents/key:People/rowset",
            &child,
            Some(rows.clone()),
        )
        .await,
        StatusCode::BAD_REQUEST,
        10000,
    );
    let read_only = token_with(&emu, None, Some("data_extensions_read")).await;
    assert_error(
        &call(
            &emu,
            "POST",
            "/hub/v1/dataevents/key:People/rowset",
            &read_only,
            Some(rows),
        )
        .await,
        StatusCode::FORBIDDEN,
        20002,
    );
    assert_eq!(
        call(
            &emu,
            "GET",
            "/data/v1/customobjectdata/key/People/rowset",
            &read_only,
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    let write_only = token_with(&emu, None, Some("data_extensions_write")).await;
    assert_error(
        &call(
            &emu,
            "GET",
            "/data/v1/customobjectdata/key/People/rowset",
            &write_only,
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        20002,
    );
}
