//! Retry delays: bounded exponential backoff with jitter, and capped `Retry-After`.

use std::time::Duration;

use http::HeaderMap;

/// Exponential backoff with "equal jitter": half of `min(max, base * 2^attempt)` fixed, the
/// other half random, so delays stay bounded yet clones do not retry in lockstep (§3.7).
/// `unit` is a random number in `[0, 1)`.
pub(crate) fn backoff_delay(attempt: u32, base: Duration, max: Duration, unit: f64) -> Duration {
    let exp = base
        .saturating_mul(2u32.saturating_pow(attempt.min(30)))
        .min(max);
    let half = exp / 2;
    half + half.mul_f64(unit.clamp(0.0, 1.0))
}

/// The wait after a 429: `Retry-After` seconds if present (else `fallback`), capped, plus up
/// to `jitter` (§3.7: retrying sooner only earns more 429s).
pub(crate) fn throttle_delay(
    retry_after: Option<Duration>,
    fallback: Duration,
    cap: Duration,
    jitter: Duration,
    unit: f64,
) -> Duration {
    retry_after.unwrap_or(fallback).min(cap) + jitter.mul_f64(unit.clamp(0.0, 1.0))
}

/// `Retry-After` in seconds (the form Defender sends, §3.7). HTTP dates are not used by the
/// API and fall back to the default wait.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    raw.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

pub(crate) fn unit_random() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_grows() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        for attempt in 0..40 {
            for unit in [0.0, 0.5, 0.999] {
                let d = backoff_delay(attempt, base, max, unit);
                let exp = base
                    .saturating_mul(2u32.saturating_pow(attempt.min(30)))
                    .min(max);
                assert!(d >= exp / 2 && d <= exp, "attempt {attempt}: {d:?}");
                assert!(d <= max);
            }
        }
        assert_eq!(backoff_delay(0, base, max, 0.0), Duration::from_millis(50));
        assert_eq!(backoff_delay(3, base, max, 1.0), Duration::from_millis(800));
        assert_eq!(backoff_delay(20, base, max, 1.0), max);
    }

    #[test]
    fn retry_after_is_honoured_capped_and_jittered() {
        let cap = Duration::from_secs(60);
        let jitter = Duration::from_secs(2);
        let fallback = Duration::from_secs(10);
        let d = throttle_delay(Some(Duration::from_secs(7)), fallback, cap, jitter, 0.5);
        assert_eq!(d, Duration::from_secs(8));
        let d = throttle_delay(Some(Duration::from_secs(3_600)), fallback, cap, jitter, 0.0);
        assert_eq!(d, cap);
        let d = throttle_delay(None, fallback, cap, jitter, 0.0);
        assert_eq!(d, fallback);
    }

    #[test]
    fn retry_after_header_parses_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(http::header::RETRY_AFTER, "12".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(12)));
        h.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
