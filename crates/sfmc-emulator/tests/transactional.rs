//! Transactional email and SMS: definitions (201, 409 on a taken key, `{definitions,count,…}`
//! paging across three pages, read/patch/delete by key), sends (202 with message keys, ≤ 2000
//! recipients, unknown definitions) and message status, business units and scopes.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn email_definition(key: &str) -> Value {
    json!({"definitionKey": key, "name": format!("Def {key}"), "content": {"customerKey": "email-1"}, "subscriptions": {"list": "All Subscribers"}})
}

fn sms_definition(key: &str) -> Value {
    json!({"definitionKey": key, "name": key, "content": {"message": "Hi %%FirstName%%"}, "subscriptions": {"shortCode": "12345", "countryCode": "US"}})
}

#[tokio::test]
async fn email_definitions_round_trip_and_conflict() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let path = "/messaging/v1/email/definitions";
    let (status, created) = call(
        &emu,
        "POST",
        path,
        &t,
        Some(email_definition("Order-Confirm")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["definitionKey"], "Order-Confirm");
    assert_eq!(created["status"], "Active");
    assert!(created["requestId"].is_string());
    assert_error(
        &call(
            &emu,
            "POST",
            path,
            &t,
            Some(email_definition("Order-Confirm")),
        )
        .await,
        StatusCode::CONFLICT,
        30004,
    );

    let one = "/messaging/v1/email/definitions/Order-Confirm";
    assert_eq!(
        call(&emu, "GET", one, &t, None).await.1["name"],
        "Def Order-Confirm"
    );
    let (status, patched) = call(
        &emu,
        "PATCH",
        one,
        &t,
        Some(json!({"status": "Inactive", "name": "Renamed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        (patched["status"].clone(), patched["name"].clone()),
        (json!("Inactive"), json!("Renamed"))
    );
    assert_error(
        &call(&emu, "PATCH", one, &t, Some(json!({"status": "Sleeping"}))).await,
        StatusCode::BAD_REQUEST,
        10005,
    );
    let (status, deleted) = call(&emu, "DELETE", one, &t, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["deletedDefinitionKey"], "Order-Confirm");
    assert_error(
        &call(&emu, "GET", one, &t, None).await,
        StatusCode::NOT_FOUND,
        30003,
    );
    assert_error(
        &call(&emu, "DELETE", one, &t, None).await,
        StatusCode::NOT_FOUND,
        30003,
    );

    let reply = call(
        &emu,
        "POST",
        path,
        &t,
        Some(json!({"name": "n", "content": {"customerKey": "c"}})),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10002);
    assert!(
        reply.1["message"]
            .as_str()
            .unwrap()
            .contains("definitionKey")
    );
    let reply = call(
        &emu,
        "POST",
        path,
        &t,
        Some(json!({"definitionKey": "k", "name": "n"})),
    )
    .await;
    assert!(
        reply.1["message"]
            .as_str()
            .unwrap()
            .contains("content.customerKey")
    );
}

#[tokio::test]
async fn definitions_page_with_count_on_the_page() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    for i in 1..=5 {
        call(
            &emu,
            "POST",
            "/messaging/v1/sms/definitions",
            &t,
            Some(sms_definition(&format!("s{i}"))),
        )
        .await;
    }
    let mut keys = Vec::new();
    for (page, expected) in [(1, 2), (2, 2), (3, 1)] {
        let path = format!("/messaging/v1/sms/definitions?$page={page}&$pageSize=2");
        let (status, list) = call(&emu, "GET", &path, &t, None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(
            (
                list["count"].clone(),
                list["page"].clone(),
                list["pageSize"].clone()
            ),
            (json!(expected), json!(page), json!(2))
        );
        keys.extend(
            list["definitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["definitionKey"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(keys, ["s1", "s2", "s3", "s4", "s5"]);
    assert_eq!(
        call(&emu, "GET", "/messaging/v1/email/definitions", &t, None)
            .await
            .1["count"],
        0
    );
    let (_, filtered) = call(
        &emu,
        "GET",
        "/messaging/v1/sms/definitions?$filter=definitionKey%20eq%20's3'",
        &t,
        None,
    )
    .await;
    assert_eq!(filtered["count"], 1);
    assert_error(
        &call(&emu, "GET", "/messaging/v1/fax/definitions", &t, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
}

#[tokio::test]
async fn sends_return_message_keys_and_status() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    call(
        &emu,
        "POST",
        "/messaging/v1/email/definitions",
        &t,
        Some(email_definition("welcome")),
    )
    .await;
    let body = json!({"definitionKey": "welcome", "recipients": [
        {"contactKey": "c1", "to": "c1@example.com", "messageKey": "m-1"},
        {"contactKey": "c2", "to": "c2@example.com"},
    ]});
    let (status, sent) = call(&emu, "POST", "/messaging/v1/email/messages", &t, Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    assert_eq!(sent["errorcode"], 0);
    assert!(sent["requestId"].is_string());
    let responses = sent["responses"].as_array().unwrap();
    assert_eq!(responses[0]["messageKey"], "m-1");
    assert!(responses[1]["messageKey"].as_str().unwrap().len() > 10);

    let (status, state) = call(&emu, "GET", "/messaging/v1/email/messages/m-1", &t, None).await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(
        state["eventCategoryType"],
        "TransactionalSendEvents.EmailSent"
    );
    assert_eq!(state["info"]["contactKey"], "c1");
    assert_eq!(state["info"]["to"], "c1@example.com");
    assert_error(
        &call(&emu, "GET", "/messaging/v1/email/messages/nope", &t, None).await,
        StatusCode::NOT_FOUND,
        30003,
    );

    let single = json!({"definitionKey": "welcome", "recipient": {"contactKey": "c3", "to": "c3@example.com"}});
    let (status, sent) = call(
        &emu,
        "POST",
        "/messaging/v1/email/messages/Single-Key",
        &t,
        Some(single),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    assert_eq!(sent["responses"][0]["messageKey"], "Single-Key");
    assert_eq!(
        call(
            &emu,
            "GET",
            "/messaging/v1/email/messages/Single-Key",
            &t,
            None
        )
        .await
        .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn send_failures() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    call(
        &emu,
        "POST",
        "/messaging/v1/sms/definitions",
        &t,
        Some(sms_definition("otp")),
    )
    .await;
    let send = |body: Value| call(&emu, "POST", "/messaging/v1/sms/messages", &t, Some(body));
    assert_error(
        &send(json!({"definitionKey": "missing", "recipients": [{"contactKey": "c"}]})).await,
        StatusCode::BAD_REQUEST,
        30003,
    );
    assert_error(
        &send(json!({"recipients": [{"contactKey": "c"}]})).await,
        StatusCode::BAD_REQUEST,
        10002,
    );
    assert_error(
        &send(json!({"definitionKey": "otp", "recipients": []})).await,
        StatusCode::BAD_REQUEST,
        109102,
    );
    let reply = send(json!({"definitionKey": "otp", "recipients": [{"to": "+15550100"}]})).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10002);
    assert!(
        reply.1["message"]
            .as_str()
            .unwrap()
            .contains("recipients[0].contactKey")
    );
    let many: Vec<Value> = (0..2001)
        .map(|i| json!({"contactKey": format!("c{i}")}))
        .collect();
    assert_error(
        &send(json!({"definitionKey": "otp", "recipients": many})).await,
        StatusCode::BAD_REQUEST,
        109101,
    );
    let most: Vec<Value> = (0..2000)
        .map(|i| json!({"contactKey": format!("c{i}")}))
        .collect();
    let (status, sent) = send(json!({"definitionKey": "otp", "recipients": most})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(sent["responses"].as_array().unwrap().len(), 2000);
    let key = sent["responses"][0]["messageKey"].as_str().unwrap();
    let (_, state) = call(
        &emu,
        "GET",
        &format!("/messaging/v1/sms/messages/{key}"),
        &t,
        None,
    )
    .await;
    assert_eq!(
        state["eventCategoryType"],
        "TransactionalSendEvents.SMSSent"
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
        "/messaging/v1/email/definitions",
        &parent,
        Some(email_definition("shared-key")),
    )
    .await;
    assert_error(
        &call(
            &emu,
            "GET",
            "/messaging/v1/email/definitions/shared-key",
            &child,
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        30003,
    );
    assert_eq!(
        call(
            &emu,
            "POST",
            "/messaging/v1/email/definitions",
            &child,
            Some(email_definition("shared-key"))
        )
        .await
        .0,
        StatusCode::CREATED
    );

    let no_send = token_with(&emu, None, Some("email_read email_write")).await;
    let body = json!({"definitionKey": "shared-key", "recipients": [{"contactKey": "c"}]});
    assert_error(
        &call(
            &emu,
            "POST",
            "/messaging/v1/email/messages",
            &no_send,
            Some(body),
        )
        .await,
        StatusCode::FORBIDDEN,
        20002,
    );
    let email_only = token_with(&emu, None, Some("email_read")).await;
    assert_error(
        &call(
            &emu,
            "GET",
            "/messaging/v1/sms/definitions",
            &email_only,
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        20002,
    );
    assert_error(
        &call(
            &emu,
            "POST",
            "/messaging/v1/email/definitions",
            &email_only,
            Some(email_definition("x")),
        )
        .await,
        StatusCode::FORBIDDEN,
        20002,
    );
}
