//! The `account` table: local users, their password hashes and roles.

use sqlx::SqlitePool;

use super::{classify, now, DbError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
}

pub async fn count(pool: &SqlitePool) -> Result<i64, DbError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM account")
        .fetch_one(pool)
        .await
        .map_err(classify)
}

pub async fn insert(
    pool: &SqlitePool,
    username: &str,
    password_hash: &str,
    role: &str,
) -> Result<i64, DbError> {
    sqlx::query_scalar(
        "INSERT INTO account (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4)
         RETURNING account_id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role)
    .bind(now())
    .fetch_one(pool)
    .await
    .map_err(classify)
}

pub async fn by_username(pool: &SqlitePool, username: &str) -> Result<Option<AccountRow>, DbError> {
    sqlx::query_as(
        "SELECT account_id, username, password_hash, role FROM account WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(pool)
    .await
    .map_err(classify)
}

pub async fn by_id(pool: &SqlitePool, account_id: i64) -> Result<Option<AccountRow>, DbError> {
    sqlx::query_as(
        "SELECT account_id, username, password_hash, role FROM account WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(pool)
    .await
    .map_err(classify)
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<AccountRow>, DbError> {
    sqlx::query_as(
        "SELECT account_id, username, password_hash, role FROM account ORDER BY username",
    )
    .fetch_all(pool)
    .await
    .map_err(classify)
}
