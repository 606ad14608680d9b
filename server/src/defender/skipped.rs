//! Items of a listing that could not be decoded: skipped, counted and named instead of failing
//! their page (defender-api.md §9.13, §9.21: "never let one item fail a page").

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The longest `reason` kept, in characters. serde quotes the offending value in its message
/// (a whole string, however long); the cut keeps a log line or journal entry short and holds
/// at most this much of the item's own text.
const REASON_MAX_CHARS: usize = 200;

/// One item of a listing that could not be decoded and was left out of its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedItem {
    /// The listing, as its pager names it: "machines", "alerts", "machinesVulnerabilities",
    /// "machine actions", ...
    pub listing: String,
    /// The item's `id` when it is a JSON string; `None` when it is missing, of another type,
    /// or the item is not an object.
    pub id: Option<String>,
    /// The item's `machineId` when it is a JSON string (alerts, machine-vulnerability rows and
    /// machine actions carry one, §4.3, §4.12, §5.5).
    pub machine_id: Option<String>,
    /// Where decoding failed, as a serde path (`lastSeen`, `ipAddresses[1].type`); empty when
    /// the item is not an object at all or the failure is of the item as a whole (a missing
    /// `id`).
    pub field: String,
    /// serde's message without its line and column, at most 200 characters (and a `…`).
    pub reason: String,
}

impl SkippedItem {
    fn new(listing: &str, raw: &str, err: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let keys = Keys::read(raw);
        let path = err.path();
        // serde_path_to_error shows the empty path as ".".
        let field = if path.iter().next().is_none() {
            String::new()
        } else {
            path.to_string()
        };
        Self {
            listing: listing.to_owned(),
            id: keys.id,
            machine_id: keys.machine_id,
            field,
            reason: reason(err.inner()),
        }
    }
}

impl fmt::Display for SkippedItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} item ", self.listing)?;
        match &self.id {
            Some(id) => write!(f, "{id:?}")?,
            None => f.write_str("without a string id")?,
        }
        if let Some(machine) = &self.machine_id {
            write!(f, " (machine {machine})")?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.reason)
        } else {
            write!(f, " at {}: {}", self.field, self.reason)
        }
    }
}

/// Decodes one raw item of `listing`, or names why it cannot be decoded.
///
/// The plain decode runs first. Only an item that fails it is decoded again through
/// `serde_path_to_error`, which finds the field but copies every key it passes into a new
/// `String`: for every item that would cost an allocation per field on listings of a million
/// rows (§4.12), for nothing when the item is good. Decoding is deterministic, so the second
/// pass fails where the first did.
pub(crate) fn decode_item<T: DeserializeOwned>(
    listing: &str,
    raw: &RawValue,
) -> Result<T, SkippedItem> {
    let text = raw.get();
    if let Ok(item) = serde_json::from_str(text) {
        return Ok(item);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|err| SkippedItem::new(listing, text, &err))
}

/// The two keys a skipped item is named by, read leniently from its raw text: anything but a
/// JSON string (a number, an object, a missing key, an item that is not an object) is `None`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Keys {
    #[serde(default, deserialize_with = "string_only")]
    id: Option<String>,
    #[serde(default, deserialize_with = "string_only")]
    machine_id: Option<String>,
}

impl Keys {
    fn read(raw: &str) -> Self {
        serde_json::from_str(raw).unwrap_or_default()
    }
}

/// A string as `Some`; any other JSON value is read and dropped as `None`. Runs only for
/// skipped items, so the throwaway `Value` costs nothing that matters.
fn string_only<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// serde's message without the " at line L column C" that serde_json appends: the position
/// is within one item's text, so it says nothing to an operator.
fn reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    let message = text.strip_suffix(&position).unwrap_or(&text);
    match message.char_indices().nth(REASON_MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::model::{Alert, Machine};

    fn decode<T: DeserializeOwned>(json: &str) -> Result<T, SkippedItem> {
        let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
        decode_item("test", &raw)
    }

    #[test]
    fn good_items_decode() {
        let m: Machine = decode(r#"{"id":"a","rbacGroupId":"12"}"#).unwrap();
        assert_eq!((m.id.as_str(), m.rbac_group_id), ("a", Some(12)));
    }

    #[test]
    fn a_bad_timestamp_names_the_field_and_the_value() {
        let s = decode::<Machine>(r#"{"id":"a","lastSeen":"last Tuesday"}"#).unwrap_err();
        assert_eq!(
            s,
            SkippedItem {
                listing: "test".into(),
                id: Some("a".into()),
                machine_id: None,
                field: "lastSeen".into(),
                reason: r#"not a timestamp: "last Tuesday""#.into(),
            }
        );
        assert_eq!(
            s.to_string(),
            r#"test item "a" at lastSeen: not a timestamp: "last Tuesday""#
        );
    }

    #[test]
    fn nested_paths_and_machine_ids() {
        let s = decode::<Machine>(r#"{"id":"a","ipAddresses":[{"type":"Ethernet"},{"type":7}]}"#)
            .unwrap_err();
        assert_eq!(s.field, "ipAddresses[1].type");
        assert_eq!(s.reason, "invalid type: integer `7`, expected a string");
        let s = decode::<Alert>(r#"{"id":"da1","machineId":"m1","evidence":[{"processId":"x"}]}"#)
            .unwrap_err();
        assert_eq!(
            (s.id.as_deref(), s.machine_id.as_deref(), s.field.as_str()),
            (Some("da1"), Some("m1"), "evidence[0].processId")
        );
    }

    #[test]
    fn items_without_a_string_id_or_not_objects() {
        let s = decode::<Machine>(r#"{"id":42,"machineId":{"x":1}}"#).unwrap_err();
        assert_eq!((s.id, s.machine_id), (None, None));
        assert_eq!(s.field, "id");
        assert_eq!(s.reason, "invalid type: integer `42`, expected a string");
        let s = decode::<Machine>(r#"{"computerDnsName":"x"}"#).unwrap_err();
        assert_eq!(
            (s.field.as_str(), s.reason.as_str()),
            ("", "missing field `id`")
        );
        let s = decode::<Machine>(r#""2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94""#).unwrap_err();
        assert_eq!((s.id, s.field.as_str()), (None, ""));
        assert_eq!(
            s.reason,
            r#"invalid type: string "2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94", expected struct Machine"#
        );
    }

    #[test]
    fn long_values_are_cut_from_the_reason() {
        let long = "x".repeat(5_000);
        let s = decode::<Machine>(&format!(r#"{{"id":"a","rbacGroupId":"{long}"}}"#)).unwrap_err();
        assert_eq!(s.field, "rbacGroupId");
        assert_eq!(s.reason.chars().count(), REASON_MAX_CHARS + 1);
        assert!(
            s.reason.starts_with(r#"invalid value: string "xxx"#),
            "{}",
            s.reason
        );
        assert!(s.reason.ends_with("x…"), "{}", s.reason);
    }
}
