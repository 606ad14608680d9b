//! `DeviceInfo` (defender-api.md §4.14): the device's identity attributes, two reports per
//! onboarded machine, as sparse as the real table's: the newer report leaves Model, Vendor and
//! JoinType empty on machine positions `i % 3 == 0`, so a console that takes the latest row
//! as it is loses them. [`authoritative`] is what a console should keep.

use serde_json::{json, Map, Value};

use super::super::catalog::{Family, RBAC_GROUPS};
use super::super::clock::{iso7, SEC};
use super::super::dataset::Dataset;
use super::super::machines::{Machine, HYPER_V_OUI, ONBOARDING, VMWARE_OUI};

pub const COLUMNS: &[(&str, &str)] = &[
    ("Timestamp", "DateTime"),
    ("DeviceId", "String"),
    ("DeviceName", "String"),
    ("ClientVersion", "String"),
    ("PublicIP", "String"),
    ("OSArchitecture", "String"),
    ("OSPlatform", "String"),
    ("OSBuild", "Int64"),
    ("OSVersion", "String"),
    ("IsAzureADJoined", "Boolean"),
    ("JoinType", "String"),
    ("MachineGroup", "String"),
    ("OnboardingStatus", "String"),
    ("DeviceCategory", "String"),
    ("DeviceType", "String"),
    ("Model", "String"),
    ("Vendor", "String"),
];

/// The attributes of a machine: device type, model, vendor, architecture, join type (empty
/// where the device does not say). Model and vendor follow the primary NIC's OUI, so they
/// agree with the MAC the machine record serves (§5.2).
fn attributes(m: &Machine) -> [&'static str; 5] {
    let family = m.family();
    let platform = m.platform().unwrap_or("");
    let linux_server = family == Family::Linux && m.seed.is_multiple_of(2);
    let device_type = match family {
        _ if platform.contains("iOS") || platform.contains("Android") => "Mobile",
        Family::WindowsServer => "Server",
        _ if linux_server => "Server",
        _ => "Workstation",
    };
    let (model, vendor) = match (m.mac >> 24, family) {
        (VMWARE_OUI, _) => ("VMware7,1", "VMware, Inc."),
        (HYPER_V_OUI, _) => ("Virtual Machine", "Microsoft Corporation"),
        (_, Family::Mac) => ("MacBookPro18,3", "Apple Inc."),
        // A bare-metal Linux server whose firmware tables the sensor could not read.
        _ if linux_server => ("", ""),
        (_, Family::Linux) => ("OptiPlex 7010", "Dell Inc."),
        (0x30_24_A9, _) => ("EliteBook 840 G9", "HP"),
        (0x54_EE_75, _) => ("ThinkPad T14 Gen 4", "LENOVO"),
        _ => ("Latitude 7440", "Dell Inc."),
    };
    let arch = match family {
        // As the machine record's `osProcessor` (`arm64` on these Macs).
        Family::Mac if m.seed.is_multiple_of(2) => "ARM64",
        Family::WindowsClient | Family::Legacy if m.seed.is_multiple_of(17) => "32-bit",
        _ => "64-bit",
    };
    let join = match family {
        Family::WindowsClient if m.aad && m.seed.is_multiple_of(2) => "AAD Joined",
        Family::WindowsClient if m.aad => "Hybrid Azure AD Join",
        Family::WindowsClient if m.seed % 5 == 1 => "Workplace Joined",
        Family::WindowsClient | Family::Legacy => "Domain Joined",
        Family::Mac if m.aad => "Workplace Joined",
        // Servers and Linux: the table leaves it empty.
        _ => "",
    };
    [device_type, model, vendor, arch, join]
}

/// What a console should store for the machine at `position`: of each attribute, the latest
/// non-empty value its reports gave. `None` for a machine hunting does not know.
pub fn authoritative(d: &Dataset, position: usize) -> Option<Value> {
    let m = d.machines.get(position).filter(|m| m.onboarded())?;
    let [t, model, vendor, arch, join] = attributes(m);
    Some(json!({
        "DeviceType": t, "Model": model, "Vendor": vendor, "OSArchitecture": arch, "JoinType": join,
    }))
}

/// Both reports of the machine at `position`, older first.
pub fn rows(d: &Dataset, position: usize) -> Vec<Map<String, Value>> {
    let m = &d.machines[position];
    let [t, model, vendor, arch, join] = attributes(m);
    let rel = m.release();
    let group = RBAC_GROUPS[m.rbac as usize].1.unwrap_or("UnassignedGroup");
    let sparse = position.is_multiple_of(3);
    [(false, m.last_seen - 12 * 3600 * SEC), (true, m.last_seen)]
        .into_iter()
        .filter_map(|(newer, at)| {
            let blank = newer && sparse;
            let or_blank = |v: &'static str| if blank { "" } else { v };
            let row = json!({
                "Timestamp": iso7(at),
                "DeviceId": m.id_hex(),
                "DeviceName": d.name(position),
                "ClientVersion": m.agent_version(),
                "PublicIP": format!("198.51.100.{}", m.seed % 250 + 1),
                "OSArchitecture": arch,
                "OSPlatform": m.platform(),
                "OSBuild": rel.and_then(|r| r.build),
                "OSVersion": rel.and_then(|r| r.version),
                "IsAzureADJoined": m.aad,
                "JoinType": or_blank(join),
                "MachineGroup": group,
                "OnboardingStatus": ONBOARDING[m.onboarding as usize],
                "DeviceCategory": "Endpoint",
                "DeviceType": t,
                "Model": or_blank(model),
                "Vendor": or_blank(vendor),
            });
            match row {
                Value::Object(o) => Some(o),
                _ => None,
            }
        })
        .collect()
}
