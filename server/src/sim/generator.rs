//! Deterministic tenant generator: the same seed always yields the same machines, CVEs,
//! machine-vulnerability rows, alerts and software (defender-api.md §11.16–11.19).
//!
//! Each entity draws from its own derived random stream, so machine `i` is identical
//! whatever the total machine count. Storage is compact (indices, no per-item strings
//! except what serialisation derives), so 100,000 machines, ~1,000,000 rows and 50,000
//! alerts generate in seconds.

use std::collections::HashMap;

use super::alerts::{self, Alert};
use super::catalog::{os_index, Family, OS_RELEASES, PRODUCTS};
use super::clock::{Nanos, DATA_EPOCH, SEC};
use super::dataset::{Dataset, Grouping};
use super::machines::{
    Gadget, Label, Machine, DOCKER_BRIDGE, HYPER_V_OUI, INACTIVE, ONBOARDED, TUNNEL_ISATAP,
    TUNNEL_TEREDO, VMWARE_OUI, VPN_ANYCONNECT, VPN_PPP, WIFI_NOT_PRESENT,
};
use super::rng::Rng;
use super::software::SoftwareStats;
use super::vulnerabilities::Cve;

const DAY: Nanos = 86_400 * SEC;
const CVE_STREAM: u64 = 0xC7E0_0000_0000_0000;
const ROW_STREAM: u64 = 0x5EED_0000_0000_0000;
const ALERT_STREAM: u64 = 0xA1E7_0000_0000_0000;
/// Adapters, names and type drift of machines past the fixtures: a stream of its own, so
/// those machines keep the ids, OSes and timestamps they had before it existed.
const REALISM_STREAM: u64 = 0x41C5_0000_0000_0000;

/// Machines `0..FIXTURES` are fixed fixtures (documented in `sim.rs`); random duplicates,
/// clones and drift start after them.
pub const FIXTURES: usize = 16;

fn rbac_for(family: Family, rng: &mut Rng) -> u8 {
    if rng.chance(15) {
        return 0; // ungrouped: rbacGroupId 0, rbacGroupName null (§5.1)
    }
    match family {
        Family::WindowsServer => 3,
        Family::Linux => 4,
        _ => [1, 2, 5][rng.weighted(&[6, 3, 1])],
    }
}

/// Fixed first records so tests can rely on one of each interesting kind.
fn fixture(i: usize) -> Option<(u8, Option<u8>, u8)> {
    Some(match i {
        0 => (ONBOARDED, Some(os_index("Windows11", Some("24H2"))), 0),
        1 => (ONBOARDED, Some(os_index("Ubuntu", Some("22.4"))), 0),
        2 => (
            ONBOARDED,
            Some(os_index("Windows10", Some("22H2"))),
            INACTIVE,
        ),
        3 => (1, Some(os_index("Windows10", Some("22H2"))), 0),
        4 => (2, None, INACTIVE),
        5 => (3, None, INACTIVE),
        6 => (ONBOARDED, Some(os_index("macOS", Some("15.1"))), 0),
        8 | 10 | 11 => (ONBOARDED, Some(os_index("WindowsServer2022", None)), 0),
        9 => (ONBOARDED, Some(os_index("Windows7", None)), 0),
        12 => (ONBOARDED, Some(os_index("Windows11", Some("23H2"))), 0),
        13 => (ONBOARDED, Some(os_index("Windows10", Some("22H2"))), 0),
        14 => (ONBOARDED, Some(os_index("Ubuntu", Some("24.4"))), 0),
        15 => (ONBOARDED, Some(os_index("Windows10", Some("21H2"))), 0),
        _ => return None,
    })
}

fn machine(seed: u64, i: usize, done: &[Machine]) -> Machine {
    let mut rng = Rng::derive(seed, i as u64);
    let mut id = [0u8; 20];
    for chunk in id.chunks_mut(8) {
        let bytes = rng.next_u64().to_be_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    let os_weights: Vec<u32> = OS_RELEASES.iter().map(|o| o.weight).collect();
    let (onboarding, os, health) = fixture(i).unwrap_or_else(|| {
        let onboarding = rng.weighted(&[75, 12, 8, 5]) as u8;
        let os = match onboarding {
            0 | 1 => Some(rng.weighted(&os_weights) as u8),
            _ => None,
        };
        let health = if onboarding == ONBOARDED {
            rng.weighted(&[80, 9, 4, 3, 1, 3]) as u8
        } else {
            [0, 1, 5][rng.weighted(&[30, 60, 10])]
        };
        (onboarding, os, health)
    });
    let family = os.map_or(Family::Unknown, |o| OS_RELEASES[o as usize].family);
    let gadget = match onboarding {
        2 => [
            Gadget::Printer,
            Gadget::Phone,
            Gadget::Camera,
            Gadget::Switch,
        ][rng.index(4)],
        3 if rng.chance(30) => Gadget::Printer,
        _ => Gadget::Computer,
    };
    let gadget = if i == 4 { Gadget::Printer } else { gadget };
    let a = (i / 250) as u32;
    let ip = u32::from_be_bytes([
        10,
        8 + (a / 256) as u8,
        (a % 256) as u8,
        (i % 250 + 2) as u8,
    ]);
    // Sub-second parts so timestamps carry the 7 fraction digits Defender prints (§5.1).
    let jitter = |rng: &mut Rng| rng.below(86_400 * 10_000_000) as Nanos * 100;
    let first_seen = DATA_EPOCH - (30 + rng.below(670) as Nanos) * DAY - jitter(&mut rng);
    let last_seen = if health == INACTIVE {
        DATA_EPOCH - (8 + rng.below(50) as Nanos) * DAY - rng.below(86_400) as Nanos * SEC
    } else {
        DATA_EPOCH - rng.below(2 * 86_400) as Nanos * SEC - rng.below(10_000_000) as Nanos * 100
    };
    let mut software = 0u64;
    if onboarding == ONBOARDED {
        let platform = os.map(|o| OS_RELEASES[o as usize].platform);
        for (p, prod) in PRODUCTS.iter().enumerate() {
            let fits = prod.families.contains(&family);
            let installed = match prod.only {
                Some(only) => platform == Some(only),
                None => fits && rng.chance(55),
            };
            if installed {
                software |= 1 << p;
            }
        }
    }
    let mut m = Machine {
        id,
        name_of: i as u32,
        os,
        onboarding,
        health,
        risk: 0,
        exposure: 0,
        value: rng.weighted(&[10, 80, 10]) as u8,
        rbac: if i == 2 {
            0
        } else {
            rbac_for(family, &mut rng)
        },
        gadget,
        ip,
        mac: 0,
        no_last_ip: false,
        first_seen: first_seen.min(last_seen),
        last_seen,
        duplicate: false,
        merged_into: None,
        wifi: matches!(family, Family::WindowsClient | Family::Mac) && rng.chance(40),
        extras: 0,
        label: Label::Generated,
        rbac_text: false,
        twin_of: None,
        clone_of: None,
        aad: family == Family::WindowsClient && onboarding == ONBOARDED && rng.chance(70),
        software,
        seed: rng.next_u64(),
    };
    // A re-imaged device leaves a stale record with the same name (§9.3): machine 7 is the
    // stale twin of machine 0, later ones appear at random.
    let twin_of = match i {
        7 if !done.is_empty() => Some(0),
        i if i >= FIXTURES && rng.chance(2) => Some(rng.index(i)),
        _ => None,
    };
    if let Some(j) = twin_of {
        let live = &done[j];
        // Shared names of clones and `localhost` hosts are not duplicates; keep them apart.
        let plain = live.label == Label::Generated && live.clone_of.is_none();
        if live.onboarded() && !live.duplicate && plain {
            m.name_of = live.name_of;
            m.os = live.os;
            m.onboarding = ONBOARDED;
            m.rbac = live.rbac;
            m.gadget = live.gadget;
            m.health = INACTIVE;
            m.duplicate = true;
            m.last_seen = live.last_seen - (20 + rng.below(60) as Nanos) * DAY;
            m.first_seen = m.first_seen.min(m.last_seen - DAY);
            m.software = live.software;
            m.twin_of = Some(j as u32);
            // Some stale records already point at their live twin, others do not yet.
            if i >= FIXTURES && rng.chance(50) {
                m.merged_into = Some(j as u32);
            }
        }
    }
    m.mac = m.vendor_mac();
    let mut rng = Rng::derive(seed ^ REALISM_STREAM, i as u64);
    match i {
        10 => {
            m.label = Label::CloneTemplate;
            m.mac = VMWARE_OUI << 24 | (m.mac & 0xFF_FFFF);
        }
        11 => clone(&mut m, &done[10], 10),
        12 => m.extras = VPN_ANYCONNECT | TUNNEL_TEREDO,
        13 => {
            m.extras = VPN_ANYCONNECT | VPN_PPP | TUNNEL_ISATAP | WIFI_NOT_PRESENT;
            m.rbac = 1;
            m.rbac_text = true;
        }
        14 => {
            m.label = Label::Localhost;
            m.extras = DOCKER_BRIDGE;
        }
        15 => m.no_last_ip = true,
        i if i >= FIXTURES => realism(&mut m, &mut rng, i, done),
        _ => {}
    }
    if (10..FIXTURES).contains(&i) {
        // The fixtures' adapter lists do not depend on the seed.
        m.wifi = false;
    }
    m
}

/// Makes `m` a clone of live machine `j`: a distinct device (own id, address and history)
/// with the template's name, OS, software and primary MAC (§9.19, §9.20).
fn clone(m: &mut Machine, src: &Machine, j: u32) {
    m.name_of = src.name_of;
    m.os = src.os;
    m.onboarding = ONBOARDED;
    m.health = 0;
    m.rbac = src.rbac;
    m.gadget = src.gadget;
    m.software = src.software;
    m.mac = src.mac;
    m.extras = src.extras;
    m.clone_of = Some(j);
}

/// Shares for the machines after the fixtures (§9.19–9.21): clone pairs, `localhost`
/// names, VPN, tunnel and container adapters, null `lastIpAddress` on discovered devices
/// and `rbacGroupId` as a string.
fn realism(m: &mut Machine, rng: &mut Rng, i: usize, done: &[Machine]) {
    let family = m.family();
    let live = m.onboarded() && !m.duplicate;
    let vm_like = matches!(family, Family::WindowsServer | Family::Linux);
    // Only an Active machine becomes a clone: its lastSeen is recent like its template's.
    if live && vm_like && m.health == 0 && i > FIXTURES && rng.chance(3) {
        // The nearest fitting template at or below a random earlier machine.
        let start = FIXTURES + rng.index(i - FIXTURES);
        let fit = |src: &Machine| {
            src.onboarded()
                && !src.duplicate
                && src.clone_of.is_none()
                && src.health == 0
                && src.family() == family
                // Only virtual NICs come out of a clone with the template's MAC.
                && matches!(src.mac >> 24, VMWARE_OUI | HYPER_V_OUI)
        };
        if let Some(j) = (FIXTURES..=start).rev().take(64).find(|j| fit(&done[*j])) {
            clone(m, &done[j], j as u32);
        }
    }
    if live && m.clone_of.is_none() {
        match family {
            Family::WindowsClient => {
                if rng.chance(5) {
                    m.extras |= VPN_ANYCONNECT;
                }
                if rng.chance(6) {
                    m.extras |= VPN_PPP;
                }
                if rng.chance(10) {
                    m.extras |= TUNNEL_TEREDO;
                }
            }
            Family::WindowsServer if rng.chance(10) => m.extras |= TUNNEL_ISATAP,
            Family::Linux => {
                if rng.chance(10) {
                    m.label = Label::Localhost;
                }
                if rng.chance(35) {
                    m.extras |= DOCKER_BRIDGE;
                }
            }
            _ => {}
        }
    }
    if !m.onboarded() && rng.chance(15) {
        m.no_last_ip = true;
    }
    m.rbac_text = rng.chance(10);
}

fn cve(seed: u64, k: usize) -> Cve {
    let mut rng = Rng::derive(seed ^ CVE_STREAM, k as u64);
    let product = if k < PRODUCTS.len() {
        k
    } else {
        rng.index(PRODUCTS.len())
    } as u8;
    let severity = if k < 4 {
        k as u8
    } else {
        rng.weighted(&[15, 40, 30, 15]) as u8
    };
    let (lo, hi) = [(1, 39), (40, 69), (70, 89), (90, 100)][severity as usize];
    let cvss10 = (k != 4 && !rng.chance(5)).then(|| (lo + rng.below(hi - lo + 1)) as u8);
    // Every exploit-flag combination appears among the first CVEs (§11.18).
    let (public, verified, kit) = match k {
        5 => (true, false, false),
        6 => (true, true, false),
        7 => (true, true, true),
        8 => (true, false, true),
        0..=4 => (false, false, false),
        _ => {
            let p = rng.chance(30);
            (p, p && rng.chance(50), p && rng.chance(20))
        }
    };
    let exploit_types = match (public, k) {
        (false, _) => 0,
        (true, 5) => 0b1000, // Remote (undocumented but live)
        _ => (rng.below(15) + 1) as u8,
    };
    let year = 2019 + rng.below(8) as u16;
    let published = DATA_EPOCH - (rng.below(700) as Nanos + 10) * DAY;
    Cve {
        year,
        number: 20_000 + k as u32,
        product,
        severity,
        cvss10,
        published,
        public_exploit: public,
        exploit_verified: verified,
        exploit_in_kit: kit,
        exploit_types,
        supportability: rng.weighted(&[90, 5, 5]) as u8,
        // Every tenth CVE, so even the smallest tenant lists some.
        supportability_list: k % 10 == 7,
        seed: rng.next_u64(),
    }
}

/// The other shapes of §9.21 by alert position, so even the smallest tenant (12 alerts) has
/// each: `relatedUser` as a string on 1 in 7, `mitreTechniques` as a string on 1 in 9,
/// timestamps without a zone on 1 in 10.
fn alert_drift(k: usize) -> u8 {
    let mut d = 0;
    if k % 7 == 3 {
        d |= alerts::USER_AS_TEXT;
    }
    if k % 9 == 4 {
        d |= alerts::MITRE_AS_TEXT;
    }
    if k % 10 == 6 {
        d |= alerts::TIMES_WITHOUT_ZONE;
    }
    d
}

pub fn generate(seed: u64, machines: usize, tenant_id: &str) -> Dataset {
    let mut ms: Vec<Machine> = Vec::with_capacity(machines);
    for i in 0..machines {
        let m = machine(seed, i, &ms);
        ms.push(m);
    }
    let by_id = ms
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id, i as u32))
        .collect();

    let n_cves = (machines / 20).clamp(60, 6000);
    let cves: Vec<Cve> = (0..n_cves).map(|k| cve(seed, k)).collect();
    let cves_by_product = Grouping::build(
        PRODUCTS.len(),
        cves.iter()
            .enumerate()
            .map(|(k, c)| (u32::from(c.product), k as u32)),
    );

    let mut rows: Vec<(u32, u32)> = Vec::with_capacity(machines * 10);
    for (i, m) in ms.iter().enumerate() {
        if m.software == 0 {
            continue;
        }
        let mut rng = Rng::derive(seed ^ ROW_STREAM, i as u64);
        for p in 0..PRODUCTS.len() {
            if m.software & (1 << p) == 0 {
                continue;
            }
            let list = cves_by_product.get(p);
            let mut k = rng.index(5).min(list.len());
            if i < 10 {
                k = k.max(1).min(list.len());
            }
            let start = rng.index(list.len());
            for j in 0..k {
                rows.push((i as u32, list[(start + j) % list.len()]));
            }
        }
    }
    let rows_by_machine = Grouping::build(
        machines,
        rows.iter().enumerate().map(|(r, (m, _))| (*m, r as u32)),
    );
    let rows_by_cve = Grouping::build(
        n_cves,
        rows.iter().enumerate().map(|(r, (_, c))| (*c, r as u32)),
    );

    let onboarded: Vec<u32> = ms
        .iter()
        .enumerate()
        .filter(|(_, m)| m.onboarded() && !m.duplicate)
        .map(|(i, _)| i as u32)
        .collect();
    let n_alerts = if onboarded.is_empty() {
        0
    } else {
        (machines / 2).max(12)
    };
    let mut alerts = Vec::with_capacity(n_alerts);
    for k in 0..n_alerts {
        let mut rng = Rng::derive(seed ^ ALERT_STREAM, k as u64);
        // The first 20 cover every severity x status pair (§11.17).
        let (severity, status) = if k < 20 {
            ((k % 5) as u8, (k % 4) as u8)
        } else {
            (
                rng.weighted(&[2, 20, 30, 28, 20]) as u8,
                rng.weighted(&[3, 35, 17, 45]) as u8,
            )
        };
        let machine = if k < 3 {
            0
        } else {
            onboarded[rng.index(onboarded.len())]
        };
        let classified = if status == 3 {
            rng.chance(85)
        } else {
            rng.chance(15)
        };
        alerts.push(Alert {
            machine,
            template: rng.index(super::catalog::ALERT_TEMPLATES.len()) as u8,
            severity,
            status,
            classification: if classified {
                rng.index(3) as u8 + 1
            } else {
                0
            },
            created: DATA_EPOCH - rng.below(90 * 86_400 * 10_000_000) as Nanos * 100,
            incident: 40_000 + rng.below(n_alerts as u64 / 2 + 1) as u32,
            drift: alert_drift(k),
            seed: rng.next_u64(),
            updated_at: None,
        });
    }
    let alerts_by_machine = Grouping::build(
        machines,
        alerts
            .iter()
            .enumerate()
            .map(|(k, a)| (a.machine, k as u32)),
    );

    // Defender derives riskScore from active alerts and exposureLevel from vulnerabilities
    // (§5.1); keep both consistent with the generated data.
    for (i, m) in ms.iter_mut().enumerate() {
        let sev = alerts_by_machine
            .get(i)
            .iter()
            .map(|a| &alerts[*a as usize])
            .filter(|a| a.active())
            .map(|a| a.severity)
            .max();
        m.risk = match sev {
            None => 0,
            Some(0 | 1) => 1,
            Some(s) => s,
        };
        let vmax = rows_by_machine
            .get(i)
            .iter()
            .map(|r| cves[rows[*r as usize].1 as usize].severity)
            .max();
        m.exposure = match vmax {
            None => 0,
            Some(s) => (s + 1).min(3),
        };
    }

    let mut software = vec![SoftwareStats::default(); PRODUCTS.len()];
    let mut exposed_cves = Vec::new();
    for (k, c) in cves.iter().enumerate() {
        let n = rows_by_cve.get(k).len();
        if n > 0 {
            exposed_cves.push(k as u32);
            let s = &mut software[c.product as usize];
            s.weaknesses += 1;
            s.public_exploit |= c.public_exploit;
            s.impact_score += f64::from(c.cvss10.unwrap_or(50)) / 100.0;
        }
    }
    for i in 0..machines {
        let mut seen = 0u64;
        for r in rows_by_machine.get(i) {
            seen |= 1 << cves[rows[*r as usize].1 as usize].product;
        }
        let active = alerts_by_machine
            .get(i)
            .iter()
            .any(|a| alerts[*a as usize].active());
        for (p, s) in software.iter_mut().enumerate() {
            if seen & (1 << p) != 0 {
                s.exposed_machines += 1;
                s.active_alert |= active;
            }
        }
    }
    let cve_by_id = cves
        .iter()
        .enumerate()
        .map(|(k, c)| (c.id(), k as u32))
        .collect::<HashMap<_, _>>();
    Dataset {
        tenant_id: tenant_id.to_owned(),
        machines: ms,
        by_id,
        alerts,
        alerts_by_machine,
        cves,
        cve_by_id,
        exposed_cves,
        rows,
        rows_by_machine,
        rows_by_cve,
        software,
        renamed: HashMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::machines::{self, ipv4, ANYCONNECT_MAC, DOCKER_BRIDGE_IP, ONBOARDING};
    use serde_json::Value;

    #[test]
    fn same_seed_same_data() {
        let a = generate(11, 300, "t");
        let b = generate(11, 300, "t");
        let c = generate(12, 300, "t");
        let ids = |d: &Dataset| d.machines.iter().map(|m| m.id_hex()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&c));
        assert_eq!(a.rows, b.rows);
        let json = |d: &Dataset| d.machine_json(17);
        assert_eq!(json(&a), json(&b));
        assert_eq!(a.alerts[5].id(), b.alerts[5].id());
        // Machine i does not depend on the machine count.
        assert_eq!(generate(11, 40, "t").machines[30].id, a.machines[30].id);
    }

    #[test]
    fn mixes_and_consistency() {
        let d = generate(3, 2000, "t");
        for s in 0..4u8 {
            assert!(
                d.machines.iter().any(|m| m.onboarding == s),
                "{}",
                ONBOARDING[s as usize]
            );
        }
        assert!(d.machines.iter().filter(|m| m.duplicate).count() >= 2);
        let merged = d
            .machines
            .iter()
            .position(|m| m.merged_into.is_some())
            .unwrap();
        let target = d.machines[merged].merged_into.unwrap() as usize;
        assert_eq!(
            d.machine_json(merged)["mergedIntoMachineId"],
            d.machines[target].id_hex()
        );
        assert_eq!(d.name(merged), d.name(target));
        let dup = &d.machines[7];
        assert!(dup.duplicate);
        assert_eq!(d.name(7), d.name(0));
        assert!(d.machines.iter().any(|m| m.rbac == 0));
        for sev in 0..4 {
            assert!(d.cves.iter().any(|c| c.severity == sev));
        }
        assert!(d.cves.iter().any(|c| c.cvss10.is_none()));
        assert!(d.cves.iter().any(|c| c.exploit_types & 0b1000 != 0));
        for sev in 0..5 {
            assert!(d.alerts.iter().any(|a| a.severity == sev));
        }
        for st in 0..4 {
            assert!(d.alerts.iter().any(|a| a.status == st));
        }
        // exposedMachines == number of distinct machines with rows for the CVE.
        for &c in d.exposed_cves.iter().take(50) {
            let mut ms: Vec<u32> = d
                .rows_by_cve
                .get(c as usize)
                .iter()
                .map(|r| d.rows[*r as usize].0)
                .collect();
            ms.sort_unstable();
            ms.dedup();
            assert_eq!(ms.len(), d.exposed(c as usize));
        }
        // Discovered devices have no software and no vulnerabilities.
        for (i, m) in d.machines.iter().enumerate() {
            if !m.onboarded() {
                assert!(d.rows_by_machine.get(i).is_empty());
            }
        }
        let ok = d
            .alerts
            .iter()
            .all(|a| d.machines[a.machine as usize].onboarded());
        assert!(ok);
    }

    /// The benchmark-sized tenant has the documented shape (its speed is the benchmarks'
    /// business, not a test's).
    #[test]
    fn generates_a_large_tenant() {
        let d = generate(42, 100_000, "t");
        assert_eq!(d.machines.len(), 100_000);
        assert_eq!(d.alerts.len(), 50_000);
        assert!(d.rows.len() > 800_000, "{}", d.rows.len());
    }

    /// (type, MAC or `primary`, operationalStatus) of each served adapter.
    fn adapters(d: &Dataset, i: usize) -> Vec<(&'static str, String, &'static str)> {
        let m = &d.machines[i];
        m.nics()
            .into_iter()
            .map(|n| {
                let mac = match n.mac {
                    Some(mac) if mac == m.mac() => "primary".to_owned(),
                    Some(mac) => mac,
                    None => "null".to_owned(),
                };
                (n.kind, mac, n.status)
            })
            .collect()
    }

    #[test]
    fn fixtures_ten_to_fifteen() {
        let eth = |mac: &str| ("Ethernet", mac.to_owned(), "Up");
        let lo = ("SoftwareLoopback", "null".to_owned(), "Up");
        for seed in [1, 7, 42] {
            let d = generate(seed, 16, "t");
            for i in 10..16 {
                let m = &d.machines[i];
                let facts = (ONBOARDING[m.onboarding as usize], m.health, m.duplicate);
                assert_eq!(facts, ("Onboarded", 0, false), "seed {seed} machine {i}");
                assert_eq!(d.machine_json(i)["ipAddresses"][0]["ipAddress"], ipv4(m.ip));
            }
            let (a, b) = (&d.machines[10], &d.machines[11]);
            assert_ne!((a.id, a.ip), (b.id, b.ip));
            assert_eq!(a.platform(), Some("WindowsServer2022"));
            assert_eq!(b.platform(), Some("WindowsServer2022"));
            assert_eq!(d.name(10).as_deref(), Some("tmpl-srv-clone"));
            assert_eq!(d.name(11).as_deref(), Some("tmpl-srv-clone"));
            assert_eq!(a.mac(), b.mac());
            assert_eq!(&a.mac()[..6], "005056");
            assert_eq!((a.clone_of, b.clone_of), (None, Some(10)));
            assert_eq!(
                adapters(&d, 10),
                [eth("primary"), eth("primary"), lo.clone(), lo.clone()]
            );
            assert_eq!(d.machine_json(10)["vmMetadata"], Value::Null);

            let vpn = "00059A3C7A00";
            let teredo = ("Tunnel", "null".to_owned(), "Up");
            assert_eq!(d.machines[12].platform(), Some("Windows11"));
            assert_eq!(
                adapters(&d, 12),
                [
                    eth("primary"),
                    eth("primary"),
                    eth(vpn),
                    eth(vpn),
                    teredo,
                    lo.clone(),
                    lo.clone()
                ]
            );
            let vpn_ip = d.machines[12].nics()[2].ip.clone();
            assert!(
                vpn_ip.starts_with("10.200.1") || vpn_ip.starts_with("10.200.2"),
                "{vpn_ip}"
            );

            let m13 = &d.machines[13];
            assert_eq!(m13.platform(), Some("Windows10"));
            let dongle = m13.nics()[2].mac.clone().unwrap();
            assert_eq!(
                adapters(&d, 13),
                [
                    eth("primary"),
                    eth("primary"),
                    ("Wireless80211", dongle, "NotPresent"),
                    eth(vpn),
                    eth(vpn),
                    ("Ppp", "null".to_owned(), "Up"),
                    ("Tunnel", "000000000000".to_owned(), "Down"),
                    lo.clone(),
                    lo.clone(),
                ]
            );
            assert_eq!(d.machine_json(13)["rbacGroupId"], "12");
            assert_eq!(d.machine_json(13)["rbacGroupName"], "Engineering");

            assert_eq!(d.machines[14].platform(), Some("Ubuntu"));
            assert_eq!(d.name(14).as_deref(), Some("localhost"));
            let bridge = d.machines[14].nics()[2].clone();
            let docker = bridge.mac.clone().unwrap();
            assert_eq!((bridge.ip.as_str(), &docker[..4]), ("172.17.0.1", "0242"));
            assert_eq!(
                adapters(&d, 14),
                [
                    eth("primary"),
                    eth("primary"),
                    eth(&docker),
                    lo.clone(),
                    lo.clone()
                ]
            );

            let m15 = d.machine_json(15);
            assert_eq!(m15["lastIpAddress"], Value::Null);
            assert_eq!(m15["ipAddresses"][0]["ipAddress"], ipv4(d.machines[15].ip));
            assert_eq!(
                adapters(&d, 15),
                [eth("primary"), eth("primary"), lo.clone(), lo.clone()]
            );
            for i in 0..16 {
                assert_eq!(d.machine_json(i)["rbacGroupId"].is_string(), i == 13, "{i}");
            }
        }
        // Configured names: a clone may be named apart from its template, a stale duplicate
        // never from its twin.
        let mut d = generate(9, 16, "t");
        d.renamed = [(10, "a".to_owned()), (0, "b".to_owned())].into();
        assert_eq!(
            (d.name(10), d.name(11)),
            (Some("a".into()), Some("a".into()))
        );
        assert_eq!(d.name(7).as_deref(), Some("b"));
        d.renamed.insert(11, "c".to_owned());
        d.renamed.insert(7, "d".to_owned());
        assert_eq!(
            (d.name(10), d.name(11)),
            (Some("a".into()), Some("c".into()))
        );
        assert_eq!(d.name(7).as_deref(), Some("b"));
        // Machine i does not depend on the machine count, fixtures included.
        let (small, big) = (generate(9, 12, "t"), generate(9, 300, "t"));
        assert_eq!(small.machine_json(11), big.machine_json(11));
    }

    #[test]
    fn later_machines_share_names_macs_and_addresses() {
        let d = generate(3, 3000, "t");
        let later = FIXTURES..d.machines.len();
        let localhost: Vec<usize> = (0..d.machines.len())
            .filter(|i| d.name(*i).as_deref() == Some("localhost"))
            .collect();
        assert!(localhost.len() >= 5, "{}", localhost.len());
        for i in &localhost {
            let m = &d.machines[*i];
            assert!(
                m.onboarded() && !m.duplicate && m.family() == Family::Linux,
                "{i}"
            );
        }
        // Clone pairs: distinct live devices with one name and one primary MAC.
        let clones: Vec<usize> = later
            .clone()
            .filter(|i| d.machines[*i].clone_of.is_some())
            .collect();
        assert!(clones.len() >= 3, "{}", clones.len());
        for i in &clones {
            let (m, j) = (&d.machines[*i], d.machines[*i].clone_of.unwrap() as usize);
            let t = &d.machines[j];
            assert_eq!((d.name(*i), m.mac()), (d.name(j), t.mac()));
            assert!(!m.duplicate && !t.duplicate && m.id != t.id && m.ip != t.ip);
            assert_eq!((m.health, t.health), (0, 0), "both Active");
            assert!(DATA_EPOCH - m.last_seen < 2 * DAY, "and recently seen");
        }
        // No stale duplicate pretends to be a clone or a localhost host.
        for m in d.machines.iter().filter(|m| m.duplicate) {
            let live = &d.machines[m.twin_of.unwrap() as usize];
            assert!(live.clone_of.is_none() && live.label == Label::Generated);
        }
        let share = |pick: &dyn Fn(&Machine) -> bool, of: &dyn Fn(&Machine) -> bool| {
            let pool: Vec<&Machine> = d.machines[FIXTURES..].iter().filter(|m| of(m)).collect();
            100 * pool.iter().filter(|m| pick(m)).count() / pool.len()
        };
        let windows_client =
            |m: &Machine| m.onboarded() && !m.duplicate && m.family() == Family::WindowsClient;
        let vpn = share(&|m| m.extras & VPN_ANYCONNECT != 0, &windows_client);
        assert!(
            (2..=9).contains(&vpn),
            "AnyConnect on {vpn}% of Windows clients"
        );
        let linux = |m: &Machine| m.onboarded() && !m.duplicate && m.family() == Family::Linux;
        let docker = share(&|m| m.extras & DOCKER_BRIDGE != 0, &linux);
        assert!(
            (20..=50).contains(&docker),
            "docker0 on {docker}% of Linux hosts"
        );
        let discovered = |m: &Machine| !m.onboarded();
        let no_ip = share(&|m| m.no_last_ip, &discovered);
        assert!((8..=25).contains(&no_ip), "null lastIpAddress on {no_ip}%");
        let text = share(&|m| m.rbac_text, &|_| true);
        assert!((6..=15).contains(&text), "string rbacGroupId on {text}%");

        // The AnyConnect MAC and docker0's address repeat; docker0's MACs do not.
        let nics: Vec<machines::Nic> = later.flat_map(|i| d.machines[i].nics()).collect();
        let vpn_macs = nics
            .iter()
            .filter(|n| n.mac.as_deref() == Some(ANYCONNECT_MAC))
            .count();
        assert!(vpn_macs >= 20, "{vpn_macs}");
        let bridges: Vec<&String> = nics
            .iter()
            .filter(|n| n.ip == DOCKER_BRIDGE_IP)
            .map(|n| n.mac.as_ref().unwrap())
            .collect();
        let unique: std::collections::HashSet<_> = bridges.iter().collect();
        assert!(bridges.len() >= 20 && unique.len() == bridges.len());
        for mac in bridges {
            let first = u8::from_str_radix(&mac[..2], 16).unwrap();
            assert_eq!(first & 0b10, 0b10, "{mac} is locally administered");
        }
        for kind in ["Ppp", "Tunnel"] {
            assert!(nics.iter().any(|n| n.kind == kind), "{kind}");
        }
        // Discovered devices without lastIpAddress: some still list their NIC, some nothing.
        let blank = d.machines.iter().filter(|m| m.no_last_ip);
        let listed = blank.clone().filter(|m| !m.nics().is_empty()).count();
        assert!(listed > 0 && listed < blank.count());
    }

    #[test]
    fn documented_types_and_their_other_shapes() {
        let d = generate(5, 100, "t");
        for (k, c) in d.cves.iter().enumerate() {
            let v = c.json(1);
            assert_eq!(v["cveSupportability"].is_array(), k % 10 == 7, "CVE {k}");
            if let Some(list) = v["cveSupportability"].as_array() {
                assert_eq!(list.len(), 1);
                assert!(list[0].is_string());
            }
        }
        for (k, a) in d.alerts.iter().enumerate() {
            let mut scratch = (String::new(), None);
            let v = a.json(&d.alert_on(a, &mut scratch), false);
            let user = &v["relatedUser"];
            if !user.is_null() {
                assert_eq!(user.is_string(), k % 7 == 3, "alert {k}: {user}");
            }
            if let Some(u) = user.as_str() {
                assert_eq!(u, format!("CONTOSO\\user{}", a.seed % 50));
            }
            let mitre = &v["mitreTechniques"];
            assert_eq!(mitre.is_string(), k % 9 == 4, "alert {k}");
            if let Some(m) = mitre.as_str() {
                assert_eq!(m, a.template().mitre.join(","));
            }
            let created = v["alertCreationTime"].as_str().unwrap();
            let zoned = created.ends_with('Z');
            assert_eq!(zoned, k % 10 != 6, "alert {k}: {created}");
            assert_eq!(v["lastUpdateTime"].as_str().unwrap().ends_with('Z'), zoned);
            let parsed = crate::sim::clock::parse_iso(created).unwrap();
            assert_eq!(parsed, a.created, "taken as UTC");
        }
        assert!(d
            .alerts
            .iter()
            .any(|a| a.drift & alerts::USER_AS_TEXT != 0 && a.seed % 3 != 2));
    }

    #[test]
    fn machine_json_shape() {
        let d = generate(1, 20, "t");
        let m = d.machine_json(0);
        assert_eq!(m["id"].as_str().unwrap().len(), 40);
        assert_eq!(m["onboardingStatus"], "Onboarded");
        let ips = m["ipAddresses"].as_array().unwrap();
        assert!(ips
            .iter()
            .any(|ip| ip["type"] == "SoftwareLoopback" && ip["macAddress"].is_null()));
        let mac = ips[0]["macAddress"].as_str().unwrap();
        assert!(
            mac.len() == 12
                && mac
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        let disc = d.machine_json(5);
        assert!(disc["osPlatform"].is_null() && disc["agentVersion"].is_null());
        let ungrouped = d.machine_json(2);
        assert_eq!(
            (
                ungrouped["rbacGroupId"].as_i64(),
                ungrouped["rbacGroupName"].is_null()
            ),
            (Some(0), true)
        );
    }
}
