//! Read side for machine actions: an endpoint with the Defender machine that represents it.

use sqlx::SqlitePool;

use super::{classify, DbError};

/// What deciding and sending an action needs to know about the target.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActionTarget {
    pub endpoint_id: i64,
    pub hostname: Option<String>,
    pub machine_id: Option<String>,
    pub computer_dns_name: Option<String>,
    pub os_platform: Option<String>,
    pub version: Option<String>,
    pub onboarding_status: Option<String>,
    pub health_status: Option<String>,
}

/// `None` for an unknown endpoint; `machine_id` is `None` when Defender does not know it.
pub async fn target(pool: &SqlitePool, endpoint_id: i64) -> Result<Option<ActionTarget>, DbError> {
    sqlx::query_as(
        "SELECT e.endpoint_id, e.hostname, m.machine_id, m.computer_dns_name, m.os_platform,
                m.version, m.onboarding_status, m.health_status
         FROM endpoint e LEFT JOIN defender_machine m ON m.machine_id = e.defender_machine_id
         WHERE e.endpoint_id = $1",
    )
    .bind(endpoint_id)
    .fetch_optional(pool)
    .await
    .map_err(classify)
}
