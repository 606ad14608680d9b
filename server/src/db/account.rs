//! The `account` table: local users, their password hashes, roles and lifecycle state.
//!
//! The changes that could leave the console without an Administrator (disable, demote, delete)
//! carry the rule in their own statement: they change nothing when the account is the last
//! enabled Administrator. SQLite runs one write at a time, so of two concurrent demotions of
//! the last two Administrators the second sees the first's result and changes nothing.

use super::{classify, now, AsConn, DbError, Pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: String,
}

const COLUMNS: &str =
    "account_id, username, password_hash, role, disabled, must_change_password, created_at";

/// True when an enabled Administrator other than `$1` exists.
const ANOTHER_ADMINISTRATOR: &str = "EXISTS (SELECT 1 FROM account other \
     WHERE other.role = 'Administrator' AND other.disabled = FALSE AND other.account_id <> $1)";

/// Local user accounts and their lifecycle.
#[async_trait::async_trait]
pub trait AccountStore: Send + Sync + std::fmt::Debug {
    async fn count(&self) -> Result<i64, DbError>;

    async fn insert(&self, username: &str, password_hash: &str, role: &str)
        -> Result<i64, DbError>;

    /// As [`Self::insert`]; `must_change_password` for a password the user did not choose.
    async fn insert_with(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        must_change_password: bool,
    ) -> Result<i64, DbError>;

    async fn by_username(&self, username: &str) -> Result<Option<AccountRow>, DbError>;

    async fn by_id(&self, account_id: i64) -> Result<Option<AccountRow>, DbError>;

    /// [`Self::by_id`] inside the caller's transaction.
    async fn by_id_in(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
    ) -> Result<Option<AccountRow>, DbError>;

    async fn list(&self) -> Result<Vec<AccountRow>, DbError>;

    /// Disables an enabled account unless it is the last enabled Administrator; true when it
    /// changed.
    async fn disable(&self, conn: &mut dyn AsConn, account_id: i64) -> Result<bool, DbError>;

    /// True when a disabled account was enabled.
    async fn enable(&self, conn: &mut dyn AsConn, account_id: i64) -> Result<bool, DbError>;

    /// Gives an account another role unless that demotes the last enabled Administrator; true
    /// when it changed.
    async fn set_role(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
        role: &str,
    ) -> Result<bool, DbError>;

    /// Replaces the password hash; `must_change_password` when someone else chose it. True when
    /// the account exists.
    async fn set_password(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<bool, DbError>;

    /// Deletes an account unless it is the last enabled Administrator (its sessions go with it,
    /// by the foreign key); true when it was deleted.
    async fn delete(&self, conn: &mut dyn AsConn, account_id: i64) -> Result<bool, DbError>;
}

#[async_trait::async_trait]
impl AccountStore for Pool {
    async fn count(&self) -> Result<i64, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM account")
                .fetch_one(pool)
                .await
                .map_err(classify)
        })
    }

    async fn insert(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<i64, DbError> {
        self.insert_with(username, password_hash, role, false).await
    }

    async fn insert_with(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        must_change_password: bool,
    ) -> Result<i64, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO account (username, password_hash, role, created_at, must_change_password) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING account_id",
            )
            .bind(username)
            .bind(password_hash)
            .bind(role)
            .bind(now())
            .bind(must_change_password)
            .fetch_one(pool)
            .await
            .map_err(classify)
        })
    }

    async fn by_username(&self, username: &str) -> Result<Option<AccountRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM account WHERE username = $1"
            ))
            .bind(username)
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn by_id(&self, account_id: i64) -> Result<Option<AccountRow>, DbError> {
        self.by_id_in(&mut self.acquire().await?, account_id).await
    }

    async fn by_id_in(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
    ) -> Result<Option<AccountRow>, DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM account WHERE account_id = $1"
            ))
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)
        })
    }

    async fn list(&self) -> Result<Vec<AccountRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM account ORDER BY username"))
                .fetch_all(pool)
                .await
                .map_err(classify)
        })
    }

    async fn disable(&self, conn: &mut dyn AsConn, account_id: i64) -> Result<bool, DbError> {
        crate::on_conn!(conn, |conn| {
            let done = sqlx::query(&format!(
                "UPDATE account SET disabled = TRUE WHERE account_id = $1 AND disabled = FALSE \
                 AND (role <> 'Administrator' OR {ANOTHER_ADMINISTRATOR})"
            ))
            .bind(account_id)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn enable(&self, conn: &mut dyn AsConn, account_id: i64) -> Result<bool, DbError> {
        crate::on_conn!(conn, |conn| {
            let done = sqlx::query(
                "UPDATE account SET disabled = FALSE WHERE account_id = $1 AND disabled = TRUE",
            )
            .bind(account_id)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn set_role(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
        role: &str,
    ) -> Result<bool, DbError> {
        crate::on_conn!(conn, |conn| {
            let done = sqlx::query(&format!(
                "UPDATE account SET role = $2 WHERE account_id = $1 AND role <> $2 \
                 AND ($2 = 'Administrator' OR role <> 'Administrator' OR disabled = TRUE \
                      OR {ANOTHER_ADMINISTRATOR})"
            ))
            .bind(account_id)
            .bind(role)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn set_password(
        &self,
        conn: &mut dyn AsConn,
        account_id: i64,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<bool, DbError> {
        crate::on_conn!(conn, |conn| {
            let done = sqlx::query(
                "UPDATE account SET password_hash = $2, must_change_password = $3 WHERE account_id = $1",
            )
            .bind(account_id)
            .bind(password_hash)
            .bind(must_change_password)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn delete(&self, conn: &mut dyn AsConn, account_id: i64) -> Result<bool, DbError> {
        crate::on_conn!(conn, |conn| {
            let done = sqlx::query(&format!(
                "DELETE FROM account WHERE account_id = $1 \
                 AND (role <> 'Administrator' OR disabled = TRUE OR {ANOTHER_ADMINISTRATOR})"
            ))
            .bind(account_id)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(done.rows_affected() == 1)
        })
    }
}
