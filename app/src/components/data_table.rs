//! `DataTable`: the one table every page shows rows in (headings, sortable ones among them, and
//! the rows; each page says itself what an empty one means); and `Loaded`, which waits for a page's data and
//! shows a failure through the one error banner.

use leptos::prelude::*;

use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::list_controls::SortHeader;
use crate::error::ConsoleError;

/// One column heading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heading {
    Text(&'static str),
    /// Named for screen readers only (a column of buttons).
    Hidden(&'static str),
    /// A short name whose meaning shows on hover.
    Abbr {
        label: &'static str,
        title: &'static str,
    },
    /// Sorts the list by its column: a link to the list sorted so (the state is in the URL).
    Sort {
        label: &'static str,
        active: bool,
        descending: bool,
        href: String,
    },
}

/// The headings of a table whose columns are all plain text.
pub fn headings(labels: &[&'static str]) -> Vec<Heading> {
    labels.iter().copied().map(Heading::Text).collect()
}

#[component]
pub fn DataTable<R>(
    headings: Vec<Heading>,
    /// Each row, a `<tr>`.
    rows: Vec<R>,
    /// Tighter cells, for tables inside a panel.
    #[prop(optional)]
    compact: bool,
    /// More classes, for the page's own styling.
    #[prop(optional)]
    class: &'static str,
    /// The table's accessible name.
    #[prop(optional)]
    label: Option<&'static str>,
    /// A visible title above the table (also its accessible name).
    #[prop(optional)]
    caption: Option<&'static str>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView
where
    R: IntoView + 'static,
{
    let class = match (compact, class) {
        (false, "") => "data-table".to_owned(),
        (true, "") => "data-table compact".to_owned(),
        (false, more) => format!("data-table {more}"),
        (true, more) => format!("data-table compact {more}"),
    };
    let headings = headings
        .into_iter()
        .map(|h| match h {
            Heading::Text(label) => view! { <th>{label}</th> }.into_any(),
            Heading::Hidden(label) => {
                view! { <th><span class="visually-hidden">{label}</span></th> }.into_any()
            }
            Heading::Abbr { label, title } => {
                view! { <th><abbr title=title>{label}</abbr></th> }.into_any()
            }
            Heading::Sort {
                label,
                active,
                descending,
                href,
            } => view! { <SortHeader label active descending href/> }.into_any(),
        })
        .collect_view();
    view! {
        <table class=class aria-label=label data-testid=testid>
            {caption.map(|c| view! { <caption>{c}</caption> })}
            <thead><tr>{headings}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Waits for `data` ("Loading…" meanwhile), then shows `ready` of it, or its error in the one
/// banner.
#[component]
pub fn Loaded<T, V>(
    data: Resource<Result<T, ConsoleError>>,
    ready: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let ready = ready.clone();
                move || {
                    let ready = ready.clone();
                    Suspend::new(async move {
                        match data.await {
                            Ok(value) => ready(value).into_any(),
                            Err(error) => view! { <ErrorBanner error/> }.into_any(),
                        }
                    })
                }
            }
        </Suspense>
    }
}
