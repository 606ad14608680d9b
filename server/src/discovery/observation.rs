//! The common shape of one sighting of a device, whatever source reported it. Parsers produce
//! only valid observations; the inventory merges them into endpoints.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::mac::MacAddress;
use crate::inventory::SourceKind;

/// Transport of an open port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// Reads nmap's and the sensor body's spelling (`tcp`, `udp`, `sctp`), any case.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "tcp" => Some(Self::Tcp),
            "udp" => Some(Self::Udp),
            "sctp" => Some(Self::Sctp),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Sctp => "sctp",
        }
    }
}

/// A port seen open, with what answered on it when the source could tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPort {
    pub port: u16,
    pub protocol: Protocol,
    /// Service name, e.g. nmap's `http` or `microsoft-ds`.
    pub service: Option<String>,
    /// Product and version, e.g. nmap `-sV`'s `SimpleHTTPServer 0.6`.
    pub product: Option<String>,
}

impl fmt::Display for OpenPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol.as_str())
    }
}

/// One OS-detection guess, e.g. nmap's `<osmatch name="Linux 5.0 - 5.14" accuracy="100">`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsMatch {
    pub name: String,
    /// Confidence in percent, 0 to 100.
    pub accuracy: u8,
}

/// One sighting of one device by one source.
///
/// Invariants kept by the parsers: at least one of `mac` and `ips` is present; lists hold no
/// duplicates; texts are trimmed, non-empty and free of control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub source: SourceKind,
    pub mac: Option<MacAddress>,
    /// The vendor the source itself printed (nmap's `vendor` attribute), kept for display only;
    /// the inventory takes the vendor from the IEEE registry instead (see [`crate::oui`]).
    pub source_vendor: Option<String>,
    pub ips: Vec<IpAddr>,
    pub hostnames: Vec<String>,
    pub open_ports: Vec<OpenPort>,
    /// Best guess first.
    pub os_matches: Vec<OsMatch>,
    /// DHCP option 60, e.g. `MSFT 5.0` or `android-dhcp-14`.
    pub dhcp_vendor_class: Option<String>,
    /// DHCP option 12.
    pub dhcp_hostname: Option<String>,
    /// When the source saw the device, if it said; otherwise the import time applies.
    pub observed_at: Option<OffsetDateTime>,
}

impl Observation {
    /// An observation with nothing but its source; parsers fill it in.
    pub fn empty(source: SourceKind) -> Self {
        Self {
            source,
            mac: None,
            source_vendor: None,
            ips: Vec::new(),
            hostnames: Vec::new(),
            open_ports: Vec::new(),
            os_matches: Vec::new(),
            dhcp_vendor_class: None,
            dhcp_hostname: None,
            observed_at: None,
        }
    }
}

/// Checks a free-text value (hostname, vendor class, OS name) and returns it trimmed.
/// The message follows the quoted value, like [`super::mac::MacError`]'s.
pub(crate) fn clean_text(value: &str, max_len: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("is empty".to_owned());
    }
    if value.len() > max_len {
        return Err(format!(
            "is {} bytes long, over the limit of {max_len}",
            value.len()
        ));
    }
    if value.chars().any(char::is_control) {
        return Err("contains control characters".to_owned());
    }
    Ok(value.to_owned())
}

/// Pushes `item` unless an equal one is there; lists are short, so a scan beats a set.
pub(crate) fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_trims_and_refuses_junk() {
        assert_eq!(clean_text("  host-1 ", 10), Ok("host-1".to_owned()));
        assert_eq!(clean_text(" ", 10), Err("is empty".to_owned()));
        assert!(clean_text("a\u{7}b", 10).unwrap_err().contains("control"));
        assert!(clean_text("abcdefghijk", 10)
            .unwrap_err()
            .contains("over the limit of 10"));
    }

    #[test]
    fn protocols_parse_in_any_case() {
        assert_eq!(Protocol::parse("TCP"), Some(Protocol::Tcp));
        assert_eq!(Protocol::parse("udp"), Some(Protocol::Udp));
        assert_eq!(Protocol::parse("ip"), None);
    }
}
