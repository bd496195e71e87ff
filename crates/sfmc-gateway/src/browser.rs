//! Web pages in a browser on the gateway's own machine. A gateway without inbound keys trusts
//! whoever reaches its loopback listener, and a page from any site can reach it too: by a
//! cross-site request (a `fetch` or a form posts to an operation, and it runs with the
//! connection's token even though the page cannot read the answer), or by DNS rebinding (a
//! name of the page's site made to point at 127.0.0.1, so that the page reads the answers as
//! its own). [`foreign`] tells such requests apart; services calling the gateway send none of
//! the headers it looks at, or loopback values in them.

use std::net::IpAddr;

use axum::http::uri::Authority;
use axum::http::{HeaderMap, Uri, header};

/// What gives a request away as a browser's, sent on behalf of a page from elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Foreign {
    /// `Host` names something other than loopback (DNS rebinding).
    Host,
    /// `Origin` is not a loopback origin, or `Sec-Fetch-Site: cross-site` came without one.
    Site,
}

/// Why a request to a keyless (loopback) gateway comes from a page of another site, if it does.
pub(crate) fn foreign(headers: &HeaderMap) -> Option<Foreign> {
    if let Some(host) = headers.get(header::HOST)
        && !host.to_str().is_ok_and(is_loopback_authority)
    {
        return Some(Foreign::Host);
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => {
            let loopback = origin
                .to_str()
                .ok()
                .and_then(|o| o.parse::<Uri>().ok())
                .is_some_and(|o| {
                    o.authority()
                        .is_some_and(|a| is_loopback_authority(a.as_str()))
                });
            (!loopback).then_some(Foreign::Site)
        }
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"))
            .then_some(Foreign::Site),
    }
}

/// Whether `authority` (`host[:port]`) is `localhost` or a loopback address.
fn is_loopback_authority(authority: &str) -> bool {
    let Ok(authority) = authority.parse::<Authority>() else {
        return false;
    };
    if authority.as_str().contains('@') {
        return false;
    }
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn services_and_local_pages_pass() {
        for pairs in [
            &[][..],
            &[("host", "127.0.0.1:8290")],
            &[("host", "localhost")],
            &[("host", "LOCALHOST:8290")],
            &[("host", "[::1]:8290")],
            &[("host", "127.1.2.3")],
            &[
                ("origin", "http://localhost:3000"),
                ("sec-fetch-site", "cross-site"),
            ],
            &[
                ("origin", "http://127.0.0.1:8290"),
                ("sec-fetch-site", "same-origin"),
            ],
            &[("sec-fetch-site", "none")],
            &[("sec-fetch-site", "same-site")],
        ] {
            assert_eq!(foreign(&with(pairs)), None, "{pairs:?}");
        }
    }

    #[test]
    fn pages_of_other_sites_are_told_apart() {
        for (pairs, why) in [
            (&[("host", "evil.example:8290")][..], Foreign::Host),
            (&[("host", "localhost.evil.example")], Foreign::Host),
            (&[("host", "user@127.0.0.1")], Foreign::Host),
            (&[("host", "[::ffff:7f00:1]")], Foreign::Host),
            (&[("host", "")], Foreign::Host),
            (&[("origin", "https://evil.example")], Foreign::Site),
            (&[("origin", "null")], Foreign::Site),
            (
                &[("origin", "http://127.0.0.1.evil.example")],
                Foreign::Site,
            ),
            (&[("sec-fetch-site", "cross-site")], Foreign::Site),
            (
                &[("host", "127.0.0.1"), ("origin", "https://evil.example")],
                Foreign::Site,
            ),
        ] {
            assert_eq!(foreign(&with(pairs)), Some(why), "{pairs:?}");
        }
    }
}
