//! The emulator's only reads of the current time. Everything else receives time from here, so
//! tests can run on paused tokio time (`tokio::time::pause` / `advance`).

// The workspace bans direct clock reads (clippy `disallowed-methods`) so that time can be
// injected; this module is the one sanctioned place for the emulator. Token expiry uses tokio's
// `Instant`, which follows paused/advanced tokio time in tests.

/// Monotonic "now" on tokio's clock.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// Wall-clock seconds since the Unix epoch, for informational fields such as userinfo's `exp`.
pub(crate) fn unix_now_secs() -> u64 {
    unix_now_ms() / 1000
}

/// Wall-clock milliseconds since the Unix epoch, for informational timestamps
/// (`createdDate`, `modifiedDate`, …).
#[allow(clippy::disallowed_methods)]
pub(crate) fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
