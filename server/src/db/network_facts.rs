//! `machine_adapter` and `machine_device_info`: what advanced hunting says about each imported
//! machine's network adapters and hardware (migration 0028 / 0014), written one shard of
//! machines at a time by the sync (`sync::network_facts`) and read by the Endpoint Summary.

use futures::stream::{BoxStream, StreamExt};

use super::{classify, AsConn, DbError, JsonText, Pool};

/// One adapter of a machine's latest network report, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdapterRow {
    pub machine_id: String,
    pub adapter_name: String,
    pub adapter_type: Option<String>,
    pub adapter_status: Option<String>,
    /// Canonical form (`00:15:5D:0A:1B:2C`).
    pub mac: Option<String>,
    /// JSON `[{"address","prefix","space"}]`.
    #[sqlx(try_from = "JsonText")]
    pub ip_addresses: String,
    /// JSON `[{"name","category","internet"}]`.
    #[sqlx(try_from = "JsonText")]
    pub connected_networks: String,
    pub reported_at: String,
}

/// An adapter's MAC as the identity rules weigh it (`sync::merge::adapter`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdapterMacRow {
    pub machine_id: String,
    pub adapter_type: Option<String>,
    pub adapter_status: Option<String>,
    /// Canonical form (`00:15:5D:0A:1B:2C`).
    pub mac: String,
}

/// A machine's identity attributes, each the latest value Defender reported.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeviceInfoRow {
    pub machine_id: String,
    pub device_type: Option<String>,
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub os_architecture: Option<String>,
    pub join_type: Option<String>,
    pub reported_at: String,
}

#[async_trait::async_trait]
pub trait NetworkFactStore: Send + Sync + std::fmt::Debug {
    /// The machines this run imported (the run's `stage_machine`, after the import
    /// allow-list): the only ones whose facts it may write.
    async fn staged_machine_ids(&self, conn: &mut dyn AsConn) -> Result<Vec<String>, DbError>;

    /// Replaces the adapters of `machine_ids` with `rows` (rows of other machines are not
    /// written). Run it in a transaction: a shard is replaced whole or not at all.
    async fn replace_adapters(
        &self,
        conn: &mut dyn AsConn,
        machine_ids: &[String],
        rows: &[AdapterRow],
    ) -> Result<(), DbError>;

    /// Replaces the identity attributes of `machine_ids` with `rows`, as `replace_adapters`.
    async fn replace_device_info(
        &self,
        conn: &mut dyn AsConn,
        machine_ids: &[String],
        rows: &[DeviceInfoRow],
    ) -> Result<(), DbError>;

    /// Every stored adapter that has a MAC and no address, by machine and adapter name, as a
    /// stream: the adapters a machine record leaves out (it lists addresses, each with its
    /// adapter's MAC), which the merge reads beside the record's own.
    fn adapter_macs<'c>(
        &self,
        conn: &'c mut dyn AsConn,
    ) -> BoxStream<'c, Result<AdapterMacRow, sqlx::Error>>;

    /// The stored adapters of these machines, by machine and adapter name.
    async fn adapters(&self, machine_ids: &[String]) -> Result<Vec<AdapterRow>, DbError>;

    /// The stored identity attributes of these machines, by machine.
    async fn device_info(&self, machine_ids: &[String]) -> Result<Vec<DeviceInfoRow>, DbError>;
}

/// Bind parameters per statement stay well under SQLite's limit of 32,766.
const CHUNK: usize = 1000;

#[async_trait::async_trait]
impl NetworkFactStore for Pool {
    async fn staged_machine_ids(&self, conn: &mut dyn AsConn) -> Result<Vec<String>, DbError> {
        crate::on_conn!(conn, |conn| {
            sqlx::query_scalar("SELECT machine_id FROM stage_machine ORDER BY machine_id")
                .fetch_all(conn)
                .await
                .map_err(classify)
        })
    }

    async fn replace_adapters(
        &self,
        conn: &mut dyn AsConn,
        machine_ids: &[String],
        rows: &[AdapterRow],
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            for chunk in machine_ids.chunks(CHUNK) {
                let mut q: sqlx::QueryBuilder<Db> =
                    sqlx::QueryBuilder::new("DELETE FROM machine_adapter WHERE machine_id IN (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id);
                }
                q.push(")");
                q.build().execute(&mut *conn).await?;
            }
            for chunk in rows.chunks(CHUNK / 8) {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "INSERT INTO machine_adapter (machine_id, adapter_name, adapter_type, \
                     adapter_status, mac, ip_addresses, connected_networks, reported_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.machine_id)
                        .push_bind(&r.adapter_name)
                        .push_bind(&r.adapter_type)
                        .push_bind(&r.adapter_status)
                        .push_bind(&r.mac)
                        .push_bind(JsonText(r.ip_addresses.as_str()))
                        .push_bind(JsonText(r.connected_networks.as_str()))
                        .push_bind(&r.reported_at);
                });
                // Two adapters may share a name in one answer (a report split across rows):
                // the caller keeps the latest, so a repeat here is the same adapter.
                q.push(" ON CONFLICT (machine_id, adapter_name) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            Ok::<_, sqlx::Error>(())
        })
        .map_err(classify)
    }

    async fn replace_device_info(
        &self,
        conn: &mut dyn AsConn,
        machine_ids: &[String],
        rows: &[DeviceInfoRow],
    ) -> Result<(), DbError> {
        crate::on_conn!(conn, |conn| {
            for chunk in machine_ids.chunks(CHUNK) {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "DELETE FROM machine_device_info WHERE machine_id IN (",
                );
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id);
                }
                q.push(")");
                q.build().execute(&mut *conn).await?;
            }
            for chunk in rows.chunks(CHUNK / 7) {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "INSERT INTO machine_device_info (machine_id, device_type, model, vendor, \
                     os_architecture, join_type, reported_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.machine_id)
                        .push_bind(&r.device_type)
                        .push_bind(&r.model)
                        .push_bind(&r.vendor)
                        .push_bind(&r.os_architecture)
                        .push_bind(&r.join_type)
                        .push_bind(&r.reported_at);
                });
                q.push(" ON CONFLICT (machine_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            }
            Ok::<_, sqlx::Error>(())
        })
        .map_err(classify)
    }

    fn adapter_macs<'c>(
        &self,
        conn: &'c mut dyn AsConn,
    ) -> BoxStream<'c, Result<AdapterMacRow, sqlx::Error>> {
        crate::on_conn!(conn, |conn| {
            let sql = if POSTGRES {
                "SELECT machine_id, adapter_type, adapter_status, mac FROM machine_adapter \
                 WHERE mac IS NOT NULL AND jsonb_array_length(ip_addresses) = 0 \
                 ORDER BY machine_id, adapter_name"
            } else {
                "SELECT machine_id, adapter_type, adapter_status, mac FROM machine_adapter \
                 WHERE mac IS NOT NULL AND json_array_length(ip_addresses) = 0 \
                 ORDER BY machine_id, adapter_name"
            };
            sqlx::query_as(sql).fetch(conn).boxed()
        })
    }

    async fn adapters(&self, machine_ids: &[String]) -> Result<Vec<AdapterRow>, DbError> {
        let mut out = Vec::new();
        for chunk in machine_ids.chunks(CHUNK) {
            let rows: Vec<AdapterRow> = crate::on_pool!(self, |pool| {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "SELECT machine_id, adapter_name, adapter_type, adapter_status, mac, \
                     ip_addresses, connected_networks, reported_at FROM machine_adapter \
                     WHERE machine_id IN (",
                );
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id);
                }
                q.push(") ORDER BY machine_id, adapter_name");
                q.build_query_as().fetch_all(pool).await.map_err(classify)
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    async fn device_info(&self, machine_ids: &[String]) -> Result<Vec<DeviceInfoRow>, DbError> {
        let mut out = Vec::new();
        for chunk in machine_ids.chunks(CHUNK) {
            let rows: Vec<DeviceInfoRow> = crate::on_pool!(self, |pool| {
                let mut q: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                    "SELECT machine_id, device_type, model, vendor, os_architecture, join_type, \
                     reported_at FROM machine_device_info WHERE machine_id IN (",
                );
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id);
                }
                q.push(") ORDER BY machine_id");
                q.build_query_as().fetch_all(pool).await.map_err(classify)
            })?;
            out.extend(rows);
        }
        Ok(out)
    }
}
