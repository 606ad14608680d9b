//! `EmptyState`: an honest "nothing here yet" with what to do about it.

use leptos::prelude::*;

#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{title}</h2>
            <div class="empty-state-body">{children()}</div>
        </section>
    }
}
