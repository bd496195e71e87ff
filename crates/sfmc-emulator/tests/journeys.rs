//! Journeys: create (Draft, version 1) → list (three pages, `status`, `nameOrDescription`) →
//! update → delete, with their failures, business units and scopes.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

const PATH: &str = "/interaction/v1/interactions";

#[tokio::test]
async fn create_list_update_delete_round_trip() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    let body = json!({"key": "welcome", "name": "Welcome", "workflowApiVersion": 1.0, "triggers": [], "activities": [], "goals": []});
    let (status, created) = call(&emu, "POST", PATH, &t, Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(
        (created["status"].clone(), created["version"].clone()),
        (json!("Draft"), json!(1))
    );
    assert_eq!(created["key"], "welcome");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_error(
        &call(&emu, "POST", PATH, &t, Some(body)).await,
        StatusCode::BAD_REQUEST,
        10000,
    );

    let (_, list) = call(
        &emu,
        "GET",
        &format!("{PATH}?status=draft&nameOrDescription=welc"),
        &t,
        None,
    )
    .await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(
        call(&emu, "GET", &format!("{PATH}?status=Published"), &t, None)
            .await
            .1["count"],
        0
    );

    let (status, updated) = call(
        &emu,
        "PUT",
        PATH,
        &t,
        Some(json!({"id": id, "name": "Welcome 2", "status": "Published"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["name"].clone(), updated["status"].clone()),
        (json!("Welcome 2"), json!("Draft"))
    );
    assert_eq!(
        call(&emu, "GET", &format!("{PATH}/{id}"), &t, None).await.1["name"],
        "Welcome 2"
    );

    assert_eq!(
        call(&emu, "DELETE", &format!("{PATH}/{id}"), &t, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_error(
        &call(&emu, "GET", &format!("{PATH}/{id}"), &t, None).await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_error(
        &call(&emu, "PUT", PATH, &t, Some(json!({"id": id, "name": "x"}))).await,
        StatusCode::NOT_FOUND,
        404,
    );
    assert_error(
        &call(&emu, "POST", PATH, &t, Some(json!({"key": "k"}))).await,
        StatusCode::BAD_REQUEST,
        10002,
    );
}

#[tokio::test]
async fn pages_newest_first_and_isolates_business_units() {
    let emu = emulator().await;
    let t = access_token(&emu, None).await;
    for i in 1..=5 {
        call(
            &emu,
            "POST",
            PATH,
            &t,
            Some(json!({"name": format!("j{i}")})),
        )
        .await;
    }
    let mut names = Vec::new();
    for page in 1..=3 {
        let (_, list) = call(
            &emu,
            "GET",
            &format!("{PATH}?$page={page}&$pageSize=2"),
            &t,
            None,
        )
        .await;
        assert_eq!(list["count"], 5);
        names.extend(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["name"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(names, ["j5", "j4", "j3", "j2", "j1"]);
    let child = access_token(&emu, Some("100000002")).await;
    assert_eq!(call(&emu, "GET", PATH, &child, None).await.1["count"], 0);
    let read_only = token_with(&emu, None, Some("journeys_read")).await;
    assert_error(
        &call(&emu, "POST", PATH, &read_only, Some(json!({"name": "x"}))).await,
        StatusCode::FORBIDDEN,
        20002,
    );
}
