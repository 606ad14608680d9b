//! A single rule's verdict, and how a source's findings become its assessment.

use std::cmp::Reverse;

use app::model::risk::{Assessment, AssessmentKind, RiskLevel};

/// One rule's verdict: a level and the plain-language finding behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub level: RiskLevel,
    pub text: String,
}

impl Finding {
    pub fn new(level: RiskLevel, text: impl Into<String>) -> Finding {
        Finding {
            level,
            text: text.into(),
        }
    }
}

/// The assessment of one source: its highest finding sets the level and leads the reason, and
/// every finding is kept as a factor, most severe first (ties keep rule order: the sort is
/// stable). With no finding the level is None and `quiet_reason` says why.
pub fn assessment_from(
    kind: AssessmentKind,
    mut findings: Vec<Finding>,
    quiet_reason: String,
) -> Assessment {
    findings.sort_by_key(|finding| Reverse(finding.level));
    let level = findings.first().map_or(RiskLevel::None, |f| f.level);
    let reason = match findings.as_slice() {
        [] => quiet_reason,
        [only] => format!("{}.", only.text),
        [top, rest @ ..] => format!("{} (and {} more findings).", top.text, rest.len()),
    };
    Assessment {
        kind,
        level,
        reason,
        factors: findings.into_iter().map(|f| f.text).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_finding_sets_level_and_reason() {
        let findings = vec![
            Finding::new(RiskLevel::Low, "low one"),
            Finding::new(RiskLevel::High, "high one"),
            Finding::new(RiskLevel::Medium, "medium one"),
        ];
        let a = assessment_from(AssessmentKind::Network, findings, "quiet".into());
        assert_eq!(a.level, RiskLevel::High);
        assert_eq!(a.reason, "high one (and 2 more findings).");
        assert_eq!(a.factors, ["high one", "medium one", "low one"]);
    }

    #[test]
    fn no_findings_give_none_and_the_quiet_reason() {
        let a = assessment_from(AssessmentKind::Profile, Vec::new(), "all quiet".into());
        assert_eq!(a.level, RiskLevel::None);
        assert_eq!(a.reason, "all quiet");
        assert!(a.factors.is_empty());
    }

    #[test]
    fn a_single_finding_is_the_reason() {
        let findings = vec![Finding::new(RiskLevel::Medium, "only one")];
        let a = assessment_from(AssessmentKind::DuplicateMac, findings, String::new());
        assert_eq!(
            (a.level, a.reason.as_str()),
            (RiskLevel::Medium, "only one.")
        );
    }
}
