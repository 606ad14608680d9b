//! One endpoint as a list row shows it: the mapping from the stored list columns to the page's
//! `EndpointRow`, shared by the list snapshot and the Endpoint Summary.

use app::model::endpoint::EndpointRow;
use app::model::risk::RiskLevel;

use crate::db::endpoint_query::{CacheRow, EndpointListRow};

/// A stored JSON column read as `T`, or `T`'s default when it does not parse.
pub(crate) fn json_or_default<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

/// The portal's name for a machine's device group; machines in none (id 0, or no group given)
/// are in the one it calls "Ungrouped devices (default)".
pub(crate) fn device_group(id: Option<i64>, name: Option<String>) -> String {
    match (id, name) {
        (Some(id), Some(name)) if id != 0 => name,
        _ => UNGROUPED.to_owned(),
    }
}

pub(crate) const UNGROUPED: &str = "Ungrouped devices (default)";

/// The list row, without Defender's device group and tags (see [`cached_row`]).
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
        device_group: None,
        tags: Vec::new(),
    }
}

/// The list row with the device group and tags of the machine that represents the endpoint,
/// and the text the list's search reads (lower-cased).
pub(crate) fn cached_row(r: CacheRow) -> (EndpointRow, String) {
    let mut row = row_view(r.list);
    // The tags column is never NULL on a machine: NULL here means no machine was joined.
    if let Some(tags) = r.machine_tags {
        row.device_group = Some(device_group(r.rbac_group_id, r.rbac_group_name));
        row.tags = json_or_default(&tags);
    }
    let search = [
        row.mac.as_deref().unwrap_or_default(),
        row.ip.as_deref().unwrap_or_default(),
        row.hostname.as_deref().unwrap_or_default(),
        &r.hostnames,
        &r.ips,
    ]
    .join("\u{1f}")
    .to_lowercase();
    (row, search)
}
