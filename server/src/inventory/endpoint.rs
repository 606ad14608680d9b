//! One endpoint: what all sources together know about a device, merged.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::{DefenderDevice, EndpointKey, SourceKind, SourceSet};
use crate::discovery::observation::push_unique;
use crate::discovery::{MacAddress, Observation, OpenPort, OsMatch};

/// The operating system Defender reports for a machine (`osPlatform` and `version`,
/// `defender-api.md` §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DefenderOs {
    /// E.g. `Windows11`, `WindowsServer2022`, `macOS`, `Ubuntu`.
    pub platform: String,
    /// The OS release, e.g. `24H2` or `22.4`, when Defender knows it.
    pub version: Option<String>,
}

impl DefenderOs {
    /// Builds the OS facts from Defender's nullable fields. Blank values and `Unknown` count
    /// as absent, so that such machines go through the ordinary profile rules.
    pub fn from_defender(os_platform: Option<&str>, version: Option<&str>) -> Option<Self> {
        let known = |v: &str| {
            let v = v.trim();
            (!v.is_empty() && !v.eq_ignore_ascii_case("unknown")).then(|| v.to_owned())
        };
        let platform = os_platform.and_then(known)?;
        Some(Self {
            platform,
            version: version.and_then(known),
        })
    }
}

/// Everything known about one device.
///
/// Lists keep first-seen order and hold no duplicates (hostnames compare case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub key: EndpointKey,
    /// The key's MAC for MAC-keyed endpoints. A Defender-keyed endpoint may learn a MAC later
    /// through [`Endpoint::absorb`]; re-keying it is the caller's decision.
    pub mac: Option<MacAddress>,
    /// Registered vendor of `mac` from the IEEE registry ([`crate::oui`]); recomputed from the
    /// MAC, so it need not be stored.
    pub mac_vendor: Option<&'static str>,
    pub defender_machine_id: Option<String>,
    pub ips: Vec<IpAddr>,
    pub hostnames: Vec<String>,
    pub open_ports: Vec<OpenPort>,
    /// From the latest observation that had any; best guess first.
    pub os_matches: Vec<OsMatch>,
    pub dhcp_vendor_class: Option<String>,
    pub dhcp_hostname: Option<String>,
    pub defender_os: Option<DefenderOs>,
    /// What `DeviceInfo` says of the representative machine's hardware.
    pub defender_device: DefenderDevice,
    pub first_seen: OffsetDateTime,
    pub last_seen: OffsetDateTime,
    pub sources: SourceSet,
}

impl Endpoint {
    /// A new endpoint seen for the first time at `at`, with nothing known but its key.
    pub fn new(key: EndpointKey, at: OffsetDateTime) -> Self {
        let mac = match &key {
            EndpointKey::Mac(mac) => Some(*mac),
            EndpointKey::DefenderMachine(_) => None,
        };
        let defender_machine_id = match &key {
            EndpointKey::DefenderMachine(id) => Some(id.clone()),
            EndpointKey::Mac(_) => None,
        };
        Self {
            key,
            mac,
            mac_vendor: mac.as_ref().and_then(crate::oui::vendor_name),
            defender_machine_id,
            ips: Vec::new(),
            hostnames: Vec::new(),
            open_ports: Vec::new(),
            os_matches: Vec::new(),
            dhcp_vendor_class: None,
            dhcp_hostname: None,
            defender_os: None,
            defender_device: DefenderDevice::default(),
            first_seen: at,
            last_seen: at,
            sources: SourceSet::default(),
        }
    }

    /// A new endpoint from a discovery observation, keyed by its MAC. `None` when the
    /// observation has no MAC: such a sighting (e.g. an nmap host behind a router) can only be
    /// matched to an existing endpoint by IP, which is the caller's decision.
    pub fn from_observation(
        observation: &Observation,
        imported_at: OffsetDateTime,
    ) -> Option<Self> {
        let mac = observation.mac?;
        let at = observation.observed_at.unwrap_or(imported_at);
        let mut endpoint = Self::new(EndpointKey::Mac(mac), at);
        endpoint.absorb(observation, imported_at);
        Some(endpoint)
    }

    /// Folds an observation in: lists grow, single values take the newer report, the seen
    /// window widens. `imported_at` stands in when the observation carries no time.
    pub fn absorb(&mut self, observation: &Observation, imported_at: OffsetDateTime) {
        self.seen(
            observation.source,
            observation.observed_at.unwrap_or(imported_at),
        );
        if self.mac.is_none() {
            if let Some(mac) = observation.mac {
                self.mac = Some(mac);
                self.mac_vendor = crate::oui::vendor_name(&mac);
            }
        }
        for ip in &observation.ips {
            push_unique(&mut self.ips, *ip);
        }
        for name in observation
            .hostnames
            .iter()
            .chain(&observation.dhcp_hostname)
        {
            self.add_hostname(name);
        }
        for port in &observation.open_ports {
            let known = self
                .open_ports
                .iter_mut()
                .find(|p| p.port == port.port && p.protocol == port.protocol);
            match known {
                // Keep what an earlier service scan found if this one did not probe.
                Some(known) => {
                    if port.service.is_some() {
                        known.service.clone_from(&port.service);
                    }
                    if port.product.is_some() {
                        known.product.clone_from(&port.product);
                    }
                }
                None => self.open_ports.push(port.clone()),
            }
        }
        if !observation.os_matches.is_empty() {
            self.os_matches.clone_from(&observation.os_matches);
        }
        if observation.dhcp_vendor_class.is_some() {
            self.dhcp_vendor_class
                .clone_from(&observation.dhcp_vendor_class);
        }
        if observation.dhcp_hostname.is_some() {
            self.dhcp_hostname.clone_from(&observation.dhcp_hostname);
        }
    }

    /// Records Defender's view of the machine: its id, OS and addresses.
    pub fn absorb_defender(
        &mut self,
        machine_id: &str,
        os: Option<DefenderOs>,
        ips: &[IpAddr],
        dns_name: Option<&str>,
        at: OffsetDateTime,
    ) {
        self.seen(SourceKind::Defender, at);
        self.defender_machine_id = Some(machine_id.to_owned());
        self.defender_os = os;
        for ip in ips {
            push_unique(&mut self.ips, *ip);
        }
        if let Some(name) = dns_name.map(str::trim).filter(|n| !n.is_empty()) {
            self.add_hostname(name);
        }
    }

    /// The MAC is locally administered, i.e. probably randomised, so this endpoint may turn up
    /// again under another MAC.
    pub fn has_random_mac(&self) -> bool {
        self.mac.is_some_and(|mac| mac.is_locally_administered())
    }

    /// Whether `port` is open on any transport.
    pub fn has_open_port(&self, port: u16) -> bool {
        self.open_ports.iter().any(|p| p.port == port)
    }

    fn seen(&mut self, source: SourceKind, at: OffsetDateTime) {
        self.sources.insert(source);
        self.first_seen = self.first_seen.min(at);
        self.last_seen = self.last_seen.max(at);
    }

    fn add_hostname(&mut self, name: &str) {
        if !self.hostnames.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            self.hostnames.push(name.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::discovery::Protocol;

    fn port(port: u16, service: Option<&str>) -> OpenPort {
        OpenPort {
            port,
            protocol: Protocol::Tcp,
            service: service.map(Into::into),
            product: None,
        }
    }

    fn observation() -> Observation {
        let mut obs = Observation::empty(SourceKind::Nmap);
        obs.mac = Some(MacAddress::parse("00:15:5D:A1:B2:C3").unwrap());
        obs.ips = vec!["10.99.0.11".parse().unwrap()];
        obs.hostnames = vec!["Desk-1".into()];
        obs.open_ports = vec![port(445, Some("microsoft-ds"))];
        obs
    }

    #[test]
    fn observations_merge_without_duplicates_and_widen_the_seen_window() {
        let t0 = datetime!(2026-11-27 10:00 UTC);
        let t1 = datetime!(2026-11-27 12:00 UTC);
        let mut endpoint = Endpoint::from_observation(&observation(), t1).unwrap();
        assert_eq!(
            endpoint.mac_vendor.map(|v| v.contains("Microsoft")),
            Some(true)
        );

        let mut later = observation();
        later.source = SourceKind::Sensor;
        later.observed_at = Some(t0);
        later.hostnames = vec!["DESK-1".into()];
        later.ips.push("fe80::1".parse().unwrap());
        later.open_ports = vec![port(445, None), port(3389, None)];
        later.dhcp_vendor_class = Some("MSFT 5.0".into());
        endpoint.absorb(&later, t1);

        assert_eq!(endpoint.hostnames, ["Desk-1"]);
        assert_eq!(endpoint.ips.len(), 2);
        assert_eq!(endpoint.open_ports.len(), 2);
        assert_eq!(
            endpoint.open_ports[0].service.as_deref(),
            Some("microsoft-ds")
        );
        assert_eq!((endpoint.first_seen, endpoint.last_seen), (t0, t1));
        assert_eq!(
            endpoint.sources.iter().collect::<Vec<_>>(),
            [SourceKind::Nmap, SourceKind::Sensor]
        );
        assert!(endpoint.has_open_port(3389));
        assert!(!endpoint.has_random_mac());
    }

    #[test]
    fn observations_without_a_mac_make_no_endpoint() {
        let mut obs = observation();
        obs.mac = None;
        assert!(Endpoint::from_observation(&obs, OffsetDateTime::UNIX_EPOCH).is_none());
    }

    #[test]
    fn defender_os_treats_blank_and_unknown_as_absent() {
        let cases = [
            (
                Some("Windows11"),
                Some("24H2"),
                Some(("Windows11", Some("24H2"))),
            ),
            (Some(" Windows11 "), Some(" "), Some(("Windows11", None))),
            (Some("Linux"), Some("Unknown"), Some(("Linux", None))),
            (Some("Unknown"), Some("24H2"), None),
            (None, Some("24H2"), None),
        ];
        for (platform, version, want) in cases {
            let got = DefenderOs::from_defender(platform, version);
            let got = got
                .as_ref()
                .map(|os| (os.platform.as_str(), os.version.as_deref()));
            assert_eq!(got, want, "{platform:?} {version:?}");
        }
    }

    #[test]
    fn defender_facts_key_and_mark_the_endpoint() {
        let at = datetime!(2026-11-27 10:00 UTC);
        let id = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
        let mut endpoint = Endpoint::new(EndpointKey::DefenderMachine(id.into()), at);
        let os = DefenderOs::from_defender(Some("Windows11"), Some("24H2"));
        endpoint.absorb_defender(
            id,
            os.clone(),
            &["10.0.0.5".parse().unwrap()],
            Some("pc1"),
            at,
        );
        assert_eq!(endpoint.defender_os, os);
        assert_eq!(endpoint.defender_machine_id.as_deref(), Some(id));
        assert!(endpoint.sources.contains(SourceKind::Defender));
        assert_eq!(endpoint.hostnames, ["pc1"]);
    }
}
