//! Paths from users (`sfmc api PATH`, `links.next` from answers): never a panic; whatever
//! resolves stays on the REST instance's origin and under its path, with no fragment and no
//! `.`/`..` segment (also percent-encoded), so a token never leaves the instance.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmc_client::request::resolve;
use sfmc_client::{ApiRequest, Method};
use url::Url;

fn check(base: &Url, url: &Url) {
    assert_eq!(url.origin(), base.origin(), "{url}");
    assert!(url.fragment().is_none(), "{url}");
    assert!(url.path().starts_with(base.path()), "{url}");
    for segment in url.path().split('/') {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        assert!(decoded != "." && decoded != "..", "{url}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = Url::parse("https://mc123.rest.marketingcloudapis.com/base/").expect("a URL");
    if let Ok(url) = resolve(&base, text, &[]) {
        check(&base, &url);
    }
    // As `sfmc api` sends it: a `?query` becomes query pairs.
    let request = ApiRequest::new(Method::GET, text);
    assert!(!request.path.contains('?') || resolve(&base, &request.path, &[]).is_err());
    if let Ok(url) = resolve(&base, &request.path, &request.query) {
        check(&base, &url);
    }
});
