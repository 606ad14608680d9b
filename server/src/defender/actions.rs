//! Machine-action request bodies. Property names are PascalCase and case-sensitive
//! (defender-api.md §3.5, §9.8): `comment` instead of `Comment` is a 400.

use serde::Serialize;

/// `IsolationType` (§4.6). `UnManagedDevice` contains a discovered, non-onboarded device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IsolationType {
    Full,
    Selective,
    UnManagedDevice,
}

/// `ScanType` (§4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ScanType {
    Quick,
    Full,
}

/// `POST /api/machines/{id}/isolate` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct IsolateBody<'a> {
    pub comment: &'a str,
    pub isolation_type: IsolationType,
}

/// `unisolate` and `cancel` bodies: `Comment` only (§4.7, §4.9).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CommentBody<'a> {
    pub comment: &'a str,
}

/// `runAntiVirusScan` body: both fields required (§4.8).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScanBody<'a> {
    pub comment: &'a str,
    pub scan_type: ScanType,
}

/// `advancedqueries/run` body (§4.14).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct QueryBody<'a> {
    pub query: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_pascal_case() {
        let v = serde_json::to_value(IsolateBody {
            comment: "C2 beaconing",
            isolation_type: IsolationType::Selective,
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"Comment":"C2 beaconing","IsolationType":"Selective"})
        );
        let v = serde_json::to_value(ScanBody {
            comment: "c",
            scan_type: ScanType::Quick,
        })
        .unwrap();
        assert_eq!(v, json!({"Comment":"c","ScanType":"Quick"}));
        let v = serde_json::to_value(CommentBody { comment: "c" }).unwrap();
        assert_eq!(v, json!({"Comment":"c"}));
        let v = serde_json::to_value(QueryBody {
            query: "DeviceInfo | take 1",
        })
        .unwrap();
        assert_eq!(v, json!({"Query":"DeviceInfo | take 1"}));
        let v = serde_json::to_value(IsolationType::UnManagedDevice).unwrap();
        assert_eq!(v, json!("UnManagedDevice"));
    }
}
