//! The full re-model that Configuration > Profiles starts, once across replicas: any replica
//! joins the open `remodel_run` row or adds a waiting one; the leader claims it, runs it and
//! writes its progress and outcome there, and the asking replica follows the row. Two clicks
//! at once, on one replica or two, give one run; every replica's progress bar shows it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::profile::{RemodelEnded, RemodelStatus};

use crate::db::remodel_run::{Join, RemodelRunRow, RemodelTotals};
use crate::db::{DbError, RemodelRunStore, Stores};
use crate::endpoints::{remodel_all_with_progress, RemodelError, RemodelProgress, RemodelReport};

/// How often a running re-model writes its progress and a waiting request reads its row.
const EVERY: Duration = Duration::from_millis(100);

/// How long an asking replica follows a row before giving up on it (a cluster left without a
/// leader must not keep the request forever).
const FOLLOW_AT_MOST: Duration = Duration::from_secs(3600);

/// Asks for a re-model and waits for its report, wherever it runs.
pub(crate) async fn ask_and_follow(
    runs: &dyn RemodelRunStore,
    join: Join,
    replica: &str,
    wake_leader: impl FnOnce(),
) -> Result<RemodelReport, RemodelError> {
    let id = runs.ask(join, replica, &crate::db::now()).await?;
    wake_leader();
    let gave_up = tokio::time::Instant::now() + FOLLOW_AT_MOST;
    while tokio::time::Instant::now() < gave_up {
        match runs.get(id).await? {
            Some(row) if !row.is_open() => return outcome(row),
            Some(_) => {}
            None => return Err(RemodelError::Db(DbError::NotFound)),
        }
        tokio::time::sleep(EVERY).await;
    }
    Err(RemodelError::Failed(
        "No replica ran the requested re-model within an hour.".into(),
    ))
}

fn outcome(row: RemodelRunRow) -> Result<RemodelReport, RemodelError> {
    if row.state != "finished" {
        return Err(RemodelError::Failed(
            row.error
                .unwrap_or_else(|| "The re-model ended without a report.".into()),
        ));
    }
    let count = |n: Option<i64>| n.unwrap_or(0).max(0) as usize;
    Ok(RemodelReport {
        endpoints: count(row.endpoints),
        changed: count(row.changed),
        dynamic_profiles: count(row.dynamic_profiles),
        elapsed: Duration::from_millis(row.elapsed_ms.unwrap_or(0).max(0) as u64),
    })
}

/// How far the running (or else the newest) re-model got, as the Profiles page shows it.
pub(crate) async fn status(runs: &dyn RemodelRunStore) -> Result<RemodelStatus, DbError> {
    let count = |n: Option<i64>| n.unwrap_or(0).max(0) as u64;
    Ok(match runs.latest().await? {
        Some(row) => RemodelStatus {
            running: row.is_open(),
            processed: row.processed.max(0) as u64,
            total: row.total.max(0) as u64,
            last: (!row.is_open()).then(|| RemodelEnded {
                finished_at: row.finished_at.clone(),
                endpoints: count(row.endpoints),
                changed: count(row.changed),
                elapsed_ms: count(row.elapsed_ms),
                error: match row.state.as_str() {
                    "finished" => None,
                    _ => Some(
                        row.error
                            .clone()
                            .unwrap_or_else(|| format!("The re-model was {}.", row.state)),
                    ),
                },
            }),
        },
        None => RemodelStatus::default(),
    })
}

/// The leader's side: at most one re-model running in this process, claimed from the table.
#[derive(Default)]
pub(crate) struct Runner {
    current: Option<tokio::task::JoinHandle<()>>,
}

impl Runner {
    /// Claims and starts the waiting re-model, unless one is still running here.
    pub(crate) async fn take_waiting(&mut self, stores: &Stores, replica: &str) {
        if self.current.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let runs = &stores.remodel_runs;
        let claimed = match runs.waiting().await {
            Ok(Some(id)) => match runs.claim(id, replica, &crate::db::now()).await {
                Ok(true) => Some(id),
                Ok(false) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim the re-model request");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read re-model requests");
                None
            }
        };
        if let Some(id) = claimed {
            let stores = stores.clone();
            self.current = Some(tokio::spawn(async move { run(&stores, id).await }));
        }
    }

    /// This replica stops leading or the server stops: the run is cancelled (each page is
    /// its own transaction, so what is written stays consistent) and its row closed, so the
    /// next leader's run starts from a clean journal.
    pub(crate) async fn stop(self, runs: &dyn RemodelRunStore) {
        let Some(task) = self.current else { return };
        if task.is_finished() {
            return;
        }
        task.abort();
        let _ = task.await;
        match runs.abandon_running(&crate::db::now()).await {
            Ok(n) if n > 0 => tracing::warn!("re-model cancelled: this replica stops leading"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot close the cancelled re-model"),
        }
    }
}

/// Runs the claimed row `id`, writing its progress as it goes and its outcome at the end.
async fn run(stores: &Stores, id: i64) {
    let runs = &stores.remodel_runs;
    let latest = Arc::new(Mutex::new(None::<RemodelProgress>));
    let report = {
        let latest = Arc::clone(&latest);
        move |step: RemodelProgress| *latest.lock().expect("progress lock") = Some(step)
    };
    let work = remodel_all_with_progress(stores, &report);
    let publish = async {
        let mut written = None;
        loop {
            tokio::time::sleep(EVERY).await;
            let now = *latest.lock().expect("progress lock");
            if let Some(step) = now.filter(|s| Some(*s) != written) {
                if let Err(e) = runs.progress(id, step.done as i64, step.total as i64).await {
                    tracing::debug!(error = %e, "cannot record the re-model's progress");
                }
                written = Some(step);
            }
        }
    };
    let result = tokio::select! {
        result = work => result,
        () = publish => unreachable!("the progress writer never ends"),
    };
    let at = crate::db::now();
    let closed = match result {
        Ok(report) => {
            let last = latest.lock().expect("progress lock").unwrap_or_default();
            let totals = RemodelTotals {
                processed: last.done as i64,
                total: last.total as i64,
                endpoints: report.endpoints as i64,
                changed: report.changed as i64,
                dynamic_profiles: report.dynamic_profiles as i64,
                elapsed_ms: report.elapsed.as_millis() as i64,
            };
            runs.finish(id, totals, &at).await
        }
        Err(e) => {
            tracing::error!(error = %e, "the full re-model failed");
            runs.fail(id, "The re-model failed; the server log says why.", &at)
                .await
        }
    };
    if let Err(e) = closed {
        tracing::error!(error = %e, "cannot record the re-model's outcome");
    }
}
