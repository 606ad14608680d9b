//! Which endpoint each Defender machine belongs to (the merge rules).
//!
//! 1. **MAC**: a MAC from the machine's `ipAddresses[].macAddress` (12 hex digits, §5.2) equals
//!    an endpoint's MAC.
//! 2. **IP + host name**: the machine's `lastIpAddress` or one of its `ipAddresses` is one of
//!    the endpoint's IPs *and* the first label of `computerDnsName` equals the first label of
//!    one of the endpoint's host names, ignoring case. An IP alone proves nothing (DHCP reuses
//!    addresses), a name alone neither (names repeat across sites).
//! 3. Otherwise **Defender-only**: the machine keeps the endpoint an earlier sync created for it,
//!    or gets a new one keyed by its MAC when it reports one, else by its machine id.
//!
//! Duplicate records of one device (same `computerDnsName` after a re-image, §9.3) are merged
//! as a group: they all point at one endpoint, whose representative is the newest active one.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::discovery::MacAddress;

/// What the merge needs to know about one machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineFacts {
    pub machine_id: String,
    pub dns_name: Option<String>,
    pub last_ip: Option<String>,
    pub ips: Vec<String>,
    pub macs: Vec<MacAddress>,
    pub health_active: bool,
    pub potential_duplicate: bool,
    pub merged_into: Option<String>,
    /// RFC 3339, so that text order is time order.
    pub last_seen: Option<String>,
    /// The endpoint an earlier sync linked the machine to.
    pub endpoint_id: Option<i64>,
}

/// What the merge needs to know about one stored endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownEndpoint {
    pub endpoint_id: i64,
    pub mac: Option<MacAddress>,
    pub ips: Vec<String>,
    pub hostnames: Vec<String>,
}

/// One line of `endpoint.merge_evidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub machine_id: String,
    pub rule: &'static str,
    pub detail: String,
}

/// Where a group of machines goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Existing(i64),
    /// Index into [`MergePlan::new_endpoints`].
    New(usize),
}

/// An endpoint to create for machines that matched nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub mac: Option<MacAddress>,
}

/// The machines of one endpoint, with the representative first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub target: Target,
    /// Indices into the machines slice; the first is the representative.
    pub machines: Vec<usize>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergePlan {
    pub new_endpoints: Vec<NewEndpoint>,
    pub assignments: Vec<Assignment>,
}

/// Parses Defender's MAC form (`00155DA1B2C3`) or any form `MacAddress::parse` accepts.
pub fn parse_mac(text: &str) -> Option<MacAddress> {
    MacAddress::parse(text.trim()).ok()
}

fn first_label(name: &str) -> String {
    name.trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The group key of a machine: its DNS name (duplicates share it), unless the name is blank
/// or an IP address (discovered devices are often named by their IP, §9.5).
fn group_key(m: &MachineFacts) -> String {
    match m.dns_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() && name.parse::<IpAddr>().is_err() => {
            format!("name:{}", name.to_ascii_lowercase())
        }
        _ => format!("id:{}", m.machine_id),
    }
}

/// Orders machines best-representative first: Active, not a potential duplicate, not merged
/// into another record, latest `lastSeen`, then id for a stable choice.
fn representative_order(a: &MachineFacts, b: &MachineFacts) -> std::cmp::Ordering {
    let key = |m: &MachineFacts| {
        (
            m.health_active,
            !m.potential_duplicate,
            m.merged_into.is_none(),
            m.last_seen.clone(),
        )
    };
    key(b)
        .cmp(&key(a))
        .then_with(|| a.machine_id.cmp(&b.machine_id))
}

/// Applies the merge rules to every machine.
pub fn plan(machines: &[MachineFacts], endpoints: &[KnownEndpoint]) -> MergePlan {
    let mut by_mac: HashMap<MacAddress, Target> = HashMap::new();
    let mut by_ip: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_id: HashMap<i64, usize> = HashMap::new();
    for (i, e) in endpoints.iter().enumerate() {
        if let Some(mac) = e.mac {
            by_mac.insert(mac, Target::Existing(e.endpoint_id));
        }
        for ip in &e.ips {
            by_ip.entry(ip.as_str()).or_default().push(i);
        }
        by_id.insert(e.endpoint_id, i);
    }

    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (i, m) in machines.iter().enumerate() {
        let key = group_key(m);
        let members = groups.entry(key.clone()).or_default();
        if members.is_empty() {
            order.push(key);
        }
        members.push(i);
    }

    let mut plan = MergePlan::default();
    let mut by_target: HashMap<Target, usize> = HashMap::new();
    for key in order {
        let mut members = groups.remove(&key).unwrap_or_default();
        members.sort_by(|&a, &b| representative_order(&machines[a], &machines[b]));
        let (target, rule, detail) = match_group(
            &members, machines, endpoints, &by_mac, &by_ip, &by_id,
        )
        .unwrap_or_else(|| {
            let rep = &machines[members[0]];
            let mac = members
                .iter()
                .flat_map(|&i| machines[i].macs.iter().copied())
                .find(|mac| !by_mac.contains_key(mac));
            plan.new_endpoints.push(NewEndpoint { mac });
            let target = Target::New(plan.new_endpoints.len() - 1);
            if let Some(mac) = mac {
                by_mac.insert(mac, target);
            }
            let detail = match mac {
                Some(mac) => format!("no discovered endpoint matched; keyed by MAC {mac}"),
                None => format!(
                    "no discovered endpoint matched; keyed by machine id {}",
                    rep.machine_id
                ),
            };
            (target, "defender-only", detail)
        });
        let evidence = members.iter().map(|&i| Evidence {
            machine_id: machines[i].machine_id.clone(),
            rule,
            detail: detail.clone(),
        });
        match by_target.get(&target) {
            Some(&at) => {
                let a = &mut plan.assignments[at];
                a.machines.extend(&members);
                a.machines
                    .sort_by(|&x, &y| representative_order(&machines[x], &machines[y]));
                a.evidence.extend(evidence);
            }
            None => {
                by_target.insert(target, plan.assignments.len());
                plan.assignments.push(Assignment {
                    target,
                    evidence: evidence.collect(),
                    machines: members,
                });
            }
        }
    }
    plan
}

fn match_group(
    members: &[usize],
    machines: &[MachineFacts],
    endpoints: &[KnownEndpoint],
    by_mac: &HashMap<MacAddress, Target>,
    by_ip: &HashMap<&str, Vec<usize>>,
    by_id: &HashMap<i64, usize>,
) -> Option<(Target, &'static str, String)> {
    for &i in members {
        for mac in &machines[i].macs {
            if let Some(&target) = by_mac.get(mac) {
                return Some((target, "mac", format!("MAC {mac} reported by Defender")));
            }
        }
    }
    for &i in members {
        let m = &machines[i];
        let Some(label) = m.dns_name.as_deref().map(first_label) else {
            continue;
        };
        if label.is_empty() {
            continue;
        }
        for ip in m.last_ip.iter().chain(&m.ips) {
            for &e in by_ip.get(ip.as_str()).into_iter().flatten() {
                let endpoint = &endpoints[e];
                if endpoint.hostnames.iter().any(|h| first_label(h) == label) {
                    return Some((
                        Target::Existing(endpoint.endpoint_id),
                        "ip+hostname",
                        format!("IP {ip} and host name {label} agree"),
                    ));
                }
            }
        }
    }
    for &i in members {
        if let Some(id) = machines[i].endpoint_id.filter(|id| by_id.contains_key(id)) {
            return Some((
                Target::Existing(id),
                "defender-only",
                "no discovered endpoint matched; imported from Defender earlier".to_owned(),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(id: &str, name: Option<&str>, ip: Option<&str>, mac: Option<&str>) -> MachineFacts {
        MachineFacts {
            machine_id: id.into(),
            dns_name: name.map(Into::into),
            last_ip: ip.map(Into::into),
            ips: ip.map(|i| vec![i.to_owned()]).unwrap_or_default(),
            macs: mac.and_then(parse_mac).into_iter().collect(),
            health_active: true,
            last_seen: Some("2026-01-01T00:00:00Z".into()),
            ..MachineFacts::default()
        }
    }

    fn endpoint(id: i64, mac: Option<&str>, ip: &str, host: &str) -> KnownEndpoint {
        KnownEndpoint {
            endpoint_id: id,
            mac: mac.and_then(parse_mac),
            ips: vec![ip.into()],
            hostnames: if host.is_empty() {
                vec![]
            } else {
                vec![host.into()]
            },
        }
    }

    /// (machine name, ip, mac) against one endpoint (mac, ip, host) -> expected rule.
    #[test]
    fn rule_table() {
        type Row = (
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            &'static str,
        );
        let known = endpoint(
            1,
            Some("00:15:5D:A1:B2:C3"),
            "10.0.0.5",
            "eng-ws-17.lab.test",
        );
        let cases: [Row; 7] = [
            // MAC wins whatever the name and IP say.
            (Some("other"), Some("10.9.9.9"), Some("00155DA1B2C3"), "mac"),
            (None, None, Some("00155da1b2c3"), "mac"),
            // IP and first label agree, case-insensitively.
            (
                Some("ENG-WS-17.corp.fabrikam.test"),
                Some("10.0.0.5"),
                None,
                "ip+hostname",
            ),
            (
                Some("eng-ws-17"),
                Some("10.0.0.5"),
                Some("AABBCCDDEEFF"),
                "ip+hostname",
            ),
            // IP alone, or name alone, is not enough.
            (Some("printer-3"), Some("10.0.0.5"), None, "defender-only"),
            (Some("eng-ws-17"), Some("10.0.0.6"), None, "defender-only"),
            (None, Some("10.0.0.5"), None, "defender-only"),
        ];
        for (name, ip, mac, rule) in cases {
            let plan = plan(
                &[machine("m1", name, ip, mac)],
                std::slice::from_ref(&known),
            );
            assert_eq!(plan.assignments.len(), 1);
            let a = &plan.assignments[0];
            assert_eq!(a.evidence[0].rule, rule, "{name:?} {ip:?} {mac:?}");
            let expected = if rule == "defender-only" {
                Target::New(0)
            } else {
                Target::Existing(1)
            };
            assert_eq!(a.target, expected, "{name:?} {ip:?} {mac:?}");
        }
    }

    #[test]
    fn unmatched_machines_are_keyed_by_mac_else_by_id() {
        let plan = plan(
            &[
                machine("m1", Some("a"), None, Some("001122334455")),
                machine("m2", Some("b"), None, None),
            ],
            &[],
        );
        assert_eq!(
            plan.new_endpoints,
            [
                NewEndpoint {
                    mac: parse_mac("00:11:22:33:44:55")
                },
                NewEndpoint { mac: None }
            ]
        );
    }

    #[test]
    fn duplicates_share_one_endpoint_and_the_newest_active_represents_it() {
        let live = machine(
            "live",
            Some("ws-1.corp"),
            Some("10.0.0.1"),
            Some("001122334455"),
        );
        let mut stale = machine(
            "stale",
            Some("WS-1.corp"),
            Some("10.0.0.1"),
            Some("0011223344AA"),
        );
        stale.health_active = false;
        stale.potential_duplicate = true;
        stale.last_seen = Some("2025-01-01T00:00:00Z".into());
        let mut newer_but_merged = machine("merged", Some("ws-1.corp"), None, None);
        newer_but_merged.merged_into = Some("live".into());
        newer_but_merged.last_seen = Some("2027-01-01T00:00:00Z".into());
        let machines = [stale, newer_but_merged, live];
        let plan = plan(&machines, &[]);
        assert_eq!(plan.assignments.len(), 1);
        assert_eq!(plan.new_endpoints.len(), 1);
        let rep = plan.assignments[0].machines[0];
        assert_eq!(machines[rep].machine_id, "live");
        assert_eq!(plan.assignments[0].evidence.len(), 3);
    }

    #[test]
    fn names_that_are_ip_addresses_do_not_group() {
        let plan = plan(
            &[
                machine("a", Some("10.0.0.9"), Some("10.0.0.9"), None),
                machine("b", Some("10.0.0.9"), Some("10.0.0.9"), None),
            ],
            &[],
        );
        assert_eq!(plan.new_endpoints.len(), 2);
    }

    #[test]
    fn an_earlier_link_is_kept_when_no_rule_matches() {
        let mut m = machine("m1", Some("x"), None, None);
        m.endpoint_id = Some(7);
        let plan = plan(&[m], &[endpoint(7, None, "10.1.1.1", "")]);
        assert_eq!(plan.assignments[0].target, Target::Existing(7));
        assert!(plan.new_endpoints.is_empty());
    }
}
