//! MachineAction: the record of an isolate/unisolate/scan request (defender-api.md §5.5, §6).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::de;
use super::Identified;

tolerant_enum! {
    /// MachineAction `type` (§5.5).
    pub enum MachineActionType {
        RunAntiVirusScan => "RunAntiVirusScan",
        Offboard => "Offboard",
        LiveResponse => "LiveResponse",
        CollectInvestigationPackage => "CollectInvestigationPackage",
        Isolate => "Isolate",
        Unisolate => "Unisolate",
        StopAndQuarantineFile => "StopAndQuarantineFile",
        RestrictCodeExecution => "RestrictCodeExecution",
        UnrestrictCodeExecution => "UnrestrictCodeExecution",
    }
}

tolerant_enum! {
    /// MachineAction `status` (§5.5, §6).
    pub enum MachineActionStatus {
        Pending => "Pending",
        InProgress => "InProgress",
        Succeeded => "Succeeded",
        Failed => "Failed",
        TimeOut => "TimeOut",
        Cancelled => "Cancelled",
    }
}

impl MachineActionStatus {
    /// Succeeded, Failed, TimeOut and Cancelled are terminal (§5.5). An unknown status is not
    /// treated as terminal, so callers keep polling rather than drop an action.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::TimeOut | Self::Cancelled
        )
    }
}

/// A machine action (§5.5).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineAction {
    /// A GUID.
    pub id: String,
    #[serde(rename = "type")]
    pub action_type: Option<MachineActionType>,
    /// `Full`/`Selective` for isolation, `Quick`/`Full` for scans; often null (§5.5).
    pub scope: Option<String>,
    pub title: Option<String>,
    pub requestor: Option<String>,
    pub requestor_comment: Option<String>,
    pub status: Option<MachineActionStatus>,
    pub machine_id: Option<String>,
    pub computer_dns_name: Option<String>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub creation_date_time_utc: Option<OffsetDateTime>,
    /// Several doc examples spell it `lastUpdateTimeUtc` (§5.5, §9.13).
    #[serde(
        default,
        alias = "lastUpdateTimeUtc",
        deserialize_with = "de::opt_timestamp"
    )]
    pub last_update_date_time_utc: Option<OffsetDateTime>,
    pub cancellation_requestor: Option<String>,
    pub cancellation_comment: Option<String>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub cancellation_date_time_utc: Option<OffsetDateTime>,
    #[serde(rename = "errorHResult")]
    pub error_h_result: Option<i64>,
    pub external_id: Option<String>,
    pub request_source: Option<String>,
    pub related_file_info: Option<RelatedFileInfo>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub commands: Vec<serde_json::Value>,
    pub troubleshoot_info: Option<serde_json::Value>,
}

impl MachineAction {
    pub fn is_terminal(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(MachineActionStatus::is_terminal)
    }
}

impl Identified for MachineAction {
    fn id(&self) -> &str {
        &self.id
    }
}

/// `relatedFileInfo` (§5.5).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedFileInfo {
    pub file_identifier: Option<String>,
    pub file_identifier_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_spelling_last_update_time_utc_is_accepted() {
        let a: MachineAction = serde_json::from_str(
            r#"{"@odata.context":"https://api.security.microsoft.com/api/$metadata#MachineActions/$entity",
            "id":"5382f7ea-7557-4ab7-9782-d50480024a4e","type":"Isolate","scope":"Selective",
            "requestor":"Analytics App","requestorComment":"test","status":"Pending",
            "machineId":"2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94","computerDnsName":"eng-ws-17",
            "creationDateTimeUtc":"2026-01-04T10:20:00.1234567Z","lastUpdateTimeUtc":"2026-01-04T10:20:01Z",
            "cancellationRequestor":null,"cancellationComment":null,"cancellationDateTimeUtc":null,
            "errorHResult":0,"externalId":null,"requestSource":"PublicApi","relatedFileInfo":null,
            "commands":[],"troubleshootInfo":null}"#,
        )
        .unwrap();
        assert_eq!(a.action_type, Some(MachineActionType::Isolate));
        assert_eq!(a.status, Some(MachineActionStatus::Pending));
        assert!(!a.is_terminal());
        assert_eq!(
            a.last_update_date_time_utc.unwrap().unix_timestamp(),
            1_767_522_001
        );
        assert_eq!(a.error_h_result, Some(0));
    }

    #[test]
    fn live_spelling_and_terminal_states() {
        let a: MachineAction = serde_json::from_str(
            r#"{"id":"g","type":"runantivirusscan","status":"TimeOut","lastUpdateDateTimeUtc":"2026-01-04T10:20:01Z"}"#,
        )
        .unwrap();
        assert_eq!(a.action_type, Some(MachineActionType::RunAntiVirusScan));
        assert!(a.is_terminal());
        assert!(a.last_update_date_time_utc.is_some());
        for (s, t) in [
            ("Pending", false),
            ("InProgress", false),
            ("Succeeded", true),
            ("Failed", true),
            ("Cancelled", true),
            ("Paused", false),
        ] {
            assert_eq!(MachineActionStatus::parse(s).is_terminal(), t, "{s}");
        }
    }
}
