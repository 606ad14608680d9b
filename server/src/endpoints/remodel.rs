//! Re-model: classify every endpoint with the profile engine and recompute its risk.
//!
//! Endpoints are read in pages by id (keyset), so memory stays flat at 100k endpoints; the
//! vulnerabilities and alerts of a page come in two set-based queries, never one per endpoint.

use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use app::model::risk::RiskLevel;
use serde::Serialize;
use sqlx::SqlitePool;

use super::record::{endpoint_from_row, json_list};
use crate::db::{self, DbError};
use crate::profiles::{
    applicable_dynamic_profiles, Classification, MatchLevel, ProfileEngine, ProfileError,
    ProfileMatch, DYNAMIC_PREFIX,
};
use crate::risk::facts::{
    AlertFact, AlertSeverity, AlertStatus, DefenderFacts, EndpointFacts, MatchConfidence,
    NetworkFact, ProfileFact, VulnFact, VulnSeverity,
};

/// Endpoints per page: big enough for few round trips, small enough for flat memory.
const PAGE: i64 = 5_000;

/// What a re-model did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemodelReport {
    pub endpoints: usize,
    /// Defender dynamic (`⇋`) profiles now in the profile table.
    pub dynamic_profiles: usize,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RemodelError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the factory profiles do not load: {0}")]
    Profiles(#[from] ProfileError),
}

impl From<sqlx::Error> for RemodelError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::Other(e))
    }
}

/// `profiles_considered` entry.
#[derive(Serialize)]
struct Considered<'a> {
    name: &'a str,
    level: String,
    rules: Vec<String>,
}

fn level_text(level: MatchLevel) -> String {
    // The stored form has no space (`VeryHigh`), unlike the UI label.
    format!("{level:?}")
}

/// Classifies every endpoint and recomputes its risk; keeps the `profile` table's factory and
/// `⇋` rows in step with what was assigned. Defender's OS and findings count only while the
/// Defender integration is enabled, so a re-model after disabling it brings no `⇋` back.
#[tracing::instrument(skip_all)]
pub async fn remodel_all(pool: &SqlitePool) -> Result<RemodelReport, RemodelError> {
    let defender = db::integration::get(pool, crate::integrations::DEFENDER)
        .await?
        .is_some_and(|row| row.enabled);
    remodel(pool, defender).await
}

/// The re-model at the end of a sync: Defender data was just imported, so it counts.
pub(crate) async fn remodel_after_sync(pool: &SqlitePool) -> Result<RemodelReport, RemodelError> {
    remodel(pool, true).await
}

/// The Defender integration was disabled: delete every `⇋` profile, forget the classification
/// Defender drove, keep every endpoint (imported ones too), and re-model without Defender's OS
/// so they get standard profiles.
#[tracing::instrument(skip_all)]
pub async fn on_defender_disabled(pool: &SqlitePool) -> Result<RemodelReport, RemodelError> {
    db::profile::delete_dynamic(pool).await?;
    db::endpoint::clear_defender_classification(pool, DYNAMIC_PREFIX).await?;
    remodel(pool, false).await
}

async fn remodel(pool: &SqlitePool, defender: bool) -> Result<RemodelReport, RemodelError> {
    let started = Instant::now();
    let engine = ProfileEngine::factory()?;
    let factory: Vec<String> = engine.profiles().iter().map(|p| p.name.clone()).collect();
    db::profile::ensure(pool, &factory, "factory").await?;
    let configured: HashMap<String, RiskLevel> = db::profile::risky_levels(pool)
        .await?
        .into_iter()
        .filter_map(|(name, level)| Some((name, RiskLevel::parse(&level)?)))
        .collect();
    let threads = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);

    let mut dynamic = BTreeSet::new();
    let mut total = 0usize;
    let mut after = 0i64;
    loop {
        let rows = db::endpoint::facts_page(pool, after, PAGE).await?;
        let Some(last) = rows.last().map(|r| r.endpoint_id) else {
            break;
        };
        let mut endpoints: Vec<_> = rows.iter().map(endpoint_from_row).collect();
        if !defender {
            for e in &mut endpoints {
                e.defender_os = None;
            }
        }
        for os in endpoints.iter().filter_map(|e| e.defender_os.as_ref()) {
            dynamic.extend(applicable_dynamic_profiles(os));
        }
        let classifications = engine.remodel_parallel(&endpoints, threads);
        let mut defender_facts = if defender {
            defender_facts(pool, after, last).await?
        } else {
            HashMap::new()
        };

        let mut assessed_page = Vec::with_capacity(rows.len());
        for ((row, endpoint), class) in rows.iter().zip(&endpoints).zip(&classifications) {
            let (profile_name, match_level, considered) = describe(&engine, class);
            let risky_level = profile_name.as_deref().and_then(|name| {
                configured.get(name).copied().or_else(|| {
                    engine
                        .find(name)
                        .filter(|id| engine.profile(*id).risky)
                        .map(|_| RiskLevel::Medium)
                })
            });
            let facts = EndpointFacts {
                profile: Some(ProfileFact {
                    profile_name: profile_name.clone(),
                    match_level: class.best.as_ref().map(|b| confidence(b.level)),
                    risky_level,
                }),
                network: (row.source_network != 0).then(|| NetworkFact {
                    open_ports: endpoint.open_ports.iter().map(|p| p.port).collect(),
                    smb_v1: false,
                }),
                duplicate_mac: None,
                defender: match (defender, &row.defender_machine_id) {
                    (true, Some(_)) => {
                        Some(defender_facts.remove(&row.endpoint_id).unwrap_or_default())
                    }
                    _ => None,
                },
            };
            let assessed = crate::risk::assess_endpoint(&facts);
            let stored = db::endpoint::Assessed {
                endpoint_id: row.endpoint_id,
                profile_name,
                match_level,
                profiles_considered: considered,
                risk_level: assessed.risk.overall.as_str().to_owned(),
                risk: super::record::to_json(&assessed.risk),
                defender_risk: assessed.defender.as_ref().map(super::record::to_json),
            };
            assessed_page.push(stored);
        }
        let mut tx = pool.begin().await?;
        db::endpoint::store_assessments(&mut tx, &assessed_page).await?;
        tx.commit().await?;
        total += rows.len();
        after = last;
    }

    let dynamic: Vec<String> = dynamic.into_iter().collect();
    db::profile::replace_dynamic(pool, &dynamic).await?;
    Ok(RemodelReport {
        endpoints: total,
        dynamic_profiles: dynamic.len(),
        elapsed: started.elapsed(),
    })
}

fn confidence(level: MatchLevel) -> MatchConfidence {
    match level {
        MatchLevel::VeryHigh | MatchLevel::High => MatchConfidence::High,
        MatchLevel::Medium => MatchConfidence::Medium,
        MatchLevel::Low => MatchConfidence::Low,
    }
}

/// The chosen profile's name and level, and the runners-up as stored JSON.
fn describe(
    engine: &ProfileEngine,
    class: &Classification,
) -> (Option<String>, Option<String>, String) {
    let considered: Vec<Considered> = class
        .considered
        .iter()
        .map(|m| considered_entry(engine, m))
        .collect();
    let name = class
        .best
        .as_ref()
        .map(|b| engine.profile_name(&b.profile).to_owned());
    (
        name,
        class.best.as_ref().map(|b| level_text(b.level)),
        super::record::to_json(&considered),
    )
}

fn considered_entry<'a>(engine: &'a ProfileEngine, m: &'a ProfileMatch) -> Considered<'a> {
    Considered {
        name: engine.profile_name(&m.profile),
        level: level_text(m.level),
        rules: engine.matched_rules(m).map(ToString::to_string).collect(),
    }
}

/// The Defender facts of endpoints `after < id <= upto`, from their representative machines.
async fn defender_facts(
    pool: &SqlitePool,
    after: i64,
    upto: i64,
) -> Result<HashMap<i64, DefenderFacts>, DbError> {
    let mut facts: HashMap<i64, DefenderFacts> = HashMap::new();
    for v in db::machine_vulnerability::for_endpoints(pool, after, upto).await? {
        let list = &mut facts.entry(v.endpoint_id).or_default().vulnerabilities;
        // DISTINCT can still repeat a CVE whose per-row severity differs: keep the first.
        if list.iter().any(|f| f.cve_id == v.cve_id) {
            continue;
        }
        list.push(VulnFact {
            severity: VulnSeverity::parse(v.severity.as_deref().unwrap_or_default()),
            cve_id: v.cve_id,
            cvss_v3: v.cvss_v3,
            public_exploit: v.public_exploit != 0,
            exploit_verified: v.exploit_verified != 0,
            exploit_in_kit: v.exploit_in_kit != 0,
            exploit_types: json_list(&v.exploit_types),
        });
    }
    for a in db::defender_alert::for_endpoints(pool, after, upto).await? {
        facts
            .entry(a.endpoint_id)
            .or_default()
            .alerts
            .push(AlertFact {
                title: a.title.unwrap_or_default(),
                severity: AlertSeverity::parse(a.severity.as_deref().unwrap_or_default()),
                status: AlertStatus::parse(a.status.as_deref().unwrap_or_default()),
                id: a.alert_id,
            });
    }
    Ok(facts)
}
