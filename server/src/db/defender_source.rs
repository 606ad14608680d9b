//! `defender_source`: whether the app could read each optional Defender source at the last
//! sync. A source it could not read makes what it feeds "unknown" rather than "nothing found".

use sqlx::{SqliteConnection, SqlitePool};

use super::{classify, DbError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceRow {
    pub source: String,
    pub readable: bool,
    pub missing_permission: Option<String>,
    pub since: String,
}

/// Records what the last sync found; `since` moves only when readability changes.
pub async fn record(
    conn: &mut SqliteConnection,
    source: &str,
    readable: bool,
    missing_permission: Option<&str>,
    at: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO defender_source (source, readable, missing_permission, since) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (source) DO UPDATE SET missing_permission = excluded.missing_permission, \
         since = CASE WHEN defender_source.readable = excluded.readable \
                      THEN defender_source.since ELSE excluded.since END, \
         readable = excluded.readable",
    )
    .bind(source)
    .bind(readable)
    .bind(missing_permission)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every source that the last sync could not read.
pub async fn unreadable(pool: &SqlitePool) -> Result<Vec<SourceRow>, DbError> {
    sqlx::query_as(
        "SELECT source, readable, missing_permission, since FROM defender_source \
         WHERE readable = 0 ORDER BY source",
    )
    .fetch_all(pool)
    .await
    .map_err(classify)
}
