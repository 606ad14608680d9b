//! What Defender's advanced hunting says about a device's network adapters and hardware, as
//! the Endpoint Summary shows it.

use serde::{Deserialize, Serialize};

/// One network adapter of the device's latest report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterView {
    pub name: String,
    /// `Ethernet`, `Wireless80211`, `Tunnel`, ...
    pub adapter_type: Option<String>,
    /// `Up`, `Down`, `NotPresent`, ...
    pub status: Option<String>,
    pub mac: Option<String>,
    /// Each address with its prefix length (`10.1.2.3/24`) and Defender's address space.
    pub addresses: Vec<AdapterAddressView>,
    /// Each network's name and category (`contoso.com (Domain)`).
    pub networks: Vec<String>,
    pub reported_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterAddressView {
    /// In CIDR notation when Defender gave the prefix.
    pub address: String,
    pub space: Option<String>,
}

/// The device's identity attributes, each the latest value Defender reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFactsView {
    pub device_type: Option<String>,
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub os_architecture: Option<String>,
    pub join_type: Option<String>,
    pub reported_at: String,
}

/// Both, for the device's representative machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkFactsView {
    pub adapters: Vec<AdapterView>,
    pub device: Option<DeviceFactsView>,
}
