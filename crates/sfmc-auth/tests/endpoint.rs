//! `POST /v2/token` against the emulator (success and every error row) and against a canned
//! server (malformed answers): typed errors, never a panic, never a body in an error.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use sfmc_auth::{
    AuthBaseUrl, AuthError, ConnectionSettings, HttpTimeouts, HttpTokenEndpoint, TokenEndpoint,
    TokenManager, TokenResponse,
};
use sfmc_emulator::{DEMO_CHILD_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn emulator() -> sfmc_emulator::RunningEmulator {
    sfmc_emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn settings(url: &str, client_id: &str, secret: &str) -> ConnectionSettings {
    ConnectionSettings::new(
        AuthBaseUrl::parse(url).unwrap(),
        client_id,
        SecretString::from(secret.to_owned()),
    )
    .unwrap()
}

fn endpoint() -> HttpTokenEndpoint {
    HttpTokenEndpoint::new(HttpTimeouts::new(
        Duration::from_secs(5),
        Duration::from_secs(10),
    ))
}

#[tokio::test]
async fn token_without_and_with_account_and_scope() {
    let emu = emulator().await;
    let plain = settings(&emu.url(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    let response = endpoint().request_token(&plain).await.unwrap();
    assert_eq!(response.expires_in, 1079);
    assert_eq!(response.token_type, "Bearer");
    assert!(response.scope.contains("email_read"));
    assert_eq!(
        response.rest_instance_url.as_str(),
        format!("{}/", emu.url())
    );

    let narrowed = plain
        .clone()
        .with_account_id(DEMO_CHILD_ACCOUNT_ID)
        .unwrap()
        .with_scope("email_read not_a_scope")
        .unwrap();
    let response = endpoint().request_token(&narrowed).await.unwrap();
    assert_eq!(response.scope, "email_read");
    assert_eq!(emu.stats().token_requests, 2);
}

async fn rejected(settings: &ConnectionSettings) -> (u16, String, String) {
    match endpoint().request_token(settings).await {
        Err(AuthError::Rejected {
            status,
            error,
            description,
        }) => (status, error, description),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn every_rejection_row_is_typed_with_salesforce_description() {
    let emu = emulator().await;
    let (status, error, description) =
        rejected(&settings(&emu.url(), "unknown-id", DEMO_CLIENT_SECRET)).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
    assert!(
        description.starts_with("Invalid client ID."),
        "{description}"
    );

    let (status, error, description) =
        rejected(&settings(&emu.url(), DEMO_CLIENT_ID, "wrong-secret")).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
    assert!(description.starts_with("Client authentication failed."));

    let other_bu = settings(&emu.url(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        .with_account_id("999")
        .unwrap();
    let (status, error, _) = rejected(&other_bu).await;
    assert_eq!((status, error.as_str()), (401, "unauthorized_client"));

    let err = endpoint()
        .request_token(&settings(&emu.url(), DEMO_CLIENT_ID, "wrong-secret"))
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    let text = err.to_string();
    assert!(!text.contains("wrong-secret"), "{text}");
    assert!(text.contains("Installed Packages"), "{text}");
}

#[tokio::test]
async fn manager_makes_one_request_for_a_rejection() {
    let emu = emulator().await;
    let manager = TokenManager::builder()
        .endpoint(Arc::new(endpoint()))
        .build()
        .unwrap();
    let handle = manager.handle(settings(&emu.url(), DEMO_CLIENT_ID, "wrong-secret"));
    let err = handle.token().await.unwrap_err();
    assert!(matches!(err, AuthError::Rejected { .. }), "{err:?}");
    assert_eq!(emu.stats().token_requests, 1);
}

/// Serves one canned HTTP answer per connection, for as many connections as come.
async fn canned(status_line: &'static str, headers: &str, body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Arc::new(body);
    let headers: Arc<str> = headers.into();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (body, headers) = (body.clone(), headers.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head and the (small) JSON body of the request.
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if request.len() >= head_end + 4 + len {
                            break;
                        }
                    }
                }
                let head = format!(
                    "HTTP/1.1 {status_line}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}/")
}

async fn answer(status_line: &'static str, headers: &'static str, body: &[u8]) -> AuthError {
    let url = canned(status_line, headers, body.to_vec()).await;
    endpoint()
        .request_token(&settings(&url, "id", "the-client-secret"))
        .await
        .unwrap_err()
}

const JSON: &str = "content-type: application/json\r\n";

fn ok_body(replace: &str, with: &str) -> Vec<u8> {
    let body = r#"{"access_token":"tok","token_type":"Bearer","expires_in":1079,"scope":"a","rest_instance_url":"http://127.0.0.1:1/","soap_instance_url":"http://127.0.0.1:1/"}"#;
    body.replacen(replace, with, 1).into_bytes()
}

#[tokio::test]
async fn malformed_success_bodies_are_invalid_responses() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not json".to_vec(), "malformed JSON"),
        (b"<html>hi</html>".to_vec(), "malformed JSON"),
        (b"[]".to_vec(), "wrong type"),
        (b"{}".to_vec(), "no access_token"),
        (ok_body(r#""access_token":"tok","#, ""), "no access_token"),
        (ok_body(r#""tok""#, r#""""#), "access_token is empty"),
        (ok_body(r#""tok""#, r#""to k""#), "cannot go in a header"),
        (ok_body(r#""tok""#, "42"), "wrong type"),
        (ok_body(r#""expires_in":1079,"#, ""), "no expires_in"),
        (ok_body("1079", "0"), "expires_in"),
        (ok_body("1079", "-5"), "expires_in"),
        (ok_body("1079", "1e30"), "expires_in"),
        (ok_body("1079", "99999999999999999999999"), "expires_in"),
        (ok_body("1079", "10.5"), "expires_in"),
        (ok_body("1079", "\"1079\""), "wrong type"),
        (ok_body(r#""Bearer""#, r#""MAC""#), "token_type"),
        (
            ok_body(r#""rest_instance_url":"http://127.0.0.1:1/","#, ""),
            "no rest_instance_url",
        ),
        (
            ok_body(r#""http://127.0.0.1:1/","#, r#""javascript:alert(1)","#),
            "rest_instance_url",
        ),
        (
            format!(
                r#"{{"access_token":"{}","expires_in":1,"rest_instance_url":"http://a/"}}"#,
                "x".repeat(5000)
            )
            .into_bytes(),
            "at most",
        ),
    ];
    for (body, expected) in cases {
        let shown = String::from_utf8_lossy(&body)
            .chars()
            .take(60)
            .collect::<String>();
        match answer("200 OK", JSON, &body).await {
            AuthError::InvalidResponse { what } => {
                assert!(what.contains(expected), "{shown}: {what}");
                assert!(!what.contains("tok\""), "body leaked into {what}");
            }
            other => panic!("{shown}: expected InvalidResponse, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn huge_bodies_are_refused_without_reading_them_all() {
    let ten_mb = vec![b'a'; 10 * 1024 * 1024];
    let err = answer("200 OK", JSON, &ten_mb).await;
    assert!(
        matches!(&err, AuthError::InvalidResponse { what } if what.contains("longer than")),
        "{err:?}"
    );
}

#[tokio::test]
async fn failing_statuses_are_typed() {
    let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
    let err = answer("502 Bad Gateway", "content-type: text/html\r\n", html).await;
    assert!(
        matches!(err, AuthError::ServiceFailure { status: 502 }),
        "{err:?}"
    );
    assert!(err.is_transient());

    let err = answer(
        "429 Too Many Requests",
        "retry-after: 5\r\ncontent-type: application/json\r\n",
        br#"{"message":"Rate limit exceeded","errorcode":50100}"#,
    )
    .await;
    assert!(
        matches!(err, AuthError::Throttled { retry_after: Some(d) } if d == Duration::from_secs(5)),
        "{err:?}"
    );
    let err = answer(
        "429 Too Many Requests",
        JSON,
        br#"{"message":"Your requests are temporarily blocked.","errorcode":50200}"#,
    )
    .await;
    assert!(
        matches!(err, AuthError::Throttled { retry_after: None }),
        "{err:?}"
    );

    let grant = br#"{"error":"unsupported_grant_type","error_description":"Use \"authorization_code\" or \"refresh_token\" or \"client_credentials\" or \"urn:ietf:params:oauth:grant-type:jwt-bearer\" as the grant_type.","error_uri":"https://developer.salesforce.com/docs"}"#;
    let err = answer("400 Bad Request", JSON, grant).await;
    assert!(
        matches!(&err, AuthError::Rejected { status: 400, error, .. } if error == "unsupported_grant_type"),
        "{err:?}"
    );
    for (status, body) in [
        (
            "401 Unauthorized",
            &b"<html><h1>Unauthorized</h1></html>"[..],
        ),
        ("403 Forbidden", &b"<html>Forbidden</html>"[..]),
        (
            "401 Unauthorized",
            &br#"{"message":"Not Authorized","errorcode":0}"#[..],
        ),
        ("401 Unauthorized", &b""[..]),
    ] {
        let err = answer(status, "content-type: text/html\r\n", body).await;
        assert!(
            matches!(
                &err,
                AuthError::Rejected {
                    status: 401 | 403,
                    ..
                }
            ),
            "{status} {}: an authentication answer is a rejection whatever its body: {err:?}",
            String::from_utf8_lossy(body)
        );
        assert!(!err.is_transient());
        assert!(!err.to_string().contains("<html>"), "{err}");
    }
    let err = answer(
        "404 Not Found",
        "content-type: text/html\r\n",
        b"<html>nope</html>",
    )
    .await;
    assert!(
        matches!(err, AuthError::ServiceFailure { status: 404 }),
        "{err:?}"
    );
    assert!(!err.is_transient());

    let err = answer("302 Found", "location: https://evil.example/\r\n", b"").await;
    assert!(
        matches!(err, AuthError::ServiceFailure { status: 302 }),
        "redirects are not followed: {err:?}"
    );
}

#[tokio::test]
async fn retry_after_as_a_date_counts_from_the_answers_date() {
    let err = answer(
        "429 Too Many Requests",
        "date: Wed, 21 Oct 2015 07:28:00 GMT\r\nretry-after: Wed, 21 Oct 2015 07:28:30 GMT\r\n",
        b"{}",
    )
    .await;
    assert!(
        matches!(err, AuthError::Throttled { retry_after: Some(d) } if d == Duration::from_secs(30)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_callers_client_is_shared_and_a_followed_redirect_is_refused() {
    let emu = emulator().await;
    let demo = |url: &str| settings(url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    let client = sfmc_auth::http::build_client(HttpTimeouts::default()).unwrap();
    let shared = HttpTokenEndpoint::with_client(client.clone(), HttpTimeouts::default());
    shared.request_token(&demo(&emu.url())).await.unwrap();
    assert_eq!(shared.timeouts(), HttpTimeouts::default());
    let from_endpoint = shared.client().unwrap();
    let stats: serde_json::Value = from_endpoint
        .get(format!("{}/_emulator/stats", emu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["token_requests"], 1);

    let redirect = format!("location: {}/v2/token\r\n", emu.url());
    let redirecting = canned("307 Temporary Redirect", &redirect, Vec::new()).await;
    let follows = reqwest::Client::builder().no_proxy().build().unwrap();
    let err = HttpTokenEndpoint::with_client(follows, HttpTimeouts::default())
        .request_token(&demo(&redirecting))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            AuthError::Configuration {
                field: "HTTP client",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        emu.stats().token_requests,
        2,
        "refused only after the secret went to the redirect's target: why callers must not follow"
    );
    let err = endpoint()
        .request_token(&demo(&redirecting))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::ServiceFailure { status: 307 }),
        "our own client never follows: {err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_token_request_keeps_its_own_timeout_on_a_shared_client() {
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket); // accepted, never answered
        }
    });
    let no_timeout = reqwest::Client::builder().no_proxy().build().unwrap();
    let timeouts = HttpTimeouts::new(Duration::from_secs(5), Duration::from_secs(2));
    let err = HttpTokenEndpoint::with_client(no_timeout, timeouts)
        .request_token(&settings(&url, "id", "the-client-secret"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Transport { timeout: true, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn unreachable_endpoint_is_a_transient_transport_error() {
    // Port 1: nothing listens there (a port freed here could be taken by a parallel test).
    let url = "http://127.0.0.1:1/";
    let err = endpoint()
        .request_token(&settings(url, "id", "the-client-secret"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Transport { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(!err.to_string().contains("the-client-secret"));
    let source = std::error::Error::source(&err).expect("the client's error is kept");
    let source = source
        .downcast_ref::<sfmc_auth::TransportSource>()
        .expect("a TransportSource");
    assert!(source.reqwest().is_connect(), "{source:?}");
    assert!(source.reqwest().url().is_none(), "the URL is not kept");
    let mut chain = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        chain.push_str(&format!(" / {c} {c:?}"));
        cause = c.source();
    }
    assert!(!chain.contains("v2/token"), "{chain}");
}

#[test]
fn debug_of_tokens_shows_no_token() {
    let response =
        TokenResponse::parse(&ok_body(r#""tok""#, r#""very-secret-token-text""#)).unwrap();
    let token = sfmc_auth::AccessToken::new(response.clone(), 0);
    let debug = format!("{response:?} {token:?} {token:#?}");
    assert!(!debug.contains("very-secret-token-text"), "{debug}");
    assert!(token.authorization_header().is_sensitive());
}

#[test]
fn instance_urls_are_typed_end_in_a_slash_and_refuse_unsafe_forms() {
    let body = |rest: &str| {
        serde_json::to_vec(&serde_json::json!({
            "access_token": "t", "token_type": "Bearer", "expires_in": 1079,
            "rest_instance_url": rest,
        }))
        .unwrap()
    };
    let parsed =
        sfmc_auth::TokenResponse::parse(&body("https://mc1.rest.marketingcloudapis.com")).unwrap();
    assert_eq!(
        parsed.rest_instance_url.as_str(),
        "https://mc1.rest.marketingcloudapis.com/"
    );
    let joined = parsed.rest_instance_url.join("hub/v1/campaigns").unwrap();
    assert_eq!(
        joined.as_str(),
        "https://mc1.rest.marketingcloudapis.com/hub/v1/campaigns"
    );
    let nested = sfmc_auth::TokenResponse::parse(&body("https://h.example/base")).unwrap();
    assert_eq!(nested.rest_instance_url.as_str(), "https://h.example/base/");
    assert!(sfmc_auth::TokenResponse::parse(&body("http://127.0.0.1:9/")).is_ok());
    for bad in [
        "http://mc1.rest.marketingcloudapis.com/",
        "https://user:pw@h.example/",
        "https://h.example/?q=1",
        "ftp://h.example/",
        "not a url",
    ] {
        let error = sfmc_auth::TokenResponse::parse(&body(bad))
            .unwrap_err()
            .to_string();
        assert!(error.contains("rest_instance_url"), "{bad}: {error}");
    }
}
