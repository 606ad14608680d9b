//! Which database a test's application runs on. By default the SQLite file in its data
//! directory; with `EA_TEST_POSTGRES_URL` set (`scripts/test.sh` sets it to its throwaway
//! cluster), a PostgreSQL database of its own, named after the data directory, so that two
//! replicas started on one directory share one database and no two tests ever do.

#![allow(dead_code)]

use std::hash::{Hash, Hasher};
use std::path::Path;

/// The URL for applications started on `data_dir`; `None` keeps the default SQLite file.
/// Creates the database on first use.
pub fn url_for(data_dir: &Path) -> Option<String> {
    let server = std::env::var("EA_TEST_POSTGRES_URL").ok()?;
    let name = name_for(data_dir);
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    match admin(vec![format!("CREATE DATABASE {name}")]) {
        Ok(()) => {}
        // 42P04: made already, by the first replica started on this directory.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
        Err(e) => panic!("cannot create the test database {name}: {e}"),
    }
    Some(url)
}

/// Runs `statements` in order on the test cluster as its administrator, stopping at the first
/// that fails. On a thread and runtime of its own: callers are sync code inside tests'
/// runtimes (where `block_on` is refused), or a `Drop`.
pub fn admin(statements: Vec<String>) -> Result<(), sqlx::Error> {
    let server = std::env::var("EA_TEST_POSTGRES_URL").expect("a PostgreSQL test run");
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&server).await?;
                for statement in statements {
                    sqlx::query(&statement).execute(&mut conn).await?;
                }
                conn.close().await
            })
    })
    .join()
    .expect("the administration thread")
}

/// The name of the PostgreSQL database of applications started on `data_dir`.
pub fn name_for(data_dir: &Path) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    format!("ea_test_{:016x}", hasher.finish())
}

/// Whether tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var_os("EA_TEST_POSTGRES_URL").is_some()
}
