//! Discovery imports (nmap XML, sensor JSON): parse the whole input first, so a bad file
//! changes nothing, then write every observation in one transaction, re-model, and re-decide
//! which endpoints are inactive (a scan's own time can be long past).

use serde::Serialize;

use super::inactive::{mark_inactive, InactiveAfter};
use super::record::{endpoint_from_network_row, to_json};
use super::remodel::{remodel_all, RemodelError};
use crate::db::{self, DbError};
use crate::db::{AsConn, Stores};
use crate::discovery::{
    parse_nmap_xml, parse_sensor_json, Limits, NmapXmlError, Observation, SensorJsonError,
};
use crate::inventory::Endpoint;

/// What an import did; returned to the uploader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub observations: usize,
    pub added: usize,
    pub updated: usize,
    /// Hosts without a MAC (e.g. behind a router) attached to an endpoint by IP.
    pub attached_by_ip: usize,
    /// Hosts without a MAC whose IP matches no endpoint: nothing to key them by.
    pub skipped_without_mac: usize,
}

/// Why an import was refused. The parse errors name the element at fault.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Nmap(#[from] NmapXmlError),
    #[error(transparent)]
    Sensor(#[from] SensorJsonError),
    #[error("database error: {0}")]
    Db(#[from] DbError),
    #[error("the import was saved but the re-model failed: {0}")]
    Remodel(#[from] RemodelError),
}

/// Imports an nmap XML report (`-oX`).
#[tracing::instrument(skip_all)]
pub async fn import_nmap(
    stores: &Stores,
    bytes: &[u8],
    inactive_after: InactiveAfter,
) -> Result<ImportReport, ImportError> {
    let scan = parse_nmap_xml(bytes, &Limits::NMAP_XML)?;
    import(stores, &scan.observations, inactive_after).await
}

/// Imports a discovery sensor's JSON batch.
#[tracing::instrument(skip_all)]
pub async fn import_sensor(
    stores: &Stores,
    bytes: &[u8],
    inactive_after: InactiveAfter,
) -> Result<ImportReport, ImportError> {
    let batch = parse_sensor_json(bytes, &Limits::SENSOR_JSON)?;
    import(stores, &batch.observations, inactive_after).await
}

async fn import(
    stores: &Stores,
    observations: &[Observation],
    inactive_after: InactiveAfter,
) -> Result<ImportReport, ImportError> {
    let now = time::OffsetDateTime::now_utc();
    let mut report = ImportReport {
        observations: observations.len(),
        ..ImportReport::default()
    };
    // Reads before it writes: a write transaction, so another replica's commit (a lease
    // renewal) in between cannot get it refused.
    let mut tx = stores.database.begin_write().await?;
    for observation in observations {
        match observation.mac {
            Some(mac) => match stores.endpoints.by_mac(&mut tx, &mac.to_string()).await? {
                Some(row) => {
                    let mut endpoint = endpoint_from_network_row(&row);
                    endpoint.absorb(observation, now);
                    update(stores, &mut tx, row.endpoint_id, &endpoint, observation).await?;
                    report.updated += 1;
                }
                None => {
                    let Some(endpoint) = Endpoint::from_observation(observation, now) else {
                        continue;
                    };
                    let view = view(&endpoint, observation);
                    stores.endpoints.insert_from_network(&mut tx, &view).await?;
                    report.added += 1;
                }
            },
            None => {
                let mut found = None;
                for ip in &observation.ips {
                    if let Some(row) = stores.endpoints.by_ip(&mut tx, &ip.to_string()).await? {
                        found = Some(row);
                        break;
                    }
                }
                match found {
                    Some(row) => {
                        let mut endpoint = endpoint_from_network_row(&row);
                        endpoint.absorb(observation, now);
                        update(stores, &mut tx, row.endpoint_id, &endpoint, observation).await?;
                        report.attached_by_ip += 1;
                    }
                    None => report.skipped_without_mac += 1,
                }
            }
        }
    }
    tx.commit().await?;
    remodel_all(stores).await?;
    // Derived data, like the re-model after a sync: the import stands, and the next import
    // or sync decides again.
    if let Err(e) = mark_inactive(stores, inactive_after).await {
        tracing::error!(error = %e, "marking inactive endpoints failed");
    }
    Ok(report)
}

async fn update(
    stores: &Stores,
    conn: &mut impl AsConn,
    endpoint_id: i64,
    endpoint: &Endpoint,
    observation: &Observation,
) -> Result<(), DbError> {
    stores
        .endpoints
        .update_from_network(conn, endpoint_id, &view(endpoint, observation))
        .await
}

/// The stored values: display columns from this observation when it has them.
fn view(endpoint: &Endpoint, observation: &Observation) -> db::endpoint::NetworkView {
    let ips: Vec<String> = endpoint.ips.iter().map(ToString::to_string).collect();
    db::endpoint::NetworkView {
        mac: endpoint.mac.map(|m| m.to_string()),
        mac_vendor: endpoint.mac_vendor.map(str::to_owned),
        hostname: observation
            .hostnames
            .first()
            .or(endpoint.hostnames.first())
            .cloned(),
        ip: observation
            .ips
            .first()
            .or(endpoint.ips.first())
            .map(ToString::to_string),
        os: endpoint.os_matches.first().map(|m| m.name.clone()),
        first_seen: db::format_time(endpoint.first_seen),
        last_seen: db::format_time(endpoint.last_seen),
        hostnames: to_json(&endpoint.hostnames),
        ips: to_json(&ips),
        open_ports: to_json(&endpoint.open_ports),
        os_matches: to_json(&endpoint.os_matches),
        dhcp_vendor_class: endpoint.dhcp_vendor_class.clone(),
        dhcp_hostname: endpoint.dhcp_hostname.clone(),
    }
}
