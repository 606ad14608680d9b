//! The dashboard: endpoints by risk level (an SVG chart drawn here, no chart library),
//! coverage (seen on the network but not onboarded in Defender), and the last sync.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::endpoints::dashboard;
use crate::components::data_table::{headings, DataTable, Heading};
use crate::components::feedback::empty_state::EmptyState;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::or_dash::or_dash;
use crate::components::risk_badge::RiskBadge;
use crate::components::time::Time;
use crate::model::endpoint::{
    encode, CoverageRow, DashboardView, EndpointRow, OpenAction, SyncRunView,
};
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
    // Links to the list carry the group, so a bar or a count leads to exactly what it counts.
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
                <CoverageTable rows=view.coverage.clone() in_group=in_group.clone()/>
                <p><a href=format!("/endpoints?source=network&onboarding=none{in_group}")>"Endpoints not in Defender"</a></p>
            </section>
            <section class="panel" aria-label="Last sync">
                <h2>"Last sync"</h2>
                <LastSync run=view.last_sync.clone()/>
            </section>
            <section class="panel" aria-label="Open actions">
                <h2>"Open actions"</h2>
                <OpenActions actions=view.open_actions.clone() total=view.open_actions_total/>
            </section>
        </div>
        <section class="panel" aria-label="Top risky endpoints">
            <h2>"Top risky endpoints"</h2>
            <TopRisky rows=view.top_risky.clone()/>
            <p><a href=format!("/endpoints?sort=risk&dir=desc{in_group}")>"Every endpoint by risk"</a></p>
        </section>
        <section class="panel" aria-label="Risk over the last 30 days">
            <h2>"Endpoints by risk level, last 30 days"</h2>
            <p class="hint">"Every endpoint, after the last sync of each day (UTC); days without a sync are left out."</p>
            <RiskTrend days=view.risk_trend.clone()/>
        </section>
    }
    .into_any()
}

/// The last sync run: when, its outcome, and what it saw.
#[component]
fn LastSync(run: Option<SyncRunView>) -> impl IntoView {
    let Some(run) = run else {
        return view! { <p data-testid="last-sync">"Never"</p> }.into_any();
    };
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
    view! {
        <p data-testid="last-sync"><Time at=at/>{outcome}</p>
        <p><a href="/configuration/integrations/microsoft-defender">"Sync journal"</a></p>
    }
    .into_any()
}

/// Endpoints by Defender onboarding state, seen on the network or known to Defender only;
/// every count a link to exactly those endpoints.
#[component]
fn CoverageTable(rows: Vec<CoverageRow>, in_group: String) -> impl IntoView {
    if rows.is_empty() {
        return ().into_any();
    }
    let rows = rows
        .into_iter()
        .map(|r| {
            let (state, value) = match &r.onboarding {
                Some(s) => (s.clone(), encode(s)),
                None => ("Not in Defender".to_owned(), "none".to_owned()),
            };
            let cell = |n: u64, source: &str| {
                if n == 0 {
                    return view! { <td>"0"</td> }.into_any();
                }
                let href = format!("/endpoints?source={source}&onboarding={value}{in_group}");
                view! { <td><a href=href>{n}</a></td> }.into_any()
            };
            view! {
                <tr>
                    <td>{state}</td>
                    {cell(r.on_network, "network")}
                    {cell(r.defender_only, "defender_only")}
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <DataTable compact=true testid="coverage-table" headings={headings(&["Onboarding state", "On the network", "Defender only"])} rows/>
    }
    .into_any()
}

/// The first endpoints of the list sorted by risk.
#[component]
fn TopRisky(rows: Vec<EndpointRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p>"No endpoint is at risk."</p> }.into_any();
    }
    let rows = rows
        .into_iter()
        .map(|r| {
            let name = r
                .hostname
                .clone()
                .or_else(|| r.ip.clone())
                .or_else(|| r.mac.clone())
                .unwrap_or_else(|| format!("Endpoint {}", r.id));
            view! {
                <tr>
                    <td><RiskBadge level=r.risk_level/></td>
                    <td><a href=format!("/endpoints/{}", r.id)>{name}</a></td>
                    <td class="mono">{or_dash(r.ip)}</td>
                    <td>{or_dash(r.profile_name)}</td>
                    <td>{or_dash(r.device_group)}</td>
                    <td>{r.onboarding_status.unwrap_or_else(|| "Not in Defender".to_owned())}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <DataTable compact=true testid="top-risky" headings={headings(&["Risk", "Endpoint", "IP", "Profile", "Device group", "Onboarding"])} rows/>
    }
    .into_any()
}

/// Machine actions Defender has not finished, oldest first.
#[component]
fn OpenActions(actions: Vec<OpenAction>, total: u64) -> impl IntoView {
    if actions.is_empty() {
        return view! { <p data-testid="open-actions">"No machine action is open."</p> }.into_any();
    }
    let more = (total > actions.len() as u64)
        .then(|| view! { <p class="hint">{format!("{} more not shown.", total - actions.len() as u64)}</p> });
    let rows = actions
        .into_iter()
        .map(|a| {
            let by = if a.action.external {
                format!("{} (in Defender)", a.action.requested_by)
            } else {
                a.action.requested_by.clone()
            };
            view! {
                <tr>
                    <td>{a.action.kind.label()}</td>
                    <td><a href=format!("/endpoints/{}", a.endpoint_id)>{a.endpoint_name}</a></td>
                    <td>{a.action.status.label()}</td>
                    <td>{by}</td>
                    <td><Time at=a.action.requested_at/></td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <p data-testid="open-actions">{format!("{total} open.")}</p>
        <DataTable compact=true headings={headings(&["Action", "Endpoint", "Status", "Requested by", "Requested"])} rows/>
        {more}
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
        .collect::<Vec<_>>();
    let headings = ["Day", "Share"]
        .into_iter()
        .chain(levels.iter().map(|l| l.as_str()))
        .map(Heading::Text)
        .collect::<Vec<_>>();
    view! { <DataTable compact=true class="risk-trend" testid="risk-trend" headings rows/> }
        .into_any()
}

/// One bar per level, most severe first, each a link to the list filtered to that level. The
/// level and count are HTML text beside an SVG bar, so they read at the page's own size however
/// narrow the panel (text inside a scaled SVG shrank with it).
#[component]
fn RiskChart(counts: Vec<(RiskLevel, u64)>, in_group: String) -> impl IntoView {
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars = counts
        .into_iter()
        .rev()
        .map(|(level, n)| {
            // SVG geometry, not inline styles: the Content-Security-Policy allows none.
            let width = (n as f64 / max as f64 * 100.0).max(if n > 0 { 1.0 } else { 0.0 });
            let href = format!("/endpoints?risk={}{in_group}", level.as_str());
            view! {
                <li>
                    <a class=format!("chart-row chart-{}", level.css_class()) href=href
                        aria-label=format!("{}: {n} endpoints", level.as_str())>
                        <span class="chart-label">{level.as_str()}</span>
                        <svg class="chart-track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
                            <rect class="chart-fill" x="0" y="0" width=format!("{width:.2}") height="10"></rect>
                        </svg>
                        <span class="chart-value">{n.to_string()}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="risk-chart" data-testid="risk-chart">{bars}</ul> }
}
