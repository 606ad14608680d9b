//! After each sync, every endpoint's risk goes into its history (`db::risk_history`): Microsoft
//! keeps none, and "how did our exposure move this month" is asked of every console.

use crate::db::risk_history::Recorded;
use crate::db::{self, DbError, Stores};

/// How long risk history is kept, 1 to 3650 days (`--history-days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRetention {
    days: u32,
}

impl Default for HistoryRetention {
    /// A year and a month: this month against the same month a year ago.
    fn default() -> Self {
        Self { days: 400 }
    }
}

impl HistoryRetention {
    pub fn days(days: u32) -> Option<Self> {
        (1..=3650).contains(&days).then_some(Self { days })
    }

    pub fn as_days(self) -> u32 {
        self.days
    }
}

/// The UTC day of `at`, `YYYY-MM-DD`.
pub fn day_of(at: time::OffsetDateTime) -> String {
    let d = at.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Records every endpoint's risk now and prunes what the retention no longer keeps.
pub async fn record_risk(
    stores: &Stores,
    retention: HistoryRetention,
) -> Result<Recorded, DbError> {
    let now = time::OffsetDateTime::now_utc();
    let keep_since = now - time::Duration::days(i64::from(retention.days));
    stores
        .risk_history
        .record(
            // To the millisecond: two runs in one second are two changes, not one.
            &db::format_time_precise(now),
            &day_of(now),
            &db::format_time(keep_since),
            &day_of(keep_since),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_bounded_and_days_are_utc() {
        assert_eq!(HistoryRetention::days(0), None);
        assert_eq!(HistoryRetention::days(3651), None);
        assert_eq!(HistoryRetention::days(30).unwrap().as_days(), 30);
        let at = time::macros::datetime!(2026-12-06 23:30 -02:00);
        assert_eq!(day_of(at), "2026-12-07");
    }
}
