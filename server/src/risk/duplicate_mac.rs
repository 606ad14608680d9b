//! The duplicate-MAC assessment: one MAC address seen where one device cannot be at once.
//!
//! The caller passes the sightings of one observation window, so "several places" means
//! "at the same time".
//!
//! | rule | level | why |
//! |---|---|---|
//! | reported by several sites | Medium | one NIC cannot be on two sites: a cloned or spoofed MAC (or a mis-merged record) |
//! | seen in several subnets at once | Medium | same reasoning inside one site; a spoofer borrowing a trusted device's MAC to pass MAC-based access control |
//! | reported by several live Microsoft Defender machines | Medium | distinct Defender records (not re-images of one device) with the same physical MAC: a cloned VM, or a spoofed MAC; the console keeps them apart and cannot tell which one the network sees |
//! | several IPs in one subnet | nothing | normal: DHCP renewals and several addresses on one NIC (defender-api.md §5.2: the same MAC repeats for each address) |
//! | all-zero, broadcast or malformed MAC | nothing | placeholders (tunnels, loopback) or bad input, not evidence |
//!
//! Both rules together stay Medium: they are the same suspicion seen twice, and spoofing is
//! only possible, not shown.

use std::collections::BTreeSet;

use app::model::risk::{Assessment, AssessmentKind, RiskLevel};

use crate::risk::facts::{DuplicateMacFact, MacSighting};
use crate::risk::finding::{assessment_from, Finding};

/// The MAC as 12 upper-case hex digits (§5.2's form), whatever separators the caller used.
fn normalised(mac: &str) -> String {
    mac.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Placeholders that many interfaces share by design, and malformed input, prove nothing.
fn is_placeholder(mac: &str) -> bool {
    let mac = normalised(mac);
    mac.len() != 12 || mac == "000000000000" || mac == "FFFFFFFFFFFF"
}

/// The distinct values of one field over all sightings, sorted so reasons are stable.
fn distinct<'a>(
    facts: &'a DuplicateMacFact,
    field: impl Fn(&'a MacSighting) -> &'a str,
) -> BTreeSet<&'a str> {
    facts.sightings.iter().map(field).collect()
}

/// Reported by several sites: Medium.
pub fn several_sites(facts: &DuplicateMacFact) -> Option<Finding> {
    let sites = distinct(facts, |s| s.site.as_str());
    (sites.len() > 1 && !is_placeholder(&facts.mac)).then(|| {
        Finding::new(
            RiskLevel::Medium,
            format!(
                "MAC {} is reported by {} sites at once ({}): possible spoofing or cloning",
                normalised(&facts.mac),
                sites.len(),
                sites.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// Seen in several subnets at once: Medium.
pub fn several_subnets(facts: &DuplicateMacFact) -> Option<Finding> {
    let subnets = distinct(facts, |s| s.subnet.as_str());
    (subnets.len() > 1 && !is_placeholder(&facts.mac)).then(|| {
        Finding::new(
            RiskLevel::Medium,
            format!(
                "MAC {} is seen in {} subnets at once ({}): possible spoofing or cloning",
                normalised(&facts.mac),
                subnets.len(),
                subnets.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// Reported by several live Defender machines: Medium.
pub fn several_defender_machines(facts: &DuplicateMacFact) -> Option<Finding> {
    let machines: BTreeSet<&str> = facts.defender_machines.iter().map(String::as_str).collect();
    (machines.len() > 1 && !is_placeholder(&facts.mac)).then(|| {
        Finding::new(
            RiskLevel::Medium,
            format!(
                "MAC {} is reported by {} live Microsoft Defender machines ({}): a cloned VM or \
                 a spoofed MAC; they are kept as separate endpoints",
                normalised(&facts.mac),
                machines.len(),
                machines.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// The duplicate-MAC assessment: the highest finding, with every finding as a factor.
pub fn assess(facts: &DuplicateMacFact) -> Assessment {
    let findings = [several_sites, several_subnets, several_defender_machines]
        .iter()
        .filter_map(|rule| rule(facts))
        .collect();
    let quiet = if is_placeholder(&facts.mac) {
        format!(
            "\"{}\" is not a real MAC address, so it proves nothing.",
            facts.mac
        )
    } else {
        format!("MAC {} is seen in one place only.", normalised(&facts.mac))
    };
    assessment_from(AssessmentKind::DuplicateMac, findings, quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sighting as (site, subnet, ip).
    type Place<'a> = (&'a str, &'a str, &'a str);

    fn seen(mac: &str, places: &[Place]) -> DuplicateMacFact {
        DuplicateMacFact {
            defender_machines: Vec::new(),
            mac: mac.into(),
            sightings: places
                .iter()
                .map(|&(site, subnet, ip)| MacSighting {
                    site: site.into(),
                    subnet: subnet.into(),
                    ip: ip.into(),
                })
                .collect(),
        }
    }

    #[test]
    fn duplicate_mac_table() {
        use RiskLevel as R;
        let mac = "00:15:5d:a1:b2:c3";
        // (mac, sightings, expected level, factor count, reason words)
        let cases: [(&str, &[Place], R, usize, &str); 9] = [
            (mac, &[], R::None, 0, "one place only"),
            (
                mac,
                &[("hq", "10.0.1.0/24", "10.0.1.5")],
                R::None,
                0,
                "00155DA1B2C3",
            ),
            (
                mac,
                &[
                    ("hq", "10.0.1.0/24", "10.0.1.5"),
                    ("hq", "10.0.1.0/24", "10.0.1.9"),
                ],
                R::None,
                0,
                "one place only",
            ),
            (
                mac,
                &[
                    ("hq", "10.0.1.0/24", "10.0.1.5"),
                    ("hq", "10.0.2.0/24", "10.0.2.5"),
                ],
                R::Medium,
                1,
                "2 subnets at once (10.0.1.0/24, 10.0.2.0/24)",
            ),
            (
                mac,
                &[
                    ("hq", "10.0.1.0/24", "10.0.1.5"),
                    ("lab", "10.0.1.0/24", "10.0.1.5"),
                ],
                R::Medium,
                1,
                "2 sites at once (hq, lab)",
            ),
            (
                mac,
                &[
                    ("lab", "10.9.0.0/16", "10.9.0.1"),
                    ("hq", "10.0.1.0/24", "10.0.1.5"),
                    ("hq", "10.0.1.0/24", "10.0.1.6"),
                ],
                R::Medium,
                2,
                "spoofing or cloning",
            ),
            (
                "000000000000",
                &[
                    ("hq", "10.0.1.0/24", "10.0.1.5"),
                    ("lab", "10.9.0.0/16", "10.9.0.1"),
                ],
                R::None,
                0,
                "not a real MAC",
            ),
            (
                "00:15:5d",
                &[
                    ("hq", "10.0.1.0/24", "10.0.1.5"),
                    ("lab", "10.9.0.0/16", "10.9.0.1"),
                ],
                R::None,
                0,
                "not a real MAC",
            ),
            (
                "ff-ff-ff-ff-ff-ff",
                &[
                    ("hq", "10.0.1.0/24", "10.0.1.5"),
                    ("lab", "10.9.0.0/16", "10.9.0.1"),
                ],
                R::None,
                0,
                "not a real MAC",
            ),
        ];
        for (mac, places, level, count, words) in cases {
            let assessment = assess(&seen(mac, places));
            assert_eq!(assessment.level, level, "{places:?}");
            assert_eq!(assessment.kind, AssessmentKind::DuplicateMac);
            assert_eq!(assessment.factors.len(), count, "{:?}", assessment.factors);
            assert!(
                assessment.reason.contains(words),
                "{words:?} in {}",
                assessment.reason
            );
        }
    }

    #[test]
    fn a_mac_several_live_defender_machines_report_is_medium() {
        let mut facts = seen("00:50:56:a1:b2:c3", &[]);
        facts.defender_machines = vec!["vm-b".into(), "vm-a".into(), "vm-a".into()];
        let a = assess(&facts);
        assert_eq!(a.level, RiskLevel::Medium);
        assert_eq!(a.factors.len(), 1);
        assert!(
            a.reason
                .contains("reported by 2 live Microsoft Defender machines (vm-a, vm-b)"),
            "{}",
            a.reason
        );
        facts.defender_machines.truncate(1);
        assert_eq!(assess(&facts).level, RiskLevel::None);
    }
}
