//! The simulator's advanced hunting, as the console's queries and the service's quirks need it.
use std::collections::{BTreeMap, BTreeSet};

use serde::de::{Deserializer, MapAccess, Visitor};

use super::*;
use crate::sim::generator::generate;

/// The console's two queries (the sync's shapes, verbatim but for the prefix).
fn network_query(prefix: &str) -> String {
    format!(
        "DeviceNetworkInfo\n| where Timestamp > ago(1d)\n| where DeviceId startswith \"{prefix}\"\n\
         | summarize arg_max(Timestamp, *) by DeviceId, NetworkAdapterName\n\
         | project Timestamp, DeviceId, NetworkAdapterName, NetworkAdapterType, \
         NetworkAdapterStatus, MacAddress, IPAddresses, ConnectedNetworks"
    )
}

fn device_query(prefix: &str) -> String {
    format!(
        "DeviceInfo\n| where Timestamp > ago(7d)\n| where DeviceId startswith \"{prefix}\"\n\
         | project Timestamp, DeviceId, DeviceType, Model, Vendor, OSArchitecture, JoinType"
    )
}

fn ask(d: &Dataset, f: &mut Faults, cap: usize, query: &str) -> Result<Answer, ApiError> {
    run(d, f, cap, json!({ "Query": query }).to_string().as_bytes())
}

fn q(d: &Dataset, f: &mut Faults, query: &str) -> Result<Value, ApiError> {
    ask(d, f, MAX_ROWS, query).map(|a| a.json())
}

fn rows(v: &Value) -> &Vec<Value> {
    v["Results"].as_array().expect("Results")
}

fn text<'a>(row: &'a Value, col: &str) -> &'a str {
    row[col]
        .as_str()
        .unwrap_or_else(|| panic!("{col} in {row}"))
}

/// A Dynamic column's value, whether it came as JSON text or as JSON.
fn dynamic(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).expect("decodable"),
        other => other.clone(),
    }
}

fn onboarded_with_prefix(d: &Dataset, prefix: &str) -> BTreeSet<String> {
    let prefix = prefix.to_ascii_lowercase();
    d.machines
        .iter()
        .filter(|m| m.onboarded() && m.id_hex().starts_with(&prefix))
        .map(|m| m.id_hex())
        .collect()
}

/// Rows per (DeviceId, NetworkAdapterName).
fn per_adapter(v: &Value) -> BTreeMap<(String, String), Vec<&Value>> {
    let mut out: BTreeMap<_, Vec<&Value>> = BTreeMap::new();
    for r in rows(v) {
        let key = (
            text(r, "DeviceId").to_owned(),
            text(r, "NetworkAdapterName").to_owned(),
        );
        out.entry(key).or_default().push(r);
    }
    out
}

/// The IPv4 addresses of an `IPAddresses` value.
fn ipv4s(v: &Value) -> Vec<String> {
    dynamic(v)
        .as_array()
        .expect("an array")
        .iter()
        .map(|a| a["IPAddress"].as_str().unwrap().to_owned())
        .filter(|ip| !ip.contains(':'))
        .collect()
}

/// The keys of each `Results` object in the order the text lists them.
struct Ordered(Vec<String>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(Ordered(keys))
            }
        }
        d.deserialize_map(Keys)
    }
}

#[derive(serde::Deserialize)]
struct Text {
    #[serde(rename = "Results")]
    results: Vec<Ordered>,
}

#[test]
fn canned_answers_and_errors() {
    let d = generate(1, 30, "t");
    let mut f = Faults::default();
    let v = q(&d, &mut f, "DeviceInfo | take 3").unwrap();
    assert_eq!(rows(&v).len(), 3);
    assert_eq!(v["Schema"][1]["Name"], "DeviceId");
    let onboarded = onboarded_with_prefix(&d, "").len();
    let count = q(&d, &mut f, "DeviceInfo | count").unwrap();
    assert_eq!(count["Results"][0]["Count"], 2 * onboarded);
    // A count is one row: a cap below what it counted does not refuse it.
    let small = ask(&d, &mut f, 1, "DeviceNetworkInfo | count")
        .unwrap()
        .json();
    assert!(small["Results"][0]["Count"].as_u64().unwrap() > 1);
    assert!(q(&d, &mut f, "").is_err());
    assert!(q(&d, &mut f, "DeviceInfo | where X == 'a").is_err());
    assert!(q(
        &d,
        &mut f,
        "DeviceInfo | summarize arg_max(Timestamp, *) by (DeviceId"
    )
    .is_err());
    assert_eq!(
        q(&d, &mut f, "NoSuchTable").unwrap_err().message,
        "Query execution failed: Failed to resolve table or column expression named 'NoSuchTable'"
    );
    for table in [
        "DeviceNetworkEvents",
        "DeviceTvmSoftwareVulnerabilities",
        "DeviceEvents",
    ] {
        assert!(
            q(&d, &mut f, &format!("{table} | take 2")).is_ok(),
            "{table}"
        );
    }
    assert_eq!(
        run(&d, &mut f, MAX_ROWS, br#"{"query":"DeviceInfo"}"#)
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

#[test]
fn a_prefix_returns_exactly_the_machines_whose_id_starts_with_it() {
    let d = generate(7, 60, "t");
    let mut f = Faults::default();
    let some = d.machines.iter().find(|m| m.onboarded()).unwrap().id_hex();
    let prefixes = [
        String::new(),
        some[..1].to_owned(),
        some[..2].to_ascii_uppercase(),
        some[..3].to_owned(),
        "0".to_owned(),
        "f".to_owned(),
    ];
    for prefix in &prefixes {
        let expected = onboarded_with_prefix(&d, prefix);
        let net = q(&d, &mut f, &network_query(prefix)).unwrap();
        let served: BTreeSet<String> = rows(&net)
            .iter()
            .map(|r| text(r, "DeviceId").to_owned())
            .collect();
        assert_eq!(served, expected, "DeviceNetworkInfo {prefix:?}");
        let dev = q(&d, &mut f, &device_query(prefix)).unwrap();
        let served: Vec<&str> = rows(&dev).iter().map(|r| text(r, "DeviceId")).collect();
        assert_eq!(
            served.len(),
            2 * expected.len(),
            "two DeviceInfo reports each"
        );
        assert_eq!(
            served
                .into_iter()
                .map(str::to_owned)
                .collect::<BTreeSet<_>>(),
            expected,
            "DeviceInfo {prefix:?}"
        );
    }
    assert_eq!(
        onboarded_with_prefix(&d, "").len(),
        d.machines.iter().filter(|m| m.onboarded()).count()
    );
    assert!(!onboarded_with_prefix(&d, &some[..3]).is_empty());
}

#[test]
fn arg_max_keeps_one_row_per_adapter_from_the_latest_report() {
    let d = generate(7, 60, "t");
    let mut f = Faults::default();
    let v = q(&d, &mut f, &network_query("")).unwrap();
    let by = per_adapter(&v);
    assert!(by.values().all(|r| r.len() == 1));
    assert_eq!(by.len(), rows(&v).len());
    let mut expected = 0;
    for (i, m) in d.machines.iter().enumerate().filter(|(_, m)| m.onboarded()) {
        let latest = network_adapters_of(&d, i);
        expected += latest.len();
        for a in &latest {
            let key = (m.id_hex(), text(a, "NetworkAdapterName").to_owned());
            let served = by[&key][0];
            for col in [
                "Timestamp",
                "MacAddress",
                "IPAddresses",
                "ConnectedNetworks",
            ] {
                assert_eq!(served[col], a[col], "{key:?} {col}");
            }
        }
        // The primary adapter carries the machine record's address: the new lease.
        let primary = &by[&(
            m.id_hex(),
            latest[0]["NetworkAdapterName"].as_str().unwrap().to_owned(),
        )][0];
        assert_eq!(
            ipv4s(&primary["IPAddresses"]),
            [ipv4(m.ip)],
            "{}",
            m.id_hex()
        );
    }
    assert_eq!(rows(&v).len(), expected);
}

#[test]
fn without_arg_max_every_adapter_has_exactly_two_reports_and_the_lease_changed() {
    let d = generate(7, 60, "t");
    let mut f = Faults::default();
    let v = q(
        &d,
        &mut f,
        "DeviceNetworkInfo | where DeviceId startswith \"\"",
    )
    .unwrap();
    let by = per_adapter(&v);
    assert!(
        by.values().all(|r| r.len() == 2),
        "two reports of each adapter"
    );
    let adapters: usize = (0..d.machines.len())
        .map(|i| network_adapters_of(&d, i).len())
        .sum();
    assert_eq!(rows(&v).len(), 2 * adapters);
    for (i, m) in d.machines.iter().enumerate().filter(|(_, m)| m.onboarded()) {
        let name = network_adapters_of(&d, i)[0]["NetworkAdapterName"].clone();
        let reports = &by[&(m.id_hex(), name.as_str().unwrap().to_owned())];
        let (old, new) = (reports[0], reports[1]);
        assert!(text(old, "Timestamp") < text(new, "Timestamp"));
        assert_eq!(ipv4s(&new["IPAddresses"]), [ipv4(m.ip)]);
        let stale = ipv4s(&old["IPAddresses"]);
        assert_eq!(stale.len(), 1);
        assert_ne!(stale[0], ipv4(m.ip), "the older report had another lease");
        assert_ne!(old["ReportId"], new["ReportId"]);
    }
}

#[test]
fn adapters_agree_with_the_machine_record_and_macs_are_hyphenated() {
    let d = generate(7, 60, "t");
    let hyphenated = |mac: &str| {
        mac.as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("-")
    };
    let (mut unlisted, mut as_json, mut link_local) = (0, 0, 0);
    for (i, m) in d.machines.iter().enumerate().filter(|(_, m)| m.onboarded()) {
        let served = network_adapters_of(&d, i);
        assert_eq!(served[0]["MacAddress"], hyphenated(&m.mac()));
        for a in &served {
            let mac = text(a, "MacAddress");
            let well_formed = mac.is_empty()
                || mac.len() == 17
                    && mac.split('-').all(|p| {
                        p.len() == 2
                            && p.chars()
                                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                    });
            assert!(well_formed, "{mac}");
            if a["IPAddresses"].is_array() {
                as_json += 1;
            } else {
                assert!(a["IPAddresses"].is_string());
            }
            for col in ["ConnectedNetworks", "DnsAddresses", "DefaultGateways"] {
                assert!(dynamic(&a[col]).is_array(), "{col} is JSON text");
            }
            let ips = dynamic(&a["IPAddresses"]);
            let ips = ips.as_array().unwrap();
            link_local += ips
                .iter()
                .filter(|ip| {
                    ip["IPAddress"].as_str().unwrap().starts_with("fe80:")
                        && ip["SubnetPrefix"] == 64
                        && ip["AddressType"] == "LinkLocal"
                })
                .count();
            if ips.is_empty() {
                unlisted += 1;
                assert_eq!(a["NetworkAdapterStatus"], "Down");
                assert_eq!(a["ConnectedNetworks"], "[]");
                assert!(!mac.is_empty(), "an unlisted adapter has its MAC");
            }
        }
        // Every adapter the machine record lists is there, with its type and status.
        for nic in m.nics() {
            let mac = nic.mac.as_deref().map(hyphenated).unwrap_or_default();
            assert!(
                served.iter().any(|a| a["MacAddress"] == mac.as_str()
                    && a["NetworkAdapterType"] == nic.kind
                    && a["NetworkAdapterStatus"] == nic.status
                    && dynamic(&a["IPAddresses"])
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|ip| ip["IPAddress"] == nic.ip.as_str())),
                "{} {nic:?}",
                m.id_hex()
            );
        }
        let arrays = served
            .iter()
            .filter(|a| a["IPAddresses"].is_array())
            .count();
        assert_eq!(arrays > 0, i % 25 == 12, "machine {i}");
    }
    assert!(unlisted > 0 && link_local > 0);
    let quirky: usize = [12, 37]
        .iter()
        .map(|i| network_adapters_of(&d, *i).len())
        .sum();
    assert_eq!(
        as_json, quirky,
        "every adapter of the machines at 12 and 37"
    );
    assert!(as_json > 0, "fixture 12 is onboarded");
}

#[test]
fn the_bad_row_fault_spoils_exactly_one_row() {
    let d = generate(7, 30, "t");
    let mut f = Faults {
        hunting_bad_row: true,
        ..Faults::default()
    };
    let v = q(&d, &mut f, &network_query("")).unwrap();
    let bad: Vec<&Value> = rows(&v)
        .iter()
        .filter(|r| {
            r["IPAddresses"]
                .as_str()
                .is_some_and(|s| serde_json::from_str::<Value>(s).is_err())
        })
        .collect();
    assert_eq!(bad.len(), 1);
    let spoilt = first_onboarded(&d).unwrap();
    assert_eq!(text(bad[0], "DeviceId"), d.machines[spoilt].id_hex());
    let clean = q(&d, &mut Faults::default(), &network_query("")).unwrap();
    assert_eq!(rows(&clean).len(), rows(&v).len());
}

#[test]
fn project_picks_and_orders_columns_and_refuses_unknown_ones() {
    let d = generate(7, 30, "t");
    let mut f = Faults::default();
    let cols = [
        "Timestamp",
        "DeviceId",
        "NetworkAdapterName",
        "NetworkAdapterType",
        "NetworkAdapterStatus",
        "MacAddress",
        "IPAddresses",
        "ConnectedNetworks",
    ];
    let answer = ask(&d, &mut f, MAX_ROWS, &network_query("")).unwrap();
    let v = answer.json();
    let schema: Vec<&str> = v["Schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap())
        .collect();
    assert_eq!(schema, cols);
    assert_eq!(v["Schema"][0]["Type"], "DateTime");
    assert_eq!(v["Schema"][6]["Type"], "String");
    let ordered: Text = serde_json::from_str(&answer.to_string()).unwrap();
    assert_eq!(ordered.results.len(), rows(&v).len());
    assert!(ordered.results.iter().all(|r| r.0 == cols));

    let dev = ask(&d, &mut f, MAX_ROWS, &device_query("")).unwrap();
    let ordered: Text = serde_json::from_str(&dev.to_string()).unwrap();
    let want = [
        "Timestamp",
        "DeviceId",
        "DeviceType",
        "Model",
        "Vendor",
        "OSArchitecture",
        "JoinType",
    ];
    assert!(ordered.results.iter().all(|r| r.0 == want));

    // Without `project`, the whole schema in the real table's order.
    let all = q(&d, &mut f, "DeviceNetworkInfo | take 1").unwrap();
    let names: Vec<&str> = all["Schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Timestamp",
            "DeviceId",
            "DeviceName",
            "NetworkAdapterName",
            "MacAddress",
            "NetworkAdapterType",
            "NetworkAdapterStatus",
            "TunnelType",
            "ConnectedNetworks",
            "DnsAddresses",
            "IPv4Dhcp",
            "IPv6Dhcp",
            "DefaultGateways",
            "IPAddresses",
            "ReportId",
            "NetworkAdapterVendor",
        ]
    );

    for query in [
        "DeviceNetworkInfo | project DeviceId, Bogus".to_owned(),
        "DeviceNetworkInfo | summarize arg_max(Timestamp, *) by DeviceId, Bogus".to_owned(),
        "DeviceInfo | project Bogus | count".to_owned(),
    ] {
        let e = q(&d, &mut f, &query).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code.as_str()),
            (400, "BadRequest"),
            "{query}"
        );
        assert_eq!(
            e.message,
            "Query execution failed: Failed to resolve scalar expression named 'Bogus'"
        );
    }
}

#[test]
fn the_row_cap_applies_to_the_result_and_its_boundary_is_exact() {
    let d = generate(7, 30, "t");
    let mut f = Faults::default();
    let latest = q(&d, &mut f, &network_query("")).unwrap();
    let n = rows(&latest).len();
    // Twice as many rows are read; the cap is on what arg_max leaves.
    assert!(ask(&d, &mut f, n, &network_query("")).is_ok());
    let e = ask(&d, &mut f, n - 1, &network_query("")).unwrap_err();
    assert_eq!(e.status.as_u16(), 400);
    assert_eq!(e.message, TOO_LARGE);
    let all = "DeviceNetworkInfo | where DeviceId startswith \"\"";
    assert!(ask(&d, &mut f, 2 * n, all).is_ok());
    assert!(ask(&d, &mut f, 2 * n - 1, all).is_err());
    // `take` comes before the cap too.
    assert!(ask(&d, &mut f, 5, &format!("{all} | take 5")).is_ok());
    assert!(ask(&d, &mut f, 4, &format!("{all} | take 5")).is_err());
    // A 30-machine tenant under a cap of 40: the whole tenant is refused, a shard is not.
    assert!(ask(&d, &mut f, 40, &network_query("")).is_err());
    let shard = d.machines.iter().find(|m| m.onboarded()).unwrap().id_hex()[..2].to_owned();
    let v = ask(&d, &mut f, 40, &network_query(&shard)).unwrap().json();
    assert!(!rows(&v).is_empty());
}

#[test]
fn device_info_has_a_sparse_newer_report_and_the_authoritative_values_fill_it() {
    let d = generate(7, 60, "t");
    let mut f = Faults::default();
    let v = q(&d, &mut f, &device_query("")).unwrap();
    let mut by: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for r in rows(&v) {
        by.entry(text(r, "DeviceId")).or_default().push(r);
    }
    let mut sparse = 0;
    for (i, m) in d.machines.iter().enumerate() {
        let id = m.id_hex();
        let Some(expected) = device_info_of(&d, i) else {
            assert!(!m.onboarded() && !by.contains_key(id.as_str()));
            continue;
        };
        let reports = &by[id.as_str()];
        assert_eq!(reports.len(), 2);
        let (old, new) = (reports[0], reports[1]);
        assert!(text(old, "Timestamp") < text(new, "Timestamp"));
        for col in ["DeviceType", "OSArchitecture"] {
            assert_eq!(new[col], expected[col], "{col}");
        }
        for col in ["Model", "Vendor", "JoinType"] {
            assert_eq!(
                old[col], expected[col],
                "the older report is complete: {col}"
            );
            if i % 3 == 0 {
                assert_eq!(new[col], "", "{col}");
            } else {
                assert_eq!(new[col], expected[col], "{col}");
            }
        }
        if i % 3 == 0 && expected["Model"] != "" {
            sparse += 1;
        }
        let t = text(&expected, "DeviceType");
        assert!(["Workstation", "Server", "Mobile"].contains(&t));
        if m.family() == crate::sim::catalog::Family::WindowsServer {
            assert_eq!((t, text(&expected, "JoinType")), ("Server", ""));
        }
        if m.mac >> 24 == crate::sim::machines::HYPER_V_OUI {
            assert_eq!(expected["Vendor"], "Microsoft Corporation");
        }
    }
    assert!(
        sparse > 0,
        "some machine loses its model in the newer report"
    );
    let full = q(&d, &mut f, "DeviceInfo | take 1").unwrap();
    assert_eq!(
        full["Schema"][9],
        json!({"Name": "IsAzureADJoined", "Type": "Boolean"})
    );
    assert!(full["Results"][0]["IsAzureADJoined"].is_boolean());
    assert_eq!(full["Results"][0]["DeviceCategory"], "Endpoint");
}
