//! `connection_test`: the Test Connection runs counted per account, shared by every replica.

use super::{DbError, Pool};

/// The Test Connection limiter's record, shared by every replica.
#[async_trait::async_trait]
pub trait ConnectionTestStore: Send + Sync + std::fmt::Debug {
    /// Counts a test for `account_id` unless it ran `limit` since `since_ms`; one statement in a
    /// write transaction, as for sign-in attempts. Older rows are swept on the way.
    async fn take(
        &self,
        account_id: i64,
        at_ms: i64,
        since_ms: i64,
        limit: i64,
    ) -> Result<bool, DbError>;

    /// The oldest test in the window: the limit lifts when it leaves.
    async fn oldest(&self, account_id: i64, since_ms: i64) -> Result<Option<i64>, DbError>;
}

#[async_trait::async_trait]
impl ConnectionTestStore for Pool {
    async fn take(
        &self,
        account_id: i64,
        at_ms: i64,
        since_ms: i64,
        limit: i64,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        let taken = crate::on_conn!(&mut tx, |conn| {
            sqlx::query("DELETE FROM connection_test WHERE at_ms <= $1")
                .bind(since_ms)
                .execute(&mut *conn)
                .await?;
            let taken: Option<i64> = sqlx::query_scalar(
                "INSERT INTO connection_test (account_id, at_ms) SELECT $1, $2 \
                 WHERE (SELECT COUNT(*) FROM connection_test WHERE account_id = $1 AND at_ms > $3) < $4 \
                 RETURNING connection_test_id",
            )
            .bind(account_id)
            .bind(at_ms)
            .bind(since_ms)
            .bind(limit)
            .fetch_optional(&mut *conn)
            .await?;
            taken.is_some()
        });
        tx.commit().await?;
        Ok(taken)
    }

    async fn oldest(&self, account_id: i64, since_ms: i64) -> Result<Option<i64>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT MIN(at_ms) FROM connection_test WHERE account_id = $1 AND at_ms > $2",
            )
            .bind(account_id)
            .bind(since_ms)
            .fetch_one(pool)
            .await?)
        })
    }
}
