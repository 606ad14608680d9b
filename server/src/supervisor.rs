//! The background loops (the sync schedule, the action poller, the inactivity check, session
//! expiry): each started under a name, restarted when it panics or ends on its own, and all
//! told to stop together when the server shuts down.
//!
//! Without this a panic in a loop ended it silently (`tokio::spawn` keeps the panic in a
//! `JoinHandle` nobody awaited) and the schedule or the poller stopped for the rest of the
//! process's life; and a shutdown left them running until the runtime was dropped, in the
//! middle of whatever database write they were doing.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The first wait before a loop that died is started again; it doubles up to `MAX_BACKOFF`
/// so a loop that panics at once does not spin.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Handed to every loop: it completes when the server is shutting down.
#[derive(Clone, Debug)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    pub(crate) fn from_receiver(stop: watch::Receiver<bool>) -> Self {
        Self(stop)
    }

    /// Completes once a stop is asked for (at once if it already was).
    pub async fn stopped(&mut self) {
        // An error means the supervisor is gone, which is a stop as well.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
}

/// Asks every loop to stop without waiting for them: the moment a shutdown begins, so that
/// long responses (server-sent events) end and the request drain can finish.
#[derive(Clone, Debug)]
pub struct Stopper(watch::Sender<bool>);

impl Stopper {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// How a shutdown went: the loops that did not stop within the grace period and were
/// aborted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    pub aborted: Vec<&'static str>,
}

pub struct Supervisor {
    stop: watch::Sender<bool>,
    loops: Vec<(&'static str, JoinHandle<()>)>,
    first_backoff: Duration,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl Supervisor {
    pub fn new() -> Self {
        let (stop, _) = watch::channel(false);
        Self {
            stop,
            loops: Vec::new(),
            first_backoff: FIRST_BACKOFF,
        }
    }

    /// As `new`, restarting dead loops sooner (tests).
    pub fn with_first_backoff(first_backoff: Duration) -> Self {
        Self {
            first_backoff,
            ..Self::new()
        }
    }

    /// A signal for work that is not a loop of ours but must stop with them.
    pub fn signal(&self) -> StopSignal {
        StopSignal(self.stop.subscribe())
    }

    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// Runs `make(signal)` under `name` until a stop is asked for. A loop should return soon
    /// after its signal fires; if it panics, or returns while no stop was asked, it is started
    /// again after a growing pause.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, make: F)
    where
        F: Fn(StopSignal) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut signal = self.signal();
        let first_backoff = self.first_backoff;
        let handle = tokio::spawn(async move {
            let mut backoff = first_backoff;
            loop {
                // A task of its own, so a panic is caught here instead of ending the supervision.
                let ended = tokio::spawn(make(signal.clone())).await;
                if signal.is_stopped() {
                    return;
                }
                match ended {
                    Err(e) if e.is_panic() => {
                        tracing::error!(task = name, retry_in = ?backoff, "background task panicked; restarting it");
                    }
                    Err(_) => return,
                    Ok(()) => {
                        tracing::warn!(task = name, retry_in = ?backoff, "background task ended on its own; restarting it");
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = signal.stopped() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
        self.loops.push((name, handle));
    }

    /// Tells every loop to stop and waits up to `grace` for all of them together; the ones
    /// still going then are aborted and named in the report.
    pub async fn shutdown(self, grace: Duration) -> ShutdownReport {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        let mut report = ShutdownReport::default();
        for (name, mut handle) in self.loops {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                handle.abort();
                tracing::warn!(task = name, "background task did not stop in time; aborted");
                report.aborted.push(name);
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    /// Waits (in real time, briefly) until `done` holds.
    async fn eventually(done: impl Fn() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("condition not reached within 2.5 s");
    }

    #[tokio::test]
    async fn a_loop_that_panics_is_started_again() {
        let starts = Arc::new(AtomicUsize::new(0));
        let mut supervisor = Supervisor::with_first_backoff(Duration::from_millis(1));
        supervisor.spawn("flaky", {
            let starts = starts.clone();
            move |mut stop| {
                let starts = starts.clone();
                async move {
                    if starts.fetch_add(1, Ordering::SeqCst) < 2 {
                        panic!("first two runs fail");
                    }
                    stop.stopped().await;
                }
            }
        });
        eventually(|| starts.load(Ordering::SeqCst) == 3).await;
        let report = supervisor.shutdown(Duration::from_secs(1)).await;
        assert_eq!(report, ShutdownReport::default());
        assert_eq!(starts.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_loop_that_returns_early_is_started_again() {
        let starts = Arc::new(AtomicUsize::new(0));
        let mut supervisor = Supervisor::with_first_backoff(Duration::from_millis(1));
        supervisor.spawn("returns", {
            let starts = starts.clone();
            move |mut stop| {
                let starts = starts.clone();
                async move {
                    if starts.fetch_add(1, Ordering::SeqCst) == 0 {
                        return;
                    }
                    stop.stopped().await;
                }
            }
        });
        eventually(|| starts.load(Ordering::SeqCst) == 2).await;
        assert_eq!(
            supervisor
                .shutdown(Duration::from_secs(1))
                .await
                .aborted
                .len(),
            0
        );
        assert_eq!(starts.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn shutdown_stops_cooperating_loops_and_aborts_the_one_that_ignores_it() {
        let finished = Arc::new(AtomicUsize::new(0));
        let mut supervisor = Supervisor::new();
        for name in ["schedule", "poller"] {
            let finished = finished.clone();
            supervisor.spawn(name, move |mut stop| {
                let finished = finished.clone();
                async move {
                    stop.stopped().await;
                    finished.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        supervisor.spawn("stubborn", |_stop| std::future::pending::<()>());
        let report = supervisor.shutdown(Duration::from_millis(100)).await;
        assert_eq!(report.aborted, vec!["stubborn"]);
        assert_eq!(finished.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_loop_is_not_restarted_after_the_stop() {
        let starts = Arc::new(AtomicUsize::new(0));
        let mut supervisor = Supervisor::with_first_backoff(Duration::from_millis(1));
        supervisor.spawn("once", {
            let starts = starts.clone();
            move |mut stop| {
                let starts = starts.clone();
                async move {
                    starts.fetch_add(1, Ordering::SeqCst);
                    stop.stopped().await;
                }
            }
        });
        eventually(|| starts.load(Ordering::SeqCst) == 1).await;
        supervisor.shutdown(Duration::from_secs(1)).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 1);
    }
}
