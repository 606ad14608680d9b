//! Configuration > Integrations > Microsoft Defender: the settings form, Test Connection and
//! its report, beside the setup steps and the permissions the product needs.

mod form;
mod permissions_table;
mod report;
mod setup_steps;
mod sync_panel;

use leptos::prelude::*;

use crate::api::integrations::{defender_config, posted_defender_test};
use crate::components::feedback::error_banner::ErrorBanner;
use form::DefenderEditor;
use permissions_table::PermissionsTable;
use setup_steps::SetupSteps;
use sync_panel::SyncPanel;

#[component]
pub fn DefenderPage() -> impl IntoView {
    let config = Resource::new(|| (), |_| defender_config());
    // Created here, outside the Suspend below (see ConsoleLayout).
    let posted_test = Resource::new(|| (), |_| posted_defender_test());
    view! {
        <h1>"Microsoft Defender for Endpoint"</h1>
        <div class="two-columns">
            <section class="column-main">
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match config.await {
                            Ok(view) => view! { <DefenderEditor saved=view posted_test/> }.into_any(),
                            Err(error) => view! { <ErrorBanner error/> }.into_any(),
                        }
                    })}
                </Suspense>
                // Outside the Suspend above: it creates its own resource (see ConsoleLayout).
                <SyncPanel config/>
            </section>
            <aside class="column-side">
                <SetupSteps/>
                <PermissionsTable/>
            </aside>
        </div>
    }
}
