//! Phase one of a run: page every listing into the staging tables (`db::sync_stage`).
//!
//! Pages are written as they arrive, so memory holds one page, never the tenant (§3.4). The
//! real tables are not touched here: a fault in this phase leaves them as they were.

use sqlx::{Connection, SqliteConnection};

use crate::db::{sync_stage, DbError};
use crate::defender::model::Identified;
use crate::defender::{DefenderClient, DefenderError, Pager};

/// How the listings ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// The machine listing was stopped by a loop guard (§3.4): it may be incomplete.
    pub machines_partial: bool,
    /// The bulk machine-vulnerability listing may be incomplete (§4.12).
    pub machine_vulnerabilities_partial: bool,
    /// Human-readable notes for the journal.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{listing}: {source}")]
    Defender {
        listing: &'static str,
        source: DefenderError,
    },
    #[error("database error while staging {listing}: {source}")]
    Db {
        listing: &'static str,
        source: DbError,
    },
}

/// Pages machines (§4.1), vulnerabilities (§4.10), the bulk machine-vulnerability rows (§4.12;
/// one listing for the tenant, never one call per machine) and alerts (§4.3) into staging.
pub async fn fetch(
    client: &DefenderClient,
    conn: &mut SqliteConnection,
) -> Result<Fetched, FetchError> {
    let db_err = |listing| move |source| FetchError::Db { listing, source };
    sync_stage::prepare(conn)
        .await
        .map_err(db_err("machines"))?;
    let machines_partial = stage(client.machines(), conn, "machines", |c, p| {
        Box::pin(sync_stage::machines(c, p))
    })
    .await?;
    let mut fetched = Fetched {
        machines_partial,
        ..Fetched::default()
    };
    if fetched.machines_partial {
        fetched.notes.push(
            "The machine listing stopped early (paging guard): nothing was marked gone.".into(),
        );
    }
    if stage(client.vulnerabilities(), conn, "vulnerabilities", |c, p| {
        Box::pin(sync_stage::vulnerabilities(c, p))
    })
    .await?
    {
        fetched
            .notes
            .push("The vulnerability listing stopped early (paging guard).".into());
    }
    fetched.machine_vulnerabilities_partial = stage(
        client.machines_vulnerabilities(),
        conn,
        "machine vulnerabilities",
        |c, p| Box::pin(sync_stage::machine_vulnerabilities(c, p)),
    )
    .await?;
    if fetched.machine_vulnerabilities_partial {
        fetched.notes.push(
            "The machine-vulnerability listing stopped early (paging guard): the previous rows \
             were kept."
                .into(),
        );
    }
    if stage(client.alerts(), conn, "alerts", |c, p| {
        Box::pin(sync_stage::alerts(c, p))
    })
    .await?
    {
        fetched
            .notes
            .push("The alert listing stopped early (paging guard).".into());
    }
    Ok(fetched)
}

type StageFn<T> = for<'c> fn(
    &'c mut SqliteConnection,
    &'c [T],
) -> futures::future::BoxFuture<'c, Result<(), DbError>>;

/// Pages one listing into staging, one transaction per page; returns whether a guard stopped it.
async fn stage<T>(
    mut pager: Pager<T>,
    conn: &mut SqliteConnection,
    listing: &'static str,
    write: StageFn<T>,
) -> Result<bool, FetchError>
where
    T: serde::de::DeserializeOwned + Identified,
{
    let db_err = |source| FetchError::Db { listing, source };
    while let Some(page) = pager
        .next_page()
        .await
        .map_err(|source| FetchError::Defender { listing, source })?
    {
        let mut tx = conn.begin().await.map_err(|e| db_err(e.into()))?;
        write(&mut tx, &page).await.map_err(db_err)?;
        tx.commit().await.map_err(|e| db_err(e.into()))?;
    }
    Ok(pager.stop_reason().is_some_and(|r| r.is_guard()))
}
