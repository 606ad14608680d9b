//! The `account_session` table: which account each signed-in session belongs to, and when it
//! signed in and was last active.
//!
//! Ending a session deletes its row and its record in the session store's own table,
//! `tower_sessions` (the name `SqliteStore` gives it, and `PostgresStore` is told to use), which
//! is keyed by the same digest.

use super::{classify, AsConn, DbError, Pool};

/// A sign-in to record.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub session_key: &'a str,
    pub account_id: i64,
    pub at: &'a str,
    pub client: &'a str,
    pub user_agent: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub account_session_id: i64,
    pub session_key: String,
    pub account_id: i64,
    pub created_at: String,
    pub last_seen_at: String,
    pub client: String,
    pub user_agent: String,
}

/// A session with the account state every request checks, read in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedInRow {
    pub account_session_id: i64,
    pub account_id: i64,
    pub created_at: String,
    pub last_seen_at: String,
    pub username: String,
    pub role: String,
    pub disabled: bool,
    pub must_change_password: bool,
}

/// Signed-in sessions, shared by every replica.
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    async fn insert(&self, new: &NewSession<'_>) -> Result<(), DbError>;

    async fn signed_in(&self, session_key: &str) -> Result<Option<SignedInRow>, DbError>;

    async fn touch(&self, account_session_id: i64, at: &str) -> Result<(), DbError>;

    /// An account's sessions, newest sign-in first.
    async fn for_account(&self, account_id: i64) -> Result<Vec<SessionRow>, DbError>;

    /// Ends the session filed under `session_key`, if any.
    async fn end_key(&self, conn: &mut dyn AsConn, session_key: &str) -> Result<(), DbError>;

    /// Ends one session of an account; false when the account has no such session.
    async fn end_one(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
        account_session_id: i64,
    ) -> Result<bool, DbError>;

    /// Ends every session of an account but the one filed under `keep`; how many ended.
    async fn end_all_of(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
        keep: Option<&str>,
    ) -> Result<u64, DbError>;

    /// Forgets sessions idle since before `idle_cutoff` or signed in before `absolute_cutoff`
    /// (their records have expired in the store already, or will be refused by the registry).
    async fn delete_expired(
        &self,
        idle_cutoff: &str,
        absolute_cutoff: &str,
    ) -> Result<u64, DbError>;
}

#[async_trait::async_trait]
impl SessionStore for Pool {
    async fn insert(&self, new: &NewSession<'_>) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO account_session \
                 (session_key, account_id, created_at, last_seen_at, client, user_agent) \
                 VALUES ($1, $2, $3, $3, $4, $5)",
            )
            .bind(new.session_key)
            .bind(new.account_id)
            .bind(new.at)
            .bind(new.client)
            .bind(new.user_agent)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn signed_in(&self, session_key: &str) -> Result<Option<SignedInRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT s.account_session_id, s.account_id, s.created_at, s.last_seen_at, \
                        a.username, a.role, a.disabled, a.must_change_password \
                 FROM account_session s JOIN account a ON a.account_id = s.account_id \
                 WHERE s.session_key = $1",
            )
            .bind(session_key)
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn touch(&self, account_session_id: i64, at: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE account_session SET last_seen_at = $2 WHERE account_session_id = $1",
            )
            .bind(account_session_id)
            .bind(at)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(())
        })
    }

    async fn for_account(&self, account_id: i64) -> Result<Vec<SessionRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT account_session_id, session_key, account_id, created_at, last_seen_at, client, \
                        user_agent \
                 FROM account_session WHERE account_id = $1 \
                 ORDER BY created_at DESC, account_session_id DESC",
            )
            .bind(account_id)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn end_key(&self, conn: &mut dyn AsConn, session_key: &str) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query("DELETE FROM tower_sessions WHERE id = $1")
                .bind(session_key)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
            sqlx::query("DELETE FROM account_session WHERE session_key = $1")
                .bind(session_key)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
            Ok(())
        })
    }

    async fn end_one(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
        account_session_id: i64,
    ) -> Result<bool, DbError> {
        crate::on_conn!(conn, |conn| {
            let key: Option<String> = sqlx::query_scalar(
                "SELECT session_key FROM account_session \
                 WHERE account_session_id = $1 AND account_id = $2",
            )
            .bind(account_session_id)
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)?;
            match key {
                Some(key) => self.end_key(conn, &key).await.map(|()| true),
                None => Ok(false),
            }
        })
    }

    async fn end_all_of(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
        keep: Option<&str>,
    ) -> Result<u64, DbError> {
        crate::on_conn!(conn, |conn| {
            // '' is never a key, so `None` keeps nothing.
            let keep = keep.unwrap_or("");
            sqlx::query(
                "DELETE FROM tower_sessions WHERE id IN \
                 (SELECT session_key FROM account_session WHERE account_id = $1 AND session_key <> $2)",
            )
            .bind(account_id)
            .bind(keep)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            let done = sqlx::query(
                "DELETE FROM account_session WHERE account_id = $1 AND session_key <> $2",
            )
            .bind(account_id)
            .bind(keep)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(done.rows_affected())
        })
    }

    async fn delete_expired(
        &self,
        idle_cutoff: &str,
        absolute_cutoff: &str,
    ) -> Result<u64, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query(
                "DELETE FROM account_session WHERE last_seen_at < $1 OR created_at < $2",
            )
            .bind(idle_cutoff)
            .bind(absolute_cutoff)
            .execute(pool)
            .await
            .map_err(classify)?;
            Ok(done.rows_affected())
        })
    }
}
