//! Risk levels and risk assessments as the console shows them.
//!
//! The server computes these (`server::risk`); the browser only displays them, so everything
//! here is plain serde data with no server-only dependency.

use serde::{Deserialize, Serialize};

/// The one ordered risk scale used everywhere in the console.
///
/// Declaration order is severity order, so `Ord` gives `None < Low < Medium < High < Critical`
/// and "the highest of several levels" is simply `max`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum RiskLevel {
    /// Nothing found that raises the risk.
    #[default]
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    /// Every level, lowest first.
    pub const ALL: [RiskLevel; 5] = [
        RiskLevel::None,
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ];

    /// The level's name, as stored and as shown on the badge.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::None => "None",
            RiskLevel::Low => "Low",
            RiskLevel::Medium => "Medium",
            RiskLevel::High => "High",
            RiskLevel::Critical => "Critical",
        }
    }

    /// Reads a level name, ignoring case and surrounding blanks; `None` for anything else.
    pub fn parse(value: &str) -> Option<RiskLevel> {
        let value = value.trim();
        RiskLevel::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(value))
    }

    /// The CSS class of the level's badge (`style/main.css` gives each its colour).
    pub fn css_class(self) -> &'static str {
        match self {
            RiskLevel::None => "risk-none",
            RiskLevel::Low => "risk-low",
            RiskLevel::Medium => "risk-medium",
            RiskLevel::High => "risk-high",
            RiskLevel::Critical => "risk-critical",
        }
    }

    /// One level up, saturating at `Critical`: used when evidence aggravates a finding.
    pub fn raised(self) -> RiskLevel {
        match self {
            RiskLevel::None => RiskLevel::Low,
            RiskLevel::Low => RiskLevel::Medium,
            RiskLevel::Medium => RiskLevel::High,
            RiskLevel::High | RiskLevel::Critical => RiskLevel::Critical,
        }
    }
}

/// Which source of evidence an assessment comes from; an endpoint has at most one of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AssessmentKind {
    /// What the device was profiled as (or that it matched no profile).
    Profile,
    /// Services that local network discovery found open.
    Network,
    /// The device's MAC address seen in places one device cannot be at once.
    DuplicateMac,
    /// Vulnerabilities and alerts from Microsoft Defender for Endpoint.
    Defender,
}

impl AssessmentKind {
    /// Every kind, in the order the risk tab lists them.
    pub const ALL: [AssessmentKind; 4] = [
        AssessmentKind::Profile,
        AssessmentKind::Network,
        AssessmentKind::DuplicateMac,
        AssessmentKind::Defender,
    ];

    /// The kind's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentKind::Profile => "Profile",
            AssessmentKind::Network => "Network",
            AssessmentKind::DuplicateMac => "DuplicateMac",
            AssessmentKind::Defender => "Defender",
        }
    }

    /// Reads a stored kind name, ignoring case; `None` for anything else.
    pub fn parse(value: &str) -> Option<AssessmentKind> {
        let value = value.trim();
        AssessmentKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(value))
    }

    /// The heading the UI shows for the kind.
    pub fn label(self) -> &'static str {
        match self {
            AssessmentKind::Profile => "Device profile",
            AssessmentKind::Network => "Network exposure",
            AssessmentKind::DuplicateMac => "Duplicate MAC address",
            AssessmentKind::Defender => "Microsoft Defender",
        }
    }
}

/// A level with the plain-language explanation the UI shows under "why this level".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelReason {
    pub level: RiskLevel,
    /// One or two sentences saying why the level is what it is.
    pub reason: String,
    /// The individual findings behind the level, most severe first.
    pub factors: Vec<String>,
    /// The source could not be read (e.g. a permission without consent): the level is not
    /// "nothing found" but unknown, and the UI says "Unknown". Absent when known, so stored
    /// assessments of known sources keep their shape.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
}

/// One source's verdict on an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub kind: AssessmentKind,
    pub level: RiskLevel,
    /// Plain-language "why this level".
    pub reason: String,
    /// The individual findings behind the level, most severe first.
    pub factors: Vec<String>,
}

/// An endpoint's risk: the highest of its assessments, each kept with its reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRisk {
    pub overall: RiskLevel,
    pub assessments: Vec<Assessment>,
}

/// The two Defender sub-levels the Defender tab shows beside the combined assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefenderRisk {
    /// Exposure Risk Level: from the most severe vulnerability.
    pub exposure: LevelReason,
    /// Alert Risk Level: from the most severe alert that is not resolved.
    pub alert: LevelReason,
    /// CVE id of the vulnerability the exposure level comes from.
    pub most_severe_vulnerability: Option<String>,
    /// Defender id of the alert the alert level comes from.
    pub most_severe_alert: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_from_none_to_critical() {
        for pair in RiskLevel::ALL.windows(2) {
            assert!(pair[0] < pair[1], "{:?} < {:?}", pair[0], pair[1]);
        }
        let highest = [RiskLevel::Low, RiskLevel::Critical, RiskLevel::Medium]
            .into_iter()
            .max();
        assert_eq!(highest, Some(RiskLevel::Critical));
        assert_eq!(RiskLevel::default(), RiskLevel::None);
    }

    #[test]
    fn levels_parse_their_names_in_any_case() {
        let cases = [
            ("None", Some(RiskLevel::None)),
            ("low", Some(RiskLevel::Low)),
            ("MEDIUM", Some(RiskLevel::Medium)),
            (" High ", Some(RiskLevel::High)),
            ("critical", Some(RiskLevel::Critical)),
            ("Informational", None),
            ("", None),
            ("Highest", None),
        ];
        for (input, expected) in cases {
            assert_eq!(RiskLevel::parse(input), expected, "{input:?}");
        }
        for level in RiskLevel::ALL {
            assert_eq!(RiskLevel::parse(level.as_str()), Some(level));
        }
    }

    #[test]
    fn each_level_has_its_own_badge_class() {
        let cases = [
            (RiskLevel::None, "risk-none"),
            (RiskLevel::Low, "risk-low"),
            (RiskLevel::Medium, "risk-medium"),
            (RiskLevel::High, "risk-high"),
            (RiskLevel::Critical, "risk-critical"),
        ];
        for (level, class) in cases {
            assert_eq!(level.css_class(), class);
        }
    }

    #[test]
    fn raising_a_level_saturates_at_critical() {
        let cases = [
            (RiskLevel::None, RiskLevel::Low),
            (RiskLevel::Low, RiskLevel::Medium),
            (RiskLevel::Medium, RiskLevel::High),
            (RiskLevel::High, RiskLevel::Critical),
            (RiskLevel::Critical, RiskLevel::Critical),
        ];
        for (level, expected) in cases {
            assert_eq!(level.raised(), expected, "{level:?}");
        }
    }

    #[test]
    fn levels_serialise_as_their_names() {
        for level in RiskLevel::ALL {
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
            assert_eq!(serde_json::from_str::<RiskLevel>(&json).unwrap(), level);
        }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in AssessmentKind::ALL {
            assert_eq!(AssessmentKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            AssessmentKind::parse("duplicatemac"),
            Some(AssessmentKind::DuplicateMac)
        );
        assert_eq!(AssessmentKind::parse("Mac"), None);
    }
}
