//! `defender-sim`: runs the Defender simulator (Entra token endpoints + Defender API) or
//! writes its local-network nmap XML.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use server::sim::{
    self, Cloud, Faults, ForcedOutcome, LostAnswerMode, RateLimits, SimApp, SimConfig,
};

#[derive(Parser, Debug)]
#[command(
    name = "defender-sim",
    about = "Local Microsoft Defender for Endpoint simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the nmap-style XML of the simulated LAN and exit.
    WriteNetworkXml {
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 200)]
        machines: usize,
        /// Devices on the LAN that Defender does not know.
        #[arg(long, default_value_t = 25)]
        extra_devices: usize,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
struct RunArgs {
    #[arg(long, env = "DEFENDER_SIM_LISTEN", default_value = "127.0.0.1:8950")]
    listen: SocketAddr,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    machines: Option<usize>,
    /// Server page size without `$top` (real service: 10000).
    #[arg(long)]
    page_size: Option<usize>,
    #[arg(long)]
    token_lifetime: Option<u64>,
    /// Milliseconds a machine action stays Pending on a reachable device (default 20000).
    #[arg(long)]
    action_pickup_ms: Option<u64>,
    /// Milliseconds from InProgress to the action's end (default 60000).
    #[arg(long)]
    action_complete_ms: Option<u64>,
    /// Milliseconds before an action nobody picks up times out (default 259200000, 3 days).
    #[arg(long)]
    action_timeout_ms: Option<u64>,
    /// Optional TOML file: seed, machines, page_size, token_lifetime_secs, [rate_limits],
    /// [faults], [[apps]]. Flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Cloud of every configured app's tenant: decides which Defender audience its tokens
    /// may carry (default: each app's own, commercial unless the config file says).
    #[arg(long, value_enum)]
    cloud: Option<CloudArg>,
    /// Also write the nmap XML of the LAN to this file on start.
    #[arg(long)]
    network_xml: Option<PathBuf>,
    #[command(flatten)]
    faults: FaultArgs,
}

#[derive(Args, Debug, Default)]
struct FaultArgs {
    /// 429 for the next K API calls.
    #[arg(long)]
    throttle_next: Option<u32>,
    /// Retry-After seconds on those 429s (omit for no header).
    #[arg(long)]
    throttle_retry_after: Option<u64>,
    /// 5xx for the next K API calls.
    #[arg(long)]
    server_error_next: Option<u32>,
    /// 500 or 503.
    #[arg(long)]
    server_error_status: Option<u16>,
    #[arg(long)]
    delay_ms: Option<u64>,
    /// Truncated JSON for the next K responses.
    #[arg(long)]
    truncate_next: Option<u32>,
    #[arg(long)]
    expire_tokens_after_pages: Option<u32>,
    #[arg(long)]
    next_link_loop: bool,
    #[arg(long)]
    malformed_next_link: bool,
    #[arg(long)]
    short_pages: bool,
    #[arg(long)]
    empty_page_at: Option<usize>,
    #[arg(long)]
    unstable_paging: bool,
    #[arg(long, value_enum)]
    action_outcome: Option<Outcome>,
    #[arg(long)]
    duplicate_action_returns_existing: bool,
    #[arg(long)]
    hunting_result_too_large: bool,
    /// The first item of the next K collection pages cannot be decoded (its id can).
    #[arg(long)]
    undecodable_item_next: Option<u32>,
    /// The next K action POSTs are carried out, then their answer is lost.
    #[arg(long)]
    lost_answer_next: Option<u32>,
    #[arg(long, value_enum)]
    lost_answer_mode: Option<LostMode>,
    /// How long `--lost-answer-mode hang` holds the answer (default 30000).
    #[arg(long)]
    lost_answer_hang_ms: Option<u64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CloudArg {
    Commercial,
    Gcc,
    GccHigh,
    Dod,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LostMode {
    GatewayTimeout,
    CutBody,
    Hang,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Outcome {
    Succeeded,
    Failed,
    TimeOut,
    NeverTerminal,
    StaysPending,
}

/// Optional config file; every field may be omitted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileConfig {
    seed: Option<u64>,
    machines: Option<usize>,
    page_size: Option<usize>,
    token_lifetime_secs: Option<u64>,
    rate_limits: Option<RateLimits>,
    faults: Option<Faults>,
    apps: Option<Vec<SimApp>>,
}

fn build_config(run: &RunArgs) -> Result<SimConfig, Box<dyn std::error::Error>> {
    let mut c = SimConfig::demo();
    if let Some(path) = &run.config {
        let file: FileConfig = toml::from_str(&std::fs::read_to_string(path)?)?;
        c.seed = file.seed.unwrap_or(c.seed);
        c.machines = file.machines.unwrap_or(c.machines);
        c.page_size = file.page_size.unwrap_or(c.page_size);
        if let Some(s) = file.token_lifetime_secs {
            c.token_lifetime = Duration::from_secs(s);
        }
        c.rate_limits = file.rate_limits.unwrap_or(c.rate_limits);
        c.faults = file.faults.unwrap_or_default();
        if let Some(apps) = file.apps.filter(|a| !a.is_empty()) {
            c.apps = apps;
        }
    }
    if let Some(cloud) = run.cloud {
        let cloud = match cloud {
            CloudArg::Commercial => Cloud::Commercial,
            CloudArg::Gcc => Cloud::Gcc,
            CloudArg::GccHigh => Cloud::GccHigh,
            CloudArg::Dod => Cloud::Dod,
        };
        for app in &mut c.apps {
            app.cloud = cloud;
        }
    }
    c.seed = run.seed.unwrap_or(c.seed);
    c.machines = run.machines.unwrap_or(c.machines);
    c.page_size = run.page_size.unwrap_or(c.page_size).max(1);
    if let Some(s) = run.token_lifetime {
        c.token_lifetime = Duration::from_secs(s);
    }
    let t = &mut c.action_timings;
    let ms = |v: Option<u64>, d: Duration| v.map_or(d, Duration::from_millis);
    t.pickup = ms(run.action_pickup_ms, t.pickup);
    t.complete = ms(run.action_complete_ms, t.complete);
    t.pending_timeout = ms(run.action_timeout_ms, t.pending_timeout);
    let f = &run.faults;
    let faults = &mut c.faults;
    faults.throttle_next = f.throttle_next.unwrap_or(faults.throttle_next);
    faults.throttle_retry_after_secs = f.throttle_retry_after.or(faults.throttle_retry_after_secs);
    faults.server_error_next = f.server_error_next.unwrap_or(faults.server_error_next);
    faults.server_error_status = f.server_error_status.unwrap_or(faults.server_error_status);
    faults.delay_ms = f.delay_ms.unwrap_or(faults.delay_ms);
    faults.truncate_next = f.truncate_next.unwrap_or(faults.truncate_next);
    faults.expire_tokens_after_pages = f
        .expire_tokens_after_pages
        .or(faults.expire_tokens_after_pages);
    faults.next_link_loop |= f.next_link_loop;
    faults.malformed_next_link |= f.malformed_next_link;
    faults.short_pages |= f.short_pages;
    faults.empty_page_at = f.empty_page_at.or(faults.empty_page_at);
    faults.unstable_paging |= f.unstable_paging;
    faults.duplicate_action_returns_existing |= f.duplicate_action_returns_existing;
    faults.hunting_result_too_large |= f.hunting_result_too_large;
    faults.undecodable_item_next = f
        .undecodable_item_next
        .unwrap_or(faults.undecodable_item_next);
    if let Some(o) = f.action_outcome {
        faults.action_outcome = Some(match o {
            Outcome::Succeeded => ForcedOutcome::Succeeded,
            Outcome::Failed => ForcedOutcome::Failed,
            Outcome::TimeOut => ForcedOutcome::TimeOut,
            Outcome::NeverTerminal => ForcedOutcome::NeverTerminal,
            Outcome::StaysPending => ForcedOutcome::StaysPending,
        });
    }
    faults.lost_answer_next = f.lost_answer_next.unwrap_or(faults.lost_answer_next);
    if let Some(m) = f.lost_answer_mode {
        faults.lost_answer_mode = match m {
            LostMode::GatewayTimeout => LostAnswerMode::GatewayTimeout,
            LostMode::CutBody => LostAnswerMode::CutBody,
            LostMode::Hang => LostAnswerMode::Hang,
        };
    }
    faults.lost_answer_hang_ms = f.lost_answer_hang_ms.or(faults.lost_answer_hang_ms);
    Ok(c)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,server::sim=debug".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut out = std::io::stdout();
    if let Some(Command::WriteNetworkXml {
        seed,
        machines,
        extra_devices,
        out: path,
    }) = cli.command
    {
        std::fs::write(&path, sim::network_xml(seed, machines, extra_devices))?;
        writeln!(out, "wrote {}", path.display())?;
        return Ok(());
    }
    let config = build_config(&cli.run)?;
    let apps = config.apps.clone();
    let running = sim::start(config, cli.run.listen).await?;
    if let Some(path) = &cli.run.network_xml {
        std::fs::write(path, running.control().local_network_xml(25))?;
    }
    writeln!(out, "defender-sim listening on {}", running.base_url())?;
    writeln!(
        out,
        "  token (v2): {}/{{tenant}}/oauth2/v2.0/token",
        running.base_url()
    )?;
    writeln!(out, "  api:        {}/api/machines", running.base_url())?;
    for a in &apps {
        writeln!(out, "  tenant_id:     {}", a.tenant_id)?;
        if let Some(d) = &a.tenant_domain {
            writeln!(out, "  tenant_domain: {d}")?;
        }
        writeln!(out, "  client_id:     {}", a.client_id)?;
        writeln!(out, "  client_secret: {}", a.client_secret)?;
    }
    out.flush()?;
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_and_flags_override() {
        let text = include_str!("../../sim.example.toml");
        let file: FileConfig = toml::from_str(text).unwrap();
        assert_eq!(file.apps.as_ref().map(Vec::len), Some(2));
        let cli = Cli::parse_from([
            "defender-sim",
            "--machines",
            "7",
            "--short-pages",
            "--throttle-next",
            "2",
            "--action-outcome",
            "time-out",
            "--action-pickup-ms",
            "3000",
            "--lost-answer-next",
            "2",
            "--lost-answer-mode",
            "hang",
        ]);
        let c = build_config(&cli.run).unwrap();
        assert_eq!(c.machines, 7);
        assert!(c.faults.short_pages);
        assert_eq!(c.faults.throttle_next, 2);
        assert_eq!(c.faults.action_outcome, Some(ForcedOutcome::TimeOut));
        assert_eq!(c.action_timings.pickup, Duration::from_secs(3));
        assert_eq!(c.action_timings.complete, Duration::from_secs(60));
        assert_eq!(
            c.action_timings.pending_timeout,
            Duration::from_secs(3 * 86_400)
        );
        assert_eq!(
            (c.faults.lost_answer_next, c.faults.lost_answer_mode),
            (2, LostAnswerMode::Hang)
        );
        assert!(c.apps.iter().all(|a| a.cloud == Cloud::Commercial));
        let stays = Cli::parse_from([
            "defender-sim",
            "--action-outcome",
            "stays-pending",
            "--cloud",
            "gcc-high",
        ]);
        let c = build_config(&stays.run).unwrap();
        assert_eq!(c.faults.action_outcome, Some(ForcedOutcome::StaysPending));
        assert_eq!(c.apps[0].cloud, Cloud::GccHigh);
    }
}
