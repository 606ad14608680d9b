//! Where Defender's wire types stop: each listed item becomes the row `db::sync_stage` stores
//! (`db::staged_rows`), taken by value so its text moves rather than being copied. The fetch
//! converts page by page as the pages arrive, so no more than one page is held at a time.

use crate::db::staged_rows::{
    StagedAction, StagedAddress, StagedAlert, StagedMachine, StagedMachineVulnerability,
    StagedVulnerability, StagedVulnerabilityChange,
};
use crate::defender::model::alert::Alert;
use crate::defender::model::machine::{IpAddress, Machine};
use crate::defender::model::vulnerability::{MachineVulnerability, Vulnerability};
use crate::defender::model::{
    ChangeStatus, MachineAction, MachineActionStatus, MachineActionType, MachineVulnerabilityChange,
};

/// A tolerant enum's value by its documented name (or the undocumented text as sent).
macro_rules! name {
    ($value:expr) => {
        $value.as_ref().map(|s| s.as_str().to_owned())
    };
}

/// A machine record (§4.1, §5.1).
pub fn machine(m: Machine) -> StagedMachine {
    StagedMachine {
        onboarding_status: name!(m.onboarding_status),
        health_status: name!(m.health_status),
        risk_score: name!(m.risk_score),
        exposure_level: name!(m.exposure_level),
        device_value: name!(m.device_value),
        machine_id: m.id,
        computer_dns_name: m.computer_dns_name,
        os_platform: m.os_platform,
        os_version: m.os_version,
        version: m.version,
        os_build: m.os_build,
        last_ip_address: m.last_ip_address,
        first_seen: m.first_seen,
        last_seen: m.last_seen,
        is_potential_duplication: m.is_potential_duplication.unwrap_or(false),
        merged_into_machine_id: m.merged_into_machine_id,
        ip_addresses: m.ip_addresses.into_iter().map(address).collect(),
        agent_version: m.agent_version,
        rbac_group_id: m.rbac_group_id,
        rbac_group_name: m.rbac_group_name.filter(|n| !n.trim().is_empty()),
        machine_tags: tags(m.machine_tags),
    }
}

/// A machine's tags as shown and filtered on: trimmed, without empty ones or repeats (Defender
/// keeps what each tool wrote, and tags differ only in case as often as not).
fn tags(listed: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for tag in listed {
        let tag = tag.trim();
        if !tag.is_empty() && !kept.iter().any(|k| k.eq_ignore_ascii_case(tag)) {
            kept.push(tag.to_owned());
        }
    }
    kept
}

/// One `ipAddresses` entry (§5.2).
fn address(a: IpAddress) -> StagedAddress {
    StagedAddress {
        ip_address: a.ip_address,
        mac_address: a.mac_address,
        kind: a.kind,
        operational_status: a.operational_status,
    }
}

/// A CVE of the tenant (§4.10, §5.4).
pub fn vulnerability(v: Vulnerability) -> StagedVulnerability {
    StagedVulnerability {
        severity: name!(v.severity),
        cve_id: v.id,
        name: v.name,
        description: v.description,
        cvss_v3: v.cvss_v3,
        cvss_vector: v.cvss_vector,
        public_exploit: v.public_exploit,
        exploit_verified: v.exploit_verified,
        exploit_in_kit: v.exploit_in_kit,
        exploit_types: v.exploit_types,
        published_on: v.published_on,
        updated_on: v.updated_on,
        exposed_machines: v.exposed_machines,
    }
}

/// A bulk machine-vulnerability row (§4.12); `None` for a row without a machine or CVE id,
/// which identifies nothing.
pub fn machine_vulnerability(r: MachineVulnerability) -> Option<StagedMachineVulnerability> {
    Some(StagedMachineVulnerability {
        severity: name!(r.severity),
        machine_id: r.machine_id?,
        cve_id: r.cve_id?,
        product_vendor: r.product_vendor.unwrap_or_default(),
        product_name: r.product_name.unwrap_or_default(),
        product_version: r.product_version.unwrap_or_default(),
        fixing_kb_id: r.fixing_kb_id,
    })
}

/// An entry of the vulnerability change feed (§4.13). Entries of "software present, no CVE"
/// rows (no `cveId`) are not vulnerabilities and are left out, as are entries with a status
/// the feed does not document: a change nobody can read is not applied as a guess.
pub fn vulnerability_change(c: MachineVulnerabilityChange) -> Option<StagedVulnerabilityChange> {
    let fixed = match c.status? {
        ChangeStatus::Fixed => true,
        ChangeStatus::New | ChangeStatus::Updated => false,
        ChangeStatus::Other(status) => {
            tracing::warn!(entry = %c.id, %status, "vulnerability change with an unknown status; left out");
            return None;
        }
    };
    Some(StagedVulnerabilityChange {
        row: StagedMachineVulnerability {
            severity: name!(c.severity),
            machine_id: c.device_id?,
            cve_id: c.cve_id?,
            product_vendor: c.software_vendor.unwrap_or_default(),
            product_name: c.software_name.unwrap_or_default(),
            product_version: c.software_version.unwrap_or_default(),
            fixing_kb_id: c.recommended_security_update_id,
        },
        fixed,
        event_at: c.event_timestamp.unwrap_or_default(),
    })
}

/// An alert (§4.3, §5.3).
pub fn alert(a: Alert) -> StagedAlert {
    StagedAlert {
        severity: name!(a.severity),
        status: name!(a.status),
        classification: name!(a.classification),
        determination: name!(a.determination),
        alert_id: a.id,
        machine_id: a.machine_id,
        title: a.title,
        description: a.description,
        category: a.category,
        detection_source: a.detection_source,
        incident_id: a.incident_id,
        alert_creation_time: a.alert_creation_time,
        last_update_time: a.last_update_time,
        resolved_time: a.resolved_time,
    }
}

/// A machine action (§4.4, §5.5) of the three kinds this console follows, with a status it
/// understands; `None` otherwise (an undocumented status waits for a later listing).
pub fn machine_action(a: MachineAction) -> Option<StagedAction> {
    let machine_id = a.machine_id.as_deref()?.to_ascii_lowercase();
    let kind = action_kind(a.action_type.as_ref()?)?;
    let status = a
        .status
        .as_ref()
        .filter(|s| !matches!(s, MachineActionStatus::Other(_)))?
        .as_str()
        .to_owned();
    Some(StagedAction {
        defender_action_id: a.id.to_ascii_lowercase(),
        machine_id,
        kind,
        status,
        scope: a.scope,
        requestor: a.requestor,
        comment: a.requestor_comment.unwrap_or_default(),
        requested_at: a.creation_date_time_utc,
        updated_at: a.last_update_date_time_utc,
        request_source: a.request_source,
    })
}

/// The three kinds this console follows, by Defender's `type` name.
fn action_kind(kind: &MachineActionType) -> Option<&'static str> {
    match kind {
        MachineActionType::Isolate => Some("Isolate"),
        MachineActionType::Unisolate => Some("Unisolate"),
        MachineActionType::RunAntiVirusScan => Some("RunAntiVirusScan"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(kind: &str, status: &str) -> MachineAction {
        serde_json::from_value(serde_json::json!({
            "id": "9C1E-ACTION", "type": kind, "status": status, "machineId": "ABCDEF01",
            "requestorComment": null, "creationDateTimeUtc": "2026-01-04T21:03:10Z"
        }))
        .unwrap()
    }

    #[test]
    fn machines_keep_their_stored_fields_and_address_shape() {
        let m: Machine = serde_json::from_value(serde_json::json!({
            "id": "m1", "healthStatus": "active", "onboardingStatus": "Onboarded",
            "isPotentialDuplication": null,
            "ipAddresses": [{"ipAddress": "10.0.0.1", "macAddress": "00155DA1B2C3",
                             "type": "Ethernet", "operationalStatus": "Up"}]
        }))
        .unwrap();
        let wire_ips = serde_json::to_string(&m.ip_addresses).unwrap();
        let row = machine(m);
        assert_eq!(row.machine_id, "m1");
        assert_eq!(row.health_status.as_deref(), Some("Active"));
        assert_eq!(row.onboarding_status.as_deref(), Some("Onboarded"));
        assert!(!row.is_potential_duplication);
        // Stored machines compare this text: it must stay what earlier syncs wrote.
        assert_eq!(serde_json::to_string(&row.ip_addresses).unwrap(), wire_ips);
    }

    #[test]
    fn only_identified_machine_vulnerability_rows_are_staged() {
        let row = |v: serde_json::Value| machine_vulnerability(serde_json::from_value(v).unwrap());
        let staged =
            row(serde_json::json!({"id": "a-_-CVE-1", "machineId": "a", "cveId": "CVE-1"}))
                .unwrap();
        assert_eq!(
            (staged.product_vendor.as_str(), staged.severity),
            ("", None)
        );
        assert_eq!(row(serde_json::json!({"id": "x", "cveId": "CVE-1"})), None);
        assert_eq!(row(serde_json::json!({"id": "x", "machineId": "a"})), None);
    }

    #[test]
    fn actions_of_followed_kinds_and_known_status_are_staged_in_lower_case() {
        let staged = machine_action(action("Isolate", "Pending")).unwrap();
        assert_eq!(staged.defender_action_id, "9c1e-action");
        assert_eq!(staged.machine_id, "abcdef01");
        assert_eq!(
            (staged.kind, staged.status.as_str()),
            ("Isolate", "Pending")
        );
        assert_eq!(staged.comment, "");
        assert_eq!(staged.updated_at, None);
        assert_eq!(machine_action(action("Offboard", "Pending")), None);
        assert_eq!(machine_action(action("Isolate", "Paused")), None);
    }
}
