//! The facts risk rules read, decoupled from Defender's wire types and from the database.
//!
//! Callers (sync, discovery, profiling) fill these; the enums parse Defender's strings
//! tolerantly (any case, surrounding blanks), and an unknown string becomes an `Unknown`
//! variant instead of an error, because Defender's enums drift (§9.13) and one odd value must
//! not stop a whole recomputation.

use app::model::risk::RiskLevel;

/// Vulnerability severity, `severity` of a Vulnerability (defender-api.md §5.4).
///
/// Declared from least to most severe so that `Ord` ranks them; `Unknown` ranks lowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VulnSeverity {
    /// A value outside the four documented ones (or none at all).
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl VulnSeverity {
    /// Reads Defender's `severity` string (§5.4: `Low|Medium|High|Critical`).
    pub fn parse(value: &str) -> VulnSeverity {
        match value.trim().to_ascii_lowercase().as_str() {
            "low" => VulnSeverity::Low,
            "medium" => VulnSeverity::Medium,
            "high" => VulnSeverity::High,
            "critical" => VulnSeverity::Critical,
            _ => VulnSeverity::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VulnSeverity::Unknown => "Unknown",
            VulnSeverity::Low => "Low",
            VulnSeverity::Medium => "Medium",
            VulnSeverity::High => "High",
            VulnSeverity::Critical => "Critical",
        }
    }
}

/// Alert severity, `severity` of an Alert (defender-api.md §5.3). Defender has no `Critical`.
///
/// Declared from least to most severe; `Unknown` (an undocumented value) ranks lowest for
/// tie-breaking, but `defender::alert` still gives it a level of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertSeverity {
    /// A value outside the five documented ones.
    Unknown,
    UnSpecified,
    Informational,
    Low,
    Medium,
    High,
}

impl AlertSeverity {
    /// Reads Defender's `severity` string (§5.3: `UnSpecified|Informational|Low|Medium|High`).
    pub fn parse(value: &str) -> AlertSeverity {
        match value.trim().to_ascii_lowercase().as_str() {
            "unspecified" => AlertSeverity::UnSpecified,
            "informational" => AlertSeverity::Informational,
            "low" => AlertSeverity::Low,
            "medium" => AlertSeverity::Medium,
            "high" => AlertSeverity::High,
            _ => AlertSeverity::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertSeverity::Unknown => "Unknown",
            AlertSeverity::UnSpecified => "UnSpecified",
            AlertSeverity::Informational => "Informational",
            AlertSeverity::Low => "Low",
            AlertSeverity::Medium => "Medium",
            AlertSeverity::High => "High",
        }
    }
}

/// Alert status, `status` of an Alert (defender-api.md §5.3: `Unknown|New|InProgress|Resolved`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    /// Documented `Unknown`, and any undocumented value.
    Unknown,
    New,
    InProgress,
    Resolved,
}

impl AlertStatus {
    pub fn parse(value: &str) -> AlertStatus {
        match value.trim().to_ascii_lowercase().as_str() {
            "new" => AlertStatus::New,
            "inprogress" => AlertStatus::InProgress,
            "resolved" => AlertStatus::Resolved,
            _ => AlertStatus::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Unknown => "Unknown",
            AlertStatus::New => "New",
            AlertStatus::InProgress => "InProgress",
            AlertStatus::Resolved => "Resolved",
        }
    }

    /// Only `Resolved` closes an alert: an `Unknown` status cannot prove the threat is gone,
    /// so it counts as active.
    pub fn is_active(self) -> bool {
        self != AlertStatus::Resolved
    }
}

/// One vulnerability on a machine (defender-api.md §5.4, joined by CVE as §4.12 advises).
#[derive(Clone, Debug, PartialEq)]
pub struct VulnFact {
    pub cve_id: String,
    pub severity: VulnSeverity,
    /// `cvssV3`; `None` when Defender gives no score (§5.4: "treat null as no score").
    pub cvss_v3: Option<f64>,
    pub public_exploit: bool,
    pub exploit_verified: bool,
    pub exploit_in_kit: bool,
    /// `exploitTypes`, as Defender spells them (`Remote`, `Local`, ...).
    pub exploit_types: Vec<String>,
}

/// One alert on a machine (defender-api.md §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertFact {
    pub id: String,
    pub title: String,
    pub severity: AlertSeverity,
    pub status: AlertStatus,
}

/// What Defender knows about the machine an endpoint is matched to.
///
/// Defender's own `riskScore` and `exposureLevel` (§5.1) are deliberately absent: the console
/// shows them as given, and our levels are computed from the raw vulnerabilities and alerts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefenderFacts {
    pub vulnerabilities: Vec<VulnFact>,
    pub alerts: Vec<AlertFact>,
    /// Listings the app could not read at the last sync: what they feed is unknown.
    pub unreadable: Unreadable,
}

/// Why a Defender source could not be read, per source; `None` when it was read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unreadable {
    pub vulnerabilities: Option<String>,
    pub alerts: Option<String>,
}

/// What local network discovery saw listening on the endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkFact {
    /// Open TCP or UDP ports; discovery does not tell us the protocol, so a port number stands
    /// for its well-known service.
    pub open_ports: Vec<u16>,
    /// Discovery confirmed the SMB server accepts the SMBv1 dialect (e.g. nmap `smb-protocols`);
    /// `false` when that was not probed.
    pub smb_v1: bool,
}

/// How sure the profiler is that the matched profile is the right one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchConfidence {
    Low,
    Medium,
    High,
}

/// What the profiler made of the endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileFact {
    /// The matched profile; `None` when no profile matched.
    pub profile_name: Option<String>,
    /// The matcher's confidence; `None` when it gave none.
    pub match_level: Option<MatchConfidence>,
    /// The level an admin configured for the profile when marking it risky.
    pub risky_level: Option<RiskLevel>,
}

/// One place a MAC address was seen during the same observation window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacSighting {
    /// The discovery site (sensor, scanner, Defender tenant) that reported it.
    pub site: String,
    /// The subnet the address lies in, as the caller names it (e.g. `10.1.2.0/24`).
    pub subnet: String,
    pub ip: String,
}

/// Every concurrent sighting of the endpoint's MAC address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DuplicateMacFact {
    /// 12 hex digits, any case, with or without separators (§5.2 sends them bare, upper case).
    pub mac: String,
    pub sightings: Vec<MacSighting>,
    /// Live Microsoft Defender machines that report the MAC on a physical adapter (distinct
    /// records, not re-image duplicates of one device).
    pub defender_machines: Vec<String>,
}

/// Everything known about one endpoint; a source that has nothing to say is `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EndpointFacts {
    pub profile: Option<ProfileFact>,
    pub network: Option<NetworkFact>,
    pub duplicate_mac: Option<DuplicateMacFact>,
    /// Present when the endpoint is (or is matched to) a Defender machine.
    pub defender: Option<DefenderFacts>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vulnerability_severities_parse_tolerantly() {
        let cases = [
            ("Low", VulnSeverity::Low),
            ("medium", VulnSeverity::Medium),
            ("HIGH", VulnSeverity::High),
            (" Critical ", VulnSeverity::Critical),
            ("Informational", VulnSeverity::Unknown),
            ("", VulnSeverity::Unknown),
        ];
        for (input, expected) in cases {
            assert_eq!(VulnSeverity::parse(input), expected, "{input:?}");
        }
    }

    #[test]
    fn alert_severities_parse_tolerantly() {
        let cases = [
            ("UnSpecified", AlertSeverity::UnSpecified),
            ("unspecified", AlertSeverity::UnSpecified),
            ("Informational", AlertSeverity::Informational),
            ("low", AlertSeverity::Low),
            ("Medium", AlertSeverity::Medium),
            ("HIGH", AlertSeverity::High),
            ("Critical", AlertSeverity::Unknown),
            ("", AlertSeverity::Unknown),
        ];
        for (input, expected) in cases {
            assert_eq!(AlertSeverity::parse(input), expected, "{input:?}");
        }
    }

    #[test]
    fn alert_statuses_parse_tolerantly() {
        let cases = [
            ("New", AlertStatus::New),
            ("inprogress", AlertStatus::InProgress),
            ("InProgress", AlertStatus::InProgress),
            ("RESOLVED", AlertStatus::Resolved),
            ("Unknown", AlertStatus::Unknown),
            ("Closed", AlertStatus::Unknown),
        ];
        for (input, expected) in cases {
            assert_eq!(AlertStatus::parse(input), expected, "{input:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in [
            VulnSeverity::Low,
            VulnSeverity::Critical,
            VulnSeverity::Unknown,
        ] {
            assert_eq!(VulnSeverity::parse(s.as_str()), s);
        }
        for s in [
            AlertSeverity::UnSpecified,
            AlertSeverity::High,
            AlertSeverity::Unknown,
        ] {
            assert_eq!(AlertSeverity::parse(s.as_str()), s);
        }
        for s in [
            AlertStatus::New,
            AlertStatus::InProgress,
            AlertStatus::Resolved,
        ] {
            assert_eq!(AlertStatus::parse(s.as_str()), s);
        }
    }

    #[test]
    fn only_resolved_alerts_are_inactive() {
        let cases = [
            (AlertStatus::New, true),
            (AlertStatus::InProgress, true),
            (AlertStatus::Unknown, true),
            (AlertStatus::Resolved, false),
        ];
        for (status, active) in cases {
            assert_eq!(status.is_active(), active, "{status:?}");
        }
    }
}
