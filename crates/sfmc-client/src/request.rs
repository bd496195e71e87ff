//! What a call sends and gets back: [`ApiRequest`] (method, relative path, query, body,
//! idempotency), [`ApiResponse`], and [`resolve`], the one place a path becomes a URL — always
//! under the REST instance URL, so a token never goes to another host.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::error::ClientError;

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    /// JSON, sent with `Content-Type: application/json`.
    Json(Value),
    /// Bytes with their content type (for large prepared bodies; cheap to clone for retries).
    Bytes {
        /// The `Content-Type`.
        content_type: &'static str,
        /// The body.
        bytes: Bytes,
    },
}

/// A request relative to the REST instance URL.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// The method.
    pub method: Method,
    /// The path (`/hub/v1/campaigns`, with or without the leading `/`), without a query:
    /// [`ApiRequest::new`] moves a `?query` into [`ApiRequest::query`].
    pub path: String,
    /// Query pairs (decoded), sent form-encoded.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Option<RequestBody>,
    /// Whether it may be repeated after a 5xx or a broken connection.
    pub idempotent: bool,
}

impl ApiRequest {
    /// A request; idempotent when the method is (GET, HEAD, PUT, DELETE, OPTIONS). A `?query`
    /// in `path` is decoded into query pairs, so [`ApiRequest::set_query`] and
    /// [`ApiRequest::query_value`] see it (a query holding `#`, `\` or a control character is
    /// left in the path, where [`resolve`] refuses it).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let idempotent = method.is_idempotent();
        let (path, query) = split_query(path.into());
        Self {
            method,
            path,
            query,
            body: None,
            idempotent,
        }
    }

    /// Adds a query pair.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(RequestBody::Json(body));
        self
    }

    /// Sets a prepared body.
    pub fn bytes(mut self, content_type: &'static str, bytes: Bytes) -> Self {
        self.body = Some(RequestBody::Bytes {
            content_type,
            bytes,
        });
        self
    }

    /// Overrides whether the request may be repeated (an upsert by POST is).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Sets the query pair `name` (matched case-insensitively, with or without `$`), replacing
    /// any earlier one.
    pub fn set_query(&mut self, name: &str, value: String) {
        let bare = |n: &str| n.trim_start_matches('$').to_ascii_lowercase();
        let wanted = bare(name);
        self.query.retain(|(n, _)| bare(n) != wanted);
        self.query.push((name.to_owned(), value));
    }

    /// The value of query pair `name` (case-insensitive, with or without `$`).
    pub fn query_value(&self, name: &str) -> Option<&str> {
        let bare = |n: &str| n.trim_start_matches('$').to_ascii_lowercase();
        let wanted = bare(name);
        self.query
            .iter()
            .rev()
            .find(|(n, _)| bare(n) == wanted)
            .map(|(_, v)| v.as_str())
    }
}

/// A success answer, body read.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The status (2xx or 3xx).
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl ApiResponse {
    /// The body as JSON; an empty body is `null`, a non-JSON body a JSON string.
    pub fn json(&self) -> Value {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }

    /// The body deserialized as `T`.
    pub fn json_as<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        let bytes: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(bytes).map_err(|e| {
            ClientError::InvalidResponse(format!("the body is not the expected JSON ({e})"))
        })
    }
}

/// The URL of `path` (and `query`) under `base`, refusing anything that could leave it: absolute
/// URLs, `//host`, `.`/`..` segments (also percent-encoded), backslashes, fragments and control
/// characters. `path` holds no query (see [`ApiRequest::new`]); a `?` in it is refused.
pub fn resolve(base: &Url, path: &str, query: &[(String, String)]) -> Result<Url, ClientError> {
    let refuse = |why: &str| {
        Err(ClientError::InvalidRequest(format!(
            "path {:?} {why}",
            path.chars().take(200).collect::<String>()
        )))
    };
    if path.contains("://") || path.starts_with("//") {
        return refuse(
            "is not relative to the REST instance URL; give a path like /hub/v1/campaigns",
        );
    }
    if !clean(path) {
        return refuse("contains '#', '\\' or a control character");
    }
    if path.contains('?') {
        return refuse("holds a query; give it as query pairs");
    }
    let relative = path.trim_start_matches('/');
    let dot_segment = relative.split('/').any(|segment| {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        decoded == "." || decoded == ".."
    });
    if dot_segment {
        return refuse("contains a '.' or '..' segment");
    }
    let mut url = base.clone();
    let base_path = base.path();
    let separator = if base_path.ends_with('/') { "" } else { "/" };
    url.set_path(&format!("{base_path}{separator}{relative}"));
    url.set_query(None);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    if url.origin() != base.origin() {
        return refuse("leaves the REST instance URL");
    }
    Ok(url)
}

/// Checks that `path` is a path the client would send (see [`resolve`]), before any connection.
pub fn check_path(path: &str) -> Result<(), ClientError> {
    let base = Url::parse("https://rest.invalid/")
        .map_err(|e| ClientError::InvalidRequest(format!("internal: {e}")))?;
    let request = ApiRequest::new(Method::GET, path);
    resolve(&base, &request.path, &request.query).map(drop)
}

/// No `#`, `\` or control character.
fn clean(text: &str) -> bool {
    !text.contains(['#', '\\']) && !text.chars().any(char::is_control)
}

/// `path` without its `?query`, and the query's pairs form-decoded (`+` is a space). A query
/// that is not [`clean`] stays in the path, for [`resolve`] to refuse.
fn split_query(path: String) -> (String, Vec<(String, String)>) {
    match path.split_once('?') {
        Some((bare, query)) if clean(query) => {
            let pairs = url::form_urlencoded::parse(query.as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect();
            (bare.to_owned(), pairs)
        }
        _ => (path, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://mc123.rest.marketingcloudapis.com/").unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn relative_paths_stay_under_the_instance_url() {
        let url = resolve(&base(), "/hub/v1/campaigns", &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.as_str(),
            "https://mc123.rest.marketingcloudapis.com/hub/v1/campaigns"
        );
        let request = ApiRequest::new(Method::GET, "hub/v1/dataevents/key:abc/rowset?$page=2")
            .query("$filter", "name eq 'x'");
        let url = resolve(&base(), &request.path, &request.query).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.as_str(),
            "https://mc123.rest.marketingcloudapis.com/hub/v1/dataevents/key:abc/rowset?%24page=2&%24filter=name+eq+%27x%27"
        );
    }

    #[test]
    fn escapes_are_refused() {
        for bad in [
            "https://evil.example/x",
            "//evil.example/x",
            "/hub/../v2/token",
            "/hub/%2e%2E/x",
            "/a/./b",
            "/a#frag",
            "/a\\b",
            "/a\nb",
            "/a?b=1",
        ] {
            let error = resolve(&base(), bad, &[]).err();
            assert!(
                matches!(error, Some(ClientError::InvalidRequest(_))),
                "{bad}"
            );
        }
        for bad in ["/a?x#frag", "/a?x=\\", "/a?x=\n"] {
            let request = ApiRequest::new(Method::GET, bad);
            let error = resolve(&base(), &request.path, &request.query).err();
            assert!(
                matches!(error, Some(ClientError::InvalidRequest(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_query_in_the_path_becomes_query_pairs() {
        let mut request =
            ApiRequest::new(Method::GET, "/hub/v1/campaigns?$page=2&name=a+b%26c&flag");
        assert_eq!(request.path, "/hub/v1/campaigns");
        assert_eq!(
            request.query,
            [
                ("$page".to_owned(), "2".to_owned()),
                ("name".to_owned(), "a b&c".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        assert_eq!(request.query_value("page"), Some("2"));
        request.set_query("$page", "3".to_owned());
        let url = resolve(&base(), &request.path, &request.query).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.as_str(),
            "https://mc123.rest.marketingcloudapis.com/hub/v1/campaigns?name=a+b%26c&flag=&%24page=3"
        );
        assert!(check_path("/hub/v1/campaigns?$page=2").is_ok());
    }
}
