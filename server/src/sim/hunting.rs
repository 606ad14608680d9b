//! Advanced hunting (`POST /api/advancedqueries/run`, defender-api.md §4.14): strict body, a
//! little KQL (`kql`), and tables built from the generated tenant: `DeviceNetworkInfo`
//! (`network_info`) and `DeviceInfo` (`device_info`) as the sync reads them, and a few more
//! with canned rows. A result over the row cap is refused as too large, as the service does.

mod device_info;
mod kql;
mod network_info;

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::clock::{iso7, DATA_EPOCH, SEC};
use super::dataset::Dataset;
use super::faults::Faults;
use super::machines::ipv4;
use super::rng::mix;
use super::vulnerabilities::SEVERITY;
use super::wire::ApiError;

pub use device_info::authoritative as device_info_of;

/// Result-row ceiling of the real service (§4.14).
pub const MAX_ROWS: usize = 100_000;

type Columns = &'static [(&'static str, &'static str)];

const NETWORK_EVENTS: Columns = &[
    ("Timestamp", "DateTime"),
    ("DeviceId", "String"),
    ("RemoteIP", "String"),
    ("RemotePort", "Int32"),
    ("ActionType", "String"),
];
const TVM: Columns = &[
    ("DeviceId", "String"),
    ("CveId", "String"),
    ("SoftwareVendor", "String"),
    ("SoftwareName", "String"),
    ("VulnerabilitySeverityLevel", "String"),
];

const TOO_LARGE: &str = "Query execution has exceeded the allowed result size. Optimize your query by limiting the number of results and try again.";

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad("BadRequest", msg)
}

/// Quote and bracket balance: enough to reject obviously broken KQL.
fn well_formed(q: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in q.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none() && !q.trim_start().starts_with('|')
}

pub fn run(
    d: &Dataset,
    faults: &mut Faults,
    max_rows: usize,
    body: &[u8],
) -> Result<Answer, ApiError> {
    let obj: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(o)) => o,
        _ => {
            return Err(ApiError::bad(
                "InvalidRequestBody",
                "Request body is not a valid JSON object",
            ))
        }
    };
    if obj
        .keys()
        .any(|k| k != "Query" && k.eq_ignore_ascii_case("query"))
    {
        return Err(ApiError::bad(
            "InvalidRequestBody",
            "Invalid property name; expected 'Query'",
        ));
    }
    let query = obj
        .get("Query")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    if query.is_empty() {
        return Err(ApiError::bad(
            "MissingRequiredParameter",
            "Query is required",
        ));
    }
    if !well_formed(query) {
        return Err(bad(
            "Query execution failed: Syntax error: Query could not be parsed",
        ));
    }
    if faults.hunting_result_too_large {
        return Err(bad(TOO_LARGE));
    }
    let q = kql::parse(query);
    let limit = q.take.unwrap_or(usize::MAX);
    let machines_matching = || {
        d.machines.iter().enumerate().filter(|(_, m)| {
            m.onboarded()
                && q.prefix
                    .as_deref()
                    .is_none_or(|p| m.id_hex().starts_with(p))
        })
    };
    let (cols, mut rows): (Columns, Vec<Map<String, Value>>) = match q.table.as_str() {
        "DeviceInfo" => (
            device_info::COLUMNS,
            machines_matching()
                .flat_map(|(i, _)| device_info::rows(d, i))
                .collect(),
        ),
        "DeviceNetworkInfo" => {
            let spoilt = faults.hunting_bad_row.then(|| first_onboarded(d)).flatten();
            (
                network_info::COLUMNS,
                machines_matching()
                    .flat_map(|(i, _)| network_info::rows(d, i, spoilt == Some(i)))
                    .collect(),
            )
        }
        "DeviceNetworkEvents" => (
            NETWORK_EVENTS,
            (0..limit.min(d.machines.len() * 3))
                .map(|k| {
                    let m = &d.machines[k % d.machines.len().max(1)];
                    let x = mix(m.seed, k as u64);
                    object(
                        NETWORK_EVENTS,
                        vec![
                            json!(iso7(DATA_EPOCH - (x % 86_400) as i128 * SEC)),
                            json!(m.id_hex()),
                            json!(ipv4(0xCB00_7100 | (x as u32 & 0xFF))),
                            json!([443, 80, 445, 3389, 22][(x % 5) as usize]),
                            json!(["ConnectionSuccess", "ConnectionFailed"][(x % 2) as usize]),
                        ],
                    )
                })
                .collect(),
        ),
        "DeviceTvmSoftwareVulnerabilities" => (
            TVM,
            (0..d.rows.len().min(limit))
                .map(|r| {
                    let (m, c) = d.rows[r];
                    let mid = d.machines[m as usize].id_hex();
                    let row = d.row(r, &mid).json();
                    object(
                        TVM,
                        vec![
                            json!(mid),
                            row["cveId"].clone(),
                            row["productVendor"].clone(),
                            row["productName"].clone(),
                            json!(SEVERITY[d.cves[c as usize].severity as usize]),
                        ],
                    )
                })
                .collect(),
        ),
        "DeviceEvents"
        | "DeviceProcessEvents"
        | "DeviceLogonEvents"
        | "DeviceFileEvents"
        | "AlertInfo"
        | "AlertEvidence" => (
            &[
                ("Timestamp", "DateTime"),
                ("DeviceId", "String"),
                ("ActionType", "String"),
            ],
            Vec::new(),
        ),
        other => {
            return Err(bad(format!(
            "Query execution failed: Failed to resolve table or column expression named '{other}'"
        )))
        }
    };
    // Names are resolved before anything runs, as the service compiles a query first.
    if let Some(k) = q
        .latest_by
        .iter()
        .flatten()
        .find(|k| !cols.iter().any(|(n, _)| n == *k))
    {
        return Err(unresolved(k));
    }
    let cols: Vec<(&str, &str)> = match &q.project {
        None => cols.to_vec(),
        Some(names) => names
            .iter()
            .map(|n| {
                cols.iter()
                    .find(|(c, _)| c == n)
                    .copied()
                    .ok_or_else(|| unresolved(n))
            })
            .collect::<Result<_, _>>()?,
    };
    if let Some(prefix) = &q.prefix {
        rows.retain(|r| {
            r.get("DeviceId")
                .and_then(Value::as_str)
                .is_some_and(|id| id.to_ascii_lowercase().starts_with(prefix.as_str()))
        });
    }
    if let Some(keys) = &q.latest_by {
        rows = latest(rows, keys);
    }
    rows.truncate(limit);
    if q.count {
        // One row, whatever it counted: the cap is on the result, not on what was read.
        return Ok(Answer(
            json!({"Schema": [{"Name": "Count", "Type": "Int64"}], "Results": [{"Count": rows.len()}]})
                .to_string(),
        ));
    }
    if rows.len() > max_rows {
        return Err(bad(TOO_LARGE));
    }
    Ok(Answer::write(&cols, rows))
}

/// An answer's JSON text, written by hand because each `Results` object must list its columns
/// in the `Schema`'s (the projected) order, and a `serde_json::Map` would sort them.
#[derive(Debug)]
pub struct Answer(String);

impl Answer {
    fn write(cols: &[(&str, &str)], rows: Vec<Map<String, Value>>) -> Self {
        let schema: Vec<Value> = cols
            .iter()
            .map(|(n, t)| json!({"Name": n, "Type": t}))
            .collect();
        let mut out = format!("{{\"Schema\":{},\"Results\":[", Value::Array(schema));
        for (i, mut row) in rows.into_iter().enumerate() {
            out.push_str(if i == 0 { "{" } else { ",{" });
            for (j, (name, _)) in cols.iter().enumerate() {
                let value = row.remove(*name).unwrap_or(Value::Null);
                let sep = if j == 0 { "" } else { "," };
                out.push_str(sep);
                out.push_str(&Value::from(*name).to_string());
                out.push(':');
                out.push_str(&value.to_string());
            }
            out.push('}');
        }
        out.push_str("]}");
        Self(out)
    }

    /// The answer as a JSON value (its objects' key order lost).
    #[cfg(test)]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.0).expect("an answer is JSON")
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn object(cols: Columns, values: Vec<Value>) -> Map<String, Value> {
    cols.iter()
        .map(|(n, _)| (*n).to_owned())
        .zip(values)
        .collect()
}

fn unresolved(name: &str) -> ApiError {
    bad(format!(
        "Query execution failed: Failed to resolve scalar expression named '{name}'"
    ))
}

/// `summarize arg_max(Timestamp, *) by keys`: per key tuple, the row with the latest time
/// (all times are written alike, so their text orders them), in first-seen key order.
fn latest(rows: Vec<Map<String, Value>>, keys: &[String]) -> Vec<Map<String, Value>> {
    let mut at: HashMap<Vec<String>, usize> = HashMap::new();
    let mut out: Vec<Map<String, Value>> = Vec::new();
    for r in rows {
        let key: Vec<String> = keys
            .iter()
            .map(|k| r.get(k).map(Value::to_string).unwrap_or_default())
            .collect();
        let time = |r: &Map<String, Value>| {
            r.get("Timestamp")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        match at.get(&key) {
            Some(&i) if time(&out[i]) >= time(&r) => {}
            Some(&i) => out[i] = r,
            None => {
                at.insert(key, out.len());
                out.push(r);
            }
        }
    }
    out
}

/// The machine the `hunting_bad_row` fault spoils: the first onboarded one.
pub fn first_onboarded(d: &Dataset) -> Option<usize> {
    d.machines.iter().position(|m| m.onboarded())
}

/// The latest report's `DeviceNetworkInfo` rows of the machine at `position`, as served
/// (whole rows, without the fault).
pub fn network_adapters_of(d: &Dataset, position: usize) -> Vec<Value> {
    if !d.machines.get(position).is_some_and(|m| m.onboarded()) {
        return Vec::new();
    }
    let keys = ["DeviceId".to_owned(), "NetworkAdapterName".to_owned()];
    latest(network_info::rows(d, position, false), &keys)
        .into_iter()
        .map(Value::Object)
        .collect()
}

#[cfg(test)]
mod tests;
