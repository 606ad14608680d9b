//! The setup steps in short, beside the form.

use leptos::prelude::*;

#[component]
pub fn SetupSteps() -> impl IntoView {
    view! {
        <section class="side-panel">
            <h2>"Setup"</h2>
            <ol class="setup-steps">
                <li>"In the Microsoft Entra admin center, register an application (single tenant)."</li>
                <li>
                    "Under API permissions, add the application permissions below from "
                    <em>"APIs my organization uses › WindowsDefenderATP"</em>"."
                </li>
                <li>"Grant admin consent for the tenant. Permissions without consent are not in the token."</li>
                <li>"Under Certificates & secrets, create a client secret and copy its Value (not its Secret ID)."</li>
                <li>"Enter the Directory (tenant) ID, Application (client) ID and the secret here, then Test Connection."</li>
            </ol>
        </section>
    }
}
