//! Builds what the endpoint list, the Endpoint Summary and the dashboard show from the
//! inventory tables. Portal links are built from the machine's 40-hex id, the tenant id and
//! the configured cloud's portal host, never from names (defender-api.md §8).

use app::model::endpoint::{
    AlertView, DashboardView, DefenderDetail, EndpointPage, EndpointQuery, EndpointRow,
    EndpointSummary, IdentityNoteView, IdentityView, MacConflictView, MachineView, MergeEvidence,
    MissingPermissionView, ProfileConsidered, SkippedItemView, SplitView, SyncRunView,
    VulnerabilityView,
};
use app::model::risk::{DefenderRisk, EndpointRisk, RiskLevel};
use sqlx::SqlitePool;

use crate::db::endpoint_query::{self as q, EndpointListRow};
use crate::db::sync_run_query::{self, SyncRunRow};
use crate::db::{machine_split, DbError};
use crate::defender::PortalLinks;
use crate::endpoint_list_cache::ListCache;
use crate::integrations::defender;
use crate::sync::merge::evidence::Evidence;

pub(crate) fn row_view(r: EndpointListRow) -> EndpointRow {
    EndpointRow {
        id: r.endpoint_id,
        risk_level: RiskLevel::parse(&r.risk_level).unwrap_or_default(),
        mac: r.mac,
        ip: r.ip,
        hostname: r.hostname,
        mac_vendor: r.mac_vendor,
        profile_name: r.profile_name,
        match_level: r.match_level,
        os: r.os,
        source_network: r.source_network,
        source_defender: r.source_defender,
        onboarding_status: r.onboarding_status,
        last_seen: r.last_seen,
        inactive: r.inactive,
    }
}

pub async fn list(
    pool: &SqlitePool,
    cache: &ListCache,
    query: EndpointQuery,
) -> Result<EndpointPage, DbError> {
    let query = query.normalised();
    let result = cache.page(pool, &query).await?;
    Ok(EndpointPage {
        rows: result.rows,
        total: result.total,
        profiles: result.profiles,
        onboarding_states: result.onboarding_states,
        query,
    })
}

/// Every row of the filtered list, in list order, for the CSV export.
pub async fn all_rows(
    pool: &SqlitePool,
    cache: &ListCache,
    query: EndpointQuery,
) -> Result<Vec<EndpointRow>, DbError> {
    cache.all(pool, &query.normalised()).await
}

/// Portal links for the configured tenant, when Defender is configured.
async fn portal(pool: &SqlitePool) -> Result<(Option<PortalLinks>, bool), DbError> {
    defender::portal(pool).await
}

fn json_or_default<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

/// Severity as a number for ordering (Defender vulnerability severities, §5.4).
fn severity_rank(severity: Option<&str>) -> u8 {
    match severity.map(str::to_ascii_lowercase).as_deref() {
        Some("critical") => 4,
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

/// The identity section of the Summary: the stored evidence, the splits that concern the
/// endpoint, and which of its machines an administrator may split off.
async fn identity(
    pool: &SqlitePool,
    endpoint_id: i64,
    evidence: &str,
    machines: &[q::MachineRow],
    source_network: bool,
    can_correct: bool,
) -> Result<IdentityView, DbError> {
    let evidence = Evidence::parse(evidence);
    let present: Vec<&q::MachineRow> = machines.iter().filter(|m| !m.gone).collect();
    // Splitting the only source off an endpoint would leave an empty endpoint behind.
    let splittable = if source_network || present.len() > 1 {
        present.iter().map(|m| m.machine_id.clone()).collect()
    } else {
        Vec::new()
    };
    let splits = machine_split::for_endpoint(pool, endpoint_id)
        .await?
        .into_iter()
        .map(|s| SplitView {
            id: s.machine_split_id,
            machine_id: s.machine_id,
            endpoint_id: s.endpoint_id,
            reason: s.reason,
            created_by: s.created_by,
            created_at: s.created_at,
        })
        .collect();
    Ok(IdentityView {
        joins: evidence
            .joins
            .into_iter()
            .map(|j| MergeEvidence {
                machine_id: j.machine_id,
                rule: j.rule.as_str().to_owned(),
                detail: j.detail,
            })
            .collect(),
        conflicts: evidence
            .conflicts
            .into_iter()
            .map(|c| MacConflictView {
                mac: c.mac,
                machines: c.machines,
            })
            .collect(),
        notes: evidence
            .notes
            .into_iter()
            .map(|n| IdentityNoteView {
                kind: serde_json::to_value(n.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                detail: n.detail,
                machines: n.machines,
            })
            .collect(),
        splits,
        splittable,
        can_correct,
    })
}

pub async fn summary(
    pool: &SqlitePool,
    endpoint_id: i64,
    can_correct: bool,
) -> Result<Option<EndpointSummary>, DbError> {
    let Some(detail) = q::detail(pool, endpoint_id).await? else {
        return Ok(None);
    };
    let (links, defender_enabled) = portal(pool).await?;
    let representative = detail.defender_machine_id.clone();
    let machine_rows = q::machines(pool, endpoint_id).await?;
    let identity = identity(
        pool,
        endpoint_id,
        &detail.merge_evidence,
        &machine_rows,
        detail.list.source_network,
        can_correct,
    )
    .await?;
    let machines: Vec<MachineView> = machine_rows
        .into_iter()
        .map(|m| MachineView {
            overview_url: links
                .as_ref()
                .and_then(|l| l.device_overview(&m.machine_id).ok())
                .map(|u| u.to_string()),
            representative: representative.as_deref() == Some(m.machine_id.as_str()),
            machine_id: m.machine_id,
            computer_dns_name: m.computer_dns_name,
            os_platform: m.os_platform,
            version: m.version,
            onboarding_status: m.onboarding_status,
            health_status: m.health_status,
            risk_score: m.risk_score,
            exposure_level: m.exposure_level,
            last_seen: m.last_seen,
            is_potential_duplication: m.is_potential_duplication,
        })
        .collect();
    let defender_risk: Option<DefenderRisk> = detail
        .defender_risk
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    let defender = match &representative {
        Some(machine_id) => {
            Some(defender_detail(pool, machine_id, links.as_ref(), defender_risk).await?)
        }
        None => None,
    };
    let ports: Vec<serde_json::Value> = json_or_default(&detail.open_ports);
    let open_ports = ports
        .iter()
        .map(
            |p| match (p.get("port"), p.get("protocol"), p.get("service")) {
                (Some(port), Some(proto), Some(service)) if !service.is_null() => format!(
                    "{}/{} {}",
                    port,
                    proto.as_str().unwrap_or("tcp").to_ascii_lowercase(),
                    service.as_str().unwrap_or_default()
                ),
                (Some(port), Some(proto), _) => {
                    format!(
                        "{}/{}",
                        port,
                        proto.as_str().unwrap_or("tcp").to_ascii_lowercase()
                    )
                }
                _ => p.to_string(),
            },
        )
        .collect();
    let risk: EndpointRisk = json_or_default(&detail.risk);
    Ok(Some(EndpointSummary {
        ips: json_or_default(&detail.ips),
        hostnames: json_or_default(&detail.hostnames),
        open_ports,
        first_seen: detail.first_seen,
        profiles_considered: json_or_default::<Vec<ProfileConsidered>>(&detail.profiles_considered),
        risk,
        identity,
        machines,
        defender,
        defender_enabled,
        row: row_view(detail.list),
    }))
}

async fn defender_detail(
    pool: &SqlitePool,
    machine_id: &str,
    links: Option<&PortalLinks>,
    risk: Option<DefenderRisk>,
) -> Result<DefenderDetail, DbError> {
    // Rows come per (CVE, product); fold them into one entry per CVE.
    let mut vulnerabilities: Vec<VulnerabilityView> = Vec::new();
    for r in q::machine_vulnerabilities(pool, machine_id).await? {
        let product = [
            r.product_vendor.as_str(),
            r.product_name.as_str(),
            r.product_version.as_str(),
        ]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        match vulnerabilities.last_mut() {
            Some(last) if last.cve_id == r.cve_id => {
                if !product.is_empty() && !last.products.contains(&product) {
                    last.products.push(product);
                }
            }
            _ => vulnerabilities.push(VulnerabilityView {
                url: links
                    .and_then(|l| l.cve(&r.cve_id).ok())
                    .map(|u| u.to_string()),
                cve_id: r.cve_id,
                description: r.description,
                severity: r.severity,
                cvss_v3: r.cvss_v3,
                public_exploit: r.public_exploit.unwrap_or(false),
                exploit_verified: r.exploit_verified.unwrap_or(false),
                exploit_in_kit: r.exploit_in_kit.unwrap_or(false),
                products: if product.is_empty() {
                    Vec::new()
                } else {
                    vec![product]
                },
            }),
        }
    }
    vulnerabilities.sort_by(|a, b| {
        severity_rank(b.severity.as_deref())
            .cmp(&severity_rank(a.severity.as_deref()))
            .then(
                b.cvss_v3
                    .unwrap_or(-1.0)
                    .total_cmp(&a.cvss_v3.unwrap_or(-1.0)),
            )
            .then(a.cve_id.cmp(&b.cve_id))
    });
    // The risk computation names the most severe vulnerability; show that one.
    let chosen = risk
        .as_ref()
        .and_then(|r| r.most_severe_vulnerability.clone());
    let most_severe = chosen
        .and_then(|id| vulnerabilities.iter().find(|v| v.cve_id == id).cloned())
        .or_else(|| vulnerabilities.first().cloned());
    let alerts = q::machine_alerts(pool, machine_id)
        .await?
        .into_iter()
        .map(|a| AlertView {
            url: links
                .and_then(|l| l.alert(&a.alert_id).ok())
                .map(|u| u.to_string()),
            alert_id: a.alert_id,
            title: a.title,
            severity: a.severity,
            status: a.status,
            category: a.category,
            created: a.alert_creation_time,
        })
        .collect();
    let url = |f: fn(&PortalLinks, &str) -> Result<url::Url, crate::defender::DefenderError>| {
        links
            .and_then(|l| f(l, machine_id).ok())
            .map(|u| u.to_string())
    };
    Ok(DefenderDetail {
        machine_id: machine_id.to_owned(),
        vulnerability_count: vulnerabilities.len() as u64,
        vulnerabilities_url: url(PortalLinks::device_vulnerabilities),
        alerts_url: url(PortalLinks::device_alerts),
        overview_url: url(PortalLinks::device_overview),
        most_severe_vulnerability: most_severe,
        risk,
        vulnerabilities,
        alerts,
    })
}

/// Skipped items shown per run in the journal.
const SKIPS_SHOWN: i64 = 20;

fn sync_view(r: SyncRunRow, skipped: Vec<SkippedItemView>) -> SyncRunView {
    let missing: Vec<serde_json::Value> = r
        .missing_permissions
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    SyncRunView {
        skipped_items: r.skipped_items,
        skipped,
        missing_permissions: missing
            .into_iter()
            .map(|m| MissingPermissionView {
                source: m["source"].as_str().unwrap_or_default().to_owned(),
                permissions: m["permissions"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| p.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        started_at: r.started_at,
        finished_at: r.finished_at,
        reason: r.reason,
        outcome: r.outcome,
        machines_seen: r.machines_seen,
        machines_added: r.machines_added,
        machines_updated: r.machines_updated,
        machines_unchanged: r.machines_unchanged,
        alerts: r.alerts,
        vulnerabilities: r.vulnerabilities,
        api_calls: r.api_calls,
        throttle_wait_ms: r.throttle_wait_ms,
        error: r.error,
        notes: r.notes,
    }
}

pub async fn journal(pool: &SqlitePool, limit: i64) -> Result<Vec<SyncRunView>, DbError> {
    let mut views = Vec::new();
    for run in sync_run_query::recent(pool, limit).await? {
        let skipped = if run.skipped_items > 0 {
            sync_run_query::skips(pool, run.sync_run_id, SKIPS_SHOWN)
                .await?
                .into_iter()
                .map(|s| SkippedItemView {
                    listing: s.listing,
                    item_id: s.item_id,
                    field: s.field,
                    reason: s.reason,
                })
                .collect()
        } else {
            Vec::new()
        };
        views.push(sync_view(run, skipped));
    }
    Ok(views)
}

pub async fn dashboard(pool: &SqlitePool) -> Result<DashboardView, DbError> {
    let counts = q::count_by_risk(pool).await?;
    let by_risk: Vec<(RiskLevel, u64)> = RiskLevel::ALL
        .into_iter()
        .map(|level| {
            let n = counts
                .iter()
                .filter(|(name, _)| RiskLevel::parse(name).unwrap_or_default() == level)
                .map(|(_, n)| (*n).max(0) as u64)
                .sum();
            (level, n)
        })
        .collect();
    let (network_total, network_not_onboarded) = q::network_coverage(pool).await?;
    Ok(DashboardView {
        total: by_risk.iter().map(|(_, n)| n).sum(),
        by_risk,
        network_total: network_total.max(0) as u64,
        network_not_onboarded: network_not_onboarded.max(0) as u64,
        last_sync: journal(pool, 1).await?.into_iter().next(),
    })
}

/// CSV of the rows. Cells that a spreadsheet would read as a formula (starting with = + - @,
/// or tab/CR) get a leading apostrophe, so hostile names stay text. Control characters
/// (terminal escapes, CR/LF, bidi overrides) become U+FFFD: a name from Defender must not
/// break a row or rewrite the terminal a CSV is printed in.
pub fn csv(rows: &[EndpointRow]) -> String {
    fn cell(value: &str) -> String {
        let value: String = value
            .chars()
            .map(|c| if is_unsafe_in_text(c) { '\u{fffd}' } else { c })
            .collect();
        let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{value}")
        } else {
            value
        };
        if neutral.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", neutral.replace('"', "\"\""))
        } else {
            neutral
        }
    }
    let mut out = String::from(
        "risk,mac,ip,hostname,mac_vendor,profile,match_score,os,sources,onboarding,last_seen\r\n",
    );
    for r in rows {
        let sources = match (r.source_network, r.source_defender) {
            (true, true) => "network+defender",
            (true, false) => "network",
            (false, true) => "defender",
            (false, false) => "",
        };
        let fields = [
            r.risk_level.as_str(),
            r.mac.as_deref().unwrap_or_default(),
            r.ip.as_deref().unwrap_or_default(),
            r.hostname.as_deref().unwrap_or_default(),
            r.mac_vendor.as_deref().unwrap_or_default(),
            r.profile_name.as_deref().unwrap_or_default(),
            r.match_level.as_deref().unwrap_or_default(),
            r.os.as_deref().unwrap_or_default(),
            sources,
            r.onboarding_status.as_deref().unwrap_or_default(),
            &r.last_seen,
        ];
        out.push_str(&fields.map(cell).join(","));
        out.push_str("\r\n");
    }
    out
}

/// C0 and C1 controls, and the bidirectional formatting characters that reorder text.
fn is_unsafe_in_text(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_replaces_control_and_bidi_characters() {
        let row = EndpointRow {
            id: 1,
            risk_level: RiskLevel::Low,
            mac: None,
            ip: None,
            hostname: Some("evil\u{1b}[2J\r\nhost\u{202e}gpj.exe".into()),
            mac_vendor: None,
            profile_name: None,
            match_level: None,
            os: None,
            source_network: false,
            source_defender: true,
            onboarding_status: None,
            last_seen: "2026-01-01T00:00:00Z".into(),
            inactive: false,
        };
        let text = csv(&[row]);
        assert_eq!(text.lines().count(), 2, "one header, one row: {text:?}");
        let line = text.lines().nth(1).unwrap();
        assert!(
            line.contains(",evil\u{fffd}[2J\u{fffd}\u{fffd}host\u{fffd}gpj.exe,"),
            "{line:?}"
        );
    }

    #[test]
    fn csv_neutralises_formulas_and_quotes() {
        let row = EndpointRow {
            id: 1,
            risk_level: RiskLevel::High,
            mac: Some("00:15:5D:A1:B2:C3".into()),
            ip: Some("10.0.0.1".into()),
            hostname: Some("=HYPERLINK(\"http://evil\")".into()),
            mac_vendor: Some("Acme, Inc.".into()),
            profile_name: Some("@SUM(1)".into()),
            match_level: None,
            os: Some("-2+3".into()),
            source_network: true,
            source_defender: false,
            onboarding_status: None,
            last_seen: "2026-01-01T00:00:00Z".into(),
            inactive: false,
        };
        let text = csv(&[row]);
        let line = text.lines().nth(1).unwrap();
        assert!(
            line.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "{line}"
        );
        assert!(line.contains("\"Acme, Inc.\""));
        assert!(line.contains(",'@SUM(1),"));
        assert!(line.contains(",'-2+3,"));
    }
}
