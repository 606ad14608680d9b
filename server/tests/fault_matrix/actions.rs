//! Machine-action faults: an action Defender never finishes, and the server killed with
//! SIGKILL while it follows one. The shared harness's rows must come out unchanged; the
//! action rows are checked on their own.

use std::time::Duration;

use reqwest::Client;
use serde_json::Value;
use server::actions::ActionTiming;
use server::sim::{self, Faults, ForcedOutcome, MachineInfo, RunningSim};
use server::startup::Tuning;

use crate::harness::{
    assert_integrity, defender_form, open_database, sim_config, Fixture, Rows, CLIENT, MACHINES,
    SECRET,
};
use crate::process::{ServerOptions, ServerProcess};
use crate::support;

fn windows(sim: &RunningSim) -> MachineInfo {
    sim.control()
        .find_machine(|m| {
            m.onboarding_status == "Onboarded"
                && m.health_status == "Active"
                && m.os_platform.as_deref() == Some("Windows11")
                && !m.is_potential_duplication
        })
        .expect("an onboarded Windows 11 machine")
}

async fn endpoint_of(pool: &server::db::Pool, machine_id: &str) -> i64 {
    let (id,): (i64,) = server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT endpoint_id FROM endpoint WHERE defender_machine_id = $1"
    )
    .bind(machine_id)
    .fetch_one(db)
    .await
    .unwrap());
    id
}

fn latest(panel: &Value) -> Value {
    panel["history"][0].clone()
}

#[tokio::test]
async fn machine_action_that_never_reaches_a_terminal_state() {
    let tuning = Tuning {
        action_timing: Some(ActionTiming {
            stalled_after: Duration::from_millis(300),
            stalled_interval: Duration::from_secs(1),
            ..ActionTiming::for_tests()
        }),
        ..support::tuning()
    };
    let f = Fixture::synced_with(tuning, Faults::default()).await;
    let m = windows(&f.sim);
    let eid = endpoint_of(&f.app.pool, &m.id).await.to_string();
    f.inject(Faults {
        action_outcome: Some(ForcedOutcome::NeverTerminal),
        ..Faults::default()
    });
    let key = uuid::Uuid::new_v4().to_string();
    let res = f
        .app
        .call(
            &f.admin,
            "actions/submit",
            &[
                ("endpoint_id", &eid),
                ("machine_id", &m.id),
                ("kind", "RunAntiVirusScan"),
                ("scope", "Quick"),
                ("comment", "never ends"),
                ("request_key", &key),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // Shown open, with the reason it is taking long.
    let mut row = Value::Null;
    for _ in 0..200 {
        let res = f
            .app
            .call(&f.admin, "actions/for_endpoint", &[("endpoint_id", &eid)])
            .await;
        row = latest(&res.json().await.unwrap());
        if row["error"]
            .as_str()
            .is_some_and(|e| e.contains("no change"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(row["status"], "InProgress", "{row:#}");
    assert!(
        row["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no change"),
        "{row:#}"
    );
    // The product keeps working: a sync runs and changes nothing.
    f.inject(Faults::default());
    f.sync_succeeds().await;
    let before = f.before;
    f.end_with_rows(before).await;
}

#[tokio::test]
async fn server_killed_with_sigkill_in_the_middle_of_action_polling() {
    let mut config = sim_config();
    config.page_size = 10;
    // Seconds, so the kill lands while the action is open.
    config.action_timings.pickup = Duration::from_millis(1500);
    config.action_timings.complete = Duration::from_millis(1500);
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.env.push(("EA_ACTION_POLL_SECS".into(), "1".into()));
    let mut server = ServerProcess::start_with(options).await;
    let admin = server.admin().await;
    let res = server
        .call(
            &admin,
            "integrations/defender/save",
            &defender_form(&sim, CLIENT, SECRET),
        )
        .await;
    assert_eq!(res.status(), 200);
    let first = server.wait_for_run(&admin, 1).await;
    assert_eq!(first["outcome"], "Succeeded", "{first:#}");
    let db = open_database(&server).await;
    let before = Rows::of(&db).await;
    assert_eq!(before.machines, MACHINES as i64);
    let m = windows(&sim);
    let eid = endpoint_of(&db, &m.id).await.to_string();
    db.close().await;

    let key = uuid::Uuid::new_v4().to_string();
    let name = m.computer_dns_name.clone().unwrap();
    let res = server
        .call(
            &admin,
            "actions/submit",
            &[
                ("endpoint_id", &eid),
                ("machine_id", &m.id),
                ("kind", "Isolate"),
                ("scope", "Full"),
                ("comment", "isolate, then the console dies"),
                ("confirm", &name),
                ("request_key", &key),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let sent: Value = res.json().await.unwrap();
    let defender_id = sent["action"]["defender_action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Polling is under way: the server has asked Defender about the action at least once.
    let started = tokio::time::Instant::now();
    while sim.control().action_status_reads() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no status check"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();

    let db = open_database(&server).await;
    assert_integrity(&db).await;
    assert_eq!(Rows::of(&db).await, before);
    let (status,): (String,) = server::on_pool!(&db, |db| sqlx::query_as(
        "SELECT status FROM machine_action"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert!(
        ["Pending", "InProgress"].contains(&status.as_str()),
        "{status}"
    );
    db.close().await;
    // Defender finishes the action while the console is down.
    while sim.control().action_status(&defender_id).as_deref() != Some("Succeeded") {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let server = server.restart().await;
    let admin: Client = server.admin().await;
    let mut row = Value::Null;
    // The new process (on a new port, so a new replica id) polls once it holds the background
    // lease: at the latest when the killed process's term ends (15 s).
    let restarted = tokio::time::Instant::now();
    while restarted.elapsed() < Duration::from_secs(45) {
        let res = server
            .call(&admin, "actions/for_endpoint", &[("endpoint_id", &eid)])
            .await;
        let panel: Value = res.json().await.unwrap();
        row = latest(&panel);
        if row["status"] == "Succeeded" {
            assert_eq!(panel["isolation"], "Isolated");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(row["status"], "Succeeded", "{row:#}\n{}", server.logs());
    assert_eq!(sim.control().action_count(), 1, "nothing was sent twice");
    let db = open_database(&server).await;
    assert_integrity(&db).await;
    assert_eq!(Rows::of(&db).await, before);
    db.close().await;
    drop(server);
    sim.shutdown().await;
}
