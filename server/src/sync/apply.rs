//! Phase two of a run: apply the staged listings to the real tables in one transaction, and
//! merge machines into endpoints (`merge_write`). Either all of it commits or none of it does.
//!
//! A listing the app may not read leaves its stored rows as they were (they stay visible, and
//! the risk they feed reads unknown); items that could not be decoded keep what they stand for
//! (`sync_stage`).

use super::fetch::{Fetched, Source, ACTIONS_CURSOR};
use super::merge_write;
use super::step_timing::timed;
use crate::db::machine_action_sync::ActionsApplied;
use crate::db::sync_stage::{MachineDiff, MachineVulnerabilityChanges};
use crate::db::{self, AsConn, DbError, Stores};

/// A listing shorter than this share of the machines present before is treated as suspect:
/// nothing is marked gone (a tenant does not lose half its devices in an hour).
const GONE_GUARD_RATIO: f64 = 0.5;

/// What the apply phase did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub diff: MachineDiff,
    pub vulnerabilities: i64,
    pub machine_vulnerabilities: i64,
    /// What the machine-vulnerability listing changed; `None` when the stored rows were kept.
    pub vulnerability_changes: Option<MachineVulnerabilityChanges>,
    pub alerts: i64,
    /// Where the alert listing started; `None` when it listed every alert.
    pub alerts_since: Option<String>,
    /// Where the machine-vulnerability listing started (the change feed); `None` when it
    /// listed every row.
    pub machine_vulnerabilities_since: Option<String>,
    pub actions: ActionsApplied,
    pub marked_gone: u64,
    /// Items that could not be decoded, in all listings.
    pub skipped_total: u64,
    /// Some listing was incomplete, refused or had undecodable items, so the run is `Partial`.
    pub partial: bool,
    pub notes: Vec<String>,
}

/// Applies the staged rows and the merge in one transaction, with a page cache big enough
/// for it (`sync_stage::widen_cache`), given back afterwards whatever happened. IP + host name
/// evidence counts from `recent_since` on (the start of the inactivity window).
pub async fn apply(
    stores: &Stores,
    conn: &mut impl AsConn,
    fetched: &Fetched,
    recent_since: &str,
) -> Result<Applied, DbError> {
    let restore = stores.staging.widen_cache(conn).await?;
    let applied = apply_in_transaction(stores, conn, fetched, recent_since).await;
    if let Err(e) = stores.staging.restore_cache(conn, restore).await {
        tracing::warn!(error = %e, "could not give back the sync's page cache");
    }
    applied
}

async fn apply_in_transaction(
    stores: &Stores,
    conn: &mut impl AsConn,
    fetched: &Fetched,
    recent_since: &str,
) -> Result<Applied, DbError> {
    let synced_at = db::now();
    // Reads (the diff) before it writes: a write transaction, see `AsConn::begin_write`.
    let mut tx = conn.begin_write().await?;
    let diff = timed("machine diff", stores.staging.machine_diff(&mut tx)).await?;
    let mut applied = Applied {
        diff,
        partial: fetched.machines_partial
            || fetched.machine_vulnerabilities_partial
            || fetched.other_partial
            || !fetched.forbidden.is_empty()
            || fetched.skipped_total > 0,
        notes: fetched.notes.clone(),
        skipped_total: fetched.skipped_total,
        alerts_since: fetched.alerts.since.clone(),
        machine_vulnerabilities_since: fetched.machine_vulnerability_window.since.clone(),
        ..Applied::default()
    };
    timed(
        "apply machines",
        stores.staging.apply_machines(&mut tx, &synced_at),
    )
    .await?;

    let too_short = (diff.seen as f64) < (diff.previously_present as f64) * GONE_GUARD_RATIO;
    if fetched.machines_partial {
        // Already noted by the fetch phase.
    } else if too_short {
        applied.partial = true;
        applied.notes.push(format!(
            "The machine listing returned {} machines, fewer than half of the {} present \
             before: nothing was marked gone.",
            diff.seen, diff.previously_present
        ));
    } else {
        applied.marked_gone = timed("mark gone", stores.staging.mark_missing_gone(&mut tx)).await?;
    }

    let readable = |source| !fetched.is_forbidden(source);
    if readable(Source::Vulnerabilities) {
        applied.vulnerabilities = timed(
            "apply vulnerabilities",
            stores.staging.apply_vulnerabilities(&mut tx, &synced_at),
        )
        .await?;
    }
    if fetched.machine_vulnerabilities_partial || !readable(Source::MachineVulnerabilities) {
        applied.machine_vulnerabilities = stores
            .staging
            .count(&mut tx, "machine_vulnerability")
            .await?;
    } else {
        let window = &fetched.machine_vulnerability_window;
        let changes = if window.since.is_none() {
            timed(
                "apply machine vulnerabilities",
                stores
                    .staging
                    .apply_machine_vulnerabilities(&mut tx, &synced_at),
            )
            .await?
        } else {
            timed(
                "apply machine vulnerability changes",
                stores
                    .staging
                    .apply_vulnerability_changes(&mut tx, &synced_at),
            )
            .await?
        };
        if let Some(window) = window.to_advance() {
            window
                .advance(
                    stores,
                    &mut tx,
                    Some(&fetched.machine_vulnerabilities_listed_from),
                    &synced_at,
                )
                .await?;
        }
        applied.machine_vulnerabilities = changes.listed;
        applied.vulnerability_changes = Some(changes);
    }
    if readable(Source::Alerts) {
        applied.alerts = timed(
            "apply alerts",
            stores.staging.apply_alerts(&mut tx, &synced_at),
        )
        .await?;
        if let Some(window) = fetched.alerts.to_advance() {
            // Defender's own times: the latest change listed.
            let latest = stores.staging.latest_alert_update(&mut tx).await?;
            window
                .advance(stores, &mut tx, latest.as_deref(), &synced_at)
                .await?;
        }
    }
    if fetched.software.listed {
        stores
            .software
            .replace(
                &mut tx,
                &fetched.software.rows,
                &fetched.software.kept,
                &synced_at,
            )
            .await?;
    }

    timed(
        "merge",
        merge_write::merge_machines(stores, &mut tx, recent_since),
    )
    .await?;
    // Actions go to endpoints through their machines, so after the merge.
    if readable(Source::MachineActions) {
        let (actions, latest) = timed("apply actions", stores.action_sync.apply(&mut tx)).await?;
        applied.actions = actions;
        if let Some(latest) = latest {
            stores
                .sync_cursors
                .advance(&mut tx, ACTIONS_CURSOR, &latest)
                .await?;
        }
    }
    for source in [
        Source::Vulnerabilities,
        Source::MachineVulnerabilities,
        Source::Alerts,
        Source::MachineActions,
        Source::Software,
    ] {
        let refusal = fetched.forbidden.iter().find(|f| f.source == source);
        let missing = refusal.map(|f| f.permissions.join(" or "));
        stores
            .defender_sources
            .record(
                &mut tx,
                source.as_str(),
                refusal.is_none(),
                missing.as_deref(),
                &synced_at,
            )
            .await?;
    }
    timed("commit", tx.commit()).await?;
    Ok(applied)
}
