//! `list_generation`: the counter that tells every replica its endpoint-list snapshot is stale
//! (read as part of `endpoint_query::list_key`).

use super::{DbError, Pool};

/// Marks every replica's snapshot stale.
pub async fn bump(pool: &Pool) -> Result<(), DbError> {
    crate::on_pool!(pool, |pool| {
        sqlx::query("UPDATE list_generation SET n = n + 1 WHERE id = 1")
            .execute(pool)
            .await?;
        Ok(())
    })
}
