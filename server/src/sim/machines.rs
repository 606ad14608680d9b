//! Machine records (defender-api.md §5.1, §5.2): compact storage, the network adapters a
//! machine reports, the JSON writer and the `$filter` fields of §4.1. Strings are derived on
//! the fly from stored indices.

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

/// Adapters besides the primary Ethernet NIC and the ordinary Wi-Fi, as bits of
/// [`Machine::extras`]. They are what makes MACs and addresses repeat across distinct
/// machines (§5.2, §9.20); none of them is on the LAN a scan sees.
pub const VPN_ANYCONNECT: u8 = 1 << 0;
/// RAS/PPP VPN: `type` `Ppp`, no MAC.
pub const VPN_PPP: u8 = 1 << 1;
/// Teredo: `type` `Tunnel`, no MAC.
pub const TUNNEL_TEREDO: u8 = 1 << 2;
/// ISATAP: `type` `Tunnel`, an all-zero MAC.
pub const TUNNEL_ISATAP: u8 = 1 << 3;
/// docker0: a locally administered MAC and the same address on every host.
pub const DOCKER_BRIDGE: u8 = 1 << 4;
/// A USB Wi-Fi dongle that was removed: still listed, `operationalStatus` `NotPresent`.
pub const WIFI_NOT_PRESENT: u8 = 1 << 5;

/// The MAC every Cisco AnyConnect virtual adapter reports, on whichever machine (§9.20).
pub const ANYCONNECT_MAC: &str = "00059A3C7A00";
/// docker0's address, identical on every Docker host (§9.20).
pub const DOCKER_BRIDGE_IP: &str = "172.17.0.1";
/// What a tunnel adapter without a hardware address may report instead of null.
pub const ZERO_MAC: &str = "000000000000";
/// VMware's OUI, the vendor of cloned on-premises VMs.
pub const VMWARE_OUI: u64 = 0x00_50_56;
/// Hyper-V's OUI.
pub const HYPER_V_OUI: u64 = 0x00_15_5D;
/// `computerDnsName` of the cloned-VM fixtures (machines 10 and 11).
pub const CLONE_TEMPLATE_NAME: &str = "tmpl-srv-clone";

/// Where a machine's `computerDnsName` comes from (names are not identities, §9.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// Built from department, OS and position.
    Generated,
    /// A Linux host that never got a hostname.
    Localhost,
    /// The template name cloned VMs keep when nobody renames them.
    CloneTemplate,
}

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

/// One `ipAddresses` entry as served (§5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nic {
    pub ip: String,
    /// 12 upper-case hex digits; `None` is served as null.
    pub mac: Option<String>,
    /// `type`, e.g. `Ethernet`, `Wireless80211`, `Ppp`, `Tunnel`, `SoftwareLoopback`.
    pub kind: &'static str,
    /// `operationalStatus`, e.g. `Up`, `Down`, `NotPresent`.
    pub status: &'static str,
}

impl Nic {
    fn new(ip: String, mac: Option<&str>, kind: &'static str, status: &'static str) -> Self {
        Self {
            ip,
            mac: mac.map(str::to_owned),
            kind,
            status,
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "ipAddress": self.ip,
            "macAddress": self.mac,
            "type": self.kind,
            "operationalStatus": self.status,
        })
    }
}

/// One device record, ~100 bytes so 100,000 of them stay small.
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
    /// Primary IPv4 (`lastIpAddress` unless `no_last_ip`), host order; unique per machine.
    pub ip: u32,
    /// Primary NIC MAC (low 48 bits); shared by the two halves of a cloned VM.
    pub mac: u64,
    /// `lastIpAddress` is null although the machine has an address (§5.1).
    pub no_last_ip: bool,
    pub first_seen: Nanos,
    pub last_seen: Nanos,
    pub duplicate: bool,
    /// Live record this stale one was merged into (`mergedIntoMachineId`, §9.3).
    pub merged_into: Option<u32>,
    pub wifi: bool,
    /// Bit set of `VPN_ANYCONNECT`, `VPN_PPP`, `TUNNEL_*`, `DOCKER_BRIDGE`, `WIFI_NOT_PRESENT`.
    pub extras: u8,
    pub label: Label,
    /// `rbacGroupId` is served as a numeric string, as the machine table types it (§9.21).
    pub rbac_text: bool,
    /// Live record a stale re-image duplicate shares its name with (§9.3).
    pub twin_of: Option<u32>,
    /// Machine this one was cloned from: a distinct live device with the same name and
    /// primary MAC (§9.19, §9.20).
    pub clone_of: Option<u32>,
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

/// A bijection on u32 (Chris Wellons' lowbias32), so values derived from unique addresses
/// stay unique but look random.
fn scramble(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
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

    /// Primary NIC MAC: 12 upper-case hex digits (§5.2).
    pub fn mac(&self) -> String {
        format!("{:012X}", self.mac)
    }

    /// The primary MAC a device of this type reports: vendor OUI by device type.
    pub fn vendor_mac(&self) -> u64 {
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
        let oui = u64::from_str_radix(oui, 16).unwrap_or(0);
        oui << 24 | (mix(self.seed, 1) & 0xFF_FFFF)
    }

    /// `lastIpAddress` as served.
    pub fn last_ip(&self) -> Option<String> {
        (!self.no_last_ip).then(|| ipv4(self.ip))
    }

    /// Whether `ipAddresses` is non-empty: always for onboarded devices, for half of the
    /// discovered ones.
    fn lists_nics(&self) -> bool {
        self.os_known() || self.seed.is_multiple_of(2)
    }

    /// Whether Defender reports any address for this machine at all.
    pub fn reports_address(&self) -> bool {
        !self.no_last_ip || self.lists_nics()
    }

    /// Position in the generated list, recovered from the unique primary address.
    fn ordinal(&self) -> u32 {
        let [_, b, c, d] = self.ip.to_be_bytes();
        ((u32::from(b) - 8) * 256 + u32::from(c)) * 250 + u32::from(d) - 2
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
            "lastIpAddress": self.last_ip(),
            "lastExternalIpAddress": known.then(|| format!("198.51.100.{}", self.seed % 250 + 1)),
            "agentVersion": self.agent_version(),
            "healthStatus": HEALTH[self.health as usize],
            "onboardingStatus": ONBOARDING[self.onboarding as usize],
            "deviceValue": DEVICE_VALUE[self.value as usize],
            "rbacGroupId": if self.rbac_text { json!(rbac_id.to_string()) } else { json!(rbac_id) },
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
        // A VMware MAC means an on-premises VM, not an Azure one.
        let vmware = self.mac >> 24 == VMWARE_OUI;
        if !self.os_known()
            || vmware
            || self.family() != Family::WindowsServer
            || self.seed % 3 != 1
        {
            return Value::Null;
        }
        json!({
            "vmId": guid(mix(self.seed, 6), mix(self.seed, 7)),
            "cloudProvider": "Azure",
            "resourceId": format!("/subscriptions/{}/resourceGroups/rg-servers/providers/Microsoft.Compute/virtualMachines/vm{}", guid(1, 2), self.seed % 1000),
            "subscriptionId": guid(1, 2),
        })
    }

    /// Multi-NIC list (§5.2): the primary Ethernet first; the MAC repeats per address on a
    /// NIC; loopbacks, PPP and Teredo have a null MAC.
    pub fn nics(&self) -> Vec<Nic> {
        let mac = self.mac();
        let eth = |ip: String| Nic::new(ip, Some(&mac), "Ethernet", "Up");
        if !self.os_known() {
            return if self.lists_nics() {
                vec![eth(ipv4(self.ip))]
            } else {
                Vec::new()
            };
        }
        let mut v = vec![
            eth(ipv4(self.ip)),
            eth(format!(
                "fe80::{:x}:{:x}",
                self.seed & 0xffff,
                (self.seed >> 16) & 0xffff
            )),
        ];
        if self.wifi {
            let status = if self.seed.is_multiple_of(2) {
                "Up"
            } else {
                "Down"
            };
            let wifi_mac = self.wifi_mac();
            v.push(Nic::new(
                self.wifi_ip(),
                Some(&wifi_mac),
                "Wireless80211",
                status,
            ));
        }
        let has = |bit: u8| self.extras & bit != 0;
        if has(WIFI_NOT_PRESENT) {
            // The dongle's last self-assigned address; TP-Link OUI.
            let x = mix(self.seed, 23);
            let dongle = format!("50C7BF{:06X}", x >> 16 & 0xFF_FFFF);
            let ip = format!("169.254.{}.{}", x % 254 + 1, (x >> 8) % 254 + 1);
            v.push(Nic::new(ip, Some(&dongle), "Wireless80211", "NotPresent"));
        }
        if has(VPN_ANYCONNECT) {
            // A pool well above the addresses the LAN scan's unknown devices use.
            let o = self.ordinal();
            let ip = format!("10.200.{}.{}", 128 + (o / 254) % 128, o % 254 + 1);
            v.push(Nic::new(ip, Some(ANYCONNECT_MAC), "Ethernet", "Up"));
            let x = mix(self.seed, 24);
            let ll = format!("fe80::205:9aff:fe3c:{:x}", x & 0xffff);
            v.push(Nic::new(ll, Some(ANYCONNECT_MAC), "Ethernet", "Up"));
        }
        if has(VPN_PPP) {
            let x = mix(self.seed, 22);
            let ip = format!("172.31.{}.{}", x % 250, (x >> 8) % 250 + 2);
            v.push(Nic::new(ip, None, "Ppp", "Up"));
        }
        if has(DOCKER_BRIDGE) {
            let docker = format!("0242{:08X}", scramble(self.ip));
            v.push(Nic::new(
                DOCKER_BRIDGE_IP.to_owned(),
                Some(&docker),
                "Ethernet",
                "Up",
            ));
        }
        if has(TUNNEL_TEREDO) {
            let x = mix(self.seed, 21);
            let ip = format!(
                "2001:0:4137:9e76:{:x}:{:x}:{:x}:{:x}",
                x & 0xffff,
                (x >> 16) & 0xffff,
                (x >> 32) & 0xffff,
                (x >> 48) & 0xffff
            );
            v.push(Nic::new(ip, None, "Tunnel", "Up"));
        }
        if has(TUNNEL_ISATAP) {
            let ip = format!("fe80::5efe:{}", ipv4(self.ip));
            v.push(Nic::new(ip, Some(ZERO_MAC), "Tunnel", "Down"));
        }
        let lo = |ip: &str| Nic::new(ip.to_owned(), None, "SoftwareLoopback", "Up");
        v.push(lo("127.0.0.1"));
        v.push(lo("::1"));
        v
    }

    pub fn ip_addresses(&self) -> Value {
        Value::Array(self.nics().iter().map(Nic::json).collect())
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
            "lastIpAddress" => self.last_ip().map_or(Val::Null, Val::Str),
            "healthStatus" => s(Some(HEALTH[self.health as usize])),
            "osPlatform" => s(self.reported_platform()),
            "riskScore" => s(Some(RISK[self.risk as usize])),
            "rbacGroupId" => Val::Num(self.rbac_group().0 as f64),
            _ => Val::Null,
        }
    }
}
