//! Configuration > Integrations: every integration and its state.

use leptos::prelude::*;

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    view! {
        <h1>"Integrations"</h1>
        <table class="data-table">
            <thead>
                <tr><th>"Integration"</th><th>"State"</th><th>"Last sync"</th></tr>
            </thead>
            <tbody>
                <tr>
                    <td>"Microsoft Defender for Endpoint"</td>
                    <td><span class="state state-unconfigured">"Not configured"</span></td>
                    <td>"Never"</td>
                </tr>
            </tbody>
        </table>
    }
}
