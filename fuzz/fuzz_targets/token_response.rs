//! Token endpoint bodies: never a panic; an accepted response keeps its invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmc_auth::TokenResponse;
use sfmc_auth::token::{MAX_EXPIRES_IN, MAX_TOKEN_LEN};

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = TokenResponse::parse(data) {
        assert!((1..=MAX_EXPIRES_IN).contains(&response.expires_in));
        assert_eq!(response.token_type, "Bearer");
        let token = sfmc_auth::AccessToken::new(response, 0);
        assert!(!token.expose().is_empty() && token.expose().len() <= MAX_TOKEN_LEN);
        assert!(token.expose().bytes().all(|b| b.is_ascii_graphic()));
    }
});
