//! Connection settings (tenant, app, secret, endpoints) and tunable client options.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use super::budget::BudgetLimits;
use super::cloud::Endpoints;
use super::resolver::HostOverrides;

/// Who the client signs in as and where. `Debug` never shows the secret.
#[derive(Clone)]
pub struct DefenderSettings {
    /// Tenant GUID or verified domain; never `common`/`organizations` (defender-api.md §2.1).
    pub tenant_id: String,
    /// Application (client) id of the app registration.
    pub client_id: String,
    /// The secret *value* (not the secret ID, §2.5). Exposed only when building the token form.
    pub client_secret: SecretString,
    pub endpoints: Endpoints,
}

impl DefenderSettings {
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        endpoints: Endpoints,
    ) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            endpoints,
        }
    }
}

impl fmt::Debug for DefenderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefenderSettings")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

/// Every delay, limit and cap of the client, so tests can run in milliseconds.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-request timeout (headers and body) for API and token calls.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after 5xx, timeouts, connection errors and undecodable bodies.
    pub max_retries: u32,
    /// Retries after 429.
    pub max_throttle_retries: u32,
    /// Exponential backoff: `base * 2^attempt`, capped at `backoff_max`, with jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Wait after a 429 without `Retry-After` (§3.7 suggests starting around 10 s).
    pub throttle_fallback: Duration,
    /// Upper bound on a honoured `Retry-After`.
    pub retry_after_cap: Duration,
    /// Random extra wait added to `Retry-After`, so clones do not retry in lockstep.
    pub retry_after_jitter: Duration,
    /// Refresh a token this long before it expires (§2.3, §10: five minutes); tokens living
    /// less than twice this are refreshed at half-life instead.
    pub token_refresh_margin: Duration,
    /// Most pages one pager fetches before it stops with a warning (§3.4, §9.2).
    pub page_cap: usize,
    /// Client-side call budget per endpoint family (§3.6).
    pub budget: BudgetLimits,
    /// Largest API answer read; a larger one is `DefenderError::ResponseTooLarge`. It must
    /// hold a full page: 10,000 machines or 8,000 vulnerability rows (§3.2).
    pub max_response_bytes: usize,
    /// Largest token-endpoint answer read (a token response is a few KiB).
    pub max_token_response_bytes: usize,
    /// Names resolved from this table instead of DNS (tests); refused addresses are dropped
    /// from it as from DNS answers.
    pub hosts: HostOverrides,
}

/// The default cap on API answers. The simulator's page of 10,000 machines is 12 MB and of
/// 10,000 machine-vulnerability rows 3 MB; real machines carry more fields and adapters, so
/// this leaves room many times over a real page while still bounding memory.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;
/// The default cap on token-endpoint answers.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 2 * 1024 * 1024;

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(15),
            max_retries: 4,
            max_throttle_retries: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            throttle_fallback: Duration::from_secs(10),
            retry_after_cap: Duration::from_secs(300),
            retry_after_jitter: Duration::from_secs(2),
            token_refresh_margin: Duration::from_secs(5 * 60),
            page_cap: 5_000,
            budget: BudgetLimits::documented(),
            max_response_bytes: MAX_RESPONSE_BYTES,
            max_token_response_bytes: MAX_TOKEN_RESPONSE_BYTES,
            hosts: HostOverrides::default(),
        }
    }
}

impl ClientOptions {
    /// Millisecond delays and a generous budget, for tests against the simulator.
    pub fn for_tests() -> Self {
        Self {
            request_timeout: Duration::from_millis(1_500),
            connect_timeout: Duration::from_millis(500),
            max_retries: 3,
            max_throttle_retries: 6,
            backoff_base: Duration::from_millis(5),
            backoff_max: Duration::from_millis(40),
            throttle_fallback: Duration::from_millis(10),
            retry_after_cap: Duration::from_millis(50),
            retry_after_jitter: Duration::from_millis(5),
            token_refresh_margin: Duration::from_secs(5 * 60),
            page_cap: 200,
            budget: BudgetLimits::unlimited(),
            max_response_bytes: MAX_RESPONSE_BYTES,
            max_token_response_bytes: MAX_TOKEN_RESPONSE_BYTES,
            hosts: HostOverrides::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::cloud::{Cloud, Endpoints};

    #[test]
    fn debug_never_shows_the_secret() {
        let s = DefenderSettings::new(
            "tenant",
            "client",
            "Sup3r~Secret.Value",
            Endpoints::for_cloud(Cloud::Commercial, None).unwrap(),
        );
        let text = format!("{s:?} {:?}", s.clone());
        assert!(!text.contains("Sup3r~Secret.Value"), "{text}");
        assert!(text.contains("REDACTED"));
    }
}
