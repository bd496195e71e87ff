//! Cache files and Redis values: arbitrary bytes never unseal to a token and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use sfmc_auth::seal::unseal;
use sfmc_auth::{AuthBaseUrl, ConnectionSettings};

fuzz_target!(|data: &[u8]| {
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse("http://127.0.0.1:1/").expect("valid"),
        "client",
        SecretString::from("secret"),
    )
    .expect("valid");
    let opened = unseal(settings.client_secret(), &settings.key(), data);
    assert!(opened.is_none(), "forged a sealed token");
});
