//! Network facts from advanced hunting (defender-api.md §4.14): every adapter of each imported
//! machine with its type, status, MAC, addresses with subnet prefixes and connected networks
//! (`DeviceNetworkInfo`), and the device's type, model, vendor, architecture and join type
//! (`DeviceInfo`). Read once a day: they move slowly, and hunting has its own small budget
//! (45 calls a minute, a CPU quota per hour).
//!
//! Within Microsoft's limits: the machines are split into shards by the first hex digits of
//! their id, sized for about half the service's row cap; a shard whose answer is too large
//! (400 "exceeded the allowed result size", or as many rows as the cap, which may be cut) is
//! split sixteen ways and asked again. Throttling (429) is waited out by the client's retries.
//!
//! Partial data still syncs: a row that cannot be read is skipped and named, and its machine
//! keeps the facts stored before; a machine with no report in the window keeps its facts
//! (their report time says how old they are); a shard that stays throttled or unreachable
//! stops the step, and the shards not read keep theirs. A refusal (no `AdvancedQuery.Read.All`)
//! leaves everything as it was and makes the run Partial, never Failed. Only a step that read
//! every shard moves the daily cursor.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::fetch::{Forbidden, Source};
use crate::db::network_facts::{AdapterRow, DeviceInfoRow};
use crate::db::sync_run::SKIPS_KEPT;
use crate::db::{self, AsConn, DbError, Stores};
use crate::defender::model::network_report::{AdapterReport, DeviceReport, RowError};
use crate::defender::skipped::SkippedItem;
use crate::defender::{DefenderClient, DefenderError};

/// The daily cursor: when every shard was last read.
pub const CURSOR: &str = "network_facts.read";
/// How often the facts are read.
const EVERY: time::Duration = time::Duration::hours(24);
/// The service's row cap (§4.14).
pub const ROW_CAP: usize = 100_000;
/// Rows a shard is sized for: half the cap, so a tenant growing between reads still fits.
const TARGET_ROWS: usize = ROW_CAP / 2;
/// Rows a machine gives in each table, to size the shards (most machines have two to four
/// adapters; DeviceInfo has a few reports a day).
const ROWS_PER_MACHINE: usize = 4;
/// A shard is split no finer than this many hex digits (4,096 shards).
const MAX_PREFIX: usize = 3;
/// Queries one read may make: hunting allows 1,500 an hour for everything, and a query that is
/// too large for a reason splitting does not cure must not spend them all.
pub const MAX_QUERIES: u64 = 300;
const HEX: &[u8; 16] = b"0123456789abcdef";

/// The two tables read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Network,
    Device,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Self::Network => "DeviceNetworkInfo",
            Self::Device => "DeviceInfo",
        }
    }

    /// The query for one shard. `prefix` is lowercase hex (validated by construction).
    pub fn query(self, prefix: &str) -> String {
        match self {
            // arg_max keeps each adapter's latest report: an older one has old DHCP leases.
            Self::Network => format!(
                "DeviceNetworkInfo\n| where Timestamp > ago(1d)\n| where DeviceId startswith \"{prefix}\"\n\
                 | summarize arg_max(Timestamp, *) by DeviceId, NetworkAdapterName\n\
                 | project Timestamp, DeviceId, NetworkAdapterName, NetworkAdapterType, \
                 NetworkAdapterStatus, MacAddress, IPAddresses, ConnectedNetworks"
            ),
            // Every report, not the latest: its rows are sparse, and each attribute is the
            // latest value any of them gave.
            Self::Device => format!(
                "DeviceInfo\n| where Timestamp > ago(1d)\n| where DeviceId startswith \"{prefix}\"\n\
                 | project Timestamp, DeviceId, DeviceType, Model, Vendor, OSArchitecture, JoinType"
            ),
        }
    }

    fn listing(self) -> String {
        format!("advanced hunting {}", self.name())
    }
}

/// What the step did, for the journal.
#[derive(Debug, Default)]
pub struct NetworkFacts {
    /// Whether it was due and ran.
    pub read: bool,
    pub queries: u64,
    /// Machines whose adapters / identity attributes were written.
    pub machines_with_adapters: u64,
    pub machines_with_device_info: u64,
    pub adapters: u64,
    /// Rows that could not be read (the first [`SKIPS_KEPT`]) and how many in all.
    pub skipped: Vec<SkippedItem>,
    pub skipped_total: u64,
    /// Why some shards were not read (the first error).
    pub failure: Option<String>,
    pub forbidden: Option<Forbidden>,
}

/// How many hex digits the first shards have for this many machines.
pub fn prefix_len(machines: usize) -> usize {
    let mut len = 0;
    while len < MAX_PREFIX && machines * ROWS_PER_MACHINE > TARGET_ROWS * 16usize.pow(len as u32) {
        len += 1;
    }
    len
}

fn shards(len: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for _ in 0..len {
        out = out
            .iter()
            .flat_map(|p| HEX.iter().map(move |c| format!("{p}{}", *c as char)))
            .collect();
    }
    out
}

/// Whether Defender refused the answer for its size or its cost (§4.14): a smaller shard fits.
fn too_large(e: &DefenderError) -> bool {
    matches!(e, DefenderError::Rejected { status: 400, message, .. }
        if message.contains("exceeded the allowed result size") || message.contains("preempted"))
}

/// Reads the facts of the machines this run imported when a day has passed since the last
/// complete read. Database errors end the step (the caller notes them); Defender's do not.
pub async fn read_network_facts(
    stores: &Stores,
    client: &DefenderClient,
    conn: &mut impl AsConn,
    now: OffsetDateTime,
) -> Result<NetworkFacts, DbError> {
    let mut facts = NetworkFacts::default();
    let last = stores.sync_cursors.get(conn, CURSOR).await?;
    let fresh = last
        .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
        .is_some_and(|t| now - t < EVERY && t <= now);
    if fresh {
        return Ok(facts);
    }
    let staged = stores.network_facts.staged_machine_ids(conn).await?;
    if staged.is_empty() {
        return Ok(facts);
    }
    facts.read = true;
    // Hunting's DeviceId and the machine API's id are one value; the case is not promised.
    let ids: BTreeMap<String, String> = staged
        .into_iter()
        .map(|id| (id.to_ascii_lowercase(), id))
        .collect();
    let first = shards(prefix_len(ids.len()));
    'tables: for table in [Table::Network, Table::Device] {
        let mut queue: VecDeque<String> = first.iter().cloned().collect();
        while let Some(prefix) = queue.pop_front() {
            let shard: HashMap<&str, &str> = ids
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            if shard.is_empty() {
                continue;
            }
            if facts.queries == MAX_QUERIES {
                facts.failure = Some(format!(
                    "stopped after {MAX_QUERIES} queries, the most one read may make"
                ));
                break 'tables;
            }
            facts.queries += 1;
            let answer = client.advanced_hunting(&table.query(&prefix)).await;
            let fits = match &answer {
                Ok(r) => r.results.len() < ROW_CAP,
                Err(e) => !too_large(e),
            };
            if !fits {
                // One machine's answer does not get smaller by splitting.
                if prefix.len() < MAX_PREFIX && shard.len() > 1 {
                    queue.extend(HEX.iter().map(|c| format!("{prefix}{}", *c as char)));
                } else {
                    facts.failure.get_or_insert_with(|| {
                        format!(
                            "{} for machines {prefix}… is too large to read",
                            table.name()
                        )
                    });
                }
                continue;
            }
            let rows = match answer {
                Ok(r) => r.results,
                Err(e @ DefenderError::Forbidden { .. }) => {
                    tracing::warn!(error = %e, "advanced hunting forbidden; network facts left out");
                    facts.forbidden = Some(Forbidden {
                        source: Source::AdvancedHunting,
                        permissions: e.missing_permissions().to_vec(),
                    });
                    break 'tables;
                }
                Err(e) => {
                    // It outlasted the client's retries; the other shards would wait the same.
                    tracing::warn!(error = %e, table = table.name(), "network facts not read");
                    facts.failure = Some(e.to_string());
                    break 'tables;
                }
            };
            let mut tx = conn.begin_write().await?;
            match table {
                Table::Network => {
                    let (rows, replaced) = adapters(&rows, &shard, &mut facts);
                    facts.machines_with_adapters += replaced.len() as u64;
                    facts.adapters += rows.len() as u64;
                    stores
                        .network_facts
                        .replace_adapters(&mut tx, &replaced, &rows)
                        .await?;
                }
                Table::Device => {
                    let (rows, replaced) = devices(&rows, &shard, &mut facts);
                    facts.machines_with_device_info += replaced.len() as u64;
                    stores
                        .network_facts
                        .replace_device_info(&mut tx, &replaced, &rows)
                        .await?;
                }
            }
            tx.commit().await?;
        }
    }
    if facts.failure.is_none() && facts.forbidden.is_none() {
        let mut tx = conn.begin_write().await?;
        stores
            .sync_cursors
            .advance(&mut tx, CURSOR, &db::format_time(now))
            .await?;
        tx.commit().await?;
    }
    Ok(facts)
}

fn skip(facts: &mut NetworkFacts, table: Table, e: RowError) {
    facts.skipped_total += 1;
    if facts.skipped.len() < SKIPS_KEPT {
        facts.skipped.push(SkippedItem {
            listing: table.listing(),
            id: e.device_id.clone(),
            machine_id: e.device_id,
            field: e.column.to_owned(),
            reason: e.reason.chars().take(200).collect(),
        });
    }
}

/// The shard's rows, read; the machines they stand for (by stored id) and those to keep as
/// they were because one of their rows could not be read.
fn read_rows<T>(
    rows: &[Map<String, Value>],
    shard: &HashMap<&str, &str>,
    table: Table,
    facts: &mut NetworkFacts,
    parse: impl Fn(&Map<String, Value>) -> Result<T, RowError>,
    device: impl Fn(&T) -> &str,
) -> (Vec<(String, T)>, BTreeSet<String>) {
    let mut read = Vec::new();
    let mut kept = BTreeSet::new();
    for row in rows {
        match parse(row) {
            Ok(r) => {
                // A device outside the shard (or not imported) is not ours to write.
                if let Some(id) = shard.get(device(&r).to_ascii_lowercase().as_str()) {
                    read.push(((*id).to_owned(), r));
                }
            }
            Err(e) => {
                if let Some(id) = e
                    .device_id
                    .as_deref()
                    .and_then(|d| shard.get(d.to_ascii_lowercase().as_str()))
                {
                    kept.insert((*id).to_owned());
                }
                skip(facts, table, e);
            }
        }
    }
    read.retain(|(id, _)| !kept.contains(id));
    (read, kept)
}

fn adapters(
    rows: &[Map<String, Value>],
    shard: &HashMap<&str, &str>,
    facts: &mut NetworkFacts,
) -> (Vec<AdapterRow>, Vec<String>) {
    let (read, _) = read_rows(
        rows,
        shard,
        Table::Network,
        facts,
        AdapterReport::from_row,
        |r| &r.device_id,
    );
    // The latest report of each adapter, whatever the query's summarize did.
    let mut latest: BTreeMap<(String, String), AdapterReport> = BTreeMap::new();
    for (id, r) in read {
        let key = (id, r.adapter_name.clone());
        if latest
            .get(&key)
            .is_none_or(|old| old.timestamp < r.timestamp)
        {
            latest.insert(key, r);
        }
    }
    let machines: BTreeSet<String> = latest.keys().map(|(id, _)| id.clone()).collect();
    let rows = latest
        .into_iter()
        .map(|((machine_id, adapter_name), r)| AdapterRow {
            machine_id,
            adapter_name,
            adapter_type: r.adapter_type,
            adapter_status: r.status,
            mac: r.mac.map(|m| m.to_string()),
            ip_addresses: serde_json::to_string(&r.addresses).unwrap_or_else(|_| "[]".into()),
            connected_networks: serde_json::to_string(&r.networks).unwrap_or_else(|_| "[]".into()),
            reported_at: db::format_time(r.timestamp),
        })
        .collect();
    (rows, machines.into_iter().collect())
}

fn devices(
    rows: &[Map<String, Value>],
    shard: &HashMap<&str, &str>,
    facts: &mut NetworkFacts,
) -> (Vec<DeviceInfoRow>, Vec<String>) {
    let (mut read, _) = read_rows(
        rows,
        shard,
        Table::Device,
        facts,
        DeviceReport::from_row,
        |r| &r.device_id,
    );
    read.sort_by(|a, b| (&a.0, a.1.timestamp).cmp(&(&b.0, b.1.timestamp)));
    let mut by_machine: BTreeMap<String, DeviceInfoRow> = BTreeMap::new();
    for (id, r) in read {
        let at = db::format_time(r.timestamp);
        let row = by_machine
            .entry(id.clone())
            .or_insert_with(|| DeviceInfoRow {
                machine_id: id,
                device_type: None,
                model: None,
                vendor: None,
                os_architecture: None,
                join_type: None,
                reported_at: at.clone(),
            });
        // In time order, so each attribute ends as the latest value given.
        row.device_type = r.device_type.or(row.device_type.take());
        row.model = r.model.or(row.model.take());
        row.vendor = r.vendor.or(row.vendor.take());
        row.os_architecture = r.os_architecture.or(row.os_architecture.take());
        row.join_type = r.join_type.or(row.join_type.take());
        row.reported_at = at;
    }
    let machines = by_machine.keys().cloned().collect();
    (by_machine.into_values().collect(), machines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_sized_for_half_the_cap() {
        assert_eq!(prefix_len(0), 0);
        assert_eq!(prefix_len(12_500), 0);
        assert_eq!(prefix_len(12_501), 1);
        assert_eq!(prefix_len(100_000), 1);
        assert_eq!(prefix_len(200_001), 2);
        assert_eq!(prefix_len(100_000_000), 3);
        assert_eq!(shards(0), vec![String::new()]);
        assert_eq!(shards(1).len(), 16);
        assert_eq!(shards(2)[17], "11");
    }

    #[test]
    fn a_refusal_for_size_or_cost_is_told_apart() {
        let rejected = |status, message: &str| DefenderError::Rejected {
            status,
            code: "BadRequest".into(),
            message: message.into(),
        };
        assert!(too_large(&rejected(
            400,
            "Query execution has exceeded the allowed result size. Optimize your query…"
        )));
        assert!(too_large(&rejected(400, "…query execution was preempted…")));
        assert!(!too_large(&rejected(400, "Syntax error")));
        assert!(!too_large(&rejected(
            500,
            "exceeded the allowed result size"
        )));
    }
}
