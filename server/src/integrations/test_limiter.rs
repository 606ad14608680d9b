//! Keeps Test Connection from hammering Microsoft Entra: a few tests per minute per user.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TestLimiter {
    per_window: usize,
    window: Duration,
    by_user: Mutex<HashMap<i64, VecDeque<Instant>>>,
}

impl TestLimiter {
    pub fn new(per_window: usize, window: Duration) -> Self {
        Self {
            per_window,
            window,
            by_user: Mutex::default(),
        }
    }

    /// Counts one test for `user_id`; `Err(seconds)` when over the limit.
    pub fn take(&self, user_id: i64) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.by_user.lock().expect("test limiter lock");
        let times = map.entry(user_id).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.per_window {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(self
                .window
                .saturating_sub(now.duration_since(oldest))
                .as_secs()
                .max(1));
        }
        times.push_back(now);
        Ok(())
    }
}

impl Default for TestLimiter {
    fn default() -> Self {
        Self::new(5, Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_user_separately() {
        let l = TestLimiter::new(2, Duration::from_secs(60));
        assert!(l.take(1).is_ok());
        assert!(l.take(1).is_ok());
        assert!(l.take(1).is_err());
        assert!(l.take(2).is_ok());
    }
}
