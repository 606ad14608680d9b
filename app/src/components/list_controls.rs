//! The controls of a sortable, paged table whose state lives in the URL: a column header that
//! sorts by its column, and the Previous / Next links. Each page builds the links' URLs from
//! its own query type.

use leptos::prelude::*;
use leptos_router::components::A;

/// A column header linking to the list sorted by it; `aria-sort` says how it is sorted now.
#[component]
pub fn SortHeader(
    label: &'static str,
    /// The list is sorted by this column now.
    active: bool,
    /// ... in descending order (when `active`).
    descending: bool,
    /// The list sorted by this column: descending, or ascending when it is so already.
    href: String,
) -> impl IntoView {
    let sort_state = match (active, descending) {
        (true, false) => "ascending",
        (true, true) => "descending",
        _ => "none",
    };
    view! { <th aria-sort=sort_state><A href=href>{label}</A></th> }
}

/// The direction a click on a header asks for: descending first, ascending when the list is
/// already sorted by it descending.
pub fn next_direction(active: bool, descending: bool) -> &'static str {
    if active && descending {
        "asc"
    } else {
        "desc"
    }
}

/// The pages either side of `page` of a list of `total` rows, `page_size` a page and `shown`
/// on this one, as the links `href` makes for a page number: `None` where there is none.
pub fn neighbour_pages(
    page: u32,
    page_size: u32,
    shown: usize,
    total: u64,
    href: impl Fn(u32) -> String,
) -> (Option<String>, Option<String>) {
    let first = (u64::from(page) - 1) * u64::from(page_size);
    let previous = (page > 1).then(|| href(page - 1));
    let next = (first + (shown as u64) < total).then(|| href(page + 1));
    (previous, next)
}

/// "Previous", the page number and "Next", each link only where that page exists.
#[component]
pub fn Pager(page: u32, previous: Option<String>, next: Option<String>) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {previous.map(|h| view! { <A href=h>"Previous"</A> })}
            <span>{format!("Page {page}")}</span>
            {next.map(|h| view! { <A href=h>"Next"</A> })}
        </nav>
    }
}
