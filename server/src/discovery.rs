//! Local-network discovery sources: `nmap -oX` imports and sensor JSON bodies, both turned
//! into [`Observation`]s. Parsers are pure and all-or-nothing: they read the whole input,
//! check it against [`Limits`], and return either every observation or one error naming the
//! element at fault.

pub mod limits;
pub mod mac;
pub mod nmap_xml;
pub mod observation;
pub mod sensor_json;
pub mod text_guard;
mod xml_guard;

pub use limits::Limits;
pub use mac::{MacAddress, MacError};
pub use nmap_xml::{parse_nmap_xml, NmapScan, NmapXmlError};
pub use observation::{Observation, OpenPort, OsMatch, Protocol};
pub use sensor_json::{parse_sensor_json, SensorBatch, SensorJsonError};
pub use text_guard::{Location, TextError};
