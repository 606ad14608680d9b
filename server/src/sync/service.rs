//! `SyncService`: the single entry point for syncs. One run at a time; a request while a run
//! is going joins it and gets the same outcome. It also asks for the full re-model
//! (`remodel_job`), so both inventory-wide jobs are started from one place.

use std::sync::{Arc, Mutex};

use crate::db::remodel_run::Join;
use crate::db::Stores;
use app::model::profile::RemodelStatus;
use app::model::sync::SyncProgress;
use futures::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::watch;

use super::progress::{Progress, FINISHED, STARTING};
use super::risk_record::HistoryRetention;
use crate::defender::ClientOptions;
use crate::endpoints::InactiveAfter;
use crate::endpoints::{RemodelError, RemodelReport};
use crate::leadership::Leader;
use crate::secret_box::SecretBox;

fn unreachable_journal(e: crate::db::DbError) -> SyncOutcome {
    tracing::error!(error = %e, "cannot ask the leading replica for a sync");
    SyncOutcome {
        ok: false,
        summary: "The sync could not be requested: the database did not answer.".into(),
    }
}

/// How a run ended, as the integration page and the journal show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncOutcome {
    pub ok: bool,
    pub summary: String,
}

type Running = Shared<BoxFuture<'static, SyncOutcome>>;

/// The run in progress (or the last one): its shared outcome, and the task that drives it
/// so a shutdown can cancel it.
struct Slot {
    run: Running,
    task: tokio::task::AbortHandle,
}

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
    pub(crate) db: Stores,
    pub(crate) secrets: SecretBox,
    pub(crate) options: ClientOptions,
    /// Endpoints unseen for longer are marked inactive after each run.
    pub(crate) inactive_after: InactiveAfter,
    /// How long each endpoint's risk history is kept.
    pub(crate) history: HistoryRetention,
    running: Mutex<Option<Slot>>,
    progress: watch::Sender<SyncProgress>,
    /// Wakes the leader's request loop when this replica, leading, asked for a re-model.
    remodel_wake: tokio::sync::Notify,
    /// Held while the identity rules rewrite endpoints (a sync's apply phase, a split), so
    /// two of them never interleave.
    pub(crate) merge_lock: tokio::sync::Mutex<()>,
    /// Told when a sync found new or changed machine actions (the action poller follows the
    /// open ones).
    actions_found: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
    /// Syncs run on the replica that leads; the others ask it through the database.
    leader: Mutex<Leader>,
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
        db: &Stores,
        secrets: SecretBox,
        options: ClientOptions,
        inactive_after: InactiveAfter,
        history: HistoryRetention,
    ) -> Self {
        let (progress, _) = watch::channel(SyncProgress::default());
        Self {
            inner: Arc::new(Inner {
                db: db.clone(),
                secrets,
                options,
                inactive_after,
                history,
                running: Mutex::new(None),
                progress,
                remodel_wake: tokio::sync::Notify::new(),
                merge_lock: tokio::sync::Mutex::new(()),
                actions_found: Mutex::new(None),
                leader: Mutex::new(Leader::alone()),
            }),
        }
    }

    /// Runs syncs only while `leader` leads; until this is called the service always does.
    pub fn follow(&self, leader: Leader) {
        *self.inner.leader.lock().expect("leader lock") = leader;
    }

    /// Starts a run, or joins the one in progress. The run goes on even if nobody awaits it.
    /// On a replica that does not lead, the run is asked of the leader (one request however
    /// many replicas ask) and the handle follows it in the journal.
    pub fn trigger(&self, reason: &'static str) -> SyncHandle {
        let leader = self.inner.leader.lock().expect("leader lock").clone();
        if !leader.is_leading() {
            return self.ask_leader(reason, leader.replica().to_owned());
        }
        self.run_here(reason)
    }

    /// Runs (or joins) a sync in this process: the leader's side of `trigger`.
    pub(crate) fn run_here(&self, reason: &'static str) -> SyncHandle {
        let mut slot = self.inner.running.lock().expect("sync slot lock");
        if let Some(current) = slot.as_ref() {
            if current.run.peek().is_none() {
                tracing::info!(reason, "sync already running; joining it");
                return SyncHandle(current.run.clone());
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
        let task = tokio::spawn(run.clone()).abort_handle();
        *slot = Some(Slot {
            run: run.clone(),
            task,
        });
        SyncHandle(run)
    }

    fn ask_leader(&self, reason: &'static str, replica: String) -> SyncHandle {
        let db = self.inner.db.clone();
        let run = async move {
            let at = crate::db::now();
            // The run to follow: the one going now, which the request joins, or the next.
            let from = match db.sync_runs.current_or_next_id().await {
                Ok(id) => id,
                Err(e) => return unreachable_journal(e),
            };
            if let Err(e) = db
                .leases
                .request(super::requests::SYNC, reason, &replica, &at)
                .await
            {
                return unreachable_journal(e);
            }
            tracing::info!(reason, "sync asked of the leading replica");
            // Bounded, so a cluster left without a leader does not keep this task forever.
            let gave_up = tokio::time::Instant::now() + std::time::Duration::from_secs(6 * 3600);
            while tokio::time::Instant::now() < gave_up {
                match db.sync_runs.finished_from(from).await {
                    Ok(Some(finished)) => {
                        return SyncOutcome {
                            ok: finished.error.is_none(),
                            summary: finished.summary(),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot follow the sync journal"),
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            SyncOutcome {
                ok: false,
                summary: "No replica ran the requested sync within 6 hours.".into(),
            }
        }
        .boxed()
        .shared();
        // Spawned: the request is made even when the caller drops the handle (`sync now`).
        tokio::spawn(run.clone());
        SyncHandle(run)
    }

    pub fn is_running(&self) -> bool {
        let slot = self.inner.running.lock().expect("sync slot lock");
        slot.as_ref().is_some_and(|s| s.run.peek().is_none())
    }

    /// At shutdown: lets a run in progress finish within `grace`, else cancels it. Its open
    /// transaction is dropped, so SQLite rolls back whatever it had not committed, and its
    /// journal row is closed as interrupted now rather than at the next start. Returns whether
    /// a run had to be cancelled.
    pub async fn stop(&self, grace: std::time::Duration) -> bool {
        let current = {
            let slot = self.inner.running.lock().expect("sync slot lock");
            slot.as_ref()
                .filter(|s| s.run.peek().is_none())
                .map(|s| (s.run.clone(), s.task.clone()))
        };
        let Some((run, task)) = current else {
            return false;
        };
        if tokio::time::timeout(grace, run).await.is_ok() {
            return false;
        }
        task.abort();
        // The task ends at its next await point; give it a moment so the close below is
        // the journal's last word on the run.
        for _ in 0..50 {
            if task.is_finished() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        match self
            .inner
            .db
            .sync_runs
            .abandon_running(&crate::db::now())
            .await
        {
            Ok(n) => tracing::warn!(runs = n, "sync cancelled by the shutdown"),
            Err(e) => {
                tracing::warn!(error = %e, "sync cancelled by the shutdown; its journal row stays open until the next start")
            }
        }
        true
    }

    /// Calls `notify` after every run that found new or changed machine actions in Defender.
    pub fn on_actions_found(&self, notify: impl Fn() + Send + Sync + 'static) {
        *self.inner.actions_found.lock().expect("actions hook lock") = Some(Arc::new(notify));
    }

    /// Follows the live progress of runs.
    pub fn progress(&self) -> watch::Receiver<SyncProgress> {
        self.inner.progress.subscribe()
    }

    /// Shows another replica's progress (`shared_progress`) to this one's event streams.
    pub(crate) fn show_progress(&self, progress: SyncProgress) {
        self.inner.progress.send_replace(progress);
    }

    pub fn current_progress(&self) -> SyncProgress {
        self.inner.progress.borrow().clone()
    }

    /// Runs a full re-model (Configuration > Profiles) on the leading replica, or joins the
    /// one running or waiting there, and returns its report.
    pub async fn remodel_all(&self) -> Result<RemodelReport, RemodelError> {
        self.ask_remodel(Join::Open).await
    }

    /// A full re-model that starts after this call (one already running may have read what
    /// the caller just changed); joins one that is waiting.
    pub(crate) async fn remodel_all_afresh(&self) -> Result<RemodelReport, RemodelError> {
        self.ask_remodel(Join::Waiting).await
    }

    async fn ask_remodel(&self, join: Join) -> Result<RemodelReport, RemodelError> {
        let leader = self.inner.leader.lock().expect("leader lock").clone();
        super::remodel_job::ask_and_follow(
            &*self.inner.db.remodel_runs,
            join,
            leader.replica(),
            || {
                if leader.is_leading() {
                    self.inner.remodel_wake.notify_one();
                }
            },
        )
        .await
    }

    /// How far the running (or last) full re-model got, on whichever replica it runs.
    pub async fn remodel_status(&self) -> Result<RemodelStatus, crate::db::DbError> {
        super::remodel_job::status(&*self.inner.db.remodel_runs).await
    }

    /// Completes when this replica asked itself for a re-model (the request loop claims it).
    pub(crate) async fn remodel_asked(&self) {
        self.inner.remodel_wake.notified().await;
    }

    /// This replica's id, as the lease and the request rows name it.
    pub(crate) fn replica(&self) -> String {
        self.inner
            .leader
            .lock()
            .expect("leader lock")
            .replica()
            .to_owned()
    }

    pub(crate) fn stores(&self) -> &Stores {
        &self.inner.db
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
