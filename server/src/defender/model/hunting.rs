//! Advanced-hunting result: `Schema` + `Results`, no OData envelope (defender-api.md §4.14).

use serde::{Deserialize, Serialize};

use super::de;

/// The answer of `POST /api/advancedqueries/run`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct HuntingResult {
    #[serde(rename = "Schema", default, deserialize_with = "de::null_default")]
    pub schema: Vec<HuntingColumn>,
    /// Rows as JSON objects keyed by column name. `Dynamic` columns arrive as strings or
    /// objects, so values stay untyped.
    #[serde(rename = "Results", default, deserialize_with = "de::null_default")]
    pub results: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// One column: `Type` is `String`, `DateTime`, `Int32`, `Int64`, `Double`, `Boolean`,
/// `Dynamic`, `Guid`, ... (an open set, §4.14).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct HuntingColumn {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Type")]
    pub column_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunting_result_decodes() {
        let r: HuntingResult = serde_json::from_str(r#"{"Schema":[{"Name":"DeviceId","Type":"String"},{"Name":"Timestamp","Type":"DateTime"},{"Name":"RemoteIP","Type":"String"}],
 "Results":[{"DeviceId":"2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94","Timestamp":"2026-01-04T10:12:00.1234567Z","RemoteIP":"203.0.113.99","Extra":{"a":1}}]}"#).unwrap();
        assert_eq!(r.schema.len(), 3);
        assert_eq!(r.results[0]["RemoteIP"], "203.0.113.99");
    }
}
