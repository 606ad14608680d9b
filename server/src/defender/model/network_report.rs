//! Rows of the advanced-hunting tables the sync reads (defender-api.md §4.14): a network
//! adapter's report (`DeviceNetworkInfo`) and a device's identity report (`DeviceInfo`).
//!
//! Hunting answers untyped rows keyed by column name. The JSON-valued columns (`IPAddresses`,
//! `ConnectedNetworks`) are typed `String` in the schema and arrive as JSON text, or as JSON
//! itself on some rows, so both are read. A value that cannot be read makes the row an error
//! naming its column, so the caller can skip that one row and say why.

use std::net::IpAddr;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::discovery::mac::MacAddress;

/// One adapter in one report of a device's network configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterReport {
    pub timestamp: OffsetDateTime,
    pub device_id: String,
    pub adapter_name: String,
    pub adapter_type: Option<String>,
    pub status: Option<String>,
    /// `None` for adapters without one (loopback, tunnels) and for values no card owns.
    pub mac: Option<MacAddress>,
    pub addresses: Vec<AdapterAddress>,
    pub networks: Vec<ConnectedNetwork>,
}

/// An address assigned to an adapter, with its subnet prefix length.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdapterAddress {
    pub address: IpAddr,
    pub prefix: Option<u8>,
    /// Defender's address space: `Private`, `Public`, `LinkLocal`, ...
    pub space: Option<String>,
}

/// A network an adapter is connected to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnectedNetwork {
    pub name: String,
    /// `Domain`, `Private` or `Public`.
    pub category: Option<String>,
    pub internet: Option<bool>,
}

/// One report of a device's identity attributes; empty values are `None` (the table's rows
/// are sparse: a later row may leave out what an earlier one said).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReport {
    pub timestamp: OffsetDateTime,
    pub device_id: String,
    pub device_type: Option<String>,
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub os_architecture: Option<String>,
    pub join_type: Option<String>,
}

/// Why a row could not be read: the column and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The row's `DeviceId` when it has one.
    pub device_id: Option<String>,
    pub column: &'static str,
    pub reason: String,
}

type Row = Map<String, Value>;

fn error(row: &Row, column: &'static str, reason: impl Into<String>) -> RowError {
    RowError {
        device_id: row
            .get("DeviceId")
            .and_then(Value::as_str)
            .map(str::to_owned),
        column,
        reason: reason.into(),
    }
}

/// A text column: missing, null and empty are `None`; a number or boolean is its text.
fn text(row: &Row, column: &str) -> Option<String> {
    match row.get(column)? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn required(row: &Row, column: &'static str) -> Result<String, RowError> {
    text(row, column).ok_or_else(|| error(row, column, "missing"))
}

fn timestamp(row: &Row) -> Result<OffsetDateTime, RowError> {
    let raw = required(row, "Timestamp")?;
    OffsetDateTime::parse(&raw, &Rfc3339)
        .map_err(|e| error(row, "Timestamp", format!("not a time ({e})")))
}

/// A JSON-valued column, as JSON text or JSON; missing, null and empty text are `Null`.
fn dynamic(row: &Row, column: &'static str) -> Result<Value, RowError> {
    match row.get(column) {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Value::Null),
        Some(Value::String(s)) => {
            serde_json::from_str(s).map_err(|e| error(row, column, format!("not JSON ({e})")))
        }
        Some(v) => Ok(v.clone()),
    }
}

/// The elements of a JSON-valued array column (`Null` is none).
fn elements(row: &Row, column: &'static str) -> Result<Vec<Map<String, Value>>, RowError> {
    match dynamic(row, column)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(o) => Ok(o),
                other => Err(error(
                    row,
                    column,
                    format!("element {other} is not an object"),
                )),
            })
            .collect(),
        other => Err(error(row, column, format!("{other} is not an array"))),
    }
}

fn field<'a>(item: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    item.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

impl AdapterReport {
    /// Reads a `DeviceNetworkInfo` row.
    pub fn from_row(row: &Row) -> Result<Self, RowError> {
        let device_id = required(row, "DeviceId")?;
        let adapter_name = required(row, "NetworkAdapterName")?;
        let timestamp = timestamp(row)?;
        // A MAC no card owns (all zero on tunnels, a group address) identifies nothing: none.
        let mac = text(row, "MacAddress").and_then(|m| MacAddress::parse(&m).ok());
        let addresses = elements(row, "IPAddresses")?
            .iter()
            .map(|item| {
                let raw = field(item, "IPAddress")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let address = raw
                    .parse()
                    .map_err(|_| error(row, "IPAddresses", format!("'{raw}' is not an address")))?;
                let prefix = field(item, "SubnetPrefix").and_then(|p| match p {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                });
                let max = if matches!(address, IpAddr::V4(_)) {
                    32
                } else {
                    128
                };
                Ok(AdapterAddress {
                    address,
                    prefix: prefix.filter(|p| *p <= max).map(|p| p as u8),
                    space: field(item, "AddressType")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                })
            })
            .collect::<Result<_, _>>()?;
        let networks = elements(row, "ConnectedNetworks")?
            .iter()
            .filter_map(|item| {
                let name = field(item, "Name").and_then(Value::as_str)?.trim();
                (!name.is_empty()).then(|| ConnectedNetwork {
                    name: name.to_owned(),
                    category: field(item, "Category")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                    internet: field(item, "IsConnectedToInternet").and_then(Value::as_bool),
                })
            })
            .collect();
        Ok(Self {
            timestamp,
            device_id,
            adapter_name,
            adapter_type: text(row, "NetworkAdapterType"),
            status: text(row, "NetworkAdapterStatus"),
            mac,
            addresses,
            networks,
        })
    }
}

impl DeviceReport {
    /// Reads a `DeviceInfo` row.
    pub fn from_row(row: &Row) -> Result<Self, RowError> {
        Ok(Self {
            timestamp: timestamp(row)?,
            device_id: required(row, "DeviceId")?,
            device_type: text(row, "DeviceType"),
            model: text(row, "Model"),
            vendor: text(row, "Vendor"),
            os_architecture: text(row, "OSArchitecture"),
            join_type: text(row, "JoinType"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Row {
        match v {
            Value::Object(o) => o,
            _ => unreachable!(),
        }
    }

    #[test]
    fn an_adapter_row_reads_json_text_and_json_alike() {
        let as_text = row(json!({
            "Timestamp": "2026-01-04T10:12:00.1234567Z", "DeviceId": "ab12",
            "NetworkAdapterName": "Ethernet", "NetworkAdapterType": "Ethernet",
            "NetworkAdapterStatus": "Up", "MacAddress": "00-15-5D-0A-1B-2C",
            "IPAddresses": "[{\"IPAddress\":\"10.1.2.3\",\"SubnetPrefix\":24,\"AddressType\":\"Private\"}]",
            "ConnectedNetworks": "[{\"Name\":\"contoso.com\",\"Category\":\"Domain\",\"IsConnectedToInternet\":true}]",
        }));
        let mut as_json = as_text.clone();
        as_json.insert(
            "IPAddresses".into(),
            json!([{"IPAddress": "10.1.2.3", "SubnetPrefix": 24, "AddressType": "Private"}]),
        );
        let a = AdapterReport::from_row(&as_text).unwrap();
        assert_eq!(a, AdapterReport::from_row(&as_json).unwrap());
        assert_eq!(a.mac.unwrap().to_string(), "00:15:5D:0A:1B:2C");
        assert_eq!(a.addresses.len(), 1);
        assert_eq!(a.addresses[0].prefix, Some(24));
        assert_eq!(a.networks[0].name, "contoso.com");
        assert_eq!(a.networks[0].internet, Some(true));
    }

    #[test]
    fn a_bad_value_names_its_column_and_an_empty_mac_is_none() {
        let mut r = row(json!({
            "Timestamp": "2026-01-04T10:12:00Z", "DeviceId": "ab12",
            "NetworkAdapterName": "Loopback", "MacAddress": "",
            "IPAddresses": "[{\"IPAddress\":", "ConnectedNetworks": "[]",
        }));
        let e = AdapterReport::from_row(&r).unwrap_err();
        assert_eq!(
            (e.column, e.device_id.as_deref()),
            ("IPAddresses", Some("ab12"))
        );
        r.insert("IPAddresses".into(), json!("[]"));
        let a = AdapterReport::from_row(&r).unwrap();
        assert_eq!((a.mac, a.addresses.len()), (None, 0));
        r.insert("Timestamp".into(), json!("yesterday"));
        assert_eq!(AdapterReport::from_row(&r).unwrap_err().column, "Timestamp");
    }

    #[test]
    fn a_device_row_leaves_empty_values_out() {
        let d = DeviceReport::from_row(&row(json!({
            "Timestamp": "2026-01-04T10:12:00Z", "DeviceId": "ab12", "DeviceType": "Workstation",
            "Model": "", "Vendor": null, "OSArchitecture": "64-bit",
        })))
        .unwrap();
        assert_eq!(d.device_type.as_deref(), Some("Workstation"));
        assert_eq!((d.model, d.vendor, d.join_type), (None, None, None));
    }
}
