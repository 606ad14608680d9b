//! Read side for machine actions: the Defender machines of an endpoint that actions may go
//! to. Only live records count: a record Defender lists no more (`gone`), marks as a potential
//! duplicate or has merged into another is never a target (defender-api.md §9.3).

use super::{classify, DbError, Pool};

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
    pub last_seen: Option<String>,
    pub agent_version: Option<String>,
}

/// A live record of the endpoint's device.
const LIVE: &str = "m.gone = FALSE AND m.is_potential_duplication = FALSE \
    AND m.merged_into_machine_id IS NULL";

/// Which Defender machine an action on an endpoint reaches.
#[async_trait::async_trait]
pub trait ActionTargetQuery: Send + Sync + std::fmt::Debug {
    /// The endpoint with the machine actions go to: `machine_id` when it names one of the
    /// endpoint's live machines, the machine that represents the endpoint when it is `None`.
    /// `None` for an unknown endpoint; the target's `machine_id` is `None` when there is no such
    /// machine.
    async fn target(
        &self,
        endpoint_id: i64,
        machine_id: Option<&str>,
    ) -> Result<Option<ActionTarget>, DbError>;

    /// Every live machine of the endpoint, the representative first, then the latest seen.
    async fn candidates(&self, endpoint_id: i64) -> Result<Vec<ActionTarget>, DbError>;
}

#[async_trait::async_trait]
impl ActionTargetQuery for Pool {
    async fn target(
        &self,
        endpoint_id: i64,
        machine_id: Option<&str>,
    ) -> Result<Option<ActionTarget>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT e.endpoint_id, e.hostname, m.machine_id, m.computer_dns_name, m.os_platform,
                        m.version, m.onboarding_status, m.health_status, m.last_seen, m.agent_version
                 FROM endpoint e LEFT JOIN defender_machine m
                   ON m.endpoint_id = e.endpoint_id AND {LIVE}
                   AND m.machine_id = COALESCE($2, e.defender_machine_id)
                 WHERE e.endpoint_id = $1"
            ))
            .bind(endpoint_id)
            .bind(machine_id)
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn candidates(&self, endpoint_id: i64) -> Result<Vec<ActionTarget>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT e.endpoint_id, e.hostname, m.machine_id, m.computer_dns_name, m.os_platform,
                        m.version, m.onboarding_status, m.health_status, m.last_seen, m.agent_version
                 FROM endpoint e JOIN defender_machine m ON m.endpoint_id = e.endpoint_id AND {LIVE}
                 WHERE e.endpoint_id = $1
                 ORDER BY m.machine_id IS DISTINCT FROM e.defender_machine_id, m.last_seen DESC, m.machine_id"
            ))
            .bind(endpoint_id)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }
}
