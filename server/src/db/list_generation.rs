//! `list_generation`: the counter that tells every replica its endpoint-list snapshot is stale
//! (read as part of `endpoint_query::list_key`).

use super::{DbError, Pool};

/// The inventory's change counter, which every replica's list snapshot follows.
#[async_trait::async_trait]
pub trait ListGeneration: Send + Sync + std::fmt::Debug {
    /// Marks every replica's snapshot stale.
    async fn bump(&self) -> Result<(), DbError>;
}

#[async_trait::async_trait]
impl ListGeneration for Pool {
    async fn bump(&self) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query("UPDATE list_generation SET n = n + 1 WHERE id = 1")
                .execute(pool)
                .await?;
            Ok(())
        })
    }
}
