//! Syncs asked of the leading replica by the others (`duty_request`): the leader takes each
//! request and runs it, or joins the run going, so simultaneous requests give one run.

use std::time::Duration;

use super::SyncService;
use crate::db::lease;
use crate::supervisor::StopSignal;

/// The duty name of a sync request.
pub const SYNC: &str = "sync";

/// How often the leader looks for requests: a click on another replica starts within this.
pub const EVERY: Duration = Duration::from_millis(500);

/// The leader's loop: takes and runs requests until `stop`.
pub async fn serve(sync: SyncService, mut stop: StopSignal) {
    let mut interval = tokio::time::interval(EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = stop.stopped() => return,
        }
        match lease::take_request(sync.pool(), SYNC).await {
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
