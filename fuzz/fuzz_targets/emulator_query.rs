//! Query strings from any caller: never a panic, and more than 100 parameters are always
//! refused.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = sfmc_emulator::fuzzing::query(raw);
    if raw.split('&').filter(|pair| !pair.is_empty()).count() > 100 {
        assert!(parsed.is_none(), "more than 100 parameters were accepted");
    }
});
