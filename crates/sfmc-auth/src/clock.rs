//! Time for everything token-related: the [`Clock`] trait and its implementations.
//!
//! All reads of the current time in `sfmc-auth` go through a [`Clock`] so that tests can inject
//! time (clippy's `disallowed-methods` keeps direct `SystemTime::now`/`Instant::now` calls out of
//! the rest of the code). Times are absolute Unix milliseconds, so an expiry survives processes,
//! files and Redis.
//!
//! The [`Clock`] is for token *expiry* only. Deadlines and waits (load timeout, backoff, lock
//! polling) run on tokio's monotonic clock ([`monotonic_now`]), so a wall-clock step never
//! stretches or cuts them, and paused-time tests drive both.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A source of the current time, as milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + Debug + 'static {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> u64;
}

/// The wall clock of this machine, millisecond-coarse: on Linux `CLOCK_REALTIME_COARSE` (a few
/// nanoseconds through the vDSO, ticking every 1–4 ms), which is plenty for 20-minute tokens and
/// keeps the cached-token read cheap.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    #[cfg(target_os = "linux")]
    fn now_ms(&self) -> u64 {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        let secs = u64::try_from(now.tv_sec).unwrap_or(0);
        let millis = u64::try_from(now.tv_nsec).unwrap_or(0) / 1_000_000;
        secs.saturating_mul(1000).saturating_add(millis)
    }

    #[cfg(not(target_os = "linux"))]
    #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// Now on tokio's monotonic clock (paused and advanced in tests): the time base of every
/// deadline and wait.
#[allow(clippy::disallowed_methods)] // the one place that reads the monotonic clock
pub(crate) fn monotonic_now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// A clock that only moves when told to: for tests.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(now_ms)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now.fetch_add(by, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, now_ms: u64) {
        self.now.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// Wall-clock time that follows tokio's clock: a fixed Unix time plus the tokio time elapsed since
/// the clock was made. Under `#[tokio::test(start_paused = true)]` it moves with
/// `tokio::time::advance` and with auto-advance, so sleeps (backoff, Retry-After) and expiry
/// agree.
#[derive(Debug, Clone)]
pub struct TokioClock {
    origin_ms: u64,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `origin_ms` now. Must be called inside a tokio runtime when time is paused.
    #[allow(clippy::disallowed_methods)] // anchors the clock; every later read goes through it
    pub fn new(origin_ms: u64) -> Self {
        Self {
            origin_ms,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    #[allow(clippy::disallowed_methods)] // elapsed tokio time, the point of this clock
    fn now_ms(&self) -> u64 {
        let elapsed = tokio::time::Instant::now().duration_since(self.origin);
        self.origin_ms
            .saturating_add(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now_ms(), 3_000);
        clock.set(5);
        assert_eq!(clock.now_ms(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let clock = TokioClock::new(10_000);
        assert_eq!(clock.now_ms(), 10_000);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(clock.now_ms(), 13_000);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // compares the coarse clock with the precise one
    fn system_clock_is_after_2020_and_close_to_the_precise_clock() {
        let coarse = SystemClock.now_ms();
        assert!(coarse > 1_577_836_800_000);
        let precise = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let precise = u64::try_from(precise).unwrap();
        assert!(precise.abs_diff(coarse) < 1_000, "{precise} vs {coarse}");
    }
}
