//! 429s mid-sync (defender-api.md §3.7): storms the client waits out, a storm that outlasts
//! its retries, and advanced hunting's own quota.

use server::sim::Faults;

use crate::harness::{in_listing, Fixture, MACHINE_LISTING};

/// Three 429s on the third machines page; the client honours Retry-After (capped in tests).
#[tokio::test]
async fn throttle_storm_with_retry_after() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        2,
        Faults {
            throttle_next: 3,
            throttle_retry_after_secs: Some(1),
            ..Faults::default()
        },
    ));
    let run = fx.sync_succeeds().await;
    assert_eq!(fx.faults().throttle_next, 0, "the storm hit the sync");
    // The admin sees the storm as extra calls and time spent throttled.
    assert_eq!(run["api_calls"], fx.clean_calls + 3, "{run:#}");
    assert!(run["throttle_wait_ms"].as_i64().unwrap() > 0, "{run:#}");
    assert_eq!(run["machines_unchanged"], fx.before.machines, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// The same storm without Retry-After: the client falls back to its own wait.
#[tokio::test]
async fn throttle_storm_without_retry_after() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        2,
        Faults {
            throttle_next: 3,
            throttle_retry_after_secs: None,
            ..Faults::default()
        },
    ));
    let run = fx.sync_succeeds().await;
    assert_eq!(fx.faults().throttle_next, 0);
    assert_eq!(run["api_calls"], fx.clean_calls + 3, "{run:#}");
    assert!(run["throttle_wait_ms"].as_i64().unwrap() > 0, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// A storm longer than the client's throttle retries: the run fails and says the API is
/// throttling; the previous data stays; the next run after the storm succeeds.
#[tokio::test]
async fn throttle_storm_outlasting_the_retries() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        2,
        Faults {
            throttle_next: 50,
            throttle_retry_after_secs: Some(30),
            ..Faults::default()
        },
    ));
    let run = fx.sync_fails_visibly(&["machines", "throttling"]).await;
    assert!(run["throttle_wait_ms"].as_i64().unwrap() > 0, "{run:#}");
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Advanced hunting's CPU-quota 429 (§3.7, §4.14) on the network facts' first query is
/// waited out like any 429: one call more, the wait counted, the run whole, nothing lost.
#[tokio::test]
async fn advanced_hunting_quota_429() {
    let fx = Fixture::synced().await;
    fx.inject(Faults {
        hunting_cpu_quota_next: 1,
        ..Faults::default()
    });
    let run = fx.sync_succeeds().await;
    assert_eq!(fx.faults().hunting_cpu_quota_next, 0, "the 429 was served");
    assert_eq!(run["api_calls"], fx.clean_calls + 1, "{run:#}");
    assert!(run["throttle_wait_ms"].as_i64().unwrap() > 0, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}
