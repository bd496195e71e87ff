//! Contacts: create → update → delete by keys and by ids → the delete requests, with the
//! required `contactKey`, `type` and date parameters, business units and scopes.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

fn contact(key: &str) -> serde_json::Value {
    json!({"contactKey": key, "attributeSets": [{"name": "Email Addresses", "items": [{"values": [{"name": "Email Address", "value": "a@example.com"}]}]}]})
}

const REQUESTS: &str =
    "/contacts/v1/contacts/analytics/deleterequests?startdateutc=2000-01-01&enddateutc=2999-12-31";

#[tokio::test]
async fn create_update_delete_and_list_delete_requests() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let (status, created) = call(
        &emu,
        "POST",
        "/contacts/v1/contacts",
        &t,
        Some(contact("k1")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["operationStatus"], "OK");
    assert_eq!(created["contactKey"], "k1");
    assert_eq!(created["isNewContactKey"], true);
    assert_eq!(created["hasErrors"], false);
    let id = created["contactId"].as_u64().unwrap();
    let (_, second) = call(
        &emu,
        "POST",
        "/contacts/v1/contacts",
        &t,
        Some(contact("k2")),
    )
    .await;

    let (status, updated) = call(
        &emu,
        "PATCH",
        "/contacts/v1/contacts",
        &t,
        Some(contact("k1")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (
            updated["contactId"].clone(),
            updated["isNewContactKey"].clone()
        ),
        (json!(id), json!(false))
    );

    let body = json!({"values": ["k1"], "DeleteOperationType": "ContactAndAttributes"});
    let (status, deleted) = call(
        &emu,
        "POST",
        "/contacts/v1/contacts/actions/delete?type=keys",
        &t,
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["operationInitiated"], true);
    assert!(deleted["operationID"].is_u64());
    let by_id = json!({"values": [second["contactId"]]});
    assert_eq!(
        call(
            &emu,
            "POST",
            "/contacts/v1/contacts/actions/delete?type=ids",
            &t,
            Some(by_id)
        )
        .await
        .0,
        StatusCode::OK
    );

    assert_error(
        &call(
            &emu,
            "PATCH",
            "/contacts/v1/contacts",
            &t,
            Some(contact("k1")),
        )
        .await,
        StatusCode::NOT_FOUND,
        404,
    );
    let (status, requests) = call(&emu, "GET", REQUESTS, &t, None).await;
    assert_eq!(status, StatusCode::OK, "{requests}");
    let operations = requests["operations"].as_array().unwrap();
    assert_eq!(operations.len(), 2);
    assert_eq!(operations[0]["operationId"], deleted["operationID"]);
    assert_eq!(operations[0]["completedContactCount"], 1);
    let (_, none) = call(&emu, "GET", "/contacts/v1/contacts/analytics/deleterequests?startdateutc=2000-01-01&enddateutc=2000-01-02", &t, None).await;
    assert_eq!(none["operations"], json!([]));
    let (_, paged) = call(
        &emu,
        "GET",
        &format!("{REQUESTS}&$page=2&$pagesize=1"),
        &t,
        None,
    )
    .await;
    assert_eq!(paged["operations"].as_array().unwrap().len(), 1);
    assert_eq!(paged["pageNumber"], 2);
}

#[tokio::test]
async fn failures_name_what_is_wrong() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let reply = call(
        &emu,
        "POST",
        "/contacts/v1/contacts",
        &t,
        Some(json!({"attributeSets": []})),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10002);
    assert!(reply.1["message"].as_str().unwrap().contains("contactKey"));
    call(
        &emu,
        "POST",
        "/contacts/v1/contacts",
        &t,
        Some(contact("dup")),
    )
    .await;
    assert_error(
        &call(
            &emu,
            "POST",
            "/contacts/v1/contacts",
            &t,
            Some(contact("dup")),
        )
        .await,
        StatusCode::BAD_REQUEST,
        10000,
    );
    let reply = call(
        &emu,
        "POST",
        "/contacts/v1/contacts/actions/delete",
        &t,
        Some(json!({"values": ["dup"]})),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10000);
    assert!(reply.1["message"].as_str().unwrap().contains("type"));
    assert_error(
        &call(
            &emu,
            "POST",
            "/contacts/v1/contacts/actions/delete?type=keys",
            &t,
            Some(json!({"values": []})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        10002,
    );
    let reply = call(
        &emu,
        "GET",
        "/contacts/v1/contacts/analytics/deleterequests?startdateutc=2000-01-01",
        &t,
        None,
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10000);
    assert!(reply.1["message"].as_str().unwrap().contains("enddateutc"));
    let reply = call(&emu, "GET", "/contacts/v1/contacts/analytics/deleterequests?startdateutc=yesterday&enddateutc=2000-01-01", &t, None).await;
    assert!(
        reply.1["message"]
            .as_str()
            .unwrap()
            .contains("startdateutc")
    );
}

#[tokio::test]
async fn business_units_and_scopes() {
    let emu = emulator().await;
    let parent = access_token(&emu, None).await;
    let child = access_token(&emu, Some("100000002")).await;
    call(
        &emu,
        "POST",
        "/contacts/v1/contacts",
        &parent,
        Some(contact("p")),
    )
    .await;
    assert_error(
        &call(
            &emu,
            "PATCH",
            "/contacts/v1/contacts",
            &child,
            Some(contact("p")),
        )
        .await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_eq!(
        call(
            &emu,
            "POST",
            "/contacts/v1/contacts",
            &child,
            Some(contact("p"))
        )
        .await
        .1["isNewContactKey"],
        true
    );
    let read_only = token_with(&emu, None, Some("list_and_subscribers_read")).await;
    assert_eq!(
        call(&emu, "GET", REQUESTS, &read_only, None).await.0,
        StatusCode::OK
    );
    assert_error(
        &call(
            &emu,
            "POST",
            "/contacts/v1/contacts",
            &read_only,
            Some(contact("x")),
        )
        .await,
        StatusCode::FORBIDDEN,
        20002,
    );
}
