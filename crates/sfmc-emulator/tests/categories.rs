//! Content Builder categories: PascalCase create (camelCase accepted) → list by
//! `parentId eq N` across three pages → update → delete, and their failures.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

const PATH: &str = "/asset/v1/content/categories";

#[tokio::test]
async fn create_list_update_delete_round_trip() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let (status, root) = call(
        &emu,
        "POST",
        PATH,
        &t,
        Some(json!({"Name": "Root", "ParentId": 0})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{root}");
    let root_id = root["Id"].as_u64().unwrap();
    assert_eq!(root["Name"], "Root");
    assert_eq!(root["CategoryType"], "asset");
    assert_eq!(root["MemberId"], 100000001);
    assert_eq!(root["EnterpriseId"], 100000001);
    let (status, child) = call(
        &emu,
        "POST",
        PATH,
        &t,
        Some(json!({"name": "Child", "parentId": root_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    assert_eq!(child["ParentId"], root_id);
    let child_id = child["Id"].as_u64().unwrap();

    let (_, list) = call(
        &emu,
        "GET",
        &format!("{PATH}?$filter=parentId%20eq%20{root_id}"),
        &t,
        None,
    )
    .await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["items"][0]["name"], "Child");

    let path = format!("{PATH}/{child_id}");
    let (status, updated) = call(&emu, "PUT", &path, &t, Some(json!({"Name": "Renamed"}))).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["parentId"], root_id);

    let blocked = call(&emu, "DELETE", &format!("{PATH}/{root_id}"), &t, None).await;
    assert_error(&blocked, StatusCode::BAD_REQUEST, 10000);
    assert_eq!(
        call(&emu, "DELETE", &path, &t, None).await,
        (StatusCode::OK, json!("OK"))
    );
    assert_error(
        &call(&emu, "GET", &path, &t, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
}

#[tokio::test]
async fn invalid_categories_are_400() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    assert_error(
        &call(&emu, "POST", PATH, &t, Some(json!({"ParentId": 0}))).await,
        StatusCode::BAD_REQUEST,
        10002,
    );
    let reply = call(
        &emu,
        "POST",
        PATH,
        &t,
        Some(json!({"Name": "x", "ParentId": 424242})),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10000);
    assert!(reply.1["message"].as_str().unwrap().contains("ParentId"));
}

#[tokio::test]
async fn pages_children_of_one_parent() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let (_, root) = call(&emu, "POST", PATH, &t, Some(json!({"Name": "Root"}))).await;
    let root_id = root["Id"].as_u64().unwrap();
    for i in 0..5 {
        call(
            &emu,
            "POST",
            PATH,
            &t,
            Some(json!({"Name": format!("c{i}"), "ParentId": root_id})),
        )
        .await;
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let path = format!("{PATH}?$filter=ParentId+eq+{root_id}&$page={page}&$pagesize=2");
        let (_, list) = call(&emu, "GET", &path, &t, None).await;
        assert_eq!(list["count"], 5);
        seen.extend(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen, ["c0", "c1", "c2", "c3", "c4"]);
    let other_unit = access_token(&emu, Some("100000002")).await;
    assert_eq!(
        call(&emu, "GET", PATH, &other_unit, None).await.1["count"],
        0
    );
}
