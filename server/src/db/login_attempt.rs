//! `login_attempt`: sign-in attempts counted by the throttle, shared by every replica.

use super::{DbError, Pool};

/// What the throttle allows within one window.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Attempts before this (ms since the epoch) no longer count.
    pub since_ms: i64,
    pub per_account: i64,
    pub per_address: i64,
}

/// The login throttle's attempts, shared by every replica.
#[async_trait::async_trait]
pub trait LoginAttemptStore: Send + Sync + std::fmt::Debug {
    /// Counts an attempt unless its account or address is already at its limit; returns the
    /// attempt's id. The check and the insert are one statement in a write transaction, so
    /// simultaneous attempts on any replica see each other: SQLite runs one writer at a time, and
    /// on PostgreSQL (where two statements could both pass the check under READ COMMITTED) the
    /// write transaction's advisory lock does the same.
    async fn admit(
        &self,
        account: &str,
        address: &str,
        at_ms: i64,
        window: Window,
    ) -> Result<Option<i64>, DbError>;

    /// When the attempt that holds a refused account or address at its limit was made (ms): the
    /// refusal lasts until it leaves the window.
    async fn oldest_blocking(
        &self,
        account: &str,
        address: &str,
        window: Window,
    ) -> Result<Option<i64>, DbError>;

    /// A right password: the account starts afresh, this attempt counts nowhere, and the address
    /// keeps its other failures (one good password must not reset a spray).
    async fn succeeded(&self, attempt_id: i64, account: &str) -> Result<(), DbError>;

    /// An attempt never judged (no free hashing slot): it counts nowhere.
    async fn withdraw(&self, attempt_id: i64) -> Result<(), DbError>;

    /// Forgets attempts that left every window.
    async fn sweep(&self, before_ms: i64) -> Result<u64, DbError>;
}

#[async_trait::async_trait]
impl LoginAttemptStore for Pool {
    async fn admit(
        &self,
        account: &str,
        address: &str,
        at_ms: i64,
        window: Window,
    ) -> Result<Option<i64>, DbError> {
        let mut tx = self.begin_write().await?;
        let admitted = crate::on_conn!(&mut tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO login_attempt (account, address, at_ms) SELECT $1, $2, $3 \
                 WHERE (SELECT COUNT(*) FROM login_attempt \
                        WHERE account = $1 AND account_cleared = 0 AND at_ms > $4) < $5 \
                   AND (SELECT COUNT(*) FROM login_attempt WHERE address = $2 AND at_ms > $4) < $6 \
                 RETURNING login_attempt_id",
            )
            .bind(account)
            .bind(address)
            .bind(at_ms)
            .bind(window.since_ms)
            .bind(window.per_account)
            .bind(window.per_address)
            .fetch_optional(&mut *conn)
            .await?
        });
        tx.commit().await?;
        Ok(admitted)
    }

    async fn oldest_blocking(
        &self,
        account: &str,
        address: &str,
        window: Window,
    ) -> Result<Option<i64>, DbError> {
        crate::on_pool!(self, |pool| {
            // The limit-th newest attempt of each key is the one that must expire first.
            Ok(sqlx::query_scalar(
                "SELECT MAX(t) FROM ( \
                   SELECT (SELECT at_ms FROM login_attempt \
                           WHERE account = $1 AND account_cleared = 0 AND at_ms > $3 \
                           ORDER BY at_ms DESC LIMIT 1 OFFSET $4 - 1) AS t \
                   UNION ALL \
                   SELECT (SELECT at_ms FROM login_attempt WHERE address = $2 AND at_ms > $3 \
                           ORDER BY at_ms DESC LIMIT 1 OFFSET $5 - 1)) AS w",
            )
            .bind(account)
            .bind(address)
            .bind(window.since_ms)
            .bind(window.per_account)
            .bind(window.per_address)
            .fetch_one(pool)
            .await?)
        })
    }

    async fn succeeded(&self, attempt_id: i64, account: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM login_attempt WHERE login_attempt_id = $1")
                .bind(attempt_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE login_attempt SET account_cleared = 1 WHERE account = $1")
                .bind(account)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    async fn withdraw(&self, attempt_id: i64) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query("DELETE FROM login_attempt WHERE login_attempt_id = $1")
                .bind(attempt_id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    async fn sweep(&self, before_ms: i64) -> Result<u64, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query("DELETE FROM login_attempt WHERE at_ms <= $1")
                .bind(before_ms)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }
}
