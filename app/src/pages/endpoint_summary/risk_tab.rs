//! The Risk tab: the overall level and one row per assessment with its reason ("why this
//! level"); the Microsoft Defender and Software subtabs are children.

use leptos::prelude::*;

use crate::components::data_table::{headings, DataTable};
use leptos_router::components::A;

use super::risk_timeline::RiskTimeline;
use crate::components::risk_badge::RiskBadge;
use crate::model::endpoint::EndpointSummary;

/// The Risk tab's subtabs, as `?sub=` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskSub {
    Assessments,
    Defender,
    Software,
}

impl RiskSub {
    pub fn from_query(sub: &str) -> Self {
        match sub {
            "defender" => RiskSub::Defender,
            "software" => RiskSub::Software,
            _ => RiskSub::Assessments,
        }
    }
}

#[component]
pub fn RiskTab(summary: EndpointSummary, sub: RiskSub, children: Children) -> impl IntoView {
    let base = format!("/endpoints/{}?tab=risk", summary.row.id);
    let overall = summary.risk.overall;
    let history = summary.risk_history.clone();
    let current = move |s: RiskSub| (sub == s).then_some("page");
    view! {
        <nav class="tabs subtabs" aria-label="Risk sections">
            <A href=base.clone() attr:class="tab" attr:aria-current=current(RiskSub::Assessments)>"Assessments"</A>
            <A href=format!("{base}&sub=defender") attr:class="tab" attr:aria-current=current(RiskSub::Defender)>"Microsoft Defender"</A>
            <A href=format!("{base}&sub=software") attr:class="tab" attr:aria-current=current(RiskSub::Software)>"Software"</A>
        </nav>
        {if sub != RiskSub::Assessments {
            children().into_any()
        } else {
            view! {
                <section class="panel" aria-label="Risk assessments">
                    <h2>"Overall risk " <RiskBadge level=overall/></h2>
                    <p class="hint">"The overall level is the highest of the assessments below."</p>
                    {if summary.risk.assessments.is_empty() {
                        view! { <p>"No assessment applies to this endpoint yet."</p> }.into_any()
                    } else {
                        view! {
                            <DataTable headings={headings(&["Assessment", "Level", "Why this level"])}
                                rows={summary.risk.assessments.clone().into_iter().map(|a| view! {
                                        <tr>
                                            <td>{a.kind.label()}</td>
                                            <td><RiskBadge level=a.level/></td>
                                            <td>
                                                {a.reason}
                                                {(!a.factors.is_empty()).then(|| view! {
                                                    <ul class="factors">{a.factors.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                                                })}
                                            </td>
                                        </tr>
                                    }).collect::<Vec<_>>()}/>
                        }.into_any()
                    }}
                </section>
                <RiskTimeline changes=history/>
            }.into_any()
        }}
    }
    .into_any()
}
