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
        assert!(m["rbacGroupId"].is_i64());
        for ip in m["ipAddresses"].as_array().unwrap() {
            match ip["macAddress"].as_str() {
                Some(mac) => assert!(
                    mac.len() == 12
                        && mac
                            .chars()
                            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
                ),
                None => assert_eq!(ip["type"], "SoftwareLoopback"),
            }
        }
    }
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
