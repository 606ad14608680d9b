//! Slows password guessing: sign-in attempts are counted per account and per client address in
//! a sliding window; past the limit, further attempts are refused until the window moves on.
//!
//! An attempt is counted when it is *admitted*, before its password is hashed, and in the same
//! lock as the check: thirty simultaneous guesses at one account see each other, so only as
//! many as the limit allows are ever judged. An admitted attempt that turns out right is taken
//! back out; one that was never judged (no free hashing slot) is withdrawn.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct ThrottleLimits {
    pub window: Duration,
    /// Failures per account within the window; low, because a targeted guess is the threat.
    pub per_account: usize,
    /// Failures per client address within the window; higher, as NAT puts many users behind one.
    pub per_address: usize,
    /// Password checks hashing at once, for everyone together: each argon2 hash holds about
    /// 19 MiB and a core, so an anonymous burst must not start hundreds of them.
    pub concurrent_checks: usize,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_account: 5,
            per_address: 20,
            concurrent_checks: 4,
        }
    }
}

/// Above this many tracked keys, stale ones are swept so the map cannot grow without bound.
const SWEEP_ABOVE: usize = 10_000;

struct Failures<K> {
    by_key: HashMap<K, VecDeque<Instant>>,
}

impl<K> Default for Failures<K> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Clone> Failures<K> {
    /// Seconds until `key` may try again, if it is at `limit`.
    fn blocked_for(
        &mut self,
        key: &K,
        limit: usize,
        window: Duration,
        now: Instant,
    ) -> Option<u64> {
        let times = self.by_key.get_mut(key)?;
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() < limit {
            return None;
        }
        let oldest = *times.front()?;
        let wait = window.saturating_sub(now.duration_since(oldest));
        Some(wait.as_secs().max(1))
    }

    fn record(&mut self, key: K, window: Duration, now: Instant) {
        if self.by_key.len() > SWEEP_ABOVE {
            self.by_key.retain(|_, t| {
                t.back()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
        self.by_key.entry(key).or_default().push_back(now);
    }

    /// Takes one attempt made at `at` back out (the newest such, as it was the last added).
    fn forget(&mut self, key: &K, at: Instant) {
        if let Some(times) = self.by_key.get_mut(key) {
            if let Some(i) = times.iter().rposition(|t| *t == at) {
                times.remove(i);
            }
        }
    }
}

#[derive(Default)]
struct Counts {
    accounts: Failures<String>,
    addresses: Failures<IpAddr>,
}

pub struct LoginThrottle {
    limits: ThrottleLimits,
    counts: Mutex<Counts>,
}

/// An attempt the throttle let through; it counts as a failure until the caller says otherwise.
#[must_use = "an admitted attempt is settled with succeeded() or withdrawn(), or stays a failure"]
#[derive(Debug)]
pub struct Admitted {
    account: String,
    client: IpAddr,
    at: Instant,
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            counts: Mutex::default(),
        }
    }

    pub fn limits(&self) -> &ThrottleLimits {
        &self.limits
    }

    /// Checks both limits and counts the attempt in one step; `Err(seconds)` when this attempt
    /// must be refused without checking the password.
    pub fn admit(&self, username: &str, client: IpAddr) -> Result<Admitted, u64> {
        let now = Instant::now();
        let l = &self.limits;
        let account = username.to_lowercase();
        let mut counts = self.counts.lock().expect("throttle lock");
        let blocked = counts
            .accounts
            .blocked_for(&account, l.per_account, l.window, now)
            .max(
                counts
                    .addresses
                    .blocked_for(&client, l.per_address, l.window, now),
            );
        if let Some(wait) = blocked {
            return Err(wait);
        }
        counts.accounts.record(account.clone(), l.window, now);
        counts.addresses.record(client, l.window, now);
        Ok(Admitted {
            account,
            client,
            at: now,
        })
    }

    /// A right password clears the account's failures and takes this attempt off the address
    /// (not the address's other failures: one good password must not reset a spray).
    pub fn succeeded(&self, attempt: Admitted) {
        let mut counts = self.counts.lock().expect("throttle lock");
        counts.accounts.by_key.remove(&attempt.account);
        counts.addresses.forget(&attempt.client, attempt.at);
    }

    /// The attempt was refused before its password was judged, so it counts nowhere.
    pub fn withdrawn(&self, attempt: Admitted) {
        let mut counts = self.counts.lock().expect("throttle lock");
        counts.accounts.forget(&attempt.account, attempt.at);
        counts.addresses.forget(&attempt.client, attempt.at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    /// Admits one attempt and leaves it counted as a failure.
    fn fail(t: &LoginThrottle, user: &str, client: IpAddr) {
        let _failed = t.admit(user, client).expect("admitted");
    }

    #[test]
    fn an_account_is_blocked_after_its_limit_from_any_address() {
        let t = LoginThrottle::new(ThrottleLimits {
            per_account: 3,
            ..Default::default()
        });
        for i in 0..3 {
            fail(&t, "admin", ip(i));
        }
        let wait = t.admit("ADMIN", ip(9)).expect_err("blocked");
        assert!(wait > 0 && wait <= 15 * 60);
        assert!(t.admit("other", ip(9)).is_ok());
    }

    #[test]
    fn attempts_in_flight_count_before_they_are_judged() {
        let t = LoginThrottle::new(ThrottleLimits {
            per_account: 5,
            ..Default::default()
        });
        // Thirty attempts arrive before any has been judged: five are let through.
        let results: Vec<_> = (0..30).map(|i| t.admit("admin", ip(i))).collect();
        let admitted: Vec<Admitted> = results.into_iter().filter_map(Result::ok).collect();
        assert_eq!(admitted.len(), 5);
        // One of them was right: its account starts afresh.
        let mut admitted = admitted.into_iter();
        t.succeeded(admitted.next().unwrap());
        assert!(t.admit("admin", ip(40)).is_ok());
    }

    #[test]
    fn a_withdrawn_attempt_counts_nowhere() {
        let t = LoginThrottle::new(ThrottleLimits {
            per_account: 1,
            per_address: 1,
            ..Default::default()
        });
        let attempt = t.admit("a", ip(1)).unwrap();
        assert!(t.admit("a", ip(2)).is_err());
        assert!(t.admit("b", ip(1)).is_err());
        t.withdrawn(attempt);
        assert!(t.admit("a", ip(1)).is_ok());
    }

    #[test]
    fn an_address_is_blocked_across_accounts() {
        let t = LoginThrottle::new(ThrottleLimits {
            per_address: 4,
            ..Default::default()
        });
        for i in 0..4 {
            fail(&t, &format!("user{i}"), ip(1));
        }
        assert!(t.admit("fresh", ip(1)).is_err());
        assert!(t.admit("fresh", ip(2)).is_ok());
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let limits = ThrottleLimits {
            per_account: 3,
            per_address: 3,
            ..Default::default()
        };
        let t = LoginThrottle::new(limits);
        fail(&t, "a", ip(1));
        fail(&t, "a", ip(1));
        let right = t.admit("a", ip(1)).unwrap();
        t.succeeded(right);
        // The account starts afresh; the address keeps its two failures.
        assert!(t.admit("a", ip(2)).is_ok());
        assert!(t.admit("c", ip(1)).is_ok());
        assert!(t.admit("d", ip(1)).is_err());
    }

    #[test]
    fn failures_expire_with_the_window() {
        let limits = ThrottleLimits {
            window: Duration::from_millis(30),
            per_account: 1,
            per_address: 9,
            ..Default::default()
        };
        let t = LoginThrottle::new(limits);
        fail(&t, "a", ip(1));
        assert!(t.admit("a", ip(1)).is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(t.admit("a", ip(1)).is_ok());
    }
}
