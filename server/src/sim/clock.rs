//! Wall-clock helpers and the ISO-8601 format Defender uses (7 fraction digits, `Z`; §5.1).
//!
//! Written by hand so the simulator needs no extra `time` features.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Nanoseconds since the Unix epoch.
pub type Nanos = i128;

pub const SEC: Nanos = 1_000_000_000;

/// Generated data is anchored here (not at "now") so the same seed gives byte-identical data.
pub const DATA_EPOCH: Nanos = 1_795_737_600 * SEC; // 2026-11-27T00:00:00Z

pub fn now() -> Nanos {
    OffsetDateTime::now_utc().unix_timestamp_nanos()
}

fn parts(n: Nanos) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(n).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-01-04T21:03:10.7654321Z`.
pub fn iso7(n: Nanos) -> String {
    let t = parts(n);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

/// `2026-01-04T00:00:00Z` (vulnerability dates have no fraction).
pub fn iso0(n: Nanos) -> String {
    let t = parts(n);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Entra's timestamp form: `2026-01-05 09:14:03Z` (§2.5).
pub fn entra(n: Nanos) -> String {
    iso0(n).replace('T', " ")
}

/// Parses `YYYY-MM-DD[THH:MM[:SS[.f]]][Z|±HH:MM]` as UTC (offsets honoured).
pub fn parse_iso(s: &str) -> Option<Nanos> {
    let s = s.trim();
    let (date, rest) = s.split_at(s.find('T').unwrap_or(s.len()));
    let mut d = date.split('-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    if d.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let rest = rest.strip_prefix('T').unwrap_or(rest);
    let (clock, offset_secs) = if rest.is_empty() {
        ("00:00:00", 0i64)
    } else if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':')?;
        (
            c,
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60),
        )
    } else {
        (rest, 0)
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':');
    let h: u8 = t.next()?.parse().ok()?;
    let m: u8 = t.next().unwrap_or("0").parse().ok()?;
    let sec: u8 = t.next().unwrap_or("0").parse().ok()?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    let time = Time::from_hms_nano(h, m, sec, nanos).ok()?;
    let utc = PrimitiveDateTime::new(date, time)
        .assume_utc()
        .unix_timestamp_nanos();
    Some(utc - Nanos::from(offset_secs) * SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_iso7() {
        let s = "2026-01-04T21:03:10.7654321Z";
        assert_eq!(iso7(parse_iso(s).unwrap()), s);
        assert_eq!(iso0(DATA_EPOCH), "2026-11-27T00:00:00Z");
        assert_eq!(parse_iso("2026-11-27"), Some(DATA_EPOCH));
        assert_eq!(parse_iso("2026-11-27T01:00:00+01:00"), Some(DATA_EPOCH));
        assert_eq!(parse_iso("yesterday"), None);
    }
}
