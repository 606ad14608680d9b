//! Configuration > Audit log: who changed what, when (Administrators only).

use leptos::prelude::*;

use crate::api::audit::audit_log;
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::time::Time;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| audit_log());
    view! {
        <h1>"Audit log"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(rows) => view! {
                        <table class="data-table">
                            <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Details"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|r| view! {
                                    <tr><td><Time at=r.at/></td><td>{r.actor}</td><td>{r.action}</td><td>{r.detail}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
