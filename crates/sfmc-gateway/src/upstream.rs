//! The proxy's HTTP clients: one pooled client per REST origin (scheme, host, port), made the
//! first time the origin is seen, with `sfmc-auth`'s proxy rule decided once for it
//! ([`ProxyPolicy`]: `HTTPS_PROXY`/`NO_PROXY`; loopback and plain http always direct), so that no
//! request pays for proxy matching. Like every client of the project: rustls, no redirects
//! followed (a redirect must not carry the token elsewhere), connect and request timeouts.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use reqwest::Url;
use sfmc_auth::http::{ProxyPolicy, USER_AGENT};

/// How long connecting to Marketing Cloud may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The clients, by origin.
pub(crate) struct Upstreams {
    policy: ProxyPolicy,
    request_timeout: Duration,
    clients: ArcSwap<Vec<(Origin, reqwest::Client)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn matches(&self, url: &Url) -> bool {
        self.port == url.port_or_known_default()
            && self.scheme == url.scheme()
            && url.host_str() == Some(self.host.as_str())
    }
}

impl Upstreams {
    /// Clients whose exchanges (answer body included) end within `request_timeout`, proxied as
    /// the environment's proxy variables say.
    pub(crate) fn new(request_timeout: Duration) -> Self {
        Self {
            policy: ProxyPolicy::from_env(),
            request_timeout,
            clients: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// The client for `url`'s origin.
    pub(crate) fn client_for(&self, url: &Url) -> Result<reqwest::Client, String> {
        if let Some((_, client)) = self.clients.load().iter().find(|(o, _)| o.matches(url)) {
            return Ok(client.clone());
        }
        let client = self.build(url)?;
        let origin = Origin {
            scheme: url.scheme().to_owned(),
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port_or_known_default(),
        };
        self.clients.rcu(|clients| {
            let mut clients = Vec::clone(clients);
            if !clients.iter().any(|(o, _)| *o == origin) {
                clients.push((origin.clone(), client.clone()));
            }
            Arc::new(clients)
        });
        Ok(client)
    }

    fn build(&self, url: &Url) -> Result<reqwest::Client, String> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(self.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT);
        if let Some(proxy) = self.policy.proxy_for(url) {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|_| "the HTTPS_PROXY setting is not a valid proxy URL".to_owned())?;
            builder = builder.proxy(proxy);
        }
        builder
            .build()
            .map_err(|e| format!("cannot start an HTTP client: {e}"))
    }
}
