//! `software_machine`: the devices Defender lists for a software product (List devices by
//! software, defender-api.md §4.16), read when the Software page opens the product (migration
//! 0026 / 0012), and the versions our machine-vulnerability rows give those devices.

use super::{classify, DbError, Pool};

/// One device Defender lists for a product, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SoftwareMachineRow {
    pub machine_id: String,
    pub computer_dns_name: Option<String>,
    pub os_platform: Option<String>,
    pub rbac_group_name: Option<String>,
    /// The endpoint the machine belongs to in our inventory; `None` for a machine the sync
    /// has not imported (outside the import allow-list, or new since the last sync).
    pub endpoint_id: Option<i64>,
}

/// A CVE of the product on a machine and the version it is in, from the
/// machine-vulnerability rows: Defender names versions only where they carry a CVE.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InstalledVersion {
    pub machine_id: String,
    pub product_version: String,
    pub cve_id: String,
}

#[async_trait::async_trait]
pub trait SoftwareMachineStore: Send + Sync + std::fmt::Debug {
    /// When the product's devices were last read from Defender; `None` if never.
    async fn read_at(&self, software_id: &str) -> Result<Option<String>, DbError>;

    /// Replaces the product's devices with `rows` (their `endpoint_id` is ignored).
    async fn replace(
        &self,
        software_id: &str,
        rows: &[SoftwareMachineRow],
        read_at: &str,
    ) -> Result<(), DbError>;

    /// The product's stored devices, each with its endpoint if imported.
    async fn machines(&self, software_id: &str) -> Result<Vec<SoftwareMachineRow>, DbError>;

    /// The CVEs and versions of `vendor`/`product` on these machines, each pair once.
    async fn versions(
        &self,
        vendor: &str,
        product: &str,
        machine_ids: &[String],
    ) -> Result<Vec<InstalledVersion>, DbError>;
}

/// Bind parameters per statement stay well under SQLite's limit of 32,766.
const CHUNK: usize = 1000;

#[async_trait::async_trait]
impl SoftwareMachineStore for Pool {
    async fn read_at(&self, software_id: &str) -> Result<Option<String>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT read_at FROM software_machine_read WHERE software_id = $1")
                .bind(software_id)
                .fetch_optional(pool)
                .await
                .map_err(classify)
        })
    }

    async fn replace(
        &self,
        software_id: &str,
        rows: &[SoftwareMachineRow],
        read_at: &str,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        crate::on_conn!(&mut tx, |conn| {
            sqlx::query("DELETE FROM software_machine WHERE software_id = $1")
                .bind(software_id)
                .execute(&mut *conn)
                .await?;
            for chunk in rows.chunks(CHUNK / 5) {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "INSERT INTO software_machine (software_id, machine_id, computer_dns_name, \
                     os_platform, rbac_group_name) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(software_id)
                        .push_bind(&r.machine_id)
                        .push_bind(&r.computer_dns_name)
                        .push_bind(&r.os_platform)
                        .push_bind(&r.rbac_group_name);
                });
                // Defender may list a device twice across pages (§3.4): the first stands.
                q.push(" ON CONFLICT (software_id, machine_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            sqlx::query(
                "INSERT INTO software_machine_read (software_id, read_at) VALUES ($1, $2) \
                 ON CONFLICT (software_id) DO UPDATE SET read_at = excluded.read_at",
            )
            .bind(software_id)
            .bind(read_at)
            .execute(&mut *conn)
            .await?;
            Ok::<_, sqlx::Error>(())
        })
        .map_err(classify)?;
        tx.commit().await
    }

    async fn machines(&self, software_id: &str) -> Result<Vec<SoftwareMachineRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT s.machine_id, s.computer_dns_name, s.os_platform, s.rbac_group_name, \
                 m.endpoint_id \
                 FROM software_machine s \
                 LEFT JOIN defender_machine m ON m.machine_id = s.machine_id \
                 WHERE s.software_id = $1 ORDER BY s.machine_id",
            )
            .bind(software_id)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn versions(
        &self,
        vendor: &str,
        product: &str,
        machine_ids: &[String],
    ) -> Result<Vec<InstalledVersion>, DbError> {
        let mut out = Vec::new();
        for chunk in machine_ids.chunks(CHUNK) {
            crate::on_pool!(self, |pool| {
                // Each machine's rows are one range of the primary key (machine_id first).
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "SELECT DISTINCT machine_id, product_version, cve_id \
                     FROM machine_vulnerability WHERE machine_id IN (",
                );
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id);
                }
                q.push(") AND LOWER(product_vendor) = ")
                    .push_bind(vendor.to_lowercase())
                    .push(" AND LOWER(product_name) = ")
                    .push_bind(product.to_lowercase());
                out.extend(
                    q.build_query_as::<InstalledVersion>()
                        .fetch_all(pool)
                        .await
                        .map_err(classify)?,
                );
            });
        }
        Ok(out)
    }
}
