//! How long each step of a run took, logged at debug level: where a sync's time goes on a real
//! tenant (or in the full-sync benchmark, `EA_BENCH_LOG=server::sync=debug`) is then read
//! step by step instead of guessed from the total.

use std::future::Future;
use std::time::Instant;

/// Awaits `work` and logs its wall time under `step`.
pub(crate) async fn timed<F: Future>(step: &'static str, work: F) -> F::Output {
    let started = Instant::now();
    let output = work.await;
    tracing::debug!(
        step,
        ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "sync step"
    );
    output
}
