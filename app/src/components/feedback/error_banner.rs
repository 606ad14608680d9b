//! `ErrorBanner`: the one place a `ConsoleError` becomes words on the page.

use leptos::prelude::*;

use crate::error::ConsoleError;

#[component]
pub fn ErrorBanner(error: ConsoleError) -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert">
            {error.to_string()}
        </div>
    }
}
