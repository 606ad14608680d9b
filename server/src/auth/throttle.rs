//! Slows password guessing: sign-in attempts are counted per account and per client address in
//! a sliding window; past the limit, further attempts are refused until the window moves on.
//! The counts live in the database (`login_attempt`), so every replica behind a load balancer
//! sees the same ones: spreading guesses over replicas buys nothing.
//!
//! An attempt is counted when it is *admitted*, before its password is hashed, in the same
//! statement as the check: thirty simultaneous guesses at one account see each other, so only
//! as many as the limit allows are ever judged. An admitted attempt that turns out right is
//! taken back out; one that was never judged (no free hashing slot) is withdrawn.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::db::login_attempt::Window;
use crate::db::DbError;
use crate::db::LoginAttemptStore;

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

/// Old attempts are swept on every this many admissions.
const SWEEP_EVERY: u64 = 256;

pub struct LoginThrottle {
    limits: ThrottleLimits,
    attempts: Arc<dyn LoginAttemptStore>,
    admitted: AtomicU64,
}

/// An attempt the throttle let through; it counts as a failure until the caller says otherwise.
#[must_use = "an admitted attempt is settled with succeeded() or withdrawn(), or stays a failure"]
#[derive(Debug)]
pub struct Admitted {
    id: i64,
    account: String,
}

/// Why an attempt was not let through.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("too many attempts; try again in {0} s")]
    Throttled(u64),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl LoginThrottle {
    pub fn new(attempts: Arc<dyn LoginAttemptStore>, limits: ThrottleLimits) -> Self {
        Self {
            limits,
            attempts,
            admitted: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> &ThrottleLimits {
        &self.limits
    }

    fn window(&self, now: i64) -> Window {
        let l = &self.limits;
        Window {
            since_ms: now - ms(l.window),
            per_account: i64::try_from(l.per_account).unwrap_or(i64::MAX),
            per_address: i64::try_from(l.per_address).unwrap_or(i64::MAX),
        }
    }

    /// Checks both limits and counts the attempt in one step; `Throttled(seconds)` when this
    /// attempt must be refused without checking the password.
    pub async fn admit(&self, username: &str, client: IpAddr) -> Result<Admitted, Refused> {
        let now = now_ms();
        let window = self.window(now);
        let account = username.to_lowercase();
        let address = client.to_string();
        if self
            .admitted
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            self.attempts.sweep(window.since_ms).await?;
        }
        if let Some(id) = self.attempts.admit(&account, &address, now, window).await? {
            return Ok(Admitted { id, account });
        }
        let oldest = self
            .attempts
            .oldest_blocking(&account, &address, window)
            .await?
            .unwrap_or(now);
        let wait_ms = (oldest + ms(self.limits.window) - now).max(0);
        Err(Refused::Throttled(
            u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1),
        ))
    }

    /// A right password clears the account's failures and takes this attempt off the address
    /// (not the address's other failures: one good password must not reset a spray).
    pub async fn succeeded(&self, attempt: Admitted) -> Result<(), DbError> {
        self.attempts.succeeded(attempt.id, &attempt.account).await
    }

    /// The attempt was refused before its password was judged, so it counts nowhere.
    pub async fn withdrawn(&self, attempt: Admitted) -> Result<(), DbError> {
        self.attempts.withdraw(attempt.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    /// A throttle on a fresh database file (kept alive by the returned directory).
    async fn throttle(limits: ThrottleLimits) -> (LoginThrottle, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = crate::db::open(&url).await.unwrap();
        (LoginThrottle::new(Arc::new(pool), limits), dir)
    }

    fn throttled(r: Result<Admitted, Refused>) -> u64 {
        match r {
            Err(Refused::Throttled(wait)) => wait,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Admits one attempt and leaves it counted as a failure.
    async fn fail(t: &LoginThrottle, user: &str, client: IpAddr) {
        let _failed = t.admit(user, client).await.expect("admitted");
    }

    #[tokio::test]
    async fn an_account_is_blocked_after_its_limit_from_any_address() {
        let (t, _dir) = throttle(ThrottleLimits {
            per_account: 3,
            ..Default::default()
        })
        .await;
        for i in 0..3 {
            fail(&t, "admin", ip(i)).await;
        }
        let wait = throttled(t.admit("ADMIN", ip(9)).await);
        assert!(wait > 0 && wait <= 15 * 60, "{wait}");
        assert!(t.admit("other", ip(9)).await.is_ok());
    }

    #[tokio::test]
    async fn attempts_in_flight_count_before_they_are_judged() {
        let (t, _dir) = throttle(ThrottleLimits {
            per_account: 5,
            ..Default::default()
        })
        .await;
        // Thirty attempts arrive at once, before any has been judged: five are let through.
        let results = futures::future::join_all((0..30).map(|i| t.admit("admin", ip(i)))).await;
        let admitted: Vec<Admitted> = results.into_iter().filter_map(Result::ok).collect();
        assert_eq!(admitted.len(), 5);
        // One of them was right: its account starts afresh.
        let mut admitted = admitted.into_iter();
        t.succeeded(admitted.next().unwrap()).await.unwrap();
        assert!(t.admit("admin", ip(40)).await.is_ok());
    }

    #[tokio::test]
    async fn two_replicas_share_the_counts() {
        let (a, dir) = throttle(ThrottleLimits {
            per_account: 4,
            ..Default::default()
        })
        .await;
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let b = LoginThrottle::new(
            Arc::new(crate::db::open(&url).await.unwrap()),
            a.limits().clone(),
        );
        fail(&a, "admin", ip(1)).await;
        fail(&b, "admin", ip(2)).await;
        fail(&a, "admin", ip(3)).await;
        fail(&b, "admin", ip(4)).await;
        throttled(a.admit("admin", ip(5)).await);
        throttled(b.admit("admin", ip(6)).await);
    }

    #[tokio::test]
    async fn a_withdrawn_attempt_counts_nowhere() {
        let (t, _dir) = throttle(ThrottleLimits {
            per_account: 1,
            per_address: 1,
            ..Default::default()
        })
        .await;
        let attempt = t.admit("a", ip(1)).await.unwrap();
        throttled(t.admit("a", ip(2)).await);
        throttled(t.admit("b", ip(1)).await);
        t.withdrawn(attempt).await.unwrap();
        assert!(t.admit("a", ip(1)).await.is_ok());
    }

    #[tokio::test]
    async fn an_address_is_blocked_across_accounts() {
        let (t, _dir) = throttle(ThrottleLimits {
            per_address: 4,
            ..Default::default()
        })
        .await;
        for i in 0..4 {
            fail(&t, &format!("user{i}"), ip(1)).await;
        }
        throttled(t.admit("fresh", ip(1)).await);
        assert!(t.admit("fresh", ip(2)).await.is_ok());
    }

    #[tokio::test]
    async fn success_clears_the_account_but_not_the_address() {
        let (t, _dir) = throttle(ThrottleLimits {
            per_account: 3,
            per_address: 3,
            ..Default::default()
        })
        .await;
        fail(&t, "a", ip(1)).await;
        fail(&t, "a", ip(1)).await;
        let right = t.admit("a", ip(1)).await.unwrap();
        t.succeeded(right).await.unwrap();
        // The account starts afresh; the address keeps its two failures.
        assert!(t.admit("a", ip(2)).await.is_ok());
        assert!(t.admit("c", ip(1)).await.is_ok());
        throttled(t.admit("d", ip(1)).await);
    }

    #[tokio::test]
    async fn failures_expire_with_the_window() {
        let (t, _dir) = throttle(ThrottleLimits {
            window: Duration::from_millis(300),
            per_account: 1,
            per_address: 9,
            ..Default::default()
        })
        .await;
        fail(&t, "a", ip(1)).await;
        assert_eq!(
            throttled(t.admit("a", ip(1)).await),
            1,
            "rounded up to a second"
        );
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(t.admit("a", ip(1)).await.is_ok());
    }
}
