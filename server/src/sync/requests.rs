//! Work asked of the leading replica: syncs (`duty_request`), which the leader runs or joins,
//! so simultaneous requests give one run, and full re-models (`remodel_run`), which it claims
//! and runs one at a time.

use std::time::Duration;

use super::remodel_job::Runner;
use super::SyncService;
use crate::supervisor::StopSignal;

/// The duty name of a sync request.
pub const SYNC: &str = "sync";

/// How often the leader looks for requests: a click on another replica starts within this.
pub const EVERY: Duration = Duration::from_millis(500);

/// The leader's loop: takes and runs requests until `stop` (the server stops, or this replica
/// stops leading), which also cancels a re-model it started.
pub async fn serve(sync: SyncService, mut stop: StopSignal) {
    let mut interval = tokio::time::interval(EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut remodels = Runner::default();
    let replica = sync.replica();
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = sync.remodel_asked() => {}
            () = stop.stopped() => {
                remodels.stop(&*sync.stores().remodel_runs).await;
                return;
            }
        }
        remodels.take_waiting(sync.stores(), &replica).await;
        match sync.stores().leases.take_request(SYNC).await {
            Ok(Some(reason)) => {
                tracing::info!(reason = %reason, "running a sync another replica asked for");
                sync.run_here(journal_reason(&reason));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read sync requests"),
        }
    }
}

/// The journal keeps the reason the asking replica gave; reasons are a closed set.
fn journal_reason(reason: &str) -> &'static str {
    match reason {
        "sync now" => "sync now",
        "enabled" => "enabled",
        "schedule" => "schedule",
        _ => "requested",
    }
}
