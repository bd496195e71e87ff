//! Which headers cross the proxy. Toward Marketing Cloud: everything the caller sent except its
//! credentials (`Authorization`, `Cookie`, `X-Api-Key`), the gateway's own `X-SFMC-Account-Id`,
//! `Host`, `Content-Length` (set from the body), `Expect`, and hop-by-hop headers (RFC 9110
//! §7.6.1, plus any the `Connection` header names). Back to the caller: everything but
//! hop-by-hop headers.

use axum::http::header::{self, HeaderMap, HeaderName};

/// The gateway's business-unit header.
pub(crate) const ACCOUNT_HEADER: &str = "x-sfmc-account-id";
/// The inbound API key header.
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// Hop-by-hop headers: they describe one connection, never the request.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

fn is_hop_by_hop(name: &HeaderName, connection: &HeaderMap) -> bool {
    HOP_BY_HOP.contains(name)
        || name == "proxy-connection"
        || connection.get_all(header::CONNECTION).iter().any(|value| {
            value.to_str().is_ok_and(|listed| {
                listed
                    .split(',')
                    .any(|token| token.trim().eq_ignore_ascii_case(name.as_str()))
            })
        })
}

/// Whether a caller's header is never forwarded upstream, whatever the connection says.
fn is_withheld(name: &HeaderName) -> bool {
    name == header::AUTHORIZATION
        || name == header::COOKIE
        || name == header::HOST
        || name == header::CONTENT_LENGTH
        || name == header::EXPECT
        || name == API_KEY_HEADER
        || name == ACCOUNT_HEADER
}

/// The caller's headers that go upstream (the token is added by the caller of this function).
pub(crate) fn request_headers(incoming: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(incoming.len());
    for (name, value) in incoming {
        if !is_withheld(name) && !is_hop_by_hop(name, incoming) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// Removes the hop-by-hop headers of an upstream answer, in place.
pub(crate) fn strip_response_headers(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
    headers.remove("proxy-connection");
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_and_hop_by_hop_headers_stay_behind() {
        let mut incoming = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer caller-key"),
            ("cookie", "session=1"),
            ("x-api-key", "caller-key"),
            ("x-sfmc-account-id", "100000002"),
            ("host", "gateway"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("content-length", "12"),
            ("proxy-authorization", "Basic x"),
            ("content-type", "application/json"),
            ("x-request-id", "r1"),
            ("accept", "application/json"),
        ] {
            incoming.append(name, HeaderValue::from_static(value));
        }
        let out = request_headers(&incoming);
        let names: Vec<&str> = out.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["content-type", "x-request-id", "accept"]);
    }

    #[test]
    fn answers_lose_only_hop_by_hop_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("connection", HeaderValue::from_static("close, x-hop"));
        headers.insert("x-hop", HeaderValue::from_static("1"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("retry-after", HeaderValue::from_static("5"));
        strip_response_headers(&mut headers);
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-type", "retry-after"]);
    }
}
