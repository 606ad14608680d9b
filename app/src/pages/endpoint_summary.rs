//! The Endpoint Summary: identity, profile, sources and merge evidence; the Risk tab with its
//! Microsoft Defender and Software subtabs. Tabs are links (`?tab=risk&sub=defender`), so every view has a
//! URL and works before hydration.

mod action_target;
mod actions_panel;
mod defender_tab;
mod identity_panel;
mod network_panel;
mod risk_tab;
mod risk_timeline;
mod software_tab;
mod summary_tab;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::actions::get_endpoint_actions;
use crate::api::endpoints::get_endpoint;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::risk_badge::RiskBadge;
use crate::error::ConsoleError;
use crate::model::action::EndpointActions;
use crate::model::endpoint::EndpointSummary;
use actions_panel::ActionsPanel;
use defender_tab::DefenderTab;
use risk_tab::{RiskSub, RiskTab};
use software_tab::SoftwareTab;
use summary_tab::SummaryTab;

#[component]
pub fn EndpointSummaryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
    let summary = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_endpoint(id).await,
                None => Err(ConsoleError::NotFound),
            }
        },
    );
    // Which of the endpoint's live Defender machines actions go to (`?machine=`; empty: the
    // one that represents it), as a link so the choice works before hydration too.
    let machine = Memo::new(move |_| query.with(|q| q.get("machine").unwrap_or_default()));
    // Created here, outside the Suspend below, so server and browser number it alike.
    let actions = Resource::new(
        move || (id.get(), machine.get()),
        |(id, machine)| async move {
            match id {
                Some(id) => get_endpoint_actions(id, machine).await,
                None => Err(ConsoleError::NotFound),
            }
        },
    );
    // A split or an undo moves machines between endpoints: read both again.
    provide_context(identity_panel::ReloadSummary(Callback::new(move |()| {
        summary.refetch();
        actions.refetch();
    })));
    let tab = Memo::new(move |_| {
        query.with(|q| {
            (
                q.get("tab").unwrap_or_default(),
                q.get("sub").unwrap_or_default(),
            )
        })
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(summary) => view! { <SummaryFrame summary tab actions/> }.into_any(),
                    Err(error) => view! {
                        <h1>"Endpoint"</h1>
                        <ErrorBanner error/>
                        <p><a href="/endpoints">"Back to the endpoint list"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn title(s: &EndpointSummary) -> String {
    s.row
        .hostname
        .clone()
        .or_else(|| s.row.ip.clone())
        .or_else(|| s.row.mac.clone())
        .unwrap_or_else(|| format!("Endpoint {}", s.row.id))
}

#[component]
fn SummaryFrame(
    summary: EndpointSummary,
    tab: Memo<(String, String)>,
    actions: Resource<Result<EndpointActions, ConsoleError>>,
) -> impl IntoView {
    let base = format!("/endpoints/{}", summary.row.id);
    let level = summary.risk.overall;
    let s = StoredValue::new(summary.clone());
    let tab_link = move |t: &'static str, label: &'static str| {
        let href = if t == "summary" {
            base.clone()
        } else {
            format!("{base}?tab={t}")
        };
        view! {
            <A href=href attr:class="tab" attr:aria-current=move || {
                let current = tab.with(|(tab, _)| if tab.is_empty() { "summary".to_owned() } else { tab.clone() });
                (current == t).then_some("page")
            }>{label}</A>
        }
    };
    view! {
        <div class="page-title">
            <h1>{title(&summary)}</h1>
            <RiskBadge level/>
        </div>
        <nav class="tabs" aria-label="Endpoint sections">
            {tab_link("summary", "Summary")}
            {tab_link("risk", "Risk")}
        </nav>
        {move || {
            let (t, sub) = tab.get();
            match (t.as_str(), RiskSub::from_query(&sub)) {
                ("risk", sub @ RiskSub::Defender) => view! { <RiskTab summary=s.get_value() sub><DefenderTab summary=s.get_value()/></RiskTab> }.into_any(),
                ("risk", sub @ RiskSub::Software) => view! { <RiskTab summary=s.get_value() sub><SoftwareTab summary=s.get_value()/></RiskTab> }.into_any(),
                ("risk", sub) => view! { <RiskTab summary=s.get_value() sub><span></span></RiskTab> }.into_any(),
                _ => view! { <SummaryTab summary=s.get_value()/><ActionsPanel actions/> }.into_any(),
            }
        }}
    }
    .into_any()
}
