//! The Software page and its CSV, against the simulator over real HTTP: the product list is
//! what the sync learnt (the products the machine-vulnerability rows name, with Defender's
//! facts), searched by name or vendor; one product shows exactly the machines the
//! simulator's List devices by software names, each on its endpoint, with the versions and
//! CVEs its machine-vulnerability rows give; the reading is kept for an hour, and when
//! Defender cannot be asked the last one stands and the page says why.

#[path = "support/app.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use server::sim::{self, RunningSim, SimConfig};
use support::seeded_tenant::scan_and_sync;
use support::TestApp;

/// 40 machines; rate limits out of the way of several syncs and readings.
async fn simulator() -> RunningSim {
    let mut config = SimConfig::for_tests(40);
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// The page's server fn, with the defaults of every field not given.
async fn page(
    app: &TestApp,
    client: &reqwest::Client,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (format!("query[{k}]"), v.to_string()))
        .collect();
    for (k, v) in [
        ("q", ""),
        ("software", ""),
        ("group", ""),
        ("sort", ""),
        ("dir", "desc"),
        ("page", "1"),
        ("page_size", "500"),
    ] {
        if !pairs.iter().any(|(p, _)| *p == k) {
            form.push((format!("query[{k}]"), v.to_owned()));
        }
    }
    client
        .post(app.url("/api/software/list"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn page_json(app: &TestApp, client: &reqwest::Client, pairs: &[(&str, &str)]) -> Value {
    let res = page(app, client, pairs).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn product_ids(page: &Value) -> Vec<String> {
    page["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["software_id"].as_str().unwrap().to_owned())
        .collect()
}

fn devices(page: &Value) -> &Vec<Value> {
    page["product"]["devices"].as_array().unwrap()
}

fn machines_of(page: &Value) -> BTreeSet<String> {
    devices(page)
        .iter()
        .flat_map(|d| d["machine_ids"].as_array().unwrap().clone())
        .map(|m| m.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_software_page_lists_products_and_every_device_defender_names_for_one() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;

    // What the served rows say: products, and each (product, machine)'s versions and CVEs.
    type Facts = (BTreeSet<String>, BTreeSet<String>);
    let mut rows: BTreeMap<(String, String), Facts> = BTreeMap::new();
    for r in sim.control().machine_vulnerabilities() {
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
        let id = format!("{}-_-{}", text("productVendor"), text("productName")).to_lowercase();
        let entry = rows.entry((id, text("machineId"))).or_default();
        entry.0.insert(text("productVersion"));
        entry.1.insert(text("cveId"));
    }
    let named: BTreeSet<String> = rows.keys().map(|(id, _)| id.clone()).collect();

    // The list: every product the rows name, most weaknesses first, ties by id.
    let list = page_json(&app, &admin, &[]).await;
    let ids = product_ids(&list);
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), named);
    assert_eq!(list["total"], named.len() as u64);
    let weaknesses: Vec<i64> = list["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["facts"]["weaknesses"].as_i64().unwrap_or(-1))
        .collect();
    assert!(
        weaknesses.windows(2).all(|w| w[0] >= w[1]),
        "{weaknesses:?}"
    );

    // Search by vendor: exactly the products whose name or vendor holds the text.
    let vendor = ids[0].split("-_-").next().unwrap().to_owned();
    let found = page_json(&app, &admin, &[("q", &vendor.to_uppercase())]).await;
    let expected: BTreeSet<String> = named
        .iter()
        .filter(|id| id.contains(&vendor))
        .cloned()
        .collect();
    assert_eq!(
        product_ids(&found).into_iter().collect::<BTreeSet<_>>(),
        expected
    );
    let none = page_json(&app, &admin, &[("q", "no such vendor")]).await;
    assert_eq!(none["total"], 0);

    // The product on the most machines: exactly the machines Defender lists for it.
    let product = named
        .iter()
        .max_by_key(|id| sim.control().machines_running(id).unwrap().len())
        .unwrap()
        .clone();
    let running: BTreeSet<String> = sim
        .control()
        .machines_running(&product)
        .unwrap()
        .into_iter()
        .collect();
    assert!(running.len() > 5, "{}", running.len());
    let opened = page_json(&app, &admin, &[("software", &product)]).await;
    assert_eq!(machines_of(&opened), running);
    let view = &opened["product"];
    assert_eq!(view["note"], Value::Null, "{view:#}");
    assert!(view["read_at"].is_string());
    // Every one of them is an endpoint of the inventory, each endpoint on one row.
    let endpoints: Vec<i64> = devices(&opened)
        .iter()
        .map(|d| d["endpoint_id"].as_i64().expect("imported"))
        .collect();
    let distinct: BTreeSet<i64> = endpoints.iter().copied().collect();
    assert_eq!(distinct.len(), endpoints.len());
    assert_eq!(view["device_count"], endpoints.len() as u64);
    assert_eq!(view["imported_count"], endpoints.len() as u64);
    // Versions and CVEs are the served rows' for the row's machines.
    for d in devices(&opened) {
        let (mut versions, mut cves) = (BTreeSet::new(), BTreeSet::new());
        for m in d["machine_ids"].as_array().unwrap() {
            if let Some((v, c)) = rows.get(&(product.clone(), m.as_str().unwrap().to_owned())) {
                versions.extend(v.iter().filter(|v| !v.is_empty()).cloned());
                cves.extend(c.iter().cloned());
            }
        }
        let shown: BTreeSet<String> = d["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(shown, versions, "{d:#}");
        assert_eq!(d["cves"], cves.len() as u64, "{d:#}");
    }

    // Scoped to the first row's device group: exactly the rows of that group.
    let group = devices(&opened)[0]["device_group"]
        .as_str()
        .unwrap()
        .to_owned();
    let in_group = devices(&opened)
        .iter()
        .filter(|d| d["device_group"] == group.as_str())
        .count();
    let scoped = page_json(&app, &admin, &[("software", &product), ("group", &group)]).await;
    assert_eq!(devices(&scoped).len(), in_group);
    assert_eq!(scoped["total"], in_group as u64);
    assert!(devices(&scoped)
        .iter()
        .all(|d| d["device_group"] == group.as_str()));

    // Sorted by hostname, ascending.
    let sorted = page_json(
        &app,
        &admin,
        &[("software", &product), ("sort", "hostname"), ("dir", "asc")],
    )
    .await;
    let names: Vec<String> = devices(&sorted)
        .iter()
        .map(|d| d["hostname"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut by_name = names.clone();
    by_name.sort();
    assert_eq!(names, by_name);

    // The CSV: a header and one line per device.
    let res = admin
        .get(app.url(&format!("/api/software/export.csv?software={product}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("software_vendor,software,risk,hostname,mac,ip"));
    assert_eq!(lines.len(), endpoints.len() + 1);
    let missing = admin
        .get(app.url("/api/software/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);

    // An unknown product is not found, in the page and the CSV.
    assert_eq!(
        page(&app, &admin, &[("software", "nobody-_-nothing")])
            .await
            .status(),
        404
    );
    let res = admin
        .get(app.url("/api/software/export.csv?software=nobody-_-nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Signed out: refused.
    let anonymous = support::browser();
    assert_eq!(
        page(&app, &anonymous, &[("software", &product)])
            .await
            .status(),
        401
    );
    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_reading_stands_for_an_hour_and_the_last_one_shows_when_defender_cannot_be_asked() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;
    let list = page_json(&app, &admin, &[]).await;
    let product = product_ids(&list)[0].clone();
    let running: BTreeSet<String> = sim
        .control()
        .machines_running(&product)
        .unwrap()
        .into_iter()
        .collect();
    let first = page_json(&app, &admin, &[("software", &product)]).await;
    assert_eq!(machines_of(&first), running);
    let read_at = first["product"]["read_at"].as_str().unwrap().to_owned();

    // The permission is withdrawn: within the hour nothing is asked, and nothing changes.
    sim.control().set_roles(
        &sim.app().client_id,
        Some(vec![
            "Machine.Read.All".into(),
            "Vulnerability.Read.All".into(),
            "Alert.Read.All".into(),
        ]),
    );
    sim.control().expire_issued_tokens();
    let again = page_json(&app, &admin, &[("software", &product)]).await;
    assert_eq!(again["product"]["read_at"], read_at.as_str());
    assert_eq!(again["product"]["note"], Value::Null);
    assert_eq!(machines_of(&again), running);

    // An hour later Defender refuses: the last reading stands and the page names the
    // permission.
    let old = "2020-01-01T00:00:00Z";
    let changed = server::on_pool!(&app.pool, |db| sqlx::query(
        "UPDATE software_machine_read SET read_at = $1 WHERE software_id = $2"
    )
    .bind(old)
    .bind(&product)
    .execute(db)
    .await
    .unwrap()
    .rows_affected());
    assert_eq!(changed, 1);
    let stale = page_json(&app, &admin, &[("software", &product)]).await;
    let note = stale["product"]["note"].as_str().unwrap_or_default();
    assert!(note.contains("Software.Read.All"), "{note}");
    assert!(note.contains(old), "{note}");
    assert_eq!(stale["product"]["read_at"], old);
    assert_eq!(machines_of(&stale), running);

    // The permission back: the next opening reads again.
    sim.control()
        .set_roles(&sim.app().client_id, sim.app().roles.clone());
    sim.control().expire_issued_tokens();
    let fresh = page_json(&app, &admin, &[("software", &product)]).await;
    assert_eq!(fresh["product"]["note"], Value::Null, "{fresh:#}");
    assert_ne!(fresh["product"]["read_at"], old);
    assert_eq!(machines_of(&fresh), running);
    app.stop().await;
    sim.shutdown().await;
}
