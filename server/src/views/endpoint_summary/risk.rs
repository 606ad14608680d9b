//! The endpoint's stored risks (`endpoints::stored_assessment`, any known version) as the
//! page's `EndpointRisk` (the Risk tab) and `DefenderRisk` (the Defender tab).

use app::model::risk::{
    Assessment, AssessmentKind, DefenderRisk, EndpointRisk, LevelReason, RiskLevel,
};

use crate::endpoints::stored_assessment::{
    self, ReadError, StoredDefenderRisk, StoredLevelReason, StoredRisk,
};

/// The stored risk as the page shows it. A damaged row shows no risk, as it always has; a row
/// a newer build wrote keeps the level the list shows (`risk_level` is a column of its own)
/// and no findings until a re-model writes it again in this build's version.
pub(super) fn endpoint_risk(endpoint_id: i64, stored: &str, risk_level: &str) -> EndpointRisk {
    match stored_assessment::read(stored) {
        Ok(stored) => from_stored(stored),
        Err(e @ ReadError::NewerVersion(_)) => {
            tracing::warn!(endpoint_id, error = %e, "stored risk not readable by this build");
            EndpointRisk {
                overall: RiskLevel::parse(risk_level).unwrap_or_default(),
                assessments: Vec::new(),
            }
        }
        Err(e @ ReadError::Damaged(_)) => {
            tracing::warn!(endpoint_id, error = %e, "stored risk damaged");
            EndpointRisk::default()
        }
    }
}

/// The stored Defender sub-levels; none when the row cannot be read, as before versions.
pub(super) fn defender_risk(endpoint_id: i64, stored: &str) -> Option<DefenderRisk> {
    match stored_assessment::read_defender(stored) {
        Ok(stored) => Some(defender_from_stored(stored)),
        Err(e) => {
            tracing::warn!(endpoint_id, error = %e, "stored Defender risk not readable");
            None
        }
    }
}

fn defender_from_stored(stored: StoredDefenderRisk) -> DefenderRisk {
    fn level(l: StoredLevelReason) -> LevelReason {
        LevelReason {
            level: RiskLevel::parse(&l.level).unwrap_or_default(),
            reason: l.reason,
            factors: l.factors,
            unknown: l.unknown,
        }
    }
    DefenderRisk {
        exposure: level(stored.exposure),
        alert: level(stored.alert),
        most_severe_vulnerability: stored.most_severe_vulnerability,
        most_severe_alert: stored.most_severe_alert,
    }
}

/// A finding of a kind this build does not know is left out; an unknown level reads as None.
fn from_stored(stored: StoredRisk) -> EndpointRisk {
    EndpointRisk {
        overall: RiskLevel::parse(&stored.overall).unwrap_or_default(),
        assessments: stored
            .assessments
            .into_iter()
            .filter_map(|f| {
                Some(Assessment {
                    kind: AssessmentKind::parse(&f.kind)?,
                    level: RiskLevel::parse(&f.level).unwrap_or_default(),
                    reason: f.reason,
                    factors: f.factors,
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk() -> EndpointRisk {
        EndpointRisk {
            overall: RiskLevel::Critical,
            assessments: AssessmentKind::ALL
                .into_iter()
                .zip(RiskLevel::ALL)
                .map(|(kind, level)| Assessment {
                    kind,
                    level,
                    reason: format!("{} reason", kind.as_str()),
                    factors: vec![format!("{} factor", level.as_str())],
                })
                .collect(),
        }
    }

    #[test]
    fn a_computed_risk_round_trips_through_the_stored_version() {
        let stored = stored_assessment::to_json(&risk());
        assert_eq!(endpoint_risk(1, &stored, "Critical"), risk());
    }

    #[test]
    fn a_row_stored_before_versions_reads_as_it_did() {
        // Version 0: the page DTO's serde shape, as re-models wrote it before version 1.
        let legacy = r#"{"overall":"High","assessments":[{"kind":"Profile","level":"Low","reason":"A printer","factors":[]},{"kind":"Defender","level":"High","reason":"An alert","factors":["Ransomware"]}]}"#;
        let expected = EndpointRisk {
            overall: RiskLevel::High,
            assessments: vec![
                Assessment {
                    kind: AssessmentKind::Profile,
                    level: RiskLevel::Low,
                    reason: "A printer".into(),
                    factors: Vec::new(),
                },
                Assessment {
                    kind: AssessmentKind::Defender,
                    level: RiskLevel::High,
                    reason: "An alert".into(),
                    factors: vec!["Ransomware".into()],
                },
            ],
        };
        assert_eq!(endpoint_risk(1, legacy, "High"), expected);
        assert_eq!(
            serde_json::from_str::<EndpointRisk>(legacy).unwrap(),
            expected
        );
    }

    #[test]
    fn a_defender_risk_round_trips_and_reads_its_legacy_rows() {
        let risk = DefenderRisk {
            exposure: LevelReason {
                level: RiskLevel::High,
                reason: "r".into(),
                factors: vec!["CVE-1".into()],
                unknown: false,
            },
            alert: LevelReason {
                level: RiskLevel::None,
                reason: "unknown".into(),
                factors: Vec::new(),
                unknown: true,
            },
            most_severe_vulnerability: Some("CVE-1".into()),
            most_severe_alert: None,
        };
        let stored = stored_assessment::defender_to_json(&risk);
        assert_eq!(defender_risk(1, &stored), Some(risk.clone()));
        let legacy = r#"{"exposure":{"level":"High","reason":"r","factors":["CVE-1"]},"alert":{"level":"None","reason":"unknown","factors":[],"unknown":true},"most_severe_vulnerability":"CVE-1","most_severe_alert":null}"#;
        assert_eq!(defender_risk(1, legacy), Some(risk));
        assert_eq!(defender_risk(1, r#"{"v":2}"#), None);
    }

    #[test]
    fn a_newer_version_keeps_the_listed_level_and_shows_no_findings() {
        let newer = r#"{"v":7,"overall":{"level":"High"},"findings":[]}"#;
        assert_eq!(
            endpoint_risk(1, newer, "High"),
            EndpointRisk {
                overall: RiskLevel::High,
                assessments: Vec::new(),
            }
        );
        assert_eq!(endpoint_risk(1, "{broken", "High"), EndpointRisk::default());
    }
}
