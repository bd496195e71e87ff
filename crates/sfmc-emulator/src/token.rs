//! `POST /v2/token`, client credentials: reading the body (JSON or form), the checks in the
//! live service's order (grant type, client id, secret, business unit), scope granting, and
//! the OAuth error bodies (`{"error","error_description","error_uri"}`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

use crate::faults::FaultTarget;
use crate::state::{AppState, PackageEntry, Shared};
use crate::tokens::ScopeSet;

/// `error_uri` of every OAuth error body.
const ERROR_URI: &str = "https://developer.salesforce.com/docs";

const INVALID_CLIENT_ID: &str =
    "Invalid client ID. Use the client ID in Marketing Cloud Installed Packages.";
const CLIENT_AUTH_FAILED: &str = "Client authentication failed. Make sure that the client ID and client secret are valid and that the package is installed and enabled.";
const UNSUPPORTED_GRANT_TYPE: &str = "Use \"authorization_code\" or \"refresh_token\" or \"client_credentials\" or \"urn:ietf:params:oauth:grant-type:jwt-bearer\" as the grant_type.";
/// Emulator choice: the live API documents neither status nor text for this case.
const UNAUTHORIZED_ACCOUNT: &str = "The client is not authorized to access the requested business unit (account_id). Make sure that the installed package has access to that business unit.";
/// Emulator choice for grant types the live API has but the emulator does not implement.
const GRANT_NOT_EMULATED: &str =
    "The emulator implements only the \"client_credentials\" grant_type.";

/// The fields of a token request, whatever the body's encoding. `None` = absent (or JSON null).
#[derive(Debug, Default, PartialEq, Eq)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    account_id: Option<String>,
    scope: Option<String>,
}

/// The success body, in the live API's field order.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
    soap_instance_url: &'a str,
    rest_instance_url: &'a str,
}

/// `POST /v2/token`.
pub(crate) async fn token(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = parse(&headers, &body);
    if let Some(entry) = parsed
        .as_ref()
        .ok()
        .and_then(|r| r.client_id.as_deref())
        .and_then(|id| shared.by_client_id.get(id))
        .and_then(|&i| shared.packages.get(i))
    {
        entry
            .token_requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    if let Some(effect) = shared.faults.take(FaultTarget::Token)
        && let Some(response) = effect.apply().await
    {
        return response;
    }
    match parsed
        .map_err(OAuthError::invalid_request)
        .and_then(|request| grant(&shared, request))
    {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// Runs the checks and mints the token.
fn grant(shared: &Shared, request: TokenRequest) -> Result<Response, OAuthError> {
    let grant_type = request
        .grant_type
        .ok_or_else(|| OAuthError::missing("grant_type"))?;
    match grant_type.as_str() {
        "client_credentials" => {}
        "authorization_code" | "refresh_token" | "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            return Err(OAuthError::bad_request(
                "unsupported_grant_type",
                GRANT_NOT_EMULATED,
            ));
        }
        _ => {
            return Err(OAuthError::bad_request(
                "unsupported_grant_type",
                UNSUPPORTED_GRANT_TYPE,
            ));
        }
    }

    let client_id = request
        .client_id
        .ok_or_else(|| OAuthError::missing("client_id"))?;
    let (package, entry) = shared
        .by_client_id
        .get(&client_id)
        .and_then(|&i| Some((i, shared.packages.get(i)?)))
        .ok_or_else(|| OAuthError::unauthorized("invalid_client", INVALID_CLIENT_ID))?;

    let secret = request
        .client_secret
        .ok_or_else(|| OAuthError::missing("client_secret"))?;
    if !constant_time_eq(secret.as_bytes(), entry.package.client_secret.as_bytes()) {
        return Err(OAuthError::unauthorized(
            "invalid_client",
            CLIENT_AUTH_FAILED,
        ));
    }

    let account_ids = &entry.package.account_ids;
    let mid = match request.account_id.as_deref().map(str::trim) {
        None | Some("") => (!account_ids.is_empty()).then_some(0),
        Some(wanted) => account_ids.iter().position(|id| id == wanted),
    }
    .ok_or_else(|| OAuthError::unauthorized("unauthorized_client", UNAUTHORIZED_ACCOUNT))?;

    let scopes = granted_scopes(entry, request.scope.as_deref());
    let access_token = shared
        .mint
        .issue(package, mid, &scopes, shared.token_ttl_secs);
    shared.counters.token_issued();
    tracing::debug!(client_id = %client_id, mid = %account_ids[mid], "issued access token");

    let instance_url = shared.instance_url();
    let body = TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: shared.token_ttl_secs,
        scope: scope_string(entry, &scopes),
        soap_instance_url: &instance_url,
        rest_instance_url: &instance_url,
    };
    let mut response = Json(body).into_response();
    no_store(&mut response);
    Ok(response)
}

/// Omitted: every scope of the package; otherwise the requested ones the package has.
fn granted_scopes(entry: &PackageEntry, requested: Option<&str>) -> ScopeSet {
    let mut set = ScopeSet::default();
    match requested {
        None => (0..entry.scopes.len()).for_each(|i| set.insert(i)),
        Some(requested) => requested
            .split_whitespace()
            .filter_map(|s| entry.scope_index.get(s))
            .for_each(|&i| set.insert(i)),
    }
    set
}

/// The granted scopes, space-separated, in the package's order.
fn scope_string(entry: &PackageEntry, set: &ScopeSet) -> String {
    let granted: Vec<&str> = entry
        .scopes
        .iter()
        .enumerate()
        .filter(|(i, _)| set.contains(*i))
        .map(|(_, s)| s.as_str())
        .collect();
    granted.join(" ")
}

/// Reads the body as JSON or as a form, by `Content-Type`; without a known one, a body
/// starting with `{` is JSON and anything else a form.
fn parse(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let json = match content_type.as_deref() {
        Some(ct) if ct == "application/json" || ct.ends_with("+json") => true,
        Some("application/x-www-form-urlencoded") => false,
        _ => body.trim_ascii_start().first() == Some(&b'{'),
    };
    if json {
        parse_json(body)
    } else {
        parse_form(body)
    }
}

fn parse_json(body: &[u8]) -> Result<TokenRequest, String> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err("The request body is not a valid JSON object.".to_owned());
    };
    let text = |name: &str| match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("The parameter {name} must be a string.")),
    };
    let account_id = match map.get("account_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err("The parameter account_id must be a number or a string.".to_owned()),
    };
    Ok(TokenRequest {
        grant_type: text("grant_type")?,
        client_id: text("client_id")?,
        client_secret: text("client_secret")?,
        account_id,
        scope: text("scope")?,
    })
}

fn parse_form(body: &[u8]) -> Result<TokenRequest, String> {
    let malformed =
        || "The request body is not a valid application/x-www-form-urlencoded form.".to_owned();
    let body = std::str::from_utf8(body).map_err(|_| malformed())?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(body).map_err(|_| malformed())?;
    let mut request = TokenRequest::default();
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "grant_type" => &mut request.grant_type,
            "client_id" => &mut request.client_id,
            "client_secret" => &mut request.client_secret,
            "account_id" => &mut request.account_id,
            "scope" => &mut request.scope,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(format!("The parameter {name} is repeated."));
        }
    }
    Ok(request)
}

/// An OAuth error: answered as `{"error","error_description","error_uri"}` with its status.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: Cow<'static, str>,
}

/// The body of an [`OAuthError`], in the live API's field order.
#[derive(Serialize)]
struct OAuthErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
    error_uri: &'a str,
}

impl OAuthError {
    fn bad_request(error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
        }
    }

    fn unauthorized(error: &'static str, description: &'static str) -> Self {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error,
            description: description.into(),
        }
    }

    fn invalid_request(description: String) -> Self {
        Self::bad_request("invalid_request", description)
    }

    fn missing(name: &str) -> Self {
        Self::invalid_request(format!(
            "The request is missing the required parameter {name}."
        ))
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody {
            error: self.error,
            error_description: &self.description,
            error_uri: ERROR_URI,
        };
        let mut response = (self.status, Json(body)).into_response();
        no_store(&mut response);
        response
    }
}

fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Compares secrets without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        h
    }

    #[test]
    fn parses_json_form_and_sniffs() {
        let want = TokenRequest {
            grant_type: Some("client_credentials".into()),
            client_id: Some("a".into()),
            client_secret: Some("b c".into()),
            account_id: Some("12".into()),
            scope: None,
        };
        let json = br#"{"grant_type":"client_credentials","client_id":"a","client_secret":"b c","account_id":12,"scope":null,"x":[1]}"#;
        let form = b"grant_type=client_credentials&client_id=a&client_secret=b+c&account_id=12&x=1";
        assert_eq!(
            parse(&headers(Some("application/json; charset=utf-8")), json),
            Ok(want)
        );
        let want = parse(&headers(Some("application/json")), json);
        assert_eq!(parse(&headers(None), json), want);
        assert_eq!(
            parse(&headers(Some("Application/X-WWW-Form-Urlencoded")), form),
            want
        );
        assert_eq!(parse(&headers(Some("text/plain")), form), want);
    }

    #[test]
    fn rejects_bad_bodies() {
        let json = headers(Some("application/json"));
        for body in [
            &b""[..],
            b"[]",
            b"{",
            b"\"x\"",
            br#"{"client_id":1}"#,
            br#"{"account_id":[1]}"#,
        ] {
            assert!(
                parse(&json, body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let form = headers(Some("application/x-www-form-urlencoded"));
        assert!(parse(&form, b"client_id=a&client_id=b").is_err());
        assert!(parse(&form, b"\xff\xfe=1").is_err());
    }

    #[test]
    fn secret_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
