//! The risk an endpoint's assessment stores (`endpoint_assessment.risk` and `.defender_risk`):
//! versioned shapes of their own, so the page's `EndpointRisk` and `DefenderRisk` may change
//! without stored rows changing meaning.
//!
//! Version 1 of `risk` is
//! `{"v":1,"overall":LEVEL,"assessments":[{"kind","level","reason","factors"}]}`; of
//! `defender_risk`, `{"v":1,"exposure":LEVEL_REASON,"alert":LEVEL_REASON,
//! "most_severe_vulnerability","most_severe_alert"}` with `LEVEL_REASON` =
//! `{"level","reason","factors"}` plus `"unknown":true` when the source could not be read.
//! Levels and kinds go by their stored names (`RiskLevel::as_str`, `AssessmentKind::as_str`).
//! Rows written before carry no `v` (version 0): they are the page DTOs' serde shapes of the
//! time, which have the same fields, so one reader serves both versions.
//!
//! No migration rewrites the old rows. The digest stored beside each assessment covers this
//! text, so the first re-model after the upgrade sees every digest change and writes each
//! assessment again as version 1, through the path a re-model takes anyway; a SQL migration
//! would leave every digest stale and be followed by that same rewrite. Until then, version 0
//! reads as before.

use app::model::risk::{Assessment, DefenderRisk, EndpointRisk, LevelReason};
use serde::{Deserialize, Serialize, Serializer};

/// The version [`to_json`] and [`defender_to_json`] write.
pub const VERSION: u64 = 1;

/// A stored risk as read, in the stored terms; `views` turns it into the page's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredRisk {
    pub overall: String,
    pub assessments: Vec<StoredFinding>,
}

/// One source's verdict as stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredFinding {
    pub kind: String,
    pub level: String,
    pub reason: String,
    #[serde(default)]
    pub factors: Vec<String>,
}

/// Why a stored risk could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the stored risk is not valid JSON of any known version: {0}")]
    Damaged(#[from] serde_json::Error),
    /// Written by a newer build (e.g. before a rollback): its fields are not known here.
    #[error("the stored risk has version {0}; this build reads up to version {VERSION}")]
    NewerVersion(u64),
}

/// A stored Defender risk as read (`defender_risk`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredDefenderRisk {
    pub exposure: StoredLevelReason,
    pub alert: StoredLevelReason,
    pub most_severe_vulnerability: Option<String>,
    pub most_severe_alert: Option<String>,
}

/// One Defender sub-level with its reason, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredLevelReason {
    pub level: String,
    pub reason: String,
    #[serde(default)]
    pub factors: Vec<String>,
    #[serde(default)]
    pub unknown: bool,
}

/// Reads the `risk` column of any version this build knows.
pub fn read(text: &str) -> Result<StoredRisk, ReadError> {
    read_versioned(text)
}

/// Reads the `defender_risk` column of any version this build knows.
pub fn read_defender(text: &str) -> Result<StoredDefenderRisk, ReadError> {
    read_versioned(text)
}

/// Versions 0 and 1 have the same fields; a later one is refused before its fields are read.
fn read_versioned<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ReadError> {
    #[derive(Deserialize)]
    struct Version {
        #[serde(default)]
        v: u64,
    }
    match serde_json::from_str::<Version>(text)?.v {
        0 | 1 => Ok(serde_json::from_str(text)?),
        newer => Err(ReadError::NewerVersion(newer)),
    }
}

/// The `risk` column for a computed risk, as version 1. Serialised straight from `risk`: one
/// string per endpoint, as before the version was added (the re-model writes 100k of them).
pub fn to_json(risk: &EndpointRisk) -> String {
    #[derive(Serialize)]
    struct V1<'a> {
        v: u64,
        overall: &'a str,
        #[serde(serialize_with = "findings")]
        assessments: &'a [Assessment],
    }
    let stored = V1 {
        v: VERSION,
        overall: risk.overall.as_str(),
        assessments: &risk.assessments,
    };
    serde_json::to_string(&stored).unwrap_or_else(|_| "{}".to_owned())
}

fn findings<S: Serializer>(assessments: &&[Assessment], serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Finding<'a> {
        kind: &'a str,
        level: &'a str,
        reason: &'a str,
        factors: &'a [String],
    }
    serializer.collect_seq(assessments.iter().map(|a| Finding {
        kind: a.kind.as_str(),
        level: a.level.as_str(),
        reason: &a.reason,
        factors: &a.factors,
    }))
}

/// The `defender_risk` column for a computed Defender risk, as version 1, serialised straight
/// from `risk` like [`to_json`].
pub fn defender_to_json(risk: &DefenderRisk) -> String {
    #[derive(Serialize)]
    struct V1<'a> {
        v: u64,
        exposure: Level<'a>,
        alert: Level<'a>,
        most_severe_vulnerability: Option<&'a str>,
        most_severe_alert: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct Level<'a> {
        level: &'a str,
        reason: &'a str,
        factors: &'a [String],
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        unknown: bool,
    }
    fn level(l: &LevelReason) -> Level<'_> {
        Level {
            level: l.level.as_str(),
            reason: &l.reason,
            factors: &l.factors,
            unknown: l.unknown,
        }
    }
    let stored = V1 {
        v: VERSION,
        exposure: level(&risk.exposure),
        alert: level(&risk.alert),
        most_severe_vulnerability: risk.most_severe_vulnerability.as_deref(),
        most_severe_alert: risk.most_severe_alert.as_deref(),
    };
    serde_json::to_string(&stored).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use app::model::risk::{AssessmentKind, RiskLevel};

    use super::*;

    fn risk() -> EndpointRisk {
        EndpointRisk {
            overall: RiskLevel::High,
            assessments: vec![
                Assessment {
                    kind: AssessmentKind::Profile,
                    level: RiskLevel::Low,
                    reason: "A printer".into(),
                    factors: Vec::new(),
                },
                Assessment {
                    kind: AssessmentKind::DuplicateMac,
                    level: RiskLevel::High,
                    reason: "Seen twice".into(),
                    factors: vec!["00:15:5D:00:00:01".into()],
                },
            ],
        }
    }

    #[test]
    fn version_1_is_written_in_its_own_fixed_shape() {
        // Stored in databases: this text is a contract with every row already written.
        assert_eq!(
            to_json(&risk()),
            r#"{"v":1,"overall":"High","assessments":[{"kind":"Profile","level":"Low","reason":"A printer","factors":[]},{"kind":"DuplicateMac","level":"High","reason":"Seen twice","factors":["00:15:5D:00:00:01"]}]}"#
        );
    }

    #[test]
    fn what_is_written_reads_back() {
        let read = read(&to_json(&risk())).unwrap();
        assert_eq!(read.overall, "High");
        assert_eq!(
            read.assessments[1],
            StoredFinding {
                kind: "DuplicateMac".into(),
                level: "High".into(),
                reason: "Seen twice".into(),
                factors: vec!["00:15:5D:00:00:01".into()],
            }
        );
    }

    #[test]
    fn rows_written_before_versions_read_as_version_0() {
        // As the re-model wrote them until version 1, and as the list reads an unassessed one.
        let legacy = r#"{"overall":"Medium","assessments":[{"kind":"Network","level":"Medium","reason":"Telnet open","factors":["23/tcp"]}]}"#;
        let read = read(legacy).unwrap();
        assert_eq!(read.overall, "Medium");
        assert_eq!(read.assessments[0].kind, "Network");
        assert_eq!(read.assessments[0].factors, ["23/tcp"]);
        let unassessed = super::read(r#"{"overall":"None","assessments":[]}"#).unwrap();
        assert!(unassessed.assessments.is_empty());
    }

    fn defender() -> DefenderRisk {
        DefenderRisk {
            exposure: LevelReason {
                level: RiskLevel::Critical,
                reason: "CVE-2026-1 has a public exploit".into(),
                factors: vec!["CVE-2026-1".into()],
                unknown: false,
            },
            alert: LevelReason {
                level: RiskLevel::None,
                reason: "Alerts could not be read".into(),
                factors: Vec::new(),
                unknown: true,
            },
            most_severe_vulnerability: Some("CVE-2026-1".into()),
            most_severe_alert: None,
        }
    }

    #[test]
    fn the_defender_risk_is_written_in_its_own_fixed_shape() {
        assert_eq!(
            defender_to_json(&defender()),
            r#"{"v":1,"exposure":{"level":"Critical","reason":"CVE-2026-1 has a public exploit","factors":["CVE-2026-1"]},"alert":{"level":"None","reason":"Alerts could not be read","factors":[],"unknown":true},"most_severe_vulnerability":"CVE-2026-1","most_severe_alert":null}"#
        );
        let read = read_defender(&defender_to_json(&defender())).unwrap();
        assert_eq!(read.exposure.level, "Critical");
        assert!(!read.exposure.unknown && read.alert.unknown);
        assert_eq!(
            read.most_severe_vulnerability.as_deref(),
            Some("CVE-2026-1")
        );
    }

    #[test]
    fn defender_rows_written_before_versions_read_as_version_0() {
        let legacy = r#"{"exposure":{"level":"High","reason":"r","factors":[]},"alert":{"level":"Low","reason":"a","factors":["x"]},"most_severe_vulnerability":null,"most_severe_alert":"da1"}"#;
        let read = read_defender(legacy).unwrap();
        assert_eq!(
            (read.exposure.level.as_str(), read.exposure.unknown),
            ("High", false)
        );
        assert_eq!(read.most_severe_alert.as_deref(), Some("da1"));
        assert!(matches!(
            read_defender(r#"{"v":3}"#),
            Err(ReadError::NewerVersion(3))
        ));
    }

    #[test]
    fn a_newer_version_is_named_not_misread() {
        let newer = r#"{"v":2,"level":"High","findings":[]}"#;
        assert!(matches!(read(newer), Err(ReadError::NewerVersion(2))));
        assert!(matches!(read("not json"), Err(ReadError::Damaged(_))));
        assert!(matches!(
            read(r#"{"v":1,"overall":"High"}"#),
            Err(ReadError::Damaged(_))
        ));
    }
}
