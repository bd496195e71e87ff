//! Identifiers and timestamps the REST families hand out: GUIDs (`requestId`, journey ids),
//! numeric ids (assets, categories, campaigns, contacts) and ISO-8601 timestamps that strictly
//! increase, so that ordering by `ModifiedDate` is well defined even within one millisecond.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::RngCore;

use crate::api::reply::ApiError;
use crate::clock;

/// Sources of ids and timestamps, one per emulator.
pub(crate) struct Ids {
    next_id: AtomicU64,
    last_stamp_ms: AtomicU64,
}

impl Default for Ids {
    fn default() -> Self {
        Ids {
            next_id: AtomicU64::new(1000),
            last_stamp_ms: AtomicU64::new(0),
        }
    }
}

impl Ids {
    /// A fresh numeric id (unique within this emulator, across families and business units).
    pub(crate) fn next(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Now as `YYYY-MM-DDTHH:MM:SS.mmmZ`, later than every stamp handed out before.
    pub(crate) fn stamp(&self) -> String {
        let now = clock::unix_now_ms();
        let mut last = self.last_stamp_ms.load(Ordering::Relaxed);
        loop {
            let next = now.max(last.saturating_add(1));
            match self.last_stamp_ms.compare_exchange_weak(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return iso8601(next),
                Err(seen) => last = seen,
            }
        }
    }
}

/// A random version-4 GUID, lower-case, hyphenated.
pub(crate) fn guid() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    hyphenated(&b)
}

/// A unique key: `given` when no other item has it (`taken`), a fresh GUID when absent; when
/// it is taken, the error `in_use` makes.
pub(crate) fn key_or_guid(
    given: Option<&str>,
    taken: impl FnOnce(&str) -> bool,
    in_use: impl FnOnce(&str) -> ApiError,
) -> Result<String, ApiError> {
    match given {
        Some(key) if taken(key) => Err(in_use(key)),
        Some(key) => Ok(key.to_owned()),
        None => Ok(guid()),
    }
}

/// 16 bytes as a lower-case, hyphenated GUID (`8-4-4-4-12` hex digits).
pub(crate) fn hyphenated(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub(crate) fn iso8601(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        unix_ms % 1000
    )
}

/// Howard Hinnant's days-since-epoch to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn stamps_strictly_increase_and_guids_look_like_guids() {
        let ids = Ids::default();
        let a = ids.stamp();
        let b = ids.stamp();
        assert!(b > a, "{a} {b}");
        let g = guid();
        assert_eq!(g.len(), 36);
        assert_eq!(g.matches('-').count(), 4);
        assert_eq!(
            hyphenated(&[
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 1, 2, 3, 4, 5, 6, 0xff
            ]),
            "01234567-89ab-cdef-0001-0203040506ff"
        );
        assert_ne!(guid(), g);
    }
}
