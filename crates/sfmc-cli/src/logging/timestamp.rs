//! Log-line timestamps: RFC 3339 in UTC with microseconds (`2026-11-30T05:04:21.123456Z`), the
//! text tracing_subscriber's default timer writes, made cheap: the `YYYY-MM-DDTHH:MM:SS` part is
//! kept per thread for the second it names and rebuilt only when the second changes, so a line
//! costs one clock read, a copy and six digits. The civil date comes from days since 1970 by
//! Howard Hinnant's `civil_from_days` (proleptic Gregorian), without a date crate.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: u64 = 86_400;

thread_local! {
    /// The whole second last formatted on this thread and its `YYYY-MM-DDTHH:MM:SS` text.
    static SECOND: RefCell<Option<(u64, String)>> = const { RefCell::new(None) };
}

/// Now, as time since the Unix epoch (zero for a clock set before 1970).
#[allow(clippy::disallowed_methods)] // a log line's timestamp *is* the wall clock, read once per line; it decides nothing, and tests format fixed instants through `write`
pub(super) fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Writes `since_epoch` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (a year past 9999 as `+YYYYY`).
pub(super) fn write(out: &mut impl Write, since_epoch: Duration) -> fmt::Result {
    let second = since_epoch.as_secs();
    SECOND.with_borrow_mut(|cached| {
        let text = match cached {
            Some((cached_second, text)) if *cached_second == second => text,
            _ => {
                let mut text = String::with_capacity(20);
                write_date_time(&mut text, second)?;
                &mut cached.insert((second, text)).1
            }
        };
        out.write_str(text)
    })?;
    let mut fraction = *b".000000Z";
    let mut micros = since_epoch.subsec_micros();
    for digit in fraction[1..7].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    out.write_str(std::str::from_utf8(&fraction).map_err(|_| fmt::Error)?)
}

/// `YYYY-MM-DDTHH:MM:SS` for a whole second since the epoch.
fn write_date_time(out: &mut String, second: u64) -> fmt::Result {
    let (year, month, day) = civil_from_days(second / SECONDS_PER_DAY);
    let of_day = second % SECONDS_PER_DAY;
    let (hour, minute, second) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    if year > 9999 {
        write!(out, "+{year}")?;
    } else {
        write!(out, "{year:04}")?;
    }
    write!(
        out,
        "-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
    )
}

/// (year, month 1–12, day 1–31) of the day `days` after 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days end a year; eras are 400 years.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(since_epoch: Duration) -> String {
        let mut out = String::new();
        write(&mut out, since_epoch).unwrap();
        out
    }

    fn at(second: u64, micros: u32) -> Duration {
        Duration::new(second, micros * 1000)
    }

    /// Days since 1970 of a civil date, counted the slow way.
    fn days_of(year: u64, month: u64, day: u64) -> u64 {
        let leap =
            |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let years: u64 = (1970..year).map(|y| if leap(y) { 366 } else { 365 }).sum();
        let months: u64 = (1..month)
            .map(|m| lengths[m as usize - 1] + u64::from(m == 2 && leap(year)))
            .sum();
        years + months + day - 1
    }

    #[test]
    fn known_instants_are_written_as_rfc_3339_with_microseconds() {
        assert_eq!(text(at(0, 0)), "1970-01-01T00:00:00.000000Z");
        assert_eq!(text(at(951_782_400, 1)), "2000-02-29T00:00:00.000001Z");
        assert_eq!(
            text(at(1_796_015_061, 123_456)),
            "2026-11-30T05:04:21.123456Z"
        );
        assert_eq!(
            text(at(4_107_542_399, 999_999)),
            "2100-02-28T23:59:59.999999Z"
        );
        assert_eq!(text(at(4_107_542_400, 0)), "2100-03-01T00:00:00.000000Z");
        assert_eq!(text(at(253_402_300_799, 0)), "9999-12-31T23:59:59.000000Z");
        assert_eq!(
            text(at(253_402_300_800, 0)),
            "+10000-01-01T00:00:00.000000Z"
        );
        // Nanoseconds are cut, not rounded, as tracing_subscriber does.
        assert_eq!(
            text(Duration::new(0, 999_999_999)),
            "1970-01-01T00:00:00.999999Z"
        );
    }

    #[test]
    fn the_civil_date_is_right_around_leap_days_and_century_years() {
        for (year, month, day) in [
            (1970, 1, 1),
            (1972, 2, 29),
            (1972, 3, 1),
            (1999, 12, 31),
            (2000, 1, 1),
            (2000, 2, 29),
            (2000, 3, 1),
            (2000, 12, 31),
            (2024, 2, 29),
            (2100, 2, 28),
            (2100, 3, 1),
            (2400, 2, 29),
        ] {
            let days = days_of(year, month, day);
            assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
        }
        // Every day of 1970..2404 follows the one before it.
        let mut previous = civil_from_days(0);
        for days in 1..days_of(2404, 1, 1) {
            let date = civil_from_days(days);
            let next_day = (previous.0, previous.1, previous.2 + 1);
            let next_month = (previous.0, previous.1 + 1, 1);
            let next_year = (previous.0 + 1, 1, 1);
            assert!(
                date == next_day || date == next_month || date == next_year,
                "{previous:?} then {date:?}"
            );
            previous = date;
        }
        assert_eq!(previous, (2403, 12, 31));
    }

    #[test]
    fn the_cached_second_is_rebuilt_when_the_second_changes() {
        let second = 1_796_015_061;
        assert_eq!(text(at(second, 999_999)), "2026-11-30T05:04:21.999999Z");
        assert_eq!(text(at(second + 1, 0)), "2026-11-30T05:04:22.000000Z");
        assert_eq!(text(at(second + 1, 7)), "2026-11-30T05:04:22.000007Z");
        // A clock stepped back is written as it reads, too.
        assert_eq!(text(at(second, 500_000)), "2026-11-30T05:04:21.500000Z");
        assert_eq!(
            text(at(second + 86_400 * 31, 0)),
            "2026-12-31T05:04:21.000000Z"
        );
    }
}
