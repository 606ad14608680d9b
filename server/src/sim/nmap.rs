//! `nmap -oX`-style XML of what a LAN scan would see: the simulated machines that are on the
//! network (onboarded and discovered-only) plus devices Defender does not know at all.
//!
//! A scan sees each machine's primary NIC only: the two halves of a cloned VM show up as two
//! hosts with one MAC at two addresses, while VPN, tunnel and container adapters (§9.20) are
//! not on the LAN and never appear.

use std::fmt::Write;

use super::catalog::{oui_vendor, Family};
use super::clock::{DATA_EPOCH, SEC};
use super::dataset::Dataset;
use super::machines::{ipv4, Gadget, INACTIVE};
use super::rng::Rng;

const NMAP_STREAM: u64 = 0x0AB5_0000_0000_0000;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `D4BED9A1B2C3` -> `D4:BE:D9:A1:B2:C3` (nmap's MAC form).
fn colon_mac(mac: &str) -> String {
    mac.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

type Ports = &'static [(u16, &'static str)];
/// nmap osmatch: (name, osclass type, vendor, osfamily).
type OsGuess = (&'static str, &'static str, &'static str, &'static str);

struct Host {
    ip: String,
    mac: String,
    hostname: Option<String>,
    ports: Ports,
    os: Option<OsGuess>,
}

const WIN_PORTS: &[(u16, &str)] = &[
    (135, "msrpc"),
    (139, "netbios-ssn"),
    (445, "microsoft-ds"),
    (3389, "ms-wbt-server"),
];
const LINUX_PORTS: &[(u16, &str)] = &[(22, "ssh")];
const MAC_PORTS: &[(u16, &str)] = &[(22, "ssh"), (5900, "vnc")];
const PRINTER_PORTS: &[(u16, &str)] = &[
    (80, "http"),
    (443, "https"),
    (631, "ipp"),
    (9100, "jetdirect"),
];
const PHONE_PORTS: &[(u16, &str)] = &[(5060, "sip"), (62078, "iphone-sync")];
const CAMERA_PORTS: &[(u16, &str)] = &[(80, "http"), (554, "rtsp")];
const SWITCH_PORTS: &[(u16, &str)] = &[(22, "ssh"), (23, "telnet"), (80, "http")];

fn gadget_profile(g: Gadget) -> (Ports, OsGuess) {
    match g {
        Gadget::Printer => (
            PRINTER_PORTS,
            ("HP LaserJet printer", "printer", "HP", "embedded"),
        ),
        Gadget::Phone => (
            PHONE_PORTS,
            ("Cisco IP Phone", "VoIP phone", "Cisco", "embedded"),
        ),
        Gadget::Camera => (
            CAMERA_PORTS,
            ("AXIS network camera (Linux 4.X)", "webcam", "Axis", "Linux"),
        ),
        Gadget::Switch => (SWITCH_PORTS, ("Cisco IOS 15.X", "switch", "Cisco", "IOS")),
        Gadget::Computer => (
            WIN_PORTS,
            (
                "Microsoft Windows 10",
                "general purpose",
                "Microsoft",
                "Windows",
            ),
        ),
    }
}

fn machine_hosts(d: &Dataset) -> Vec<Host> {
    let mut out = Vec::new();
    for (i, m) in d.machines.iter().enumerate() {
        // Stale duplicates and powered-off devices do not answer a scan, nor do discovered
        // devices Defender knows no address of (seen once, gone since).
        let off = m.health == INACTIVE && (m.onboarded() || m.seed % 2 == 1);
        if m.duplicate || off || !m.reports_address() {
            continue;
        }
        // A host calling itself `localhost` has no PTR record.
        let name = d.name(i).filter(|n| {
            !n.contains(' ')
                && n.parse::<std::net::Ipv4Addr>().is_err()
                && !n.eq_ignore_ascii_case("localhost")
        });
        let (ports, os) = match (m.family(), m.gadget) {
            (Family::WindowsClient, _) if m.platform() == Some("Windows11") => (
                WIN_PORTS,
                Some((
                    "Microsoft Windows 11 21H2 - 24H2",
                    "general purpose",
                    "Microsoft",
                    "Windows",
                )),
            ),
            (Family::WindowsClient, _) => (
                WIN_PORTS,
                Some((
                    "Microsoft Windows 10 1709 - 21H2",
                    "general purpose",
                    "Microsoft",
                    "Windows",
                )),
            ),
            (Family::WindowsServer, _) => (
                WIN_PORTS,
                Some((
                    "Microsoft Windows Server 2019 - 2022",
                    "general purpose",
                    "Microsoft",
                    "Windows",
                )),
            ),
            (Family::Legacy, _) => (
                WIN_PORTS,
                Some((
                    "Microsoft Windows 7 SP1",
                    "general purpose",
                    "Microsoft",
                    "Windows",
                )),
            ),
            (Family::Linux, _) => (
                LINUX_PORTS,
                Some(("Linux 5.0 - 6.2", "general purpose", "Linux", "Linux")),
            ),
            (Family::Mac, _) => (
                MAC_PORTS,
                Some((
                    "Apple macOS 13 - 15 (Darwin 22.X - 24.X)",
                    "general purpose",
                    "Apple",
                    "macOS",
                )),
            ),
            (Family::Unknown, Gadget::Computer) => (WIN_PORTS, None),
            (Family::Unknown, g) => {
                let (p, o) = gadget_profile(g);
                (p, Some(o))
            }
        };
        out.push(Host {
            ip: ipv4(m.ip),
            mac: m.mac(),
            hostname: name,
            ports,
            os,
        });
    }
    out
}

fn extra_hosts(seed: u64, n: usize) -> Vec<Host> {
    (0..n)
        .map(|k| {
            let mut rng = Rng::derive(seed ^ NMAP_STREAM, k as u64);
            let kind = rng.index(5);
            let ouis: &[&str] = match kind {
                0 => &["3CD92B", "008077", "001E8F"],
                1 => &["F01898", "8C7712"],
                2 => &["00000C", "24A43C"],
                3 => &["00408C", "4419B6"],
                _ => &["B827EB"],
            };
            let oui = ouis[rng.index(ouis.len())];
            let mac = format!("{oui}{:06X}", rng.next_u64() & 0xFF_FFFF);
            let ip = format!("10.200.{}.{}", k / 250, k % 250 + 2);
            let (ports, os, hostname) = match kind {
                0 => (
                    PRINTER_PORTS,
                    ("HP LaserJet printer", "printer", "HP", "embedded"),
                    Some(format!("NPI{}", &mac[6..])),
                ),
                1 => (
                    PHONE_PORTS,
                    ("Apple iOS 16 - 17", "phone", "Apple", "iOS"),
                    None,
                ),
                2 => (
                    SWITCH_PORTS,
                    ("Cisco IOS 15.X", "switch", "Cisco", "IOS"),
                    Some(format!("sw-floor{}-{k}", k % 5)),
                ),
                3 => (
                    CAMERA_PORTS,
                    ("Hikvision embedded Linux", "webcam", "Hikvision", "Linux"),
                    None,
                ),
                _ => (
                    LINUX_PORTS,
                    ("Linux 5.0 - 6.2", "specialized", "Linux", "Linux"),
                    Some(format!("iot-sensor-{k}")),
                ),
            };
            Host {
                ip,
                mac,
                hostname,
                ports,
                os: Some(os),
            }
        })
        .collect()
}

/// The whole document; deterministic for a given dataset, seed and `extra_devices`.
pub fn local_network_xml(d: &Dataset, seed: u64, extra_devices: usize) -> String {
    let start = (DATA_EPOCH / SEC) as i64;
    let mut hosts = machine_hosts(d);
    hosts.extend(extra_hosts(seed, extra_devices));
    let mut x = String::with_capacity(hosts.len() * 900 + 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n");
    let _ = writeln!(x, "<nmaprun scanner=\"nmap\" args=\"nmap -sS -O -oX - 10.0.0.0/8\" start=\"{start}\" startstr=\"Fri Nov 27 00:00:00 2026\" version=\"7.94\" xmloutputversion=\"1.05\">");
    x.push_str("<scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"1000\" services=\"1-1000\"/>\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n");
    for (k, h) in hosts.iter().enumerate() {
        let t = start + k as i64;
        let _ = writeln!(x, "<host starttime=\"{t}\" endtime=\"{}\"><status state=\"up\" reason=\"arp-response\" reason_ttl=\"0\"/>", t + 1);
        let _ = writeln!(x, "<address addr=\"{}\" addrtype=\"ipv4\"/>", escape(&h.ip));
        let vendor = oui_vendor(&h.mac)
            .map(|v| format!(" vendor=\"{}\"", escape(v)))
            .unwrap_or_default();
        let _ = writeln!(
            x,
            "<address addr=\"{}\" addrtype=\"mac\"{vendor}/>",
            escape(&colon_mac(&h.mac))
        );
        x.push_str("<hostnames>");
        if let Some(n) = &h.hostname {
            let _ = write!(x, "<hostname name=\"{}\" type=\"PTR\"/>", escape(n));
        }
        x.push_str("</hostnames>\n<ports>");
        let _ = writeln!(x, "<extraports state=\"closed\" count=\"{}\"><extrareasons reason=\"reset\" count=\"{}\"/></extraports>", 1000 - h.ports.len(), 1000 - h.ports.len());
        for (port, service) in h.ports {
            let _ = writeln!(x, "<port protocol=\"tcp\" portid=\"{port}\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"64\"/><service name=\"{}\" method=\"table\" conf=\"3\"/></port>", escape(service));
        }
        x.push_str("</ports>\n");
        if let Some((name, kind, vendor, family)) = h.os {
            let _ = writeln!(x, "<os><osmatch name=\"{}\" accuracy=\"{}\" line=\"{}\"><osclass type=\"{}\" vendor=\"{}\" osfamily=\"{}\" accuracy=\"{}\"/></osmatch></os>", escape(name), 90 + k % 10, 60_000 + k, escape(kind), escape(vendor), escape(family), 90 + k % 10);
        }
        x.push_str("</host>\n");
    }
    let end = start + hosts.len() as i64 + 1;
    let _ = writeln!(x, "<runstats><finished time=\"{end}\" timestr=\"Fri Nov 27 00:00:00 2026\" summary=\"Nmap done\" elapsed=\"{}\" exit=\"success\"/><hosts up=\"{}\" down=\"0\" total=\"{}\"/></runstats>", hosts.len() + 1, hosts.len(), hosts.len());
    x.push_str("</nmaprun>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generator::generate;

    #[test]
    fn escapes_everything() {
        assert_eq!(
            escape(r#"a&b<c>"d"'e"#),
            "a&amp;b&lt;c&gt;&quot;d&quot;&apos;e"
        );
    }

    #[test]
    fn deterministic_and_complete() {
        let d = generate(5, 60, "t");
        let a = local_network_xml(&d, 5, 10);
        assert_eq!(a, local_network_xml(&d, 5, 10));
        assert!(a.starts_with("<?xml"));
        assert!(a.contains("addrtype=\"mac\" vendor="));
        assert!(a.contains("10.200.0.2"));
        // Every listed machine MAC is one of the machines' primary MACs, in nmap form.
        let first = d
            .machines
            .iter()
            .find(|m| !m.duplicate && m.health != INACTIVE)
            .unwrap();
        assert!(a.contains(&colon_mac(&first.mac())));
        assert_eq!(a.matches("<host ").count(), a.matches("</host>").count());
        assert!(
            !a.contains(&colon_mac(&d.machines[7].mac())),
            "stale duplicate is not on the LAN"
        );
    }

    #[test]
    fn clones_share_a_mac_and_virtual_adapters_stay_off_the_lan() {
        let d = generate(5, 400, "t");
        let x = local_network_xml(&d, 5, 0);
        let hosts: Vec<&str> = x.split("<host ").skip(1).collect();
        let clone_mac = colon_mac(&d.machines[10].mac());
        let with_mac: Vec<&&str> = hosts.iter().filter(|h| h.contains(&clone_mac)).collect();
        assert_eq!(with_mac.len(), 2, "the cloned pair: one MAC, two hosts");
        for (h, m) in with_mac.iter().zip(&d.machines[10..12]) {
            assert!(h.contains(&format!("addr=\"{}\" addrtype=\"ipv4\"", ipv4(m.ip))));
            assert!(h.contains("<hostname name=\"tmpl-srv-clone\" type=\"PTR\"/>"));
        }
        // Fixture 15 has no lastIpAddress but is on the LAN with its NIC's address.
        assert!(x.contains(&format!("addr=\"{}\"", ipv4(d.machines[15].ip))));
        assert!(x.contains(&format!("addr=\"{}\"", ipv4(d.machines[14].ip))));
        for absent in [
            "172.17.0.1",
            "10.200.",
            "172.31.",
            "169.254.",
            "fe80::",
            "2001:0:",
        ] {
            assert!(
                !x.contains(&format!("addr=\"{absent}")),
                "{absent} is not on the LAN"
            );
        }
        for mac in [
            "00:05:9A:3C:7A:00",
            "00:00:00:00:00:00",
            "02:42:",
            "50:C7:BF:",
        ] {
            assert!(!x.contains(mac), "{mac} is not on the LAN");
        }
        assert!(!x.contains("name=\"localhost\""));
        // A discovered device Defender knows no address of does not answer.
        let silent = d
            .machines
            .iter()
            .find(|m| !m.reports_address())
            .expect("some discovered device without any address");
        assert!(!x.contains(&format!("addr=\"{}\"", ipv4(silent.ip))));
    }
}
