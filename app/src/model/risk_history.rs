//! An endpoint's risk over time, as the syncs recorded it (Microsoft keeps no history).

use serde::{Deserialize, Serialize};

use super::risk::RiskLevel;

/// The endpoint's risk from `recorded_at` until the next change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskChange {
    pub recorded_at: String,
    pub risk_level: RiskLevel,
    /// Distinct CVEs of its representative machine, by Defender's severity.
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

/// Endpoints at each level after the last sync of one UTC day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskTrendDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// In `RiskLevel::ALL` order, every level present.
    pub by_risk: Vec<(RiskLevel, u64)>,
}

impl RiskTrendDay {
    pub fn total(&self) -> u64 {
        self.by_risk.iter().map(|(_, n)| n).sum()
    }
}
