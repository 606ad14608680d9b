//! Keeps Test Connection from hammering Microsoft Entra: a few tests per minute per account,
//! counted in the database (`connection_test`) so that every replica shares the limit.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use crate::db::{ConnectionTestStore, DbError};

pub struct TestLimiter {
    tests: Arc<dyn ConnectionTestStore>,
    per_window: i64,
    window: Duration,
}

/// Why a test may not run now.
#[derive(Debug, thiserror::Error)]
pub enum Limited {
    #[error("too many tests; try again in {0} s")]
    Wait(u64),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl TestLimiter {
    pub fn new(tests: Arc<dyn ConnectionTestStore>, per_window: usize, window: Duration) -> Self {
        Self {
            tests,
            per_window: i64::try_from(per_window).unwrap_or(i64::MAX),
            window,
        }
    }

    /// Five tests a minute, the default.
    pub fn with_defaults(tests: Arc<dyn ConnectionTestStore>) -> Self {
        Self::new(tests, 5, Duration::from_secs(60))
    }

    /// Counts one test for `account_id`; `Wait(seconds)` when over the limit.
    pub async fn take(&self, account_id: i64) -> Result<(), Limited> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let window = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        let since = now - window;
        if self
            .tests
            .take(account_id, now, since, self.per_window)
            .await?
        {
            return Ok(());
        }
        let oldest = self.tests.oldest(account_id, since).await?.unwrap_or(now);
        let wait = (oldest + window - now).max(0);
        Err(Limited::Wait(
            u64::try_from(wait).unwrap_or(0).div_ceil(1000).max(1),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_each_account_separately_and_across_replicas() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let a = TestLimiter::new(
            Arc::new(crate::db::open(&url).await.unwrap()),
            2,
            Duration::from_secs(60),
        );
        let b = TestLimiter::new(
            Arc::new(crate::db::open(&url).await.unwrap()),
            2,
            Duration::from_secs(60),
        );
        assert!(a.take(1).await.is_ok());
        assert!(b.take(1).await.is_ok());
        match a.take(1).await {
            Err(Limited::Wait(wait)) => assert!((59..=60).contains(&wait), "{wait}"),
            other => panic!("expected a wait, got {other:?}"),
        }
        assert!(matches!(b.take(1).await, Err(Limited::Wait(_))));
        assert!(a.take(2).await.is_ok());
    }
}
