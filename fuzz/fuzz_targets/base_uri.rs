//! Subdomains, base URIs and scopes from users: never a panic; whatever is accepted builds a
//! Marketing Cloud auth host on 443 (or a loopback URL) and nothing else.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmc_auth::settings::parse_scopes;
use sfmc_auth::{AuthBaseUrl, subdomain_from_base_uri, validate_subdomain};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(subdomain) = validate_subdomain(text) {
        assert!(
            subdomain
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
        let base = AuthBaseUrl::from_subdomain(text).expect("a valid subdomain builds a URL");
        let host = base.as_url().host_str().expect("a host");
        assert_eq!(host, format!("{subdomain}.auth.marketingcloudapis.com"));
    }
    if let Ok(subdomain) = subdomain_from_base_uri(text) {
        assert!(validate_subdomain(&subdomain).is_ok());
    }
    if let Ok(base) = AuthBaseUrl::parse(text) {
        let url = base.as_url();
        assert!(url.username().is_empty() && url.password().is_none());
        assert!(url.path().ends_with('/'));
        if !base.is_loopback() {
            // Only Marketing Cloud's auth hosts, on 443, without a path.
            let host = url.host_str().expect("a host");
            assert_eq!(url.scheme(), "https");
            assert!(host.ends_with(".auth.marketingcloudapis.com"));
            assert_eq!(host.matches('.').count(), 3);
            assert!(url.port().is_none() && url.path() == "/");
        }
    }
    if let Ok(scopes) = parse_scopes(text) {
        assert!(scopes.windows(2).all(|w| w[0] < w[1]));
        assert!(
            scopes
                .iter()
                .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        );
    }
});
