//! The full re-model that Configuration > Profiles starts: one at a time, publishing how far
//! it got for the page to poll (`profiles/remodel_progress`).

use crate::db::Pool;
use app::model::profile::RemodelStatus;
use tokio::sync::{watch, Mutex};

use crate::endpoints::{remodel_all_with_progress, RemodelError, RemodelProgress, RemodelReport};

pub(crate) struct RemodelJob {
    status: watch::Sender<RemodelStatus>,
    /// Held while a re-model runs: a second request waits, so the status describes one run.
    running: Mutex<()>,
}

/// Marks the run finished however it ends, including when the request that awaited it goes
/// away mid-run.
struct Finished<'a>(&'a watch::Sender<RemodelStatus>);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|s| s.running = false);
    }
}

impl RemodelJob {
    pub(crate) fn new() -> Self {
        Self {
            status: watch::Sender::new(RemodelStatus::default()),
            running: Mutex::new(()),
        }
    }

    pub(crate) async fn run(&self, pool: &Pool) -> Result<RemodelReport, RemodelError> {
        let _one_at_a_time = self.running.lock().await;
        self.status.send_replace(RemodelStatus {
            running: true,
            ..RemodelStatus::default()
        });
        let _finished = Finished(&self.status);
        let report = |step: RemodelProgress| {
            self.status.send_modify(|s| {
                s.processed = step.done as u64;
                s.total = step.total as u64;
            });
        };
        remodel_all_with_progress(pool, &report).await
    }

    pub(crate) fn status(&self) -> RemodelStatus {
        self.status.borrow().clone()
    }
}
