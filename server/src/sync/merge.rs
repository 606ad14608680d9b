//! Which endpoint each Defender machine belongs to: the identity rules. One endpoint is one
//! physical device; a rule joins two records only on evidence a reviewer can check, and the
//! evidence is stored with the endpoint (`evidence`) and shown on its Summary.
//!
//! 1. **Records of one device** (`duplicates`): a record Defender marks as a potential
//!    duplicate (same name, seen earlier) or as merged into another stays with the live record
//!    of its device, which is the device's target for actions. A name alone never joins two
//!    machines: model-named devices, cloned VMs and `localhost` share names (§9.19).
//! 2. **MAC**: a live machine joins the endpoint with its MAC when the MAC belongs to a
//!    physical adapter (`adapter`) and no other live machine reports it. The adapters are the
//!    machine record's and, for an adapter without an address that the record leaves out (a
//!    switched-off Wi-Fi radio), advanced hunting's (`adapter::hunted_identity_mac`). A MAC
//!    that several live machines report is a *conflict*: none of them joins by it, each
//!    keeps its own endpoint, and every endpoint concerned shows the conflict (the
//!    duplicate-MAC assessment counts it).
//! 3. **IP + host name**: otherwise a live machine joins a network-discovered endpoint when one
//!    of its addresses is one of the endpoint's and the first label of its name is the first
//!    label of one of the endpoint's host names, both seen within the inactivity window. An IP
//!    alone proves nothing (DHCP reuses addresses), a name alone neither. When several machines
//!    match one endpoint, or one machine several endpoints, the match is *ambiguous* and joins
//!    nothing.
//! 4. **Earlier link**: otherwise a device keeps the endpoint an earlier sync gave it, unless
//!    something now contradicts that join (the endpoint's MAC became a conflict, its match
//!    became ambiguous, or another device joins it by MAC).
//! 5. Otherwise the device gets an endpoint of its own, keyed by its identity MAC when it has
//!    a free one (so a later scan that sees that MAC finds it), else by its machine id.
//!
//! An admin can split a machine off an endpoint; the split is pinned (`machine_split`) and
//! every later sync honours it until it is undone.

pub mod adapter;
pub mod duplicates;
pub mod evidence;

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::discovery::MacAddress;
use duplicates::{Group, Link};
use evidence::{Conflict, Evidence, Join, Note, NoteKind, Rule};

/// What the merge needs to know about one machine present in the latest listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineFacts {
    pub machine_id: String,
    pub dns_name: Option<String>,
    /// Addresses that place it on the network (`adapter::routable_ips`).
    pub ips: Vec<String>,
    /// MACs of its physical adapters (`adapter::identity_macs`): the machine listing's in
    /// adapter order, then those only advanced hunting reports.
    pub macs: Vec<MacAddress>,
    /// Those of `macs` that only advanced hunting reports (`DeviceNetworkInfo`: an adapter
    /// without an address, such as a switched-off Wi-Fi radio, which the machine record
    /// leaves out), named as such in the evidence.
    pub hunted_macs: Vec<MacAddress>,
    pub potential_duplicate: bool,
    pub merged_into: Option<String>,
    /// RFC 3339 in UTC, so that text order is time order.
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
    /// Network discovery has seen it (an nmap upload or a sensor).
    pub source_network: bool,
    /// RFC 3339 in UTC.
    pub last_seen: String,
    /// The machine that represents it today, if any.
    pub representative: Option<String>,
}

/// A pinned split: the machine never joins the endpoint again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Split {
    pub machine_id: String,
    pub endpoint_id: i64,
}

/// Where a device goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Existing(i64),
    /// Index into [`MergePlan::new_endpoints`].
    New(usize),
}

/// An endpoint to create for a device that matched nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub mac: Option<MacAddress>,
}

/// One device and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub target: Target,
    /// Indices into the machines; the first is the representative (the target of actions).
    pub machines: Vec<usize>,
    pub evidence: Evidence,
}

/// An existing endpoint that ends up without a present machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub endpoint_id: i64,
    /// Where the machine that represented it went.
    pub successor: Option<Target>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergePlan {
    pub new_endpoints: Vec<NewEndpoint>,
    pub assignments: Vec<Assignment>,
    /// Evidence of existing endpoints that hold no machine (conflicts, ambiguities, notes);
    /// endpoints not listed here and not assigned have none.
    pub unassigned: HashMap<i64, Evidence>,
    /// Endpoints that had present machines before and have none now.
    pub released: Vec<Released>,
    /// New `mac` keys of Defender-only endpoints: cleared when their MAC became a conflict,
    /// set when their device has a free identity MAC and they had none.
    pub rekeyed: Vec<(i64, Option<MacAddress>)>,
}

/// The inputs of [`plan`].
pub struct Inputs<'a> {
    pub machines: &'a [MachineFacts],
    pub endpoints: &'a [KnownEndpoint],
    pub splits: &'a [Split],
    /// IP + host name evidence counts only when both sides were seen at or after this time
    /// (RFC 3339 in UTC: the start of the inactivity window).
    pub recent_since: &'a str,
}

fn first_label(name: &str) -> String {
    name.trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A host-name label that can identify a device: not blank, not an address, not `localhost`.
fn usable_label(name: Option<&str>) -> Option<String> {
    let key = duplicates::name_key(name)?;
    let label = first_label(&key);
    (!label.is_empty() && label != "localhost").then_some(label)
}

/// How far a claim on an endpoint reaches: a MAC beats an IP + host name, which beats an
/// earlier link.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Claim {
    Mac(MacAddress),
    IpHostname { ip: String, label: String },
    EarlierLink,
}

/// A device's IP + host name match on an endpoint: (device, the address, the label).
type IpClaim = (usize, String, String);

struct Planner<'a> {
    inputs: &'a Inputs<'a>,
    groups: Vec<Group>,
    by_endpoint: HashMap<i64, usize>,
    by_mac: HashMap<MacAddress, usize>,
    /// Network-discovered endpoints by each of their addresses.
    by_ip: HashMap<&'a str, Vec<usize>>,
    /// Endpoints by the machine that represents them.
    by_representative: HashMap<&'a str, usize>,
    /// The device of each machine id.
    device: HashMap<&'a str, usize>,
    /// Live devices reporting each identity MAC.
    reporters: HashMap<MacAddress, Vec<usize>>,
    splits: HashSet<(&'a str, i64)>,
    /// Endpoint taken by each device, and why.
    chosen: Vec<Option<(Target, Claim)>>,
    taken: HashMap<i64, usize>,
    /// Endpoints whose IP + host name match is ambiguous: nothing may join them by it, and an
    /// earlier link to them is contradicted.
    ambiguous: HashMap<i64, Vec<usize>>,
    device_notes: Vec<Vec<Note>>,
    endpoint_notes: HashMap<i64, Vec<Note>>,
}

impl<'a> Planner<'a> {
    fn machine(&self, i: usize) -> &'a MachineFacts {
        &self.inputs.machines[i]
    }

    fn root(&self, g: usize) -> &'a MachineFacts {
        self.machine(self.groups[g].root())
    }

    fn live(&self, g: usize) -> bool {
        duplicates::is_live(self.root(g))
    }

    fn endpoint(&self, id: i64) -> Option<&'a KnownEndpoint> {
        self.by_endpoint
            .get(&id)
            .map(|&e| &self.inputs.endpoints[e])
    }

    fn split(&self, g: usize, endpoint_id: i64) -> bool {
        self.splits
            .contains(&(self.root(g).machine_id.as_str(), endpoint_id))
    }

    /// The identity MACs of a device that no other live device reports.
    fn own_macs(&self, g: usize) -> Vec<MacAddress> {
        if !self.live(g) {
            return Vec::new();
        }
        self.root(g)
            .macs
            .iter()
            .copied()
            .filter(|m| self.reporters.get(m).is_some_and(|r| r.len() == 1))
            .collect()
    }

    /// An endpoint discovery never saw that this device held before.
    fn own_defender_endpoint(&self, g: usize, endpoint_id: i64) -> bool {
        self.endpoint(endpoint_id).is_some_and(|e| {
            !e.source_network
                && (self.root(g).endpoint_id == Some(endpoint_id)
                    || e.representative.as_deref().and_then(|r| self.device_of(r)) == Some(g))
        })
    }

    fn conflicted(&self, mac: &MacAddress) -> bool {
        self.reporters.get(mac).is_some_and(|r| r.len() > 1)
    }

    fn conflict(&self, mac: &MacAddress) -> Conflict {
        let mut machines: Vec<String> = self.reporters[mac]
            .iter()
            .map(|&g| self.root(g).machine_id.clone())
            .collect();
        machines.sort();
        Conflict {
            mac: mac.to_string(),
            machines,
        }
    }

    fn ids(&self, devices: &[usize]) -> Vec<String> {
        let mut ids: Vec<String> = devices
            .iter()
            .map(|&g| self.root(g).machine_id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn take(&mut self, g: usize, endpoint_id: i64, claim: Claim) {
        self.taken.insert(endpoint_id, g);
        self.chosen[g] = Some((Target::Existing(endpoint_id), claim));
    }

    /// Rule 2: MAC joins. A MAC has at most one reporting device and an endpoint one MAC, so
    /// no endpoint gets two claims here.
    fn join_by_mac(&mut self) {
        for g in 0..self.groups.len() {
            let mut found: Vec<(MacAddress, i64)> = Vec::new();
            for mac in self.own_macs(g) {
                if let Some(&e) = self.by_mac.get(&mac) {
                    let id = self.inputs.endpoints[e].endpoint_id;
                    // The device's own Defender-only endpoint, keyed by this MAC when it was
                    // made, is its earlier link (rule 4): a network endpoint matched by IP and
                    // host name must still be able to take the device.
                    if !self.split(g, id)
                        && !self.own_defender_endpoint(g, id)
                        && !found.iter().any(|(_, f)| *f == id)
                    {
                        found.push((mac, id));
                    }
                }
            }
            let Some(&(mac, id)) = found
                .iter()
                .find(|(_, id)| self.root(g).endpoint_id == Some(*id))
                .or(found.first())
            else {
                continue;
            };
            for &(other_mac, other) in found.iter().filter(|(_, o)| *o != id) {
                let note = Note {
                    kind: NoteKind::AlsoSeen,
                    detail: format!(
                        "MAC {other_mac} is another adapter of Defender machine {}, which is \
                         joined to endpoint {id}.",
                        self.root(g).machine_id
                    ),
                    machines: vec![self.root(g).machine_id.clone()],
                };
                self.endpoint_notes.entry(other).or_default().push(note);
            }
            let claim = Claim::Mac(mac);
            self.take(g, id, claim);
        }
    }

    /// Rule 3: IP + host name, for devices the MAC rule left, against network-discovered
    /// endpoints the MAC rule left.
    fn join_by_ip_and_name(&mut self) {
        let since = self.inputs.recent_since;
        let mut claims: HashMap<i64, Vec<IpClaim>> = HashMap::new();
        let mut per_device: HashMap<usize, BTreeSet<i64>> = HashMap::new();
        for g in 0..self.groups.len() {
            if self.chosen[g].is_some() || !self.live(g) {
                continue;
            }
            let root = self.root(g);
            let Some(label) = usable_label(root.dns_name.as_deref()) else {
                continue;
            };
            if root.last_seen.as_deref().is_none_or(|s| s < since) {
                continue;
            }
            let mut seen: HashSet<usize> = HashSet::new();
            for ip in &root.ips {
                for &at in self.by_ip.get(ip.as_str()).into_iter().flatten() {
                    let e = &self.inputs.endpoints[at];
                    if !seen.insert(at)
                        || e.last_seen.as_str() < since
                        || self.taken.contains_key(&e.endpoint_id)
                        || self.split(g, e.endpoint_id)
                        || !e.hostnames.iter().any(|h| first_label(h) == label)
                    {
                        continue;
                    }
                    claims
                        .entry(e.endpoint_id)
                        .or_default()
                        .push((g, ip.clone(), label.clone()));
                    per_device.entry(g).or_default().insert(e.endpoint_id);
                }
            }
        }
        let mut ordered: Vec<(i64, Vec<IpClaim>)> = claims.into_iter().collect();
        ordered.sort_by_key(|(id, _)| *id);
        for (id, claimants) in ordered {
            if claimants.len() > 1 {
                let devices: Vec<usize> = claimants.iter().map(|c| c.0).collect();
                let machines = self.ids(&devices);
                self.endpoint_notes.entry(id).or_default().push(Note {
                    kind: NoteKind::Ambiguous,
                    detail: format!(
                        "The IP address and host name seen by network discovery match {} \
                         Defender machines, so none is joined.",
                        devices.len()
                    ),
                    machines: machines.clone(),
                });
                for &g in &devices {
                    self.device_notes[g].push(Note {
                        kind: NoteKind::Ambiguous,
                        detail: format!(
                            "Its IP address and host name match endpoint {id}, which other \
                             Defender machines match as well; not joined."
                        ),
                        machines: machines.clone(),
                    });
                }
                self.ambiguous.insert(id, devices);
                continue;
            }
            let (g, ip, label) = claimants.into_iter().next().expect("one claimant");
            let endpoints = &per_device[&g];
            if endpoints.len() > 1 {
                // Reported once per device below.
                continue;
            }
            // A network endpoint already joined to another present device keeps it.
            let holder = self
                .endpoint(id)
                .and_then(|e| e.representative.as_deref())
                .and_then(|r| self.device_of(r))
                .filter(|&h| h != g);
            if let Some(h) = holder {
                let holder_id = self.root(h).machine_id.clone();
                self.device_notes[g].push(Note {
                    kind: NoteKind::NotJoined,
                    detail: format!(
                        "Its IP address {ip} and host name {label} match endpoint {id}, which \
                         is joined to Defender machine {holder_id} since an earlier sync."
                    ),
                    machines: vec![holder_id],
                });
                continue;
            }
            self.take(g, id, Claim::IpHostname { ip, label });
        }
        let mut multi: Vec<(usize, BTreeSet<i64>)> = per_device
            .into_iter()
            .filter(|(g, set)| set.len() > 1 && self.chosen[*g].is_none())
            .collect();
        multi.sort_by_key(|(g, _)| *g);
        for (g, set) in multi {
            let list: Vec<String> = set.iter().map(i64::to_string).collect();
            self.device_notes[g].push(Note {
                kind: NoteKind::Ambiguous,
                detail: format!(
                    "Its IP address and host name match {} network endpoints ({}); none is \
                     joined.",
                    set.len(),
                    list.join(", ")
                ),
                machines: Vec::new(),
            });
        }
    }

    /// The device a machine id belongs to.
    fn device_of(&self, machine_id: &str) -> Option<usize> {
        self.device.get(machine_id).copied()
    }

    /// Rule 4: earlier links that nothing contradicts.
    fn keep_earlier_links(&mut self) {
        // The endpoint each device held before: the one it represented, else its root's link.
        let mut wanted: Vec<(usize, i64, bool)> = Vec::new();
        for g in 0..self.groups.len() {
            if self.chosen[g].is_some() {
                continue;
            }
            let members: Vec<&str> = self.groups[g]
                .members
                .iter()
                .map(|(i, _)| self.machine(*i).machine_id.as_str())
                .collect();
            let represented = members
                .iter()
                .find_map(|m| self.by_representative.get(m))
                .map(|&at| &self.inputs.endpoints[at]);
            let (id, representative) = match (represented, self.root(g).endpoint_id) {
                (Some(e), _) => (e.endpoint_id, true),
                (None, Some(id)) => (id, false),
                (None, None) => continue,
            };
            wanted.push((g, id, representative));
        }
        // Where two devices held one endpoint (records the old name rule grouped), the one
        // that represented it keeps it.
        wanted.sort_by_key(|&(g, id, representative)| (id, !representative, g));
        for (g, id, _) in wanted {
            let Some(e) = self.endpoint(id) else {
                continue;
            };
            let contradicted = self.taken.contains_key(&id)
                || self.ambiguous.contains_key(&id)
                || self.split(g, id)
                || (e.source_network && e.mac.is_some_and(|m| self.conflicted(&m)));
            if !contradicted {
                self.take(g, id, Claim::EarlierLink);
            }
        }
    }

    /// The evidence of one device's join.
    fn evidence(&self, g: usize, claim: Option<&Claim>, new_mac: Option<MacAddress>) -> Evidence {
        let root = self.root(g);
        let rule_detail = match claim {
            Some(Claim::Mac(mac)) if root.hunted_macs.contains(mac) => (
                Rule::Mac,
                format!(
                    "MAC {mac} of a physical adapter that advanced hunting reports (it has no \
                     address, so the machine record leaves it out), which no other live \
                     Defender machine reports"
                ),
            ),
            Some(Claim::Mac(mac)) => (
                Rule::Mac,
                format!(
                    "MAC {mac} of a physical adapter, which no other live Defender machine \
                     reports"
                ),
            ),
            Some(Claim::IpHostname { ip, label }) => (
                Rule::IpHostname,
                format!("IP {ip} and host name {label}, both seen within the inactivity window"),
            ),
            Some(Claim::EarlierLink) => (
                Rule::EarlierLink,
                "Kept from an earlier sync; nothing contradicts it.".to_owned(),
            ),
            None => (
                Rule::DefenderOnly,
                match new_mac {
                    Some(mac) => format!("No discovered endpoint matched; keyed by MAC {mac}."),
                    None => format!(
                        "No discovered endpoint matched; keyed by machine id {}.",
                        root.machine_id
                    ),
                },
            ),
        };
        let mut evidence = Evidence::default();
        for (i, link) in &self.groups[g].members {
            let m = self.machine(*i);
            let (rule, detail) = match link {
                Link::Root => rule_detail.clone(),
                Link::MergedInto(into) => (
                    Rule::MergedInto,
                    format!("Defender merged this record into {into}."),
                ),
                Link::Duplicate { name } => (
                    Rule::ReimageDuplicate,
                    format!(
                        "A potential duplicate (isPotentialDuplication) of {} with the same name \
                         {name}, last seen earlier: an older record of the same device.",
                        root.machine_id
                    ),
                ),
                Link::Alone(why) => {
                    evidence.notes.push(Note {
                        kind: NoteKind::NotGrouped,
                        detail: format!("Not grouped with another record: {why}."),
                        machines: Vec::new(),
                    });
                    rule_detail.clone()
                }
            };
            evidence.joins.push(Join {
                machine_id: m.machine_id.clone(),
                rule,
                detail,
            });
        }
        if self.live(g) {
            for mac in root.macs.iter().filter(|m| self.conflicted(m)) {
                evidence.conflicts.push(self.conflict(mac));
            }
        }
        evidence.notes.extend(self.device_notes[g].iter().cloned());
        evidence
    }
}

/// Applies the identity rules to every present machine.
pub fn plan(inputs: &Inputs<'_>) -> MergePlan {
    let groups = duplicates::group(inputs.machines);
    let mut reporters: HashMap<MacAddress, Vec<usize>> = HashMap::new();
    for (g, grp) in groups.iter().enumerate() {
        let root = &inputs.machines[grp.root()];
        if duplicates::is_live(root) {
            for mac in &root.macs {
                let list = reporters.entry(*mac).or_default();
                if !list.contains(&g) {
                    list.push(g);
                }
            }
        }
    }
    let n = groups.len();
    let mut planner = Planner {
        inputs,
        by_endpoint: inputs
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (e.endpoint_id, i))
            .collect(),
        by_mac: inputs
            .endpoints
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.mac.map(|m| (m, i)))
            .collect(),
        reporters,
        by_ip: {
            let mut by_ip: HashMap<&str, Vec<usize>> = HashMap::new();
            for (i, e) in inputs.endpoints.iter().enumerate() {
                if e.source_network {
                    for ip in &e.ips {
                        by_ip.entry(ip.as_str()).or_default().push(i);
                    }
                }
            }
            by_ip
        },
        by_representative: inputs
            .endpoints
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.representative.as_deref().map(|r| (r, i)))
            .collect(),
        device: groups
            .iter()
            .enumerate()
            .flat_map(|(g, grp)| {
                grp.members
                    .iter()
                    .map(move |(i, _)| (inputs.machines[*i].machine_id.as_str(), g))
            })
            .collect(),
        splits: inputs
            .splits
            .iter()
            .map(|s| (s.machine_id.as_str(), s.endpoint_id))
            .collect(),
        chosen: vec![None; n],
        taken: HashMap::new(),
        ambiguous: HashMap::new(),
        device_notes: vec![Vec::new(); n],
        endpoint_notes: HashMap::new(),
        groups,
    };
    // A record split off the endpoint its device goes to leaves the device.
    planner.join_by_mac();
    planner.join_by_ip_and_name();
    planner.keep_earlier_links();
    detach_split_members(&mut planner);

    let mut out = MergePlan::default();
    let mut used_macs: HashSet<MacAddress> = planner.by_mac.keys().copied().collect();
    let mut target_of: Vec<Target> = Vec::with_capacity(planner.groups.len());
    for g in 0..planner.groups.len() {
        let (target, evidence) = match planner.chosen[g].clone() {
            Some((target, claim)) => (target, planner.evidence(g, Some(&claim), None)),
            None => {
                let mac = planner
                    .own_macs(g)
                    .into_iter()
                    .find(|m| !used_macs.contains(m));
                if let Some(mac) = mac {
                    used_macs.insert(mac);
                }
                out.new_endpoints.push(NewEndpoint { mac });
                (
                    Target::New(out.new_endpoints.len() - 1),
                    planner.evidence(g, None, mac),
                )
            }
        };
        target_of.push(target);
        let mut machines: Vec<usize> = planner.groups[g].members.iter().map(|(i, _)| *i).collect();
        machines.dedup();
        out.assignments.push(Assignment {
            target,
            machines,
            evidence,
        });
    }
    // Defender-only endpoints follow their device's identity MAC.
    for (g, a) in out.assignments.iter().enumerate() {
        let Target::Existing(id) = a.target else {
            continue;
        };
        let Some(e) = planner.endpoint(id).filter(|e| !e.source_network) else {
            continue;
        };
        match e.mac {
            Some(mac) if planner.conflicted(&mac) => out.rekeyed.push((id, None)),
            Some(_) => {}
            None => {
                if let Some(mac) = planner
                    .own_macs(g)
                    .into_iter()
                    .find(|m| !used_macs.contains(m))
                {
                    used_macs.insert(mac);
                    out.rekeyed.push((id, Some(mac)));
                }
            }
        }
    }
    // What existing endpoints without a machine show, and which of them lost their machines.
    let assigned: HashSet<i64> = out
        .assignments
        .iter()
        .filter_map(|a| match a.target {
            Target::Existing(id) => Some(id),
            Target::New(_) => None,
        })
        .collect();
    let mut linked_before: HashMap<i64, Option<usize>> = HashMap::new();
    for (g, grp) in planner.groups.iter().enumerate() {
        for (i, _) in &grp.members {
            if let Some(id) = inputs.machines[*i].endpoint_id {
                linked_before.entry(id).or_insert(Some(g));
            }
        }
    }
    for e in inputs.endpoints {
        if let Some(r) = e.representative.as_deref() {
            if let Some(g) = planner.device_of(r) {
                linked_before.insert(e.endpoint_id, Some(g));
            }
        }
    }
    for e in inputs.endpoints {
        let id = e.endpoint_id;
        if assigned.contains(&id) {
            continue;
        }
        let mut evidence = Evidence {
            notes: planner.endpoint_notes.remove(&id).unwrap_or_default(),
            ..Evidence::default()
        };
        if let Some(mac) = e.mac.filter(|m| planner.conflicted(m)) {
            evidence.conflicts.push(planner.conflict(&mac));
        }
        if !evidence.is_empty() {
            out.unassigned.insert(id, evidence);
        }
        if let Some(device) = linked_before.get(&id) {
            out.released.push(Released {
                endpoint_id: id,
                successor: device.map(|g| target_of[g]),
            });
        }
    }
    out.released.sort_by_key(|r| r.endpoint_id);
    // Notes on endpoints that did get a device (e.g. a second adapter seen separately, or the
    // endpoint's own MAC in conflict while IP + host name joined it).
    for a in &mut out.assignments {
        if let Target::Existing(id) = a.target {
            if let Some(notes) = planner.endpoint_notes.remove(&id) {
                a.evidence.notes.extend(notes);
            }
            if let Some(mac) = planner
                .endpoint(id)
                .and_then(|e| e.mac)
                .filter(|m| planner.conflicted(m))
            {
                let conflict = planner.conflict(&mac);
                if !a.evidence.conflicts.contains(&conflict) {
                    a.evidence.conflicts.push(conflict);
                }
            }
        }
    }
    out
}

/// Records that are not their device's root and were split off the endpoint the device went
/// to become devices of their own (they are not live, so only an earlier link or a new
/// endpoint can take them).
fn detach_split_members(p: &mut Planner<'_>) {
    let mut extra: Vec<Group> = Vec::new();
    for g in 0..p.groups.len() {
        let Some((Target::Existing(id), _)) = p.chosen[g].clone() else {
            continue;
        };
        let inputs = p.inputs;
        let splits = &p.splits;
        let grp = &mut p.groups[g];
        let mut kept = Vec::with_capacity(grp.members.len());
        for (n, (i, link)) in grp.members.drain(..).enumerate() {
            let pinned = splits.contains(&(inputs.machines[i].machine_id.as_str(), id));
            if n > 0 && pinned {
                extra.push(Group {
                    members: vec![(
                        i,
                        Link::Alone("an administrator split it off its device's endpoint".into()),
                    )],
                });
            } else {
                kept.push((i, link));
            }
        }
        grp.members = kept;
    }
    for grp in extra {
        let g = p.groups.len();
        p.device
            .insert(p.inputs.machines[grp.root()].machine_id.as_str(), g);
        p.groups.push(grp);
        p.chosen.push(None);
        p.device_notes.push(Vec::new());
        let root = p.root(g);
        if let Some(id) = root.endpoint_id {
            let free = p.endpoint(id).is_some()
                && !p.taken.contains_key(&id)
                && !p.splits.contains(&(root.machine_id.as_str(), id));
            if free {
                p.take(g, id, Claim::EarlierLink);
            }
        }
    }
}

#[cfg(test)]
mod tests;
