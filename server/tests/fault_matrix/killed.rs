//! Faults that need the real binary (`support/process.rs`): the server killed with SIGKILL in
//! the middle of a sync, and a database file the server may only read. The simulator runs
//! in-process; the server talks to it over HTTP like to Defender.

use std::time::Duration;

use server::db::Pool;
use server::sim::{self, Faults, RunningSim};

use crate::harness::{
    assert_integrity, defender_form, open_database, open_file, sim_config, Rows, CLIENT, MACHINES,
    SECRET,
};
use crate::process::{ServerOptions, ServerProcess};

/// The child uses production client options, whose budget allows 90 calls a minute per
/// endpoint family (§3.6): bigger pages keep a sync well inside it.
async fn start_sim() -> RunningSim {
    let mut config = sim_config();
    config.page_size = 10;
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

/// A server on `dir`, configured over HTTP for `sim`, after its first (good) sync.
async fn synced_server(sim: &RunningSim, dir: &std::path::Path) -> (ServerProcess, Rows) {
    let server = ServerProcess::start(dir).await;
    let admin = server.admin().await;
    let res = server
        .call(
            &admin,
            "integrations/defender/save",
            &defender_form(sim, CLIENT, SECRET),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let first = server.wait_for_run(&admin, 1).await;
    assert_eq!(
        first["outcome"],
        "Succeeded",
        "{first:#}\n{}",
        server.logs()
    );
    let db = open_database(&server).await;
    let rows = Rows::of(&db).await;
    db.close().await;
    assert_eq!(rows.machines, MACHINES as i64);
    (server, rows)
}

async fn newest_outcome(db: &Pool) -> String {
    let (outcome,): (String,) = server::on_pool!(db, |db| sqlx::query_as(
        "SELECT outcome FROM sync_run ORDER BY sync_run_id DESC LIMIT 1"
    )
    .fetch_one(db)
    .await
    .unwrap());
    outcome
}

/// Waits until the sync has made the calls after which the injected delay applies, so the
/// run is caught in flight.
async fn caught_mid_flight(sim: &RunningSim, server: &ServerProcess) {
    let started = tokio::time::Instant::now();
    while sim.control().faults().start_after_calls > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sync never got going\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn server_killed_with_sigkill_in_the_middle_of_a_sync() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut server, before) = synced_server(&sim, dir.path()).await;
    let admin = server.admin().await;

    // Every API call after the run's third is slow, so the run is caught mid-flight.
    sim.control().set_faults(Faults {
        start_after_calls: 3,
        delay_ms: 400,
        ..Faults::default()
    });
    let res = server.call(&admin, "sync/now", &[]).await;
    assert_eq!(res.status(), 200);
    caught_mid_flight(&sim, &server).await;
    let journal = server.journal(&admin).await;
    assert_eq!(journal[0]["outcome"], "Running", "{journal:#?}");
    let status = server.kill9();
    assert!(!status.success(), "{status}");

    // The file exactly as the killed process left it.
    let db = open_database(&server).await;
    assert_integrity(&db).await;
    assert_eq!(Rows::of(&db).await, before, "the previous sync's data");
    assert_eq!(
        newest_outcome(&db).await,
        "Running",
        "nobody closed the run"
    );
    db.close().await;

    sim.control().set_faults(Faults::default());
    let server = server.restart().await;
    let admin = server.admin().await;
    // Before any new run: the journal no longer claims a run is going once the new process
    // is elected, at the latest when the killed process's lease term (15 s) ends.
    let restarted = tokio::time::Instant::now();
    let mut journal = server.journal(&admin).await;
    while journal[0]["outcome"] == "Running" && restarted.elapsed() < Duration::from_secs(45) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        journal = server.journal(&admin).await;
    }
    assert_eq!(journal.len(), 2, "{journal:#?}");
    assert_eq!(journal[0]["outcome"], "Failed", "{journal:#?}");
    assert!(journal[0]["finished_at"].is_string(), "{journal:#?}");
    assert!(
        journal[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("interrupted")),
        "{journal:#?}"
    );
    assert_eq!(journal[1]["outcome"], "Succeeded");

    let res = server.call(&admin, "sync/now", &[]).await;
    assert_eq!(res.status(), 200);
    let run = server.wait_for_run(&admin, 3).await;
    assert_eq!(run["outcome"], "Succeeded", "{run:#}\n{}", server.logs());
    assert_eq!(run["machines_unchanged"], MACHINES as i64, "{run:#}");

    let db = open_database(&server).await;
    assert_integrity(&db).await;
    assert_eq!(Rows::of(&db).await, before);
    db.close().await;
    drop(server);
    sim.shutdown().await;
}

/// SIGTERM in the middle of a sync, as a service manager stops the server: the background
/// loops stop, the run gets the shutdown grace (10 s) and is then cancelled; its uncommitted
/// work is rolled back, its journal row is closed as interrupted by the stopping process
/// itself, and the process exits cleanly. The next start finds nothing to close and syncs.
#[tokio::test]
async fn server_stopped_with_sigterm_in_the_middle_of_a_sync() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut server, before) = synced_server(&sim, dir.path()).await;
    let admin = server.admin().await;

    // Slow enough that the rest of the run cannot finish within the grace.
    sim.control().set_faults(Faults {
        start_after_calls: 3,
        delay_ms: 4_000,
        ..Faults::default()
    });
    let res = server.call(&admin, "sync/now", &[]).await;
    assert_eq!(res.status(), 200);
    caught_mid_flight(&sim, &server).await;
    let stopping = tokio::time::Instant::now();
    server.terminate();
    let status = server
        .wait_exit()
        .await
        .expect("the server exits after SIGTERM");
    let took = stopping.elapsed();
    assert!(status.success(), "{status}\n{}", server.logs());
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(20),
        "the run got its grace and no more: {took:?}\n{}",
        server.logs()
    );
    assert!(
        server.logs().contains("sync cancelled by the shutdown"),
        "{}",
        server.logs()
    );

    let db = open_database(&server).await;
    assert_integrity(&db).await;
    assert_eq!(Rows::of(&db).await, before, "the previous sync's data");
    assert_eq!(
        newest_outcome(&db).await,
        "Failed",
        "closed by the stopping process"
    );
    let (error,): (String,) = server::on_pool!(&db, |db| sqlx::query_as(
        "SELECT error FROM sync_run ORDER BY sync_run_id DESC LIMIT 1"
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert!(error.contains("interrupted"), "{error}");
    db.close().await;

    sim.control().set_faults(Faults::default());
    let server = server.restart().await;
    let admin = server.admin().await;
    let journal = server.journal(&admin).await;
    assert_eq!(journal.len(), 2, "{journal:#?}");
    let res = server.call(&admin, "sync/now", &[]).await;
    assert_eq!(res.status(), 200);
    let run = server.wait_for_run(&admin, 3).await;
    assert_eq!(run["outcome"], "Succeeded", "{run:#}\n{}", server.logs());
    assert_eq!(run["machines_unchanged"], MACHINES as i64, "{run:#}");
    drop(server);
    sim.shutdown().await;
}

/// Two replicas on one database and key, the leader killed with SIGKILL while it runs a sync
/// the follower asked for: no row is lost, the follower is elected within 30 s (the lease
/// term is 15 s, renewed every 5 s), closes the dead leader's run as interrupted, and its own
/// next sync runs normally.
#[tokio::test]
async fn the_leader_killed_mid_sync_is_replaced_by_the_other_replica() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut leader, before) = synced_server(&sim, dir.path()).await;
    let follower = ServerProcess::start(dir.path()).await;
    let admin = follower.admin().await;
    assert!(
        leader
            .logs()
            .contains("this replica now runs the background duties"),
        "{}",
        leader.logs()
    );
    assert!(
        !follower
            .logs()
            .contains("this replica now runs the background duties"),
        "{}",
        follower.logs()
    );

    sim.control().set_faults(Faults {
        start_after_calls: 3,
        delay_ms: 400,
        ..Faults::default()
    });
    // Asked of the follower, run by the leader.
    let res = follower.call(&admin, "sync/now", &[]).await;
    assert_eq!(res.status(), 200);
    caught_mid_flight(&sim, &leader).await;
    assert!(
        leader
            .logs()
            .contains("running a sync another replica asked for"),
        "{}",
        leader.logs()
    );
    let killed = tokio::time::Instant::now();
    leader.kill9();

    let mut journal = follower.journal(&admin).await;
    while journal[0]["outcome"] == "Running" {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "nobody took over within 30 s\n{}",
            follower.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        journal = follower.journal(&admin).await;
    }
    assert_eq!(journal.len(), 2, "{journal:#?}");
    assert_eq!(journal[0]["outcome"], "Failed", "{journal:#?}");
    assert!(
        follower
            .logs()
            .contains("this replica now runs the background duties"),
        "{}",
        follower.logs()
    );
    let db = open_database(&follower).await;
    assert_integrity(&db).await;
    assert_eq!(Rows::of(&db).await, before, "the previous sync's data");
    db.close().await;

    sim.control().set_faults(Faults::default());
    let res = follower.call(&admin, "sync/now", &[]).await;
    assert_eq!(res.status(), 200);
    let run = follower.wait_for_run(&admin, 3).await;
    assert_eq!(run["outcome"], "Succeeded", "{run:#}\n{}", follower.logs());
    assert_eq!(run["machines_unchanged"], MACHINES as i64, "{run:#}");
    drop(follower);
    sim.shutdown().await;
}

/// A database the server may only read. On SQLite, a file it does not own, as a service
/// account gets (SQLite then opens it read-only; `mode=ro` does the same for a test running
/// as root, which any permission bits would let write). On PostgreSQL, a database whose
/// transactions are read-only, as a standby's are or `default_transaction_read_only` makes
/// them. The server must refuse to start with a message that says so, rather than start and
/// fail on the first login or sync; the data stays intact, and with write access back the
/// server starts on the same data.
#[tokio::test]
async fn read_only_database() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut server, before) = synced_server(&sim, dir.path()).await;
    server.kill9();
    let mut options = ServerOptions::new(dir.path());
    match server.database_url() {
        Some(url) => set_read_only(url, true).await,
        None => {
            // Fold the WAL into the file, as a clean shutdown would.
            let db = open_file(&server.db_path()).await;
            server::on_pool!(&db, |db| {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(db)
                    .await
                    .unwrap();
            });
            db.close().await;
            options.database_url = Some(format!("sqlite://{}?mode=ro", server.db_path().display()));
        }
    }

    let mut read_only = ServerProcess::spawn(options);
    let status = read_only.wait_exit().await;
    let logs = read_only.logs();
    assert!(
        status.is_some_and(|s| !s.success()),
        "the server must not run on a read-only database: {status:?}\n{logs}"
    );
    assert!(logs.contains("read-only"), "{logs}");
    if server.database_url().is_some() {
        assert!(logs.contains("default_transaction_read_only"), "{logs}");
    }

    if let Some(url) = server.database_url() {
        set_read_only(url, false).await;
    }
    let db = open_database(&server).await;
    assert_integrity(&db).await;
    assert_eq!(Rows::of(&db).await, before);
    db.close().await;

    let server = ServerProcess::start(dir.path()).await;
    let admin = server.admin().await;
    let journal = server.journal(&admin).await;
    assert_eq!(journal[0]["outcome"], "Succeeded", "{journal:#?}");
    let db = open_database(&server).await;
    assert_integrity(&db).await;
    assert_eq!(Rows::of(&db).await, before);
    db.close().await;
    drop(server);
    sim.shutdown().await;
}

/// Makes every new session on the PostgreSQL database at `url` read-only, or writable again,
/// from a connection to the cluster's maintenance database.
async fn set_read_only(url: &str, on: bool) {
    use sqlx::Connection;
    let (base, name) = url.rsplit_once('/').unwrap();
    let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .unwrap();
    let sql = if on {
        format!("ALTER DATABASE {name} SET default_transaction_read_only = on")
    } else {
        format!("ALTER DATABASE {name} RESET default_transaction_read_only")
    };
    sqlx::query(&sql).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
}
