//! The dashboard: endpoints by risk level (an SVG chart drawn here, no chart library),
//! coverage (seen on the network but not onboarded in Defender), and the last sync.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::endpoints::dashboard;
use crate::components::feedback::empty_state::EmptyState;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::time::Time;
use crate::model::endpoint::{encode, DashboardView};
use crate::model::risk::RiskLevel;
use crate::model::risk_history::RiskTrendDay;

#[component]
pub fn DashboardPage() -> impl IntoView {
    // `?group=`: one Defender device group's endpoints, as the endpoint list names them.
    let query = use_query_map();
    let group = Memo::new(move |_| query.with(|q| q.get("group").filter(|g| !g.is_empty())));
    let data = Resource::new(move || group.get(), dashboard);
    view! {
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) if view.total == 0 && view.group.is_none() => view! {
                        <EmptyState title="No endpoints yet">
                            <p>"Endpoints appear here once the Microsoft Defender integration has synced or a network scan has been imported."</p>
                            <p><a href="/configuration/integrations">"Configure an integration"</a></p>
                        </EmptyState>
                    }.into_any(),
                    Ok(view) => view! { <DashboardPanels view/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DashboardPanels(view: DashboardView) -> impl IntoView {
    let coverage = if view.network_total == 0 {
        "No endpoint has been seen by network discovery yet.".to_owned()
    } else {
        format!(
            "{} of {} endpoints seen on the network are not onboarded in Microsoft Defender.",
            view.network_not_onboarded, view.network_total
        )
    };
    let last_sync = match &view.last_sync {
        Some(run) => {
            let at = run
                .finished_at
                .clone()
                .unwrap_or_else(|| run.started_at.clone());
            let outcome = format!(
                " — {} ({} machines seen, {} added, {} updated){}",
                run.outcome,
                run.machines_seen,
                run.machines_added,
                run.machines_updated,
                run.error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
            view! { <Time at=at/>{outcome} }.into_any()
        }
        None => "Never".into_any(),
    };
    // Links to the list carry the group, so a bar leads to exactly the endpoints it counts.
    let in_group = view
        .group
        .as_deref()
        .map(|g| format!("&group={}", encode(g)))
        .unwrap_or_default();
    let chosen = view.group.clone();
    view! {
        <form method="get" action="/" class="filters" aria-label="Dashboard scope">
            <label>"Device group"
                <select name="group">
                    <option value="" selected=chosen.is_none()>"All endpoints"</option>
                    {view.device_groups.iter().map(|g| view! {
                        <option value=g.clone() selected=chosen.as_deref() == Some(g.as_str())>{g.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Show"</button>
        </form>
        {view.group.clone().map(|g| view! {
            <p class="hint" data-testid="dashboard-scope">{format!("Endpoints of the device group {g}: {} in all.", view.total)}</p>
        })}
        <div class="dashboard-grid">
            <section class="panel" aria-label="Endpoints by risk level">
                <h2>"Endpoints by risk level"</h2>
                <RiskChart counts=view.by_risk.clone() in_group=in_group.clone()/>
            </section>
            <section class="panel" aria-label="Coverage">
                <h2>"Coverage"</h2>
                <p data-testid="coverage">{coverage}</p>
                <p><a href=format!("/endpoints?source=network&onboarding=none{in_group}")>"Endpoints not in Defender"</a></p>
            </section>
            <section class="panel" aria-label="Last sync">
                <h2>"Last sync"</h2>
                <p data-testid="last-sync">{last_sync}</p>
            </section>
        </div>
        <section class="panel" aria-label="Risk over the last 30 days">
            <h2>"Endpoints by risk level, last 30 days"</h2>
            <p class="hint">"Every endpoint, after the last sync of each day (UTC); days without a sync are left out."</p>
            <RiskTrend days=view.risk_trend.clone()/>
        </section>
    }
    .into_any()
}

/// One stacked bar per day, most severe on the left, with the counts in a table beside it (the
/// bar alone says nothing to a screen reader).
#[component]
fn RiskTrend(days: Vec<RiskTrendDay>) -> impl IntoView {
    if days.is_empty() {
        return view! { <p>"No sync has recorded the endpoints' risk yet."</p> }.into_any();
    }
    let levels: Vec<RiskLevel> = RiskLevel::ALL.into_iter().rev().collect();
    let head = levels
        .iter()
        .map(|l| view! { <th>{l.as_str()}</th> })
        .collect_view();
    let rows = days
        .into_iter()
        .rev()
        .map(|d| {
            let total = d.total().max(1) as f64;
            let count = |level: RiskLevel| {
                d.by_risk
                    .iter()
                    .find(|(l, _)| *l == level)
                    .map_or(0, |(_, n)| *n)
            };
            // SVG geometry, not inline styles: the Content-Security-Policy allows none.
            let mut x = 0.0;
            let bar = levels
                .iter()
                .map(|&l| {
                    let width = count(l) as f64 / total * 100.0;
                    let part = view! {
                        <rect class=format!("trend-part {}", l.css_class())
                            x=format!("{x:.2}") y="0" width=format!("{width:.2}") height="10"></rect>
                    };
                    x += width;
                    part
                })
                .collect_view();
            let cells = levels
                .iter()
                .map(|&l| view! { <td>{count(l)}</td> })
                .collect_view();
            view! {
                <tr>
                    <td class="mono">{d.day.clone()}</td>
                    <td class="trend-cell">
                        <svg class="trend-bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">{bar}</svg>
                    </td>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data-table compact risk-trend" data-testid="risk-trend">
            <thead><tr><th>"Day"</th><th>"Share"</th>{head}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Horizontal bars, one per level, each a link to the list filtered to that level.
#[component]
fn RiskChart(counts: Vec<(RiskLevel, u64)>, in_group: String) -> impl IntoView {
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let row_height = 34;
    let height = row_height * counts.len() as u32 + 10;
    let bars = counts
        .into_iter()
        .rev()
        .enumerate()
        .map(|(i, (level, n))| {
            let y = i as u32 * row_height + 5;
            let width = (n as f64 / max as f64 * 300.0)
                .round()
                .max(if n > 0 { 2.0 } else { 0.0 });
            let href = format!("/endpoints?risk={}{in_group}", level.as_str());
            view! {
                <a href=href>
                    <g class=format!("chart-bar {}", level.css_class())>
                        <title>{format!("{}: {n} endpoints", level.as_str())}</title>
                        <text x="0" y=y + 21 class="chart-label">{level.as_str()}</text>
                        <rect x="80" y=y + 4 width=width height="24" rx="3"></rect>
                        <text x=90.0 + width y=y + 21 class="chart-value">{n.to_string()}</text>
                    </g>
                </a>
            }
        })
        .collect_view();
    view! {
        <svg class="risk-chart" viewBox=format!("0 0 460 {height}") role="img" aria-label="Endpoints by risk level">
            {bars}
        </svg>
    }
    .into_any()
}
