//! The Defender simulator as a child process (`defender-sim`) for benchmarks: its data set
//! and its JSON rendering then count towards its own memory and CPU, not the measured
//! process's. Killed when dropped.

// Shared by several benchmarks; each uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use server::defender::budget::BudgetLimits;
use server::defender::{ClientOptions, DefenderClient, DefenderSettings, Endpoints};
use server::sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID};

pub struct SimProcess {
    child: Child,
    base_url: String,
    _config: tempfile::NamedTempFile,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

impl SimProcess {
    /// Starts `defender-sim` on a free port with the demo app, no injected latency and quotas
    /// high enough never to throttle, and waits until it listens.
    pub fn start(seed: u64, machines: usize, page_size: usize) -> Result<Self, Error> {
        let mut config = tempfile::NamedTempFile::new()?;
        writeln!(
            config,
            "seed = {seed}\nmachines = {machines}\npage_size = {page_size}\n\
             [rate_limits]\nper_minute = 1000000000\nper_hour = 1000000000\n"
        )?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_defender-sim"))
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--config")
            .arg(config.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout from defender-sim")?;
        let (found, listening) = mpsc::channel();
        // Drained to the end: the simulator stops if it cannot write its banner.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("defender-sim listening on ") {
                    let _ = found.send(url.trim().to_owned());
                }
            }
        });
        let base_url = match listening.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                return Err("defender-sim did not start".into());
            }
        };
        Ok(Self {
            child,
            base_url,
            _config: config,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The simulator's data set sizes (`GET /_sim/state`).
    pub async fn counts(&self) -> Result<serde_json::Value, Error> {
        let url = format!("{}/_sim/state", self.base_url);
        Ok(reqwest::get(url).await?.error_for_status()?.json().await?)
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client for the simulator's demo app, with no call budget and a generous timeout.
pub fn client(base_url: &str) -> Result<DefenderClient, Error> {
    let endpoints = Endpoints::custom(base_url, base_url)?;
    let settings = DefenderSettings::new(
        DEMO_TENANT_ID,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        endpoints,
    );
    let options = ClientOptions {
        request_timeout: Duration::from_secs(300),
        budget: BudgetLimits::unlimited(),
        ..ClientOptions::default()
    };
    Ok(DefenderClient::new(settings, options)?)
}

/// Peak resident memory (VmHWM) of a process, in MB; `self` for this one.
pub fn peak_rss_mb(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l[6..]
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        })
        .unwrap_or(0)
        / 1024
}

/// Syncs `machines` simulated machines (seed 7) into `pool` as the Defender integration's first
/// sync, the simulator running as its own process, and prints what the sync did.
pub async fn sync_tenant(
    pool: &server::db::Pool,
    machines: usize,
    out: &mut impl Write,
) -> Result<(), Error> {
    sync_tenant_kept(pool, machines, out).await.map(drop)
}

/// As [`sync_tenant`], the simulator kept running (the demo integration stays pointed at it)
/// for benchmarks that ask Defender again afterwards.
pub async fn sync_tenant_kept(
    pool: &server::db::Pool,
    machines: usize,
    out: &mut impl Write,
) -> Result<SimProcess, Error> {
    let sim = SimProcess::start(7, machines, 10_000)?;
    let secrets = server::secret_box::SecretBox::new(&[7; 32]);
    server::integrations::demo::seed(pool, pool, &secrets, sim.base_url()).await?;
    let started = std::time::Instant::now();
    let client = client(sim.base_url())?;
    let summary = server::sync::sync_with_client(
        &server::db::Stores::new(pool),
        &client,
        "bench",
        Default::default(),
    )
    .await?;
    writeln!(
        out,
        "stored data: synced {summary} in {:.2?}",
        started.elapsed()
    )?;
    Ok(sim)
}
