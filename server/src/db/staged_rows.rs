//! The rows a sync stages (`db::sync_stage`): exactly the fields the staging tables store, in
//! the database's own terms. The sync converts Defender's wire types into these
//! (`sync::to_rows`), so a change to what Microsoft sends stops at the sync.

use serde::Serialize;
use time::OffsetDateTime;

/// One machine (`stage_machine`, then `defender_machine`).
#[derive(Debug, Clone, PartialEq)]
pub struct StagedMachine {
    pub machine_id: String,
    pub computer_dns_name: Option<String>,
    pub os_platform: Option<String>,
    pub os_version: Option<String>,
    pub version: Option<String>,
    pub os_build: Option<i64>,
    pub onboarding_status: Option<String>,
    pub health_status: Option<String>,
    pub risk_score: Option<String>,
    pub exposure_level: Option<String>,
    pub device_value: Option<String>,
    pub last_ip_address: Option<String>,
    pub first_seen: Option<OffsetDateTime>,
    pub last_seen: Option<OffsetDateTime>,
    pub is_potential_duplication: bool,
    pub merged_into_machine_id: Option<String>,
    /// Stored as a JSON list in `ip_addresses`.
    pub ip_addresses: Vec<StagedAddress>,
    pub agent_version: Option<String>,
    /// The device group: 0 and no name for a machine in none.
    pub rbac_group_id: Option<i64>,
    pub rbac_group_name: Option<String>,
    /// Stored as a JSON list in `machine_tags`.
    pub machine_tags: Vec<String>,
}

/// One address of a machine's NIC as `defender_machine.ip_addresses` stores it. The merge reads
/// these back (`sync::merge::adapter::Adapter`): the field names are the stored JSON's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedAddress {
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub operational_status: Option<String>,
}

/// One CVE of the tenant (`stage_vulnerability`, then `vulnerability`).
#[derive(Debug, Clone, PartialEq)]
pub struct StagedVulnerability {
    pub cve_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
    pub cvss_v3: Option<f64>,
    pub cvss_vector: Option<String>,
    pub public_exploit: bool,
    pub exploit_verified: bool,
    pub exploit_in_kit: bool,
    /// Stored as a JSON list in `exploit_types`.
    pub exploit_types: Vec<String>,
    pub published_on: Option<OffsetDateTime>,
    pub updated_on: Option<OffsetDateTime>,
    pub exposed_machines: Option<i64>,
}

/// One (machine, CVE, product) row (`stage_machine_vulnerability`, then
/// `machine_vulnerability`). A missing product part is stored as empty text: it is part of the
/// key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedMachineVulnerability {
    pub machine_id: String,
    pub cve_id: String,
    pub product_vendor: String,
    pub product_name: String,
    pub product_version: String,
    pub fixing_kb_id: Option<String>,
    pub severity: Option<String>,
}

/// One entry of the vulnerability change feed (`stage_vulnerability_change`): the row it
/// changes, whether the row was fixed (else found or updated), and when Defender says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedVulnerabilityChange {
    pub row: StagedMachineVulnerability,
    pub fixed: bool,
    /// `YYYY-MM-DD HH:MM:SS` as the feed gives it: ordered as text.
    pub event_at: String,
}

/// One alert (`stage_alert`, then `defender_alert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedAlert {
    pub alert_id: String,
    pub machine_id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub classification: Option<String>,
    pub determination: Option<String>,
    pub detection_source: Option<String>,
    pub incident_id: Option<i64>,
    pub alert_creation_time: Option<OffsetDateTime>,
    pub last_update_time: Option<OffsetDateTime>,
    pub resolved_time: Option<OffsetDateTime>,
}

/// One of Defender's machine actions of a kind this console follows (`stage_machine_action`).
/// Ids are lower case, as `machine_action` keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedAction {
    pub defender_action_id: String,
    pub machine_id: String,
    /// `Isolate`, `Unisolate` or `RunAntiVirusScan`.
    pub kind: &'static str,
    pub scope: Option<String>,
    pub requestor: Option<String>,
    pub comment: String,
    pub status: String,
    /// Stored as now when Defender gives no time.
    pub requested_at: Option<OffsetDateTime>,
    /// Defender's last update; stored as the request time when it gives none.
    pub updated_at: Option<OffsetDateTime>,
    pub request_source: Option<String>,
}
