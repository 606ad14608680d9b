//! The `inactive_after_days` setting: discovery imports, Defender syncs and the server's own
//! periodic check decide inactivity with it, and out-of-range values stop the server before
//! it starts.

#[path = "support/app.rs"]
mod support;

use std::path::Path;

use server::config::{Cli, Settings};
use server::sim::{self, SimConfig};
use support::TestApp;

/// The harness's settings, with the threshold given as the `--inactive-after-days` flag.
/// Only syncs and imports decide inactivity here, so each step shows which one did.
async fn spawn(dir: &Path, days: Option<u32>) -> TestApp {
    spawn_checking(dir, days, None).await
}

/// [`spawn`], with the server's own check every `period` (first at start-up) when given.
async fn spawn_checking(
    dir: &Path,
    days: Option<u32>,
    period: Option<std::time::Duration>,
) -> TestApp {
    let settings = Settings::from_cli(Cli {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(dir.to_owned()),
        admin_password: Some(support::ADMIN_PASSWORD.into()),
        site_root: Some(dir.join("site")),
        log_filter: Some("warn".into()),
        inactive_after_days: days,
        ..Cli::default()
    })
    .unwrap();
    let tuning = server::startup::Tuning {
        inactive_check_period: period,
        ..support::tuning()
    };
    TestApp::spawn_with(settings, tuning).await
}

/// Posts one sensor observation of `mac`, seen `days_ago` days ago.
async fn observe(app: &TestApp, token: &str, mac: &str, ip: &str, days_ago: i64) {
    let at =
        server::db::format_time(time::OffsetDateTime::now_utc() - time::Duration::days(days_ago));
    let body = serde_json::json!({
        "sensor": "threshold-test",
        "observations": [{ "mac": mac, "ip": ip, "observed_at": at }],
    });
    let res = reqwest::Client::new()
        .post(app.url("/api/ingest/sensor"))
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn inactive(app: &TestApp, mac: &str) -> bool {
    server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT inactive FROM endpoint WHERE mac = $1"
    )
    .bind(mac)
    .fetch_one(db)
    .await
    .unwrap())
}

/// A sensor token, and through it [`OLD`] seen 20 days ago and [`RECENT`] 5 days ago.
async fn observe_old_and_recent(app: &TestApp) -> String {
    let (_, token) = server::endpoints::create_api_token(&app.pool, "threshold", "admin")
        .await
        .unwrap();
    observe(app, &token, OLD.0, OLD.1, 20).await;
    observe(app, &token, RECENT.0, RECENT.1, 5).await;
    token
}

/// The endpoint list's first page for a text search, as the UI asks for it.
async fn list_page(app: &TestApp, client: &reqwest::Client, text: &str) -> serde_json::Value {
    app.call(
        client,
        "endpoints/list",
        &support::endpoint_list_form(text, "50"),
    )
    .await
    .json()
    .await
    .unwrap()
}

/// Waits up to 10 s for `holds`, asking every 20 ms; fails with `what` otherwise.
async fn eventually<F, Fut>(what: &str, holds: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let wait = async {
        while !holds().await {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .expect(what);
}

/// Clears the inactive flag behind the server's back, as if it had never been decided.
async fn clear_flag(app: &TestApp, mac: &str) {
    server::on_pool!(&app.pool, |db| {
        sqlx::query("UPDATE endpoint SET inactive = FALSE WHERE mac = $1")
            .bind(mac)
            .execute(db)
            .await
            .unwrap();
    });
}

// Locally administered MACs and TEST-NET addresses: nothing the simulator's machines use.
const OLD: (&str, &str) = ("02:00:00:00:00:14", "192.0.2.20");
const RECENT: (&str, &str) = ("02:00:00:00:00:05", "192.0.2.5");
const NEW: (&str, &str) = ("02:00:00:00:00:00", "192.0.2.1");

#[tokio::test]
async fn imports_and_syncs_mark_inactive_by_the_configured_threshold() {
    let dir = tempfile::tempdir().unwrap();

    // Default (30 days): seen 20 and 5 days ago are both active.
    let app = spawn(dir.path(), None).await;
    let token = observe_old_and_recent(&app).await;
    assert!(!inactive(&app, OLD.0).await);
    assert!(!inactive(&app, RECENT.0).await);
    app.stop().await;

    // 10 days: a Defender sync marks the one seen 20 days ago inactive.
    let app = spawn(dir.path(), Some(10)).await;
    let sim = sim::start(SimConfig::for_tests(12), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let admin = app.admin().await;
    let s = sim.app();
    let res = app
        .call(
            &admin,
            "integrations/defender/save",
            &[
                ("tenant_id", s.tenant_id.as_str()),
                ("client_id", s.client_id.as_str()),
                ("client_secret", s.client_secret.as_str()),
                ("cloud", "commercial"),
                ("custom_login_url", sim.base_url()),
                ("custom_api_url", sim.base_url()),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let outcome = app.sync.trigger("test").wait().await;
    assert!(outcome.ok, "{outcome:?}");
    assert!(inactive(&app, OLD.0).await, "unseen for 20 days > 10");
    assert!(!inactive(&app, RECENT.0).await, "unseen for 5 days < 10");
    // The list shows what the flag says.
    let page = list_page(&app, &admin, OLD.1).await;
    assert_eq!(page["rows"][0]["inactive"], true, "{page}");
    app.stop().await;
    sim.shutdown().await;

    // 3 days: a discovery import re-decides for every endpoint, not only those it saw.
    let app = spawn(dir.path(), Some(3)).await;
    observe(&app, &token, NEW.0, NEW.1, 0).await;
    assert!(inactive(&app, OLD.0).await);
    assert!(inactive(&app, RECENT.0).await, "unseen for 5 days > 3");
    assert!(!inactive(&app, NEW.0).await);
    app.stop().await;
}

/// With no sync and no import at all (Defender off, discovery stopped), the server's own
/// check still ages endpoints out, at start-up and then every period, and the list follows.
#[tokio::test]
async fn endpoints_age_out_without_any_sync_or_import() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn(dir.path(), None).await;
    observe_old_and_recent(&app).await;
    app.stop().await;

    // Restarted with 10 days: the check at start-up flags the one unseen for 20 days.
    let app = spawn_checking(
        dir.path(),
        Some(10),
        Some(std::time::Duration::from_secs(3600)),
    )
    .await;
    eventually(
        "the start-up check flags the endpoint unseen for 20 days",
        || inactive(&app, OLD.0),
    )
    .await;
    assert!(!inactive(&app, RECENT.0).await, "unseen for 5 days < 10");
    clear_flag(&app, OLD.0).await;
    app.stop().await;

    // Every period, not only at start-up, and the list follows. Once the start-up check has
    // flagged it again, the flag is cleared behind the server's back: the list built then
    // says active, and after the next check (2 s later) it must say inactive again.
    let period = std::time::Duration::from_secs(2);
    let app = spawn_checking(dir.path(), Some(10), Some(period)).await;
    eventually("the start-up check runs", || inactive(&app, OLD.0)).await;
    let admin = app.admin().await;
    let listed_inactive =
        || async { list_page(&app, &admin, OLD.1).await["rows"][0]["inactive"] == true };
    clear_flag(&app, OLD.0).await;
    assert!(
        !listed_inactive().await,
        "the list as the database says now"
    );
    eventually(
        "the next check flags it again and the list shows it",
        || async { inactive(&app, OLD.0).await && listed_inactive().await },
    )
    .await;
    app.stop().await;
}

#[test]
fn out_of_range_thresholds_stop_the_server_from_flag_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let run = |flag: Option<&str>, env: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--log-filter", "warn"])
            .env_remove("EA_INACTIVE_AFTER_DAYS");
        if let Some(days) = flag {
            command.args(["--inactive-after-days", days]);
        }
        if let Some(days) = env {
            command.env("EA_INACTIVE_AFTER_DAYS", days);
        }
        // A one-off command, so that settings wrongly accepted end in "cannot read", not in a
        // server that never exits.
        command
            .args(["import-nmap", "no-such-file.xml"])
            .output()
            .unwrap()
    };
    for (flag, env, shown) in [
        (Some("0"), None, "got 0"),
        (None, Some("3651"), "got 3651"),
        // A flag wins over the environment, so its bad value is the one refused.
        (Some("5000"), Some("7"), "got 5000"),
    ] {
        let out = run(flag, env);
        assert!(!out.status.success(), "{flag:?} {env:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("inactive_after_days must be between 1 and 3650")
                && stderr.contains(shown),
            "{stderr}"
        );
    }
}
