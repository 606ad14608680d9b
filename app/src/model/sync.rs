//! Live sync progress, streamed to the browser as server-sent events.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub running: bool,
    /// What the run is doing: "machines", "vulnerabilities", "alerts", "writing", ...
    pub phase: String,
    pub machines: u64,
    pub vulnerabilities: u64,
    pub alerts: u64,
    /// Share done, when the total is known.
    pub percent: Option<u8>,
    pub started_at: Option<String>,
    /// How the last finished run ended.
    pub last_outcome: Option<String>,
}
