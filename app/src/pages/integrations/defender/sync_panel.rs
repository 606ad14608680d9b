//! The sync journal under the Defender settings, with Sync now.

use leptos::prelude::*;

use crate::api::sync::{sync_journal, SyncNow};
use crate::components::data_table::{DataTable, Heading};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::sync_status::SyncProgressBar;
use crate::components::time::Time;
use crate::error::ConsoleError;
use crate::model::integration::DefenderConfigView;

/// "+12 / −3" ("… from the change feed since …" when the run read only the changes), or a
/// dash when the run kept the stored rows (its listing was incomplete or not permitted) or
/// predates the count.
fn changes_text(new: Option<i64>, fixed: Option<i64>, since: Option<&str>) -> String {
    match (new, fixed, since) {
        (Some(new), Some(fixed), None) => format!("+{new} / −{fixed}"),
        (Some(new), Some(fixed), Some(since)) => {
            format!("+{new} / −{fixed} from the change feed since {since}")
        }
        _ => "—".into(),
    }
}

/// "52000", or "3 changed since …" for a run that listed only the alerts Defender changed.
fn alerts_text(alerts: i64, since: Option<&str>) -> String {
    match since {
        Some(since) => format!("{alerts} changed since {since}"),
        None => alerts.to_string(),
    }
}

#[component]
pub fn SyncPanel(config: Resource<Result<DefenderConfigView, ConsoleError>>) -> impl IntoView {
    let sync = ServerAction::<SyncNow>::new();
    let journal = Resource::new(move || sync.version().get(), |_| sync_journal());
    view! {
        <section class="panel" aria-label="Sync journal">
            <h2>"Sync"</h2>
            <SyncProgressBar/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let can_run = matches!(config.await, Ok(ref c) if c.can_edit && c.enabled);
                    can_run.then(|| view! {
                        <ActionForm action=sync>
                            <button type="submit" class="button-secondary" disabled=move || sync.pending().get()>
                                "Sync now"
                            </button>
                        </ActionForm>
                    })
                })}
            </Suspense>
            {move || match sync.value().get() {
                Some(Ok(())) => Some(view! { <p class="banner banner-ok" role="status">"Sync started."</p> }.into_any()),
                Some(Err(error)) => Some(view! { <ErrorBanner error/> }.into_any()),
                None => None,
            }}
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match journal.await {
                        Ok(runs) if runs.is_empty() => view! { <p>"No sync has run yet."</p> }.into_any(),
                        Ok(runs) => view! {
                            <DataTable compact=true label="Sync runs" headings=journal_headings()
                                rows={runs.into_iter().map(|r| view! {
                                        <tr>
                                            <td><Time at=r.started_at/></td><td>{r.reason}</td><td>{r.outcome}</td>
                                            <td>{r.machines_seen}</td><td>{r.machines_added}</td><td>{r.machines_updated}</td>
                                            <td data-testid="alerts-listed">{alerts_text(r.alerts, r.alerts_since.as_deref())}</td>
                                            <td>{r.vulnerabilities}</td>
                                            <td data-testid="vulnerability-changes">{changes_text(r.vulnerabilities_new, r.vulnerabilities_fixed, r.machine_vulnerabilities_since.as_deref())}</td>
                                            <td>{r.api_calls}</td>
                                            <td>{format!("{:.1}", r.throttle_wait_ms as f64 / 1000.0)}</td>
                                            <td>
                                                {r.error.clone().or(r.notes.clone()).unwrap_or_default()}
                                                {(!r.missing_permissions.is_empty()).then(|| view! {
                                                    <ul class="missing-permissions" data-testid="missing-permissions">
                                                        {r.missing_permissions.iter().map(|m| view! {
                                                            <li>{format!("{} left out: grant {}", m.source, m.permissions.join(" or "))}</li>
                                                        }).collect_view()}
                                                    </ul>
                                                })}
                                                {(r.skipped_items > 0).then(|| view! {
                                                    <details class="skipped-items" data-testid="skipped-items">
                                                        <summary>{format!("{} items skipped", r.skipped_items)}</summary>
                                                        <ul>
                                                            {r.skipped.iter().map(|s| view! {
                                                                <li>
                                                                    {format!("{}: ", s.listing)}
                                                                    <span class="mono">{s.item_id.clone().unwrap_or_else(|| "(no readable id)".into())}</span>
                                                                    {format!(", field {}: {}", if s.field.is_empty() { "(whole item)" } else { &s.field }, s.reason)}
                                                                </li>
                                                            }).collect_view()}
                                                        </ul>
                                                    </details>
                                                })}
                                            </td>
                                        </tr>
                                    }).collect::<Vec<_>>()}/>
                        }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

fn journal_headings() -> Vec<Heading> {
    vec![
        Heading::Text("Started"),
        Heading::Text("Reason"),
        Heading::Text("Outcome"),
        Heading::Text("Machines"),
        Heading::Text("Added"),
        Heading::Text("Updated"),
        Heading::Abbr {
            label: "Alerts",
            title: "Alerts listed: all of them, or (once a full listing is less than a day old) \
                    those Defender changed since the last run",
        },
        Heading::Text("Vulnerabilities"),
        Heading::Abbr {
            label: "New / fixed",
            title: "Machine-vulnerability rows listed for the first time / no longer listed \
                    (fixed, or the machine gone); once a full listing is less than a day old, \
                    the rows Defender's change feed names",
        },
        Heading::Text("API calls"),
        Heading::Text("Throttled (s)"),
        Heading::Text("Details"),
    ]
}
