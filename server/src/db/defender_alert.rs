//! `defender_alert`: Defender alerts (defender-api.md §4.3, §5.3), upserted by id.

use super::{DbError, Pool};

/// One alert on an endpoint's representative machine.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EndpointAlert {
    pub endpoint_id: i64,
    pub alert_id: String,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
}

/// Defender's alerts as last synced.
#[async_trait::async_trait]
pub trait AlertStore: Send + Sync + std::fmt::Debug {
    /// The alerts of the representative machines of endpoints `after < id <= upto`.
    async fn for_endpoints(&self, after: i64, upto: i64) -> Result<Vec<EndpointAlert>, DbError>;
}

#[async_trait::async_trait]
impl AlertStore for Pool {
    async fn for_endpoints(&self, after: i64, upto: i64) -> Result<Vec<EndpointAlert>, DbError> {
        crate::on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT e.endpoint_id, a.alert_id, a.title, a.severity, a.status FROM endpoint e \
                 JOIN defender_alert a ON a.machine_id = e.defender_machine_id \
                 WHERE e.endpoint_id > $1 AND e.endpoint_id <= $2",
            )
            .bind(after)
            .bind(upto)
            .fetch_all(pool)
            .await?)
        })
    }
}
