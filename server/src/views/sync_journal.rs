//! The sync journal: the latest runs with their counts, the permissions they lacked and the
//! first items each could not decode.

use app::model::endpoint::{MissingPermissionView, SkippedItemView, SyncRunView};

use crate::db::sync_run_query::SyncRunRow;
use crate::db::DbError;
use crate::db::SyncJournalQuery;

/// Skipped items shown per run in the journal.
const SKIPS_SHOWN: i64 = 20;

fn sync_view(r: SyncRunRow, skipped: Vec<SkippedItemView>) -> SyncRunView {
    let missing: Vec<serde_json::Value> = r
        .missing_permissions
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    SyncRunView {
        skipped_items: r.skipped_items,
        skipped,
        missing_permissions: missing
            .into_iter()
            .map(|m| MissingPermissionView {
                source: m["source"].as_str().unwrap_or_default().to_owned(),
                permissions: m["permissions"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| p.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        started_at: r.started_at,
        finished_at: r.finished_at,
        reason: r.reason,
        outcome: r.outcome,
        machines_seen: r.machines_seen,
        machines_added: r.machines_added,
        machines_updated: r.machines_updated,
        machines_unchanged: r.machines_unchanged,
        alerts: r.alerts,
        alerts_since: r.alerts_since,
        vulnerabilities: r.vulnerabilities,
        machine_vulnerabilities_since: r.machine_vulnerabilities_since,
        vulnerabilities_new: r.vulnerabilities_new,
        vulnerabilities_fixed: r.vulnerabilities_fixed,
        api_calls: r.api_calls,
        throttle_wait_ms: r.throttle_wait_ms,
        error: r.error,
        notes: r.notes,
    }
}

pub async fn journal(runs: &dyn SyncJournalQuery, limit: i64) -> Result<Vec<SyncRunView>, DbError> {
    let mut views = Vec::new();
    for run in runs.recent(limit).await? {
        let skipped = if run.skipped_items > 0 {
            runs.skips(run.sync_run_id, SKIPS_SHOWN)
                .await?
                .into_iter()
                .map(|s| SkippedItemView {
                    listing: s.listing,
                    item_id: s.item_id,
                    field: s.field,
                    reason: s.reason,
                })
                .collect()
        } else {
            Vec::new()
        };
        views.push(sync_view(run, skipped));
    }
    Ok(views)
}
