//! Read side of the `sync_run` journal (the sync writes it).

use super::{classify, DbError, MaybeJsonText, Pool};

#[derive(Debug, Clone, sqlx::FromRow)]
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
    /// Where the alert listing started; `None` when it listed every alert.
    pub alerts_since: Option<String>,
    pub vulnerabilities: i64,
    /// Where the machine-vulnerability listing started; `None` when it listed every row.
    pub machine_vulnerabilities_since: Option<String>,
    pub vulnerabilities_new: Option<i64>,
    pub vulnerabilities_fixed: Option<i64>,
    pub api_calls: i64,
    pub throttle_wait_ms: i64,
    pub error: Option<String>,
    pub notes: Option<String>,
    pub skipped_items: i64,
    #[sqlx(try_from = "MaybeJsonText")]
    pub missing_permissions: Option<String>,
}

/// The sync journal's read model.
#[async_trait::async_trait]
pub trait SyncJournalQuery: Send + Sync + std::fmt::Debug {
    /// The newest runs first.
    async fn recent(&self, limit: i64) -> Result<Vec<SyncRunRow>, DbError>;

    /// The first `limit` skipped items of a run, as recorded.
    async fn skips(
        &self,
        sync_run_id: i64,
        limit: i64,
    ) -> Result<Vec<super::sync_run::SkipRecord>, DbError>;
}

#[async_trait::async_trait]
impl SyncJournalQuery for Pool {
    async fn recent(&self, limit: i64) -> Result<Vec<SyncRunRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT sync_run_id, started_at, finished_at, reason, outcome, machines_seen,
                        machines_added, machines_updated, machines_unchanged, alerts, alerts_since, vulnerabilities,
                        machine_vulnerabilities_since, vulnerabilities_new, vulnerabilities_fixed, api_calls, throttle_wait_ms, error, notes, skipped_items, missing_permissions
                 FROM sync_run ORDER BY sync_run_id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn skips(
        &self,
        sync_run_id: i64,
        limit: i64,
    ) -> Result<Vec<super::sync_run::SkipRecord>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT listing, item_id, field, reason FROM sync_run_skip WHERE sync_run_id = $1
                 ORDER BY sync_run_skip_id LIMIT $2",
            )
            .bind(sync_run_id)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }
}
