//! The dashboard: endpoints by risk level, network coverage by Defender, and the last sync.

use app::model::endpoint::DashboardView;
use app::model::risk::RiskLevel;

use super::sync_journal::journal;
use crate::db::{DbError, Stores};

pub async fn dashboard(db: &Stores) -> Result<DashboardView, DbError> {
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
    let (network_total, network_not_onboarded) = db.endpoint_views.network_coverage().await?;
    Ok(DashboardView {
        total: by_risk.iter().map(|(_, n)| n).sum(),
        by_risk,
        network_total: network_total.max(0) as u64,
        network_not_onboarded: network_not_onboarded.max(0) as u64,
        last_sync: journal(&*db.sync_journal, 1).await?.into_iter().next(),
    })
}
