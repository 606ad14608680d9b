//! `use_interval`: call something every `period` while a condition holds, in the browser only.
//! The console's two polls (a machine action's status, the re-model's progress) used to start
//! and stop their own timers; one hook keeps them from leaking a timer when the page goes or
//! the condition flips, and from starting one during server rendering.

use std::time::Duration;

/// Calls `tick` every `period` while `active` is true: the timer starts when it becomes true,
/// stops when it becomes false, and is cleared with the component that owns the hook. Nothing
/// runs on the server (effects do not).
pub fn use_interval(
    period: Duration,
    active: impl Fn() -> bool + Send + Sync + 'static,
    tick: impl Fn() + Clone + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::*;
        let handle = StoredValue::new_local(None::<IntervalHandle>);
        let stop = move || {
            if let Some(h) = handle.try_update_value(Option::take).flatten() {
                h.clear();
            }
        };
        Effect::new(move |_| {
            stop();
            if active() {
                if let Ok(h) = set_interval_with_handle(tick.clone(), period) {
                    handle.set_value(Some(h));
                }
            }
        });
        on_cleanup(stop);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (period, active, tick);
    }
}
