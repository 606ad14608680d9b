//! Machine and IpAddress (defender-api.md §5.1, §5.2), including discovered devices.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::de;
use super::Identified;

tolerant_enum! {
    /// `healthStatus` (§5.1).
    pub enum HealthStatus {
        Active => "Active",
        Inactive => "Inactive",
        ImpairedCommunication => "ImpairedCommunication",
        NoSensorData => "NoSensorData",
        NoSensorDataImpairedCommunication => "NoSensorDataImpairedCommunication",
        Unknown => "Unknown",
    }
}

tolerant_enum! {
    /// `onboardingStatus` (§5.1, §7); the docs print it lower-case, live data is PascalCase.
    pub enum OnboardingStatus {
        Onboarded => "Onboarded",
        CanBeOnboarded => "CanBeOnboarded",
        Unsupported => "Unsupported",
        InsufficientInfo => "InsufficientInfo",
    }
}

tolerant_enum! {
    /// `riskScore` (§5.1), derived by Defender from active alerts.
    pub enum RiskScore {
        None => "None",
        Informational => "Informational",
        Low => "Low",
        Medium => "Medium",
        High => "High",
    }
}

tolerant_enum! {
    /// `exposureLevel` (§5.1), vulnerability-based.
    pub enum ExposureLevel {
        None => "None",
        Low => "Low",
        Medium => "Medium",
        High => "High",
    }
}

tolerant_enum! {
    /// `deviceValue` (§5.1).
    pub enum DeviceValue {
        Low => "Low",
        Normal => "Normal",
        High => "High",
    }
}

/// A device known to Defender, onboarded or merely discovered (§4.1, §5.1). Only `id` is
/// required: discovered devices carry nulls in most OS fields (§9.5).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// 40 lowercase hex characters; the key for actions, alerts and portal links.
    pub id: String,
    pub computer_dns_name: Option<String>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub first_seen: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub last_seen: Option<OffsetDateTime>,
    /// Open set (§5.1): kept as a string.
    pub os_platform: Option<String>,
    pub os_version: Option<String>,
    pub os_processor: Option<String>,
    pub os_architecture: Option<String>,
    pub version: Option<String>,
    /// An integer in the table, a string in some exports (§9.15).
    #[serde(default, deserialize_with = "de::opt_i64_or_string")]
    pub os_build: Option<i64>,
    pub agent_version: Option<String>,
    pub last_ip_address: Option<String>,
    pub last_external_ip_address: Option<String>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub ip_addresses: Vec<IpAddress>,
    pub health_status: Option<HealthStatus>,
    pub onboarding_status: Option<OnboardingStatus>,
    pub risk_score: Option<RiskScore>,
    pub exposure_level: Option<ExposureLevel>,
    pub device_value: Option<DeviceValue>,
    /// 0 when ungrouped. "String" in the machine table and the export APIs, a number in the
    /// examples (§9.15, §9.21): both are read; a non-numeric string fails this item only.
    #[serde(default, deserialize_with = "de::opt_i64_or_string")]
    pub rbac_group_id: Option<i64>,
    pub rbac_group_name: Option<String>,
    pub is_aad_joined: Option<bool>,
    /// Entra device id: *not* the MDE id (§9.4).
    pub aad_device_id: Option<String>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub machine_tags: Vec<String>,
    pub defender_av_status: Option<String>,
    pub managed_by: Option<String>,
    pub managed_by_status: Option<String>,
    pub merged_into_machine_id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool_or_string")]
    pub is_potential_duplication: Option<bool>,
    pub is_excluded: Option<bool>,
    pub exclusion_reason: Option<String>,
    pub vm_metadata: Option<VmMetadata>,
}

impl Machine {
    /// Onboarded devices are the only ones EDR actions work on (§7).
    pub fn is_onboarded(&self) -> bool {
        self.onboarding_status == Some(OnboardingStatus::Onboarded)
    }

    /// Distinct MAC addresses across the device's NICs (the same MAC repeats per address, §5.2).
    pub fn mac_addresses(&self) -> Vec<&str> {
        let mut macs: Vec<&str> = Vec::new();
        for mac in self
            .ip_addresses
            .iter()
            .filter_map(|a| a.mac_address.as_deref())
        {
            if !macs.contains(&mac) {
                macs.push(mac);
            }
        }
        macs
    }
}

impl Identified for Machine {
    fn id(&self) -> &str {
        &self.id
    }
}

/// One address of a NIC (§5.2). `macAddress` is 12 upper-case hex digits, null for loopback.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAddress {
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    /// `Ethernet`, `Wireless80211`, `SoftwareLoopback`, ... (open set).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub operational_status: Option<String>,
}

/// `vmMetadata` (§5.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VmMetadata {
    pub vm_id: Option<String>,
    pub cloud_provider: Option<String>,
    pub resource_id: Option<String>,
    pub subscription_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::model::ODataPage;

    const LIST: &str = r#"{
      "@odata.context": "https://api.security.microsoft.com/api/$metadata#Machines",
      "value": [
        {"id":"2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94","computerDnsName":"eng-ws-17.corp.fabrikam.test",
         "firstSeen":"2024-11-02T08:12:44.1234567Z","lastSeen":"2026-01-04T21:03:10.7654321Z",
         "osPlatform":"Windows11","osVersion":null,"osProcessor":"x64","version":"24H2","osBuild":26100,
         "lastIpAddress":"10.8.4.23","lastExternalIpAddress":"198.51.100.40","agentVersion":"10.8760.26100.1",
         "healthStatus":"Active","onboardingStatus":"Onboarded","deviceValue":"Normal",
         "rbacGroupId":12,"rbacGroupName":"Engineering","riskScore":"Medium","exposureLevel":"Low",
         "isAadJoined":true,"aadDeviceId":"5e0c2f7a-1b3d-4c9e-8a6f-0d2b4c6e8f10","machineTags":["eng"],
         "defenderAvStatus":"Updated","osArchitecture":"64-bit","managedBy":"Intune","managedByStatus":"Success",
         "mergedIntoMachineId":null,"isPotentialDuplication":false,"isExcluded":false,"exclusionReason":null,
         "ipAddresses":[{"ipAddress":"10.8.4.23","macAddress":"00155DA1B2C3","type":"Ethernet","operationalStatus":"Up"},
                        {"ipAddress":"fe80::1","macAddress":"00155DA1B2C3","type":"Ethernet","operationalStatus":"Up"},
                        {"ipAddress":"127.0.0.1","macAddress":null,"type":"SoftwareLoopback","operationalStatus":"Up"}],
         "vmMetadata":null, "someFieldAddedNextYear": {"nested": [1,2,3]}},
        {"id":"8c1f0e2d3b4a59687f6e5d4c3b2a19080706f5e4","computerDnsName":"10.8.9.77",
         "firstSeen":"2025-12-30T02:00:00Z","lastSeen":"2026-01-03T02:00:00Z",
         "osPlatform":null,"osVersion":null,"osProcessor":null,"version":null,"osBuild":null,
         "lastIpAddress":"10.8.9.77","lastExternalIpAddress":null,"agentVersion":null,
         "healthStatus":"Inactive","onboardingStatus":"insufficientinfo","deviceValue":"Normal",
         "rbacGroupId":0,"rbacGroupName":null,"riskScore":"None","exposureLevel":null,
         "isAadJoined":false,"aadDeviceId":null,"machineTags":null,"ipAddresses":[],"vmMetadata":null}
      ],
      "@odata.nextLink": "https://api.security.microsoft.com/api/machines?$skip=10000"
    }"#;

    #[test]
    fn machines_with_nulls_and_unknown_fields_decode() {
        let page: ODataPage<Machine> = serde_json::from_str(LIST).unwrap();
        let [onboarded, discovered] = &page.value[..] else {
            panic!("two machines")
        };
        assert!(onboarded.is_onboarded());
        assert_eq!(onboarded.os_build, Some(26100));
        assert_eq!(onboarded.risk_score, Some(RiskScore::Medium));
        assert_eq!(onboarded.mac_addresses(), ["00155DA1B2C3"]);
        assert_eq!(onboarded.ip_addresses[2].mac_address, None);
        assert_eq!(
            onboarded.ip_addresses[2].kind.as_deref(),
            Some("SoftwareLoopback")
        );

        assert_eq!(
            discovered.onboarding_status,
            Some(OnboardingStatus::InsufficientInfo)
        );
        assert_eq!(discovered.os_platform, None);
        assert_eq!(discovered.os_build, None);
        assert_eq!(discovered.exposure_level, None);
        assert_eq!(discovered.rbac_group_id, Some(0));
        assert!(discovered.machine_tags.is_empty());
        assert!(page.next_link.is_some());
    }

    #[test]
    fn single_entity_with_entity_context_decodes() {
        let m: Machine = serde_json::from_str(
            r#"{"@odata.context":"https://api.security.microsoft.com/api/$metadata#Machines/$entity",
            "id":"2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94","healthStatus":"SomethingNew",
            "onboardingStatus":"CanBeOnboarded"}"#,
        )
        .unwrap();
        assert_eq!(
            m.health_status,
            Some(HealthStatus::Other("SomethingNew".into()))
        );
        assert_eq!(m.onboarding_status, Some(OnboardingStatus::CanBeOnboarded));
        assert!(m.ip_addresses.is_empty());
    }

    #[test]
    fn string_typed_group_build_and_duplicate_flag_decode() {
        let m: Machine = serde_json::from_str(
            r#"{"id":"a","rbacGroupId":"12","osBuild":"26100","isPotentialDuplication":"true"}"#,
        )
        .unwrap();
        assert_eq!(m.rbac_group_id, Some(12));
        assert_eq!(m.os_build, Some(26100));
        assert_eq!(m.is_potential_duplication, Some(true));
        let err = serde_json::from_str::<Machine>(r#"{"id":"a","rbacGroupId":"Engineering"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(r#"invalid value: string "Engineering""#),
            "{err}"
        );
    }
}
