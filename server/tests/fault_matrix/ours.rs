//! Faults on our side, in-process: concurrent triggers, Test Connection during a sync, a full
//! disk and a database that turns read-only under a running server.

use std::str::FromStr;

use server::sim::Faults;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Connection, SqliteConnection};

use crate::harness::{
    assert_integrity, in_listing, on_every_connection, Fixture, Rows, CLIENT, MACHINES,
    MACHINE_LISTING,
};
use crate::small_disk::SmallDisk;
use crate::support;

/// Slow enough that a run is still going while other requests come and go.
fn slow_api() -> Faults {
    Faults {
        delay_ms: 60,
        ..Faults::default()
    }
}

/// Two triggers at once make one run; both callers get its outcome. Then the same over
/// HTTP: two admins press Sync now while a run is going, and no second run starts.
#[tokio::test]
async fn two_sync_triggers_at_once() {
    let fx = Fixture::synced().await;
    let runs = fx.journal().await.len();

    let first = fx.app.sync.trigger("first click");
    let second = fx.app.sync.trigger("second click");
    let (a, b) = tokio::join!(first.wait(), second.wait());
    assert!(a.ok, "{a:?}");
    assert_eq!(a, b, "the second trigger joined the first run");
    let journal = fx.journal().await;
    assert_eq!(journal.len(), runs + 1, "one run: {journal:#?}");
    assert_eq!(journal[0]["reason"], "first click");

    fx.inject(slow_api());
    let running = fx.app.sync.trigger("running");
    let (x, y) = tokio::join!(
        fx.app.call(&fx.admin, "sync/now", &[]),
        fx.app.call(&fx.admin, "sync/now", &[]),
    );
    assert_eq!((x.status().as_u16(), y.status().as_u16()), (200, 200));
    assert!(
        fx.app.sync.is_running(),
        "the run must outlast the two requests for this check to mean anything"
    );
    assert!(running.wait().await.ok);
    let journal = fx.journal().await;
    assert_eq!(journal.len(), runs + 2, "the clicks joined: {journal:#?}");
    assert_eq!(journal[0]["reason"], "running");
    assert_eq!(journal[0]["outcome"], "Succeeded");
    fx.inject(Faults::default());
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Test Connection while a sync is running: both finish, neither disturbs the other.
#[tokio::test]
async fn test_connection_while_a_sync_runs() {
    let fx = Fixture::synced().await;
    let runs = fx.journal().await.len();
    fx.inject(slow_api());
    let run = fx.app.sync.trigger("running");
    let report = fx.test_connection(CLIENT).await;
    assert!(fx.app.sync.is_running(), "the test ran during the sync");
    assert_eq!(report["passed"], true, "{report:#}");
    let outcome = run.wait().await;
    assert!(outcome.ok, "{outcome:?}");
    let journal = fx.journal().await;
    assert_eq!(journal.len(), runs + 1);
    assert_eq!(journal[0]["outcome"], "Succeeded", "{:#}", journal[0]);
    assert_eq!(journal[0]["machines_unchanged"], fx.before.machines);
    fx.inject(Faults::default());
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// The disk fills up just before a sync that brings new machines: on SQLite `max_page_count`
/// pinned at the file's size on every connection of the application's pool, on PostgreSQL
/// the database's tablespace on a disk shrunk to what it holds (`small_disk`). The run fails
/// saying the disk is full, the database stays consistent with the previous data, and once
/// space is back the next run imports the machines.
#[tokio::test]
async fn full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let disk = if support::database::on_postgres() {
        Some(SmallDisk::for_data_dir(dir.path()))
    } else {
        // The database is made with 4 KB pages, as older installations have theirs: with 16
        // KB pages this small tenant's next 18 machines fit in the room the first sync left
        // in its pages, and a file that need not grow never finds the disk full.
        let url = support::settings(dir.path(), None).database_url;
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .page_size(4_096)
            .journal_mode(SqliteJournalMode::Wal);
        SqliteConnection::connect_with(&options)
            .await
            .unwrap()
            .close()
            .await
            .unwrap();
        None
    };
    // A first sync of a quarter of the tenant, so the next one has rows to add.
    let fx = Fixture::synced_in(
        dir,
        support::tuning(),
        in_listing(
            MACHINE_LISTING,
            0,
            Faults {
                listing_limit: Some(MACHINES / 4),
                ..Faults::default()
            },
        ),
    )
    .await;
    assert_eq!(fx.before.machines, (MACHINES / 4) as i64);
    let pool = &fx.app.pool;
    match &disk {
        Some(disk) => disk.fill(),
        None => {
            let (pages,): (i64,) = server::on_pool!(pool, |db| sqlx::query_as("PRAGMA page_count")
                .fetch_one(db)
                .await
                .unwrap());
            on_every_connection(pool, &format!("PRAGMA max_page_count = {pages}")).await;
        }
    }

    let outcome = fx.sync().await;
    assert!(!outcome.ok, "{outcome:?}");
    assert!(outcome.summary.contains("full"), "{outcome:?}");
    let run = fx.last_run().await;
    assert_eq!(run["outcome"], "Failed", "{run:#}");
    assert!(
        run["error"].as_str().unwrap().contains("disk is full"),
        "{run:#}"
    );
    assert_eq!(fx.integration().await["state"], "Error");
    assert_integrity(pool).await;
    assert_eq!(fx.rows().await, fx.before);

    match &disk {
        Some(disk) => disk.free(),
        None => on_every_connection(pool, "PRAGMA max_page_count = 1073741823").await,
    }
    let run = fx.sync_succeeds().await;
    assert_eq!(run["machines_added"], (MACHINES - MACHINES / 4) as i64);
    let endpoints = fx.rows().await.endpoints;
    assert!(endpoints > fx.before.endpoints);
    let expected = Rows::of_sim(&fx.sim, endpoints);
    fx.end_with_rows(expected).await;
}

/// The database turns read-only under the running server: every write fails, with
/// SQLITE_READONLY as when the filesystem is remounted read-only, or on PostgreSQL as when
/// the server's sessions become read-only (a primary demoted to a standby). The journal
/// cannot record anything, so the run's outcome, which the console follows live, carries the
/// error. The data stays consistent, and the server syncs again once it can write.
#[tokio::test]
async fn database_turns_read_only_at_runtime() {
    let fx = Fixture::synced().await;
    let runs = fx.journal().await.len();
    let pool = &fx.app.pool;
    let (read_only, writable, refusal) = match pool {
        server::db::Pool::Sqlite(_) => (
            "PRAGMA query_only = ON",
            "PRAGMA query_only = OFF",
            "readonly",
        ),
        server::db::Pool::Postgres(_) => (
            "SET default_transaction_read_only = on",
            "SET default_transaction_read_only = off",
            "read-only transaction",
        ),
    };
    on_every_connection(pool, read_only).await;

    let outcome = fx.sync().await;
    assert!(!outcome.ok, "{outcome:?}");
    assert!(outcome.summary.contains(refusal), "{outcome:?}");
    let progress = fx.app.sync.current_progress();
    assert!(
        progress
            .last_outcome
            .as_deref()
            .is_some_and(|o| o.contains(refusal)),
        "{progress:?}"
    );
    // Reading still works: the console shows the last good state.
    assert_eq!(fx.journal().await.len(), runs);
    assert_eq!(fx.integration().await["state"], "Enabled");
    assert_integrity(pool).await;
    assert_eq!(fx.rows().await, fx.before);

    on_every_connection(pool, writable).await;
    fx.sync_succeeds().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}
