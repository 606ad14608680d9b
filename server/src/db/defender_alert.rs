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

/// The alerts of the representative machines of endpoints `after < id <= upto`.
pub async fn for_endpoints(
    pool: &Pool,
    after: i64,
    upto: i64,
) -> Result<Vec<EndpointAlert>, DbError> {
    crate::on_pool!(pool, |pool| {
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

pub async fn count(pool: &Pool) -> Result<i64, DbError> {
    crate::on_pool!(pool, |pool| {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM defender_alert")
            .fetch_one(pool)
            .await?;
        Ok(n)
    })
}
