//! The JSON body network sensors POST with what they saw: MAC, IP, hostname, DHCP details and
//! open ports.
//!
//! ```json
//! { "sensor": "branch-01",
//!   "observations": [
//!     { "mac": "00:15:5D:A1:B2:C3", "ip": "10.0.0.5", "hostname": "desk-1",
//!       "dhcp_vendor_class": "MSFT 5.0", "dhcp_hostname": "DESK-1",
//!       "open_ports": [{ "port": 445, "protocol": "tcp" }],
//!       "observed_at": "2026-11-27T10:00:00Z" } ] }
//! ```
//!
//! Every field but `sensor` and `observations` is optional, but each observation needs a
//! `mac` or an `ip`. Unknown fields are refused so that a misspelt field is an error, not
//! silently lost data. The body is checked whole: one bad observation refuses the batch.

use std::net::IpAddr;

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::limits::{shorten, Limits};
use super::mac::MacAddress;
use super::observation::{clean_text, push_unique, Observation, OpenPort, Protocol};
use super::text_guard::{decode_utf8, TextError};
use crate::inventory::SourceKind;

/// A validated sensor body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorBatch {
    /// The sensor's name as it reported it.
    pub sensor: String,
    pub observations: Vec<Observation>,
}

/// Why a sensor body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SensorJsonError {
    #[error("the body cannot be read: {0}")]
    Text(#[from] TextError),
    /// Not JSON, or not the documented shape; serde's message names the field and position.
    #[error("the body is not a valid sensor report: {0}")]
    Syntax(String),
    #[error("field 'sensor' {0}")]
    Sensor(String),
    #[error("the body has more than {limit} observations; send smaller batches")]
    TooManyObservations { limit: usize },
    #[error("observation #{index}: field '{field}' {message}")]
    Field {
        index: usize,
        field: &'static str,
        message: String,
    },
    #[error("observation #{index} has neither 'mac' nor 'ip'")]
    NoAddress { index: usize },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBatch {
    sensor: String,
    observations: Vec<WireObservation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireObservation {
    mac: Option<String>,
    ip: Option<String>,
    hostname: Option<String>,
    dhcp_vendor_class: Option<String>,
    dhcp_hostname: Option<String>,
    #[serde(default)]
    open_ports: Vec<WirePort>,
    observed_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePort {
    port: u16,
    protocol: Option<String>,
    service: Option<String>,
}

/// Parses and validates a whole sensor body. All or nothing.
pub fn parse_sensor_json(bytes: &[u8], limits: &Limits) -> Result<SensorBatch, SensorJsonError> {
    let text = decode_utf8(bytes, limits.max_bytes)?;
    let wire: WireBatch =
        serde_json::from_str(text).map_err(|e| SensorJsonError::Syntax(e.to_string()))?;
    let sensor = clean_text(&wire.sensor, limits.max_text_len)
        .map_err(|e| SensorJsonError::Sensor(format!("'{}' {e}", shorten(&wire.sensor))))?;
    if wire.observations.len() > limits.max_records {
        return Err(SensorJsonError::TooManyObservations {
            limit: limits.max_records,
        });
    }
    let observations = wire
        .observations
        .into_iter()
        .enumerate()
        .map(|(i, wire)| validate(i + 1, wire, limits))
        .collect::<Result<_, _>>()?;
    Ok(SensorBatch {
        sensor,
        observations,
    })
}

fn validate(
    index: usize,
    wire: WireObservation,
    limits: &Limits,
) -> Result<Observation, SensorJsonError> {
    let field_error = |field: &'static str, value: &str, message: String| SensorJsonError::Field {
        index,
        field,
        message: format!("'{}' {message}", shorten(value)),
    };
    let text =
        |field: &'static str, value: Option<String>| -> Result<Option<String>, SensorJsonError> {
            value
                .map(|v| clean_text(&v, limits.max_text_len).map_err(|e| field_error(field, &v, e)))
                .transpose()
        };

    let mut observation = Observation::empty(SourceKind::Sensor);
    if let Some(mac) = &wire.mac {
        let parsed = MacAddress::parse(mac).map_err(|e| field_error("mac", mac, e.to_string()))?;
        observation.mac = Some(parsed);
    }
    if let Some(ip) = &wire.ip {
        let parsed: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| field_error("ip", ip, "is not an IPv4 or IPv6 address".to_owned()))?;
        observation.ips.push(parsed);
    }
    if observation.mac.is_none() && observation.ips.is_empty() {
        return Err(SensorJsonError::NoAddress { index });
    }
    observation
        .hostnames
        .extend(text("hostname", wire.hostname)?);
    observation.dhcp_vendor_class = text("dhcp_vendor_class", wire.dhcp_vendor_class)?;
    observation.dhcp_hostname = text("dhcp_hostname", wire.dhcp_hostname)?;
    if wire.open_ports.len() > limits.max_ports {
        return Err(SensorJsonError::Field {
            index,
            field: "open_ports",
            message: format!("has more than {} entries", limits.max_ports),
        });
    }
    for port in wire.open_ports {
        let protocol = match &port.protocol {
            None => Protocol::Tcp,
            Some(text) => Protocol::parse(text).ok_or_else(|| {
                field_error(
                    "open_ports.protocol",
                    text,
                    "is not tcp, udp or sctp".to_owned(),
                )
            })?,
        };
        if port.port == 0 {
            return Err(field_error(
                "open_ports.port",
                "0",
                "is not a port number".to_owned(),
            ));
        }
        let service = text("open_ports.service", port.service)?;
        push_unique(
            &mut observation.open_ports,
            OpenPort {
                port: port.port,
                protocol,
                service,
                product: None,
            },
        );
    }
    if let Some(at) = &wire.observed_at {
        let parsed = OffsetDateTime::parse(at.trim(), &Rfc3339).map_err(|_| {
            field_error(
                "observed_at",
                at,
                "is not an RFC 3339 time such as 2026-11-27T10:00:00Z".to_owned(),
            )
        })?;
        observation.observed_at = Some(parsed);
    }
    Ok(observation)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn parse(json: &str) -> Result<SensorBatch, SensorJsonError> {
        parse_sensor_json(json.as_bytes(), &Limits::SENSOR_JSON)
    }

    /// A body with one observation made of `fields`.
    fn one(fields: &str) -> String {
        format!(
            r#"{{"sensor": "branch-01", "observations": [{{"ip": "10.0.0.9"}}, {{{fields}}}]}}"#
        )
    }

    #[test]
    fn a_full_observation_is_read() {
        let batch = parse(&one(
            r#""mac": "00-15-5d-a1-b2-c3", "ip": "fe80::1", "hostname": " desk-1 ",
               "dhcp_vendor_class": "MSFT 5.0", "dhcp_hostname": "DESK-1",
               "open_ports": [{"port": 445}, {"port": 161, "protocol": "UDP", "service": "snmp"},
                              {"port": 445, "protocol": "tcp"}],
               "observed_at": "2026-11-27T10:00:00Z""#,
        ))
        .unwrap();
        assert_eq!(batch.sensor, "branch-01");
        assert_eq!(batch.observations.len(), 2);
        let obs = &batch.observations[1];
        assert_eq!(obs.source, SourceKind::Sensor);
        assert_eq!(obs.mac.unwrap().to_string(), "00:15:5D:A1:B2:C3");
        assert_eq!(obs.ips, ["fe80::1".parse::<IpAddr>().unwrap()]);
        assert_eq!(obs.hostnames, ["desk-1"]);
        assert_eq!(obs.dhcp_vendor_class.as_deref(), Some("MSFT 5.0"));
        assert_eq!(obs.dhcp_hostname.as_deref(), Some("DESK-1"));
        let ports: Vec<_> = obs.open_ports.iter().map(ToString::to_string).collect();
        assert_eq!(ports, ["445/tcp", "161/udp"]);
        assert_eq!(obs.observed_at, Some(datetime!(2026-11-27 10:00 UTC)));
    }

    #[test]
    fn bad_fields_name_the_observation_and_field() {
        let cases = [
            (
                one(r#""mac": "zz:15:5d:a1:b2:c3""#),
                "observation #2: field 'mac' 'zz:15:5d:a1:b2:c3' is not a MAC address",
            ),
            (
                one(r#""mac": "ff:ff:ff:ff:ff:ff""#),
                "field 'mac' 'ff:ff:ff:ff:ff:ff' is the broadcast address",
            ),
            (
                one(r#""ip": "10.0.0.256""#),
                "observation #2: field 'ip' '10.0.0.256' is not an IPv4 or IPv6",
            ),
            (
                one(r#""hostname": "desk-1""#),
                "observation #2 has neither 'mac' nor 'ip'",
            ),
            (
                one(r#""ip": "10.0.0.1", "hostname": "a\u0000b""#),
                "field 'hostname' 'a\\u{0}b' contains control",
            ),
            (
                one(r#""ip": "10.0.0.1", "dhcp_vendor_class": "  ""#),
                "field 'dhcp_vendor_class' '  ' is empty",
            ),
            (
                one(r#""ip": "10.0.0.1", "open_ports": [{"port": 0}]"#),
                "field 'open_ports.port' '0'",
            ),
            (
                one(r#""ip": "10.0.0.1", "open_ports": [{"port": 1, "protocol": "icmp"}]"#),
                "'icmp' is not tcp",
            ),
            (
                one(r#""ip": "10.0.0.1", "observed_at": "yesterday""#),
                "field 'observed_at' 'yesterday'",
            ),
            (
                one(r#""ip": "10.0.0.1", "macaddress": "x""#),
                "unknown field `macaddress`",
            ),
            (
                one(r#""ip": "10.0.0.1", "open_ports": [{"port": 70000}]"#),
                "expected u16 at line 1 column 109",
            ),
            (
                r#"{"sensor": " ", "observations": []}"#.to_owned(),
                "field 'sensor' ' ' is empty",
            ),
            (
                r#"{"observations": []}"#.to_owned(),
                "missing field `sensor`",
            ),
            (
                r#"{"sensor": "x", "observations": [}"#.to_owned(),
                "not a valid sensor report",
            ),
            (
                "<nmaprun/>".to_owned(),
                "not a valid sensor report: expected value at line 1 column 1",
            ),
        ];
        for (json, want) in cases {
            let err = parse(&json).expect_err(&json).to_string();
            assert!(err.contains(want), "{json}: {err:?} lacks {want:?}");
        }
    }

    #[test]
    fn encodings_and_limits_are_enforced() {
        let utf16: Vec<u8> = one(r#""ip": "10.0.0.1""#)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let err = parse_sensor_json(&utf16, &Limits::SENSOR_JSON)
            .unwrap_err()
            .to_string();
        assert!(err.contains("UTF-16"), "{err}");
        let latin1 = b"{\"sensor\": \"caf\xe9\", \"observations\": []}";
        let err = parse_sensor_json(latin1, &Limits::SENSOR_JSON)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not valid UTF-8 at line 1, column 16"),
            "{err}"
        );

        let body = one(r#""ip": "10.0.0.1""#);
        let tight = Limits {
            max_records: 1,
            ..Limits::SENSOR_JSON
        };
        let err = parse_sensor_json(body.as_bytes(), &tight).unwrap_err();
        assert_eq!(err, SensorJsonError::TooManyObservations { limit: 1 });
        let tight = Limits {
            max_bytes: 10,
            ..Limits::SENSOR_JSON
        };
        let err = parse_sensor_json(body.as_bytes(), &tight)
            .unwrap_err()
            .to_string();
        assert!(err.contains("over the limit of 10 bytes"), "{err}");
        let long = format!(r#""ip": "10.0.0.1", "hostname": "{}""#, "a".repeat(300));
        let err = parse(&one(&long)).unwrap_err().to_string();
        assert!(
            err.contains("is 300 bytes long, over the limit of 255"),
            "{err}"
        );
    }
}
