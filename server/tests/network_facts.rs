//! Network facts from advanced hunting, against the simulator over real HTTP: each imported
//! machine's adapters (the latest report of each, MACs in one form, subnet prefixes, connected
//! networks) and its hardware (each attribute the latest value any report gave) are stored and
//! shown on the Endpoint Summary; shards are split when an answer is too large; a row that
//! cannot be read keeps its machine's facts; a refusal or a quota that outlasts the retries
//! makes the run Partial and keeps what was stored; the facts are read once a day.

#[path = "support/app.rs"]
mod support;

use std::collections::BTreeMap;
use std::net::IpAddr;

use server::db::Pool;
use server::discovery::mac::MacAddress;
use server::sim::{self, RunningSim, SimConfig, SimControl};
use support::seeded_tenant::{defender_form, post_form};
use support::TestApp;

const MACHINES: usize = 40;

async fn simulator() -> RunningSim {
    let mut config = SimConfig::for_tests(MACHINES);
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    config.rate_limits.hunting_per_minute = 100_000;
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn enable(app: &TestApp, sim: &RunningSim) -> reqwest::Client {
    let admin = app.admin().await;
    let res = post_form(
        app,
        &admin,
        "integrations/defender/save",
        &defender_form(sim, true),
    )
    .await;
    assert_eq!(res.status(), 200);
    app.wait_for_sync(&admin).await;
    admin
}

/// A sync that reads the facts again (as a day later).
async fn sync_due(app: &TestApp) -> server::sync::service::SyncOutcome {
    server::on_pool!(&app.pool, |db| {
        sqlx::query("DELETE FROM sync_cursor WHERE name = $1")
            .bind(server::sync::network_facts::CURSOR)
            .execute(db)
            .await
            .unwrap();
    });
    app.sync.trigger("test").wait().await
}

/// The last run's outcome, notes, missing permissions and skipped items (listing, id, field).
async fn last_run(pool: &Pool) -> (String, String, String, Vec<(String, String, String)>) {
    let (id, outcome, notes, missing): (i64, String, Option<String>, Option<String>) =
        server::on_pool!(pool, |db| sqlx::query_as(
            "SELECT sync_run_id, outcome, COALESCE(error, notes), \
             CAST(missing_permissions AS TEXT) FROM sync_run \
             ORDER BY sync_run_id DESC LIMIT 1"
        )
        .fetch_one(db)
        .await
        .unwrap());
    let skipped: Vec<(String, Option<String>, String)> = server::on_pool!(pool, |db| {
        sqlx::query_as(
            "SELECT listing, item_id, field FROM sync_run_skip WHERE sync_run_id = $1 \
             ORDER BY listing, item_id",
        )
        .bind(id)
        .fetch_all(db)
        .await
        .unwrap()
    });
    (
        outcome,
        notes.unwrap_or_default(),
        missing.unwrap_or_default(),
        skipped
            .into_iter()
            .map(|(l, i, f)| (l, i.unwrap_or_default(), f))
            .collect(),
    )
}

type Text = Option<String>;
/// An adapter as compared: (name, type, status, mac, addresses as "ip/prefix").
type Adapter = (String, Text, Text, Text, Vec<String>);
/// Stored adapters by machine.
type Adapters = BTreeMap<String, Vec<Adapter>>;

async fn stored_adapters(pool: &Pool) -> Adapters {
    let rows: Vec<(String, String, Text, Text, Text, String)> =
        server::on_pool!(pool, |db| sqlx::query_as(
            "SELECT machine_id, adapter_name, adapter_type, adapter_status, mac, \
             CAST(ip_addresses AS TEXT) FROM machine_adapter ORDER BY machine_id, adapter_name"
        )
        .fetch_all(db)
        .await
        .unwrap());
    let mut out = Adapters::new();
    for (machine, name, kind, status, mac, ips) in rows {
        let ips: Vec<serde_json::Value> = serde_json::from_str(&ips).unwrap();
        let ips = ips
            .iter()
            .map(|ip| match ip["prefix"].as_u64() {
                Some(p) => format!("{}/{p}", ip["address"].as_str().unwrap()),
                None => ip["address"].as_str().unwrap().to_owned(),
            })
            .collect();
        out.entry(machine)
            .or_default()
            .push((name, kind, status, mac, ips));
    }
    out
}

/// A Dynamic column as served: JSON text or JSON.
fn dynamic(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) if s.is_empty() => serde_json::Value::Null,
        serde_json::Value::String(s) => serde_json::from_str(s).unwrap_or(serde_json::Value::Null),
        other => other.clone(),
    }
}

fn non_empty(v: &serde_json::Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// What the console should store for these machines, from the simulator's latest reports.
fn expected_adapters(control: &SimControl, machines: &[String], bad: Option<&str>) -> Adapters {
    let mut out = Adapters::new();
    for id in machines {
        if Some(id.as_str()) == bad {
            continue;
        }
        let mut rows: Vec<_> = control
            .network_adapters(id)
            .iter()
            .map(|a| {
                let ips = match dynamic(&a["IPAddresses"]) {
                    serde_json::Value::Array(ips) => ips
                        .iter()
                        .map(|ip| {
                            // As an address, not as text: `fe80::5efe:10.8.0.15` is
                            // `fe80::5efe:a08:f`.
                            let address: IpAddr =
                                ip["IPAddress"].as_str().unwrap().parse().unwrap();
                            format!("{address}/{}", ip["SubnetPrefix"].as_u64().unwrap())
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                (
                    non_empty(&a["NetworkAdapterName"]).unwrap(),
                    non_empty(&a["NetworkAdapterType"]),
                    non_empty(&a["NetworkAdapterStatus"]),
                    non_empty(&a["MacAddress"])
                        .and_then(|m| MacAddress::parse(&m).ok())
                        .map(|m| m.to_string()),
                    ips,
                )
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort();
        out.insert(id.clone(), rows);
    }
    out
}

async fn imported_machines(pool: &Pool) -> Vec<String> {
    server::on_pool!(pool, |db| sqlx::query_scalar(
        "SELECT machine_id FROM defender_machine WHERE gone = FALSE ORDER BY machine_id"
    )
    .fetch_all(db)
    .await
    .unwrap())
}

async fn stored_device_info(pool: &Pool) -> BTreeMap<String, [Option<String>; 5]> {
    let rows: Vec<(String, Text, Text, Text, Text, Text)> =
        server::on_pool!(pool, |db| sqlx::query_as(
            "SELECT machine_id, device_type, model, vendor, os_architecture, join_type \
             FROM machine_device_info ORDER BY machine_id"
        )
        .fetch_all(db)
        .await
        .unwrap());
    rows.into_iter()
        .map(|(id, t, m, v, a, j)| (id, [t, m, v, a, j]))
        .collect()
}

fn expected_device_info(
    control: &SimControl,
    machines: &[String],
) -> BTreeMap<String, [Option<String>; 5]> {
    machines
        .iter()
        .filter_map(|id| {
            let d = control.device_info(id)?;
            Some((
                id.clone(),
                [
                    non_empty(&d["DeviceType"]),
                    non_empty(&d["Model"]),
                    non_empty(&d["Vendor"]),
                    non_empty(&d["OSArchitecture"]),
                    non_empty(&d["JoinType"]),
                ],
            ))
        })
        .collect()
}

#[tokio::test]
async fn every_adapter_of_the_latest_report_and_the_latest_hardware_are_stored_and_shown() {
    let sim = simulator().await;
    let control = sim.control();
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = enable(&app, &sim).await;
    let (outcome, notes, missing, skipped) = last_run(&app.pool).await;
    assert_eq!(outcome, "Succeeded", "{notes}");
    assert_eq!((missing.as_str(), skipped.len()), ("", 0));

    let machines = imported_machines(&app.pool).await;
    let expected = expected_adapters(&control, &machines, None);
    // Advanced hunting knows the onboarded machines, each with at least one adapter.
    let onboarded = control
        .machines()
        .into_iter()
        .filter(|m| m.onboarding_status == "Onboarded" && machines.contains(&m.id))
        .count();
    assert_eq!(
        expected.len(),
        onboarded,
        "one report per onboarded machine"
    );
    let stored = stored_adapters(&app.pool).await;
    let mut stored_sorted = stored.clone();
    stored_sorted.values_mut().for_each(|v| v.sort());
    assert_eq!(stored_sorted, expected);
    // Adapters the machine record leaves out (no address) are there too.
    assert!(stored
        .values()
        .flatten()
        .any(|a| a.4.is_empty() && a.3.is_some()));
    let adapters: usize = expected.values().map(Vec::len).sum();
    assert!(
        notes.contains(&format!(
            "{adapters} adapters of {} machines",
            expected.len()
        )),
        "{notes}"
    );

    let devices = expected_device_info(&control, &machines);
    assert_eq!(
        devices.len(),
        onboarded,
        "hardware of every onboarded machine"
    );
    assert_eq!(stored_device_info(&app.pool).await, devices);
    // The simulator's newer reports leave the model out on some machines: the older one's
    // stands, as the expected values say; check one such machine is among them.
    assert!(devices.values().all(|d| d[0].is_some()));

    // The Summary of a machine's endpoint shows them.
    let (machine, rows) = expected.iter().next().unwrap();
    let endpoint: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT endpoint_id FROM defender_machine WHERE machine_id = $1"
    )
    .bind(machine)
    .fetch_one(db)
    .await
    .unwrap());
    let summary: serde_json::Value = app
        .call(&admin, "endpoints/get", &[("id", &endpoint.to_string())])
        .await
        .json()
        .await
        .unwrap();
    let shown = summary["network_facts"]["adapters"].as_array().unwrap();
    assert_eq!(shown.len(), rows.len(), "{summary:#}");
    if let Some(d) = devices.get(machine) {
        assert_eq!(
            summary["network_facts"]["device"]["model"].as_str(),
            d[1].as_deref()
        );
    }

    // Read once a day: the next run asks nothing of advanced hunting.
    let asked = control.hunting_queries().len();
    let outcome = app.sync.trigger("test").wait().await;
    assert!(outcome.ok);
    assert_eq!(control.hunting_queries().len(), asked);
    sync_due(&app).await;
    assert_eq!(
        control.hunting_queries().len(),
        asked + 2,
        "one shard per table"
    );

    app.stop().await;
    sim.shutdown().await;
}

/// What `DeviceInfo` says is evidence for profile rules: a virtual machine whose model is its
/// hypervisor's has that rule among the matched ones of its Virtual Machine profile (a
/// runner-up beside the ⇋ profile of its Defender OS), with the score both rules give.
#[tokio::test]
async fn the_hardware_advanced_hunting_reports_is_evidence_for_profile_rules() {
    let sim = simulator().await;
    let control = sim.control();
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = enable(&app, &sim).await;
    let guest = control
        .machines()
        .into_iter()
        .filter(|m| m.onboarding_status == "Onboarded" && m.clone_of.is_none())
        .filter(|m| m.duplicate_of.is_none())
        .find(|m| {
            (m.mac_address.starts_with("00155D") || m.mac_address.starts_with("005056"))
                && control.device_info(&m.id).is_some_and(|d| {
                    d["Model"].as_str().is_some_and(|model| {
                        model == "Virtual Machine" || model.starts_with("VMware")
                    })
                })
        })
        .expect("the tenant has Hyper-V or VMware guests");
    let endpoint: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT endpoint_id FROM endpoint WHERE defender_machine_id = $1"
    )
    .bind(&guest.id)
    .fetch_one(db)
    .await
    .unwrap());
    let summary: serde_json::Value = app
        .call(&admin, "endpoints/get", &[("id", &endpoint.to_string())])
        .await
        .json()
        .await
        .unwrap();
    let vm = summary["profiles_considered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Virtual Machine")
        .unwrap_or_else(|| panic!("{:#}", summary["profiles_considered"]));
    let rules: Vec<&str> = vm["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(rules[0].starts_with("MAC vendor matches"), "{rules:?}");
    assert!(rules[1].starts_with("Defender model matches"), "{rules:?}");
    assert_eq!(vm["level"], "VeryHigh", "{vm:#}");
    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_answer_too_large_is_asked_again_in_smaller_shards_with_the_same_result() {
    let sim = simulator().await;
    let control = sim.control();
    // Fewer rows than the tenant's adapters: the whole-tenant query is refused.
    control.set_hunting_max_rows(30);
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    enable(&app, &sim).await;
    let (outcome, notes, _, _) = last_run(&app.pool).await;
    assert_eq!(outcome, "Succeeded", "{notes}");
    let queries = control.hunting_queries();
    let prefixes: Vec<usize> = queries
        .iter()
        .filter(|q| q.starts_with("DeviceNetworkInfo"))
        .map(|q| {
            let start = q.find("startswith \"").unwrap() + "startswith \"".len();
            q[start..].find('"').unwrap()
        })
        .collect();
    assert_eq!(prefixes[0], 0, "the whole tenant first");
    assert!(prefixes[1..].iter().all(|p| *p >= 1), "{prefixes:?}");
    let machines = imported_machines(&app.pool).await;
    let mut stored = stored_adapters(&app.pool).await;
    stored.values_mut().for_each(|v| v.sort());
    assert_eq!(stored, expected_adapters(&control, &machines, None));
    assert_eq!(
        stored_device_info(&app.pool).await,
        expected_device_info(&control, &machines)
    );

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_row_that_cannot_be_read_keeps_its_machine_and_the_rest_is_stored() {
    let sim = simulator().await;
    let control = sim.control();
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    enable(&app, &sim).await;
    let machines = imported_machines(&app.pool).await;
    let before = stored_adapters(&app.pool).await;

    // One adapter row of one machine now arrives truncated.
    let bad = control
        .hunting_bad_row_machine()
        .expect("a machine to spoil");
    let mut faults = control.faults();
    faults.hunting_bad_row = true;
    control.set_faults(faults);
    let outcome = sync_due(&app).await;
    assert!(outcome.ok, "{outcome:?}");
    let (outcome, notes, _, skipped) = last_run(&app.pool).await;
    assert_eq!(outcome, "Partial", "{notes}");
    assert_eq!(
        skipped,
        vec![(
            "advanced hunting DeviceNetworkInfo".to_owned(),
            bad.clone(),
            "IPAddresses".to_owned()
        )]
    );
    let mut stored = stored_adapters(&app.pool).await;
    assert_eq!(stored.get(&bad), before.get(&bad), "its last facts stand");
    stored.remove(&bad);
    stored.values_mut().for_each(|v| v.sort());
    assert_eq!(stored, expected_adapters(&control, &machines, Some(&bad)));

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refusal_or_a_quota_that_outlasts_the_retries_is_partial_and_keeps_the_facts() {
    let sim = simulator().await;
    let control = sim.control();
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    enable(&app, &sim).await;
    let adapters = stored_adapters(&app.pool).await;
    let devices = stored_device_info(&app.pool).await;
    assert!(!adapters.is_empty());

    // Without AdvancedQuery.Read.All: Partial, the permission named, the facts kept.
    let roles: Vec<String> = server::sim::PRODUCT_ROLES
        .iter()
        .filter(|r| **r != "AdvancedQuery.Read.All")
        .map(|r| r.to_string())
        .collect();
    control.set_roles(&sim.app().client_id, Some(roles));
    let outcome = sync_due(&app).await;
    assert!(outcome.ok, "{outcome:?}");
    let (outcome, notes, missing, _) = last_run(&app.pool).await;
    assert_eq!(outcome, "Partial", "{notes}");
    let missing: serde_json::Value = serde_json::from_str(&missing).unwrap();
    assert_eq!(
        missing,
        serde_json::json!([{"source": "advanced hunting", "permissions": ["AdvancedQuery.Read.All"]}])
    );
    assert_eq!(stored_adapters(&app.pool).await, adapters);
    assert_eq!(stored_device_info(&app.pool).await, devices);
    let all = server::sim::PRODUCT_ROLES
        .iter()
        .map(|r| r.to_string())
        .collect();
    control.set_roles(&sim.app().client_id, Some(all));

    // One CPU-quota 429 is waited out; the facts are read.
    let mut faults = control.faults();
    faults.hunting_cpu_quota_next = 1;
    control.set_faults(faults);
    sync_due(&app).await;
    let (outcome, notes, _, _) = last_run(&app.pool).await;
    assert_eq!(outcome, "Succeeded", "{notes}");

    // A quota that outlasts the client's retries: Partial, facts kept, read again next run.
    let mut faults = control.faults();
    faults.hunting_cpu_quota_next = 1_000;
    control.set_faults(faults);
    sync_due(&app).await;
    let (outcome, notes, _, _) = last_run(&app.pool).await;
    assert_eq!(outcome, "Partial", "{notes}");
    assert!(notes.contains("were not all read"), "{notes}");
    assert_eq!(stored_adapters(&app.pool).await, adapters);
    let mut faults = control.faults();
    faults.hunting_cpu_quota_next = 0;
    control.set_faults(faults);
    let asked = control.hunting_queries().len();
    let outcome = app.sync.trigger("test").wait().await;
    assert!(outcome.ok);
    assert_eq!(
        control.hunting_queries().len(),
        asked + 2,
        "the cursor did not move"
    );
    assert_eq!(last_run(&app.pool).await.0, "Succeeded");

    // Refused for its size at every shard: split to the last digit, then Partial.
    let mut faults = control.faults();
    faults.hunting_result_too_large = true;
    control.set_faults(faults);
    let asked = control.hunting_queries().len();
    sync_due(&app).await;
    let (outcome, notes, _, _) = last_run(&app.pool).await;
    assert_eq!(outcome, "Partial", "{notes}");
    assert!(notes.contains("too large to read"), "{notes}");
    let made = control.hunting_queries().len() - asked;
    assert!(
        made as u64 <= server::sync::network_facts::MAX_QUERIES,
        "{made}"
    );
    assert_eq!(stored_adapters(&app.pool).await, adapters);

    app.stop().await;
    sim.shutdown().await;
}
