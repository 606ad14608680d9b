//! The Microsoft Defender assessment: vulnerabilities and alerts of the machine an endpoint is
//! (or is matched to), combined into one level.
//!
//! Rules:
//! - Exposure Risk Level: the most severe vulnerability (`vulnerability`).
//! - Alert Risk Level: the most severe alert that is not resolved (`alert`).
//! - Defender level: the higher of the two, raised to Critical when an active High alert meets
//!   an exploitable vulnerability of High level or more: an attack in progress on a machine
//!   with a hole known to be usable is the worst case we can see.
//!
//! Defender's own `riskScore` and `exposureLevel` (defender-api.md §5.1) are shown by the UI as
//! Defender gives them and are not inputs here: they are derived by Defender from the same raw
//! data (§10), and recomputing lets every rule be explained in our own words.

pub mod alert;
pub mod vulnerability;

use app::model::risk::{Assessment, AssessmentKind, DefenderRisk, LevelReason, RiskLevel};

use crate::risk::facts::{DefenderFacts, VulnFact};

/// The combined Defender assessment and the two sub-levels behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefenderOutcome {
    pub assessment: Assessment,
    pub detail: DefenderRisk,
}

/// A sub-level whose source could not be read: unknown, never "nothing found".
fn unknown(why: &str) -> LevelReason {
    LevelReason {
        level: RiskLevel::None,
        reason: format!("Unknown: {why}"),
        factors: Vec::new(),
        unknown: true,
    }
}

/// How a sub-level reads in the combined reason.
fn shown(level: &LevelReason) -> &'static str {
    if level.unknown {
        "Unknown"
    } else {
        level.level.as_str()
    }
}

/// Assesses a Defender machine from its vulnerabilities and alerts. A source the app could not
/// read (`facts.unreadable`) gives an unknown sub-level, and the combined level rests on the
/// other one alone.
pub fn assess(facts: &DefenderFacts) -> DefenderOutcome {
    let (exposure, top_vuln) = match &facts.unreadable.vulnerabilities {
        Some(why) => (unknown(why), None),
        None => vulnerability::exposure(&facts.vulnerabilities),
    };
    let (alert, top_alert) = match &facts.unreadable.alerts {
        Some(why) => (unknown(why), None),
        None => alert::alert_risk(&facts.alerts),
    };
    let highest = exposure.level.max(alert.level);

    let mut reason = format!(
        "The higher of the Exposure Risk Level ({}) and the Alert Risk Level ({}).",
        shown(&exposure),
        shown(&alert)
    );
    for part in [&exposure, &alert].into_iter().filter(|l| l.unknown) {
        reason.push(' ');
        reason.push_str(&part.reason);
    }
    let mut factors = vec![
        format!("Exposure Risk Level {}", shown(&exposure)),
        format!("Alert Risk Level {}", shown(&alert)),
    ];
    let escalation = match (top_vuln, top_alert) {
        (Some(vuln), Some(active)) if highest < RiskLevel::Critical => {
            is_attack_on_exploitable_hole(alert.level, exposure.level, vuln).then(|| {
                format!(
                    "The active High alert \"{}\" on a machine with an exploitable \
                     vulnerability ({}) raises it to Critical.",
                    active.title, vuln.cve_id
                )
            })
        }
        _ => None,
    };
    let level = match escalation {
        Some(text) => {
            reason.push(' ');
            reason.push_str(&text);
            factors.insert(
                0,
                "active High alert with an exploitable vulnerability".into(),
            );
            RiskLevel::Critical
        }
        None => highest,
    };

    DefenderOutcome {
        assessment: Assessment {
            kind: AssessmentKind::Defender,
            level,
            reason,
            factors,
        },
        detail: DefenderRisk {
            exposure,
            alert,
            most_severe_vulnerability: top_vuln.map(|vuln| vuln.cve_id.clone()),
            most_severe_alert: top_alert.map(|active| active.id.clone()),
        },
    }
}

/// An active High alert together with an exploitable vulnerability of High level or more.
fn is_attack_on_exploitable_hole(
    alert_level: RiskLevel,
    exposure_level: RiskLevel,
    top_vuln: &VulnFact,
) -> bool {
    alert_level == RiskLevel::High
        && exposure_level >= RiskLevel::High
        && vulnerability::has_exploit(top_vuln)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::facts::{AlertFact, AlertSeverity, AlertStatus, Unreadable, VulnSeverity};

    fn vuln(severity: VulnSeverity, public_exploit: bool) -> VulnFact {
        VulnFact {
            cve_id: "CVE-2031-10044".into(),
            severity,
            cvss_v3: None,
            public_exploit,
            exploit_verified: false,
            exploit_in_kit: false,
            exploit_types: Vec::new(),
        }
    }

    fn alert(severity: AlertSeverity, status: AlertStatus) -> AlertFact {
        AlertFact {
            id: "da1".into(),
            title: "Ransomware behaviour".into(),
            severity,
            status,
        }
    }

    #[test]
    fn combination_table() {
        use AlertSeverity as A;
        use AlertStatus as St;
        use RiskLevel as R;
        use VulnSeverity as V;
        // (vulnerability, alert, expected Defender level)
        let cases = [
            (None, None, R::None),
            (Some(vuln(V::Low, false)), None, R::Low),
            (None, Some(alert(A::Medium, St::New)), R::Medium),
            (
                Some(vuln(V::Low, false)),
                Some(alert(A::Medium, St::New)),
                R::Medium,
            ),
            (
                Some(vuln(V::High, false)),
                Some(alert(A::Medium, St::New)),
                R::High,
            ),
            (
                Some(vuln(V::Critical, false)),
                Some(alert(A::Low, St::New)),
                R::Critical,
            ),
            // Active High alert + exploitable vulnerability of High level or more: Critical.
            (
                Some(vuln(V::High, true)),
                Some(alert(A::High, St::New)),
                R::Critical,
            ),
            (
                Some(vuln(V::Medium, true)),
                Some(alert(A::High, St::InProgress)),
                R::Critical,
            ),
            (
                Some(vuln(V::Critical, true)),
                Some(alert(A::High, St::New)),
                R::Critical,
            ),
            // No exploit, a resolved alert, or a lesser alert: no escalation.
            (
                Some(vuln(V::High, false)),
                Some(alert(A::High, St::New)),
                R::High,
            ),
            (
                Some(vuln(V::High, true)),
                Some(alert(A::High, St::Resolved)),
                R::High,
            ),
            (
                Some(vuln(V::High, true)),
                Some(alert(A::Medium, St::New)),
                R::High,
            ),
            (
                Some(vuln(V::Low, true)),
                Some(alert(A::High, St::New)),
                R::High,
            ),
        ];
        for (v, a, expected) in cases {
            let facts = DefenderFacts {
                unreadable: Default::default(),
                vulnerabilities: v.into_iter().collect(),
                alerts: a.into_iter().collect(),
            };
            let outcome = assess(&facts);
            assert_eq!(outcome.assessment.level, expected, "{facts:?}");
            assert_eq!(outcome.assessment.kind, AssessmentKind::Defender);
        }
    }

    #[test]
    fn the_outcome_carries_both_sub_levels_and_the_chosen_ids() {
        let facts = DefenderFacts {
            unreadable: Default::default(),
            vulnerabilities: vec![vuln(VulnSeverity::High, true)],
            alerts: vec![alert(AlertSeverity::High, AlertStatus::New)],
        };
        let outcome = assess(&facts);
        assert_eq!(outcome.detail.exposure.level, RiskLevel::High);
        assert_eq!(outcome.detail.alert.level, RiskLevel::High);
        assert_eq!(
            outcome.detail.most_severe_vulnerability.as_deref(),
            Some("CVE-2031-10044")
        );
        assert_eq!(outcome.detail.most_severe_alert.as_deref(), Some("da1"));
        let reason = &outcome.assessment.reason;
        for words in [
            "Exposure Risk Level (High)",
            "Alert Risk Level (High)",
            "\"Ransomware behaviour\"",
            "(CVE-2031-10044) raises it to Critical",
        ] {
            assert!(reason.contains(words), "{words:?} in {reason}");
        }
    }

    #[test]
    fn an_already_critical_exposure_is_not_said_to_be_raised() {
        let facts = DefenderFacts {
            unreadable: Default::default(),
            vulnerabilities: vec![vuln(VulnSeverity::Critical, true)],
            alerts: vec![alert(AlertSeverity::High, AlertStatus::New)],
        };
        let outcome = assess(&facts);
        assert_eq!(outcome.assessment.level, RiskLevel::Critical);
        assert!(
            !outcome.assessment.reason.contains("raises"),
            "{}",
            outcome.assessment.reason
        );
        assert_eq!(outcome.assessment.factors.len(), 2);
    }

    #[test]
    fn without_escalation_the_reason_only_names_the_sub_levels() {
        let facts = DefenderFacts {
            unreadable: Default::default(),
            vulnerabilities: vec![vuln(VulnSeverity::Medium, false)],
            alerts: Vec::new(),
        };
        let outcome = assess(&facts);
        assert_eq!(outcome.assessment.level, RiskLevel::Medium);
        assert!(!outcome.assessment.reason.contains("Critical"));
        assert_eq!(outcome.detail.most_severe_alert, None);
    }

    #[test]
    fn a_source_the_app_cannot_read_is_unknown_not_none() {
        let facts = DefenderFacts {
            vulnerabilities: vec![vuln(VulnSeverity::Critical, true)],
            alerts: vec![alert(AlertSeverity::Medium, AlertStatus::New)],
            unreadable: Unreadable {
                vulnerabilities: Some(
                    "the app registration lacks Vulnerability.Read.All (since 2026-11-30T10:00:00Z)."
                        .into(),
                ),
                alerts: None,
            },
        };
        let out = assess(&facts);
        assert!(out.detail.exposure.unknown);
        assert_eq!(out.detail.exposure.level, RiskLevel::None);
        assert!(out
            .detail
            .exposure
            .reason
            .starts_with("Unknown: the app registration lacks"));
        assert_eq!(out.detail.most_severe_vulnerability, None);
        assert_eq!(out.assessment.level, RiskLevel::Medium);
        assert!(
            out.assessment
                .reason
                .starts_with("The higher of the Exposure Risk Level (Unknown) and the Alert Risk Level (Medium)."),
            "{}",
            out.assessment.reason
        );
        assert!(!out.detail.alert.unknown);
        // Known sources keep their stored shape: no `unknown` key.
        let json = serde_json::to_string(&out.detail.alert).unwrap();
        assert!(!json.contains("unknown"), "{json}");
    }
}
