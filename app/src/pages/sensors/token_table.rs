//! `TokenTable`: the sensor API tokens with their use and state, and a Revoke button on each
//! token that still works.

use leptos::prelude::*;

use crate::api::api_tokens::RevokeApiToken;
use crate::components::data_table::{DataTable, Heading};
use crate::components::feedback::empty_state::EmptyState;
use crate::components::time::Time;
use crate::model::api_token::ApiTokenView;

#[component]
pub fn TokenTable(rows: Vec<ApiTokenView>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <EmptyState title="No API tokens yet">
                <p>"Create one below for each sensor that should push discovery data."</p>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <DataTable headings={vec![Heading::Text("Name"), Heading::Text("Created by"), Heading::Text("Created"), Heading::Text("Last used"), Heading::Text("State"), Heading::Hidden("Actions")]}
            rows={rows.into_iter().map(|row| view! { <TokenRow row revoke/> }).collect::<Vec<_>>()}/>
    }
    .into_any()
}

#[component]
fn TokenRow(row: ApiTokenView, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let (state_class, state) = if row.revoked {
        ("state state-disabled", "Revoked")
    } else {
        ("state state-enabled", "Active")
    };
    // A plain form per token, so revoking also works before hydration.
    let action = (!row.revoked).then(|| {
        let label = format!("Revoke {}", row.name);
        view! {
            <ActionForm action=revoke>
                <input type="hidden" name="id" value=row.id/>
                <button type="submit" class="button-secondary button-compact" aria-label=label>
                    "Revoke"
                </button>
            </ActionForm>
        }
    });
    view! {
        <tr>
            <td>{row.name.clone()}</td>
            <td>{row.created_by.clone()}</td>
            <td><Time at=row.created_at.clone()/></td>
            <td><Time at=row.last_used_at.clone() missing="Never"/></td>
            <td><span class=state_class>{state}</span></td>
            <td>{action}</td>
        </tr>
    }
    .into_any()
}
