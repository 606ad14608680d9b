//! Configuration > Integrations: every integration, its state and its last sync.

use leptos::prelude::*;

use crate::api::integrations::list_integrations;
use crate::components::data_table::{headings, DataTable, Loaded};
use crate::components::time::Time;
use crate::model::integration::IntegrationSummary;

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let integrations = Resource::new(|| (), |_| list_integrations());
    view! {
        <h1>"Integrations"</h1>
        <Loaded data=integrations ready=integration_table/>
    }
}

#[component]
fn IntegrationRow(row: IntegrationSummary) -> impl IntoView {
    let outcome = row
        .last_sync_outcome
        .clone()
        .filter(|_| row.last_sync_at.is_some())
        .map(|o| format!(" — {o}"));
    let last_sync = view! { <Time at=row.last_sync_at.clone() missing="Never"/>{outcome} };
    view! {
        <tr>
            <td>
                <a href=row.href.clone()>{row.name.clone()}</a>
                {row.demo.then(|| view! { <span class="demo-badge">"Demo tenant"</span> })}
            </td>
            <td>
                <span class=row.state.css_class()>{row.state.label()}</span>
                {row.last_error.clone().map(|e| view! { <div class="state-error-detail">{e}</div> })}
            </td>
            <td>{last_sync}</td>
        </tr>
    }
    .into_any()
}

fn integration_table(rows: Vec<IntegrationSummary>) -> impl IntoView {
    let rows: Vec<_> = rows
        .into_iter()
        .map(|row| view! { <IntegrationRow row/> })
        .collect();
    view! { <DataTable headings=headings(&["Integration", "State", "Last sync"]) rows/> }
}
