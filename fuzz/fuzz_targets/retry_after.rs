//! `Retry-After` values from servers: never a panic; whatever is accepted is a wait of at most
//! `MAX_RETRY_AFTER`, whatever the clock says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmc_auth::http::retry_after::{MAX_RETRY_AFTER, parse_retry_after};

fuzz_target!(|data: &[u8]| {
    let Some((clock, text)) = data.split_first_chunk::<8>() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let now_unix_ms = u64::from_le_bytes(*clock);
    if let Some(wait) = parse_retry_after(text, now_unix_ms) {
        assert!(wait <= MAX_RETRY_AFTER, "{text:?} at {now_unix_ms}: {wait:?}");
    }
});
