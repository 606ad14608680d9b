//! The network adapters and hardware of the Endpoint Summary: the representative machine's
//! facts from advanced hunting (`sync::network_facts`), as stored.

use app::model::network_facts::{
    AdapterAddressView, AdapterView, DeviceFactsView, NetworkFactsView,
};

use crate::db::{DbError, NetworkFactStore};
use crate::defender::model::network_report::{AdapterAddress, ConnectedNetwork};

pub(super) async fn network_facts(
    store: &dyn NetworkFactStore,
    machine_id: &str,
) -> Result<NetworkFactsView, DbError> {
    let ids = [machine_id.to_owned()];
    let adapters = store
        .adapters(&ids)
        .await?
        .into_iter()
        .map(|a| {
            // Written by the sync from these types; a row that does not read shows no
            // addresses rather than failing the page.
            let addresses: Vec<AdapterAddress> =
                serde_json::from_str(&a.ip_addresses).unwrap_or_default();
            let networks: Vec<ConnectedNetwork> =
                serde_json::from_str(&a.connected_networks).unwrap_or_default();
            AdapterView {
                name: a.adapter_name,
                adapter_type: a.adapter_type,
                status: a.adapter_status,
                mac: a.mac,
                addresses: addresses
                    .into_iter()
                    .map(|ip| AdapterAddressView {
                        address: match ip.prefix {
                            Some(p) => format!("{}/{p}", ip.address),
                            None => ip.address.to_string(),
                        },
                        space: ip.space,
                    })
                    .collect(),
                networks: networks
                    .into_iter()
                    .map(|n| match n.category {
                        Some(c) => format!("{} ({c})", n.name),
                        None => n.name,
                    })
                    .collect(),
                reported_at: a.reported_at,
            }
        })
        .collect();
    let device = store
        .device_info(&ids)
        .await?
        .into_iter()
        .next()
        .map(|d| DeviceFactsView {
            device_type: d.device_type,
            model: d.model,
            vendor: d.vendor,
            os_architecture: d.os_architecture,
            join_type: d.join_type,
            reported_at: d.reported_at,
        });
    Ok(NetworkFactsView { adapters, device })
}
