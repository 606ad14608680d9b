//! `api_token`: sensor API tokens; only a SHA-256 hash of each token is stored.

use super::{DbError, Pool};

/// Sensor API tokens (their hashes only).
#[async_trait::async_trait]
pub trait ApiTokenStore: Send + Sync + std::fmt::Debug {
    async fn insert(
        &self,
        name: &str,
        token_hash: &str,
        created_by: &str,
        created_at: &str,
    ) -> Result<i64, DbError>;

    /// The id of the unrevoked token with this hash, stamping its last use.
    async fn use_token(&self, token_hash: &str, used_at: &str) -> Result<Option<i64>, DbError>;

    /// Every token, newest first.
    async fn list(&self) -> Result<Vec<ApiTokenRow>, DbError>;

    async fn get(&self, api_token_id: i64) -> Result<Option<ApiTokenRow>, DbError>;

    /// Revokes a token; true when this call revoked it (false: unknown or already revoked).
    async fn revoke(&self, api_token_id: i64) -> Result<bool, DbError>;
}

#[async_trait::async_trait]
impl ApiTokenStore for Pool {
    async fn insert(
        &self,
        name: &str,
        token_hash: &str,
        created_by: &str,
        created_at: &str,
    ) -> Result<i64, DbError> {
        crate::on_pool!(self, |pool| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO api_token (name, token_hash, created_by, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING api_token_id",
            )
            .bind(name)
            .bind(token_hash)
            .bind(created_by)
            .bind(created_at)
            .fetch_one(pool)
            .await
            .map_err(super::classify)?;
            Ok(id)
        })
    }

    async fn use_token(&self, token_hash: &str, used_at: &str) -> Result<Option<i64>, DbError> {
        crate::on_pool!(self, |pool| {
            let row: Option<(i64,)> = sqlx::query_as(
                "UPDATE api_token SET last_used_at = $1 WHERE token_hash = $2 AND revoked = FALSE \
                 RETURNING api_token_id",
            )
            .bind(used_at)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|(id,)| id))
        })
    }

    async fn list(&self) -> Result<Vec<ApiTokenRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM api_token ORDER BY api_token_id DESC"
            ))
            .fetch_all(pool)
            .await
            .map_err(super::classify)
        })
    }

    async fn get(&self, api_token_id: i64) -> Result<Option<ApiTokenRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM api_token WHERE api_token_id = $1"
            ))
            .bind(api_token_id)
            .fetch_optional(pool)
            .await
            .map_err(super::classify)
        })
    }

    async fn revoke(&self, api_token_id: i64) -> Result<bool, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE api_token SET revoked = TRUE WHERE api_token_id = $1 AND revoked = FALSE",
            )
            .bind(api_token_id)
            .execute(pool)
            .await
            .map_err(super::classify)?;
            Ok(done.rows_affected() == 1)
        })
    }
}

/// A token as the list shows it; the hash stays in the database.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub api_token_id: i64,
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

const COLUMNS: &str = "api_token_id, name, created_by, created_at, last_used_at, revoked";
