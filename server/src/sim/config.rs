//! Simulator configuration: data size, paging, token lifetime, apps, limits, timings, faults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::faults::Faults;

/// Fixed demo tenant so a demo console config can point at the simulator unchanged.
pub const DEMO_TENANT_ID: &str = "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5";
pub const DEMO_TENANT_DOMAIN: &str = "contoso-sim.onmicrosoft.com";
pub const DEMO_CLIENT_ID: &str = "0c6b8f2e-5d4a-4b3c-9e1f-a2b3c4d5e6f7";
pub const DEMO_CLIENT_SECRET: &str = "sim~DemoSecretValue.0123456789abcdefghij";

/// Application permissions the product uses (defender-api.md §2.4).
pub const PRODUCT_ROLES: &[&str] = &[
    "Machine.Read.All",
    "Alert.Read.All",
    "Vulnerability.Read.All",
    "Software.Read.All",
    "AdvancedQuery.Read.All",
    "Machine.Isolate",
    "Machine.Scan",
];

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub machines: usize,
    /// Server page size when no `$top` is given (real service: 10,000, §3.4).
    pub page_size: usize,
    pub token_lifetime: Duration,
    pub apps: Vec<SimApp>,
    pub rate_limits: RateLimits,
    pub action_timings: ActionTimings,
    pub faults: Faults,
    /// `computerDnsName`s served instead of the generated ones, by machine position (a stale
    /// duplicate shares its live twin's; a clone shares its template's unless its own position
    /// is named too), so tests can feed the console hostile names.
    pub machine_names: Vec<(usize, String)>,
    /// Advanced hunting's result-row cap (real: 100,000, §4.14).
    pub hunting_max_rows: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::demo()
    }
}

impl SimConfig {
    /// Demo values: ~200 machines, real page size and token lifetime (§2.2, §3.4).
    pub fn demo() -> Self {
        Self {
            seed: 42,
            machines: 200,
            page_size: 10_000,
            token_lifetime: Duration::from_secs(3599),
            apps: vec![SimApp::full_access(
                DEMO_TENANT_ID,
                Some(DEMO_TENANT_DOMAIN),
                DEMO_CLIENT_ID,
                DEMO_CLIENT_SECRET,
                "Endpoint Analytics (demo)",
            )],
            rate_limits: RateLimits::default(),
            action_timings: ActionTimings::default(),
            faults: Faults::default(),
            machine_names: Vec::new(),
            hunting_max_rows: super::hunting::MAX_ROWS,
        }
    }

    /// Small pages (5) and millisecond action timings so HTTP tests finish in seconds.
    pub fn for_tests(machines: usize) -> Self {
        Self {
            seed: 7,
            machines,
            page_size: 5,
            action_timings: ActionTimings::fast(),
            ..Self::demo()
        }
    }
}

/// The national cloud a tenant lives in (§1.1); it decides which Defender audience its
/// tokens may carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    #[default]
    Commercial,
    Gcc,
    GccHigh,
    Dod,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Commercial => "commercial",
            Cloud::Gcc => "gcc",
            Cloud::GccHigh => "gcc-high",
            Cloud::Dod => "dod",
        }
    }
}

/// An app registration the token endpoint accepts. `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimApp {
    /// The tenant's cloud; all apps of one tenant should agree (the first one decides).
    #[serde(default)]
    pub cloud: Cloud,
    pub tenant_id: String,
    pub tenant_domain: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    pub secret_expired: bool,
    pub display_name: String,
    /// `None` = no admin consent: the token carries no `roles` claim (§2.4).
    pub roles: Option<Vec<String>>,
}

impl std::fmt::Debug for SimApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimApp")
            .field("cloud", &self.cloud)
            .field("tenant_id", &self.tenant_id)
            .field("tenant_domain", &self.tenant_domain)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("secret_expired", &self.secret_expired)
            .field("display_name", &self.display_name)
            .field("roles", &self.roles)
            .finish()
    }
}

impl SimApp {
    /// A commercial-cloud app granted every role the product uses (§2.4).
    pub fn full_access(
        tenant_id: &str,
        tenant_domain: Option<&str>,
        client_id: &str,
        client_secret: &str,
        display_name: &str,
    ) -> Self {
        Self {
            cloud: Cloud::Commercial,
            tenant_id: tenant_id.to_owned(),
            tenant_domain: tenant_domain.map(str::to_owned),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            secret_expired: false,
            display_name: display_name.to_owned(),
            roles: Some(PRODUCT_ROLES.iter().map(|r| (*r).to_owned()).collect()),
        }
    }

    /// Same app in a tenant of another cloud, e.g.
    /// `SimApp::full_access(..).in_cloud(Cloud::GccHigh)`.
    pub fn in_cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = cloud;
        self
    }

    /// Same app with other roles (`None` = no consent).
    pub fn with_roles(mut self, roles: Option<&[&str]>) -> Self {
        self.roles = roles.map(|r| r.iter().map(|s| (*s).to_owned()).collect());
        self
    }
}

/// Per (app, tenant, endpoint family) quotas; defaults from defender-api.md §3.6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    pub per_minute: u32,
    pub per_hour: u32,
    /// `/api/machines/{id}/vulnerabilities` is tighter (§3.6: 50/min).
    pub machine_vulnerabilities_per_minute: u32,
    /// Advanced hunting (§3.6, §4.14: 45/min, 1,500/h).
    pub hunting_per_minute: u32,
    /// `SoftwareVulnerabilitiesByMachine` export (§3.6: 30/min, 1,000/h).
    pub export_per_minute: u32,
    pub export_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_minute: 100,
            per_hour: 1500,
            machine_vulnerabilities_per_minute: 50,
            hunting_per_minute: 45,
            export_per_minute: 30,
            export_per_hour: 1000,
        }
    }
}

/// How long actions take to move through their lifecycle (§6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionTimings {
    /// Pending -> InProgress on a reachable device.
    pub pickup: Duration,
    /// InProgress -> terminal.
    pub complete: Duration,
    /// Pending -> TimeOut when nobody picks the action up (device Inactive, `StaysPending`):
    /// 3 days in reality (§4.6).
    pub pending_timeout: Duration,
}

impl Default for ActionTimings {
    fn default() -> Self {
        Self {
            pickup: Duration::from_secs(20),
            complete: Duration::from_secs(60),
            // The service retries an unreachable device for 3 days (§4.6).
            pending_timeout: Duration::from_secs(3 * 86_400),
        }
    }
}

impl ActionTimings {
    pub fn fast() -> Self {
        Self {
            pickup: Duration::from_millis(200),
            complete: Duration::from_millis(400),
            pending_timeout: Duration::from_millis(1000),
        }
    }
}
