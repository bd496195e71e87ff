//! Content Builder assets: create (201, numeric id) → list with `$filter`, `$orderBy`,
//! `$fields` and three pages → patch → delete, validation, business units and scopes.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

fn asset(name: &str) -> serde_json::Value {
    json!({"name": name, "assetType": {"id": 208, "name": "htmlemail"}, "content": "<p>hi</p>", "category": {"id": 1}})
}

#[tokio::test]
async fn create_list_update_delete_round_trip() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let (status, created) = call(
        &emu,
        "POST",
        "/asset/v1/content/assets",
        &t,
        Some(asset("Welcome")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_u64().expect("numeric id");
    assert_eq!(created["name"], "Welcome");
    assert!(created["customerKey"].is_string());
    assert_eq!(created["memberId"], 100000001);

    let (status, list) = call(
        &emu,
        "GET",
        "/asset/v1/content/assets?$filter=name%20eq%20'Welcome'",
        &t,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["count"], 1);
    assert_eq!(list["items"][0]["id"], id);

    let path = format!("/asset/v1/content/assets/{id}");
    let (status, updated) = call(
        &emu,
        "PATCH",
        &path,
        &t,
        Some(json!({"name": "Welcome v2", "id": 5})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["name"].clone(), updated["id"].clone()),
        (json!("Welcome v2"), json!(id))
    );
    assert_eq!(updated["content"], "<p>hi</p>");

    assert_eq!(
        call(&emu, "DELETE", &path, &t, None).await,
        (StatusCode::OK, json!("OK"))
    );
    assert_error(
        &call(&emu, "GET", &path, &t, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_error(
        &call(&emu, "PATCH", &path, &t, Some(json!({"name": "x"}))).await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_error(
        &call(&emu, "DELETE", &path, &t, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
}

#[tokio::test]
async fn invalid_assets_are_400() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let reply = call(
        &emu,
        "POST",
        "/asset/v1/content/assets",
        &t,
        Some(json!({"assetType": {"id": 208}})),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10002);
    assert!(reply.1["message"].as_str().unwrap().contains("name"));
    let reply = call(
        &emu,
        "POST",
        "/asset/v1/content/assets",
        &t,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 10000);
    assert!(reply.1["message"].as_str().unwrap().contains("assetType"));
    let mut keyed = asset("a");
    keyed["customerKey"] = json!("key-1");
    assert_eq!(
        call(
            &emu,
            "POST",
            "/asset/v1/content/assets",
            &t,
            Some(keyed.clone())
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_error(
        &call(&emu, "POST", "/asset/v1/content/assets", &t, Some(keyed)).await,
        StatusCode::BAD_REQUEST,
        10000,
    );
    assert_error(
        &call(&emu, "GET", "/asset/v1/content/assets/abc", &t, None).await,
        StatusCode::BAD_REQUEST,
        10000,
    );
}

#[tokio::test]
async fn pages_orders_filters_and_projects() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    for name in ["e", "d", "c", "b", "a"] {
        call(
            &emu,
            "POST",
            "/asset/v1/content/assets",
            &t,
            Some(asset(name)),
        )
        .await;
    }
    let mut names = Vec::new();
    for page in 1..=3 {
        let path = format!(
            "/asset/v1/content/assets?$page={page}&$pagesize=2&$orderBy=name%20asc&$fields=name"
        );
        let (status, list) = call(&emu, "GET", &path, &t, None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(
            (list["count"].clone(), list["page"].clone()),
            (json!(5), json!(page))
        );
        for item in list["items"].as_array().unwrap() {
            let mut keys: Vec<&String> = item.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["id", "name"]);
            names.push(item["name"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    let (_, list) = call(
        &emu,
        "GET",
        "/asset/v1/content/assets?$filter=assetType.id%20eq%20208%20and%20name%20like%20'%25b%25'",
        &t,
        None,
    )
    .await;
    assert_eq!(list["count"], 1);
    assert_error(
        &call(
            &emu,
            "GET",
            "/asset/v1/content/assets?$orderBy=name%20up",
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
    let parent = access_token(&emu, None).await;
    let child = access_token(&emu, Some("100000002")).await;
    let (_, created) = call(
        &emu,
        "POST",
        "/asset/v1/content/assets",
        &parent,
        Some(asset("mine")),
    )
    .await;
    let path = format!("/asset/v1/content/assets/{}", created["id"]);
    assert_eq!(
        call(&emu, "GET", "/asset/v1/content/assets", &child, None)
            .await
            .1["count"],
        0
    );
    assert_error(
        &call(&emu, "DELETE", &path, &child, None).await,
        StatusCode::NOT_FOUND,
        404,
    );

    let images_only = token_with(&emu, None, Some("documents_and_images_read")).await;
    assert_eq!(
        call(&emu, "GET", "/asset/v1/content/assets", &images_only, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_error(
        &call(
            &emu,
            "POST",
            "/asset/v1/content/assets",
            &images_only,
            Some(asset("x")),
        )
        .await,
        StatusCode::FORBIDDEN,
        20002,
    );
    let email_only = token_with(&emu, None, Some("email_read")).await;
    assert_error(
        &call(&emu, "GET", "/asset/v1/content/assets", &email_only, None).await,
        StatusCode::FORBIDDEN,
        20002,
    );
}
