//! `sync_progress`: the leader's live progress, for the event streams of every replica.

use super::{DbError, JsonText, Pool};

pub async fn publish(pool: &Pool, progress: &str) -> Result<(), DbError> {
    crate::on_pool!(pool, |pool| {
        sqlx::query("UPDATE sync_progress SET progress = $1 WHERE id = 1")
            .bind(JsonText(progress))
            .execute(pool)
            .await?;
        Ok(())
    })
}

pub async fn latest(pool: &Pool) -> Result<String, DbError> {
    crate::on_pool!(pool, |pool| {
        let progress: JsonText =
            sqlx::query_scalar("SELECT progress FROM sync_progress WHERE id = 1")
                .fetch_one(pool)
                .await?;
        Ok(progress.0)
    })
}
