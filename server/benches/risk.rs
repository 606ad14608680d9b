//! Benchmark: recompute the risk of 100,000 synthetic endpoints (goal: under 2 s).
//!
//! The facts are generated deterministically (a fixed-seed splitmix64), about 10
//! vulnerabilities and 0.5 alerts per endpoint, plus open ports, a profile and, for a few, a
//! duplicate MAC. Only the risk computation is timed, not building the facts.
//! Run with `cargo bench --bench risk`.

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use app::model::risk::RiskLevel;
use server::risk::assess_endpoint;
use server::risk::facts::{
    AlertFact, AlertSeverity, AlertStatus, DefenderFacts, DuplicateMacFact, EndpointFacts,
    MacSighting, MatchConfidence, NetworkFact, ProfileFact, VulnFact, VulnSeverity,
};

const ENDPOINTS: usize = 100_000;
const ROUNDS: usize = 5;
/// The performance goal for a full recomputation.
const GOAL: Duration = Duration::from_secs(2);

/// splitmix64: tiny, fast and the same on every machine, so every run sees the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn vuln(rng: &mut Rng) -> VulnFact {
    let severity = *rng.pick(&[
        VulnSeverity::Low,
        VulnSeverity::Medium,
        VulnSeverity::Medium,
        VulnSeverity::High,
        VulnSeverity::Critical,
    ]);
    let public_exploit = rng.chance(20);
    VulnFact {
        cve_id: format!("CVE-2031-{:05}", rng.below(50_000)),
        severity,
        cvss_v3: (!rng.chance(10)).then(|| rng.below(101) as f64 / 10.0),
        public_exploit,
        exploit_verified: public_exploit && rng.chance(30),
        exploit_in_kit: public_exploit && rng.chance(10),
        exploit_types: if public_exploit {
            vec![rng
                .pick(&["Remote", "Local", "Denial of service"])
                .to_string()]
        } else {
            Vec::new()
        },
    }
}

fn alert(rng: &mut Rng, n: usize) -> AlertFact {
    AlertFact {
        id: format!("da{n}_{}", rng.below(1_000_000)),
        title: "Suspicious process behaviour".into(),
        severity: *rng.pick(&[
            AlertSeverity::Informational,
            AlertSeverity::Low,
            AlertSeverity::Medium,
            AlertSeverity::High,
        ]),
        status: *rng.pick(&[
            AlertStatus::New,
            AlertStatus::InProgress,
            AlertStatus::Resolved,
        ]),
    }
}

fn endpoint(rng: &mut Rng, n: usize) -> EndpointFacts {
    const PORTS: [u16; 16] = [
        22, 80, 443, 445, 139, 3389, 23, 21, 161, 5900, 1883, 3306, 5432, 6379, 8080, 9100,
    ];
    let vulnerabilities = (0..rng.below(21)).map(|_| vuln(rng)).collect();
    // 0, 0, 0, 0, 0, 1, 1, 2: half an alert per endpoint on average.
    let alert_count = [0, 0, 0, 0, 0, 1, 1, 2][rng.below(8) as usize];
    let alerts = (0..alert_count).map(|_| alert(rng, n)).collect();
    let profiled = rng.chance(90);
    EndpointFacts {
        profile: Some(ProfileFact {
            profile_name: profiled.then(|| "Windows workstation".to_string()),
            match_level: Some(*rng.pick(&[
                MatchConfidence::Low,
                MatchConfidence::Medium,
                MatchConfidence::High,
            ])),
            risky_level: rng.chance(5).then_some(RiskLevel::High),
        }),
        network: Some(NetworkFact {
            open_ports: (0..rng.below(6)).map(|_| *rng.pick(&PORTS)).collect(),
            smb_v1: rng.chance(2),
        }),
        duplicate_mac: rng.chance(2).then(|| DuplicateMacFact {
            mac: format!("00155D{:06X}", n),
            sightings: vec![
                MacSighting {
                    site: "hq".into(),
                    subnet: "10.0.1.0/24".into(),
                    ip: "10.0.1.5".into(),
                },
                MacSighting {
                    site: "lab".into(),
                    subnet: "10.9.0.0/16".into(),
                    ip: "10.9.0.7".into(),
                },
            ],
            defender_machines: Vec::new(),
        }),
        // Every endpoint is matched to a Defender machine: the heaviest case.
        defender: Some(DefenderFacts {
            unreadable: Default::default(),
            vulnerabilities,
            alerts,
        }),
    }
}

fn main() -> std::io::Result<()> {
    let mut rng = Rng(0x5EED);
    let endpoints: Vec<EndpointFacts> = (0..ENDPOINTS).map(|n| endpoint(&mut rng, n)).collect();
    let vulns: usize = endpoints
        .iter()
        .filter_map(|e| e.defender.as_ref())
        .map(|d| d.vulnerabilities.len())
        .sum();
    let alerts: usize = endpoints
        .iter()
        .filter_map(|e| e.defender.as_ref())
        .map(|d| d.alerts.len())
        .sum();

    let mut times = Vec::with_capacity(ROUNDS);
    let mut per_level = [0usize; 5];
    for _ in 0..ROUNDS {
        per_level = [0; 5];
        let start = Instant::now();
        for facts in &endpoints {
            let result = black_box(assess_endpoint(black_box(facts)));
            per_level[result.risk.overall as usize] += 1;
        }
        times.push(start.elapsed());
    }
    times.sort();

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "risk: {ENDPOINTS} endpoints ({vulns} vulnerabilities, {alerts} alerts), {ROUNDS} rounds"
    )?;
    writeln!(
        out,
        "risk: best {:.3} s, median {:.3} s, worst {:.3} s per full recomputation \
         ({:.2} µs per endpoint, median)",
        times[0].as_secs_f64(),
        times[ROUNDS / 2].as_secs_f64(),
        times[ROUNDS - 1].as_secs_f64(),
        times[ROUNDS / 2].as_secs_f64() * 1e6 / ENDPOINTS as f64,
    )?;
    let levels: Vec<String> = RiskLevel::ALL
        .iter()
        .map(|level| format!("{} {}", level.as_str(), per_level[*level as usize]))
        .collect();
    writeln!(out, "risk: overall levels: {}", levels.join(", "))?;
    let verdict = if times[ROUNDS / 2] < GOAL {
        "met"
    } else {
        "MISSED"
    };
    writeln!(out, "risk: goal < {} s: {verdict}", GOAL.as_secs())?;
    Ok(())
}
