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
    // Called from sync code inside tests' runtimes: its own thread and runtime, not block_on.
    let admin = server.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("the test PostgreSQL server answers");
                match sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                {
                    Ok(_) => {}
                    // 42P04: made already, by the first replica started on this directory.
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                    Err(e) => panic!("cannot create the test database {name}: {e}"),
                }
                let _ = conn.close().await;
            });
    })
    .join()
    .expect("database creation");
    Some(url)
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
