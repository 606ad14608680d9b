//! `DeviceNetworkInfo` (defender-api.md §4.14): one row per network adapter per report, two
//! reports per onboarded machine, agreeing with the machine record's `ipAddresses` (§5.2:
//! same MACs, types and statuses).
//!
//! What makes it awkward, as the real table is (positions are machine positions `i` in the
//! generated list):
//! - the older report (a day earlier) gave the primary adapter another IPv4 address (a DHCP
//!   lease that has since changed): only each adapter's latest row is right;
//! - adapters without an address, which the machine record leaves out, are there with their
//!   MAC: a Windows client's Bluetooth PAN adapter, `Down`, on `i % 3 == 1`; a Wi-Fi adapter,
//!   `Down`, on Windows clients and Macs whose record lists no Wi-Fi, on `i % 3 == 2`; neither
//!   on a virtual machine;
//! - `MacAddress` is hyphenated (`00-15-5D-0A-1B-2C`), not the machine record's 12 digits;
//!   adapters without one (loopback, PPP, Teredo) have an empty string, ISATAP all zeros;
//! - the JSON-valued columns are typed String and arrive as JSON text, except `IPAddresses`
//!   on `i % 25 == 12` (fixture 12 always among them), which arrives as JSON itself;
//! - with the `hunting_bad_row` fault, the first onboarded machine's primary adapter row of
//!   the latest report has `IPAddresses` cut short (undecodable). A fault rather than a
//!   standing quirk, so a clean tenant syncs clean and a test chooses when one row is bad.

use serde_json::{json, Map, Value};

use super::super::catalog::Family;
use super::super::clock::{iso7, SEC};
use super::super::dataset::Dataset;
use super::super::machines::{
    Machine, Nic, ANYCONNECT_MAC, DOCKER_BRIDGE_IP, HYPER_V_OUI, VMWARE_OUI,
};
use super::super::rng::mix;

pub const COLUMNS: &[(&str, &str)] = &[
    ("Timestamp", "DateTime"),
    ("DeviceId", "String"),
    ("DeviceName", "String"),
    ("NetworkAdapterName", "String"),
    ("MacAddress", "String"),
    ("NetworkAdapterType", "String"),
    ("NetworkAdapterStatus", "String"),
    ("TunnelType", "String"),
    ("ConnectedNetworks", "String"),
    ("DnsAddresses", "String"),
    ("IPv4Dhcp", "String"),
    ("IPv6Dhcp", "String"),
    ("DefaultGateways", "String"),
    ("IPAddresses", "String"),
    ("ReportId", "Int64"),
    ("NetworkAdapterVendor", "String"),
];

const DAY: i128 = 86_400 * SEC;
/// What a truncated `IPAddresses` value looks like under the `hunting_bad_row` fault.
const CUT_SHORT: &str = "[{\"IPAddress\":";

/// One adapter: its addresses in the machine record's order.
struct Adapter {
    name: String,
    kind: &'static str,
    status: &'static str,
    mac: Option<String>,
    addresses: Vec<String>,
    vendor: &'static str,
}

fn hyphenated(mac: &str) -> String {
    mac.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join("-")
}

/// The machine record's NICs grouped into adapters (a NIC entry is one address), named as the
/// machine's OS names them, plus the adapters without an address.
fn adapters(m: &Machine, position: usize) -> Vec<Adapter> {
    let family = m.family();
    let unix = matches!(family, Family::Linux | Family::Mac);
    let mut out: Vec<Adapter> = Vec::new();
    let mut counts = std::collections::HashMap::new();
    // macOS numbers its physical interfaces in one sequence (en0, en1, ...).
    let mut en = 0usize;
    for Nic {
        ip,
        mac,
        kind,
        status,
    } in m.nics()
    {
        if let Some(last) = out.last_mut() {
            if last.kind == kind && last.mac == mac && last.status == status {
                last.addresses.push(ip);
                continue;
            }
        }
        let n = counts.entry(kind).or_insert(0usize);
        *n += 1;
        let docker = ip == DOCKER_BRIDGE_IP;
        let anyconnect = mac.as_deref() == Some(ANYCONNECT_MAC);
        let name = match (unix, kind, *n) {
            _ if docker && unix => "docker0".to_owned(),
            _ if docker => "vEthernet (DockerNAT)".to_owned(),
            _ if anyconnect && unix => "cscotun0".to_owned(),
            (true, "Ethernet" | "Wireless80211", _) if family == Family::Mac => {
                en += 1;
                format!("en{}", en - 1)
            }
            (true, "Ethernet", n) => format!("eth{}", n - 1),
            (true, "Wireless80211", n) => format!("wlan{}", n - 1),
            (true, "SoftwareLoopback", _) if family == Family::Mac => "lo0".to_owned(),
            (true, "SoftwareLoopback", _) => "lo".to_owned(),
            (true, "Ppp", n) => format!("ppp{}", n - 1),
            (true, _, n) => format!("tun{}", n - 1),
            (false, "Ethernet", 1) => "Ethernet".to_owned(),
            (false, "Ethernet", n) => format!("Ethernet {n}"),
            (false, "Wireless80211", 1) => "Wi-Fi".to_owned(),
            (false, "Wireless80211", n) => format!("Wi-Fi {n}"),
            (false, "SoftwareLoopback", _) => "Loopback Pseudo-Interface 1".to_owned(),
            (false, "Ppp", _) => "VPN Connection".to_owned(),
            (false, _, _) if mac.is_none() => "Teredo Tunneling Pseudo-Interface".to_owned(),
            (false, _, n) => format!("isatap.{{{:08X}-{n}}}", m.seed as u32),
        };
        let vendor = match kind {
            _ if anyconnect => "Cisco Systems",
            _ if docker => "",
            "Ethernet" | "Wireless80211" if family == Family::Mac => "Apple Inc.",
            "Ethernet" | "Wireless80211" => "Intel Corporation",
            _ => "",
        };
        out.push(Adapter {
            name,
            kind,
            status,
            mac,
            addresses: vec![ip],
            vendor,
        });
    }
    // Virtual machines have neither a Wi-Fi radio nor Bluetooth.
    let virtual_machine = matches!(m.mac >> 24, VMWARE_OUI | HYPER_V_OUI);
    let client = matches!(family, Family::WindowsClient | Family::Mac) && !virtual_machine;
    let lists_wifi = out.iter().any(|a| a.kind == "Wireless80211");
    if client && !lists_wifi && position % 3 == 2 {
        // A laptop's radio switched off: no address, so the machine record leaves it out.
        let (name, oui, vendor) = if family == Family::Mac {
            (format!("en{en}"), "3C0754", "Apple Inc.")
        } else {
            ("Wi-Fi".to_owned(), "7CB27D", "Intel Corporation")
        };
        out.push(Adapter {
            name,
            kind: "Wireless80211",
            status: "Down",
            mac: Some(format!("{oui}{:06X}", mix(m.seed, 32) & 0xFF_FFFF)),
            addresses: Vec::new(),
            vendor,
        });
    }
    if family == Family::WindowsClient && !virtual_machine && position % 3 == 1 {
        out.push(Adapter {
            name: "Bluetooth Network Connection".into(),
            kind: "Ethernet",
            status: "Down",
            mac: Some(format!("F4{:010X}", mix(m.seed, 31) & 0xFF_FFFF_FFFF)),
            addresses: Vec::new(),
            vendor: "Intel Corporation",
        });
    }
    out
}

/// Prefix length and address space of an address, as Defender reports them.
fn address(ip: &str) -> Value {
    let (prefix, space) = if ip.starts_with("127.") {
        (8, "Loopback")
    } else if ip == "::1" {
        (128, "Loopback")
    } else if ip.starts_with("169.254.") {
        (16, "LinkLocal")
    } else if ip.starts_with("fe80:") {
        (64, "LinkLocal")
    } else if ip.starts_with("172.17.") {
        (16, "Private")
    } else if ip.starts_with("2001:0:") {
        (32, "Teredo")
    } else if ip.starts_with("10.") || ip.starts_with("192.168.") || ip.starts_with("172.") {
        (24, "Private")
    } else {
        (24, "Public")
    };
    json!({"IPAddress": ip, "SubnetPrefix": prefix, "AddressType": space})
}

/// The primary IPv4 address the older report gave: another lease in the same subnet.
fn old_lease(ip: &str) -> String {
    match ip.rsplit_once('.') {
        Some((net, last)) => {
            let d: u32 = last.parse().unwrap_or(2);
            format!("{net}.{}", (d + 100) % 250 + 2)
        }
        None => ip.to_owned(),
    }
}

/// Every row of the machine at `position`, older report first.
pub fn rows(d: &Dataset, position: usize, bad_row: bool) -> Vec<Map<String, Value>> {
    let m = &d.machines[position];
    let id = m.id_hex();
    let name = d.name(position);
    let as_json = position % 25 == 12;
    let adapters = adapters(m, position);
    let mut out = Vec::with_capacity(adapters.len() * 2);
    for (report, at) in [(0u64, m.last_seen - DAY), (1, m.last_seen)] {
        for (k, a) in adapters.iter().enumerate() {
            let primary = k == 0;
            let addresses: Vec<Value> = a
                .addresses
                .iter()
                .map(|ip| {
                    if primary && report == 0 && !ip.contains(':') {
                        address(&old_lease(ip))
                    } else {
                        address(ip)
                    }
                })
                .collect();
            let up = a.status == "Up";
            let private_v4 = a
                .addresses
                .iter()
                .any(|ip| ip.starts_with("10.") || ip.starts_with("192.168."));
            let networks = if up && private_v4 && a.kind == "Ethernet" && primary {
                if m.aad {
                    json!([{"Name": "contoso.com", "Description": "contoso.com", "IsConnectedToInternet": true, "Category": "Domain"}])
                } else {
                    json!([{"Name": "Network 3", "Description": "Network 3", "IsConnectedToInternet": true, "Category": "Private"}])
                }
            } else if up && a.kind == "Wireless80211" {
                json!([{"Name": "Contoso-Guest", "Description": "Contoso-Guest", "IsConnectedToInternet": true, "Category": "Public"}])
            } else {
                json!([])
            };
            let gateway = a
                .addresses
                .first()
                .filter(|_| primary && up)
                .map(|ip| format!("{}.1", ip.rsplit_once('.').map_or("10.0.0", |(n, _)| n)));
            let ip_addresses = if bad_row && primary && report == 1 {
                Value::String(CUT_SHORT.to_owned())
            } else if as_json {
                Value::Array(addresses)
            } else {
                Value::String(Value::Array(addresses).to_string())
            };
            let row = json!({
                "Timestamp": iso7(at - k as i128 * SEC),
                "DeviceId": id,
                "DeviceName": name,
                "NetworkAdapterName": a.name,
                "MacAddress": a.mac.as_deref().map(hyphenated).unwrap_or_default(),
                "NetworkAdapterType": a.kind,
                "NetworkAdapterStatus": a.status,
                "TunnelType": match a.kind {
                    "Tunnel" if a.mac.is_none() => "Teredo",
                    "Tunnel" => "Isatap",
                    _ => "",
                },
                "ConnectedNetworks": networks.to_string(),
                "DnsAddresses": if gateway.is_some() { json!(["10.0.0.53"]).to_string() } else { "[]".to_owned() },
                "IPv4Dhcp": if gateway.is_some() { "10.0.0.10" } else { "" },
                "IPv6Dhcp": "",
                "DefaultGateways": gateway.map_or_else(|| "[]".to_owned(), |g| json!([g]).to_string()),
                "IPAddresses": ip_addresses,
                "ReportId": (mix(m.seed, 40 + report) % 100_000) as i64,
                "NetworkAdapterVendor": a.vendor,
            });
            if let Value::Object(o) = row {
                out.push(o);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generator::generate;

    #[test]
    fn adapters_agree_with_the_machine_record_and_the_older_lease_differs() {
        let d = generate(1, 60, "t");
        let (i, m) = d
            .machines
            .iter()
            .enumerate()
            .find(|(_, m)| m.onboarded() && m.family() == Family::WindowsClient)
            .unwrap();
        let rows = rows(&d, i, false);
        assert_eq!(rows.len() % 2, 0, "two reports of every adapter");
        let half = rows.len() / 2;
        let (old, new) = rows.split_at(half);
        assert_eq!(new[0]["MacAddress"], hyphenated(&m.mac()));
        let ips = |r: &Map<String, Value>| r["IPAddresses"].clone();
        assert_ne!(ips(&old[0]), ips(&new[0]), "the lease changed");
        assert_eq!(ips(&old[1]), ips(&new[1]));
        // Every MAC of the machine record is on some adapter.
        for nic in m.nics() {
            if let Some(mac) = nic.mac {
                assert!(new.iter().any(|r| r["MacAddress"] == hyphenated(&mac)));
            }
        }
        assert_eq!(hyphenated("00155D0A1B2C"), "00-15-5D-0A-1B-2C");
    }
}
