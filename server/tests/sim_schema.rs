//! Field names of every entity the simulator serves, checked against defender-api.md §4–§5
//! so a misspelt property in the simulator's own writers is caught here.

#[path = "support/sim.rs"]
mod support;

use std::collections::BTreeSet;

use serde_json::{json, Value};
use support::*;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with('@'))
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

const MACHINE: &[&str] = &[
    "id",
    "computerDnsName",
    "firstSeen",
    "lastSeen",
    "osPlatform",
    "osVersion",
    "osProcessor",
    "version",
    "osBuild",
    "lastIpAddress",
    "lastExternalIpAddress",
    "agentVersion",
    "healthStatus",
    "onboardingStatus",
    "deviceValue",
    "rbacGroupId",
    "rbacGroupName",
    "riskScore",
    "exposureLevel",
    "isAadJoined",
    "aadDeviceId",
    "machineTags",
    "defenderAvStatus",
    "osArchitecture",
    "managedBy",
    "managedByStatus",
    "mergedIntoMachineId",
    "isPotentialDuplication",
    "isExcluded",
    "exclusionReason",
    "ipAddresses",
    "vmMetadata",
];
const ALERT: &[&str] = &[
    "id",
    "incidentId",
    "investigationId",
    "assignedTo",
    "severity",
    "status",
    "classification",
    "determination",
    "investigationState",
    "detectionSource",
    "detectorId",
    "category",
    "threatFamilyName",
    "threatName",
    "title",
    "description",
    "alertCreationTime",
    "firstEventTime",
    "lastEventTime",
    "lastUpdateTime",
    "resolvedTime",
    "machineId",
    "computerDnsName",
    "rbacGroupName",
    "aadTenantId",
    "mitreTechniques",
    "relatedUser",
    "comments",
    "evidence",
];
const VULNERABILITY: &[&str] = &[
    "id",
    "name",
    "description",
    "severity",
    "cvssV3",
    "cvssVector",
    "exposedMachines",
    "publishedOn",
    "updatedOn",
    "firstDetected",
    "patchFirstAvailable",
    "publicExploit",
    "exploitVerified",
    "exploitInKit",
    "exploitTypes",
    "exploitUris",
    "cveSupportability",
    "tags",
    "epss",
];
const ROW: &[&str] = &[
    "id",
    "cveId",
    "machineId",
    "fixingKbId",
    "productName",
    "productVendor",
    "productVersion",
    "severity",
];
const ACTION: &[&str] = &[
    "id",
    "type",
    "title",
    "requestor",
    "requestorComment",
    "status",
    "machineId",
    "computerDnsName",
    "creationDateTimeUtc",
    "lastUpdateDateTimeUtc",
    "cancellationRequestor",
    "cancellationComment",
    "cancellationDateTimeUtc",
    "errorHResult",
    "scope",
    "externalId",
    "requestSource",
    "relatedFileInfo",
    "commands",
    "troubleshootInfo",
];
const SOFTWARE: &[&str] = &[
    "id",
    "name",
    "vendor",
    "weaknesses",
    "publicExploit",
    "activeAlert",
    "exposedMachines",
    "impactScore",
];

#[tokio::test]
async fn entity_field_names_match_the_reference() {
    let s = start_small(40).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let machines = get_json(&format!("{base}/api/machines?$top=40"), &tok).await;
    for m in machines["value"].as_array().unwrap() {
        assert_eq!(keys(m), set(MACHINE));
        for ip in m["ipAddresses"].as_array().unwrap() {
            assert_eq!(
                keys(ip),
                set(&["ipAddress", "macAddress", "type", "operationalStatus"])
            );
        }
    }
    let alerts = get_json(&format!("{base}/api/alerts?$top=50"), &tok).await;
    for a in alerts["value"].as_array().unwrap() {
        assert_eq!(keys(a), set(ALERT));
    }
    let vulns = get_json(&format!("{base}/api/vulnerabilities?$top=50"), &tok).await;
    for v in vulns["value"].as_array().unwrap() {
        assert_eq!(keys(v), set(VULNERABILITY));
    }
    let rows = get_json(
        &format!("{base}/api/vulnerabilities/machinesVulnerabilities?$top=50"),
        &tok,
    )
    .await;
    for r in rows["value"].as_array().unwrap() {
        assert_eq!(keys(r), set(ROW));
    }
    let m0 = s.control().machine(0).unwrap();
    let (_, action) = post_json(
        &format!("{base}/api/machines/{}/runAntiVirusScan", m0.id),
        &tok,
        json!({"Comment": "schema", "ScanType": "Quick"}),
    )
    .await;
    assert_eq!(keys(&action), set(ACTION));
    let sw = get_json(&format!("{base}/api/Software?$top=5"), &tok).await;
    for x in sw["value"].as_array().unwrap() {
        assert_eq!(keys(x), set(SOFTWARE));
    }
    let refs = get_json(
        &format!(
            "{base}/api/Software/{}/machineReferences?$top=5",
            sw["value"][0]["id"].as_str().unwrap()
        ),
        &tok,
    )
    .await;
    for r in refs["value"].as_array().unwrap() {
        assert_eq!(
            keys(r),
            set(&[
                "id",
                "computerDnsName",
                "osPlatform",
                "rbacGroupName",
                "rbacGroupId"
            ])
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn value_shapes_follow_the_reference() {
    let s = start_small(60).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let all = get_json(&format!("{base}/api/machines?$top=60"), &tok).await;
    let ms = all["value"].as_array().unwrap();
    for m in ms {
        let id = m["id"].as_str().unwrap();
        assert!(
            id.len() == 40
                && id
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(m["lastSeen"].as_str().unwrap().ends_with('Z'));
        // A number as in the docs' example, or the numeric string of their table (§9.21).
        let rbac = &m["rbacGroupId"];
        assert!(
            rbac.is_i64() || rbac.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
            "{rbac}"
        );
        for ip in m["ipAddresses"].as_array().unwrap() {
            match ip["macAddress"].as_str() {
                Some(mac) => assert!(
                    mac.len() == 12
                        && mac
                            .chars()
                            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
                ),
                None => assert!(
                    ["SoftwareLoopback", "Ppp", "Tunnel"].contains(&ip["type"].as_str().unwrap()),
                    "{ip}"
                ),
            }
        }
    }
    let text_rbac: Vec<usize> = ms
        .iter()
        .enumerate()
        .filter(|(_, m)| m["rbacGroupId"].is_string())
        .map(|(i, _)| i)
        .collect();
    assert!(
        text_rbac.contains(&13) && text_rbac.iter().all(|i| *i >= 10),
        "{text_rbac:?}"
    );
    let statuses: BTreeSet<&str> = ms
        .iter()
        .map(|m| m["onboardingStatus"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 4, "{statuses:?}");
    assert!(ms.iter().any(|m| m["osPlatform"].is_null()));
    assert!(ms.iter().any(|m| m["isPotentialDuplication"] == true));
    assert!(ms
        .iter()
        .any(|m| m["rbacGroupId"] == 0 && m["rbacGroupName"].is_null()));
    let a = get_json(&format!("{base}/api/alerts?$top=1"), &tok).await;
    assert!(a["value"][0]["incidentId"].is_u64());
    let v = get_json(&format!("{base}/api/vulnerabilities?$top=8000"), &tok).await;
    let vs = v["value"].as_array().unwrap();
    let sev: BTreeSet<&str> = vs.iter().map(|x| x["severity"].as_str().unwrap()).collect();
    assert_eq!(
        sev,
        ["Critical", "High", "Low", "Medium"].into_iter().collect()
    );
    assert!(vs
        .iter()
        .all(|x| x["exposedMachines"].as_u64().unwrap() >= 1));
    s.shutdown().await;
}

#[tokio::test]
async fn accessors_match_what_is_served() {
    let s = start_small(300).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let served = get_json(&format!("{base}/api/machines?$top=300"), &tok).await;
    let served = served["value"].as_array().unwrap();
    let infos = s.control().machines();
    assert_eq!(served.len(), infos.len());
    for (m, info) in served.iter().zip(&infos) {
        assert_eq!(m["id"], info.id.as_str());
        assert_eq!(m["lastIpAddress"].as_str(), info.last_ip_address.as_deref());
        let adapters: Vec<Value> = info
            .adapters
            .iter()
            .map(|a| {
                json!({"ipAddress": a.ip_address, "macAddress": a.mac_address,
                       "type": a.adapter_type, "operationalStatus": a.operational_status})
            })
            .collect();
        assert_eq!(m["ipAddresses"], Value::Array(adapters), "{}", info.id);
        let rbac = if info.rbac_group_id_is_string {
            json!(info.rbac_group_id.to_string())
        } else {
            json!(info.rbac_group_id)
        };
        assert_eq!(m["rbacGroupId"], rbac);
        assert_eq!(info.duplicate_of.is_some(), info.is_potential_duplication);
    }
    let c = s.control();
    let (ten, eleven) = (c.machine(10).unwrap(), c.machine(11).unwrap());
    assert_eq!(ten.computer_dns_name.as_deref(), Some("tmpl-srv-clone"));
    assert_eq!(eleven.computer_dns_name, ten.computer_dns_name);
    assert_eq!(eleven.mac_address, ten.mac_address);
    assert_eq!(&ten.mac_address[..6], "005056");
    assert_ne!(eleven.last_ip_address, ten.last_ip_address);
    assert_eq!(eleven.clone_of.as_deref(), Some(ten.id.as_str()));
    assert_eq!(
        c.machine(7).unwrap().duplicate_of,
        Some(c.machine(0).unwrap().id)
    );
    assert_eq!(c.machine(15).unwrap().last_ip_address, None);
    assert_eq!(
        c.machine(14).unwrap().computer_dns_name.as_deref(),
        Some("localhost")
    );
    let vpn: Vec<String> = infos
        .iter()
        .filter(|m| {
            m.adapters
                .iter()
                .any(|a| a.mac_address.as_deref() == Some("00059A3C7A00"))
        })
        .map(|m| m.id.clone())
        .collect();
    assert!(vpn.contains(&c.machine(12).unwrap().id) && vpn.contains(&c.machine(13).unwrap().id));
    // The same names on distinct live devices: none of them is a potential duplicate.
    for name in ["localhost", "tmpl-srv-clone", "Cisco IP Phone 8845"] {
        let same: Vec<&Value> = served
            .iter()
            .filter(|m| m["computerDnsName"] == name)
            .collect();
        assert!(same.len() >= 2, "{name}");
        assert!(
            same.iter().all(|m| m["isPotentialDuplication"] == false),
            "{name}"
        );
    }
    s.shutdown().await;
}
