//! The `tower_sessions` table: the session records `tower_sessions` keeps, in the store its
//! sqlx crate provides for the backend the console runs on.

use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::Pool;

/// The session table of the backend the console runs on: `tower_sessions` on both (on
/// PostgreSQL in the `public` schema, which every replica shares).
#[derive(Clone, Debug)]
pub enum SessionTable {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SessionTable {
    pub fn for_pool(pool: &Pool) -> Self {
        match pool {
            Pool::Sqlite(p) => SessionTable::Sqlite(SqliteStore::new(p.clone())),
            // The same table name as SQLite's, so `account_session` ends sessions with the
            // same SQL on both.
            Pool::Postgres(p) => SessionTable::Postgres(
                PostgresStore::new(p.clone())
                    .with_schema_name("public")
                    .and_then(|s| s.with_table_name("tower_sessions"))
                    .expect("valid identifiers"),
            ),
        }
    }

    /// Creates the table if it is missing (the store's own schema, not one of our migrations).
    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        match self {
            SessionTable::Sqlite(s) => s.migrate().await,
            SessionTable::Postgres(s) => s.migrate().await,
        }
    }

    /// Deletes expired records every `period`, until an error.
    pub async fn continuously_delete_expired(
        self,
        period: tokio::time::Duration,
    ) -> session_store::Result<()> {
        match self {
            SessionTable::Sqlite(s) => s.continuously_delete_expired(period).await,
            SessionTable::Postgres(s) => s.continuously_delete_expired(period).await,
        }
    }

    /// The store itself, whichever backend holds it.
    pub fn store(&self) -> &dyn SessionStore {
        match self {
            SessionTable::Sqlite(s) => s,
            SessionTable::Postgres(s) => s,
        }
    }
}
