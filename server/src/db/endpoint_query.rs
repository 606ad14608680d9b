//! Read side of the inventory: the rows behind the endpoint list (filtered, sorted and paged in
//! memory by `views::endpoint_list`) and what the Endpoint Summary and the dashboard show. The
//! sync and imports write these tables elsewhere.

use super::machine_split::SplitRow;
use super::{classify, DbError, JsonText, MaybeJsonText, Pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointListRow {
    pub endpoint_id: i64,
    pub risk_level: String,
    pub mac: Option<String>,
    pub ip: Option<String>,
    pub hostname: Option<String>,
    pub mac_vendor: Option<String>,
    pub profile_name: Option<String>,
    pub match_level: Option<String>,
    pub os: Option<String>,
    pub source_network: bool,
    pub source_defender: bool,
    pub onboarding_status: Option<String>,
    pub last_seen: String,
    pub inactive: bool,
}

const LIST_COLUMNS: &str = "e.endpoint_id, COALESCE(a.risk_level, 'None') AS risk_level, \
    e.mac, e.ip, e.hostname, e.mac_vendor, a.profile_name, a.match_level, e.os, \
    e.source_network, e.source_defender, e.onboarding_status, e.last_seen, e.inactive";

/// Endpoints with their assessment; one that no re-model has reached yet has no profile and
/// risk None (the defaults of `endpoint_assessment`).
const ENDPOINT_WITH_ASSESSMENT: &str =
    "endpoint e LEFT JOIN endpoint_assessment a ON a.endpoint_id = e.endpoint_id";

/// The endpoint pages' read model: the list, the Summary and the dashboard.
#[async_trait::async_trait]
pub trait EndpointViews: Send + Sync + std::fmt::Debug {
    async fn profile_names(&self) -> Result<Vec<String>, DbError>;

    async fn onboarding_states(&self) -> Result<Vec<String>, DbError>;

    async fn detail(&self, endpoint_id: i64) -> Result<Option<EndpointDetailRow>, DbError>;

    async fn machines(&self, endpoint_id: i64) -> Result<Vec<MachineRow>, DbError>;

    /// One row per (CVE, product) of a machine; CVE details come from the tenant-wide listing.
    async fn machine_vulnerabilities(
        &self,
        machine_id: &str,
    ) -> Result<Vec<MachineVulnerabilityRow>, DbError>;

    async fn machine_alerts(&self, machine_id: &str) -> Result<Vec<AlertRow>, DbError>;

    async fn count_by_risk(&self) -> Result<Vec<(String, i64)>, DbError>;

    /// Endpoints by (Defender onboarding status, seen on the network, known to Defender).
    async fn coverage(&self) -> Result<Vec<CoverageCount>, DbError>;

    /// At most `limit` endpoints at risk level `level`, the highest id first (the order of the
    /// list sorted by risk, descending).
    async fn at_risk_level(&self, level: &str, limit: i64) -> Result<Vec<CacheRow>, DbError>;

    /// The list cache's key, read with every list request: one statement.
    async fn list_key(&self) -> Result<ListKey, DbError>;

    /// Every endpoint with the columns the list shows and searches.
    async fn all_for_cache(&self) -> Result<Vec<CacheRow>, DbError>;

    /// The splits the Summary shows: machines split off the endpoint, and splits of the
    /// machines it holds now.
    async fn splits(&self, endpoint_id: i64) -> Result<Vec<SplitRow>, DbError>;
}

#[async_trait::async_trait]
impl EndpointViews for Pool {
    async fn profile_names(&self) -> Result<Vec<String>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT DISTINCT profile_name FROM endpoint_assessment WHERE profile_name IS NOT NULL
                 ORDER BY profile_name",
            )
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn onboarding_states(&self) -> Result<Vec<String>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT DISTINCT onboarding_status FROM endpoint WHERE onboarding_status IS NOT NULL
                 ORDER BY onboarding_status",
            )
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn detail(&self, endpoint_id: i64) -> Result<Option<EndpointDetailRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {LIST_COLUMNS}, e.defender_machine_id, e.first_seen, e.hostnames, e.ips,
                        e.open_ports, COALESCE(a.profiles_considered, '[]') AS profiles_considered,
                        COALESCE(a.risk, '{{\"overall\":\"None\",\"assessments\":[]}}') AS risk,
                        a.defender_risk, e.merge_evidence
                 FROM {ENDPOINT_WITH_ASSESSMENT} WHERE e.endpoint_id = $1"
            ))
            .bind(endpoint_id)
            .fetch_optional(pool)
            .await
            .map_err(classify)
        })
    }

    async fn machines(&self, endpoint_id: i64) -> Result<Vec<MachineRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT machine_id, computer_dns_name, os_platform, version, onboarding_status,
                        health_status, risk_score, exposure_level, last_seen, is_potential_duplication,
                        gone, rbac_group_id, rbac_group_name, machine_tags
                 FROM defender_machine WHERE endpoint_id = $1 ORDER BY last_seen DESC, machine_id",
            )
            .bind(endpoint_id)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn machine_vulnerabilities(
        &self,
        machine_id: &str,
    ) -> Result<Vec<MachineVulnerabilityRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT mv.cve_id, v.description, COALESCE(v.severity, mv.severity) AS severity,
                        v.cvss_v3, v.public_exploit, v.exploit_verified, v.exploit_in_kit,
                        mv.product_vendor, mv.product_name, mv.product_version, mv.fixing_kb_id
                 FROM machine_vulnerability mv LEFT JOIN vulnerability v ON v.cve_id = mv.cve_id
                 WHERE mv.machine_id = $1 ORDER BY mv.cve_id",
            )
            .bind(machine_id)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn machine_alerts(&self, machine_id: &str) -> Result<Vec<AlertRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT alert_id, title, severity, status, category, alert_creation_time
                 FROM defender_alert WHERE machine_id = $1
                 ORDER BY alert_creation_time DESC, alert_id",
            )
            .bind(machine_id)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn count_by_risk(&self) -> Result<Vec<(String, i64)>, DbError> {
        crate::on_pool!(self, |pool| {
            // From the risk level index; endpoints no re-model has reached yet count as None. Joining
            // every endpoint to its assessment instead reads every assessment row (0.4 s at 100k).
            sqlx::query_as(
                "SELECT risk_level, COUNT(*) FROM endpoint_assessment GROUP BY risk_level \
                 UNION ALL SELECT 'None', (SELECT COUNT(*) FROM endpoint) \
                   - (SELECT COUNT(*) FROM endpoint_assessment)",
            )
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn coverage(&self) -> Result<Vec<CoverageCount>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT onboarding_status, source_network, source_defender, COUNT(*) AS endpoints \
                 FROM endpoint GROUP BY onboarding_status, source_network, source_defender",
            )
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn at_risk_level(&self, level: &str, limit: i64) -> Result<Vec<CacheRow>, DbError> {
        crate::on_pool!(self, |pool| {
            // From the risk level index: a few rows, not a sort of every assessment.
            sqlx::query_as(&format!(
                "SELECT {LIST_COLUMNS}, e.hostnames, e.ips, m.rbac_group_id, m.rbac_group_name, \
                 m.machine_tags FROM endpoint_assessment a \
                 JOIN endpoint e ON e.endpoint_id = a.endpoint_id \
                 LEFT JOIN defender_machine m ON m.machine_id = e.defender_machine_id \
                 WHERE a.risk_level = $1 ORDER BY a.endpoint_id DESC LIMIT $2"
            ))
            .bind(level)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn list_key(&self) -> Result<ListKey, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT g.n AS generation, s.sync_run_id, s.finished_at AS sync_finished_at \
                 FROM list_generation g LEFT JOIN (SELECT sync_run_id, finished_at FROM sync_run \
                   ORDER BY sync_run_id DESC LIMIT 1) s ON TRUE \
                 WHERE g.id = 1",
            )
            .fetch_one(pool)
            .await
            .map_err(classify)
        })
    }

    async fn all_for_cache(&self) -> Result<Vec<CacheRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {LIST_COLUMNS}, e.hostnames, e.ips, m.rbac_group_id, m.rbac_group_name, \
                 m.machine_tags FROM {ENDPOINT_WITH_ASSESSMENT} \
                 LEFT JOIN defender_machine m ON m.machine_id = e.defender_machine_id"
            ))
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }

    async fn splits(&self, endpoint_id: i64) -> Result<Vec<SplitRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {} FROM machine_split WHERE endpoint_id = $1 \
                 OR machine_id IN (SELECT machine_id FROM defender_machine WHERE endpoint_id = $1) \
                 ORDER BY machine_split_id",
                super::machine_split::COLUMNS
            ))
            .bind(endpoint_id)
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointDetailRow {
    #[sqlx(flatten)]
    pub list: EndpointListRow,
    pub defender_machine_id: Option<String>,
    pub first_seen: String,
    #[sqlx(try_from = "JsonText")]
    pub hostnames: String,
    #[sqlx(try_from = "JsonText")]
    pub ips: String,
    #[sqlx(try_from = "JsonText")]
    pub open_ports: String,
    #[sqlx(try_from = "JsonText")]
    pub profiles_considered: String,
    #[sqlx(try_from = "JsonText")]
    pub risk: String,
    #[sqlx(try_from = "MaybeJsonText")]
    pub defender_risk: Option<String>,
    #[sqlx(try_from = "JsonText")]
    pub merge_evidence: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MachineRow {
    pub machine_id: String,
    pub computer_dns_name: Option<String>,
    pub os_platform: Option<String>,
    pub version: Option<String>,
    pub onboarding_status: Option<String>,
    pub health_status: Option<String>,
    pub risk_score: Option<String>,
    pub exposure_level: Option<String>,
    pub last_seen: Option<String>,
    pub is_potential_duplication: bool,
    /// Missing from Defender's latest complete listing.
    pub gone: bool,
    pub rbac_group_id: Option<i64>,
    pub rbac_group_name: Option<String>,
    /// A JSON list.
    #[sqlx(try_from = "JsonText")]
    pub machine_tags: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MachineVulnerabilityRow {
    pub cve_id: String,
    pub description: Option<String>,
    pub severity: Option<String>,
    pub cvss_v3: Option<f64>,
    pub public_exploit: Option<bool>,
    pub exploit_verified: Option<bool>,
    pub exploit_in_kit: Option<bool>,
    pub product_vendor: String,
    pub product_name: String,
    pub product_version: String,
    pub fixing_kb_id: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub alert_id: String,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub alert_creation_time: Option<String>,
}

/// What the list cache's snapshot is valid for: the inventory's change counter (bumped by
/// every replica's writes outside a sync) and the newest sync run (id, finished time).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ListKey {
    pub generation: i64,
    pub sync_run_id: Option<i64>,
    pub sync_finished_at: Option<String>,
}

/// One group of [`EndpointViews::coverage`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CoverageCount {
    pub onboarding_status: Option<String>,
    pub source_network: bool,
    pub source_defender: bool,
    pub endpoints: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CacheRow {
    #[sqlx(flatten)]
    pub list: EndpointListRow,
    #[sqlx(try_from = "JsonText")]
    pub hostnames: String,
    #[sqlx(try_from = "JsonText")]
    pub ips: String,
    /// Of the machine that represents the endpoint; all `None` when there is none.
    pub rbac_group_id: Option<i64>,
    pub rbac_group_name: Option<String>,
    #[sqlx(try_from = "MaybeJsonText")]
    pub machine_tags: Option<String>,
}
