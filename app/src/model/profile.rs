//! The profile set as Configuration > Profiles shows it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRow {
    pub name: String,
    /// `factory`, `custom` or `defender` (the dynamic `⇋ <OS>` profiles).
    pub origin: String,
    pub enabled: bool,
    pub risky_level: Option<String>,
    pub endpoints: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemodelSummary {
    pub endpoints: u64,
    pub dynamic_profiles: u64,
    pub elapsed_ms: u64,
}
