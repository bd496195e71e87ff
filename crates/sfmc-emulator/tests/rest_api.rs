//! Bearer-token endpoints against a running emulator: tokenContext (with odd path spellings),
//! userinfo's shape, the 401/404 fallback, and revocation.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn token_context_under_any_path_spelling() {
    let emu = emulator().await;
    let token = access_token(&emu, None).await;
    let expected = json!({"enterprise": {"id": 100000001}, "organization": {"id": 100000001}, "user": {"id": 700000001}});
    for path in [
        "/platform/v1/tokenContext",
        "//platform/v1/tokenContext",
        "/platform/v1/tokencontext",
        "/PLATFORM//V1/TOKENCONTEXT/",
        "/platform/v1/tokenContext?unused=Query",
    ] {
        assert_eq!(
            get(&emu, path, Some(&token)).await,
            (StatusCode::OK, expected.clone()),
            "{path}"
        );
    }
    // The instance URL from the token response, with a path appended the naive way.
    let (_, json) = post_token(&emu, &credentials()).await;
    let rest = json["rest_instance_url"].as_str().unwrap();
    let response = client()
        .get(format!("{rest}/platform/v1/tokenContext"))
        .bearer_auth(json["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_or_bad_tokens_get_not_authorized() {
    let emu = emulator().await;
    let token = access_token(&emu, None).await;
    // The last character changed (to one it is not already).
    let last = if token.ends_with('x') { 'y' } else { 'x' };
    let tampered = format!("{}{last}", &token[..511]);
    for path in [
        "/platform/v1/tokenContext",
        "/v2/userinfo",
        "/hub/v1/campaigns",
        "/",
    ] {
        assert_eq!(
            get(&emu, path, None).await,
            (StatusCode::UNAUTHORIZED, not_authorized()),
            "{path}"
        );
        for bad in ["garbage", "", tampered.as_str()] {
            assert_eq!(
                get(&emu, path, Some(bad)).await,
                (StatusCode::UNAUTHORIZED, not_authorized()),
                "{path}"
            );
        }
        let response = client()
            .get(format!("{}{path}", emu.url()))
            .header("authorization", format!("Basic {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_json(response).await,
            (StatusCode::UNAUTHORIZED, not_authorized())
        );
    }
}

#[tokio::test]
async fn unknown_paths_with_a_valid_token_are_404() {
    let emu = emulator().await;
    let token = access_token(&emu, None).await;
    let expected = json!({
        "message": "Resource not found",
        "errorcode": 404,
        "documentation": "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm",
    });
    for path in ["/hub/v1/nothing", "/", "/v2/authorize"] {
        assert_eq!(
            get(&emu, path, Some(&token)).await,
            (StatusCode::NOT_FOUND, expected.clone()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn userinfo_has_the_live_shape() {
    let emu = emulator().await;
    let mut body = credentials();
    body["account_id"] = json!("100000002");
    body["scope"] = json!("offline email_read data_extensions_write");
    let (_, token) = post_token(&emu, &body).await;
    let (status, info) = get(&emu, "/v2/userinfo", token["access_token"].as_str()).await;
    assert_eq!(status, StatusCode::OK, "{info}");

    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&info),
        [
            "application",
            "exp",
            "iss",
            "organization",
            "permissions",
            "rest",
            "user"
        ]
    );
    assert!(info["exp"].as_u64().unwrap() > 1_700_000_000);
    assert!(info["iss"].is_string());
    assert_eq!(
        keys(&info["user"]),
        [
            "email",
            "locale",
            "name",
            "preferred_username",
            "sub",
            "timezone",
            "zoneinfo"
        ]
    );
    assert_eq!(
        keys(&info["user"]["timezone"]),
        ["dst", "longName", "offset", "shortName"]
    );
    let org = &info["organization"];
    assert_eq!(
        keys(org),
        [
            "account_type",
            "enterprise_id",
            "enterprise_name",
            "locale",
            "member_id",
            "region",
            "stack_key",
            "timezone",
            "zoneinfo"
        ]
    );
    assert_eq!(org["member_id"], 100000002);
    assert_eq!(org["enterprise_id"], 100000001);
    let url = format!("{}/", emu.url());
    assert_eq!(
        info["rest"],
        json!({"rest_instance_url": url, "soap_instance_url": url})
    );
    let app = &info["application"];
    assert_eq!(keys(app), ["appScopes", "id", "name", "redirectUrl"]);
    assert_eq!(app["redirectUrl"], json!([]));
    assert_eq!(app["appScopes"].as_array().unwrap().len(), 20);
    let permissions = info["permissions"].as_array().unwrap();
    let names: Vec<&str> = permissions
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["email_read", "data_extensions_write"]);
    for p in permissions {
        assert_eq!(keys(p), ["id", "name", "objectTypeName", "operationName"]);
    }
    assert_eq!(permissions[1]["objectTypeName"], "DataExtensions");
    assert_eq!(permissions[1]["operationName"], "Write");
}

#[tokio::test]
async fn revoked_tokens_are_refused_and_new_ones_work() {
    let emu = emulator().await;
    let before = access_token(&emu, None).await;
    let response = client()
        .post(format!("{}/_emulator/revoke", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for path in ["/v2/userinfo", "/platform/v1/tokenContext"] {
        assert_eq!(
            get(&emu, path, Some(&before)).await,
            (StatusCode::UNAUTHORIZED, not_authorized())
        );
    }
    let after = access_token(&emu, None).await;
    assert_eq!(
        get(&emu, "/v2/userinfo", Some(&after)).await.0,
        StatusCode::OK
    );

    emu.revoke_all();
    assert_eq!(
        get(&emu, "/v2/userinfo", Some(&after)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn tokens_of_another_emulator_are_refused() {
    let one = emulator().await;
    let two = emulator().await;
    let token = access_token(&one, None).await;
    assert_eq!(
        get(&two, "/platform/v1/tokenContext", Some(&token)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn ten_thousand_query_parameters_are_one_400() {
    let emu = emulator().await;
    let token = access_token(&emu, None).await;
    // Short names keep the URL under the 64 KiB an HTTP client sends.
    let path = format!("/hub/v1/campaigns?{}", ["a"; 10_000].join("&"));
    let reply = get(&emu, &path, Some(&token)).await;
    assert_error(&reply, reqwest::StatusCode::BAD_REQUEST, 10000);
    assert_eq!(
        reply.1["message"],
        "The query string has 10000 parameters; at most 100 are accepted."
    );
}
