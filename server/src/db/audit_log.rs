//! The `audit_log` table: who did what, when. Never holds a secret.

use super::{classify, now, AsConn, DbError, Pool};

/// The audit trail: who did what, when.
#[async_trait::async_trait]
pub trait AuditStore: Send + Sync + std::fmt::Debug {
    async fn record(&self, actor: &str, action: &str, detail: &str) -> Result<(), DbError>;

    /// [`Self::record`] inside the caller's transaction, so the entry commits with the change it
    /// describes.
    async fn record_in(
        &self,
        conn: &mut dyn AsConn,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), DbError>;

    /// The newest entries first.
    async fn recent(&self, limit: i64) -> Result<Vec<AuditRow>, DbError>;
}

#[async_trait::async_trait]
impl AuditStore for Pool {
    async fn record(&self, actor: &str, action: &str, detail: &str) -> Result<(), DbError> {
        self.record_in(&mut self.acquire().await?, actor, action, detail)
            .await
    }

    async fn record_in(
        &self,
        conn: &mut dyn AsConn,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)",
            )
            .bind(now())
            .bind(actor)
            .bind(action)
            .bind(detail)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn recent(&self, limit: i64) -> Result<Vec<AuditRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT at, actor, action, detail FROM audit_log ORDER BY audit_log_id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}
