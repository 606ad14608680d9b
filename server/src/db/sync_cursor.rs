//! `sync_cursor`: where incremental listings of the sync resume.

use super::{format_time, parse_time, AsConn, DbError, Pool};

/// Where incremental listings resume.
#[async_trait::async_trait]
pub trait SyncCursorStore: Send + Sync + std::fmt::Debug {
    async fn get(&self, conn: &mut dyn AsConn, name: &str) -> Result<Option<String>, DbError>;

    /// Moves the cursor forward to `value` (RFC 3339); never back.
    async fn advance(&self, conn: &mut dyn AsConn, name: &str, value: &str) -> Result<(), DbError>;

    /// Where the machine-action listing starts (an OData datetime, unquoted): `overlap` before the
    /// cursor, and no later than the oldest action still open here (its status may have moved
    /// since it was listed). `None` before the first listing: list them all.
    async fn actions_since(
        &self,
        conn: &mut dyn AsConn,
        name: &str,
        overlap: time::Duration,
    ) -> Result<Option<String>, DbError>;
}

#[async_trait::async_trait]
impl SyncCursorStore for Pool {
    async fn get(&self, conn: &mut dyn AsConn, name: &str) -> Result<Option<String>, DbError> {
        crate::on_conn!(conn, |conn| {
            Ok(
                sqlx::query_scalar("SELECT value FROM sync_cursor WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?,
            )
        })
    }

    async fn advance(&self, conn: &mut dyn AsConn, name: &str, value: &str) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query(
                "INSERT INTO sync_cursor (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value \
                 WHERE excluded.value > sync_cursor.value",
            )
            .bind(name)
            .bind(value)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    async fn actions_since(
        &self,
        conn: &mut dyn AsConn,
        name: &str,
        overlap: time::Duration,
    ) -> Result<Option<String>, DbError> {
        crate::on_conn!(conn, |conn| {
            let Some(cursor) = self.get(conn, name).await?.as_deref().and_then(parse_time) else {
                return Ok(None);
            };
            let oldest_open: Option<String> = sqlx::query_scalar(
                "SELECT MIN(requested_at) FROM machine_action \
                 WHERE status IN ('Pending', 'InProgress') AND defender_action_id IS NOT NULL",
            )
            .fetch_one(&mut *conn)
            .await?;
            let mut since = cursor - overlap;
            if let Some(open) = oldest_open.as_deref().and_then(parse_time) {
                since = since.min(open);
            }
            Ok(Some(format_time(since)))
        })
    }
}
