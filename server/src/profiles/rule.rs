//! One profile rule: an endpoint attribute and what it must look like.

use std::fmt;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

use crate::inventory::Endpoint;

/// The endpoint attribute a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    /// The IEEE registry name of the MAC's vendor.
    MacVendor,
    /// Every hostname, and the DHCP hostname.
    Hostname,
    /// Open ports, any transport.
    OpenPort,
    /// Every OS-detection match name (nmap `-O`).
    OsMatch,
    /// DHCP option 60.
    DhcpVendorClass,
    /// Defender's `osPlatform` (`defender-api.md` §5.1).
    DefenderOs,
    /// Advanced hunting's `DeviceInfo.DeviceType` (`Workstation`, `Server`, `Printer`, ...).
    DefenderDeviceType,
    /// `DeviceInfo.Model`, e.g. `Latitude 7440`, `Virtual Machine`.
    DefenderModel,
    /// `DeviceInfo.Vendor`: the hardware maker, e.g. `Dell Inc.`.
    DefenderVendor,
    /// `DeviceInfo.OSArchitecture`: `64-bit`, `32-bit`, `ARM64`.
    DefenderOsArchitecture,
    /// `DeviceInfo.JoinType`, e.g. `Domain Joined`, `AAD Joined`, `Workgroup`.
    DefenderJoinType,
}

impl Attribute {
    /// The attributes matched with text patterns.
    pub const TEXT: [Attribute; 10] = [
        Self::MacVendor,
        Self::Hostname,
        Self::OsMatch,
        Self::DhcpVendorClass,
        Self::DefenderOs,
        Self::DefenderDeviceType,
        Self::DefenderModel,
        Self::DefenderVendor,
        Self::DefenderOsArchitecture,
        Self::DefenderJoinType,
    ];

    /// Words for the UI's explanation of a match.
    pub fn label(&self) -> &'static str {
        match self {
            Self::MacVendor => "MAC vendor",
            Self::Hostname => "hostname",
            Self::OpenPort => "open port",
            Self::OsMatch => "OS detection",
            Self::DhcpVendorClass => "DHCP vendor class",
            Self::DefenderOs => "Defender OS",
            Self::DefenderDeviceType => "Defender device type",
            Self::DefenderModel => "Defender model",
            Self::DefenderVendor => "Defender hardware vendor",
            Self::DefenderOsArchitecture => "Defender OS architecture",
            Self::DefenderJoinType => "Defender join type",
        }
    }

    /// Calls `found` on each text value of this attribute until it returns true; returns
    /// whether one did. Borrowing, not collecting, keeps the re-model free of allocation.
    pub(crate) fn any_text(
        &self,
        endpoint: &Endpoint,
        mut found: impl FnMut(&str) -> bool,
    ) -> bool {
        match self {
            Self::MacVendor => endpoint.mac_vendor.is_some_and(found),
            Self::Hostname => endpoint
                .hostnames
                .iter()
                .chain(&endpoint.dhcp_hostname)
                .any(|name| found(name)),
            Self::OsMatch => endpoint.os_matches.iter().any(|m| found(&m.name)),
            Self::DhcpVendorClass => endpoint.dhcp_vendor_class.as_deref().is_some_and(found),
            Self::DefenderOs => endpoint
                .defender_os
                .as_ref()
                .is_some_and(|os| found(&os.platform)),
            Self::DefenderDeviceType => endpoint
                .defender_device
                .device_type
                .as_deref()
                .is_some_and(found),
            Self::DefenderModel => endpoint.defender_device.model.as_deref().is_some_and(found),
            Self::DefenderVendor => endpoint
                .defender_device
                .vendor
                .as_deref()
                .is_some_and(found),
            Self::DefenderOsArchitecture => endpoint
                .defender_device
                .os_architecture
                .as_deref()
                .is_some_and(found),
            Self::DefenderJoinType => endpoint
                .defender_device
                .join_type
                .as_deref()
                .is_some_and(found),
            Self::OpenPort => false,
        }
    }
}

/// What a rule's attribute must look like.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A regular expression found anywhere in a text value, ignoring case.
    Pattern(Regex),
    /// Any of these ports open.
    Ports(Vec<u16>),
}

/// A rule: when it matches an endpoint, it adds its weight to its profile's score.
#[derive(Debug, Clone)]
pub struct Rule {
    pub attribute: Attribute,
    pub matcher: Matcher,
    /// 1 to 100.
    pub weight: u8,
    /// The profile is not considered unless this rule matches.
    pub required: bool,
}

/// Longest pattern accepted; real patterns are far shorter, and this bounds compile time.
pub const MAX_PATTERN_LEN: usize = 1024;

impl Rule {
    /// A text rule; `pattern` is compiled case-insensitively. The error says what is wrong.
    pub fn pattern(
        attribute: Attribute,
        pattern: &str,
        weight: u8,
        required: bool,
    ) -> Result<Self, String> {
        if attribute == Attribute::OpenPort {
            return Err("open_port rules take `ports`, not a `pattern`".to_owned());
        }
        Ok(Self {
            attribute,
            matcher: Matcher::Pattern(compile(pattern)?),
            weight,
            required,
        })
        .and_then(Self::checked)
    }

    /// An open-port rule.
    pub fn ports(ports: Vec<u16>, weight: u8, required: bool) -> Result<Self, String> {
        if ports.is_empty() {
            return Err("`ports` is empty".to_owned());
        }
        if ports.contains(&0) {
            return Err("port 0 is not a port".to_owned());
        }
        Self::checked(Self {
            attribute: Attribute::OpenPort,
            matcher: Matcher::Ports(ports),
            weight,
            required,
        })
    }

    fn checked(self) -> Result<Self, String> {
        if !(1..=100).contains(&self.weight) {
            return Err(format!("weight {} is not between 1 and 100", self.weight));
        }
        Ok(self)
    }

    /// The pattern's source text, for text rules.
    pub fn pattern_source(&self) -> Option<&str> {
        match &self.matcher {
            Matcher::Pattern(regex) => Some(regex.as_str()),
            Matcher::Ports(_) => None,
        }
    }

    /// Whether the rule matches `endpoint`. The engine uses a faster, batched path that gives
    /// the same answers; this one is the reference and serves one-off explanations.
    pub fn matches(&self, endpoint: &Endpoint) -> bool {
        match &self.matcher {
            Matcher::Pattern(regex) => self
                .attribute
                .any_text(endpoint, |text| regex.is_match(text)),
            Matcher::Ports(ports) => ports.iter().any(|port| endpoint.has_open_port(*port)),
        }
    }
}

/// Describes the rule for the UI, e.g. `MAC vendor matches /^Apple/` or `open port 9100 or 515`.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.matcher {
            Matcher::Pattern(regex) => {
                write!(f, "{} matches /{}/", self.attribute.label(), regex.as_str())
            }
            Matcher::Ports(ports) => {
                write!(f, "open port ")?;
                for (i, port) in ports.iter().enumerate() {
                    let separator = match i {
                        0 => "",
                        _ if i + 1 == ports.len() => " or ",
                        _ => ", ",
                    };
                    write!(f, "{separator}{port}")?;
                }
                Ok(())
            }
        }
    }
}

/// Compiles a rule pattern the one way both the rule and the engine's sets use.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    if pattern.trim().is_empty() {
        return Err("`pattern` is empty".to_owned());
    }
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(format!("`pattern` is longer than {MAX_PATTERN_LEN} bytes"));
    }
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("pattern '{pattern}' does not compile: {e}"))
}

/// Compiles many rule patterns into one set, with the options of [`compile`], so one pass over
/// a value answers every rule on that attribute.
pub(crate) fn compile_set<'a>(
    patterns: impl IntoIterator<Item = &'a str>,
) -> Result<RegexSet, String> {
    RegexSetBuilder::new(patterns)
        .case_insensitive(true)
        .size_limit(PATTERN_SIZE_LIMIT * 64)
        .build()
        .map_err(|e| format!("the rule patterns do not compile together: {e}"))
}

/// Compiled-size cap of one pattern: generous for real rules, small enough to stop a
/// pathological one from eating memory.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::discovery::{MacAddress, OpenPort, OsMatch, Protocol};
    use crate::inventory::{DefenderOs, EndpointKey};

    fn endpoint() -> Endpoint {
        let mac = MacAddress::parse("3C:D9:2B:12:34:56").unwrap();
        let mut e = Endpoint::new(EndpointKey::Mac(mac), OffsetDateTime::UNIX_EPOCH);
        e.hostnames = vec!["NPI1A2B3C.corp.example".into(), "printer-2".into()];
        e.dhcp_hostname = Some("HP-LaserJet".into());
        e.open_ports = vec![OpenPort {
            port: 9100,
            protocol: Protocol::Tcp,
            service: None,
            product: None,
        }];
        e.os_matches = vec![OsMatch {
            name: "HP LaserJet M402 printer".into(),
            accuracy: 98,
        }];
        e.dhcp_vendor_class = Some("Hewlett-Packard JetDirect".into());
        e
    }

    #[test]
    fn rules_match_their_attribute_only() {
        let text = |attribute, pattern| Rule::pattern(attribute, pattern, 10, false).unwrap();
        let cases = [
            (text(Attribute::MacVendor, "^hewlett packard$"), true),
            (text(Attribute::MacVendor, "Cisco"), false),
            (text(Attribute::Hostname, "^NPI[0-9A-F]{6}"), true),
            (text(Attribute::Hostname, "^printer-2$"), true),
            (text(Attribute::Hostname, "laserjet"), true),
            (text(Attribute::Hostname, "^corp"), false),
            (text(Attribute::OsMatch, "printer"), true),
            (text(Attribute::OsMatch, "Windows"), false),
            (text(Attribute::DhcpVendorClass, "jetdirect"), true),
            (text(Attribute::DhcpVendorClass, "^MSFT"), false),
            (text(Attribute::DefenderOs, "."), false),
            (Rule::ports(vec![515, 9100], 10, false).unwrap(), true),
            (Rule::ports(vec![22], 10, false).unwrap(), false),
        ];
        let endpoint = endpoint();
        for (rule, want) in cases {
            assert_eq!(rule.matches(&endpoint), want, "{rule}");
        }
    }

    #[test]
    fn defender_os_rules_see_the_platform() {
        let mut endpoint = endpoint();
        endpoint.defender_os = DefenderOs::from_defender(Some("WindowsServer2022"), None);
        let rule = Rule::pattern(Attribute::DefenderOs, "^windowsserver", 90, false).unwrap();
        assert!(rule.matches(&endpoint));
    }

    #[test]
    fn bad_rules_are_refused_with_reasons() {
        let cases = [
            (
                Rule::pattern(Attribute::Hostname, "(", 10, false).unwrap_err(),
                "does not compile",
            ),
            (
                Rule::pattern(Attribute::Hostname, " ", 10, false).unwrap_err(),
                "empty",
            ),
            (
                Rule::pattern(Attribute::Hostname, "x", 0, false).unwrap_err(),
                "weight 0",
            ),
            (
                Rule::pattern(Attribute::Hostname, "x", 101, false).unwrap_err(),
                "weight 101",
            ),
            (
                Rule::pattern(Attribute::OpenPort, "x", 10, false).unwrap_err(),
                "take `ports`",
            ),
            (Rule::ports(vec![], 10, false).unwrap_err(), "empty"),
            (Rule::ports(vec![0], 10, false).unwrap_err(), "port 0"),
        ];
        for (err, want) in cases {
            assert!(err.contains(want), "{err:?} lacks {want:?}");
        }
        let long = "a".repeat(MAX_PATTERN_LEN + 1);
        assert!(Rule::pattern(Attribute::Hostname, &long, 10, false).is_err());
    }

    #[test]
    fn rules_describe_themselves() {
        let rule = Rule::pattern(Attribute::MacVendor, "^Apple", 10, false).unwrap();
        assert_eq!(rule.to_string(), "MAC vendor matches /^Apple/");
        let rule = Rule::ports(vec![9100, 515, 631], 10, false).unwrap();
        assert_eq!(rule.to_string(), "open port 9100, 515 or 631");
        assert_eq!(
            Rule::ports(vec![22], 1, false).unwrap().to_string(),
            "open port 22"
        );
    }
}
