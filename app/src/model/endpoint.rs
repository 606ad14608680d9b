//! Endpoints as the list, the summary and the dashboard show them.

use serde::{Deserialize, Serialize};

use super::risk::{DefenderRisk, EndpointRisk, RiskLevel};

/// Which column the list is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    Risk,
    Mac,
    Ip,
    Hostname,
    Vendor,
    Profile,
    Os,
    LastSeen,
}

impl SortKey {
    pub const ALL: [SortKey; 8] = [
        Self::Risk,
        Self::Mac,
        Self::Ip,
        Self::Hostname,
        Self::Vendor,
        Self::Profile,
        Self::Os,
        Self::LastSeen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Risk => "risk",
            Self::Mac => "mac",
            Self::Ip => "ip",
            Self::Hostname => "hostname",
            Self::Vendor => "vendor",
            Self::Profile => "profile",
            Self::Os => "os",
            Self::LastSeen => "last_seen",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// Filters, sort and page of the endpoint list; also the URL's query string, so a view can be
/// shared and reloaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointQuery {
    /// Text search over MAC, IP and hostname.
    pub q: String,
    /// Risk level name, empty for any.
    pub risk: String,
    /// Profile name, empty for any.
    pub profile: String,
    /// `network`, `defender`, `both`, `defender_only` (known to Defender, never seen on the
    /// network), or empty for any.
    pub source: String,
    /// Defender onboarding status (`Onboarded`, `CanBeOnboarded`, ...), `none` for endpoints not
    /// in Defender, or empty for any.
    pub onboarding: String,
    /// Defender device group name (of the machine that represents the endpoint), empty for any.
    /// Optional in requests, as it came after the others.
    #[serde(default)]
    pub group: String,
    /// Defender machine tag, any case; empty for any.
    #[serde(default)]
    pub tag: String,
    pub sort: String,
    /// `asc` or `desc`.
    pub dir: String,
    pub page: u32,
    pub page_size: u32,
}

impl Default for EndpointQuery {
    fn default() -> Self {
        Self {
            q: String::new(),
            risk: String::new(),
            profile: String::new(),
            source: String::new(),
            onboarding: String::new(),
            group: String::new(),
            tag: String::new(),
            sort: SortKey::Risk.as_str().into(),
            dir: "desc".into(),
            page: 1,
            page_size: 50,
        }
    }
}

pub const MAX_PAGE_SIZE: u32 = 500;

impl EndpointQuery {
    /// Bounds every field, so any URL gives a valid query.
    pub fn normalised(mut self) -> Self {
        self.q = self.q.trim().chars().take(200).collect();
        if RiskLevel::parse(&self.risk).is_none() {
            self.risk.clear();
        }
        if !matches!(
            self.source.as_str(),
            "network" | "defender" | "both" | "defender_only"
        ) {
            self.source.clear();
        }
        self.profile = self.profile.chars().take(200).collect();
        self.onboarding = self.onboarding.chars().take(40).collect();
        self.group = self.group.chars().take(200).collect();
        self.tag = self.tag.trim().chars().take(200).collect();
        if SortKey::parse(&self.sort).is_none() {
            self.sort = SortKey::Risk.as_str().into();
        }
        if self.dir != "asc" {
            self.dir = "desc".into();
        }
        self.page = self.page.max(1);
        self.page_size = self.page_size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The query string for a URL (only non-default fields).
    pub fn to_query_string(&self) -> String {
        let d = Self::default();
        let mut parts = Vec::new();
        let mut add = |k: &str, v: &str, default: &str| {
            if v != default {
                parts.push(format!("{k}={}", encode(v)));
            }
        };
        add("q", &self.q, &d.q);
        add("risk", &self.risk, &d.risk);
        add("profile", &self.profile, &d.profile);
        add("source", &self.source, &d.source);
        add("onboarding", &self.onboarding, &d.onboarding);
        add("group", &self.group, &d.group);
        add("tag", &self.tag, &d.tag);
        add("sort", &self.sort, &d.sort);
        add("dir", &self.dir, &d.dir);
        add("page", &self.page.to_string(), &d.page.to_string());
        add(
            "page_size",
            &self.page_size.to_string(),
            &d.page_size.to_string(),
        );
        parts.join("&")
    }
}

pub(crate) fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One row of the endpoint list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointRow {
    pub id: i64,
    pub risk_level: RiskLevel,
    pub mac: Option<String>,
    pub ip: Option<String>,
    pub hostname: Option<String>,
    pub mac_vendor: Option<String>,
    pub profile_name: Option<String>,
    pub match_level: Option<String>,
    pub os: Option<String>,
    pub source_network: bool,
    pub source_defender: bool,
    pub onboarding_status: Option<String>,
    pub last_seen: String,
    pub inactive: bool,
    /// Defender device group of the machine that represents the endpoint; `None` when Defender
    /// does not know it.
    pub device_group: Option<String>,
    /// That machine's Defender tags.
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointPage {
    pub rows: Vec<EndpointRow>,
    pub total: u64,
    pub query: EndpointQuery,
    /// Values for the filter drop-downs.
    pub profiles: Vec<String>,
    pub onboarding_states: Vec<String>,
    pub device_groups: Vec<String>,
    pub tags: Vec<String>,
}

/// A runner-up profile and the rules that matched it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileConsidered {
    pub name: String,
    pub level: String,
    #[serde(default)]
    pub rules: Vec<String>,
}

/// Why a Defender machine was joined to this endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeEvidence {
    pub machine_id: String,
    /// `mac`, `ip+hostname`, `reimage-duplicate`, `merged-into`, `earlier-link` or
    /// `defender-only` (see [`rule_label`]).
    pub rule: String,
    pub detail: String,
}

/// The words the Summary uses for an identity rule.
pub fn rule_label(rule: &str) -> &'static str {
    match rule {
        "mac" => "MAC address",
        "ip+hostname" => "IP address and host name",
        "reimage-duplicate" => "Older record of the same device",
        "merged-into" => "Merged by Defender",
        "earlier-link" => "Joined by an earlier sync",
        "defender-only" => "Known to Defender only",
        _ => "Other",
    }
}

/// A MAC of the endpoint that several live Defender machines report: none joins by it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacConflictView {
    pub mac: String,
    pub machines: Vec<String>,
}

/// Something the identity rules refused or noticed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityNoteView {
    /// `ambiguous`, `also-seen`, `not-joined` or `not-grouped`.
    pub kind: String,
    pub detail: String,
    pub machines: Vec<String>,
}

/// A split an administrator pinned: the machine never joins the endpoint again until undone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitView {
    pub id: i64,
    pub machine_id: String,
    /// The endpoint it was split off.
    pub endpoint_id: i64,
    pub reason: String,
    pub created_by: String,
    pub created_at: String,
}

/// Why the endpoint holds its Defender machines, what the identity rules refused, and the
/// splits that concern it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityView {
    pub joins: Vec<MergeEvidence>,
    pub conflicts: Vec<MacConflictView>,
    pub notes: Vec<IdentityNoteView>,
    pub splits: Vec<SplitView>,
    /// Machines of this endpoint an administrator may split off it: another source keeps the
    /// endpoint (network discovery, or another machine).
    pub splittable: Vec<String>,
    /// The viewer may split and undo (Administrators).
    pub can_correct: bool,
}

/// A Defender machine record of the endpoint (there can be several after re-imaging).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineView {
    pub machine_id: String,
    pub computer_dns_name: Option<String>,
    pub os_platform: Option<String>,
    pub version: Option<String>,
    pub onboarding_status: Option<String>,
    pub health_status: Option<String>,
    /// Defender's own values, shown as given (our levels are computed from raw data).
    pub risk_score: Option<String>,
    pub exposure_level: Option<String>,
    pub last_seen: Option<String>,
    pub is_potential_duplication: bool,
    pub representative: bool,
    pub overview_url: Option<String>,
    /// Defender's device group, by the name its portal shows.
    pub device_group: String,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilityView {
    pub cve_id: String,
    pub description: Option<String>,
    pub severity: Option<String>,
    pub cvss_v3: Option<f64>,
    pub public_exploit: bool,
    pub exploit_verified: bool,
    pub exploit_in_kit: bool,
    pub products: Vec<String>,
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub alert_id: String,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub created: Option<String>,
    pub url: Option<String>,
}

/// The Microsoft Defender subtab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefenderDetail {
    pub machine_id: String,
    pub risk: Option<DefenderRisk>,
    pub most_severe_vulnerability: Option<VulnerabilityView>,
    pub vulnerability_count: u64,
    pub vulnerabilities_url: Option<String>,
    pub alerts_url: Option<String>,
    pub overview_url: Option<String>,
    pub vulnerabilities: Vec<VulnerabilityView>,
    pub alerts: Vec<AlertView>,
    /// The software the vulnerability rows name, one entry per product and version.
    #[serde(default)]
    pub software: Vec<crate::model::software::InstalledSoftware>,
}

/// Everything the Endpoint Summary shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointSummary {
    pub row: EndpointRow,
    pub ips: Vec<String>,
    pub hostnames: Vec<String>,
    pub open_ports: Vec<String>,
    pub first_seen: String,
    pub profiles_considered: Vec<ProfileConsidered>,
    pub risk: EndpointRisk,
    pub identity: IdentityView,
    pub machines: Vec<MachineView>,
    pub defender: Option<DefenderDetail>,
    /// The Defender integration is configured and enabled.
    pub defender_enabled: bool,
    /// Its risk as the syncs recorded it, newest first.
    #[serde(default)]
    pub risk_history: Vec<crate::model::risk_history::RiskChange>,
    /// Its network adapters and hardware from Defender's advanced hunting.
    #[serde(default)]
    pub network_facts: crate::model::network_facts::NetworkFactsView,
}

/// The dashboard's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    /// Endpoint counts by risk level, in `RiskLevel::ALL` order.
    pub by_risk: Vec<(RiskLevel, u64)>,
    pub total: u64,
    /// Seen on the network but not onboarded in Defender.
    pub network_not_onboarded: u64,
    pub network_total: u64,
    pub last_sync: Option<SyncRunView>,
    /// The device group the figures are of; `None`: every endpoint.
    #[serde(default)]
    pub group: Option<String>,
    /// The device groups to choose from, as the endpoint list names them.
    #[serde(default)]
    pub device_groups: Vec<String>,
    /// Every endpoint by risk level over the last 30 days, oldest first (days without a sync
    /// are absent).
    #[serde(default)]
    pub risk_trend: Vec<crate::model::risk_history::RiskTrendDay>,
    /// Endpoints by Defender onboarding state (`None`: not in Defender), seen on the network
    /// or known to Defender only; the states in the list's order, not in Defender first.
    #[serde(default)]
    pub coverage: Vec<CoverageRow>,
    /// The first endpoints of the list sorted by risk, most severe first; none at risk None.
    #[serde(default)]
    pub top_risky: Vec<EndpointRow>,
    /// Machine actions Defender has not finished, oldest first (at most
    /// [`DASHBOARD_ROWS`]), and how many there are in all.
    #[serde(default)]
    pub open_actions: Vec<OpenAction>,
    #[serde(default)]
    pub open_actions_total: u64,
}

/// How many rows the dashboard's top risky endpoints and open actions show each.
pub const DASHBOARD_ROWS: usize = 10;

/// One onboarding state's endpoints on the dashboard's coverage table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageRow {
    /// Defender's onboarding status; `None`: not in Defender.
    pub onboarding: Option<String>,
    /// Seen by network discovery (and maybe Defender too).
    pub on_network: u64,
    /// Known to Defender only: the console never saw it on the network.
    pub defender_only: u64,
}

/// A machine action still open, with the endpoint it went to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAction {
    pub endpoint_id: i64,
    /// The endpoint's hostname, else its IP, else its MAC, else its machine id.
    pub endpoint_name: String,
    pub action: crate::model::action::ActionView,
}

/// One row of the sync journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRunView {
    pub started_at: String,
    pub finished_at: Option<String>,
    pub reason: String,
    pub outcome: String,
    pub machines_seen: i64,
    pub machines_added: i64,
    pub machines_updated: i64,
    pub machines_unchanged: i64,
    pub alerts: i64,
    /// Where the run's alert listing started (alerts Defender changed since then); `None`
    /// when it listed every alert.
    #[serde(default)]
    pub alerts_since: Option<String>,
    pub vulnerabilities: i64,
    /// Machine-vulnerability rows the run listed for the first time, and stored rows it no
    /// longer listed (fixed, or their machine gone); `None` when it kept the stored rows.
    #[serde(default)]
    pub vulnerabilities_new: Option<i64>,
    /// Where the run's machine-vulnerability listing started (Defender's change feed); `None`
    /// when it listed every row.
    #[serde(default)]
    pub machine_vulnerabilities_since: Option<String>,
    #[serde(default)]
    pub vulnerabilities_fixed: Option<i64>,
    pub api_calls: i64,
    pub throttle_wait_ms: i64,
    pub error: Option<String>,
    pub notes: Option<String>,
    /// Items that could not be decoded and were skipped; the first few are in `skipped`.
    #[serde(default)]
    pub skipped_items: i64,
    #[serde(default)]
    pub skipped: Vec<SkippedItemView>,
    /// Listings left out because the app may not read them.
    #[serde(default)]
    pub missing_permissions: Vec<MissingPermissionView>,
}

/// An item a sync skipped: which listing, which item, which field, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedItemView {
    pub listing: String,
    pub item_id: Option<String>,
    pub field: String,
    pub reason: String,
}

/// A listing a sync left out, and the permissions (any one) that would let the app read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingPermissionView {
    pub source: String,
    pub permissions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_query_normalises_to_a_valid_one() {
        let q = EndpointQuery {
            risk: "Severe".into(),
            source: "cloud".into(),
            sort: "drop table".into(),
            dir: "sideways".into(),
            page: 0,
            page_size: 100_000,
            ..Default::default()
        }
        .normalised();
        assert_eq!((q.risk.as_str(), q.source.as_str()), ("", ""));
        assert_eq!((q.sort.as_str(), q.dir.as_str()), ("risk", "desc"));
        assert_eq!((q.page, q.page_size), (1, MAX_PAGE_SIZE));
    }

    #[test]
    fn the_query_string_carries_only_what_differs() {
        let q = EndpointQuery {
            risk: "High".into(),
            q: "10.0.0.1 a&b".into(),
            ..Default::default()
        };
        assert_eq!(q.to_query_string(), "q=10.0.0.1%20a%26b&risk=High");
        assert_eq!(EndpointQuery::default().to_query_string(), "");
    }
}
