//! `api_token`: sensor API tokens; only a SHA-256 hash of each token is stored.

use sqlx::SqlitePool;

use super::DbError;

pub async fn insert(
    pool: &SqlitePool,
    name: &str,
    token_hash: &str,
    created_by: &str,
    created_at: &str,
) -> Result<i64, DbError> {
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
}

/// The id of the unrevoked token with this hash, stamping its last use.
pub async fn use_token(
    pool: &SqlitePool,
    token_hash: &str,
    used_at: &str,
) -> Result<Option<i64>, DbError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE api_token SET last_used_at = $1 WHERE token_hash = $2 AND revoked = 0 \
         RETURNING api_token_id",
    )
    .bind(used_at)
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id,)| id))
}
