//! Staging tables for one Defender sync run (temporary, per connection).
//!
//! A run pages every listing into these tables on its own connection, then applies them to
//! the real tables in one transaction. Until that transaction commits, `defender_machine`,
//! `vulnerability`, `machine_vulnerability`, `defender_alert` and `endpoint` are untouched, so
//! a fault mid-sync (retries exhausted, truncated JSON, revoked token) leaves the previous data
//! exactly as it was.

use sqlx::QueryBuilder;

use super::cve_exposure::device_group_of;
use super::endpoint::DefenderView;
use super::staged_rows::{
    StagedAction, StagedAlert, StagedMachine, StagedMachineVulnerability, StagedVulnerability,
    StagedVulnerabilityChange,
};
use super::{format_time, AsConn, DbError, JsonText, Pool};

/// Rows per INSERT statement: well under SQLite's 32766 bound variables for 17 columns.
const ROWS_PER_INSERT: usize = 500;

/// Written with SQLite's type names; [`prepare`] turns them into PostgreSQL's, whose
/// `INTEGER` and `REAL` are 32 bits (a cvss_v3 of 7.8 came back as 7.800000190734863) where
/// the columns they are copied into are 64. On SQLite, `INTEGER PRIMARY KEY` stays the rowid.
/// JSON columns are `JSON_TEXT`: TEXT affinity on SQLite (the name contains "TEXT"), `jsonb`
/// on PostgreSQL like the tables they are copied into.
const DDL: &[&str] = &[
    "CREATE TEMP TABLE IF NOT EXISTS stage_machine (
        machine_id TEXT PRIMARY KEY, computer_dns_name TEXT, os_platform TEXT, os_version TEXT,
        version TEXT, os_build INTEGER, onboarding_status TEXT, health_status TEXT,
        risk_score TEXT, exposure_level TEXT, device_value TEXT, last_ip_address TEXT,
        first_seen TEXT, last_seen TEXT, is_potential_duplication BOOLEAN NOT NULL,
        merged_into_machine_id TEXT, ip_addresses JSON_TEXT NOT NULL, agent_version TEXT,
        rbac_group_id INTEGER, rbac_group_name TEXT, machine_tags JSON_TEXT NOT NULL)",
    "CREATE TEMP TABLE IF NOT EXISTS stage_vulnerability (
        cve_id TEXT PRIMARY KEY, name TEXT, description TEXT, severity TEXT, cvss_v3 REAL,
        cvss_vector TEXT, public_exploit BOOLEAN NOT NULL, exploit_verified BOOLEAN NOT NULL,
        exploit_in_kit BOOLEAN NOT NULL, exploit_types JSON_TEXT NOT NULL, published_on TEXT,
        updated_on TEXT, exposed_machines INTEGER)",
    "CREATE TEMP TABLE IF NOT EXISTS stage_machine_vulnerability (
        machine_id TEXT NOT NULL, cve_id TEXT NOT NULL, product_vendor TEXT NOT NULL,
        product_name TEXT NOT NULL, product_version TEXT NOT NULL, fixing_kb_id TEXT,
        severity TEXT,
        PRIMARY KEY (machine_id, cve_id, product_vendor, product_name, product_version))",
    // The change feed's entries: several per row (fixed, then found again).
    "CREATE TEMP TABLE IF NOT EXISTS stage_vulnerability_change (
        machine_id TEXT NOT NULL, cve_id TEXT NOT NULL, product_vendor TEXT NOT NULL,
        product_name TEXT NOT NULL, product_version TEXT NOT NULL, fixing_kb_id TEXT,
        severity TEXT, fixed BOOLEAN NOT NULL, event_at TEXT NOT NULL)",
    "CREATE TEMP TABLE IF NOT EXISTS stage_alert (
        alert_id TEXT PRIMARY KEY, machine_id TEXT, title TEXT, description TEXT, severity TEXT,
        status TEXT, category TEXT, classification TEXT, determination TEXT,
        detection_source TEXT, incident_id INTEGER, alert_creation_time TEXT,
        last_update_time TEXT, resolved_time TEXT)",
    // The merge's results, written in bulk and applied with one UPDATE each.
    "CREATE TEMP TABLE IF NOT EXISTS stage_endpoint (
        endpoint_id INTEGER PRIMARY KEY, defender_machine_id TEXT NOT NULL, hostname TEXT,
        ip TEXT, os TEXT, onboarding_status TEXT, first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL, hostnames JSON_TEXT NOT NULL, ips JSON_TEXT NOT NULL,
        merge_evidence JSON_TEXT NOT NULL, mac_conflicts JSON_TEXT)",
    "CREATE TEMP TABLE IF NOT EXISTS stage_link (
        machine_id TEXT PRIMARY KEY, endpoint_id INTEGER NOT NULL)",
    // Defender's machine actions (§4.4), the three kinds this console follows.
    "CREATE TEMP TABLE IF NOT EXISTS stage_machine_action (
        defender_action_id TEXT PRIMARY KEY, machine_id TEXT NOT NULL, kind TEXT NOT NULL,
        scope TEXT, requestor TEXT, comment TEXT NOT NULL, status TEXT NOT NULL,
        requested_at TEXT NOT NULL, updated_at TEXT NOT NULL, request_source TEXT)",
    // Items that could not be decoded: what they stand for is kept as stored.
    "CREATE TEMP TABLE IF NOT EXISTS stage_skipped (
        listing TEXT NOT NULL, item_id TEXT, machine_id TEXT, field TEXT NOT NULL,
        reason TEXT NOT NULL)",
    // Machines listed in a device group the import allow-list leaves out: not imported, and
    // whatever was stored of them before stays as it was.
    "CREATE TEMP TABLE IF NOT EXISTS stage_excluded_machine (
        machine_id TEXT PRIMARY KEY, device_group TEXT NOT NULL)",
];

const TABLES: &[&str] = &[
    "stage_machine",
    "stage_vulnerability",
    "stage_machine_vulnerability",
    "stage_vulnerability_change",
    "stage_alert",
    "stage_endpoint",
    "stage_link",
    "stage_machine_action",
    "stage_skipped",
    "stage_excluded_machine",
];

/// The apply transaction inserts 100k endpoints into a table with six indexes and rewrites
/// a million-row table: with SQLite's default 2 MB page cache the random index inserts read
/// and spill the same pages over and over. This much cache holds most of those indexes.
const APPLY_CACHE_KIB: i64 = 16_384;

/// The sync's staging tables on its own connection, and the statements that apply them.
#[async_trait::async_trait]
pub trait StagingStore: Send + Sync + std::fmt::Debug {
    /// Gives this connection the apply phase's page cache; returns the setting to restore.
    async fn widen_cache(&self, conn: &mut dyn AsConn) -> Result<i64, DbError>;

    /// Puts the page cache back as [`widen_cache`] found it, freeing the pages beyond it before
    /// the connection returns to the pool.
    async fn restore_cache(&self, conn: &mut dyn AsConn, setting: i64) -> Result<(), DbError>;

    /// Creates the staging tables on this connection if needed and empties them (a pooled
    /// connection may still hold an earlier failed run's rows).
    async fn prepare(&self, conn: &mut dyn AsConn) -> Result<(), DbError>;

    /// Empties one staging table: a listing that was refused half way leaves nothing behind.
    async fn empty(&self, conn: &mut dyn AsConn, table: &str) -> Result<(), DbError>;

    /// Empties the staging tables, e.g. after the run so the connection goes back small.
    async fn clear(&self, conn: &mut dyn AsConn) -> Result<(), DbError>;

    /// Stages one page of machines (§4.1), taken by value: their text moves into the statement.
    async fn machines(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedMachine>,
    ) -> Result<(), DbError>;

    /// Stages one page of the tenant's vulnerabilities (§4.10).
    async fn vulnerabilities(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedVulnerability>,
    ) -> Result<(), DbError>;

    /// Stages one page of the bulk machine-vulnerability rows (§4.12).
    async fn machine_vulnerabilities(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedMachineVulnerability>,
    ) -> Result<(), DbError>;

    /// Stages one page of the vulnerability change feed (§4.13).
    async fn vulnerability_changes(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedVulnerabilityChange>,
    ) -> Result<(), DbError>;

    /// Stages one page of alerts (§4.3).
    async fn alerts(&self, conn: &mut dyn AsConn, page: Vec<StagedAlert>) -> Result<(), DbError>;

    /// Stages one page of machine actions (§4.4, §5.5). A missing time is stored as now.
    async fn machine_actions(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedAction>,
    ) -> Result<(), DbError>;

    /// Stages the items of one listing that could not be decoded.
    async fn skipped(
        &self,
        conn: &mut dyn AsConn,
        listing: &str,
        items: &[SkippedRow],
    ) -> Result<(), DbError>;

    /// Stages the merge's Defender view of existing endpoints, taken by value like the inserts.
    async fn endpoint_views(
        &self,
        conn: &mut dyn AsConn,
        views: Vec<(i64, DefenderView)>,
    ) -> Result<(), DbError>;

    /// Writes the staged Defender views onto their endpoints in one statement. Network facts
    /// (ports, OS matches) stay; display values fall back to discovery's when Defender has none.
    /// Endpoints the view would not change are skipped, so an unchanged sync writes nothing.
    async fn apply_endpoint_views(&self, conn: &mut dyn AsConn) -> Result<(), DbError>;

    /// Links every present machine to its endpoint: a representative to the endpoint it
    /// represents, in one statement; the other machines (duplicate records) through the staged
    /// (machine, endpoint) pairs in `links`. Call after the endpoints' views are written.
    async fn apply_links(
        &self,
        conn: &mut dyn AsConn,
        links: &[(&str, i64)],
    ) -> Result<(), DbError>;

    /// Counts added, updated and unchanged machines by comparing the stored fields.
    async fn machine_diff(&self, conn: &mut dyn AsConn) -> Result<MachineDiff, DbError>;

    /// Upserts the staged machines into `defender_machine`, keeping each one's endpoint link.
    /// Unchanged rows are left alone, so `synced_at` tells when a record last changed.
    async fn apply_machines(&self, conn: &mut dyn AsConn, synced_at: &str) -> Result<(), DbError>;

    /// Marks stored machines missing from the (complete) listing as gone, except those whose
    /// record could not be decoded this time. Never deletes.
    async fn mark_missing_gone(&self, conn: &mut dyn AsConn) -> Result<u64, DbError>;

    /// Upserts the staged vulnerabilities (CVE details change: CVSS, exploit flags).
    async fn apply_vulnerabilities(
        &self,
        conn: &mut dyn AsConn,
        synced_at: &str,
    ) -> Result<i64, DbError>;

    /// Makes the machine-vulnerability rows equal to the staged bulk listing: the listing is the
    /// whole current state (§4.12), so fixed vulnerabilities disappear. A machine with a row that
    /// could not be decoded keeps its stored rows until a listing decodes whole. Only the differences are
    /// written: rewriting a million unchanged rows every hour cost most of a sync.
    /// New rows are first seen at `synced_at`; rows that stay keep their first sighting.
    async fn apply_machine_vulnerabilities(
        &self,
        conn: &mut dyn AsConn,
        synced_at: &str,
    ) -> Result<MachineVulnerabilityChanges, DbError>;

    /// Applies the staged change feed to the stored machine-vulnerability rows: each row's
    /// latest entry decides (at one time, found beats fixed: a device that moved group is
    /// fixed in the old one and new in the new one, §9.25), so entries the feed repeats change
    /// nothing. Rows of excluded machines stay as they were. `listed` is the rows stored after.
    async fn apply_vulnerability_changes(
        &self,
        conn: &mut dyn AsConn,
        synced_at: &str,
    ) -> Result<MachineVulnerabilityChanges, DbError>;

    /// Upserts the staged alerts (alerts are mutable, §5.3).
    async fn apply_alerts(&self, conn: &mut dyn AsConn, synced_at: &str) -> Result<i64, DbError>;

    /// The latest `lastUpdateTime` of the staged alerts (RFC 3339): where the next delta of
    /// alerts starts.
    async fn latest_alert_update(&self, conn: &mut dyn AsConn) -> Result<Option<String>, DbError>;

    /// Rows in one staging or inventory table.
    async fn count(&self, conn: &mut dyn AsConn, table: &str) -> Result<i64, DbError>;

    /// Moves the staged machines whose device group (as the endpoint list names it) is not in
    /// `allowed` out of the listing, keeping their ids; returns how many per group.
    async fn exclude_machines(
        &self,
        conn: &mut dyn AsConn,
        allowed: &[String],
    ) -> Result<Vec<(String, i64)>, DbError>;

    /// Drops the rows of `table` (a staging table with a `machine_id`) of excluded machines.
    async fn drop_excluded_rows(&self, conn: &mut dyn AsConn, table: &str) -> Result<(), DbError>;
}

/// What applying the machine-vulnerability listing changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MachineVulnerabilityChanges {
    /// Rows the listing held.
    pub listed: i64,
    /// Rows listed for the first time.
    pub new: i64,
    /// Stored rows it no longer listed: fixed, or their machine gone.
    pub fixed: i64,
}

/// `table` if it is one of the staging tables, which are the only ones named in SQL by text.
fn staging_table(table: &str) -> Result<&str, DbError> {
    if TABLES.contains(&table) {
        Ok(table)
    } else {
        Err(DbError::Other(sqlx::Error::Protocol(format!(
            "not a staging table: {table}"
        ))))
    }
}

/// Excluded machines are neither gone nor stripped of their rows.
const NOT_EXCLUDED: &str =
    "NOT EXISTS (SELECT 1 FROM stage_excluded_machine x WHERE x.machine_id = {table}.machine_id)";

fn not_excluded(table: &str) -> String {
    NOT_EXCLUDED.replace("{table}", table)
}

#[async_trait::async_trait]
impl StagingStore for Pool {
    async fn widen_cache(&self, conn: &mut dyn AsConn) -> Result<i64, DbError> {
        crate::on_conn!(conn, |conn| {
            if POSTGRES {
                // Its buffers are the server's, shared by every connection.
                return Ok(0);
            }
            let (before,): (i64,) = sqlx::query_as("PRAGMA cache_size")
                .fetch_one(&mut *conn)
                .await?;
            sqlx::query(&format!("PRAGMA cache_size = -{APPLY_CACHE_KIB}"))
                .execute(&mut *conn)
                .await?;
            Ok(before)
        })
    }

    async fn restore_cache(&self, conn: &mut dyn AsConn, setting: i64) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            if !POSTGRES {
                sqlx::query(&format!("PRAGMA cache_size = {setting}"))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
    }

    async fn prepare(&self, conn: &mut dyn AsConn) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            for ddl in DDL {
                let ddl = if POSTGRES {
                    ddl.replace(" INTEGER", " BIGINT")
                        .replace(" REAL", " DOUBLE PRECISION")
                        .replace(" JSON_TEXT", " JSONB")
                } else {
                    (*ddl).to_owned()
                };
                sqlx::query(&ddl).execute(&mut *conn).await?;
            }
            self.clear(conn).await
        })
    }

    async fn empty(&self, conn: &mut dyn AsConn, table: &str) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            staging_table(table)?;
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    async fn clear(&self, conn: &mut dyn AsConn) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            for table in TABLES {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
    }

    async fn machines(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedMachine>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = page.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO stage_machine (machine_id, computer_dns_name, os_platform, os_version, \
                     version, os_build, onboarding_status, health_status, risk_score, exposure_level, \
                     device_value, last_ip_address, first_seen, last_seen, is_potential_duplication, \
                     merged_into_machine_id, ip_addresses, agent_version, rbac_group_id, \
                     rbac_group_name, machine_tags) ",
                );
                q.push_values(rest.by_ref().take(ROWS_PER_INSERT), |mut b, m| {
                    let ips =
                        serde_json::to_string(&m.ip_addresses).unwrap_or_else(|_| "[]".into());
                    let tags =
                        serde_json::to_string(&m.machine_tags).unwrap_or_else(|_| "[]".into());
                    b.push_bind(m.machine_id)
                        .push_bind(m.computer_dns_name)
                        .push_bind(m.os_platform)
                        .push_bind(m.os_version)
                        .push_bind(m.version)
                        .push_bind(m.os_build)
                        .push_bind(m.onboarding_status)
                        .push_bind(m.health_status)
                        .push_bind(m.risk_score)
                        .push_bind(m.exposure_level)
                        .push_bind(m.device_value)
                        .push_bind(m.last_ip_address)
                        .push_bind(time_text(m.first_seen))
                        .push_bind(time_text(m.last_seen))
                        .push_bind(m.is_potential_duplication)
                        .push_bind(m.merged_into_machine_id)
                        .push_bind(JsonText(ips))
                        .push_bind(m.agent_version)
                        .push_bind(m.rbac_group_id)
                        .push_bind(m.rbac_group_name)
                        .push_bind(JsonText(tags));
                });
                // Unstable paging (§3.4) can list a record twice: the first copy stands.
                q.push(" ON CONFLICT (machine_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn vulnerabilities(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedVulnerability>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = page.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO stage_vulnerability (cve_id, name, description, severity, cvss_v3, \
                     cvss_vector, public_exploit, exploit_verified, exploit_in_kit, exploit_types, \
                     published_on, updated_on, exposed_machines) ",
                );
                q.push_values(rest.by_ref().take(ROWS_PER_INSERT), |mut b, v| {
                    let types =
                        serde_json::to_string(&v.exploit_types).unwrap_or_else(|_| "[]".into());
                    b.push_bind(v.cve_id)
                        .push_bind(v.name)
                        .push_bind(v.description)
                        .push_bind(v.severity)
                        .push_bind(v.cvss_v3)
                        .push_bind(v.cvss_vector)
                        .push_bind(v.public_exploit)
                        .push_bind(v.exploit_verified)
                        .push_bind(v.exploit_in_kit)
                        .push_bind(JsonText(types))
                        .push_bind(time_text(v.published_on))
                        .push_bind(time_text(v.updated_on))
                        .push_bind(v.exposed_machines);
                });
                q.push(" ON CONFLICT (cve_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn machine_vulnerabilities(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedMachineVulnerability>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = page.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO stage_machine_vulnerability (machine_id, cve_id, product_vendor, \
                     product_name, product_version, fixing_kb_id, severity) ",
                );
                q.push_values(rest.by_ref().take(ROWS_PER_INSERT), |mut b, r| {
                    b.push_bind(r.machine_id)
                        .push_bind(r.cve_id)
                        .push_bind(r.product_vendor)
                        .push_bind(r.product_name)
                        .push_bind(r.product_version)
                        .push_bind(r.fixing_kb_id)
                        .push_bind(r.severity);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn vulnerability_changes(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedVulnerabilityChange>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = page.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO stage_vulnerability_change (machine_id, cve_id, product_vendor, \
                     product_name, product_version, fixing_kb_id, severity, fixed, event_at) ",
                );
                q.push_values(rest.by_ref().take(ROWS_PER_INSERT), |mut b, c| {
                    b.push_bind(c.row.machine_id)
                        .push_bind(c.row.cve_id)
                        .push_bind(c.row.product_vendor)
                        .push_bind(c.row.product_name)
                        .push_bind(c.row.product_version)
                        .push_bind(c.row.fixing_kb_id)
                        .push_bind(c.row.severity)
                        .push_bind(c.fixed)
                        .push_bind(c.event_at);
                });
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn alerts(&self, conn: &mut dyn AsConn, page: Vec<StagedAlert>) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = page.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO stage_alert (alert_id, machine_id, title, description, severity, \
                     status, category, classification, determination, detection_source, incident_id, \
                     alert_creation_time, last_update_time, resolved_time) ",
                );
                q.push_values(rest.by_ref().take(ROWS_PER_INSERT), |mut b, a| {
                    b.push_bind(a.alert_id)
                        .push_bind(a.machine_id)
                        .push_bind(a.title)
                        .push_bind(a.description)
                        .push_bind(a.severity)
                        .push_bind(a.status)
                        .push_bind(a.category)
                        .push_bind(a.classification)
                        .push_bind(a.determination)
                        .push_bind(a.detection_source)
                        .push_bind(a.incident_id)
                        .push_bind(time_text(a.alert_creation_time))
                        .push_bind(time_text(a.last_update_time))
                        .push_bind(time_text(a.resolved_time));
                });
                q.push(" ON CONFLICT (alert_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn machine_actions(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<StagedAction>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = page.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO stage_machine_action (defender_action_id, machine_id, kind, scope, \
                     requestor, comment, status, requested_at, updated_at, request_source) ",
                );
                q.push_values(rest.by_ref().take(ROWS_PER_INSERT), |mut b, a| {
                    let created = time_text(a.requested_at);
                    let updated = time_text(a.updated_at);
                    b.push_bind(a.defender_action_id)
                        .push_bind(a.machine_id)
                        .push_bind(a.kind)
                        .push_bind(a.scope)
                        .push_bind(a.requestor)
                        .push_bind(a.comment)
                        .push_bind(a.status)
                        .push_bind(created.clone().unwrap_or_else(super::now))
                        .push_bind(updated.or(created).unwrap_or_else(super::now))
                        .push_bind(a.request_source);
                });
                q.push(" ON CONFLICT (defender_action_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn skipped(
        &self,
        conn: &mut dyn AsConn,
        listing: &str,
        items: &[SkippedRow],
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            for chunk in items.chunks(ROWS_PER_INSERT) {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO stage_skipped (listing, item_id, machine_id, field, reason) ",
                );
                q.push_values(chunk, |mut b, item| {
                    b.push_bind(listing.to_owned())
                        .push_bind(item.item_id.clone())
                        .push_bind(item.machine_id.as_deref().map(str::to_ascii_lowercase))
                        .push_bind(item.field.clone())
                        .push_bind(item.reason.clone());
                });
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn endpoint_views(
        &self,
        conn: &mut dyn AsConn,
        views: Vec<(i64, DefenderView)>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = views.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO stage_endpoint (endpoint_id, defender_machine_id, hostname, ip, os, \
                     onboarding_status, first_seen, last_seen, hostnames, ips, merge_evidence, \
                     mac_conflicts) ",
                );
                q.push_values(rest.by_ref().take(ROWS_PER_INSERT), |mut b, (id, v)| {
                    b.push_bind(id)
                        .push_bind(v.defender_machine_id)
                        .push_bind(v.hostname)
                        .push_bind(v.ip)
                        .push_bind(v.os)
                        .push_bind(v.onboarding_status)
                        .push_bind(v.first_seen)
                        .push_bind(v.last_seen)
                        .push_bind(JsonText(v.hostnames))
                        .push_bind(JsonText(v.ips))
                        .push_bind(JsonText(v.merge_evidence))
                        .push_bind(v.mac_conflicts.map(JsonText));
                });
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn apply_endpoint_views(&self, conn: &mut dyn AsConn) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query(
                "UPDATE endpoint SET defender_machine_id = s.defender_machine_id, \
                 hostname = COALESCE(s.hostname, endpoint.hostname), ip = COALESCE(s.ip, endpoint.ip), \
                 os = COALESCE(s.os, endpoint.os), onboarding_status = s.onboarding_status, \
                 source_defender = TRUE, \
                 first_seen = CASE WHEN s.first_seen < endpoint.first_seen THEN s.first_seen \
                   ELSE endpoint.first_seen END, \
                 last_seen = CASE WHEN s.last_seen > endpoint.last_seen THEN s.last_seen \
                   ELSE endpoint.last_seen END, \
                 hostnames = s.hostnames, ips = s.ips, merge_evidence = s.merge_evidence, \
                 mac_conflicts = s.mac_conflicts, inactive = FALSE \
                 FROM stage_endpoint s WHERE endpoint.endpoint_id = s.endpoint_id AND ( \
                 endpoint.defender_machine_id IS DISTINCT FROM s.defender_machine_id \
                 OR endpoint.hostname IS DISTINCT FROM COALESCE(s.hostname, endpoint.hostname) \
                 OR endpoint.ip IS DISTINCT FROM COALESCE(s.ip, endpoint.ip) \
                 OR endpoint.os IS DISTINCT FROM COALESCE(s.os, endpoint.os) \
                 OR endpoint.onboarding_status IS DISTINCT FROM s.onboarding_status \
                 OR endpoint.source_defender = FALSE OR endpoint.inactive = TRUE \
                 OR s.first_seen < endpoint.first_seen OR s.last_seen > endpoint.last_seen \
                 OR endpoint.hostnames <> s.hostnames OR endpoint.ips <> s.ips \
                 OR endpoint.merge_evidence <> s.merge_evidence \
                 OR endpoint.mac_conflicts IS DISTINCT FROM s.mac_conflicts)",
            )
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    async fn apply_links(
        &self,
        conn: &mut dyn AsConn,
        links: &[(&str, i64)],
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query(
                "UPDATE defender_machine SET endpoint_id = e.endpoint_id FROM endpoint e \
                 WHERE e.defender_machine_id = defender_machine.machine_id \
                 AND defender_machine.gone = FALSE \
                 AND defender_machine.endpoint_id IS DISTINCT FROM e.endpoint_id",
            )
            .execute(&mut *conn)
            .await?;
            for chunk in links.chunks(ROWS_PER_INSERT) {
                let mut q: QueryBuilder<Db> =
                    QueryBuilder::new("INSERT INTO stage_link (machine_id, endpoint_id) ");
                q.push_values(chunk, |mut b, (machine, endpoint)| {
                    b.push_bind(machine.to_string()).push_bind(*endpoint);
                });
                q.push(" ON CONFLICT (machine_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            sqlx::query(
                "UPDATE defender_machine SET endpoint_id = s.endpoint_id FROM stage_link s \
                 WHERE defender_machine.machine_id = s.machine_id \
                 AND defender_machine.endpoint_id IS DISTINCT FROM s.endpoint_id",
            )
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    async fn machine_diff(&self, conn: &mut dyn AsConn) -> Result<MachineDiff, DbError> {
        crate::on_conn!(conn, |conn| {
            let sql = format!(
                "SELECT \
                   (SELECT COUNT(*) FROM stage_machine), \
                   (SELECT COUNT(*) FROM stage_machine s WHERE NOT EXISTS \
                      (SELECT 1 FROM defender_machine d WHERE d.machine_id = s.machine_id)), \
                   (SELECT COUNT(*) FROM stage_machine s JOIN defender_machine d \
                      ON d.machine_id = s.machine_id WHERE {}), \
                   (SELECT COUNT(*) FROM defender_machine WHERE gone = FALSE AND {})",
                changed_predicate(),
                not_excluded("defender_machine")
            );
            let (seen, added, updated, previously_present): (i64, i64, i64, i64) =
                sqlx::query_as(&sql).fetch_one(&mut *conn).await?;
            Ok(MachineDiff {
                seen,
                added,
                updated,
                unchanged: seen - added - updated,
                previously_present,
            })
        })
    }

    async fn apply_machines(&self, conn: &mut dyn AsConn, synced_at: &str) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let columns = COMPARED.join(", ");
            let set: Vec<String> = COMPARED
                .iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            let changed: Vec<String> = COMPARED
                .iter()
                .map(|c| format!("defender_machine.{c} IS DISTINCT FROM excluded.{c}"))
                .collect();
            let sql = format!(
                "INSERT INTO defender_machine (machine_id, {columns}, gone, synced_at) \
                 SELECT machine_id, {columns}, FALSE, $1 FROM stage_machine WHERE true \
                 ON CONFLICT (machine_id) DO UPDATE SET {}, gone = FALSE, synced_at = excluded.synced_at \
                 WHERE defender_machine.gone = TRUE OR {}",
                set.join(", "),
                changed.join(" OR ")
            );
            sqlx::query(&sql)
                .bind(synced_at)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    async fn mark_missing_gone(&self, conn: &mut dyn AsConn) -> Result<u64, DbError> {
        crate::on_conn!(conn, |conn| {
            let done = sqlx::query(&format!(
                "UPDATE defender_machine SET gone = TRUE WHERE gone = FALSE AND NOT EXISTS \
                 (SELECT 1 FROM stage_machine s WHERE s.machine_id = defender_machine.machine_id) \
                 AND NOT EXISTS (SELECT 1 FROM stage_skipped k WHERE k.listing = 'machines' \
                   AND k.machine_id = defender_machine.machine_id) AND {}",
                not_excluded("defender_machine")
            ))
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected())
        })
    }

    async fn apply_vulnerabilities(
        &self,
        conn: &mut dyn AsConn,
        synced_at: &str,
    ) -> Result<i64, DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query(
                "INSERT INTO vulnerability (cve_id, name, description, severity, cvss_v3, cvss_vector, \
                 public_exploit, exploit_verified, exploit_in_kit, exploit_types, published_on, \
                 updated_on, exposed_machines, synced_at) \
                 SELECT cve_id, name, description, severity, cvss_v3, cvss_vector, public_exploit, \
                 exploit_verified, exploit_in_kit, exploit_types, published_on, updated_on, \
                 exposed_machines, $1 FROM stage_vulnerability WHERE true \
                 ON CONFLICT (cve_id) DO UPDATE SET name = excluded.name, \
                 description = excluded.description, severity = excluded.severity, \
                 cvss_v3 = excluded.cvss_v3, cvss_vector = excluded.cvss_vector, \
                 public_exploit = excluded.public_exploit, exploit_verified = excluded.exploit_verified, \
                 exploit_in_kit = excluded.exploit_in_kit, exploit_types = excluded.exploit_types, \
                 published_on = excluded.published_on, updated_on = excluded.updated_on, \
                 exposed_machines = excluded.exposed_machines, synced_at = excluded.synced_at",
            )
            .bind(synced_at)
            .execute(&mut *conn)
            .await?;
            self.count(conn, "stage_vulnerability").await
        })
    }

    async fn apply_machine_vulnerabilities(
        &self,
        conn: &mut dyn AsConn,
        synced_at: &str,
    ) -> Result<MachineVulnerabilityChanges, DbError> {
        crate::on_conn!(conn, |conn| {
            // SQLite would walk the CVE index (it covers every key column) and look each row up
            // in the staged ones at random: 4.4 s instead of 0.8 s for a million rows. In key
            // order, both B-trees are read front to back.
            let table = if POSTGRES {
                "machine_vulnerability"
            } else {
                "machine_vulnerability INDEXED BY sqlite_autoindex_machine_vulnerability_1"
            };
            let fixed = sqlx::query(&format!(
                "DELETE FROM {table} WHERE NOT EXISTS \
                 (SELECT 1 FROM stage_skipped k WHERE k.listing = 'machine vulnerabilities' \
                  AND k.machine_id = machine_vulnerability.machine_id) AND NOT EXISTS \
                 (SELECT 1 FROM stage_machine_vulnerability s \
                  WHERE s.machine_id = machine_vulnerability.machine_id \
                  AND s.cve_id = machine_vulnerability.cve_id \
                  AND s.product_vendor = machine_vulnerability.product_vendor \
                  AND s.product_name = machine_vulnerability.product_name \
                  AND s.product_version = machine_vulnerability.product_version) AND {}",
                not_excluded("machine_vulnerability")
            ))
            .execute(&mut *conn)
            .await?
            .rows_affected();
            // Most rows new (a first sync): each would be filed in the CVE index at a random
            // page, which made a full sync of 100k machines 1.6 times longer on SQLite and 4 s
            // longer on PostgreSQL; built afterwards from the stored rows it costs about two
            // seconds. SQLite's readers keep their snapshot meanwhile (WAL); PostgreSQL's wait
            // for the commit (DROP INDEX locks the table), which a first sync can afford: there
            // is next to nothing to read yet.
            let staged = self.count(conn, "stage_machine_vulnerability").await?;
            // Counting stops where the answer is known: past half the staged rows.
            let rebuild_cve_index = staged > 10_000 && {
                let enough = staged / 2 + 1;
                let stored: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM machine_vulnerability LIMIT $1) AS kept",
                )
                .bind(enough)
                .fetch_one(&mut *conn)
                .await?;
                2 * stored < staged
            };
            if rebuild_cve_index {
                sqlx::query("DROP INDEX IF EXISTS machine_vulnerability_cve")
                    .execute(&mut *conn)
                    .await?;
            }
            // The insert adds the new rows and updates others in place, so the count grows by
            // the new ones (first_seen cannot tell them: two runs may share a second).
            let before = self.count(conn, "machine_vulnerability").await?;
            // In key order, so the primary-key index grows at its end instead of at random pages.
            sqlx::query(
                "INSERT INTO machine_vulnerability (machine_id, cve_id, product_vendor, product_name, \
                 product_version, fixing_kb_id, severity, first_seen) \
                 SELECT machine_id, cve_id, product_vendor, product_name, product_version, \
                 fixing_kb_id, severity, $1 FROM stage_machine_vulnerability WHERE true \
                 ORDER BY machine_id, cve_id, product_vendor, product_name, product_version \
                 ON CONFLICT (machine_id, cve_id, product_vendor, product_name, product_version) \
                 DO UPDATE SET fixing_kb_id = excluded.fixing_kb_id, severity = excluded.severity \
                 WHERE machine_vulnerability.fixing_kb_id IS DISTINCT FROM excluded.fixing_kb_id \
                 OR machine_vulnerability.severity IS DISTINCT FROM excluded.severity",
            )
            .bind(synced_at)
            .execute(&mut *conn)
            .await?;
            if rebuild_cve_index {
                // As migration 0021 (SQLite) and 0007 (PostgreSQL) make it.
                sqlx::query(
                    "CREATE INDEX machine_vulnerability_cve ON machine_vulnerability (cve_id, machine_id)",
                )
                .execute(&mut *conn)
                .await?;
                if POSTGRES {
                    // The planner has no statistics for a table that was empty until now, and
                    // autovacuum takes up to a minute to gather them: until then, one CVE's
                    // endpoints were read with a plan that took five times as long.
                    sqlx::query("ANALYZE machine_vulnerability")
                        .execute(&mut *conn)
                        .await?;
                }
            }
            let new = self.count(conn, "machine_vulnerability").await? - before;
            // The staged rows were counted above; the insert left them as they were.
            Ok(MachineVulnerabilityChanges {
                listed: staged,
                new,
                fixed: i64::try_from(fixed).unwrap_or(i64::MAX),
            })
        })
    }

    async fn apply_vulnerability_changes(
        &self,
        conn: &mut dyn AsConn,
        synced_at: &str,
    ) -> Result<MachineVulnerabilityChanges, DbError> {
        crate::on_conn!(conn, |conn| {
            const KEY: &str = "machine_id, cve_id, product_vendor, product_name, product_version";
            // Each row's latest entry; `fixed` sorts false first, so found wins a tie.
            let latest = format!(
                "(SELECT * FROM (SELECT c.*, ROW_NUMBER() OVER (PARTITION BY {KEY} \
                 ORDER BY event_at DESC, fixed ASC) AS n FROM stage_vulnerability_change c \
                 WHERE {}) AS ranked WHERE n = 1)",
                not_excluded("c")
            );
            let fixed = sqlx::query(&format!(
                "DELETE FROM machine_vulnerability WHERE ({KEY}) IN \
                 (SELECT {KEY} FROM {latest} AS l WHERE l.fixed)"
            ))
            .execute(&mut *conn)
            .await?
            .rows_affected();
            let before = self.count(conn, "machine_vulnerability").await?;
            sqlx::query(&format!(
                "INSERT INTO machine_vulnerability ({KEY}, fixing_kb_id, severity, first_seen) \
                 SELECT {KEY}, fixing_kb_id, severity, $1 FROM {latest} AS l WHERE NOT l.fixed \
                 ON CONFLICT ({KEY}) DO UPDATE SET fixing_kb_id = excluded.fixing_kb_id, \
                 severity = excluded.severity \
                 WHERE machine_vulnerability.fixing_kb_id IS DISTINCT FROM excluded.fixing_kb_id \
                 OR machine_vulnerability.severity IS DISTINCT FROM excluded.severity"
            ))
            .bind(synced_at)
            .execute(&mut *conn)
            .await?;
            let listed = self.count(conn, "machine_vulnerability").await?;
            Ok(MachineVulnerabilityChanges {
                listed,
                new: listed - before,
                fixed: i64::try_from(fixed).unwrap_or(i64::MAX),
            })
        })
    }

    async fn apply_alerts(&self, conn: &mut dyn AsConn, synced_at: &str) -> Result<i64, DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query(
                "INSERT INTO defender_alert (alert_id, machine_id, title, description, severity, status, \
                 category, classification, determination, detection_source, incident_id, \
                 alert_creation_time, last_update_time, resolved_time, synced_at) \
                 SELECT alert_id, machine_id, title, description, severity, status, category, \
                 classification, determination, detection_source, incident_id, alert_creation_time, \
                 last_update_time, resolved_time, $1 FROM stage_alert WHERE true \
                 ON CONFLICT (alert_id) DO UPDATE SET machine_id = excluded.machine_id, \
                 title = excluded.title, description = excluded.description, \
                 severity = excluded.severity, status = excluded.status, category = excluded.category, \
                 classification = excluded.classification, determination = excluded.determination, \
                 detection_source = excluded.detection_source, incident_id = excluded.incident_id, \
                 alert_creation_time = excluded.alert_creation_time, \
                 last_update_time = excluded.last_update_time, resolved_time = excluded.resolved_time, \
                 synced_at = excluded.synced_at",
            )
            .bind(synced_at)
            .execute(&mut *conn)
            .await?;
            self.count(conn, "stage_alert").await
        })
    }

    async fn latest_alert_update(&self, conn: &mut dyn AsConn) -> Result<Option<String>, DbError> {
        crate::on_conn!(conn, |conn| {
            Ok(
                sqlx::query_scalar("SELECT MAX(last_update_time) FROM stage_alert")
                    .fetch_one(&mut *conn)
                    .await?,
            )
        })
    }

    async fn count(&self, conn: &mut dyn AsConn, table: &str) -> Result<i64, DbError> {
        crate::on_conn!(conn, |conn| {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *conn)
                .await?;
            Ok(n)
        })
    }

    async fn exclude_machines(
        &self,
        conn: &mut dyn AsConn,
        allowed: &[String],
    ) -> Result<Vec<(String, i64)>, DbError> {
        if allowed.is_empty() {
            return Ok(Vec::new());
        }
        crate::on_conn!(conn, |conn| {
            let group = device_group_of("stage_machine");
            let mut insert = QueryBuilder::<Db>::new(format!(
                "INSERT INTO stage_excluded_machine (machine_id, device_group) \
                 SELECT machine_id, {group} FROM stage_machine WHERE {group} NOT IN ("
            ));
            let mut names = insert.separated(", ");
            for name in allowed {
                names.push_bind(name);
            }
            insert.push(") ON CONFLICT (machine_id) DO NOTHING");
            insert.build().execute(&mut *conn).await?;
            sqlx::query(&format!(
                "DELETE FROM stage_machine WHERE NOT {}",
                not_excluded("stage_machine")
            ))
            .execute(&mut *conn)
            .await?;
            Ok(sqlx::query_as(
                "SELECT device_group, COUNT(*) FROM stage_excluded_machine \
                 GROUP BY device_group ORDER BY device_group",
            )
            .fetch_all(&mut *conn)
            .await?)
        })
    }

    async fn drop_excluded_rows(&self, conn: &mut dyn AsConn, table: &str) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            staging_table(table)?;
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE NOT {}",
                not_excluded(table)
            ))
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }
}

fn time_text(at: Option<time::OffsetDateTime>) -> Option<String> {
    at.map(format_time)
}

/// An item that could not be decoded, and the machine whose stored data it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    pub item_id: Option<String>,
    pub machine_id: Option<String>,
    pub field: String,
    pub reason: String,
}

/// How the staged machines compare with the stored ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MachineDiff {
    pub seen: i64,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// Stored machines not marked gone before this run.
    pub previously_present: i64,
}

/// The columns compared to tell an updated machine from an unchanged one.
const COMPARED: &[&str] = &[
    "computer_dns_name",
    "os_platform",
    "os_version",
    "version",
    "os_build",
    "onboarding_status",
    "health_status",
    "risk_score",
    "exposure_level",
    "device_value",
    "last_ip_address",
    "first_seen",
    "last_seen",
    "is_potential_duplication",
    "merged_into_machine_id",
    "ip_addresses",
    "agent_version",
    "rbac_group_id",
    "rbac_group_name",
    "machine_tags",
];

fn changed_predicate() -> String {
    let mut p: Vec<String> = COMPARED
        .iter()
        .map(|c| format!("s.{c} IS DISTINCT FROM d.{c}"))
        .collect();
    // A machine coming back from gone counts as updated.
    p.push("d.gone = TRUE".into());
    p.join(" OR ")
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::db::staged_rows::StagedAddress;

    fn machine(id: &str, health: &str) -> StagedMachine {
        StagedMachine {
            machine_id: id.into(),
            computer_dns_name: Some(format!("{id}.corp.test")),
            os_platform: Some("Windows11".into()),
            os_version: None,
            version: Some("24H2".into()),
            os_build: None,
            onboarding_status: Some("Onboarded".into()),
            health_status: Some(health.into()),
            risk_score: None,
            exposure_level: None,
            device_value: None,
            last_ip_address: None,
            first_seen: None,
            last_seen: Some(time::macros::datetime!(2026-01-04 21:03:10 UTC)),
            is_potential_duplication: false,
            merged_into_machine_id: None,
            ip_addresses: vec![StagedAddress {
                ip_address: Some("10.0.0.1".into()),
                mac_address: Some("00155DA1B2C3".into()),
                kind: Some("Ethernet".into()),
                operational_status: None,
            }],
            agent_version: None,
            rbac_group_id: Some(0),
            rbac_group_name: None,
            machine_tags: Vec::new(),
        }
    }

    /// Stages `page` as a run would, applies it, and returns the diff seen before applying.
    async fn sync(
        store: &dyn StagingStore,
        conn: &mut impl AsConn,
        page: &[StagedMachine],
        gone: bool,
    ) -> MachineDiff {
        store.prepare(conn).await.unwrap();
        store.machines(conn, page.to_vec()).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let diff = store.machine_diff(&mut tx).await.unwrap();
        store
            .apply_machines(&mut tx, "2026-01-05T00:00:00Z")
            .await
            .unwrap();
        if gone {
            store.mark_missing_gone(&mut tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        diff
    }

    fn vulnerable(
        machine: &str,
        cve: &str,
        product: &str,
        severity: &str,
    ) -> StagedMachineVulnerability {
        StagedMachineVulnerability {
            machine_id: machine.into(),
            cve_id: cve.into(),
            product_vendor: "contoso".into(),
            product_name: product.into(),
            product_version: "1.0".into(),
            fixing_kb_id: None,
            severity: Some(severity.into()),
        }
    }

    /// Stages `listing` as a run at `synced_at` would, applies it, and returns the stored rows
    /// (machine, CVE, product, severity, first seen).
    async fn apply_listing(
        store: &dyn StagingStore,
        conn: &mut impl AsConn,
        listing: &[StagedMachineVulnerability],
        synced_at: &str,
    ) -> Vec<(String, String, String, String, String)> {
        apply_counted(store, conn, listing, synced_at).await.1
    }

    /// [`apply_listing`] with what the apply counted.
    async fn apply_counted(
        store: &dyn StagingStore,
        conn: &mut impl AsConn,
        listing: &[StagedMachineVulnerability],
        synced_at: &str,
    ) -> (
        MachineVulnerabilityChanges,
        Vec<(String, String, String, String, String)>,
    ) {
        crate::on_conn!(conn, |conn| {
            store.prepare(conn).await.unwrap();
            store
                .machine_vulnerabilities(conn, listing.to_vec())
                .await
                .unwrap();
            let mut tx = AsConn::begin(conn).await.unwrap();
            let staged = store
                .apply_machine_vulnerabilities(&mut tx, synced_at)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(staged.listed, listing.len() as i64);
            let rows = sqlx::query_as(
                "SELECT machine_id, cve_id, product_name, severity, first_seen \
                 FROM machine_vulnerability ORDER BY 1, 2, 3",
            )
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            (staged, rows)
        })
    }

    #[tokio::test]
    async fn machine_vulnerabilities_become_exactly_the_latest_listing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = crate::db::open(&url).await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let row = |m: &str, c: &str, p: &str, s: &str, seen: &str| {
            (m.into(), c.into(), p.into(), s.into(), seen.into())
        };
        let (t1, t2) = ("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z");

        let first = [
            vulnerable("a", "CVE-1", "edge", "High"),
            vulnerable("a", "CVE-2", "edge", "Low"),
            vulnerable("b", "CVE-1", "office", "High"),
        ];
        let changes = |listed, new, fixed| MachineVulnerabilityChanges { listed, new, fixed };
        assert_eq!(
            apply_counted(&pool, &mut conn, &first, t1).await,
            (
                changes(3, 3, 0),
                vec![
                    row("a", "CVE-1", "edge", "High", t1),
                    row("a", "CVE-2", "edge", "Low", t1),
                    row("b", "CVE-1", "office", "High", t1),
                ]
            )
        );

        // A fixed CVE goes, a new one comes (first seen now), a changed severity is updated, the
        // rest stays, first seen when it was. Only the new one is counted new.
        let second = [
            vulnerable("a", "CVE-1", "edge", "Critical"),
            vulnerable("b", "CVE-1", "office", "High"),
            vulnerable("b", "CVE-3", "office", "Medium"),
        ];
        assert_eq!(
            apply_counted(&pool, &mut conn, &second, t2).await,
            (
                changes(3, 1, 1),
                vec![
                    row("a", "CVE-1", "edge", "Critical", t1),
                    row("b", "CVE-1", "office", "High", t1),
                    row("b", "CVE-3", "office", "Medium", t2),
                ]
            )
        );
    }

    /// How SQLite would find one CVE's rows.
    async fn cve_lookup_plan(conn: &mut impl AsConn) -> String {
        crate::on_conn!(conn, |c| {
            let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
                "EXPLAIN QUERY PLAN SELECT machine_id FROM machine_vulnerability \
                 WHERE cve_id = 'CVE-1-3'",
            )
            .fetch_all(&mut *c)
            .await
            .unwrap();
            plan.into_iter().map(|p| p.3).collect::<Vec<_>>().join("; ")
        })
    }

    #[tokio::test]
    async fn a_listing_of_mostly_new_rows_leaves_the_cve_index_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = crate::db::open(&url).await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        // Enough new rows that the index is dropped and built again after the insert.
        let listing: Vec<StagedMachineVulnerability> = (0..10_001)
            .map(|i| {
                vulnerable(
                    &format!("m{}", i / 10),
                    &format!("CVE-1-{}", i % 10),
                    "edge",
                    "High",
                )
            })
            .collect();
        let t = "2026-12-01T10:00:00Z";
        assert_eq!(
            apply_listing(&pool, &mut conn, &listing, t).await.len(),
            10_001
        );
        let plan = cve_lookup_plan(&mut conn).await;
        assert!(plan.contains("machine_vulnerability_cve"), "{plan}");
        // A second listing with few new rows keeps the index as it is (no rebuild).
        let mut more = listing.clone();
        more.push(vulnerable("m-new", "CVE-1-3", "edge", "High"));
        assert_eq!(
            apply_listing(&pool, &mut conn, &more, t).await.len(),
            10_002
        );
        let plan = cve_lookup_plan(&mut conn).await;
        assert!(plan.contains("machine_vulnerability_cve"), "{plan}");
    }

    #[tokio::test]
    async fn change_detection_compares_the_stored_fields() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = crate::db::open(&url).await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let (a, b) = (machine("a", "Active"), machine("b", "Active"));

        let first = sync(&pool, &mut conn, &[a.clone(), b.clone()], true).await;
        assert_eq!(
            (first.seen, first.added, first.updated, first.unchanged),
            (2, 2, 0, 0)
        );

        let same = sync(&pool, &mut conn, &[a.clone(), b.clone()], true).await;
        assert_eq!((same.added, same.updated, same.unchanged), (0, 0, 2));
        assert_eq!(same.previously_present, 2);

        // One field changes: one update. A NULL becoming a value counts too.
        let mut b2 = machine("b", "Inactive");
        b2.os_build = Some(26100);
        let changed = sync(&pool, &mut conn, &[a.clone(), b2.clone()], true).await;
        assert_eq!(
            (changed.added, changed.updated, changed.unchanged),
            (0, 1, 1)
        );

        // `b` goes missing, then comes back unchanged: coming back is an update.
        sync(&pool, &mut conn, std::slice::from_ref(&a), true).await;
        let back = sync(&pool, &mut conn, &[a, b2], true).await;
        assert_eq!((back.added, back.updated, back.unchanged), (0, 1, 1));
    }
}
