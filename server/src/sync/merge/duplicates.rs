//! Re-imaged and re-onboarded devices: Defender keeps their old records beside the new one
//! (defender-api.md §9.3). These records, and only these, are grouped under one device.
//!
//! A record is *live* unless Defender marks it `isPotentialDuplication` or gives it a
//! `mergedIntoMachineId`. A record that is not live joins:
//! - the record its `mergedIntoMachineId` names (following a chain to a live record), when
//!   Defender lists that record;
//! - else, when it is a potential duplicate, the one live record with the same
//!   `computerDnsName` (ignoring case) that was seen later. With several such records the
//!   name proves nothing (devices named after their model, cloned VMs, `localhost`, §9.19),
//!   so it stays alone and says why.
//!
//! Two live records never share a group, whatever their names: a shared name without
//! `isPotentialDuplication` means distinct devices (§9.19).

use std::collections::HashMap;
use std::net::IpAddr;

use super::MachineFacts;

/// How a record joined its group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The live record the group is built around (the target of actions).
    Root,
    /// `mergedIntoMachineId` names the group's root (or a record that leads to it).
    MergedInto(String),
    /// `isPotentialDuplication`, the same name as the root, seen earlier.
    Duplicate { name: String },
    /// Not live and joined to nothing; the reason is shown.
    Alone(String),
}

/// One device: its records, the root (a live record when it has one) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub members: Vec<(usize, Link)>,
}

impl Group {
    pub fn root(&self) -> usize {
        self.members[0].0
    }
}

/// A live record can be acted on and speaks for the device.
pub fn is_live(m: &MachineFacts) -> bool {
    !m.potential_duplicate && m.merged_into.is_none()
}

/// The name duplicates are matched on, unless it is blank or an IP address (discovered
/// devices are often named by their address, §9.5).
pub fn name_key(name: Option<&str>) -> Option<String> {
    let name = name?.trim();
    (!name.is_empty() && name.parse::<IpAddr>().is_err()).then(|| name.to_ascii_lowercase())
}

/// Groups the records; every machine appears in exactly one group. Groups come in machine
/// order of their roots, members in machine order.
pub fn group(machines: &[MachineFacts]) -> Vec<Group> {
    let by_id: HashMap<&str, usize> = machines
        .iter()
        .enumerate()
        .map(|(i, m)| (m.machine_id.as_str(), i))
        .collect();
    let mut live_by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, m) in machines.iter().enumerate() {
        if let (true, Some(key)) = (is_live(m), name_key(m.dns_name.as_deref())) {
            live_by_name.entry(key).or_default().push(i);
        }
    }
    // Where each record that is not live goes: `Ok(root)` or `Err(why it stays alone)`.
    let parent = |i: usize| -> Result<(usize, Link), String> {
        let m = &machines[i];
        if let Some(target) = &m.merged_into {
            let mut at = *by_id
                .get(target.to_ascii_lowercase().as_str())
                .or_else(|| by_id.get(target.as_str()))
                .ok_or_else(|| {
                    format!("Defender merged it into {target}, which it no longer lists")
                })?;
            // A chain of merges ends at a live record; a loop or a dead end leaves it alone.
            for _ in 0..machines.len() {
                if is_live(&machines[at]) {
                    return Ok((at, Link::MergedInto(target.clone())));
                }
                let next = machines[at]
                    .merged_into
                    .as_deref()
                    .and_then(|t| by_id.get(t.to_ascii_lowercase().as_str()));
                match next {
                    Some(&n) if n != at => at = n,
                    _ => break,
                }
            }
            return Err(format!(
                "Defender merged it into {target}, which leads to no live record"
            ));
        }
        let key = name_key(m.dns_name.as_deref())
            .ok_or_else(|| "a potential duplicate without a usable name".to_owned())?;
        let later: Vec<usize> = live_by_name
            .get(&key)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&j| match (&m.last_seen, &machines[j].last_seen) {
                (Some(old), Some(new)) => new > old,
                (None, _) => true,
                (Some(_), None) => false,
            })
            .collect();
        match later.as_slice() {
            [one] => Ok((
                *one,
                Link::Duplicate {
                    name: m.dns_name.clone().unwrap_or_default(),
                },
            )),
            [] => Err(
                "a potential duplicate, but no live record with its name was seen later".to_owned(),
            ),
            several => Err(format!(
                "a potential duplicate, but {} live records share its name, so the name proves \
                 nothing",
                several.len()
            )),
        }
    };
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of_root: HashMap<usize, usize> = HashMap::new();
    let mut joining: Vec<(usize, usize, Link)> = Vec::new();
    for (i, m) in machines.iter().enumerate() {
        if is_live(m) {
            group_of_root.insert(i, groups.len());
            groups.push(Group {
                members: vec![(i, Link::Root)],
            });
            continue;
        }
        match parent(i) {
            Ok((root, link)) => joining.push((i, root, link)),
            Err(why) => groups.push(Group {
                members: vec![(i, Link::Alone(why))],
            }),
        }
    }
    for (i, root, link) in joining {
        let g = group_of_root[&root];
        groups[g].members.push((i, link));
    }
    groups.sort_by_key(Group::root);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, name: &str, seen: &str) -> MachineFacts {
        MachineFacts {
            machine_id: id.into(),
            dns_name: Some(name.into()),
            last_seen: Some(seen.into()),
            ..MachineFacts::default()
        }
    }

    fn stale(id: &str, name: &str, seen: &str) -> MachineFacts {
        MachineFacts {
            potential_duplicate: true,
            ..record(id, name, seen)
        }
    }

    fn shape(groups: &[Group], machines: &[MachineFacts]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| {
                g.members
                    .iter()
                    .map(|(i, _)| machines[*i].machine_id.clone())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_shared_name_alone_never_groups_live_records() {
        let machines = [
            record("a", "Cisco IP Phone 8845", "2026-11-20T00:00:00Z"),
            record("b", "Cisco IP Phone 8845", "2026-11-21T00:00:00Z"),
            record("c", "localhost", "2026-11-21T00:00:00Z"),
            record("d", "LOCALHOST", "2026-11-22T00:00:00Z"),
        ];
        let groups = group(&machines);
        assert_eq!(shape(&groups, &machines), [["a"], ["b"], ["c"], ["d"]]);
    }

    #[test]
    fn a_potential_duplicate_joins_the_one_live_record_with_its_name_seen_later() {
        let machines = [
            record("live", "ws-1.corp", "2026-11-20T00:00:00Z"),
            stale("old", "WS-1.corp", "2026-09-01T00:00:00Z"),
            // Seen after the live record: not the older copy of it.
            stale("newer", "ws-1.corp", "2026-11-25T00:00:00Z"),
        ];
        let groups = group(&machines);
        assert_eq!(
            shape(&groups, &machines),
            [vec!["live", "old"], vec!["newer"]]
        );
        assert_eq!(
            groups[0].members[1].1,
            Link::Duplicate {
                name: "WS-1.corp".into()
            }
        );
        assert!(matches!(&groups[1].members[0].1, Link::Alone(why) if why.contains("seen later")));
    }

    #[test]
    fn a_duplicate_of_a_name_several_live_records_share_stays_alone() {
        let machines = [
            record("vm1", "tmpl-srv-clone", "2026-11-20T00:00:00Z"),
            record("vm2", "tmpl-srv-clone", "2026-11-21T00:00:00Z"),
            stale("old", "tmpl-srv-clone", "2026-01-01T00:00:00Z"),
        ];
        let groups = group(&machines);
        assert_eq!(shape(&groups, &machines), [["vm1"], ["vm2"], ["old"]]);
        assert!(matches!(&groups[2].members[0].1, Link::Alone(why) if why.contains("2 live")));
    }

    #[test]
    fn merged_into_is_followed_to_a_live_record_whatever_the_name() {
        let mut merged = record("m", "old-name", "2026-01-01T00:00:00Z");
        merged.merged_into = Some("mid".into());
        let mut mid = stale("mid", "other", "2026-02-01T00:00:00Z");
        mid.merged_into = Some("LIVE".into());
        let mut lost = record("lost", "x", "2026-01-01T00:00:00Z");
        lost.merged_into = Some("nowhere".into());
        let mut looped = record("loop", "y", "2026-01-01T00:00:00Z");
        looped.merged_into = Some("loop".into());
        let machines = [
            record("live", "new-name", "2026-11-20T00:00:00Z"),
            merged,
            mid,
            lost,
            looped,
        ];
        let groups = group(&machines);
        assert_eq!(
            shape(&groups, &machines),
            [vec!["live", "m", "mid"], vec!["lost"], vec!["loop"]]
        );
        assert_eq!(groups[0].members[1].1, Link::MergedInto("mid".into()));
    }

    #[test]
    fn names_that_are_addresses_or_blank_do_not_group() {
        let machines = [
            record("a", "10.0.0.9", "2026-11-20T00:00:00Z"),
            stale("b", "10.0.0.9", "2026-01-01T00:00:00Z"),
            record("c", " ", "2026-11-20T00:00:00Z"),
            stale("d", " ", "2026-01-01T00:00:00Z"),
        ];
        let groups = group(&machines);
        assert_eq!(shape(&groups, &machines), [["a"], ["b"], ["c"], ["d"]]);
    }
}
