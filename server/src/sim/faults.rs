//! Fault switches (what the test-suite turns on) and their one-shot consumption.
//!
//! Counters such as `throttle_next` are decremented as they fire, so `GET /_sim/faults`
//! always shows what is still armed. Modes are listed in defender-api.md §11 (italics).

use serde::{Deserialize, Serialize};

/// Forced outcome for machine actions created while the fault is set (§6, §11.23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForcedOutcome {
    Succeeded,
    Failed,
    TimeOut,
    /// The action reaches InProgress and stays there.
    NeverTerminal,
}

/// Every injectable fault. `Default` = no fault. JSON field names are the Rust names
/// (snake_case), e.g. `{"throttle_next":3,"throttle_retry_after_secs":2}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// The next K API calls get 429 TooManyRequests regardless of the real rate (§11.14).
    pub throttle_next: u32,
    /// `Retry-After` seconds sent with those 429s; `None` = no header at all.
    pub throttle_retry_after_secs: Option<u64>,
    /// The next K API calls fail with `server_error_status` (§11.15).
    pub server_error_next: u32,
    /// 500 (InternalServerError, the default when 0) or 503 (ServiceUnavailable).
    pub server_error_status: u16,
    /// Every API and token response is delayed by this many milliseconds.
    pub delay_ms: u64,
    /// The next K successful API responses have their JSON body cut in half.
    pub truncate_next: u32,
    /// Tokens issued so far are treated as expired after this many more collection pages
    /// (§11.5 mid-sync expiry). Cleared when it fires; new tokens work again.
    pub expire_tokens_after_pages: Option<u32>,
    /// `@odata.nextLink` points back at the page just served.
    pub next_link_loop: bool,
    /// The reported bug (§3.4): `$` dropped from query option names and a nextLink that
    /// never ends, even past the last item.
    pub malformed_next_link: bool,
    /// Pages carry half the server page size but still a nextLink while items remain.
    pub short_pages: bool,
    /// The page whose `$skip` is `n * page_size` is served once as an empty `value` with a
    /// nextLink back to the same offset. Cleared when it fires.
    pub empty_page_at: Option<usize>,
    /// The last item of each page is repeated as the first item of the next (§3.4, §11.10).
    pub unstable_paging: bool,
    /// Outcome forced on machine actions created while set.
    pub action_outcome: Option<ForcedOutcome>,
    /// A duplicate action returns the existing non-terminal action with 201 instead of
    /// 400 ActiveRequestAlreadyExists (§11.24 alternate mode).
    pub duplicate_action_returns_existing: bool,
    /// Advanced hunting answers 400 "exceeded the allowed result size" (§4.14).
    pub hunting_result_too_large: bool,
    /// The next K advanced-hunting calls get the CPU-quota 429 (§3.7).
    pub hunting_cpu_quota_next: u32,
    /// The next K per-machine GETs answer 404 although the machine exists (§9.11).
    pub spurious_not_found_next: u32,
}

/// Decrements a one-shot counter; true when it fired.
pub fn take(counter: &mut u32) -> bool {
    if *counter > 0 {
        *counter -= 1;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_fire_k_times() {
        let mut n = 2;
        assert!(take(&mut n));
        assert!(take(&mut n));
        assert!(!take(&mut n));
    }

    #[test]
    fn partial_json_uses_defaults() {
        let f: Faults = serde_json::from_str(r#"{"throttle_next":3}"#).unwrap();
        assert_eq!(f.throttle_next, 3);
        assert!(!f.short_pages);
        let back: Faults = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(back, f);
    }
}
