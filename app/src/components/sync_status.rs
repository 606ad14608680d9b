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

/// "Syncing…" in the top bar while a Defender sync runs.
#[component]
pub fn SyncBadge() -> impl IntoView {
    let state = expect_context::<SyncState>();
    move || {
        state.running().map(|p| {
            let text = match p.percent {
                Some(pc) => format!("Syncing Defender… {pc}%"),
                None => format!("Syncing Defender… ({})", p.phase),
            };
            view! { <span class="sync-badge" role="status" data-testid="sync-badge">{text}</span> }
        })
    }
}

/// The progress bar on the integration page.
#[component]
pub fn SyncProgressBar() -> impl IntoView {
    let state = expect_context::<SyncState>();
    move || {
        state.running().map(|p| {
            let value = p.percent.unwrap_or(0);
            view! {
                <div class="sync-progress" data-testid="sync-progress">
                    <progress max="100" value=value.to_string() aria-label="Sync progress"></progress>
                    <span>{format!(
                        "{}: {} machines, {} vulnerabilities, {} alerts",
                        p.phase, p.machines, p.vulnerabilities, p.alerts
                    )}</span>
                </div>
            }
        })
    }
}
