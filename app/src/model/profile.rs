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

/// How far the full re-model got, for the bar on Configuration > Profiles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemodelStatus {
    pub running: bool,
    /// Endpoints assessed so far.
    pub processed: u64,
    /// Endpoints stored when the re-model started.
    pub total: u64,
}
