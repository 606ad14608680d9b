//! Lenient serde helpers for Defender JSON: nulls as defaults, numbers and booleans as strings,
//! one value or a list, an object or a string, timestamps.
//!
//! Microsoft's property tables and examples disagree on several types (defender-api.md §9.15,
//! §9.21), so each helper accepts both documented shapes and nothing looser: a float where an
//! integer is due, or a string that is not a number, stays an error (of that item only, since
//! the pager decodes items one by one).

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
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

/// Optional timestamp in any form [`parse_timestamp`] reads; null or blank is `None`, an
/// unparseable value is an error. Read from the borrowed text, without a copy.
pub fn opt_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    d.deserialize_any(TimestampVisitor)
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = Option<OffsetDateTime>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ISO-8601 timestamp or null")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        parse_timestamp(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("not a timestamp: {v:?}")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// Implements the null, missing and `Some` cases shared by the visitors of optional scalars.
macro_rules! nullable_visitor {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}

/// A signed 64-bit integer as a JSON number or a numeric string (`rbacGroupId` is a string in
/// the machine table and the export APIs, a number in the examples; §9.15, §9.21). A float is
/// refused, even a whole one: an `incidentId` that some tool turned into `1.126093E6` has lost
/// digits (§5.3, §9.17). Null or a blank string is an error here; see [`opt_i64_or_string`].
pub fn i64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(I64Visitor)?
        .ok_or_else(|| de::Error::invalid_type(de::Unexpected::Unit, &I64Visitor))
}

/// [`i64_or_string`] where null, a missing field or a blank string is `None`.
pub fn opt_i64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(I64Visitor)
}

struct I64Visitor;

impl<'de> Visitor<'de> for I64Visitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a 64-bit integer or a numeric string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    nullable_visitor!();
}

/// An optional number (`cvssV3`, `epss`) as a JSON number or a numeric string; null, a missing
/// field or a blank string is `None`. `NaN` and infinities are refused: no score is null.
pub fn opt_f64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(F64Visitor)
}

struct F64Visitor;

impl<'de> Visitor<'de> for F64Visitor {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a numeric string")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    // JSON integers become doubles exactly up to 2^53, far beyond a score or a count.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        match t.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }

    nullable_visitor!();
}

/// A flag as a JSON boolean or the string `"true"`/`"false"` in any case (the exploit flags and
/// `isPotentialDuplication` arrive as strings from some exports). Null, a missing field or a
/// blank string is `false`, as with [`null_default`]; any other string is an error.
pub fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(d.deserialize_any(BoolVisitor)?.unwrap_or_default())
}

/// [`bool_or_string`] where null, a missing field or a blank string is `None`.
pub fn opt_bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(BoolVisitor)
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean or \"true\"/\"false\"")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            Ok(None)
        } else if t.eq_ignore_ascii_case("true") {
            Ok(Some(true))
        } else if t.eq_ignore_ascii_case("false") {
            Ok(Some(false))
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    nullable_visitor!();
}

/// A list that may arrive as one string: an array of values, or a string holding one value or
/// several separated by commas (trimmed, empty parts dropped). Null or a missing field is an
/// empty list, as are null elements of an array. `mitreTechniques` and `cveSupportability`
/// are typed "String" or "String collection" in the tables and seen in both shapes (§9.21).
pub fn string_or_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(ListVisitor(PhantomData))
}

struct ListVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array or a comma-separated string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| T::deserialize(StrDeserializer::<E>::new(part)))
            .collect()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element::<Option<T>>()? {
            items.extend(item);
        }
        Ok(items)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// An optional object that may arrive as a string, read by the type's `From<&str>` (alert
/// `relatedUser` is typed "String" in the table and is an object in the examples, §9.21).
/// Null, a missing field or a blank string is `None`.
pub fn opt_object_or_string<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + for<'a> From<&'a str>,
{
    d.deserialize_any(ObjectVisitor(PhantomData))
}

struct ObjectVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T> Visitor<'de> for ObjectVisitor<T>
where
    T: Deserialize<'de> + for<'a> From<&'a str>,
{
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object, a string or null")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        Ok((!t.is_empty()).then(|| T::from(t)))
    }

    nullable_visitor!();
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
    fn iso_timestamps_without_a_zone_are_utc() {
        let t = parse_timestamp("2026-01-04T21:03:10.7654321").unwrap();
        assert_eq!(t.unix_timestamp(), 1_767_560_590);
        assert_eq!(t.nanosecond(), 765_432_100);
        assert_eq!(t.offset(), time::UtcOffset::UTC);
        assert_eq!(t, parse_timestamp("2026-01-04T21:03:10.7654321Z").unwrap());
    }

    #[derive(Debug, Deserialize)]
    struct Ts {
        #[serde(default, deserialize_with = "opt_timestamp")]
        t: Option<OffsetDateTime>,
    }

    #[test]
    fn opt_timestamp_reads_nulls_blanks_and_refuses_nonsense() {
        let at = |json: &str| serde_json::from_str::<Ts>(json).map(|v| v.t);
        assert_eq!(
            at(r#"{"t":"2026-01-04 13:18:33"}"#)
                .unwrap()
                .map(|t| t.unix_timestamp()),
            Some(1_767_532_713)
        );
        assert_eq!(at(r#"{"t":null}"#).unwrap(), None);
        assert_eq!(at(r#"{"t":" "}"#).unwrap(), None);
        assert_eq!(at("{}").unwrap(), None);
        let err = at(r#"{"t":"04/01/2026 13:18"}"#).unwrap_err().to_string();
        assert!(
            err.starts_with(r#"not a timestamp: "04/01/2026 13:18""#),
            "{err}"
        );
        assert!(at(r#"{"t":1767532713}"#).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Ints {
        #[serde(deserialize_with = "i64_or_string")]
        required: i64,
        #[serde(default, deserialize_with = "opt_i64_or_string")]
        optional: Option<i64>,
    }

    fn ints(json: &str) -> Result<(i64, Option<i64>), String> {
        serde_json::from_str::<Ints>(json)
            .map(|v| (v.required, v.optional))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn integers_as_numbers_or_numeric_strings() {
        assert_eq!(
            ints(r#"{"required":12,"optional":"12"}"#),
            Ok((12, Some(12)))
        );
        assert_eq!(
            ints(r#"{"required":" -7 ","optional":null}"#),
            Ok((-7, None))
        );
        assert_eq!(ints(r#"{"required":"0","optional":""}"#), Ok((0, None)));
        assert_eq!(ints(r#"{"required":0}"#), Ok((0, None)));
        assert_eq!(
            ints(r#"{"required":1,"optional":9007199254740993}"#),
            Ok((1, Some(9_007_199_254_740_993)))
        );
        assert_eq!(
            ints(r#"{"required":1,"optional":"9223372036854775807"}"#),
            Ok((1, Some(i64::MAX)))
        );
    }

    #[test]
    fn integers_refuse_floats_words_and_overflow() {
        let err = ints(r#"{"required":1,"optional":1.126093E6}"#).unwrap_err();
        assert!(
            err.starts_with(
                "invalid type: floating point `1126093.0`, expected a 64-bit integer or a numeric string"
            ),
            "{err}"
        );
        let err = ints(r#"{"required":"Engineering"}"#).unwrap_err();
        assert!(
            err.starts_with(r#"invalid value: string "Engineering""#),
            "{err}"
        );
        assert!(ints(r#"{"required":1,"optional":"1.5"}"#).is_err());
        assert!(ints(r#"{"required":1,"optional":9223372036854775808}"#).is_err());
        assert!(ints(r#"{"required":1,"optional":true}"#).is_err());
        assert!(ints(r#"{"required":null}"#).is_err());
        assert!(ints(r#"{"required":""}"#).is_err());
        assert!(ints("{}").is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Float {
        #[serde(default, deserialize_with = "opt_f64_or_string")]
        n: Option<f64>,
    }

    #[test]
    fn numbers_as_numbers_or_numeric_strings() {
        let n = |json: &str| serde_json::from_str::<Float>(json).map(|v| v.n);
        assert_eq!(n(r#"{"n":9.6}"#).unwrap(), Some(9.6));
        assert_eq!(n(r#"{"n":"9.6"}"#).unwrap(), Some(9.6));
        assert_eq!(n(r#"{"n":"0.00041"}"#).unwrap(), Some(0.000_41));
        assert_eq!(n(r#"{"n":7}"#).unwrap(), Some(7.0));
        assert_eq!(n(r#"{"n":"17"}"#).unwrap(), Some(17.0));
        assert_eq!(n(r#"{"n":null}"#).unwrap(), None);
        assert_eq!(n(r#"{"n":""}"#).unwrap(), None);
        assert_eq!(n("{}").unwrap(), None);
        assert!(n(r#"{"n":"high"}"#).is_err());
        assert!(n(r#"{"n":"NaN"}"#).is_err());
        assert!(n(r#"{"n":[9.6]}"#).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Flags {
        #[serde(default, deserialize_with = "bool_or_string")]
        flag: bool,
        #[serde(default, deserialize_with = "opt_bool_or_string")]
        maybe: Option<bool>,
    }

    #[test]
    fn booleans_as_booleans_or_strings() {
        let f = |json: &str| serde_json::from_str::<Flags>(json).map(|v| (v.flag, v.maybe));
        assert_eq!(
            f(r#"{"flag":true,"maybe":false}"#).unwrap(),
            (true, Some(false))
        );
        assert_eq!(
            f(r#"{"flag":"true","maybe":"False"}"#).unwrap(),
            (true, Some(false))
        );
        assert_eq!(
            f(r#"{"flag":" TRUE ","maybe":"true"}"#).unwrap(),
            (true, Some(true))
        );
        assert_eq!(f(r#"{"flag":null,"maybe":null}"#).unwrap(), (false, None));
        assert_eq!(f(r#"{"flag":"","maybe":""}"#).unwrap(), (false, None));
        assert_eq!(f("{}").unwrap(), (false, None));
        let err = f(r#"{"flag":"yes"}"#).unwrap_err().to_string();
        assert!(err.starts_with(r#"invalid value: string "yes""#), "{err}");
        assert!(f(r#"{"flag":1}"#).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct List {
        #[serde(default, deserialize_with = "string_or_list")]
        items: Vec<String>,
    }

    #[test]
    fn lists_as_arrays_or_comma_separated_strings() {
        let l = |json: &str| serde_json::from_str::<List>(json).map(|v| v.items);
        assert_eq!(
            l(r#"{"items":["T1021.002","T1543.003"]}"#).unwrap(),
            ["T1021.002", "T1543.003"]
        );
        assert_eq!(
            l(r#"{"items":"T1021.002, T1543.003,,"}"#).unwrap(),
            ["T1021.002", "T1543.003"]
        );
        assert_eq!(l(r#"{"items":"T1059.001"}"#).unwrap(), ["T1059.001"]);
        assert_eq!(l(r#"{"items":["a",null,"b"]}"#).unwrap(), ["a", "b"]);
        assert!(l(r#"{"items":""}"#).unwrap().is_empty());
        assert!(l(r#"{"items":null}"#).unwrap().is_empty());
        assert!(l("{}").unwrap().is_empty());
        assert!(l(r#"{"items":[1]}"#).is_err());
        assert!(l(r#"{"items":{"a":1}}"#).is_err());
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Named {
        name: Option<String>,
    }

    impl From<&str> for Named {
        fn from(raw: &str) -> Self {
            Named {
                name: Some(raw.to_owned()),
            }
        }
    }

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "opt_object_or_string")]
        who: Option<Named>,
    }

    #[test]
    fn objects_or_strings() {
        let h = |json: &str| serde_json::from_str::<Holder>(json).map(|v| v.who);
        let named = |s: &str| {
            Some(Named {
                name: Some(s.to_owned()),
            })
        };
        assert_eq!(h(r#"{"who":{"name":"a","extra":1}}"#).unwrap(), named("a"));
        assert_eq!(h(r#"{"who":" b "}"#).unwrap(), named("b"));
        assert_eq!(h(r#"{"who":null}"#).unwrap(), None);
        assert_eq!(h(r#"{"who":""}"#).unwrap(), None);
        assert_eq!(h("{}").unwrap(), None);
        assert!(h(r#"{"who":["a"]}"#).is_err());
        assert!(h(r#"{"who":{"name":5}}"#).is_err());
    }

    #[test]
    fn loose_enum_compare() {
        assert!(loose_eq("Not Supported", "NotSupported"));
        assert!(loose_eq("onboarded", "Onboarded"));
        assert!(!loose_eq("Onboarded", "CanBeOnboarded"));
    }
}
