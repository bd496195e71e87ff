//! `POST /v2/token` against a running emulator: encodings, account ids, scopes, every error
//! row of SFMC-API.md with its exact status and body, token shape and instance URLs.
#![allow(clippy::unwrap_used)] // tests (and their helpers) may unwrap

mod common;

use std::collections::HashSet;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sfmc_emulator::{EmulatorConfig, Package};

const ALL_DEMO_SCOPES: &str = "email_read email_write email_send documents_and_images_read documents_and_images_write saved_content_read saved_content_write data_extensions_read data_extensions_write list_and_subscribers_read list_and_subscribers_write journeys_read journeys_write journeys_execute campaign_read campaign_write sms_read sms_write sms_send offline";

fn assert_token_shape(token: &str) {
    assert_eq!(token.len(), 512);
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 4, "{token}");
    for segment in segments {
        assert!(!segment.is_empty());
        assert!(
            segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{segment}"
        );
    }
    assert!(token.starts_with("eyJ"));
}

fn assert_success(json: &Value, url: &str, scope: &str) {
    let object = json.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "rest_instance_url",
            "scope",
            "soap_instance_url",
            "token_type"
        ]
    );
    assert_token_shape(json["access_token"].as_str().unwrap());
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 1079);
    assert_eq!(json["scope"], scope);
    assert_eq!(json["rest_instance_url"], format!("{url}/"));
    assert_eq!(json["soap_instance_url"], format!("{url}/"));
}

fn oauth_error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description, "error_uri": "https://developer.salesforce.com/docs"})
}

#[tokio::test]
async fn json_request_succeeds() {
    let emu = emulator().await;
    let response = client()
        .post(format!("{}/v2/token", emu.url()))
        .json(&credentials())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let (status, json) = status_json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_success(&json, &emu.url(), ALL_DEMO_SCOPES);
}

#[tokio::test]
async fn form_request_succeeds() {
    let emu = emulator().await;
    let response = client()
        .post(format!("{}/v2/token", emu.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("account_id", "100000002"),
            ("scope", "email_read email_write"),
        ])
        .send()
        .await
        .unwrap();
    let (status, json) = status_json(response).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_success(&json, &emu.url(), "email_read email_write");
}

#[tokio::test]
async fn account_id_as_string_or_number_selects_the_business_unit() {
    let emu = emulator().await;
    for account_id in [json!("100000002"), json!(100000002)] {
        let mut body = credentials();
        body["account_id"] = account_id.clone();
        let (status, json) = post_token(&emu, &body).await;
        assert_eq!(status, StatusCode::OK, "{account_id}: {json}");
        let token = json["access_token"].as_str().unwrap();
        let (status, context) = get(&emu, "/platform/v1/tokenContext", Some(token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(context["organization"]["id"], 100000002, "{account_id}");
        assert_eq!(context["enterprise"]["id"], 100000001);
    }
    // Without account_id (or with null / an empty string): the package's own business unit.
    for account_id in [None, Some(Value::Null), Some(json!(""))] {
        let mut body = credentials();
        if let Some(id) = account_id {
            body["account_id"] = id;
        }
        let (_, json) = post_token(&emu, &body).await;
        let token = json["access_token"].as_str().unwrap();
        let (_, context) = get(&emu, "/platform/v1/tokenContext", Some(token)).await;
        assert_eq!(context["organization"]["id"], 100000001);
    }
}

#[tokio::test]
async fn scopes_omitted_empty_and_partly_unknown() {
    let emu = emulator().await;
    let cases = [
        (None, ALL_DEMO_SCOPES),
        (Some(""), ""),
        (
            Some("journeys_read  bogus_scope email_read"),
            "email_read journeys_read",
        ),
        (Some("email_read email_read"), "email_read"),
        (Some("nothing_known"), ""),
    ];
    for (requested, granted) in cases {
        let mut body = credentials();
        if let Some(scope) = requested {
            body["scope"] = json!(scope);
        }
        let (status, json) = post_token(&emu, &body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json["scope"], granted, "{requested:?}");
    }
}

#[tokio::test]
async fn each_error_row_has_its_exact_status_and_body() {
    let emu = emulator().await;
    let with = |field: &str, value: Value| {
        let mut body = credentials();
        body[field] = value;
        body
    };
    let cases = [
        (
            with("client_id", json!("nobody")),
            StatusCode::UNAUTHORIZED,
            oauth_error(
                "invalid_client",
                "Invalid client ID. Use the client ID in Marketing Cloud Installed Packages.",
            ),
        ),
        (
            with("client_secret", json!("wrong")),
            StatusCode::UNAUTHORIZED,
            oauth_error(
                "invalid_client",
                "Client authentication failed. Make sure that the client ID and client secret are valid and that the package is installed and enabled.",
            ),
        ),
        (
            with("grant_type", json!("password")),
            StatusCode::BAD_REQUEST,
            oauth_error(
                "unsupported_grant_type",
                "Use \"authorization_code\" or \"refresh_token\" or \"client_credentials\" or \"urn:ietf:params:oauth:grant-type:jwt-bearer\" as the grant_type.",
            ),
        ),
        (
            with("account_id", json!("999")),
            StatusCode::UNAUTHORIZED,
            oauth_error(
                "unauthorized_client",
                "The client is not authorized to access the requested business unit (account_id). Make sure that the installed package has access to that business unit.",
            ),
        ),
        (
            json!({"grant_type": "client_credentials", "client_id": CLIENT_ID}),
            StatusCode::BAD_REQUEST,
            oauth_error(
                "invalid_request",
                "The request is missing the required parameter client_secret.",
            ),
        ),
        (
            json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
            StatusCode::BAD_REQUEST,
            oauth_error(
                "invalid_request",
                "The request is missing the required parameter grant_type.",
            ),
        ),
        (
            with("client_id", json!(42)),
            StatusCode::BAD_REQUEST,
            oauth_error(
                "invalid_request",
                "The parameter client_id must be a string.",
            ),
        ),
        (
            json!(["not", "an", "object"]),
            StatusCode::BAD_REQUEST,
            oauth_error(
                "invalid_request",
                "The request body is not a valid JSON object.",
            ),
        ),
    ];
    for (body, status, expected) in cases {
        let (got_status, got) = post_token(&emu, &body).await;
        assert_eq!((got_status, &got), (status, &expected), "request {body}");
    }

    let raw = |content_type: &'static str, body: &'static str| {
        client()
            .post(format!("{}/v2/token", emu.url()))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, json) =
        status_json(raw("application/json", "{\"grant_type\":").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json,
        oauth_error(
            "invalid_request",
            "The request body is not a valid JSON object."
        )
    );
    let (status, json) = status_json(
        raw(
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials&grant_type=x",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json,
        oauth_error("invalid_request", "The parameter grant_type is repeated.")
    );
}

#[tokio::test]
async fn checks_run_in_the_live_services_order() {
    let emu = emulator().await;
    // Bad grant type wins over an unknown client.
    let body = json!({"grant_type": "password", "client_id": "nobody", "client_secret": "x"});
    assert_eq!(
        post_token(&emu, &body).await.1["error"],
        "unsupported_grant_type"
    );
    // Unknown client wins over a missing secret.
    let body = json!({"grant_type": "client_credentials", "client_id": "nobody"});
    let (status, json) = post_token(&emu, &body).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    assert!(
        json["error_description"]
            .as_str()
            .unwrap()
            .starts_with("Invalid client ID.")
    );
    // Wrong secret wins over an unreachable business unit.
    let body = json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "x", "account_id": "1"});
    let (_, json) = post_token(&emu, &body).await;
    assert!(
        json["error_description"]
            .as_str()
            .unwrap()
            .starts_with("Client authentication failed.")
    );
}

#[tokio::test]
async fn tokens_are_unique_and_lifetime_is_configurable() {
    let emu = emulator().await;
    let mut seen = HashSet::new();
    for _ in 0..50 {
        assert!(seen.insert(access_token(&emu, None).await));
    }

    let mut config = EmulatorConfig::demo();
    config.token_ttl_secs = 60;
    let emu = emulator_with(config).await;
    let (_, json) = post_token(&emu, &credentials()).await;
    assert_eq!(json["expires_in"], 60);
}

#[tokio::test]
async fn several_packages_and_business_units() {
    let config = EmulatorConfig {
        packages: vec![
            Package {
                client_id: "a".into(),
                client_secret: "sa".into(),
                account_ids: vec!["1".into(), "2".into()],
                scopes: vec!["email_read".into()],
            },
            Package {
                client_id: "b".into(),
                client_secret: "sb".into(),
                account_ids: vec![],
                scopes: vec![],
            },
        ],
        token_ttl_secs: 1079,
        ..EmulatorConfig::demo()
    };
    let emu = emulator_with(config).await;
    let request = |id: &str, secret: &str| json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret});
    let (status, json) = post_token(&emu, &request("a", "sa")).await;
    assert_eq!(
        (status, &json["scope"]),
        (StatusCode::OK, &json!("email_read"))
    );
    // The other package's secret does not open this one.
    assert_eq!(
        post_token(&emu, &request("a", "sb")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A package that reaches no business unit gets no token.
    let (status, json) = post_token(&emu, &request("b", "sb")).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn instance_urls_never_follow_the_host_header() {
    let emu = emulator().await;
    let send = |host: &'static str| {
        client()
            .post(format!("{}/v2/token", emu.url()))
            .header("host", host)
            .json(&credentials())
            .send()
    };
    for host in ["evil.example:8443", "evil.example/path?", "127.0.0.2"] {
        let (_, json) = status_json(send(host).await.unwrap()).await;
        assert_eq!(
            json["rest_instance_url"],
            format!("{}/", emu.url()),
            "{host}"
        );
        assert_eq!(
            json["soap_instance_url"],
            format!("{}/", emu.url()),
            "{host}"
        );
    }
}

#[tokio::test]
async fn a_public_url_is_announced_everywhere() {
    let config = EmulatorConfig::demo()
        .with_public_url("https://mc.example.test/base")
        .unwrap();
    let emu = emulator_with(config).await;
    let (_, json) = post_token(&emu, &credentials()).await;
    assert_eq!(json["rest_instance_url"], "https://mc.example.test/base/");
    assert_eq!(json["soap_instance_url"], "https://mc.example.test/base/");
    let token = json["access_token"].as_str().unwrap();
    let (_, info) = get(&emu, "/v2/userinfo", Some(token)).await;
    assert_eq!(
        info["rest"]["rest_instance_url"],
        "https://mc.example.test/base/"
    );
}

#[tokio::test]
async fn token_path_is_case_insensitive_and_other_methods_are_refused() {
    let emu = emulator().await;
    let response = client()
        .post(format!("{}//V2/Token/", emu.url()))
        .json(&credentials())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, json) = get(&emu, "/v2/token", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json["errorcode"], 405);
}
