//! The Software subtab of the Endpoint Summary, against the simulator over real HTTP: each
//! endpoint lists exactly the (vendor, product, version) entries the simulator's
//! machine-vulnerability rows name on its live machine, with their CVEs, and Defender's
//! tenant-wide facts about each product (Get software by id) as the simulator serves them.

#[path = "support/app.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use server::sim::{self, SimConfig};
use support::seeded_tenant::scan_and_sync;
use support::TestApp;

type Entries = BTreeMap<(String, String, String), BTreeSet<String>>;

fn severity_rank(s: Option<&str>) -> u8 {
    match s.map(str::to_ascii_lowercase).as_deref() {
        Some("critical") => 4,
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

#[tokio::test]
async fn each_endpoint_lists_the_software_of_its_machine_with_defenders_facts() {
    let sim = sim::start(SimConfig::for_tests(40), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;

    // What each machine should list: its served rows by product and version.
    let mut expected: BTreeMap<String, Entries> = BTreeMap::new();
    for r in sim.control().machine_vulnerabilities() {
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
        expected
            .entry(text("machineId"))
            .or_default()
            .entry((
                text("productVendor"),
                text("productName"),
                text("productVersion"),
            ))
            .or_default()
            .insert(text("cveId"));
    }
    let served: BTreeMap<String, Value> = sim
        .control()
        .software()
        .into_iter()
        .map(|s| (s["id"].as_str().unwrap().to_owned(), s))
        .collect();

    let list: Value = app
        .call(
            &admin,
            "endpoints/list",
            &support::endpoint_list_form("", "500"),
        )
        .await
        .json()
        .await
        .unwrap();
    let (mut with_software, mut machines, mut entries) = (0, 0, 0usize);
    let mut facts_seen = BTreeSet::new();
    for row in list["rows"].as_array().unwrap() {
        let id = row["id"].as_i64().unwrap().to_string();
        let summary: Value = app
            .call(&admin, "endpoints/get", &[("id", &id)])
            .await
            .json()
            .await
            .unwrap();
        let Some(detail) = summary["defender"].as_object() else {
            continue;
        };
        machines += 1;
        let machine = detail["machine_id"].as_str().unwrap();
        let software = detail["software"].as_array().unwrap();
        let got: Entries = software
            .iter()
            .map(|s| {
                let text = |k: &str| s[k].as_str().unwrap().to_owned();
                let cves = s["cves"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned())
                    .collect();
                ((text("vendor"), text("name"), text("version")), cves)
            })
            .collect();
        let want = expected.get(machine).cloned().unwrap_or_default();
        assert_eq!(got, want, "endpoint {id}, machine {machine}");
        assert_eq!(
            software.len(),
            want.len(),
            "one entry per product and version"
        );
        if !want.is_empty() {
            with_software += 1;
        }
        entries += software.len();
        // Most severe first.
        let ranks: Vec<u8> = software
            .iter()
            .map(|s| severity_rank(s["most_severe"].as_str()))
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
        for s in software {
            let sid = s["software_id"].as_str().unwrap();
            let want = &served[sid];
            let facts = &s["facts"];
            assert_eq!(facts["weaknesses"], want["weaknesses"], "{sid}");
            assert_eq!(facts["exposed_machines"], want["exposedMachines"], "{sid}");
            assert_eq!(facts["public_exploit"], want["publicExploit"], "{sid}");
            assert_eq!(facts["active_alert"], want["activeAlert"], "{sid}");
            assert_eq!(
                facts["impact_score"].as_f64(),
                want["impactScore"].as_f64(),
                "{sid}"
            );
            facts_seen.insert(sid.to_owned());
        }
    }
    assert!(
        machines > 0 && with_software > 0 && entries > 0,
        "{machines} {entries}"
    );
    // Every product the rows name was asked for once and stored.
    let named: BTreeSet<String> = expected
        .values()
        .flat_map(|e| e.keys())
        .map(|(vendor, name, _)| format!("{vendor}-_-{name}").to_lowercase())
        .collect();
    let stored: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM software"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(stored as usize, named.len());
    assert!(facts_seen.is_subset(&named));

    app.stop().await;
    sim.shutdown().await;
}
