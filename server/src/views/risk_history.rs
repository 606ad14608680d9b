//! The recorded risk history as the pages show it: one endpoint's changes for its Summary, and
//! every endpoint by level over the last 30 days for the dashboard.

use app::model::risk::RiskLevel;
use app::model::risk_history::{RiskChange, RiskTrendDay};

use crate::db::risk_history::RiskPoint;
use crate::db::{DbError, Stores};
use crate::sync::risk_record::day_of;

/// Changes shown on a Summary: years of hourly syncs rarely change an endpoint this often.
const CHANGES_SHOWN: i64 = 200;
/// Days the dashboard's trend covers, today included.
const TREND_DAYS: i64 = 30;

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn change(p: RiskPoint) -> RiskChange {
    RiskChange {
        recorded_at: p.recorded_at,
        risk_level: RiskLevel::parse(&p.risk_level).unwrap_or_default(),
        critical: count(p.critical),
        high: count(p.high),
        medium: count(p.medium),
        low: count(p.low),
    }
}

/// One endpoint's recorded changes, newest first.
pub async fn timeline(db: &Stores, endpoint_id: i64) -> Result<Vec<RiskChange>, DbError> {
    Ok(db
        .risk_history
        .timeline(endpoint_id, CHANGES_SHOWN)
        .await?
        .into_iter()
        .map(change)
        .collect())
}

/// Every endpoint by level for each of the last 30 days that had a sync, oldest first.
pub async fn trend(db: &Stores) -> Result<Vec<RiskTrendDay>, DbError> {
    let since = day_of(time::OffsetDateTime::now_utc() - time::Duration::days(TREND_DAYS - 1));
    let mut days: Vec<RiskTrendDay> = Vec::new();
    for row in db.risk_history.daily(&since).await? {
        if days.last().is_none_or(|d| d.day != row.day) {
            days.push(RiskTrendDay {
                day: row.day.clone(),
                by_risk: RiskLevel::ALL.into_iter().map(|l| (l, 0)).collect(),
            });
        }
        let level = RiskLevel::parse(&row.risk_level).unwrap_or_default();
        if let Some(day) = days.last_mut() {
            if let Some(slot) = day.by_risk.iter_mut().find(|(l, _)| *l == level) {
                slot.1 += count(row.endpoints);
            }
        }
    }
    Ok(days)
}
