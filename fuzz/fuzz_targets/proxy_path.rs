//! Paths the gateway proxies (`/connections/{name}/rest/{path}`, from any caller): never a
//! panic; whatever is accepted is a relative path that stays under the REST instance URL: not
//! empty, no leading `/`, no `://`, no `scheme:` first segment, no backslash, no `%2F`, `%5C`
//! or `%00` (any case), and no `.` or `..` segment once percent-decoded (also with
//! `;parameters`, as servlet containers read `..;x`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmc_gateway::fuzzing::proxy_path;

/// `segment` with its `%XX` escapes decoded (others kept as they are).
fn percent_decode(segment: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(segment.len());
    let mut i = 0;
    while i < segment.len() {
        let escape = segment.get(i + 1..i + 3).filter(|_| segment[i] == b'%');
        match escape.and_then(|e| Some(hex(e[0])? * 16 + hex(e[1])?)) {
            Some(byte) => {
                out.push(byte as u8);
                i += 3;
            }
            None => {
                out.push(segment[i]);
                i += 1;
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    if proxy_path(path).is_err() {
        return;
    }
    assert!(!path.is_empty());
    assert!(!path.starts_with('/') && !path.contains("://"), "{path:?}");
    let first = path.split('/').next().unwrap_or("");
    assert!(!first.contains(':'), "{path:?}");
    assert!(!path.contains('\\'), "{path:?}");
    assert!(!path.bytes().any(|b| b.is_ascii_control()), "{path:?}");
    let lower = path.to_ascii_lowercase();
    for escape in ["%2f", "%5c", "%00"] {
        assert!(!lower.contains(escape), "{path:?}");
    }
    for segment in path.split('/') {
        let decoded = percent_decode(segment.as_bytes());
        let name = decoded.split(|&b| b == b';').next().unwrap_or(&[]);
        assert!(name != b"." && name != b"..", "{path:?}");
    }
});
