//! Between stored endpoint rows (JSON list columns) and the in-memory [`Endpoint`].

use std::net::IpAddr;

use time::OffsetDateTime;

use crate::db::endpoint::FactsRow;
use crate::db::parse_time;
use crate::discovery::{MacAddress, OpenPort, OsMatch};
use crate::inventory::{DefenderDevice, DefenderOs, Endpoint, EndpointKey, SourceKind};

/// Reads a JSON list column; a damaged value counts as empty rather than failing a re-model.
pub fn json_list<T: serde::de::DeserializeOwned>(text: &str) -> Vec<T> {
    serde_json::from_str(text).unwrap_or_default()
}

pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

pub fn time_or_now(text: &str) -> OffsetDateTime {
    parse_time(text).unwrap_or_else(OffsetDateTime::now_utc)
}

/// The endpoint the classifier sees for a stored row.
pub fn endpoint_from_row(row: &FactsRow) -> Endpoint {
    let mac = row.mac.as_deref().and_then(|m| MacAddress::parse(m).ok());
    let key = match mac {
        Some(mac) => EndpointKey::Mac(mac),
        None => EndpointKey::DefenderMachine(
            row.defender_machine_id
                .clone()
                .unwrap_or_else(|| format!("endpoint-{}", row.endpoint_id)),
        ),
    };
    let mut endpoint = Endpoint::new(key, time_or_now(&row.first_seen));
    endpoint.last_seen = time_or_now(&row.last_seen);
    endpoint
        .defender_machine_id
        .clone_from(&row.defender_machine_id);
    endpoint.ips = json_list::<String>(&row.ips)
        .iter()
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .collect();
    endpoint.hostnames = json_list(&row.hostnames);
    endpoint.open_ports = json_list::<OpenPort>(&row.open_ports);
    endpoint.os_matches = json_list::<OsMatch>(&row.os_matches);
    endpoint
        .dhcp_vendor_class
        .clone_from(&row.dhcp_vendor_class);
    endpoint.dhcp_hostname.clone_from(&row.dhcp_hostname);
    endpoint.defender_os =
        DefenderOs::from_defender(row.os_platform.as_deref(), row.os_release.as_deref());
    endpoint.defender_device = DefenderDevice::from_stored(
        row.device_type.as_deref(),
        row.model.as_deref(),
        row.vendor.as_deref(),
        row.os_architecture.as_deref(),
        row.join_type.as_deref(),
    );
    if row.source_network != 0 {
        endpoint.sources.insert(SourceKind::Nmap);
    }
    if row.source_defender != 0 {
        endpoint.sources.insert(SourceKind::Defender);
    }
    endpoint
}

/// The endpoint a discovery import folds observations into.
pub fn endpoint_from_network_row(row: &crate::db::endpoint::NetworkRow) -> Endpoint {
    endpoint_from_row(&FactsRow {
        endpoint_id: row.endpoint_id,
        mac: row.mac.clone(),
        defender_machine_id: None,
        hostnames: row.hostnames.clone(),
        ips: row.ips.clone(),
        open_ports: row.open_ports.clone(),
        os_matches: row.os_matches.clone(),
        dhcp_vendor_class: row.dhcp_vendor_class.clone(),
        dhcp_hostname: row.dhcp_hostname.clone(),
        first_seen: row.first_seen.clone(),
        last_seen: row.last_seen.clone(),
        source_network: 1,
        source_defender: 0,
        os_platform: None,
        os_release: None,
        mac_conflicts: None,
        device_type: None,
        model: None,
        vendor: None,
        os_architecture: None,
        join_type: None,
    })
}
