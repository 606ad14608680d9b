//! The hourly schedule. Its state is `integration.next_sync_at`, so it survives restarts; a
//! run missed while the server was down happens once at the next tick, and the cadence stays
//! anchored to the moment the integration was enabled.

use std::time::Duration;

use time::OffsetDateTime;

use crate::db;
use crate::integrations::defender;
use crate::supervisor::StopSignal;

use super::SyncService;

pub const INTERVAL: time::Duration = time::Duration::hours(1);

/// The first slot after `now` on the cadence that started at `scheduled`.
pub fn next_slot(scheduled: OffsetDateTime, now: OffsetDateTime) -> OffsetDateTime {
    if scheduled > now {
        return scheduled;
    }
    let missed = ((now - scheduled).whole_seconds() / INTERVAL.whole_seconds()) + 1;
    scheduled + INTERVAL * (missed as i32)
}

/// Fires a sync when one is due; returns whether it did. Tests drive this directly.
pub async fn tick(sync: &SyncService, now: OffsetDateTime) -> bool {
    let integrations = &*sync.stores().integrations;
    let due = match defender::next_sync_due(integrations).await {
        Ok(Some(due)) => due,
        Ok(None) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "schedule: cannot read the integration");
            return false;
        }
    };
    if due > now {
        return false;
    }
    let next = db::format_time(next_slot(due, now));
    if let Err(e) = defender::schedule_next_sync(integrations, &next).await {
        tracing::warn!(error = %e, "schedule: cannot store the next slot");
        return false;
    }
    sync.trigger("schedule");
    true
}

/// Checks the schedule every `period` until the server stops.
pub async fn run(sync: SyncService, period: Duration, mut stop: StopSignal) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = stop.stopped() => return,
        }
        tick(&sync, OffsetDateTime::now_utc()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn next_slot_keeps_the_cadence() {
        let start = datetime!(2026-01-01 10:15 UTC);
        assert_eq!(next_slot(start, datetime!(2026-01-01 10:00 UTC)), start);
        assert_eq!(
            next_slot(start, datetime!(2026-01-01 10:15 UTC)),
            datetime!(2026-01-01 11:15 UTC)
        );
        assert_eq!(
            next_slot(start, datetime!(2026-01-01 13:20 UTC)),
            datetime!(2026-01-01 14:15 UTC)
        );
    }
}
