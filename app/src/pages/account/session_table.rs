//! `SessionTable`: the user's sessions, with Sign out on each one but the current.

use leptos::prelude::*;

use crate::api::account::EndSession;
use crate::components::data_table::{DataTable, Heading};
use crate::components::time::Time;
use crate::model::session::SessionView;

#[component]
pub fn SessionTable(rows: Vec<SessionView>, end: ServerAction<EndSession>) -> impl IntoView {
    let headings = vec![
        Heading::Text("Signed in"),
        Heading::Text("Last seen"),
        Heading::Text("Address"),
        Heading::Text("Browser"),
        Heading::Hidden("Actions"),
    ];
    let rows: Vec<_> = rows
        .into_iter()
        .map(|row| view! { <SessionRow row end/> })
        .collect();
    view! { <DataTable headings rows/> }
}

#[component]
fn SessionRow(row: SessionView, end: ServerAction<EndSession>) -> impl IntoView {
    let action = if row.current {
        view! { <span class="state state-enabled">"This session"</span> }.into_any()
    } else {
        let label = format!(
            "Sign out the session from {} signed in {}",
            row.client, row.created_at
        );
        // A plain form per session, so it also works before hydration.
        view! {
            <ActionForm action=end>
                <input type="hidden" name="id" value=row.id/>
                <button type="submit" class="button-secondary button-compact" aria-label=label>
                    "Sign out"
                </button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <tr>
            <td><Time at=row.created_at.clone()/></td>
            <td><Time at=row.last_seen_at.clone()/></td>
            <td class="mono">{row.client.clone()}</td>
            <td>{row.user_agent.clone()}</td>
            <td>{action}</td>
        </tr>
    }
    .into_any()
}
