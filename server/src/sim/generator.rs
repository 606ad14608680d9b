//! Deterministic tenant generator: the same seed always yields the same machines, CVEs,
//! machine-vulnerability rows, alerts and software (defender-api.md §11.16–11.19).
//!
//! Each entity draws from its own derived random stream, so machine `i` is identical
//! whatever the total machine count. Storage is compact (indices, no per-item strings
//! except what serialisation derives), so 100,000 machines, ~1,000,000 rows and 50,000
//! alerts generate in seconds.

use std::collections::HashMap;

use super::alerts::Alert;
use super::catalog::{os_index, Family, OS_RELEASES, PRODUCTS};
use super::clock::{Nanos, DATA_EPOCH, SEC};
use super::dataset::{Dataset, Grouping};
use super::machines::{Gadget, Machine, INACTIVE, ONBOARDED};
use super::rng::Rng;
use super::software::SoftwareStats;
use super::vulnerabilities::Cve;

const DAY: Nanos = 86_400 * SEC;
const CVE_STREAM: u64 = 0xC7E0_0000_0000_0000;
const ROW_STREAM: u64 = 0x5EED_0000_0000_0000;
const ALERT_STREAM: u64 = 0xA1E7_0000_0000_0000;

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
        8 => (ONBOARDED, Some(os_index("WindowsServer2022", None)), 0),
        9 => (ONBOARDED, Some(os_index("Windows7", None)), 0),
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
        first_seen: first_seen.min(last_seen),
        last_seen,
        duplicate: false,
        merged_into: None,
        wifi: matches!(family, Family::WindowsClient | Family::Mac) && rng.chance(40),
        aad: family == Family::WindowsClient && onboarding == ONBOARDED && rng.chance(70),
        software,
        seed: rng.next_u64(),
    };
    // A re-imaged device leaves a stale record with the same name (§9.3): machine 7 is the
    // stale twin of machine 0, later ones appear at random.
    let twin_of = match i {
        7 if !done.is_empty() => Some(0),
        i if i > 10 && rng.chance(2) => Some(rng.index(i)),
        _ => None,
    };
    if let Some(j) = twin_of {
        let live = &done[j];
        if live.onboarded() && !live.duplicate {
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
            // Some stale records already point at their live twin, others do not yet.
            if i > 10 && rng.chance(50) {
                m.merged_into = Some(j as u32);
            }
        }
    }
    m
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
        seed: rng.next_u64(),
    }
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
            seed: rng.next_u64(),
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
    use crate::sim::machines::ONBOARDING;

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
