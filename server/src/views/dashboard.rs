//! The dashboard: endpoints by risk level, network coverage by Defender, and the last sync, of
//! every endpoint or of one Defender device group's. A group's figures come from the endpoint
//! list's snapshot, so they are exactly what the list shows filtered by that group.

use app::model::endpoint::DashboardView;
use app::model::risk::RiskLevel;

use super::endpoint_list::ListCache;
use super::sync_journal::journal;
use crate::db::{DbError, Stores};

pub async fn dashboard(
    db: &Stores,
    cache: &ListCache,
    group: Option<String>,
) -> Result<DashboardView, DbError> {
    let (by_risk, network_total, network_not_onboarded, device_groups) = match &group {
        Some(group) => {
            let counts = cache.group_counts(&*db.endpoint_views, group).await?;
            let by_risk: Vec<(RiskLevel, u64)> = RiskLevel::ALL
                .into_iter()
                .map(|level| {
                    let n = counts.by_risk.get(level.as_str()).copied().unwrap_or(0);
                    (level, n)
                })
                .collect();
            (
                by_risk,
                counts.network_total,
                counts.network_not_onboarded,
                counts.device_groups,
            )
        }
        None => {
            // Every endpoint: from the risk-level index, without the list's snapshot.
            let counts = db.endpoint_views.count_by_risk().await?;
            let by_risk: Vec<(RiskLevel, u64)> = RiskLevel::ALL
                .into_iter()
                .map(|level| {
                    let n = counts
                        .iter()
                        .filter(|(name, _)| RiskLevel::parse(name).unwrap_or_default() == level)
                        .map(|(_, n)| (*n).max(0) as u64)
                        .sum();
                    (level, n)
                })
                .collect();
            let (total, not_onboarded) = db.endpoint_views.network_coverage().await?;
            (
                by_risk,
                total.max(0) as u64,
                not_onboarded.max(0) as u64,
                cache.device_groups(&*db.endpoint_views).await?,
            )
        }
    };
    Ok(DashboardView {
        total: by_risk.iter().map(|(_, n)| n).sum(),
        by_risk,
        network_total,
        network_not_onboarded,
        last_sync: journal(&*db.sync_journal, 1).await?.into_iter().next(),
        group,
        device_groups,
        risk_trend: super::risk_history::trend(db).await?,
    })
}
