//! Live progress across replicas: the leader writes its runs' progress to the database as it
//! changes, and every follower's event stream shows what the leader last wrote. Without this,
//! a browser whose requests the load balancer sends to a follower would see no sync moving.

use std::time::Duration;

use app::model::sync::SyncProgress;

use super::SyncService;
use std::sync::Arc;

use crate::db::SyncProgressStore;
use crate::leadership::Leader;
use crate::supervisor::StopSignal;

/// How often progress is written or read: a live bar needs no more, and it costs one small
/// statement per replica per tick.
const EVERY: Duration = Duration::from_millis(250);

pub async fn share(
    sync: SyncService,
    store: Arc<dyn SyncProgressStore>,
    leader: Leader,
    mut stop: StopSignal,
) {
    let mut interval = tokio::time::interval(EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // What this replica last wrote (leading) or showed from the database (following).
    let mut last: Option<SyncProgress> = None;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = stop.stopped() => return,
        }
        let local = sync.current_progress();
        if leader.is_leading() {
            if last.as_ref() != Some(&local) {
                let json = serde_json::to_string(&local).expect("progress serialises");
                match store.publish(&json).await {
                    Ok(()) => last = Some(local),
                    Err(e) => tracing::debug!(error = %e, "cannot share the sync progress"),
                }
            }
            continue;
        }
        // A follower's own re-model reports here too: the leader's progress waits until it is
        // done rather than overwrite it.
        let mirrored = last.as_ref() == Some(&local);
        if local.running && !mirrored {
            continue;
        }
        let remote = match store.latest().await {
            Ok(json) => serde_json::from_str::<SyncProgress>(&json).ok(),
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the shared sync progress");
                None
            }
        };
        // `{}` until a leader has written: nothing to show.
        if let Some(remote) = remote.filter(|r| *r != SyncProgress::default()) {
            if remote != local {
                sync.show_progress(remote.clone());
            }
            last = Some(remote);
        }
    }
}
