//! The embedded backend: one SQLite file in WAL mode, with its own migrations
//! (`migrations/sqlite/`).

mod json_text;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::OpenError;

/// Opens the pool (creating the file if needed) and applies every pending migration.
pub(super) async fn open(database_url: &str) -> Result<SqlitePool, OpenError> {
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(OpenError::Url)?
        .create_if_missing(true)
        // 16 KB pages for a new database (an existing one keeps the size it was made with).
        // An endpoint row with its stored assessment is about 2 KB: with SQLite's default
        // 4 KB pages, rewriting 100k assessments spent twice the system time writing pages,
        // which kept a full re-model over 2 s (BENCHMARKS.md).
        .page_size(16_384)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose
        // the last transactions, which a re-sync restores.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let file = options.get_filename();
    if !is_in_memory(file) {
        // Best effort: where this fails (a read-only mount), opening reports the real problem.
        if let Err(e) = crate::private_files::private_database_file(file) {
            tracing::warn!(file = %file.display(), error = %e, "cannot make the database file owner-only");
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(OpenError::Connect)?;
    check_writable(&pool).await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// `sqlite::memory:` and `file:…?mode=memory` name no file on disk.
fn is_in_memory(file: &std::path::Path) -> bool {
    let name = file.to_string_lossy();
    name == ":memory:" || name.starts_with("file:")
}

/// SQLite opens a file it may not write read-only without a word (and so does `mode=ro`); a
/// server started on it would answer /readyz and then fail every login. A write that is
/// rolled back finds out first and changes nothing.
async fn check_writable(pool: &SqlitePool) -> Result<(), OpenError> {
    let mut tx = pool.begin().await.map_err(OpenError::Connect)?;
    let probe = sqlx::query("CREATE TABLE write_probe (x INTEGER)")
        .execute(&mut *tx)
        .await;
    tx.rollback().await.map_err(OpenError::Connect)?;
    match probe {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if is_read_only(e.code().as_deref()) => {
            Err(OpenError::ReadOnly(sqlx::Error::Database(e)))
        }
        Err(e) => Err(OpenError::Connect(e)),
    }
}

/// SQLITE_READONLY (8) and its extended codes, which keep 8 in the low byte.
fn is_read_only(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[test]
    fn read_only_codes() {
        // SQLITE_READONLY, SQLITE_READONLY_DBMOVED (8 | 4 << 8); SQLITE_BUSY is not one.
        assert!(is_read_only(Some("8")));
        assert!(is_read_only(Some("1032")));
        assert!(!is_read_only(Some("5")));
        assert!(!is_read_only(None));
    }

    async fn page_size(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    /// A database file made with SQLite's defaults, as an older version left it, without
    /// [`open`]'s settings or migrations.
    async fn made_without_open(path: &std::path::Path) -> sqlx::SqliteConnection {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_new_database_gets_16_kb_pages_and_an_existing_one_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = format!("sqlite://{}", dir.path().join("fresh.db").display());
        let pool = open(&fresh).await.unwrap();
        assert_eq!(page_size(&pool).await, 16_384);
        pool.close().await;

        // A database made with SQLite's default 4 KB pages (as before) opens and keeps them.
        let old = dir.path().join("old.db");
        let mut conn = made_without_open(&old).await;
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let pool = open(&format!("sqlite://{}", old.display())).await.unwrap();
        assert_eq!(page_size(&pool).await, 4_096);
        let migrated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(migrated > 0);
    }

    /// An endpoint row before migration 0009, with its assessment inline.
    const V8_ENDPOINT: &str = "INSERT INTO endpoint (endpoint_id, mac, first_seen, last_seen, \
        profile_name, match_level, profiles_considered, risk_level, risk, defender_risk, \
        assessment_digest) VALUES ($1, $2, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', \
        $3, $4, $5, $6, $7, $8, $9)";

    #[tokio::test]
    async fn assessments_stored_before_migration_9_keep_every_value_in_their_own_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v8.db");
        let mut conn = made_without_open(&path).await;
        let mut upto_8 = sqlx::migrate!("./migrations/sqlite");
        upto_8.migrations = upto_8
            .migrations
            .iter()
            .filter(|m| m.version <= 8)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        upto_8.run(&mut conn).await.unwrap();
        let considered = r#"[{"name":"Linux Server","level":"Low","rules":["hostname"]}]"#;
        let risk = r#"{"overall":"High","assessments":[]}"#;
        let defender_risk = r#"{"exposure":{"level":"High","reason":"r","factors":[]}}"#;
        sqlx::query(V8_ENDPOINT)
            .bind(1_i64)
            .bind("00:15:5D:00:00:01")
            .bind("Windows Workstation")
            .bind("High")
            .bind(considered)
            .bind("High")
            .bind(risk)
            .bind(defender_risk)
            .bind(42_i64)
            .execute(&mut conn)
            .await
            .unwrap();
        // Never assessed: every column at its default.
        sqlx::query(
            "INSERT INTO endpoint (endpoint_id, mac, first_seen, last_seen) \
             VALUES (2, '00:15:5D:00:00:02', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();

        let pool = open(&format!("sqlite://{}", path.display())).await.unwrap();
        type Stored = (
            i64,
            Option<String>,
            Option<String>,
            String,
            String,
            String,
            Option<String>,
            Option<i64>,
        );
        let moved: Vec<Stored> = sqlx::query_as(
            "SELECT endpoint_id, profile_name, match_level, profiles_considered, risk_level, \
             risk, defender_risk, digest FROM endpoint_assessment ORDER BY endpoint_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            moved,
            vec![(
                1,
                Some("Windows Workstation".to_owned()),
                Some("High".to_owned()),
                considered.to_owned(),
                "High".to_owned(),
                risk.to_owned(),
                Some(defender_risk.to_owned()),
                Some(42),
            )]
        );
        // The readers see both endpoints as before: the unassessed one with the old defaults.
        let pool = super::super::Pool::Sqlite(pool);
        let assessed = super::super::EndpointViews::detail(&pool, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(assessed.list.risk_level, "High");
        assert_eq!(assessed.profiles_considered, considered);
        assert_eq!(assessed.defender_risk.as_deref(), Some(defender_risk));
        let unassessed = super::super::EndpointViews::detail(&pool, 2)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unassessed.list.risk_level, "None");
        assert_eq!(unassessed.list.profile_name, None);
        assert_eq!(unassessed.profiles_considered, "[]");
        assert_eq!(unassessed.risk, r#"{"overall":"None","assessments":[]}"#);
        assert_eq!(unassessed.defender_risk, None);
        let super::super::Pool::Sqlite(pool) = pool else {
            unreachable!()
        };
        let gone: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pragma_table_info('endpoint') \
             WHERE name IN ('profile_name', 'risk_level', 'risk', 'assessment_digest')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(gone, 0, "the endpoint table no longer holds assessments");
    }
}
