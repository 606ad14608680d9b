//! `cve_exposure`: each CVE's affected endpoints per device group, rebuilt after every sync
//! (migration 0025 / 0011) for the Vulnerabilities page's list scoped to a group.

use super::{DbError, Pool};

/// The device group of the machine row `table` holds, as the endpoint list names it
/// (`views::endpoint_row::device_group`): machines in none (id 0, or no name given) are in the
/// portal's "Ungrouped devices (default)".
pub fn device_group_of(table: &str) -> String {
    format!(
        "CASE WHEN {table}.rbac_group_id <> 0 AND {table}.rbac_group_name IS NOT NULL \
         THEN {table}.rbac_group_name ELSE 'Ungrouped devices (default)' END"
    )
}

#[async_trait::async_trait]
pub trait CveExposureStore: Send + Sync + std::fmt::Debug {
    /// Counts again, from the endpoints' representative machines; returns the rows written.
    async fn rebuild(&self) -> Result<u64, DbError>;
}

#[async_trait::async_trait]
impl CveExposureStore for Pool {
    async fn rebuild(&self) -> Result<u64, DbError> {
        let mut tx = self.begin_write().await?;
        let written = crate::on_conn!(&mut tx, |conn| {
            // Endpoint by endpoint, each machine's rows in key order: SQLite's own choice,
            // every row of the CVE index with two random lookups each, took 10 s instead of 2.
            let rows = if POSTGRES {
                "JOIN machine_vulnerability mv ON mv.machine_id = g.machine_id"
            } else {
                "CROSS JOIN machine_vulnerability mv \
                 INDEXED BY sqlite_autoindex_machine_vulnerability_1 ON mv.machine_id = g.machine_id"
            };
            sqlx::query("DELETE FROM cve_exposure")
                .execute(&mut *conn)
                .await?;
            let device_group = device_group_of("m");
            let written = sqlx::query(&format!(
                "INSERT INTO cve_exposure (device_group, cve_id, endpoints) \
                 SELECT g.device_group, mv.cve_id, COUNT(DISTINCT g.endpoint_id) \
                 FROM (SELECT e.endpoint_id, e.defender_machine_id AS machine_id, \
                       {device_group} AS device_group \
                       FROM endpoint e JOIN defender_machine m \
                       ON m.machine_id = e.defender_machine_id) g \
                 {rows} GROUP BY g.device_group, mv.cve_id"
            ))
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok::<_, DbError>(written)
        })?;
        tx.commit().await?;
        Ok(written)
    }
}
