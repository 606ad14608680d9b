//! Phase two of a run: apply the staged listings to the real tables in one transaction, and
//! merge machines into endpoints (`merge`). Either all of it commits or none of it does.

use std::collections::HashMap;
use std::net::IpAddr;

use sqlx::{Connection, SqliteConnection};

use super::fetch::Fetched;
use super::merge::{self, KnownEndpoint, MachineFacts, Target};
use crate::db::defender_machine::MachineRow;
use crate::db::endpoint::DefenderView;
use crate::db::sync_stage::{self, MachineDiff};
use crate::db::{self, DbError};
use crate::defender::model::machine::IpAddress;

/// A listing shorter than this share of the machines present before is treated as suspect:
/// nothing is marked gone (a tenant does not lose half its devices in an hour).
const GONE_GUARD_RATIO: f64 = 0.5;

/// What the apply phase did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub diff: MachineDiff,
    pub vulnerabilities: i64,
    pub machine_vulnerabilities: i64,
    pub alerts: i64,
    pub marked_gone: u64,
    /// Some listing was incomplete, so the run is `Partial`.
    pub partial: bool,
    pub notes: Vec<String>,
}

/// Applies the staged rows and the merge in one transaction.
pub async fn apply(conn: &mut SqliteConnection, fetched: &Fetched) -> Result<Applied, DbError> {
    let synced_at = db::now();
    let mut tx = conn.begin().await?;
    let diff = sync_stage::machine_diff(&mut tx).await?;
    let mut applied = Applied {
        diff,
        partial: fetched.machines_partial || fetched.machine_vulnerabilities_partial,
        notes: fetched.notes.clone(),
        ..Applied::default()
    };
    sync_stage::apply_machines(&mut tx, &synced_at).await?;

    let too_short = (diff.seen as f64) < (diff.previously_present as f64) * GONE_GUARD_RATIO;
    if fetched.machines_partial {
        // Already noted by the fetch phase.
    } else if too_short {
        applied.partial = true;
        applied.notes.push(format!(
            "The machine listing returned {} machines, fewer than half of the {} present \
             before: nothing was marked gone.",
            diff.seen, diff.previously_present
        ));
    } else {
        applied.marked_gone = sync_stage::mark_missing_gone(&mut tx).await?;
    }

    applied.vulnerabilities = sync_stage::apply_vulnerabilities(&mut tx, &synced_at).await?;
    applied.machine_vulnerabilities = if fetched.machine_vulnerabilities_partial {
        sync_stage::count(&mut tx, "machine_vulnerability").await?
    } else {
        sync_stage::apply_machine_vulnerabilities(&mut tx).await?
    };
    applied.alerts = sync_stage::apply_alerts(&mut tx, &synced_at).await?;

    merge_machines(&mut tx).await?;
    tx.commit().await?;
    Ok(applied)
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

/// Links every present machine to an endpoint (creating Defender-only ones) and writes the
/// endpoints' Defender display columns and merge evidence.
async fn merge_machines(conn: &mut SqliteConnection) -> Result<(), DbError> {
    let rows = db::defender_machine::present(conn).await?;
    let machines: Vec<MachineFacts> = rows.iter().map(machine_facts).collect();
    let stored = db::endpoint::merge_rows(conn).await?;
    // Kept as text and parsed only where a machine stays linked: parsing every endpoint's
    // evidence up front costs hundreds of MB at 100k endpoints.
    let previous_evidence: HashMap<i64, String> = stored
        .iter()
        .map(|r| (r.endpoint_id, r.merge_evidence.clone()))
        .collect();
    let endpoints: Vec<KnownEndpoint> = stored
        .into_iter()
        .map(|r| KnownEndpoint {
            endpoint_id: r.endpoint_id,
            mac: r.mac.as_deref().and_then(merge::parse_mac),
            ips: serde_json::from_str(&r.ips).unwrap_or_default(),
            hostnames: serde_json::from_str(&r.hostnames).unwrap_or_default(),
        })
        .collect();
    let by_id: HashMap<i64, &KnownEndpoint> =
        endpoints.iter().map(|e| (e.endpoint_id, e)).collect();
    let plan = merge::plan(&machines, &endpoints);

    db::endpoint::release_present_representatives(conn).await?;
    let now = db::now();
    let mut views: Vec<(&merge::Assignment, DefenderView)> =
        Vec::with_capacity(plan.assignments.len());
    for assignment in &plan.assignments {
        let rep = &rows[assignment.machines[0]];
        let known = match assignment.target {
            Target::Existing(id) => by_id.get(&id).copied(),
            Target::New(_) => None,
        };
        let mut hostnames: Vec<String> = known.map(|k| k.hostnames.clone()).unwrap_or_default();
        let mut ips: Vec<String> = known.map(|k| k.ips.clone()).unwrap_or_default();
        let mut first_seen: Option<&str> = None;
        let mut last_seen: Option<&str> = None;
        for &i in &assignment.machines {
            if let Some(name) = rows[i].computer_dns_name.as_deref() {
                push_unique_ci(&mut hostnames, name.trim());
            }
            for ip in &machines[i].ips {
                push_unique_ci(&mut ips, ip);
            }
            if let Some(f) = rows[i].first_seen.as_deref() {
                first_seen = Some(first_seen.map_or(f, |x| x.min(f)));
            }
            if let Some(l) = rows[i].last_seen.as_deref() {
                last_seen = Some(last_seen.map_or(l, |x| x.max(l)));
            }
        }
        let view = DefenderView {
            defender_machine_id: rep.machine_id.clone(),
            hostname: rep.computer_dns_name.clone(),
            ip: machines[assignment.machines[0]].ips.first().cloned(),
            os: os_text(rep),
            onboarding_status: rep.onboarding_status.clone(),
            first_seen: first_seen.unwrap_or(&now).to_owned(),
            last_seen: last_seen.unwrap_or(&now).to_owned(),
            hostnames: serde_json::to_string(&hostnames).unwrap_or_else(|_| "[]".into()),
            ips: serde_json::to_string(&ips).unwrap_or_else(|_| "[]".into()),
            merge_evidence: evidence_json(
                assignment,
                &machines,
                previous_evidence.get(&match assignment.target {
                    Target::Existing(id) => id,
                    Target::New(_) => -1,
                }),
            ),
        };
        views.push((assignment, view));
    }

    // Ids for new endpoints are assigned here: the transaction holds the write lock.
    let mut next_id = db::endpoint::max_id(conn).await?;
    let mut updates: Vec<(i64, &DefenderView)> = Vec::new();
    let mut inserts: Vec<db::endpoint::NewDefenderEndpoint> = Vec::new();
    let mut links: Vec<(&str, i64)> = Vec::with_capacity(rows.len());
    for (assignment, view) in &views {
        let endpoint_id = match assignment.target {
            Target::Existing(id) => {
                updates.push((id, view));
                id
            }
            Target::New(n) => {
                next_id += 1;
                let mac = plan.new_endpoints[n].mac;
                inserts.push(db::endpoint::NewDefenderEndpoint {
                    endpoint_id: next_id,
                    mac: mac.map(|m| m.to_string()),
                    mac_vendor: mac.as_ref().and_then(crate::oui::vendor_name),
                    view,
                });
                next_id
            }
        };
        for &i in &assignment.machines {
            links.push((rows[i].machine_id.as_str(), endpoint_id));
        }
    }
    db::endpoint::insert_many_from_defender(conn, &inserts).await?;
    sync_stage::endpoint_views(conn, &updates).await?;
    sync_stage::apply_endpoint_views(conn).await?;
    sync_stage::apply_links(conn, &links).await?;
    Ok(())
}

/// The evidence to store: a machine that stays with the endpoint it was linked to keeps the
/// evidence recorded when it was first merged (the rule that created the link), so an
/// unchanged sync changes nothing.
fn evidence_json(
    assignment: &merge::Assignment,
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
