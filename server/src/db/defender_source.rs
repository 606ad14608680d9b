//! `defender_source`: whether the app could read each optional Defender source at the last
//! sync. A source it could not read makes what it feeds "unknown" rather than "nothing found".

use super::{classify, AsConn, DbError, Pool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceRow {
    pub source: String,
    pub readable: bool,
    pub missing_permission: Option<String>,
    pub since: String,
}

/// Which of Defender's sources the app could read at the last sync.
#[async_trait::async_trait]
pub trait DefenderSourceStore: Send + Sync + std::fmt::Debug {
    /// Records what the last sync found; `since` moves only when readability changes.
    async fn record(
        &self,
        conn: &mut dyn AsConn,
        source: &str,
        readable: bool,
        missing_permission: Option<&str>,
        at: &str,
    ) -> Result<(), DbError>;

    /// Every source that the last sync could not read.
    async fn unreadable(&self) -> Result<Vec<SourceRow>, DbError>;
}

#[async_trait::async_trait]
impl DefenderSourceStore for Pool {
    async fn record(
        &self,
        conn: &mut dyn AsConn,
        source: &str,
        readable: bool,
        missing_permission: Option<&str>,
        at: &str,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
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
        })
    }

    async fn unreadable(&self) -> Result<Vec<SourceRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT source, readable, missing_permission, since FROM defender_source \
                 WHERE readable = FALSE ORDER BY source",
            )
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }
}
