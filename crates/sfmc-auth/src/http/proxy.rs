//! Which requests go through a proxy: [`ProxyPolicy`].
//!
//! The rule: a loopback destination never goes through a proxy, and neither does a plain-http
//! request (its body, a client secret for the emulator, would be readable by the proxy). An https
//! destination goes through `HTTPS_PROXY` (else `ALL_PROXY`; lower-case names too) unless
//! `NO_PROXY` names it, with curl's `NO_PROXY` rules: users behind corporate proxies need this
//! for Marketing Cloud, and through a proxy https is a `CONNECT` tunnel the proxy cannot read.
//! `HTTP_PROXY` is never used: no http request is ever proxied.

use std::fmt;
use std::sync::Arc;

use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

use crate::settings::is_loopback_url;

/// Where https requests may be proxied: a snapshot of the proxy variables, and the decision for
/// each destination ([`ProxyPolicy::proxy_for`]).
pub struct ProxyPolicy {
    /// The proxy for https destinations, as configured (it may carry `user:password@`).
    https_proxy: Option<String>,
    /// `NO_PROXY` applied to that proxy.
    matcher: Matcher,
}

impl ProxyPolicy {
    /// The policy of the current environment: `HTTPS_PROXY`/`https_proxy`, else
    /// `ALL_PROXY`/`all_proxy`, and `NO_PROXY`/`no_proxy`.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The policy for the variables `var` returns (a variable set to an empty value counts as
    /// unset).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| var(name).filter(|v| !v.trim().is_empty()))
        };
        let https_proxy = first(&["HTTPS_PROXY", "https_proxy"])
            .or_else(|| first(&["ALL_PROXY", "all_proxy"]))
            .map(|p| p.trim().to_owned());
        let no_proxy = first(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
        let matcher = Matcher::builder()
            .https(https_proxy.clone().unwrap_or_default())
            .no(no_proxy)
            .build();
        Self {
            https_proxy,
            matcher,
        }
    }

    /// No proxy for any destination.
    pub fn direct() -> Self {
        Self::from_vars(|_| None)
    }

    /// The proxy a request to `url` goes through, or `None` for a direct connection.
    pub fn proxy_for(&self, url: &Url) -> Option<&str> {
        if url.scheme() != "https" || is_loopback_url(url) {
            return None;
        }
        let proxy = self.https_proxy.as_deref()?;
        let host = url.host_str()?;
        let port = url.port_or_known_default().unwrap_or(443);
        let destination: http::Uri = format!("https://{host}:{port}/").parse().ok()?;
        self.matcher.intercept(&destination).map(|_| proxy)
    }

    /// The policy as a `reqwest` proxy, for a client built with `.no_proxy().proxy(…)`.
    pub fn into_reqwest_proxy(self) -> reqwest::Proxy {
        let policy = Arc::new(self);
        reqwest::Proxy::custom(move |url| policy.proxy_for(url).map(str::to_owned))
    }
}

impl fmt::Debug for ProxyPolicy {
    /// Shows where the proxy is, never its credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = self.https_proxy.as_deref().map(|p| {
            Url::parse(p)
                .ok()
                .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
                .unwrap_or_else(|| "[unparsed]".to_owned())
        });
        f.debug_struct("ProxyPolicy")
            .field("https_proxy", &proxy)
            .field("no_proxy", &self.matcher)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(vars: &[(&str, &str)]) -> ProxyPolicy {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyPolicy::from_vars(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn via(policy: &ProxyPolicy, url: &str) -> Option<String> {
        policy
            .proxy_for(&Url::parse(url).expect("test URL"))
            .map(str::to_owned)
    }

    const MC: &str = "https://mczl3z3cmqr47kmts5x34v1cdlky.auth.marketingcloudapis.com/";
    const PROXY: &str = "http://proxy.corp:3128";

    #[test]
    fn https_to_marketing_cloud_goes_through_the_https_or_all_proxy() {
        for name in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            assert_eq!(
                via(&policy(&[(name, PROXY)]), MC).as_deref(),
                Some(PROXY),
                "{name}"
            );
        }
        let both = policy(&[("ALL_PROXY", "http://all:1"), ("HTTPS_PROXY", PROXY)]);
        assert_eq!(via(&both, MC).as_deref(), Some(PROXY), "HTTPS_PROXY first");
        let empty = policy(&[("HTTPS_PROXY", ""), ("ALL_PROXY", PROXY)]);
        assert_eq!(via(&empty, MC).as_deref(), Some(PROXY), "empty is unset");
        let credentials = "http://user:pass@proxy.corp:3128";
        assert_eq!(
            via(&policy(&[("HTTPS_PROXY", credentials)]), MC).as_deref(),
            Some(credentials),
            "credentials reach reqwest, which sends them to the proxy"
        );
    }

    #[test]
    fn loopback_and_plain_http_never_go_through_a_proxy() {
        let all = policy(&[
            ("HTTP_PROXY", PROXY),
            ("http_proxy", PROXY),
            ("HTTPS_PROXY", PROXY),
            ("ALL_PROXY", PROXY),
            ("all_proxy", PROXY),
        ]);
        for url in [
            "http://127.0.0.1:8787/v2/token",
            "https://127.0.0.1:8787/v2/token",
            "http://127.1.2.3/",
            "https://localhost:1/",
            "http://LOCALHOST/",
            "http://[::1]:9/",
            "https://[::1]/",
            "http://example.com/",
            "http://mczl3z3cmqr47kmts5x34v1cdlky.auth.marketingcloudapis.com/",
        ] {
            assert_eq!(via(&all, url), None, "{url}");
        }
        assert_eq!(via(&all, MC).as_deref(), Some(PROXY));
    }

    #[test]
    fn no_proxy_follows_curl_rules() {
        let mc = |no: &str| via(&policy(&[("HTTPS_PROXY", PROXY), ("NO_PROXY", no)]), MC);
        assert_eq!(mc("marketingcloudapis.com"), None);
        assert_eq!(mc(".marketingcloudapis.com"), None);
        assert_eq!(mc("example.com, auth.marketingcloudapis.com"), None);
        assert_eq!(mc("*"), None);
        assert_eq!(
            mc("cloudapis.com").as_deref(),
            Some(PROXY),
            "whole labels only"
        );
        assert_eq!(mc("example.com").as_deref(), Some(PROXY));
        let lower = policy(&[("https_proxy", PROXY), ("no_proxy", "10.0.0.0/8")]);
        assert_eq!(via(&lower, "https://10.1.2.3/"), None);
        assert_eq!(via(&lower, "https://11.1.2.3/").as_deref(), Some(PROXY));
    }

    #[test]
    fn no_variables_means_direct_and_debug_hides_credentials() {
        assert_eq!(via(&policy(&[]), MC), None);
        assert_eq!(via(&ProxyPolicy::direct(), MC), None);
        let debug = format!(
            "{:?}",
            policy(&[("HTTPS_PROXY", "http://user:hunter2@proxy.corp:3128")])
        );
        assert!(
            !debug.contains("hunter2") && !debug.contains("user"),
            "{debug}"
        );
        assert!(debug.contains("proxy.corp:3128"), "{debug}");
    }
}
