//! The Alert Risk Level: the level of each active alert, and the machine's most severe one.
//!
//! Rules (alert fields of defender-api.md §5.3; §10: "active (non-Resolved) alerts' max
//! severity"):
//!
//! | alert | level |
//! |---|---|
//! | status `Resolved` | ignored |
//! | status `New`, `InProgress`, `Unknown` (or undocumented) | active, levelled by severity |
//! | severity High / Medium / Low | High / Medium / Low |
//! | severity Informational / UnSpecified | Low: open, worth a look, not a threat by itself |
//! | severity undocumented | Medium: unreadable, neither dismissed nor alarming |
//!
//! Defender has no Critical alert severity (§5.3), so alerts alone never make an endpoint
//! Critical; `defender::assess` combines them with vulnerabilities for that.

use app::model::risk::{LevelReason, RiskLevel};

use crate::risk::facts::{AlertFact, AlertSeverity};

/// The level one active alert gives the machine (see the module table).
pub fn alert_level(alert: &AlertFact) -> RiskLevel {
    match alert.severity {
        AlertSeverity::High => RiskLevel::High,
        AlertSeverity::Medium | AlertSeverity::Unknown => RiskLevel::Medium,
        AlertSeverity::Low | AlertSeverity::Informational | AlertSeverity::UnSpecified => {
            RiskLevel::Low
        }
    }
}

/// The most severe alert that is not resolved, with its level; `None` when there is none.
///
/// Ties go by computed level, then Defender severity, then the smaller alert id, so the
/// choice never depends on the order Defender listed them in.
pub fn most_severe_active(alerts: &[AlertFact]) -> Option<(&AlertFact, RiskLevel)> {
    alerts
        .iter()
        .filter(|alert| alert.status.is_active())
        .map(|alert| (alert, alert_level(alert)))
        .max_by(|(a, la), (b, lb)| {
            la.cmp(lb)
                .then(a.severity.cmp(&b.severity))
                .then_with(|| b.id.cmp(&a.id))
        })
}

/// The Alert Risk Level with its reason, and the alert it comes from.
pub fn alert_risk(alerts: &[AlertFact]) -> (LevelReason, Option<&AlertFact>) {
    let active = alerts.iter().filter(|a| a.status.is_active()).count();
    let resolved = alerts.len() - active;
    let Some((top, level)) = most_severe_active(alerts) else {
        let reason = LevelReason {
            level: RiskLevel::None,
            reason: format!(
                "Defender reports no active alerts on this machine ({resolved} resolved)."
            ),
            factors: Vec::new(),
            unknown: false,
        };
        return (reason, None);
    };
    let reason = format!(
        "The most severe of {active} active alerts is \"{title}\": severity {severity}, \
         status {status}, so the alert level is {level} ({resolved} resolved alerts not \
         counted).",
        title = top.title,
        severity = top.severity.as_str(),
        status = top.status.as_str(),
        level = level.as_str(),
    );
    let factors = vec![
        format!("Alert {}: \"{}\"", top.id, top.title),
        format!("severity {}", top.severity.as_str()),
        format!("status {}", top.status.as_str()),
        format!("{active} active, {resolved} resolved alerts"),
    ];
    let reason = LevelReason {
        level,
        reason,
        factors,
        unknown: false,
    };
    (reason, Some(top))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::facts::AlertStatus;

    fn alert(id: &str, severity: AlertSeverity, status: AlertStatus) -> AlertFact {
        AlertFact {
            id: id.into(),
            title: format!("Alert {id}"),
            severity,
            status,
        }
    }

    #[test]
    fn severity_by_status_table() {
        use AlertSeverity as S;
        use AlertStatus as St;
        use RiskLevel as R;
        let severities = [
            (S::High, R::High),
            (S::Medium, R::Medium),
            (S::Low, R::Low),
            (S::Informational, R::Low),
            (S::UnSpecified, R::Low),
            (S::Unknown, R::Medium),
        ];
        let statuses = [
            (St::New, true),
            (St::InProgress, true),
            (St::Unknown, true),
            (St::Resolved, false),
        ];
        for (severity, active_level) in severities {
            for (status, active) in statuses {
                let alerts = [alert("a", severity, status)];
                let (reason, top) = alert_risk(&alerts);
                let expected = if active { active_level } else { R::None };
                assert_eq!(reason.level, expected, "{severity:?} {status:?}");
                assert_eq!(top.is_some(), active, "{severity:?} {status:?}");
            }
        }
    }

    #[test]
    fn resolved_alerts_never_count_however_severe() {
        let alerts = [
            alert("a", AlertSeverity::High, AlertStatus::Resolved),
            alert("b", AlertSeverity::Low, AlertStatus::New),
        ];
        let (reason, top) = alert_risk(&alerts);
        assert_eq!(reason.level, RiskLevel::Low);
        assert_eq!(top.map(|a| a.id.as_str()), Some("b"));
        assert!(reason.reason.contains("1 resolved"), "{}", reason.reason);
    }

    #[test]
    fn the_most_severe_active_alert_is_chosen_deterministically() {
        use AlertSeverity as S;
        use AlertStatus as St;
        let cases: [(Vec<AlertFact>, &str); 4] = [
            (
                vec![
                    alert("a", S::Low, St::New),
                    alert("b", S::High, St::InProgress),
                ],
                "b",
            ),
            // Same level (Low): Defender severity decides.
            (
                vec![
                    alert("a", S::Informational, St::New),
                    alert("b", S::Low, St::New),
                ],
                "b",
            ),
            (
                vec![
                    alert("a", S::UnSpecified, St::New),
                    alert("b", S::Informational, St::New),
                ],
                "b",
            ),
            // Full tie: the smaller id.
            (
                vec![
                    alert("da2", S::Medium, St::New),
                    alert("da1", S::Medium, St::Unknown),
                ],
                "da1",
            ),
        ];
        for (mut alerts, expected) in cases {
            for _ in 0..2 {
                let (top, _) = most_severe_active(&alerts).expect("an active alert");
                assert_eq!(top.id, expected, "{alerts:?}");
                alerts.reverse();
            }
        }
    }

    #[test]
    fn the_alert_reason_names_title_severity_and_status() {
        let alerts = [AlertFact {
            id: "da638712004455667788_-1423377901".into(),
            title: "Suspicious PowerShell command line".into(),
            severity: AlertSeverity::High,
            status: AlertStatus::InProgress,
        }];
        let (reason, top) = alert_risk(&alerts);
        assert_eq!(reason.level, RiskLevel::High);
        assert_eq!(
            top.map(|a| a.id.as_str()),
            Some("da638712004455667788_-1423377901")
        );
        for words in [
            "\"Suspicious PowerShell command line\"",
            "severity High",
            "status InProgress",
            "alert level is High",
        ] {
            assert!(
                reason.reason.contains(words),
                "{words:?} in {}",
                reason.reason
            );
        }
    }

    #[test]
    fn no_alerts_mean_no_alert_risk() {
        let (reason, id) = alert_risk(&[]);
        assert_eq!(reason.level, RiskLevel::None);
        assert!(
            reason.reason.contains("no active alerts"),
            "{}",
            reason.reason
        );
        assert_eq!(id, None);
    }
}
