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
    /// The newest full re-model once it has ended, so the page says how it went (also to a
    /// browser without JavaScript, whose form post comes back to the page).
    #[serde(default)]
    pub last: Option<RemodelEnded>,
}

/// A full re-model that ended, as Configuration > Profiles reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemodelEnded {
    pub finished_at: Option<String>,
    /// Endpoints re-modelled, and of those whose profile or risk changed.
    pub endpoints: u64,
    pub changed: u64,
    pub elapsed_ms: u64,
    /// Why it failed or was interrupted; `None` when it finished.
    pub error: Option<String>,
}

/// A stored match level as the product names it: `VeryHigh` reads "Very High".
pub fn match_level_label(level: &str) -> &str {
    match level {
        "VeryHigh" => "Very High",
        other => other,
    }
}

#[cfg(test)]
mod match_level_tests {
    use super::match_level_label;

    #[test]
    fn very_high_reads_as_two_words() {
        assert_eq!(match_level_label("VeryHigh"), "Very High");
        assert_eq!(match_level_label("High"), "High");
        assert_eq!(match_level_label("Low"), "Low");
    }
}
