//! Several replicas on one database: two applications on one SQLite file (as two processes
//! behind a load balancer would be), each on its own port. Sessions made on one hold on the
//! other; exactly one leads the background duties and hands over on a clean stop; two
//! simultaneous "Sync now" give one run; an action sent through the follower is sent once
//! and followed to its end by the leader; an import through one shows at once in the other's
//! endpoint list. The SIGKILL of a leader mid-sync is in
//! `fault_matrix/killed.rs` (it needs real processes).

#[path = "support/app.rs"]
mod support;

use std::time::Duration;

use serde_json::Value;
use server::leadership::LeaseTiming;
use server::sim::{self, Faults, RunningSim, SimApp, SimConfig};
use server::startup::Tuning;
use support::TestApp;

const SECRET: &str = "Replica~Secret.Value-0815";
const TENANT: &str = "3b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const CLIENT: &str = "4c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e";
const MACHINES: usize = 20;

/// Short terms, so a hand-over is quick; renewals often enough that a loaded machine keeps
/// its leader.
fn tuning() -> Tuning {
    Tuning {
        lease_timing: LeaseTiming {
            term: Duration::from_secs(3),
            renew_every: Duration::from_millis(250),
        },
        ..support::tuning()
    }
}

async fn replica(dir: &std::path::Path) -> TestApp {
    TestApp::spawn_with(
        support::settings(dir, Some(support::ADMIN_PASSWORD)),
        tuning(),
    )
    .await
}

/// Two replicas on one database; the first started leads.
async fn pair(dir: &std::path::Path) -> (TestApp, TestApp) {
    let a = replica(dir).await;
    let b = replica(dir).await;
    assert!(a.leader.is_leading(), "the first replica leads");
    assert!(!b.leader.is_leading(), "the second follows");
    (a, b)
}

async fn simulator() -> RunningSim {
    let mut config = SimConfig::for_tests(MACHINES);
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

async fn runs(app: &TestApp) -> Vec<(i64, String, String)> {
    server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT sync_run_id, reason, outcome FROM sync_run ORDER BY sync_run_id"
    )
    .fetch_all(db)
    .await
    .unwrap())
}

async fn wait_until(what: &str, done: impl AsyncFn() -> bool) {
    let started = tokio::time::Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not within 30 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_session_made_on_one_replica_is_valid_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path()).await;
    // One cookie jar for both, as a browser behind a load balancer has.
    let browser = a.admin().await;
    let res = b.call(&browser, "users/list", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let users: Value = res.json().await.unwrap();
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users:#}");

    // Signing out on B ends the session on A too.
    let res = b.call(&browser, "auth/logout", &[]).await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let res = a.call(&browser, "users/list", &[]).await;
    assert_eq!(res.status(), 401);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn one_replica_leads_and_a_clean_stop_hands_the_duties_over() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path()).await;
    // Many renewals later, still exactly one leader.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(a.leader.is_leading() && !b.leader.is_leading());

    let handed = tokio::time::Instant::now();
    a.stop().await;
    wait_until("the follower takes over", async || b.leader.is_leading()).await;
    // A clean stop gives the lease up: no waiting for the 3 s term.
    assert!(
        handed.elapsed() < Duration::from_secs(3),
        "{:?}",
        handed.elapsed()
    );

    // A replica started now follows the new leader.
    let c = replica(dir.path()).await;
    assert!(!c.leader.is_leading());
    c.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn two_simultaneous_sync_now_on_two_replicas_give_one_run() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path()).await;
    configure(&b, &sim).await;
    // Enabling asked for a first sync; on the follower it goes to the leader.
    let first = b.sync.trigger("test").wait().await;
    assert!(first.ok, "{first:?}");
    let before = runs(&a).await;
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0].2, "Succeeded");

    // "Sync now" on the follower alone: the leader runs it.
    let (admin_a, admin_b) = (a.admin().await, b.admin().await);
    let res = b.call(&admin_b, "sync/now", &[]).await;
    assert_eq!(res.status(), 200);
    wait_until("the leader runs the follower's sync", async || {
        let all = runs(&a).await;
        all.len() == 2 && all[1].2 != "Running"
    })
    .await;
    let before = runs(&a).await;
    assert_eq!(before[1].1, "sync now", "{before:?}");
    assert_eq!(before[1].2, "Succeeded", "{before:?}");

    // Slow enough that both requests meet one run in progress.
    sim.control().set_faults(Faults {
        delay_ms: 150,
        ..Faults::default()
    });
    let (on_a, on_b) = tokio::join!(
        a.call(&admin_a, "sync/now", &[]),
        b.call(&admin_b, "sync/now", &[])
    );
    assert_eq!(on_a.status(), 200);
    assert_eq!(on_b.status(), 200);
    wait_until("the run finishes", async || {
        let all = runs(&a).await;
        all.len() > 2 && all.iter().all(|r| r.2 != "Running")
    })
    .await;
    // Give a second run (the bug) time to appear: requests are read every 0.5 s.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = runs(&a).await;
    assert_eq!(after.len(), 3, "one new run: {after:?}");
    assert_eq!(after[2].2, "Succeeded", "{after:?}");
    let (pending,): (i64,) = server::on_pool!(&a.pool, |db| sqlx::query_as(
        "SELECT COUNT(*) FROM duty_request"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!(pending, 0, "no request left over for a later run");
    b.stop().await;
    a.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_action_sent_through_the_follower_is_sent_once_and_followed_by_the_leader() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path()).await;
    configure(&a, &sim).await;
    let outcome = a.sync.trigger("test").wait().await;
    assert!(outcome.ok, "{outcome:?}");

    let machine = sim
        .control()
        .find_machine(|m| {
            m.onboarding_status == "Onboarded"
                && m.health_status == "Active"
                && m.os_platform.as_deref() == Some("Windows11")
                && !m.is_potential_duplication
        })
        .expect("an onboarded Windows 11 machine");
    let (endpoint_id,): (i64,) = server::on_pool!(&a.pool, |db| sqlx::query_as(
        "SELECT endpoint_id FROM endpoint WHERE defender_machine_id = $1"
    )
    .bind(&machine.id)
    .fetch_one(db)
    .await
    .unwrap());
    let endpoint_id = endpoint_id.to_string();
    let admin = b.admin().await;
    let res = b
        .call(
            &admin,
            "actions/submit",
            &[
                ("endpoint_id", &endpoint_id),
                ("machine_id", &machine.id),
                ("kind", "RunAntiVirusScan"),
                ("scope", "Quick"),
                ("comment", "Scan after a phishing report"),
                ("confirm", ""),
                ("request_key", &uuid::Uuid::new_v4().to_string()),
            ],
        )
        .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body:#}");

    // Followed to its end: both replicas read it from the one database.
    for app in [&a, &b] {
        let admin = app.admin().await;
        wait_until("the action is closed", async || {
            let panel: Value = app
                .call(
                    &admin,
                    "actions/for_endpoint",
                    &[("endpoint_id", &endpoint_id)],
                )
                .await
                .json()
                .await
                .unwrap();
            panel["history"][0]["status"] == "Succeeded"
        })
        .await;
    }
    assert_eq!(sim.control().action_count(), 1, "sent once");
    assert!(a.leader.is_leading() && !b.leader.is_leading());
    b.stop().await;
    a.stop().await;
    sim.shutdown().await;
}

/// How many endpoints the list of `app` shows.
async fn listed(app: &TestApp, client: &reqwest::Client) -> u64 {
    let res = app
        .call(
            client,
            "endpoints/list",
            &support::endpoint_list_form("", "50"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["total"].as_u64().unwrap()
}

#[tokio::test]
async fn an_import_through_one_replica_shows_at_once_in_the_others_list() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path()).await;
    let admin = a.admin().await;
    // Both replicas hold a snapshot of the empty inventory.
    assert_eq!(listed(&a, &admin).await, 0);
    assert_eq!(listed(&b, &admin).await, 0);

    let xml = sim.control().local_network_xml(6);
    let part = reqwest::multipart::Part::bytes(xml.into_bytes()).file_name("scan.xml");
    let res = admin
        .post(a.url("/api/endpoints/import"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // The follower never saw the import, yet its very next list has all of it.
    let on_b = listed(&b, &admin).await;
    let on_a = listed(&a, &admin).await;
    assert!(on_a > 0, "the import added endpoints");
    assert_eq!(on_b, on_a);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn the_leaders_sync_progress_reaches_a_browser_on_the_follower() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path()).await;
    // What the follower's event streams (`/api/sync/events`) show, from now to a finished run.
    let recording = support::record_progress(&b);
    // Enabling the integration on the leader starts its first sync there.
    configure(&a, &sim).await;
    let seen = tokio::time::timeout(Duration::from_secs(30), recording)
        .await
        .expect("the follower showed the leader's run to its end")
        .unwrap();
    // Its last state is the leader's own, to the letter.
    let last = seen.last().unwrap();
    assert_eq!(last, &a.sync.current_progress(), "{seen:?}");
    assert_eq!(last.machines, MACHINES as u64, "{seen:?}");
    assert!(
        last.last_outcome
            .as_deref()
            .unwrap_or_default()
            .starts_with("20 machines"),
        "{seen:?}"
    );
    let own = runs(&b).await;
    assert_eq!(own.len(), 1, "one run, the leader's: {own:?}");
    b.stop().await;
    a.stop().await;
}

/// Configuration > Profiles' button on `app`: the run's report.
async fn remodel(app: &TestApp, client: &reqwest::Client) -> Value {
    let res = app.call(client, "profiles/remodel", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// Every re-model run recorded: state and the replica that ran it.
async fn remodel_runs(app: &TestApp) -> Vec<(String, Option<String>)> {
    server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT state, runner FROM remodel_run ORDER BY remodel_run_id"
    )
    .fetch_all(db)
    .await
    .unwrap())
}

#[tokio::test]
async fn a_remodel_asked_of_both_replicas_at_once_runs_once_on_the_leader() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path()).await;
    let (admin_a, admin_b) = (a.admin().await, b.admin().await);
    // Enough endpoints that a run lasts longer than two requests take to arrive.
    let xml = sim.control().local_network_xml(1500);
    let part = reqwest::multipart::Part::bytes(xml.into_bytes()).file_name("scan.xml");
    let res = admin_b
        .post(b.url("/api/endpoints/import"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let endpoints = listed(&a, &admin_a).await;
    assert!(endpoints > 1500, "{endpoints}");

    // Asked of the follower alone: the leader runs it and the follower gets its report.
    let report = remodel(&b, &admin_b).await;
    assert_eq!(report["endpoints"].as_u64(), Some(endpoints), "{report}");
    let leader = a.leader.replica().to_owned();
    assert_eq!(
        remodel_runs(&a).await,
        vec![("finished".to_owned(), Some(leader.clone()))]
    );

    // Asked of both at once: one run, and both answers are its report.
    let (on_a, on_b) = tokio::join!(remodel(&a, &admin_a), remodel(&b, &admin_b));
    assert_eq!(on_a, on_b, "both answers come from one run");
    let runs = remodel_runs(&a).await;
    assert_eq!(runs.len(), 2, "one new run: {runs:?}");
    assert_eq!(runs[1], ("finished".to_owned(), Some(leader)));

    // The follower's progress bar shows the leader's run to its end.
    let res = b.call(&admin_b, "profiles/remodel_progress", &[]).await;
    assert_eq!(res.status(), 200);
    let mut status: Value = res.json().await.unwrap();
    let last = status["last"].take();
    assert_eq!(
        status,
        serde_json::json!({"running": false, "processed": endpoints, "total": endpoints, "last": null})
    );
    // And how it ended: the run both answers reported.
    assert_eq!(last["endpoints"], endpoints);
    assert_eq!(last["elapsed_ms"], on_a["elapsed_ms"]);
    assert_eq!(last["error"], Value::Null);
    b.stop().await;
    a.stop().await;
    sim.shutdown().await;
}
