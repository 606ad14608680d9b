//! The endpoint record the console keeps for each device, and how observations and Defender
//! facts fold into it. Pure data: storage is `db/`'s business.

mod defender_device;
mod endpoint;
mod key;
mod source;

pub use defender_device::DefenderDevice;
pub use endpoint::{DefenderOs, Endpoint};
pub use key::EndpointKey;
pub use source::{SourceKind, SourceSet};
