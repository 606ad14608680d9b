//! Which of a machine's MAC addresses can say "same physical device" (defender-api.md §5.2,
//! §9.20).
//!
//! Defender lists every address of every adapter, with the adapter's `type` and
//! `operationalStatus`. Only a MAC burnt into a physical network card identifies a device, so
//! a MAC counts as identity evidence only when all of these hold:
//!
//! | check | why |
//! |---|---|
//! | the adapter's type is Ethernet or Wireless (`Ethernet`, `Wireless80211`, and Windows' other Ethernet speeds) | loopback, `Tunnel` (Teredo, ISATAP), `Ppp` (dial-up and many VPNs) and unknown types are software adapters |
//! | the adapter is not `NotPresent` | that is hardware no longer attached, e.g. a USB dongle that may now sit in another laptop |
//! | the MAC is globally administered (the U/L bit is clear) | randomised Wi-Fi addresses, container bridges (docker0 `02:42:…`) and most virtual switches set it: such a MAC changes, or repeats on other hosts |
//! | the MAC is not a fixed value that a VPN client gives every installation | Cisco AnyConnect's virtual adapter calls itself Ethernet and reports `00:05:9A:3C:7A:00` on every machine |
//!
//! A MAC that passes is only a candidate: `merge` also requires that no other live Defender
//! machine reports it (a cloned VM keeps its template's MAC).

use std::net::IpAddr;

use serde::Deserialize;

use crate::discovery::MacAddress;

/// One entry of `ipAddresses` as stored with the machine (the JSON Defender sent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Adapter {
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub operational_status: Option<String>,
}

/// MACs that VPN clients give every installation of their virtual adapter.
const SHARED_VIRTUAL_MACS: &[[u8; 6]] = &[
    // Cisco AnyConnect / Secure Client virtual miniport.
    [0x00, 0x05, 0x9a, 0x3c, 0x7a, 0x00],
    // Fortinet FortiClient virtual adapter.
    [0x00, 0x09, 0x0f, 0xfe, 0x00, 0x01],
];

/// Compares type names the way Defender's enums must be compared (case, `-`, `_` and spaces
/// ignored, §9.14).
fn norm(value: &str) -> String {
    value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Ethernet in its Windows spellings (`NetworkInterfaceType`), and Wi-Fi.
fn is_physical_type(kind: Option<&str>) -> bool {
    matches!(
        kind.map(norm).as_deref(),
        Some(
            "ethernet"
                | "gigabitethernet"
                | "fastethernett"
                | "fastethernetfx"
                | "ethernet3megabit"
                | "wireless80211"
                | "wireless"
                | "wifi"
        )
    )
}

/// Why a MAC on an adapter does not count, for the evidence shown to the admin; `None` when
/// it counts.
pub fn refusal(adapter: &Adapter, mac: &MacAddress) -> Option<&'static str> {
    if !is_physical_type(adapter.kind.as_deref()) {
        return Some("not a physical Ethernet or Wi-Fi adapter");
    }
    if adapter
        .operational_status
        .as_deref()
        .is_some_and(|s| norm(s) == "notpresent")
    {
        return Some("the adapter is no longer present");
    }
    if mac.is_locally_administered() {
        return Some("a locally administered (randomised or virtual) address");
    }
    if SHARED_VIRTUAL_MACS.contains(&mac.octets()) {
        return Some("a fixed address every installation of a VPN client reports");
    }
    None
}

/// The MACs of these adapters that identify the device, in adapter order, each once.
pub fn identity_macs(adapters: &[Adapter]) -> Vec<MacAddress> {
    let mut out: Vec<MacAddress> = Vec::new();
    for adapter in adapters {
        let Some(mac) = adapter
            .mac_address
            .as_deref()
            .and_then(|m| MacAddress::parse(m).ok())
        else {
            continue;
        };
        if refusal(adapter, &mac).is_none() && !out.contains(&mac) {
            out.push(mac);
        }
    }
    out
}

/// The identity MAC an adapter that only advanced hunting reports (`DeviceNetworkInfo`) adds
/// to a machine whose record lists the MACs `listed`: none when the record lists that MAC at
/// all, counted or refused (the record is newer than the daily hunting read, so it decides),
/// or when the adapter's MAC does not identify a device by the rules above.
pub fn hunted_identity_mac(listed: &[MacAddress], hunted: &Adapter) -> Option<MacAddress> {
    identity_macs(std::slice::from_ref(hunted))
        .into_iter()
        .find(|mac| !listed.contains(mac))
}

/// The addresses that can place the device on the network: distinct, canonical text, no
/// loopback or link-local (fe80::/10 and 169.254/16 repeat on every network) and none from
/// adapters that are not physical (a VPN address or docker0's 172.17.0.1 is the same on many
/// hosts).
pub fn routable_ips(last_ip: Option<&str>, adapters: &[Adapter]) -> Vec<String> {
    let from_adapters = adapters
        .iter()
        .filter(|a| is_physical_type(a.kind.as_deref()))
        .filter(|a| {
            a.mac_address
                .as_deref()
                .and_then(|m| MacAddress::parse(m).ok())
                .is_none_or(|mac| refusal(a, &mac).is_none())
        })
        .filter_map(|a| a.ip_address.as_deref());
    let mut out: Vec<String> = Vec::new();
    for ip in last_ip
        .into_iter()
        .chain(from_adapters)
        .filter_map(|ip| ip.trim().parse::<IpAddr>().ok())
    {
        let text = ip.to_string();
        if !is_local_only(&ip) && !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

fn is_local_only(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(mac: Option<&str>, kind: &str, status: &str) -> Adapter {
        Adapter {
            ip_address: Some("10.0.0.5".into()),
            mac_address: mac.map(Into::into),
            kind: Some(kind.into()),
            operational_status: Some(status.into()),
        }
    }

    /// (mac, type, status) -> counts as identity?
    #[test]
    fn which_macs_identify_a_device() {
        let cases: [(Option<&str>, &str, &str, bool); 13] = [
            (Some("00155DA1B2C3"), "Ethernet", "Up", true),
            (Some("A0A8CD010203"), "Wireless80211", "Down", true),
            (Some("00155DA1B2C4"), "GigabitEthernet", "Up", true),
            (Some("00155DA1B2C5"), "ethernet", "up", true),
            (None, "SoftwareLoopback", "Up", false),
            (Some("000000000000"), "Tunnel", "Up", false),
            (Some("00155DA1B2C6"), "Tunnel", "Up", false),
            (Some("00155DA1B2C7"), "Ppp", "Up", false),
            (Some("00155DA1B2C8"), "SomethingNew", "Up", false),
            (Some("0242AC110002"), "Ethernet", "Up", false),
            (Some("00059A3C7A00"), "Ethernet", "Up", false),
            (Some("A0A8CD010204"), "Wireless80211", "NotPresent", false),
            (Some("FFFFFFFFFFFF"), "Ethernet", "Up", false),
        ];
        for (mac, kind, status, counts) in cases {
            let found = identity_macs(&[adapter(mac, kind, status)]);
            assert_eq!(found.len() == 1, counts, "{mac:?} {kind} {status}");
        }
    }

    #[test]
    fn a_hunted_mac_counts_only_where_the_machine_record_is_silent() {
        let radio = adapter(Some("7C-B2-7D-01-02-03"), "Wireless80211", "Down");
        let radio_mac = MacAddress::parse("7CB27D010203").unwrap();
        assert_eq!(hunted_identity_mac(&[], &radio), Some(radio_mac));
        // The record lists it (here as NotPresent, so refused): the record decides.
        assert_eq!(hunted_identity_mac(&[radio_mac], &radio), None);
        for (mac, kind, status) in [
            ("00-00-00-00-00-00", "Tunnel", "Up"),
            ("02-42-AC-11-00-02", "Ethernet", "Down"),
            ("7C-B2-7D-01-02-04", "Wireless80211", "NotPresent"),
        ] {
            assert_eq!(
                hunted_identity_mac(&[], &adapter(Some(mac), kind, status)),
                None,
                "{mac} {kind} {status}"
            );
        }
    }

    #[test]
    fn a_mac_repeated_per_address_counts_once_in_adapter_order() {
        let adapters = [
            adapter(Some("00155DA1B2C3"), "Ethernet", "Up"),
            adapter(Some("00155DA1B2C3"), "Ethernet", "Up"),
            adapter(Some("A0A8CD010203"), "Wireless80211", "Up"),
        ];
        let macs: Vec<String> = identity_macs(&adapters)
            .iter()
            .map(MacAddress::to_compact)
            .collect();
        assert_eq!(macs, ["00155DA1B2C3", "A0A8CD010203"]);
    }

    #[test]
    fn addresses_of_software_adapters_and_link_local_ones_do_not_place_a_device() {
        let mut vpn = adapter(Some("00059A3C7A00"), "Ethernet", "Up");
        vpn.ip_address = Some("10.200.1.9".into());
        let mut docker = adapter(Some("0242AC110002"), "Ethernet", "Up");
        docker.ip_address = Some("172.17.0.1".into());
        let mut ppp = adapter(None, "Ppp", "Up");
        ppp.ip_address = Some("10.201.0.4".into());
        let mut link = adapter(Some("00155DA1B2C3"), "Ethernet", "Up");
        link.ip_address = Some("fe80::1".into());
        let mut lo = adapter(None, "SoftwareLoopback", "Up");
        lo.ip_address = Some("127.0.0.1".into());
        let lan = adapter(Some("00155DA1B2C3"), "Ethernet", "Up");
        let ips = routable_ips(Some("10.0.0.5"), &[vpn, docker, ppp, link, lo, lan]);
        assert_eq!(ips, ["10.0.0.5"]);
        assert_eq!(routable_ips(None, &[]), Vec::<String>::new());
        assert_eq!(routable_ips(Some("169.254.3.4"), &[]), Vec::<String>::new());
    }
}
