//! The Defender tab of the Endpoint Summary: the representative machine's vulnerabilities (one
//! entry per CVE, most severe first), its alerts and the portal links.

use app::model::endpoint::{AlertView, DefenderDetail, VulnerabilityView};
use app::model::risk::DefenderRisk;

use super::software::installed_software;
use crate::db::{DbError, EndpointViews, SoftwareStore};
use crate::defender::PortalLinks;

/// Severity as a number for ordering (Defender vulnerability severities, §5.4).
pub(super) fn severity_rank(severity: Option<&str>) -> u8 {
    match severity.map(str::to_ascii_lowercase).as_deref() {
        Some("critical") => 4,
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

/// Orders (severity, CVSS, CVE id): the most severe first, then the highest score, then by id.
pub(super) fn most_severe_first(
    a: (Option<&str>, Option<f64>, &str),
    b: (Option<&str>, Option<f64>, &str),
) -> std::cmp::Ordering {
    severity_rank(b.0)
        .cmp(&severity_rank(a.0))
        .then(b.1.unwrap_or(-1.0).total_cmp(&a.1.unwrap_or(-1.0)))
        .then(a.2.cmp(b.2))
}

pub(super) async fn defender_detail(
    views: &dyn EndpointViews,
    software: &dyn SoftwareStore,
    machine_id: &str,
    links: Option<&PortalLinks>,
    risk: Option<DefenderRisk>,
) -> Result<DefenderDetail, DbError> {
    // Rows come per (CVE, product); fold them into one entry per CVE.
    let mut vulnerabilities: Vec<VulnerabilityView> = Vec::new();
    let rows = views.machine_vulnerabilities(machine_id).await?;
    let software = installed_software(software, &rows).await?;
    for r in rows {
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
        most_severe_first(
            (a.severity.as_deref(), a.cvss_v3, &a.cve_id),
            (b.severity.as_deref(), b.cvss_v3, &b.cve_id),
        )
    });
    // The risk computation names the most severe vulnerability; show that one.
    let chosen = risk
        .as_ref()
        .and_then(|r| r.most_severe_vulnerability.clone());
    let most_severe = chosen
        .and_then(|id| vulnerabilities.iter().find(|v| v.cve_id == id).cloned())
        .or_else(|| vulnerabilities.first().cloned());
    let alerts = views
        .machine_alerts(machine_id)
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
        software,
    })
}
