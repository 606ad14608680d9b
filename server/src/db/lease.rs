//! `lease` and `duty_request`: which replica holds a duty, until when, and the runs other
//! replicas asked of the holder.

use super::{DbError, Pool};

/// The background duties' lease and the duty requests any replica may leave for its holder.
#[async_trait::async_trait]
pub trait LeaseStore: Send + Sync + std::fmt::Debug {
    /// Takes the lease `name` for `holder` until `until_ms`, or renews it, unless another holder's
    /// term is still running at `now_ms`. Returns whether `holder` holds it now. One statement, so
    /// two replicas racing for an expired lease cannot both win.
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
        at: &str,
    ) -> Result<bool, DbError>;

    /// Gives the lease up (a clean stop), so another replica takes it at its next attempt.
    async fn release(&self, name: &str, holder: &str) -> Result<(), DbError>;

    /// Who holds `name` and until when (ms), if anyone ever took it.
    async fn holder(&self, name: &str) -> Result<Option<(String, i64)>, DbError>;

    /// Asks the holder to run `duty`; a request already waiting absorbs this one.
    async fn request(&self, duty: &str, reason: &str, by: &str, at: &str) -> Result<(), DbError>;

    /// Takes the waiting request for `duty`, if any: its reason. Deleting it is the claim, so a
    /// request is taken once.
    async fn take_request(&self, duty: &str) -> Result<Option<String>, DbError>;
}

#[async_trait::async_trait]
impl LeaseStore for Pool {
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
        at: &str,
    ) -> Result<bool, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query(
                "INSERT INTO lease (name, holder, expires_at_ms, acquired_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET \
                   acquired_at = CASE WHEN lease.holder = excluded.holder THEN lease.acquired_at \
                                 ELSE excluded.acquired_at END, \
                   holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
                 WHERE lease.holder = excluded.holder OR lease.expires_at_ms < $5",
            )
            .bind(name)
            .bind(holder)
            .bind(until_ms)
            .bind(at)
            .bind(now_ms)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query("DELETE FROM lease WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    async fn holder(&self, name: &str) -> Result<Option<(String, i64)>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(
                sqlx::query_as("SELECT holder, expires_at_ms FROM lease WHERE name = $1")
                    .bind(name)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    async fn request(&self, duty: &str, reason: &str, by: &str, at: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO duty_request (duty, reason, requested_by, requested_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (duty) DO NOTHING",
            )
            .bind(duty)
            .bind(reason)
            .bind(by)
            .bind(at)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn take_request(&self, duty: &str) -> Result<Option<String>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("DELETE FROM duty_request WHERE duty = $1 RETURNING reason")
                    .bind(duty)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }
}
