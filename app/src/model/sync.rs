//! Live sync progress, streamed to the browser as server-sent events.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub running: bool,
    /// What the run is doing: "starting", "machines", "vulnerabilities",
    /// "machine vulnerabilities", "software", "alerts", "machine actions", "applying", "re-modelling",
    /// "finished".
    pub phase: String,
    pub machines: u64,
    pub vulnerabilities: u64,
    pub machine_vulnerabilities: u64,
    pub alerts: u64,
    #[serde(default)]
    pub machine_actions: u64,
    /// Software products whose Defender facts were asked for.
    #[serde(default)]
    pub software: u64,
    /// API pages fetched so far in this run.
    pub pages: u64,
    /// Items the current phase has handled so far.
    pub done: u64,
    /// Items the current phase expects in all, when known (machines, endpoints to re-model).
    pub total: Option<u64>,
    /// Share of the current phase done, when its total is known.
    pub percent: Option<u8>,
    pub started_at: Option<String>,
    /// How the last finished run ended.
    pub last_outcome: Option<String>,
}

impl SyncProgress {
    /// Starts a phase: its own count starts again, with the expected total when known.
    pub fn begin(&mut self, phase: &str, total: Option<u64>) {
        self.phase = phase.to_owned();
        self.done = 0;
        self.total = total;
        self.percent = total.map(|_| 0);
    }

    /// Records how far the current phase got.
    pub fn advance_to(&mut self, done: u64) {
        self.done = done;
        self.percent = self
            .total
            .map(|total| (done.saturating_mul(100) / total.max(1)).min(100) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_follows_the_phase_total_and_never_passes_100() {
        let mut p = SyncProgress::default();
        p.begin("machines", Some(40));
        assert_eq!(p.percent, Some(0));
        p.advance_to(10);
        assert_eq!((p.done, p.percent), (10, Some(25)));
        // A listing can outgrow the count taken before it (machines onboarded meanwhile).
        p.advance_to(45);
        assert_eq!(p.percent, Some(100));
        p.begin("alerts", None);
        p.advance_to(7);
        assert_eq!((p.done, p.total, p.percent), (7, None, None));
        p.begin("machines", Some(0));
        p.advance_to(3);
        assert_eq!(p.percent, Some(100));
    }
}
