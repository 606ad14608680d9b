//! Import of `nmap -oX` files: hosts with their addresses, hostnames, open ports and
//! OS-detection matches, as [`Observation`]s.
//!
//! The file is read whole and checked before anything is returned: one bad host refuses the
//! file. Hosts nmap reports as down are counted and skipped; `<hosthint>` elements (progress
//! notes nmap writes before each host) are ignored, so each host is read once.

use std::net::IpAddr;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use time::OffsetDateTime;

use super::limits::{shorten, Limits};
use super::mac::MacAddress;
use super::observation::{clean_text, push_unique, Observation, OpenPort, OsMatch, Protocol};
use super::text_guard::{decode_utf8, Location, TextError};
use super::xml_guard::{check_declared_encoding, check_doctype, check_entity_reference};
use crate::inventory::SourceKind;

/// The useful content of one nmap XML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmapScan {
    /// The command line nmap recorded (`<nmaprun args=...>`).
    pub args: Option<String>,
    /// nmap's version (`<nmaprun version=...>`).
    pub nmap_version: Option<String>,
    pub started_at: Option<OffsetDateTime>,
    /// One per host that was up, in file order.
    pub observations: Vec<Observation>,
    /// Hosts nmap listed as down (only present in the file with `-v` or `-Pn`).
    pub hosts_down: usize,
}

/// Why an nmap file was refused. Positions are 1-based lines and columns in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NmapXmlError {
    #[error("the file cannot be read: {0}")]
    Text(#[from] TextError),
    #[error("the file is not XML: it does not start with '<'")]
    NotXml,
    #[error("the file is refused at {location}: {reason}")]
    Refused { location: Location, reason: String },
    #[error("the file is not well-formed XML at {location}: {message}")]
    Malformed { location: Location, message: String },
    #[error("the root element is <{0}>, not <nmaprun>: this is not an `nmap -oX` file")]
    NotNmap(String),
    #[error("the file ends at {location} before </nmaprun>: it is truncated")]
    Truncated { location: Location },
    #[error("host #{host}: {message} ({location})")]
    Host {
        host: usize,
        location: Location,
        message: String,
    },
    #[error("the file has more than {limit} hosts; import it in parts")]
    TooManyHosts { limit: usize },
}

/// Parses a whole `nmap -oX` file. All or nothing: on success every host that was up is in
/// the result; on failure nothing is. Large files take a while: call it from
/// `tokio::task::spawn_blocking`.
pub fn parse_nmap_xml(bytes: &[u8], limits: &Limits) -> Result<NmapScan, NmapXmlError> {
    let text = decode_utf8(bytes, limits.max_bytes)?;
    if !text.trim_start().starts_with('<') {
        return Err(NmapXmlError::NotXml);
    }
    Parser::new(text, limits).run()
}

/// A host being read, between `<host>` and `</host>`.
struct HostDraft {
    number: usize,
    location: Location,
    up: bool,
    observation: Observation,
    /// Addresses seen, MAC included, for the per-host limit.
    addresses: usize,
    port: Option<PortDraft>,
}

/// A port being read, between `<port>` and `</port>`.
struct PortDraft {
    port: u16,
    /// `None` for nmap's IP-protocol scan (`-sO`), whose "ports" are protocol numbers.
    protocol: Option<Protocol>,
    open: bool,
    service: Option<String>,
    product: Option<String>,
}

struct Parser<'a> {
    text: &'a str,
    limits: &'a Limits,
    reader: Reader<&'a [u8]>,
    scan: NmapScan,
    depth: usize,
    root_seen: bool,
    root_closed: bool,
    hosts_seen: usize,
    host: Option<HostDraft>,
    /// Byte offset of the event being handled, for error positions.
    event_offset: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, limits: &'a Limits) -> Self {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.trim_text(true);
        config.check_end_names = true;
        config.check_comments = true;
        Self {
            text,
            limits,
            reader,
            scan: NmapScan {
                args: None,
                nmap_version: None,
                started_at: None,
                observations: Vec::new(),
                hosts_down: 0,
            },
            depth: 0,
            root_seen: false,
            root_closed: false,
            hosts_seen: 0,
            host: None,
            event_offset: 0,
        }
    }

    fn run(mut self) -> Result<NmapScan, NmapXmlError> {
        loop {
            let before = self.reader.buffer_position() as usize;
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let offset = self.reader.error_position() as usize;
                    return Err(self.read_error(offset, &error.to_string()));
                }
            };
            self.event_offset =
                before + leading_whitespace(&self.text[before.min(self.text.len())..]);
            match event {
                Event::Decl(decl) => {
                    let encoding = match decl.encoding() {
                        Some(Ok(name)) => Some(name.into_owned()),
                        Some(Err(e)) => return Err(self.malformed(e.to_string())),
                        None => None,
                    };
                    check_declared_encoding(encoding.as_deref()).map_err(|r| self.refused(r))?;
                }
                Event::DocType(body) => {
                    check_doctype(&body).map_err(|r| self.refused(r.to_owned()))?;
                }
                Event::GeneralRef(name) => {
                    check_entity_reference(&name).map_err(|r| self.refused(r))?;
                }
                Event::Start(element) => {
                    self.depth += 1;
                    self.open(&element)?;
                }
                Event::Empty(element) => {
                    self.depth += 1;
                    self.open(&element)?;
                    self.close(element.name().as_ref())?;
                    self.depth -= 1;
                }
                Event::End(element) => {
                    self.close(element.name().as_ref())?;
                    self.depth = self.depth.saturating_sub(1);
                }
                Event::Text(_) | Event::CData(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => break,
            }
        }
        if !self.root_seen {
            return Err(NmapXmlError::NotNmap("(none)".to_owned()));
        }
        if !self.root_closed {
            let location = Location::of_offset(self.text, self.text.len());
            return Err(NmapXmlError::Truncated { location });
        }
        Ok(self.scan)
    }

    fn open(&mut self, element: &BytesStart<'_>) -> Result<(), NmapXmlError> {
        let name = element.name();
        let name = name.as_ref();
        if !self.root_seen {
            if name != "nmaprun" {
                return Err(NmapXmlError::NotNmap(shorten(name)));
            }
            self.root_seen = true;
            self.scan.args = self.attr(element, "args")?;
            self.scan.nmap_version = self.attr(element, "version")?;
            self.scan.started_at = self.attr_time(element, "start")?;
            return Ok(());
        }
        if name == "host" {
            return self.open_host(element);
        }
        if self.host.is_none() {
            return Ok(());
        }
        match name {
            "status" => {
                let up = self.attr(element, "state")?.is_none_or(|s| s == "up");
                self.host_mut().up = up;
            }
            "address" => self.read_address(element)?,
            "hostname" => self.read_hostname(element)?,
            "port" => self.open_port(element)?,
            "state" if self.in_port() => {
                let open = self.attr(element, "state")?.is_some_and(|s| s == "open");
                if let Some(port) = &mut self.host_mut().port {
                    port.open = open;
                }
            }
            "service" if self.in_port() => {
                let service = self.text_attr(element, "name")?;
                let product = match (
                    self.text_attr(element, "product")?,
                    self.text_attr(element, "version")?,
                ) {
                    (Some(product), Some(version)) => Some(format!("{product} {version}")),
                    (product, _) => product,
                };
                if let Some(port) = &mut self.host_mut().port {
                    port.service = service;
                    port.product = product;
                }
            }
            "osmatch" => self.read_os_match(element)?,
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self, name: &str) -> Result<(), NmapXmlError> {
        match name {
            "nmaprun" if self.depth == 1 => self.root_closed = true,
            "host" => {
                if let Some(draft) = self.host.take() {
                    self.finish_host(draft)?;
                }
            }
            "port" => {
                let Some(host) = &mut self.host else {
                    return Ok(());
                };
                let Some(port) = host.port.take() else {
                    return Ok(());
                };
                let (true, Some(protocol)) = (port.open, port.protocol) else {
                    return Ok(());
                };
                if host.observation.open_ports.len() >= self.limits.max_ports {
                    let limit = self.limits.max_ports;
                    return Err(self.host_error(format!("more than {limit} open ports")));
                }
                host.observation.open_ports.push(OpenPort {
                    port: port.port,
                    protocol,
                    service: port.service,
                    product: port.product,
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn open_host(&mut self, element: &BytesStart<'_>) -> Result<(), NmapXmlError> {
        if self.host.is_some() {
            return Err(self.malformed("<host> inside another <host>".to_owned()));
        }
        self.hosts_seen += 1;
        if self.hosts_seen > self.limits.max_records {
            return Err(NmapXmlError::TooManyHosts {
                limit: self.limits.max_records,
            });
        }
        let mut observation = Observation::empty(SourceKind::Nmap);
        // Hosts carry their own scan times only with some options; else the scan start applies.
        observation.observed_at = self.attr_time(element, "endtime")?.or(self.scan.started_at);
        self.host = Some(HostDraft {
            number: self.hosts_seen,
            location: Location::of_offset(self.text, self.event_offset),
            up: true,
            observation,
            addresses: 0,
            port: None,
        });
        Ok(())
    }

    fn read_address(&mut self, element: &BytesStart<'_>) -> Result<(), NmapXmlError> {
        let addr = self.attr(element, "addr")?.unwrap_or_default();
        let kind = self
            .attr(element, "addrtype")?
            .unwrap_or_else(|| "ipv4".to_owned());
        let vendor = self.text_attr(element, "vendor")?;
        let shown = shorten(&addr);
        let limit = self.limits.max_addresses;
        let host = self.host_mut();
        host.addresses += 1;
        if host.addresses > limit {
            return Err(self.host_error(format!("more than {limit} addresses")));
        }
        match kind.as_str() {
            "mac" => {
                let mac = MacAddress::parse(&addr)
                    .map_err(|e| self.host_error(format!("address '{shown}' {e}")))?;
                let observation = &mut self.host_mut().observation;
                if observation.mac.is_some_and(|known| known != mac) {
                    return Err(self.host_error(format!("a second MAC address '{shown}'")));
                }
                observation.mac = Some(mac);
                observation.source_vendor = vendor;
            }
            "ipv4" | "ipv6" => {
                let ip: IpAddr = addr.trim().parse().map_err(|_| {
                    self.host_error(format!("address '{shown}' is not an {kind} address"))
                })?;
                if ip.is_ipv4() != (kind == "ipv4") {
                    return Err(
                        self.host_error(format!("address '{shown}' is not an {kind} address"))
                    );
                }
                push_unique(&mut self.host_mut().observation.ips, ip);
            }
            other => {
                let other = shorten(other);
                return Err(
                    self.host_error(format!("address type '{other}' is not ipv4, ipv6 or mac"))
                );
            }
        }
        Ok(())
    }

    fn read_hostname(&mut self, element: &BytesStart<'_>) -> Result<(), NmapXmlError> {
        let Some(name) = self.text_attr(element, "name")? else {
            return Ok(());
        };
        let limit = self.limits.max_hostnames;
        let names = &mut self.host_mut().observation.hostnames;
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            if names.len() >= limit {
                return Err(self.host_error(format!("more than {limit} hostnames")));
            }
            names.push(name);
        }
        Ok(())
    }

    fn open_port(&mut self, element: &BytesStart<'_>) -> Result<(), NmapXmlError> {
        let protocol_text = self.attr(element, "protocol")?.unwrap_or_default();
        let protocol = match Protocol::parse(&protocol_text) {
            Some(protocol) => Some(protocol),
            None if protocol_text == "ip" => None,
            None => {
                let shown = shorten(&protocol_text);
                return Err(
                    self.host_error(format!("port protocol '{shown}' is not tcp, udp or sctp"))
                );
            }
        };
        let id = self.attr(element, "portid")?.unwrap_or_default();
        let port = match id.trim().parse::<u16>() {
            Ok(port) if port != 0 || protocol.is_none() => port,
            _ => {
                return Err(self.host_error(format!("port '{}' is not a port number", shorten(&id))))
            }
        };
        self.host_mut().port = Some(PortDraft {
            port,
            protocol,
            open: false,
            service: None,
            product: None,
        });
        Ok(())
    }

    fn read_os_match(&mut self, element: &BytesStart<'_>) -> Result<(), NmapXmlError> {
        let Some(name) = self.text_attr(element, "name")? else {
            return Err(self.host_error("an <osmatch> without a name".to_owned()));
        };
        let accuracy_text = self
            .attr(element, "accuracy")?
            .unwrap_or_else(|| "0".to_owned());
        let accuracy = match accuracy_text.trim().parse::<u8>() {
            Ok(accuracy) if accuracy <= 100 => accuracy,
            _ => {
                let shown = shorten(&accuracy_text);
                return Err(self.host_error(format!("OS match accuracy '{shown}' is not 0 to 100")));
            }
        };
        let limit = self.limits.max_os_matches;
        let matches = &mut self.host_mut().observation.os_matches;
        if matches.len() >= limit {
            return Err(self.host_error(format!("more than {limit} OS matches")));
        }
        matches.push(OsMatch { name, accuracy });
        Ok(())
    }

    fn finish_host(&mut self, draft: HostDraft) -> Result<(), NmapXmlError> {
        if !draft.up {
            self.scan.hosts_down += 1;
            return Ok(());
        }
        let observation = draft.observation;
        if observation.mac.is_none() && observation.ips.is_empty() {
            return Err(NmapXmlError::Host {
                host: draft.number,
                location: draft.location,
                message: "it has no IP or MAC address".to_owned(),
            });
        }
        self.scan.observations.push(observation);
        Ok(())
    }

    fn in_port(&self) -> bool {
        self.host.as_ref().is_some_and(|host| host.port.is_some())
    }

    fn host_mut(&mut self) -> &mut HostDraft {
        self.host.as_mut().expect("only called inside <host>")
    }

    /// An attribute's value with entities resolved; unknown entities refuse the file.
    fn attr(&self, element: &BytesStart<'_>, key: &str) -> Result<Option<String>, NmapXmlError> {
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|e| self.malformed(e.to_string()))?;
            if attribute.key.as_ref() == key {
                let value = attribute
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|e| self.refused(format!("attribute '{key}': {e}")))?;
                return Ok(Some(value.into_owned()));
            }
        }
        Ok(None)
    }

    /// A free-text attribute, checked with [`clean_text`]; blank counts as absent.
    fn text_attr(
        &self,
        element: &BytesStart<'_>,
        key: &str,
    ) -> Result<Option<String>, NmapXmlError> {
        let Some(value) = self.attr(element, key)? else {
            return Ok(None);
        };
        if value.trim().is_empty() {
            return Ok(None);
        }
        clean_text(&value, self.limits.max_text_len)
            .map(Some)
            .map_err(|e| {
                let message = format!("{key} '{}' {e}", shorten(&value));
                match self.host {
                    Some(_) => self.host_error(message),
                    None => self.malformed(message),
                }
            })
    }

    /// A Unix-seconds attribute such as `start` or `endtime`.
    fn attr_time(
        &self,
        element: &BytesStart<'_>,
        key: &str,
    ) -> Result<Option<OffsetDateTime>, NmapXmlError> {
        let Some(value) = self.attr(element, key)? else {
            return Ok(None);
        };
        let time = value
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok());
        match time {
            Some(time) => Ok(Some(time)),
            None => Err(self.malformed(format!("{key} '{}' is not a Unix time", shorten(&value)))),
        }
    }

    fn host_error(&self, message: String) -> NmapXmlError {
        let host = self.host.as_ref().map_or(self.hosts_seen, |h| h.number);
        NmapXmlError::Host {
            host,
            location: self.location(),
            message,
        }
    }

    fn malformed(&self, message: String) -> NmapXmlError {
        NmapXmlError::Malformed {
            location: self.location(),
            message,
        }
    }

    fn refused(&self, reason: String) -> NmapXmlError {
        NmapXmlError::Refused {
            location: self.location(),
            reason,
        }
    }

    fn location(&self) -> Location {
        Location::of_offset(self.text, self.event_offset)
    }

    /// A reader error: at the very end of the text it means the file was cut short.
    fn read_error(&self, offset: usize, message: &str) -> NmapXmlError {
        let rest = self.text.get(offset..).unwrap_or_default();
        let location = Location::of_offset(self.text, offset);
        if message.contains("end of input") || !rest.contains('>') {
            NmapXmlError::Truncated { location }
        } else {
            NmapXmlError::Malformed {
                location,
                message: message.to_owned(),
            }
        }
    }
}

fn leading_whitespace(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

#[cfg(test)]
mod tests;
