//! Where a direct origin's pool connects and the `Host` its requests carry.

use super::*;

fn origin_and_host_of(url: &str) -> (String, String) {
    let url = Url::parse(url).unwrap();
    let (origin, host) = origin_and_host(&url).unwrap();
    (origin.to_string(), host.to_str().unwrap().to_owned())
}

#[test]
fn the_host_header_names_the_port_only_when_it_is_not_the_default() {
    assert_eq!(
        origin_and_host_of("https://mc.rest.marketingcloudapis.com/"),
        (
            "https://mc.rest.marketingcloudapis.com/".to_owned(),
            "mc.rest.marketingcloudapis.com".to_owned()
        )
    );
    assert_eq!(
        origin_and_host_of("https://mc.example:443/base/"),
        ("https://mc.example/".to_owned(), "mc.example".to_owned())
    );
    assert_eq!(
        origin_and_host_of("http://mc.example:80/"),
        ("http://mc.example/".to_owned(), "mc.example".to_owned())
    );
    assert_eq!(
        origin_and_host_of("http://127.0.0.1:8443/"),
        (
            "http://127.0.0.1:8443/".to_owned(),
            "127.0.0.1:8443".to_owned()
        )
    );
}

#[test]
fn an_ipv6_host_keeps_its_brackets() {
    assert_eq!(
        origin_and_host_of("http://[::1]:8080/"),
        ("http://[::1]:8080/".to_owned(), "[::1]:8080".to_owned())
    );
    assert_eq!(
        origin_and_host_of("https://[2001:db8::1]/"),
        (
            "https://[2001:db8::1]/".to_owned(),
            "[2001:db8::1]".to_owned()
        )
    );
}

#[test]
fn user_info_in_the_instance_url_never_reaches_the_host_header() {
    assert_eq!(
        origin_and_host_of("https://user:secret@mc.example/"),
        ("https://mc.example/".to_owned(), "mc.example".to_owned())
    );
}
