//! The endpoint list, the Endpoint Summary, the CSV export and discovery upload, against the
//! simulator over real HTTP and a real SQLite file.

#[path = "support/app.rs"]
mod support;

use serde_json::Value;
use server::sim::{self, RunningSim, SimConfig};
use support::seeded_tenant::{defender_form, post_form, scan_and_sync};
use support::TestApp;

async fn simulator() -> RunningSim {
    sim::start(SimConfig::for_tests(40), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn list(app: &TestApp, client: &reqwest::Client, pairs: &[(&str, &str)]) -> Value {
    let mut form: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (format!("query[{k}]"), v.to_string()))
        .collect();
    for (k, v) in [
        ("q", ""),
        ("risk", ""),
        ("profile", ""),
        ("source", ""),
        ("onboarding", ""),
        ("group", ""),
        ("tag", ""),
        ("sort", "risk"),
        ("dir", "desc"),
        ("page", "1"),
        ("page_size", "50"),
    ] {
        if !pairs.iter().any(|(p, _)| *p == k) {
            form.push((format!("query[{k}]"), v.to_owned()));
        }
    }
    let res = client
        .post(app.url("/api/endpoints/list"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn rank(level: &str) -> u8 {
    ["None", "Low", "Medium", "High", "Critical"]
        .iter()
        .position(|l| *l == level)
        .unwrap() as u8
}

#[tokio::test]
async fn list_filters_sorts_pages_and_exports() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;

    let all = list(&app, &admin, &[("page_size", "500")]).await;
    let total = all["total"].as_u64().unwrap();
    let rows = all["rows"].as_array().unwrap();
    assert_eq!(rows.len() as u64, total);
    assert!(
        total >= 40,
        "network devices and Defender machines: {total}"
    );
    let ranks: Vec<u8> = rows
        .iter()
        .map(|r| rank(r["risk_level"].as_str().unwrap()))
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] >= w[1]),
        "sorted by risk, most severe first"
    );

    for level in ["Critical", "High", "Medium", "Low", "None"] {
        let page = list(&app, &admin, &[("risk", level), ("page_size", "500")]).await;
        assert!(page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["risk_level"] == level));
    }
    let defender = list(
        &app,
        &admin,
        &[("source", "defender"), ("page_size", "500")],
    )
    .await;
    assert!(defender["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["source_defender"] == true));
    let both = list(&app, &admin, &[("source", "both"), ("page_size", "500")]).await;
    assert!(
        both["total"].as_u64().unwrap() > 0,
        "discovery and Defender overlap"
    );
    let not_in_defender = list(
        &app,
        &admin,
        &[("onboarding", "none"), ("page_size", "500")],
    )
    .await;
    assert!(not_in_defender["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["onboarding_status"].is_null()));
    assert!(
        not_in_defender["total"].as_u64().unwrap() >= 8,
        "the extra LAN devices"
    );

    let by_name = list(
        &app,
        &admin,
        &[("sort", "hostname"), ("dir", "asc"), ("page_size", "500")],
    )
    .await;
    let names: Vec<String> = by_name["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["hostname"].as_str().map(str::to_owned))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    let p1 = list(&app, &admin, &[("page_size", "5"), ("page", "1")]).await;
    let p2 = list(&app, &admin, &[("page_size", "5"), ("page", "2")]).await;
    let ids = |p: &Value| {
        p["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&p1).len(), 5);
    assert!(ids(&p1).iter().all(|id| !ids(&p2).contains(id)));
    assert_eq!(p1["total"], all["total"]);

    let some_host = names.first().unwrap().clone();
    let found = list(&app, &admin, &[("q", &some_host[..some_host.len().min(6)])]).await;
    assert!(found["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["hostname"] == some_host.as_str()));

    let csv = admin
        .get(app.url("/api/endpoints/export.csv?risk=High"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let high = list(&app, &admin, &[("risk", "High"), ("page_size", "500")]).await;
    assert_eq!(
        text.lines().count() as u64,
        high["total"].as_u64().unwrap() + 1
    );
    assert!(text.starts_with("risk,mac,ip,hostname"));
    assert_eq!(
        support::browser()
            .get(app.url("/api/endpoints/export.csv"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

async fn sim_token(sim: &RunningSim) -> String {
    let app = sim.app();
    let res: Value = reqwest::Client::new()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            sim.base_url(),
            app.tenant_id
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("scope", "https://api.securitycenter.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_summary_shows_what_the_simulator_holds() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;

    // Machine 0 of the simulator is an onboarded Windows 11 device with alerts.
    let machine = sim.control().machine(0).unwrap();
    let rows = list(
        &app,
        &admin,
        &[
            ("q", machine.computer_dns_name.as_deref().unwrap()),
            ("page_size", "500"),
        ],
    )
    .await;
    let mut found = None;
    for row in rows["rows"].as_array().unwrap() {
        let summary: Value = app
            .call(&admin, "endpoints/get", &[("id", &row["id"].to_string())])
            .await
            .json()
            .await
            .unwrap();
        if summary["defender"]["machine_id"] == machine.id.as_str() {
            found = Some(summary);
        }
    }
    let summary = found.expect("an endpoint represented by machine 0");
    let defender = &summary["defender"];

    let token = sim_token(&sim).await;
    // Every page of the machine's vulnerabilities, as the simulator serves them.
    let mut cves = std::collections::BTreeSet::new();
    let mut next = Some(format!(
        "{}/api/machines/{}/vulnerabilities",
        sim.base_url(),
        machine.id
    ));
    while let Some(url) = next.take() {
        let page: Value = reqwest::Client::new()
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for v in page["value"].as_array().unwrap() {
            cves.insert(v["id"].as_str().unwrap().to_owned());
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(
        defender["vulnerability_count"].as_u64().unwrap() as usize,
        cves.len()
    );
    if let Some(most) = defender["most_severe_vulnerability"]["cve_id"].as_str() {
        assert!(cves.contains(most));
    }
    let tenant = &sim.app().tenant_id;
    let expect = |suffix: &str| {
        format!(
            "https://security.microsoft.com/machines/v2/{}/{suffix}?tid={tenant}",
            machine.id
        )
    };
    assert_eq!(defender["overview_url"], expect("overview"));
    assert_eq!(defender["vulnerabilities_url"], expect("vulnerabilities"));
    assert_eq!(defender["alerts_url"], expect("alerts"));
    for alert in defender["alerts"].as_array().unwrap() {
        let url = alert["url"].as_str().unwrap();
        assert!(
            url.starts_with("https://security.microsoft.com/alerts/"),
            "{url}"
        );
    }
    assert!(summary["risk"]["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["kind"] == "Defender"));
    assert!(defender["risk"]["exposure"]["level"].is_string());
    assert!(defender["risk"]["alert"]["level"].is_string());

    let missing = app.call(&admin, "endpoints/get", &[("id", "999999")]).await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_bad_upload_is_refused_and_writes_nothing() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;
    let before = list(&app, &admin, &[]).await["total"].clone();
    let bad = "<?xml version=\"1.0\"?>\n<nmaprun><host><address addr=\"zz:zz\" addrtype=\"mac\"/></host></nmaprun>";
    for body in [
        bad.as_bytes().to_vec(),
        b"not xml at all".to_vec(),
        b"<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><nmaprun/>".to_vec(),
    ] {
        let part = reqwest::multipart::Part::bytes(body).file_name("scan.xml");
        let res = admin
            .post(app.url("/api/endpoints/import"))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let err: Value = res.json().await.unwrap();
        assert!(!err["error"].as_str().unwrap().is_empty());
    }
    assert_eq!(list(&app, &admin, &[]).await["total"], before);

    let analyst = app.user_with_role("analyst-2", "Analyst").await;
    let part = reqwest::multipart::Part::bytes(sim.control().local_network_xml(1).into_bytes())
        .file_name("scan.xml");
    let res = analyst
        .post(app.url("/api/endpoints/import"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn disabling_defender_removes_dynamic_profiles_and_keeps_endpoints() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;
    let before = list(&app, &admin, &[("page_size", "500")]).await;
    let dynamic = |page: &Value| {
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["profile_name"]
                    .as_str()
                    .is_some_and(|p| p.starts_with('⇋'))
            })
            .count()
    };
    assert!(dynamic(&before) > 0, "Defender OS gives ⇋ profiles");
    let very_high = before["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["profile_name"]
                .as_str()
                .is_some_and(|p| p.starts_with('⇋'))
        })
        .all(|r| r["match_level"] == "VeryHigh");
    assert!(very_high);
    // The page names the level as the product does.
    let html = get_text(&app, &admin, "/endpoints", &[("page_size", "500")]).await;
    assert!(html.contains("(Very High)"), "the list shows the level");
    assert!(!html.contains("VeryHigh)"), "never the stored spelling");

    let res = post_form(
        &app,
        &admin,
        "integrations/defender/save",
        &defender_form(&sim, false),
    )
    .await;
    assert_eq!(res.status(), 200);
    let after = list(&app, &admin, &[("page_size", "500")]).await;
    assert_eq!(after["total"], before["total"], "every endpoint is kept");
    assert_eq!(dynamic(&after), 0);
    let profiles: Vec<Value> = app
        .call(&admin, "profiles/list", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(profiles.iter().all(|p| p["origin"] != "defender"));
}

/// The portal's name for a simulated machine's device group.
fn group_of(m: &sim::MachineInfo) -> String {
    match (&m.rbac_group_name, m.rbac_group_id) {
        (Some(name), id) if id != 0 => name.clone(),
        _ => "Ungrouped devices (default)".to_owned(),
    }
}

async fn get_text(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    query: &[(&str, &str)],
) -> String {
    let res = client.get(app.url(path)).query(query).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

fn ids(rows: &Value) -> std::collections::BTreeSet<i64> {
    rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn device_groups_and_tags_are_shown_and_filter_the_list() {
    use std::collections::{BTreeMap, BTreeSet};

    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;
    let machines: BTreeMap<String, sim::MachineInfo> = sim
        .control()
        .machines()
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();

    // What each endpoint should show: the group and tags of the machine that represents it
    // (the Summary names it), as the simulator serves them; nothing for network-only ones.
    let all = list(&app, &admin, &[("page_size", "500")]).await;
    let rows = all["rows"].as_array().unwrap();
    assert_eq!(rows.len() as u64, all["total"].as_u64().unwrap());
    let mut by_group: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut by_tag: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut with_machine = 0;
    for row in rows {
        let id = row["id"].as_i64().unwrap();
        let summary: Value = app
            .call(&admin, "endpoints/get", &[("id", &id.to_string())])
            .await
            .json()
            .await
            .unwrap();
        for shown in summary["machines"].as_array().unwrap() {
            let m = &machines[shown["machine_id"].as_str().unwrap()];
            assert_eq!(shown["device_group"], group_of(m).as_str(), "{shown:#}");
            assert_eq!(
                shown["tags"],
                serde_json::json!(m.machine_tags),
                "{shown:#}"
            );
        }
        let representative = summary["machines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["representative"] == true)
            .map(|m| &machines[m["machine_id"].as_str().unwrap()]);
        match representative {
            Some(m) => {
                with_machine += 1;
                assert_eq!(row["device_group"], group_of(m).as_str(), "{row:#}");
                assert_eq!(row["tags"], serde_json::json!(m.machine_tags), "{row:#}");
                by_group.entry(group_of(m)).or_default().insert(id);
                for t in &m.machine_tags {
                    by_tag.entry(t.clone()).or_default().insert(id);
                }
            }
            None => {
                assert_eq!(row["device_group"], Value::Null, "{row:#}");
                assert_eq!(row["tags"], serde_json::json!([]), "{row:#}");
            }
        }
    }
    assert!(
        with_machine > 0 && with_machine < rows.len(),
        "{with_machine} of {}",
        rows.len()
    );
    assert!(
        by_group.len() >= 3,
        "the tenant spans several groups: {by_group:?}"
    );
    assert!(by_tag.contains_key("crown-jewel"), "{by_tag:?}");
    assert_eq!(
        all["device_groups"],
        serde_json::json!(by_group.keys().collect::<Vec<_>>())
    );
    assert_eq!(
        all["tags"],
        serde_json::json!(by_tag.keys().collect::<Vec<_>>())
    );

    // Each group and each tag filters to exactly its endpoints; a tag matches in any case.
    for (group, expected) in &by_group {
        let got = list(&app, &admin, &[("group", group), ("page_size", "500")]).await;
        assert_eq!(&ids(&got), expected, "group {group}");
    }
    for (tag, expected) in &by_tag {
        let upper = tag.to_uppercase();
        let got = list(&app, &admin, &[("tag", &upper), ("page_size", "500")]).await;
        assert_eq!(&ids(&got), expected, "tag {tag}");
    }
    let (group, expected) = by_group.iter().next().unwrap();
    let none = list(
        &app,
        &admin,
        &[
            ("group", group),
            ("onboarding", "none"),
            ("page_size", "500"),
        ],
    )
    .await;
    assert_eq!(
        none["total"], 0,
        "a device group holds only endpoints Defender knows"
    );

    // The CSV export carries both and honours the filters.
    let csv = get_text(
        &app,
        &admin,
        "/api/endpoints/export.csv",
        &[("group", group)],
    )
    .await;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert!(
        header.contains(&"device_group") && header.contains(&"tags"),
        "{header:?}"
    );
    assert_eq!(lines.count(), expected.len(), "{csv}");

    // Rendered: the filter offers every group and keeps the chosen one selected.
    let html = get_text(&app, &admin, "/endpoints", &[("group", group)]).await;
    for g in by_group.keys() {
        assert!(
            html.contains(&format!("<option value=\"{g}\"")),
            "{g} missing"
        );
    }
    assert!(
        html.contains(&format!("<option value=\"{group}\" selected")),
        "{html}"
    );
}

#[tokio::test]
async fn the_dashboard_of_a_device_group_counts_exactly_its_endpoints() {
    use std::collections::BTreeMap;

    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;
    async fn dashboard(app: &TestApp, admin: &reqwest::Client, group: Option<&str>) -> Value {
        let form: Vec<(&str, &str)> = group.map(|g| vec![("group", g)]).unwrap_or_default();
        let res = app.call(admin, "dashboard/get", &form).await;
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()
    }

    // What each group should count, from the list's own rows.
    let all = list(&app, &admin, &[("page_size", "500")]).await;
    let rows = all["rows"].as_array().unwrap();
    #[derive(Default)]
    struct Expected {
        by_risk: BTreeMap<String, u64>,
        total: u64,
        network: u64,
        not_onboarded: u64,
    }
    let mut groups: BTreeMap<String, Expected> = BTreeMap::new();
    for row in rows {
        let Some(group) = row["device_group"].as_str() else {
            continue;
        };
        let e = groups.entry(group.to_owned()).or_default();
        *e.by_risk
            .entry(row["risk_level"].as_str().unwrap().to_owned())
            .or_default() += 1;
        e.total += 1;
        if row["source_network"] == true {
            e.network += 1;
            if row["onboarding_status"] != "Onboarded" {
                e.not_onboarded += 1;
            }
        }
    }
    assert!(groups.len() >= 3, "{:?}", groups.keys());

    let whole = dashboard(&app, &admin, None).await;
    assert_eq!(whole["group"], Value::Null);
    assert_eq!(whole["total"], all["total"]);
    assert_eq!(whole["device_groups"], all["device_groups"]);
    for (group, want) in &groups {
        let got = dashboard(&app, &admin, Some(group)).await;
        assert_eq!(got["group"], group.as_str());
        assert_eq!(got["total"].as_u64(), Some(want.total), "{group}");
        for pair in got["by_risk"].as_array().unwrap() {
            let level = pair[0].as_str().unwrap();
            assert_eq!(
                pair[1].as_u64().unwrap(),
                want.by_risk.get(level).copied().unwrap_or(0),
                "{group} {level}"
            );
        }
        assert_eq!(got["network_total"].as_u64(), Some(want.network), "{group}");
        assert_eq!(
            got["network_not_onboarded"].as_u64(),
            Some(want.not_onboarded),
            "{group}"
        );
        assert_eq!(got["device_groups"], all["device_groups"]);
    }
    let unknown = dashboard(&app, &admin, Some("No such group")).await;
    assert_eq!(unknown["total"], 0);

    // Rendered: the chosen group is selected, named, and the bars lead to the list of it.
    let (group, want) = groups.iter().next().unwrap();
    let html = get_text(&app, &admin, "/", &[("group", group)]).await;
    assert!(
        html.contains(&format!("<option value=\"{group}\" selected")),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "Endpoints of the device group {group}: {} in all.",
            want.total
        )),
        "{html}"
    );
    // The list's own encoding: unreserved bytes as they are, every other one as %XX.
    let encoded: String = group
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let link = format!("/endpoints?risk=High&amp;group={encoded}");
    assert!(html.contains(&link), "{link} not in {html}");
}

#[tokio::test]
async fn the_dashboard_shows_coverage_the_riskiest_endpoints_and_open_actions_as_the_list_does() {
    use std::collections::BTreeMap;

    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;
    let dashboard = |group: Option<String>| {
        let (app, admin) = (&app, &admin);
        async move {
            let form: Vec<(&str, &str)> = group
                .as_deref()
                .map(|g| vec![("group", g)])
                .unwrap_or_default();
            let res = app.call(admin, "dashboard/get", &form).await;
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };

    // Coverage: every endpoint counted once, in its onboarding state, by whether the network
    // saw it, exactly as the list's rows say.
    let all = list(&app, &admin, &[("page_size", "500")]).await;
    let rows = all["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len() as u64, all["total"].as_u64().unwrap());
    let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in &rows {
        let state = row["onboarding_status"]
            .as_str()
            .unwrap_or("none")
            .to_owned();
        let cell = want.entry(state).or_default();
        if row["source_network"] == true {
            cell.0 += 1;
        } else {
            assert_eq!(row["source_defender"], true, "{row:#}");
            cell.1 += 1;
        }
    }
    let whole = dashboard(None).await;
    let got: BTreeMap<String, (u64, u64)> = whole["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["onboarding"].as_str().unwrap_or("none").to_owned(),
                (
                    r["on_network"].as_u64().unwrap(),
                    r["defender_only"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want);
    // Both kinds are in the seeded tenant, so the test can tell them apart.
    assert!(want.values().any(|c| c.0 > 0) && want.values().any(|c| c.1 > 0));
    assert_eq!(whole["coverage"][0]["onboarding"], Value::Null);
    // Each count's link is the list filter that gives exactly it.
    for (state, (on_network, defender_only)) in &want {
        for (source, n) in [("network", on_network), ("defender_only", defender_only)] {
            let filtered = list(&app, &admin, &[("source", source), ("onboarding", state)]).await;
            assert_eq!(filtered["total"].as_u64(), Some(*n), "{source} {state}");
        }
    }

    // The riskiest endpoints: the list's first rows sorted by risk, none at risk None.
    let first: Vec<&Value> = rows
        .iter()
        .filter(|r| r["risk_level"] != "None")
        .take(10)
        .collect();
    assert_eq!(
        first.len(),
        10,
        "the seeded tenant has ten endpoints at risk"
    );
    let top: Vec<i64> = whole["top_risky"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let want_top: Vec<i64> = first.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(top, want_top);
    assert_eq!(whole["top_risky"][0], *first[0]);

    // Open actions: none yet; then one pending, named by the endpoint's hostname.
    assert_eq!(whole["open_actions_total"], 0);
    let target = rows
        .iter()
        .find(|r| r["hostname"].is_string() && r["device_group"].is_string())
        .expect("an endpoint in a device group with a hostname");
    let endpoint_id = target["id"].as_i64().unwrap();
    let machine: (String,) = server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT defender_machine_id FROM endpoint WHERE endpoint_id = $1"
    )
    .bind(endpoint_id)
    .fetch_one(db)
    .await
    .unwrap());
    let stores = server::db::Stores::new(&app.pool);
    stores
        .actions
        .insert(&server::db::machine_action::NewAction {
            endpoint_id,
            machine_id: &machine.0,
            kind: "Isolate",
            action_group: "isolation",
            scope: Some("Full"),
            comment: "dashboard test",
            requested_by: "admin",
            external: false,
            request_key: None,
            defender_action_id: Some("dashboard-test-action"),
            status: "Pending",
            requested_at: "2026-12-07T10:00:00Z",
            updated_at: "2026-12-07T10:00:00Z",
            completed_at: None,
            next_poll_at: None,
            defender_requestor: None,
            request_source: None,
        })
        .await
        .unwrap();
    let whole = dashboard(None).await;
    assert_eq!(whole["open_actions_total"], 1);
    let open = &whole["open_actions"][0];
    assert_eq!(open["endpoint_id"], endpoint_id);
    assert_eq!(open["endpoint_name"], target["hostname"]);
    assert_eq!(open["action"]["kind"], "Isolate");
    assert_eq!(open["action"]["status"], "Pending");
    // A device group's dashboard shows it only when the endpoint is in that group.
    let group = target["device_group"].as_str().unwrap().to_owned();
    assert_eq!(
        dashboard(Some(group.clone())).await["open_actions_total"],
        1
    );
    let other = all["device_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .find(|g| *g != group)
        .expect("a second device group");
    let elsewhere = dashboard(Some(other.clone())).await;
    assert_eq!(elsewhere["open_actions_total"], 0);
    // And its riskiest endpoints are the group's list's first rows.
    let of_group = list(&app, &admin, &[("group", &other), ("page_size", "10")]).await;
    let want_top: Vec<i64> = of_group["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["risk_level"] != "None")
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let top: Vec<i64> = elsewhere["top_risky"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(top, want_top);

    // Rendered: the panels, the table's links, the action's endpoint.
    let html = get_text(&app, &admin, "/", &[]).await;
    for text in [
        "Top risky endpoints",
        "Open actions",
        "1 open.",
        "Isolate Machine",
        "Defender only",
    ] {
        assert!(html.contains(text), "{text} not in {html}");
    }
    assert!(
        html.contains(&format!("href=\"/endpoints/{endpoint_id}\"")),
        "{html}"
    );
    assert!(
        html.contains("href=\"/endpoints?source=defender_only&amp;onboarding="),
        "{html}"
    );
}
