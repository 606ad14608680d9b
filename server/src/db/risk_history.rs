//! Each endpoint's risk over time (migration 0024 / 0010): Microsoft keeps no history, so every
//! sync records the overall level and the representative machine's CVEs by severity, writing a
//! row only where they changed, and how many endpoints were at each level that day.

use super::{DbError, Pool};

/// An endpoint's risk at one moment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RiskPoint {
    pub recorded_at: String,
    pub risk_level: String,
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

/// How many endpoints were at one level after the last sync of a day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DailyCount {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub risk_level: String,
    pub endpoints: i64,
}

/// What one recording wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Endpoints whose risk changed (or that were recorded for the first time).
    pub changed: u64,
    /// Rows older than the retention removed.
    pub pruned: u64,
}

#[async_trait::async_trait]
pub trait RiskHistoryStore: Send + Sync + std::fmt::Debug {
    /// Records every endpoint's current risk at `at` (day `day`), and removes what is older
    /// than `keep_since` (a time) and `keep_since_day`.
    async fn record(
        &self,
        at: &str,
        day: &str,
        keep_since: &str,
        keep_since_day: &str,
    ) -> Result<Recorded, DbError>;

    /// One endpoint's changes, newest first, at most `limit`.
    async fn timeline(&self, endpoint_id: i64, limit: i64) -> Result<Vec<RiskPoint>, DbError>;

    /// The daily counts from `since_day` on, oldest first.
    async fn daily(&self, since_day: &str) -> Result<Vec<DailyCount>, DbError>;
}

/// Every endpoint's risk now: its assessment's level (no assessment yet reads None) and the
/// distinct CVEs of its representative machine by severity.
const CURRENT: &str =
    "INSERT INTO risk_now (endpoint_id, risk_level, critical, high, medium, low) \
     SELECT e.endpoint_id, COALESCE(a.risk_level, 'None'), COALESCE(v.critical, 0), \
     COALESCE(v.high, 0), COALESCE(v.medium, 0), COALESCE(v.low, 0) \
     FROM endpoint e \
     LEFT JOIN endpoint_assessment a ON a.endpoint_id = e.endpoint_id \
     LEFT JOIN (SELECT machine_id, \
         COUNT(DISTINCT CASE WHEN severity = 'Critical' THEN cve_id END) AS critical, \
         COUNT(DISTINCT CASE WHEN severity = 'High' THEN cve_id END) AS high, \
         COUNT(DISTINCT CASE WHEN severity = 'Medium' THEN cve_id END) AS medium, \
         COUNT(DISTINCT CASE WHEN severity = 'Low' THEN cve_id END) AS low \
       FROM machine_vulnerability GROUP BY machine_id) v \
       ON v.machine_id = e.defender_machine_id";

/// The endpoints of `risk_now` whose values differ from `risk_state` (or that it lacks).
const CHANGED: &str = "FROM risk_now n LEFT JOIN risk_state s ON s.endpoint_id = n.endpoint_id \
     WHERE s.endpoint_id IS NULL OR s.risk_level <> n.risk_level OR s.critical <> n.critical \
     OR s.high <> n.high OR s.medium <> n.medium OR s.low <> n.low";

#[async_trait::async_trait]
impl RiskHistoryStore for Pool {
    async fn record(
        &self,
        at: &str,
        day: &str,
        keep_since: &str,
        keep_since_day: &str,
    ) -> Result<Recorded, DbError> {
        let mut tx = self.begin_write().await?;
        let recorded = crate::on_conn!(&mut tx, |conn| {
            let int = if POSTGRES { "BIGINT" } else { "INTEGER" };
            sqlx::query(&format!(
                "CREATE TEMP TABLE IF NOT EXISTS risk_now (endpoint_id {int} PRIMARY KEY, \
                 risk_level TEXT NOT NULL, critical {int} NOT NULL, high {int} NOT NULL, \
                 medium {int} NOT NULL, low {int} NOT NULL)"
            ))
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM risk_now")
                .execute(&mut *conn)
                .await?;
            sqlx::query(CURRENT).execute(&mut *conn).await?;
            // Two runs in one second share `at`: the later one's values stand.
            let changed = sqlx::query(&format!(
                "INSERT INTO risk_history (endpoint_id, recorded_at, risk_level, critical, high, \
                 medium, low) SELECT n.endpoint_id, $1, n.risk_level, n.critical, n.high, \
                 n.medium, n.low {CHANGED} \
                 ON CONFLICT (endpoint_id, recorded_at) DO UPDATE SET \
                 risk_level = excluded.risk_level, critical = excluded.critical, \
                 high = excluded.high, medium = excluded.medium, low = excluded.low"
            ))
            .bind(at)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            sqlx::query(&format!(
                "INSERT INTO risk_state (endpoint_id, risk_level, critical, high, medium, low, \
                 since) SELECT n.endpoint_id, n.risk_level, n.critical, n.high, n.medium, n.low, \
                 $1 {CHANGED} \
                 ON CONFLICT (endpoint_id) DO UPDATE SET risk_level = excluded.risk_level, \
                 critical = excluded.critical, high = excluded.high, medium = excluded.medium, \
                 low = excluded.low, since = excluded.since"
            ))
            .bind(at)
            .execute(&mut *conn)
            .await?;
            // Endpoints gone since (merged, split, deleted) leave the current state; their
            // history stays until the retention removes it.
            sqlx::query(
                "DELETE FROM risk_state WHERE NOT EXISTS \
                 (SELECT 1 FROM risk_now n WHERE n.endpoint_id = risk_state.endpoint_id)",
            )
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM risk_daily WHERE day = $1")
                .bind(day)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO risk_daily (day, risk_level, endpoints) \
                 SELECT $1, risk_level, COUNT(*) FROM risk_state GROUP BY risk_level",
            )
            .bind(day)
            .execute(&mut *conn)
            .await?;
            let pruned = sqlx::query("DELETE FROM risk_history WHERE recorded_at < $1")
                .bind(keep_since)
                .execute(&mut *conn)
                .await?
                .rows_affected()
                + sqlx::query("DELETE FROM risk_daily WHERE day < $1")
                    .bind(keep_since_day)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
            // The temporary table lives with the pooled connection: hand it back small.
            sqlx::query("DELETE FROM risk_now")
                .execute(&mut *conn)
                .await?;
            Ok::<_, DbError>(Recorded { changed, pruned })
        })?;
        tx.commit().await?;
        Ok(recorded)
    }

    async fn timeline(&self, endpoint_id: i64, limit: i64) -> Result<Vec<RiskPoint>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT recorded_at, risk_level, critical, high, medium, low FROM risk_history \
                 WHERE endpoint_id = $1 ORDER BY recorded_at DESC LIMIT $2",
            )
            .bind(endpoint_id)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn daily(&self, since_day: &str) -> Result<Vec<DailyCount>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT day, risk_level, endpoints FROM risk_daily WHERE day >= $1 \
                 ORDER BY day, risk_level",
            )
            .bind(since_day)
            .fetch_all(pool)
            .await?)
        })
    }
}
