//! Campaigns: create → list → update → delete, required fields and length limits, paging
//! across three pages with the default `ModifiedDate DESC` order, `$filter`, business-unit
//! isolation and the scope check.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn create_list_update_delete_round_trip() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let (status, created) = call(&emu, "POST", "/hub/v1/campaigns", &t, Some(json!({
        "name": "Summer Sale", "description": "d", "campaignCode": "SUM-1", "color": "ff0000", "favorite": true,
    }))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().expect("id is a string").to_owned();
    assert_eq!(created["name"], "Summer Sale");
    assert_eq!(created["favorite"], true);
    assert!(created["createdDate"].as_str().unwrap().ends_with('Z'));

    let (status, list) = call(&emu, "GET", "/hub/v1/campaigns", &t, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["count"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());

    let path = format!("/hub/v1/campaigns/{id}");
    let (status, updated) = call(
        &emu,
        "PATCH",
        &path,
        &t,
        Some(json!({"name": "Winter Sale"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Winter Sale");
    assert_eq!(updated["campaignCode"], "SUM-1");
    assert_eq!(
        call(&emu, "GET", &path, &t, None).await.1["name"],
        "Winter Sale"
    );

    let (status, body) = call(&emu, "DELETE", &path, &t, None).await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    assert_error(
        &call(&emu, "GET", &path, &t, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_error(
        &call(&emu, "DELETE", &path, &t, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_eq!(
        call(&emu, "GET", "/hub/v1/campaigns", &t, None).await.1["count"],
        0
    );
}

#[tokio::test]
async fn required_fields_and_limits_are_400_naming_the_field() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let reply = call(
        &emu,
        "POST",
        "/hub/v1/campaigns",
        &t,
        Some(json!({"description": "no name"})),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10002);
    assert!(
        reply.1["message"].as_str().unwrap().contains("name"),
        "{}",
        reply.1
    );
    for (field, len) in [("name", 129), ("description", 513), ("campaignCode", 37)] {
        let mut body = json!({"name": "ok"});
        body[field] = json!("x".repeat(len));
        let reply = call(&emu, "POST", "/hub/v1/campaigns", &t, Some(body)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, 10000);
        assert!(
            reply.1["message"].as_str().unwrap().contains(field),
            "{}",
            reply.1
        );
    }
    let mut at_limit = json!({"name": "n".repeat(128), "description": "d".repeat(512), "campaignCode": "c".repeat(36)});
    assert_eq!(
        call(&emu, "POST", "/hub/v1/campaigns", &t, Some(at_limit.take()))
            .await
            .0,
        StatusCode::OK
    );
    assert_error(
        &call(
            &emu,
            "POST",
            "/hub/v1/campaigns",
            &t,
            Some(json!({"name": "x", "favorite": "yes"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        10000,
    );
    let reply = client()
        .post(format!("{}/hub/v1/campaigns", emu.url()))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(&status_json(reply).await, StatusCode::BAD_REQUEST, 10000);
}

#[tokio::test]
async fn pages_newest_first_across_three_pages() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    for i in 1..=5 {
        let reply = call(
            &emu,
            "POST",
            "/hub/v1/campaigns",
            &t,
            Some(json!({"name": format!("c{i}")})),
        )
        .await;
        assert_eq!(reply.0, StatusCode::OK);
    }
    let mut names = Vec::new();
    for (page, query) in [
        (1, "$page=1&$pageSize=2"),
        (2, "$PAGE=2&$pagesize=2"),
        (3, "page=3&PageSize=2"),
    ] {
        let (status, list) = call(
            &emu,
            "GET",
            &format!("/HUB/v1//campaigns?{query}"),
            &t,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(
            (
                list["count"].clone(),
                list["page"].clone(),
                list["pageSize"].clone()
            ),
            (json!(5), json!(page), json!(2))
        );
        names.extend(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(names, ["c5", "c4", "c3", "c2", "c1"]);
    let (_, list) = call(
        &emu,
        "GET",
        "/hub/v1/campaigns?$orderBy=name%20asc&$pageSize=500",
        &t,
        None,
    )
    .await;
    assert_eq!(list["pageSize"], 50, "pageSize is capped at 50");
    assert_eq!(list["items"][0]["name"], "c1");
    let (_, list) = call(
        &emu,
        "GET",
        "/hub/v1/campaigns?$filter=name%20eq%20'c3'",
        &t,
        None,
    )
    .await;
    assert_eq!(list["count"], 1);
    let (_, list) = call(
        &emu,
        "GET",
        "/hub/v1/campaigns?$filter=name+like+'c%25'+and+name+ne+'c1'",
        &t,
        None,
    )
    .await;
    assert_eq!(list["count"], 4);
    assert_error(
        &call(
            &emu,
            "GET",
            "/hub/v1/campaigns?$filter=name%20is%20c3",
            &t,
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        10000,
    );
    assert_error(
        &call(&emu, "GET", "/hub/v1/campaigns?$page=0", &t, None).await,
        StatusCode::BAD_REQUEST,
        10000,
    );
}

#[tokio::test]
async fn each_business_unit_sees_only_its_own_campaigns() {
    let emu = emulator().await;
    let parent = access_token(&emu, None).await;
    let child = access_token(&emu, Some("100000002")).await;
    let (_, created) = call(
        &emu,
        "POST",
        "/hub/v1/campaigns",
        &parent,
        Some(json!({"name": "parent's"})),
    )
    .await;
    let path = format!("/hub/v1/campaigns/{}", created["id"].as_str().unwrap());
    assert_eq!(
        call(&emu, "GET", "/hub/v1/campaigns", &child, None).await.1["count"],
        0
    );
    assert_error(
        &call(&emu, "GET", &path, &child, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_error(
        &call(&emu, "DELETE", &path, &child, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_eq!(
        call(&emu, "GET", &path, &parent, None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_the_scope_it_is_403_20002() {
    let emu = emulator().await;
    let read_only = token_with(&emu, None, Some("campaign_read")).await;
    assert_eq!(
        call(&emu, "GET", "/hub/v1/campaigns", &read_only, None)
            .await
            .0,
        StatusCode::OK
    );
    let reply = call(
        &emu,
        "POST",
        "/hub/v1/campaigns",
        &read_only,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_error(&reply, StatusCode::FORBIDDEN, 20002);
    let none = token_with(&emu, None, Some("")).await;
    assert_error(
        &call(&emu, "GET", "/hub/v1/campaigns", &none, None).await,
        StatusCode::FORBIDDEN,
        20002,
    );
    assert_eq!(
        get(&emu, "/hub/v1/campaigns", None).await,
        (StatusCode::UNAUTHORIZED, not_authorized())
    );
}
