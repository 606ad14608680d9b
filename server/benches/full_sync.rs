//! Benchmark (not a test): a full Defender sync of 100,000 simulated machines (~1M
//! machine-vulnerability rows, ~50k alerts) from an in-process simulator with no injected
//! latency, beside a floor measured in the same run: the same listings fetched, parsed and
//! inserted with no product logic (no change detection, merge, re-model or risk).
//!
//! `cargo bench --bench full_sync`; prints wall time, rows per second and peak RSS (VmHWM,
//! reset between phases through `/proc/self/clear_refs`).

use std::io::Write;
use std::time::{Duration, Instant};

use server::db;
use server::defender::budget::BudgetLimits;
use server::defender::{ClientOptions, DefenderClient, DefenderSettings, Endpoints};
use server::sim::{self, RunningSim, SimConfig};
use sqlx::Connection;

const MACHINES: usize = 100_000;
const PAGE_SIZE: usize = 10_000;

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l[6..].trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux: "5" to clear_refs), so each phase has its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn client(sim: &RunningSim) -> Result<DefenderClient, Box<dyn std::error::Error>> {
    let app = sim.app();
    let endpoints = Endpoints::custom(sim.base_url(), sim.base_url())?;
    let settings = DefenderSettings::new(
        &app.tenant_id,
        &app.client_id,
        &app.client_secret,
        endpoints,
    );
    let options = ClientOptions {
        request_timeout: Duration::from_secs(300),
        budget: BudgetLimits::unlimited(),
        ..ClientOptions::default()
    };
    Ok(DefenderClient::new(settings, options)?)
}

async fn fresh_db(
    dir: &std::path::Path,
    name: &str,
) -> Result<sqlx::SqlitePool, Box<dyn std::error::Error>> {
    let url = format!("sqlite://{}", dir.join(name).display());
    Ok(db::open(&url).await?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

/// Fetch, parse and insert every listing into plain tables, page by page: the floor.
async fn floor(
    client: &DefenderClient,
    pool: &sqlx::SqlitePool,
) -> Result<u64, Box<dyn std::error::Error>> {
    use server::db::sync_stage;
    let mut conn = pool.acquire().await?;
    sync_stage::prepare(&mut conn).await?;
    let mut rows = 0u64;
    let mut pager = client.machines();
    while let Some(page) = pager.next_page().await? {
        let mut tx = conn.begin().await?;
        sync_stage::machines(&mut tx, &page).await?;
        tx.commit().await?;
        rows += page.len() as u64;
    }
    let mut pager = client.vulnerabilities();
    while let Some(page) = pager.next_page().await? {
        let mut tx = conn.begin().await?;
        sync_stage::vulnerabilities(&mut tx, &page).await?;
        tx.commit().await?;
        rows += page.len() as u64;
    }
    let mut pager = client.machines_vulnerabilities();
    while let Some(page) = pager.next_page().await? {
        let mut tx = conn.begin().await?;
        sync_stage::machine_vulnerabilities(&mut tx, &page).await?;
        tx.commit().await?;
        rows += page.len() as u64;
    }
    let mut pager = client.alerts();
    while let Some(page) = pager.next_page().await? {
        let mut tx = conn.begin().await?;
        sync_stage::alerts(&mut tx, &page).await?;
        tx.commit().await?;
        rows += page.len() as u64;
    }
    Ok(rows)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = std::io::stdout().lock();
    let mut config = SimConfig {
        page_size: PAGE_SIZE,
        ..SimConfig::for_tests(MACHINES)
    };
    config.rate_limits.per_minute = u32::MAX / 2;
    config.rate_limits.per_hour = u32::MAX / 2;
    let started = Instant::now();
    let sim = sim::start(config, "127.0.0.1:0".parse()?).await?;
    let control = sim.control();
    writeln!(
        out,
        "simulator: {} machines, {} machine-vulnerability rows, {} vulnerabilities, {} alerts, \
         generated in {:.2?}; VmHWM {} MB",
        control.machine_count(),
        control.machine_vulnerability_count(),
        control.vulnerability_count(),
        control.alert_count(),
        started.elapsed(),
        vm_hwm_kb() / 1024
    )?;
    let dir = tempfile::tempdir()?;

    reset_peak();
    let pool = fresh_db(dir.path(), "floor.db").await?;
    let started = Instant::now();
    let rows = floor(&client(&sim)?, &pool).await?;
    let floor_time = started.elapsed();
    let floor_peak = vm_hwm_kb() / 1024;
    writeln!(
        out,
        "floor (fetch + parse + insert, no logic): {rows} rows in {floor_time:.2?} = {:.0} rows/s; \
         peak RSS {floor_peak} MB",
        rows as f64 / floor_time.as_secs_f64()
    )?;
    pool.close().await;

    reset_peak();
    let pool = fresh_db(dir.path(), "sync.db").await?;
    let client = client(&sim)?;
    let started = Instant::now();
    let summary =
        server::sync::sync_with_client(&pool, &client, "bench", Default::default()).await?;
    let sync_time = started.elapsed();
    let sync_peak = vm_hwm_kb() / 1024;
    writeln!(out, "sync: {summary}")?;
    writeln!(
        out,
        "full sync (stage + apply + merge + re-model + risk): {rows} rows in {sync_time:.2?} = \
         {:.0} rows/s; peak RSS {sync_peak} MB; api calls {}",
        rows as f64 / sync_time.as_secs_f64(),
        client.metrics().api_calls
    )?;
    let ratio = sync_time.as_secs_f64() / floor_time.as_secs_f64();
    writeln!(
        out,
        "ratio to floor: {ratio:.2}x (goal <= 2x: {}); peak RSS goal < 300 MB: {}",
        if ratio <= 2.0 { "met" } else { "MISSED" },
        if sync_peak < 300 { "met" } else { "MISSED" }
    )?;

    reset_peak();
    let started = Instant::now();
    let report = server::endpoints::remodel_all(&pool).await?;
    writeln!(
        out,
        "re-model + risk alone: {} endpoints in {:.2?}; peak RSS {} MB",
        report.endpoints,
        started.elapsed(),
        vm_hwm_kb() / 1024
    )?;
    reset_peak();
    let started = Instant::now();
    let summary =
        server::sync::sync_with_client(&pool, &client, "bench-again", Default::default()).await?;
    writeln!(
        out,
        "unchanged second sync: {summary} in {:.2?}; peak RSS {} MB",
        started.elapsed(),
        vm_hwm_kb() / 1024
    )?;
    sim.shutdown().await;
    Ok(())
}
