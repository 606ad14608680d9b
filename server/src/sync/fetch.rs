//! Phase one of a run: page every listing into the staging tables (`db::sync_stage`).
//!
//! Pages are written as they arrive, so memory holds one page, never the tenant (§3.4); each
//! page's items become staged rows (`to_rows`) just before they are written. The real tables
//! are not touched here, so a fault in this phase leaves them as they were; the one exception
//! is the network facts of advanced hunting (`network_facts`), written shard by shard as they
//! are read, each shard whole or not at all.
//!
//! Partial data still syncs:
//! - an item that cannot be decoded is skipped, counted and named (`SkippedItem`), and the rest
//!   of its page is staged (§9.21);
//! - a listing the app may not read (403, a permission without consent, §9.24) is left out
//!   and named; machines still import, and what that listing feeds reads "unknown".
//!
//! Only the machine listing is required: without it there is nothing to sync.

use super::listing_window::{Incremental, ListingWindow, WindowUse};
use super::network_facts::{read_network_facts, NetworkFacts};
use super::progress::{
    Counter, Progress, ALERTS, MACHINES, MACHINE_ACTIONS, MACHINE_VULNERABILITIES, SOFTWARE,
    VULNERABILITIES,
};
use super::software_facts::{fetch_software, SoftwareFacts};
use super::step_timing::timed;
use super::to_rows;
use crate::db::sync_run::SKIPS_KEPT;
use crate::db::sync_stage::SkippedRow;
use crate::db::{AsConn, DbError, StagingStore, Stores, Tx};
use crate::defender::model::Identified;
use crate::defender::skipped::SkippedItem;
use crate::defender::{DefenderClient, DefenderError, Pager};

/// Where Defender's machine actions were listed up to (their `creationDateTimeUtc`).
pub const ACTIONS_CURSOR: &str = "machine_actions.created";
/// Listed again from this long before the cursor: an action created just before the last
/// listing may have been written after it.
const ACTIONS_OVERLAP: time::Duration = time::Duration::hours(1);

/// The data sources of a run beside machines, as the journal and the risk name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Vulnerabilities,
    MachineVulnerabilities,
    Alerts,
    MachineActions,
    Software,
    /// Advanced hunting's network facts (`network_facts`).
    AdvancedHunting,
}

impl Source {
    /// The name stored in `defender_source` and shown in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Vulnerabilities => "vulnerabilities",
            Source::MachineVulnerabilities => "machine vulnerabilities",
            Source::Alerts => "alerts",
            Source::MachineActions => "machine actions",
            Source::Software => "software",
            Source::AdvancedHunting => "advanced hunting",
        }
    }
}

/// A listing the app may not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub source: Source,
    /// Any one of these would do (from Defender's 403 message).
    pub permissions: Vec<String>,
}

/// How the listings ended.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The machine listing was stopped by a loop guard (§3.4), or an undecodable machine could
    /// not even be identified: it may be incomplete, so nothing is marked gone.
    pub machines_partial: bool,
    /// The bulk machine-vulnerability listing may be incomplete (§4.12).
    pub machine_vulnerabilities_partial: bool,
    /// Another listing (upserted only, so nothing is lost) stopped early.
    pub other_partial: bool,
    /// Listings left out for want of a permission.
    pub forbidden: Vec<Forbidden>,
    /// Items that could not be decoded, in listing order: the first [`SKIPS_KEPT`].
    pub skipped: Vec<SkippedItem>,
    /// How many items could not be decoded in all.
    pub skipped_total: u64,
    /// Human-readable notes for the journal.
    pub notes: Vec<String>,
    /// Defender's facts about the products the machine-vulnerability rows name.
    pub software: SoftwareFacts,
    /// How the alert listing used its window.
    pub alerts: WindowUse,
    /// How the machine-vulnerability listing used its window.
    pub machine_vulnerability_window: WindowUse,
    /// When the machine-vulnerability listing started: the next delta starts there.
    pub machine_vulnerabilities_listed_from: String,
}

impl Fetched {
    pub fn is_forbidden(&self, source: Source) -> bool {
        self.forbidden.iter().any(|f| f.source == source)
    }
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
/// one listing for the tenant, never one call per machine), alerts (§4.3) and the machine
/// actions created since the last run (§4.4) into staging, reporting each page to `progress`.
/// With `import_groups` given, machines of other device groups and their rows are left out.
pub(crate) async fn fetch(
    stores: &Stores,
    client: &DefenderClient,
    conn: &mut impl AsConn,
    progress: Progress<'_>,
    import_groups: &[String],
) -> Result<Fetched, FetchError> {
    let db_err = |listing| move |source| FetchError::Db { listing, source };
    stores
        .staging
        .prepare(conn)
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
    let mut fetched = Fetched::default();
    let machines = Listing {
        name: MACHINES,
        source: None,
        table: "stage_machine",
        expected,
        counter: |p| &mut p.machines,
    };
    let end = timed(
        "stage machines",
        machines.stage(
            stores,
            client.machines(),
            conn,
            progress,
            |m| Some(to_rows::machine(m)),
            |s, c, p| s.machines(c, p),
        ),
    )
    .await?;
    fetched.machines_partial = end.guarded;
    if end.guarded {
        fetched.notes.push(
            "The machine listing stopped early (paging guard): nothing was marked gone.".into(),
        );
    }
    if end.skipped_unidentified {
        fetched.machines_partial = true;
        fetched.notes.push(
            "A machine that could not be decoded could not be identified either: nothing was \
             marked gone."
                .into(),
        );
    }
    fetched.absorb(MACHINES, end);
    let excluded = stores
        .staging
        .exclude_machines(conn, import_groups)
        .await
        .map_err(db_err(MACHINES))?;
    fetched.note_excluded(import_groups, &excluded);

    let vulnerabilities = Listing {
        name: VULNERABILITIES,
        source: Some(Source::Vulnerabilities),
        table: "stage_vulnerability",
        expected: None,
        counter: |p| &mut p.vulnerabilities,
    };
    let end = timed(
        "stage vulnerabilities",
        vulnerabilities.stage(
            stores,
            client.vulnerabilities(),
            conn,
            progress,
            |v| Some(to_rows::vulnerability(v)),
            |s, c, p| s.vulnerabilities(c, p),
        ),
    )
    .await?;
    fetched.note_guard(
        &end,
        "The vulnerability listing stopped early (paging guard).",
    );
    fetched.absorb(VULNERABILITIES, end);

    stage_machine_vulnerabilities(
        stores,
        client,
        conn,
        progress,
        import_groups,
        !excluded.is_empty(),
        &mut fetched,
    )
    .await?;

    // The products of rows only part of which were listed would be only part of the tenant's;
    // a delta names only the products of the rows it changed, so their facts (tenant-wide
    // figures that move slowly) are read with the daily full listing.
    if !fetched.machine_vulnerabilities_partial
        && !fetched.is_forbidden(Source::MachineVulnerabilities)
        && fetched.machine_vulnerability_window.since.is_none()
    {
        let software = timed(
            "software facts",
            fetch_software(stores, client, conn, progress),
        )
        .await?;
        fetched.absorb_software(software);
    }

    let window = ListingWindow::open(
        stores,
        conn,
        Incremental::Alerts,
        import_groups,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .map_err(db_err(ALERTS))?;
    let filter = window
        .since
        .as_ref()
        .map(|since| format!("lastUpdateTime ge {since}"));
    let alerts = Listing {
        name: ALERTS,
        source: Some(Source::Alerts),
        table: "stage_alert",
        expected: None,
        counter: |p| &mut p.alerts,
    };
    let end = timed(
        "stage alerts",
        alerts.stage(
            stores,
            client.alerts_filtered(filter.as_deref()),
            conn,
            progress,
            |a| Some(to_rows::alert(a)),
            |s, c, p| s.alerts(c, p),
        ),
    )
    .await?;
    fetched.note_guard(&end, "The alert listing stopped early (paging guard).");
    fetched.alerts = WindowUse {
        since: window.since.clone(),
        skipped: end.skipped_total > 0,
        complete: (!end.guarded && end.forbidden.is_none()).then_some(window),
    };
    fetched.absorb(ALERTS, end);
    if !excluded.is_empty() {
        stores
            .staging
            .drop_excluded_rows(conn, "stage_alert")
            .await
            .map_err(db_err(ALERTS))?;
    }

    // Defender's action history, from the portal and other tools too (§9.23). The API filters
    // on the creation time, not on the last update (§4.4), so the listing starts before the
    // oldest action still open here, whose status may have moved since.
    let since = stores
        .sync_cursors
        .actions_since(conn, ACTIONS_CURSOR, ACTIONS_OVERLAP)
        .await
        .map_err(db_err(MACHINE_ACTIONS))?;
    let filter = since.map(|t| format!("creationDateTimeUtc ge {t}"));
    let actions = Listing {
        name: MACHINE_ACTIONS,
        source: Some(Source::MachineActions),
        table: "stage_machine_action",
        expected: None,
        counter: |p| &mut p.machine_actions,
    };
    let end = timed(
        "stage actions",
        actions.stage(
            stores,
            client.machine_actions(filter.as_deref()),
            conn,
            progress,
            to_rows::machine_action,
            |s, c, p| s.machine_actions(c, p),
        ),
    )
    .await?;
    fetched.note_guard(
        &end,
        "The machine action listing stopped early (paging guard).",
    );
    fetched.absorb(MACHINE_ACTIONS, end);

    // Written as read, shard by shard, outside the apply: facts about machines, not the
    // listings the apply reconciles, and too many rows at 100k machines to hold until then.
    match timed(
        "network facts",
        read_network_facts(stores, client, conn, time::OffsetDateTime::now_utc()),
    )
    .await
    {
        Ok(facts) => fetched.absorb_network_facts(facts),
        Err(e) => {
            tracing::error!(error = %e, "writing the network facts failed");
            fetched.other_partial = true;
            fetched.notes.push(format!(
                "The network facts from advanced hunting were not all written ({e}): the \
                 machines not written keep their last ones."
            ));
        }
    }
    Ok(fetched)
}

/// Stages the machine-vulnerability rows: the bulk listing of every row (§4.12) when a full
/// listing is due, else the change feed since the last run (§4.13).
#[allow(clippy::too_many_arguments)]
async fn stage_machine_vulnerabilities(
    stores: &Stores,
    client: &DefenderClient,
    conn: &mut impl AsConn,
    progress: Progress<'_>,
    import_groups: &[String],
    any_excluded: bool,
    fetched: &mut Fetched,
) -> Result<(), FetchError> {
    let db_err = |source| FetchError::Db {
        listing: MACHINE_VULNERABILITIES,
        source,
    };
    let now = time::OffsetDateTime::now_utc();
    let window = ListingWindow::open(
        stores,
        conn,
        Incremental::MachineVulnerabilities,
        import_groups,
        now,
    )
    .await
    .map_err(db_err)?;
    fetched.machine_vulnerabilities_listed_from = crate::db::format_time(now);
    let table = if window.is_full() {
        "stage_machine_vulnerability"
    } else {
        "stage_vulnerability_change"
    };
    let listing = Listing {
        name: MACHINE_VULNERABILITIES,
        source: Some(Source::MachineVulnerabilities),
        table,
        expected: None,
        counter: |p| &mut p.machine_vulnerabilities,
    };
    let end = match &window.since {
        None => {
            timed(
                "stage machine vulnerabilities",
                listing.stage(
                    stores,
                    client.machines_vulnerabilities(),
                    conn,
                    progress,
                    to_rows::machine_vulnerability,
                    |s, c, p| s.machine_vulnerabilities(c, p),
                ),
            )
            .await?
        }
        Some(since) => {
            timed(
                "stage machine vulnerability changes",
                listing.stage(
                    stores,
                    client.machine_vulnerability_changes(since),
                    conn,
                    progress,
                    to_rows::vulnerability_change,
                    |s, c, p| s.vulnerability_changes(c, p),
                ),
            )
            .await?
        }
    };
    fetched.machine_vulnerabilities_partial = end.guarded;
    if end.guarded {
        fetched.notes.push(
            "The machine-vulnerability listing stopped early (paging guard): the previous rows \
             were kept."
                .into(),
        );
    }
    // A skipped row is kept as it was only if its machine is known: otherwise every machine
    // keeps its rows. (A delta's skipped entry leaves its cursor instead, see `WindowUse`.)
    if window.is_full() && end.skipped.iter().any(|s| row_machine(s).is_none()) {
        fetched.machine_vulnerabilities_partial = true;
        fetched.notes.push(
            "A machine-vulnerability row that could not be decoded named no machine: the \
             previous rows were kept."
                .into(),
        );
    }
    fetched.machine_vulnerability_window = WindowUse {
        since: window.since.clone(),
        skipped: end.skipped_total > 0,
        complete: (!fetched.machine_vulnerabilities_partial && end.forbidden.is_none())
            .then_some(window),
    };
    fetched.absorb(MACHINE_VULNERABILITIES, end);
    if any_excluded {
        stores
            .staging
            .drop_excluded_rows(conn, table)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// The machine of a skipped machine-vulnerability row: its `machineId`, else the first part of
/// its composite id (§4.12).
pub fn row_machine(item: &SkippedItem) -> Option<String> {
    item.machine_id.clone().or_else(|| {
        item.id
            .as_deref()
            .and_then(|id| id.split_once("-_-"))
            .map(|(machine, _)| machine.to_owned())
            .filter(|m| !m.is_empty())
    })
}

impl Fetched {
    /// Says which machines the import allow-list left out, group by group.
    fn note_excluded(&mut self, allowed: &[String], excluded: &[(String, i64)]) {
        let total: i64 = excluded.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return;
        }
        let groups: Vec<String> = excluded
            .iter()
            .map(|(group, n)| format!("{group:?}: {n}"))
            .collect();
        let allowed: Vec<String> = allowed.iter().map(|g| format!("{g:?}")).collect();
        self.notes.push(format!(
            "{total} machine{} in device groups outside the import allow-list ({}) {} not \
             imported, and what was stored of {} before was left as it was ({}).",
            if total == 1 { "" } else { "s" },
            allowed.join(", "),
            if total == 1 { "was" } else { "were" },
            if total == 1 { "it" } else { "them" },
            groups.join(", ")
        ));
    }

    /// A listing that is only upserted stopped early: nothing is lost, but the run is Partial.
    fn note_guard(&mut self, end: &ListingEnd, note: &str) {
        if end.guarded {
            self.other_partial = true;
            self.notes.push(note.to_owned());
        }
    }

    /// Takes in how one listing ended: its skipped items (already staged page by page, so the
    /// apply phase keeps what they stand for) and a refusal.
    fn absorb(&mut self, listing: &str, end: ListingEnd) {
        if end.skipped_total > 0 {
            self.notes.push(format!(
                "{} {listing} item{} could not be decoded and {} skipped.",
                end.skipped_total,
                if end.skipped_total == 1 { "" } else { "s" },
                if end.skipped_total == 1 {
                    "was"
                } else {
                    "were"
                },
            ));
        }
        self.skipped_total += end.skipped_total;
        let room = SKIPS_KEPT.saturating_sub(self.skipped.len());
        self.skipped.extend(end.skipped.into_iter().take(room));
        if let Some(f) = end.forbidden {
            self.notes.push(format!(
                "The app may not read {}: grant {} (application permission on WindowsDefenderATP, \
                 with admin consent). Until then what it feeds reads unknown.",
                f.source.as_str(),
                if f.permissions.is_empty() {
                    "the permission Defender names".to_owned()
                } else {
                    f.permissions.join(" or ")
                }
            ));
            self.forbidden.push(f);
        }
    }
}

impl Fetched {
    /// Takes in the software step: its undecodable answers and other failures keep the facts
    /// stored before (Partial), a refusal is noted like a listing's.
    fn absorb_software(&mut self, mut software: SoftwareFacts) {
        let skipped = std::mem::take(&mut software.skipped);
        let unanswered = software.kept.len() - skipped.len();
        if !skipped.is_empty() {
            self.absorb(
                SOFTWARE,
                ListingEnd {
                    guarded: false,
                    skipped_total: skipped.len() as u64,
                    skipped,
                    skipped_unidentified: false,
                    forbidden: None,
                },
            );
        }
        if let Some(failure) = software.failure.take() {
            self.other_partial = true;
            self.notes.push(format!(
                "Defender's facts about {unanswered} software product{} could not be read \
                 ({failure}): the last ones stand.",
                if unanswered == 1 { "" } else { "s" },
            ));
        }
        if let Some(forbidden) = software.forbidden.take() {
            self.absorb(
                SOFTWARE,
                ListingEnd {
                    guarded: false,
                    skipped: Vec::new(),
                    skipped_total: 0,
                    skipped_unidentified: false,
                    forbidden: Some(forbidden),
                },
            );
        }
        self.software = software;
    }
}

impl Fetched {
    /// Takes in the network facts: unreadable rows are skipped items, a refusal is noted like
    /// a listing's, shards not read make the run Partial.
    fn absorb_network_facts(&mut self, facts: NetworkFacts) {
        if facts.read && facts.failure.is_none() && facts.forbidden.is_none() {
            self.notes.push(format!(
                "Network facts read from advanced hunting ({} queries): {} adapters of {} \
                 machines, the identity attributes of {}.",
                facts.queries,
                facts.adapters,
                facts.machines_with_adapters,
                facts.machines_with_device_info,
            ));
        }
        if let Some(failure) = facts.failure {
            self.other_partial = true;
            self.notes.push(format!(
                "The network facts from advanced hunting were not all read ({failure}): the \
                 machines not read keep their last ones."
            ));
        }
        if facts.skipped_total > 0 || facts.forbidden.is_some() {
            self.absorb(
                Source::AdvancedHunting.as_str(),
                ListingEnd {
                    guarded: false,
                    skipped: facts.skipped,
                    skipped_total: facts.skipped_total,
                    skipped_unidentified: false,
                    forbidden: facts.forbidden,
                },
            );
        }
    }
}

/// The item under the listing's name as the journal shows it (the pager names the API path).
fn named(listing: &str, mut item: SkippedItem) -> SkippedItem {
    listing.clone_into(&mut item.listing);
    item
}

/// The skipped item as the staging table keeps it: a machine record protects its own id, any
/// other item the machine it names.
fn skipped_row(listing: &str, item: &SkippedItem) -> SkippedRow {
    SkippedRow {
        item_id: item.id.clone(),
        machine_id: if listing == MACHINES {
            item.id.clone()
        } else {
            row_machine(item)
        },
        field: item.field.clone(),
        reason: item.reason.clone(),
    }
}

/// Turns a listed item into its staged row; `None` leaves it out.
type ConvertFn<T, R> = fn(T) -> Option<R>;

type StageFn<R> = for<'c, 't> fn(
    &'c dyn StagingStore,
    &'c mut Tx<'t>,
    Vec<R>,
) -> futures::future::BoxFuture<'c, Result<(), DbError>>;

/// One listing of a run: its name (in errors, and as the progress phase), the source it stands
/// for when it is optional, its staging table, how many items it is expected to hold when
/// known, and which running count its pages add to.
struct Listing {
    name: &'static str,
    /// `None`: required (machines); a 403 fails the run.
    source: Option<Source>,
    table: &'static str,
    expected: Option<u64>,
    counter: Counter,
}

/// How a listing ended.
struct ListingEnd {
    /// A paging guard stopped it.
    guarded: bool,
    /// The first skipped items, for the journal.
    skipped: Vec<SkippedItem>,
    skipped_total: u64,
    /// A skipped item named no record it stands for (no `id`, or for machine-vulnerability rows
    /// no machine): the caller cannot keep just that record's data.
    skipped_unidentified: bool,
    /// The app may not read it; what it staged was dropped.
    forbidden: Option<Forbidden>,
}

impl Listing {
    /// Pages the listing into staging, one transaction per page, reporting each page.
    async fn stage<T, R>(
        &self,
        stores: &Stores,
        mut pager: Pager<T>,
        conn: &mut impl AsConn,
        progress: Progress<'_>,
        convert: ConvertFn<T, R>,
        write: StageFn<R>,
    ) -> Result<ListingEnd, FetchError>
    where
        T: serde::de::DeserializeOwned + Identified,
    {
        let listing = self.name;
        let db_err = |source| FetchError::Db { listing, source };
        progress.begin(listing, self.expected);
        let mut end = ListingEnd {
            guarded: false,
            skipped: Vec::new(),
            skipped_total: 0,
            skipped_unidentified: false,
            forbidden: None,
        };
        loop {
            let page = match pager.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e @ DefenderError::Forbidden { .. }) if self.source.is_some() => {
                    tracing::warn!(listing, error = %e, "listing forbidden; left out");
                    stores
                        .staging
                        .empty(conn, self.table)
                        .await
                        .map_err(db_err)?;
                    return Ok(ListingEnd {
                        guarded: false,
                        skipped: Vec::new(),
                        skipped_total: 0,
                        skipped_unidentified: false,
                        forbidden: self.source.map(|source| Forbidden {
                            source,
                            permissions: e.missing_permissions().to_vec(),
                        }),
                    });
                }
                Err(source) => return Err(FetchError::Defender { listing, source }),
            };
            // The page's skipped items are staged with it, so every one of them (not only the
            // first few the journal names) keeps the stored data it stands for.
            let skipped = pager.take_skipped();
            let rows: Vec<SkippedRow> = skipped.iter().map(|i| skipped_row(listing, i)).collect();
            end.skipped_total += skipped.len() as u64;
            end.skipped_unidentified |= rows.iter().any(|r| r.machine_id.is_none());
            let room = SKIPS_KEPT.saturating_sub(end.skipped.len());
            end.skipped
                .extend(skipped.into_iter().take(room).map(|i| named(listing, i)));
            let listed = page.len();
            let staged: Vec<R> = page.into_iter().filter_map(convert).collect();
            let mut tx = conn.begin().await.map_err(db_err)?;
            write(&*stores.staging, &mut tx, staged)
                .await
                .map_err(db_err)?;
            stores
                .staging
                .skipped(&mut tx, listing, &rows)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            progress.page(self.counter, listed);
        }
        // A page of skipped items alone ends the loop with `None` after them: take those too.
        let skipped = pager.take_skipped();
        if !skipped.is_empty() {
            let rows: Vec<SkippedRow> = skipped.iter().map(|i| skipped_row(listing, i)).collect();
            end.skipped_total += skipped.len() as u64;
            end.skipped_unidentified |= rows.iter().any(|r| r.machine_id.is_none());
            let room = SKIPS_KEPT.saturating_sub(end.skipped.len());
            end.skipped
                .extend(skipped.into_iter().take(room).map(|i| named(listing, i)));
            stores
                .staging
                .skipped(conn, listing, &rows)
                .await
                .map_err(db_err)?;
        }
        end.guarded = pager.stop_reason().is_some_and(|r| r.is_guard());
        Ok(end)
    }
}
