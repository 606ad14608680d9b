//! An endpoint's overall risk: the highest of its assessments, each kept with its reason.

use app::model::risk::{Assessment, EndpointRisk, RiskLevel};

/// The highest assessment level; None when there is no assessment.
pub fn overall_level(assessments: &[Assessment]) -> RiskLevel {
    assessments
        .iter()
        .map(|assessment| assessment.level)
        .max()
        .unwrap_or(RiskLevel::None)
}

/// The endpoint's risk, assessments in `AssessmentKind` order so the UI lists them stably.
pub fn endpoint_risk(mut assessments: Vec<Assessment>) -> EndpointRisk {
    assessments.sort_by_key(|assessment| assessment.kind);
    EndpointRisk {
        overall: overall_level(&assessments),
        assessments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::risk::AssessmentKind;

    fn assessment(kind: AssessmentKind, level: RiskLevel) -> Assessment {
        Assessment {
            kind,
            level,
            reason: format!("{} is {}", kind.as_str(), level.as_str()),
            factors: Vec::new(),
        }
    }

    #[test]
    fn overall_is_the_highest_assessment() {
        use AssessmentKind as K;
        use RiskLevel as R;
        let cases: [(&[(K, R)], R); 6] = [
            (&[], R::None),
            (&[(K::Profile, R::None)], R::None),
            (&[(K::Profile, R::Medium), (K::Network, R::Low)], R::Medium),
            (
                &[
                    (K::Network, R::Low),
                    (K::Defender, R::Critical),
                    (K::Profile, R::High),
                ],
                R::Critical,
            ),
            (
                &[(K::DuplicateMac, R::Medium), (K::Defender, R::None)],
                R::Medium,
            ),
            (&[(K::Profile, R::High), (K::Network, R::High)], R::High),
        ];
        for (levels, expected) in cases {
            let assessments = levels.iter().map(|&(k, l)| assessment(k, l)).collect();
            let risk = endpoint_risk(assessments);
            assert_eq!(risk.overall, expected, "{levels:?}");
            assert_eq!(risk.assessments.len(), levels.len());
        }
    }

    #[test]
    fn assessments_keep_their_reasons_in_kind_order() {
        let risk = endpoint_risk(vec![
            assessment(AssessmentKind::Defender, RiskLevel::Low),
            assessment(AssessmentKind::Profile, RiskLevel::Medium),
            assessment(AssessmentKind::Network, RiskLevel::High),
        ]);
        let kinds: Vec<AssessmentKind> = risk.assessments.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                AssessmentKind::Profile,
                AssessmentKind::Network,
                AssessmentKind::Defender
            ]
        );
        assert_eq!(risk.assessments[2].reason, "Defender is Low");
    }
}
