//! The Risk tab's history: each change of the endpoint's risk as the syncs recorded it, newest
//! first, with its representative machine's CVEs by severity at the time.

use crate::components::data_table::{headings, DataTable};
use leptos::prelude::*;

use crate::components::risk_badge::RiskBadge;
use crate::components::time::Time;
use crate::model::risk_history::RiskChange;

#[component]
pub fn RiskTimeline(changes: Vec<RiskChange>) -> impl IntoView {
    view! {
        <section class="panel" aria-label="Risk history">
            <h2>"Risk history"</h2>
            {if changes.is_empty() {
                view! { <p>"No sync has recorded this endpoint's risk yet."</p> }.into_any()
            } else {
                view! {
                    <p class="hint">"Each row holds from its time until the next one; a sync that changes nothing adds none."</p>
                    <DataTable compact=true testid="risk-history"
                        headings=headings(&["Since", "Risk", "Critical CVEs", "High", "Medium", "Low"])
                        rows={changes.into_iter().map(|c| view! {
                            <tr>
                                <td><Time at=c.recorded_at/></td>
                                <td><RiskBadge level=c.risk_level/></td>
                                <td>{c.critical}</td><td>{c.high}</td><td>{c.medium}</td><td>{c.low}</td>
                            </tr>
                        }).collect::<Vec<_>>()}/>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
