//! The `audit_log` table: who did what, when. Never holds a secret.

use sqlx::SqlitePool;

use super::{classify, now, DbError};

pub async fn record(
    pool: &SqlitePool,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
        .bind(now())
        .bind(actor)
        .bind(action)
        .bind(detail)
        .execute(pool)
        .await
        .map_err(classify)?;
    Ok(())
}
