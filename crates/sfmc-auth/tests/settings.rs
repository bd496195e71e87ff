//! Subdomain, base URI and settings validation: examples, injection attempts and properties.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

use proptest::prelude::*;
use secrecy::SecretString;
use sfmc_auth::{
    AuthBaseUrl, AuthError, ConnectionSettings, subdomain_from_base_uri, validate_subdomain,
};

const SUB: &str = "mczl3z3cmqr47kmts5x34v1cdlky";

fn is_config(result: Result<impl std::fmt::Debug, AuthError>, field: &str) -> bool {
    matches!(result, Err(AuthError::Configuration { field: f, .. }) if f == field)
}

#[test]
fn real_subdomain_is_accepted_and_lower_cased() {
    assert_eq!(validate_subdomain(SUB).unwrap(), SUB);
    assert_eq!(validate_subdomain(&SUB.to_uppercase()).unwrap(), SUB);
    let base = AuthBaseUrl::from_subdomain(SUB).unwrap();
    assert_eq!(
        base.to_string(),
        format!("https://{SUB}.auth.marketingcloudapis.com/")
    );
    assert_eq!(
        base.token_url().as_str(),
        format!("https://{SUB}.auth.marketingcloudapis.com/v2/token")
    );
}

#[test]
fn injection_attempts_are_refused() {
    let long = "a".repeat(1000);
    for bad in [
        "evil.com#",
        "a/b",
        "x@y",
        "..",
        "%2e",
        "%2E%2E",
        "mc.evil",
        "mc:443",
        "mc evil",
        " mc",
        "mc\n",
        "mc\t",
        "mcé",
        "мс",
        "mc\u{200b}",
        "",
        &long,
        "-mc",
        "mc-",
        "mc?x",
        "mc\\x",
        "mc;x",
    ] {
        assert!(
            is_config(validate_subdomain(bad), "subdomain"),
            "accepted {bad:?}"
        );
        assert!(
            AuthBaseUrl::from_subdomain(bad).is_err(),
            "built a URL from {bad:?}"
        );
    }
}

#[test]
fn base_uri_gives_its_subdomain() {
    for uri in [
        format!("https://{SUB}.auth.marketingcloudapis.com/"),
        format!("https://{SUB}.auth.marketingcloudapis.com"),
        format!("https://{SUB}.rest.marketingcloudapis.com/"),
        format!("https://{SUB}.soap.marketingcloudapis.com/"),
        format!(
            "  https://{}.AUTH.marketingcloudapis.com/ ",
            SUB.to_uppercase()
        ),
    ] {
        assert_eq!(subdomain_from_base_uri(&uri).unwrap(), SUB, "{uri}");
    }
}

#[test]
fn base_uri_of_other_hosts_or_shapes_is_refused() {
    for uri in [
        "https://evil.com/".to_owned(),
        "https://evil.com#.auth.marketingcloudapis.com/".to_owned(),
        "https://evil.com?.auth.marketingcloudapis.com/".to_owned(),
        format!("https://user@{SUB}.auth.marketingcloudapis.com/"),
        format!("https://{SUB}.auth.marketingcloudapis.com@evil.com/"),
        format!("https://{SUB}.auth.marketingcloudapis.com.evil.com/"),
        format!("https://{SUB}.auth.marketingcloudapis.com:8443/"),
        format!("https://{SUB}.auth.marketingcloudapis.com/v2/token"),
        format!("https://a.{SUB}.auth.marketingcloudapis.com/"),
        format!("https://{SUB}.other.marketingcloudapis.com/"),
        format!("http://{SUB}.auth.marketingcloudapis.com/"),
        format!("https://{SUB}.auth.marketingcloudapis.com/#x"),
        format!("https://{SUB}.auth.marketingcloudapis.com/?x"),
        "https://auth.marketingcloudapis.com/".to_owned(),
        "not a url".to_owned(),
        String::new(),
    ] {
        assert!(
            is_config(subdomain_from_base_uri(&uri), "base URI"),
            "accepted {uri:?}"
        );
    }
}

#[test]
fn auth_base_uri_requires_https_except_loopback() {
    assert!(
        AuthBaseUrl::parse("http://127.0.0.1:8787")
            .unwrap()
            .is_loopback()
    );
    assert_eq!(
        AuthBaseUrl::parse("http://localhost:1/x")
            .unwrap()
            .to_string(),
        "http://localhost:1/x/"
    );
    assert!(AuthBaseUrl::parse("http://[::1]:1/").is_ok());
    assert!(is_config(
        AuthBaseUrl::parse("http://example.com/"),
        "auth base URI"
    ));
    assert!(is_config(
        AuthBaseUrl::parse("ftp://127.0.0.1/"),
        "auth base URI"
    ));
    assert!(is_config(
        AuthBaseUrl::parse("https://u:p@example.com/"),
        "auth base URI"
    ));
    assert!(is_config(
        AuthBaseUrl::parse("https://evil.com#.auth.marketingcloudapis.com/"),
        "auth base URI"
    ));
    assert!(AuthBaseUrl::parse(&format!("https://{SUB}.auth.marketingcloudapis.com/")).is_ok());
    assert!(AuthBaseUrl::parse("https://bad_label!.auth.marketingcloudapis.com/").is_err());
}

#[test]
fn auth_base_uri_is_a_marketing_cloud_auth_host_on_443_or_loopback() {
    let canonical = format!("https://{SUB}.auth.marketingcloudapis.com/");
    for same in [
        canonical.clone(),
        format!("https://{SUB}.auth.marketingcloudapis.com"),
        format!("https://{SUB}.auth.marketingcloudapis.com:443/"),
        format!(
            " HTTPS://{}.AUTH.MarketingCloudApis.com/ ",
            SUB.to_uppercase()
        ),
    ] {
        let base = AuthBaseUrl::parse(&same).unwrap();
        assert_eq!(base.to_string(), canonical, "{same}");
        assert_eq!(base, AuthBaseUrl::from_subdomain(SUB).unwrap());
    }
    for loopback in [
        "http://127.0.0.1:8787/",
        "https://127.0.0.1:8443/",
        "http://127.9.9.9/",
        "http://localhost:1/emulator/",
        "https://[::1]:9/",
    ] {
        assert!(
            AuthBaseUrl::parse(loopback).unwrap().is_loopback(),
            "{loopback}"
        );
    }
    for refused in [
        format!("https://{SUB}.auth.marketingcloudapis.com.evil.com/"),
        format!("https://{SUB}.auth.marketingcloudapis.com./"),
        format!("https://{SUB}.auth.marketingcloudapis.com:8443/"),
        format!("https://{SUB}.auth.marketingcloudapis.com:80/"),
        format!("https://{SUB}.auth.marketingcloudapis.com/v2/token"),
        format!("https://{SUB}.auth.marketingcloudapis.com/x/"),
        format!("https://{SUB}.auth.marketingcloudapis.com@evil.com/"),
        format!("https://evil.com\\@{SUB}.auth.marketingcloudapis.com/"),
        format!("https://evil.com\\.{SUB}.auth.marketingcloudapis.com/"),
        format!("https://{SUB}.rest.marketingcloudapis.com/"),
        format!("https://a.{SUB}.auth.marketingcloudapis.com/"),
        format!("https://{SUB}-auth.marketingcloudapis.com/"),
        "https://auth.marketingcloudapis.com/".to_owned(),
        "https://marketingcloudapis.com/".to_owned(),
        "https://evil.example/".to_owned(),
        "https://10.0.0.1/".to_owned(),
        "https://localhost.evil.com/".to_owned(),
        "http://10.0.0.1:8787/".to_owned(),
        "file:///etc/passwd".to_owned(),
    ] {
        assert!(
            is_config(AuthBaseUrl::parse(&refused), "auth base URI"),
            "accepted {refused:?}"
        );
    }
}

#[test]
fn a_relay_is_accepted_only_as_the_one_named_https_host() {
    let relay = "https://relay.corp.example/sfmc";
    assert!(is_config(AuthBaseUrl::parse(relay), "auth base URI"));
    let base = AuthBaseUrl::parse_dangerously_allowing(relay, "relay.corp.example").unwrap();
    assert_eq!(base.to_string(), "https://relay.corp.example/sfmc/");
    assert_eq!(
        base.token_url().as_str(),
        "https://relay.corp.example/sfmc/v2/token"
    );
    assert!(
        AuthBaseUrl::parse_dangerously_allowing(
            "https://RELAY.corp.example:8443/",
            " Relay.Corp.Example "
        )
        .is_ok(),
        "host names compare case-insensitively; any port"
    );
    for (uri, allowed) in [
        ("http://relay.corp.example/", "relay.corp.example"),
        ("https://u:p@relay.corp.example/", "relay.corp.example"),
        ("https://relay.corp.example/?x", "relay.corp.example"),
        ("https://relay.corp.example.evil.com/", "relay.corp.example"),
        ("https://evil.relay.corp.example/", "relay.corp.example"),
        ("https://relay.corp.example/", "other.example"),
    ] {
        assert!(
            is_config(
                AuthBaseUrl::parse_dangerously_allowing(uri, allowed),
                "auth base URI"
            ),
            "accepted {uri} allowing {allowed}"
        );
    }
    for allowed in [
        "",
        "relay.corp.example:443",
        "https://relay.corp.example/",
        "a b",
    ] {
        assert!(
            is_config(
                AuthBaseUrl::parse_dangerously_allowing(relay, allowed),
                "allowed auth host"
            ),
            "accepted {allowed:?} as a host"
        );
    }
    // The usual hosts keep their usual rules.
    let mc = format!("https://{SUB}.auth.marketingcloudapis.com/");
    assert!(AuthBaseUrl::parse_dangerously_allowing(&mc, "relay.corp.example").is_ok());
    assert!(AuthBaseUrl::parse_dangerously_allowing("http://127.0.0.1:1/", "127.0.0.1").is_ok());
    assert!(
        AuthBaseUrl::parse_dangerously_allowing(&format!("{mc}x"), "relay.corp.example").is_err()
    );
}

#[test]
fn settings_validate_each_field() {
    let base = || AuthBaseUrl::parse("http://127.0.0.1:1/").unwrap();
    let secret = || SecretString::from("s");
    assert!(is_config(
        ConnectionSettings::new(base(), "", secret()),
        "client id"
    ));
    assert!(is_config(
        ConnectionSettings::new(base(), "a b", secret()),
        "client id"
    ));
    assert!(is_config(
        ConnectionSettings::new(base(), "id", SecretString::from("")),
        "client secret"
    ));
    let settings = ConnectionSettings::new(base(), "id", secret()).unwrap();
    assert!(is_config(
        settings.clone().with_account_id("12a"),
        "account id"
    ));
    assert!(is_config(
        settings.clone().with_account_id(""),
        "account id"
    ));
    assert_eq!(
        settings
            .clone()
            .with_account_id(" 12345 ")
            .unwrap()
            .account_id(),
        Some("12345")
    );
    let scoped = settings
        .clone()
        .with_scope("email_write  email_read email_read")
        .unwrap();
    assert_eq!(
        scoped.scope_param().as_deref(),
        Some("email_read email_write")
    );
    assert_eq!(
        settings
            .clone()
            .with_scope("")
            .unwrap()
            .scope_param()
            .as_deref(),
        Some("")
    );
    assert_eq!(settings.scope_param(), None);
    assert!(is_config(settings.with_scope("email\u{7}"), "scope"));
}

#[test]
fn keys_separate_business_units_and_scopes_but_not_secrets() {
    let base = || AuthBaseUrl::parse("http://127.0.0.1:1/").unwrap();
    let a = ConnectionSettings::new(base(), "id", SecretString::from("one")).unwrap();
    let b = ConnectionSettings::new(base(), "id", SecretString::from("two")).unwrap();
    assert_eq!(a.key(), b.key());
    let mid = a.clone().with_account_id("1").unwrap();
    assert_ne!(a.key(), mid.key());
    let none = a.clone().with_scope("").unwrap();
    assert_ne!(
        a.key(),
        none.key(),
        "all scopes and no scopes are different tokens"
    );
    let ab = a.clone().with_scope("x y").unwrap();
    let ba = a.clone().with_scope("y x").unwrap();
    assert_eq!(ab.key(), ba.key());
    assert!(!a.key().canonical().contains("one"));
    assert_eq!(a.key().fingerprint().len(), 64);
}

#[test]
fn debug_of_settings_shows_no_secret() {
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse("http://127.0.0.1:1/").unwrap(),
        "id",
        SecretString::from("super-secret-value"),
    )
    .unwrap();
    let debug = format!("{settings:?} {settings:#?}");
    assert!(!debug.contains("super-secret-value"), "{debug}");
    assert!(debug.contains("REDACTED"));
}

proptest! {
    #[test]
    fn subdomain_accepts_exactly_dns_labels(raw in "\\PC{0,80}") {
        let is_label = !raw.is_empty()
            && raw.len() <= 63
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        match validate_subdomain(&raw) {
            Ok(sub) => {
                prop_assert!(is_label);
                prop_assert_eq!(sub, raw.to_ascii_lowercase());
            }
            Err(AuthError::Configuration { field, problem }) => {
                prop_assert!(!is_label);
                prop_assert_eq!(field, "subdomain");
                prop_assert!(!problem.is_empty());
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn built_hosts_are_always_marketing_cloud(raw in "[a-zA-Z0-9.#@/:%?-]{0,40}") {
        if let Ok(base) = AuthBaseUrl::from_subdomain(&raw) {
            let url = base.as_url();
            prop_assert_eq!(url.scheme(), "https");
            let host = url.host_str().unwrap();
            prop_assert!(host.ends_with(".auth.marketingcloudapis.com"));
            prop_assert_eq!(host.matches('.').count(), 3);
            prop_assert!(url.username().is_empty() && url.port().is_none());
        }
    }

    #[test]
    fn base_uri_parser_never_panics_and_round_trips(raw in "\\PC{0,120}") {
        if let Ok(sub) = subdomain_from_base_uri(&raw) {
            let rebuilt = format!("https://{sub}.auth.marketingcloudapis.com/");
            prop_assert_eq!(subdomain_from_base_uri(&rebuilt).unwrap(), sub);
        }
        if let Ok(base) = AuthBaseUrl::parse(&raw) {
            let url = base.as_url();
            let host = url.host_str().unwrap();
            if !base.is_loopback() {
                prop_assert_eq!(url.scheme(), "https");
                prop_assert!(host.ends_with(".auth.marketingcloudapis.com"));
                prop_assert_eq!(host.matches('.').count(), 3);
                prop_assert!(url.port().is_none() && url.path() == "/");
            }
            prop_assert!(url.username().is_empty() && url.password().is_none());
        }
    }

    #[test]
    fn valid_subdomains_round_trip_through_base_uris(sub in "mc[a-z0-9]{26}") {
        let uri = format!("https://{sub}.auth.marketingcloudapis.com/");
        prop_assert_eq!(subdomain_from_base_uri(&uri).unwrap(), sub);
    }
}
