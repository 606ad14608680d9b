//! Alert and its comments, evidence and related user (defender-api.md §4.3, §5.3).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::de;
use super::Identified;

tolerant_enum! {
    /// `severity` (§5.3): there is no `Critical` for alerts.
    pub enum AlertSeverity {
        UnSpecified => "UnSpecified",
        Informational => "Informational",
        Low => "Low",
        Medium => "Medium",
        High => "High",
    }
}

tolerant_enum! {
    /// `status` (§5.3).
    pub enum AlertStatus {
        Unknown => "Unknown",
        New => "New",
        InProgress => "InProgress",
        Resolved => "Resolved",
    }
}

tolerant_enum! {
    /// `classification` (§5.3); older data also has `Unknown`.
    pub enum AlertClassification {
        TruePositive => "TruePositive",
        InformationalExpectedActivity => "InformationalExpectedActivity",
        FalsePositive => "FalsePositive",
        Unknown => "Unknown",
    }
}

tolerant_enum! {
    /// `determination` (§5.3). The documented `Other` value lands in `Other("Other")`;
    /// retired values (`Apt`, `SecurityPersonnel`) too.
    pub enum AlertDetermination {
        MultiStagedAttack => "MultiStagedAttack",
        MaliciousUserActivity => "MaliciousUserActivity",
        CompromisedUser => "CompromisedUser",
        Malware => "Malware",
        Phishing => "Phishing",
        UnwantedSoftware => "UnwantedSoftware",
        SecurityTesting => "SecurityTesting",
        LineOfBusinessApplication => "LineOfBusinessApplication",
        ConfirmedUserActivity => "ConfirmedUserActivity",
        Clean => "Clean",
        InsufficientData => "InsufficientData",
    }
}

tolerant_enum! {
    /// `investigationState` (§5.3).
    pub enum InvestigationState {
        Unknown => "Unknown",
        Terminated => "Terminated",
        SuccessfullyRemediated => "SuccessfullyRemediated",
        Benign => "Benign",
        Failed => "Failed",
        PartiallyRemediated => "PartiallyRemediated",
        Running => "Running",
        PendingApproval => "PendingApproval",
        PendingResource => "PendingResource",
        PartiallyInvestigated => "PartiallyInvestigated",
        TerminatedByUser => "TerminatedByUser",
        TerminatedBySystem => "TerminatedBySystem",
        Queued => "Queued",
        InnerFailure => "InnerFailure",
        PreexistingAlert => "PreexistingAlert",
        UnsupportedOs => "UnsupportedOs",
        UnsupportedAlertType => "UnsupportedAlertType",
        SuppressedAlert => "SuppressedAlert",
    }
}

/// A Defender alert (§5.3). Alerts are mutable: upsert by `id`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// A string such as `da638712004455667788_-1423377901` (§9.17).
    pub id: String,
    /// 64-bit integer, or the same as a numeric string; never a float (§5.3, §9.17).
    #[serde(default, deserialize_with = "de::opt_i64_or_string")]
    pub incident_id: Option<i64>,
    #[serde(default, deserialize_with = "de::opt_i64_or_string")]
    pub investigation_id: Option<i64>,
    pub assigned_to: Option<String>,
    pub severity: Option<AlertSeverity>,
    pub status: Option<AlertStatus>,
    pub classification: Option<AlertClassification>,
    pub determination: Option<AlertDetermination>,
    pub investigation_state: Option<InvestigationState>,
    /// Open set (§5.3).
    pub detection_source: Option<String>,
    pub detector_id: Option<String>,
    /// Open set (§5.3).
    pub category: Option<String>,
    pub threat_family_name: Option<String>,
    pub threat_name: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub alert_creation_time: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub first_event_time: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub last_event_time: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub last_update_time: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub resolved_time: Option<OffsetDateTime>,
    pub machine_id: Option<String>,
    pub computer_dns_name: Option<String>,
    pub rbac_group_name: Option<String>,
    pub aad_tenant_id: Option<String>,
    /// Typed "String" in the table, an array in the examples (§9.21): a string is split on
    /// commas.
    #[serde(default, deserialize_with = "de::string_or_list")]
    pub mitre_techniques: Vec<String>,
    /// Typed "String" in the table, an object in the examples (§9.21).
    #[serde(default, deserialize_with = "de::opt_object_or_string")]
    pub related_user: Option<RelatedUser>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub comments: Vec<AlertComment>,
    /// Filled only with `$expand=evidence` (§3.3).
    #[serde(default, deserialize_with = "de::null_default")]
    pub evidence: Vec<AlertEvidence>,
}

impl Alert {
    /// Not resolved: counts towards device risk (§10).
    pub fn is_active(&self) -> bool {
        self.status != Some(AlertStatus::Resolved)
    }
}

impl Identified for Alert {
    fn id(&self) -> &str {
        &self.id
    }
}

/// `relatedUser` (§5.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedUser {
    pub user_name: Option<String>,
    pub domain_name: Option<String>,
}

/// `relatedUser` sent as a string, as the table types it (§9.21): `DOMAIN\user` is split on
/// the first backslash; anything else (`user@domain`, a bare name) is the user name whole.
impl From<&str> for RelatedUser {
    fn from(raw: &str) -> Self {
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        match raw.split_once('\\') {
            Some((domain, user)) => RelatedUser {
                user_name: non_empty(user),
                domain_name: non_empty(domain),
            },
            None => RelatedUser {
                user_name: non_empty(raw),
                domain_name: None,
            },
        }
    }
}

/// One alert comment (§5.3).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertComment {
    pub comment: Option<String>,
    pub created_by: Option<String>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub created_time: Option<OffsetDateTime>,
}

/// One evidence item (§5.3); the most useful fields, the rest ignored.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertEvidence {
    pub entity_type: Option<String>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub evidence_creation_time: Option<OffsetDateTime>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub file_name: Option<String>,
    pub file_path: Option<String>,
    pub process_id: Option<i64>,
    pub process_command_line: Option<String>,
    pub ip_address: Option<String>,
    pub url: Option<String>,
    pub account_name: Option<String>,
    pub domain_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub detection_status: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_alert_decodes() {
        let a: Alert = serde_json::from_str(
            r#"{"id":"da638712004455667788_-1423377901","incidentId":40217,"investigationId":881203,
 "assignedTo":null,"severity":"High","status":"New","classification":null,"determination":null,
 "investigationState":"Running","detectionSource":"WindowsDefenderAtp","detectorId":"3f2c6d1e-9a8b-4c7d-b6e5-0f1a2b3c4d5e",
 "category":"LateralMovement","threatFamilyName":null,"threatName":null,
 "title":"Suspicious remote service creation","description":"A service was created remotely ...",
 "alertCreationTime":"2026-01-04T10:15:22.1000000Z","firstEventTime":"2026-01-04T10:11:05.5000000Z",
 "lastEventTime":"2026-01-04T10:13:41.2000000Z","lastUpdateTime":"2026-01-04T10:16:00.03Z","resolvedTime":null,
 "machineId":"2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94","computerDnsName":"eng-ws-17.corp.fabrikam.test",
 "rbacGroupName":"Engineering","aadTenantId":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
 "mitreTechniques":["T1021.002","T1543.003"],"relatedUser":{"userName":"svc-build","domainName":"FABRIKAM"},
 "comments":[],"evidence":[]}"#,
        )
        .unwrap();
        assert_eq!(a.incident_id, Some(40217));
        assert_eq!(a.severity, Some(AlertSeverity::High));
        assert_eq!(a.status, Some(AlertStatus::New));
        assert_eq!(a.investigation_state, Some(InvestigationState::Running));
        assert!(a.is_active());
        assert!(a.resolved_time.is_none());
        assert_eq!(
            a.related_user.unwrap().user_name.as_deref(),
            Some("svc-build")
        );
    }

    #[test]
    fn big_incident_ids_and_other_values() {
        let a: Alert = serde_json::from_str(
            r#"{"id":"x","incidentId":9007199254740993,"status":"resolved","determination":"Other",
            "classification":"FalsePositive","evidence":[{"entityType":"File","sha1":"ab","detectionStatus":null}]}"#,
        )
        .unwrap();
        assert_eq!(a.incident_id, Some(9_007_199_254_740_993));
        assert!(!a.is_active());
        assert_eq!(
            a.determination,
            Some(AlertDetermination::Other("Other".into()))
        );
        assert_eq!(a.evidence[0].entity_type.as_deref(), Some("File"));
    }

    #[test]
    fn table_shapes_of_related_user_mitre_and_ids_decode() {
        let a: Alert = serde_json::from_str(
            r#"{"id":"x","incidentId":"40217","investigationId":null,
            "relatedUser":"FABRIKAM\\svc-build","mitreTechniques":"T1021.002, T1543.003"}"#,
        )
        .unwrap();
        assert_eq!(a.incident_id, Some(40217));
        assert_eq!(a.investigation_id, None);
        assert_eq!(
            a.related_user,
            Some(RelatedUser {
                user_name: Some("svc-build".into()),
                domain_name: Some("FABRIKAM".into()),
            })
        );
        assert_eq!(a.mitre_techniques, ["T1021.002", "T1543.003"]);

        let b: Alert = serde_json::from_str(
            r#"{"id":"y","relatedUser":"ann@fabrikam.test","mitreTechniques":null}"#,
        )
        .unwrap();
        assert_eq!(
            b.related_user,
            Some(RelatedUser {
                user_name: Some("ann@fabrikam.test".into()),
                domain_name: None,
            })
        );
        assert!(b.mitre_techniques.is_empty());
        let c: Alert = serde_json::from_str(r#"{"id":"z","relatedUser":null}"#).unwrap();
        assert_eq!(c.related_user, None);
    }

    #[test]
    fn related_user_strings_split_on_the_first_backslash() {
        let user = |raw: &str| {
            let u = RelatedUser::from(raw);
            (u.domain_name, u.user_name)
        };
        assert_eq!(
            user(r"CORP\ann\x"),
            (Some("CORP".into()), Some(r"ann\x".into()))
        );
        assert_eq!(user(r"\ann"), (None, Some("ann".into())));
        assert_eq!(user("ann"), (None, Some("ann".into())));
    }

    #[test]
    fn float_incident_ids_are_refused() {
        let err = serde_json::from_str::<Alert>(r#"{"id":"x","incidentId":1.126093E6}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid type: floating point `1126093.0`"),
            "{err}"
        );
    }
}
