//! One endpoint as a list row shows it: the mapping from the stored list columns to the page's
//! `EndpointRow`, shared by the list snapshot and the Endpoint Summary.

use app::model::endpoint::EndpointRow;
use app::model::risk::RiskLevel;

use crate::db::endpoint_query::EndpointListRow;

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
