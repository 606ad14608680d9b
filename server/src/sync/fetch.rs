//! Phase one of a run: page every listing into the staging tables (`db::sync_stage`).
//!
//! Pages are written as they arrive, so memory holds one page, never the tenant (§3.4). The
//! real tables are not touched here: a fault in this phase leaves them as they were.

use sqlx::{Connection, SqliteConnection};

use super::progress::{
    Counter, Progress, ALERTS, MACHINES, MACHINE_VULNERABILITIES, VULNERABILITIES,
};
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
/// one listing for the tenant, never one call per machine) and alerts (§4.3) into staging,
/// reporting each page to `progress`.
pub(crate) async fn fetch(
    client: &DefenderClient,
    conn: &mut SqliteConnection,
    progress: Progress<'_>,
) -> Result<Fetched, FetchError> {
    let db_err = |listing| move |source| FetchError::Db { listing, source };
    sync_stage::prepare(conn)
        .await
        .map_err(db_err("machines"))?;
    // Only machines can be counted up front (`$count`, §3.3), which makes their bar
    // determinate. The count is a nicety: if it fails, the listing itself reports the error.
    let expected = match client.machine_count().await {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::debug!(error = %e, "machine count unavailable; progress without a total");
            None
        }
    };
    let machines = Listing {
        name: MACHINES,
        expected,
        counter: |p| &mut p.machines,
    };
    let machines_partial = machines
        .stage(client.machines(), conn, progress, |c, p| {
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
    let vulnerabilities = Listing {
        name: VULNERABILITIES,
        expected: None,
        counter: |p| &mut p.vulnerabilities,
    };
    if vulnerabilities
        .stage(client.vulnerabilities(), conn, progress, |c, p| {
            Box::pin(sync_stage::vulnerabilities(c, p))
        })
        .await?
    {
        fetched
            .notes
            .push("The vulnerability listing stopped early (paging guard).".into());
    }
    let machine_vulnerabilities = Listing {
        name: MACHINE_VULNERABILITIES,
        expected: None,
        counter: |p| &mut p.machine_vulnerabilities,
    };
    fetched.machine_vulnerabilities_partial = machine_vulnerabilities
        .stage(client.machines_vulnerabilities(), conn, progress, |c, p| {
            Box::pin(sync_stage::machine_vulnerabilities(c, p))
        })
        .await?;
    if fetched.machine_vulnerabilities_partial {
        fetched.notes.push(
            "The machine-vulnerability listing stopped early (paging guard): the previous rows \
             were kept."
                .into(),
        );
    }
    let alerts = Listing {
        name: ALERTS,
        expected: None,
        counter: |p| &mut p.alerts,
    };
    if alerts
        .stage(client.alerts(), conn, progress, |c, p| {
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

/// One listing of a run: its name (in errors, and as the progress phase), how many items it
/// is expected to hold when known, and which running count its pages add to.
struct Listing {
    name: &'static str,
    expected: Option<u64>,
    counter: Counter,
}

impl Listing {
    /// Pages the listing into staging, one transaction per page, reporting each page; returns
    /// whether a guard stopped it.
    async fn stage<T>(
        &self,
        mut pager: Pager<T>,
        conn: &mut SqliteConnection,
        progress: Progress<'_>,
        write: StageFn<T>,
    ) -> Result<bool, FetchError>
    where
        T: serde::de::DeserializeOwned + Identified,
    {
        let listing = self.name;
        let db_err = |source| FetchError::Db { listing, source };
        progress.begin(listing, self.expected);
        while let Some(page) = pager
            .next_page()
            .await
            .map_err(|source| FetchError::Defender { listing, source })?
        {
            let mut tx = conn.begin().await.map_err(|e| db_err(e.into()))?;
            write(&mut tx, &page).await.map_err(db_err)?;
            tx.commit().await.map_err(|e| db_err(e.into()))?;
            progress.page(self.counter, page.len());
        }
        Ok(pager.stop_reason().is_some_and(|r| r.is_guard()))
    }
}
