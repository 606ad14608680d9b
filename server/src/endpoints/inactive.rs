//! Inactive endpoints: not seen by any source for a while. They stay in the inventory.

use crate::db::{self, DbError, Stores};
use crate::supervisor::StopSignal;

/// How long an endpoint may go unseen before it counts as inactive: the `inactive_after_days`
/// setting, within 1 day and 10 years.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InactiveAfter(time::Duration);

impl InactiveAfter {
    pub const DEFAULT_DAYS: u32 = 30;
    pub const DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

    /// `None` outside [`Self::DAYS`].
    pub fn days(days: u32) -> Option<Self> {
        Self::DAYS
            .contains(&days)
            .then(|| Self(time::Duration::days(i64::from(days))))
    }

    pub fn duration(self) -> time::Duration {
        self.0
    }
}

impl Default for InactiveAfter {
    fn default() -> Self {
        Self(time::Duration::days(i64::from(Self::DEFAULT_DAYS)))
    }
}

/// Flags endpoints whose `last_seen` is older than `after` as inactive (and clears the flag
/// on the others); returns how many rows changed.
#[tracing::instrument(skip_all)]
pub async fn mark_inactive(stores: &Stores, after: InactiveAfter) -> Result<u64, DbError> {
    let cutoff = db::format_time(time::OffsetDateTime::now_utc() - after.duration());
    stores.endpoints.mark_inactive(&cutoff).await
}

/// Re-decides inactivity at once and then every `period`, so endpoints age out even when no
/// sync or import runs (Defender off, discovery stopped, or the server was down for days).
/// `changed` is told whenever a flag moved, so views built from the inventory are rebuilt.
pub async fn keep_deciding_inactive(
    stores: Stores,
    after: InactiveAfter,
    period: std::time::Duration,
    changed: impl Fn() + Send + 'static,
    mut stop: StopSignal,
) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = stop.stopped() => return,
        }
        match mark_inactive(&stores, after).await {
            Ok(0) => {}
            Ok(moved) => {
                tracing::info!(endpoints = moved, "inactivity re-decided");
                changed();
            }
            Err(e) => tracing::warn!(error = %e, "could not re-decide inactivity"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_outside_the_range_are_refused() {
        assert_eq!(InactiveAfter::days(0), None);
        assert_eq!(InactiveAfter::days(3651), None);
        assert_eq!(
            InactiveAfter::days(1).map(InactiveAfter::duration),
            Some(time::Duration::days(1))
        );
        assert_eq!(
            InactiveAfter::days(3650).map(InactiveAfter::duration),
            Some(time::Duration::days(3650))
        );
        assert_eq!(InactiveAfter::default(), InactiveAfter::days(30).unwrap());
    }
}
