//! One sync run against Defender: stage every listing (`fetch`), apply it in one transaction
//! (`apply`), re-model, and journal the run in `sync_run`.

use crate::db::sync_run::{SkipRecord, SyncRunTotals};
use crate::db::{self, Stores, SyncRunStore};
use crate::defender::skipped::SkippedItem;
use crate::defender::DefenderClient;
use crate::endpoints::InactiveAfter;
use crate::integrations::defender::{self, ForSync, Unusable};

use super::apply::apply;
use super::apply::Applied;
use super::fetch::{fetch, Forbidden};

/// What the staging and apply phases hand back: the apply's figures, the skipped items and
/// the listings left out.
type Staged = (Applied, Vec<SkippedItem>, Vec<Forbidden>);
use super::progress::{Progress, APPLYING};
use super::risk_record::{record_risk, HistoryRetention};
use super::service::{Inner, SyncOutcome};
use super::step_timing::timed;

/// How a run ended, for the journal.
#[derive(Default)]
struct RunResult {
    outcome: &'static str,
    summary: String,
    error: Option<String>,
    notes: Vec<String>,
    totals: SyncRunTotals,
    skipped: Vec<SkipRecord>,
    forbidden: Vec<Forbidden>,
    /// Defender's action listing added or changed actions here.
    actions_found: bool,
}

impl RunResult {
    fn failed(message: String, totals: SyncRunTotals) -> Self {
        Self {
            outcome: "Failed",
            summary: message.clone(),
            error: Some(message),
            totals,
            ..Self::default()
        }
    }
}

/// Closes the run's journal row with its outcome, figures, notes, refusals and skipped items.
async fn journal(
    runs: &dyn SyncRunStore,
    id: i64,
    finished: &str,
    result: &RunResult,
) -> Result<(), crate::db::DbError> {
    let notes = (!result.notes.is_empty()).then(|| result.notes.join(" "));
    let missing = (!result.forbidden.is_empty()).then(|| {
        let list: Vec<serde_json::Value> = result
            .forbidden
            .iter()
            .map(|f| serde_json::json!({"source": f.source.as_str(), "permissions": f.permissions}))
            .collect();
        serde_json::Value::Array(list).to_string()
    });
    runs.finish(
        id,
        db::sync_run::Finished {
            at: finished,
            outcome: result.outcome,
            totals: &result.totals,
            error: result.error.as_deref(),
            notes: notes.as_deref(),
            missing_permissions: missing.as_deref(),
        },
    )
    .await?;
    runs.record_skips(id, &result.skipped).await
}

/// Reads the saved configuration, syncs, and records the outcome on the integration (its
/// Error state shows the last failure) and in the `sync_run` journal.
#[tracing::instrument(skip_all, fields(%reason))]
pub(crate) async fn run_once(inner: &Inner, reason: &'static str) -> SyncOutcome {
    let stores = &inner.db;
    let runs = &*stores.sync_runs;
    // One run at a time per process: a row still Running was cut short by a restart.
    if let Err(e) = runs.abandon_running(&db::now()).await {
        tracing::warn!(error = %e, "could not close interrupted sync journal rows");
    }
    let run_id = match runs.start(&db::now(), reason).await {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::error!(error = %e, "could not open the sync journal row");
            None
        }
    };
    let result = match client(inner).await {
        Ok(ForSync {
            client,
            import_groups,
        }) => {
            sync_with(
                stores,
                &client,
                &import_groups,
                inner.inactive_after,
                inner.history,
                inner.progress(),
                Some(&inner.merge_lock),
            )
            .await
        }
        Err(message) => RunResult::failed(message, SyncRunTotals::default()),
    };
    if result.actions_found {
        inner.actions_found();
    }
    let finished = db::now();
    if let Some(id) = run_id {
        if let Err(e) = journal(runs, id, &finished, &result).await {
            tracing::error!(error = %e, "could not finish the sync journal row");
        }
    }
    if let Err(e) = defender::record_sync(
        &*inner.db.integrations,
        &finished,
        result.outcome,
        result.error.as_deref(),
    )
    .await
    {
        tracing::error!(error = %e, "could not record the sync outcome");
    }
    let outcome = SyncOutcome {
        ok: result.error.is_none(),
        summary: result.summary,
    };
    tracing::info!(ok = outcome.ok, summary = %outcome.summary, "sync finished");
    outcome
}

async fn client(inner: &Inner) -> Result<ForSync, String> {
    defender::client_for_sync(
        &*inner.db.integrations,
        &inner.secrets,
        inner.options.clone(),
    )
    .await
    .map_err(|e| match e {
        // The journal and the integration's Error state have always said it this way.
        Unusable::Disabled => "Microsoft Defender is disabled.".to_owned(),
        e => e.to_string(),
    })
}

/// The sync proper, given a client: usable from benchmarks and tests without the stored
/// integration. Returns the journal figures.
async fn sync_with(
    stores: &Stores,
    client: &DefenderClient,
    import_groups: &[String],
    inactive_after: InactiveAfter,
    history: HistoryRetention,
    progress: Progress<'_>,
    merge_lock: Option<&tokio::sync::Mutex<()>>,
) -> RunResult {
    let mut totals = SyncRunTotals::default();
    let recent_since = db::format_time(time::OffsetDateTime::now_utc() - inactive_after.duration());
    let result = stage_and_apply(
        stores,
        client,
        import_groups,
        progress,
        &recent_since,
        merge_lock,
    )
    .await;
    let metrics = client.metrics();
    totals.api_calls = i64::try_from(metrics.api_calls).unwrap_or(i64::MAX);
    totals.throttle_wait_ms = i64::try_from(metrics.throttle_wait().as_millis()).unwrap_or(0);
    let (applied, skipped, forbidden) = match result {
        Ok(done) => done,
        Err(message) => return RunResult::failed(message, totals),
    };
    totals.skipped_items = i64::try_from(applied.skipped_total).unwrap_or(i64::MAX);
    totals.machines_seen = applied.diff.seen;
    totals.machines_added = applied.diff.added;
    totals.machines_updated = applied.diff.updated;
    totals.machines_unchanged = applied.diff.unchanged;
    totals.alerts = applied.alerts;
    totals.alerts_since = applied.alerts_since.clone();
    totals.machine_vulnerabilities_since = applied.machine_vulnerabilities_since.clone();
    totals.vulnerabilities = applied.vulnerabilities;
    totals.machine_vulnerabilities = applied.machine_vulnerabilities;
    totals.vulnerabilities_new = applied.vulnerability_changes.map(|c| c.new);
    totals.vulnerabilities_fixed = applied.vulnerability_changes.map(|c| c.fixed);
    let mut notes = applied.notes;
    // Derived data: a failure here leaves the imported data committed, and the next run or
    // re-model fixes the classification.
    let remodelled = |step| progress.remodelled(step);
    match timed(
        "re-model",
        crate::endpoints::remodel_after_sync(stores, &remodelled),
    )
    .await
    {
        // The history records assessments of this run's data, so only after its re-model.
        Ok(_) => {
            if let Err(e) = timed("risk history", record_risk(stores, history)).await {
                tracing::error!(error = %e, "recording the risk history failed");
                notes.push(format!("The risk history was not recorded: {e}."));
            }
            if let Err(e) = timed("cve exposure", stores.cve_exposure.rebuild()).await {
                tracing::error!(error = %e, "counting each CVE's endpoints by group failed");
                notes.push(format!(
                    "The Vulnerabilities page's counts by device group were not updated: {e}."
                ));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "re-model after sync failed");
            notes.push(format!("Re-model failed: {e}."));
        }
    }
    if let Err(e) = timed(
        "mark inactive",
        crate::endpoints::mark_inactive(stores, inactive_after),
    )
    .await
    {
        tracing::error!(error = %e, "marking inactive endpoints failed");
    }
    if applied.actions.added > 0 {
        notes.push(format!(
            "{} machine action{} started outside this console {} found in Defender.",
            applied.actions.added,
            if applied.actions.added == 1 { "" } else { "s" },
            if applied.actions.added == 1 {
                "was"
            } else {
                "were"
            },
        ));
    }
    RunResult {
        outcome: if applied.partial {
            "Partial"
        } else {
            "Succeeded"
        },
        summary: format!(
            "{} machines ({} added, {} updated, {} unchanged), {} alerts{}, {} vulnerabilities",
            applied.diff.seen,
            applied.diff.added,
            applied.diff.updated,
            applied.diff.unchanged,
            applied.alerts,
            match &applied.alerts_since {
                Some(since) => format!(" changed since {since}"),
                None => String::new(),
            },
            applied.vulnerabilities
        ),
        error: None,
        notes,
        totals,
        skipped: skipped
            .into_iter()
            .map(|s| SkipRecord {
                listing: s.listing.to_string(),
                item_id: s.id,
                field: s.field,
                reason: s.reason,
            })
            .collect(),
        forbidden,
        actions_found: applied.actions.added + applied.actions.updated + applied.actions.confirmed
            > 0,
    }
}

async fn stage_and_apply(
    stores: &Stores,
    client: &DefenderClient,
    import_groups: &[String],
    progress: Progress<'_>,
    recent_since: &str,
    merge_lock: Option<&tokio::sync::Mutex<()>>,
) -> Result<Staged, String> {
    // One connection for the whole run: the staging tables are temporary, per connection.
    let mut conn = stores
        .database
        .acquire()
        .await
        .map_err(|e| format!("database error: {e}"))?;
    let result = async {
        let fetched = fetch(stores, client, &mut conn, progress, import_groups)
            .await
            .map_err(|e| e.to_string())?;
        progress.begin(APPLYING, None);
        // A split an admin makes meanwhile waits for the apply, and the other way round.
        let _merging = match merge_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let applied = timed("apply", apply(stores, &mut conn, &fetched, recent_since))
            .await
            .map_err(|e| format!("database error while applying the sync: {e}"))?;
        Ok((applied, fetched.skipped, fetched.forbidden))
    }
    .await;
    // Hand the connection back small, whatever happened.
    if let Err(e) = timed("clear staging", stores.staging.clear(&mut conn)).await {
        tracing::warn!(error = %e, "could not empty the staging tables");
    }
    result
}

/// Runs one full sync with a ready client, journaled like a scheduled run (for benchmarks and
/// tools that do not go through the stored integration).
pub async fn sync_with_client(
    stores: &Stores,
    client: &DefenderClient,
    reason: &str,
    inactive_after: InactiveAfter,
) -> Result<String, String> {
    let run_id = stores
        .sync_runs
        .start(&db::now(), reason)
        .await
        .map_err(|e| e.to_string())?;
    // Every device group: these callers have no stored allow-list.
    let result = sync_with(
        stores,
        client,
        &[],
        inactive_after,
        HistoryRetention::default(),
        Progress::none(),
        None,
    )
    .await;
    journal(&*stores.sync_runs, run_id, &db::now(), &result)
        .await
        .map_err(|e| e.to_string())?;
    match result.error {
        None => Ok(result.summary),
        Some(e) => Err(e),
    }
}
