//! Percent escapes in paths: decoding never panics, text without `%` decodes to itself, and
//! what row reads encode decodes back to the original.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmc_emulator::fuzzing::{percent_decode, percent_encode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = percent_decode(text);
    if !text.contains('%') {
        assert_eq!(decoded, text);
    }
    let encoded = percent_encode(text);
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
    );
    assert_eq!(percent_decode(&encoded), text);
});
