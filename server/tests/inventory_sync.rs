//! The Defender sync end to end: the real application and SQLite file, the in-process
//! simulator, and the inventory it leaves behind.

#[path = "support/app.rs"]
mod support;

use app::model::sync::SyncProgress;
use serde_json::{json, Value};
use server::db::Pool;
use server::endpoints::RemodelProgress;
use server::sim::{self, Faults, RunningSim, SimApp, SimConfig};
use support::TestApp;

const SECRET: &str = "Inventory~Secret.Value-0815";
const TENANT: &str = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const CLIENT: &str = "2c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e";
const MACHINES: usize = 40;

async fn simulator() -> RunningSim {
    let mut config = SimConfig::for_tests(MACHINES);
    // Several pages per listing, but several syncs per test must not hit the real per-minute
    // limit (100 calls, §3.6): that path is the client's business and tested there.
    config.page_size = 10;
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    config.apps = vec![SimApp::full_access(
        TENANT,
        Some("fabrikam-test.onmicrosoft.com"),
        CLIENT,
        SECRET,
        "EA tests",
    )];
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Starts the app, saves an enabled Defender integration pointing at `sim`, and waits for a
/// first sync to finish.
async fn app_synced_with(sim: &RunningSim, dir: &std::path::Path) -> TestApp {
    let app = TestApp::spawn(dir).await;
    configure(&app, sim).await;
    // Joins the run the save started, or starts one after it.
    let outcome = app.sync.trigger("test").wait().await;
    assert!(outcome.ok, "{outcome:?}");
    app
}

/// Saves an enabled Defender integration pointing at `sim`, which starts a sync.
async fn configure(app: &TestApp, sim: &RunningSim) {
    let admin = app.admin().await;
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
}

async fn count(pool: &Pool, table: &str) -> i64 {
    let (n,): (i64,) = server::on_pool!(pool, |db| sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM {table}"
    ))
    .fetch_one(db)
    .await
    .unwrap());
    n
}

/// Row counts and a digest of the key columns of every inventory table.
async fn snapshot(pool: &Pool) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "endpoint",
        "defender_machine",
        "vulnerability",
        "machine_vulnerability",
        "defender_alert",
    ] {
        out.push(format!("{table}: {}", count(pool, table).await));
    }
    let queries = [
        "SELECT e.endpoint_id || '|' || COALESCE(e.mac,'') || '|' \
         || COALESCE(e.defender_machine_id,'') || '|' || COALESCE(e.hostname,'') || '|' \
         || COALESCE(a.risk_level,'') || '|' || COALESCE(a.profile_name,'') || '|' \
         || e.merge_evidence FROM endpoint e LEFT JOIN endpoint_assessment a USING (endpoint_id) \
         ORDER BY e.endpoint_id",
        "SELECT machine_id || '|' || COALESCE(endpoint_id,0) || '|' || gone || '|' || \
         COALESCE(last_seen,'') || '|' || COALESCE(health_status,'') FROM defender_machine \
         ORDER BY machine_id",
        "SELECT machine_id || '|' || cve_id || '|' || product_name FROM machine_vulnerability \
         ORDER BY 1",
        "SELECT alert_id || '|' || COALESCE(status,'') FROM defender_alert ORDER BY alert_id",
    ];
    for q in queries {
        let rows: Vec<(String,)> =
            server::on_pool!(pool, |db| sqlx::query_as(q).fetch_all(db).await.unwrap());
        let joined: Vec<String> = rows.into_iter().map(|(r,)| r).collect();
        out.push(joined.join("\n"));
    }
    out
}

#[derive(Debug, sqlx::FromRow)]
struct Run {
    outcome: String,
    machines_seen: i64,
    machines_added: i64,
    machines_updated: i64,
    machines_unchanged: i64,
    alerts: i64,
    vulnerabilities: i64,
    machine_vulnerabilities: i64,
    vulnerabilities_new: Option<i64>,
    vulnerabilities_fixed: Option<i64>,
    api_calls: i64,
    error: Option<String>,
    notes: Option<String>,
    finished_at: Option<String>,
}

async fn last_run(pool: &Pool) -> Run {
    server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT * FROM sync_run ORDER BY sync_run_id DESC LIMIT 1"
    )
    .fetch_one(db)
    .await
    .unwrap())
}

#[tokio::test]
async fn first_sync_imports_everything_and_a_second_changes_nothing() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_synced_with(&sim, dir.path()).await;
    let pool = &app.pool;
    let control = sim.control();

    assert_eq!(
        count(pool, "defender_machine").await,
        control.machine_count() as i64
    );
    let endpoints = count(pool, "endpoint").await;
    assert!(endpoints > 0 && endpoints <= control.machine_count() as i64);
    assert_eq!(
        count(pool, "defender_alert").await,
        control.alert_count() as i64
    );
    assert_eq!(
        count(pool, "machine_vulnerability").await,
        control.machine_vulnerability_count() as i64
    );
    let run = last_run(pool).await;
    assert_eq!(run.outcome, "Succeeded", "{run:?}");
    assert!(run.finished_at.is_some());
    assert_eq!(run.machines_seen, control.machine_count() as i64);
    assert!(run.api_calls > 0);
    assert!(run.vulnerabilities > 0 && run.machine_vulnerabilities > 0 && run.alerts > 0);
    // The first run finds every row new.
    assert_eq!(
        (run.vulnerabilities_new, run.vulnerabilities_fixed),
        (Some(control.machine_vulnerability_count() as i64), Some(0))
    );

    // Fixture 7 is a stale duplicate of fixture 0: two machine rows, one endpoint, and the
    // live record represents it.
    let live = control.machine(0).unwrap().id;
    let stale = control.machine(7).unwrap().id;
    let (e0, e7): (Option<i64>, Option<i64>) = server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT (SELECT endpoint_id FROM defender_machine WHERE machine_id = $1), \
         (SELECT endpoint_id FROM defender_machine WHERE machine_id = $2)",
    )
    .bind(&live)
    .bind(&stale)
    .fetch_one(db)
    .await
    .unwrap());
    assert!(e0.is_some());
    assert_eq!(e0, e7, "duplicates point at one endpoint");
    let (rep,): (Option<String>,) = server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT defender_machine_id FROM endpoint WHERE endpoint_id = $1"
    )
    .bind(e0)
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(rep.as_deref(), Some(live.as_str()));

    // Every endpoint is classified and assessed; Defender OS gives ⇋ profiles.
    let (unassessed,): (i64,) = server::on_pool!(pool, |db| sqlx::query_as(if POSTGRES {
        "SELECT COUNT(*) FROM endpoint e LEFT JOIN endpoint_assessment a USING (endpoint_id) \
         WHERE a.endpoint_id IS NULL \
            OR json_array_length(CAST(a.risk AS JSON) -> 'assessments') = 0"
    } else {
        "SELECT COUNT(*) FROM endpoint e LEFT JOIN endpoint_assessment a USING (endpoint_id) \
         WHERE a.endpoint_id IS NULL \
            OR json_array_length(a.risk, '$.assessments') = 0"
    })
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(unassessed, 0);
    let (dynamic,): (i64,) = server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM profile WHERE origin = 'defender'"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert!(dynamic > 0);
    let (very_high,): (i64,) = server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM endpoint_assessment \
         WHERE profile_name LIKE '⇋ %' AND match_level = 'VeryHigh'",
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert!(very_high > 0);

    let before = snapshot(pool).await;
    let outcome = app.sync.trigger("again").wait().await;
    assert!(outcome.ok, "{outcome:?}");
    let run = last_run(pool).await;
    assert_eq!(run.outcome, "Succeeded", "{run:?}");
    assert_eq!(
        (run.machines_added, run.machines_updated),
        (0, 0),
        "{run:?}"
    );
    assert_eq!(run.machines_unchanged, control.machine_count() as i64);
    assert_eq!(
        (run.vulnerabilities_new, run.vulnerabilities_fixed),
        (Some(0), Some(0))
    );
    assert_eq!(snapshot(pool).await, before);

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_fault_mid_sync_leaves_the_previous_data_intact() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_synced_with(&sim, dir.path()).await;
    let pool = &app.pool;
    let control = sim.control();
    let before = snapshot(pool).await;

    // Server errors that outlast every retry, after the first pages went through.
    for faults in [
        Faults {
            server_error_next: 50,
            ..Faults::default()
        },
        Faults {
            truncate_next: 50,
            ..Faults::default()
        },
    ] {
        control.set_faults(faults.clone());
        let outcome = app.sync.trigger("faulty").wait().await;
        control.set_faults(Faults::default());
        assert!(!outcome.ok, "{faults:?} should fail the run");
        let run = last_run(pool).await;
        assert_eq!(run.outcome, "Failed", "{run:?}");
        assert!(run.error.as_deref().is_some_and(|e| !e.is_empty()));
        assert_eq!(snapshot(pool).await, before, "{faults:?}");
    }

    // Revoked credentials: no data changes either, and the integration shows the error.
    control.revoke_secret(CLIENT);
    let outcome = app.sync.trigger("revoked").wait().await;
    assert!(!outcome.ok);
    assert_eq!(last_run(pool).await.outcome, "Failed");
    assert_eq!(snapshot(pool).await, before);

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_much_shorter_listing_marks_nothing_gone() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_synced_with(&sim, dir.path()).await;
    let pool = &app.pool;
    let endpoints = count(pool, "endpoint").await;

    // An empty page with a nextLink: the pager's guard stops the listing after one page.
    sim.control().set_faults(Faults {
        empty_page_at: Some(1),
        ..Faults::default()
    });
    let outcome = app.sync.trigger("short").wait().await;
    assert!(outcome.ok, "{outcome:?}");
    let run = last_run(pool).await;
    assert_eq!(run.outcome, "Partial", "{run:?}");
    assert!(run.machines_seen < MACHINES as i64 / 2, "{run:?}");
    assert!(
        run.notes.as_deref().is_some_and(|n| n.contains("gone")),
        "{run:?}"
    );
    let (gone,): (i64,) = server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM defender_machine WHERE gone = TRUE"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(gone, 0);
    assert_eq!(
        count(pool, "endpoint").await,
        endpoints,
        "no endpoint deleted"
    );

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn discovered_endpoints_match_by_mac_and_disabling_keeps_them_with_standard_profiles() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let pool = app.pool.clone();

    let xml = sim.control().local_network_xml(5);
    let report = server::endpoints::import_nmap(
        &server::db::Stores::new(&pool),
        xml.as_bytes(),
        Default::default(),
    )
    .await
    .unwrap();
    assert!(report.added > 0, "{report:?}");
    let discovered = count(&pool, "endpoint").await;
    app.stop().await;

    // The same data directory, now with Defender configured.
    let app = app_synced_with(&sim, dir.path()).await;
    // The evidence is read as text and parsed here: PostgreSQL's jsonb hands back its own
    // spacing and key order.
    let stored: Vec<(bool, String)> = server::on_pool!(&pool, |db| {
        sqlx::query_as(
        "SELECT source_network = TRUE AND source_defender = TRUE, CAST(merge_evidence AS TEXT) \
         FROM endpoint ORDER BY endpoint_id",
    )
    .fetch_all(db)
    .await
    .unwrap()
    });
    let joined_by_mac: Vec<Value> = stored
        .iter()
        .filter(|(both, _)| *both)
        .map(|(_, text)| serde_json::from_str::<Value>(text).unwrap())
        .filter(|e| {
            e["joins"]
                .as_array()
                .is_some_and(|joins| joins.iter().any(|j| j["rule"] == "mac"))
        })
        .collect();
    assert!(
        !joined_by_mac.is_empty(),
        "some discovered endpoints matched by MAC"
    );
    let evidence = &joined_by_mac[0];
    assert_eq!(evidence["v"], "1", "{evidence:#}");
    assert!(evidence["joins"][0]["machine_id"].is_string());
    assert!(evidence["joins"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("of a physical adapter"));
    let total = count(&pool, "endpoint").await;
    assert!(total >= discovered);

    let report = server::endpoints::on_defender_disabled(&server::db::Stores::new(&pool))
        .await
        .unwrap();
    assert_eq!(report.dynamic_profiles, 0);
    assert_eq!(count(&pool, "endpoint").await, total, "every endpoint kept");
    let (dynamic,): (i64,) = server::on_pool!(&pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM profile WHERE origin = 'defender'"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(dynamic, 0);
    let (still_dynamic,): (i64,) = server::on_pool!(&pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM endpoint_assessment WHERE profile_name LIKE '⇋ %'"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(still_dynamic, 0);
    let (profiled,): (i64,) = server::on_pool!(&pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM endpoint_assessment WHERE profile_name IS NOT NULL"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert!(profiled > 0, "standard profiles assigned");

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_nmap_file_changes_nothing_and_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let err = server::endpoints::import_nmap(
        &server::db::Stores::new(&app.pool),
        b"<nmaprun><host><address addr=",
        Default::default(),
    )
    .await
    .unwrap_err();
    assert!(!err.to_string().is_empty());
    assert_eq!(count(&app.pool, "endpoint").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_sync_reports_every_page_and_the_remodel_while_it_runs() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let recording = support::record_progress(&app);
    configure(&app, &sim).await;
    let seen = recording.await.unwrap();
    let control = sim.control();
    let machines = control.machine_count() as u64;

    // Machines are counted first, so their bar has a total, and every page moves it on.
    let listing: Vec<&SyncProgress> = seen.iter().filter(|p| p.phase == "machines").collect();
    assert!(listing.len() >= 2, "one update per page: {listing:?}");
    assert!(listing
        .iter()
        .all(|p| p.running && p.total == Some(machines)));
    assert!(
        listing
            .windows(2)
            .all(|w| w[0].pages < w[1].pages && w[0].done < w[1].done),
        "{listing:?}"
    );
    assert!(
        listing
            .iter()
            .any(|p| p.done > 0 && p.done < machines && p.percent.is_some_and(|pc| pc < 100)),
        "a determinate bar part way: {listing:?}"
    );
    // Listings without a known total still count their items page by page.
    let pages_of = |phase: &str| seen.iter().filter(|p| p.phase == phase).count();
    for phase in [
        "vulnerabilities",
        "machine vulnerabilities",
        "alerts",
        "applying",
    ] {
        assert!(pages_of(phase) > 0, "no {phase} update: {seen:?}");
    }
    assert!(seen
        .iter()
        .filter(|p| p.phase == "machine vulnerabilities")
        .all(|p| p.total.is_none() && p.percent.is_none()));

    // The re-model at the end reports endpoints done of all of them.
    let endpoints = count(&app.pool, "endpoint").await as u64;
    let remodel: Vec<&SyncProgress> = seen.iter().filter(|p| p.phase == "re-modelling").collect();
    assert!(!remodel.is_empty(), "{seen:?}");
    assert!(remodel.iter().all(|p| p.total == Some(endpoints)));

    let last = seen.last().unwrap();
    assert!(!last.running, "{last:?}");
    assert_eq!(last.machines, machines);
    assert_eq!(last.vulnerabilities, control.vulnerability_count() as u64);
    assert_eq!(
        last.machine_vulnerabilities,
        control.machine_vulnerability_count() as u64
    );
    assert_eq!(last.alerts, control.alert_count() as u64);
    assert!(last.pages >= 4, "{last:?}");
    assert!(last.last_outcome.is_some());

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_full_remodel_reports_progress_writes_only_changes_and_anyone_can_follow_it() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_synced_with(&sim, dir.path()).await;
    let endpoints = count(&app.pool, "endpoint").await as usize;

    let steps = std::sync::Mutex::new(Vec::new());
    let report = server::endpoints::remodel_all_with_progress(
        &server::db::Stores::new(&app.pool),
        &|step| steps.lock().unwrap().push(step),
    )
    .await
    .unwrap();
    let steps = steps.into_inner().unwrap();
    let all = |done| RemodelProgress {
        done,
        total: endpoints,
    };
    assert_eq!(steps.first(), Some(&all(0)), "{steps:?}");
    assert_eq!(steps.last(), Some(&all(endpoints)), "{steps:?}");
    assert!(
        steps.windows(2).all(|w| w[0].done <= w[1].done),
        "{steps:?}"
    );
    // The sync's own re-model stored the same result: nothing to write.
    assert_eq!((report.endpoints, report.changed), (endpoints, 0));

    // Configuration > Profiles: an operator starts it, any signed-in role follows it.
    let admin = app.admin().await;
    let res = app.call(&admin, "profiles/remodel", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let analyst = app.user_with_role("analyst-remodel", "Analyst").await;
    let res = app.call(&analyst, "profiles/remodel_progress", &[]).await;
    assert_eq!(res.status(), 200);
    let mut status: Value = res.json().await.unwrap();
    // The run that ended: when, what it did (nothing changed since the sync's own).
    let last = status["last"].take();
    assert_eq!(
        status,
        json!({"running": false, "processed": endpoints, "total": endpoints, "last": null})
    );
    assert!(last["finished_at"].is_string(), "{last:#}");
    assert!(last["elapsed_ms"].is_u64(), "{last:#}");
    assert_eq!(last["endpoints"], endpoints);
    assert_eq!(last["changed"], 0);
    assert_eq!(last["error"], Value::Null);
    // And the page says so, to a browser without JavaScript too.
    let html = admin
        .get(app.url("/configuration/profiles"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let said = format!(": {endpoints} endpoints re-modelled, 0 changed, in ");
    assert!(html.contains(&said), "{said} not in {html}");
    assert_eq!(
        app.call(&analyst, "profiles/remodel", &[]).await.status(),
        403
    );
    let anonymous = support::browser();
    assert_eq!(
        app.call(&anonymous, "profiles/remodel_progress", &[])
            .await
            .status(),
        401
    );

    app.stop().await;
    sim.shutdown().await;
}

/// A browser's open event stream ends when the server stops, instead of holding the graceful
/// drain (which waits for every response to finish) forever.
#[tokio::test]
async fn an_open_event_stream_ends_when_the_server_stops() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let mut events = admin.get(app.url("/api/sync/events")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    let first = events
        .chunk()
        .await
        .unwrap()
        .expect("the current state first");
    assert!(String::from_utf8_lossy(&first).contains("data:"));

    let stopped = tokio::time::timeout(std::time::Duration::from_secs(5), app.stop()).await;
    assert!(stopped.is_ok(), "the shutdown waited for the event stream");
    let rest = tokio::time::timeout(std::time::Duration::from_secs(5), events.chunk())
        .await
        .expect("the stream is over");
    assert!(matches!(rest, Ok(None) | Err(_)), "{rest:?}");
}
