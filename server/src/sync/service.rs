//! `SyncService`: the single entry point for syncs. One run at a time; a request while a run
//! is going joins it and gets the same outcome. It also runs the full re-model (`remodel_job`),
//! so both inventory-wide jobs report their progress from one place.

use std::sync::{Arc, Mutex};

use app::model::profile::RemodelStatus;
use app::model::sync::SyncProgress;
use futures::future::{BoxFuture, FutureExt, Shared};
use sqlx::SqlitePool;
use tokio::sync::watch;

use super::progress::{Progress, FINISHED, STARTING};
use super::remodel_job::RemodelJob;
use crate::defender::ClientOptions;
use crate::endpoints::InactiveAfter;
use crate::endpoints::{RemodelError, RemodelReport};
use crate::secret_box::SecretBox;

/// How a run ended, as the integration page and the journal show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncOutcome {
    pub ok: bool,
    pub summary: String,
}

type Running = Shared<BoxFuture<'static, SyncOutcome>>;

/// A started (or joined) run. The run goes on whether or not anyone waits for it.
pub struct SyncHandle(Running);

impl SyncHandle {
    pub async fn wait(self) -> SyncOutcome {
        self.0.await
    }
}

#[derive(Clone)]
pub struct SyncService {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: SqlitePool,
    pub(crate) secrets: SecretBox,
    pub(crate) options: ClientOptions,
    /// Endpoints unseen for longer are marked inactive after each run.
    pub(crate) inactive_after: InactiveAfter,
    running: Mutex<Option<Running>>,
    progress: watch::Sender<SyncProgress>,
    remodel: RemodelJob,
    /// Held while the identity rules rewrite endpoints (a sync's apply phase, a split), so
    /// two of them never interleave.
    pub(crate) merge_lock: tokio::sync::Mutex<()>,
    /// Told when a sync found new or changed machine actions (the action poller follows the
    /// open ones).
    actions_found: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
}

impl Inner {
    pub(crate) fn actions_found(&self) {
        let hook = self
            .actions_found
            .lock()
            .expect("actions hook lock")
            .clone();
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Updates the live progress that the browser follows (server-sent events).
    pub(crate) fn report(&self, update: impl FnOnce(&mut SyncProgress)) {
        self.progress.send_modify(update);
    }

    /// Where a run reports its phases and pages.
    pub(crate) fn progress(&self) -> Progress<'_> {
        Progress::to(&self.progress)
    }
}

impl SyncService {
    pub fn new(
        pool: SqlitePool,
        secrets: SecretBox,
        options: ClientOptions,
        inactive_after: InactiveAfter,
    ) -> Self {
        let (progress, _) = watch::channel(SyncProgress::default());
        Self {
            inner: Arc::new(Inner {
                pool,
                secrets,
                options,
                inactive_after,
                running: Mutex::new(None),
                progress,
                remodel: RemodelJob::new(),
                merge_lock: tokio::sync::Mutex::new(()),
                actions_found: Mutex::new(None),
            }),
        }
    }

    /// Starts a run, or joins the one in progress. The run goes on even if nobody awaits it.
    pub fn trigger(&self, reason: &'static str) -> SyncHandle {
        let mut slot = self.inner.running.lock().expect("sync slot lock");
        if let Some(running) = slot.as_ref() {
            if running.peek().is_none() {
                tracing::info!(reason, "sync already running; joining it");
                return SyncHandle(running.clone());
            }
        }
        let inner = Arc::clone(&self.inner);
        let run = async move {
            inner.report(|p| {
                *p = SyncProgress {
                    running: true,
                    phase: STARTING.into(),
                    started_at: Some(crate::db::now()),
                    last_outcome: p.last_outcome.take(),
                    ..SyncProgress::default()
                }
            });
            let outcome = super::run::run_once(&inner, reason).await;
            inner.report(|p| {
                p.running = false;
                p.phase = FINISHED.into();
                p.last_outcome = Some(outcome.summary.clone());
            });
            outcome
        }
        .boxed()
        .shared();
        // Spawned so the run completes even when the caller (a request) goes away.
        tokio::spawn(run.clone());
        *slot = Some(run.clone());
        SyncHandle(run)
    }

    pub fn is_running(&self) -> bool {
        let slot = self.inner.running.lock().expect("sync slot lock");
        slot.as_ref().is_some_and(|r| r.peek().is_none())
    }

    /// Calls `notify` after every run that found new or changed machine actions in Defender.
    pub fn on_actions_found(&self, notify: impl Fn() + Send + Sync + 'static) {
        *self.inner.actions_found.lock().expect("actions hook lock") = Some(Arc::new(notify));
    }

    /// Follows the live progress of runs.
    pub fn progress(&self) -> watch::Receiver<SyncProgress> {
        self.inner.progress.subscribe()
    }

    pub fn current_progress(&self) -> SyncProgress {
        self.inner.progress.borrow().clone()
    }

    /// Runs a full re-model (Configuration > Profiles); a second request waits for the first.
    pub async fn remodel_all(&self) -> Result<RemodelReport, RemodelError> {
        self.inner.remodel.run(&self.inner.pool).await
    }

    /// How far the running (or last) full re-model got.
    pub fn remodel_status(&self) -> RemodelStatus {
        self.inner.remodel.status()
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    pub(crate) fn merge_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.merge_lock
    }

    /// The start of the inactivity window, where IP + host name evidence begins to count.
    pub(crate) fn inactive_since(&self) -> String {
        crate::db::format_time(
            time::OffsetDateTime::now_utc() - self.inner.inactive_after.duration(),
        )
    }
}
