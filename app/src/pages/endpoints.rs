//! The endpoint list.

use leptos::prelude::*;

use crate::components::feedback::empty_state::EmptyState;

#[component]
pub fn EndpointsPage() -> impl IntoView {
    view! {
        <h1>"Endpoints"</h1>
        <EmptyState title="No endpoints discovered">
            <p>"No endpoint has been discovered or imported yet."</p>
        </EmptyState>
    }
}
