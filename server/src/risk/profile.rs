//! The profile assessment: what the profiler made of the endpoint.
//!
//! | rule | level | why |
//! |---|---|---|
//! | no profile matched | Medium | an unidentified device is the classic rogue-device signal, and without a profile nothing tells us what behaviour is normal for it; Medium asks for a look without drowning real threats |
//! | profile marked risky | the level configured on the profile | the admin knows why they marked it (end-of-life models, unmanaged IoT) |
//! | match confidence Low | Low | the profile may be wrong, so everything it implies is uncertain |
//!
//! Medium or High confidence, or no confidence reported, adds nothing. A profile marked risky
//! with the level None is allowed and adds nothing either.

use app::model::risk::{Assessment, AssessmentKind, RiskLevel};

use crate::risk::facts::{MatchConfidence, ProfileFact};
use crate::risk::finding::{assessment_from, Finding};

/// No profile matched: Medium.
pub fn unprofiled(facts: &ProfileFact) -> Option<Finding> {
    facts.profile_name.is_none().then(|| {
        Finding::new(
            RiskLevel::Medium,
            "The device matched no profile, so we cannot tell what it is or what is normal for it",
        )
    })
}

/// The matched profile is marked risky: its configured level.
pub fn risky_profile(facts: &ProfileFact) -> Option<Finding> {
    let name = facts.profile_name.as_deref()?;
    let level = facts.risky_level.filter(|&level| level > RiskLevel::None)?;
    Some(Finding::new(
        level,
        format!(
            "Profile \"{name}\" is marked risky at level {}",
            level.as_str()
        ),
    ))
}

/// The profile matched with low confidence: Low.
pub fn low_confidence(facts: &ProfileFact) -> Option<Finding> {
    let name = facts.profile_name.as_deref()?;
    (facts.match_level == Some(MatchConfidence::Low)).then(|| {
        Finding::new(
            RiskLevel::Low,
            format!("Profile \"{name}\" matched with low confidence and may be wrong"),
        )
    })
}

/// The profile assessment: the highest finding, with every finding as a factor.
pub fn assess(facts: &ProfileFact) -> Assessment {
    let findings = [unprofiled, risky_profile, low_confidence]
        .iter()
        .filter_map(|rule| rule(facts))
        .collect();
    let quiet = format!(
        "Profiled as \"{}\", a profile not marked risky.",
        facts.profile_name.as_deref().unwrap_or_default()
    );
    assessment_from(AssessmentKind::Profile, findings, quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(
        name: Option<&str>,
        confidence: Option<MatchConfidence>,
        risky: Option<RiskLevel>,
    ) -> ProfileFact {
        ProfileFact {
            profile_name: name.map(str::to_string),
            match_level: confidence,
            risky_level: risky,
        }
    }

    #[test]
    fn profile_rules_table() {
        use MatchConfidence as C;
        use RiskLevel as R;
        // (profile, confidence, risky level, expected level, a word the reason must contain)
        let cases = [
            (None, None, None, R::Medium, "matched no profile"),
            (
                None,
                Some(C::Low),
                Some(R::High),
                R::Medium,
                "matched no profile",
            ),
            (
                Some("Printer"),
                Some(C::High),
                None,
                R::None,
                "Profiled as \"Printer\"",
            ),
            (
                Some("Printer"),
                Some(C::Medium),
                None,
                R::None,
                "not marked risky",
            ),
            (Some("Printer"), None, None, R::None, "not marked risky"),
            (
                Some("Printer"),
                Some(C::Low),
                None,
                R::Low,
                "low confidence",
            ),
            (
                Some("Old NAS"),
                Some(C::High),
                Some(R::Critical),
                R::Critical,
                "marked risky",
            ),
            (
                Some("Old NAS"),
                Some(C::High),
                Some(R::Low),
                R::Low,
                "at level Low",
            ),
            (
                Some("Old NAS"),
                Some(C::Low),
                Some(R::High),
                R::High,
                "(and 1 more",
            ),
            (
                Some("Old NAS"),
                Some(C::Low),
                Some(R::None),
                R::Low,
                "low confidence",
            ),
            (
                Some("Old NAS"),
                Some(C::High),
                Some(R::None),
                R::None,
                "not marked risky",
            ),
        ];
        for (name, confidence, risky, level, words) in cases {
            let assessment = assess(&fact(name, confidence, risky));
            assert_eq!(assessment.level, level, "{name:?} {confidence:?} {risky:?}");
            assert_eq!(assessment.kind, AssessmentKind::Profile);
            assert!(
                assessment.reason.contains(words),
                "{words:?} in {}",
                assessment.reason
            );
        }
    }

    #[test]
    fn a_risky_profile_matched_weakly_lists_both_findings() {
        let assessment = assess(&fact(
            Some("Old NAS"),
            Some(MatchConfidence::Low),
            Some(RiskLevel::High),
        ));
        assert_eq!(assessment.factors.len(), 2);
        assert!(assessment.factors[0].contains("marked risky"));
        assert!(assessment.factors[1].contains("low confidence"));
    }
}
