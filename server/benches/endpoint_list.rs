//! Benchmark (not a test): the endpoint list's server-side query at 100,000 endpoints.
//!
//! Fills a fresh database (the real migrations: a SQLite file, or PostgreSQL through
//! `scripts/bench-postgres.sh endpoint_list`) with 100k endpoints, then times
//! `views::endpoint_list::list` — what the `endpoints/list` server fn runs — for every filter and
//! sort the page offers, on the first page and a deep page. Goal: p95 < 50 ms. The list is
//! served from an in-memory snapshot; the first request after a change reloads it, and that
//! reload is timed on its own.
//!
//! Run: `cargo bench --bench endpoint_list`

use std::io::Write;
use std::time::{Duration, Instant};

use app::model::endpoint::EndpointQuery;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::db;
use server::views::endpoint_list::{self, ListCache};

#[path = "support/bench_database.rs"]
mod bench_database;

const ENDPOINTS: usize = 100_000;
const LEVELS: [&str; 5] = ["None", "Low", "Medium", "High", "Critical"];
const PROFILES: [&str; 8] = [
    "Windows Workstation",
    "Windows Server",
    "Linux Server",
    "macOS",
    "Network Printer",
    "IP Phone",
    "⇋ Windows11 24H2",
    "⇋ Ubuntu 22.4",
];
const ONBOARDING: [&str; 4] = [
    "Onboarded",
    "CanBeOnboarded",
    "Unsupported",
    "InsufficientInfo",
];

async fn fill(pool: &server::db::Pool) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut tx = pool.begin_write().await.unwrap();
    for i in 0..ENDPOINTS {
        let in_defender = rng.random_bool(0.6);
        let network = !in_defender || rng.random_bool(0.5);
        let mac = format!(
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            0x00,
            0x15,
            0x5d,
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        );
        let ip = format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
        let host = format!("host-{i:06}.corp.example");
        let level = LEVELS[rng.random_range(0..LEVELS.len())];
        let id: i64 = server::on_conn!(&mut tx, |c| sqlx::query_scalar(
            "INSERT INTO endpoint (mac, defender_machine_id, hostname, ip, mac_vendor, os,
                 onboarding_status, source_network, source_defender, first_seen, last_seen,
                 hostnames, ips)
             VALUES ($1, $2, $3, $4, 'Microsoft Corporation', $5, $6, $7, $8,
                 '2026-01-01T00:00:00Z', $9, $10, $11) RETURNING endpoint_id",
        )
        .bind(&mac)
        .bind(in_defender.then(|| format!("{i:040x}")))
        .bind(&host)
        .bind(&ip)
        .bind(if in_defender {
            "Windows11 24H2"
        } else {
            "Linux 5.x"
        })
        .bind(in_defender.then(|| ONBOARDING[rng.random_range(0..ONBOARDING.len())]))
        .bind(network)
        .bind(in_defender)
        .bind(format!("2026-11-{:02}T{:02}:00:00Z", 1 + i % 27, i % 24))
        .bind(server::db::JsonText(format!("[\"{host}\"]")))
        .bind(server::db::JsonText(format!("[\"{ip}\"]")))
        .fetch_one(&mut *c)
        .await
        .unwrap());
        let profile = PROFILES[rng.random_range(0..PROFILES.len())];
        server::on_conn!(&mut tx, |c| sqlx::query(
            "INSERT INTO endpoint_assessment (endpoint_id, profile_name, match_level, risk_level)
             VALUES ($1, $2, 'High', $3)",
        )
        .bind(id)
        .bind(profile)
        .bind(level)
        .execute(&mut *c)
        .await
        .map(|_| ())
        .unwrap());
    }
    tx.commit().await.unwrap();
    server::on_pool!(pool, |db| {
        sqlx::query("ANALYZE").execute(db).await.unwrap();
    });
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = bench_database::fresh(dir.path(), "ea_bench_list")
        .await
        .unwrap();
    let pool = db::open(&url).await.unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "backend: {}", bench_database::backend()).unwrap();
    let t = Instant::now();
    fill(&pool).await;
    writeln!(
        out,
        "filled {ENDPOINTS} endpoints in {:.1} s",
        t.elapsed().as_secs_f64()
    )
    .unwrap();

    let cache = ListCache::default();
    let t = Instant::now();
    endpoint_list::list(&pool, &cache, EndpointQuery::default())
        .await
        .unwrap();
    writeln!(
        out,
        "first request after a change (snapshot reload): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    )
    .unwrap();

    let sorts = [
        "risk",
        "mac",
        "ip",
        "hostname",
        "vendor",
        "profile",
        "os",
        "last_seen",
    ];
    let filters: Vec<(&str, EndpointQuery)> = vec![
        ("none", EndpointQuery::default()),
        (
            "risk=High",
            EndpointQuery {
                risk: "High".into(),
                ..Default::default()
            },
        ),
        (
            "profile",
            EndpointQuery {
                profile: "Network Printer".into(),
                ..Default::default()
            },
        ),
        (
            "source=defender",
            EndpointQuery {
                source: "defender".into(),
                ..Default::default()
            },
        ),
        (
            "onboarding=none",
            EndpointQuery {
                onboarding: "none".into(),
                ..Default::default()
            },
        ),
        (
            "text=host-0421",
            EndpointQuery {
                q: "host-0421".into(),
                ..Default::default()
            },
        ),
        (
            "text=10.1.",
            EndpointQuery {
                q: "10.1.".into(),
                ..Default::default()
            },
        ),
        (
            "risk+source+onboarding",
            EndpointQuery {
                risk: "Critical".into(),
                source: "both".into(),
                onboarding: "Onboarded".into(),
                ..Default::default()
            },
        ),
    ];
    let mut all = Vec::new();
    writeln!(
        out,
        "{:<24} {:>9} {:>9} {:>9}",
        "filter (8 sorts x 2 pages x 2 dirs)", "p50 ms", "p95 ms", "max ms"
    )
    .unwrap();
    for (name, base) in &filters {
        let mut times = Vec::new();
        for sort in sorts {
            for dir in ["desc", "asc"] {
                for page in [1, 200] {
                    let q = EndpointQuery {
                        sort: sort.into(),
                        dir: dir.into(),
                        page,
                        ..base.clone()
                    };
                    let t = Instant::now();
                    let result = endpoint_list::list(&pool, &cache, q).await.unwrap();
                    times.push(t.elapsed());
                    std::hint::black_box(result);
                }
            }
        }
        times.sort();
        writeln!(
            out,
            "{name:<24} {:>9.1} {:>9.1} {:>9.1}",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3
        )
        .unwrap();
        all.extend(times);
    }
    all.sort();
    writeln!(
        out,
        "all {} queries: p50 {:.1} ms, p95 {:.1} ms (goal < 50 ms), max {:.1} ms",
        all.len(),
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.95).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3
    )
    .unwrap();
}
