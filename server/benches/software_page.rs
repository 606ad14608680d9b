//! Benchmark (not a test): the Software page's queries at 100,000 endpoints and about 1.2
//! million machine-vulnerability rows, run with `cargo bench -p server --bench software_page`
//! (PostgreSQL: `scripts/bench-postgres.sh software_page`).
//!
//! Syncs 104,000 simulated machines into a fresh database, the simulator kept running as the
//! demo tenant, then times `views::software::page` (what the `software/list` server fn runs):
//! the product list under every sort and a few searches; each product's first opening, which
//! reads its devices from the simulator (List devices by software, tens of thousands of
//! references; printed, not a goal: it happens once an hour per product opened); then every
//! product opened again from the stored reading under every sort, with and without a
//! device-group filter, first and a deep page. Goal: p95 < 50 ms.

use std::io::Write;
use std::time::{Duration, Instant};

use app::model::software::{SoftwareQuery, DEVICE_SORTS, PRODUCT_SORTS};
use server::integrations::software_devices::SoftwareDevices;
use server::views::endpoint_list::ListCache;
use server::views::software::{self, SoftwareViews};

#[path = "support/bench_database.rs"]
mod bench_database;
#[path = "support/sim_process.rs"]
mod sim_process;

type Error = Box<dyn std::error::Error + Send + Sync>;

const MACHINES: usize = 104_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn time_all(
    stores: &server::db::Stores,
    cache: &ListCache,
    devices: &SoftwareViews,
    queries: &[SoftwareQuery],
) -> Result<Vec<Duration>, Error> {
    let mut times = Vec::with_capacity(queries.len());
    for q in queries {
        let started = Instant::now();
        let page = software::page(stores, cache, devices, q.clone()).await?;
        times.push(started.elapsed());
        std::hint::black_box(page);
    }
    times.sort();
    Ok(times)
}

fn report(out: &mut impl Write, what: &str, times: &[Duration]) -> std::io::Result<()> {
    writeln!(
        out,
        "{what}: {} queries, p50 {:.1} ms, p95 {:.1} ms (goal < 50 ms), max {:.1} ms",
        times.len(),
        ms(percentile(times, 0.5)),
        ms(percentile(times, 0.95)),
        ms(*times.last().unwrap())
    )
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let dir = tempfile::tempdir()?;
    writeln!(out, "backend: {}", bench_database::backend())?;
    let url = bench_database::fresh(dir.path(), "ea_bench_software_page").await?;
    let pool = server::db::open(&url).await?;
    let _sim = sim_process::sync_tenant_kept(&pool, MACHINES, &mut out).await?;
    let stores = server::db::Stores::new(&pool);
    let cache = ListCache::default();
    // The key `sync_tenant` seeds the demo integration with.
    let secrets = server::secret_box::SecretBox::new(&[7; 32]);
    // As the sync's client: the simulator's rate limits are lifted, so is the client's budget.
    let options = server::defender::ClientOptions {
        budget: server::defender::budget::BudgetLimits::unlimited(),
        ..Default::default()
    };
    let devices = SoftwareViews::new(SoftwareDevices::new(stores.clone(), secrets, &options));

    let base = SoftwareQuery::default();
    let started = Instant::now();
    let first = software::page(&stores, &cache, &devices, base.clone())
        .await?
        .expect("the list");
    writeln!(
        out,
        "first request (loads the endpoint snapshot): {:.1} ms; {} products",
        ms(started.elapsed()),
        first.total
    )?;
    let mut lists = Vec::new();
    for sort in PRODUCT_SORTS {
        for dir in ["desc", "asc"] {
            for q in ["", "micro", "x"] {
                lists.push(SoftwareQuery {
                    q: q.into(),
                    sort: sort.into(),
                    dir: dir.into(),
                    ..base.clone()
                });
            }
        }
    }
    let list_times = time_all(&stores, &cache, &devices, &lists).await?;
    report(&mut out, "product list", &list_times)?;

    // First openings: each reads the product's devices from the simulator.
    let ids: Vec<String> = first
        .products
        .iter()
        .map(|p| p.software_id.clone())
        .collect();
    let mut readings = Vec::new();
    let mut groups = Vec::new();
    let mut most = (0, String::new());
    for id in &ids {
        let started = Instant::now();
        let page = software::page(&stores, &cache, &devices, base.opening(id))
            .await?
            .expect("a listed product");
        readings.push(started.elapsed());
        let view = page.product.expect("opened");
        if let Some(note) = &view.note {
            return Err(format!("{id}: {note}").into());
        }
        if view.device_count > most.0 {
            most = (view.device_count, id.clone());
        }
        groups = page.device_groups;
    }
    readings.sort();
    writeln!(
        out,
        "first opening (reads the devices from Defender, not a goal): {} products, p50 {:.0} ms, \
         max {:.0} ms; most devices: {} ({})",
        readings.len(),
        ms(percentile(&readings, 0.5)),
        ms(*readings.last().unwrap()),
        most.0,
        most.1
    )?;

    let group = groups.first().cloned().unwrap_or_default();
    let mut opened = Vec::new();
    for id in &ids {
        for sort in DEVICE_SORTS {
            for dir in ["desc", "asc"] {
                for group in ["", group.as_str()] {
                    opened.push(SoftwareQuery {
                        sort: sort.into(),
                        dir: dir.into(),
                        group: group.into(),
                        ..base.opening(id)
                    });
                }
            }
        }
        opened.push(SoftwareQuery {
            page: 100,
            ..base.opening(id)
        });
    }
    let open_times = time_all(&stores, &cache, &devices, &opened).await?;
    report(
        &mut out,
        "one product's devices (stored reading)",
        &open_times,
    )?;
    let mut all: Vec<Duration> = list_times.into_iter().chain(open_times).collect();
    all.sort();
    report(&mut out, "ALL SOFTWARE PAGE QUERIES", &all)?;
    Ok(())
}
