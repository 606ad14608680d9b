//! `ConsoleLayout`: the frame around every signed-in page; sends anonymous visitors to login,
//! and a user who must change their password to the page for it (the server refuses them
//! everything else anyway).
//!
//! The page (`Outlet`) is deliberately not rendered inside the user's `Suspend`: pages create
//! their own resources, and resources created inside a suspended closure get different ids on
//! the server and in the browser, which breaks hydration.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_location;

use crate::api::auth::{encode_component, me};
use crate::components::feedback::error_banner::ErrorBanner;
use crate::components::layout::top_bar::TopBar;
use crate::components::sync_status::SyncState;
use crate::model::user::Capability;
use crate::pages::change_password::CHANGE_PASSWORD_PATH;

#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| me());
    SyncState::provide();
    let location = use_location();
    let login_path = move || {
        // The router's search string has no leading "?".
        let search = location.search.get_untracked();
        let here = match search.as_str() {
            "" => location.pathname.get_untracked(),
            search => format!("{}?{search}", location.pathname.get_untracked()),
        };
        format!("/login?next={}", encode_component(&here))
    };

    view! {
        // The first stop of the Tab key: past the top bar and the menu to the page. An external
        // link to the router, so the browser's own fragment navigation moves the focus.
        <a class="skip-link" href="#main" rel="external">"Skip to main content"</a>
        <Suspense fallback=|| view! { <header class="top-bar"></header> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user))
                        if user.must_change_password
                            && location.pathname.get_untracked() != CHANGE_PASSWORD_PATH =>
                    {
                        view! { <Redirect path=CHANGE_PASSWORD_PATH/> }.into_any()
                    }
                    Ok(Some(user)) => view! { <TopBar user/> }.into_any(),
                    Ok(None) => {
                        let redirect = view! { <Redirect path=login_path()/> }.into_any();
                        see_other();
                        redirect
                    }
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
        <div class="console">
            <Suspense fallback=|| view! { <nav class="side-nav" aria-label="Main"></nav> }>
                {move || Suspend::new(async move {
                    let manages_users = matches!(
                        user.await,
                        Ok(Some(ref u)) if u.role.allows(Capability::ManageUsers)
                    );
                    view! { <SideNav manages_users/> }
                })}
            </Suspense>
            <main class="content" id="main" tabindex="-1">
                <Outlet/>
            </main>
        </div>
    }
}

/// On the server, the redirect to sign-in of an anonymous page request answers 303 See Other
/// (a GET elsewhere, whatever the request was) instead of the 302 leptos_axum gives, and for
/// any `Accept`: a client without JavaScript follows the `Location` header alone. The
/// `Redirect` built before this has set that header.
fn see_other() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::SEE_OTHER);
    }
}

/// Type-erased (`into_any`) so the nested view types stay within the compiler's limits.
#[component]
fn SideNav(manages_users: bool) -> impl IntoView {
    view! {
        <nav class="side-nav" aria-label="Main">
            <ul>
                <li><A href="/" exact=true>"Dashboard"</A></li>
                <li><A href="/endpoints">"Endpoints"</A></li>
                <li><A href="/vulnerabilities">"Vulnerabilities"</A></li>
                <li><A href="/software">"Software"</A></li>
                <li class="nav-group">
                    <span class="nav-group-title">"Configuration"</span>
                    <ul>
                        <li><A href="/configuration/integrations">"Integrations"</A></li>
                        <li><A href="/configuration/profiles">"Profiles"</A></li>
                        <Show when=move || manages_users>
                            <li><A href="/configuration/sensors">"Sensors"</A></li>
                            <li><A href="/configuration/users">"Users"</A></li>
                            <li><A href="/configuration/audit-log">"Audit log"</A></li>
                        </Show>
                    </ul>
                </li>
            </ul>
        </nav>
    }
    .into_any()
}
