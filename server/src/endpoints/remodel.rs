//! Re-model: classify every endpoint with the profile engine and recompute its risk.
//!
//! Endpoints are read in pages by id (keyset), so memory stays flat at 100k endpoints. One
//! query per page brings each endpoint's facts, the digest of its stored assessment and its
//! representative machine's vulnerabilities; alerts come in one more query per page and CVE
//! details once per re-model, never one query per endpoint. Reading, assessing (on blocking
//! threads) and writing overlap, and only endpoints whose assessment digest changed are
//! written.

use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use app::model::risk::RiskLevel;
use serde::Serialize;
use tokio::sync::mpsc;

use super::assessment_digest::AssessmentFields;
use super::record::{endpoint_from_row, json_list};
use crate::db::endpoint::{Assessed, PageBounds, RemodelRow};
use crate::db::vulnerability::VulnerabilityDetail;
use crate::db::{AsConn, DbError, Stores};
use crate::profiles::{
    applicable_dynamic_profiles, Classification, MatchLevel, ProfileEngine, ProfileError,
    ProfileMatch, DYNAMIC_PREFIX,
};
use crate::risk::facts::{
    AlertFact, AlertSeverity, AlertStatus, DefenderFacts, DuplicateMacFact, EndpointFacts,
    MatchConfidence, NetworkFact, ProfileFact, Unreadable, VulnFact, VulnSeverity,
};

/// Endpoints per page: big enough for few round trips, small enough that the handful of pages
/// in flight (two being read, one assessed, one written) stay a few tens of MB.
const PAGE: i64 = 2_000;

/// What a re-model did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemodelReport {
    pub endpoints: usize,
    /// Endpoints whose profile or risk changed (and were written).
    pub changed: usize,
    /// Defender dynamic (`⇋`) profiles now in the profile table.
    pub dynamic_profiles: usize,
    pub elapsed: Duration,
}

/// How far a running re-model got: endpoints assessed, of those stored when it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemodelProgress {
    pub done: usize,
    pub total: usize,
}

/// Told after each page, for a progress bar.
pub type ReportProgress<'a> = &'a (dyn Fn(RemodelProgress) + Send + Sync);

#[derive(Debug, thiserror::Error)]
pub enum RemodelError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the factory profiles do not load: {0}")]
    Profiles(#[from] ProfileError),
    #[error("the re-model was stopped before it finished")]
    Interrupted,
    /// The run on the leading replica ended without a report: its recorded reason.
    #[error("{0}")]
    Failed(String),
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
pub async fn remodel_all(stores: &Stores) -> Result<RemodelReport, RemodelError> {
    remodel_all_with_progress(stores, &|_| {}).await
}

/// [`remodel_all`], telling `report` how far it got after each page.
#[tracing::instrument(skip_all)]
pub async fn remodel_all_with_progress(
    stores: &Stores,
    report: ReportProgress<'_>,
) -> Result<RemodelReport, RemodelError> {
    let defender = crate::integrations::defender::is_enabled(&*stores.integrations).await?;
    remodel(stores, defender, report).await
}

/// The re-model at the end of a sync: Defender data was just imported, so it counts.
pub(crate) async fn remodel_after_sync(
    stores: &Stores,
    report: ReportProgress<'_>,
) -> Result<RemodelReport, RemodelError> {
    remodel(stores, true, report).await
}

/// The Defender integration was disabled: delete every `⇋` profile, forget the classification
/// Defender drove, keep every endpoint (imported ones too), and re-model without Defender's OS
/// so they get standard profiles.
#[tracing::instrument(skip_all)]
pub async fn on_defender_disabled(stores: &Stores) -> Result<RemodelReport, RemodelError> {
    stores.profiles.delete_dynamic().await?;
    stores
        .endpoints
        .clear_defender_classification(DYNAMIC_PREFIX)
        .await?;
    remodel(stores, false, &|_| {}).await
}

/// Everything a page's assessment needs besides the page, shared by the worker threads.
struct Context {
    engine: ProfileEngine,
    /// Clones of `engine` the workers take and give back, so their regex caches stay warm
    /// from page to page: a fresh clone starts with empty caches, and refilling them for every
    /// page took about as much CPU time as the matching itself.
    warm_engines: Mutex<Vec<ProfileEngine>>,
    /// The risky level an admin set per profile.
    configured: HashMap<String, RiskLevel>,
    /// CVE details by id; empty when Defender does not count.
    vulnerabilities: HashMap<String, CveDetail>,
    defender: bool,
    /// Defender sources the last sync could not read.
    unreadable: Unreadable,
    threads: NonZeroUsize,
}

/// What the risk rules read of a CVE, parsed once per re-model rather than once per machine.
struct CveDetail {
    severity: Option<VulnSeverity>,
    cvss_v3: Option<f64>,
    public_exploit: bool,
    exploit_verified: bool,
    exploit_in_kit: bool,
    exploit_types: Vec<String>,
}

impl From<VulnerabilityDetail> for CveDetail {
    fn from(v: VulnerabilityDetail) -> Self {
        Self {
            exploit_types: json_list(&v.exploit_types),
            severity: v.severity.as_deref().map(VulnSeverity::parse),
            cvss_v3: v.cvss_v3,
            public_exploit: v.public_exploit,
            exploit_verified: v.exploit_verified,
            exploit_in_kit: v.exploit_in_kit,
        }
    }
}

/// Alerts of representative machines, by endpoint id.
type Alerts = HashMap<i64, Vec<AlertFact>>;

/// One page as read: the endpoints and their representative machines' alerts.
struct Page {
    rows: Vec<RemodelRow>,
    alerts: Alerts,
}

/// One page as assessed.
#[derive(Default)]
struct Outcome {
    endpoints: usize,
    /// Only the endpoints whose stored profile or risk differs.
    changed: Vec<Assessed>,
    dynamic: BTreeSet<String>,
}

async fn remodel(
    stores: &Stores,
    defender: bool,
    report: ReportProgress<'_>,
) -> Result<RemodelReport, RemodelError> {
    let started = Instant::now();
    let engine = ProfileEngine::factory()?;
    let factory: Vec<String> = engine.profiles().iter().map(|p| p.name.clone()).collect();
    stores.profiles.ensure(&factory, "factory").await?;
    let configured: HashMap<String, RiskLevel> = stores
        .profiles
        .risky_levels()
        .await?
        .into_iter()
        .filter_map(|(name, level)| Some((name, RiskLevel::parse(&level)?)))
        .collect();
    let vulnerabilities = if defender {
        stores
            .vulnerabilities
            .details()
            .await?
            .into_iter()
            .map(|v| (v.cve_id.clone(), CveDetail::from(v)))
            .collect()
    } else {
        HashMap::new()
    };
    let unreadable = if defender {
        unreadable_sources(stores).await?
    } else {
        Unreadable::default()
    };
    let context = Arc::new(Context {
        engine,
        warm_engines: Mutex::new(Vec::new()),
        configured,
        vulnerabilities,
        defender,
        unreadable,
        threads: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
    });
    let (count, max_id) = stores.endpoints.count_and_max_id().await?;
    let total = usize::try_from(count).unwrap_or(0);
    report(RemodelProgress { done: 0, total });

    // Three stages run at once: readers fetch pages, pages are assessed on blocking threads,
    // and assessments are written while the next page is assessed. Two readers, one for each
    // half of the ids, keep the database's share of the work on two threads as well; the
    // second reads on past the highest id seen now, as a single reader would.
    let (pages_tx, mut pages) = mpsc::channel(1);
    let half = max_id / 2;
    for (after, upto) in [(0, half), (half, i64::MAX)] {
        tokio::spawn(read_pages(
            stores.clone(),
            defender,
            after,
            upto,
            pages_tx.clone(),
        ));
    }
    drop(pages_tx);
    // Each assessed page goes to the writer with its size, so unchanged pages count as done.
    let (writes_tx, writes) = mpsc::channel::<(usize, Vec<Assessed>)>(1);
    let assess = async move {
        let mut dynamic = BTreeSet::new();
        while let Some(page) = pages.recv().await {
            let page = page?;
            let context = Arc::clone(&context);
            let outcome =
                match tokio::task::spawn_blocking(move || assess_page(&context, page)).await {
                    Ok(outcome) => outcome,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => return Err(RemodelError::Interrupted),
                };
            dynamic.extend(outcome.dynamic);
            if writes_tx
                .send((outcome.endpoints, outcome.changed))
                .await
                .is_err()
            {
                break;
            }
        }
        Ok::<_, RemodelError>(dynamic)
    };
    let write = async move {
        // The writer is the slowest stage when most endpoints change, so copying the log back
        // into the database after each commit happens on a connection of its own, beside the
        // next page's writes; asked after every commit, the log stays a few MB.
        let (checkpoint_tx, checkpoint_rx) = mpsc::channel(1);
        let checkpointer = tokio::spawn(checkpoint_on_request(stores.clone(), checkpoint_rx));
        // Where the store takes several writers at once, each takes the next assessed page as
        // it finishes its last one; the pages hold disjoint endpoints.
        let writes = tokio::sync::Mutex::new(writes);
        let counts = Mutex::new((0usize, 0usize));
        let writer = || async {
            let mut conn = stores.endpoints.assessment_writer().await?;
            loop {
                let next = writes.lock().await.recv().await;
                let Some((endpoints, page)) = next else {
                    break;
                };
                let written = page.len();
                if !page.is_empty() {
                    let mut tx = conn.begin().await?;
                    stores.endpoints.store_assessments(&mut tx, page).await?;
                    tx.commit().await?;
                    // A request already waiting covers this commit too.
                    let _ = checkpoint_tx.try_send(());
                }
                let done = {
                    let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
                    counts.0 += endpoints;
                    counts.1 += written;
                    counts.0
                };
                report(RemodelProgress {
                    done,
                    total: total.max(done),
                });
            }
            conn.close().await?;
            Ok::<_, RemodelError>(())
        };
        let writers = stores.endpoints.assessment_writers().get();
        futures::future::try_join_all((0..writers).map(|_| writer())).await?;
        drop(checkpoint_tx);
        match checkpointer.await {
            Ok(result) => result?,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => return Err(RemodelError::Interrupted),
        }
        let counts = *counts.lock().unwrap_or_else(PoisonError::into_inner);
        Ok::<_, RemodelError>(counts)
    };
    let (dynamic, (done, changed)) = tokio::try_join!(assess, write)?;

    let dynamic: Vec<String> = dynamic.into_iter().collect();
    stores.profiles.replace_dynamic(&dynamic).await?;
    Ok(RemodelReport {
        endpoints: done,
        changed,
        dynamic_profiles: dynamic.len(),
        elapsed: started.elapsed(),
    })
}

/// Why the vulnerabilities or alerts of every machine are unknown, from what the last sync
/// could not read (`defender_source`). Either listing of vulnerabilities refused makes them
/// unknown: the rows and the CVE details come from both.
async fn unreadable_sources(stores: &Stores) -> Result<Unreadable, DbError> {
    let mut unreadable = Unreadable::default();
    for row in stores.defender_sources.unreadable().await? {
        let why = format!(
            "the app registration lacks {} (Microsoft Defender refused the {} listing since {}), \
             so they could not be read.",
            row.missing_permission
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "a permission".into()),
            row.source,
            row.since
        );
        match row.source.as_str() {
            "vulnerabilities" | "machine vulnerabilities" => {
                unreadable.vulnerabilities.get_or_insert(why);
            }
            "alerts" => unreadable.alerts = Some(why),
            _ => {}
        }
    }
    Ok(unreadable)
}

/// Checkpoints the write-ahead log each time it is asked, until the requests stop.
async fn checkpoint_on_request(
    stores: Stores,
    mut requests: mpsc::Receiver<()>,
) -> Result<(), DbError> {
    let mut conn = stores.endpoints.checkpointer().await?;
    while requests.recv().await.is_some() {
        stores.endpoints.checkpoint(&mut conn).await?;
    }
    conn.close().await?;
    Ok(())
}

/// Reads the pages of endpoints `after < id <= upto` in id order into `pages`; stops after an
/// error, or early when the receiver is gone.
async fn read_pages(
    stores: Stores,
    defender: bool,
    mut after: i64,
    upto: i64,
    pages: mpsc::Sender<Result<Page, DbError>>,
) {
    loop {
        let bounds = PageBounds {
            after,
            upto,
            limit: PAGE,
        };
        let page = read_page(&stores, bounds, defender).await;
        let next = match &page {
            Ok(p) => match p.rows.last() {
                Some(last) => Some(last.facts.endpoint_id),
                None => return,
            },
            Err(_) => None,
        };
        if pages.send(page).await.is_err() {
            return;
        }
        match next {
            Some(last) => after = last,
            None => return,
        }
    }
}

async fn read_page(stores: &Stores, bounds: PageBounds, defender: bool) -> Result<Page, DbError> {
    let rows = stores.endpoints.remodel_page(bounds, defender).await?;
    let mut alerts = Alerts::new();
    if let (true, Some(last)) = (defender, rows.last()) {
        let upto = last.facts.endpoint_id;
        for a in stores.alerts.for_endpoints(bounds.after, upto).await? {
            alerts.entry(a.endpoint_id).or_default().push(AlertFact {
                title: a.title.unwrap_or_default(),
                severity: AlertSeverity::parse(a.severity.as_deref().unwrap_or_default()),
                status: AlertStatus::parse(a.status.as_deref().unwrap_or_default()),
                id: a.alert_id,
            });
        }
    }
    Ok(Page { rows, alerts })
}

/// Classifies and assesses one page, split over the available threads.
fn assess_page(context: &Context, mut page: Page) -> Outcome {
    let threads = context.threads.get().min(page.rows.len()).max(1);
    let chunk = page.rows.len().div_ceil(threads).max(1);
    // Each thread takes its endpoints' alerts along, so no map is shared mutably.
    let parts: Vec<(&[RemodelRow], Alerts)> = page
        .rows
        .chunks(chunk)
        .map(|rows| {
            let alerts = rows
                .iter()
                .filter_map(|r| {
                    let id = r.facts.endpoint_id;
                    page.alerts.remove(&id).map(|a| (id, a))
                })
                .collect();
            (rows, alerts)
        })
        .collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .into_iter()
            .map(|(rows, alerts)| scope.spawn(move || assess_rows(context, rows, alerts)))
            .collect();
        let mut outcome = Outcome::default();
        for worker in workers {
            // A panic here is a bug in a pure function; pass it on unchanged.
            let part = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            outcome.endpoints += part.endpoints;
            outcome.changed.extend(part.changed);
            outcome.dynamic.extend(part.dynamic);
        }
        outcome
    })
}

fn assess_rows(context: &Context, rows: &[RemodelRow], alerts: Alerts) -> Outcome {
    // An engine of its own per worker: regex caches are fastest used by one thread at a time.
    let engine = lock(&context.warm_engines)
        .pop()
        .unwrap_or_else(|| context.engine.clone());
    let outcome = assess_with(context, &engine, rows, alerts);
    lock(&context.warm_engines).push(engine);
    outcome
}

/// The engine stores stays usable after a panicking worker: its engines hold only caches.
fn lock(engines: &Mutex<Vec<ProfileEngine>>) -> MutexGuard<'_, Vec<ProfileEngine>> {
    engines.lock().unwrap_or_else(PoisonError::into_inner)
}

fn assess_with(
    context: &Context,
    engine: &ProfileEngine,
    rows: &[RemodelRow],
    mut alerts: Alerts,
) -> Outcome {
    let mut scratch = engine.scratch();
    let mut outcome = Outcome {
        endpoints: rows.len(),
        ..Outcome::default()
    };
    for row in rows {
        let mut endpoint = endpoint_from_row(&row.facts);
        if !context.defender {
            endpoint.defender_os = None;
            endpoint.defender_device = crate::inventory::DefenderDevice::default();
        }
        if let Some(os) = endpoint.defender_os.as_ref() {
            outcome.dynamic.extend(applicable_dynamic_profiles(os));
        }
        let class = engine.classify_with(&endpoint, &mut scratch);
        let (profile_name, match_level, considered) = describe(engine, &class);
        let risky_level = profile_name.as_deref().and_then(|name| {
            context.configured.get(name).copied().or_else(|| {
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
            network: (row.facts.source_network != 0).then(|| NetworkFact {
                open_ports: endpoint.open_ports.iter().map(|p| p.port).collect(),
                smb_v1: false,
            }),
            duplicate_mac: context
                .defender
                .then(|| duplicate_mac_fact(row.facts.mac_conflicts.as_deref()))
                .flatten(),
            defender: match (context.defender, &row.facts.defender_machine_id) {
                (true, Some(_)) => Some(DefenderFacts {
                    vulnerabilities: vulnerability_facts(row, &context.vulnerabilities),
                    alerts: alerts.remove(&row.facts.endpoint_id).unwrap_or_default(),
                    unreadable: context.unreadable.clone(),
                }),
                _ => None,
            },
        };
        let assessed = crate::risk::assess_endpoint(&facts);
        let risk = super::stored_assessment::to_json(&assessed.risk);
        let defender_risk = assessed
            .defender
            .as_ref()
            .map(super::stored_assessment::defender_to_json);
        let digest = AssessmentFields {
            profile_name: profile_name.as_deref(),
            match_level: match_level.as_deref(),
            profiles_considered: &considered,
            risk_level: assessed.risk.overall.as_str(),
            risk: &risk,
            defender_risk: defender_risk.as_deref(),
        }
        .digest();
        // Only what differs from the stored assessment is written.
        if row.assessment_digest != Some(digest) {
            outcome.changed.push(Assessed {
                endpoint_id: row.facts.endpoint_id,
                profile_name,
                match_level,
                profiles_considered: considered,
                risk_level: assessed.risk.overall.as_str().to_owned(),
                risk,
                defender_risk,
                digest,
            });
        }
    }
    outcome
}

/// The first MAC of the endpoint that several live Defender machines report, as the
/// duplicate-MAC assessment reads it; `None` (no assessment) when there is none.
fn duplicate_mac_fact(conflicts: Option<&str>) -> Option<DuplicateMacFact> {
    #[derive(serde::Deserialize)]
    struct Stored {
        mac: String,
        machines: Vec<String>,
    }
    let first = serde_json::from_str::<Vec<Stored>>(conflicts?)
        .ok()?
        .into_iter()
        .next()?;
    Some(DuplicateMacFact {
        mac: first.mac,
        sightings: Vec::new(),
        defender_machines: first.machines,
    })
}

/// The representative machine's vulnerabilities, one per CVE, with the CVE's details.
fn vulnerability_facts(row: &RemodelRow, details: &HashMap<String, CveDetail>) -> Vec<VulnFact> {
    let mut list: Vec<VulnFact> = Vec::new();
    for (cve_id, row_severity) in row.vulnerabilities() {
        // One row per affected product: the CVE counts once, and the first row stands.
        if list.iter().any(|f| f.cve_id == cve_id) {
            continue;
        }
        let detail = details.get(cve_id);
        // The CVE's own severity wins; the machine row's is the fallback (§4.12 rows carry one).
        let severity = detail
            .and_then(|d| d.severity)
            .unwrap_or_else(|| VulnSeverity::parse(row_severity));
        list.push(VulnFact {
            cve_id: cve_id.to_owned(),
            severity,
            cvss_v3: detail.and_then(|d| d.cvss_v3),
            public_exploit: detail.is_some_and(|d| d.public_exploit),
            exploit_verified: detail.is_some_and(|d| d.exploit_verified),
            exploit_in_kit: detail.is_some_and(|d| d.exploit_in_kit),
            exploit_types: detail.map(|d| d.exploit_types.clone()).unwrap_or_default(),
        });
    }
    list
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
