//! Sliding-window rate limits per (app, tenant, endpoint family) (defender-api.md §3.6, §3.7).
//!
//! Only admitted calls are recorded, so callers that ignore `Retry-After` keep getting 429
//! until the oldest admitted call leaves the window.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::config::RateLimits;

/// Endpoint families with separate budgets (§3.6 table rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    ListMachines,
    GetMachine,
    Alerts,
    MachineActions,
    SubmitAction,
    MachineVulnerabilities,
    Vulnerabilities,
    MachinesVulnerabilities,
    Software,
    Hunting,
    Export,
    /// The vulnerability change feed: its own budget, the export's size (§3.6).
    ExportChanges,
}

impl Bucket {
    /// (per minute, per hour) for this family.
    pub fn limits(self, l: &RateLimits) -> (u32, u32) {
        match self {
            Bucket::MachineVulnerabilities => (l.machine_vulnerabilities_per_minute, l.per_hour),
            Bucket::Hunting => (l.hunting_per_minute, l.per_hour),
            Bucket::Export | Bucket::ExportChanges => (l.export_per_minute, l.export_per_hour),
            _ => (l.per_minute, l.per_hour),
        }
    }
}

/// A refused call: the quota that was hit and when to come back.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub limit: u32,
    /// `00:01:00` or `01:00:00`, as printed in the real message (§3.7).
    pub window: &'static str,
    pub retry_after_secs: u64,
}

#[derive(Default)]
pub struct Throttle {
    calls: HashMap<(String, String, Bucket), VecDeque<Instant>>,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Throttle {
    pub fn admit(
        &mut self,
        app: &str,
        tenant: &str,
        bucket: Bucket,
        limits: &RateLimits,
        now: Instant,
    ) -> Result<(), Refusal> {
        let (per_min, per_hour) = bucket.limits(limits);
        let q = self
            .calls
            .entry((app.to_owned(), tenant.to_owned(), bucket))
            .or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= HOUR) {
            q.pop_front();
        }
        let in_minute = q
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < MINUTE)
            .count();
        let wait = |oldest: Instant, window: Duration| {
            let left = window.saturating_sub(now.duration_since(oldest));
            left.as_secs() + u64::from(left.subsec_nanos() > 0)
        };
        if in_minute >= per_min as usize {
            let oldest = q[q.len() - in_minute];
            return Err(Refusal {
                limit: per_min,
                window: "00:01:00",
                retry_after_secs: wait(oldest, MINUTE).max(1),
            });
        }
        if q.len() >= per_hour as usize {
            return Err(Refusal {
                limit: per_hour,
                window: "01:00:00",
                retry_after_secs: wait(q[0], HOUR).max(1),
            });
        }
        q.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_window_slides() {
        let limits = RateLimits {
            per_minute: 3,
            per_hour: 100,
            ..RateLimits::default()
        };
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(t
                .admit(
                    "a",
                    "t",
                    Bucket::Alerts,
                    &limits,
                    t0 + Duration::from_secs(i)
                )
                .is_ok());
        }
        let r = t
            .admit(
                "a",
                "t",
                Bucket::Alerts,
                &limits,
                t0 + Duration::from_secs(10),
            )
            .unwrap_err();
        assert_eq!((r.limit, r.window, r.retry_after_secs), (3, "00:01:00", 50));
        // Separate budgets per family, app and tenant.
        assert!(t.admit("a", "t", Bucket::GetMachine, &limits, t0).is_ok());
        assert!(t.admit("b", "t", Bucket::Alerts, &limits, t0).is_ok());
        assert!(t.admit("a", "t2", Bucket::Alerts, &limits, t0).is_ok());
        assert!(t
            .admit(
                "a",
                "t",
                Bucket::Alerts,
                &limits,
                t0 + Duration::from_secs(61)
            )
            .is_ok());
    }

    #[test]
    fn hour_window_and_family_limits() {
        let limits = RateLimits {
            per_hour: 2,
            machine_vulnerabilities_per_minute: 1,
            ..RateLimits::default()
        };
        let mut t = Throttle::default();
        let t0 = Instant::now();
        assert!(t
            .admit("a", "t", Bucket::MachineVulnerabilities, &limits, t0)
            .is_ok());
        assert_eq!(
            t.admit("a", "t", Bucket::MachineVulnerabilities, &limits, t0)
                .unwrap_err()
                .limit,
            1
        );
        assert!(t.admit("a", "t", Bucket::Alerts, &limits, t0).is_ok());
        assert!(t.admit("a", "t", Bucket::Alerts, &limits, t0).is_ok());
        let r = t
            .admit("a", "t", Bucket::Alerts, &limits, t0 + MINUTE * 2)
            .unwrap_err();
        assert_eq!((r.window, r.retry_after_secs), ("01:00:00", 3480));
    }
}
