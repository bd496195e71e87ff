//! The proxy's target as the caller wrote it: `/connections/{name}/rest/{path}?{query}` split
//! without decoding the path ([`Target::parse`]), the path checked so the token stays on the
//! connection's REST host ([`check`]), and `account_id` taken out of the query.
//!
//! Refused forms (checked on the raw, still percent-encoded path): `.` and `..` segments (also
//! `%2e`, in any case and mix, and with `;parameters` as in `..;/`), encoded slashes (`%2F`),
//! backslashes (raw or `%5C`), encoded NULs (`%00`), raw control characters, absolute URLs (`scheme:` first segments,
//! `://` anywhere) and network paths (`//host`).

use std::borrow::Cow;

/// The parts of a proxied request's URI.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    /// The connection name, raw.
    pub name: &'a str,
    /// The path under the REST instance URL, raw, without its leading `/`.
    pub path: &'a str,
    /// The query to forward, raw (`account_id` removed).
    pub query: Cow<'a, str>,
    /// The business unit asked for in the query, decoded.
    pub account_id: Option<String>,
}

/// The query parameter that switches business unit.
const ACCOUNT_PARAM: &str = "account_id";

impl<'a> Target<'a> {
    /// Splits `path` (`/connections/{name}/rest/{rest}`) and `query`; `None` when the path
    /// has another shape.
    pub(crate) fn parse(path: &'a str, query: Option<&'a str>) -> Option<Self> {
        let rest = path.strip_prefix("/connections/")?;
        let (name, rest) = rest.split_once('/')?;
        let path = rest.strip_prefix("rest/")?;
        let (query, account_id) = split_account(query.unwrap_or(""));
        Some(Self {
            name,
            path,
            query,
            account_id,
        })
    }
}

/// `query` without its `account_id` pairs, and the last one's decoded value.
pub(crate) fn split_account(query: &str) -> (Cow<'_, str>, Option<String>) {
    if !query.contains(ACCOUNT_PARAM) {
        return (Cow::Borrowed(query), None);
    }
    let mut kept = String::with_capacity(query.len());
    let mut account = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name == ACCOUNT_PARAM {
            let value = value.replace('+', " ");
            account = Some(
                percent_encoding::percent_decode_str(&value)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
            continue;
        }
        if !kept.is_empty() {
            kept.push('&');
        }
        kept.push_str(pair);
    }
    (Cow::Owned(kept), account)
}

/// Why a path is refused, or `Ok` when it stays under the REST instance URL.
pub(crate) fn check(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty; give a REST path such as hub/v1/campaigns");
    }
    if path.starts_with('/') || path.contains("://") {
        return Err(
            "is an absolute URL or a network path; give a path relative to the REST instance URL",
        );
    }
    let first = path.split('/').next().unwrap_or("");
    if first.contains(':') {
        return Err(
            "starts like an absolute URL (scheme:); give a path relative to the REST instance URL",
        );
    }
    let bytes = path.as_bytes();
    if bytes.contains(&b'\\') {
        return Err("contains a backslash");
    }
    if bytes.iter().any(u8::is_ascii_control) {
        return Err("contains a control character");
    }
    for window in bytes.windows(3).filter(|w| w[0] == b'%') {
        match (window[1], window[2].to_ascii_lowercase()) {
            (b'2', b'f') => return Err("contains an encoded slash (%2F)"),
            (b'5', b'c') => return Err("contains an encoded backslash (%5C)"),
            (b'0', b'0') => return Err("contains an encoded NUL (%00)"),
            _ => {}
        }
    }
    if path.split('/').map(without_parameters).any(is_dot_segment) {
        return Err("contains a '.' or '..' segment (also percent-encoded, or with ;parameters)");
    }
    Ok(())
}

/// `segment` without its `;parameters` (raw or `%3B`): servlet containers read `..;x` as `..`.
fn without_parameters(segment: &str) -> &str {
    let raw = segment.find(';').unwrap_or(segment.len());
    let encoded = segment
        .as_bytes()
        .windows(3)
        .position(|w| w[0] == b'%' && w[1] == b'3' && w[2].eq_ignore_ascii_case(&b'b'))
        .unwrap_or(segment.len());
    &segment[..raw.min(encoded)]
}

/// Whether `segment` is `.` or `..`, with any dot written as `%2e`/`%2E`.
fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        if rest[0] == b'.' {
            rest = &rest[1..];
        } else if rest.len() >= 3
            && rest[0] == b'%'
            && rest[1] == b'2'
            && rest[2].eq_ignore_ascii_case(&b'e')
        {
            rest = &rest[3..];
        } else {
            return false;
        }
        dots += 1;
    }
    dots == 1 || dots == 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_name_path_and_query() {
        let target = Target::parse(
            "/connections/SFMC_1/rest/hub/v1/campaigns",
            Some("$page=2&account_id=100000002&x=a+b"),
        )
        .unwrap_or_else(|| panic!("parses"));
        assert_eq!(target.name, "SFMC_1");
        assert_eq!(target.path, "hub/v1/campaigns");
        assert_eq!(target.query, "$page=2&x=a+b");
        assert_eq!(target.account_id.as_deref(), Some("100000002"));
        let plain =
            Target::parse("/connections/a/rest/x", None).unwrap_or_else(|| panic!("parses"));
        assert_eq!((plain.query.as_ref(), plain.account_id), ("", None));
        assert!(Target::parse("/connections/a/test", None).is_none());
    }

    #[test]
    fn keeps_ordinary_paths() {
        for good in [
            "platform/v1/tokenContext",
            "hub/v1/dataevents/key:abc/rowset",
            "hub/v1/campaigns/12",
            "asset/v1/content/assets/a%20b",
            "a/.hidden/b",
            "a/...",
            "a/%2e%2e%2e",
            "hub/v1/x;v=1",
            "a/..x;y",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn refuses_every_escape_form() {
        for bad in [
            "",
            "../v2/token",
            "hub/../../v2/token",
            "hub/..",
            "./x",
            "%2e%2e/v2/token",
            "%2E%2e/v2/token",
            ".%2e/v2/token",
            "hub/%2e/x",
            "hub%2F..%2Fv2/token",
            "hub%2fx",
            "hub\\..\\v2",
            "hub%5c..%5Cv2",
            "/evil.example/x",
            "http://evil.example/x",
            "https:/evil.example",
            "hub/v1/x?u=http://evil",
            "hub/..;/..;/v2/token",
            "hub/..;x/v2/token",
            "hub/.%2e%3bx/v2/token",
            "hub/.;/x",
            "hub/..%00/x",
            "hub/v1/a\0b",
            "hub/v1/a\r\nb",
        ] {
            assert!(check(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
