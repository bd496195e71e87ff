//! `$filter` expressions from any caller: never a panic, and a filter that parses is
//! deterministic (applying it twice gives the same answer).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = sfmc_emulator::fuzzing::filter(text);
    assert_eq!(first, sfmc_emulator::fuzzing::filter(text));
});
