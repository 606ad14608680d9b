//! `sync_progress`: the leader's live progress, for the event streams of every replica.

use super::{DbError, JsonText, Pool};

/// The running sync's progress, published by the leader for every replica's browsers.
#[async_trait::async_trait]
pub trait SyncProgressStore: Send + Sync + std::fmt::Debug {
    async fn publish(&self, progress: &str) -> Result<(), DbError>;

    async fn latest(&self) -> Result<String, DbError>;
}

#[async_trait::async_trait]
impl SyncProgressStore for Pool {
    async fn publish(&self, progress: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query("UPDATE sync_progress SET progress = $1 WHERE id = 1")
                .bind(JsonText(progress))
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    async fn latest(&self) -> Result<String, DbError> {
        crate::on_pool!(self, |pool| {
            let progress: JsonText =
                sqlx::query_scalar("SELECT progress FROM sync_progress WHERE id = 1")
                    .fetch_one(pool)
                    .await?;
            Ok(progress.0)
        })
    }
}
