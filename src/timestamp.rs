//! Capture time, a value type shared by every module: it imports nothing of ours, so
//! that capture, dissect, analysis and render can all use it without depending on each
//! other.

use std::fmt;

/// Capture time: seconds and nanoseconds since the Unix epoch (UTC).
///
/// `nanos` is normally below 1 000 000 000; the formatting functions carry any excess into
/// the seconds, so a hand-built value never prints an impossible time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z; negative before that.
    pub secs: i64,
    /// Nanoseconds after `secs`, in 0..1 000 000 000.
    pub nanos: u32,
}

/// Nanoseconds in one second.
pub(crate) const NANOS_PER_SEC: u32 = 1_000_000_000;
/// Seconds in one day (UTC has no leap seconds in Unix time).
const SECS_PER_DAY: i64 = 86_400;
/// 0000-01-01T00:00:00Z, the earliest instant RFC 3339's four-digit year can show.
const RFC3339_MIN_SECS: i64 = -62_167_219_200;
/// 9999-12-31T23:59:59Z, the latest whole second RFC 3339's four-digit year can show.
const RFC3339_MAX_SECS: i64 = 253_402_300_799;

impl Timestamp {
    /// RFC 3339 UTC with microseconds, e.g. "2026-11-23T13:05:01.123456Z".
    ///
    /// The sub-microsecond digits are cut off, not rounded, as tcpdump does. Times before
    /// 1970 print normally ("1969-12-31T23:59:59.000000Z" for -1 s). RFC 3339 has only
    /// four-digit years, so times before year 0000 print as 0000-01-01T00:00:00.000000Z
    /// and times after year 9999 as 9999-12-31T23:59:59.999999Z.
    pub fn to_rfc3339_micros(&self) -> String {
        let mut out = String::with_capacity(27);
        // Writing into a String cannot fail.
        let _ = self.write_rfc3339_micros(&mut out);
        out
    }

    /// Writes the same text as [`Timestamp::to_rfc3339_micros`] into `out`, without allocating.
    pub fn write_rfc3339_micros(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let text = self.rfc3339_micros_bytes();
        // Only ASCII digits and separators are in it.
        out.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }

    /// The 27 ASCII bytes of [`Timestamp::to_rfc3339_micros`], computed without
    /// `core::fmt` (JSON writes one per packet).
    pub fn rfc3339_micros_bytes(&self) -> [u8; 27] {
        // Carry surplus nanoseconds so that a hand-built value still names a real instant.
        let carry = i64::from(self.nanos / NANOS_PER_SEC);
        let secs = self.secs.saturating_add(carry);
        let mut micros = (self.nanos % NANOS_PER_SEC) / 1_000;
        let secs = if secs < RFC3339_MIN_SECS {
            micros = 0;
            RFC3339_MIN_SECS
        } else if secs > RFC3339_MAX_SECS {
            micros = 999_999;
            RFC3339_MAX_SECS
        } else {
            secs
        };
        let days = secs.div_euclid(SECS_PER_DAY);
        let second_of_day = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let mut out = *b"0000-00-00T00:00:00.000000Z";
        // Each value fits its field: year 0..=9999, micros < 10^6, the rest < 100.
        let mut put = |at: usize, width: usize, mut v: u64| {
            for i in (at..at + width).rev() {
                if let Some(slot) = out.get_mut(i) {
                    *slot = b'0' + (v % 10) as u8;
                }
                v /= 10;
            }
        };
        put(0, 4, year.clamp(0, 9999) as u64);
        put(5, 2, month.into());
        put(8, 2, day.into());
        put(11, 2, (second_of_day / 3_600) as u64);
        put(14, 2, (second_of_day % 3_600 / 60) as u64);
        put(17, 2, (second_of_day % 60) as u64);
        put(20, 6, micros.into());
        out
    }

    /// Seconds as f64, for relative-time arithmetic (exact to about a microsecond for
    /// present-day times).
    pub fn as_secs_f64(&self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / f64::from(NANOS_PER_SEC)
    }
}

impl fmt::Display for Timestamp {
    /// The RFC 3339 form of [`Timestamp::write_rfc3339_micros`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_rfc3339_micros(f)
    }
}

/// Turns days since 1970-01-01 into a proleptic Gregorian (year, month, day).
///
/// This is Howard Hinnant's `civil_from_days`: it shifts the year to start on 1 March, so
/// the leap day is the last day of a year, and counts in 400-year eras of 146 097 days.
/// The caller keeps `days` within years 0000..=9999, so nothing here can overflow.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 = March .. 11 = February
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both values are small and positive by construction (day 1..=31, month 1..=12).
    (year, day_u32(month), day_u32(day))
}

/// Converts a month or day number that is known to be small and positive.
fn day_u32(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

/// Serialises a [`Timestamp`] as its RFC 3339 text with microseconds (serde's
/// `serialize_with`): the one serialiser every JSON timestamp uses.
pub fn ser_rfc3339<S: serde::Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    let text = ts.rfc3339_micros_bytes();
    // The 27 bytes are ASCII digits and separators.
    s.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64, nanos: u32) -> String {
        Timestamp { secs, nanos }.to_rfc3339_micros()
    }

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(ts(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(ts(951_782_400, 0), "2000-02-29T00:00:00.000000Z");
        assert_eq!(ts(951_868_799, 999_999_999), "2000-02-29T23:59:59.999999Z");
        assert_eq!(
            ts(1_795_439_101, 123_456_789),
            "2026-11-23T13:05:01.123456Z"
        );
        assert_eq!(ts(4_294_967_295, 0), "2106-02-07T06:28:15.000000Z");
        assert_eq!(ts(-1, 0), "1969-12-31T23:59:59.000000Z");
        assert_eq!(ts(-1, 500_000_000), "1969-12-31T23:59:59.500000Z");
        assert_eq!(ts(-62_135_596_800, 0), "0001-01-01T00:00:00.000000Z");
    }

    #[test]
    fn rfc3339_clamps_outside_four_digit_years() {
        assert_eq!(ts(i64::MIN, 0), "0000-01-01T00:00:00.000000Z");
        assert_eq!(ts(RFC3339_MIN_SECS, 7_000), "0000-01-01T00:00:00.000007Z");
        assert_eq!(ts(RFC3339_MIN_SECS - 1, 0), "0000-01-01T00:00:00.000000Z");
        assert_eq!(ts(RFC3339_MAX_SECS, 0), "9999-12-31T23:59:59.000000Z");
        assert_eq!(ts(i64::MAX, u32::MAX), "9999-12-31T23:59:59.999999Z");
    }

    #[test]
    fn rfc3339_carries_surplus_nanos() {
        assert_eq!(ts(0, 1_500_000_000), "1970-01-01T00:00:01.500000Z");
    }

    #[test]
    fn display_and_f64() {
        let t = Timestamp {
            secs: 1,
            nanos: 250_000_000,
        };
        assert_eq!(t.to_string(), "1970-01-01T00:00:01.250000Z");
        assert!((t.as_secs_f64() - 1.25).abs() < 1e-12);
    }

    #[test]
    fn every_day_round_trips_through_the_calendar() {
        // Walk 0000-01-01 .. 9999-12-31 one day at a time and check the calendar advances
        // by exactly one day each step.
        let mut prev = civil_from_days(RFC3339_MIN_SECS / SECS_PER_DAY);
        assert_eq!(prev, (0, 1, 1));
        for days in RFC3339_MIN_SECS / SECS_PER_DAY + 1..=RFC3339_MAX_SECS / SECS_PER_DAY {
            let next = civil_from_days(days);
            let (y, m, d) = prev;
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let month_len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let expected = if d < month_len {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            assert_eq!(next, expected, "day {days}");
            prev = next;
        }
        assert_eq!(prev, (9999, 12, 31));
    }
}
