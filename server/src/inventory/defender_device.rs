//! The hardware and identity attributes Defender's `DeviceInfo` reports for the machine that
//! represents an endpoint (read by `sync::network_facts`, stored in `machine_device_info`):
//! what profile rules can match on beside the OS.

/// Each attribute is the latest non-empty value a report gave; `None` where Defender never
/// said (blank and `Unknown` count as not said, as for the OS).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DefenderDevice {
    /// `DeviceType`: `Workstation`, `Server`, `Mobile`, `NetworkDevice`, `Printer`, ...
    pub device_type: Option<String>,
    /// `Model`, e.g. `Latitude 7440` or `Virtual Machine`.
    pub model: Option<String>,
    /// `Vendor`: the hardware maker, e.g. `Dell Inc.` (not the NIC's, which `mac_vendor` is).
    pub vendor: Option<String>,
    /// `OSArchitecture`: `64-bit`, `32-bit`, `ARM64`.
    pub os_architecture: Option<String>,
    /// `JoinType`: `Domain Joined`, `AAD Joined`, `Hybrid Azure AD Join`, `Workgroup`, ...
    pub join_type: Option<String>,
}

impl DefenderDevice {
    /// From the stored, nullable columns.
    pub fn from_stored(
        device_type: Option<&str>,
        model: Option<&str>,
        vendor: Option<&str>,
        os_architecture: Option<&str>,
        join_type: Option<&str>,
    ) -> Self {
        let known = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("unknown"))
                .map(str::to_owned)
        };
        Self {
            device_type: known(device_type),
            model: known(model),
            vendor: known(vendor),
            os_architecture: known(os_architecture),
            join_type: known(join_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_unknown_values_count_as_not_said() {
        let d = DefenderDevice::from_stored(
            Some(" Workstation "),
            Some(""),
            Some("Unknown"),
            None,
            Some("Domain Joined"),
        );
        assert_eq!(
            d,
            DefenderDevice {
                device_type: Some("Workstation".into()),
                join_type: Some("Domain Joined".into()),
                ..DefenderDevice::default()
            }
        );
    }
}
