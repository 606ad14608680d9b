//! A moment as the console stores it (RFC 3339 text) and the words it is shown in: the exact
//! UTC time, a calendar time in some zone, and how long ago it was. Plain arithmetic, no time
//! crate: the browser bundle carries this, and the browser's own `Date` knows the local zone.

/// A point in time, to the second, with what the stored text said below the second dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
}

impl Moment {
    /// Reads `2026-01-05T07:45:55Z`, with or without fractions, with `Z` or an offset
    /// (`+02:00`), with `T` or a space; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let b = text.as_bytes();
        if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let num = |from: usize, len: usize| -> Option<i64> {
            let part = text.get(from..from + len)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut rest = &text[19..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            rest = &fraction[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let hm = rest.get(1..)?;
                let (h, m) = hm.split_once(':')?;
                if h.len() != 2 || m.len() != 2 {
                    return None;
                }
                let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
                if h > 23 || m > 59 {
                    return None;
                }
                sign * (h * 3600 + m * 60)
            }
        };
        let days = days_from_civil(year, month, day);
        Some(Self {
            unix: days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset,
        })
    }

    /// `2026-01-05 07:45:55 UTC`: the exact time, for the hover text.
    pub fn utc_exact(self) -> String {
        let (date, (h, m, s)) = self.civil(0);
        format!("{date} {h:02}:{m:02}:{s:02} UTC")
    }

    /// `2026-01-05 08:45`: the calendar time `offset_minutes` east of UTC, to the minute.
    pub fn calendar(self, offset_minutes: i64) -> String {
        let (date, (h, m, _)) = self.civil(offset_minutes);
        format!("{date} {h:02}:{m:02}")
    }

    fn civil(self, offset_minutes: i64) -> (String, (i64, i64, i64)) {
        let local = self.unix + offset_minutes * 60;
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (y, mo, d) = civil_from_days(days);
        (
            format!("{y:04}-{mo:02}-{d:02}"),
            (secs / 3600, secs % 3600 / 60, secs % 60),
        )
    }

    /// How long before `now` this was, in the largest whole unit: `just now`, `5 minutes ago`,
    /// `3 hours ago`, `2 days ago`, `4 months ago`, `1 year ago`; `in 20 minutes` for a moment
    /// still to come (the next scheduled sync).
    pub fn relative_to(self, now: Moment) -> String {
        let delta = now.unix - self.unix;
        let span = delta.unsigned_abs();
        if span < 60 {
            return "just now".to_owned();
        }
        let (n, unit) = match span {
            s if s < 3600 => (s / 60, "minute"),
            s if s < 86_400 => (s / 3600, "hour"),
            s if s < 30 * 86_400 => (s / 86_400, "day"),
            s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
            s => (s / (365 * 86_400), "year"),
        };
        let plural = if n == 1 { "" } else { "s" };
        if delta >= 0 {
            format!("{n} {unit}{plural} ago")
        } else {
            format!("in {n} {unit}{plural}")
        }
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Moment {
        Moment::parse(text).unwrap_or_else(|| panic!("{text}"))
    }

    #[test]
    fn reads_what_the_console_and_defender_write() {
        assert_eq!(at("1970-01-01T00:00:00Z").unix, 0);
        assert_eq!(at("2026-01-05T07:45:55Z").unix, 1_767_599_155);
        assert_eq!(
            at("2026-01-05T07:45:55.1234567Z"),
            at("2026-01-05T07:45:55Z")
        );
        assert_eq!(at("2026-01-05 09:45:55+02:00"), at("2026-01-05T07:45:55Z"));
        assert_eq!(at("2026-01-05T02:15:55-05:30"), at("2026-01-05T07:45:55Z"));
        assert_eq!(
            at("2024-02-29T12:00:00Z").utc_exact(),
            "2024-02-29 12:00:00 UTC"
        );
        for bad in [
            "",
            "yesterday",
            "2026-01-05",
            "2026-13-05T07:45:55Z",
            "2025-02-29T07:45:55Z",
            "2026-01-05T24:00:00Z",
            "2026-01-05T07:45:55",
            "2026-01-05T07:45:55.Z",
            "2026-01-05T07:45:55+2:00",
            "2026-01-05T07:45:55Z trailing",
            "２026-01-05T07:45:55Z",
        ] {
            assert_eq!(Moment::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn calendar_time_in_a_zone_crosses_days_and_years() {
        let m = at("2025-12-31T23:30:00Z");
        assert_eq!(m.calendar(0), "2025-12-31 23:30");
        assert_eq!(m.calendar(60), "2026-01-01 00:30");
        assert_eq!(m.calendar(-8 * 60), "2025-12-31 15:30");
        assert_eq!(m.calendar(5 * 60 + 45), "2026-01-01 05:15");
        // Every day of four years round-trips through the civil calendar.
        for days in -1000..2000 {
            let (y, mo, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, mo, d), days);
        }
    }

    #[test]
    fn how_long_ago_in_the_largest_whole_unit() {
        let now = at("2026-03-01T12:00:00Z");
        let cases = [
            ("2026-03-01T11:59:30Z", "just now"),
            ("2026-03-01T11:59:00Z", "1 minute ago"),
            ("2026-03-01T11:15:00Z", "45 minutes ago"),
            ("2026-03-01T09:00:00Z", "3 hours ago"),
            ("2026-02-28T12:00:00Z", "1 day ago"),
            ("2026-02-01T12:00:00Z", "28 days ago"),
            ("2025-11-01T12:00:00Z", "4 months ago"),
            ("2024-03-01T12:00:00Z", "2 years ago"),
            ("2026-03-01T12:20:00Z", "in 20 minutes"),
            ("2026-03-01T13:00:00Z", "in 1 hour"),
        ];
        for (then, words) in cases {
            assert_eq!(at(then).relative_to(now), words, "{then}");
        }
    }
}
