//! Slows password guessing: failed logins are counted per account and per client address in
//! a sliding window; past the limit, further attempts are refused until the window moves on.

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
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_account: 5,
            per_address: 20,
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
    /// Seconds until `key` may try again, if it is over `limit`.
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
}

pub struct LoginThrottle {
    limits: ThrottleLimits,
    accounts: Mutex<Failures<String>>,
    addresses: Mutex<Failures<IpAddr>>,
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            accounts: Mutex::default(),
            addresses: Mutex::default(),
        }
    }

    /// `Some(seconds)` when this attempt must be refused without checking the password.
    pub fn check(&self, username: &str, client: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let l = &self.limits;
        let account = self.accounts.lock().expect("throttle lock").blocked_for(
            &username.to_lowercase(),
            l.per_account,
            l.window,
            now,
        );
        let address = self.addresses.lock().expect("throttle lock").blocked_for(
            &client,
            l.per_address,
            l.window,
            now,
        );
        account.max(address)
    }

    pub fn record_failure(&self, username: &str, client: IpAddr) {
        let now = Instant::now();
        self.accounts.lock().expect("throttle lock").record(
            username.to_lowercase(),
            self.limits.window,
            now,
        );
        self.addresses
            .lock()
            .expect("throttle lock")
            .record(client, self.limits.window, now);
    }

    /// A successful login clears the account's failures (not the address's: one good password
    /// must not reset a spray across many accounts).
    pub fn record_success(&self, username: &str) {
        self.accounts
            .lock()
            .expect("throttle lock")
            .by_key
            .remove(&username.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn an_account_is_blocked_after_its_limit_from_any_address() {
        let t = LoginThrottle::new(ThrottleLimits {
            per_account: 3,
            ..Default::default()
        });
        for i in 0..3 {
            assert_eq!(t.check("admin", ip(i)), None);
            t.record_failure("admin", ip(i));
        }
        let wait = t.check("ADMIN", ip(9)).expect("blocked");
        assert!(wait > 0 && wait <= 15 * 60);
        assert_eq!(t.check("other", ip(9)), None);
    }

    #[test]
    fn an_address_is_blocked_across_accounts() {
        let t = LoginThrottle::new(ThrottleLimits {
            per_address: 4,
            ..Default::default()
        });
        for i in 0..4 {
            t.record_failure(&format!("user{i}"), ip(1));
        }
        assert!(t.check("fresh", ip(1)).is_some());
        assert_eq!(t.check("fresh", ip(2)), None);
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let limits = ThrottleLimits {
            per_account: 2,
            per_address: 3,
            ..Default::default()
        };
        let t = LoginThrottle::new(limits);
        t.record_failure("a", ip(1));
        t.record_failure("a", ip(1));
        t.record_success("a");
        assert_eq!(t.check("a", ip(2)), None);
        t.record_failure("b", ip(1));
        assert!(t.check("c", ip(1)).is_some());
    }

    #[test]
    fn failures_expire_with_the_window() {
        let limits = ThrottleLimits {
            window: Duration::from_millis(30),
            per_account: 1,
            per_address: 9,
        };
        let t = LoginThrottle::new(limits);
        t.record_failure("a", ip(1));
        assert!(t.check("a", ip(1)).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(t.check("a", ip(1)), None);
    }
}
