//! `Retry-After` (RFC 9110 §10.2.3): a number of seconds or an HTTP date, read into a wait; and
//! the retry timing shared by the token refresh and the API client ([`backoff_schedule`],
//! [`retry_delay`]).
//!
//! The date form needs "now"; it is passed in (Unix milliseconds) so that reading stays a pure
//! function. The endpoint passes the answer's own `Date` header when it has one, so the wait does
//! not depend on how far this machine's clock is from the server's.

use std::time::{Duration, UNIX_EPOCH};

use backon::ExponentialBuilder;
use reqwest::header::{DATE, HeaderMap, RETRY_AFTER};

/// The longest wait taken from a server: anything longer is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The wait a `Retry-After` value asks for, at `now_unix_ms`: `"120"` is 120 s; an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, or the obsolete RFC 850 and asctime forms) is the time
/// until then, zero if it has passed. Capped at [`MAX_RETRY_AFTER`]; `None` for anything else.
pub fn parse_retry_after(value: &str, now_unix_ms: u64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: too many of them is simply a very long wait.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at_ms = unix_ms(value)?;
    Some(Duration::from_millis(at_ms.saturating_sub(now_unix_ms)).min(MAX_RETRY_AFTER))
}

/// The wait an answer's headers ask for: its `Retry-After`, with a date read against the
/// answer's `Date` header, else against `local_now_ms`.
pub fn retry_after_of(headers: &HeaderMap, local_now_ms: impl FnOnce() -> u64) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    let now_ms = headers
        .get(DATE)
        .and_then(|date| date.to_str().ok())
        .and_then(unix_ms)
        .unwrap_or_else(local_now_ms);
    parse_retry_after(value, now_ms)
}

/// The backoff between retries: doubling from `initial` up to `max`, each wait between half and
/// all of its step ("equal jitter"), without a limit on the number of waits (bound it with
/// `with_max_times`, or by a deadline).
pub fn backoff_schedule(initial: Duration, max: Duration) -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(initial / 2)
        .with_max_delay(max / 2)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
}

/// The wait before the next try: the server's `Retry-After` when it gave one, but never less
/// than `initial` (a `Retry-After: 0` or a date gone by still waits the first backoff step),
/// else the `backoff` step.
pub fn retry_delay(
    retry_after: Option<Duration>,
    backoff: Duration,
    initial: Duration,
) -> Duration {
    retry_after.map_or(backoff, |asked| asked.max(initial))
}

/// An HTTP date as Unix milliseconds.
fn unix_ms(http_date: &str) -> Option<u64> {
    let at = httpdate::parse_http_date(http_date.trim()).ok()?;
    let since_epoch = at.duration_since(UNIX_EPOCH).ok()?;
    u64::try_from(since_epoch.as_millis()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// 2015-10-21T07:28:00Z.
    const OCT_21_2015_MS: u64 = 1_445_412_480_000;

    #[test]
    fn seconds() {
        let now = OCT_21_2015_MS;
        assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        for bad in ["", "-5", "1.5", "5s", "soon", "0x10", "+5"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_in_every_form_count_from_now() {
        let now = OCT_21_2015_MS - 90_000;
        for form in [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
        ] {
            assert_eq!(
                parse_retry_after(form, now),
                Some(Duration::from_secs(90)),
                "{form}"
            );
        }
        let past = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", OCT_21_2015_MS + 5_000);
        assert_eq!(past, Some(Duration::ZERO), "a date gone by: retry now");
        let far = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 0);
        assert_eq!(far, Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Wed, 32 Oct 2015 07:28:00 GMT", 0), None);
    }

    #[test]
    fn retry_after_is_floored_at_the_first_step() {
        let initial = Duration::from_millis(500);
        let backoff = Duration::from_millis(700);
        assert_eq!(retry_delay(Some(Duration::ZERO), backoff, initial), initial);
        assert_eq!(
            retry_delay(Some(Duration::from_secs(5)), backoff, initial),
            Duration::from_secs(5)
        );
        assert_eq!(retry_delay(None, backoff, initial), backoff);
    }

    #[test]
    fn the_schedule_doubles_within_bounds() {
        use backon::BackoffBuilder;
        let (initial, max) = (Duration::from_millis(500), Duration::from_secs(10));
        let waits: Vec<_> = backoff_schedule(initial, max).build().take(8).collect();
        for (n, wait) in waits.iter().enumerate() {
            let step = initial.saturating_mul(1 << n).min(max);
            assert!(*wait >= step / 2 && *wait <= step, "{n}: {wait:?}");
        }
    }

    #[test]
    fn a_date_is_read_against_the_answers_date_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:07 GMT"),
        );
        headers.insert(
            DATE,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        let local_clock_far_off = || 0;
        assert_eq!(
            retry_after_of(&headers, local_clock_far_off),
            Some(Duration::from_secs(7))
        );
        headers.remove(DATE);
        assert_eq!(
            retry_after_of(&headers, || OCT_21_2015_MS),
            Some(Duration::from_secs(7)),
            "no Date header: the local clock"
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after_of(&headers, || 0), Some(Duration::from_secs(3)));
        assert_eq!(retry_after_of(&HeaderMap::new(), || 0), None);
    }
}
