//! Advanced hunting (`POST /api/advancedqueries/run`, defender-api.md §4.14): strict body,
//! a minimal KQL reading (table name, `take`/`limit`, `count`) and canned results built
//! from the generated tenant.

use serde_json::{json, Map, Value};

use super::clock::{iso7, DATA_EPOCH, SEC};
use super::dataset::Dataset;
use super::faults::Faults;
use super::machines::{ipv4, ONBOARDING};
use super::rng::mix;
use super::vulnerabilities::SEVERITY;
use super::wire::ApiError;

/// Result-row ceiling of the real service (§4.14).
const MAX_ROWS: usize = 100_000;

type Columns = &'static [(&'static str, &'static str)];

const DEVICE_INFO: Columns = &[
    ("Timestamp", "DateTime"),
    ("DeviceId", "String"),
    ("DeviceName", "String"),
    ("OSPlatform", "String"),
    ("OnboardingStatus", "String"),
    ("PublicIP", "String"),
];
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

fn take_limit(q: &str) -> Option<usize> {
    let words: Vec<&str> = q
        .split(|c: char| c.is_whitespace() || c == '|')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|w| w[0] == "take" || w[0] == "limit" || w[0] == "top")
        .filter_map(|w| w[1].parse().ok())
        .min()
}

pub fn run(d: &Dataset, faults: &mut Faults, body: &[u8]) -> Result<Value, ApiError> {
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
        return Err(bad("Query execution has exceeded the allowed result size. Optimize your query by limiting the number of results and try again."));
    }
    let table = query
        .split(|c: char| c.is_whitespace() || c == '|')
        .next()
        .unwrap_or("");
    let limit = take_limit(query).unwrap_or(MAX_ROWS).min(MAX_ROWS);
    let (cols, rows): (Columns, Vec<Vec<Value>>) = match table {
        "DeviceInfo" => (
            DEVICE_INFO,
            d.machines
                .iter()
                .enumerate()
                .filter(|(_, m)| m.onboarded())
                .take(limit)
                .map(|(i, m)| {
                    vec![
                        json!(iso7(m.last_seen)),
                        json!(m.id_hex()),
                        json!(d.name(i)),
                        json!(m.platform()),
                        json!(ONBOARDING[m.onboarding as usize]),
                        json!(format!("198.51.100.{}", m.seed % 250 + 1)),
                    ]
                })
                .collect(),
        ),
        "DeviceNetworkEvents" => (
            NETWORK_EVENTS,
            (0..limit.min(d.machines.len() * 3))
                .map(|k| {
                    let m = &d.machines[k % d.machines.len().max(1)];
                    let x = mix(m.seed, k as u64);
                    vec![
                        json!(iso7(DATA_EPOCH - (x % 86_400) as i128 * SEC)),
                        json!(m.id_hex()),
                        json!(ipv4(0xCB00_7100 | (x as u32 & 0xFF))),
                        json!([443, 80, 445, 3389, 22][(x % 5) as usize]),
                        json!(["ConnectionSuccess", "ConnectionFailed"][(x % 2) as usize]),
                    ]
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
                    vec![
                        json!(mid),
                        row["cveId"].clone(),
                        row["productVendor"].clone(),
                        row["productName"].clone(),
                        json!(SEVERITY[d.cves[c as usize].severity as usize]),
                    ]
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
    if query.split('|').any(|p| p.trim() == "count") {
        return Ok(
            json!({"Schema": [{"Name": "Count", "Type": "Int64"}], "Results": [{"Count": rows.len()}]}),
        );
    }
    let schema: Vec<Value> = cols
        .iter()
        .map(|(n, t)| json!({"Name": n, "Type": t}))
        .collect();
    let results: Vec<Value> = rows
        .into_iter()
        .map(|r| Value::Object(cols.iter().map(|(n, _)| (*n).to_owned()).zip(r).collect()))
        .collect();
    Ok(json!({"Schema": schema, "Results": results}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generator::generate;

    fn q(d: &Dataset, f: &mut Faults, query: &str) -> Result<Value, ApiError> {
        run(d, f, json!({ "Query": query }).to_string().as_bytes())
    }

    #[test]
    fn canned_answers_and_errors() {
        let d = generate(1, 30, "t");
        let mut f = Faults::default();
        let v = q(&d, &mut f, "DeviceInfo | take 3").unwrap();
        assert_eq!(v["Results"].as_array().unwrap().len(), 3);
        assert_eq!(v["Schema"][1]["Name"], "DeviceId");
        assert!(
            q(&d, &mut f, "DeviceInfo | count").unwrap()["Results"][0]["Count"]
                .as_u64()
                .unwrap()
                > 0
        );
        assert!(q(&d, &mut f, "").is_err());
        assert!(q(&d, &mut f, "DeviceInfo | where X == 'a").is_err());
        assert!(q(&d, &mut f, "NoSuchTable").is_err());
        assert_eq!(
            run(&d, &mut f, br#"{"query":"DeviceInfo"}"#)
                .unwrap_err()
                .code,
            "InvalidRequestBody"
        );
        f.hunting_result_too_large = true;
        assert!(q(&d, &mut f, "DeviceInfo")
            .unwrap_err()
            .message
            .contains("exceeded the allowed result size"));
    }
}
