//! The identity rules (`server::sync::merge`) end to end: a generated tenant synced from the
//! simulator into a real SQLite file, network discovery uploaded as nmap XML, and the
//! Endpoint Summary and the split server fns as the browser calls them. One test per rule.

#[path = "support/app.rs"]
mod support;

use std::collections::HashMap;

use reqwest::Client;
use serde_json::Value;
use server::db::Pool;
use server::sim::{self, MachineInfo, RunningSim, SimApp, SimConfig};
use support::TestApp;

const TENANT: &str = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const CLIENT: &str = "2c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e";
const SECRET: &str = "Identity~Secret.Value-1618";

async fn simulator(machines: usize) -> RunningSim {
    let mut config = SimConfig::for_tests(machines);
    config.page_size = 50;
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    config.apps = vec![SimApp::full_access(
        TENANT,
        Some("fabrikam-identity.onmicrosoft.com"),
        CLIENT,
        SECRET,
        "EA identity tests",
    )];
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct World {
    sim: RunningSim,
    app: TestApp,
    admin: Client,
    _dir: tempfile::TempDir,
}

/// The console with its first sync of `machines` done, after uploading `scan` (nmap XML)
/// when given.
async fn world(machines: usize, scan: Option<&dyn Fn(&RunningSim) -> String>) -> World {
    let sim = simulator(machines).await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    if let Some(scan) = scan {
        upload(&app, &admin, &scan(&sim)).await;
    }
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &[
                ("tenant_id", TENANT),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("cloud", "commercial"),
                ("geo_api_host", ""),
                ("custom_login_url", sim.base_url()),
                ("custom_api_url", sim.base_url()),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let outcome = app.sync.trigger("test").wait().await;
    assert!(outcome.ok, "{outcome:?}");
    World {
        sim,
        app,
        admin,
        _dir: dir,
    }
}

async fn upload(app: &TestApp, admin: &Client, xml: &str) {
    let part = reqwest::multipart::Part::bytes(xml.as_bytes().to_vec()).file_name("scan.xml");
    let res = admin
        .post(app.url("/api/endpoints/import"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// An nmap report of `hosts` (ip, MAC, host name), scanned at `at` (Unix seconds).
fn scan_of(hosts: &[(&str, &str, &str)], at: i64) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\" start=\"{at}\" version=\"7.94\">\n"
    );
    for (ip, mac, name) in hosts {
        x.push_str(&format!(
            "<host starttime=\"{at}\" endtime=\"{at}\"><status state=\"up\"/>\
             <address addr=\"{ip}\" addrtype=\"ipv4\"/><address addr=\"{mac}\" addrtype=\"mac\"/>\
             <hostnames><hostname name=\"{name}\" type=\"PTR\"/></hostnames></host>\n"
        ));
    }
    x.push_str("</nmaprun>\n");
    x
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `D4BED9A1B2C3` -> `D4:BE:D9:A1:B2:C3`.
fn colon(mac: &str) -> String {
    mac.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

async fn scalar(pool: &Pool, sql: &str) -> i64 {
    server::on_pool!(pool, |db| sqlx::query_scalar(sql)
        .fetch_one(db)
        .await
        .unwrap())
}

/// The endpoint a Defender machine is linked to.
async fn endpoint_of(pool: &Pool, machine_id: &str) -> i64 {
    server::on_pool!(pool, |db| sqlx::query_scalar(
        "SELECT endpoint_id FROM defender_machine WHERE machine_id = $1"
    )
    .bind(machine_id)
    .fetch_one(db)
    .await
    .unwrap())
}

/// An onboarded, active machine that is its device's only live record.
fn live_device(m: &MachineInfo) -> bool {
    m.onboarding_status == "Onboarded"
        && m.health_status == "Active"
        && m.duplicate_of.is_none()
        && m.clone_of.is_none()
}

impl World {
    fn machine(&self, index: usize) -> MachineInfo {
        self.sim.control().machine(index).unwrap()
    }

    async fn summary(&self, endpoint_id: i64) -> Value {
        let res = self
            .app
            .call(
                &self.admin,
                "endpoints/get",
                &[("id", &endpoint_id.to_string())],
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// (the machine's endpoint was seen by network discovery, the rule that joined it).
    async fn rule_of(&self, machine: &str) -> (bool, Value) {
        let e = endpoint_of(&self.app.pool, machine).await;
        let summary = self.summary(e).await;
        let join = summary["identity"]["joins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["machine_id"] == machine)
            .cloned()
            .unwrap();
        (
            summary["row"]["source_network"].as_bool().unwrap(),
            join["rule"].clone(),
        )
    }

    async fn sync(&self) {
        let outcome = self.app.sync.trigger("again").wait().await;
        assert!(outcome.ok, "{outcome:?}");
    }
}

/// 400 machines (the tenant the issue was found on): exactly one endpoint per physical device,
/// that is every machine but the re-image duplicates, which sit on their live twin's endpoint
/// with the twin as its representative. Devices named after their model stay apart.
#[tokio::test]
async fn a_generated_tenant_gives_one_endpoint_per_device() {
    let w = world(400, None).await;
    let pool = &w.app.pool;
    let machines = w.sim.control().machines();
    let duplicates: Vec<&MachineInfo> = machines
        .iter()
        .filter(|m| m.duplicate_of.is_some())
        .collect();
    assert!(duplicates.len() >= 3, "the tenant has re-image duplicates");
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM endpoint").await,
        (machines.len() - duplicates.len()) as i64
    );
    for d in &duplicates {
        let twin = d.duplicate_of.as_deref().unwrap();
        let e = endpoint_of(pool, &d.id).await;
        assert_eq!(e, endpoint_of(pool, twin).await, "{} with its twin", d.id);
        let rep: String = server::on_pool!(pool, |db| sqlx::query_scalar(
            "SELECT defender_machine_id FROM endpoint WHERE endpoint_id = $1"
        )
        .bind(e)
        .fetch_one(db)
        .await
        .unwrap());
        assert_eq!(rep, twin, "the live record represents the device");
    }
    // Every machine that shares its name with another live machine has an endpoint of its own.
    let mut by_name: HashMap<String, Vec<&MachineInfo>> = HashMap::new();
    for m in machines.iter().filter(|m| m.duplicate_of.is_none()) {
        if let Some(n) = &m.computer_dns_name {
            by_name.entry(n.to_lowercase()).or_default().push(m);
        }
    }
    let phones = &by_name["cisco ip phone 8845"];
    assert!(phones.len() >= 4, "{} phones", phones.len());
    let mut shared = 0;
    for group in by_name.values().filter(|g| g.len() > 1) {
        let mut endpoints: Vec<i64> = Vec::new();
        for m in group {
            endpoints.push(endpoint_of(pool, &m.id).await);
        }
        endpoints.sort_unstable();
        endpoints.dedup();
        assert_eq!(endpoints.len(), group.len(), "{group:?}");
        shared += group.len();
    }
    assert!(shared >= phones.len() + 2, "phones, clones and localhost");
}

/// Fixtures 10 and 11 are a cloned VM pair: one name, one MAC, two live records. Neither joins
/// by the MAC; both endpoints show the conflict and the Duplicate MAC assessment counts it. A
/// scan that sees the MAC at both addresses gives one network endpoint, which joins nothing
/// and shows the conflict and the ambiguity.
#[tokio::test]
async fn cloned_vms_that_share_a_mac_stay_apart_and_show_the_conflict() {
    let w = world(
        40,
        Some(&|sim: &RunningSim| sim.control().local_network_xml(0)),
    )
    .await;
    let pool = &w.app.pool;
    let (a, b) = (w.machine(10), w.machine(11));
    assert_eq!(b.clone_of.as_deref(), Some(a.id.as_str()));
    assert_eq!(a.mac_address, b.mac_address);
    let (ea, eb) = (
        endpoint_of(pool, &a.id).await,
        endpoint_of(pool, &b.id).await,
    );
    assert_ne!(ea, eb);
    let mut pair = vec![a.id.clone(), b.id.clone()];
    pair.sort();
    for e in [ea, eb] {
        let summary = w.summary(e).await;
        assert_eq!(summary["row"]["source_defender"], true);
        assert_eq!(
            summary["row"]["mac"],
            Value::Null,
            "the shared MAC keys neither"
        );
        let conflicts = summary["identity"]["conflicts"].as_array().unwrap();
        assert_eq!(conflicts.len(), 1, "{summary:#}");
        assert_eq!(conflicts[0]["mac"], colon(&a.mac_address));
        assert_eq!(conflicts[0]["machines"], serde_json::json!(pair));
        let duplicate_mac: Vec<&Value> = summary["risk"]["assessments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["kind"] == "DuplicateMac")
            .collect();
        assert_eq!(duplicate_mac.len(), 1, "{summary:#}");
        assert_eq!(duplicate_mac[0]["level"], "Medium");
    }
    // The scan's endpoint for the shared MAC: both addresses, joined to neither machine.
    let scanned: (i64, bool, String) = server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT endpoint_id, source_defender, CAST(ips AS TEXT) FROM endpoint WHERE mac = $1"
    )
    .bind(colon(&a.mac_address))
    .fetch_one(db)
    .await
    .unwrap());
    assert!(!scanned.1, "joined to neither clone");
    let summary = w.summary(scanned.0).await;
    let identity = &summary["identity"];
    assert_eq!(identity["joins"], serde_json::json!([]), "{identity:#}");
    assert_eq!(
        identity["conflicts"][0]["machines"],
        serde_json::json!(pair)
    );
    let kinds: Vec<&str> = identity["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ambiguous"], "{identity:#}");
    assert_eq!(identity["notes"][0]["machines"], serde_json::json!(pair));
}

/// VPN, tunnel and container adapters say nothing about identity: fixtures 12 and 13 both
/// report AnyConnect's fixed MAC and are no conflict; docker0's locally administered MAC on
/// fixture 14 keys nothing; a scan that sees those MACs joins them to no machine.
#[tokio::test]
async fn vpn_tunnel_and_container_adapters_join_nothing() {
    let w = world(40, None).await;
    let pool = &w.app.pool;
    let (vpn_a, vpn_b, docker) = (w.machine(12), w.machine(13), w.machine(14));
    let shared_vpn = "00059A3C7A00";
    for m in [&vpn_a, &vpn_b] {
        assert!(m
            .adapters
            .iter()
            .any(|a| a.mac_address.as_deref() == Some(shared_vpn)));
        let e = endpoint_of(pool, &m.id).await;
        let summary = w.summary(e).await;
        assert_eq!(
            summary["identity"]["conflicts"],
            serde_json::json!([]),
            "{summary:#}"
        );
        assert_eq!(
            summary["row"]["mac"],
            colon(&m.mac_address),
            "keyed by its own NIC"
        );
    }
    let container = docker
        .adapters
        .iter()
        .find(|a| a.ip_address == "172.17.0.1")
        .and_then(|a| a.mac_address.clone())
        .expect("fixture 14 has a docker0 bridge");
    let e = endpoint_of(pool, &docker.id).await;
    assert_eq!(w.summary(e).await["row"]["mac"], colon(&docker.mac_address));

    let at = now_secs();
    upload(
        &w.app,
        &w.admin,
        &scan_of(
            &[
                ("10.200.200.9", &colon(shared_vpn), "vpn-gw"),
                ("172.17.0.1", &colon(&container), "docker-host"),
            ],
            at,
        ),
    )
    .await;
    w.sync().await;
    for mac in [shared_vpn, container.as_str()] {
        let joined: bool = server::on_pool!(pool, |db| sqlx::query_scalar(
            "SELECT source_defender FROM endpoint WHERE mac = $1"
        )
        .bind(colon(mac))
        .fetch_one(db)
        .await
        .unwrap());
        assert!(!joined, "{mac} joined nothing");
    }
}

/// A network endpoint joins its Defender machine by a physical MAC; else by IP plus host name,
/// both seen within the inactivity window (here: a laptop whose Wi-Fi shows a randomised MAC).
/// The same match from a scan older than the window joins nothing.
#[tokio::test]
async fn network_endpoints_join_by_mac_else_by_ip_and_host_name_seen_recently() {
    let w = world(40, None).await;
    let pool = &w.app.pool;
    let c = w.sim.control();
    let live: Vec<MachineInfo> = c
        .machines()
        .into_iter()
        .filter(|m| {
            live_device(m)
                && m.last_ip_address.is_some()
                && m.computer_dns_name
                    .as_deref()
                    .is_some_and(|n| !n.eq_ignore_ascii_case("localhost"))
        })
        .collect();
    let (by_mac, by_name, stale) = (&live[0], &live[1], &live[2]);
    let label = |m: &MachineInfo| {
        m.computer_dns_name
            .as_deref()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .to_owned()
    };
    let now = now_secs();
    upload(
        &w.app,
        &w.admin,
        &scan_of(
            &[
                (
                    by_mac.last_ip_address.as_deref().unwrap(),
                    &colon(&by_mac.mac_address),
                    "some-other-name",
                ),
                (
                    by_name.last_ip_address.as_deref().unwrap(),
                    "DA:A1:19:00:00:01",
                    &label(by_name),
                ),
            ],
            now,
        ),
    )
    .await;
    upload(
        &w.app,
        &w.admin,
        &scan_of(
            &[(
                stale.last_ip_address.as_deref().unwrap(),
                "DA:A1:19:00:00:02",
                &label(stale),
            )],
            now - 60 * 86_400,
        ),
    )
    .await;
    let endpoints_before = scalar(pool, "SELECT COUNT(*) FROM endpoint").await;
    w.sync().await;
    assert_eq!(w.rule_of(&by_mac.id).await, (true, "mac".into()));
    assert_eq!(w.rule_of(&by_name.id).await, (true, "ip+hostname".into()));
    assert_eq!(w.rule_of(&stale.id).await, (false, "defender-only".into()));
    // The scan found the first machine's endpoint by its MAC at upload already; the second
    // took the place of its machine's Defender-only endpoint (retired): one endpoint per
    // device. The stale scan's endpoint stays on its own.
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM endpoint").await,
        endpoints_before - 1
    );
    let unjoined: bool = server::on_pool!(pool, |db| sqlx::query_scalar(
        "SELECT source_defender FROM endpoint WHERE mac = $1"
    )
    .bind("DA:A1:19:00:00:02")
    .fetch_one(db)
    .await
    .unwrap());
    assert!(!unjoined);
}

/// A laptop's switched-off Wi-Fi radio has no address, so the machine record leaves it out;
/// advanced hunting (`DeviceNetworkInfo`) still reports its MAC. A scan that saw the laptop on
/// Wi-Fi (another address, another name) joins the laptop by that MAC, the evidence says where
/// the MAC came from, the laptop's Defender-only endpoint is retired, and the next sync keeps it.
#[tokio::test]
async fn a_mac_only_advanced_hunting_reports_joins_the_endpoint_discovery_saw_it_on() {
    let w = world(40, None).await;
    let pool = &w.app.pool;
    let c = w.sim.control();
    let (laptop, radio) = c
        .machines()
        .into_iter()
        .filter(live_device)
        .find_map(|m| {
            let radio = c.network_adapters(&m.id).into_iter().find_map(|a| {
                let mac = a["MacAddress"].as_str()?.replace('-', "");
                (a["NetworkAdapterType"] == "Wireless80211"
                    && a["NetworkAdapterStatus"] == "Down"
                    && !mac.is_empty()
                    && !m
                        .adapters
                        .iter()
                        .any(|l| l.mac_address.as_deref() == Some(mac.as_str())))
                .then_some(mac)
            })?;
            Some((m, radio))
        })
        .expect("the tenant has a laptop with its Wi-Fi switched off");
    let before = endpoint_of(pool, &laptop.id).await;
    assert_ne!(
        w.summary(before).await["row"]["mac"],
        colon(&radio),
        "the Defender-only endpoint is keyed by the NIC the machine record lists"
    );
    upload(
        &w.app,
        &w.admin,
        &scan_of(
            &[("10.250.0.7", &colon(&radio), "seen-on-wifi")],
            now_secs(),
        ),
    )
    .await;
    let endpoints_before = scalar(pool, "SELECT COUNT(*) FROM endpoint").await;
    w.sync().await;
    assert_eq!(w.rule_of(&laptop.id).await, (true, "mac".into()));
    let joined = endpoint_of(pool, &laptop.id).await;
    assert_ne!(joined, before);
    let summary = w.summary(joined).await;
    assert_eq!(summary["row"]["mac"], colon(&radio), "{summary:#}");
    let detail = summary["identity"]["joins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["machine_id"] == laptop.id.as_str())
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains(&colon(&radio)), "{detail}");
    assert!(detail.contains("advanced hunting reports"), "{detail}");
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM endpoint").await,
        endpoints_before - 1,
        "one endpoint per device"
    );
    w.sync().await;
    assert_eq!(endpoint_of(pool, &laptop.id).await, joined);
}

/// An administrator splits a machine off the network endpoint it joined by MAC: it gets an
/// endpoint of its own, the split holds across syncs, an Operator may not do it, both steps are
/// audited, and undoing it joins them again and retires the split-off endpoint.
#[tokio::test]
async fn a_split_is_pinned_across_syncs_and_undone() {
    let w = world(
        40,
        Some(&|sim: &RunningSim| sim.control().local_network_xml(0)),
    )
    .await;
    let pool = &w.app.pool;
    let m = w.machine(0);
    let joined = endpoint_of(pool, &m.id).await;
    let summary = w.summary(joined).await;
    assert_eq!(summary["row"]["source_network"], true);
    assert!(summary["identity"]["splittable"]
        .as_array()
        .unwrap()
        .contains(&Value::from(m.id.clone())));
    let total = scalar(pool, "SELECT COUNT(*) FROM endpoint").await;

    let operator = w.app.user_with_role("op-identity", "Operator").await;
    let form = [
        ("endpoint_id", joined.to_string()),
        ("machine_id", m.id.clone()),
        ("reason", "a spare NIC moved between desks".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        w.app
            .call(&operator, "identity/split", &form)
            .await
            .status(),
        403
    );
    let res = w.app.call(&w.admin, "identity/split", &form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let apart: i64 = res.json().await.unwrap();
    assert_ne!(apart, joined);
    assert_eq!(endpoint_of(pool, &m.id).await, apart);
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM endpoint").await,
        total + 1
    );
    // The stale duplicate (fixture 7) goes with its device.
    assert_eq!(endpoint_of(pool, &w.machine(7).id).await, apart);

    w.sync().await;
    assert_eq!(endpoint_of(pool, &m.id).await, apart, "the split holds");
    let left = w.summary(joined).await;
    assert_eq!(left["row"]["source_defender"], false);
    let splits = left["identity"]["splits"].as_array().unwrap().clone();
    assert_eq!(splits.len(), 1, "{left:#}");
    assert_eq!(splits[0]["machine_id"], m.id.as_str());
    assert_eq!(splits[0]["reason"], "a spare NIC moved between desks");
    assert_eq!(splits[0]["created_by"], "admin");
    assert_eq!(
        w.summary(apart).await["identity"]["splits"][0]["id"],
        splits[0]["id"]
    );

    let undo = [("split_id", splits[0]["id"].to_string())];
    let undo: Vec<(&str, &str)> = undo.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        w.app
            .call(&operator, "identity/undo_split", &undo)
            .await
            .status(),
        403
    );
    let res = w.app.call(&w.admin, "identity/undo_split", &undo).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let back: i64 = res.json().await.unwrap();
    assert_eq!(back, joined);
    assert_eq!(endpoint_of(pool, &m.id).await, joined);
    assert_eq!(scalar(pool, "SELECT COUNT(*) FROM endpoint").await, total);
    assert_eq!(
        scalar(
            pool,
            &format!("SELECT COUNT(*) FROM endpoint WHERE endpoint_id = {apart}")
        )
        .await,
        0,
        "the split-off endpoint is retired"
    );
    let audit: Vec<(String, String)> = server::on_pool!(pool, |db| {
        sqlx::query_as(
        "SELECT actor, action FROM audit_log WHERE action LIKE 'identity.%' ORDER BY audit_log_id",
    )
    .fetch_all(db)
    .await
    .unwrap()
    });
    assert_eq!(
        audit,
        [
            ("admin".to_owned(), "identity.split".to_owned()),
            ("admin".to_owned(), "identity.split_undone".to_owned())
        ]
    );
}
