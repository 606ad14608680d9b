//! Counters the client keeps for sync journals: calls, retries and time spent throttled.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Shared by every clone of a client.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    api_calls: AtomicU64,
    token_requests: AtomicU64,
    retries: AtomicU64,
    throttled_responses: AtomicU64,
    token_refreshes_after_401: AtomicU64,
    retry_after_wait_us: AtomicU64,
    budget_wait_us: AtomicU64,
}

/// A point-in-time copy of the client's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Requests sent to the API (every attempt, retries included; token requests excluded).
    pub api_calls: u64,
    /// Requests sent to the token endpoint.
    pub token_requests: u64,
    /// Attempts repeated after 429, 5xx, timeouts, connection errors or bad bodies.
    pub retries: u64,
    /// 429 answers received.
    pub throttled_responses: u64,
    /// Tokens discarded and fetched again after an API 401.
    pub token_refreshes_after_401: u64,
    /// Time slept honouring `Retry-After` (or the fallback) after 429s.
    pub retry_after_wait: Duration,
    /// Time slept waiting for the client-side budget.
    pub budget_wait: Duration,
}

impl MetricsSnapshot {
    /// Total time spent waiting on throttling, server- and client-side.
    pub fn throttle_wait(&self) -> Duration {
        self.retry_after_wait + self.budget_wait
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Metrics {
    pub(crate) fn api_call(&self) {
        self.api_calls.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn token_request(&self) {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn throttled(&self) {
        self.throttled_responses.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn refreshed_after_401(&self) {
        self.token_refreshes_after_401
            .fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retry_after_waited(&self, d: Duration) {
        self.retry_after_wait_us
            .fetch_add(micros(d), Ordering::Relaxed);
    }
    pub(crate) fn budget_waited(&self, d: Duration) {
        self.budget_wait_us.fetch_add(micros(d), Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            api_calls: self.api_calls.load(Ordering::Relaxed),
            token_requests: self.token_requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled_responses: self.throttled_responses.load(Ordering::Relaxed),
            token_refreshes_after_401: self.token_refreshes_after_401.load(Ordering::Relaxed),
            retry_after_wait: Duration::from_micros(
                self.retry_after_wait_us.load(Ordering::Relaxed),
            ),
            budget_wait: Duration::from_micros(self.budget_wait_us.load(Ordering::Relaxed)),
        }
    }
}
