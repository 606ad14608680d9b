//! Risk computation: pure functions from an endpoint's facts to its risk assessments.
//!
//! No IO happens here: the caller loads the facts (`facts`), calls [`assess_endpoint`] (or one
//! source's `assess`) and stores the result. Each source gives one assessment with a
//! plain-language reason (`profile`, `network`, `duplicate_mac`, `defender`); the endpoint's
//! overall level is the highest of them (`overall`). Each module documents its rules and levels.

pub mod defender;
pub mod duplicate_mac;
pub mod facts;
pub mod finding;
pub mod network;
pub mod overall;
pub mod profile;

use app::model::risk::{DefenderRisk, EndpointRisk};

use facts::EndpointFacts;

/// Everything computed for one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointAssessment {
    /// The overall level and one assessment per source that had facts.
    pub risk: EndpointRisk,
    /// Defender's Exposure and Alert Risk Levels and the records they come from; `None` when
    /// the endpoint is not matched to a Defender machine.
    pub defender: Option<DefenderRisk>,
}

/// Assesses one endpoint from every source that has facts about it.
///
/// A source without facts (`None`) gives no assessment: "not looked at" is not "nothing found".
/// Network-discovered endpoints matched to a Defender machine simply come with `defender` facts.
pub fn assess_endpoint(facts: &EndpointFacts) -> EndpointAssessment {
    let defender = facts.defender.as_ref().map(defender::assess);
    let mut assessments = Vec::with_capacity(4);
    assessments.extend(facts.profile.as_ref().map(profile::assess));
    assessments.extend(facts.network.as_ref().map(network::assess));
    assessments.extend(facts.duplicate_mac.as_ref().map(duplicate_mac::assess));
    let detail = defender.map(|outcome| {
        assessments.push(outcome.assessment);
        outcome.detail
    });
    EndpointAssessment {
        risk: overall::endpoint_risk(assessments),
        defender: detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::risk::{AssessmentKind, RiskLevel};
    use facts::{
        AlertFact, AlertSeverity, AlertStatus, DefenderFacts, NetworkFact, ProfileFact, VulnFact,
        VulnSeverity,
    };

    #[test]
    fn an_endpoint_without_facts_has_no_risk() {
        let result = assess_endpoint(&EndpointFacts::default());
        assert_eq!(result.risk.overall, RiskLevel::None);
        assert!(result.risk.assessments.is_empty());
        assert_eq!(result.defender, None);
    }

    #[test]
    fn a_discovered_endpoint_matched_to_defender_gets_every_assessment() {
        let facts = EndpointFacts {
            profile: Some(ProfileFact {
                profile_name: Some("Windows workstation".into()),
                match_level: Some(facts::MatchConfidence::High),
                risky_level: None,
            }),
            network: Some(NetworkFact {
                open_ports: vec![445, 3389],
                smb_v1: false,
            }),
            duplicate_mac: None,
            defender: Some(DefenderFacts {
                unreadable: Default::default(),
                vulnerabilities: vec![VulnFact {
                    cve_id: "CVE-2031-10044".into(),
                    severity: VulnSeverity::Critical,
                    cvss_v3: Some(9.6),
                    public_exploit: true,
                    exploit_verified: true,
                    exploit_in_kit: false,
                    exploit_types: vec!["Remote".into()],
                }],
                alerts: vec![AlertFact {
                    id: "da1".into(),
                    title: "Credential theft".into(),
                    severity: AlertSeverity::Medium,
                    status: AlertStatus::New,
                }],
            }),
        };
        let result = assess_endpoint(&facts);
        let levels: Vec<(AssessmentKind, RiskLevel)> = result
            .risk
            .assessments
            .iter()
            .map(|a| (a.kind, a.level))
            .collect();
        assert_eq!(
            levels,
            [
                (AssessmentKind::Profile, RiskLevel::None),
                (AssessmentKind::Network, RiskLevel::Medium),
                (AssessmentKind::Defender, RiskLevel::Critical),
            ]
        );
        assert_eq!(result.risk.overall, RiskLevel::Critical);
        let defender = result.defender.expect("defender detail");
        assert_eq!(defender.exposure.level, RiskLevel::Critical);
        assert_eq!(defender.alert.level, RiskLevel::Medium);
        assert_eq!(defender.most_severe_alert.as_deref(), Some("da1"));
    }
}
