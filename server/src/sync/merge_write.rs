//! The second half of the apply phase: reads what the identity rules (`merge`) need, applies
//! their plan to `endpoint` and `defender_machine`, and stores each endpoint's evidence.
//!
//! Only what changed is written, and the views are built and written a chunk of endpoints at a
//! time: an hourly sync of an unchanged 100k-machine tenant then writes nothing, and memory holds
//! the merge's facts but never every endpoint's new JSON at once.

use std::collections::{HashMap, HashSet};

use futures::TryStreamExt;

use super::merge::adapter::{self, Adapter};
use super::merge::evidence::Evidence;
use super::merge::{self, Assignment, Inputs, KnownEndpoint, MachineFacts, Split, Target};
use crate::db::defender_machine::MachineRow;
use crate::db::endpoint::{DefenderView, NewDefenderEndpoint};
use crate::db::{self, AsConn, DbError, Stores};
use crate::discovery::MacAddress;

/// Endpoints whose views are built and written together.
const CHUNK: usize = 5_000;

/// What the endpoint's display columns need of a machine, beside its merge facts.
struct MachineShown {
    os: Option<String>,
    onboarding_status: Option<String>,
    first_seen: Option<String>,
}

/// A machine's merge facts, and every MAC its record reports (counted as identity or not).
fn machine_facts(row: &MachineRow) -> (MachineFacts, Vec<MacAddress>) {
    let adapters: Vec<Adapter> = serde_json::from_str(&row.ip_addresses).unwrap_or_default();
    let listed = adapters
        .iter()
        .filter_map(|a| a.mac_address.as_deref())
        .filter_map(|m| MacAddress::parse(m).ok())
        .collect();
    let facts = MachineFacts {
        machine_id: row.machine_id.clone(),
        dns_name: row.computer_dns_name.clone(),
        ips: adapter::routable_ips(row.last_ip_address.as_deref(), &adapters),
        macs: adapter::identity_macs(&adapters),
        hunted_macs: Vec::new(),
        potential_duplicate: row.is_potential_duplication,
        merged_into: row.merged_into_machine_id.clone(),
        last_seen: row.last_seen.clone(),
        endpoint_id: row.endpoint_id,
    };
    (facts, listed)
}

fn machine_shown(row: MachineRow) -> MachineShown {
    MachineShown {
        os: os_text(&row),
        onboarding_status: row.onboarding_status,
        first_seen: row.first_seen,
    }
}

/// The `os` display value: `osPlatform version`, when Defender knows the platform.
fn os_text(row: &MachineRow) -> Option<String> {
    let os = crate::inventory::DefenderOs::from_defender(
        row.os_platform.as_deref(),
        row.version.as_deref(),
    )?;
    Some(match os.version {
        Some(v) => format!("{} {v}", os.platform),
        None => os.platform,
    })
}

fn push_unique_ci(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        list.push(value.to_owned());
    }
}

/// Adds to each machine the identity MACs only advanced hunting knows (`machine_adapter`): an
/// adapter the machine record leaves out because it has no address
/// (`adapter::hunted_identity_mac`). `listed[i]` is every MAC machine `i`'s record lists.
async fn add_hunted_macs(
    stores: &Stores,
    conn: &mut impl AsConn,
    machines: &mut [MachineFacts],
    listed: &[Vec<MacAddress>],
) -> Result<(), DbError> {
    let at: HashMap<String, usize> = machines
        .iter()
        .enumerate()
        .map(|(i, m)| (m.machine_id.clone(), i))
        .collect();
    let mut rows = stores.network_facts.adapter_macs(conn);
    while let Some(row) = rows.try_next().await? {
        let Some(&i) = at.get(&row.machine_id) else {
            continue;
        };
        let hunted = Adapter {
            ip_address: None,
            mac_address: Some(row.mac),
            kind: row.adapter_type,
            operational_status: row.adapter_status,
        };
        if let Some(mac) = adapter::hunted_identity_mac(&listed[i], &hunted) {
            if !machines[i].macs.contains(&mac) {
                machines[i].macs.push(mac);
                machines[i].hunted_macs.push(mac);
            }
        }
    }
    Ok(())
}

async fn known_endpoints(
    stores: &Stores,
    conn: &mut impl AsConn,
) -> Result<Vec<KnownEndpoint>, DbError> {
    let mut endpoints = Vec::new();
    let mut rows = stores.identities.identity_rows(conn);
    while let Some(r) = rows.try_next().await? {
        endpoints.push(KnownEndpoint {
            endpoint_id: r.endpoint_id,
            mac: r.mac.as_deref().and_then(|m| MacAddress::parse(m).ok()),
            ips: serde_json::from_str(&r.ips).unwrap_or_default(),
            hostnames: serde_json::from_str(&r.hostnames).unwrap_or_default(),
            source_network: r.source_network,
            last_seen: r.last_seen,
            representative: r.defender_machine_id,
        });
    }
    Ok(endpoints)
}

/// Links every present machine to an endpoint as the identity rules decide (creating
/// Defender-only endpoints), writes the endpoints' Defender display columns and evidence, and
/// gives endpoints whose device moved away back to discovery or retires them.
/// `recent_since` starts the inactivity window (RFC 3339).
pub(crate) async fn merge_machines(
    stores: &Stores,
    conn: &mut impl AsConn,
    recent_since: &str,
) -> Result<(), DbError> {
    let (mut machines, mut shown, mut listed) = (Vec::new(), Vec::new(), Vec::new());
    let mut rows = stores.machines.present(conn);
    while let Some(row) = rows.try_next().await? {
        let (facts, macs) = machine_facts(&row);
        machines.push(facts);
        listed.push(macs);
        shown.push(machine_shown(row));
    }
    drop(rows);
    add_hunted_macs(stores, conn, &mut machines, &listed).await?;
    drop(listed);
    let endpoints = known_endpoints(stores, conn).await?;
    let splits: Vec<Split> = stores
        .splits
        .all(conn)
        .await?
        .into_iter()
        .map(|s| Split {
            machine_id: s.machine_id,
            endpoint_id: s.endpoint_id,
        })
        .collect();
    let plan = merge::plan(&Inputs {
        machines: &machines,
        endpoints: &endpoints,
        splits: &splits,
        recent_since,
    });
    let by_id: HashMap<i64, &KnownEndpoint> =
        endpoints.iter().map(|e| (e.endpoint_id, e)).collect();
    // Endpoints that carried notes before and may carry none now.
    let noted_before = stores.identities.unrepresented_with_evidence(conn).await?;

    release_representatives(stores, conn, &plan.assignments, &machines, &endpoints).await?;
    let rekeyed: Vec<(i64, Option<String>, Option<&'static str>)> = plan
        .rekeyed
        .iter()
        .map(|(id, mac)| {
            (
                *id,
                mac.map(|m| m.to_string()),
                mac.as_ref().and_then(crate::oui::vendor_name),
            )
        })
        .collect();
    stores.identities.rekey(conn, &rekeyed).await?;
    let rekeyed_ids: HashSet<i64> = plan.rekeyed.iter().map(|(id, _)| *id).collect();

    // Ids for new endpoints are assigned here: the transaction holds the write lock.
    let mut next_id = stores.endpoints.max_id(conn).await?;
    let mut new_ids: Vec<i64> = Vec::with_capacity(plan.new_endpoints.len());
    let now = db::now();
    let mut links: Vec<(&str, i64)> = Vec::new();
    for chunk in plan.assignments.chunks(CHUNK) {
        // Kept as text and parsed only where a machine stays linked: parsing every endpoint's
        // evidence up front costs hundreds of MB at 100k endpoints, and even the text is read
        // only for the chunk at hand.
        let existing: Vec<i64> = chunk
            .iter()
            .filter_map(|a| match a.target {
                Target::Existing(id) => Some(id),
                Target::New(_) => None,
            })
            .collect();
        let stored: HashMap<i64, String> = stores
            .identities
            .evidence(conn, &existing)
            .await?
            .into_iter()
            .map(|(id, evidence, _)| (id, evidence))
            .collect();
        let mut updates: Vec<(i64, DefenderView)> = Vec::new();
        let mut inserts: Vec<NewDefenderEndpoint> = Vec::new();
        for assignment in chunk {
            let known = match assignment.target {
                Target::Existing(id) => by_id.get(&id).copied(),
                Target::New(_) => None,
            };
            let previous = match assignment.target {
                Target::Existing(id) => stored.get(&id),
                Target::New(_) => None,
            };
            // A Defender-only endpoint whose MAC key changed keeps no stale "keyed by" detail.
            let previous = previous.filter(
                |_| !matches!(assignment.target, Target::Existing(id) if rekeyed_ids.contains(&id)),
            );
            let view = view(assignment, known, &machines, &shown, previous, &now);
            let endpoint_id = match assignment.target {
                Target::Existing(id) => {
                    updates.push((id, view));
                    id
                }
                Target::New(n) => {
                    next_id += 1;
                    new_ids.push(next_id);
                    let mac = plan.new_endpoints[n].mac;
                    inserts.push(NewDefenderEndpoint {
                        endpoint_id: next_id,
                        mac: mac.map(|m| m.to_string()),
                        mac_vendor: mac.as_ref().and_then(crate::oui::vendor_name),
                        view,
                    });
                    next_id
                }
            };
            // The representative is linked through the endpoint's own column (`apply_links`);
            // of the others, only those linked elsewhere before need a write.
            for &i in &assignment.machines[1..] {
                if machines[i].endpoint_id != Some(endpoint_id) {
                    links.push((machines[i].machine_id.as_str(), endpoint_id));
                }
            }
        }
        stores
            .endpoints
            .insert_many_from_defender(conn, inserts)
            .await?;
        stores.staging.endpoint_views(conn, updates).await?;
    }
    stores.staging.apply_endpoint_views(conn).await?;
    stores.staging.apply_links(conn, &links).await?;

    let resolve = |t: Target| match t {
        Target::Existing(id) => id,
        Target::New(n) => new_ids[n],
    };
    store_unassigned_evidence(stores, conn, &plan, &noted_before).await?;
    let (network, defender_only): (Vec<&merge::Released>, Vec<&merge::Released>) = plan
        .released
        .iter()
        .partition(|r| by_id.get(&r.endpoint_id).is_some_and(|e| e.source_network));
    let network: Vec<i64> = network.iter().map(|r| r.endpoint_id).collect();
    stores
        .identities
        .clear_defender_view(conn, &network)
        .await?;
    for r in defender_only {
        // A record Defender no longer lists may still hang on it: then it stays, as the
        // history of that record.
        if let Some(successor) = r.successor.map(resolve) {
            if successor != r.endpoint_id
                && !stores.identities.has_machines(conn, r.endpoint_id).await?
            {
                stores
                    .identities
                    .retire(conn, r.endpoint_id, successor)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Writes the evidence of endpoints that hold no machine where it changed: new notes, and
/// notes of an earlier sync that no longer hold.
async fn store_unassigned_evidence(
    stores: &Stores,
    conn: &mut impl AsConn,
    plan: &merge::MergePlan,
    noted_before: &[i64],
) -> Result<(), DbError> {
    let mut ids: Vec<i64> = plan.unassigned.keys().copied().collect();
    ids.extend(plan.released.iter().map(|r| r.endpoint_id));
    ids.extend_from_slice(noted_before);
    ids.sort_unstable();
    ids.dedup();
    let empty = Evidence::default();
    for (id, stored, stored_conflicts) in stores.identities.evidence(conn, &ids).await? {
        let fresh = plan.unassigned.get(&id).unwrap_or(&empty);
        let (text, conflicts) = (fresh.to_text(), fresh.conflicts_text());
        if text != stored || conflicts != stored_conflicts {
            stores
                .identities
                .store_evidence(conn, id, &text, conflicts.as_deref())
                .await?;
        }
    }
    Ok(())
}

/// Frees the representative slot (`defender_machine_id` is unique) of every endpoint whose
/// representative is a present machine that will no longer represent it, so the sync can
/// reassign machines in any order. Endpoints keeping their representative are not touched.
async fn release_representatives(
    stores: &Stores,
    conn: &mut impl AsConn,
    assignments: &[Assignment],
    machines: &[MachineFacts],
    endpoints: &[KnownEndpoint],
) -> Result<(), DbError> {
    let present: HashSet<&str> = machines.iter().map(|m| m.machine_id.as_str()).collect();
    let next: HashMap<i64, &str> = assignments
        .iter()
        .filter_map(|a| match a.target {
            Target::Existing(id) => Some((id, machines[a.machines[0]].machine_id.as_str())),
            Target::New(_) => None,
        })
        .collect();
    let released: Vec<i64> = endpoints
        .iter()
        .filter_map(|e| Some((e.endpoint_id, e.representative.as_deref()?)))
        .filter(|(id, machine)| present.contains(machine) && next.get(id) != Some(machine))
        .map(|(id, _)| id)
        .collect();
    stores
        .identities
        .release_representatives(conn, &released)
        .await
}

/// The Defender view of one endpoint: its representative's display values, the names and
/// addresses of all its machines, and the evidence.
fn view(
    assignment: &Assignment,
    known: Option<&KnownEndpoint>,
    machines: &[MachineFacts],
    shown: &[MachineShown],
    previous: Option<&String>,
    now: &str,
) -> DefenderView {
    let rep = assignment.machines[0];
    let mut hostnames: Vec<String> = known.map(|k| k.hostnames.clone()).unwrap_or_default();
    let mut ips: Vec<String> = known.map(|k| k.ips.clone()).unwrap_or_default();
    let mut first_seen: Option<&str> = None;
    let mut last_seen: Option<&str> = None;
    for &i in &assignment.machines {
        if let Some(name) = machines[i].dns_name.as_deref() {
            push_unique_ci(&mut hostnames, name.trim());
        }
        for ip in &machines[i].ips {
            push_unique_ci(&mut ips, ip);
        }
        if let Some(f) = shown[i].first_seen.as_deref() {
            first_seen = Some(first_seen.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = machines[i].last_seen.as_deref() {
            last_seen = Some(last_seen.map_or(l, |x| x.max(l)));
        }
    }
    let mut evidence = assignment.evidence.clone();
    if let Some(text) = previous {
        evidence.keep_earlier(&Evidence::parse(text));
    }
    DefenderView {
        defender_machine_id: machines[rep].machine_id.clone(),
        hostname: machines[rep].dns_name.clone(),
        ip: machines[rep].ips.first().cloned(),
        os: shown[rep].os.clone(),
        onboarding_status: shown[rep].onboarding_status.clone(),
        first_seen: first_seen.unwrap_or(now).to_owned(),
        last_seen: last_seen.unwrap_or(now).to_owned(),
        hostnames: serde_json::to_string(&hostnames).unwrap_or_else(|_| "[]".into()),
        ips: serde_json::to_string(&ips).unwrap_or_else(|_| "[]".into()),
        merge_evidence: evidence.to_text(),
        mac_conflicts: evidence.conflicts_text(),
    }
}
