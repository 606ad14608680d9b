//! Configuration > Profiles: the profile set (factory, custom, and Defender's dynamic
//! `⇋ <OS>` profiles) and the full re-model.

use leptos::prelude::*;

use crate::api::profiles::{list_profiles, remodel_progress, RemodelAll};
use crate::components::data_table::{headings, DataTable};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::interval::use_interval;
use crate::components::time::Time;
use crate::model::profile::{RemodelEnded, RemodelStatus};

/// How often the page asks how far a running re-model got.
const POLL: std::time::Duration = std::time::Duration::from_millis(500);

#[component]
pub fn ProfilesPage() -> impl IntoView {
    let remodel = ServerAction::<RemodelAll>::new();
    let profiles = Resource::new(move || remodel.version().get(), |_| list_profiles());
    // The newest re-model's outcome, from the server: what a form posted without JavaScript
    // comes back to.
    let last = Resource::new(move || remodel.version().get(), |_| remodel_progress());
    let status = RwSignal::new(None::<RemodelStatus>);
    // While the re-model runs, its progress is polled into `status`; once it ends, cleared.
    Effect::new(move |_| {
        if !remodel.pending().get() {
            status.set(None);
        }
    });
    use_interval(
        POLL,
        move || remodel.pending().get(),
        move || poll_progress(status),
    );
    view! {
        <h1>"Profiles"</h1>
        <section class="panel" aria-label="Re-model">
            <p>"A full re-model evaluates every endpoint against every enabled profile and recomputes its risk."</p>
            <ActionForm action=remodel>
                <button type="submit" class="button-primary" disabled=move || remodel.pending().get()>
                    {move || if remodel.pending().get() { "Re-modelling…" } else { "Re-model all endpoints" }}
                </button>
            </ActionForm>
            {move || remodel.pending().get().then(|| view! { <RemodelProgressBar status/> })}
            {move || remodel.value().get().map(|r| match r {
                Ok(s) => view! {
                    <p class="banner banner-ok" role="status">
                        {format!("Re-modelled {} endpoints in {} ms.", s.endpoints, s.elapsed_ms)}
                    </p>
                }.into_any(),
                Err(error) => view! { <ErrorBanner error/> }.into_any(),
            })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    last.await.ok().and_then(|s| s.last).map(|ended| view! { <LastRemodel ended/> })
                })}
            </Suspense>
        </section>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profiles.await {
                    Ok(rows) => view! {
                        <DataTable headings={headings(&["Profile", "Origin", "Enabled", "Risky", "Endpoints"])}
                            rows={rows.into_iter().map(|p| view! {
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
                                }).collect::<Vec<_>>()}/>
                    }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The newest full re-model that ended: when, and what it did or why it failed (who asked
/// for it is in the audit log).
#[component]
fn LastRemodel(ended: RemodelEnded) -> impl IntoView {
    let when = ended.finished_at.clone().map(|at| view! { " " <Time at/> });
    let what = match &ended.error {
        None => format!(
            ": {} endpoints re-modelled, {} changed, in {} ms.",
            ended.endpoints, ended.changed, ended.elapsed_ms
        ),
        Some(error) => format!(": failed. {error}"),
    };
    view! {
        <p data-testid="last-remodel">
            "Last full re-model"{when}{what}
        </p>
    }
}

/// Asks how far the running re-model got (`profiles/remodel_progress`) into `status`.
fn poll_progress(status: RwSignal<Option<RemodelStatus>>) {
    leptos::task::spawn_local(async move {
        // A failed poll keeps the last figures; the re-model's own answer reports errors.
        if let Ok(now) = remodel_progress().await {
            status.set(Some(now));
        }
    });
}

/// Determinate once the server has said how many endpoints there are.
#[component]
fn RemodelProgressBar(status: RwSignal<Option<RemodelStatus>>) -> impl IntoView {
    move || {
        let known = status.get().filter(|s| s.running && s.total > 0);
        let (bar, text) = match known {
            Some(s) => (
                view! {
                    <progress max=s.total.to_string() value=s.processed.to_string()
                        aria-label="Re-model progress"></progress>
                }
                .into_any(),
                format!("Re-modelling… {} of {} endpoints", s.processed, s.total),
            ),
            None => (
                view! { <progress aria-label="Re-model progress"></progress> }.into_any(),
                "Re-modelling every endpoint…".to_owned(),
            ),
        };
        view! { <div class="sync-progress" role="status" data-testid="remodel-progress">{bar}{text}</div> }
    }
}
