//! Benchmark (not a test): pages 100,000 simulated machines through the Defender client and
//! reports machines per second and peak memory (VmHWM).

use std::io::Write;
use std::time::{Duration, Instant};

use server::defender::{ClientOptions, DefenderClient, DefenderSettings, Endpoints};
use server::sim::{self, SimConfig};

const MACHINES: usize = 100_000;
const PAGE_SIZE: usize = 10_000;

/// Peak resident set size of this process, from `/proc/self/status`.
fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = std::io::stdout().lock();
    let config = SimConfig {
        page_size: PAGE_SIZE,
        ..SimConfig::for_tests(MACHINES)
    };
    let started = Instant::now();
    let sim = sim::start(config, "127.0.0.1:0".parse()?).await?;
    writeln!(
        out,
        "simulator: {MACHINES} machines generated in {:.2?}",
        started.elapsed()
    )?;
    writeln!(out, "peak memory after generation: VmHWM {}", vm_hwm())?;

    let app = sim.app();
    let endpoints = Endpoints::custom(sim.base_url(), sim.base_url())?;
    let settings = DefenderSettings::new(
        &app.tenant_id,
        &app.client_id,
        &app.client_secret,
        endpoints,
    );
    let options = ClientOptions {
        request_timeout: Duration::from_secs(120),
        ..ClientOptions::default()
    };
    let client = DefenderClient::new(settings, options)?;

    let started = Instant::now();
    let mut pager = client.machines();
    let mut machines = 0usize;
    let mut pages = 0usize;
    while let Some(page) = pager.next_page().await? {
        machines += page.len();
        pages += 1;
    }
    let elapsed = started.elapsed();
    let metrics = client.metrics();
    writeln!(
        out,
        "paged {machines} machines in {pages} pages in {elapsed:.2?}: {:.0} machines/s",
        machines as f64 / elapsed.as_secs_f64()
    )?;
    writeln!(
        out,
        "api calls {}, retries {}, throttle wait {:.2?}, stop {:?}",
        metrics.api_calls,
        metrics.retries,
        metrics.throttle_wait(),
        pager.stop_reason()
    )?;
    writeln!(out, "peak memory (VmHWM): {}", vm_hwm())?;
    sim.shutdown().await;
    if machines != MACHINES {
        return Err(format!("expected {MACHINES} machines, paged {machines}").into());
    }
    Ok(())
}
