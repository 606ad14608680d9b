//! The Vulnerabilities page (CVE first) and its CSV, against the simulator over real HTTP: the
//! CVE list is Defender's catalogue, filtered and sorted; one CVE shows exactly the endpoints
//! whose representative machine the simulator lists it on.

#[path = "support/app.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use server::sim::{self, RunningSim, SimConfig};
use support::seeded_tenant::scan_and_sync;
use support::TestApp;

async fn simulator() -> RunningSim {
    sim::start(SimConfig::for_tests(40), "127.0.0.1:0".parse().unwrap())
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
        ("severity", ""),
        ("exploit", ""),
        ("cve", ""),
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
        .post(app.url("/api/vulnerabilities/list"))
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

fn severity_rank(s: &str) -> u8 {
    match s {
        "Critical" => 4,
        "High" => 3,
        "Medium" => 2,
        "Low" => 1,
        _ => 0,
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["cves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cve_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_cve_list_is_defenders_catalogue_filtered_and_sorted() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;
    let served: BTreeMap<String, Value> = sim
        .control()
        .vulnerabilities()
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_owned(), v))
        .collect();
    assert!(served.len() > 20, "enough CVEs to filter: {}", served.len());

    let all = page_json(&app, &admin, &[]).await;
    assert_eq!(all["total"].as_u64().unwrap() as usize, served.len());
    let listed = ids(&all);
    assert_eq!(
        listed.iter().cloned().collect::<BTreeSet<_>>(),
        served.keys().cloned().collect::<BTreeSet<_>>()
    );
    for c in all["cves"].as_array().unwrap() {
        let s = &served[c["cve_id"].as_str().unwrap()];
        assert_eq!(c["severity"], s["severity"], "{c:#}");
        assert_eq!(c["exposed_machines"], s["exposedMachines"], "{c:#}");
        assert_eq!(c["public_exploit"], s["publicExploit"], "{c:#}");
        assert_eq!(c["exploit_types"], s["exploitTypes"], "{c:#}");
        assert_eq!(c["description"], s["description"], "{c:#}");
    }
    // Most severe first, then the highest CVSS.
    let keys: Vec<(u8, f64)> = all["cves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                severity_rank(c["severity"].as_str().unwrap_or_default()),
                c["cvss_v3"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] >= w[1]), "{keys:?}");

    for severity in ["Critical", "High", "Medium", "Low"] {
        let got = page_json(&app, &admin, &[("severity", severity)]).await;
        let want = served
            .values()
            .filter(|v| v["severity"] == severity)
            .count();
        assert_eq!(got["total"].as_u64().unwrap() as usize, want, "{severity}");
        assert_eq!(ids(&got).len(), want, "{severity}");
    }
    for (filter, field) in [
        ("public", "publicExploit"),
        ("verified", "exploitVerified"),
        ("kit", "exploitInKit"),
    ] {
        let got = page_json(&app, &admin, &[("exploit", filter)]).await;
        let want: BTreeSet<String> = served
            .iter()
            .filter(|(_, v)| v[field] == true)
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            ids(&got).into_iter().collect::<BTreeSet<_>>(),
            want,
            "{filter}"
        );
    }
    let none = page_json(&app, &admin, &[("exploit", "none")]).await;
    let want = served
        .values()
        .filter(|v| {
            v["publicExploit"] == false
                && v["exploitVerified"] == false
                && v["exploitInKit"] == false
        })
        .count();
    assert_eq!(none["total"].as_u64().unwrap() as usize, want);

    // The search matches any part of the id, in any case; wildcards are literal.
    let one = served.keys().nth(3).unwrap().clone();
    let tail = one.to_lowercase()[4..].to_owned();
    let found = page_json(&app, &admin, &[("q", &tail)]).await;
    let want: Vec<&String> = served
        .keys()
        .filter(|k| k.to_lowercase().contains(&tail))
        .collect();
    assert_eq!(found["total"].as_u64().unwrap() as usize, want.len());
    assert!(ids(&found).contains(&one));
    let wild = page_json(&app, &admin, &[("q", "%")]).await;
    assert_eq!(wild["total"], 0, "'%' is not a wildcard");

    // Sorted by exposure, ascending; paged without overlap.
    let first = page_json(
        &app,
        &admin,
        &[("sort", "exposed"), ("dir", "asc"), ("page_size", "10")],
    )
    .await;
    let second = page_json(
        &app,
        &admin,
        &[
            ("sort", "exposed"),
            ("dir", "asc"),
            ("page_size", "10"),
            ("page", "2"),
        ],
    )
    .await;
    let exposure = |p: &Value| -> Vec<i64> {
        p["cves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["exposed_machines"].as_i64().unwrap())
            .collect()
    };
    let both: Vec<i64> = exposure(&first)
        .into_iter()
        .chain(exposure(&second))
        .collect();
    assert_eq!(both.len(), 20);
    assert!(both.windows(2).all(|w| w[0] <= w[1]), "{both:?}");
    let overlap: BTreeSet<String> = ids(&first)
        .into_iter()
        .collect::<BTreeSet<_>>()
        .intersection(&ids(&second).into_iter().collect())
        .cloned()
        .collect();
    assert!(overlap.is_empty(), "{overlap:?}");
}

#[tokio::test]
async fn a_cve_shows_every_endpoint_it_affects_and_exports_them() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;

    // Each endpoint's representative machine, as its Summary names it, and its list row.
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
    let mut endpoint_of: BTreeMap<String, i64> = BTreeMap::new();
    let mut rows: BTreeMap<i64, Value> = BTreeMap::new();
    for row in list["rows"].as_array().unwrap() {
        let id = row["id"].as_i64().unwrap();
        let summary: Value = app
            .call(&admin, "endpoints/get", &[("id", &id.to_string())])
            .await
            .json()
            .await
            .unwrap();
        if let Some(m) = summary["machines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["representative"] == true)
        {
            endpoint_of.insert(m["machine_id"].as_str().unwrap().to_owned(), id);
        }
        rows.insert(id, row.clone());
    }
    // What each CVE should show: (endpoint, vendor, product, version) of the served rows on
    // representative machines.
    type Affected = BTreeSet<(i64, String, String, String)>;
    let mut expected: BTreeMap<String, Affected> = BTreeMap::new();
    for r in sim.control().machine_vulnerabilities() {
        let Some(&endpoint) = endpoint_of.get(r["machineId"].as_str().unwrap()) else {
            continue;
        };
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
        expected.entry(text("cveId")).or_default().insert((
            endpoint,
            text("productVendor"),
            text("productName"),
            text("productVersion"),
        ));
    }
    let (cve, want) = expected
        .iter()
        .max_by_key(|(id, rows)| (rows.len(), std::cmp::Reverse((*id).clone())))
        .map(|(id, rows)| (id.clone(), rows.clone()))
        .unwrap();
    assert!(
        want.len() >= 3,
        "a CVE on several endpoints: {cve} {want:?}"
    );

    let opened = page_json(&app, &admin, &[("cve", &cve.to_lowercase())]).await;
    let view = &opened["cve"];
    assert_eq!(view["cve"]["cve_id"], cve.as_str());
    let got: Affected = view["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (
                r["endpoint_id"].as_i64().unwrap(),
                text("product_vendor"),
                text("product_name"),
                text("product_version"),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(opened["total"].as_u64().unwrap() as usize, want.len());
    let endpoints: BTreeSet<i64> = want.iter().map(|w| w.0).collect();
    assert_eq!(
        view["endpoint_count"].as_u64().unwrap() as usize,
        endpoints.len()
    );
    for r in view["endpoints"].as_array().unwrap() {
        let row = &rows[&r["endpoint_id"].as_i64().unwrap()];
        assert_eq!(r["hostname"], row["hostname"], "{r:#}");
        assert_eq!(r["mac"], row["mac"], "{r:#}");
        assert_eq!(r["risk_level"], row["risk_level"], "{r:#}");
        assert_eq!(r["device_group"], row["device_group"], "{r:#}");
        assert!(
            r["first_seen"].as_str().is_some_and(|s| s.len() >= 20),
            "{r:#}"
        );
    }
    let link = view["defender_url"].as_str().unwrap();
    assert!(
        link.starts_with(&format!(
            "https://security.microsoft.com/vulnerabilities/vulnerability/{cve}/overview?tid="
        )),
        "{link}"
    );

    // The device-group filter keeps exactly that group's rows.
    let group = view["endpoints"][0]["device_group"]
        .as_str()
        .unwrap()
        .to_owned();
    let in_group = page_json(&app, &admin, &[("cve", &cve), ("group", &group)]).await;
    let want_in_group = view["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["device_group"] == group.as_str())
        .count();
    assert_eq!(in_group["total"].as_u64().unwrap() as usize, want_in_group);
    assert!(in_group["cve"]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["device_group"] == group.as_str()));

    // The CSV holds every row, one line each, under the same filter.
    let csv = admin
        .get(app.url(&format!("/api/vulnerabilities/export.csv?cve={cve}")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("{cve}-endpoints.csv")));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("cve,risk,hostname,mac,ip,device_group,"));
    assert_eq!(lines.clone().count(), want.len());
    assert!(lines.all(|l| l.starts_with(&format!("{cve},"))));

    // A CVE nobody has is not found; the CSV needs a CVE; and it is for signed-in users only.
    let unknown = page(&app, &admin, &[("cve", "CVE-1999-0001")]).await;
    assert_eq!(unknown.status(), 404);
    let status = |url: String, client: reqwest::Client| async move {
        client.get(url).send().await.unwrap().status().as_u16()
    };
    assert_eq!(
        status(
            app.url("/api/vulnerabilities/export.csv?cve=CVE-1999-0001"),
            admin.clone()
        )
        .await,
        404
    );
    assert_eq!(
        status(app.url("/api/vulnerabilities/export.csv"), admin.clone()).await,
        400
    );
    assert_eq!(
        status(
            app.url(&format!("/api/vulnerabilities/export.csv?cve={cve}")),
            reqwest::Client::new()
        )
        .await,
        401
    );
}

#[tokio::test]
async fn the_cve_list_scoped_to_a_device_group_counts_exactly_its_endpoints() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;

    let all = page_json(&app, &admin, &[]).await;
    let groups: Vec<String> = all["device_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .collect();
    // The simulator's tenant has named groups and machines in none.
    assert!(groups.len() >= 3, "{groups:?}");
    assert!(groups.iter().any(|g| g == "Ungrouped devices (default)"));
    // Each CVE's endpoints in a group, as the CVE's own view counts them (from the list's
    // snapshot, not from the SQL the scoped list runs).
    let mut checked_groups = 0;
    for group in &groups {
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for cve in ids(&all) {
            let view = page_json(&app, &admin, &[("cve", &cve), ("group", group)]).await;
            let n = view["cve"]["endpoint_count"].as_u64().unwrap();
            if n > 0 {
                want.insert(cve, n);
            }
        }
        let scoped = page_json(&app, &admin, &[("group", group)]).await;
        let got: BTreeMap<String, u64> = scoped["cves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["cve_id"].as_str().unwrap().to_owned(),
                    c["group_endpoints"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{group}");
        assert_eq!(scoped["total"].as_u64().unwrap() as usize, want.len());
        if !want.is_empty() && want.len() < all["total"].as_u64().unwrap() as usize {
            checked_groups += 1;
        }

        // Sorted by the group's count, most first; a page past the end still says the total.
        let by_count = page_json(&app, &admin, &[("group", group), ("sort", "exposed")]).await;
        let counts: Vec<u64> = by_count["cves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["group_endpoints"].as_u64().unwrap())
            .collect();
        assert!(
            counts.windows(2).all(|w| w[0] >= w[1]),
            "{group}: {counts:?}"
        );
        let past = page_json(
            &app,
            &admin,
            &[("group", group), ("page", "99"), ("page_size", "10")],
        )
        .await;
        assert_eq!(past["cves"].as_array().unwrap().len(), 0);
        assert_eq!(past["total"].as_u64().unwrap() as usize, want.len());
    }
    // At least one group sees some but not all of the tenant's CVEs: the filter filters.
    assert!(checked_groups >= 1, "{groups:?}");

    // The other filters still apply within the group; an unknown group has no CVE.
    let group = &groups[0];
    let critical = page_json(&app, &admin, &[("group", group), ("severity", "Critical")]).await;
    assert!(critical["cves"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["severity"] == "Critical"));
    let nobody = page_json(&app, &admin, &[("group", "No such group")]).await;
    assert_eq!(nobody["total"], 0);
    // Without a group no count of the group's is given.
    assert!(all["cves"][0]["group_endpoints"].is_null());
}
