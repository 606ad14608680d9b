//! The database: the embedded SQLite file by default or a PostgreSQL server, each with its own
//! migrations applied at startup, and all SQL (one file per table), written once for both
//! backends (see `pool.rs`).
//!
//! Services see it through narrow store traits, one per table or read model ([`Stores`]
//! bundles them), so none of them names a pool, a driver or a backend. A store's methods that
//! take a `&mut dyn AsConn` run inside the caller's transaction, opened with
//! [`Database::begin_write`], so that changes to several tables commit together.

pub mod account;
pub mod account_session;
pub mod action_target_query;
pub mod api_token;
pub mod audit_log;
pub mod connection_test;
pub mod cve_exposure;
pub mod defender_alert;
pub mod defender_machine;
pub mod defender_source;
pub mod endpoint;
pub mod endpoint_identity;
pub mod endpoint_query;
pub mod integration;
mod json_text;
pub mod lease;
pub mod list_generation;
pub mod login_attempt;
pub mod machine_action;
pub mod machine_action_sync;
pub mod machine_split;
pub mod network_facts;
mod pool;
mod postgres;
pub mod profile;
pub mod profile_query;
pub mod remodel_run;
pub mod risk_history;
mod session_table;
pub mod software;
pub mod software_machine;
mod sqlite;
pub mod staged_rows;
mod stores;
pub mod sync_cursor;
pub mod sync_progress;
pub mod sync_run;
pub mod sync_run_query;
pub mod sync_stage;
pub mod vulnerability;
pub mod vulnerability_query;

pub use account::AccountStore;
pub use account_session::SessionStore;
pub use action_target_query::ActionTargetQuery;
pub use api_token::ApiTokenStore;
pub use audit_log::AuditStore;
pub use connection_test::ConnectionTestStore;
pub use cve_exposure::CveExposureStore;
pub use defender_alert::AlertStore;
pub use defender_machine::MachineStore;
pub use defender_source::DefenderSourceStore;
pub use endpoint::EndpointStore;
pub use endpoint_identity::IdentityStore;
pub use endpoint_query::EndpointViews;
pub use integration::IntegrationStore;
pub use json_text::{JsonText, MaybeJsonText};
pub use lease::LeaseStore;
pub use list_generation::ListGeneration;
pub use login_attempt::LoginAttemptStore;
pub use machine_action::ActionStore;
pub use machine_action_sync::ActionSyncStore;
pub use machine_split::SplitStore;
pub use network_facts::NetworkFactStore;
pub use pool::{AsConn, Conn, Connection, OwnConnection, Pool, Tx};
pub use profile::ProfileStore;
pub use profile_query::ProfileQuery;
pub use remodel_run::RemodelRunStore;
pub use risk_history::RiskHistoryStore;
pub use session_table::SessionTable;
pub use software::SoftwareStore;
pub use software_machine::SoftwareMachineStore;
pub use stores::{Database, Stores};
pub use sync_cursor::SyncCursorStore;
pub use sync_progress::SyncProgressStore;
pub use sync_run::SyncRunStore;
pub use sync_run_query::SyncJournalQuery;
pub use sync_stage::StagingStore;
pub use vulnerability::VulnerabilityStore;
pub use vulnerability_query::VulnerabilityViews;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database's disk (SQLite's file, or PostgreSQL's tablespace) has no room left: said
    /// in the same words on both backends, since the admin's fix is the same.
    #[error("the database's disk is full; free space for it and try again ({0})")]
    DiskFull(sqlx::Error),
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        if is_disk_full(&err) {
            DbError::DiskFull(err)
        } else {
            DbError::Other(err)
        }
    }
}

/// SQLite's `SQLITE_FULL` (13) and PostgreSQL's `disk_full` (SQLSTATE 53100).
fn is_disk_full(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("13" | "53100")),
        _ => false,
    }
}

/// Unique-constraint violations become `Conflict`, so callers can turn them into field errors.
pub(crate) fn classify(err: sqlx::Error) -> DbError {
    match &err {
        sqlx::Error::RowNotFound => DbError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            DbError::Conflict(db.message().to_owned())
        }
        _ => DbError::from(err),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("invalid database URL: {0}")]
    Url(sqlx::Error),
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error(
        "the database is read-only, and the server needs to write to it ({0}): check the \
         file's owner and permissions, and that its filesystem is mounted read-write"
    )]
    ReadOnly(sqlx::Error),
    #[error("the PostgreSQL database is read-only, and the server needs to write to it: {0}")]
    ReadOnlyServer(&'static str),
    #[error("database migration failed, the server will not start: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens the database that `database_url` names (`sqlite://…` or `postgres://…`) and applies
/// every pending migration of that backend.
pub async fn open(database_url: &str) -> Result<Pool, OpenError> {
    if postgres::is_url(database_url) {
        postgres::open(database_url).await.map(Pool::Postgres)
    } else {
        sqlite::open(database_url).await.map(Pool::Sqlite)
    }
}

/// Whether the database answers a query (`/readyz`).
pub async fn ping(pool: &Pool) -> Result<(), DbError> {
    crate::on_pool!(pool, |pool| {
        sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(pool)
            .await
            .map_err(classify)?;
        Ok(())
    })
}

/// See [`Pool::begin_write`].
pub async fn begin_write(pool: &Pool) -> Result<Tx<'static>, DbError> {
    pool.begin_write().await
}

/// Current time as stored in the database: RFC 3339, UTC.
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

pub fn format_time(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatting a UTC time cannot fail")
}

/// As `format_time`, keeping milliseconds: for schedules shorter than a second (the action
/// poller in tests).
pub fn format_time_precise(at: time::OffsetDateTime) -> String {
    let ms = at.millisecond();
    let at = at.to_offset(time::UtcOffset::UTC);
    let base = format_time(at);
    format!("{}.{ms:03}Z", base.trim_end_matches('Z'))
}

pub fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}
