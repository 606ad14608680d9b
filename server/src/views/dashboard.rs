//! The dashboard: endpoints by risk level, coverage by Defender (onboarding state, seen on the
//! network or not), the riskiest endpoints, the open machine actions and the last sync, of
//! every endpoint or of one Defender device group's. A group's figures come from the endpoint
//! list's snapshot, so they are exactly what the list shows filtered by that group; every
//! endpoint's counts and riskiest endpoints come from indexed queries instead.

use std::collections::BTreeMap;

use app::model::endpoint::{
    CoverageRow, DashboardView, EndpointQuery, EndpointRow, OpenAction, DASHBOARD_ROWS,
};
use app::model::risk::RiskLevel;

use super::endpoint_list::ListCache;
use super::endpoint_row::cached_row;
use super::sync_journal::journal;
use crate::actions::panel;
use crate::db::{DbError, Stores};

pub async fn dashboard(
    db: &Stores,
    cache: &ListCache,
    group: Option<String>,
) -> Result<DashboardView, DbError> {
    let scope = match &group {
        Some(group) => of_group(db, cache, group).await?,
        None => of_all(db, cache).await?,
    };
    let (network_total, network_not_onboarded) = network_coverage(&scope.coverage);
    let (open_actions, open_actions_total) = open_actions(db, cache, group.as_deref()).await?;
    Ok(DashboardView {
        total: scope.by_risk.iter().map(|(_, n)| n).sum(),
        by_risk: scope.by_risk,
        network_total,
        network_not_onboarded,
        last_sync: journal(&*db.sync_journal, 1).await?.into_iter().next(),
        group,
        device_groups: scope.device_groups,
        risk_trend: super::risk_history::trend(db).await?,
        coverage: scope.coverage,
        top_risky: scope.top_risky,
        open_actions,
        open_actions_total,
    })
}

/// What differs between the whole inventory and one device group.
struct Scope {
    by_risk: Vec<(RiskLevel, u64)>,
    coverage: Vec<CoverageRow>,
    top_risky: Vec<EndpointRow>,
    device_groups: Vec<String>,
}

async fn of_all(db: &Stores, cache: &ListCache) -> Result<Scope, DbError> {
    let views = &*db.endpoint_views;
    // From the risk-level index, not a pass over the list's snapshot.
    let counts = views.count_by_risk().await?;
    let by_risk = RiskLevel::ALL
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
    let mut coverage = Coverage::default();
    for c in views.coverage().await? {
        let n = c.endpoints.max(0) as u64;
        coverage.add(c.onboarding_status, c.source_network, c.source_defender, n);
    }
    // Most severe level first, as many of each as are still wanted.
    let mut top_risky = Vec::new();
    for level in RiskLevel::ALL.into_iter().rev() {
        let wanted = DASHBOARD_ROWS - top_risky.len();
        if level == RiskLevel::None || wanted == 0 {
            break;
        }
        let rows = views.at_risk_level(level.as_str(), wanted as i64).await?;
        top_risky.extend(rows.into_iter().map(|r| cached_row(r).0));
    }
    Ok(Scope {
        by_risk,
        coverage: coverage.rows(),
        top_risky,
        device_groups: cache.device_groups(views).await?,
    })
}

async fn of_group(db: &Stores, cache: &ListCache, group: &str) -> Result<Scope, DbError> {
    let views = &*db.endpoint_views;
    let counts = cache.group_counts(views, group).await?;
    let by_risk = RiskLevel::ALL
        .into_iter()
        .map(|level| {
            let n = counts.by_risk.get(level.as_str()).copied().unwrap_or(0);
            (level, n)
        })
        .collect();
    let mut coverage = Coverage::default();
    for ((onboarding, network, defender), n) in counts.coverage {
        coverage.add(onboarding, network, defender, n);
    }
    let riskiest = cache
        .page(
            views,
            &EndpointQuery {
                group: group.to_owned(),
                sort: "risk".into(),
                dir: "desc".into(),
                page: 1,
                page_size: DASHBOARD_ROWS as u32,
                ..EndpointQuery::default()
            }
            .normalised(),
        )
        .await?;
    Ok(Scope {
        by_risk,
        coverage: coverage.rows(),
        top_risky: riskiest
            .rows
            .into_iter()
            .filter(|r| r.risk_level != RiskLevel::None)
            .collect(),
        device_groups: counts.device_groups,
    })
}

/// Endpoint counts by onboarding state, split by whether the network saw them.
#[derive(Default)]
struct Coverage(BTreeMap<Option<String>, CoverageRow>);

impl Coverage {
    fn add(&mut self, onboarding: Option<String>, network: bool, defender: bool, n: u64) {
        let row = self
            .0
            .entry(onboarding.clone())
            .or_insert_with(|| CoverageRow {
                onboarding,
                on_network: 0,
                defender_only: 0,
            });
        if network {
            row.on_network += n;
        } else if defender {
            row.defender_only += n;
        }
    }

    /// Not in Defender first (`None` sorts first), then onboarded, then the other states.
    fn rows(self) -> Vec<CoverageRow> {
        let mut rows: Vec<CoverageRow> = self
            .0
            .into_values()
            .filter(|r| r.on_network + r.defender_only > 0)
            .collect();
        rows.sort_by_key(|r| {
            (
                r.onboarding.is_some(),
                r.onboarding.as_deref() != Some("Onboarded"),
                r.onboarding.clone(),
            )
        });
        rows
    }
}

/// (seen on the network, of which not onboarded in Defender).
fn network_coverage(rows: &[CoverageRow]) -> (u64, u64) {
    let total = rows.iter().map(|r| r.on_network).sum();
    let onboarded: u64 = rows
        .iter()
        .filter(|r| r.onboarding.as_deref() == Some("Onboarded"))
        .map(|r| r.on_network)
        .sum();
    (total, total - onboarded)
}

/// The open actions (of the group's endpoints, when a group is chosen), oldest first, with
/// each endpoint's name as the list shows it; and how many there are. The names and groups come
/// from the list's snapshot, which the dashboard loads for its device groups anyway.
async fn open_actions(
    db: &Stores,
    cache: &ListCache,
    group: Option<&str>,
) -> Result<(Vec<OpenAction>, u64), DbError> {
    let mut open = db.actions.open().await?;
    let (rows, _) = cache
        .rows_of(&*db.endpoint_views, open.iter().map(|a| a.endpoint_id))
        .await?;
    if let Some(g) = group {
        open.retain(|a| {
            rows.get(&a.endpoint_id)
                .is_some_and(|r| r.device_group.as_deref() == Some(g))
        });
    }
    let shown = open
        .iter()
        .take(DASHBOARD_ROWS)
        .map(|a| OpenAction {
            endpoint_id: a.endpoint_id,
            endpoint_name: rows
                .get(&a.endpoint_id)
                .and_then(name)
                .unwrap_or_else(|| a.machine_id.clone()),
            action: panel::view(a),
        })
        .collect();
    Ok((shown, open.len() as u64))
}

/// An endpoint's name: its hostname, else its IP, else its MAC.
fn name(row: &EndpointRow) -> Option<String> {
    row.hostname
        .clone()
        .or_else(|| row.ip.clone())
        .or_else(|| row.mac.clone())
}
