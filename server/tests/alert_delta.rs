//! Alerts listed by change, against the simulator over real HTTP: the first run lists every
//! alert; later runs list only those Defender changed since the latest one stored (less an
//! overlap), so an analyst's change in the portal arrives and the rest is not listed again; a
//! full listing comes back once a day and when the import allow-list changes. The journal says
//! where each listing started.

#[path = "support/app.rs"]
mod support;

use server::db::Pool;
use server::sim::{self, RunningSim, SimConfig, SimControl};
use support::seeded_tenant::{defender_form, post_form};
use support::TestApp;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Several syncs in a row stay clear of the per-minute API limit.
async fn simulator() -> RunningSim {
    let mut config = SimConfig::for_tests(40);
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn sync(app: &TestApp) {
    let outcome = app.sync.trigger("test").wait().await;
    assert!(outcome.ok, "{outcome:?}");
}

/// The last run's journal: alerts listed and where the listing started.
async fn last_run(pool: &Pool) -> (i64, Option<String>) {
    server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT alerts, alerts_since FROM sync_run ORDER BY sync_run_id DESC LIMIT 1"
    )
    .fetch_one(db)
    .await
    .unwrap())
}

async fn stored_status(pool: &Pool, alert_id: &str) -> (String, Option<String>) {
    server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT status, resolved_time FROM defender_alert WHERE alert_id = $1"
    )
    .bind(alert_id)
    .fetch_one(db)
    .await
    .unwrap())
}

async fn stored_alerts(pool: &Pool) -> i64 {
    server::on_pool!(pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM defender_alert"
    )
    .fetch_one(db)
    .await
    .unwrap())
}

/// Some alerts' times come without their zone (§9.21); they are UTC.
fn parse(text: &str) -> OffsetDateTime {
    let zoned = if text.ends_with('Z') {
        text.to_owned()
    } else {
        format!("{text}Z")
    };
    OffsetDateTime::parse(&zoned, &Rfc3339).unwrap()
}

/// `lastUpdateTime` of every alert as the simulator serves it now.
fn updated_times(control: &SimControl) -> Vec<OffsetDateTime> {
    control
        .alerts()
        .iter()
        .map(|a| parse(a["lastUpdateTime"].as_str().unwrap()))
        .collect()
}

/// Where a delta after these alerts starts: the latest time, to the second, less ten minutes.
fn delta_start(times: &[OffsetDateTime]) -> OffsetDateTime {
    let latest = times.iter().max().unwrap();
    latest.replace_nanosecond(0).unwrap() - time::Duration::minutes(10)
}

fn listed_from(times: &[OffsetDateTime], since: OffsetDateTime) -> i64 {
    times.iter().filter(|t| **t >= since).count() as i64
}

fn text(at: OffsetDateTime) -> String {
    server::db::format_time(at)
}

#[tokio::test]
async fn after_a_full_listing_only_changed_alerts_are_listed_and_the_journal_says_from_when() {
    let sim = simulator().await;
    let control = sim.control();
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let res = post_form(
        &app,
        &admin,
        "integrations/defender/save",
        &defender_form(&sim, true),
    )
    .await;
    assert_eq!(res.status(), 200);
    app.wait_for_sync(&admin).await;
    let total = control.alert_count() as i64;
    assert!(total > 10, "the tenant has alerts to list: {total}");

    // The first run lists every alert.
    assert_eq!(last_run(&app.pool).await, (total, None));
    assert_eq!(stored_alerts(&app.pool).await, total);

    // Nothing changed: only the alerts within the overlap of the latest are listed again.
    let times = updated_times(&control);
    let since = delta_start(&times);
    sync(&app).await;
    assert_eq!(
        last_run(&app.pool).await,
        (listed_from(&times, since), Some(text(since)))
    );
    assert!(listed_from(&times, since) < total);

    // An analyst resolves one alert and takes another in the portal.
    let resolved = control.update_alert(0, "Resolved").unwrap();
    let taken = control.update_alert(1, "InProgress").unwrap();
    let times = updated_times(&control);
    sync(&app).await;
    assert_eq!(
        last_run(&app.pool).await,
        (listed_from(&times, since), Some(text(since))),
        "the cursor was the latest stored time; the two changes lie past it"
    );
    let (status, resolved_time) = stored_status(&app.pool, &resolved).await;
    assert_eq!(status, "Resolved");
    assert!(resolved_time.is_some());
    assert_eq!(stored_status(&app.pool, &taken).await.0, "InProgress");
    assert_eq!(stored_alerts(&app.pool).await, total, "nothing lost");

    // The cursor moved to the changes: now only they are listed.
    let since = delta_start(&times);
    sync(&app).await;
    assert_eq!(last_run(&app.pool).await, (2, Some(text(since))));

    // A day after the last full listing, every alert is listed again.
    let day_ago = text(OffsetDateTime::now_utc() - time::Duration::hours(25));
    server::on_pool!(&app.pool, |db| {
        sqlx::query("UPDATE sync_cursor SET value = $1 WHERE name LIKE 'alerts.full:%'")
            .bind(&day_ago)
            .execute(db)
            .await
            .unwrap();
    });
    sync(&app).await;
    assert_eq!(last_run(&app.pool).await, (total, None));
    sync(&app).await;
    assert_eq!(last_run(&app.pool).await, (2, Some(text(since))));

    // A new import allow-list lists every alert once: its machines' older alerts are needed.
    let group = control
        .machines()
        .into_iter()
        .find_map(|m| m.rbac_group_name.filter(|_| m.rbac_group_id != 0))
        .unwrap();
    let mut form = defender_form(&sim, true);
    form.push(("import_groups", group));
    let res = post_form(&app, &admin, "integrations/defender/save", &form).await;
    assert_eq!(res.status(), 200);
    sync(&app).await;
    let (listed, since) = last_run(&app.pool).await;
    assert_eq!(since, None);
    assert!(listed > 0 && listed < total, "only the group's: {listed}");

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_delta_that_fails_moves_no_cursor_and_the_next_run_lists_the_same_changes() {
    let sim = simulator().await;
    let control = sim.control();
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let res = post_form(
        &app,
        &admin,
        "integrations/defender/save",
        &defender_form(&sim, true),
    )
    .await;
    assert_eq!(res.status(), 200);
    app.wait_for_sync(&admin).await;
    let since = delta_start(&updated_times(&control));
    let open = control
        .alerts()
        .iter()
        .position(|a| a["status"] != "Resolved")
        .unwrap();
    let before = stored_status(&app.pool, control.alerts()[open]["id"].as_str().unwrap()).await;
    let changed = control.update_alert(open, "Resolved").unwrap();
    assert_ne!(before.0, "Resolved", "the change is a change");

    // Defender fails the delta past the client's retries: nothing of it is applied.
    control.set_faults(sim::Faults {
        scope: Some("alerts".into()),
        server_error_next: 50,
        ..sim::Faults::default()
    });
    let outcome = app.sync.trigger("test").wait().await;
    assert!(!outcome.ok, "{outcome:?}");
    assert!(outcome.summary.starts_with("alerts:"), "{outcome:?}");
    assert_eq!(stored_status(&app.pool, &changed).await, before);

    // The next run lists from the same point, so the change arrives.
    control.set_faults(sim::Faults::default());
    let times = updated_times(&control);
    sync(&app).await;
    assert_eq!(
        last_run(&app.pool).await,
        (listed_from(&times, since), Some(text(since)))
    );
    assert_eq!(stored_status(&app.pool, &changed).await.0, "Resolved");

    app.stop().await;
    sim.shutdown().await;
}
