//! The live sync state, followed through server-sent events (`/api/sync/events`) read with
//! gloo-net. The server renders no live state (the stream's first event carries the current
//! one), so hydration always matches; without JavaScript the integration page's status line
//! and sync journal show the state at render time.

use leptos::prelude::*;

use crate::model::sync::SyncProgress;

/// Shared by the shell's badge and the integration page's progress bar.
#[derive(Clone, Copy)]
pub struct SyncState {
    live: RwSignal<Option<SyncProgress>>,
}

impl SyncState {
    /// Created once by the console layout; only the browser opens the event stream.
    pub fn provide() {
        let state = Self {
            live: RwSignal::new(None),
        };
        provide_context(state);
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| follow(state.live));
    }

    fn running(&self) -> Option<SyncProgress> {
        self.live.get().filter(|p| p.running)
    }
}

#[cfg(feature = "hydrate")]
fn follow(live: RwSignal<Option<SyncProgress>>) {
    use futures::StreamExt;
    leptos::task::spawn_local(async move {
        let Ok(mut source) = gloo_net::eventsource::futures::EventSource::new("/api/sync/events")
        else {
            return;
        };
        let Ok(mut messages) = source.subscribe("message") else {
            return;
        };
        while let Some(Ok((_, message))) = messages.next().await {
            if let Some(text) = message.data().as_string() {
                if let Ok(progress) = serde_json::from_str::<SyncProgress>(&text) {
                    live.set(Some(progress));
                }
            }
        }
        source.close();
    });
}

/// "Syncing…" in the top bar while a Defender sync runs, with the current phase and, when its
/// total is known, how far it got.
#[component]
pub fn SyncBadge() -> impl IntoView {
    let state = expect_context::<SyncState>();
    move || {
        state.running().map(|p| {
            let text = match p.percent {
                Some(pc) => format!("Syncing Defender… {} {pc}%", p.phase),
                None => format!("Syncing Defender… ({})", p.phase),
            };
            view! { <span class="sync-badge" role="status" data-testid="sync-badge">{text}</span> }
        })
    }
}

/// What the current phase has done, e.g. "machines: 30000 of 100000 (page 3)".
fn phase_line(p: &SyncProgress) -> String {
    let done = match p.total {
        Some(total) => format!("{} of {total}", p.done),
        None => p.done.to_string(),
    };
    format!("{}: {done}", p.phase)
}

/// The progress bar on the integration page: determinate while the phase's total is known
/// (machines, the re-model), indeterminate otherwise, with the running counts below.
#[component]
pub fn SyncProgressBar() -> impl IntoView {
    let state = expect_context::<SyncState>();
    move || {
        state.running().map(|p| {
            let bar = match p.percent {
                Some(pc) => view! {
                    <progress max="100" value=pc.to_string() aria-label="Sync progress"></progress>
                }
                .into_any(),
                None => view! { <progress aria-label="Sync progress"></progress> }.into_any(),
            };
            view! {
                <div class="sync-progress" data-testid="sync-progress">
                    {bar}
                    <span>{phase_line(&p)}</span>
                    <span>{format!(
                        "{} pages: {} machines, {} vulnerabilities, {} machine vulnerabilities, {} alerts",
                        p.pages, p.machines, p.vulnerabilities, p.machine_vulnerabilities, p.alerts
                    )}</span>
                </div>
            }
        })
    }
}
