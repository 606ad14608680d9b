//! The risk history, against the simulator over real HTTP: each sync records every endpoint's
//! risk and its machine's CVEs by severity, only where they changed; the Summary shows an
//! endpoint's changes, the dashboard every endpoint by level per day; the retention prunes.

#[path = "support/app.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use server::db::{Pool, Stores};
use server::sim::{self, RunningSim, SimConfig};
use server::sync::risk_record::record_risk;
use server::sync::HistoryRetention;
use support::seeded_tenant::scan_and_sync;
use support::TestApp;

async fn simulator() -> RunningSim {
    let mut config = SimConfig::for_tests(40);
    config.rate_limits.per_minute = 100_000;
    config.rate_limits.per_hour = 1_000_000;
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn scalar(pool: &Pool, sql: &str) -> i64 {
    server::on_pool!(pool, |db| sqlx::query_scalar(sql)
        .fetch_one(db)
        .await
        .unwrap())
}

async fn exec(pool: &Pool, sql: &str) {
    server::on_pool!(pool, |db| {
        sqlx::query(sql).execute(db).await.unwrap();
    });
}

async fn json(
    app: &TestApp,
    admin: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> Value {
    let res = app.call(admin, endpoint, form).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The Endpoint Summary as its server fn answers.
async fn summary_of(app: &TestApp, admin: &reqwest::Client, endpoint_id: i64) -> Value {
    json(
        app,
        admin,
        "endpoints/get",
        &[("id", &endpoint_id.to_string())],
    )
    .await
}

#[tokio::test]
async fn each_sync_records_what_changed_and_the_pages_show_it() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    scan_and_sync(&app, &sim, &admin).await;
    let pool = &app.pool;
    let endpoints = scalar(pool, "SELECT COUNT(*) FROM endpoint").await;
    assert!(endpoints > 0);

    // The first sync records every endpoint once.
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM risk_history").await,
        endpoints
    );
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM risk_state").await,
        endpoints
    );

    // The dashboard's trend: one day so far, with exactly the dashboard's own counts.
    let dashboard = json(&app, &admin, "dashboard/get", &[]).await;
    let trend = dashboard["risk_trend"].as_array().unwrap();
    assert_eq!(trend.len(), 1, "{trend:#?}");
    assert_eq!(trend[0]["by_risk"], dashboard["by_risk"]);

    // An endpoint with a Defender machine: its one change holds its machine's distinct CVEs by
    // severity, as the simulator serves them.
    let (endpoint_id, machine_id): (i64, String) = server::on_pool!(pool, |db| sqlx::query_as(
        "SELECT e.endpoint_id, e.defender_machine_id FROM endpoint e \
         WHERE e.defender_machine_id IN (SELECT machine_id FROM machine_vulnerability) \
         ORDER BY e.endpoint_id LIMIT 1"
    )
    .fetch_one(db)
    .await
    .unwrap());
    let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in sim.control().machine_vulnerabilities() {
        if row["machineId"] == machine_id.as_str() {
            want.entry(row["severity"].as_str().unwrap().to_owned())
                .or_default()
                .insert(row["cveId"].as_str().unwrap().to_owned());
        }
    }
    let by = |s: &str| want.get(s).map_or(0, BTreeSet::len) as u64;
    let summary = summary_of(&app, &admin, endpoint_id).await;
    let history = summary["risk_history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{history:#?}");
    assert_eq!(history[0]["risk_level"], summary["row"]["risk_level"]);
    assert_eq!(
        [
            &history[0]["critical"],
            &history[0]["high"],
            &history[0]["medium"],
            &history[0]["low"]
        ]
        .map(|v| v.as_u64().unwrap()),
        [by("Critical"), by("High"), by("Medium"), by("Low")]
    );
    assert!(by("Critical") + by("High") + by("Medium") + by("Low") > 0);

    // A sync that changes nothing records nothing.
    let outcome = app.sync.trigger("again").wait().await;
    assert!(outcome.ok, "{outcome:?}");
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM risk_history").await,
        endpoints
    );

    // One endpoint's level changes: one row more, for it alone, newest first on its Summary.
    let stores = Stores::new(pool);
    let retention = HistoryRetention::days(30).unwrap();
    let level = summary["row"]["risk_level"].as_str().unwrap();
    let other = if level == "Critical" {
        "Low"
    } else {
        "Critical"
    };
    exec(
        pool,
        &format!("UPDATE endpoint_assessment SET risk_level = '{other}' WHERE endpoint_id = {endpoint_id}"),
    )
    .await;
    let recorded = record_risk(&stores, retention).await.unwrap();
    assert_eq!(recorded.changed, 1);
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM risk_history").await,
        endpoints + 1
    );
    let summary = summary_of(&app, &admin, endpoint_id).await;
    let history = summary["risk_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:#?}");
    assert_eq!(history[0]["risk_level"], other);
    assert_eq!(history[1]["risk_level"], level);

    // What the retention no longer keeps goes; the current state stays whole.
    exec(
        pool,
        "INSERT INTO risk_history (endpoint_id, recorded_at, risk_level, critical, high, medium, low) \
         VALUES (1, '2001-01-01T00:00:00Z', 'Low', 0, 0, 0, 0)",
    )
    .await;
    exec(
        pool,
        "INSERT INTO risk_daily (day, risk_level, endpoints) VALUES ('2001-01-01', 'Low', 3)",
    )
    .await;
    let recorded = record_risk(&stores, retention).await.unwrap();
    assert_eq!((recorded.changed, recorded.pruned), (0, 2));
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM risk_history").await,
        endpoints + 1
    );
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM risk_state").await,
        endpoints
    );
}
