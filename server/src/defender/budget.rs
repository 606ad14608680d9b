//! Client-side call budget: sliding windows per endpoint family, shared by all clones of a
//! client, staying under the documented per-minute and per-hour limits (defender-api.md §3.6).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Endpoint families with separate quotas (§3.6). Limits apply per application + tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `/api/machines` and `/api/machines/{id}`: 100/min, 1,500/h.
    Machines,
    /// `/api/alerts`: 100/min, 1,500/h.
    Alerts,
    /// List / get machine actions: 100/min, 1,500/h.
    MachineActions,
    /// Isolate, release, AV scan, cancel: 100/min, 1,500/h.
    ActionSubmit,
    /// `/api/machines/{id}/vulnerabilities`: 50/min, 1,500/h.
    MachineVulnerabilities,
    /// `/api/vulnerabilities` and `machinesVulnerabilities`: undocumented.
    Vulnerabilities,
    /// `/api/advancedqueries/run`: 45/min, 1,500/h.
    AdvancedHunting,
    /// `/api/Software/...`: undocumented.
    Software,
    /// The vulnerability exports and their change feed: 30/min, 1,000/h.
    VulnerabilityExports,
}

/// One window: at most `max_calls` calls in any `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub max_calls: u32,
    pub period: Duration,
}

impl Window {
    pub const fn per_minute(max_calls: u32) -> Self {
        Self {
            max_calls,
            period: Duration::from_secs(60),
        }
    }
    pub const fn per_hour(max_calls: u32) -> Self {
        Self {
            max_calls,
            period: Duration::from_secs(3_600),
        }
    }
}

/// The windows of every family.
#[derive(Debug, Clone)]
pub struct BudgetLimits {
    pub by_family: HashMap<Family, Vec<Window>>,
}

impl BudgetLimits {
    /// A margin under the documented limits (§3.6, §3.7): 90/min of the 100/min families,
    /// 45/min of the 50/min per-machine vulnerabilities, 40/min of advanced hunting's 45, and
    /// 1,400/h of every 1,500/h, 27/min and 900/h of the exports' 30 and 1,000. Undocumented
    /// families get the common 90/min.
    pub fn documented() -> Self {
        use Family::*;
        let standard = vec![Window::per_minute(90), Window::per_hour(1_400)];
        let by_family = HashMap::from([
            (Machines, standard.clone()),
            (Alerts, standard.clone()),
            (MachineActions, standard.clone()),
            (ActionSubmit, standard.clone()),
            (
                MachineVulnerabilities,
                vec![Window::per_minute(45), Window::per_hour(1_400)],
            ),
            (Vulnerabilities, standard.clone()),
            (
                AdvancedHunting,
                vec![Window::per_minute(40), Window::per_hour(1_400)],
            ),
            (Software, standard),
            (
                VulnerabilityExports,
                vec![Window::per_minute(27), Window::per_hour(900)],
            ),
        ]);
        Self { by_family }
    }

    /// No client-side limit (tests that exercise the server's throttling).
    pub fn unlimited() -> Self {
        Self {
            by_family: HashMap::new(),
        }
    }

    /// Replaces one family's windows.
    pub fn with(mut self, family: Family, windows: Vec<Window>) -> Self {
        self.by_family.insert(family, windows);
        self
    }
}

/// Call logs per family. Cheap to lock: each critical section is a prune and a count.
#[derive(Debug)]
pub(crate) struct Budget {
    limits: BudgetLimits,
    logs: Mutex<HashMap<Family, VecDeque<Instant>>>,
}

impl Budget {
    pub(crate) fn new(limits: BudgetLimits) -> Self {
        Self {
            limits,
            logs: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a call of `family` fits every window, records it, and returns the time
    /// spent waiting.
    pub(crate) async fn acquire(&self, family: Family) -> Duration {
        let Some(windows) = self.limits.by_family.get(&family).filter(|w| !w.is_empty()) else {
            return Duration::ZERO;
        };
        let started = Instant::now();
        let mut slept = false;
        loop {
            let wait = {
                let mut logs = self
                    .logs
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let log = logs.entry(family).or_default();
                let now = Instant::now();
                match delay_needed(log, now, windows) {
                    None => {
                        log.push_back(now);
                        // Lock contention is not throttling: only report actual sleeps.
                        return if slept {
                            started.elapsed()
                        } else {
                            Duration::ZERO
                        };
                    }
                    Some(wait) => wait,
                }
            };
            tracing::debug!(?family, ?wait, "client-side budget exhausted; waiting");
            tokio::time::sleep(wait).await;
            slept = true;
        }
    }
}

/// How long until one more call fits every window, or `None` if it fits now. Prunes entries
/// older than the longest window. `log` is in call order.
pub(crate) fn delay_needed(
    log: &mut VecDeque<Instant>,
    now: Instant,
    windows: &[Window],
) -> Option<Duration> {
    let longest = windows.iter().map(|w| w.period).max().unwrap_or_default();
    while log
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= longest)
    {
        log.pop_front();
    }
    let mut wait = Duration::ZERO;
    for w in windows {
        if w.max_calls == 0 {
            continue;
        }
        let in_window = log
            .iter()
            .rev()
            .take_while(|t| now.saturating_duration_since(**t) < w.period)
            .count();
        if in_window >= w.max_calls as usize {
            // The call that must leave the window before another one fits.
            let oldest_blocking = log[log.len() - in_window + (in_window - w.max_calls as usize)];
            let free_at = oldest_blocking + w.period;
            wait = wait.max(free_at.saturating_duration_since(now));
        }
    }
    (!wait.is_zero()).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_arithmetic() {
        let t0 = Instant::now();
        let w = [Window {
            max_calls: 3,
            period: Duration::from_secs(60),
        }];
        let mut log = VecDeque::new();
        for i in 0..3 {
            assert_eq!(
                delay_needed(&mut log, t0 + Duration::from_secs(i), &w),
                None
            );
            log.push_back(t0 + Duration::from_secs(i));
        }
        // Fourth call at t0+10s must wait until the first leaves the window at t0+60s.
        assert_eq!(
            delay_needed(&mut log, t0 + Duration::from_secs(10), &w),
            Some(Duration::from_secs(50))
        );
        // At t0+60s the first call has left.
        assert_eq!(
            delay_needed(&mut log, t0 + Duration::from_secs(60), &w),
            None
        );
        assert_eq!(log.len(), 2, "pruned");
    }

    #[test]
    fn the_tighter_window_wins() {
        let t0 = Instant::now();
        let w = [
            Window {
                max_calls: 10,
                period: Duration::from_secs(60),
            },
            Window {
                max_calls: 2,
                period: Duration::from_secs(3_600),
            },
        ];
        let mut log = VecDeque::from([t0, t0 + Duration::from_secs(100)]);
        let wait = delay_needed(&mut log, t0 + Duration::from_secs(200), &w).unwrap();
        assert_eq!(wait, Duration::from_secs(3_400));
    }

    #[test]
    fn documented_limits_stay_under_the_service_limits() {
        let limits = BudgetLimits::documented();
        let per_min = |f| {
            limits.by_family[&f]
                .iter()
                .find(|w| w.period == Duration::from_secs(60))
                .unwrap()
                .max_calls
        };
        assert!(per_min(Family::Machines) <= 90);
        assert!(per_min(Family::MachineVulnerabilities) <= 45);
        assert!(per_min(Family::AdvancedHunting) <= 45);
        for windows in limits.by_family.values() {
            assert!(windows
                .iter()
                .any(|w| w.period == Duration::from_secs(3_600) && w.max_calls < 1_500));
        }
    }

    #[tokio::test]
    async fn acquire_waits_when_the_window_is_full() {
        let limits = BudgetLimits::unlimited().with(
            Family::Alerts,
            vec![Window {
                max_calls: 2,
                period: Duration::from_millis(80),
            }],
        );
        let budget = Budget::new(limits);
        assert_eq!(budget.acquire(Family::Alerts).await, Duration::ZERO);
        assert_eq!(budget.acquire(Family::Alerts).await, Duration::ZERO);
        let waited = budget.acquire(Family::Alerts).await;
        assert!(waited >= Duration::from_millis(60), "{waited:?}");
        // Other families are independent.
        assert_eq!(budget.acquire(Family::Machines).await, Duration::ZERO);
    }
}
