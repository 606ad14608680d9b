//! `<Time at=…/>`: every moment the console shows, shown one way. The viewer's local time to
//! the minute with how long ago it was ("2026-01-05 08:45 · 3 hours ago"), the exact UTC time
//! on hover, and the stored value in `datetime` for scripts and tests.
//!
//! The server renders UTC, marked as such: it cannot know the viewer's zone, and a page read
//! without JavaScript must still say what it means. Once hydrated, the browser rewrites the
//! text in its own zone (`Date`'s offset at that moment, so summer time is right for each
//! date). Text that is not a time (a malformed value from Defender) is shown as it is.

use leptos::prelude::*;

use crate::model::moment::Moment;

/// What to show for a stored time, in UTC or (in the browser) local time.
fn words(moment: Moment, now: Moment, offset_minutes: Option<i64>) -> String {
    let when = match offset_minutes {
        Some(offset) => moment.calendar(offset),
        None => format!("{} UTC", moment.calendar(0)),
    };
    format!("{when} · {}", moment.relative_to(now))
}

fn now() -> Moment {
    #[cfg(feature = "hydrate")]
    let unix = (js_sys::Date::now() / 1000.0) as i64;
    #[cfg(not(feature = "hydrate"))]
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Moment { unix }
}

/// Minutes east of UTC in the browser's zone at `moment`.
#[cfg(feature = "hydrate")]
fn local_offset(moment: Moment) -> i64 {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        moment.unix as f64 * 1000.0,
    ));
    // getTimezoneOffset counts minutes west of UTC.
    -(date.get_timezone_offset() as i64)
}

#[component]
pub fn Time(
    /// RFC 3339 as stored; `None` shows `missing`.
    #[prop(into)]
    at: Option<String>,
    /// Shown when there is no time.
    #[prop(default = "—")]
    missing: &'static str,
) -> impl IntoView {
    let Some(text) = at.filter(|t| !t.trim().is_empty()) else {
        return view! { <span class="time-missing">{missing}</span> }.into_any();
    };
    let Some(moment) = Moment::parse(&text) else {
        return view! { <span>{text}</span> }.into_any();
    };
    let shown = RwSignal::new(words(moment, now(), None));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| shown.set(words(moment, now(), Some(local_offset(moment)))));
    view! {
        <time datetime=text title=moment.utc_exact()>{move || shown.get()}</time>
    }
    .into_any()
}
