//! Machine records (defender-api.md §5.1, §5.2): compact storage, the JSON writer and the
//! `$filter` fields of §4.1. Strings are derived on the fly from stored indices.

use serde_json::{json, Value};

use super::catalog::{Family, OsRelease, OS_RELEASES, RBAC_GROUPS};
use super::clock::{iso7, Nanos};
use super::odata::Val;
use super::rng::mix;

/// `onboardingStatus` values (§5.1).
pub const ONBOARDING: [&str; 4] = [
    "Onboarded",
    "CanBeOnboarded",
    "Unsupported",
    "InsufficientInfo",
];
/// `healthStatus` values (§5.1).
pub const HEALTH: [&str; 6] = [
    "Active",
    "Inactive",
    "ImpairedCommunication",
    "NoSensorData",
    "NoSensorDataImpairedCommunication",
    "Unknown",
];
pub const RISK: [&str; 5] = ["None", "Informational", "Low", "Medium", "High"];
pub const EXPOSURE: [&str; 4] = ["None", "Low", "Medium", "High"];
pub const DEVICE_VALUE: [&str; 3] = ["Low", "Normal", "High"];
pub const ONBOARDED: u8 = 0;
pub const INACTIVE: u8 = 1;

/// What kind of box a discovered device is; drives its name and nmap ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gadget {
    Computer,
    Printer,
    Phone,
    Camera,
    Switch,
}

/// §4.1 `$filter` fields.
pub const FILTER_FIELDS: &[&str] = &[
    "computerDnsName",
    "id",
    "version",
    "deviceValue",
    "aadDeviceId",
    "machineTags",
    "lastSeen",
    "exposureLevel",
    "onboardingStatus",
    "lastIpAddress",
    "healthStatus",
    "osPlatform",
    "riskScore",
    "rbacGroupId",
];

/// One device record, ~80 bytes so 100,000 of them stay small.
#[derive(Clone, Debug)]
pub struct Machine {
    pub id: [u8; 20],
    /// Machine whose name this record shares (itself, or the live twin of a stale duplicate).
    pub name_of: u32,
    /// Index into `OS_RELEASES`, or `None` when Defender does not know the OS.
    pub os: Option<u8>,
    pub onboarding: u8,
    pub health: u8,
    pub risk: u8,
    pub exposure: u8,
    pub value: u8,
    pub rbac: u8,
    pub gadget: Gadget,
    /// Primary IPv4 (`lastIpAddress`), host order.
    pub ip: u32,
    pub first_seen: Nanos,
    pub last_seen: Nanos,
    pub duplicate: bool,
    /// Live record this stale one was merged into (`mergedIntoMachineId`, §9.3).
    pub merged_into: Option<u32>,
    pub wifi: bool,
    pub aad: bool,
    /// Bit set over `catalog::PRODUCTS`.
    pub software: u64,
    pub seed: u64,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn ipv4(ip: u32) -> String {
    let [a, b, c, d] = ip.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

fn guid(x: u64, y: u64) -> String {
    let s = format!("{x:016x}{y:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &s[0..8],
        &s[8..12],
        &s[13..16],
        &s[17..20],
        &s[20..32]
    )
}

impl Machine {
    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }

    pub fn release(&self) -> Option<&'static OsRelease> {
        self.os.map(|o| &OS_RELEASES[o as usize])
    }

    pub fn family(&self) -> Family {
        self.release().map_or(Family::Unknown, |r| r.family)
    }

    pub fn onboarded(&self) -> bool {
        self.onboarding == ONBOARDED
    }

    /// OS fields are only reported by the sensor; discovered devices get nulls (§9.5).
    fn os_known(&self) -> bool {
        self.onboarded()
    }

    pub fn platform(&self) -> Option<&'static str> {
        self.release().map(|r| r.platform)
    }

    /// `osPlatform` as served: known for onboarded devices and for half of the
    /// CanBeOnboarded ones (discovery guessed the OS), null otherwise (§9.5).
    pub fn reported_platform(&self) -> Option<&'static str> {
        if self.os_known() || self.onboarding == 1 && self.seed.is_multiple_of(2) {
            self.platform()
        } else {
            None
        }
    }

    pub fn rbac_group(&self) -> (i64, Option<&'static str>) {
        let (id, name, _) = RBAC_GROUPS[self.rbac as usize];
        (id, name)
    }

    /// Primary NIC MAC: 12 upper-case hex digits (§5.2), vendor OUI by device type.
    pub fn mac(&self) -> String {
        let oui = match (self.gadget, self.family()) {
            (Gadget::Printer, _) => ["3CD92B", "008077", "001E8F"][(self.seed % 3) as usize],
            (Gadget::Phone, _) => "001BD4",
            (Gadget::Camera, _) => ["00408C", "4419B6"][(self.seed % 2) as usize],
            (Gadget::Switch, _) => ["00000C", "24A43C"][(self.seed % 2) as usize],
            (_, Family::Mac) => ["F01898", "A4B1C1"][(self.seed % 2) as usize],
            (_, Family::WindowsServer | Family::Linux) if self.seed.is_multiple_of(3) => "005056",
            (_, Family::WindowsServer) => "00155D",
            _ => ["D4BED9", "54EE75", "3024A9"][(self.seed % 3) as usize],
        };
        format!("{oui}{:06X}", mix(self.seed, 1) & 0xFF_FFFF)
    }

    pub fn wifi_mac(&self) -> String {
        format!("A0A8CD{:06X}", mix(self.seed, 2) & 0xFF_FFFF)
    }

    pub fn wifi_ip(&self) -> String {
        let x = mix(self.seed, 3);
        format!("192.168.{}.{}", (x >> 8) % 200 + 10, x % 250 + 2)
    }

    pub fn aad_device_id(&self) -> Option<String> {
        self.aad.then(|| guid(mix(self.seed, 4), mix(self.seed, 5)))
    }

    pub fn tags(&self) -> Vec<String> {
        let mut t = Vec::new();
        if self.onboarded() && self.seed.is_multiple_of(4) {
            t.push(RBAC_GROUPS[self.rbac as usize].2.to_owned());
        }
        if self.value == 2 {
            t.push("crown-jewel".to_owned());
        }
        t
    }

    pub fn agent_version(&self) -> Option<String> {
        let r = self.release().filter(|_| self.os_known())?;
        Some(match r.family {
            Family::Linux | Family::Mac => {
                format!("101.24{:03}.{:04}", self.seed % 100, self.seed % 9000)
            }
            _ => format!(
                "10.8{:03}.{}.{}",
                700 + self.seed % 100,
                r.build.unwrap_or(0),
                self.seed % 5000
            ),
        })
    }

    pub fn json(&self, name: Option<&str>, merged_into: Option<String>) -> Value {
        let (rbac_id, rbac_name) = self.rbac_group();
        let known = self.os_known();
        let rel = self.release();
        let platform = self.reported_platform();
        let arch = rel.filter(|_| known).map(|r| {
            if r.family == Family::Mac && self.seed.is_multiple_of(2) {
                "arm64"
            } else {
                "x64"
            }
        });
        json!({
            "id": self.id_hex(),
            "computerDnsName": name,
            "firstSeen": iso7(self.first_seen),
            "lastSeen": iso7(self.last_seen),
            "osPlatform": platform,
            "osVersion": rel.filter(|r| known && r.family == Family::Linux).and(rel.and_then(|r| r.version)),
            "osProcessor": arch,
            "version": rel.filter(|_| known).and_then(|r| r.version),
            "osBuild": rel.filter(|_| known).and_then(|r| r.build),
            "lastIpAddress": ipv4(self.ip),
            "lastExternalIpAddress": known.then(|| format!("198.51.100.{}", self.seed % 250 + 1)),
            "agentVersion": self.agent_version(),
            "healthStatus": HEALTH[self.health as usize],
            "onboardingStatus": ONBOARDING[self.onboarding as usize],
            "deviceValue": DEVICE_VALUE[self.value as usize],
            "rbacGroupId": rbac_id,
            "rbacGroupName": rbac_name,
            "riskScore": RISK[self.risk as usize],
            "exposureLevel": known.then(|| EXPOSURE[self.exposure as usize]),
            "isAadJoined": self.aad,
            "aadDeviceId": self.aad_device_id(),
            "machineTags": self.tags(),
            "defenderAvStatus": if known { ["Updated", "Updated", "NotUpdated", "Disabled"][(self.seed % 4) as usize] } else { "Unknown" },
            "osArchitecture": arch.map(|a| if a == "x86" { "32-bit" } else { "64-bit" }),
            "managedBy": if known { ["Intune", "MicrosoftDefenderForEndpoint"][(self.seed % 2) as usize] } else { "Unknown" },
            "managedByStatus": if known { "Success" } else { "Unknown" },
            "mergedIntoMachineId": merged_into,
            "isPotentialDuplication": self.duplicate,
            "isExcluded": false,
            "exclusionReason": Value::Null,
            "ipAddresses": self.ip_addresses(),
            "vmMetadata": self.vm_metadata(),
        })
    }

    fn vm_metadata(&self) -> Value {
        if !self.os_known() || self.family() != Family::WindowsServer || self.seed % 3 != 1 {
            return Value::Null;
        }
        json!({
            "vmId": guid(mix(self.seed, 6), mix(self.seed, 7)),
            "cloudProvider": "Azure",
            "resourceId": format!("/subscriptions/{}/resourceGroups/rg-servers/providers/Microsoft.Compute/virtualMachines/vm{}", guid(1, 2), self.seed % 1000),
            "subscriptionId": guid(1, 2),
        })
    }

    /// Multi-NIC list (§5.2): the MAC repeats per address on a NIC; loopbacks have null MAC.
    pub fn ip_addresses(&self) -> Value {
        if !self.os_known() {
            return if self.seed.is_multiple_of(2) {
                json!([{"ipAddress": ipv4(self.ip), "macAddress": self.mac(), "type": "Ethernet", "operationalStatus": "Up"}])
            } else {
                json!([])
            };
        }
        let mac = self.mac();
        let mut v = vec![
            json!({"ipAddress": ipv4(self.ip), "macAddress": mac, "type": "Ethernet", "operationalStatus": "Up"}),
            json!({"ipAddress": format!("fe80::{:x}:{:x}", self.seed & 0xffff, (self.seed >> 16) & 0xffff), "macAddress": mac, "type": "Ethernet", "operationalStatus": "Up"}),
        ];
        if self.wifi {
            v.push(json!({"ipAddress": self.wifi_ip(), "macAddress": self.wifi_mac(), "type": "Wireless80211", "operationalStatus": if self.seed.is_multiple_of(2) { "Up" } else { "Down" }}));
        }
        v.push(json!({"ipAddress": "127.0.0.1", "macAddress": null, "type": "SoftwareLoopback", "operationalStatus": "Up"}));
        v.push(json!({"ipAddress": "::1", "macAddress": null, "type": "SoftwareLoopback", "operationalStatus": "Up"}));
        Value::Array(v)
    }

    pub fn field(&self, name: Option<&str>, f: &str) -> Val {
        let s = |x: Option<&str>| x.map_or(Val::Null, |x| Val::Str(x.to_owned()));
        match f {
            "computerDnsName" => s(name),
            "id" => Val::Str(self.id_hex()),
            "version" => s(self
                .release()
                .filter(|_| self.os_known())
                .and_then(|r| r.version)),
            "deviceValue" => s(Some(DEVICE_VALUE[self.value as usize])),
            "aadDeviceId" => s(self.aad_device_id().as_deref()),
            "machineTags" => Val::List(self.tags()),
            "lastSeen" => Val::Date(self.last_seen),
            "exposureLevel" => s(self.os_known().then(|| EXPOSURE[self.exposure as usize])),
            "onboardingStatus" => s(Some(ONBOARDING[self.onboarding as usize])),
            "lastIpAddress" => Val::Str(ipv4(self.ip)),
            "healthStatus" => s(Some(HEALTH[self.health as usize])),
            "osPlatform" => s(self.reported_platform()),
            "riskScore" => s(Some(RISK[self.risk as usize])),
            "rbacGroupId" => Val::Num(self.rbac_group().0 as f64),
            _ => Val::Null,
        }
    }
}
