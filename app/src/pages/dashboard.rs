//! The dashboard: the state of the network at a glance.

use leptos::prelude::*;

use crate::components::feedback::empty_state::EmptyState;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <h1>"Dashboard"</h1>
        <EmptyState title="No endpoints yet">
            <p>
                "Endpoints appear here once the Microsoft Defender integration has synced or a "
                "network scan has been imported."
            </p>
            <p><a href="/configuration/integrations">"Configure an integration"</a></p>
        </EmptyState>
    }
}
