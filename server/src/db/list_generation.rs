//! `list_generation`: the counter that tells every replica its endpoint-list snapshot is stale.

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

pub async fn current(pool: &Pool) -> Result<i64, DbError> {
    crate::on_pool!(pool, |pool| {
        Ok(
            sqlx::query_scalar("SELECT n FROM list_generation WHERE id = 1")
                .fetch_one(pool)
                .await?,
        )
    })
}
