//! The sync journal: one `sync_run` row per Defender sync.

use sqlx::SqlitePool;

use super::DbError;

/// The figures a finished run records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRunTotals {
    pub machines_seen: i64,
    pub machines_added: i64,
    pub machines_updated: i64,
    pub machines_unchanged: i64,
    pub alerts: i64,
    pub vulnerabilities: i64,
    pub machine_vulnerabilities: i64,
    pub api_calls: i64,
    pub throttle_wait_ms: i64,
}

/// One journal row, as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SyncRunRow {
    pub sync_run_id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub reason: String,
    pub outcome: String,
    pub machines_seen: i64,
    pub machines_added: i64,
    pub machines_updated: i64,
    pub machines_unchanged: i64,
    pub alerts: i64,
    pub vulnerabilities: i64,
    pub machine_vulnerabilities: i64,
    pub api_calls: i64,
    pub throttle_wait_ms: i64,
    pub error: Option<String>,
    pub notes: Option<String>,
}

/// Opens a run's row with outcome `Running`; returns its id.
pub async fn start(pool: &SqlitePool, started_at: &str, reason: &str) -> Result<i64, DbError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO sync_run (started_at, reason, outcome) VALUES ($1, $2, 'Running') \
         RETURNING sync_run_id",
    )
    .bind(started_at)
    .bind(reason)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Marks rows left `Running` (the process stopped mid-run) as failed.
pub async fn abandon_running(pool: &SqlitePool, at: &str) -> Result<u64, DbError> {
    let done = sqlx::query(
        "UPDATE sync_run SET outcome = 'Failed', finished_at = $1, \
         error = 'The run was interrupted (the server stopped).' WHERE outcome = 'Running'",
    )
    .bind(at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Closes a run's row with its outcome, figures, error and notes.
pub async fn finish(
    pool: &SqlitePool,
    sync_run_id: i64,
    finished_at: &str,
    outcome: &str,
    totals: &SyncRunTotals,
    error: Option<&str>,
    notes: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE sync_run SET finished_at = $1, outcome = $2, machines_seen = $3, \
         machines_added = $4, machines_updated = $5, machines_unchanged = $6, alerts = $7, \
         vulnerabilities = $8, machine_vulnerabilities = $9, api_calls = $10, \
         throttle_wait_ms = $11, error = $12, notes = $13 WHERE sync_run_id = $14",
    )
    .bind(finished_at)
    .bind(outcome)
    .bind(totals.machines_seen)
    .bind(totals.machines_added)
    .bind(totals.machines_updated)
    .bind(totals.machines_unchanged)
    .bind(totals.alerts)
    .bind(totals.vulnerabilities)
    .bind(totals.machine_vulnerabilities)
    .bind(totals.api_calls)
    .bind(totals.throttle_wait_ms)
    .bind(error)
    .bind(notes)
    .bind(sync_run_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The most recent runs, newest first.
pub async fn recent(pool: &SqlitePool, limit: i64) -> Result<Vec<SyncRunRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT * FROM sync_run ORDER BY sync_run_id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}
