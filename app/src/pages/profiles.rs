//! Configuration > Profiles: the profile set (factory, custom, and Defender's dynamic
//! `⇋ <OS>` profiles) and the full re-model.

use leptos::prelude::*;

use crate::api::profiles::{list_profiles, RemodelAll};
use crate::components::feedback::error_banner::ErrorBanner;

#[component]
pub fn ProfilesPage() -> impl IntoView {
    let remodel = ServerAction::<RemodelAll>::new();
    let profiles = Resource::new(move || remodel.version().get(), |_| list_profiles());
    view! {
        <h1>"Profiles"</h1>
        <section class="panel" aria-label="Re-model">
            <p>"A full re-model evaluates every endpoint against every enabled profile and recomputes its risk."</p>
            <ActionForm action=remodel>
                <button type="submit" class="button-primary" disabled=move || remodel.pending().get()>
                    {move || if remodel.pending().get() { "Re-modelling…" } else { "Re-model all endpoints" }}
                </button>
            </ActionForm>
            {move || remodel.pending().get().then(|| view! {
                <div class="sync-progress" role="status"><progress aria-label="Re-model progress"></progress>"Re-modelling every endpoint…"</div>
            })}
            {move || remodel.value().get().map(|r| match r {
                Ok(s) => view! {
                    <p class="banner banner-ok" role="status">
                        {format!("Re-modelled {} endpoints in {} ms.", s.endpoints, s.elapsed_ms)}
                    </p>
                }.into_any(),
                Err(error) => view! { <ErrorBanner error/> }.into_any(),
            })}
        </section>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profiles.await {
                    Ok(rows) => view! {
                        <table class="data-table">
                            <thead><tr><th>"Profile"</th><th>"Origin"</th><th>"Enabled"</th><th>"Risky"</th><th>"Endpoints"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|p| view! {
                                    <tr>
                                        <td>{p.name}</td>
                                        <td>{match p.origin.as_str() {
                                            "defender" => "Microsoft Defender (dynamic)",
                                            "factory" => "Factory",
                                            _ => "Custom",
                                        }}</td>
                                        <td>{if p.enabled { "Yes" } else { "No" }}</td>
                                        <td>{p.risky_level.unwrap_or_default()}</td>
                                        <td>{p.endpoints}</td>
                                    </tr>
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
