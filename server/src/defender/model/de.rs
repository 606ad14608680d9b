//! Lenient serde helpers for Defender JSON: nulls as defaults, numbers as strings, timestamps.

use serde::{Deserialize, Deserializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Compares enum spellings ignoring case, spaces, `-` and `_` ("Not Supported" = "NotSupported",
/// "onboarded" = "Onboarded"; defender-api.md §9.14).
pub fn loose_eq(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    };
    norm(a) == norm(b)
}

/// `null` (or a missing field, with `#[serde(default)]`) becomes `T::default()`.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrString {
    Num(u64),
    Float(f64),
    Str(String),
}

/// An unsigned number sent as a JSON number or a numeric string (v1 token fields, §2.2).
pub fn u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match NumOrString::deserialize(d)? {
        NumOrString::Num(n) => Ok(n),
        NumOrString::Float(f) if f >= 0.0 && f.fract() == 0.0 => Ok(f as u64),
        NumOrString::Float(f) => Err(serde::de::Error::custom(format!("not a whole number: {f}"))),
        NumOrString::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("not a number: {s:?}"))),
    }
}

/// An optional variant of [`u64_or_string`].
pub fn opt_u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "u64_or_string")] u64);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// A string that may arrive as a number (the MDE error `code` is sometimes `"429"` or 429).
pub fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    })
}

/// Parses ISO-8601 with a zone (up to 7 fraction digits, §5.1) or the export form
/// `YYYY-MM-DD HH:MM:SS[.f]` without zone, taken as UTC (§4.13, §9.16).
pub fn parse_timestamp(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(t);
    }
    let zoneless = raw.trim_end_matches('Z').replacen(' ', "T", 1);
    let with_fraction =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    let without = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(&zoneless, with_fraction)
        .or_else(|_| PrimitiveDateTime::parse(&zoneless, without))
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Optional timestamp; null is `None`, an unparseable value is an error.
pub fn opt_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_timestamp(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a timestamp: {s:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_all_documented_forms() {
        let a = parse_timestamp("2024-11-02T08:12:44.1234567Z").unwrap();
        assert_eq!(a.unix_timestamp(), 1_730_535_164);
        assert!(parse_timestamp("2026-01-04T10:16:00.03Z").is_some());
        assert!(parse_timestamp("2026-01-04T10:16:00+01:00").is_some());
        let export = parse_timestamp("2026-01-04 13:18:33").unwrap();
        assert_eq!(export.offset(), time::UtcOffset::UTC);
        assert!(parse_timestamp("2031-03-09T00:00:00").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }

    #[test]
    fn loose_enum_compare() {
        assert!(loose_eq("Not Supported", "NotSupported"));
        assert!(loose_eq("onboarded", "Onboarded"));
        assert!(!loose_eq("Onboarded", "CanBeOnboarded"));
    }
}
