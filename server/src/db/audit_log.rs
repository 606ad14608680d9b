//! The `audit_log` table: who did what, when. Never holds a secret.

use super::{classify, now, AsConn, DbError, Pool};

pub async fn record(pool: &Pool, actor: &str, action: &str, detail: &str) -> Result<(), DbError> {
    record_in(&mut pool.acquire().await?, actor, action, detail).await
}

/// [`record`] inside the caller's transaction, so the entry commits with the change it
/// describes.
pub async fn record_in(
    conn: &mut impl AsConn,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), DbError> {
    crate::on_conn!(conn, |conn| {
        sqlx::query("INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// The newest entries first.
pub async fn recent(pool: &Pool, limit: i64) -> Result<Vec<AuditRow>, DbError> {
    crate::on_pool!(pool, |pool| {
        sqlx::query_as(
            "SELECT at, actor, action, detail FROM audit_log ORDER BY audit_log_id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(classify)
    })
}
