//! What every matrix case shares: a simulator and the real application on a fresh SQLite file,
//! a good first sync, the row counts it left, and the places the admin reads a fault from
//! (the integration's state and the sync journal, both through their server fns).

use std::path::Path;
use std::str::FromStr;

use reqwest::Client;
use serde_json::Value;
use server::db::Pool;
use server::sim::{self, Faults, RunningSim, SimApp, SimConfig};
use server::startup::Tuning;
use server::sync::SyncOutcome;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tempfile::TempDir;

use crate::process::ServerProcess;

use crate::support::{self, TestApp};

pub const TENANT: &str = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
pub const CLIENT: &str = "2c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e";
pub const SECRET: &str = "Matrix~Secret.Value-2718";
/// A second app registration in the same tenant: what an admin switches to after the first
/// one's secret was revoked or expired.
pub const NEW_CLIENT: &str = "3d4e5f60-7182-4c9d-8e0f-2a3b4c5d6e7f";
pub const NEW_SECRET: &str = "Matrix~Secret.Value-3141";

/// Small, but several pages per listing (page size 5): faults can strike mid-listing.
pub const MACHINES: usize = 24;

/// The listings a sync pages through, as `Faults::scope` names them.
pub const MACHINE_LISTING: &str = "machines";
pub const VULNERABILITY_LISTING: &str = "vulnerabilities";
pub const MACHINE_VULNERABILITY_LISTING: &str = "vulnerabilities/machinesVulnerabilities";
pub const ALERT_LISTING: &str = "alerts";

pub fn sim_config() -> SimConfig {
    let mut config = SimConfig::for_tests(MACHINES);
    // Many syncs per test must not meet the real per-minute quota (§3.6): the 429 cases
    // inject their storms on purpose instead.
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    config.apps = vec![SimApp::full_access(
        TENANT,
        Some("fabrikam-matrix.onmicrosoft.com"),
        CLIENT,
        SECRET,
        "EA fault matrix",
    )];
    config
}

pub async fn start_sim() -> RunningSim {
    sim::start(sim_config(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

/// Faults that strike one listing only, after `after` of its calls went through.
pub fn in_listing(listing: &str, after: u32, f: Faults) -> Faults {
    Faults {
        scope: Some(listing.to_owned()),
        start_after_calls: after,
        ..f
    }
}

/// Row counts of the inventory tables a sync writes. Every case ends by comparing them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rows {
    pub endpoints: i64,
    pub machines: i64,
    /// Machines flagged missing from the latest complete listing (kept, never deleted).
    pub machines_gone: i64,
    /// The CVE catalogue.
    pub vulnerabilities: i64,
    /// Per-device vulnerability rows (`machine_vulnerability`).
    pub machine_vulnerabilities: i64,
    pub alerts: i64,
}

impl Rows {
    pub async fn of(pool: &Pool) -> Rows {
        let count = |sql: &'static str| async move {
            let (n,): (i64,) =
                server::on_pool!(pool, |db| sqlx::query_as(sql).fetch_one(db).await.unwrap());
            n
        };
        Rows {
            endpoints: count("SELECT COUNT(*) FROM endpoint").await,
            machines: count("SELECT COUNT(*) FROM defender_machine").await,
            machines_gone: count("SELECT COUNT(*) FROM defender_machine WHERE gone = TRUE").await,
            vulnerabilities: count("SELECT COUNT(*) FROM vulnerability").await,
            machine_vulnerabilities: count("SELECT COUNT(*) FROM machine_vulnerability").await,
            alerts: count("SELECT COUNT(*) FROM defender_alert").await,
        }
    }

    /// What a complete sync of the simulator's tenant leaves, endpoints aside (the merge
    /// folds duplicates, so that figure comes from the first sync).
    pub fn of_sim(sim: &RunningSim, endpoints: i64) -> Rows {
        let c = sim.control();
        Rows {
            endpoints,
            machines: c.machine_count() as i64,
            machines_gone: 0,
            vulnerabilities: c.vulnerability_count() as i64,
            machine_vulnerabilities: c.machine_vulnerability_count() as i64,
            alerts: c.alert_count() as i64,
        }
    }
}

/// Opens a SQLite file on its own pool (another process may be using it).
pub async fn open_file(path: &Path) -> Pool {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .unwrap()
        .busy_timeout(std::time::Duration::from_secs(5));
    Pool::Sqlite(
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap(),
    )
}

/// The SQLite pool under `pool`: the fault matrix breaks SQLite files on purpose.
pub fn sqlite(pool: &Pool) -> &SqlitePool {
    match pool {
        Pool::Sqlite(p) => p,
        Pool::Postgres(_) => panic!("the fault matrix runs on SQLite files"),
    }
}

/// The database a server process runs on, on a pool of its own (another process may be
/// using it): its PostgreSQL database when it has one, else its SQLite file.
pub async fn open_database(server: &ServerProcess) -> Pool {
    match server.database_url() {
        Some(url) => server::db::open(url).await.unwrap(),
        None => open_file(&server.db_path()).await,
    }
}

/// On SQLite, `PRAGMA integrity_check` must answer a single `ok`. PostgreSQL has no such
/// check to ask for: its own write-ahead log restores a killed server's pages, and what the
/// tests compare is the rows.
pub async fn assert_integrity(pool: &Pool) {
    if matches!(pool, Pool::Postgres(_)) {
        return;
    }
    let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(sqlite(pool))
        .await
        .unwrap();
    let lines: Vec<String> = rows.into_iter().map(|(l,)| l).collect();
    assert_eq!(lines, ["ok"], "integrity_check");
}

/// Runs `setting` (a PRAGMA or a SET) on every connection of `pool` (the pool keeps them
/// open, so the setting holds for whatever the application does next). Holds all of them at
/// once, so each one is a different connection.
pub async fn on_every_connection(pool: &Pool, setting: &str) {
    server::on_pool!(pool, |pool| {
        let size = pool.options().get_max_connections();
        let mut held = Vec::new();
        for _ in 0..size {
            let mut conn = pool.acquire().await.unwrap();
            sqlx::query(setting).execute(&mut *conn).await.unwrap();
            held.push(conn);
        }
    })
}

/// The Defender form as the browser posts it.
pub fn defender_form<'a>(
    sim: &'a RunningSim,
    client_id: &'a str,
    secret: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("tenant_id", TENANT),
        ("client_id", client_id),
        ("client_secret", secret),
        ("cloud", "commercial"),
        ("geo_api_host", ""),
        ("custom_login_url", sim.base_url()),
        ("custom_api_url", sim.base_url()),
        ("enabled", "on"),
    ]
}

/// One case's world after a good first sync.
pub struct Fixture {
    pub sim: RunningSim,
    pub app: TestApp,
    pub admin: Client,
    /// Rows after the good first sync.
    pub before: Rows,
    /// API calls of a clean sync (the first one), so retries show as extra calls.
    pub clean_calls: i64,
    _dir: TempDir,
}

impl Fixture {
    pub async fn synced() -> Fixture {
        Self::synced_with(support::tuning(), Faults::default()).await
    }

    /// `first` is set for the first sync only (e.g. a short listing that later grows).
    pub async fn synced_with(tuning: Tuning, first: Faults) -> Fixture {
        Self::synced_in(tempfile::tempdir().unwrap(), tuning, first).await
    }

    /// [`Fixture::synced_with`], the application's data kept in `dir`, which the caller may
    /// have prepared (a database file made beforehand, say).
    pub async fn synced_in(dir: tempfile::TempDir, tuning: Tuning, first: Faults) -> Fixture {
        let sim = start_sim().await;
        sim.control().set_faults(first);
        let settings = support::settings(dir.path(), Some(support::ADMIN_PASSWORD));
        let app = TestApp::spawn_with(settings, tuning).await;
        let admin = app.admin().await;
        let res = app
            .call(
                &admin,
                "integrations/defender/save",
                &defender_form(&sim, CLIENT, SECRET),
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        // Joins the run the save started, or starts one after it.
        let outcome = app.sync.trigger("first").wait().await;
        assert!(outcome.ok, "first sync: {outcome:?}");
        sim.control().set_faults(Faults::default());
        let before = Rows::of(&app.pool).await;
        let mut fixture = Fixture {
            sim,
            app,
            admin,
            before,
            clean_calls: 0,
            _dir: dir,
        };
        let first_run = fixture.last_run().await;
        assert_eq!(first_run["outcome"], "Succeeded", "{first_run:#}");
        fixture.clean_calls = first_run["api_calls"].as_i64().unwrap();
        fixture
    }

    pub fn inject(&self, faults: Faults) {
        self.sim.control().set_faults(faults);
    }

    pub fn faults(&self) -> Faults {
        self.sim.control().faults()
    }

    /// A sync whose listings are all full and that reads the network facts, as the first
    /// one's did: the cases strike pages of full listings (the incremental listings that
    /// follow a full one within a day have their faults in `alert_delta.rs` and
    /// `vulnerability_delta.rs`, advanced hunting's in `network_facts.rs`).
    pub async fn sync(&self) -> SyncOutcome {
        // A case that made the database read-only syncs without this; its sync fails anyway.
        server::on_pool!(&self.app.pool, |db| {
            let _ = sqlx::query(
                "DELETE FROM sync_cursor \
                 WHERE name LIKE 'alerts.%' OR name LIKE 'machine_vulnerabilities.%' \
                 OR name = 'network_facts.read'",
            )
            .execute(db)
            .await;
        });
        self.app.sync.trigger("fault matrix").wait().await
    }

    pub async fn rows(&self) -> Rows {
        Rows::of(&self.app.pool).await
    }

    /// The journal as the `sync/journal` server fn shows it, newest first.
    pub async fn journal(&self) -> Vec<Value> {
        let res = self.app.call(&self.admin, "sync/journal", &[]).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    pub async fn last_run(&self) -> Value {
        self.journal().await.into_iter().next().expect("a run")
    }

    /// The integration as `integrations/defender/get` shows it.
    pub async fn integration(&self) -> Value {
        let res = self
            .app
            .call(&self.admin, "integrations/defender/get", &[])
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Test Connection with the stored secret, as the admin runs it from the page.
    pub async fn test_connection(&self, client_id: &str) -> Value {
        let mut form = defender_form(&self.sim, client_id, "");
        form.retain(|(k, _)| *k != "enabled");
        let res = self
            .app
            .call(&self.admin, "integrations/defender/test", &form)
            .await;
        assert_eq!(res.status(), 200, "a failed test is a report, not an error");
        res.json().await.unwrap()
    }

    /// Runs a sync with the faults armed and expects it to fail where the admin can see it:
    /// a Failed journal row and an integration in Error, both naming `words`; the rows are
    /// those of the last good sync. Returns the journal row.
    pub async fn sync_fails_visibly(&self, words: &[&str]) -> Value {
        let outcome = self.sync().await;
        assert!(!outcome.ok, "the run should fail: {outcome:?}");
        let run = self.last_run().await;
        assert_eq!(run["outcome"], "Failed", "{run:#}");
        let error = run["error"].as_str().unwrap_or_default().to_lowercase();
        for w in words {
            assert!(error.contains(&w.to_lowercase()), "{w:?} not in {run:#}");
        }
        let integration = self.integration().await;
        assert_eq!(integration["state"], "Error", "{integration:#}");
        assert_eq!(integration["last_sync_outcome"], "Failed");
        assert_eq!(integration["last_error"].as_str(), run["error"].as_str());
        assert_eq!(
            self.rows().await,
            self.before,
            "a failed run changes no rows"
        );
        run
    }

    /// Runs a sync with the faults armed and expects it to finish Partial, with a journal
    /// note naming `words` and the integration still healthy. Returns the journal row.
    pub async fn sync_is_partial(&self, words: &[&str]) -> Value {
        let outcome = self.sync().await;
        assert!(outcome.ok, "a partial run is not an error: {outcome:?}");
        let run = self.last_run().await;
        assert_eq!(run["outcome"], "Partial", "{run:#}");
        assert!(run["error"].is_null(), "{run:#}");
        let notes = run["notes"].as_str().unwrap_or_default().to_lowercase();
        for w in words {
            assert!(notes.contains(&w.to_lowercase()), "{w:?} not in {run:#}");
        }
        let integration = self.integration().await;
        assert_eq!(
            integration["last_sync_outcome"], "Partial",
            "{integration:#}"
        );
        run
    }

    /// Runs a sync with the faults armed and expects it to succeed. Returns the journal row.
    pub async fn sync_succeeds(&self) -> Value {
        let outcome = self.sync().await;
        assert!(outcome.ok, "{outcome:?}");
        let run = self.last_run().await;
        assert_eq!(run["outcome"], "Succeeded", "{run:#}");
        assert!(run["error"].is_null(), "{run:#}");
        let integration = self.integration().await;
        assert_eq!(integration["state"], "Enabled", "{integration:#}");
        assert!(integration["last_error"].is_null(), "{integration:#}");
        run
    }

    /// The product keeps working: with the fault gone, the next sync succeeds and the
    /// integration is healthy again.
    pub async fn recovers(&self) -> Value {
        self.inject(Faults::default());
        self.sync_succeeds().await
    }

    /// Every case ends here: the rows must be `expected`, the file must pass
    /// `integrity_check`, and everything stops.
    pub async fn end_with_rows(self, expected: Rows) {
        assert_eq!(self.rows().await, expected, "rows at the end of the case");
        assert_integrity(&self.app.pool).await;
        self.app.stop().await;
        self.sim.shutdown().await;
    }
}
