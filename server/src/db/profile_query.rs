//! Read side of the profile set, with how many endpoints each profile holds.

use sqlx::SqlitePool;

use super::{classify, DbError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileListRow {
    pub name: String,
    pub origin: String,
    pub enabled: bool,
    pub risky_level: Option<String>,
    pub endpoints: i64,
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<ProfileListRow>, DbError> {
    sqlx::query_as(
        "SELECT p.name, p.origin, p.enabled, p.risky_level,
                (SELECT COUNT(*) FROM endpoint e WHERE e.profile_name = p.name) AS endpoints
         FROM profile p ORDER BY p.origin, p.name",
    )
    .fetch_all(pool)
    .await
    .map_err(classify)
}
