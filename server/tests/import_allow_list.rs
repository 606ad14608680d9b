//! The import allow-list of device groups, against the simulator over real HTTP: only the
//! listed groups are imported; machines of the others are not, and what was imported of them
//! before stays exactly as it was (not gone, its rows kept), and the journal says so.

#[path = "support/app.rs"]
mod support;

use std::collections::BTreeSet;

use server::db::Pool;
use server::sim::{self, MachineInfo, RunningSim, SimConfig};
use support::seeded_tenant::{defender_form, post_form};
use support::TestApp;

const UNGROUPED: &str = "Ungrouped devices (default)";

fn group_of(m: &MachineInfo) -> String {
    match &m.rbac_group_name {
        Some(name) if m.rbac_group_id != 0 => name.clone(),
        _ => UNGROUPED.to_owned(),
    }
}

async fn save(app: &TestApp, sim: &RunningSim, admin: &reqwest::Client, groups: &str) {
    let mut form = defender_form(sim, true);
    form.push(("import_groups", groups.to_owned()));
    let res = post_form(app, admin, "integrations/defender/save", &form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let view: serde_json::Value = res.json().await.unwrap();
    let want: Vec<&str> = groups.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(view["import_groups"], serde_json::json!(want));
}

async fn sync(app: &TestApp) {
    let outcome = app.sync.trigger("test").wait().await;
    assert!(outcome.ok, "{outcome:?}");
}

async fn strings(pool: &Pool, sql: &str) -> Vec<String> {
    let rows: Vec<(String,)> =
        server::on_pool!(pool, |db| sqlx::query_as(sql).fetch_all(db).await.unwrap());
    rows.into_iter().map(|(s,)| s).collect()
}

/// Every endpoint with its representative machine.
async fn endpoints(pool: &Pool) -> Vec<String> {
    strings(
        pool,
        "SELECT CAST(endpoint_id AS TEXT) || '|' || COALESCE(defender_machine_id, '') \
         FROM endpoint ORDER BY endpoint_id",
    )
    .await
}

/// The machines stored and not gone.
async fn present(pool: &Pool) -> BTreeSet<String> {
    strings(
        pool,
        "SELECT machine_id FROM defender_machine WHERE gone = FALSE",
    )
    .await
    .into_iter()
    .collect()
}

async fn last_run(pool: &Pool) -> (String, String) {
    server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT outcome, COALESCE(notes, '') FROM sync_run ORDER BY sync_run_id DESC LIMIT 1"
    )
    .fetch_one(db)
    .await
    .unwrap())
}

/// Several syncs in a row must not reach the per-minute API limit (§3.6): that path is the
/// client's business and tested there.
async fn simulator(machines: usize) -> RunningSim {
    let mut config = SimConfig::for_tests(machines);
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn only_the_allowed_device_groups_are_imported_and_the_others_are_left_as_they_were() {
    let sim = simulator(40).await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let machines = sim.control().machines();
    let in_groups = |groups: &[&str]| -> BTreeSet<String> {
        machines
            .iter()
            .filter(|m| groups.contains(&group_of(m).as_str()))
            .map(|m| m.id.clone())
            .collect()
    };
    let everyone: BTreeSet<String> = machines.iter().map(|m| m.id.clone()).collect();
    let named = machines
        .iter()
        .map(group_of)
        .find(|g| g != UNGROUPED)
        .expect("a machine in a named group");
    let first = in_groups(&[&named, UNGROUPED]);
    let second = in_groups(&[&named]);
    assert!(second.len() < first.len() && first.len() < everyone.len());

    // Two groups allowed: exactly their machines are imported; the journal counts the rest.
    save(&app, &sim, &admin, &format!("{named}\n{UNGROUPED}\n")).await;
    sync(&app).await;
    assert_eq!(present(&app.pool).await, first);
    let (outcome, notes) = last_run(&app.pool).await;
    assert_eq!(outcome, "Succeeded", "{notes}");
    let left_out = everyone.len() - first.len();
    assert!(
        notes.contains(&format!(
            "{left_out} machines in device groups outside the import allow-list"
        )),
        "{notes}"
    );
    let endpoints_before = endpoints(&app.pool).await;
    let ungrouped: BTreeSet<String> = first.difference(&second).cloned().collect();
    let ungrouped_rows = |pool: &Pool| {
        let pool = pool.clone();
        let ids = ungrouped.clone();
        async move {
            strings(
                &pool,
                "SELECT machine_id || '|' || cve_id || '|' || product_name \
                 FROM machine_vulnerability ORDER BY 1",
            )
            .await
            .into_iter()
            .filter(|r| ids.iter().any(|id| r.starts_with(&format!("{id}|"))))
            .collect::<Vec<_>>()
        }
    };
    let rows_before = ungrouped_rows(&app.pool).await;
    assert!(!rows_before.is_empty(), "ungrouped machines have CVEs");

    // One group left out now: its machines were imported and stay as they were, neither
    // gone nor stripped of their vulnerabilities; the run is not Partial for it.
    save(&app, &sim, &admin, &named).await;
    sync(&app).await;
    assert_eq!(present(&app.pool).await, first);
    assert_eq!(ungrouped_rows(&app.pool).await, rows_before);
    let endpoints_after = endpoints(&app.pool).await;
    assert_eq!(endpoints_after, endpoints_before);
    let (outcome, notes) = last_run(&app.pool).await;
    assert_eq!(outcome, "Succeeded", "{notes}");
    let left_out = everyone.len() - second.len();
    assert!(
        notes.contains(&format!(
            "{left_out} machines in device groups outside the import allow-list (\"{named}\")"
        )),
        "{notes}"
    );
    // Their rows were kept, not counted as fixed.
    let (fixed,): (Option<i64>,) = server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT vulnerabilities_fixed FROM sync_run ORDER BY sync_run_id DESC LIMIT 1"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(fixed, Some(0));
    let ungrouped_count = ungrouped.len();
    assert!(
        notes.contains(&format!("\"{UNGROUPED}\": {ungrouped_count}")),
        "{notes}"
    );

    // Every group again: every machine is imported, and nothing is said about groups.
    save(&app, &sim, &admin, "").await;
    sync(&app).await;
    assert_eq!(present(&app.pool).await, everyone);
    let (_, notes) = last_run(&app.pool).await;
    assert!(!notes.contains("allow-list"), "{notes}");

    // Each change is in the audit log, with the old and new lists.
    let audit = strings(
        &app.pool,
        "SELECT detail FROM audit_log WHERE action = 'integration.defender.save' ORDER BY 1",
    )
    .await;
    assert!(
        audit.iter().any(|d| d.contains(&format!(
            "import allow-list: [\"{named}\", \"{UNGROUPED}\"] -> [\"{named}\"]"
        ))),
        "{audit:#?}"
    );
}

#[tokio::test]
async fn a_bad_allow_list_is_refused_and_the_saved_one_is_kept() {
    let sim = simulator(4).await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    save(&app, &sim, &admin, "Servers").await;
    let mut form = defender_form(&sim, true);
    form.push(("import_groups", "x".repeat(300)));
    let res = post_form(&app, &admin, "integrations/defender/save", &form).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("import_groups"), "{body}");
    let config: serde_json::Value = app
        .call(&admin, "integrations/defender/get", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["import_groups"], serde_json::json!(["Servers"]));
}
