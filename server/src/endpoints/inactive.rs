//! Inactive endpoints: not seen by any source for a while. They stay in the inventory.

use sqlx::SqlitePool;

use crate::db::{self, DbError};

/// Flags endpoints whose `last_seen` is older than `older_than` as inactive (and clears the
/// flag on the others); returns how many rows changed.
#[tracing::instrument(skip_all)]
pub async fn mark_inactive(pool: &SqlitePool, older_than: time::Duration) -> Result<u64, DbError> {
    let cutoff = db::format_time(time::OffsetDateTime::now_utc() - older_than);
    db::endpoint::mark_inactive(pool, &cutoff).await
}
