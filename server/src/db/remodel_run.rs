//! `remodel_run`: full re-models asked through any replica, claimed and run by the leader,
//! with their progress and outcome for every replica to read.

use super::{DbError, Pool};

/// One row, as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RemodelRunRow {
    pub remodel_run_id: i64,
    pub state: String,
    pub finished_at: Option<String>,
    pub runner: Option<String>,
    pub processed: i64,
    pub total: i64,
    pub endpoints: Option<i64>,
    pub changed: Option<i64>,
    pub dynamic_profiles: Option<i64>,
    pub elapsed_ms: Option<i64>,
    pub error: Option<String>,
}

impl RemodelRunRow {
    /// Whether the run is still waiting or going.
    pub fn is_open(&self) -> bool {
        self.state == "requested" || self.state == "running"
    }
}

const COLUMNS: &str = "remodel_run_id, state, finished_at, runner, processed, total, \
                       endpoints, changed, dynamic_profiles, elapsed_ms, error";

/// Which open run a request may join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// The one running, else the one waiting: a click on Configuration > Profiles, for which
    /// a run already going is as good as a new one.
    Open,
    /// Only one that has not started: a caller that just changed what a running re-model may
    /// already have read (a split) needs a run that starts after its change.
    Waiting,
}

/// Re-model runs: asked for by any replica, claimed and run by one.
#[async_trait::async_trait]
pub trait RemodelRunStore: Send + Sync + std::fmt::Debug {
    /// Asks for a re-model: joins an open row as `join` allows, else the waiting one, else adds
    /// a waiting row. Returns the row to follow. One write transaction, so two askers at once
    /// cannot both add a row.
    async fn ask(&self, join: Join, by: &str, at: &str) -> Result<i64, DbError>;

    /// Claims the waiting row `id` for `runner`; whether this caller got it (a row is claimed once).
    async fn claim(&self, id: i64, runner: &str, at: &str) -> Result<bool, DbError>;

    /// The waiting row, if any (the leader's loop claims it next).
    async fn waiting(&self) -> Result<Option<i64>, DbError>;

    /// Records how far the running row got.
    async fn progress(&self, id: i64, processed: i64, total: i64) -> Result<(), DbError>;

    /// Closes the running row `id` as finished.
    async fn finish(&self, id: i64, totals: RemodelTotals, at: &str) -> Result<(), DbError>;

    /// Closes the running row `id` as failed, with our own description of why.
    async fn fail(&self, id: i64, error: &str, at: &str) -> Result<(), DbError>;

    /// Closes rows left running by a leader that stopped leading (or died); a newly elected
    /// leader calls this before it runs anything. Waiting rows stay for it to claim.
    async fn abandon_running(&self, at: &str) -> Result<u64, DbError>;

    async fn get(&self, id: i64) -> Result<Option<RemodelRunRow>, DbError>;

    /// The running row, else the newest: the one the Profiles page's bar shows.
    async fn latest(&self) -> Result<Option<RemodelRunRow>, DbError>;
}

#[async_trait::async_trait]
impl RemodelRunStore for Pool {
    async fn ask(&self, join: Join, by: &str, at: &str) -> Result<i64, DbError> {
        let mut tx = self.begin_write().await?;
        let states = match join {
            Join::Open => "('running', 'requested')",
            Join::Waiting => "('requested')",
        };
        let id = crate::on_conn!(&mut tx, |c| {
            // The running row first: it finishes sooner than one waiting behind it.
            let open: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT remodel_run_id FROM remodel_run WHERE state IN {states} \
                 ORDER BY CASE WHEN state = 'running' THEN 0 ELSE 1 END LIMIT 1"
            ))
            .fetch_optional(&mut *c)
            .await?;
            match open {
                Some(id) => id,
                None => {
                    sqlx::query_scalar(
                        "INSERT INTO remodel_run (state, requested_by, requested_at) \
                         VALUES ('requested', $1, $2) RETURNING remodel_run_id",
                    )
                    .bind(by)
                    .bind(at)
                    .fetch_one(&mut *c)
                    .await?
                }
            }
        });
        tx.commit().await?;
        Ok(id)
    }

    async fn claim(&self, id: i64, runner: &str, at: &str) -> Result<bool, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE remodel_run SET state = 'running', runner = $1, started_at = $2 \
                 WHERE remodel_run_id = $3 AND state = 'requested'",
            )
            .bind(runner)
            .bind(at)
            .bind(id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn waiting(&self) -> Result<Option<i64>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT remodel_run_id FROM remodel_run WHERE state = 'requested'",
            )
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn progress(&self, id: i64, processed: i64, total: i64) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE remodel_run SET processed = $1, total = $2 \
                 WHERE remodel_run_id = $3 AND state = 'running'",
            )
            .bind(processed)
            .bind(total)
            .bind(id)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn finish(&self, id: i64, totals: RemodelTotals, at: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE remodel_run SET state = 'finished', finished_at = $1, processed = $7, \
                 total = $8, endpoints = $2, changed = $3, dynamic_profiles = $4, elapsed_ms = $5 \
                 WHERE remodel_run_id = $6 AND state = 'running'",
            )
            .bind(at)
            .bind(totals.endpoints)
            .bind(totals.changed)
            .bind(totals.dynamic_profiles)
            .bind(totals.elapsed_ms)
            .bind(id)
            .bind(totals.processed)
            .bind(totals.total)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn fail(&self, id: i64, error: &str, at: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE remodel_run SET state = 'failed', finished_at = $1, error = $2 \
                 WHERE remodel_run_id = $3 AND state = 'running'",
            )
            .bind(at)
            .bind(error)
            .bind(id)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn abandon_running(&self, at: &str) -> Result<u64, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE remodel_run SET state = 'interrupted', finished_at = $1, \
                 error = 'The re-model was interrupted (the replica running it stopped).' \
                 WHERE state = 'running'",
            )
            .bind(at)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    async fn get(&self, id: i64) -> Result<Option<RemodelRunRow>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM remodel_run WHERE remodel_run_id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn latest(&self) -> Result<Option<RemodelRunRow>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM remodel_run \
                 ORDER BY CASE WHEN state = 'running' THEN 0 ELSE 1 END, remodel_run_id DESC LIMIT 1"
            ))
            .fetch_optional(pool)
            .await?)
        })
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemodelTotals {
    /// The last progress: endpoints assessed, of those stored when the run started.
    pub processed: i64,
    pub total: i64,
    pub endpoints: i64,
    pub changed: i64,
    pub dynamic_profiles: i64,
    pub elapsed_ms: i64,
}
