//! Read side of the inventory: the filtered, sorted, paged endpoint list and what the Endpoint
//! Summary and the dashboard show. The sync and imports write these tables elsewhere.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::{classify, DbError};

/// List filters after normalisation (see `app::model::endpoint::EndpointQuery`).
pub struct ListFilter<'a> {
    pub text: &'a str,
    pub risk: &'a str,
    pub profile: &'a str,
    pub source: &'a str,
    pub onboarding: &'a str,
}

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

const LIST_COLUMNS: &str = "endpoint_id, risk_level, mac, ip, hostname, mac_vendor, \
    profile_name, match_level, os, source_network, source_defender, onboarding_status, \
    last_seen, inactive";

/// Risk levels as numbers, so sorting follows severity rather than the alphabet.
const RISK_RANK: &str = "CASE risk_level WHEN 'Critical' THEN 4 WHEN 'High' THEN 3 \
    WHEN 'Medium' THEN 2 WHEN 'Low' THEN 1 ELSE 0 END";

fn push_where<'a>(qb: &mut QueryBuilder<'a, Sqlite>, f: &ListFilter<'a>) {
    qb.push(" WHERE 1 = 1");
    if !f.text.is_empty() {
        // LIKE with the user's text escaped, so % and _ are matched literally.
        let escaped = f
            .text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        qb.push(" AND (mac LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR ip LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR hostname LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR hostnames LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR ips LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
    if !f.risk.is_empty() {
        qb.push(" AND risk_level = ").push_bind(f.risk);
    }
    if !f.profile.is_empty() {
        qb.push(" AND profile_name = ").push_bind(f.profile);
    }
    match f.source {
        "network" => {
            qb.push(" AND source_network = 1");
        }
        "defender" => {
            qb.push(" AND source_defender = 1");
        }
        "both" => {
            qb.push(" AND source_network = 1 AND source_defender = 1");
        }
        _ => {}
    }
    match f.onboarding {
        "" => {}
        "none" => {
            qb.push(" AND onboarding_status IS NULL");
        }
        status => {
            qb.push(" AND onboarding_status = ").push_bind(status);
        }
    }
}

fn order_by(sort: &str, descending: bool) -> String {
    let dir = if descending { "DESC" } else { "ASC" };
    let column = match sort {
        "mac" => "mac",
        "ip" => "ip",
        "hostname" => "hostname",
        "vendor" => "mac_vendor",
        "profile" => "profile_name",
        "os" => "os",
        "last_seen" => "last_seen",
        _ => RISK_RANK,
    };
    // endpoint_id last, so pages are stable when many rows tie.
    format!(" ORDER BY {column} {dir}, endpoint_id {dir}")
}

pub async fn list(
    pool: &SqlitePool,
    filter: &ListFilter<'_>,
    sort: &str,
    descending: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<EndpointListRow>, DbError> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {LIST_COLUMNS} FROM endpoint"));
    push_where(&mut qb, filter);
    qb.push(order_by(sort, descending));
    qb.push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    qb.build_query_as().fetch_all(pool).await.map_err(classify)
}

pub async fn count(pool: &SqlitePool, filter: &ListFilter<'_>) -> Result<i64, DbError> {
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM endpoint");
    push_where(&mut qb, filter);
    qb.build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(classify)
}

pub async fn profile_names(pool: &SqlitePool) -> Result<Vec<String>, DbError> {
    sqlx::query_scalar(
        "SELECT DISTINCT profile_name FROM endpoint WHERE profile_name IS NOT NULL
         ORDER BY profile_name",
    )
    .fetch_all(pool)
    .await
    .map_err(classify)
}

pub async fn onboarding_states(pool: &SqlitePool) -> Result<Vec<String>, DbError> {
    sqlx::query_scalar(
        "SELECT DISTINCT onboarding_status FROM endpoint WHERE onboarding_status IS NOT NULL
         ORDER BY onboarding_status",
    )
    .fetch_all(pool)
    .await
    .map_err(classify)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointDetailRow {
    #[sqlx(flatten)]
    pub list: EndpointListRow,
    pub defender_machine_id: Option<String>,
    pub first_seen: String,
    pub hostnames: String,
    pub ips: String,
    pub open_ports: String,
    pub profiles_considered: String,
    pub risk: String,
    pub defender_risk: Option<String>,
    pub merge_evidence: String,
}

pub async fn detail(
    pool: &SqlitePool,
    endpoint_id: i64,
) -> Result<Option<EndpointDetailRow>, DbError> {
    sqlx::query_as(&format!(
        "SELECT {LIST_COLUMNS}, defender_machine_id, first_seen, hostnames, ips, open_ports,
                profiles_considered, risk, defender_risk, merge_evidence
         FROM endpoint WHERE endpoint_id = $1"
    ))
    .bind(endpoint_id)
    .fetch_optional(pool)
    .await
    .map_err(classify)
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
}

pub async fn machines(pool: &SqlitePool, endpoint_id: i64) -> Result<Vec<MachineRow>, DbError> {
    sqlx::query_as(
        "SELECT machine_id, computer_dns_name, os_platform, version, onboarding_status,
                health_status, risk_score, exposure_level, last_seen, is_potential_duplication
         FROM defender_machine WHERE endpoint_id = $1 ORDER BY last_seen DESC, machine_id",
    )
    .bind(endpoint_id)
    .fetch_all(pool)
    .await
    .map_err(classify)
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
}

/// One row per (CVE, product) of a machine; CVE details come from the tenant-wide listing.
pub async fn machine_vulnerabilities(
    pool: &SqlitePool,
    machine_id: &str,
) -> Result<Vec<MachineVulnerabilityRow>, DbError> {
    sqlx::query_as(
        "SELECT mv.cve_id, v.description, COALESCE(v.severity, mv.severity) AS severity,
                v.cvss_v3, v.public_exploit, v.exploit_verified, v.exploit_in_kit,
                mv.product_vendor, mv.product_name, mv.product_version
         FROM machine_vulnerability mv LEFT JOIN vulnerability v ON v.cve_id = mv.cve_id
         WHERE mv.machine_id = $1 ORDER BY mv.cve_id",
    )
    .bind(machine_id)
    .fetch_all(pool)
    .await
    .map_err(classify)
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

pub async fn machine_alerts(pool: &SqlitePool, machine_id: &str) -> Result<Vec<AlertRow>, DbError> {
    sqlx::query_as(
        "SELECT alert_id, title, severity, status, category, alert_creation_time
         FROM defender_alert WHERE machine_id = $1
         ORDER BY alert_creation_time DESC, alert_id",
    )
    .bind(machine_id)
    .fetch_all(pool)
    .await
    .map_err(classify)
}

pub async fn count_by_risk(pool: &SqlitePool) -> Result<Vec<(String, i64)>, DbError> {
    sqlx::query_as("SELECT risk_level, COUNT(*) FROM endpoint GROUP BY risk_level")
        .fetch_all(pool)
        .await
        .map_err(classify)
}

/// (seen on the network, of which not onboarded in Defender).
pub async fn network_coverage(pool: &SqlitePool) -> Result<(i64, i64), DbError> {
    sqlx::query_as(
        "SELECT COUNT(*),
                COALESCE(SUM(CASE WHEN onboarding_status IS NULL OR onboarding_status <> 'Onboarded'
                    THEN 1 ELSE 0 END), 0)
         FROM endpoint WHERE source_network = 1",
    )
    .fetch_one(pool)
    .await
    .map_err(classify)
}
