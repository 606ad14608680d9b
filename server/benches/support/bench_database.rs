//! Which backend a benchmark measures: a SQLite file by default, or, when
//! `EA_BENCH_POSTGRES_URL` names a PostgreSQL server (`scripts/bench-postgres.sh` starts a
//! throwaway cluster and sets it), a fresh database of the benchmark's own on that server. The
//! goals are the same on both; BENCHMARKS.md keeps one column per backend.

// Shared by several benchmarks; each uses part of it.
#![allow(dead_code)]

use std::path::Path;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The backend's name, as the benchmarks print it.
pub fn backend() -> &'static str {
    if server_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

fn server_url() -> Option<String> {
    std::env::var("EA_BENCH_POSTGRES_URL").ok()
}

/// The URL of an empty database called `name`: the file `name.db` in `dir`, or the PostgreSQL
/// database `name`, dropped first if an earlier run left it.
pub async fn fresh(dir: &Path, name: &str) -> Result<String, Error> {
    let Some(server) = server_url() else {
        return Ok(format!(
            "sqlite://{}",
            dir.join(format!("{name}.db")).display()
        ));
    };
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&server).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(named(name).expect("on PostgreSQL"))
}

/// The URL of the PostgreSQL database `name`, made empty if it does not exist yet, and whether
/// it existed (an earlier run filled it).
pub async fn kept(name: &str) -> Result<(String, bool), Error> {
    use sqlx::Connection;
    let server = server_url().ok_or("kept databases by name are PostgreSQL's")?;
    let mut conn = sqlx::PgConnection::connect(&server).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok((named(name).expect("on PostgreSQL"), exists))
}

/// The URL of the existing database `name` on the PostgreSQL server, if benchmarks run there.
pub fn named(name: &str) -> Option<String> {
    let server = server_url()?;
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}
