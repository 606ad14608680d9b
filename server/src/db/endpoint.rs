//! `endpoint`: one row per device. Sync and discovery imports write it; nothing deletes it.

use super::{AsConn, DbError, JsonText, MaybeJsonText, OwnConnection, Pool};

/// The Defender view of an endpoint, written by the sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefenderView {
    pub defender_machine_id: String,
    pub hostname: Option<String>,
    pub ip: Option<String>,
    pub os: Option<String>,
    pub onboarding_status: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub hostnames: String,
    pub ips: String,
    pub merge_evidence: String,
    /// The MACs of the endpoint that several live machines report, as JSON; `None` for none.
    pub mac_conflicts: Option<String>,
}

/// The stored inventory: endpoints, their assessments and the re-model's reads and writes.
#[async_trait::async_trait]
pub trait EndpointStore: Send + Sync + std::fmt::Debug {
    /// The next free endpoint ids start after this one (ids are assigned by the caller inside its
    /// write transaction, so bulk inserts need no RETURNING per row).
    async fn max_id(&self, conn: &mut dyn AsConn) -> Result<i64, DbError>;

    /// Creates endpoints for Defender machines that matched none, in bulk. Takes the rows by value:
    /// their text moves into the statements instead of being copied.
    async fn insert_many_from_defender(
        &self,
        conn: &mut dyn AsConn,
        rows: Vec<NewDefenderEndpoint>,
    ) -> Result<(), DbError>;

    /// A page of endpoints by id, with the representative machine's OS and, when
    /// `with_vulnerabilities`, its vulnerabilities.
    ///
    /// On SQLite the page comes back as one JSON value that SQLite builds, not as 2,000 rows of
    /// 17 values: sqlx copies every value it reads twice and hands each row across threads,
    /// which cost a 100k-endpoint re-model more than SQLite's own work (PostgreSQL's rows come
    /// as they are; see the body). On SQLite the digest and the machine's OS come
    /// from covering indexes (migration 0009), named because SQLite's planner prefers the unique
    /// keys and would then read each endpoint's assessment row and machine row as well: together
    /// about 180 MB at 100k endpoints.
    async fn remodel_page(
        &self,
        page: PageBounds,
        with_vulnerabilities: bool,
    ) -> Result<Vec<RemodelRow>, DbError>;

    /// A connection of its own for writing assessments in bulk, outside the shared pool: a page
    /// cache big enough to hold a page of rewritten assessments until commit (SQLite's default
    /// 2 MB spills them to the log mid-transaction), its statement journal in memory rather than
    /// in a temporary file, and no checkpoints of its own. Close it when done.
    async fn assessment_writer(&self) -> Result<OwnConnection, DbError>;

    /// How many [`assessment_writer`]s a re-model may write with at once: SQLite takes one
    /// writer at a time, PostgreSQL writes pages of different endpoints side by side (one
    /// writer left a core idle while the upserts were the slowest stage).
    fn assessment_writers(&self) -> std::num::NonZeroUsize;

    /// A connection of its own for [`checkpoint`]. Close it when done.
    async fn checkpointer(&self) -> Result<OwnConnection, DbError>;

    /// Copies what the write-ahead log holds back into the database, as far as readers allow,
    /// without waiting for them (SQLite's PASSIVE mode). PostgreSQL checkpoints by itself.
    async fn checkpoint(&self, conn: &mut dyn AsConn) -> Result<(), DbError>;

    /// Stores a page of assessments in `endpoint_assessment`, 500 endpoints per statement rather
    /// than one statement per endpoint; the endpoint rows themselves are not touched. Takes the
    /// page by value: its JSON (about 1 KB an endpoint) moves into the statement instead of being
    /// copied.
    async fn store_assessments(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<Assessed>,
    ) -> Result<(), DbError>;

    /// Forgets the Defender-derived classification (the integration was disabled).
    async fn clear_defender_classification(&self, prefix: &str) -> Result<(), DbError>;

    /// Flags endpoints not seen since `cutoff` (RFC 3339) as inactive; clears the flag otherwise.
    async fn mark_inactive(&self, cutoff: &str) -> Result<u64, DbError>;

    async fn by_mac(&self, conn: &mut dyn AsConn, mac: &str)
        -> Result<Option<NetworkRow>, DbError>;

    async fn by_ip(&self, conn: &mut dyn AsConn, ip: &str) -> Result<Option<NetworkRow>, DbError>;

    async fn insert_from_network(
        &self,
        conn: &mut dyn AsConn,
        v: &NetworkView,
    ) -> Result<i64, DbError>;

    /// Updates an endpoint from discovery. Defender's display values (hostname, IP, OS) win over
    /// discovery's when the endpoint has a Defender machine.
    async fn update_from_network(
        &self,
        conn: &mut dyn AsConn,
        endpoint_id: i64,
        v: &NetworkView,
    ) -> Result<(), DbError>;

    /// How many endpoints there are and the highest id (0 when there are none).
    async fn count_and_max_id(&self) -> Result<(i64, i64), DbError>;
}

#[async_trait::async_trait]
impl EndpointStore for Pool {
    async fn max_id(&self, conn: &mut dyn AsConn) -> Result<i64, DbError> {
        crate::on_conn!(conn, |conn| {
            let (id,): (i64,) =
                sqlx::query_as("SELECT COALESCE(MAX(endpoint_id), 0) FROM endpoint")
                    .fetch_one(&mut *conn)
                    .await?;
            Ok(id)
        })
    }

    async fn insert_many_from_defender(
        &self,
        conn: &mut dyn AsConn,
        rows: Vec<NewDefenderEndpoint>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = rows.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "INSERT INTO endpoint (endpoint_id, mac, mac_vendor, defender_machine_id, hostname, \
                     ip, os, onboarding_status, source_defender, first_seen, last_seen, hostnames, ips, \
                     merge_evidence, mac_conflicts) ",
                );
                q.push_values(rest.by_ref().take(400), |mut b, r| {
                    b.push_bind(r.endpoint_id)
                        .push_bind(r.mac)
                        .push_bind(r.mac_vendor)
                        .push_bind(r.view.defender_machine_id)
                        .push_bind(r.view.hostname)
                        .push_bind(r.view.ip)
                        .push_bind(r.view.os)
                        .push_bind(r.view.onboarding_status)
                        .push("TRUE")
                        .push_bind(r.view.first_seen)
                        .push_bind(r.view.last_seen)
                        .push_bind(JsonText(r.view.hostnames))
                        .push_bind(JsonText(r.view.ips))
                        .push_bind(JsonText(r.view.merge_evidence))
                        .push_bind(r.view.mac_conflicts.map(JsonText));
                });
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn remodel_page(
        &self,
        page: PageBounds,
        with_vulnerabilities: bool,
    ) -> Result<Vec<RemodelRow>, DbError> {
        crate::on_pool!(self, |pool| {
            if POSTGRES {
                // PostgreSQL hands rows over in its binary protocol without the copies that made
                // SQLite's JSON packing pay: packing them here cost the server about as much as the
                // joins (each jsonb fact written out and escaped a second time inside the array),
                // and the re-model parsed it all back. Its booleans come as the 0/1 the rows expect.
                let mut rows: Vec<RemodelRow> = sqlx::query_as(
                    "SELECT e.endpoint_id, e.mac, e.defender_machine_id, e.hostnames, e.ips, \
                     e.open_ports, e.os_matches, e.dhcp_vendor_class, e.dhcp_hostname, e.first_seen, \
                     e.last_seen, CAST(CAST(e.source_network AS INTEGER) AS BIGINT) AS source_network, \
                     CAST(CAST(e.source_defender AS INTEGER) AS BIGINT) AS source_defender, m.os_platform, \
                     m.version AS os_release, e.mac_conflicts, d.device_type, d.model, d.vendor, \
                     d.os_architecture, d.join_type, a.digest AS assessment_digest, \
                     CASE WHEN $3 THEN (SELECT string_agg(mv.cve_id || $4 || COALESCE(mv.severity, ''), $5) \
                       FROM machine_vulnerability mv WHERE mv.machine_id = e.defender_machine_id) END \
                       AS packed_vulnerabilities \
                     FROM (SELECT endpoint_id, mac, defender_machine_id, hostnames, ips, open_ports, \
                       os_matches, dhcp_vendor_class, dhcp_hostname, first_seen, last_seen, source_network, \
                       source_defender, mac_conflicts FROM endpoint \
                       WHERE endpoint_id > $1 AND endpoint_id <= $6 ORDER BY endpoint_id LIMIT $2) e \
                     LEFT JOIN endpoint_assessment a ON a.endpoint_id = e.endpoint_id \
                     LEFT JOIN defender_machine m ON m.machine_id = e.defender_machine_id \
                     LEFT JOIN machine_device_info d ON d.machine_id = e.defender_machine_id",
                )
                .bind(page.after)
                .bind(page.limit)
                .bind(with_vulnerabilities)
                .bind(FIELD_SEPARATOR)
                .bind(ENTRY_SEPARATOR)
                .bind(page.upto)
                .fetch_all(pool)
                .await?;
                rows.sort_by_key(|r| r.facts.endpoint_id);
                return Ok(rows);
            }
            let sql = "SELECT json_group_array(json_array(json_array(e.endpoint_id, e.mac, \
                 e.defender_machine_id, e.hostnames, e.ips, e.open_ports, e.os_matches, \
                 e.dhcp_vendor_class, e.dhcp_hostname, e.first_seen, e.last_seen, e.source_network, \
                 e.source_defender, m.os_platform, m.version, e.mac_conflicts, d.device_type, \
                 d.model, d.vendor, d.os_architecture, d.join_type), a.digest, \
                 CASE WHEN $3 THEN (SELECT string_agg(mv.cve_id || $4 || COALESCE(mv.severity, ''), $5) \
                   FROM machine_vulnerability mv WHERE mv.machine_id = e.defender_machine_id) END)) \
                 FROM (SELECT endpoint_id, mac, defender_machine_id, hostnames, ips, open_ports, \
                   os_matches, dhcp_vendor_class, dhcp_hostname, first_seen, last_seen, source_network, \
                   source_defender, mac_conflicts FROM endpoint \
                   WHERE endpoint_id > $1 AND endpoint_id <= $6 ORDER BY endpoint_id LIMIT $2) e \
                 LEFT JOIN endpoint_assessment a INDEXED BY endpoint_assessment_digest \
                   ON a.endpoint_id = e.endpoint_id \
                 LEFT JOIN defender_machine m INDEXED BY defender_machine_os \
                   ON m.machine_id = e.defender_machine_id \
                 LEFT JOIN machine_device_info d ON d.machine_id = e.defender_machine_id";
            let packed: Option<String> = sqlx::query_scalar(sql)
                .bind(page.after)
                .bind(page.limit)
                .bind(with_vulnerabilities)
                .bind(FIELD_SEPARATOR)
                .bind(ENTRY_SEPARATOR)
                .bind(page.upto)
                .fetch_one(pool)
                .await?;
            let mut rows: Vec<RemodelRow> = serde_json::from_str(packed.as_deref().unwrap_or("[]"))
                .map_err(|e| DbError::Other(sqlx::Error::Decode(Box::new(e))))?;
            // SQLite aggregates the rows as the id-ordered page yields them; sorting here (a single pass
            // when they are in order) costs less than an ORDER BY inside the aggregate, which sorts
            // every page's JSON through a temporary B-tree.
            rows.sort_by_key(|r| r.facts.endpoint_id);
            Ok(rows)
        })
    }

    async fn assessment_writer(&self) -> Result<OwnConnection, DbError> {
        let mut own = OwnConnection::open(self).await?;
        crate::on_conn!(&mut own, |conn| {
            if !POSTGRES {
                for setting in [
                    "PRAGMA cache_size = -8192",
                    "PRAGMA temp_store = MEMORY",
                    // Its commits leave the log to a [`checkpointer`].
                    "PRAGMA wal_autocheckpoint = 0",
                ] {
                    sqlx::query(setting).execute(&mut *conn).await?;
                }
            }
        });
        Ok(own)
    }

    fn assessment_writers(&self) -> std::num::NonZeroUsize {
        match self {
            Pool::Sqlite(_) => std::num::NonZeroUsize::MIN,
            Pool::Postgres(_) => std::num::NonZeroUsize::MIN.saturating_add(1),
        }
    }

    async fn checkpointer(&self) -> Result<OwnConnection, DbError> {
        OwnConnection::open(self).await
    }

    async fn checkpoint(&self, conn: &mut dyn AsConn) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            if !POSTGRES {
                sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })
    }

    async fn store_assessments(
        &self,
        conn: &mut dyn AsConn,
        page: Vec<Assessed>,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            let mut rest = page.into_iter().peekable();
            while rest.peek().is_some() {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "INSERT INTO endpoint_assessment (endpoint_id, profile_name, match_level, \
                     profiles_considered, risk_level, risk, defender_risk, digest) ",
                );
                q.push_values(rest.by_ref().take(500), |mut b, a| {
                    b.push_bind(a.endpoint_id)
                        .push_bind(a.profile_name)
                        .push_bind(a.match_level)
                        .push_bind(JsonText(a.profiles_considered))
                        .push_bind(a.risk_level)
                        .push_bind(JsonText(a.risk))
                        .push_bind(a.defender_risk.map(JsonText))
                        .push_bind(a.digest);
                });
                q.push(
                    " ON CONFLICT (endpoint_id) DO UPDATE SET profile_name = excluded.profile_name, \
                     match_level = excluded.match_level, \
                     profiles_considered = excluded.profiles_considered, \
                     risk_level = excluded.risk_level, risk = excluded.risk, \
                     defender_risk = excluded.defender_risk, digest = excluded.digest",
                );
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }

    async fn clear_defender_classification(&self, prefix: &str) -> Result<(), DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE endpoint_assessment SET profile_name = NULL, match_level = NULL, \
                 profiles_considered = '[]' WHERE profile_name LIKE $1",
            )
            .bind(format!("{prefix}%"))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn mark_inactive(&self, cutoff: &str) -> Result<u64, DbError> {
        crate::on_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE endpoint SET inactive = (last_seen < $1) \
                 WHERE inactive <> (last_seen < $1)",
            )
            .bind(cutoff)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    async fn by_mac(
        &self,
        conn: &mut dyn AsConn,
        mac: &str,
    ) -> Result<Option<NetworkRow>, DbError> {
        crate::on_conn!(conn, |conn| {
            Ok(sqlx::query_as(&format!(
                "SELECT {NETWORK_COLUMNS} FROM endpoint WHERE mac = $1"
            ))
            .bind(mac)
            .fetch_optional(&mut *conn)
            .await?)
        })
    }

    async fn by_ip(&self, conn: &mut dyn AsConn, ip: &str) -> Result<Option<NetworkRow>, DbError> {
        crate::on_conn!(conn, |conn| {
            Ok(sqlx::query_as(&format!(
                "SELECT {NETWORK_COLUMNS} FROM endpoint WHERE ip = $1 ORDER BY last_seen DESC LIMIT 1"
            ))
            .bind(ip)
            .fetch_optional(&mut *conn)
            .await?)
        })
    }

    async fn insert_from_network(
        &self,
        conn: &mut dyn AsConn,
        v: &NetworkView,
    ) -> Result<i64, DbError> {
        crate::on_conn!(conn, |conn| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO endpoint (mac, mac_vendor, hostname, ip, os, source_network, first_seen, \
                 last_seen, hostnames, ips, open_ports, os_matches, dhcp_vendor_class, dhcp_hostname) \
                 VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING endpoint_id",
            )
            .bind(&v.mac)
            .bind(&v.mac_vendor)
            .bind(&v.hostname)
            .bind(&v.ip)
            .bind(&v.os)
            .bind(&v.first_seen)
            .bind(&v.last_seen)
            .bind(JsonText(v.hostnames.as_str()))
            .bind(JsonText(v.ips.as_str()))
            .bind(JsonText(v.open_ports.as_str()))
            .bind(JsonText(v.os_matches.as_str()))
            .bind(&v.dhcp_vendor_class)
            .bind(&v.dhcp_hostname)
            .fetch_one(&mut *conn)
            .await?;
            Ok(id)
        })
    }

    async fn update_from_network(
        &self,
        conn: &mut dyn AsConn,
        endpoint_id: i64,
        v: &NetworkView,
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query(
                "UPDATE endpoint SET mac = COALESCE(mac, $1), mac_vendor = COALESCE($2, mac_vendor), \
                 hostname = CASE WHEN defender_machine_id IS NULL THEN COALESCE($3, hostname) \
                   ELSE COALESCE(hostname, $3) END, \
                 ip = CASE WHEN defender_machine_id IS NULL THEN COALESCE($4, ip) ELSE COALESCE(ip, $4) END, \
                 os = CASE WHEN defender_machine_id IS NULL THEN COALESCE($5, os) ELSE COALESCE(os, $5) END, \
                 source_network = TRUE, first_seen = $6, last_seen = $7, hostnames = $8, ips = $9, \
                 open_ports = $10, os_matches = $11, dhcp_vendor_class = $12, dhcp_hostname = $13, \
                 inactive = FALSE WHERE endpoint_id = $14",
            )
            .bind(&v.mac)
            .bind(&v.mac_vendor)
            .bind(&v.hostname)
            .bind(&v.ip)
            .bind(&v.os)
            .bind(&v.first_seen)
            .bind(&v.last_seen)
            .bind(JsonText(v.hostnames.as_str()))
            .bind(JsonText(v.ips.as_str()))
            .bind(JsonText(v.open_ports.as_str()))
            .bind(JsonText(v.os_matches.as_str()))
            .bind(&v.dhcp_vendor_class)
            .bind(&v.dhcp_hostname)
            .bind(endpoint_id)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    async fn count_and_max_id(&self) -> Result<(i64, i64), DbError> {
        crate::on_pool!(self, |pool| {
            Ok(
                sqlx::query_as("SELECT COUNT(*), COALESCE(MAX(endpoint_id), 0) FROM endpoint")
                    .fetch_one(pool)
                    .await?,
            )
        })
    }
}

/// A Defender-only endpoint to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDefenderEndpoint {
    pub endpoint_id: i64,
    pub mac: Option<String>,
    pub mac_vendor: Option<&'static str>,
    pub view: DefenderView,
}

/// Everything the classifier and the risk rules read, for one endpoint. [`remodel_page`]
/// reads it from a JSON array on SQLite, so the fields keep the query's column order, and from
/// columns of these names on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, sqlx::FromRow)]
pub struct FactsRow {
    pub endpoint_id: i64,
    pub mac: Option<String>,
    pub defender_machine_id: Option<String>,
    #[sqlx(try_from = "JsonText")]
    pub hostnames: String,
    #[sqlx(try_from = "JsonText")]
    pub ips: String,
    #[sqlx(try_from = "JsonText")]
    pub open_ports: String,
    #[sqlx(try_from = "JsonText")]
    pub os_matches: String,
    pub dhcp_vendor_class: Option<String>,
    pub dhcp_hostname: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub source_network: i64,
    pub source_defender: i64,
    pub os_platform: Option<String>,
    pub os_release: Option<String>,
    /// The endpoint's MACs that several live Defender machines report (JSON), if any.
    #[serde(default)]
    #[sqlx(try_from = "MaybeJsonText")]
    pub mac_conflicts: Option<String>,
    /// The representative machine's `machine_device_info` (advanced hunting's `DeviceInfo`).
    #[serde(default)]
    pub device_type: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub os_architecture: Option<String>,
    #[serde(default)]
    pub join_type: Option<String>,
}

/// Separates a CVE from its severity inside [`RemodelRow::vulnerabilities`] (ASCII unit
/// separator: never part of a CVE id or a severity).
const FIELD_SEPARATOR: &str = "\u{1f}";
/// Separates one vulnerability from the next (ASCII record separator).
const ENTRY_SEPARATOR: &str = "\u{1e}";

/// One endpoint as the re-model reads it: its facts, the digest of its stored assessment (so
/// unchanged endpoints need no write), and its representative machine's vulnerabilities.
/// [`remodel_page`] reads it from a JSON array on SQLite, so the fields keep the query's order,
/// and from columns of these names on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, sqlx::FromRow)]
pub struct RemodelRow {
    #[sqlx(flatten)]
    pub facts: FactsRow,
    /// [`Assessed::digest`] of what is stored; `None` when unknown (never assessed, or the
    /// assessment was changed by another write since).
    pub assessment_digest: Option<i64>,
    /// The machine's (CVE, severity) rows, packed into one value: a million vulnerability rows
    /// read one by one cost more than everything else in a re-model. Read with
    /// [`RemodelRow::vulnerabilities`].
    packed_vulnerabilities: Option<String>,
}

impl RemodelRow {
    /// The representative machine's (CVE id, severity) rows, one per affected product, so a
    /// CVE can repeat; the severity is empty when Defender gave none.
    pub fn vulnerabilities(&self) -> impl Iterator<Item = (&str, &str)> {
        self.packed_vulnerabilities
            .as_deref()
            .unwrap_or_default()
            .split(ENTRY_SEPARATOR)
            .filter(|entry| !entry.is_empty())
            .map(|entry| entry.split_once(FIELD_SEPARATOR).unwrap_or((entry, "")))
    }
}

/// Which endpoints a re-model page holds: the first `limit` by id with `after < id <= upto`
/// (keyset paging keeps memory flat at any size; the upper bound lets readers share the ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageBounds {
    pub after: i64,
    pub upto: i64,
    pub limit: i64,
}

/// The classification and risk computed for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessed {
    pub endpoint_id: i64,
    pub profile_name: Option<String>,
    pub match_level: Option<String>,
    pub profiles_considered: String,
    pub risk_level: String,
    pub risk: String,
    pub defender_risk: Option<String>,
    /// A digest of the fields above, stored beside them.
    pub digest: i64,
}

/// A discovery import's view of one endpoint (the full record, as stored).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NetworkRow {
    pub endpoint_id: i64,
    pub mac: Option<String>,
    #[sqlx(try_from = "JsonText")]
    pub hostnames: String,
    #[sqlx(try_from = "JsonText")]
    pub ips: String,
    #[sqlx(try_from = "JsonText")]
    pub open_ports: String,
    #[sqlx(try_from = "JsonText")]
    pub os_matches: String,
    pub dhcp_vendor_class: Option<String>,
    pub dhcp_hostname: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
}

const NETWORK_COLUMNS: &str = "endpoint_id, mac, hostnames, ips, open_ports, os_matches, \
     dhcp_vendor_class, dhcp_hostname, first_seen, last_seen";

/// The values a discovery import writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkView {
    pub mac: Option<String>,
    pub mac_vendor: Option<String>,
    pub hostname: Option<String>,
    pub ip: Option<String>,
    pub os: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub hostnames: String,
    pub ips: String,
    pub open_ports: String,
    pub os_matches: String,
    pub dhcp_vendor_class: Option<String>,
    pub dhcp_hostname: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn endpoint(pool: &Pool, id: i64, machine: Option<&str>) {
        crate::on_pool!(pool, |pool| {
            sqlx::query(
                "INSERT INTO endpoint (endpoint_id, defender_machine_id, first_seen, last_seen) \
                 VALUES ($1, $2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            )
            .bind(id)
            .bind(machine)
            .execute(pool)
            .await
            .unwrap();
        })
    }

    async fn vulnerable(pool: &Pool, machine: &str, cve: &str, product: &str, sev: Option<&str>) {
        crate::on_pool!(pool, |pool| {
            sqlx::query(
                "INSERT INTO machine_vulnerability (machine_id, cve_id, product_name, severity) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(machine)
            .bind(cve)
            .bind(product)
            .bind(sev)
            .execute(pool)
            .await
            .unwrap();
        })
    }

    fn sorted(row: &RemodelRow) -> Vec<(&str, &str)> {
        let mut list: Vec<_> = row.vulnerabilities().collect();
        list.sort_unstable();
        list
    }

    #[tokio::test]
    async fn a_remodel_page_carries_each_machines_vulnerabilities_within_its_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = crate::db::open(&url).await.unwrap();
        endpoint(&pool, 1, Some("m1")).await;
        endpoint(&pool, 2, None).await;
        endpoint(&pool, 3, Some("m3")).await;
        // One CVE on two products counts twice here; the re-model keeps it once.
        vulnerable(&pool, "m1", "CVE-2024-1", "edge", Some("High")).await;
        vulnerable(&pool, "m1", "CVE-2024-1", "office", Some("High")).await;
        vulnerable(&pool, "m1", "CVE-2024-2", "edge", None).await;
        vulnerable(&pool, "m3", "CVE-2024-3", "edge", Some("Low")).await;

        let all = PageBounds {
            after: 0,
            upto: i64::MAX,
            limit: 10,
        };
        let rows = pool.remodel_page(all, true).await.unwrap();
        let ids: Vec<i64> = rows.iter().map(|r| r.facts.endpoint_id).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(
            sorted(&rows[0]),
            [
                ("CVE-2024-1", "High"),
                ("CVE-2024-1", "High"),
                ("CVE-2024-2", "")
            ]
        );
        assert!(sorted(&rows[1]).is_empty());
        assert_eq!(sorted(&rows[2]), [("CVE-2024-3", "Low")]);

        // Bounds and limit pick the page; without Defender no vulnerabilities are read.
        let middle = PageBounds {
            after: 1,
            upto: 3,
            limit: 1,
        };
        let rows = pool.remodel_page(middle, false).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].facts.endpoint_id, 2);
        let rows = pool.remodel_page(all, false).await.unwrap();
        assert!(rows.iter().all(|r| r.vulnerabilities().next().is_none()));
    }

    async fn digest_of(pool: &Pool, id: i64) -> Option<i64> {
        crate::on_pool!(pool, |pool| {
            sqlx::query_scalar("SELECT digest FROM endpoint_assessment WHERE endpoint_id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .unwrap()
                .flatten()
        })
    }

    fn assessed(id: i64, profile: &str, digest: i64) -> Assessed {
        Assessed {
            endpoint_id: id,
            profile_name: Some(profile.to_owned()),
            match_level: Some("High".to_owned()),
            profiles_considered: "[]".to_owned(),
            risk_level: "Low".to_owned(),
            risk: "{}".to_owned(),
            defender_risk: None,
            digest,
        }
    }

    #[tokio::test]
    async fn stored_assessments_keep_their_digest_until_another_write_changes_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = crate::db::open(&url).await.unwrap();
        for id in 1..=3 {
            endpoint(&pool, id, None).await;
        }
        assert_eq!(digest_of(&pool, 1).await, None, "never assessed: unknown");

        let mut conn = pool.assessment_writer().await.unwrap();
        let page = vec![
            assessed(1, "⇋ Windows11", 11),
            assessed(2, "Windows Workstation", 22),
            assessed(3, "Linux Server", 33),
        ];
        pool.store_assessments(&mut conn, page).await.unwrap();
        // A second page replaces only what it names.
        pool.store_assessments(&mut conn, vec![assessed(3, "Network Printer", 34)])
            .await
            .unwrap();
        conn.close().await.unwrap();
        assert_eq!(digest_of(&pool, 1).await, Some(11));
        assert_eq!(digest_of(&pool, 2).await, Some(22));
        assert_eq!(digest_of(&pool, 3).await, Some(34));
        let profile: Option<String> = crate::on_pool!(&pool, |db| sqlx::query_scalar(
            "SELECT profile_name FROM endpoint_assessment WHERE endpoint_id = 3",
        )
        .fetch_one(db)
        .await
        .unwrap());
        assert_eq!(profile.as_deref(), Some("Network Printer"));

        // Disabling Defender rewrites the ⇋ classification without a digest: endpoint 1's
        // stored digest would now describe an assessment it no longer has.
        pool.clear_defender_classification("⇋").await.unwrap();
        assert_eq!(digest_of(&pool, 1).await, None);
        assert_eq!(
            digest_of(&pool, 2).await,
            Some(22),
            "untouched rows keep theirs"
        );
        // Any column of the assessment counts, and writes to the endpoint's facts do not.
        crate::on_pool!(&pool, |db| {
            sqlx::query("UPDATE endpoint_assessment SET risk_level = 'High' WHERE endpoint_id = 2")
                .execute(db)
                .await
                .unwrap();
        });
        crate::on_pool!(&pool, |db| {
            sqlx::query("UPDATE endpoint SET last_seen = '2026-02-01T00:00:00Z', hostname = 'x'")
                .execute(db)
                .await
                .unwrap();
        });
        assert_eq!(digest_of(&pool, 2).await, None);
        assert_eq!(digest_of(&pool, 3).await, Some(34));
    }
}
