//! The server backend: a PostgreSQL database that several replicas can share, with its own
//! migrations (`migrations/postgres/`).

mod json_text;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::OpenError;

pub(super) fn is_url(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}

pub(super) async fn open(database_url: &str) -> Result<PgPool, OpenError> {
    let options = PgConnectOptions::from_str(database_url)
        .map_err(OpenError::Url)?
        // The re-model's page query is costly enough in the planner's eyes that PostgreSQL
        // compiles it with LLVM on every page: a third of the database's CPU time in a
        // re-model went to compiling, for queries that then run in milliseconds. Every
        // statement here is short; none gains from JIT.
        .options([("jit", "off")]);
    let pool = PgPoolOptions::new()
        // As SQLite's pool: the sync holds one connection for its staging tables, the
        // re-model's workers one each, requests the rest.
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .map_err(OpenError::Connect)?;
    check_writable(&pool).await?;
    // Replicas starting together would race on the same migration: the migrator holds an
    // advisory lock while it runs, so the second one waits and then finds nothing to do.
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// A standby, or a database or role with `default_transaction_read_only` set, accepts the
/// connection and every read, then refuses every write: a server started on it would answer
/// /readyz and fail every login and sync. Its transactions say so before anything is tried.
async fn check_writable(pool: &PgPool) -> Result<(), OpenError> {
    let read_only: String = sqlx::query_scalar("SHOW transaction_read_only")
        .fetch_one(pool)
        .await
        .map_err(OpenError::Connect)?;
    if read_only == "on" {
        let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
            .fetch_one(pool)
            .await
            .map_err(OpenError::Connect)?;
        return Err(OpenError::ReadOnlyServer(if standby {
            "it is a standby in recovery: point the URL at the primary"
        } else {
            "default_transaction_read_only is on for this database or role"
        }));
    }
    Ok(())
}
