//! The Endpoint Summary: everything one endpoint's page shows. Portal links are built from the
//! machine's 40-hex id, the tenant id and the configured cloud's portal host, never from names
//! (defender-api.md §8).

mod defender;
mod identity;
mod network;
mod risk;
mod software;

use app::model::endpoint::{EndpointSummary, MachineView, ProfileConsidered};

use super::endpoint_row::{device_group, json_or_default, row_view};
use crate::db::{DbError, IntegrationStore, Stores};
use crate::defender::PortalLinks;
use defender::defender_detail;
use identity::identity;

/// Portal links for the configured tenant, when Defender is configured.
async fn portal(store: &dyn IntegrationStore) -> Result<(Option<PortalLinks>, bool), DbError> {
    crate::integrations::defender::portal(store).await
}

pub async fn summary(
    db: &Stores,
    endpoint_id: i64,
    can_correct: bool,
) -> Result<Option<EndpointSummary>, DbError> {
    let Some(detail) = db.endpoint_views.detail(endpoint_id).await? else {
        return Ok(None);
    };
    let (links, defender_enabled) = portal(&*db.integrations).await?;
    let representative = detail.defender_machine_id.clone();
    let machine_rows = db.endpoint_views.machines(endpoint_id).await?;
    let identity = identity(
        &*db.endpoint_views,
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
            device_group: device_group(m.rbac_group_id, m.rbac_group_name),
            tags: json_or_default(&m.machine_tags),
        })
        .collect();
    let defender_risk = detail
        .defender_risk
        .as_deref()
        .and_then(|t| risk::defender_risk(endpoint_id, t));
    let defender = match &representative {
        Some(machine_id) => Some(
            defender_detail(
                &*db.endpoint_views,
                &*db.software,
                machine_id,
                links.as_ref(),
                defender_risk,
            )
            .await?,
        ),
        None => None,
    };
    let network_facts = match &representative {
        Some(machine_id) => network::network_facts(&*db.network_facts, machine_id).await?,
        None => Default::default(),
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
    let risk = risk::endpoint_risk(endpoint_id, &detail.risk, &detail.list.risk_level);
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
        risk_history: super::risk_history::timeline(db, endpoint_id).await?,
        network_facts,
        row: row_view(detail.list),
    }))
}
