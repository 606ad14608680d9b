//! Software and MachineRef (defender-api.md §4.15, §4.16, §5.6).

use serde::{Deserialize, Serialize};

use super::de;
use super::Identified;

/// A software product; `id` is `{vendor}-_-{product}` in lower case (§4.15).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Software {
    pub id: String,
    pub name: Option<String>,
    pub vendor: Option<String>,
    /// Number of CVEs.
    pub weaknesses: Option<i64>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub public_exploit: bool,
    #[serde(default, deserialize_with = "de::null_default")]
    pub active_alert: bool,
    pub exposed_machines: Option<i64>,
    pub impact_score: Option<f64>,
}

/// A device reference from `machineReferences` (§4.16).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineRef {
    pub id: String,
    pub computer_dns_name: Option<String>,
    pub os_platform: Option<String>,
    pub rbac_group_name: Option<String>,
    /// Some samples carry it (§4.16); a number or a numeric string, as on machines (§9.15).
    #[serde(default, deserialize_with = "de::opt_i64_or_string")]
    pub rbac_group_id: Option<i64>,
}

impl Identified for MachineRef {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Identified for Software {
    fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::model::ODataPage;

    #[test]
    fn software_entity_and_refs_decode() {
        let s: Software = serde_json::from_str(
            r#"{"@odata.context":"https://api.security.microsoft.com/api/$metadata#Software/$entity",
 "id":"fabrikam-_-viewer","name":"viewer","vendor":"fabrikam","weaknesses":12,
 "publicExploit":true,"activeAlert":false,"exposedMachines":41,"impactScore":3.71}"#,
        )
        .unwrap();
        assert_eq!(s.weaknesses, Some(12));
        assert!(s.public_exploit);
        assert_eq!(s.impact_score, Some(3.71));
        let refs: ODataPage<MachineRef> = serde_json::from_str(
            r#"{"@odata.context":"https://api.security.microsoft.com/api/$metadata#MachineReferences",
 "value":[{"id":"2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94","computerDnsName":"eng-ws-17.corp.fabrikam.test",
           "osPlatform":"Windows11","rbacGroupName":"Engineering"}]}"#,
        )
        .unwrap();
        assert_eq!(refs.value[0].os_platform.as_deref(), Some("Windows11"));
        assert_eq!(refs.value[0].rbac_group_id, None);
    }
}
