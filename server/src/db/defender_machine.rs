//! `defender_machine`: every Defender machine record, duplicates included.

use futures::stream::{BoxStream, StreamExt};

use super::{AsConn, DbError, JsonText, Pool};

/// The fields the merge and the endpoint display columns need.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MachineRow {
    pub machine_id: String,
    pub endpoint_id: Option<i64>,
    pub computer_dns_name: Option<String>,
    pub os_platform: Option<String>,
    pub version: Option<String>,
    pub onboarding_status: Option<String>,
    pub health_status: Option<String>,
    pub last_ip_address: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub is_potential_duplication: bool,
    pub merged_into_machine_id: Option<String>,
    #[sqlx(try_from = "JsonText")]
    pub ip_addresses: String,
}

/// Defender's machines as last synced.
#[async_trait::async_trait]
pub trait MachineStore: Send + Sync + std::fmt::Debug {
    /// Every machine present in the latest listing (not gone), as a stream: the caller keeps what
    /// it needs of each row, not 100k rows of JSON at once.
    fn present<'c>(
        &self,
        conn: &'c mut dyn AsConn,
    ) -> BoxStream<'c, Result<MachineRow, sqlx::Error>>;

    /// The machines on this endpoint now (not gone), with whether the endpoint was also seen on
    /// the local network.
    async fn on_endpoint(&self, endpoint_id: i64) -> Result<Vec<(String, bool)>, DbError>;

    /// The endpoint the machine is on.
    async fn endpoint_of(
        &self,
        conn: &mut dyn AsConn,
        machine_id: &str,
    ) -> Result<Option<i64>, DbError>;
}

#[async_trait::async_trait]
impl MachineStore for Pool {
    fn present<'c>(
        &self,
        conn: &'c mut dyn AsConn,
    ) -> BoxStream<'c, Result<MachineRow, sqlx::Error>> {
        crate::on_conn!(conn, |conn| {
            sqlx::query_as(
                "SELECT machine_id, endpoint_id, computer_dns_name, os_platform, version, \
                 onboarding_status, health_status, last_ip_address, first_seen, last_seen, \
                 is_potential_duplication, merged_into_machine_id, ip_addresses \
                 FROM defender_machine WHERE gone = FALSE ORDER BY machine_id",
            )
            .fetch(conn)
            .boxed()
        })
    }

    async fn on_endpoint(&self, endpoint_id: i64) -> Result<Vec<(String, bool)>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT m.machine_id, e.source_network FROM defender_machine m \
                 JOIN endpoint e ON e.endpoint_id = m.endpoint_id \
                 WHERE m.endpoint_id = $1 AND m.gone = FALSE",
            )
            .bind(endpoint_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn endpoint_of(
        &self,
        conn: &mut dyn AsConn,
        machine_id: &str,
    ) -> Result<Option<i64>, DbError> {
        crate::on_conn!(conn, |conn| {
            Ok(
                sqlx::query_scalar(
                    "SELECT endpoint_id FROM defender_machine WHERE machine_id = $1",
                )
                .bind(machine_id)
                .fetch_optional(&mut *conn)
                .await?
                .flatten(),
            )
        })
    }
}
