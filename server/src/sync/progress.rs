//! Where a run reports how far it got: the live channel behind the integration page's progress
//! bar and the shell's badge (`/api/sync/events`), or nowhere for runs nobody watches.

use app::model::sync::SyncProgress;
use tokio::sync::watch;

use crate::endpoints::RemodelProgress;

/// Phase names, as the browser shows them.
pub(crate) const STARTING: &str = "starting";
pub(crate) const MACHINES: &str = "machines";
pub(crate) const VULNERABILITIES: &str = "vulnerabilities";
pub(crate) const MACHINE_VULNERABILITIES: &str = "machine vulnerabilities";
pub(crate) const ALERTS: &str = "alerts";
pub(crate) const MACHINE_ACTIONS: &str = "machine actions";
pub(crate) const SOFTWARE: &str = "software";
pub(crate) const APPLYING: &str = "applying";
pub(crate) const REMODELLING: &str = "re-modelling";
pub(crate) const FINISHED: &str = "finished";

/// Which running count of [`SyncProgress`] a listing adds to.
pub(crate) type Counter = fn(&mut SyncProgress) -> &mut u64;

#[derive(Clone, Copy)]
pub(crate) struct Progress<'a>(Option<&'a watch::Sender<SyncProgress>>);

impl<'a> Progress<'a> {
    pub(crate) fn to(channel: &'a watch::Sender<SyncProgress>) -> Self {
        Self(Some(channel))
    }

    /// For benchmarks and tools: nothing is reported.
    pub(crate) fn none() -> Self {
        Self(None)
    }

    fn update(&self, change: impl FnOnce(&mut SyncProgress)) {
        if let Some(channel) = self.0 {
            channel.send_modify(change);
        }
    }

    /// A new phase, with the number of items it expects when known.
    pub(crate) fn begin(&self, phase: &str, total: Option<u64>) {
        self.update(|p| p.begin(phase, total));
    }

    /// One more page of the current listing, holding `items` new items.
    pub(crate) fn page(&self, counter: Counter, items: usize) {
        self.update(|p| {
            p.pages += 1;
            let count = counter(p);
            *count += items as u64;
            let done = *count;
            p.advance_to(done);
        });
    }

    /// How far the re-model at the end of the run got.
    pub(crate) fn remodelled(&self, step: RemodelProgress) {
        self.update(|p| {
            if p.phase != REMODELLING {
                p.begin(REMODELLING, None);
            }
            p.total = Some(step.total as u64);
            p.advance_to(step.done as u64);
        });
    }
}
