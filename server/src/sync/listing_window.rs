//! Where an incremental listing starts. Alerts (`$filter=lastUpdateTime ge ...`, §4.3) and
//! machine-vulnerability rows (the change feed, §4.13, §9.25) are listed in full once a day
//! and in between only as what Defender changed since the last run: a big tenant's hourly run
//! would otherwise list a million unchanged rows and tens of thousands of unchanged alerts to
//! learn about a handful.
//!
//! Two cursors per listing and import allow-list: where the next delta starts, and when the
//! last full listing was applied. The allow-list is part of their names because a group added
//! to it brings machines whose older data no delta would list.

use crate::db::{format_time, parse_time, AsConn, DbError, Stores};

/// A full listing at least this often: it catches what a delta cannot (a change made while
/// the listing was refused, an entry skipped as undecodable, a machine that left).
pub const FULL_EVERY: time::Duration = time::Duration::hours(24);
/// A delta starts this long before its cursor: Defender may write a change a little after the
/// time it stamps on it, and its clock and ours differ a little.
pub const OVERLAP: time::Duration = time::Duration::minutes(10);

/// The incremental listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incremental {
    Alerts,
    MachineVulnerabilities,
}

impl Incremental {
    fn cursor_prefix(self) -> &'static str {
        match self {
            Incremental::Alerts => "alerts",
            Incremental::MachineVulnerabilities => "machine_vulnerabilities",
        }
    }
}

/// Where this run's listing starts, and the cursors it moves afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingWindow {
    /// `None`: list everything. Otherwise the time (RFC 3339) the delta starts at.
    pub since: Option<String>,
    delta_cursor: String,
    full_cursor: String,
}

impl ListingWindow {
    /// Reads the cursors of `listing` under `import_groups` and decides, as of `now`.
    pub async fn open(
        stores: &Stores,
        conn: &mut impl AsConn,
        listing: Incremental,
        import_groups: &[String],
        now: time::OffsetDateTime,
    ) -> Result<Self, DbError> {
        let mut groups = import_groups.to_vec();
        groups.sort();
        groups.dedup();
        // Unit separators cannot occur in a group name typed into the allow-list's lines.
        let key = groups.join("\u{1f}");
        let prefix = listing.cursor_prefix();
        let delta_cursor = format!("{prefix}.delta:{key}");
        let full_cursor = format!("{prefix}.full:{key}");
        let cursors = &stores.sync_cursors;
        let last_full = cursors.get(conn, &full_cursor).await?;
        let delta_from = cursors.get(conn, &delta_cursor).await?;
        let full_is_due = last_full
            .as_deref()
            .and_then(parse_time)
            .is_none_or(|at| now - at >= FULL_EVERY);
        let since = match (full_is_due, delta_from.as_deref().and_then(parse_time)) {
            (false, Some(from)) => Some(format_time(from - OVERLAP)),
            _ => None,
        };
        Ok(Self {
            since,
            delta_cursor,
            full_cursor,
        })
    }

    pub fn is_full(&self) -> bool {
        self.since.is_none()
    }

    /// Moves the cursors after a complete listing was applied (in the apply's transaction):
    /// the next delta starts at `next_from` (less the overlap), and a full listing stamps
    /// `synced_at` as the last full one.
    pub async fn advance(
        &self,
        stores: &Stores,
        conn: &mut impl AsConn,
        next_from: Option<&str>,
        synced_at: &str,
    ) -> Result<(), DbError> {
        if let Some(from) = next_from {
            stores
                .sync_cursors
                .advance(conn, &self.delta_cursor, from)
                .await?;
        }
        if self.is_full() {
            stores
                .sync_cursors
                .advance(conn, &self.full_cursor, synced_at)
                .await?;
        }
        Ok(())
    }
}

/// How one run used a listing's window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowUse {
    /// Where the listing started: `None` when it listed everything.
    pub since: Option<String>,
    /// The window, when the listing ended complete and may move its cursors.
    pub complete: Option<ListingWindow>,
    /// It skipped an undecodable entry: a delta then leaves its cursor where it was, so the
    /// next run lists that entry again instead of stepping past it.
    pub skipped: bool,
}

impl WindowUse {
    /// The window to move after the apply, if any.
    pub fn to_advance(&self) -> Option<&ListingWindow> {
        self.complete
            .as_ref()
            .filter(|w| w.is_full() || !self.skipped)
    }
}
