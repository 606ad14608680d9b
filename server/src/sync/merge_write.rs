//! The second half of the apply phase: links every present machine to an endpoint as the merge
//! rules (`merge`) decide, creating Defender-only endpoints, and writes the endpoints' Defender
//! display columns and merge evidence.
//!
//! Only what changed is written, and the views are built and written a chunk of endpoints at a
//! time: an hourly sync of an unchanged 100k-machine tenant then writes nothing, and memory holds
//! the merge's facts but never every endpoint's new JSON at once.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use futures::TryStreamExt;
use sqlx::SqliteConnection;

use super::merge::{self, Assignment, KnownEndpoint, MachineFacts, Target};
use crate::db::defender_machine::MachineRow;
use crate::db::endpoint::{DefenderView, NewDefenderEndpoint};
use crate::db::{self, sync_stage, DbError};
use crate::defender::model::machine::IpAddress;

/// Endpoints whose views are built and written together.
const CHUNK: usize = 5_000;

/// What the endpoint's display columns need of a machine, beside its merge facts.
struct MachineShown {
    os: Option<String>,
    onboarding_status: Option<String>,
    first_seen: Option<String>,
}

fn machine_facts(row: &MachineRow) -> MachineFacts {
    let addresses: Vec<IpAddress> = serde_json::from_str(&row.ip_addresses).unwrap_or_default();
    let mut macs = Vec::new();
    for mac in addresses
        .iter()
        .filter_map(|a| a.mac_address.as_deref())
        .filter_map(merge::parse_mac)
    {
        if !macs.contains(&mac) {
            macs.push(mac);
        }
    }
    MachineFacts {
        machine_id: row.machine_id.clone(),
        dns_name: row.computer_dns_name.clone(),
        last_ip: row.last_ip_address.clone(),
        ips: routable_ips(
            row.last_ip_address
                .iter()
                .chain(addresses.iter().filter_map(|a| a.ip_address.as_ref())),
        ),
        macs,
        health_active: row.health_status.as_deref() == Some("Active"),
        potential_duplicate: row.is_potential_duplication != 0,
        merged_into: row.merged_into_machine_id.clone(),
        last_seen: row.last_seen.clone(),
        endpoint_id: row.endpoint_id,
    }
}

fn machine_shown(row: MachineRow) -> MachineShown {
    MachineShown {
        os: os_text(&row),
        onboarding_status: row.onboarding_status,
        first_seen: row.first_seen,
    }
}

/// Distinct addresses without loopback, in their canonical text form.
fn routable_ips<'a>(ips: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ip in ips.filter_map(|ip| ip.parse::<IpAddr>().ok()) {
        let text = ip.to_string();
        if !ip.is_loopback() && !out.contains(&text) {
            out.push(text);
        }
    }
    out
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

/// The stored endpoints as the merge sees them, and what it must keep of them.
struct Stored {
    endpoints: Vec<KnownEndpoint>,
    /// Each endpoint's representative machine, where it has one.
    representative: HashMap<i64, String>,
}

async fn stored(conn: &mut SqliteConnection) -> Result<Stored, DbError> {
    let mut stored = Stored {
        endpoints: Vec::new(),
        representative: HashMap::new(),
    };
    let mut rows = db::endpoint::merge_rows(conn);
    while let Some(r) = rows.try_next().await? {
        stored.endpoints.push(KnownEndpoint {
            endpoint_id: r.endpoint_id,
            mac: r.mac.as_deref().and_then(merge::parse_mac),
            ips: serde_json::from_str(&r.ips).unwrap_or_default(),
            hostnames: serde_json::from_str(&r.hostnames).unwrap_or_default(),
        });
        if let Some(machine) = r.defender_machine_id {
            stored.representative.insert(r.endpoint_id, machine);
        }
    }
    Ok(stored)
}

/// Links every present machine to an endpoint (creating Defender-only ones) and writes the
/// endpoints' Defender display columns and merge evidence.
pub(super) async fn merge_machines(conn: &mut SqliteConnection) -> Result<(), DbError> {
    let (mut machines, mut shown) = (Vec::new(), Vec::new());
    let mut rows = db::defender_machine::present(conn);
    while let Some(row) = rows.try_next().await? {
        machines.push(machine_facts(&row));
        shown.push(machine_shown(row));
    }
    drop(rows);
    let stored = stored(conn).await?;
    let by_id: HashMap<i64, &KnownEndpoint> = stored
        .endpoints
        .iter()
        .map(|e| (e.endpoint_id, e))
        .collect();
    let plan = merge::plan(&machines, &stored.endpoints);

    release_representatives(conn, &plan.assignments, &machines, &stored).await?;

    // Ids for new endpoints are assigned here: the transaction holds the write lock.
    let mut next_id = db::endpoint::max_id(conn).await?;
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
        let evidence: HashMap<i64, String> = db::endpoint::merge_evidence(conn, &existing)
            .await?
            .into_iter()
            .collect();
        let mut updates: Vec<(i64, DefenderView)> = Vec::new();
        let mut inserts: Vec<NewDefenderEndpoint> = Vec::new();
        for assignment in chunk {
            let known = match assignment.target {
                Target::Existing(id) => by_id.get(&id).copied(),
                Target::New(_) => None,
            };
            let view = view(assignment, known, &machines, &shown, &evidence, &now);
            let endpoint_id = match assignment.target {
                Target::Existing(id) => {
                    updates.push((id, view));
                    id
                }
                Target::New(n) => {
                    next_id += 1;
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
        db::endpoint::insert_many_from_defender(conn, inserts).await?;
        sync_stage::endpoint_views(conn, updates).await?;
    }
    sync_stage::apply_endpoint_views(conn).await?;
    sync_stage::apply_links(conn, &links).await?;
    Ok(())
}

/// Frees the representative slot (`defender_machine_id` is unique) of every endpoint whose
/// representative is a present machine that will no longer represent it, so the sync can
/// reassign machines in any order. Endpoints keeping their representative are not touched.
async fn release_representatives(
    conn: &mut SqliteConnection,
    assignments: &[Assignment],
    machines: &[MachineFacts],
    stored: &Stored,
) -> Result<(), DbError> {
    let present: HashSet<&str> = machines.iter().map(|m| m.machine_id.as_str()).collect();
    let next: HashMap<i64, &str> = assignments
        .iter()
        .filter_map(|a| match a.target {
            Target::Existing(id) => Some((id, machines[a.machines[0]].machine_id.as_str())),
            Target::New(_) => None,
        })
        .collect();
    let released: Vec<i64> = stored
        .representative
        .iter()
        .filter(|(id, machine)| {
            present.contains(machine.as_str()) && next.get(id) != Some(&machine.as_str())
        })
        .map(|(id, _)| *id)
        .collect();
    db::endpoint::release_representatives(conn, &released).await
}

/// The Defender view of one endpoint: its representative's display values and the names,
/// addresses and evidence of all its machines.
fn view(
    assignment: &Assignment,
    known: Option<&KnownEndpoint>,
    machines: &[MachineFacts],
    shown: &[MachineShown],
    evidence: &HashMap<i64, String>,
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
    let previous = match assignment.target {
        Target::Existing(id) => evidence.get(&id),
        Target::New(_) => None,
    };
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
        merge_evidence: evidence_json(assignment, machines, previous),
    }
}

/// The evidence to store: a machine that stays with the endpoint it was linked to keeps the
/// evidence recorded when it was first merged (the rule that created the link), so an
/// unchanged sync changes nothing.
fn evidence_json(
    assignment: &Assignment,
    machines: &[MachineFacts],
    previous: Option<&String>,
) -> String {
    let mut parsed: Option<Vec<serde_json::Value>> = None;
    let target = match assignment.target {
        Target::Existing(id) => Some(id),
        Target::New(_) => None,
    };
    let list: Vec<serde_json::Value> = assignment
        .evidence
        .iter()
        .map(|fresh| {
            let linked = assignment.machines.iter().any(|&i| {
                machines[i].machine_id == fresh.machine_id && machines[i].endpoint_id == target
            });
            let kept = previous.filter(|_| target.is_some() && linked);
            kept.and_then(|text| {
                parsed
                    .get_or_insert_with(|| serde_json::from_str(text).unwrap_or_default())
                    .iter()
                    .find(|e| e["machine_id"] == fresh.machine_id.as_str())
                    .cloned()
            })
            .unwrap_or_else(|| serde_json::to_value(fresh).unwrap_or_default())
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}
