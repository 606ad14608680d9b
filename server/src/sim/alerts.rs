//! Alert records (defender-api.md §5.3): compact storage, JSON writer (evidence only with
//! `$expand=evidence`, §3.3; the shapes the docs disagree on, §9.21) and the `$filter`
//! fields of §4.3.

use serde_json::{json, Value};

use super::catalog::{AlertTemplate, ALERT_TEMPLATES};
use super::clock::{iso7, Nanos};
use super::odata::Val;
use super::rng::mix;

/// §5.3 enums.
pub const SEVERITY: [&str; 5] = ["UnSpecified", "Informational", "Low", "Medium", "High"];
pub const STATUS: [&str; 4] = ["Unknown", "New", "InProgress", "Resolved"];
pub const RESOLVED: u8 = 3;
pub const CLASSIFICATION: [&str; 3] = [
    "TruePositive",
    "InformationalExpectedActivity",
    "FalsePositive",
];
/// Determinations valid per classification (same order as `CLASSIFICATION`).
pub const DETERMINATION: [&[&str]; 3] = [
    &[
        "MultiStagedAttack",
        "MaliciousUserActivity",
        "CompromisedUser",
        "Malware",
        "Phishing",
        "UnwantedSoftware",
        "Other",
    ],
    &[
        "SecurityTesting",
        "LineOfBusinessApplication",
        "ConfirmedUserActivity",
        "Other",
    ],
    &["Clean", "InsufficientData", "Other"],
];
pub const INVESTIGATION: [&str; 6] = [
    "Running",
    "SuccessfullyRemediated",
    "Benign",
    "PendingApproval",
    "UnsupportedOs",
    "Queued",
];

/// §4.3 `$filter` fields.
pub const FILTER_FIELDS: &[&str] = &[
    "alertCreationTime",
    "lastUpdateTime",
    "incidentId",
    "investigationId",
    "id",
    "assignedTo",
    "detectionSource",
    "lastEventTime",
    "status",
    "severity",
    "category",
];

/// `relatedUser` is the string `DOMAIN\user` instead of `{userName, domainName}`.
pub const USER_AS_TEXT: u8 = 1 << 0;
/// `mitreTechniques` is one comma-separated string instead of an array.
pub const MITRE_AS_TEXT: u8 = 1 << 1;
/// Timestamps lack the zone suffix (`2026-01-04T21:03:10.7654321`, meant as UTC).
pub const TIMES_WITHOUT_ZONE: u8 = 1 << 2;

#[derive(Clone, Debug)]
pub struct Alert {
    pub machine: u32,
    pub template: u8,
    pub severity: u8,
    pub status: u8,
    /// Index into `CLASSIFICATION` + 1; 0 = null.
    pub classification: u8,
    pub created: Nanos,
    pub incident: u32,
    /// Where this alert takes the other of the two shapes Microsoft's table and examples
    /// give (§9.21): bit set of `USER_AS_TEXT`, `MITRE_AS_TEXT`, `TIMES_WITHOUT_ZONE`.
    pub drift: u8,
    pub seed: u64,
    /// Set when the alert was changed after generation (`SimControl::update_alert`): its
    /// `lastUpdateTime`, which an incremental listing filters on (§4.3).
    pub updated_at: Option<Nanos>,
}

/// Facts about the machine the alert is on, passed in by the caller.
pub struct On<'a> {
    pub machine_id: &'a str,
    pub computer_dns_name: Option<&'a str>,
    pub rbac_group_name: Option<&'a str>,
    pub tenant_id: &'a str,
}

impl Alert {
    pub fn template(&self) -> &'static AlertTemplate {
        &ALERT_TEMPLATES[self.template as usize]
    }

    /// `da638712004455667788_-1423377901`-shaped id (§4.3).
    pub fn id(&self) -> String {
        format!(
            "da{:018}_-{:010}",
            self.seed % 1_000_000_000_000_000_000,
            mix(self.seed, 1) % 2_147_483_647
        )
    }

    fn times(&self) -> (Nanos, Nanos, Nanos) {
        let first = self.created - (mix(self.seed, 2) % 600) as Nanos * 1_000_000_000;
        let last = first + (mix(self.seed, 3) % 300) as Nanos * 1_000_000_000;
        let updated = self.updated_at.unwrap_or_else(|| {
            self.created + (mix(self.seed, 4) % 200_000) as Nanos * 1_000_000_000
        });
        (first, last, updated)
    }

    fn assigned_to(&self) -> Option<String> {
        (self.status != 1 && !self.seed.is_multiple_of(3))
            .then(|| format!("analyst{}@contoso-sim.onmicrosoft.com", self.seed % 7))
    }

    fn determination(&self) -> Option<&'static str> {
        let c = self.classification.checked_sub(1)? as usize;
        let d = DETERMINATION[c];
        Some(d[(mix(self.seed, 5) % d.len() as u64) as usize])
    }

    fn investigation_id(&self) -> Option<u64> {
        (!self.seed.is_multiple_of(4)).then(|| 800_000 + self.seed % 200_000)
    }

    fn related_user(&self) -> Value {
        if self.seed % 3 == 2 {
            return Value::Null;
        }
        let user = format!("user{}", self.seed % 50);
        if self.drift & USER_AS_TEXT != 0 {
            json!(format!("CONTOSO\\{user}"))
        } else {
            json!({"userName": user, "domainName": "CONTOSO"})
        }
    }

    fn mitre(&self) -> Value {
        let m = self.template().mitre;
        if self.drift & MITRE_AS_TEXT != 0 {
            json!(m.join(","))
        } else {
            json!(m)
        }
    }

    pub fn json(&self, on: &On<'_>, expand_evidence: bool) -> Value {
        let t = self.template();
        let (first, last, updated) = self.times();
        let resolved = self.status == RESOLVED;
        let time = |n: Nanos| {
            let s = iso7(n);
            if self.drift & TIMES_WITHOUT_ZONE != 0 {
                s.trim_end_matches('Z').to_owned()
            } else {
                s
            }
        };
        json!({
            "id": self.id(),
            "incidentId": self.incident,
            "investigationId": self.investigation_id(),
            "assignedTo": self.assigned_to(),
            "severity": SEVERITY[self.severity as usize],
            "status": STATUS[self.status as usize],
            "classification": self.classification.checked_sub(1).map(|c| CLASSIFICATION[c as usize]),
            "determination": self.determination(),
            "investigationState": self.investigation_id().map(|_| INVESTIGATION[(self.seed % 6) as usize]),
            "detectionSource": t.detection_source,
            "detectorId": format!("3f2c6d1e-9a8b-4c7d-b6e5-{:012x}", u64::from(self.template) * 7919),
            "category": t.category,
            "threatFamilyName": t.threat_family,
            "threatName": t.threat_family.map(|f| format!("Trojan:Win32/{f}.A")),
            "title": t.title,
            "description": format!("{}. Review the device timeline around the first event.", t.title),
            "alertCreationTime": time(self.created),
            "firstEventTime": time(first),
            "lastEventTime": time(last),
            "lastUpdateTime": time(updated),
            // Only Resolved alerts carry a resolvedTime (§11.17).
            "resolvedTime": resolved.then(|| time(updated)),
            "machineId": on.machine_id,
            "computerDnsName": on.computer_dns_name,
            "rbacGroupName": on.rbac_group_name,
            "aadTenantId": on.tenant_id,
            "mitreTechniques": self.mitre(),
            "relatedUser": self.related_user(),
            "comments": if self.seed.is_multiple_of(5) { json!([{"comment": "Looking into it", "createdBy": "analyst1@contoso-sim.onmicrosoft.com", "createdTime": iso7(updated)}]) } else { json!([]) },
            "evidence": if expand_evidence { self.evidence(on, first) } else { json!([]) },
        })
    }

    fn evidence(&self, on: &On<'_>, at: Nanos) -> Value {
        let sha1 = format!(
            "{:016x}{:016x}{:08x}",
            mix(self.seed, 8),
            mix(self.seed, 9),
            mix(self.seed, 10) as u32
        );
        json!([
            {"entityType": "Process", "evidenceCreationTime": iso7(at), "sha1": sha1, "sha256": null,
             "fileName": "powershell.exe", "filePath": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
             "processId": self.seed % 30_000, "processCommandLine": "powershell.exe -enc SQBFAFgA",
             "processCreationTime": iso7(at), "parentProcessId": self.seed % 20_000,
             "parentProcessCreationTime": iso7(at), "parentProcessFileName": "cmd.exe",
             "parentProcessFilePath": "C:\\Windows\\System32", "ipAddress": null, "url": null,
             "registryKey": null, "registryHive": null, "registryValueType": null, "registryValue": null,
             "accountName": null, "domainName": null, "userSid": null, "aadUserId": null,
             "userPrincipalName": null, "detectionStatus": "Detected"},
            {"entityType": "User", "evidenceCreationTime": iso7(at), "sha1": null, "sha256": null,
             "fileName": null, "filePath": null, "processId": null, "processCommandLine": null,
             "processCreationTime": null, "parentProcessId": null, "parentProcessCreationTime": null,
             "parentProcessFileName": null, "parentProcessFilePath": null, "ipAddress": null, "url": null,
             "registryKey": null, "registryHive": null, "registryValueType": null, "registryValue": null,
             "accountName": format!("user{}", self.seed % 50), "domainName": "CONTOSO",
             "userSid": format!("S-1-5-21-1004336348-1177238915-682003330-{}", 1000 + self.seed % 50),
             "aadUserId": null, "userPrincipalName": format!("user{}@contoso-sim.test", self.seed % 50),
             "detectionStatus": null},
            {"entityType": "Ip", "evidenceCreationTime": iso7(at), "ipAddress": format!("203.0.113.{}", self.seed % 250 + 1),
             "detectionStatus": null, "machineId": on.machine_id}
        ])
    }

    pub fn field(&self, f: &str) -> Val {
        let t = self.template();
        let (_, last, updated) = self.times();
        let s = |x: &str| Val::Str(x.to_owned());
        match f {
            "alertCreationTime" => Val::Date(self.created),
            "lastUpdateTime" => Val::Date(updated),
            "lastEventTime" => Val::Date(last),
            "incidentId" => Val::Num(f64::from(self.incident)),
            "investigationId" => self
                .investigation_id()
                .map_or(Val::Null, |i| Val::Num(i as f64)),
            "id" => Val::Str(self.id()),
            "assignedTo" => self.assigned_to().map_or(Val::Null, Val::Str),
            "detectionSource" => s(t.detection_source),
            "status" => s(STATUS[self.status as usize]),
            "severity" => s(SEVERITY[self.severity as usize]),
            "category" => s(t.category),
            _ => Val::Null,
        }
    }

    /// Non-resolved alerts count towards risk (§10).
    pub fn active(&self) -> bool {
        self.status != RESOLVED
    }
}
