//! The identity of an endpoint: its MAC address when one is known, else its Defender machine id.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::discovery::MacAddress;

/// What makes two sightings the same endpoint.
///
/// A MAC wins because every source can report one; Defender's machine id (40 hex characters,
/// `defender-api.md` §5.1) is the fallback for machines Defender lists without a MAC.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum EndpointKey {
    Mac(MacAddress),
    DefenderMachine(String),
}

impl EndpointKey {
    /// The key for a device with these identifiers, or `None` if it has neither.
    pub fn choose(mac: Option<MacAddress>, defender_machine_id: Option<&str>) -> Option<Self> {
        match (mac, defender_machine_id.map(str::trim)) {
            (Some(mac), _) => Some(Self::Mac(mac)),
            (None, Some(id)) if !id.is_empty() => Some(Self::DefenderMachine(id.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for EndpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mac(mac) => write!(f, "mac:{mac}"),
            Self::DefenderMachine(id) => write!(f, "defender:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_wins_over_defender_id() {
        let mac = MacAddress::parse("00155DA1B2C3").unwrap();
        let id = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
        assert_eq!(
            EndpointKey::choose(Some(mac), Some(id)),
            Some(EndpointKey::Mac(mac))
        );
        assert_eq!(
            EndpointKey::choose(None, Some(id)),
            Some(EndpointKey::DefenderMachine(id.to_owned()))
        );
        assert_eq!(EndpointKey::choose(None, Some("  ")), None);
        assert_eq!(EndpointKey::choose(None, None), None);
        assert_eq!(EndpointKey::Mac(mac).to_string(), "mac:00:15:5D:A1:B2:C3");
    }
}
