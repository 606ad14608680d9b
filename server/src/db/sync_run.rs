//! The sync journal: one `sync_run` row per Defender sync.

use super::{DbError, JsonText, Pool};

/// The figures a finished run records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRunTotals {
    pub machines_seen: i64,
    pub machines_added: i64,
    pub machines_updated: i64,
    pub machines_unchanged: i64,
    pub alerts: i64,
    /// Where the alert listing started (its `lastUpdateTime` filter); `None` when it listed
    /// every alert.
    pub alerts_since: Option<String>,
    pub vulnerabilities: i64,
    pub machine_vulnerabilities: i64,
    /// Where the machine-vulnerability listing started (its change feed's `sinceTime`);
    /// `None` when it listed every row.
    pub machine_vulnerabilities_since: Option<String>,
    /// Machine-vulnerability rows listed for the first time, and stored rows no longer listed;
    /// `None` when the run kept the stored rows.
    pub vulnerabilities_new: Option<i64>,
    pub vulnerabilities_fixed: Option<i64>,
    pub api_calls: i64,
    pub throttle_wait_ms: i64,
    /// Items that could not be decoded and were skipped.
    pub skipped_items: i64,
}

/// An item a run skipped, as its journal entry names it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SkipRecord {
    pub listing: String,
    pub item_id: Option<String>,
    pub field: String,
    pub reason: String,
}

/// Skipped items kept per run: enough to find the pattern, bounded when a whole listing
/// changes shape.
pub const SKIPS_KEPT: usize = 200;

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
    pub alerts_since: Option<String>,
    pub vulnerabilities: i64,
    pub machine_vulnerabilities: i64,
    pub machine_vulnerabilities_since: Option<String>,
    pub api_calls: i64,
    pub throttle_wait_ms: i64,
    pub error: Option<String>,
    pub notes: Option<String>,
}

/// The sync journal's runs and their skipped records.
#[async_trait::async_trait]
pub trait SyncRunStore: Send + Sync + std::fmt::Debug {
    /// Opens a run's row with outcome `Running`; returns its id.
    async fn start(&self, started_at: &str, reason: &str) -> Result<i64, DbError>;

    /// Marks rows left `Running` (the process stopped mid-run) as failed.
    async fn abandon_running(&self, at: &str) -> Result<u64, DbError>;

    /// The run a replica asking for a sync follows: the one going now (the request joins it),
    /// else the next one to open.
    async fn current_or_next_id(&self) -> Result<i64, DbError>;

    /// The first run from `from` on that has finished, if any.
    async fn finished_from(&self, from: i64) -> Result<Option<FinishedRun>, DbError>;

    /// Closes a run's row with its outcome, figures, error, notes and refusals.
    async fn finish(&self, sync_run_id: i64, f: Finished<'_>) -> Result<(), DbError>;

    /// Records the first [`SKIPS_KEPT`] skipped items of a run.
    async fn record_skips(&self, sync_run_id: i64, skips: &[SkipRecord]) -> Result<(), DbError>;

    /// The most recent runs, newest first.
    async fn recent(&self, limit: i64) -> Result<Vec<SyncRunRow>, DbError>;
}

#[async_trait::async_trait]
impl SyncRunStore for Pool {
    async fn start(&self, started_at: &str, reason: &str) -> Result<i64, DbError> {
        crate::on_pool!(self, |pool| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO sync_run (started_at, reason, outcome) VALUES ($1, $2, 'Running') \
                 RETURNING sync_run_id",
            )
            .bind(started_at)
            .bind(reason)
            .fetch_one(pool)
            .await?;
            Ok(id)
        })
    }

    async fn abandon_running(&self, at: &str) -> Result<u64, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE sync_run SET outcome = 'Failed', finished_at = $1, \
                 error = 'The run was interrupted (the server stopped).' WHERE outcome = 'Running'",
            )
            .bind(at)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    async fn current_or_next_id(&self) -> Result<i64, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT COALESCE((SELECT MIN(sync_run_id) FROM sync_run WHERE outcome = 'Running'),            (SELECT COALESCE(MAX(sync_run_id), 0) + 1 FROM sync_run))",
            )
            .fetch_one(pool)
            .await?)
        })
    }

    async fn finished_from(&self, from: i64) -> Result<Option<FinishedRun>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT outcome, error FROM sync_run WHERE sync_run_id >= $1 AND outcome <> 'Running'          ORDER BY sync_run_id LIMIT 1",
            )
            .bind(from)
            .fetch_optional(pool)
            .await?)
        })
    }

    async fn finish(&self, sync_run_id: i64, f: Finished<'_>) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            let totals = f.totals;
            sqlx::query(
                "UPDATE sync_run SET finished_at = $1, outcome = $2, machines_seen = $3, \
                 machines_added = $4, machines_updated = $5, machines_unchanged = $6, alerts = $7, \
                 vulnerabilities = $8, machine_vulnerabilities = $9, api_calls = $10, \
                 throttle_wait_ms = $11, error = $12, notes = $13, skipped_items = $15, \
                 missing_permissions = $16, vulnerabilities_new = $17, \
                 vulnerabilities_fixed = $18, alerts_since = $19, \
                 machine_vulnerabilities_since = $20 WHERE sync_run_id = $14",
            )
            .bind(f.at)
            .bind(f.outcome)
            .bind(totals.machines_seen)
            .bind(totals.machines_added)
            .bind(totals.machines_updated)
            .bind(totals.machines_unchanged)
            .bind(totals.alerts)
            .bind(totals.vulnerabilities)
            .bind(totals.machine_vulnerabilities)
            .bind(totals.api_calls)
            .bind(totals.throttle_wait_ms)
            .bind(f.error)
            .bind(f.notes)
            .bind(sync_run_id)
            .bind(totals.skipped_items)
            .bind(f.missing_permissions.map(JsonText))
            .bind(totals.vulnerabilities_new)
            .bind(totals.vulnerabilities_fixed)
            .bind(totals.alerts_since.as_deref())
            .bind(totals.machine_vulnerabilities_since.as_deref())
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn record_skips(&self, sync_run_id: i64, skips: &[SkipRecord]) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            for chunk in skips[..skips.len().min(SKIPS_KEPT)].chunks(200) {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "INSERT INTO sync_run_skip (sync_run_id, listing, item_id, field, reason) ",
                );
                q.push_values(chunk, |mut b, s| {
                    b.push_bind(sync_run_id)
                        .push_bind(s.listing.clone())
                        .push_bind(s.item_id.clone())
                        .push_bind(s.field.clone())
                        .push_bind(s.reason.clone());
                });
                q.build().execute(pool).await?;
            }
            Ok(())
        })
    }

    async fn recent(&self, limit: i64) -> Result<Vec<SyncRunRow>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(
                sqlx::query_as("SELECT * FROM sync_run ORDER BY sync_run_id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(pool)
                    .await?,
            )
        })
    }
}

/// A finished run as another replica reads it from the journal.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FinishedRun {
    pub outcome: String,
    pub error: Option<String>,
}

impl FinishedRun {
    pub fn summary(&self) -> String {
        match &self.error {
            Some(error) => format!("{}: {error}", self.outcome),
            None => self.outcome.clone(),
        }
    }
}

/// How a run ended, as its journal row records it.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    pub at: &'a str,
    pub outcome: &'a str,
    pub totals: &'a SyncRunTotals,
    pub error: Option<&'a str>,
    pub notes: Option<&'a str>,
    /// JSON of the listings left out for want of a permission.
    pub missing_permissions: Option<&'a str>,
}
