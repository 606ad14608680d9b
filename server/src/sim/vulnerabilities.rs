//! Vulnerability (CVE) records and machine-vulnerability rows (defender-api.md §4.10–4.12,
//! §5.4): storage, JSON writers and `$filter` fields.

use serde_json::{json, Value};

use super::catalog::PRODUCTS;
use super::clock::{iso0, Nanos};
use super::odata::Val;
use super::rng::mix;

/// §5.4 severities.
pub const SEVERITY: [&str; 4] = ["Low", "Medium", "High", "Critical"];
/// §5.4 exploit types, including the undocumented `Remote` seen live.
pub const EXPLOIT_TYPES: [&str; 4] = [
    "Local privilege escalation",
    "Denial of service",
    "Local",
    "Remote",
];
pub const SUPPORTABILITY: [&str; 3] = ["Supported", "NotSupported", "SupportedInPremium"];

/// §4.10 `$filter` fields.
pub const FILTER_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "cvssV3",
    "publishedOn",
    "severity",
    "updatedOn",
];
/// §4.12 `$filter` fields.
pub const ROW_FILTER_FIELDS: &[&str] = &[
    "id",
    "cveId",
    "machineId",
    "fixingKbId",
    "productName",
    "productVersion",
    "severity",
    "productVendor",
];

#[derive(Clone, Debug)]
pub struct Cve {
    pub year: u16,
    pub number: u32,
    pub product: u8,
    pub severity: u8,
    /// CVSS v3 times 10; `None` = no score (§5.4 "treat null defensively").
    pub cvss10: Option<u8>,
    pub published: Nanos,
    pub public_exploit: bool,
    pub exploit_verified: bool,
    pub exploit_in_kit: bool,
    /// Bit set over `EXPLOIT_TYPES`.
    pub exploit_types: u8,
    pub supportability: u8,
    /// `cveSupportability` is served as a one-element array, the "String collection" of the
    /// docs' table, instead of the example's string (§9.21).
    pub supportability_list: bool,
    pub seed: u64,
}

impl Cve {
    pub fn id(&self) -> String {
        format!("CVE-{}-{}", self.year, self.number)
    }

    fn updated(&self) -> Nanos {
        self.published + (mix(self.seed, 1) % 30) as Nanos * 86_400 * 1_000_000_000
    }

    fn cvss(&self) -> Option<f64> {
        self.cvss10.map(|c| f64::from(c) / 10.0)
    }

    fn description(&self) -> String {
        let p = &PRODUCTS[self.product as usize];
        let kind = [
            "Heap overflow",
            "Use-after-free",
            "Improper input validation",
            "Information disclosure",
            "Privilege escalation",
        ][(self.seed % 5) as usize];
        format!(
            "{kind} in {} {} allows an attacker to compromise the host.",
            p.vendor, p.name
        )
    }

    pub fn kb(&self) -> Option<String> {
        PRODUCTS[self.product as usize]
            .kb
            .then(|| format!("50{:05}", mix(self.seed, 2) % 100_000))
    }

    pub fn json(&self, exposed_machines: usize) -> Value {
        let id = self.id();
        let types: Vec<&str> = (0..4)
            .filter(|b| self.exploit_types & (1 << b) != 0)
            .map(|b| EXPLOIT_TYPES[b])
            .collect();
        json!({
            "id": id,
            "name": id,
            "description": self.description(),
            "severity": SEVERITY[self.severity as usize],
            "cvssV3": self.cvss(),
            "cvssVector": self.cvss10.map(|_| "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H"),
            "exposedMachines": exposed_machines,
            "publishedOn": iso0(self.published),
            "updatedOn": iso0(self.updated()),
            "firstDetected": iso0(self.updated()),
            "patchFirstAvailable": (!self.seed.is_multiple_of(4)).then(|| iso0(self.published)),
            "publicExploit": self.public_exploit,
            "exploitVerified": self.exploit_verified,
            "exploitInKit": self.exploit_in_kit,
            "exploitTypes": types,
            "exploitUris": if self.public_exploit { vec![format!("https://exploit-db.example.invalid/{}", 50_000 + self.seed % 9_999)] } else { vec![] },
            "cveSupportability": if self.supportability_list { json!([SUPPORTABILITY[self.supportability as usize]]) } else { json!(SUPPORTABILITY[self.supportability as usize]) },
            "tags": if self.exploit_in_kit { vec!["ZeroDay"] } else { vec![] },
            "epss": (mix(self.seed, 3) % 10_000) as f64 / 10_000.0,
        })
    }

    pub fn field(&self, f: &str) -> Val {
        match f {
            "id" | "name" => Val::Str(self.id()),
            "description" => Val::Str(self.description()),
            "cvssV3" => self.cvss().map_or(Val::Null, Val::Num),
            "publishedOn" => Val::Date(self.published),
            "updatedOn" => Val::Date(self.updated()),
            "severity" => Val::Str(SEVERITY[self.severity as usize].to_owned()),
            _ => Val::Null,
        }
    }
}

/// One `machinesVulnerabilities` row (§4.12), with everything derived from the CVE.
pub struct Row<'a> {
    pub machine_id: &'a str,
    pub cve: &'a Cve,
    pub version: &'static str,
}

impl Row<'_> {
    pub fn id(&self) -> String {
        let p = &PRODUCTS[self.cve.product as usize];
        format!(
            "{}-_-{}-_-{}-_-{}-_-{}-_-{}",
            self.machine_id,
            self.cve.id(),
            p.vendor,
            p.name,
            self.version,
            self.cve.kb().unwrap_or_default()
        )
    }

    pub fn json(&self) -> Value {
        let p = &PRODUCTS[self.cve.product as usize];
        json!({
            "id": self.id(),
            "cveId": self.cve.id(),
            "machineId": self.machine_id,
            "fixingKbId": self.cve.kb(),
            "productName": p.name,
            "productVendor": p.vendor,
            "productVersion": self.version,
            "severity": SEVERITY[self.cve.severity as usize],
        })
    }

    pub fn field(&self, f: &str) -> Val {
        let p = &PRODUCTS[self.cve.product as usize];
        let s = |x: &str| Val::Str(x.to_owned());
        match f {
            "id" => Val::Str(self.id()),
            "cveId" => Val::Str(self.cve.id()),
            "machineId" => s(self.machine_id),
            "fixingKbId" => self.cve.kb().map_or(Val::Null, Val::Str),
            "productName" => s(p.name),
            "productVersion" => s(self.version),
            "severity" => s(SEVERITY[self.cve.severity as usize]),
            "productVendor" => s(p.vendor),
            _ => Val::Null,
        }
    }
}
